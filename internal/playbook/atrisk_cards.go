package playbook

import (
	"math"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/scoring"
)

const (
	maxAtRiskRows = 20
	maxAtRiskRow  = 450 // mrkdwn units per row: 20 rows stay far below ~12k per message
)

// atRiskView is the /atrisk answer. Rows arrive ranked; Total counts every
// at-risk account (it may exceed len(Rows) if the caller fetched a page).
type atRiskView struct {
	Mine      bool
	Rows      []atRiskRow
	Total     int
	ARRAtRisk float64
	Now       time.Time // for "in 23 days"; zero omits relative dates
	// Order says how the rows were ranked, in a note under the list; nil
	// shows none.
	Order *atRiskOrder
}

// atRiskOrder is the rule /atrisk ranked by: ARR × churn probability once
// a health model is active, else ARR × points below the at-risk line.
type atRiskOrder struct {
	Model       bool
	FittedAt    time.Time // the active model's fit
	AtRiskBelow int       // the at-risk line (scoring.at_risk_below)
}

// atRiskRow is one at-risk account.
type atRiskRow struct {
	AccountID    int64
	Name         string
	Score        int
	Band         scoring.Band
	ARR          float64
	RenewalDate  *time.Time
	OwnerSlackID string
	TopDriver    string
	// Likelihood is what the ranking multiplied ARR by: the churn
	// probability (0..1) with a model, else points below the line; 0 shows
	// no stake.
	Likelihood float64
}

// atRiskCard builds the ranked at-risk list: at most 20 rows, then "…and N
// more".
func atRiskCard(v atRiskView) blocks.Message {
	title := "Accounts at risk"
	if v.Mine {
		title = "Your accounts at risk"
	}
	total := max(v.Total, len(v.Rows))
	if total == 0 {
		bs := []slack.Block{blocks.Section("atrisk_empty", "No accounts at risk 🎉")}
		if v.Mine {
			bs = append(bs, blocks.ContextBlock("atrisk_scope", "Only accounts you own were checked."))
		}
		return blocks.Finish("No accounts at risk 🎉", bs, blocks.MaxMessageBlocks)
	}

	summary := "*" + blocks.Plural(total, "account", "accounts") + "* at risk · *" + blocks.Money(v.ARRAtRisk) + "* ARR at risk"
	bs := []slack.Block{
		blocks.Header("atrisk_header", title),
		blocks.Section("atrisk_summary", summary),
		slack.NewDividerBlock(),
	}
	rows := v.Rows
	if len(rows) > maxAtRiskRows {
		rows = rows[:maxAtRiskRows]
	}
	model := v.Order != nil && v.Order.Model
	for i, r := range rows {
		bs = append(bs, slack.NewSectionBlock(blocks.Mrkdwn(atRiskLine(r, model, v.Now), maxAtRiskRow), nil, nil,
			slack.SectionBlockOptionBlockID("atrisk_row_"+blocks.Itoa(i))))
	}
	if more := total - len(rows); more > 0 {
		bs = append(bs, blocks.ContextBlock("atrisk_more", "…and "+blocks.Itoa(more)+" more"))
	}
	if v.Order != nil {
		bs = append(bs, blocks.ContextBlock("atrisk_order", orderNote(*v.Order, v.Now)))
	}
	text := blocks.Plural(total, "account", "accounts") + " at risk, " + blocks.Money(v.ARRAtRisk) + " ARR"
	if v.Mine {
		text = "Yours: " + text
	}
	return blocks.Finish(text, bs, blocks.MaxMessageBlocks)
}

// orderNote states the ranking rule: "Ordered by ARR × churn probability
// (health model fitted Mar 3)" or "Ordered by ARR × points below the
// at-risk line (70); fit a health model to rank by churn probability".
func orderNote(o atRiskOrder, now time.Time) string {
	if o.Model {
		fitted := blocks.Date(o.FittedAt)
		if !now.IsZero() && now.In(o.FittedAt.Location()).Year() == o.FittedAt.Year() {
			fitted = o.FittedAt.Format("Jan 2")
		}
		return "Ordered by ARR × churn probability (health model fitted " + fitted + ")"
	}
	return "Ordered by ARR × points below the at-risk line (" + blocks.Itoa(o.AtRiskBelow) +
		"); fit a health model to rank by churn probability"
}

// atRiskLine: "🔴 *Acme Corp* · score 34 · $240k ARR · 66% churn
// probability, $158k at stake · renews Mar 3, 2027 (in 23 days) · <@U1>"
// with the top driver on a second line. Without a model the stake is the
// points below the line ("36 points below the line"): ARR times points is
// no amount worth printing.
func atRiskLine(r atRiskRow, model bool, now time.Time) string {
	parts := []string{
		blocks.BandEmoji(r.Band) + " *" + blocks.UserText(blocks.AccountLabel(r.Name, r.AccountID), blocks.MaxNameLen) + "*",
		"score " + blocks.Itoa(r.Score),
		blocks.Money(r.ARR) + " ARR",
	}
	switch {
	case r.Likelihood <= 0 || math.IsNaN(r.Likelihood):
	case model:
		p := min(r.Likelihood, 1)
		parts = append(parts, blocks.Itoa(blocks.RoundInt(100*p))+"% churn probability, "+blocks.Money(r.ARR*p)+" at stake")
	default:
		n := blocks.RoundInt(r.Likelihood)
		parts = append(parts, blocks.Plural(n, "point", "points")+" below the line")
	}
	if r.RenewalDate != nil && !r.RenewalDate.IsZero() {
		parts = append(parts, "renews "+blocks.Renewal(r.RenewalDate, now))
	}
	parts = append(parts, blocks.UserRef(r.OwnerSlackID, "no owner"))
	line := strings.Join(parts, " · ")
	if d := strings.TrimSpace(r.TopDriver); d != "" {
		line += "\n↳ " + blocks.UserText(d, blocks.MaxDetailLen)
	}
	return line
}
