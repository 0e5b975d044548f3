package blocks

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/scoring"
)

const (
	maxAtRiskRows = 20
	maxAtRiskRow  = 450 // mrkdwn units per row: 20 rows stay far below ~12k per message
)

// AtRiskView is the /atrisk answer. Rows arrive ranked; Total counts every
// at-risk account (it may exceed len(Rows) if the caller fetched a page).
type AtRiskView struct {
	Mine      bool
	Rows      []AtRiskRow
	Total     int
	ARRAtRisk float64
	Now       time.Time // for "in 23 days"; zero omits relative dates
}

// AtRiskRow is one at-risk account.
type AtRiskRow struct {
	AccountID    int64
	Name         string
	Score        int
	Band         scoring.Band
	ARR          float64
	RenewalDate  *time.Time
	OwnerSlackID string
	TopDriver    string
}

// AtRisk builds the ranked at-risk list: at most 20 rows, then "…and N
// more".
func AtRisk(v AtRiskView) Message {
	title := "Accounts at risk"
	if v.Mine {
		title = "Your accounts at risk"
	}
	total := max(v.Total, len(v.Rows))
	if total == 0 {
		blocks := []slack.Block{Section("atrisk_empty", "No accounts at risk 🎉")}
		if v.Mine {
			blocks = append(blocks, ContextBlock("atrisk_scope", "Only accounts you own were checked."))
		}
		return Finish("No accounts at risk 🎉", blocks, MaxMessageBlocks)
	}

	summary := "*" + Plural(total, "account", "accounts") + "* at risk · *" + Money(v.ARRAtRisk) + "* ARR at risk"
	blocks := []slack.Block{
		Header("atrisk_header", title),
		Section("atrisk_summary", summary),
		slack.NewDividerBlock(),
	}
	rows := v.Rows
	if len(rows) > maxAtRiskRows {
		rows = rows[:maxAtRiskRows]
	}
	for i, r := range rows {
		blocks = append(blocks, slack.NewSectionBlock(Mrkdwn(atRiskRow(r, v.Now), maxAtRiskRow), nil, nil,
			slack.SectionBlockOptionBlockID("atrisk_row_"+Itoa(i))))
	}
	if more := total - len(rows); more > 0 {
		blocks = append(blocks, ContextBlock("atrisk_more", "…and "+Itoa(more)+" more"))
	}
	text := Plural(total, "account", "accounts") + " at risk, " + Money(v.ARRAtRisk) + " ARR"
	if v.Mine {
		text = "Yours: " + text
	}
	return Finish(text, blocks, MaxMessageBlocks)
}

// atRiskRow: "🔴 *Acme Corp* · 34 · $240k ARR · renews Mar 3, 2027 (in 23
// days) · <@U1>" with the top driver on a second line.
func atRiskRow(r AtRiskRow, now time.Time) string {
	parts := []string{
		BandEmoji(r.Band) + " *" + UserText(AccountLabel(r.Name, r.AccountID), MaxNameLen) + "*",
		"score " + Itoa(r.Score),
		Money(r.ARR) + " ARR",
	}
	if r.RenewalDate != nil && !r.RenewalDate.IsZero() {
		parts = append(parts, "renews "+Renewal(r.RenewalDate, now))
	}
	parts = append(parts, UserRef(r.OwnerSlackID, "no owner"))
	line := strings.Join(parts, " · ")
	if d := strings.TrimSpace(r.TopDriver); d != "" {
		line += "\n↳ " + UserText(d, MaxDetailLen)
	}
	return line
}

// AccountChoice is one account a query could mean.
type AccountChoice struct {
	AccountID  int64
	Name       string
	ExternalID string
}

// PickButtons renders account choices as buttons whose value is the
// account id and whose action id is actionPrefix plus the position, which
// keeps action ids unique within the message; each command that asks
// "which account?" has its own prefix.
func PickButtons(blockID, actionPrefix string, choices []AccountChoice) *slack.ActionBlock {
	buttons := make([]*slack.ButtonBlockElement, 0, len(choices))
	for i, c := range choices {
		buttons = append(buttons, Button(actionPrefix+Itoa(i), strconv.FormatInt(c.AccountID, 10), ChoiceLabel(c)))
	}
	return Actions(blockID, buttons...)
}

// ChoiceLabel: "Acme Corp (acme-001)", shortening the name rather than the
// id so two similar long names stay distinguishable.
func ChoiceLabel(c AccountChoice) string {
	name := OneLine(AccountLabel(c.Name, c.AccountID))
	ext := OneLine(c.ExternalID)
	if ext == "" {
		return Truncate(name, MaxButtonText)
	}
	ext = " (" + Truncate(ext, 30) + ")"
	return Truncate(name, MaxButtonText-TextLen(ext)) + ext
}

// Problem builds a plain error reply. The format is this package's caller's
// own text and userArgs are anything a user or customer typed; both are
// escaped (format's *bold* still works, links and mentions cannot), so the
// caller never has to remember to escape.
//
//	blocks.Problem("Couldn't find %s in %s.", query, source)
func Problem(format string, userArgs ...string) Message {
	args := make([]any, len(userArgs))
	for i, a := range userArgs {
		args[i] = UserText(a, 500)
	}
	text := fmt.Sprintf(Escape(format), args...)
	return Finish(text, []slack.Block{Section("problem", "⚠️ "+text)}, MaxMessageBlocks)
}

// Info is a short reply written by the bot (mrkdwn-safe already).
func Info(text string) Message {
	return Finish(text, []slack.Block{Section("info", text)}, MaxMessageBlocks)
}
