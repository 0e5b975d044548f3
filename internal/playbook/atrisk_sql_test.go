package playbook

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/blocks/blockstest"
	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/store"
	"github.com/holdfast/holdfast/store/storetest"
)

// /atrisk ranks by ARR × churn likelihood: points below the at-risk line
// under the hand-set weights, the model's probability once one is active,
// and the points again after a rollback to the hand-set weights.
func TestAtRiskRankedByStake(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	accounts := []struct {
		id, owner, status, band string
		arr                     float64
		score                   int
	}{
		// At the line of 70: stake in points × ARR, and with a model p × ARR.
		{"big", "U1", "active", "at_risk", 1_000_000, 68},     // 2 × 1M = 2M;   0.32 × 1M = 320k
		{"deep", "U2", "active", "critical", 100_000, 20},     // 50 × 100k = 5M; 0.80 × 100k = 80k
		{"mid", "U1", "active", "at_risk", 300_000, 50},       // 20 × 300k = 6M; 0.50 × 300k = 150k
		{"twin", "U2", "active", "critical", 100_000, 20},     // ties with deep: the lower id first
		{"healthy", "U1", "active", "healthy", 9_000_000, 90}, // not at risk
		{"gone", "U1", "churned", "critical", 9_000_000, 5},   // not active
	}
	var in []store.AccountInput
	for _, a := range accounts {
		in = append(in, store.AccountInput{ExternalID: a.id, Name: "Name " + a.id, ARR: a.arr, OwnerCSM: a.owner})
	}
	storetest.Seed(t, st, in, nil)
	for _, a := range accounts {
		if _, err := st.Pool().Exec(ctx, `UPDATE accounts SET health_score = $2, health_band = $3, status = $4 WHERE external_id = $1`,
			a.id, a.score, a.band, a.status); err != nil {
			t.Fatal(err)
		}
	}
	m, _ := testModule(t, st, Options{Scoring: scoring.DefaultConfig()})
	m.now = blockstest.FixedNow

	ranked := func(owners []string, limit int) (string, atRiskPage) {
		t.Helper()
		p, err := atRiskRanked(ctx, st, owners, 70, limit)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, a := range p.Accounts {
			names = append(names, strings.TrimPrefix(a.Name, "Name "))
		}
		return strings.Join(names, ","), p
	}
	atrisk := func() string {
		t.Helper()
		r, err := m.atRisk(ctx, slack.SlashCommand{Command: "/atrisk", UserID: "U1"})
		if err != nil {
			t.Fatal(err)
		}
		blockstest.CheckMessage(t, "atrisk", r.Message, 50)
		return blocks.PlainText(r.Message)
	}

	// Hand-set weights: points below the line.
	if got, p := ranked(nil, 10); got != "mid,deep,twin,big" || p.Total != 4 || p.ARRAtRisk != 1_500_000 || p.ModelFittedAt != nil ||
		p.Accounts[0].Likelihood != 20 || p.Accounts[3].Likelihood != 2 {
		t.Errorf("without a model: %s %+v", got, p)
	}
	if got, p := ranked([]string{"U1"}, 1); got != "mid" || p.Total != 2 || p.ARRAtRisk != 1_300_000 {
		t.Errorf("U1's book, first only: %s %+v", got, p)
	}
	if got, p := ranked([]string{}, 10); got != "" || p.Total != 0 {
		t.Errorf("an empty book: %s %+v", got, p)
	}
	out := atrisk()
	blockstest.WantContains(t, "/atrisk without a model", out,
		"Name mid* · score 50 · $300k ARR · 20 points below the line",
		"Ordered by ARR × points below the at-risk line (70); fit a health model to rank by churn probability")

	// A fitted model becomes active: its probabilities rank.
	fitted := time.Date(2027, 1, 12, 10, 0, 0, 0, time.UTC)
	var modelID int64
	if err := st.Pool().QueryRow(ctx, `INSERT INTO health_models (fitted_by, fitted_at, horizon_days, cutoffs, accounts, examples, churns, model, backtest, train_accounts)
		VALUES ('U0ADM', $1, 90, '{}', 100, 400, 12, '{}', '{}', '{}') RETURNING id`, fitted).Scan(&modelID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pool().Exec(ctx, `INSERT INTO health_model_activations (model_id, activated_by) VALUES ($1, 'U0ADM')`, modelID); err != nil {
		t.Fatal(err)
	}
	if got, p := ranked(nil, 10); got != "big,mid,deep,twin" || p.ModelFittedAt == nil || !p.ModelFittedAt.Equal(fitted) ||
		p.Accounts[0].Likelihood < 0.3199 || p.Accounts[0].Likelihood > 0.3201 {
		t.Errorf("with a model: %s %+v", got, p)
	}
	out = atrisk()
	blockstest.WantContains(t, "/atrisk with a model", out,
		"Name big* · score 68 · $1M ARR · 32% churn probability, $320k at stake",
		"Ordered by ARR × churn probability (health model fitted Jan 12)")
	if i, j := strings.Index(out, "Name big"), strings.Index(out, "Name mid"); i < 0 || j < i {
		t.Errorf("/atrisk with a model, big before mid:\n%s", out)
	}

	// Rolled back to the hand-set weights: points again.
	if _, err := st.Pool().Exec(ctx, `INSERT INTO health_model_activations (model_id, rollback, activated_by) VALUES (NULL, true, 'U0ADM')`); err != nil {
		t.Fatal(err)
	}
	if got, p := ranked(nil, 10); got != "mid,deep,twin,big" || p.ModelFittedAt != nil {
		t.Errorf("after a rollback: %s %+v", got, p)
	}
}
