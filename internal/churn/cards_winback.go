package churn

// The Block Kit of the weekly win-back list.

import (
	"strconv"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
)

// maxWinbackRows is how many accounts one list message holds (two blocks each).
const maxWinbackRows = 15

// winbackRow is one account on a win-back list.
type winbackRow struct {
	OfferID   int64
	Name      string
	ARR       float64
	Kind      string // KindDormant or KindChurned
	Detail    string // why it is listed
	StartedBy string
	StartedAt *time.Time
	Outcome   Outcome
	OutcomeBy string
}

// winbackListView is one owner's weekly win-back list (or a part of it).
type winbackListView struct {
	Week time.Time
	Rows []winbackRow
}

// winbackCard builds the weekly list: each account with a Start win-back
// button, then (once started) its answer buttons, then the answer.
func winbackCard(v winbackListView) blocks.Message {
	title := "Win-back list: week of " + blocks.Date(v.Week)
	bs := []slack.Block{
		blocks.Header("winback_header", title),
		blocks.ContextBlock("winback_help", "Dormant accounts and churned accounts whose win-back window is open. *Start win-back* records the attempt; record the answer when you have it."),
	}
	rows := v.Rows
	if len(rows) > maxWinbackRows {
		rows = rows[:maxWinbackRows]
	}
	for i, r := range rows {
		kind := "💤 Dormant"
		if r.Kind == KindChurned {
			kind = "🪦 Churned"
		}
		line := "*" + blocks.UserText(r.Name, blocks.MaxNameLen) + "* · " + blocks.Money(r.ARR) + " · " + kind
		if r.Detail != "" {
			line += ": " + blocks.UserText(r.Detail, 200)
		}
		id := strconv.FormatInt(r.OfferID, 10)
		switch {
		case r.StartedAt == nil:
			line += "\n_Not started_"
			bs = append(bs, blocks.Section("winback_row_"+blocks.Itoa(i), line),
				blocks.Actions("winback_act_"+blocks.Itoa(i), blocks.Button(blocks.ActionWinbackStart+id, id, "Start win-back").WithStyle(slack.StylePrimary)))
		case r.Outcome == "":
			line += "\nStarted by " + blocks.UserRef(r.StartedBy, "someone") + " on " + blocks.Date(*r.StartedAt) + ". What was the answer?"
			btns := make([]*slack.ButtonBlockElement, 0, 3)
			for _, o := range []Outcome{ReEngaged, NoResponse, Declined} {
				btns = append(btns, blocks.Button(blocks.ActionWinbackOutcome+id+"_"+string(o), id+":"+string(o), o.Label()))
			}
			bs = append(bs, blocks.Section("winback_row_"+blocks.Itoa(i), line), blocks.Actions("winback_act_"+blocks.Itoa(i), btns...))
		default:
			icon := "✅"
			if r.Outcome != ReEngaged {
				icon = "▫️"
			}
			line += "\n" + icon + " " + r.Outcome.Label() + " · recorded by " + blocks.UserRef(r.OutcomeBy, "someone")
			bs = append(bs, blocks.Section("winback_row_"+blocks.Itoa(i), line))
		}
	}
	if more := len(v.Rows) - len(rows); more > 0 {
		bs = append(bs, blocks.ContextBlock("winback_more", "…and "+blocks.Itoa(more)+" more"))
	}
	text := title + ": " + blocks.Plural(len(v.Rows), "account", "accounts") + " to approach"
	return blocks.Finish(text, bs, blocks.MaxMessageBlocks)
}
