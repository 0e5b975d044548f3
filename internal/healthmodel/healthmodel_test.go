package healthmodel_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/holdfast/holdfast/internal/healthmodel"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/scoring/text"
	"github.com/holdfast/holdfast/store"
	"github.com/holdfast/holdfast/store/storetest"
)

type neutral struct{}

func (neutral) Analyze(string) text.Result { return text.Result{Label: text.Neutral} }

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func date(t time.Time) string { return t.Format(time.DateOnly) }

// history makes n accounts whose churn depends on their plan and seats,
// all snapshotted at asOf, churners churning within 60 days after it.
func history(n int, seed uint64, prefix string, asOf time.Time) ([]healthmodel.HistoryAccount, []healthmodel.HistorySignal) {
	r := rand.New(rand.NewPCG(seed, 1))
	var accounts []healthmodel.HistoryAccount
	var signals []healthmodel.HistorySignal
	for i := range n {
		ext := fmt.Sprintf("%s-%d", prefix, i)
		plan := "pro"
		if r.Float64() < 0.4 {
			plan = "starter"
		}
		seats := float64(1 + r.IntN(50))
		z := -1.5 - 0.06*(seats-25)
		if plan == "starter" {
			z += 1.5
		}
		a := healthmodel.HistoryAccount{AccountIn: ingest.AccountIn{ExternalID: ext, Name: ext,
			ActivationDate: date(asOf.AddDate(-1, 0, 0)),
			Traits:         map[string]any{"plan": plan, "seats": seats, "sso": r.Float64() < 0.5}}, Line: i + 2}
		if r.Float64() < 1/(1+math.Exp(-z)) {
			a.ChurnedAt = date(asOf.AddDate(0, 0, 1+r.IntN(59)))
		}
		accounts = append(accounts, a)
		v := seats * 10
		signals = append(signals, healthmodel.HistorySignal{SignalIn: ingest.SignalIn{Account: ext, Kind: "usage", Source: "history",
			IdempotencyKey: ext + "-u", OccurredAt: asOf.AddDate(0, 0, -3), Value: &v}, Line: i + 2})
	}
	return accounts, signals
}

