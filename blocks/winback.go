package blocks

import (
	"strconv"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/churn"
)

// MaxWinbackRows is how many accounts one list message holds (two blocks each).
const MaxWinbackRows = 15

// WinbackRow is one account on a win-back list.
type WinbackRow struct {
	OfferID   int64
	Name      string
	ARR       float64
	Kind      string // churn.KindDormant or churn.KindChurned
	Detail    string // why it is listed
	StartedBy string
	StartedAt *time.Time
	Outcome   churn.Outcome
	OutcomeBy string
}

// WinbackListView is one owner's weekly win-back list (or a part of it).
type WinbackListView struct {
	Week time.Time
	Rows []WinbackRow
}

// WinbackList builds the weekly list: each account with a Start win-back
// Button, then (once started) its answer buttons, then the answer.
func WinbackList(v WinbackListView) Message {
	title := "Win-back list: week of " + Date(v.Week)
	blocks := []slack.Block{
		Header("winback_header", title),
		ContextBlock("winback_help", "Dormant accounts and churned accounts whose win-back window is open. *Start win-back* records the attempt; record the answer when you have it."),
	}
	rows := v.Rows
	if len(rows) > MaxWinbackRows {
		rows = rows[:MaxWinbackRows]
	}
	for i, r := range rows {
		kind := "💤 Dormant"
		if r.Kind == churn.KindChurned {
			kind = "🪦 Churned"
		}
		line := "*" + UserText(r.Name, MaxNameLen) + "* · " + Money(r.ARR) + " · " + kind
		if r.Detail != "" {
			line += ": " + UserText(r.Detail, 200)
		}
		id := strconv.FormatInt(r.OfferID, 10)
		switch {
		case r.StartedAt == nil:
			line += "\n_Not started_"
			blocks = append(blocks, Section("winback_row_"+Itoa(i), line),
				Actions("winback_act_"+Itoa(i), Button(ActionWinbackStart+id, id, "Start win-back").WithStyle(slack.StylePrimary)))
		case r.Outcome == "":
			line += "\nStarted by " + UserRef(r.StartedBy, "someone") + " on " + Date(*r.StartedAt) + ". What was the answer?"
			btns := make([]*slack.ButtonBlockElement, 0, 3)
			for _, o := range []churn.Outcome{churn.ReEngaged, churn.NoResponse, churn.Declined} {
				btns = append(btns, Button(ActionWinbackOutcome+id+"_"+string(o), id+":"+string(o), o.Label()))
			}
			blocks = append(blocks, Section("winback_row_"+Itoa(i), line), Actions("winback_act_"+Itoa(i), btns...))
		default:
			icon := "✅"
			if r.Outcome != churn.ReEngaged {
				icon = "▫️"
			}
			line += "\n" + icon + " " + r.Outcome.Label() + " · recorded by " + UserRef(r.OutcomeBy, "someone")
			blocks = append(blocks, Section("winback_row_"+Itoa(i), line))
		}
	}
	if more := len(v.Rows) - len(rows); more > 0 {
		blocks = append(blocks, ContextBlock("winback_more", "…and "+Itoa(more)+" more"))
	}
	text := title + ": " + Plural(len(v.Rows), "account", "accounts") + " to approach"
	return Finish(text, blocks, MaxMessageBlocks)
}
