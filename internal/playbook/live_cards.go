package playbook

import (
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/scoring"
)

// liveView is one live leadership alert as a channel reads it.
type liveView struct {
	Kind         string // liveCritical or liveRecovered
	AccountID    int64
	Name         string
	Score        int
	Before       *int   // recovered: the score when the playbook opened
	Driver       string // critical: the top driver
	ARR          float64
	RenewalDate  *time.Time
	OwnerSlackID string
	Now          time.Time // for "in 23 days"; zero omits relative dates
}

// liveFooter says why the channel gets this and how to stop it.
const liveFooter = "Live churn-risk alert for this channel · stop with `/digest unsubscribe live`"

// liveCard builds a live alert: a critical one names the account, its
// score and top driver, ARR, renewal and owner; a recovery the score's
// climb since the playbook opened and the ARR kept.
func liveCard(v liveView) blocks.Message {
	name := blocks.UserText(blocks.AccountLabel(v.Name, v.AccountID), blocks.MaxNameLen)
	if v.Kind == liveRecovered {
		score := "score " + blocks.Itoa(v.Score)
		if v.Before != nil {
			_, short := blocks.ScoreChange(v.Score, v.Before)
			score = "score " + blocks.Itoa(*v.Before) + " → " + blocks.Itoa(v.Score) + " (" + short + ")"
		}
		line := blocks.BandEmoji(scoring.BandHealthy) + " *" + name + "* recovered · " + score + " · " + blocks.Money(v.ARR) + " ARR kept"
		bs := []slack.Block{
			blocks.Section("live_recovered", line),
			blocks.ContextBlock("live_footer", liveFooter),
		}
		return blocks.Finish("Recovered: "+name+", "+score+", "+blocks.Money(v.ARR)+" ARR", bs, blocks.MaxMessageBlocks)
	}

	head := blocks.BandEmoji(scoring.BandCritical) + " *" + name + "* is critical · score " + blocks.Itoa(v.Score)
	if d := strings.TrimSpace(v.Driver); d != "" {
		head += "\n↳ " + blocks.UserText(d, blocks.MaxDetailLen)
	}
	bs := []slack.Block{
		blocks.Section("live_critical", head),
		blocks.FieldsSection("live_facts",
			[2]string{"ARR", blocks.Money(v.ARR)},
			[2]string{"Renews", blocks.Renewal(v.RenewalDate, v.Now)},
			[2]string{"Owner", blocks.UserRef(v.OwnerSlackID, "no owner")},
		),
		blocks.ContextBlock("live_footer", liveFooter),
	}
	return blocks.Finish("Critical: "+name+", score "+blocks.Itoa(v.Score)+", "+blocks.Money(v.ARR)+" ARR", bs, blocks.MaxMessageBlocks)
}
