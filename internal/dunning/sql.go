package dunning

// The statements of dunning cases, their failed attempts and the Stripe
// events already handled. Each runs on the store.DB it is given: the pool
// for the webhook's reads, the ingest transaction for the rest.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/holdfast/holdfast/store"
)

// Case is a failed invoice (or payment) being chased.
type Case struct {
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

const caseColumns = `id, account_id, case_key, status, decline_code, decline_class, coalesce(amount, 0)::float8, currency,
	attempts, channel_id, thread_key, root_ref, view, opened_at, recovered_at, coalesce(signal_id, 0)`

func scanCase(row pgx.Row) (Case, error) {
	var c Case
	err := row.Scan(&c.ID, &c.AccountID, &c.Key, &c.Status, &c.DeclineCode, &c.DeclineClass, &c.Amount, &c.Currency,
		&c.Attempts, &c.ChannelID, &c.ThreadKey, &c.RootRef, &c.View, &c.OpenedAt, &c.RecoveredAt, &c.SignalID)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, store.ErrNotFound
	}
	return c, err
}

// lockCase reads a case by key for update; store.ErrNotFound if none.
func lockCase(ctx context.Context, db store.DB, key string) (Case, error) {
	c, err := scanCase(db.QueryRow(ctx, `SELECT `+caseColumns+` FROM dunning_cases WHERE case_key = $1 FOR UPDATE`, key))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		err = fmt.Errorf("dunning case: %w", err)
	}
	return c, err
}

// lockRecentPaymentCase reads, for update, the account's latest open case
// without an invoice opened since since; store.ErrNotFound if none.
func lockRecentPaymentCase(ctx context.Context, db store.DB, accountID int64, since time.Time) (Case, error) {
	c, err := scanCase(db.QueryRow(ctx, `SELECT `+caseColumns+` FROM dunning_cases
		WHERE account_id = $1 AND status = 'open' AND case_key LIKE 'payment:%' AND opened_at >= $2
		ORDER BY opened_at DESC, id DESC LIMIT 1 FOR UPDATE`, accountID, since))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		err = fmt.Errorf("dunning case: %w", err)
	}
	return c, err
}

// lockCaseByID reads a case by id for update; store.ErrNotFound if none.
func lockCaseByID(ctx context.Context, db store.DB, id int64) (Case, error) {
	c, err := scanCase(db.QueryRow(ctx, `SELECT `+caseColumns+` FROM dunning_cases WHERE id = $1 FOR UPDATE`, id))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		err = fmt.Errorf("dunning case: %w", err)
	}
	return c, err
}

// insertCase opens a case; it fills c.ID.
func insertCase(ctx context.Context, db store.DB, c *Case) error {
	err := db.QueryRow(ctx, `INSERT INTO dunning_cases (account_id, case_key, status, decline_code, decline_class, amount,
			currency, attempts, channel_id, thread_key, root_ref, view, opened_at, signal_id)
		VALUES ($1, $2, 'open', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
		c.AccountID, c.Key, c.DeclineCode, c.DeclineClass, c.Amount, c.Currency, c.Attempts, c.ChannelID, c.ThreadKey,
		c.RootRef, c.View, c.OpenedAt, nullID(c.SignalID)).Scan(&c.ID)
	return wrap("open dunning case", err)
}

// updateCase writes a case's changing fields back.
func updateCase(ctx context.Context, db store.DB, c Case) error {
	_, err := db.Exec(ctx, `UPDATE dunning_cases SET status = $2, decline_code = $3, decline_class = $4, attempts = $5,
			view = $6, recovered_at = $7, amount = $8 WHERE id = $1`,
		c.ID, c.Status, c.DeclineCode, c.DeclineClass, c.Attempts, c.View, c.RecoveredAt, c.Amount)
	return wrap("update dunning case", err)
}

// attemptByKey finds a recorded attempt by key: its case and class;
// store.ErrNotFound if none.
func attemptByKey(ctx context.Context, db store.DB, key string) (attemptID, caseID int64, class string, err error) {
	err = db.QueryRow(ctx, `SELECT id, case_id, decline_class FROM dunning_attempts WHERE attempt_key = $1`, key).Scan(&attemptID, &caseID, &class)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, "", store.ErrNotFound
	}
	return attemptID, caseID, class, wrap("dunning attempt", err)
}

// insertAttempt records one failed attempt.
func insertAttempt(ctx context.Context, db store.DB, caseID int64, key, code, class string, at time.Time, signalID int64) error {
	_, err := db.Exec(ctx, `INSERT INTO dunning_attempts (case_id, attempt_key, decline_code, decline_class, occurred_at, signal_id)
		VALUES ($1, $2, $3, $4, $5, $6)`, caseID, key, code, class, at, nullID(signalID))
	return wrap("record dunning attempt", err)
}

// updateAttempt fills in a decline code learned later.
func updateAttempt(ctx context.Context, db store.DB, attemptID int64, code, class string) error {
	_, err := db.Exec(ctx, `UPDATE dunning_attempts SET decline_code = $2, decline_class = $3 WHERE id = $1`, attemptID, code, class)
	return wrap("update dunning attempt", err)
}

// caseOpen reports whether the key names an open case.
func caseOpen(ctx context.Context, db store.DB, key string) (bool, error) {
	var ok bool
	err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM dunning_cases WHERE case_key = $1 AND status = 'open')`, key).Scan(&ok)
	return ok, wrap("open dunning case", err)
}

// errStripeEventSeen: the Stripe event was handled before.
var errStripeEventSeen = errors.New("stripe event already handled")

// recordStripeEvent marks an event handled inside the ingest transaction;
// errStripeEventSeen (which rolls the transaction back) for a replay.
func recordStripeEvent(ctx context.Context, db store.DB, eventID, typ string, accountID int64) error {
	tag, err := db.Exec(ctx, `INSERT INTO stripe_events (event_id, type, account_id) VALUES ($1, $2, $3)
		ON CONFLICT (event_id) DO NOTHING`, eventID, typ, nullID(accountID))
	if err != nil {
		return fmt.Errorf("record stripe event: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return errStripeEventSeen
	}
	return nil
}

// stripeEventSeen reports whether the event was handled before.
func stripeEventSeen(ctx context.Context, db store.DB, eventID string) (bool, error) {
	var ok bool
	err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM stripe_events WHERE event_id = $1)`, eventID).Scan(&ok)
	return ok, wrap("stripe event seen", err)
}

func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}
