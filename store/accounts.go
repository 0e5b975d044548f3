package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Account is one customer account with its latest health.
type Account struct {
	ID           int64
	ExternalID   string
	Name         string
	Tier         string
	ARR          float64
	Segment      string
	RenewalDate  *time.Time
	OwnerCSM     string
	AE           string
	SalesManager string
	Champion     string
	ChannelID    string
	// InternalChannel takes the account's internal messages when
	// ChannelID is shared with the customer.
	InternalChannel string
	Status          string
	HealthScore     *int
	HealthBand      string
	HealthAt        *time.Time
	HealthDriver    string // what costs the latest score most, "" when nothing does
}

// AccountInput is one row of an account upsert; ExternalID is the key.
type AccountInput struct {
	ExternalID   string
	Name         string
	Tier         string
	ARR          float64
	Segment      string
	RenewalDate  *time.Time
	OwnerCSM     string
	AE           string
	SalesManager string
	Champion     string
	ChannelID    string
	// InternalChannel: "" keeps the stored one.
	InternalChannel string
	Status          string
	// Profile carries the cohort traits and Stripe customer; nil
	// fields keep what is stored, so clients that do not send them lose nothing.
	Profile *ProfileInput
	// ActivationDate starts the account's tenure (NPS cadence); nil keeps
	// the stored one.
	ActivationDate *time.Time
	// Traits merge into the stored ones by key (a nil value removes one);
	// each key's type is fixed the first time it is stored.
	Traits map[string]TraitValue
}

// UpsertResult says what happened to one input row.
type UpsertResult struct {
	ID      int64
	Created bool
}

const accountColumns = `id, external_id, name, tier, arr, segment, renewal_date, owner_csm, ae,
	sales_manager, champion, channel_id, status, health_score, health_band, health_at, health_driver, internal_channel`

func scanAccount(row pgx.Row) (Account, error) {
	var a Account
	var band *string
	err := row.Scan(&a.ID, &a.ExternalID, &a.Name, &a.Tier, &a.ARR, &a.Segment, &a.RenewalDate,
		&a.OwnerCSM, &a.AE, &a.SalesManager, &a.Champion, &a.ChannelID, &a.Status,
		&a.HealthScore, &band, &a.HealthAt, &a.HealthDriver, &a.InternalChannel)
	if band != nil {
		a.HealthBand = *band
	}
	return a, err
}

func collectAccounts(rows pgx.Rows) ([]Account, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Account, error) { return scanAccount(r) })
}

