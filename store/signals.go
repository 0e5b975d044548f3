package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/holdfast/holdfast/scoring"
)

// SignalInput is one signal to store, already validated and analysed.
type SignalInput struct {
	AccountExternalID string
	Kind              scoring.Kind
	Source            string
	IdempotencyKey    string
	OccurredAt        time.Time
	Text              string
	Value             *float64
	Severity          string
	Sentiment         *float64
	ChurnIntent       bool
	Metadata          json.RawMessage // a JSON object; nil = {}
}

// UnknownAccountsError lists the input rows whose account does not exist.
type UnknownAccountsError struct{ Indexes []int }

func (e *UnknownAccountsError) Error() string {
	return fmt.Sprintf("%d signals name an unknown account", len(e.Indexes))
}

// NewAlert is a churn-risk alert to record.
type NewAlert struct {
	Kinds     []scoring.AlertKind
	Critical  bool
	SignalID  int64
	ChannelID string
	// ThreadKey is the Slack thread the alert joins; DueAt when it is due
	// there (quiet hours delay non-critical alerts; zero: at once).
	ThreadKey string
	DueAt     time.Time
}

// Timeline kinds that signals produce; raw usage data points are not history
// a person wants to read.
func timelineKind(k scoring.Kind) (string, bool) {
	if k == scoring.KindUsage {
		return "", false
	}
	return "signal." + string(k), true
}

// ResolveAccounts locks the accounts the signals name and returns each
// row's account id, or an *UnknownAccountsError naming the rows whose
// account does not exist.
func (q Queries) ResolveAccounts(ctx context.Context, in []SignalInput) ([]int64, error) {
	keys := make([]string, 0, len(in))
	seen := map[string]bool{}
	for _, sig := range in {
		if !seen[sig.AccountExternalID] {
			seen[sig.AccountExternalID] = true
			keys = append(keys, sig.AccountExternalID)
		}
	}
	// Lock the accounts before anything references them: the signal inserts'
	// foreign-key checks would otherwise take share locks first, and two
	// batches upgrading them to update locks deadlock. Id order keeps
	// concurrent batches from locking in opposite orders.
	rows, err := q.db.Query(ctx, `SELECT external_id, id FROM accounts WHERE external_id = ANY($1)
		ORDER BY id FOR NO KEY UPDATE`, keys)
	if err != nil {
		return nil, fmt.Errorf("resolve accounts: %w", err)
	}
	byKey := map[string]int64{}
	var ext string
	var id int64
	_, err = pgx.ForEachRow(rows, []any{&ext, &id}, func() error { byKey[ext] = id; return nil })
	if err != nil {
		return nil, fmt.Errorf("resolve accounts: %w", err)
	}
	ids := make([]int64, len(in))
	var unknown []int
	for i, sig := range in {
		if ids[i] = byKey[sig.AccountExternalID]; ids[i] == 0 {
			unknown = append(unknown, i)
		}
	}
	if len(unknown) > 0 {
		return nil, &UnknownAccountsError{Indexes: unknown}
	}
	return ids, nil
}

