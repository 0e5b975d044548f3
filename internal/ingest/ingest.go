// Package ingest is how signals and accounts enter Holdfast, from every way
// in (the API, webhooks, Slack messages, CSV imports). It runs one
// workflow in one direction:
//
//	validate -> analyse (Prepare, outside any transaction)
//	-> store -> score -> decide -> render -> enqueue -> features' hooks
//	   (Apply, inside the caller's transaction)
//
// so the caller's 2xx means all of it is committed, and a replayed batch
// stores and alerts nothing. The churn-risk alert it decides is its own
// too: its card (cards.go), which the playbook re-renders once claimed.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/holdfast/holdfast/api"
	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/scoring/text"
	"github.com/holdfast/holdfast/store"
)

// Analyzer reads sentiment and churn intent from customer text.
type Analyzer interface {
	Analyze(s string) text.Result
}

// A Hook is a feature's share of every ingest, whichever way the signals
// came in (a dunning case per payment failure, a note per call note, the
// text alerts). Prepare runs before the transaction opens, for slow work
// such as a language model, and returns what runs inside the transaction
// after the signals, scores and churn-risk alerts are written (nil: nothing
// this time). An error there rolls the whole batch back.
type Hook interface {
	Prepare(ctx context.Context, b *Batch) TxStep
}

// TxStep is a hook's work inside the ingest transaction.
type TxStep func(ctx context.Context, tx store.Tx, b *Batch) error

// HookFunc is a Hook with nothing to prepare.
type HookFunc TxStep

// Prepare returns the hook itself.
func (f HookFunc) Prepare(context.Context, *Batch) TxStep { return TxStep(f) }

// Pipeline applies signals to accounts.
type Pipeline struct {
	store    *store.Store
	analyzer Analyzer
	settings Settings
	now      func() time.Time
	log      *slog.Logger
	metrics  *Metrics
	// hooks run in every ingest transaction: features' rows per signal.
	hooks []Hook
	// threads names the Slack thread each churn-risk alert joins.
	threads AlertThreads
	// people turns e-mail addresses in person fields into Slack users.
	people People
	// scorer replaces the hand-set weights when set (a learned model).
	scorer Scorer
}

// People resolves an e-mail address to a Slack user id ("" = no such user).
type People interface {
	Resolve(ctx context.Context, email string) (string, error)
}

// ResolvePeople makes account imports store the Slack user behind each
// e-mail address in owner_csm, ae and sales_manager. Addresses Slack does
// not know are kept as typed, logged, and reported in the answer.
func (p *Pipeline) ResolvePeople(r People) { p.people = r }

// resolvePeople replaces e-mail addresses with Slack user ids and returns
// the ones Slack does not know.
func (p *Pipeline) resolvePeople(ctx context.Context, rows []store.AccountInput) ([]string, error) {
	if p.people == nil {
		return nil, nil
	}
	return ResolveEmails(ctx, p.people, rows, p.log)
}

// ResolveEmails replaces the e-mail addresses in owner_csm, ae and
// sales_manager with Slack user ids; the addresses Slack does not know
// stay as typed, are logged, and are returned.
func ResolveEmails(ctx context.Context, people People, rows []store.AccountInput, log *slog.Logger) ([]string, error) {
	var unknown []string
	// One owner or manager is on many rows of an import: each address is
	// resolved once per batch, not once per row.
	resolved := map[string]string{}
	for i := range rows {
		for _, f := range []*string{&rows[i].OwnerCSM, &rows[i].AE, &rows[i].SalesManager} {
			if !store.IsEmail(*f) {
				continue
			}
			id, seen := resolved[*f]
			if !seen {
				var err error
				if id, err = people.Resolve(ctx, *f); err != nil {
					return nil, err
				}
				resolved[*f] = id
			}
			if id == "" {
				log.Warn("no Slack user has this e-mail address; kept as typed", "account", rows[i].ExternalID, "email", *f)
				if !slices.Contains(unknown, *f) {
					unknown = append(unknown, *f)
				}
				continue
			}
			*f = id
		}
	}
	return unknown, nil
}

// New wires the pipeline. now is the clock (tests pass a fixed one).
func New(st *store.Store, analyzer Analyzer, settings Settings, now func() time.Time, log *slog.Logger, metrics *Metrics) *Pipeline {
	return &Pipeline{store: st, analyzer: analyzer, settings: settings, now: now, log: log, metrics: metrics, threads: defaultThreads{}}
}

// SetThreads makes t name the Slack thread of every churn-risk alert.
// Call it while wiring, before any ingest.
func (p *Pipeline) SetThreads(t AlertThreads) { p.threads = t }

// AddHook makes h part of every ingest from now on. Call it while wiring,
// before any ingest.
func (p *Pipeline) AddHook(h ...Hook) { p.hooks = append(p.hooks, h...) }

