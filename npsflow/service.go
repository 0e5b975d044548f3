// Package npsflow runs NPS as a conversation on top of the pure nps
// domain: answers in (API and CSV) through the ingest pipeline, detractor
// loops in Slack threads, the daily survey cadence, the survey-tool
// webhook, reminders and the weekly digest. Every change and the Slack
// messages it causes are written in one transaction (outbox).
package npsflow

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/nps"
	"github.com/holdfast/holdfast/scoring/text"
	"github.com/holdfast/holdfast/store"
)

// Store is the part of the store NPS flows use.
type Store interface {
	InTx(ctx context.Context, fn func(tx store.Tx) error) error
	Account(ctx context.Context, id int64) (store.Account, error)
	NPSLoop(ctx context.Context, id int64) (store.NPSLoop, store.Account, error)
	UpdateNPSLoop(ctx context.Context, id int64, fn func(l *store.NPSLoop, a store.Account) (store.LoopEffects, error)) error
	DueNPSLoops(ctx context.Context, now time.Time, limit int) ([]int64, error)
	SendNPSFollowUp(ctx context.Context, loopID int64, now time.Time,
		fn func(l *store.NPSLoop, a store.Account, v store.NPSSurvey) (store.FollowUpEffects, error)) (bool, error)
	RunNPSCadence(ctx context.Context, p store.CadenceParams, decide func([]store.NPSCadenceCandidate) (store.CadenceRun, error)) ([]store.NPSSurvey, error)
	LeaseNPSDeliveries(ctx context.Context, now time.Time, n int, lease time.Duration) ([]store.NPSDelivery, error)
	NPSDeliveryDone(ctx context.Context, id int64, now time.Time) error
	NPSDeliveryFailed(ctx context.Context, id int64, now, next time.Time, cause string, warn *store.OutboxItem) error
	RemindNPSNonResponders(ctx context.Context, cutoff, now time.Time, limit int, render func([]store.NPSUnanswered) ([]store.OutboxItem, error)) (int, error)
	DigestNPS(ctx context.Context, now time.Time, limit int, render func([]store.NPSDigestEntry) ([]store.OutboxItem, error)) (int, error)
	NPSHistory(ctx context.Context, accountID int64, limit int) ([]store.NPSResponse, error)
	NPSLoopsForAccount(ctx context.Context, accountID int64, limit int) ([]store.NPSLoop, error)
	NPSReportAnswers(ctx context.Context, from, to time.Time) ([]nps.ScoredAnswer, error)
	NPSReportLoops(ctx context.Context, from, to time.Time) ([]nps.Loop, error)
	OpenNPSLoopsFor(ctx context.Context, user string, limit int) ([]store.NPSLoopSummary, error)
}

// Ingester stores signals through the scoring pipeline inside a
// transaction NPS opens.
type Ingester interface {
	Prepare(ctx context.Context, in []ingest.SignalIn) (*ingest.Batch, error)
	Apply(ctx context.Context, tx store.Tx, b *ingest.Batch) error
}

// Analyzer reads sentiment from a comment.
type Analyzer interface {
	Analyze(s string) text.Result
}

// Options are the settings a Service runs with.
type Options struct {
	Settings       nps.Settings
	DefaultChannel string         // alerts.default_channel: where loops go without a CS channel
	Location       *time.Location // schedule.timezone: calendar days, quarters
	WebhookSecret  string         // HOLDFAST_SURVEY_WEBHOOK_SECRET
}

// Service is NPS as a conversation.
type Service struct {
	store    Store
	ingest   Ingester
	analyzer Analyzer
	cfg      nps.Settings
	channel  string // CS channel: due lists, digests, loops of accounts without a channel
	loc      *time.Location
	policy   nps.Policy
	cadence  nps.CadencePolicy
	secret   []byte
	http     *http.Client
	now      func() time.Time
	log      *slog.Logger
}

// New wires the service.
func New(st Store, in Ingester, analyzer Analyzer, opts Options, now func() time.Time, log *slog.Logger) *Service {
	cfg := opts.Settings
	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	var cal nps.Clock = nps.PlainClock{}
	if c := cfg.Calendar(); c.Enabled() {
		cal = c
	}
	channel := cmp.Or(cfg.CSChannel, opts.DefaultChannel)
	return &Service{
		store: st, ingest: in, analyzer: analyzer, cfg: cfg,
		channel: channel, loc: loc, secret: []byte(opts.WebhookSecret), http: &http.Client{Timeout: postTimeout}, now: now, log: log,
		policy: nps.Policy{
			Contact: cfg.Steps.Contact.Duration, RootCause: cfg.Steps.RootCause.Duration, ActionPlan: cfg.Steps.ActionPlan.Duration,
			EscalateAfter: cfg.Steps.EscalateAfter.Duration, FollowUp: cfg.Steps.FollowUp.Duration,
			Calendar: cal, EscalationARR: cfg.EscalationARR,
		},
		cadence: nps.CadencePolicy{QuietPeriod: cfg.Cadence.QuietPeriod.Duration, CatchUp: cfg.Cadence.CatchUp.Duration, Location: loc},
	}
}

func message(m blocks.Message) blocks.Message { return m }

// card renders a loop's card as it is now.
func (s *Service) card(l store.NPSLoop) (blocks.Message, error) {
	var c blocks.NPSCardContext
	if err := json.Unmarshal(l.Card, &c); err != nil {
		return blocks.Message{}, fmt.Errorf("decode loop card: %w", err)
	}
	return message(blocks.NPSLoopCard(blocks.NPSCardView{Context: c, Loop: l.Loop, Executive: s.cfg.Executive,
		FollowUpAfter: s.policy.FollowUp, Now: s.now()})), nil
}

// threadPost is a message in a loop's thread.
func threadPost(l store.NPSLoop, m blocks.Message) store.OutboxItem {
	return store.OutboxItem{Op: store.OpPost, ChannelID: l.ChannelID, ThreadKey: l.ThreadKey, Message: message(m)}
}

// cardUpdate re-renders a loop's card in place (after its delivery, in
// order with earlier updates).
func (s *Service) cardUpdate(l store.NPSLoop) (store.OutboxItem, error) {
	m, err := s.card(l)
	if err != nil {
		return store.OutboxItem{}, err
	}
	return store.OutboxItem{Op: store.OpUpdate, ChannelID: l.ChannelID, TargetRef: l.CardRef, Message: m}, nil
}
