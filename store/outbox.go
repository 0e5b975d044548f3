package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Outbox operations.
const (
	OpPost      = "post"
	OpUpdate    = "update"
	OpEphemeral = "ephemeral" // shown to UserID only; never threaded by key
)

// Outbox is the queue of messages that must reach Slack. Only the oldest
// undelivered message of each thread is ready, so a thread's messages go
// out in order and the first one creates the thread; a message deferred
// to later (quiet hours) and never tried lets the ones after it go first.
// An update by reference waits for its target's delivery and for earlier
// updates of the same target.
//
// Each channel is a lane (Queue.Lane): one message per channel in flight,
// so a channel paced by Slack never holds up another channel's messages,
// and a lane sends its alerts before its digests and lists (Priority).
var Outbox = Queue{
	Name: "outbox", Table: "outbox", Due: "not_before", CountAttempts: true,
	Lane: "channel_id", Priority: "priority",
	Waiting: "delivered_at IS NULL AND failed_at IS NULL",
	Ready: `(p.thread_key IS NULL OR NOT EXISTS (
				SELECT 1 FROM outbox e WHERE e.thread_key = p.thread_key AND e.id < p.id
				  AND e.delivered_at IS NULL AND e.failed_at IS NULL
				  AND (e.attempts > 0 OR e.not_before <= now())))
			  AND (p.target_ref IS NULL OR (
				EXISTS (SELECT 1 FROM outbox t WHERE t.ref = p.target_ref AND t.delivered_at IS NOT NULL)
				AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.target_ref = p.target_ref AND e.id < p.id
				  AND e.delivered_at IS NULL AND e.failed_at IS NULL)))`,
}

// Outbox priorities: within a channel, higher goes first.
const (
	PriorityBulk   = -10 // digests, lists, reports
	PriorityNormal = 0
	PriorityAlert  = 10 // alerts a person must act on
)

// OutboxItem is a message that must reach Slack.
type OutboxItem struct {
	ID        int64
	Op        string
	ChannelID string
	ThreadKey string // posts with the same key go into one thread, in order
	TargetTS  string // update: the message to replace
	Message   any    // JSON-encodable; read back as raw JSON
	Raw       json.RawMessage
	AlertID   int64
	NotBefore time.Time
	Attempts  int
	// Ref names this message so a later update can target it (TargetRef)
	// and its ts can be read back (MessageTS); unique.
	Ref string
	// TargetRef (update): the message to replace, by its Ref. The update
	// waits until that message is delivered; updates of one message go
	// out in the order they were enqueued.
	TargetRef string
	UserID    string // ephemeral: who sees it
	// ThreadTS is filled on lease when the thread already has a root message.
	ThreadTS string
	// SentChannel is the channel Slack reported for a delivered post (a
	// DM's D… id when ChannelID was a user id); updates by TargetRef use it.
	SentChannel string
	// Priority orders the messages of one channel (PriorityAlert first).
	Priority int
	// Audience is AudienceInternal unless the message was written for the
	// customer (AudienceCustomer): only those may reach a shared channel.
	Audience string
	// ReroutedFrom is the shared channel an internal message was addressed
	// to before delivery sent it to ChannelID instead.
	ReroutedFrom string
}

// Enqueue writes a message to the outbox. Inside a Tx it is sent if and
// only if the change that caused it commits.
func (q Queries) Enqueue(ctx context.Context, it OutboxItem) error {
	switch {
	case it.Op == OpUpdate && it.TargetTS == "" && it.TargetRef == "":
		return errors.New("enqueue update: needs TargetTS or TargetRef")
	case it.Op == OpEphemeral && it.UserID == "":
		return errors.New("enqueue ephemeral: needs UserID")
	case it.Op != OpPost && it.Op != OpUpdate && it.Op != OpEphemeral:
		return fmt.Errorf("enqueue: unknown op %q", it.Op)
	case it.Audience != "" && it.Audience != AudienceInternal && it.Audience != AudienceCustomer:
		return fmt.Errorf("enqueue: unknown audience %q", it.Audience)
	}
	if it.Audience == "" {
		it.Audience = AudienceInternal
	}
	msg, err := json.Marshal(it.Message)
	if err != nil {
		return fmt.Errorf("encode outbox message: %w", err)
	}
	notBefore := it.NotBefore
	if notBefore.IsZero() {
		notBefore = time.Now()
	}
	if _, err := q.db.Exec(ctx, `INSERT INTO outbox (op, channel_id, thread_key, target_ts, message, alert_id, not_before,
			ref, target_ref, user_id, priority, audience)
		VALUES ($1, $2, nullif($3, ''), nullif($4, ''), $5, $6, $7, nullif($8, ''), nullif($9, ''), nullif($10, ''), $11, $12)`,
		it.Op, it.ChannelID, it.ThreadKey, it.TargetTS, msg, nullID(it.AlertID), notBefore,
		it.Ref, it.TargetRef, it.UserID, it.Priority, it.Audience); err != nil {
		return fmt.Errorf("enqueue slack message: %w", err)
	}
	return Outbox.Notify(ctx, q.db)
}

// enqueue is Enqueue for statements still written against pgx.Tx.
func enqueue(ctx context.Context, tx DB, it OutboxItem) error {
	return Queries{db: tx}.Enqueue(ctx, it)
}

