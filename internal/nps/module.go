// Package nps is NPS as a conversation: answers come in (API and CSV)
// through the ingest pipeline, a detractor's answer opens a loop in a
// Slack thread (contact, root cause, action plan, escalation, follow-up
// survey) with deadlines and nudges, a daily cadence picks who is due a
// survey and hands the list to the survey tool, CSMs are reminded of
// unanswered surveys, and promoters and passives are digested weekly.
//
// The rules (answers, loop steps and deadlines, cadence, report figures,
// webhook signing) are pure; each service runs validate, load, decide,
// write, render and enqueue in one transaction it opens.
package nps

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/handlers"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/schedule"
	"github.com/holdfast/holdfast/scoring/text"
	"github.com/holdfast/holdfast/store"
)

// Options are what a Module runs with besides its dependencies.
type Options struct {
	Settings       Settings
	DefaultChannel string         // alerts.default_channel: where loops go without a CS channel
	Location       *time.Location // schedule.timezone: calendar days, quarters
	WebhookSecret  string         // HOLDFAST_SURVEY_WEBHOOK_SECRET
}

// Module is NPS as a conversation, with the feature face app.go mounts.
type Module struct {
	store    *store.Store
	ingest   *ingest.Pipeline
	analyzer *text.Analyzer
	slack    handlers.Slack // nil in the CSV import, which answers no Slack
	router   *handlers.Router
	cfg      Settings
	channel  string // CS channel: due lists, digests, loops of accounts without a channel
	loc      *time.Location
	policy   Policy
	cadence  CadencePolicy
	secret   []byte
	http     *http.Client
	now      func() time.Time
	log      *slog.Logger
}

// New wires the module.
func New(st *store.Store, in *ingest.Pipeline, analyzer *text.Analyzer, sl handlers.Slack, opts Options,
	now func() time.Time, log *slog.Logger) *Module {
	cfg := opts.Settings
	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	var cal Clock = PlainClock{}
	if c := cfg.Calendar(); c.Enabled() {
		cal = c
	}
	return &Module{
		store: st, ingest: in, analyzer: analyzer, slack: sl, cfg: cfg,
		channel: cmp.Or(cfg.CSChannel, opts.DefaultChannel), loc: loc, secret: []byte(opts.WebhookSecret),
		http: &http.Client{Timeout: postTimeout}, now: now, log: log,
		policy: Policy{
			Contact: cfg.Steps.Contact.Duration, RootCause: cfg.Steps.RootCause.Duration, ActionPlan: cfg.Steps.ActionPlan.Duration,
			EscalateAfter: cfg.Steps.EscalateAfter.Duration, FollowUp: cfg.Steps.FollowUp.Duration,
			Calendar: cal, EscalationARR: cfg.EscalationARR,
		},
		cadence: CadencePolicy{QuietPeriod: cfg.Cadence.QuietPeriod.Duration, CatchUp: cfg.Cadence.CatchUp.Duration, Location: loc},
	}
}

// Name is the feature's name.
func (*Module) Name() string { return "nps" }

// Job names, for the scheduler and for tests' RunNow.
const (
	JobCadence = "nps-cadence" // daily: who is due a survey
	JobLoops   = "nps-loops"   // overdue steps, follow-ups, non-responder reminders
	JobWebhook = "nps-webhook" // pending POSTs to the survey tool
	JobDigest  = "nps-digest"  // weekly promoters and passives
)

// Jobs are the cadence, the loop watcher, the survey-tool sender (off
// without a survey tool) and the weekly digest.
func (m *Module) Jobs() []schedule.Job {
	webhook := m.cfg.Jobs.Webhook
	if !m.webhookOn() {
		webhook = schedule.Off
	}
	return []schedule.Job{
		{Name: JobCadence, Spec: m.cfg.Cadence.Spec, Run: m.Cadence},
		{Name: JobLoops, Spec: m.cfg.Jobs.Loops, Run: m.Loops},
		{Name: JobWebhook, Spec: webhook, Run: m.Webhook},
		{Name: JobDigest, Spec: m.cfg.Digest.Spec, Run: m.Digest},
	}
}

// homeLoops is how many open loops the App Home lists.
const homeLoops = 16

// HomeSections show each user the open detractor loops of the accounts
// they own.
func (m *Module) HomeSections() []handlers.HomeSection {
	return []handlers.HomeSection{{Name: "nps", Render: func(ctx context.Context, user string, now time.Time) (blocks.HomeSection, bool, error) {
		loops, err := m.OpenLoopsFor(ctx, user, homeLoops)
		if err != nil || len(loops) == 0 {
			return blocks.HomeSection{}, false, err
		}
		return blocks.HomeSection{Title: "Your open detractor loops", Blocks: HomeLoops(loops, now)}, true, nil
	}}}
}

// OpenLoopsFor lists the open detractor loops of the accounts a user owns,
// oldest first.
func (m *Module) OpenLoopsFor(ctx context.Context, user string, limit int) ([]HomeLoop, error) {
	return openLoopsFor(ctx, m.store.DB(), user, limit)
}

// card renders a loop's card as it is now.
func (m *Module) card(l loopRow) (blocks.Message, error) {
	var c cardContext
	if err := json.Unmarshal(l.Card, &c); err != nil {
		return blocks.Message{}, fmt.Errorf("decode loop card: %w", err)
	}
	return loopCard(cardView{Context: c, Loop: l.Loop, Executive: m.cfg.Executive,
		FollowUpAfter: m.policy.FollowUp, Now: m.now()}), nil
}

// threadPost is a message in a loop's thread.
func threadPost(l loopRow, m blocks.Message) store.OutboxItem {
	return store.OutboxItem{Op: store.OpPost, ChannelID: l.ChannelID, ThreadKey: l.ThreadKey, Message: m}
}

// cardUpdate re-renders a loop's card in place (after its delivery, in
// order with earlier updates).
func (m *Module) cardUpdate(l loopRow) (store.OutboxItem, error) {
	msg, err := m.card(l)
	if err != nil {
		return store.OutboxItem{}, err
	}
	return store.OutboxItem{Op: store.OpUpdate, ChannelID: l.ChannelID, TargetRef: l.CardRef, Message: msg}, nil
}

// enqueue writes the messages a change causes, in the change's transaction.
func enqueue(ctx context.Context, tx store.Tx, items ...store.OutboxItem) error {
	for _, it := range items {
		if err := tx.Enqueue(ctx, it); err != nil {
			return err
		}
	}
	return nil
}
