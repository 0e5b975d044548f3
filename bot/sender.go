// Package bot owns Holdfast's connection to Slack: the Socket Mode link
// (acks, redeliveries, reconnects), and every Web API call, paced to Slack's
// rate limits and fed from a Postgres outbox so nothing is lost.
package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/holdfast/holdfast/blocks"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"
)

// Sender calls Slack's Web API at a pace Slack accepts: per-channel GCRA
// limits shared by every replica through Redis, and on a 429 it waits the
// Retry-After Slack asked for and tries again.
type Sender struct {
	api     *slack.Client
	http    *http.Client
	limiter *redis_rate.Limiter
	prefix  string
	limit   redis_rate.Limit
	log     *slog.Logger
	calls   *prometheus.CounterVec
}

// ChannelLimit is chat.postMessage's documented pace: about one message a
// second per channel, with short bursts.
var ChannelLimit = redis_rate.Limit{Rate: 1, Burst: 3, Period: time.Second}

// NewSender wires a sender. prefix namespaces its Redis keys.
func NewSender(api *slack.Client, httpClient *http.Client, limiter *redis_rate.Limiter, prefix string, limit redis_rate.Limit, log *slog.Logger, reg prometheus.Registerer) *Sender {
	s := &Sender{api: api, http: httpClient, limiter: limiter, prefix: prefix, limit: limit, log: log,
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "holdfast_slack_calls_total", Help: "Slack Web API calls by method and outcome.",
		}, []string{"method", "outcome"})}
	reg.MustRegister(s.calls)
	return s
}

// Post sends a message, in a thread when threadTS is set, and returns its
// ts and the channel Slack put it in: a post to a user id lands in the DM
// channel (D…), and chat.update needs that id, not the user's.
func (s *Sender) Post(ctx context.Context, channel, threadTS string, m blocks.Message) (sentChannel, ts string, err error) {
	return s.post(ctx, channel, threadTS, m)
}

// PostOutbox is Post for an outbox message: its outbox id rides in the
// message's metadata, so FindPosted can tell whether it was already sent.
func (s *Sender) PostOutbox(ctx context.Context, channel, threadTS string, m blocks.Message, outboxID int64) (sentChannel, ts string, err error) {
	return s.post(ctx, channel, threadTS, m,
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: OutboxMetadataType, EventPayload: map[string]any{"outbox_id": outboxID}}))
}

func (s *Sender) post(ctx context.Context, channel, threadTS string, m blocks.Message, extra ...slack.MsgOption) (sentChannel, ts string, err error) {
	opts := append([]slack.MsgOption{slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks...)}, extra...)
	if threadTS != "" {
		opts = append(opts, slack.MsgOptionTS(threadTS))
	}
	err = s.paced(ctx, "chat.postMessage", channel, func() error {
		var err error
		sentChannel, ts, err = s.api.PostMessageContext(ctx, channel, opts...)
		return err
	})
	return sentChannel, ts, err
}

// FindPosted looks for the message carrying outboxID in the channel's
// history since `since` (or in the thread of threadTS) and returns its ts.
func (s *Sender) FindPosted(ctx context.Context, channel, threadTS string, outboxID int64, since time.Time) (found bool, ts string, err error) {
	oldest := strconv.FormatInt(since.Unix(), 10) + ".000000"
	match := func(msgs []slack.Message) bool {
		for _, m := range msgs {
			if m.Metadata.EventType != OutboxMetadataType {
				continue
			}
			if id, ok := m.Metadata.EventPayload["outbox_id"].(float64); ok && int64(id) == outboxID {
				ts = m.Timestamp
				return true
			}
		}
		return false
	}
	cursor := ""
	for page := 0; page < 10; page++ {
		var msgs []slack.Message
		var next string
		if threadTS != "" {
			err = s.paced(ctx, "conversations.replies", channel, func() error {
				var err error
				msgs, _, next, err = s.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
					ChannelID: channel, Timestamp: threadTS, Oldest: oldest, Cursor: cursor, Limit: 200, IncludeAllMetadata: true})
				return err
			})
		} else {
			err = s.paced(ctx, "conversations.history", channel, func() error {
				res, err := s.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
					ChannelID: channel, Oldest: oldest, Cursor: cursor, Limit: 200, IncludeAllMetadata: true})
				if res != nil {
					msgs, next = res.Messages, res.ResponseMetaData.NextCursor
				}
				return err
			})
		}
		if err != nil {
			return false, "", err
		}
		if match(msgs) {
			return true, ts, nil
		}
		if next == "" {
			return false, "", nil
		}
		cursor = next
	}
	return false, "", nil
}

