// Package ingest is how signals and accounts enter Holdfast: it validates
// and analyses them, keeps each account's health current and decides which
// changes deserve an alert in Slack.
package ingest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/config"
	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/scoring/text"
	"github.com/holdfast/holdfast/store"
)

// Store is the part of the store the ingest pipeline writes through.
type Store interface {
	UpsertAccounts(ctx context.Context, in []store.AccountInput) ([]store.UpsertResult, error)
	IngestSignals(ctx context.Context, in []store.SignalInput, since time.Time, eval store.Evaluator, hooks ...store.TxHook) (store.IngestResult, error)
}

// Analyzer reads sentiment and churn intent from customer text.
type Analyzer interface {
	Analyze(s string) text.Result
}

// Pipeline applies signals to accounts.
type Pipeline struct {
	store     Store
	analyzer  Analyzer
	cooldowns *Cooldowns
	settings  config.Settings
	now       func() time.Time
	log       *slog.Logger
	metrics   *Metrics
	insight   Insighter // optional language model (text.go)
	// hooks run in every ingest transaction, whichever way the signals
	// arrived (API, webhook, Slack, import): features' rows per signal.
	hooks []store.TxHook
}

// New wires the pipeline. now is the clock (tests pass a fixed one).
func New(st Store, analyzer Analyzer, cooldowns *Cooldowns, settings config.Settings, now func() time.Time, log *slog.Logger, metrics *Metrics) *Pipeline {
	return &Pipeline{store: st, analyzer: analyzer, cooldowns: cooldowns, settings: settings, now: now, log: log, metrics: metrics}
}

// SignalsResult reports an accepted batch.
type SignalsResult struct {
	Stored     int     `json:"stored"`
	Duplicates int     `json:"duplicates"`
	SignalIDs  []int64 `json:"signal_ids"` // per input row; 0 = duplicate
	Alerts     []int64 `json:"alerts"`
	TextAlerts []int64 `json:"text_alerts,omitempty"` // competitor and sentiment-drop alerts (text.go)
}

// AddHook makes h run inside every ingest transaction from now on (see
// store.TxHook). Call it while wiring, before any ingest.
func (m *Pipeline) AddHook(h store.TxHook) { m.hooks = append(m.hooks, h) }

// UpsertAccounts validates and stores a batch of accounts, all or nothing.
func (m *Pipeline) UpsertAccounts(ctx context.Context, in []AccountIn) ([]store.UpsertResult, error) {
	if err := checkBatchSize(len(in)); err != nil {
		return nil, err
	}
	rows, err := ValidateAccounts(in)
	if err != nil {
		return nil, err
	}
	res, err := m.store.UpsertAccounts(ctx, rows)
	var conflict *store.RowConflictError
	if errors.As(err, &conflict) {
		return nil, &ValidationError{Rows: []RowError{{Index: conflict.Index, Field: conflict.Field, Message: conflict.Message}}}
	}
	if err != nil {
		return nil, fmt.Errorf("upsert accounts: %w", err)
	}
	return res, nil
}

// IngestSignals validates, analyses and stores a batch, rescoring every
// account it touches. It returns only after everything is committed; on any
// error nothing of the batch is stored. hooks run in the same transaction
// (see store.TxHook) for features that keep their own rows per signal.
func (m *Pipeline) IngestSignals(ctx context.Context, in []SignalIn, hooks ...store.TxHook) (SignalsResult, error) {
	if err := checkBatchSize(len(in)); err != nil {
		return SignalsResult{}, err
	}
	return m.ingestSignals(ctx, in, hooks...)
}

// ImportSignals is IngestSignals without the per-call row cap, for CSV
// imports that must be stored all or nothing in one transaction.
func (m *Pipeline) ImportSignals(ctx context.Context, in []SignalIn, hooks ...store.TxHook) (SignalsResult, error) {
	if len(in) == 0 {
		return SignalsResult{}, checkBatchSize(0)
	}
	return m.ingestSignals(ctx, in, hooks...)
}

