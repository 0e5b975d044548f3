package textsignals

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/holdfast/holdfast/store"
)

// mention is one competitor mention found in a stored signal's text.
type mention struct {
	SignalID    int64
	AccountID   int64
	Competitor  string
	Alias       string
	Mention     string // as written
	Snippet     string
	Start, End  int // byte offsets into the signal's text
	Kind        string
	Source      string
	ChurnIntent bool
	OccurredAt  time.Time
}

// insertMentions records mentions in the ingest transaction that stored
// their signals, and one timeline entry per signal and competitor: a long
// e-mail thread naming a rival ten times is one event in the account's
// history, quoted at its first mention.
func insertMentions(ctx context.Context, tx store.DB, rows []mention) error {
	if len(rows) == 0 {
		return nil
	}
	n := len(rows)
	sigs, accts, starts, ends := make([]int64, n), make([]int64, n), make([]int32, n), make([]int32, n)
	comps, aliases, mentions, snippets, kinds, sources := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	intents, at := make([]bool, n), make([]time.Time, n)
	type event struct {
		signal     int64
		competitor string
	}
	logged := map[event]bool{}
	var tAccts, tSigs []int64
	var tAt []time.Time
	var summaries []string
	for i, r := range rows {
		sigs[i], accts[i], starts[i], ends[i] = r.SignalID, r.AccountID, int32(r.Start), int32(r.End)
		comps[i], aliases[i], mentions[i], snippets[i], kinds[i], sources[i] = r.Competitor, r.Alias, r.Mention, r.Snippet, r.Kind, r.Source
		intents[i], at[i] = r.ChurnIntent, r.OccurredAt
		if e := (event{r.SignalID, r.Competitor}); !logged[e] {
			logged[e] = true
			tAccts, tSigs, tAt = append(tAccts, r.AccountID), append(tSigs, r.SignalID), append(tAt, r.OccurredAt)
			summaries = append(summaries, r.Competitor+" mentioned in "+strings.ReplaceAll(r.Kind, "_", " ")+" from "+r.Source+": “"+r.Snippet+"”")
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO competitor_mentions (signal_id, account_id, competitor, alias, mention, snippet,
			span_start, span_end, kind, source, churn_intent, occurred_at)
		SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[],
			$7::int[], $8::int[], $9::text[], $10::text[], $11::bool[], $12::timestamptz[])
		ON CONFLICT (signal_id, span_start) DO NOTHING`,
		sigs, accts, comps, aliases, mentions, snippets, starts, ends, kinds, sources, intents, at); err != nil {
		return fmt.Errorf("insert competitor mentions: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO timeline (account_id, at, kind, summary, ref_id)
		SELECT a, t, 'competitor.mention', s, r FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::bigint[]) AS u(a, t, s, r)`,
		tAccts, tAt, summaries, tSigs); err != nil {
		return fmt.Errorf("append mention timeline: %w", err)
	}
	return nil
}

// alertRow is a competitor-mention or sentiment-drop alert to record.
type alertRow struct {
	AccountID  int64
	Kind       string // store.TextAlert*
	Competitor string
	SignalID   int64 // 0: none
	Recipients []string
	At         time.Time
}

// insertAlert records an alert with an empty view; setAlertView fills it
// once the card, whose buttons carry the id, is built.
func insertAlert(ctx context.Context, tx store.DB, a alertRow) (int64, error) {
	var signalID *int64
	if a.SignalID != 0 {
		signalID = &a.SignalID
	}
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO text_alerts (account_id, kind, competitor, signal_id, view, recipients, created_at)
		VALUES ($1, $2, $3, $4, '{}', $5, $6) RETURNING id`,
		a.AccountID, a.Kind, a.Competitor, signalID, a.Recipients, a.At).Scan(&id); err != nil {
		return 0, fmt.Errorf("insert text alert: %w", err)
	}
	return id, nil
}

func setAlertView(ctx context.Context, tx store.DB, id int64, view AlertView) error {
	if _, err := tx.Exec(ctx, `UPDATE text_alerts SET view = $2 WHERE id = $1`, id, view); err != nil {
		return fmt.Errorf("store text alert view: %w", err)
	}
	return nil
}

// alertRef names the post of alert id to one recipient in the outbox, so a
// claim can update every copy.
func alertRef(id int64, recipient string) string {
	return "text_alert:" + strconv.FormatInt(id, 10) + ":" + recipient
}

// recordedAlert is a text alert as recorded.
type recordedAlert struct {
	ID         int64
	AccountID  int64
	Kind       string
	Competitor string
	View       json.RawMessage
	Recipients []string
	ClaimedBy  string
}

// claimAlert records who owns the follow-up; the first claim wins (the
// conditional update makes two simultaneous clicks produce one owner). It
// returns the alert as it stands after the claim, or store.ErrNotFound.
func claimAlert(ctx context.Context, tx store.DB, id int64, user string, at time.Time) (a recordedAlert, claimed bool, err error) {
	tag, err := tx.Exec(ctx, `UPDATE text_alerts SET claimed_by = $2, claimed_at = $3 WHERE id = $1 AND claimed_by IS NULL`, id, user, at)
	if err != nil {
		return a, false, fmt.Errorf("claim text alert: %w", err)
	}
	claimed = tag.RowsAffected() == 1
	var claimedBy *string
	err = tx.QueryRow(ctx, `SELECT id, account_id, kind, competitor, view, recipients, claimed_by FROM text_alerts WHERE id = $1`, id).
		Scan(&a.ID, &a.AccountID, &a.Kind, &a.Competitor, &a.View, &a.Recipients, &claimedBy)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, false, store.ErrNotFound
	}
	if err != nil {
		return a, false, fmt.Errorf("read text alert: %w", err)
	}
	if claimedBy != nil {
		a.ClaimedBy = *claimedBy
	}
	return a, claimed, nil
}

// cachedReading returns a language-model reading cached by hash, or
// store.ErrNotFound.
func cachedReading(ctx context.Context, db store.DB, hash string) (json.RawMessage, error) {
	var raw json.RawMessage
	err := db.QueryRow(ctx, `SELECT result FROM text_analyses WHERE text_hash = $1`, hash).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("text analysis: %w", err)
	}
	return raw, nil
}

// saveReading caches a language-model reading; the first one stays.
func saveReading(ctx context.Context, db store.DB, hash, model string, result json.RawMessage) error {
	if _, err := db.Exec(ctx, `INSERT INTO text_analyses (text_hash, model, result) VALUES ($1, $2, $3)
		ON CONFLICT (text_hash) DO NOTHING`, hash, model, result); err != nil {
		return fmt.Errorf("save text analysis: %w", err)
	}
	return nil
}
