package textsignals

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/holdfast/holdfast/api"
	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/store"
)

// People's messages in channels linked to an account (accounts.channel_id,
// Slack Connect channels included) become slack_message signals. Unlinked
// channels are ignored entirely: nothing is stored.

// maxMessageText keeps a message within the ingest API's text limit.
const maxMessageText = 20000

func (m *Module) message(ctx context.Context, ev slackevents.EventsAPIEvent) error {
	msg, ok := ev.InnerEvent.Data.(*slackevents.MessageEvent)
	if !ok || msg == nil {
		return nil
	}
	// People's new messages only: not bots (ours included), edits,
	// deletions, joins or other housekeeping.
	switch msg.SubType {
	case "", "thread_broadcast", "file_share":
	default:
		return nil
	}
	if msg.BotID != "" || msg.User == "" || strings.TrimSpace(msg.Text) == "" || msg.ChannelType == "im" || msg.ChannelType == "mpim" {
		return nil
	}
	acct, err := m.store.AccountByChannel(ctx, msg.Channel)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	customer := isExternalAuthor(ev.TeamID, msg)
	author := "team"
	if customer {
		author = "customer"
	}
	meta, err := json.Marshal(map[string]string{"channel": msg.Channel, "ts": msg.TimeStamp, "user": msg.User,
		"thread_ts": msg.ThreadTimeStamp, "author": author, "user_team": msg.UserTeam})
	if err != nil {
		return fmt.Errorf("message metadata: %w", err)
	}
	sig := ingest.SignalIn{
		Account: acct.ExternalID, Kind: "slack_message", Source: "slack",
		IdempotencyKey: msg.Channel + ":" + msg.TimeStamp,
		OccurredAt:     slackTime(msg.TimeStamp, m.now()),
		// Text as Slack sends it (<@U1>, <url|label>, &amp;) made plain
		// words for analysis and history.
		Text:     clip(blocks.DisplayText(msg.Text), maxMessageText),
		Metadata: meta,
		// The team's own replies are history, not the customer's mood.
		Unanalysed: !customer && m.settings.SlackAuthors != SlackAuthorsAll,
	}
	res, err := m.ingest.IngestSignals(ctx, []ingest.SignalIn{sig})
	var invalid *api.ValidationError
	if errors.As(err, &invalid) {
		m.log.Warn("slack message not stored", "channel", msg.Channel, "ts", msg.TimeStamp, "err", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("store slack message: %w", err)
	}
	m.log.Debug("slack message stored", "account", acct.ExternalID, "duplicate", res.Duplicates > 0, "customer", customer)
	return nil
}

// isExternalAuthor: in a Slack Connect channel, people from the
// customer's workspace carry their own team id.
func isExternalAuthor(workspace string, msg *slackevents.MessageEvent) bool {
	for _, team := range []string{msg.UserTeam, msg.SourceTeam} {
		if team != "" && workspace != "" && team != workspace {
			return true
		}
	}
	return false
}

// slackTime reads a message ts ("1700000000.000100"); now if unreadable.
func slackTime(ts string, now time.Time) time.Time {
	sec, frac, _ := strings.Cut(ts, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || s <= 0 {
		return now
	}
	us, _ := strconv.ParseInt((frac + "000000")[:6], 10, 64)
	return time.Unix(s, us*1000).UTC()
}

// claimClicked is the Claim button of competitor and sentiment alerts.
func (m *Module) claimClicked(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
	id, err := strconv.ParseInt(act.Value, 10, 64)
	if err != nil {
		return fmt.Errorf("bad text alert id %q", act.Value)
	}
	a, claimed, err := m.claim(ctx, id, cb.User.ID, m.now())
	if errors.Is(err, store.ErrNotFound) {
		m.router.Tell(ctx, cb, blocks.Problem("That alert no longer exists."))
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case claimed:
	case a.ClaimedBy == cb.User.ID:
		m.router.Tell(ctx, cb, blocks.Problem("You already own this follow-up."))
	default:
		m.router.Tell(ctx, cb, blocks.AlreadyClaimed(a.ClaimedBy))
	}
	return nil
}

// claim records who owns the follow-up of alert id; the first claim wins.
// A successful claim updates every posted copy, DMs included, and goes on
// the account's timeline, in the same transaction.
func (m *Module) claim(ctx context.Context, id int64, user string, at time.Time) (a recordedAlert, claimed bool, err error) {
	err = m.store.InTx(ctx, func(tx store.Tx) error {
		if a, claimed, err = claimAlert(ctx, tx, id, user, at); err != nil || !claimed {
			return err
		}
		var v AlertView
		if err := json.Unmarshal(a.View, &v); err != nil {
			return fmt.Errorf("decode text alert view: %w", err)
		}
		v.ClaimedBy = user
		msg := AlertCard(v)
		// An update by reference goes to the channel Slack posted the
		// target in (a DM's D… id).
		for _, r := range a.Recipients {
			if err := tx.Enqueue(ctx, store.OutboxItem{Op: store.OpUpdate, ChannelID: r, TargetRef: alertRef(id, r), Message: msg}); err != nil {
				return err
			}
		}
		return tx.AddTimeline(ctx, a.AccountID, store.ClaimedEntry(at, user), id)
	})
	return a, claimed, err
}
