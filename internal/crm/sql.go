package crm

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/holdfast/holdfast/store"
)

// Writes wait in crm_outbox to be written to the CRM.
var Writes = store.Queue{Name: "crm", Table: "crm_outbox", Waiting: "state = 'pending'", CountAttempts: true}

// DeadLetters are the CRM writes given up on, for admins to retry.
var DeadLetters = store.DeadLetterQueue{
	Kind: "crm_write",
	List: `SELECT id, object || ' for account ' || account_id || ' (' || idempotency_key || ')', last_error, coalesce(done_at, created_at)
		FROM crm_outbox WHERE state = 'failed' ORDER BY coalesce(done_at, created_at) DESC, id DESC LIMIT $1`,
	Count: `SELECT count(*) FROM crm_outbox WHERE state = 'failed'`,
	Retry: `UPDATE crm_outbox SET state = 'pending', attempts = 0, next_at = now(), leased_until = NULL
		WHERE id = $1 AND state = 'failed'`,
	Queue: Writes,
}

// Write is one record to write to the CRM.
type Write struct {
	Key      string // idempotency key: written once, ever
	Object   string // task | note | case
	Activity Activity
}

// Enqueue queues writes on an account's CRM record inside tx: they are
// written if and only if tx commits, once per key (a key queued before is
// left as it is). noteID names the note they came from (0: none).
func Enqueue(ctx context.Context, tx store.Tx, accountID, noteID int64, writes ...Write) error {
	if len(writes) == 0 {
		return nil
	}
	for _, w := range writes {
		payload, err := json.Marshal(w.Activity)
		if err != nil {
			return fmt.Errorf("encode crm payload: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO crm_outbox (idempotency_key, account_id, note_id, object, payload)
			VALUES ($1, $2, nullif($3, 0), $4, $5) ON CONFLICT (idempotency_key) DO NOTHING`,
			w.Key, accountID, noteID, w.Object, payload); err != nil {
			return fmt.Errorf("queue crm write: %w", err)
		}
	}
	return Writes.Notify(ctx, tx)
}

// item is a leased CRM write.
type item struct {
	ID       int64
	Key      string
	Object   string
	Payload  json.RawMessage
	CRMID    string // the account's CRM id; "" = not known yet
	Attempts int    // including this one
}

func lease(ctx context.Context, db store.DB, n int, d time.Duration) ([]item, error) {
	rows, err := Writes.Lease(ctx, db, n, d, `SELECT l.id, l.idempotency_key, l.object, l.payload, a.crm_id, l.attempts
		FROM leased l JOIN accounts a ON a.id = l.account_id ORDER BY l.id`)
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[item])
	return list, wrap("lease crm writes", err)
}

// attempt is what one delivery attempt produced, for the log.
type attempt struct {
	Connector string
	Object    string
	Outcome   string // created | upserted | found | retry | failed
	RecordID  string
	Detail    string // never a credential
}

// written marks a write done with the CRM's record id.
func written(ctx context.Context, tx store.Tx, id int64, a attempt) error {
	if _, err := tx.Exec(ctx, `UPDATE crm_outbox SET state = 'done', crm_record_id = $2, done_at = now(),
			leased_until = NULL, last_error = ''
		WHERE id = $1`, id, a.RecordID); err != nil {
		return fmt.Errorf("mark crm write done: %w", err)
	}
	return logAttempt(ctx, tx, id, a)
}

// reschedule sets a write due again at retryAt, or gives up on it when
// permanent.
func reschedule(ctx context.Context, tx store.Tx, id int64, a attempt, retryAt time.Time, permanent bool) error {
	state := "pending"
	if permanent {
		state = "failed"
	}
	if _, err := tx.Exec(ctx, `UPDATE crm_outbox SET state = $2, next_at = $3, last_error = $4, leased_until = NULL
		WHERE id = $1`, id, state, retryAt, a.Detail); err != nil {
		return fmt.Errorf("reschedule crm write: %w", err)
	}
	return logAttempt(ctx, tx, id, a)
}

func logAttempt(ctx context.Context, tx store.Tx, id int64, a attempt) error {
	_, err := tx.Exec(ctx, `INSERT INTO crm_log (outbox_id, connector, object, outcome, crm_record_id, detail)
		VALUES ($1, $2, $3, $4, $5, $6)`, id, a.Connector, a.Object, a.Outcome, a.RecordID, a.Detail)
	return wrap("log crm write", err)
}

// LogEntry is one line of the CRM write log.
type LogEntry struct {
	Key      string
	Object   string
	Outcome  string
	RecordID string
	Detail   string
	At       time.Time
}

// Log lists the newest write attempts, for operators and tests.
func Log(ctx context.Context, db store.DB, limit int) ([]LogEntry, error) {
	rows, err := db.Query(ctx, `SELECT o.idempotency_key, l.object, l.outcome, l.crm_record_id, l.detail, l.at
		FROM crm_log l JOIN crm_outbox o ON o.id = l.outbox_id ORDER BY l.id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("crm log: %w", err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[LogEntry])
	return list, wrap("crm log", err)
}

func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
