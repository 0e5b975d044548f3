package blocks

import (
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/scoring"
)

// MaxCardTimeline is how many timeline entries the /health card shows; the
// full history lives in HistoryModal.
const MaxCardTimeline = 5

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
	name := AccountLabel(v.AccountName, v.AccountID)

	var emoji, status, scoreLine string
	switch {
	case v.Churned:
		emoji, status = "⚫", "Churned"
		scoreLine = "*Churned*"
		if v.Score != nil {
			scoreLine += " · last score " + Itoa(*v.Score) + "/100"
		}
	case v.Score == nil:
		emoji, status = "⚪", "Not scored yet"
		scoreLine = "*Not scored yet* — no signals have been scored for this account."
	default:
		emoji, status = BandEmoji(v.Band), BandLabel(v.Band)
		scoreLine = "*Health score: " + Itoa(*v.Score) + "/100* · " + status
	}
	if len(v.Weekly) > 0 {
		weekly := v.Weekly
		if len(weekly) > 8 {
			weekly = weekly[len(weekly)-8:]
		}
		trend := Itoa(weekly[0])
		if len(weekly) > 1 {
			trend += " → " + Itoa(weekly[len(weekly)-1])
		}
		scoreLine += "\n" + weeksLabel(len(weekly)) + ": " + Sparkline(weekly) + " (" + trend + ")"
	} else if v.Score != nil {
		scoreLine += "\nNo weekly history yet."
	}

	blocks := []slack.Block{
		Header("health_header", emoji+" "+Truncate(OneLine(name), MaxNameLen)+" — "+status),
		Section("health_score", scoreLine),
	}
	var meta []string
	for _, s := range []string{v.ExternalID, v.Tier, v.Segment} {
		if strings.TrimSpace(s) != "" {
			meta = append(meta, UserText(s, MaxIDLen))
		}
	}
	if len(meta) > 0 {
		blocks = append(blocks, ContextBlock("health_meta", strings.Join(meta, " · ")))
	}
	if len(v.Components) > 0 {
		lines := make([]string, 0, len(v.Components))
		for _, c := range v.Components {
			lines = append(lines, componentLine(c))
		}
		blocks = append(blocks, Section("health_components", BulletList("*Score breakdown*", lines, MaxSectionText)))
	}
	blocks = append(blocks, FieldsSection("health_facts",
		[2]string{"ARR", Money(v.ARR)},
		[2]string{"Renewal", Renewal(v.RenewalDate, v.Now)},
		[2]string{"Owner", UserRef(v.OwnerSlackID, "No owner")},
	))
	timeline := v.Timeline
	if len(timeline) > MaxCardTimeline {
		timeline = timeline[:MaxCardTimeline]
	}
	if len(timeline) > 0 {
		lines := make([]string, 0, len(timeline))
		for _, e := range timeline {
			lines = append(lines, Date(e.At)+" · "+EntryText(e, maxSummaryLen))
		}
		blocks = append(blocks, Section("health_timeline", BulletList("*Recent activity*", lines, MaxSectionText)))
	} else {
		blocks = append(blocks, Section("health_timeline", "*Recent activity*\nNothing recorded yet."))
	}
	blocks = append(blocks, Actions("health_actions",
		Button(ActionHistory, strconv.FormatInt(v.AccountID, 10), "View history")))

	text := UserText(name, MaxNameLen) + ": " + status
	if v.Score != nil && !v.Churned {
		text = UserText(name, MaxNameLen) + ": " + Itoa(*v.Score) + "/100, " + status
	}
	return Finish(text, blocks, MaxMessageBlocks)
}

// componentLine: "Product usage *-22* of 25 — usage -38% over 14 days".
func componentLine(c scoring.Component) string {
	label := c.Label
	if strings.TrimSpace(label) == "" {
		label = c.Key
	}
	detail := "no data"
	if strings.TrimSpace(c.Detail) != "" {
		detail = UserText(c.Detail, MaxDetailLen)
	}
	return UserText(label, MaxIDLen) + " *" + Signed(RoundInt(c.Points)) + "* of " +
		strconv.FormatFloat(c.Weight, 'f', -1, 64) + " — " + detail
}

func weeksLabel(n int) string {
	if n == 1 {
		return "Last week"
	}
	return "Last " + Itoa(n) + " weeks"
}