// InsertSignals inserts the batch in one statement and returns, per input
// row, the new signal id or 0 for a duplicate (of a stored signal or of an
// earlier row in the same batch).
func (q Queries) InsertSignals(ctx context.Context, in []SignalInput, accountIDs []int64) ([]int64, error) {
	n := len(in)
	var (
		kinds, sources, keys, texts, sevs = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		at                                = make([]time.Time, n)
		values, sentiments                = make([]*float64, n), make([]*float64, n)
		intents                           = make([]bool, n)
		metas                             = make([]string, n)
	)
	for i, sig := range in {
		kinds[i], sources[i], keys[i], texts[i], sevs[i] = string(sig.Kind), sig.Source, sig.IdempotencyKey, sig.Text, sig.Severity
		at[i], values[i], sentiments[i], intents[i] = sig.OccurredAt, sig.Value, sig.Sentiment, sig.ChurnIntent
		metas[i] = "{}"
		if len(sig.Metadata) > 0 {
			metas[i] = string(sig.Metadata)
		}
	}
	rows, err := q.db.Query(ctx, `INSERT INTO signals (account_id, kind, source, idempotency_key, occurred_at,
			text, value, severity, sentiment, churn_intent, metadata)
		SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::timestamptz[],
			$6::text[], $7::float8[], $8::text[], $9::float8[], $10::bool[], $11::jsonb[])
		ON CONFLICT (source, idempotency_key) DO NOTHING
		RETURNING id, source, idempotency_key`,
		accountIDs, kinds, sources, keys, at, texts, values, sevs, sentiments, intents, metas)
	if err != nil {
		return nil, fmt.Errorf("insert signals: %w", err)
	}
	inserted := map[[2]string]int64{}
	var id int64
	var source, key string
	if _, err := pgx.ForEachRow(rows, []any{&id, &source, &key}, func() error {
		inserted[[2]string{source, key}] = id
		return nil
	}); err != nil {
		return nil, fmt.Errorf("insert signals: %w", err)
	}
	out := make([]int64, n)
	for i, sig := range in {
		k := [2]string{sig.Source, sig.IdempotencyKey}
		if id, ok := inserted[k]; ok {
			out[i] = id
			delete(inserted, k) // later rows with the same key are duplicates
		}
	}
	return out, nil
}

// ScoringSignal is the stored signal as the health model reads it.
func ScoringSignal(id int64, in SignalInput) scoring.Signal {
	return scoring.Signal{
		ID: id, Kind: in.Kind, Source: in.Source, OccurredAt: in.OccurredAt, Value: in.Value,
		Sentiment: in.Sentiment, ChurnIntent: in.ChurnIntent, Severity: in.Severity, Text: in.Text,
		Thread: ticketThread(in),
	}
}

// ticketThread is the ticket a ticket signal belongs to, from its
// metadata's ticket_id (what ticketing connectors and the NPS cadence use).
func ticketThread(in SignalInput) string {
	if in.Kind != scoring.KindTicket || len(in.Metadata) == 0 {
		return ""
	}
	var m struct {
		TicketID json.RawMessage `json:"ticket_id"`
	}
	if json.Unmarshal(in.Metadata, &m) != nil || len(m.TicketID) == 0 || string(m.TicketID) == "null" {
		return ""
	}
	// As the SQL's ->> reads it: a string without its quotes, a number as written.
	var str string
	if json.Unmarshal(m.TicketID, &str) == nil {
		return str
	}
	return string(m.TicketID)
}

// AppendSignalTimeline puts the stored signals (stored[i] != 0) on their
// accounts' timelines; raw usage data points are left out.
func (q Queries) AppendSignalTimeline(ctx context.Context, in []SignalInput, accountIDs, stored []int64) error {
	var accts, refs []int64
	var at []time.Time
	var kinds, summaries []string
	for i, sig := range in {
		kind, ok := timelineKind(sig.Kind)
		if stored[i] == 0 || !ok {
			continue
		}
		accts, refs, at = append(accts, accountIDs[i]), append(refs, stored[i]), append(at, sig.OccurredAt)
		kinds, summaries = append(kinds, kind), append(summaries, signalSummary(sig))
	}
	if len(accts) == 0 {
		return nil
	}
	_, err := q.db.Exec(ctx, `INSERT INTO timeline (account_id, at, kind, summary, ref_id)
		SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::bigint[])`,
		accts, at, kinds, summaries, refs)
	return wrap("append signal timeline", err)
}

func signalSummary(sig SignalInput) string {
	var b strings.Builder
	b.WriteString(sig.Source)
	if sig.Value != nil {
		fmt.Fprintf(&b, " (%g)", *sig.Value)
	}
	if t := strings.Join(strings.Fields(sig.Text), " "); t != "" {
		if len([]rune(t)) > 280 {
			t = string([]rune(t)[:279]) + "…"
		}
		b.WriteString(": ")
		b.WriteString(t)
	}
	return b.String()
}

