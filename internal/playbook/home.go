package playbook

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/handlers"
	"github.com/holdfast/holdfast/store"
)

// homeRows is how many open playbooks the App Home lists.
const homeRows = 10

// homeRow is one open playbook in its owner's App Home.
type homeRow struct {
	ID, AccountID int64
	Account       string
	ARR           float64
	Score         *int
	ClaimedBy     string
	SLAFrom       time.Time
	ClaimDueAt    time.Time
	NextCheckinAt *time.Time
}

// HomeSections show each person the open playbooks they own or should
// claim: the accounts they own, most ARR first.
func (m *Module) HomeSections() []handlers.HomeSection {
	return []handlers.HomeSection{{Name: "playbook", Render: func(ctx context.Context, user string, now time.Time) (blocks.HomeSection, bool, error) {
		rows, err := m.openFor(ctx, m.store.DB(), user)
		if err != nil || len(rows) == 0 {
			return blocks.HomeSection{}, false, err
		}
		return blocks.HomeSection{Title: "Your at-risk playbooks", Blocks: homeBlocks(rows, now, m.loc)}, true, nil
	}}}
}

func (m *Module) openFor(ctx context.Context, db store.DB, user string) ([]homeRow, error) {
	rows, err := db.Query(ctx, `SELECT p.id, a.id, a.name, a.arr::float8, a.health_score, coalesce(p.claimed_by, ''), p.sla_from,
			p.claim_due_at, p.next_checkin_at
		FROM playbooks p JOIN accounts a ON a.id = p.account_id
		WHERE p.state = 'open' AND (p.claimed_by = $1 OR (p.claimed_by IS NULL AND a.owner_csm = $1))
		ORDER BY a.arr DESC, p.id LIMIT $2`, user, homeRows+1)
	if err != nil {
		return nil, fmt.Errorf("open playbooks: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[homeRow])
	if err != nil {
		return nil, fmt.Errorf("open playbooks: %w", err)
	}
	return out, nil
}

// homeBlocks: "*Acme Corp* · $240k ARR · health 54 · unclaimed, SLA 4h
// passed 1h ago", with the step card's thread a click away in Slack.
func homeBlocks(rows []homeRow, now time.Time, loc *time.Location) []slack.Block {
	var bs []slack.Block
	for i, r := range rows[:min(len(rows), homeRows)] {
		line := "*" + blocks.UserText(blocks.AccountLabel(r.Account, r.AccountID), blocks.MaxNameLen) + "* · " + blocks.Money(r.ARR) + " ARR"
		if r.Score != nil {
			line += " · health " + blocks.Itoa(*r.Score)
		}
		switch {
		case r.ClaimedBy == "" && now.After(r.ClaimDueAt):
			line += "\n⚠️ Unclaimed, response SLA passed " + blocks.ShortDuration(now.Sub(r.ClaimDueAt)) + " ago: claim it in its alert thread."
		case r.ClaimedBy == "":
			line += "\n⏰ Unclaimed: claim it by " + stamp(r.ClaimDueAt, loc) + " in its alert thread."
		case r.NextCheckinAt != nil:
			line += "\nNext check-in " + stamp(*r.NextCheckinAt, loc)
		}
		bs = append(bs, slack.NewSectionBlock(blocks.Mrkdwn(line, blocks.MaxSectionText), nil, nil,
			slack.SectionBlockOptionBlockID("pb_home_"+strconv.Itoa(i))))
	}
	if len(rows) > homeRows {
		bs = append(bs, blocks.ContextBlock("pb_home_more", "…and more: /atrisk mine lists them all."))
	}
	return bs
}
