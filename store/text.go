package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// MentionRow is one competitor mention found in a stored signal's text.
type MentionRow struct {
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

// InsertMentionsTx records mentions in the caller's transaction (the
// ingest that stored their signals), and one timeline entry per signal and
// competitor: a long e-mail thread naming a rival ten times is one event
// in the account's history, quoted at its first mention.
func InsertMentionsTx(ctx context.Context, tx DB, rows []MentionRow) error {
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
	_, err := tx.Exec(ctx, `INSERT INTO timeline (account_id, at, kind, summary, ref_id)
		SELECT a, t, 'competitor.mention', s, r FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::bigint[]) AS u(a, t, s, r)`,
		tAccts, tAt, summaries, tSigs)
	return wrap("append mention timeline", err)
}

// Digest topics; a channel subscribed to competitors or sentiment also gets
// those alerts live.
const (
	TopicRisk        = "risk"
	TopicCompetitors = "competitors"
	TopicSentiment   = "sentiment"
)

// AlertChannelsTx lists the channels subscribed to topic (a subscription
// without topics has all of them) whose filters an account with arr and
// tier passes.
func AlertChannelsTx(ctx context.Context, tx DB, topic string, arr float64, tier string) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT DISTINCT channel_id FROM digest_subscriptions
		WHERE (topics @> ARRAY[$1::text] OR cardinality(topics) = 0) AND min_arr <= $2 AND (tier = '' OR lower(tier) = lower($3))
		ORDER BY channel_id`, topic, arr, tier)
	if err != nil {
		return nil, fmt.Errorf("alert channels: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return out, wrap("alert channels", err)
}

// Text alert kinds.
const (
	TextAlertCompetitor = "competitor_mention"
	TextAlertSentiment  = "sentiment_drop"
)

// NewTextAlert is a competitor-mention or sentiment-drop alert to record
// and post to each recipient (a channel, or a user id for a DM).
type NewTextAlert struct {
	AccountID  int64
	Kind       string
	Competitor string
	SignalID   int64
	At         time.Time
	Recipients []string
	NotBefore  time.Time // zero = now; quiet hours push it later
	Summary    string    // for the account timeline
	// Render builds what the alert shows once it has an id (buttons carry it).
	Render func(alertID int64) (view any, msg any, err error)
}

// TextAlertRef names the post of alert id to one recipient in the outbox,
// so a claim can update every copy.
func TextAlertRef(id int64, recipient string) string {
	return "text_alert:" + strconv.FormatInt(id, 10) + ":" + recipient
}

// InsertTextAlertTx records an alert and queues one post per recipient in
// the caller's transaction.
func InsertTextAlertTx(ctx context.Context, tx DB, a NewTextAlert) (int64, error) {
	if len(a.Recipients) == 0 {
		return 0, errors.New("text alert without recipients")
	}
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO text_alerts (account_id, kind, competitor, signal_id, view, recipients, created_at)
		VALUES ($1, $2, $3, $4, '{}', $5, $6) RETURNING id`,
		a.AccountID, a.Kind, a.Competitor, nullID(a.SignalID), a.Recipients, a.At).Scan(&id); err != nil {
		return 0, fmt.Errorf("insert text alert: %w", err)
	}
	view, msg, err := a.Render(id)
	if err != nil {
		return 0, fmt.Errorf("render text alert: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE text_alerts SET view = $2 WHERE id = $1`, id, view); err != nil {
		return 0, fmt.Errorf("store text alert view: %w", err)
	}
	for _, r := range a.Recipients {
		if err := enqueue(ctx, tx, OutboxItem{Op: OpPost, ChannelID: r, Message: msg, NotBefore: a.NotBefore,
			Ref: TextAlertRef(id, r)}); err != nil {
			return 0, err
		}
	}
	return id, addTimeline(ctx, tx, a.AccountID, TimelineEntry{At: a.At, Kind: "alert." + a.Kind, Summary: a.Summary}, id)
}

// TextAlert is a recorded text alert.
type TextAlert struct {
	ID         int64
	AccountID  int64
	Kind       string
	Competitor string
	View       json.RawMessage
	Recipients []string
	ClaimedBy  string
}

// TextAlertClaim says whether a claim took.
type TextAlertClaim struct {
	Alert   TextAlert
	Claimed bool // false: someone (Alert.ClaimedBy) claimed it first
}

// ClaimTextAlert records who owns the follow-up; the first claim wins. On
// success every posted copy is updated with render's message, in the same
// transaction.
func (s *Store) ClaimTextAlert(ctx context.Context, id int64, user string, at time.Time, render func(view json.RawMessage, claimedBy string) (any, error)) (TextAlertClaim, error) {
	var c TextAlertClaim
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE text_alerts SET claimed_by = $2, claimed_at = $3 WHERE id = $1 AND claimed_by IS NULL`, id, user, at)
		if err != nil {
			return fmt.Errorf("claim text alert: %w", err)
		}
		c.Claimed = tag.RowsAffected() == 1
		var claimed *string
		err = tx.QueryRow(ctx, `SELECT id, account_id, kind, competitor, view, recipients, claimed_by FROM text_alerts WHERE id = $1`, id).
			Scan(&c.Alert.ID, &c.Alert.AccountID, &c.Alert.Kind, &c.Alert.Competitor, &c.Alert.View, &c.Alert.Recipients, &claimed)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("read text alert: %w", err)
		}
		c.Alert.ClaimedBy = deref(claimed)
		if !c.Claimed {
			return nil
		}
		msg, err := render(c.Alert.View, user)
		if err != nil {
			return fmt.Errorf("render claimed alert: %w", err)
		}
		// Every copy is edited, DMs included: an update by reference goes
		// to the channel Slack posted the target in (a DM's D… id).
		for _, r := range c.Alert.Recipients {
			if err := enqueue(ctx, tx, OutboxItem{Op: OpUpdate, ChannelID: r, TargetRef: TextAlertRef(id, r), Message: msg}); err != nil {
				return err
			}
		}
		return addTimeline(ctx, tx, c.Alert.AccountID, claimedEntry(at, user), id)
	})
	return c, err
}

// TextAnalysis returns a cached language-model answer, or ErrNotFound.
func (s *Store) TextAnalysis(ctx context.Context, hash string) (json.RawMessage, error) {
	var raw json.RawMessage
	err := s.pool.QueryRow(ctx, `SELECT result FROM text_analyses WHERE text_hash = $1`, hash).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	return raw, wrap("text analysis", err)
}

// SaveTextAnalysis caches a language-model answer; the first one stays.
func (s *Store) SaveTextAnalysis(ctx context.Context, hash, model string, result json.RawMessage) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO text_analyses (text_hash, model, result) VALUES ($1, $2, $3)
		ON CONFLICT (text_hash) DO NOTHING`, hash, model, result)
	return wrap("save text analysis", err)
}
