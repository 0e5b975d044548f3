package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// CopySignals bulk-loads a history import's signals with COPY, keeping
// the usual rule that a replay (same source and idempotency key) is
// stored once. It reports how many rows were new. Use it in the import's
// transaction: the whole file lands or nothing does.
func (t Tx) CopySignals(ctx context.Context, in []SignalInput, accountIDs []int64) (int64, error) {
	cols := []string{"account_id", "kind", "source", "idempotency_key", "occurred_at", "text", "value", "severity",
		"sentiment", "churn_intent", "metadata"}
	rows := func() pgx.CopyFromSource {
		i := 0
		return pgx.CopyFromFunc(func() ([]any, error) {
			if i == len(in) {
				return nil, nil
			}
			s := in[i]
			meta := any("{}")
			if len(s.Metadata) > 0 {
				meta = string(s.Metadata)
			}
			row := []any{accountIDs[i], string(s.Kind), s.Source, s.IdempotencyKey, s.OccurredAt, s.Text, s.Value,
				s.Severity, s.Sentiment, s.ChurnIntent, meta}
			i++
			return row, nil
		})
	}
	// Straight into signals first: a first import has no replays, and one
	// pass is about twice as fast as staging. A replayed key aborts it (to
	// a savepoint) and the staged path below skips the replays.
	sp, err := t.tx.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("savepoint: %w", err)
	}
	n, err := sp.CopyFrom(ctx, pgx.Identifier{"signals"}, cols, rows())
	if err == nil {
		return n, sp.Commit(ctx)
	}
	if rbErr := sp.Rollback(ctx); rbErr != nil {
		return 0, fmt.Errorf("copy signals: %w (rollback: %v)", err, rbErr)
	}
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); !ok || pgErr.Code != uniqueViolation {
		return 0, fmt.Errorf("copy signals: %w", err)
	}
	if _, err := t.tx.Exec(ctx, `CREATE TEMP TABLE history_signals (
			account_id bigint, kind text, source text, idempotency_key text, occurred_at timestamptz,
			text text, value float8, severity text, sentiment float8, churn_intent bool, metadata jsonb
		) ON COMMIT DROP`); err != nil {
		return 0, fmt.Errorf("history signals table: %w", err)
	}
	if _, err := t.tx.CopyFrom(ctx, pgx.Identifier{"history_signals"}, cols, rows()); err != nil {
		return 0, fmt.Errorf("copy signals: %w", err)
	}
	tag, err := t.tx.Exec(ctx, `INSERT INTO signals (account_id, kind, source, idempotency_key, occurred_at,
			text, value, severity, sentiment, churn_intent, metadata)
		SELECT account_id, kind, source, idempotency_key, occurred_at, text, value, severity, sentiment, churn_intent, metadata
		FROM history_signals ON CONFLICT (source, idempotency_key) DO NOTHING`)
	if err != nil {
		return 0, fmt.Errorf("store signals: %w", err)
	}
	return tag.RowsAffected(), nil
}

// uniqueViolation is Postgres' SQLSTATE for a duplicate key.
const uniqueViolation = "23505"

// Outcome is what became of an account: churned or renewed, and when.
type Outcome struct {
	AccountID int64
	ChurnedAt *time.Time
	RenewedAt *time.Time
}

// SetOutcomes records past outcomes; a churn also marks the account churned.
func (q Queries) SetOutcomes(ctx context.Context, out []Outcome) error {
	ids := make([]int64, len(out))
	churned, renewed := make([]*time.Time, len(out)), make([]*time.Time, len(out))
	for i, o := range out {
		ids[i], churned[i], renewed[i] = o.AccountID, o.ChurnedAt, o.RenewedAt
	}
	_, err := q.db.Exec(ctx, `UPDATE accounts a SET churned_at = u.churned_at, renewed_at = u.renewed_at,
			status = CASE WHEN u.churned_at IS NOT NULL THEN 'churned' ELSE a.status END
		FROM unnest($1::bigint[], $2::timestamptz[], $3::timestamptz[]) AS u(id, churned_at, renewed_at)
		WHERE a.id = u.id`, ids, churned, renewed)
	return wrap("set outcomes", err)
}

// AccountIDsByExternalID maps external ids to account ids; unknown ones are left out.
func (q Queries) AccountIDsByExternalID(ctx context.Context, externalIDs []string) (map[string]int64, error) {
	rows, err := q.db.Query(ctx, `SELECT external_id, id FROM accounts WHERE external_id = ANY($1)`, externalIDs)
	if err != nil {
		return nil, fmt.Errorf("account ids: %w", err)
	}
	out := map[string]int64{}
	var ext string
	var id int64
	_, err = pgx.ForEachRow(rows, []any{&ext, &id}, func() error { out[ext] = id; return nil })
	return out, wrap("account ids", err)
}
