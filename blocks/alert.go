package blocks

import (
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/scoring"
)

// Action ids other code dispatches on.
const (
	ActionHistory    = "alert_history" // value: account id
	ActionClaim      = "alert_claim"   // value: alert id
	ActionPickPrefix = "health_pick_"  // + position; value: account id
)

// Caps on customer text inside otherwise small blocks, chosen so the
// largest possible message stays well under Slack's cumulative ~12k
// characters of block text (msg_blocks_too_long), not only each block's own
// limit.
const (
	maxNameLen    = 100 // account names
	maxDetailLen  = 200 // a driver's or component's detail
	maxReasonLen  = 300
	maxTriggerLen = 500
	maxIDLen      = 80 // external ids, tiers, segments
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
	name := accountName(v.AccountName, v.AccountID)
	longChange, shortChange := scoreChange(v.Score, v.PrevScore)

	scoreLine := "*Health score: " + itoa(v.Score) + "/100*"
	if longChange != "" {
		scoreLine += " (" + longChange + ")"
	}
	reasons := make([]string, 0, len(v.Reasons))
	for _, r := range v.Reasons {
		if s := strings.TrimSpace(r.Summary); s != "" {
			reasons = append(reasons, userText(s, maxReasonLen))
		}
	}

	blocks := []slack.Block{
		header("alert_header", bandEmoji(v.Band)+" "+bandLabel(v.Band)+": "+truncate(oneLine(name), maxNameLen)),
		section("alert_score", bulletList(scoreLine, reasons, maxSectionText)),
	}
	if len(v.Drivers) > 0 {
		lines := make([]string, 0, len(v.Drivers))
		for _, d := range v.Drivers {
			lines = append(lines, driverLine(d))
		}
		blocks = append(blocks, section("alert_drivers", bulletList("*What changed*", lines, maxSectionText)))
	}
	facts := [][2]string{
		{"ARR", Money(v.ARR)},
		{"Renewal", renewal(v.RenewalDate, v.Now)},
		{"Owner", userRef(v.OwnerSlackID, "No owner")},
	}
	if v.ExternalID != "" {
		facts = append(facts, [2]string{"Account", userText(v.ExternalID, maxIDLen)})
	}
	blocks = append(blocks, fieldsSection("alert_facts", facts...))
	if t := strings.TrimSpace(v.Trigger); t != "" {
		blocks = append(blocks, contextBlock("alert_trigger", "Trigger: "+userText(t, maxTriggerLen)))
	}

	history := button(ActionHistory, strconv.FormatInt(v.AccountID, 10), "View history")
	propose := button(ActionProposeOffer, strconv.FormatInt(v.AccountID, 10), "Propose offer")
	if v.ClaimedBy != "" {
		blocks = append(blocks,
			contextBlock("alert_claimed", "Claimed by "+userRef(v.ClaimedBy, "")),
			actions("alert_actions", history, propose))
	} else {
		claim := button(ActionClaim, strconv.FormatInt(v.AlertID, 10), "Claim").WithStyle(slack.StylePrimary)
		blocks = append(blocks, actions("alert_actions", history, claim, propose))
	}

	// "At risk: Acme Corp 57 (▼18) — usage -38% over 14 days: -22 points"
	text := bandLabel(v.Band) + ": " + userText(name, maxNameLen) + " " + itoa(v.Score)
	if shortChange != "" {
		text += " (" + shortChange + ")"
	}
	if len(v.Drivers) > 0 {
		d := v.Drivers[0]
		text += " — " + userText(componentDetail(d.Component), maxDetailLen) + ": " + pointsText(d.Points)
	} else if len(reasons) > 0 {
		text += " — " + reasons[0]
	}
	return finish(text, blocks, maxMessageBlocks)
}

// driverLine: "usage -38% over 14 days: *-22 points* (-15 since last score)".
// The delta is shown only when it says something the points do not (the
// component was already hurting before this score).
func driverLine(d scoring.ComponentDelta) string {
	line := userText(componentDetail(d.Component), maxDetailLen) + ": *" + pointsText(d.Points) + "*"
	switch delta := roundInt(d.Delta); {
	case delta == roundInt(d.Points):
	case delta == 0:
		line += " (unchanged since last score)"
	default:
		line += " (" + signed(delta) + " since last score)"
	}
	return line
}

// DriverText is a component as one line of plain text: "usage -38% over
// 14 days: -22 points". It is not escaped; blocks escape it when shown.
func DriverText(c scoring.Component) string {
	return componentDetail(c) + ": " + pointsText(c.Points)
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

// accountName falls back to the id so a nameless import still reads.
func accountName(name string, id int64) string {
	if strings.TrimSpace(name) == "" {
		return "Account #" + strconv.FormatInt(id, 10)
	}
	return name
}

// AlreadyClaimed tells a second claimant who owns the follow-up. The owner
// is a mention, which Problem would escape.
func AlreadyClaimed(owner string) Message {
	text := userRef(owner, "Someone") + " already claimed this alert."
	return finish(text, []slack.Block{section("problem", "⚠️ "+text)}, maxMessageBlocks)
}
