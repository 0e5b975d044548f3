package store

import (
	"context"
	"time"
)

// AuditEntry is one sensitive read or change: who read which account's
// details, changed a subscription, proposed or decided an offer, resolved
// an alert.
type AuditEntry struct {
	At        time.Time
	Actor     string // Slack user id
	Action    string // "account.read", "digest.subscribe", "offer.propose", "alert.claim", ...
	AccountID int64  // 0: none
	Subject   string // channel, offer or alert id
	Detail    string
	// DedupeKey names the request (its trigger id): a redelivered request
	// adds no second row. "" always adds one.
	DedupeKey string
}

// Audit appends an entry; the same DedupeKey is stored once.
func (q Queries) Audit(ctx context.Context, e AuditEntry) error {
	_, err := q.db.Exec(ctx, `INSERT INTO audit_log (actor, action, account_id, subject, detail, dedupe_key)
		VALUES ($1, $2, $3, $4, $5, nullif($6, '')) ON CONFLICT (dedupe_key) DO NOTHING`,
		e.Actor, e.Action, nullID(e.AccountID), e.Subject, e.Detail, e.DedupeKey)
	return wrap("audit", err)
}

// AuditSince returns the entries at or after since, oldest first.
func (q Queries) AuditSince(ctx context.Context, since time.Time, each func(AuditEntry) error) error {
	rows, err := q.db.Query(ctx, `SELECT at, actor, action, coalesce(account_id, 0), subject, detail, coalesce(dedupe_key, '')
		FROM audit_log WHERE at >= $1 ORDER BY at, id`, since)
	if err != nil {
		return wrap("audit since", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e AuditEntry
		if err := rows.Scan(&e.At, &e.Actor, &e.Action, &e.AccountID, &e.Subject, &e.Detail, &e.DedupeKey); err != nil {
			return wrap("audit since", err)
		}
		if err := each(e); err != nil {
			return err
		}
	}
	return wrap("audit since", rows.Err())
}