// Ephemeral shows a message to one user in a channel (or thread).
func (s *Sender) Ephemeral(ctx context.Context, channel, user, threadTS string, m blocks.Message) (string, error) {
	opts := []slack.MsgOption{slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks...)}
	if threadTS != "" {
		opts = append(opts, slack.MsgOptionTS(threadTS))
	}
	var ts string
	err := s.paced(ctx, "chat.postEphemeral", channel, func() error {
		var err error
		ts, err = s.api.PostEphemeralContext(ctx, channel, user, opts...)
		return err
	})
	return ts, err
}

// Update replaces a posted message.
func (s *Sender) Update(ctx context.Context, channel, ts string, m blocks.Message) error {
	return s.paced(ctx, "chat.update", channel, func() error {
		_, _, _, err := s.api.UpdateMessageContext(ctx, channel, ts,
			slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks...))
		return err
	})
}

// OpenView opens a modal; trigger ids live 3 s, so it is not paced.
func (s *Sender) OpenView(ctx context.Context, triggerID string, view slack.ModalViewRequest) error {
	_, err := s.api.OpenViewContext(ctx, triggerID, view)
	s.count("views.open", err)
	return err
}

// PublishView sets a user's App Home tab (views.publish, Tier 4: not paced
// per channel; a 429 is returned to the caller, as the next open refreshes).
func (s *Sender) PublishView(ctx context.Context, userID string, view slack.HomeTabViewRequest) error {
	_, err := s.api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: userID, View: view})
	s.count("views.publish", err)
	return err
}

// Respond posts to an interaction's response_url (ephemeral by default).
func (s *Sender) Respond(ctx context.Context, responseURL string, m blocks.Message, replaceOriginal bool) error {
	msg := &slack.WebhookMessage{Text: m.Text, Blocks: &slack.Blocks{BlockSet: m.Blocks}, ResponseType: slack.ResponseTypeEphemeral, ReplaceOriginal: replaceOriginal}
	err := slack.PostWebhookCustomHTTPContext(ctx, responseURL, s.http, msg)
	s.count("response_url", err)
	return err
}

// paced runs call once the channel's limiter allows it, retrying after 429s
// until ctx ends: a rate limit is a reason to wait, never to drop.
func (s *Sender) paced(ctx context.Context, method, channel string, call func() error) error {
	for {
		res, err := s.limiter.Allow(ctx, s.prefix+"rate:"+method+":"+channel, s.limit)
		if err != nil {
			return fmt.Errorf("rate limiter: %w", err)
		}
		if res.Allowed == 0 {
			if err := sleep(ctx, res.RetryAfter); err != nil {
				return err
			}
			continue
		}
		err = call()
		s.count(method, err)
		var limited *slack.RateLimitedError
		if errors.As(err, &limited) {
			wait := max(limited.RetryAfter, time.Second)
			s.log.Warn("slack rate limited us", "method", method, "channel", channel, "retry_after", wait)
			if err := sleep(ctx, wait); err != nil {
				return err
			}
			continue
		}
		return err
	}
}

func (s *Sender) count(method string, err error) {
	outcome := "ok"
	var limited *slack.RateLimitedError
	switch {
	case errors.As(err, &limited):
		outcome = "rate_limited"
	case err != nil:
		outcome = "error"
	}
	s.calls.WithLabelValues(method, outcome).Inc()
}

// Permanent reports whether retrying err can never help.
func Permanent(err error) bool {
	var resp slack.SlackErrorResponse
	if !errors.As(err, &resp) {
		return false
	}
	switch resp.Err {
	case "channel_not_found", "not_in_channel", "is_archived", "invalid_blocks", "invalid_blocks_format",
		"msg_too_long", "msg_blocks_too_long", "no_text", "cant_update_message", "message_not_found",
		"invalid_auth", "account_inactive", "token_revoked", "missing_scope", "restricted_action":
		return true
	}
	return false
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