// UpsertAccounts inserts or updates every row; run it in a Tx so all of
// them are stored or none is. Results are in input order.
func (q Queries) UpsertAccounts(ctx context.Context, in []AccountInput) ([]UpsertResult, error) {
	out := make([]UpsertResult, len(in))
	err := func(tx DB) error {
		batch := &pgx.Batch{}
		for _, a := range in {
			status := a.Status
			if status == "" {
				status = "active"
			}
			batch.Queue(`INSERT INTO accounts (external_id, name, tier, arr, segment, renewal_date, owner_csm,
					ae, sales_manager, champion, channel_id, status, activation_date, internal_channel)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
				ON CONFLICT (external_id) DO UPDATE SET
					name = EXCLUDED.name, tier = EXCLUDED.tier, arr = EXCLUDED.arr, segment = EXCLUDED.segment,
					renewal_date = EXCLUDED.renewal_date, owner_csm = EXCLUDED.owner_csm, ae = EXCLUDED.ae,
					sales_manager = EXCLUDED.sales_manager, champion = EXCLUDED.champion,
					channel_id = EXCLUDED.channel_id, status = EXCLUDED.status,
					activation_date = coalesce(EXCLUDED.activation_date, accounts.activation_date),
					internal_channel = coalesce(nullif(EXCLUDED.internal_channel, ''), accounts.internal_channel), updated_at = now()
				RETURNING id, (xmax = 0)`,
				a.ExternalID, a.Name, a.Tier, a.ARR, a.Segment, a.RenewalDate, a.OwnerCSM,
				a.AE, a.SalesManager, a.Champion, a.ChannelID, status, a.ActivationDate, a.InternalChannel)
		}
		br := tx.SendBatch(ctx, batch)
		for i := range in {
			if err := br.QueryRow().Scan(&out[i].ID, &out[i].Created); err != nil {
				br.Close()
				return fmt.Errorf("upsert account %q: %w", in[i].ExternalID, err)
			}
		}
		if err := br.Close(); err != nil {
			return err
		}
		if err := upsertProfiles(ctx, tx, in, out); err != nil {
			return err
		}
		return upsertTraits(ctx, tx, in, out)
	}(q.db)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Account returns one account by id.
func (q Queries) Account(ctx context.Context, id int64) (Account, error) {
	a, err := scanAccount(q.db.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Account{}, ErrNotFound
	}
	if err != nil {
		return Account{}, fmt.Errorf("account %d: %w", id, err)
	}
	return a, nil
}

// Accounts returns the accounts with the given ids, in no particular
// order; ids that do not exist are left out.
func (q Queries) Accounts(ctx context.Context, ids []int64) ([]Account, error) {
	rows, err := q.db.Query(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	list, err := collectAccounts(rows)
	return list, wrap("accounts", err)
}

// AccountByChannel is the account whose room is channel; failing that, the
// one account whose channel_id is channel. ErrNotFound otherwise.
func (q Queries) AccountByChannel(ctx context.Context, channel string) (Account, error) {
	a, err := scanAccount(q.db.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts
		WHERE id = (SELECT account_id FROM rooms WHERE channel_id = $1)`, channel))
	if err == nil {
		return a, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return a, fmt.Errorf("account by room: %w", err)
	}
	rows, err := q.db.Query(ctx, `SELECT `+accountColumns+` FROM accounts WHERE channel_id = $1 LIMIT 2`, channel)
	if err != nil {
		return a, fmt.Errorf("account by channel: %w", err)
	}
	list, err := collectAccounts(rows)
	if err != nil {
		return a, fmt.Errorf("account by channel: %w", err)
	}
	if len(list) != 1 {
		return a, ErrNotFound
	}
	return list[0], nil
}

// FindAccounts resolves what a person typed after /health. Exact matches
// (external id or whole name, case-insensitive) come back in exact; if there
// are none, names starting with the query; failing that, similar names as
// suggestions. Every step is index-backed.
func (s *Store) FindAccounts(ctx context.Context, query string, limit int) (matches, suggestions []Account, err error) {
	q := strings.ToLower(strings.TrimSpace(query))
	if q == "" {
		return nil, nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT `+accountColumns+` FROM accounts
		WHERE lower(external_id) = $1 OR lower(name) = $1
		ORDER BY arr DESC, id LIMIT $2`, q, limit)
	if err != nil {
		return nil, nil, fmt.Errorf("find accounts: %w", err)
	}
	if matches, err = collectAccounts(rows); err != nil || len(matches) > 0 {
		return matches, nil, wrap("find accounts", err)
	}
	rows, err = s.pool.Query(ctx, `SELECT `+accountColumns+` FROM accounts
		WHERE lower(name) LIKE $1 ESCAPE '\'
		ORDER BY arr DESC, id LIMIT $2`, likePrefix(q), limit)
	if err != nil {
		return nil, nil, fmt.Errorf("find accounts by prefix: %w", err)
	}
	if matches, err = collectAccounts(rows); err != nil || len(matches) > 0 {
		return matches, nil, wrap("find accounts by prefix", err)
	}
	// The % operator uses the trigram index; similarity() orders the hits.
	// Suggestions are a courtesy: among a million look-alike names a typo
	// can match hundreds of thousands of trigram candidates, and an answer
	// in time without suggestions beats a late one with them.
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL statement_timeout = %d", s.suggestTimeout.Milliseconds())); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+accountColumns+` FROM accounts
			WHERE lower(name) OPERATOR(public.%) $1
			ORDER BY public.similarity(lower(name), $1) DESC, arr DESC LIMIT $2`, q, limit)
		if err != nil {
			return err
		}
		suggestions, err = collectAccounts(rows)
		return err
	})
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == queryCanceled {
		return nil, nil, nil
	}
	return nil, suggestions, wrap("suggest accounts", err)
}

// queryCanceled is Postgres' SQLSTATE for a statement stopped by
// statement_timeout.
const queryCanceled = "57014"

func likePrefix(q string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(q) + "%"
}

func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
