package blocks

import (
	"time"

	"github.com/slack-go/slack"
)

// MaxCardTimeline is how many timeline entries a card shows (the /health
// card, the NPS loop card); the full history lives in the history modal.
const MaxCardTimeline = 5

// TimelineEntry is one thing that happened to an account.
type TimelineEntry struct {
	At      time.Time
	Kind    string
	Summary string // customer text, escaped where shown (EntryText)
	Actor   string // Slack user id of who did it, "" for signals
}

// HomeSection is a titled block list another feature contributes. Its
// block ids must be unique within the Home tab: prefix them with the
// feature's name.
type HomeSection struct {
	Title  string
	Blocks []slack.Block
}
