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
		status = "Score " + itoa(*v.Score) + "/100 · " + bandLabel(v.Band)
	}
	blocks := []slack.Block{
		header("history_header", bandEmoji(v.Band)+" "+truncate(oneLine(name), maxNameLen)),
		contextBlock("history_score", status),
	}
	total := max(v.Total, len(v.Entries))
	if len(v.Entries) == 0 {
		blocks = append(blocks, section("history_empty", "No activity recorded yet."))
	}

	// One section per day, split when a day outgrows a section. One block
	// stays in reserve for the footer.
	shown, used := 0, 0
	var day, body string
	flush := func() {
		if body != "" {
			blocks = append(blocks, section("history_"+itoa(len(blocks)), body))
		}
		body = ""
	}
	for _, e := range v.Entries {
		line := "\n• " + e.At.Format("15:04") + " · " + entryText(e, maxHistorySummary)
		d := Date(e.At)
		title := "*" + d + "*"
		if rel := Relative(e.At, v.Now); rel != "" {
			title += " · " + rel
		}
		if d == day && body != "" && textLen(body)+textLen(line) > maxSectionText {
			flush()
			title = "*" + d + " (continued)*"
		}
		if d != day {
			flush()
		}
		if body == "" {
			// Starting a block: is there one left, and budget for it?
			if len(blocks) >= maxModalBlocks-1 || used+textLen(title)+textLen(line) > modalTextBudget {
				break
			}
			body = title
			used += textLen(title)
		} else if used+textLen(line) > modalTextBudget {
			break
		}
		day = d
		body += line
		used += textLen(line)
		shown++
	}
	flush()
	if shown < total {
		blocks = append(blocks, contextBlock("history_more",
			"Showing the latest "+formatInt(int64(shown))+" of "+formatInt(int64(total))))
	}
	if len(blocks) > maxModalBlocks {
		blocks = blocks[:maxModalBlocks]
	}
	return slack.ModalViewRequest{
		Type:   slack.VTModal,
		Title:  plain("Account history", maxViewTitle),
		Close:  plain("Close", maxViewTitle),
		Blocks: slack.Blocks{BlockSet: blocks},
	}
}