func (m *Pipeline) ingestSignals(ctx context.Context, in []SignalIn, hooks ...store.TxHook) (SignalsResult, error) {
	now := m.now()
	rows, err := validateSignals(in, now)
	if err != nil {
		return SignalsResult{}, err
	}
	tb := &textBatch{results: make([]text.Result, len(rows)), insights: map[int]Insight{}, trends: map[int64]scoring.SentimentTrend{}}
	for i := range rows {
		if strings.TrimSpace(rows[i].Text) == "" || in[i].Unanalysed {
			continue
		}
		var r text.Result
		if in[i].Analysis != nil {
			r = *in[i].Analysis
		} else {
			r = m.analyzer.Analyze(rows[i].Text)
		}
		tb.results[i] = r
		s := r.Sentiment
		rows[i].Sentiment = &s
		rows[i].ChurnIntent = r.ChurnIntent || rows[i].Kind == scoring.KindCancellation
	}
	m.insights(ctx, rows, tb)
	ev := &evaluation{m: m, now: now, text: tb}
	hooks = append(append(slices.Clip(hooks), m.hooks...), ev.textHook(rows))
	res, err := m.store.IngestSignals(ctx, rows, now.AddDate(0, 0, -historyDays), ev.evaluate, hooks...)
	if err != nil {
		ev.releaseCooldowns()
		var unknown *store.UnknownAccountsError
		if errors.As(err, &unknown) {
			ve := &ValidationError{}
			for _, i := range unknown.Indexes {
				ve.Rows = append(ve.Rows, RowError{Index: i, Field: "account", Message: fmt.Sprintf("no account with external id %q", in[i].Account)})
			}
			return SignalsResult{}, ve
		}
		return SignalsResult{}, fmt.Errorf("ingest signals: %w", err)
	}
	m.metrics.observe(len(rows)-res.Duplicates, res.Duplicates, len(res.Alerts))
	return SignalsResult{Stored: len(rows) - res.Duplicates, Duplicates: res.Duplicates, SignalIDs: res.SignalIDs, Alerts: res.Alerts,
		TextAlerts: tb.alerts}, nil
}

// historyDays bounds the signals loaded to rescore an account: long enough
// for the slowest decaying component (NPS, half-life 90 days) to matter.
const historyDays = 180

// evaluation is one ingest call's scoring pass; it remembers the cooldowns it
// took so a rolled-back batch gives them back.
type evaluation struct {
	m        *Pipeline
	now      time.Time
	acquired []string
	text     *textBatch
}

func (e *evaluation) releaseCooldowns() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, key := range e.acquired {
		if err := e.m.cooldowns.release(ctx, key); err != nil {
			e.m.log.Warn("release alert cooldown", "key", key, "err", err)
		}
	}
}

func (e *evaluation) evaluate(ctx context.Context, c store.AccountChange) (store.Outcome, error) {
	cfg := e.m.settings.Scoring
	e.noteTrend(c)
	h := scoring.Compute(cfg, scoring.Account{RenewalDate: c.Account.RenewalDate, Status: c.Account.Status}, c.History, e.now)
	out := store.Outcome{Health: h}
	if d := h.Drivers(1); len(d) > 0 {
		out.TopDriver = blocks.DriverText(d[0])
	}
	// A snapshot a day keeps the weekly trend meaningful without one row per usage ping.
	out.RecordSnapshot = c.Prev == nil || c.Prev.Score != h.Score || c.Prev.Band != h.Band || e.now.Sub(c.Prev.ComputedAt) >= 24*time.Hour

	reasons := scoring.DecideAlerts(cfg, c.Prev, h, c.New)
	var kept []scoring.AlertReason
	for _, r := range reasons {
		key := cooldownKey(c.Account.ID, r.Kind)
		ok, err := e.m.cooldowns.acquire(ctx, key, e.m.settings.Alerts.Cooldown.Duration)
		if err != nil {
			return out, fmt.Errorf("alert cooldown: %w", err)
		}
		if ok {
			e.acquired = append(e.acquired, key)
			kept = append(kept, r)
		}
	}
	if len(kept) == 0 {
		return out, nil
	}
	channel := cmp.Or(c.Account.ChannelID, e.m.settings.Alerts.DefaultChannel, c.Account.OwnerCSM)
	if channel == "" {
		e.m.log.Warn("alert has nowhere to go: set alerts.default_channel", "account", c.Account.ExternalID)
		return out, nil
	}
	alert := &store.NewAlert{
		Critical:  slices.ContainsFunc(kept, func(r scoring.AlertReason) bool { return r.Critical }),
		ChannelID: channel,
		ThreadKey: "alerts:" + strconv.FormatInt(c.Account.ID, 10) + ":" + channel,
	}
	for _, r := range kept {
		alert.Kinds = append(alert.Kinds, r.Kind)
	}
	trigger := triggerSignal(c.New)
	alert.SignalID = trigger.ID
	if !alert.Critical {
		alert.NotBefore = e.m.settings.Alerts.QuietHours.Until(e.now)
	}
	view := blocks.AlertView{
		AccountID: c.Account.ID, AccountName: c.Account.Name, ExternalID: c.Account.ExternalID,
		Score: h.Score, Band: h.Band, Reasons: kept, Drivers: drivers(c.Prev, h),
		Trigger: describeSignal(trigger), ARR: c.Account.ARR, RenewalDate: c.Account.RenewalDate,
		OwnerSlackID: c.Account.OwnerCSM, Now: e.now,
	}
	if c.Prev != nil {
		prev := c.Prev.Score
		view.PrevScore = &prev
	}
	alert.Render = func(id int64) (any, any, error) {
		view.AlertID = id
		return view, blocks.Alert(view), nil
	}
	out.Alert = alert
	return out, nil
}

