// Package storetest gives each test its own real, migrated Postgres schema,
// so tests run in parallel against the same server without seeing each
// other's rows.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
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
	tables      []string
}

// Migrating a schema costs about half a second of Postgres time, more than
// most tests take; so a test process keeps the schemas its finished tests
// used and hands them to later tests emptied (every table truncated,
// identities restarted, tables a test created dropped). A schema is never
// shared by two running tests. Schema names carry the process id, so a
// later run drops the schemas of processes that are gone.
type schemaPool struct {
	mu    sync.Mutex
	free  []Schema
	n     int
	swept bool
}

var pool schemaPool

// NewSchema gives the test an empty migrated schema of its own until it
// ends.
func NewSchema(tb testing.TB) Schema {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := pool.take(ctx)
	if err != nil {
		tb.Fatalf("test schema: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.empty(ctx); err != nil {
			tb.Logf("empty schema %s (not reused): %v", s.Name, err)
			return
		}
		pool.put(s)
	})
	return s
}

func (p *schemaPool) take(ctx context.Context) (Schema, error) {
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		s := p.free[n-1]
		p.free = p.free[:n-1]
		p.mu.Unlock()
		return s, nil
	}
	p.n++
	name := fmt.Sprintf("tp%d_%d", os.Getpid(), p.n)
	sweep := !p.swept
	p.swept = true
	p.mu.Unlock()

	base := testenv.DatabaseURL()
	if err := ensureDatabase(ctx, base); err != nil {
		return Schema{}, err
	}
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return Schema{}, fmt.Errorf("connect test database: %w", err)
	}
	defer conn.Close(ctx)
	if sweep {
		if err := dropOrphans(ctx, conn); err != nil {
			return Schema{}, err
		}
	}
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		return Schema{}, fmt.Errorf("create schema: %w", err)
	}
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	s := Schema{Name: name, DatabaseURL: base + sep + "search_path=" + name + ",public"}
	st, err := store.Open(ctx, s.DatabaseURL)
	if err != nil {
		return Schema{}, fmt.Errorf("open store: %w", err)
	}
	defer st.Close()
	if _, _, err := st.Migrate(ctx); err != nil {
		return Schema{}, fmt.Errorf("migrate: %w", err)
	}
	if s.tables, err = tables(ctx, conn, name); err != nil {
		return Schema{}, err
	}
	return s, nil
}

func (p *schemaPool) put(s Schema) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.free = append(p.free, s)
}

func tables(ctx context.Context, conn *pgx.Conn, schema string) ([]string, error) {
	rows, err := conn.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename`, schema)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// empty makes the schema as migration left it: tables a test created are
// dropped, every row deleted and every sequence restarted. DELETE with
// triggers off (foreign keys, append-only guards) costs a fraction of
// TRUNCATE, which makes new files for every table and index.
func (s Schema) empty(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, testenv.DatabaseURL())
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	now, err := tables(ctx, conn, s.Name)
	if err != nil {
		return err
	}
	var keep []string
	for _, t := range now {
		q := pgx.Identifier{s.Name, t}.Sanitize()
		switch {
		case !slices.Contains(s.tables, t):
			if _, err := conn.Exec(ctx, "DROP TABLE "+q+" CASCADE"); err != nil {
				return err
			}
		case t != "schema_version":
			keep = append(keep, q)
		}
	}
	rows, err := conn.Query(ctx, `SELECT sequencename FROM pg_sequences WHERE schemaname = $1`, s.Name)
	if err != nil {
		return fmt.Errorf("list sequences: %w", err)
	}
	seqs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("list sequences: %w", err)
	}
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue("SET LOCAL session_replication_role = replica")
		for _, q := range keep {
			b.Queue("DELETE FROM " + q)
		}
		for _, seq := range seqs {
			b.Queue("SELECT setval($1, 1, false)", pgx.Identifier{s.Name, seq}.Sanitize())
		}
		return tx.SendBatch(ctx, b).Close()
	})
}

// dropOrphans drops the pooled schemas of test processes that have ended.
func dropOrphans(ctx context.Context, conn *pgx.Conn) error {
	rows, err := conn.Query(ctx, `SELECT nspname FROM pg_namespace WHERE nspname ~ '^tp[0-9]+_[0-9]+$'`)
	if err != nil {
		return fmt.Errorf("list test schemas: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("list test schemas: %w", err)
	}
	for _, n := range names {
		if pid, err := strconv.Atoi(strings.TrimPrefix(strings.SplitN(n, "_", 2)[0], "tp")); err == nil && alive(pid) {
			continue
		}
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{n}.Sanitize()+" CASCADE"); err != nil {
			return fmt.Errorf("drop old test schema %s: %w", n, err)
		}
	}
	return nil
}

// alive: signal 0 checks the process exists (EPERM: it does, as another user).
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
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
