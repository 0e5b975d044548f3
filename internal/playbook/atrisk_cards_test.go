package playbook

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/blocks/blockstest"
	"github.com/holdfast/holdfast/scoring"
)

func ptr[T any](v T) *T { return &v }

func TestAtRisk(t *testing.T) {
	t.Parallel()
	t.Run("empty", func(t *testing.T) {
		t.Parallel()
		for _, mine := range []bool{false, true} {
			m := atRiskCard(atRiskView{Mine: mine})
			blockstest.CheckMessage(t, "empty", m, 50)
			if m.Text != "No accounts at risk 🎉" {
				t.Errorf("Text = %q", m.Text)
			}
			blockstest.WantContains(t, "empty", blockstest.AllText(t, m.Blocks), "No accounts at risk 🎉")
		}
	})
	t.Run("ranked and capped", func(t *testing.T) {
		t.Parallel()
		rows := make([]atRiskRow, 25)
		for i := range rows {
			rows[i] = atRiskRow{AccountID: int64(i + 1), Name: fmt.Sprintf("Acct %02d", i), Score: 20 + i, Band: scoring.BandCritical, ARR: 50_000, OwnerSlackID: "U1", TopDriver: "usage -38% <b>"}
		}
		rows[0].RenewalDate = ptr(time.Date(2027, time.March, 3, 0, 0, 0, 0, time.UTC))
		rows[0].Name = "Acme & Sons"
		m := atRiskCard(atRiskView{Mine: true, Rows: rows, Total: 31, ARRAtRisk: 1_250_000, Now: blockstest.FixedNow()})
		blockstest.CheckMessage(t, "atrisk", m, 50)
		if m.Text != "Yours: 31 accounts at risk, $1.3M ARR" {
			t.Errorf("Text = %q", m.Text)
		}
		all := blockstest.AllText(t, m.Blocks)
		blockstest.WantContains(t, "atrisk", all,
			"Your accounts at risk",
			"*31 accounts* at risk · *$1.3M* ARR at risk",
			"🔴 *Acme &amp; Sons* · score 20 · $50k ARR · renews Mar 3, 2027 (in 23 days) · <@U1>\n↳ usage -38% &lt;b&gt;",
			"Acct 19",
			"…and 11 more",
		)
		blockstest.WantNotContains(t, "atrisk", all, "Acct 20")
		for i := 0; i < 20; i++ {
			if blockstest.BlockByID(m.Blocks, fmt.Sprintf("atrisk_row_%d", i)) == nil {
				t.Errorf("row %d missing", i)
			}
		}
	})
}

// Local mode prints the list's divider as a rule.
func TestAtRiskPlainText(t *testing.T) {
	t.Parallel()
	blockstest.WantContains(t, "plain atrisk", blocks.PlainText(atRiskCard(atRiskView{Rows: []atRiskRow{{Name: "A"}}, Total: 1})), strings.Repeat("─", 40))
}

func TestAtRiskWorstCase(t *testing.T) {
	t.Parallel()
	huge := blockstest.Huge
	var rows []atRiskRow
	for i := 0; i < 500; i++ {
		rows = append(rows, atRiskRow{AccountID: int64(i), Name: huge, Score: -1 << 40, Band: scoring.BandCritical, ARR: 1e300,
			RenewalDate: ptr(time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)), OwnerSlackID: huge, TopDriver: huge, Likelihood: 1e300})
	}
	blockstest.CheckMessage(t, "atrisk", atRiskCard(atRiskView{Mine: true, Rows: rows, Total: 1 << 40, ARRAtRisk: 1e300, Now: blockstest.FixedNow()}), 50)
	for _, o := range []atRiskOrder{{Model: true, FittedAt: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)}, {AtRiskBelow: -1 << 40}} {
		blockstest.CheckMessage(t, "atrisk ordered", atRiskCard(atRiskView{Rows: rows, Total: 1 << 40, ARRAtRisk: 1e300, Now: blockstest.FixedNow(), Order: &o}), 50)
	}
}

// The rule the list is ranked by is stated under it, and each row shows
// its stake in the terms of that rule.
func TestAtRiskOrderNote(t *testing.T) {
	t.Parallel()
	row := atRiskRow{AccountID: 1, Name: "Acme", Score: 34, Band: scoring.BandCritical, ARR: 240_000, OwnerSlackID: "U1"}
	for _, c := range []struct {
		name       string
		order      *atRiskOrder
		likelihood float64
		line, note string
	}{
		{"hand-set weights", &atRiskOrder{AtRiskBelow: 70}, 36,
			"🔴 *Acme* · score 34 · $240k ARR · 36 points below the line · <@U1>",
			"Ordered by ARR × points below the at-risk line (70); fit a health model to rank by churn probability"},
		{"one point", &atRiskOrder{AtRiskBelow: 70}, 1, "$240k ARR · 1 point below the line · <@U1>", "(70)"},
		{"fitted model", &atRiskOrder{Model: true, FittedAt: time.Date(2027, 3, 3, 12, 0, 0, 0, time.UTC), AtRiskBelow: 70}, 0.66,
			"🔴 *Acme* · score 34 · $240k ARR · 66% churn probability, $158k at stake · <@U1>",
			"Ordered by ARR × churn probability (health model fitted Mar 3)"},
		{"model fitted last year", &atRiskOrder{Model: true, FittedAt: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}, 0.66,
			"66% churn probability", "Ordered by ARR × churn probability (health model fitted Nov 30, 2026)"},
	} {
		r := row
		r.Likelihood = c.likelihood
		m := atRiskCard(atRiskView{Rows: []atRiskRow{r}, Total: 1, ARRAtRisk: 240_000, Now: blockstest.FixedNow(), Order: c.order})
		blockstest.CheckMessage(t, c.name, m, 50)
		if blockstest.BlockByID(m.Blocks, "atrisk_order") == nil {
			t.Errorf("%s: no ordering note", c.name)
		}
		blockstest.WantContains(t, c.name, blockstest.AllText(t, m.Blocks), c.line, c.note)
	}
	// No rule known (a view built by hand), no note; nothing listed, no note.
	if m := atRiskCard(atRiskView{Rows: []atRiskRow{row}, Total: 1}); blockstest.BlockByID(m.Blocks, "atrisk_order") != nil {
		t.Error("a note without a rule")
	}
	if m := atRiskCard(atRiskView{Order: &atRiskOrder{AtRiskBelow: 70}}); blockstest.BlockByID(m.Blocks, "atrisk_order") != nil {
		t.Error("a note under an empty list")
	}
}
