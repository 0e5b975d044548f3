// Package storetest gives each test its own real, migrated Postgres schema,
// so tests run in parallel against the same server without seeing each
// other's rows.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/holdfast/holdfast/internal/testenv"
	"github.com/holdfast/holdfast/store"
)

// Schema is a migrated, private schema in the test database.
type Schema struct {
	Name        string
	DatabaseURL string // connects with search_path set to the schema
}

// NewSchema creates a migrated schema that is dropped when the test ends.
func NewSchema(tb testing.TB) Schema {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	base := testenv.DatabaseURL()
	if err := ensureDatabase(ctx, base); err != nil {
		tb.Fatalf("test database: %v", err)
	}
	name := "t_" + testenv.RandomHex(6)
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("connect test database: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Logf("drop schema %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+name+" CASCADE"); err != nil {
			tb.Logf("drop schema %s: %v", name, err)
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	s := Schema{Name: name, DatabaseURL: base + sep + "search_path=" + name + ",public"}
	st, err := store.Open(ctx, s.DatabaseURL)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	defer st.Close()
	if _, _, err := st.Migrate(ctx); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	return s
}

// New returns a store on a fresh migrated schema, closed when the test ends.
func New(tb testing.TB) *store.Store {
	tb.Helper()
	s := NewSchema(tb)
	cfg, err := pgxpool.ParseConfig(s.DatabaseURL)
	if err != nil {
		tb.Fatal(err)
	}
	st, err := store.OpenConfig(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(st.Close)
	return st
}

// Seed stores accounts, then signals for them, in one transaction, the way
// the ingest pipeline does before it scores them (tests of what features
// do with stored signals). It returns the accounts' and the signals' ids.
func Seed(tb testing.TB, st *store.Store, accounts []store.AccountInput, signals []store.SignalInput) (accountIDs, signalIDs []int64) {
	tb.Helper()
	ctx := context.Background()
	err := st.InTx(ctx, func(tx store.Tx) error {
		res, err := tx.UpsertAccounts(ctx, accounts)
		if err != nil {
			return err
		}
		for _, r := range res {
			accountIDs = append(accountIDs, r.ID)
		}
		if len(signals) == 0 {
			return nil
		}
		ids, err := tx.ResolveAccounts(ctx, signals)
		if err != nil {
			return err
		}
		signalIDs, err = tx.InsertSignals(ctx, signals, ids)
		return err
	})
	if err != nil {
		tb.Fatalf("seed: %v", err)
	}
	return accountIDs, signalIDs
}

// Count is how many rows table holds, for tests that check what a
// workflow wrote.
func Count(tb testing.TB, st *store.Store, table string) int {
	tb.Helper()
	var n int
	if err := st.Pool().QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		tb.Fatalf("count %s: %v", table, err)
	}
	return n
}

func ensureDatabase(ctx context.Context, url string) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return err
	}
	db := cfg.Database
	cfg.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect to postgres database: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", db).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize())
	var pgErr *pgconn.PgError
	// Another test package may have created it at the same moment.
	if errors.As(err, &pgErr) && (pgErr.Code == "42P04" || pgErr.Code == "23505") {
		return nil
	}
	return err
}
