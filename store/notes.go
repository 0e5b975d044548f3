package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// NoteInput is a note to keep about an account.
type NoteInput struct {
	AccountID     int64
	Kind          string // note | call_note | ticket | email | meeting
	Source        string // slack_command | slack_shortcut | signal
	SourceKey     string // unique per account: a replay of the same note is stored once
	Author        string
	Text          string
	OccurredAt    time.Time
	OriginChannel string
	OpenCase      bool
}

// AddNote stores a note for the note worker to summarise and publish.
// created is false when the same note (account and source key) exists.
func (s *Store) AddNote(ctx context.Context, n NoteInput) (id int64, created bool, err error) {
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO account_notes (account_id, kind, source, source_key, author, text, occurred_at,
				origin_channel, open_case)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (account_id, source_key) DO NOTHING RETURNING id`,
			n.AccountID, n.Kind, n.Source, n.SourceKey, n.Author, n.Text, n.OccurredAt, n.OriginChannel, n.OpenCase).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return wrap("find saved note", tx.QueryRow(ctx, `SELECT id FROM account_notes WHERE account_id = $1 AND source_key = $2`,
				n.AccountID, n.SourceKey).Scan(&id))
		}
		if err != nil {
			return fmt.Errorf("add note: %w", err)
		}
		created = true
		return notifyRooms(ctx, tx, QueueNotes)
	})
	return id, created, err
}

// QueueSignalNotes keeps a note for each row of new signals with text
// (the key is the signal, so a replay keeps none twice); the note worker
// summarises them afterwards, outside the transaction.
func (q Queries) QueueSignalNotes(ctx context.Context, accts, signals []int64, kinds, keys, authors, texts []string, at []time.Time) error {
	if len(accts) == 0 {
		return nil
	}
	if _, err := q.db.Exec(ctx, `INSERT INTO account_notes (account_id, kind, source, source_key, author, text, occurred_at, signal_id)
		SELECT a, k, 'signal', key, au, t, at, sid
		FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::bigint[])
			AS u(a, k, key, au, t, at, sid)
		ON CONFLICT (account_id, source_key) DO NOTHING`,
		accts, kinds, keys, authors, texts, at, signals); err != nil {
		return fmt.Errorf("queue signal notes: %w", err)
	}
	return notifyRooms(ctx, q.db, QueueNotes)
}

// PendingNote is a leased note with what publishing it needs.
type PendingNote struct {
	ID            int64
	AccountID     int64
	AccountName   string
	ExternalID    string
	CRMID         string
	RoomChannel   string // "" when the account has no room
	Kind          string
	Source        string
	Author        string
	Text          string
	OccurredAt    time.Time
	OriginChannel string
	OpenCase      bool
	Attempts      int
}

// LeaseNotes claims up to n notes waiting for their summary.
func (s *Store) LeaseNotes(ctx context.Context, n int, lease time.Duration) ([]PendingNote, error) {
	rows, err := Notes.Lease(ctx, s.pool, n, lease, `SELECT l.id, l.account_id, a.name, a.external_id, a.crm_id,
			coalesce(r.channel_id, ''), l.kind, l.source, l.author, l.text, l.occurred_at, l.origin_channel, l.open_case, l.attempts
		FROM leased l JOIN accounts a ON a.id = l.account_id LEFT JOIN rooms r ON r.account_id = l.account_id
		ORDER BY l.id`)
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[PendingNote])
	return list, wrap("lease notes", err)
}

// CRMWrite is one record to write to the CRM.
type CRMWrite struct {
	Key     string // idempotency key: written once, ever
	Object  string // task | note | case
	Payload any    // JSON-encodable; the connector reads it back
}

// NoteDone is a summarised note and everything publishing it means.
type NoteDone struct {
	ID       int64
	Summary  string
	By       string // llm | extractive | verbatim
	Timeline TimelineEntry
	Posts    []OutboxItem
	CRM      []CRMWrite
}

// FinishNote stores the summary and, in the same transaction, the timeline
// entry, the room post and the CRM writes, once: a second finish of the
// same note (another worker, a replay) does nothing.
func (s *Store) FinishNote(ctx context.Context, d NoteDone) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var accountID int64
		err := tx.QueryRow(ctx, `UPDATE account_notes SET summary = $2, summary_by = $3, state = 'done', done_at = now(),
				leased_until = NULL
			WHERE id = $1 AND state = 'pending' RETURNING account_id`, d.ID, d.Summary, d.By).Scan(&accountID)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("finish note: %w", err)
		}
		if err := addTimeline(ctx, tx, accountID, d.Timeline, d.ID); err != nil {
			return err
		}
		for _, p := range d.Posts {
			if err := enqueue(ctx, tx, p); err != nil {
				return err
			}
		}
		for _, w := range d.CRM {
			if err := enqueueCRM(ctx, tx, accountID, d.ID, w); err != nil {
				return err
			}
		}
		if len(d.CRM) > 0 {
			return notifyRooms(ctx, tx, QueueCRM)
		}
		return nil
	})
}

// RetryNote schedules a note's summary again at retryAt.
func (s *Store) RetryNote(ctx context.Context, id int64, retryAt time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE account_notes SET next_at = $2, leased_until = NULL WHERE id = $1 AND state = 'pending'`,
		id, retryAt)
	return wrap("retry note", err)
}

// Note is a stored note with its summary.
type Note struct {
	ID         int64
	Kind       string
	Source     string
	Author     string
	Text       string
	Summary    string
	SummaryBy  string
	OccurredAt time.Time
	Done       bool
}

// NotesForAccount lists an account's notes, newest first.
func (s *Store) NotesForAccount(ctx context.Context, accountID int64, limit int) ([]Note, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, kind, source, author, text, coalesce(summary, ''), summary_by, occurred_at,
			state = 'done'
		FROM account_notes WHERE account_id = $1 ORDER BY occurred_at DESC, id DESC LIMIT $2`, accountID, limit)
	if err != nil {
		return nil, fmt.Errorf("account notes: %w", err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Note])
	return list, wrap("account notes", err)
}

func enqueueCRM(ctx context.Context, tx DB, accountID, noteID int64, w CRMWrite) error {
	payload, err := json.Marshal(w.Payload)
	if err != nil {
		return fmt.Errorf("encode crm payload: %w", err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO crm_outbox (idempotency_key, account_id, note_id, object, payload)
		VALUES ($1, $2, nullif($3, 0), $4, $5) ON CONFLICT (idempotency_key) DO NOTHING`,
		w.Key, accountID, noteID, w.Object, payload)
	return wrap("queue crm write", err)
}
