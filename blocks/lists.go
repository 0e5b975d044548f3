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
	maxAtRiskRows  = 20
	maxAtRiskRow   = 450 // mrkdwn units per row: 20 rows stay far below ~12k per message
	maxChoices     = 10
	maxSuggestions = 5
	maxQueryLen    = 100
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
		blocks := []slack.Block{section("atrisk_empty", "No accounts at risk 🎉")}
		if v.Mine {
			blocks = append(blocks, contextBlock("atrisk_scope", "Only accounts you own were checked."))
		}
		return finish("No accounts at risk 🎉", blocks, maxMessageBlocks)
	}

	summary := "*" + plural(total, "account", "accounts") + "* at risk · *" + Money(v.ARRAtRisk) + "* ARR at risk"
	blocks := []slack.Block{
		header("atrisk_header", title),
		section("atrisk_summary", summary),
		slack.NewDividerBlock(),
	}
	rows := v.Rows
	if len(rows) > maxAtRiskRows {
		rows = rows[:maxAtRiskRows]
	}
	for i, r := range rows {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(atRiskRow(r, v.Now), maxAtRiskRow), nil, nil,
			slack.SectionBlockOptionBlockID("atrisk_row_"+itoa(i))))
	}
	if more := total - len(rows); more > 0 {
		blocks = append(blocks, contextBlock("atrisk_more", "…and "+itoa(more)+" more"))
	}
	text := plural(total, "account", "accounts") + " at risk, " + Money(v.ARRAtRisk) + " ARR"
	if v.Mine {
		text = "Yours: " + text
	}
	return finish(text, blocks, maxMessageBlocks)
}

// atRiskRow: "🔴 *Acme Corp* · 34 · $240k ARR · renews Mar 3, 2027 (in 23
// days) · <@U1>" with the top driver on a second line.
func atRiskRow(r AtRiskRow, now time.Time) string {
	parts := []string{
		bandEmoji(r.Band) + " *" + userText(accountName(r.Name, r.AccountID), maxNameLen) + "*",
		"score " + itoa(r.Score),
		Money(r.ARR) + " ARR",
	}
	if r.RenewalDate != nil && !r.RenewalDate.IsZero() {
		parts = append(parts, "renews "+renewal(r.RenewalDate, now))
	}
	parts = append(parts, userRef(r.OwnerSlackID, "no owner"))
	line := strings.Join(parts, " · ")
	if d := strings.TrimSpace(r.TopDriver); d != "" {
		line += "\n↳ " + userText(d, maxDetailLen)
	}
	return line
}

// AccountChoice is one account a query could mean.
type AccountChoice struct {
	AccountID  int64
	Name       string
	ExternalID string
}

// AccountChoices asks which account an ambiguous /health query meant: one
// button per account (at most 10), action id "health_pick_<n>".
func AccountChoices(query string, choices []AccountChoice) Message {
	if len(choices) == 0 {
		return NotFound(query, nil)
	}
	q := userText(query, maxQueryLen)
	shown := choices
	if len(shown) > maxChoices {
		shown = shown[:maxChoices]
	}
	blocks := []slack.Block{
		section("health_choices_prompt", "Several accounts match “"+q+"”. Which one did you mean?"),
		pickButtons("health_choices", ActionPickPrefix, shown),
	}
	if more := len(choices) - len(shown); more > 0 {
		blocks = append(blocks, contextBlock("health_choices_more",
			"…and "+itoa(more)+" more. Try a longer name or the account id."))
	}
	names := make([]string, 0, len(shown))
	for _, c := range shown {
		names = append(names, userText(choiceLabel(c), maxButtonText))
	}
	return finish("Several accounts match “"+q+"”: "+strings.Join(names, ", "), blocks, maxMessageBlocks)
}

// usageHint is escaped because the <…> placeholder would otherwise be
// parsed as a link.
const usageHint = "Usage: /health <account name or id>"

// NotFound answers a /health query that matched nothing, offering up to 5
// suggestions as "health_pick_<n>" buttons.
func NotFound(query string, suggestions []AccountChoice) Message {
	q := userText(query, maxQueryLen)
	prompt := "No account matches “" + q + "”."
	if len(suggestions) > 0 {
		prompt += " Did you mean…"
	}
	blocks := []slack.Block{section("health_notfound", prompt)}
	if len(suggestions) > 0 {
		shown := suggestions
		if len(shown) > maxSuggestions {
			shown = shown[:maxSuggestions]
		}
		blocks = append(blocks, pickButtons("health_suggestions", ActionPickPrefix, shown))
	}
	blocks = append(blocks, contextBlock("health_usage", Escape(usageHint)))
	return finish("No account matches “"+q+"”. "+Escape(usageHint), blocks, maxMessageBlocks)
}

// pickButtons renders account choices as buttons whose value is the
// account id and whose action id is actionPrefix plus the position, which
// keeps action ids unique within the message; each command that asks
// "which account?" has its own prefix.
func pickButtons(blockID, actionPrefix string, choices []AccountChoice) *slack.ActionBlock {
	buttons := make([]*slack.ButtonBlockElement, 0, len(choices))
	for i, c := range choices {
		buttons = append(buttons, button(actionPrefix+itoa(i), strconv.FormatInt(c.AccountID, 10), choiceLabel(c)))
	}
	return actions(blockID, buttons...)
}

// choiceLabel: "Acme Corp (acme-001)", shortening the name rather than the
// id so two similar long names stay distinguishable.
func choiceLabel(c AccountChoice) string {
	name := oneLine(accountName(c.Name, c.AccountID))
	ext := oneLine(c.ExternalID)
	if ext == "" {
		return truncate(name, maxButtonText)
	}
	ext = " (" + truncate(ext, 30) + ")"
	return truncate(name, maxButtonText-textLen(ext)) + ext
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
		args[i] = userText(a, 500)
	}
	text := fmt.Sprintf(Escape(format), args...)
	return finish(text, []slack.Block{section("problem", "⚠️ "+text)}, maxMessageBlocks)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return formatInt(int64(n)) + " " + many
}