// LeaseOutbox claims up to n ready messages for lease.
func (q Queries) LeaseOutbox(ctx context.Context, n int, lease time.Duration) ([]OutboxItem, error) {
	// A reply goes where its thread's root went (delivery may have moved
	// the root out of a shared channel).
	rows, err := Outbox.Lease(ctx, q.db, n, lease, `SELECT o.id, o.op,
			coalesce((SELECT t.sent_channel FROM outbox t WHERE o.target_ref IS NOT NULL AND t.ref = o.target_ref),
				(SELECT t.channel_id FROM slack_threads t WHERE o.op = 'post' AND t.thread_key = o.thread_key), o.channel_id),
			coalesce(o.thread_key, ''),
			coalesce(o.target_ts, (SELECT t.ts FROM outbox t WHERE t.ref = o.target_ref), ''), o.message,
			coalesce(o.alert_id, 0), o.attempts,
			coalesce((SELECT t.ts FROM slack_threads t WHERE t.thread_key = o.thread_key), ''),
			coalesce(o.ref, ''), coalesce(o.user_id, ''), o.priority, o.audience
		FROM leased o ORDER BY o.priority DESC, o.not_before, o.id`)
	if err != nil {
		return nil, err
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (OutboxItem, error) {
		var it OutboxItem
		err := r.Scan(&it.ID, &it.Op, &it.ChannelID, &it.ThreadKey, &it.TargetTS, &it.Raw, &it.AlertID, &it.Attempts,
			&it.ThreadTS, &it.Ref, &it.UserID, &it.Priority, &it.Audience)
		return it, err
	})
	return items, wrap("lease outbox", err)
}

// MarkDelivered records Slack's ts for a delivered message; a post that
// started a thread becomes that thread's root. Three statements: run it in
// a Tx.
func (q Queries) MarkDelivered(ctx context.Context, it OutboxItem, ts string) error {
	if _, err := q.db.Exec(ctx, `UPDATE outbox SET delivered_at = now(), ts = $2, leased_until = NULL, last_error = NULL,
			sent_channel = nullif($3, '') WHERE id = $1`, it.ID, ts, it.SentChannel); err != nil {
		return fmt.Errorf("mark delivered: %w", err)
	}
	if it.ReroutedFrom != "" {
		// Where it really went, for updates by channel and ts.
		if _, err := q.db.Exec(ctx, `UPDATE outbox SET op = $2, channel_id = $3, rerouted_from = $4 WHERE id = $1`,
			it.ID, it.Op, it.ChannelID, it.ReroutedFrom); err != nil {
			return fmt.Errorf("mark rerouted: %w", err)
		}
	}
	if it.Op == OpPost && it.ThreadKey != "" && it.ThreadTS == "" {
		if _, err := q.db.Exec(ctx, `INSERT INTO slack_threads (thread_key, channel_id, ts) VALUES ($1, $2, $3)
			ON CONFLICT (thread_key) DO NOTHING`, it.ThreadKey, it.ChannelID, ts); err != nil {
			return fmt.Errorf("record thread: %w", err)
		}
	}
	if it.AlertID != 0 && it.Op == OpPost {
		if _, err := q.db.Exec(ctx, `UPDATE alerts SET message_ts = $2, channel_id = coalesce(nullif($3, ''), channel_id)
			WHERE id = $1`, it.AlertID, ts, it.SentChannel); err != nil {
			return fmt.Errorf("record alert message: %w", err)
		}
	}
	return nil
}

// MarkFailed schedules a retry at retryAt, or gives up when permanent.
func (q Queries) MarkFailed(ctx context.Context, id int64, cause error, retryAt time.Time, permanent bool) error {
	msg := cause.Error()
	var err error
	if permanent {
		_, err = q.db.Exec(ctx, `UPDATE outbox SET failed_at = now(), leased_until = NULL, last_error = $2 WHERE id = $1`, id, msg)
	} else {
		_, err = q.db.Exec(ctx, `UPDATE outbox SET not_before = $3, leased_until = NULL, last_error = $2 WHERE id = $1`, id, msg, retryAt)
	}
	return wrap("mark outbox failure", err)
}

// MessageTS is the ts of the delivered message named ref, or "" while it
// is not delivered yet.
func (q Queries) MessageTS(ctx context.Context, ref string) (channel, ts string, err error) {
	err = q.db.QueryRow(ctx, `SELECT channel_id, coalesce(ts, '') FROM outbox WHERE ref = $1`, ref).Scan(&channel, &ts)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", ErrNotFound
	}
	return channel, ts, wrap("message ts", err)
}

// MessageState says where a named outbox message stands.
type MessageState struct {
	Queued    bool
	ChannelID string
	TS        string // "" until delivered
	Failed    bool   // given up on
}

// OutboxMessage reports on the outbox message named ref.
func (q Queries) OutboxMessage(ctx context.Context, ref string) (MessageState, error) {
	var m MessageState
	err := q.db.QueryRow(ctx, `SELECT channel_id, coalesce(ts, ''), failed_at IS NOT NULL FROM outbox WHERE ref = $1`, ref).
		Scan(&m.ChannelID, &m.TS, &m.Failed)
	if errors.Is(err, pgx.ErrNoRows) {
		return m, nil
	}
	m.Queued = err == nil
	return m, wrap("outbox message", err)
}

// ThreadTS is the ts of the root message of the thread key, or
// ErrNotFound while its first message is not delivered yet.
func (q Queries) ThreadTS(ctx context.Context, threadKey string) (channel, ts string, err error) {
	err = q.db.QueryRow(ctx, `SELECT channel_id, ts FROM slack_threads WHERE thread_key = $1`, threadKey).Scan(&channel, &ts)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", ErrNotFound
	}
	return channel, ts, wrap("thread ts", err)
}

// OutboxPending counts messages not yet delivered or given up on.
func (q Queries) OutboxPending(ctx context.Context) (int, error) {
	var n int
	err := q.db.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL`).Scan(&n)
	return n, wrap("count outbox", err)
}