// SignalsResult reports an accepted batch.
type SignalsResult struct {
	Stored     int     `json:"stored"`
	Duplicates int     `json:"duplicates"`
	SignalIDs  []int64 `json:"signal_ids"` // per input row; 0 = duplicate
	Alerts     []int64 `json:"alerts"`
	TextAlerts []int64 `json:"text_alerts,omitempty"` // competitor and sentiment-drop alerts
}

// UpsertAccounts validates and stores a batch of accounts, all or nothing.
func (p *Pipeline) UpsertAccounts(ctx context.Context, in []AccountIn) ([]store.UpsertResult, error) {
	res, _, err := p.upsertAccounts(ctx, in)
	return res, err
}

// upsertAccounts is UpsertAccounts that also returns the e-mail addresses
// Slack does not know (stored as typed).
func (p *Pipeline) upsertAccounts(ctx context.Context, in []AccountIn) ([]store.UpsertResult, []string, error) {
	if err := checkBatchSize(len(in)); err != nil {
		return nil, nil, err
	}
	rows, err := ValidateAccounts(in)
	if err != nil {
		return nil, nil, err
	}
	unknown, err := p.resolvePeople(ctx, rows)
	if err != nil {
		return nil, nil, err
	}
	res, err := p.storeAccounts(ctx, rows)
	return res, unknown, err
}

// ImportAccounts is UpsertAccounts without the per-call row cap, for CSV
// imports that must be stored all or nothing in one transaction.
func (p *Pipeline) ImportAccounts(ctx context.Context, in []AccountIn) ([]store.UpsertResult, error) {
	rows, err := ValidateAccounts(in)
	if err != nil {
		return nil, err
	}
	if _, err := p.resolvePeople(ctx, rows); err != nil {
		return nil, err
	}
	return p.storeAccounts(ctx, rows)
}

func (p *Pipeline) storeAccounts(ctx context.Context, rows []store.AccountInput) ([]store.UpsertResult, error) {
	var res []store.UpsertResult
	var err error
	err = p.store.InTx(ctx, func(tx store.Tx) error {
		res, err = tx.UpsertAccounts(ctx, rows)
		return err
	})
	if te, ok := errors.AsType[*store.TraitTypeError](err); ok {
		ve := &api.ValidationError{}
		for _, r := range te.Rows {
			ve.Rows = append(ve.Rows, api.RowError{Index: r.Index, Field: r.Field, Message: r.Message})
		}
		return nil, ve
	}
	var conflict *store.RowConflictError
	if errors.As(err, &conflict) {
		return nil, &api.ValidationError{Rows: []api.RowError{{Index: conflict.Index, Field: conflict.Field, Message: conflict.Message}}}
	}
	if err != nil {
		return nil, fmt.Errorf("upsert accounts: %w", err)
	}
	return res, nil
}

// IngestSignals validates, analyses and stores a batch in one transaction,
// rescoring every account it touches. It returns only after everything is
// committed; on any error nothing of the batch is stored.
func (p *Pipeline) IngestSignals(ctx context.Context, in []SignalIn) (SignalsResult, error) {
	if err := checkBatchSize(len(in)); err != nil {
		return SignalsResult{}, err
	}
	return p.ImportSignals(ctx, in)
}

// ImportSignals is IngestSignals without the per-call row cap, for CSV
// imports that must be stored all or nothing in one transaction.
func (p *Pipeline) ImportSignals(ctx context.Context, in []SignalIn) (SignalsResult, error) {
	b, err := p.Prepare(ctx, in)
	if err != nil {
		return SignalsResult{}, err
	}
	return b.Finish(p.store.InTx(ctx, func(tx store.Tx) error { return p.Apply(ctx, tx, b) }))
}

// Batch is one ingest call on its way through the pipeline, and what a
// Hook sees of it.
type Batch struct {
	p        *Pipeline
	now      time.Time
	in       []SignalIn
	Inputs   []store.SignalInput // validated rows, with sentiment and intent
	Analyses []text.Result       // per row; zero for rows without analysed text
	steps    []TxStep

	// Filled by Apply, for the hooks and the result.
	SignalIDs  []int64                  // per input row; 0 = duplicate (nothing new to act on)
	AccountIDs []int64                  // per input row
	Accounts   map[int64]store.Account  // accounts that got a new signal, as loaded for scoring
	Health     map[int64]scoring.Health // their new health
	History    map[int64][]scoring.Signal
	Alerts     []int64 // churn-risk alerts raised
	TextAlerts []int64 // competitor and sentiment-drop alerts raised (by the text hook)

	duplicates int
	// scored holds the Scorer's health per account, when one is set.
	scored map[int64]scoring.Health
	// timeDriven marks a rescoring no signal caused: only moved scores are written.
	timeDriven bool
}

