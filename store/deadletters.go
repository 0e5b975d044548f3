package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// DeadLetterQueue says where a durable queue keeps the rows it gave up on
// (a Slack message after its last attempt, a CRM write, a room step) and
// how one is tried again. Nothing given up on is dropped: it stays in its
// table, counted, listed for admins and retryable.
type DeadLetterQueue struct {
	Kind string // "slack_message", "crm_write", "room_step": the metrics label
	// List selects the given-up rows as (id bigint, summary text, error
	// text, at timestamptz), newest first; $1 is the limit.
	List string
	// Count counts them.
	Count string
	// Retry makes row $1 due again with fresh attempts; it affects no row
	// when the row is not dead (retried already, or unknown).
	Retry string
	// Queue is woken after a retry.
	Queue Queue
}

// OutboxDeadLetters are the Slack messages given up on.
var OutboxDeadLetters = DeadLetterQueue{
	Kind: "slack_message",
	List: `SELECT id, op || ' to ' || channel_id || coalesce(': ' || left(message->>'text', 120), ''),
			coalesce(last_error, ''), failed_at
		FROM outbox WHERE failed_at IS NOT NULL AND delivered_at IS NULL ORDER BY failed_at DESC, id DESC LIMIT $1`,
	Count: `SELECT count(*) FROM outbox WHERE failed_at IS NOT NULL AND delivered_at IS NULL`,
	Retry: `UPDATE outbox SET failed_at = NULL, attempts = 0, not_before = now(), leased_until = NULL
		WHERE id = $1 AND failed_at IS NOT NULL AND delivered_at IS NULL`,
	Queue: Outbox,
}

// DeadLetter is one row given up on.
type DeadLetter struct {
	Kind    string
	ID      int64
	Summary string
	Error   string
	At      time.Time
}

// DeadLetters lists up to limit given-up rows of each queue.
func (q Queries) DeadLetters(ctx context.Context, queues []DeadLetterQueue, limit int) ([]DeadLetter, error) {
	var out []DeadLetter
	for _, dq := range queues {
		rows, err := q.db.Query(ctx, dq.List, limit)
		if err != nil {
			return nil, fmt.Errorf("dead letters %s: %w", dq.Kind, err)
		}
		got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DeadLetter, error) {
			d := DeadLetter{Kind: dq.Kind}
			return d, r.Scan(&d.ID, &d.Summary, &d.Error, &d.At)
		})
		if err != nil {
			return nil, fmt.Errorf("dead letters %s: %w", dq.Kind, err)
		}
		out = append(out, got...)
	}
	return out, nil
}

// CountDeadLetters counts the given-up rows of one queue.
func (q Queries) CountDeadLetters(ctx context.Context, dq DeadLetterQueue) (int, error) {
	var n int
	err := q.db.QueryRow(ctx, dq.Count).Scan(&n)
	return n, wrap("count dead letters "+dq.Kind, err)
}

// RetryDeadLetter makes the given-up row id of dq due again and wakes its
// workers; false when it was not dead (anymore).
func (q Queries) RetryDeadLetter(ctx context.Context, dq DeadLetterQueue, id int64) (bool, error) {
	tag, err := q.db.Exec(ctx, dq.Retry, id)
	if err != nil {
		return false, fmt.Errorf("retry dead letter %s %d: %w", dq.Kind, id, err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	return true, dq.Queue.Notify(ctx, q.db)
}
