package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// DunningCase is a failed invoice (or payment) being chased.
type DunningCase struct {
	ID           int64
	AccountID    int64
	Key          string
	Status       string // open, recovered
	DeclineCode  string
	DeclineClass string
	Amount       float64
	Currency     string
	Attempts     int
	ChannelID    string
	ThreadKey    string
	RootRef      string
	View         json.RawMessage
	OpenedAt     time.Time
	RecoveredAt  *time.Time
	SignalID     int64
}

const dunningColumns = `id, account_id, case_key, status, decline_code, decline_class, coalesce(amount, 0)::float8, currency,
	attempts, channel_id, thread_key, root_ref, view, opened_at, recovered_at, coalesce(signal_id, 0)`

func scanDunning(row pgx.Row) (DunningCase, error) {
	var c DunningCase
	err := row.Scan(&c.ID, &c.AccountID, &c.Key, &c.Status, &c.DeclineCode, &c.DeclineClass, &c.Amount, &c.Currency,
		&c.Attempts, &c.ChannelID, &c.ThreadKey, &c.RootRef, &c.View, &c.OpenedAt, &c.RecoveredAt, &c.SignalID)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, ErrNotFound
	}
	return c, err
}

// LockDunningCaseTx reads a case by key for update; ErrNotFound if none.
func LockDunningCaseTx(ctx context.Context, tx DB, key string) (DunningCase, error) {
	c, err := scanDunning(tx.QueryRow(ctx, `SELECT `+dunningColumns+` FROM dunning_cases WHERE case_key = $1 FOR UPDATE`, key))
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("dunning case: %w", err)
	}
	return c, err
}

// InsertDunningCaseTx opens a case; it fills c.ID.
func InsertDunningCaseTx(ctx context.Context, tx DB, c *DunningCase) error {
	err := tx.QueryRow(ctx, `INSERT INTO dunning_cases (account_id, case_key, status, decline_code, decline_class, amount,
			currency, attempts, channel_id, thread_key, root_ref, view, opened_at, signal_id)
		VALUES ($1, $2, 'open', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
		c.AccountID, c.Key, c.DeclineCode, c.DeclineClass, c.Amount, c.Currency, c.Attempts, c.ChannelID, c.ThreadKey,
		c.RootRef, c.View, c.OpenedAt, nullID(c.SignalID)).Scan(&c.ID)
	return wrap("open dunning case", err)
}

// UpdateDunningCaseTx writes a case's changing fields back.
func UpdateDunningCaseTx(ctx context.Context, tx DB, c DunningCase) error {
	_, err := tx.Exec(ctx, `UPDATE dunning_cases SET status = $2, decline_code = $3, decline_class = $4, attempts = $5,
			view = $6, recovered_at = $7, amount = $8 WHERE id = $1`,
		c.ID, c.Status, c.DeclineCode, c.DeclineClass, c.Attempts, c.View, c.RecoveredAt, c.Amount)
	return wrap("update dunning case", err)
}

// DunningAttemptTx finds a recorded attempt by key: its case and class;
// ErrNotFound if none.
func DunningAttemptTx(ctx context.Context, tx DB, key string) (attemptID, caseID int64, class string, err error) {
	err = tx.QueryRow(ctx, `SELECT id, case_id, decline_class FROM dunning_attempts WHERE attempt_key = $1`, key).Scan(&attemptID, &caseID, &class)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, "", ErrNotFound
	}
	return attemptID, caseID, class, wrap("dunning attempt", err)
}

// InsertDunningAttemptTx records one failed attempt.
func InsertDunningAttemptTx(ctx context.Context, tx DB, caseID int64, key, code, class string, at time.Time, signalID int64) error {
	_, err := tx.Exec(ctx, `INSERT INTO dunning_attempts (case_id, attempt_key, decline_code, decline_class, occurred_at, signal_id)
		VALUES ($1, $2, $3, $4, $5, $6)`, caseID, key, code, class, at, nullID(signalID))
	return wrap("record dunning attempt", err)
}

// UpdateDunningAttemptTx fills in a decline code learned later.
func UpdateDunningAttemptTx(ctx context.Context, tx DB, attemptID int64, code, class string) error {
	_, err := tx.Exec(ctx, `UPDATE dunning_attempts SET decline_code = $2, decline_class = $3 WHERE id = $1`, attemptID, code, class)
	return wrap("update dunning attempt", err)
}

// DunningCaseByIDTx reads a case by id for update; ErrNotFound if none.
func DunningCaseByIDTx(ctx context.Context, tx DB, id int64) (DunningCase, error) {
	c, err := scanDunning(tx.QueryRow(ctx, `SELECT `+dunningColumns+` FROM dunning_cases WHERE id = $1 FOR UPDATE`, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("dunning case: %w", err)
	}
	return c, err
}

// OpenDunningCase reports whether the key names an open case.
func (s *Store) OpenDunningCase(ctx context.Context, key string) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM dunning_cases WHERE case_key = $1 AND status = 'open')`, key).Scan(&ok)
	return ok, wrap("open dunning case", err)
}

// ErrStripeEventSeen: the Stripe event was handled before.
var ErrStripeEventSeen = errors.New("stripe event already handled")

// RecordStripeEventTx marks an event handled inside the ingest transaction;
// ErrStripeEventSeen (which rolls the transaction back) for a replay.
func RecordStripeEventTx(ctx context.Context, tx DB, eventID, typ string, accountID int64) error {
	tag, err := tx.Exec(ctx, `INSERT INTO stripe_events (event_id, type, account_id) VALUES ($1, $2, $3)
		ON CONFLICT (event_id) DO NOTHING`, eventID, typ, nullID(accountID))
	if err != nil {
		return fmt.Errorf("record stripe event: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrStripeEventSeen
	}
	return nil
}

// StripeEventSeen reports whether the event was handled before.
func (s *Store) StripeEventSeen(ctx context.Context, eventID string) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM stripe_events WHERE event_id = $1)`, eventID).Scan(&ok)
	return ok, wrap("stripe event seen", err)
}