// ScoringInput is what rescoring one account needs.
type ScoringInput struct {
	Account Account
	Prev    *scoring.Health  // the latest snapshot, nil if never scored
	History []scoring.Signal // signals since the window start, oldest first
}

// LoadForScoring reads the accounts, their latest snapshots and their
// signals since since, by account id.
func (q Queries) LoadForScoring(ctx context.Context, ids []int64, since time.Time) (map[int64]ScoringInput, error) {
	accounts, prevs, history, err := q.loadForScoring(ctx, ids, since)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]ScoringInput, len(accounts))
	for id, a := range accounts {
		out[id] = ScoringInput{Account: a, Prev: prevs[id], History: history[id]}
	}
	return out, nil
}

func (q Queries) loadForScoring(ctx context.Context, ids []int64, since time.Time) (map[int64]Account, map[int64]*scoring.Health, map[int64][]scoring.Signal, error) {
	tx := q.db
	rows, err := tx.Query(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("load accounts: %w", err)
	}
	list, err := collectAccounts(rows)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("load accounts: %w", err)
	}
	accounts := make(map[int64]Account, len(list))
	for _, a := range list {
		accounts[a.ID] = a
	}

	prevs := map[int64]*scoring.Health{}
	// One index probe per account: the latest snapshot only, however long
	// the history.
	rows, err = tx.Query(ctx, `SELECT a.id, h.score, h.band, h.components, h.computed_at
		FROM unnest($1::bigint[]) AS a(id)
		CROSS JOIN LATERAL (SELECT score, band, components, computed_at FROM health_snapshots s
			WHERE s.account_id = a.id ORDER BY computed_at DESC, id DESC LIMIT 1) h`, ids)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("latest snapshots: %w", err)
	}
	var accountID int64
	var h scoring.Health
	var band string
	if _, err := pgx.ForEachRow(rows, []any{&accountID, &h.Score, &band, &h.Components, &h.ComputedAt}, func() error {
		h.Band = scoring.Band(band)
		prev := h
		prevs[accountID] = &prev
		h = scoring.Health{}
		return nil
	}); err != nil {
		return nil, nil, nil, fmt.Errorf("latest snapshots: %w", err)
	}

	history := map[int64][]scoring.Signal{}
	rows, err = tx.Query(ctx, `SELECT account_id, id, kind, source, occurred_at, value, sentiment, churn_intent, severity, text,
			CASE WHEN kind = 'ticket' THEN coalesce(metadata->>'ticket_id', '') ELSE '' END
		FROM signals WHERE account_id = ANY($1) AND occurred_at >= $2 ORDER BY account_id, occurred_at, id`, ids, since)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("signal history: %w", err)
	}
	var sig scoring.Signal
	var kind string
	if _, err := pgx.ForEachRow(rows, []any{&accountID, &sig.ID, &kind, &sig.Source, &sig.OccurredAt, &sig.Value,
		&sig.Sentiment, &sig.ChurnIntent, &sig.Severity, &sig.Text, &sig.Thread}, func() error {
		sig.Kind = scoring.Kind(kind)
		history[accountID] = append(history[accountID], sig)
		sig = scoring.Signal{}
		return nil
	}); err != nil {
		return nil, nil, nil, fmt.Errorf("signal history: %w", err)
	}
	return accounts, prevs, history, nil
}

// HealthWrites collects a batch's new scores so they cost two statements,
// not two per account: a batch of 1,000 signals often touches 1,000
// accounts.
type HealthWrites struct {
	ids, snapIDs, snapSignals []int64
	scores, snapScores        []int32
	bands, drivers, snapBands []string
	at, snapAt                []time.Time
	snapComponents            []string
}

