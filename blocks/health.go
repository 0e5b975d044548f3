package blocks

import (
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/scoring"
)

// maxCardTimeline is how many timeline entries the /health card shows; the
// full history lives in HistoryModal.
const maxCardTimeline = 5

// maxSummaryLen caps a timeline summary on the card.
const maxSummaryLen = 150

// HealthView is everything the /health card shows.
type HealthView struct {
	AccountID    int64
	AccountName  string
	ExternalID   string
	Tier         string
	Segment      string
	Score        *int // nil = not scored yet
	Band         scoring.Band
	Churned      bool
	Components   []scoring.Component
	Weekly       []int           // up to the last 8 weekly scores, oldest first
	Timeline     []TimelineEntry // newest first; the card shows the first 5
	ARR          float64
	RenewalDate  *time.Time
	OwnerSlackID string
	Now          time.Time
}

// TimelineEntry is one thing that happened to an account.
type TimelineEntry struct {
	At      time.Time
	Kind    string
	Summary string // customer text, escaped here
	Actor   string // Slack user id of who did it, "" for signals
}

// HealthCard builds the /health answer for one account.
func HealthCard(v HealthView) Message {
	name := accountName(v.AccountName, v.AccountID)

	var emoji, status, scoreLine string
	switch {
	case v.Churned:
		emoji, status = "⚫", "Churned"
		scoreLine = "*Churned*"
		if v.Score != nil {
			scoreLine += " · last score " + itoa(*v.Score) + "/100"
		}
	case v.Score == nil:
		emoji, status = "⚪", "Not scored yet"
		scoreLine = "*Not scored yet* — no signals have been scored for this account."
	default:
		emoji, status = bandEmoji(v.Band), bandLabel(v.Band)
		scoreLine = "*Health score: " + itoa(*v.Score) + "/100* · " + status
	}
	if len(v.Weekly) > 0 {
		weekly := v.Weekly
		if len(weekly) > 8 {
			weekly = weekly[len(weekly)-8:]
		}
		trend := itoa(weekly[0])
		if len(weekly) > 1 {
			trend += " → " + itoa(weekly[len(weekly)-1])
		}
		scoreLine += "\n" + weeksLabel(len(weekly)) + ": " + Sparkline(weekly) + " (" + trend + ")"
	} else if v.Score != nil {
		scoreLine += "\nNo weekly history yet."
	}

	blocks := []slack.Block{
		header("health_header", emoji+" "+truncate(oneLine(name), maxNameLen)+" — "+status),
		section("health_score", scoreLine),
	}
	var meta []string
	for _, s := range []string{v.ExternalID, v.Tier, v.Segment} {
		if strings.TrimSpace(s) != "" {
			meta = append(meta, userText(s, maxIDLen))
		}
	}
	if len(meta) > 0 {
		blocks = append(blocks, contextBlock("health_meta", strings.Join(meta, " · ")))
	}
	if len(v.Components) > 0 {
		lines := make([]string, 0, len(v.Components))
		for _, c := range v.Components {
			lines = append(lines, componentLine(c))
		}
		blocks = append(blocks, section("health_components", bulletList("*Score breakdown*", lines, maxSectionText)))
	}
	blocks = append(blocks, fieldsSection("health_facts",
		[2]string{"ARR", Money(v.ARR)},
		[2]string{"Renewal", renewal(v.RenewalDate, v.Now)},
		[2]string{"Owner", userRef(v.OwnerSlackID, "No owner")},
	))
	timeline := v.Timeline
	if len(timeline) > maxCardTimeline {
		timeline = timeline[:maxCardTimeline]
	}
	if len(timeline) > 0 {
		lines := make([]string, 0, len(timeline))
		for _, e := range timeline {
			lines = append(lines, Date(e.At)+" · "+entryText(e, maxSummaryLen))
		}
		blocks = append(blocks, section("health_timeline", bulletList("*Recent activity*", lines, maxSectionText)))
	} else {
		blocks = append(blocks, section("health_timeline", "*Recent activity*\nNothing recorded yet."))
	}
	blocks = append(blocks, actions("health_actions",
		button(ActionHistory, strconv.FormatInt(v.AccountID, 10), "View history")))

	text := userText(name, maxNameLen) + ": " + status
	if v.Score != nil && !v.Churned {
		text = userText(name, maxNameLen) + ": " + itoa(*v.Score) + "/100, " + status
	}
	return finish(text, blocks, maxMessageBlocks)
}

// componentLine: "Product usage *-22* of 25 — usage -38% over 14 days".
func componentLine(c scoring.Component) string {
	label := c.Label
	if strings.TrimSpace(label) == "" {
		label = c.Key
	}
	detail := "no data"
	if strings.TrimSpace(c.Detail) != "" {
		detail = userText(c.Detail, maxDetailLen)
	}
	return userText(label, maxIDLen) + " *" + signed(roundInt(c.Points)) + "* of " +
		strconv.FormatFloat(c.Weight, 'f', -1, 64) + " — " + detail
}

// entryText: "ticket · still waiting on export…", summary capped at max.
func entryText(e TimelineEntry, max int) string {
	kind := userText(strings.ReplaceAll(e.Kind, "_", " "), maxIDLen)
	if kind == "" {
		kind = "event"
	}
	by := ""
	if e.Actor != "" {
		by = " (" + userRef(e.Actor, "") + ")"
	}
	if s := strings.TrimSpace(e.Summary); s != "" {
		return kind + " · " + userText(s, max) + by
	}
	return kind + by
}

func weeksLabel(n int) string {
	if n == 1 {
		return "Last week"
	}
	return "Last " + itoa(n) + " weeks"
}