// drivers explain an alert: the components that moved the score since the
// last one come first (biggest move first), then those that were already
// holding it down (biggest cost first), at most three.
func drivers(prev *scoring.Health, h scoring.Health) []scoring.ComponentDelta {
	moved := map[string]float64{}
	for _, d := range scoring.Deltas(prev, h) {
		moved[d.Key] = d.Delta
	}
	var out []scoring.ComponentDelta
	for _, c := range h.Drivers(len(h.Components)) {
		out = append(out, scoring.ComponentDelta{Component: c, Delta: moved[c.Key]})
	}
	slices.SortStableFunc(out, func(a, b scoring.ComponentDelta) int {
		if c := cmp.Compare(min(a.Delta, 0), min(b.Delta, 0)); c != 0 {
			return c
		}
		return cmp.Compare(a.Points, b.Points)
	})
	return out[:min(3, len(out))]
}

// triggerSignal picks the new signal that best explains an alert: stated
// churn intent first, then the latest with words, then the latest.
func triggerSignal(fresh []scoring.Signal) scoring.Signal {
	best := fresh[len(fresh)-1]
	for _, s := range fresh {
		if s.ChurnIntent || s.Kind == scoring.KindCancellation {
			return s
		}
		if s.Text != "" && (best.Text == "" || s.OccurredAt.After(best.OccurredAt)) {
			best = s
		}
	}
	return best
}

func describeSignal(s scoring.Signal) string {
	d := strings.ReplaceAll(string(s.Kind), "_", " ") + " from " + s.Source
	if s.Value != nil {
		d += " (" + strconv.FormatFloat(*s.Value, 'g', -1, 64) + ")"
	}
	if t := strings.Join(strings.Fields(s.Text), " "); t != "" {
		if r := []rune(t); len(r) > 200 {
			t = string(r[:199]) + "…"
		}
		d += ": “" + t + "”"
	}
	return d
}

func cooldownKey(accountID int64, kind scoring.AlertKind) string {
	return "cooldown:" + strconv.FormatInt(accountID, 10) + ":" + string(kind)
}

// Cooldowns keeps one alert per account and kind per window in Redis, shared
// by every replica.
type Cooldowns struct {
	rdb    *redis.Client
	prefix string
}

// NewCooldowns uses rdb with every key under prefix.
func NewCooldowns(rdb *redis.Client, prefix string) *Cooldowns {
	return &Cooldowns{rdb: rdb, prefix: prefix}
}

func (c *Cooldowns) acquire(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	return c.rdb.SetNX(ctx, c.prefix+key, "1", ttl).Result()
}

func (c *Cooldowns) release(ctx context.Context, key string) error {
	return c.rdb.Del(ctx, c.prefix+key).Err()
}

// Metrics counts what the ingest pipeline does.
type Metrics struct {
	signals *prometheus.CounterVec
	alerts  prometheus.Counter
}

// NewMetrics registers the pipeline's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		signals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "holdfast_signals_total", Help: "Signals received, by outcome.",
		}, []string{"outcome"}),
		alerts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "holdfast_alerts_total", Help: "Churn-risk alerts raised.",
		}),
	}
	reg.MustRegister(m.signals, m.alerts)
	return m
}

func (m *Metrics) observe(stored, duplicates, alerts int) {
	if m == nil {
		return
	}
	m.signals.WithLabelValues("stored").Add(float64(stored))
	m.signals.WithLabelValues("duplicate").Add(float64(duplicates))
	m.alerts.Add(float64(alerts))
}