// Add records an account's new health on its row (with topDriver, what
// costs the score most, for lists) and, when snapshot is set, as a
// health_snapshots row caused by signalID.
func (w *HealthWrites) Add(id int64, h scoring.Health, topDriver string, snapshot bool, signalID int64) error {
	w.ids, w.scores, w.bands = append(w.ids, id), append(w.scores, int32(h.Score)), append(w.bands, string(h.Band))
	w.at, w.drivers = append(w.at, h.ComputedAt), append(w.drivers, topDriver)
	if !snapshot {
		return nil
	}
	components, err := json.Marshal(h.Components)
	if err != nil {
		return fmt.Errorf("encode components: %w", err)
	}
	w.snapIDs, w.snapScores, w.snapBands = append(w.snapIDs, id), append(w.snapScores, int32(h.Score)), append(w.snapBands, string(h.Band))
	w.snapComponents, w.snapAt = append(w.snapComponents, string(components)), append(w.snapAt, h.ComputedAt)
	w.snapSignals = append(w.snapSignals, signalID)
	return nil
}

// WriteHealth stores what w collected.
func (q Queries) WriteHealth(ctx context.Context, w *HealthWrites) error {
	tx := q.db
	if len(w.ids) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `UPDATE accounts a SET health_score = u.score, health_band = u.band, health_at = u.at,
			health_driver = u.driver
		FROM unnest($1::bigint[], $2::int[], $3::text[], $4::timestamptz[], $5::text[]) AS u(id, score, band, at, driver)
		WHERE a.id = u.id`, w.ids, w.scores, w.bands, w.at, w.drivers); err != nil {
		return fmt.Errorf("update account health: %w", err)
	}
	if len(w.snapIDs) == 0 {
		return nil
	}
	// Signal 0 is a score no signal caused (time-driven rescoring).
	_, err := tx.Exec(ctx, `INSERT INTO health_snapshots (account_id, score, band, components, computed_at, signal_id)
		SELECT a, s, b, c, t, nullif(sig, 0)
		FROM unnest($1::bigint[], $2::int[], $3::text[], $4::jsonb[], $5::timestamptz[], $6::bigint[]) AS u(a, s, b, c, t, sig)`,
		w.snapIDs, w.snapScores, w.snapBands, w.snapComponents, w.snapAt, w.snapSignals)
	return wrap("insert snapshots", err)
}

// InsertAlert records an alert of the account at health h, with an empty
// view, and puts it on the timeline; the caller renders it with the id
// (buttons carry it), stores the view (SetAlertView) and enqueues the post.
func (q Queries) InsertAlert(ctx context.Context, accountID int64, h scoring.Health, a NewAlert) (int64, error) {
	kinds := make([]string, len(a.Kinds))
	for i, k := range a.Kinds {
		kinds[i] = string(k)
	}
	var id int64
	due := a.DueAt
	if due.IsZero() {
		due = h.ComputedAt
	}
	if err := q.db.QueryRow(ctx, `INSERT INTO alerts (account_id, kinds, critical, score, band, view, signal_id, channel_id, thread_key, due_at)
		VALUES ($1, $2, $3, $4, $5, '{}', $6, $7, $8, $9) RETURNING id`,
		accountID, kinds, a.Critical, h.Score, string(h.Band), nullID(a.SignalID), a.ChannelID, a.ThreadKey, due).Scan(&id); err != nil {
		return 0, fmt.Errorf("insert alert: %w", err)
	}
	return id, q.AddTimeline(ctx, accountID, TimelineEntry{At: h.ComputedAt, Kind: "alert", Summary: "alert: " + strings.Join(kinds, ", ")}, id)
}

// SetAlertView stores what an alert shows, for edits (claims) and history.
func (q Queries) SetAlertView(ctx context.Context, alertID int64, view any) error {
	_, err := q.db.Exec(ctx, `UPDATE alerts SET view = $2 WHERE id = $1`, alertID, view)
	return wrap("store alert view", err)
}

// AlertRef names an alert's Slack message in the outbox, so edits can
// target it whether or not it has been delivered yet.
func AlertRef(alertID int64) string { return "alert:" + strconv.FormatInt(alertID, 10) }

func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}
