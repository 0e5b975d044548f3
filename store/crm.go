package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// CRMItem is a leased CRM write.
type CRMItem struct {
	ID       int64
	Key      string
	Object   string
	Payload  json.RawMessage
	CRMID    string // the account's CRM id; "" = not known yet
	Attempts int    // including this one
}

// LeaseCRM claims up to n CRM writes that are due.
func (s *Store) LeaseCRM(ctx context.Context, n int, lease time.Duration) ([]CRMItem, error) {
	rows, err := CRMWrites.Lease(ctx, s.pool, n, lease, `SELECT l.id, l.idempotency_key, l.object, l.payload, a.crm_id, l.attempts
		FROM leased l JOIN accounts a ON a.id = l.account_id ORDER BY l.id`)
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[CRMItem])
	return list, wrap("lease crm writes", err)
}

// CRMAttempt is what one delivery attempt produced, for the log.
type CRMAttempt struct {
	Connector string
	Object    string
	Outcome   string // created | upserted | found | retry | failed
	RecordID  string
	Detail    string // never a credential
}

// CRMWritten marks a write done with the CRM's record id and logs it.
func (s *Store) CRMWritten(ctx context.Context, id int64, a CRMAttempt) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE crm_outbox SET state = 'done', crm_record_id = $2, done_at = now(),
				leased_until = NULL, last_error = ''
			WHERE id = $1`, id, a.RecordID); err != nil {
			return fmt.Errorf("mark crm write done: %w", err)
		}
		return logCRM(ctx, tx, id, a)
	})
}

// CRMRetry schedules a write again at retryAt, or gives up on it when
// permanent, and logs the attempt.
func (s *Store) CRMRetry(ctx context.Context, id int64, a CRMAttempt, retryAt time.Time, permanent bool) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		state := "pending"
		if permanent {
			state = "failed"
		}
		if _, err := tx.Exec(ctx, `UPDATE crm_outbox SET state = $2, next_at = $3, last_error = $4, leased_until = NULL
			WHERE id = $1`, id, state, retryAt, a.Detail); err != nil {
			return fmt.Errorf("reschedule crm write: %w", err)
		}
		return logCRM(ctx, tx, id, a)
	})
}

func logCRM(ctx context.Context, tx DB, id int64, a CRMAttempt) error {
	_, err := tx.Exec(ctx, `INSERT INTO crm_log (outbox_id, connector, object, outcome, crm_record_id, detail)
		VALUES ($1, $2, $3, $4, $5, $6)`, id, a.Connector, a.Object, a.Outcome, a.RecordID, a.Detail)
	return wrap("log crm write", err)
}

// CRMLogEntry is one line of the CRM write log.
type CRMLogEntry struct {
	Key      string
	Object   string
	Outcome  string
	RecordID string
	Detail   string
	At       time.Time
}

// CRMLog lists the newest write attempts, for operators and tests.
func (s *Store) CRMLog(ctx context.Context, limit int) ([]CRMLogEntry, error) {
	rows, err := s.pool.Query(ctx, `SELECT o.idempotency_key, l.object, l.outcome, l.crm_record_id, l.detail, l.at
		FROM crm_log l JOIN crm_outbox o ON o.id = l.outbox_id ORDER BY l.id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("crm log: %w", err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[CRMLogEntry])
	return list, wrap("crm log", err)
}