// Now is the time the batch is scored at.
func (b *Batch) Now() time.Time { return b.now }

// Prepare validates and analyses a batch, outside any transaction, and
// lets every hook prepare. A validation problem is an *api.ValidationError.
func (p *Pipeline) Prepare(ctx context.Context, in []SignalIn) (*Batch, error) {
	if len(in) == 0 {
		return nil, checkBatchSize(0)
	}
	now := p.now()
	rows, err := validateSignals(in, now)
	if err != nil {
		return nil, err
	}
	b := &Batch{p: p, now: now, in: in, Inputs: rows, Analyses: make([]text.Result, len(rows))}
	for i := range rows {
		if strings.TrimSpace(rows[i].Text) == "" || in[i].Unanalysed {
			continue
		}
		var r text.Result
		if in[i].Analysis != nil {
			r = *in[i].Analysis
		} else {
			r = p.analyzer.Analyze(rows[i].Text)
		}
		b.Analyses[i] = r
		s := r.Sentiment
		rows[i].Sentiment = &s
		rows[i].ChurnIntent = r.ChurnIntent || rows[i].Kind == scoring.KindCancellation
	}
	for _, h := range p.hooks {
		if step := h.Prepare(ctx, b); step != nil {
			b.steps = append(b.steps, step)
		}
	}
	return b, nil
}

// historyDays bounds the signals loaded to rescore an account: long enough
// for the slowest decaying component (NPS, half-life 90 days) to matter.
const historyDays = 180

// Apply stores the batch inside tx: signals (replays are duplicates),
// timeline, new health per touched account, the alerts it decides on with
// their Slack messages, then every hook's step.
func (p *Pipeline) Apply(ctx context.Context, tx store.Tx, b *Batch) error {
	ids, err := tx.ResolveAccounts(ctx, b.Inputs)
	if err != nil {
		return err
	}
	stored, err := tx.InsertSignals(ctx, b.Inputs, ids)
	if err != nil {
		return err
	}
	b.SignalIDs, b.AccountIDs = stored, ids
	b.Accounts, b.Health, b.History = map[int64]store.Account{}, map[int64]scoring.Health{}, map[int64][]scoring.Signal{}
	fresh := map[int64][]scoring.Signal{}
	for i, id := range stored {
		if id == 0 {
			b.duplicates++
			continue
		}
		fresh[ids[i]] = append(fresh[ids[i]], store.ScoringSignal(id, b.Inputs[i]))
	}
	if len(fresh) > 0 {
		if err := p.rescore(ctx, tx, b, fresh); err != nil {
			return err
		}
	}
	for _, step := range b.steps {
		if err := step(ctx, tx, b); err != nil {
			return err
		}
	}
	return nil
}

// rescore writes the touched accounts' timeline, health and alerts.
func (p *Pipeline) rescore(ctx context.Context, tx store.Tx, b *Batch, fresh map[int64][]scoring.Signal) error {
	if err := tx.AppendSignalTimeline(ctx, b.Inputs, b.AccountIDs, b.SignalIDs); err != nil {
		return err
	}
	accountIDs := make([]int64, 0, len(fresh))
	for id := range fresh {
		accountIDs = append(accountIDs, id)
	}
	slices.Sort(accountIDs)
	loaded, err := tx.LoadForScoring(ctx, accountIDs, b.now.AddDate(0, 0, -historyDays))
	if err != nil {
		return err
	}
	if b.scored, err = p.score(ctx, tx, loaded, b.now); err != nil {
		return err
	}
	writes := &store.HealthWrites{}
	for _, id := range accountIDs {
		in := loaded[id]
		if err := p.assess(ctx, tx, b, in, fresh[id], writes); err != nil {
			return fmt.Errorf("evaluate account %d: %w", id, err)
		}
	}
	return tx.WriteHealth(ctx, writes)
}

// Finish turns the transaction's outcome into the caller's answer: on an
// error it names the rows whose account does not exist.
func (b *Batch) Finish(err error) (SignalsResult, error) {
	if err != nil {
		var unknown *store.UnknownAccountsError
		if errors.As(err, &unknown) {
			ve := &api.ValidationError{}
			for _, i := range unknown.Indexes {
				ve.Rows = append(ve.Rows, api.RowError{Index: i, Field: "account", Message: fmt.Sprintf("no account with external id %q", b.in[i].Account)})
			}
			return SignalsResult{}, ve
		}
		return SignalsResult{}, fmt.Errorf("ingest signals: %w", err)
	}
	n := len(b.Inputs)
	b.p.metrics.observe(n-b.duplicates, b.duplicates, len(b.Alerts))
	return SignalsResult{Stored: n - b.duplicates, Duplicates: b.duplicates, SignalIDs: b.SignalIDs, Alerts: b.Alerts,
		TextAlerts: b.TextAlerts}, nil
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
