package ingest

import (
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/scoring"
)

// alertView is everything the churn-risk alert shows. It is stored with the
// alert (as JSON, under these field names) so a claim can re-render it.
type alertView struct {
	AlertID     int64
	AccountID   int64
	AccountName string
	ExternalID  string
	Score       int
	PrevScore   *int
	Band        scoring.Band
	Reasons     []scoring.AlertReason    // why it fired (1..n)
	Drivers     []scoring.ComponentDelta // top drivers, most impact first
	Trigger     string                   // what arrived; customer text, escaped here
	// TriggerSignalID is the signal whose text drove the alert (0: none
	// with text); the card then asks for feedback on its reading.
	TriggerSignalID int64
	TriggerIntent   bool // that text was read as churn intent
	ARR             float64
	RenewalDate     *time.Time
	OwnerSlackID    string
	ClaimedBy       string // Slack user id; "" = unclaimed
	Now             time.Time
	// IntentOpen offers the buttons that resolve a stated intent to cancel.
	IntentOpen bool `json:",omitempty"`
}

// alertCard builds the churn-risk alert. Re-render it with ClaimedBy set to
// update the posted message after a claim.
func alertCard(v alertView) blocks.Message {
	name := blocks.AccountLabel(v.AccountName, v.AccountID)
	longChange, shortChange := blocks.ScoreChange(v.Score, v.PrevScore)

	scoreLine := "*Health score: " + blocks.Itoa(v.Score) + "/100*"
	if longChange != "" {
		scoreLine += " (" + longChange + ")"
	}
	reasons := make([]string, 0, len(v.Reasons))
	for _, r := range v.Reasons {
		if s := strings.TrimSpace(r.Summary); s != "" {
			reasons = append(reasons, blocks.UserText(s, blocks.MaxReasonLen))
		}
	}

	bs := []slack.Block{
		blocks.Header("alert_header", blocks.BandEmoji(v.Band)+" "+blocks.BandLabel(v.Band)+": "+blocks.Truncate(blocks.OneLine(name), blocks.MaxNameLen)),
		blocks.Section("alert_score", blocks.BulletList(scoreLine, reasons, blocks.MaxSectionText)),
	}
	if len(v.Drivers) > 0 {
		lines := make([]string, 0, len(v.Drivers))
		for _, d := range v.Drivers {
			lines = append(lines, driverLine(d))
		}
		bs = append(bs, blocks.Section("alert_drivers", blocks.BulletList("*What changed*", lines, blocks.MaxSectionText)))
	}
	facts := [][2]string{
		{"ARR", blocks.Money(v.ARR)},
		{"Renewal", blocks.Renewal(v.RenewalDate, v.Now)},
		{"Owner", blocks.UserRef(v.OwnerSlackID, "No owner")},
	}
	if v.ExternalID != "" {
		facts = append(facts, [2]string{"Account", blocks.UserText(v.ExternalID, blocks.MaxIDLen)})
	}
	bs = append(bs, blocks.FieldsSection("alert_facts", facts...))
	if t := strings.TrimSpace(v.Trigger); t != "" {
		bs = append(bs, blocks.ContextBlock("alert_trigger", "Trigger: "+blocks.UserText(t, blocks.MaxTriggerLen)))
	}

	history := blocks.Button(blocks.ActionHistory, strconv.FormatInt(v.AccountID, 10), "View history")
	propose := blocks.Button(blocks.ActionProposeOffer, strconv.FormatInt(v.AccountID, 10), "Propose offer")
	labels := blocks.TextLabelButtons(v.TriggerSignalID, v.TriggerIntent)
	if v.ClaimedBy != "" {
		bs = append(bs,
			blocks.ContextBlock("alert_claimed", "Claimed by "+blocks.UserRef(v.ClaimedBy, "")),
			blocks.Actions("alert_actions", append([]*slack.ButtonBlockElement{history, propose}, labels...)...))
	} else {
		claim := blocks.Button(blocks.ActionClaim, strconv.FormatInt(v.AlertID, 10), "Claim").WithStyle(slack.StylePrimary)
		bs = append(bs, blocks.Actions("alert_actions", append([]*slack.ButtonBlockElement{history, claim, propose}, labels...)...))
	}

	if v.IntentOpen {
		account := strconv.FormatInt(v.AccountID, 10)
		bs = append(bs, blocks.ContextBlock("alert_intent", "Stated intent keeps this account at risk until it is resolved:"),
			blocks.Actions("alert_intent_actions",
				blocks.Button(blocks.ActionIntentPrefix+"saved", account, "Saved"),
				blocks.Button(blocks.ActionIntentPrefix+"churned", account, "Churned"),
				blocks.Button(blocks.ActionIntentPrefix+"not_intent", account, "Not intent")))
	}

	// "At risk: Acme Corp 57 (▼18) — usage -38% over 14 days: -22 points"
	text := blocks.BandLabel(v.Band) + ": " + blocks.UserText(name, blocks.MaxNameLen) + " " + blocks.Itoa(v.Score)
	if shortChange != "" {
		text += " (" + shortChange + ")"
	}
	if len(v.Drivers) > 0 {
		d := v.Drivers[0]
		text += " — " + blocks.UserText(blocks.ComponentDetail(d.Component), blocks.MaxDetailLen) + ": " + blocks.PointsText(d.Points)
	} else if len(reasons) > 0 {
		text += " — " + reasons[0]
	}
	return blocks.Finish(text, bs, blocks.MaxMessageBlocks)
}

// driverLine: "usage -38% over 14 days: *-22 points* (-15 since last score)".
// The delta is shown only when it says something the points do not (the
// component was already hurting before this score).
func driverLine(d scoring.ComponentDelta) string {
	line := blocks.UserText(blocks.ComponentDetail(d.Component), blocks.MaxDetailLen) + ": *" + blocks.PointsText(d.Points) + "*"
	switch delta := blocks.RoundInt(d.Delta); {
	case delta == blocks.RoundInt(d.Points):
	case delta == 0:
		line += " (unchanged since last score)"
	default:
		line += " (" + blocks.Signed(delta) + " since last score)"
	}
	return line
}
