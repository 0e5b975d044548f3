// Package store is Holdfast's Postgres layer: the pool, transactions,
// migrations, and the records every feature shares (accounts, signals,
// health, alerts, the timeline, the Slack outbox and the durable work
// queues). Features keep their own statements beside their rules and run
// them through a Tx they open with InTx; the store never calls back into a
// feature.
package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"
)

//go:embed migrations/*.sql
var migrations embed.FS

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errors.New("not found")

// DB runs statements: the pool outside a transaction, a Tx inside one.
// Features write their queries against it so one function serves both.
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// rowQuerier reads rows on the pool or in a transaction.
type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Queries are the store's own statements on the shared records, run on the
// DB they were made with: Store's run on the pool, Tx's inside the
// transaction.
type Queries struct{ db DB }

// Tx is a transaction a service opened with Store.InTx: the store's
// queries, plus Exec, Query and QueryRow for the feature's own statements.
// It commits when the function given to InTx returns nil.
type Tx struct {
	Queries
	tx pgx.Tx
}

// Exec runs a statement in the transaction.
func (t Tx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return t.tx.Exec(ctx, sql, args...)
}

// Query runs a query in the transaction.
func (t Tx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return t.tx.Query(ctx, sql, args...)
}

// QueryRow runs a one-row query in the transaction.
func (t Tx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return t.tx.QueryRow(ctx, sql, args...)
}

// SendBatch runs a batch in the transaction.
func (t Tx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return t.tx.SendBatch(ctx, b)
}

// Store is the Postgres-backed record of accounts and everything that
// happens to them. Its Queries run on the pool, each in its own implicit
// transaction; a service that changes more than one row opens InTx.
type Store struct {
	Queries
	pool *pgxpool.Pool
	// suggestTimeout bounds the similar-name search behind "did you mean".
	suggestTimeout time.Duration
}

// defaultSuggestTimeout leaves /health most of Slack's 3 s when the
// similar-name search is slow.
const defaultSuggestTimeout = 400 * time.Millisecond

// SetSuggestTimeout changes how long FindAccounts may look for similar
// names (tests).
func (s *Store) SetSuggestTimeout(d time.Duration) { s.suggestTimeout = d }

// Open connects a pool and checks the database answers.
func Open(ctx context.Context, databaseURL string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	return OpenConfig(ctx, cfg)
}

// OpenConfig is Open for a pool configuration built by the caller (tests set
// a per-test search_path this way).
func OpenConfig(ctx context.Context, cfg *pgxpool.Config) (*Store, error) {
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("ping postgres: %w", err)
	}
	return &Store{Queries: Queries{db: pool}, pool: pool, suggestTimeout: defaultSuggestTimeout}, nil
}

// Pool exposes the pool for benchmarks that compare against raw pgx.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// DB is the pool as a DB, for a feature's reads outside a transaction.
func (s *Store) DB() DB { return s.pool }

// InTx runs fn in a transaction and commits only when fn returns nil; any
// error (or panic) rolls everything back. The caller owns the workflow:
// validate, store, score, decide, render and enqueue inside one fn, so a
// 2xx or an ack means all of it is committed.
func (s *Store) InTx(ctx context.Context, fn func(tx Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return fn(Tx{Queries: Queries{db: tx}, tx: tx})
	})
}

// Close waits for borrowed connections and closes the pool.
func (s *Store) Close() { s.pool.Close() }

// Ping is the readiness check.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// Migrate brings the schema to the newest version. Tern holds an advisory
// lock while it works, so replicas starting together do not race.
func (s *Store) Migrate(ctx context.Context) (from, to int32, err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("acquire connection: %w", err)
	}
	defer conn.Release()
	m, err := migrate.NewMigrator(ctx, conn.Conn(), "schema_version")
	if err != nil {
		return 0, 0, fmt.Errorf("new migrator: %w", err)
	}
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return 0, 0, fmt.Errorf("migrations dir: %w", err)
	}
	if err := m.LoadMigrations(sub); err != nil {
		return 0, 0, fmt.Errorf("load migrations: %w", err)
	}
	from, err = m.GetCurrentVersion(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("current schema version: %w", err)
	}
	if err := m.Migrate(ctx); err != nil {
		return from, 0, fmt.Errorf("migrate: %w", err)
	}
	to, err = m.GetCurrentVersion(ctx)
	if err != nil {
		return from, 0, fmt.Errorf("current schema version: %w", err)
	}
	return from, to, nil
}

// inTx runs fn in a transaction and commits only when fn succeeds.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}
