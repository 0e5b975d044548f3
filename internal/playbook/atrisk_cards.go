package playbook

import (
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
	for i, r := range rows {
		bs = append(bs, slack.NewSectionBlock(blocks.Mrkdwn(atRiskLine(r, v.Now), maxAtRiskRow), nil, nil,
			slack.SectionBlockOptionBlockID("atrisk_row_"+blocks.Itoa(i))))
	}
	if more := total - len(rows); more > 0 {
		bs = append(bs, blocks.ContextBlock("atrisk_more", "…and "+blocks.Itoa(more)+" more"))
	}
	text := blocks.Plural(total, "account", "accounts") + " at risk, " + blocks.Money(v.ARRAtRisk) + " ARR"
	if v.Mine {
		text = "Yours: " + text
	}
	return blocks.Finish(text, bs, blocks.MaxMessageBlocks)
}

// atRiskLine: "🔴 *Acme Corp* · 34 · $240k ARR · renews Mar 3, 2027 (in 23
// days) · <@U1>" with the top driver on a second line.
func atRiskLine(r atRiskRow, now time.Time) string {
	parts := []string{
		blocks.BandEmoji(r.Band) + " *" + blocks.UserText(blocks.AccountLabel(r.Name, r.AccountID), blocks.MaxNameLen) + "*",
		"score " + blocks.Itoa(r.Score),
		blocks.Money(r.ARR) + " ARR",
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
