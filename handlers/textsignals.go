package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/holdfast/holdfast/api"
	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/store"
)

// SlackMessages turns people's messages in channels linked to an account
// (accounts.channel_id, Slack Connect channels included) into slack_message
// signals. Unlinked channels are ignored entirely: nothing is stored.
type SlackMessages struct {
	accounts AccountByChannel
	ingest   SignalIngester
	authors  string // ingest.SlackAuthors*
	now      func() time.Time
	log      *slog.Logger
}

// AccountByChannel finds the account a channel is linked to.
type AccountByChannel interface {
	AccountByChannel(ctx context.Context, channel string) (store.Account, error)
}

// SignalIngester stores signals through the ingest pipeline.
type SignalIngester interface {
	IngestSignals(ctx context.Context, in []ingest.SignalIn) (ingest.SignalsResult, error)
}

// NewSlackMessages wires the message listener; authors is
// text.slack_authors.
func NewSlackMessages(accounts AccountByChannel, in SignalIngester, authors string, now func() time.Time, log *slog.Logger) *SlackMessages {
	return &SlackMessages{accounts: accounts, ingest: in, authors: authors, now: now, log: log}
}

// Register listens to message events.
func (h *SlackMessages) Register(r *Router) { r.HandleEvent("message", h.message) }

// maxMessageText keeps a message within the ingest API's text limit.
const maxMessageText = 20000

func (h *SlackMessages) message(ctx context.Context, ev slackevents.EventsAPIEvent) error {
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
	acct, err := h.accounts.AccountByChannel(ctx, msg.Channel)
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
		OccurredAt:     slackTime(msg.TimeStamp, h.now()),
		Text:           clipText(blocks.FromMrkdwn(msg.Text), maxMessageText),
		Metadata:       meta,
		// The team's own replies are history, not the customer's mood.
		Unanalysed: !customer && h.authors != ingest.SlackAuthorsAll,
	}
	res, err := h.ingest.IngestSignals(ctx, []ingest.SignalIn{sig})
	var invalid *api.ValidationError
	if errors.As(err, &invalid) {
		h.log.Warn("slack message not stored", "channel", msg.Channel, "ts", msg.TimeStamp, "err", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("store slack message: %w", err)
	}
	h.log.Debug("slack message stored", "account", acct.ExternalID, "duplicate", res.Duplicates > 0, "customer", customer)
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

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// TextAlerts handles the Claim button of competitor and sentiment alerts.
type TextAlerts struct {
	store  TextAlertClaimer
	router *Router
	now    func() time.Time
}

// TextAlertClaimer records claims.
type TextAlertClaimer interface {
	ClaimTextAlert(ctx context.Context, id int64, user string, at time.Time, render func(view json.RawMessage, claimedBy string) (any, error)) (store.TextAlertClaim, error)
}

// NewTextAlerts wires the claim button.
func NewTextAlerts(st TextAlertClaimer, now func() time.Time) *TextAlerts {
	return &TextAlerts{store: st, now: now}
}

// Register handles the claim action.
func (h *TextAlerts) Register(r *Router) {
	h.router = r
	r.HandleAction(blocks.ActionTextAlertClaim, h.claim)
}

func (h *TextAlerts) claim(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
	id, err := strconv.ParseInt(act.Value, 10, 64)
	if err != nil {
		return fmt.Errorf("bad text alert id %q", act.Value)
	}
	res, err := h.store.ClaimTextAlert(ctx, id, cb.User.ID, h.now(), func(raw json.RawMessage, claimedBy string) (any, error) {
		var v blocks.TextAlertView
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("decode text alert view: %w", err)
		}
		v.ClaimedBy = claimedBy
		return blocks.TextAlert(v), nil
	})
	if errors.Is(err, store.ErrNotFound) {
		h.router.Tell(ctx, cb, blocks.Problem("That alert no longer exists."))
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case res.Claimed:
	case res.Alert.ClaimedBy == cb.User.ID:
		h.router.Tell(ctx, cb, blocks.Problem("You already own this follow-up."))
	default:
		h.router.Tell(ctx, cb, blocks.AlreadyClaimed(res.Alert.ClaimedBy))
	}
	return nil
}
