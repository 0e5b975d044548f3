package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/holdfast/holdfast/scoring"
)

// TimelineEntry is one line of an account's history.
type TimelineEntry struct {
	At      time.Time
	Kind    string
	Summary string
	Actor   string
}

// Timeline returns the newest entries first, at most limit.
func (q Queries) Timeline(ctx context.Context, accountID int64, limit int) ([]TimelineEntry, error) {
	rows, err := q.db.Query(ctx, `SELECT at, kind, summary, actor FROM timeline WHERE account_id = $1
		ORDER BY at DESC, id DESC LIMIT $2`, accountID, limit)
	if err != nil {
		return nil, fmt.Errorf("timeline: %w", err)
	}
	entries, err := pgx.CollectRows(rows, pgx.RowToStructByPos[TimelineEntry])
	return entries, wrap("timeline", err)
}

// TimelinePage is Timeline plus how many entries there are in all, which
// costs a count only when the page is full.
func (q Queries) TimelinePage(ctx context.Context, accountID int64, limit int) ([]TimelineEntry, int, error) {
	entries, err := q.Timeline(ctx, accountID, limit)
	if err != nil {
		return nil, 0, err
	}
	total := len(entries)
	if total == limit {
		if err := q.db.QueryRow(ctx, `SELECT count(*) FROM timeline WHERE account_id = $1`, accountID).Scan(&total); err != nil {
			return nil, 0, fmt.Errorf("count timeline: %w", err)
		}
	}
	return entries, total, nil
}

// AddTimeline appends one entry; refID (0 = none) points at the row the
// entry is about (an alert, a loop, a deal).
func (q Queries) AddTimeline(ctx context.Context, accountID int64, e TimelineEntry, refID int64) error {
	_, err := q.db.Exec(ctx, `INSERT INTO timeline (account_id, at, kind, summary, actor, ref_id) VALUES ($1, $2, $3, $4, $5, $6)`,
		accountID, e.At, e.Kind, e.Summary, e.Actor, nullID(refID))
	return wrap("append timeline", err)
}

// addTimeline is AddTimeline for statements still written against a bare DB.
func addTimeline(ctx context.Context, db DB, accountID int64, e TimelineEntry, refID int64) error {
	return Queries{db: db}.AddTimeline(ctx, accountID, e, refID)
}

// AddTimelineTx appends one entry inside the caller's transaction.
func AddTimelineTx(ctx context.Context, tx DB, accountID int64, e TimelineEntry, refID int64) error {
	return addTimeline(ctx, tx, accountID, e, refID)
}

// ScorePoint is the last score recorded in one week.
type ScorePoint struct {
	Week  time.Time
	Score int
}

// WeeklyScores returns, for each week since `since` that has a snapshot, the
// last score of that week, oldest first.
func (q Queries) WeeklyScores(ctx context.Context, accountID int64, since time.Time) ([]ScorePoint, error) {
	rows, err := q.db.Query(ctx, `SELECT DISTINCT ON (week) date_trunc('week', computed_at) AS week, score
		FROM health_snapshots WHERE account_id = $1 AND computed_at >= $2
		ORDER BY week, computed_at DESC, id DESC`, accountID, since)
	if err != nil {
		return nil, fmt.Errorf("weekly scores: %w", err)
	}
	points, err := pgx.CollectRows(rows, pgx.RowToStructByPos[ScorePoint])
	return points, wrap("weekly scores", err)
}

// LatestHealth returns the newest snapshot, or ErrNotFound.
func (q Queries) LatestHealth(ctx context.Context, accountID int64) (scoring.Health, error) {
	var h scoring.Health
	var band string
	err := q.db.QueryRow(ctx, `SELECT score, band, components, computed_at FROM health_snapshots
		WHERE account_id = $1 ORDER BY computed_at DESC, id DESC LIMIT 1`, accountID).Scan(&h.Score, &band, &h.Components, &h.ComputedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return h, ErrNotFound
	}
	h.Band = scoring.Band(band)
	return h, wrap("latest health", err)
}

// Alert is a recorded alert.
type Alert struct {
	ID        int64
	AccountID int64
	ChannelID string
	MessageTS string
	ClaimedBy string
	View      json.RawMessage
}

// ClaimResult says whether a claim took.
type ClaimResult struct {
	Alert   Alert
	Claimed bool // false: someone (see Alert.ClaimedBy) claimed it first
}

// ClaimAlert records who owns the follow-up. The first claim wins; the
// conditional update makes two simultaneous clicks produce one owner. A
// successful claim goes on the timeline; the caller, in the same Tx,
// queues the alert's edited message.
func (q Queries) ClaimAlert(ctx context.Context, alertID int64, user string, at time.Time) (ClaimResult, error) {
	var r ClaimResult
	tag, err := q.db.Exec(ctx, `UPDATE alerts SET claimed_by = $2, claimed_at = $3 WHERE id = $1 AND claimed_by IS NULL`,
		alertID, user, at)
	if err != nil {
		return r, fmt.Errorf("claim alert: %w", err)
	}
	r.Claimed = tag.RowsAffected() == 1
	var ts, claimed *string
	err = q.db.QueryRow(ctx, `SELECT id, account_id, channel_id, message_ts, claimed_by, view FROM alerts WHERE id = $1`, alertID).
		Scan(&r.Alert.ID, &r.Alert.AccountID, &r.Alert.ChannelID, &ts, &claimed, &r.Alert.View)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, ErrNotFound
	}
	if err != nil {
		return r, fmt.Errorf("read alert: %w", err)
	}
	r.Alert.MessageTS, r.Alert.ClaimedBy = deref(ts), deref(claimed)
	if !r.Claimed {
		return r, nil
	}
	return r, q.AddTimeline(ctx, r.Alert.AccountID, ClaimedEntry(at, user), alertID)
}

// ClaimedEntry is the timeline's record of an alert claimed for follow-up.
func ClaimedEntry(at time.Time, user string) TimelineEntry {
	return TimelineEntry{At: at, Kind: "alert.claimed", Summary: "alert claimed for follow-up", Actor: user}
}

// AlertsForAccount returns recent alerts, newest first.
func (q Queries) AlertsForAccount(ctx context.Context, accountID int64, limit int) ([]Alert, error) {
	rows, err := q.db.Query(ctx, `SELECT id, account_id, channel_id, coalesce(message_ts, ''), coalesce(claimed_by, ''), view
		FROM alerts WHERE account_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, accountID, limit)
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	alerts, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Alert])
	return alerts, wrap("alerts", err)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
