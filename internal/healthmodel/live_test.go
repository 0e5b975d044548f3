package healthmodel_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/holdfast/holdfast/internal/healthmodel"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/internal/testenv"
	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/scoring/text"
	"github.com/holdfast/holdfast/store"
	"github.com/holdfast/holdfast/store/storetest"
)

// testClock is a clock tests move by hand.
type testClock struct{ ns atomic.Int64 }

func (c *testClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *testClock) Set(t time.Time)         { c.ns.Store(t.UnixNano()) }
func (c *testClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// intentReader reads "cancel" as intent to cancel.
type intentReader struct{}

func (intentReader) Analyze(s string) text.Result {
	return text.Result{Label: text.Neutral, ChurnIntent: strings.Contains(strings.ToLower(s), "cancel")}
}

// silenceHeavy is a config where silence alone reaches at risk, so the
// test needs no other trouble: engagement weighs 35 of 100.
func silenceHeavy() scoring.Config {
	cfg := scoring.DefaultConfig()
	cfg.Weights = scoring.Weights{Usage: 15, Support: 10, NPS: 10, Payments: 10, Renewal: 5, Engagement: 35, Champion: 5, Intent: 10}
	return cfg
}

func replica(st *store.Store, cfg scoring.Config, clock *testClock, t *testing.T, prefix string) *ingest.Pipeline {
	alerts := ingest.DefaultAlertSettings()
	alerts.DefaultChannel = "C0ALERTS"
	p := ingest.New(st, intentReader{}, ingest.Settings{Alerts: alerts, Scoring: cfg},
		clock.Now, slog.New(slog.DiscardHandler), nil)
	p.SetScorer(healthmodel.NewScorer(cfg))
	return p
}

func TestSilentAccountCrossesIntoAtRiskOnceAcrossTwoReplicas(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	clock := &testClock{}
	clock.Set(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	cfg := silenceHeavy()
	// Two replicas share Postgres and Redis (one key prefix), as in production.
	_, prefix := testenv.Redis(t)
	a, b := replica(st, cfg, clock, t, prefix), replica(st, cfg, clock, t, prefix)
	if _, err := a.UpsertAccounts(ctx, []ingest.AccountIn{{ExternalID: "quiet", Name: "Quiet Co"}, {ExternalID: "never", Name: "Never Sent"}}); err != nil {
		t.Fatal(err)
	}
	v := 100.0
	if _, err := a.IngestSignals(ctx, []ingest.SignalIn{{Account: "quiet", Kind: "usage", Source: "p", IdempotencyKey: "1",
		OccurredAt: clock.Now(), Value: &v}}); err != nil {
		t.Fatal(err)
	}
	// Day 0: nothing moved; the account that never sent a signal gets its
	// first score from its traits and renewal.
	res, err := a.RescoreAll(ctx, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if res.Accounts != 2 || len(res.Alerts) != 0 {
		t.Fatalf("day 0: %+v", res)
	}
	never, err := st.AccountByExternalID(ctx, "never")
	if err != nil || never.HealthScore == nil || *never.HealthScore != 100 {
		t.Fatalf("an account without signals is scored too: %+v (%v)", never.HealthScore, err)
	}
	snapshots := storetest.Count(t, st, "health_snapshots")
	if res, _ := a.RescoreAll(ctx, clock.Now()); res.Moved != 0 || storetest.Count(t, st, "health_snapshots") != snapshots {
		t.Fatalf("a rescore that moved nothing wrote snapshots: %+v", res)
	}

	clock.Advance(30 * 24 * time.Hour)
	var wg sync.WaitGroup
	var alerts atomic.Int32
	for _, p := range []*ingest.Pipeline{a, b} {
		wg.Go(func() {
			res, err := p.RescoreAll(ctx, clock.Now())
			if err != nil {
				t.Error(err)
			}
			alerts.Add(int32(len(res.Alerts)))
		})
	}
	wg.Wait()
	quiet, err := st.AccountByExternalID(ctx, "quiet")
	if err != nil || quiet.HealthBand != string(scoring.BandAtRisk) {
		t.Fatalf("after 30 silent days: band %q score %v (%v), want at risk", quiet.HealthBand, quiet.HealthScore, err)
	}
	if n := alerts.Load(); n != 1 || storetest.Count(t, st, "alerts") != 1 || storetest.Count(t, st, "outbox") != 1 {
		t.Fatalf("%d alerts reported, %d stored, %d queued; want exactly one", n, storetest.Count(t, st, "alerts"), storetest.Count(t, st, "outbox"))
	}
	// Another hour: still at risk, nothing new.
	clock.Advance(time.Hour)
	if res, err := b.RescoreAll(ctx, clock.Now()); err != nil || len(res.Alerts) != 0 {
		t.Fatalf("next hour: %+v %v", res, err)
	}
}

func TestIntentOnlyAccountIsAtRiskAndListedWithTheQuote(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	clock := &testClock{}
	clock.Set(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	_, prefix := testenv.Redis(t)
	p := replica(st, scoring.DefaultConfig(), clock, t, prefix)
	if _, err := p.UpsertAccounts(ctx, []ingest.AccountIn{{ExternalID: "acme", Name: "Acme", ARR: 1000}}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.IngestSignals(ctx, []ingest.SignalIn{{Account: "acme", Kind: "email", Source: "gmail", IdempotencyKey: "m1",
		OccurredAt: clock.Now(), Text: "We plan to cancel at the end of the term."}}); err != nil {
		t.Fatal(err)
	}
	// What /atrisk lists: the band and the quote as its top driver.
	acme, err := st.AccountByExternalID(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if acme.HealthBand != "at_risk" || !strings.Contains(acme.HealthDriver, "We plan to cancel") {
		t.Fatalf("/atrisk: %+v", acme)
	}
	// A month later the statement has not faded: it is open until resolved.
	clock.Advance(60 * 24 * time.Hour)
	if _, err := p.RescoreAll(ctx, clock.Now()); err != nil {
		t.Fatal(err)
	}
	if a, _ := st.AccountByExternalID(ctx, "acme"); a.HealthBand != "at_risk" {
		t.Fatalf("after 60 days: %q, want still at risk", a.HealthBand)
	}
	// Resolved as not intent: the account recovers and the text is kept
	// as a labelled example.
	if err := healthmodel.ResolveIntent(ctx, st, 1, healthmodel.ResolutionNotIntent, "U0CSM"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.RescoreAll(ctx, clock.Now()); err != nil {
		t.Fatal(err)
	}
	if a, _ := st.AccountByExternalID(ctx, "acme"); a.HealthBand != "healthy" {
		t.Fatalf("after not intent: %q, want healthy", a.HealthBand)
	}
	if n := storetest.Count(t, st, "intent_examples"); n != 1 {
		t.Errorf("%d labelled examples, want 1", n)
	}
}
