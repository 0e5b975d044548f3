package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ProfileInput is an account's cohort traits and Stripe customer. A nil
// field keeps the stored value; an empty string clears it.
type ProfileInput struct {
	SizeBand             *string
	Industry             *string
	DealSource           *string
	ChampionTenureMonths *int
	StripeCustomerID     *string
}

// RowConflictError is an input row that collides with another account's
// stored data (a Stripe customer id already used elsewhere).
type RowConflictError struct {
	Index   int
	Field   string
	Message string
}

func (e *RowConflictError) Error() string {
	return fmt.Sprintf("row %d: %s: %s", e.Index, e.Field, e.Message)
}

func upsertProfiles(ctx context.Context, tx DB, in []AccountInput, ids []UpsertResult) error {
	for i, a := range in {
		p := a.Profile
		if p == nil {
			continue
		}
		_, err := tx.Exec(ctx, `INSERT INTO account_profiles (account_id, company_size_band, industry, deal_source,
				champion_tenure_months, stripe_customer_id)
			VALUES ($1, coalesce($2, ''), coalesce($3, ''), coalesce($4, ''), $5, nullif($6, ''))
			ON CONFLICT (account_id) DO UPDATE SET
				company_size_band = coalesce($2, account_profiles.company_size_band),
				industry = coalesce($3, account_profiles.industry),
				deal_source = coalesce($4, account_profiles.deal_source),
				champion_tenure_months = coalesce($5, account_profiles.champion_tenure_months),
				stripe_customer_id = CASE WHEN $6::text IS NULL THEN account_profiles.stripe_customer_id ELSE nullif($6, '') END,
				updated_at = now()`,
			ids[i].ID, p.SizeBand, p.Industry, p.DealSource, p.ChampionTenureMonths, p.StripeCustomerID)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" {
			return &RowConflictError{Index: i, Field: "stripe_customer_id",
				Message: fmt.Sprintf("%q already belongs to another account", *p.StripeCustomerID)}
		}
		if err != nil {
			return fmt.Errorf("upsert profile of %q: %w", a.ExternalID, err)
		}
	}
	return nil
}

// AccountByStripeCustomer finds the account whose profile names the Stripe
// customer; ErrNotFound when none does.
func (q Queries) AccountByStripeCustomer(ctx context.Context, customerID string) (Account, error) {
	a, err := scanAccount(q.db.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts
		WHERE id = (SELECT account_id FROM account_profiles WHERE stripe_customer_id = $1)`, customerID))
	if errors.Is(err, pgx.ErrNoRows) {
		return Account{}, ErrNotFound
	}
	return a, wrap("account by stripe customer", err)
}

// AccountByExternalID finds an account by its external id.
func (q Queries) AccountByExternalID(ctx context.Context, externalID string) (Account, error) {
	a, err := scanAccount(q.db.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE external_id = $1`, externalID))
	if errors.Is(err, pgx.ErrNoRows) {
		return Account{}, ErrNotFound
	}
	return a, wrap("account by external id", err)
}

// AccountForUpdate reads an account and locks its row until the Tx ends.
func (q Queries) AccountForUpdate(ctx context.Context, id int64) (Account, error) {
	return accountTx(ctx, q.db, id, true)
}

// accountTx reads an account, locking it when lock is set (inside a Tx).
func accountTx(ctx context.Context, tx DB, id int64, lock bool) (Account, error) {
	q := `SELECT ` + accountColumns + ` FROM accounts WHERE id = $1`
	if lock {
		q += ` FOR NO KEY UPDATE`
	}
	a, err := scanAccount(tx.QueryRow(ctx, q, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Account{}, ErrNotFound
	}
	return a, wrap("account", err)
}

// AccountTx reads an account inside the caller's transaction (hooks).
func AccountTx(ctx context.Context, tx DB, id int64) (Account, error) {
	return accountTx(ctx, tx, id, false)
}
