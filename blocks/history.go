package blocks

import (
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/scoring"
)

const (
	// Slack documents no size limit for a whole view, but large views fail
	// to open or update; cap the entry text at about two messages' worth.
	modalTextBudget   = 24000
	maxHistorySummary = 300
)

// HistoryView is an account's history for the modal. Entries arrive newest
// first and are shown in their own time zone (At's location); Total is how
// many exist in all (0 = len(Entries)), so the modal can say how many it
// left out. Now (optional) labels days "today", "3 days ago".
type HistoryView struct {
	AccountName string
	Score       *int
	Band        scoring.Band
	Entries     []TimelineEntry
	Total       int
	Now         time.Time
}

// HistoryModal builds the "Account history" modal: a header, the score,
// then entries grouped by day, ending with "Showing the latest N of M" when
// not everything fit (100 blocks or the text budget).
func HistoryModal(v HistoryView) slack.ModalViewRequest {
	name := v.AccountName
	if name == "" {
		name = "Account"
	}
	status := "Not scored yet"
	if v.Score != nil {
		status = "Score " + Itoa(*v.Score) + "/100 · " + BandLabel(v.Band)
	}
	blocks := []slack.Block{
		Header("history_header", BandEmoji(v.Band)+" "+Truncate(OneLine(name), MaxNameLen)),
		ContextBlock("history_score", status),
	}
	total := max(v.Total, len(v.Entries))
	if len(v.Entries) == 0 {
		blocks = append(blocks, Section("history_empty", "No activity recorded yet."))
	}

	// One section per day, split when a day outgrows a section. One block
	// stays in reserve for the footer.
	shown, used := 0, 0
	var day, body string
	flush := func() {
		if body != "" {
			blocks = append(blocks, Section("history_"+Itoa(len(blocks)), body))
		}
		body = ""
	}
	for _, e := range v.Entries {
		line := "\n• " + e.At.Format("15:04") + " · " + EntryText(e, maxHistorySummary)
		d := Date(e.At)
		title := "*" + d + "*"
		if rel := Relative(e.At, v.Now); rel != "" {
			title += " · " + rel
		}
		if d == day && body != "" && TextLen(body)+TextLen(line) > MaxSectionText {
			flush()
			title = "*" + d + " (continued)*"
		}
		if d != day {
			flush()
		}
		if body == "" {
			// Starting a block: is there one left, and budget for it?
			if len(blocks) >= MaxModalBlocks-1 || used+TextLen(title)+TextLen(line) > modalTextBudget {
				break
			}
			body = title
			used += TextLen(title)
		} else if used+TextLen(line) > modalTextBudget {
			break
		}
		day = d
		body += line
		used += TextLen(line)
		shown++
	}
	flush()
	if shown < total {
		blocks = append(blocks, ContextBlock("history_more",
			"Showing the latest "+FormatInt(int64(shown))+" of "+FormatInt(int64(total))))
	}
	if len(blocks) > MaxModalBlocks {
		blocks = blocks[:MaxModalBlocks]
	}
	return slack.ModalViewRequest{
		Type:   slack.VTModal,
		Title:  Plain("Account history", MaxViewTitle),
		Close:  Plain("Close", MaxViewTitle),
		Blocks: slack.Blocks{BlockSet: blocks},
	}
}
