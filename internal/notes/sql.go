package notes

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/holdfast/holdfast/store"
)

// Queue: notes wait in account_notes for their summary.
var Queue = store.Queue{Name: "notes", Table: "account_notes", Waiting: "state = 'pending'", CountAttempts: true}

// newNote is a note to keep about an account.
type newNote struct {
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

// insertNote stores a note for the worker to summarise and publish.
// created is false when the same note (account and source key) exists.
func insertNote(ctx context.Context, tx store.Tx, n newNote) (id int64, created bool, err error) {
	err = tx.QueryRow(ctx, `INSERT INTO account_notes (account_id, kind, source, source_key, author, text, occurred_at,
			origin_channel, open_case)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (account_id, source_key) DO NOTHING RETURNING id`,
		n.AccountID, n.Kind, n.Source, n.SourceKey, n.Author, n.Text, n.OccurredAt, n.OriginChannel, n.OpenCase).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return id, false, wrap("find saved note", tx.QueryRow(ctx, `SELECT id FROM account_notes WHERE account_id = $1 AND source_key = $2`,
			n.AccountID, n.SourceKey).Scan(&id))
	}
	if err != nil {
		return 0, false, fmt.Errorf("add note: %w", err)
	}
	return id, true, nil
}

// signalNotes are the columns of the notes ingest keeps for new signals.
type signalNotes struct {
	accounts, signals           []int64
	kinds, keys, authors, texts []string
	at                          []time.Time
}

// insertSignalNotes keeps a note for each row (the key is the signal, so a
// replay keeps none twice) in one statement.
func insertSignalNotes(ctx context.Context, tx store.Tx, n signalNotes) error {
	if _, err := tx.Exec(ctx, `INSERT INTO account_notes (account_id, kind, source, source_key, author, text, occurred_at, signal_id)
		SELECT a, k, 'signal', key, au, t, at, sid
		FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::bigint[])
			AS u(a, k, key, au, t, at, sid)
		ON CONFLICT (account_id, source_key) DO NOTHING`,
		n.accounts, n.kinds, n.keys, n.authors, n.texts, n.at, n.signals); err != nil {
		return fmt.Errorf("queue signal notes: %w", err)
	}
	return nil
}

// pending is a leased note with what publishing it needs.
type pending struct {
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

// lease claims up to n notes waiting for their summary.
func lease(ctx context.Context, db store.DB, n int, d time.Duration) ([]pending, error) {
	rows, err := Queue.Lease(ctx, db, n, d, `SELECT l.id, l.account_id, a.name, a.external_id, a.crm_id,
			coalesce(r.channel_id, ''), l.kind, l.source, l.author, l.text, l.occurred_at, l.origin_channel, l.open_case, l.attempts
		FROM leased l JOIN accounts a ON a.id = l.account_id LEFT JOIN rooms r ON r.account_id = l.account_id
		ORDER BY l.id`)
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[pending])
	return list, wrap("lease notes", err)
}

// finish stores a note's summary; ok is false when the note was finished
// already (another worker, a replay), and then nothing else may be
// published for it.
func finish(ctx context.Context, tx store.Tx, id int64, summary, by string) (accountID int64, ok bool, err error) {
	err = tx.QueryRow(ctx, `UPDATE account_notes SET summary = $2, summary_by = $3, state = 'done', done_at = now(),
			leased_until = NULL
		WHERE id = $1 AND state = 'pending' RETURNING account_id`, id, summary, by).Scan(&accountID)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("finish note: %w", err)
	}
	return accountID, true, nil
}

// retry sets a note's summary due again at retryAt.
func retry(ctx context.Context, db store.DB, id int64, retryAt time.Time) error {
	_, err := db.Exec(ctx, `UPDATE account_notes SET next_at = $2, leased_until = NULL WHERE id = $1 AND state = 'pending'`,
		id, retryAt)
	return wrap("retry note", err)
}

// roomChannel is the channel of the account's room, "" when it has none.
func roomChannel(ctx context.Context, db store.DB, accountID int64) (string, error) {
	var channel string
	err := db.QueryRow(ctx, `SELECT channel_id FROM rooms WHERE account_id = $1`, accountID).Scan(&channel)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return channel, wrap("read room", err)
}

func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
