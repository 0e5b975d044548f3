package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// TakeAlertCooldown takes the alert cooldown named key from at for ttl and reports
// whether it was free (never taken, or its window over). Inside the ingest
// transaction it commits or rolls back with the alert it allows; a
// concurrent transaction taking the same key waits for this one and then
// sees its outcome.
func (q Queries) TakeAlertCooldown(ctx context.Context, key string, at time.Time, ttl time.Duration) (bool, error) {
	var got string
	err := q.db.QueryRow(ctx, `INSERT INTO alert_cooldowns (key, taken_at, until) VALUES ($1, $2::timestamptz, $2::timestamptz + $3::interval)
		ON CONFLICT (key) DO UPDATE SET taken_at = excluded.taken_at, until = excluded.until
			WHERE alert_cooldowns.until <= excluded.taken_at
		RETURNING key`, key, at, ttl.String()).Scan(&got)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, wrap("alert cooldown", err)
	}
	return true, nil
}