func TestImportFitUseBacktestRollback(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	asOf := now.AddDate(0, 0, -120)
	accounts, signals := history(600, 1, "train", asOf)
	res, err := healthmodel.ImportHistory(ctx, st, neutral{}, accounts, signals, now)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accounts != 600 || res.Signals != 600 || res.Churned == 0 {
		t.Fatalf("import: %+v", res)
	}
	// A replayed import stores no signal twice.
	again, err := healthmodel.ImportHistory(ctx, st, neutral{}, accounts, signals, now)
	if err != nil || again.Signals != 0 || again.Duplicates != 600 || storetest.Count(t, st, "signals") != 600 {
		t.Fatalf("replayed import: %+v (%v)", again, err)
	}
	var typ string
	if err := st.Pool().QueryRow(ctx, `SELECT type FROM trait_keys WHERE key = 'seats'`).Scan(&typ); err != nil || typ != "number" {
		t.Fatalf("seats typed %q (%v), want number", typ, err)
	}

	cfg := scoring.DefaultConfig()
	set := healthmodel.DefaultSettings()
	v1, err := healthmodel.Fit(ctx, st, cfg, set, healthmodel.FitOptions{By: "tester", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(v1.Cutoffs) != 1 || v1.Cutoffs[0].After(asOf) {
		t.Errorf("cut-offs %v, want one at or before %s", v1.Cutoffs, date(asOf))
	}
	if v1.Backtest.ROCAUC == nil || *v1.Backtest.ROCAUC < 0.7 {
		t.Fatalf("out-of-fold AUC %v, want >= 0.7 on data with a strong signal", v1.Backtest.ROCAUC)
	}
	if _, err := healthmodel.Active(ctx, st.DB()); !errors.Is(err, healthmodel.ErrNoModel) {
		t.Fatalf("a fit must not activate itself: %v", err)
	}
	// The hand-set weights score until a model is used.
	if err := healthmodel.Use(ctx, st, v1.ID, "tester"); err != nil {
		t.Fatal(err)
	}
	v2, err := healthmodel.Fit(ctx, st, cfg, set, healthmodel.FitOptions{By: "tester", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if err := healthmodel.Use(ctx, st, v2.ID, "tester"); err != nil {
		t.Fatal(err)
	}
	if err := healthmodel.Use(ctx, st, 999, "tester"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("use of a missing version: %v, want not found", err)
	}
	for _, want := range []int64{v1.ID, 0} {
		back, err := healthmodel.Rollback(ctx, st, "tester")
		if err != nil || back != want {
			t.Fatalf("rollback to %d (%v), want %d", back, err, want)
		}
	}
	if _, err := healthmodel.Rollback(ctx, st, "tester"); err == nil {
		t.Fatal("rolling back past the hand-set weights must fail")
	}
	if err := healthmodel.Use(ctx, st, v2.ID, "tester"); err != nil {
		t.Fatal(err)
	}
	vs, err := healthmodel.Versions(ctx, st.DB())
	if err != nil || len(vs) != 2 || vs[0].FittedBy != "tester" || vs[0].Accounts != 600 {
		t.Fatalf("versions %+v (%v)", vs, err)
	}
	if line := vs[0].Line(); !strings.Contains(line, "on 600 accounts; backtest AUC 0.") {
		t.Errorf("line %q", line)
	}

	// New accounts, never trained on: the backtest scores only them.
	testAccounts, testSignals := history(300, 2, "test", asOf)
	if _, err := healthmodel.ImportHistory(ctx, st, neutral{}, testAccounts, testSignals, now); err != nil {
		t.Fatal(err)
	}
	bt, err := healthmodel.Backtest(ctx, st, cfg, set, healthmodel.BacktestOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if bt.Version != v2.ID || bt.LeftOut != 600 || bt.InSample || bt.Figures.Examples != 300 {
		t.Fatalf("backtest %+v", bt)
	}
	if bt.Figures.ROCAUC == nil || *bt.Figures.ROCAUC < 0.7 {
		t.Errorf("held-out AUC %v", bt.Figures.ROCAUC)
	}
	var out bytes.Buffer
	bt.Print(&out)
	for _, want := range []string{"ROC AUC 0.", "PR AUC", "top-decile lift", "precision", "recall", "calibration"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("backtest print lacks %q:\n%s", want, out.String())
		}
	}
	img, err := healthmodel.PlotPNG(bt.P, bt.Labels, "test")
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := png.Decode(bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	// Content, not a blank canvas: many distinct colours are drawn.
	colours := map[uint32]bool{}
	b := decoded.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, _ := decoded.At(x, y).RGBA()
			colours[r>>8<<16|g>>8<<8|bl>>8] = true
		}
	}
	if b.Dx() < 800 || len(colours) < 10 {
		t.Errorf("plot %dx%d with %d colours: looks empty", b.Dx(), b.Dy(), len(colours))
	}
}

func TestBacktestHasNoLookAhead(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	asOf := now.AddDate(0, 0, -120)
	accounts, signals := history(300, 3, "a", asOf)
	if _, err := healthmodel.ImportHistory(ctx, st, neutral{}, accounts, signals, now); err != nil {
		t.Fatal(err)
	}
	cfg := scoring.DefaultConfig()
	set := healthmodel.DefaultSettings()
	before, err := healthmodel.Backtest(ctx, st, cfg, set, healthmodel.BacktestOptions{At: asOf, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	// Every account that stayed sends three failed payments and a
	// detractor right after the cut-off: with look-ahead the hand-set
	// score would fall for exactly those and ranking would invert.
	var late []healthmodel.HistorySignal
	for _, a := range accounts {
		if a.ChurnedAt != "" {
			continue
		}
		for k := range 3 {
			late = append(late, healthmodel.HistorySignal{SignalIn: ingest.SignalIn{Account: a.ExternalID, Kind: "payment_failed",
				Source: "late", IdempotencyKey: fmt.Sprintf("%s-%d", a.ExternalID, k), OccurredAt: asOf.Add(time.Duration(k+1) * time.Hour)}})
		}
		zero := 0.0
		late = append(late, healthmodel.HistorySignal{SignalIn: ingest.SignalIn{Account: a.ExternalID, Kind: "nps", Source: "late",
			IdempotencyKey: a.ExternalID + "-nps", OccurredAt: asOf, Value: &zero}})
	}
	if _, err := healthmodel.ImportHistory(ctx, st, neutral{}, accounts[:1], late, now); err != nil {
		t.Fatal(err)
	}
	after, err := healthmodel.Backtest(ctx, st, cfg, set, healthmodel.BacktestOptions{At: asOf, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(before.P) != len(after.P) {
		t.Fatalf("%d vs %d accounts", len(before.P), len(after.P))
	}
	for i := range before.P {
		if before.P[i] != after.P[i] {
			t.Fatalf("account %d scored %v before and %v after signals from after the cut-off", i, before.P[i], after.P[i])
		}
	}
}

func TestFitRefusesTooLittleHistory(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	cfg, set := scoring.DefaultConfig(), healthmodel.DefaultSettings()
	asOf := now.AddDate(0, 0, -120)
	accounts, signals := history(60, 4, "few", asOf)
	// One class first: nobody churned.
	for i := range accounts {
		accounts[i].ChurnedAt = ""
	}
	if _, err := healthmodel.ImportHistory(ctx, st, neutral{}, accounts, signals, now); err != nil {
		t.Fatal(err)
	}
	_, err := healthmodel.Fit(ctx, st, cfg, set, healthmodel.FitOptions{Now: now})
	var refused *healthmodel.RefusedError
	if !errors.As(err, &refused) || !strings.Contains(refused.Reason, "no account churned") {
		t.Fatalf("one-class fit: %v", err)
	}
	accounts[0].ChurnedAt = date(asOf.AddDate(0, 0, 10))
	if _, err := healthmodel.ImportHistory(ctx, st, neutral{}, accounts[:1], nil, now); err != nil {
		t.Fatal(err)
	}
	_, err = healthmodel.Fit(ctx, st, cfg, set, healthmodel.FitOptions{Now: now})
	if !errors.As(err, &refused) || !strings.Contains(refused.Reason, "60 accounts active at the cut-offs (need 200)") ||
		!strings.Contains(refused.Reason, "1 churns within 90d of a cut-off (need 30)") {
		t.Fatalf("small fit: %v", err)
	}
	if n := storetest.Count(t, st, "health_models"); n != 0 {
		t.Errorf("%d models stored by refused fits", n)
	}
}

func TestImportHistoryRejectsBadRowsAndStoresNothing(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	act := date(now.AddDate(-1, 0, 0))
	accounts := []healthmodel.HistoryAccount{
		{AccountIn: ingest.AccountIn{ExternalID: "a", Name: "A", ActivationDate: act, Traits: map[string]any{"seats": "3"},
			TraitTypes: map[string]string{"seats": "widget"}}, Line: 2},
	}
	_, err := healthmodel.ImportHistory(ctx, st, neutral{}, accounts, nil, now)
	assertProblems(t, err, "unknown trait type \"widget\"")

	accounts = []healthmodel.HistoryAccount{
		{AccountIn: ingest.AccountIn{ExternalID: "a", Name: "A", ActivationDate: act}, ChurnedAt: date(now.AddDate(0, 0, 5)), Line: 2},
		{AccountIn: ingest.AccountIn{ExternalID: "b", Name: "B", ActivationDate: act}, ChurnedAt: date(now.AddDate(-2, 0, 0)), Line: 3},
		{AccountIn: ingest.AccountIn{ExternalID: "c", Name: "C", ActivationDate: act}, ChurnedAt: date(now.AddDate(0, -1, 0)), Line: 4},
		{AccountIn: ingest.AccountIn{ExternalID: "c", Name: "C again"}, Line: 5},
	}
	signals := []healthmodel.HistorySignal{{SignalIn: ingest.SignalIn{Account: "c", Kind: "email", Source: "x", IdempotencyKey: "1",
		OccurredAt: now.AddDate(0, 0, -2)}, Line: 2}}
	_, err = healthmodel.ImportHistory(ctx, st, neutral{}, accounts, signals, now)
	assertProblems(t, err, "accounts line 2: churned_at", "is in the future", "accounts line 3: churned_at", "before the activation date",
		"accounts line 5: external_id", "repeats row", "signals line 2: occurred_at", "after the account churned")

	// A value that does not fit its key's stored type is a row error too.
	ok := []healthmodel.HistoryAccount{{AccountIn: ingest.AccountIn{ExternalID: "z", Name: "Z", Traits: map[string]any{"seats": 4.0}}, Line: 2}}
	if _, err := healthmodel.ImportHistory(ctx, st, neutral{}, ok, nil, now); err != nil {
		t.Fatal(err)
	}
	bad := []healthmodel.HistoryAccount{{AccountIn: ingest.AccountIn{ExternalID: "y", Name: "Y", Traits: map[string]any{"seats": "many"}}, Line: 7}}
	_, err = healthmodel.ImportHistory(ctx, st, neutral{}, bad, nil, now)
	assertProblems(t, err, "accounts line 7: traits.seats", "not a number")
	if n := storetest.Count(t, st, "accounts"); n != 1 {
		t.Errorf("%d accounts stored, want only the one good import", n)
	}
}

func assertProblems(t *testing.T, err error, want ...string) {
	t.Helper()
	var pe *healthmodel.ProblemsError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want problems", err)
	}
	var all []string
	for _, p := range pe.Problems {
		all = append(all, p.String())
	}
	text := strings.Join(all, "\n")
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("problems lack %q:\n%s", w, text)
		}
	}
}
