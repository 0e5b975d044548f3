package blocks

import (
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/scoring"
)

// AlertView is everything the churn-risk alert shows.
type AlertView struct {
	AlertID      int64
	AccountID    int64
	AccountName  string
	ExternalID   string
	Score        int
	PrevScore    *int
	Band         scoring.Band
	Reasons      []scoring.AlertReason    // why it fired (1..n)
	Drivers      []scoring.ComponentDelta // top drivers, most impact first
	Trigger      string                   // what arrived; customer text, escaped here
	ARR          float64
	RenewalDate  *time.Time
	OwnerSlackID string
	ClaimedBy    string // Slack user id; "" = unclaimed
	Now          time.Time
}

// Alert builds the churn-risk alert. Re-render it with ClaimedBy set to
// update the posted message after a claim.
func Alert(v AlertView) Message {
	name := AccountLabel(v.AccountName, v.AccountID)
	longChange, shortChange := ScoreChange(v.Score, v.PrevScore)

	scoreLine := "*Health score: " + Itoa(v.Score) + "/100*"
	if longChange != "" {
		scoreLine += " (" + longChange + ")"
	}
	reasons := make([]string, 0, len(v.Reasons))
	for _, r := range v.Reasons {
		if s := strings.TrimSpace(r.Summary); s != "" {
			reasons = append(reasons, UserText(s, MaxReasonLen))
		}
	}

	blocks := []slack.Block{
		Header("alert_header", BandEmoji(v.Band)+" "+BandLabel(v.Band)+": "+Truncate(OneLine(name), MaxNameLen)),
		Section("alert_score", BulletList(scoreLine, reasons, MaxSectionText)),
	}
	if len(v.Drivers) > 0 {
		lines := make([]string, 0, len(v.Drivers))
		for _, d := range v.Drivers {
			lines = append(lines, driverLine(d))
		}
		blocks = append(blocks, Section("alert_drivers", BulletList("*What changed*", lines, MaxSectionText)))
	}
	facts := [][2]string{
		{"ARR", Money(v.ARR)},
		{"Renewal", Renewal(v.RenewalDate, v.Now)},
		{"Owner", UserRef(v.OwnerSlackID, "No owner")},
	}
	if v.ExternalID != "" {
		facts = append(facts, [2]string{"Account", UserText(v.ExternalID, MaxIDLen)})
	}
	blocks = append(blocks, FieldsSection("alert_facts", facts...))
	if t := strings.TrimSpace(v.Trigger); t != "" {
		blocks = append(blocks, ContextBlock("alert_trigger", "Trigger: "+UserText(t, MaxTriggerLen)))
	}

	history := Button(ActionHistory, strconv.FormatInt(v.AccountID, 10), "View history")
	propose := Button(ActionProposeOffer, strconv.FormatInt(v.AccountID, 10), "Propose offer")
	if v.ClaimedBy != "" {
		blocks = append(blocks,
			ContextBlock("alert_claimed", "Claimed by "+UserRef(v.ClaimedBy, "")),
			Actions("alert_actions", history, propose))
	} else {
		claim := Button(ActionClaim, strconv.FormatInt(v.AlertID, 10), "Claim").WithStyle(slack.StylePrimary)
		blocks = append(blocks, Actions("alert_actions", history, claim, propose))
	}

	// "At risk: Acme Corp 57 (▼18) — usage -38% over 14 days: -22 points"
	text := BandLabel(v.Band) + ": " + UserText(name, MaxNameLen) + " " + Itoa(v.Score)
	if shortChange != "" {
		text += " (" + shortChange + ")"
	}
	if len(v.Drivers) > 0 {
		d := v.Drivers[0]
		text += " — " + UserText(componentDetail(d.Component), MaxDetailLen) + ": " + PointsText(d.Points)
	} else if len(reasons) > 0 {
		text += " — " + reasons[0]
	}
	return Finish(text, blocks, MaxMessageBlocks)
}

// driverLine: "usage -38% over 14 days: *-22 points* (-15 since last score)".
// The delta is shown only when it says something the points do not (the
// component was already hurting before this score).
func driverLine(d scoring.ComponentDelta) string {
	line := UserText(componentDetail(d.Component), MaxDetailLen) + ": *" + PointsText(d.Points) + "*"
	switch delta := RoundInt(d.Delta); {
	case delta == RoundInt(d.Points):
	case delta == 0:
		line += " (unchanged since last score)"
	default:
		line += " (" + Signed(delta) + " since last score)"
	}
	return line
}

// DriverText is a component as one line of plain text: "usage -38% over
// 14 days: -22 points". It is not escaped; blocks escape it when shown.
func DriverText(c scoring.Component) string {
	return componentDetail(c) + ": " + PointsText(c.Points)
}

// componentDetail is the most specific description a component has.
func componentDetail(c scoring.Component) string {
	switch {
	case strings.TrimSpace(c.Detail) != "":
		return c.Detail
	case strings.TrimSpace(c.Label) != "":
		return c.Label
	case c.Key != "":
		return c.Key
	}
	return "unknown"
}

// AlreadyClaimed tells a second claimant who owns the follow-up. The owner
// is a mention, which Problem would escape.
func AlreadyClaimed(owner string) Message {
	text := UserRef(owner, "Someone") + " already claimed this alert."
	return Finish(text, []slack.Block{Section("problem", "⚠️ "+text)}, MaxMessageBlocks)
}
