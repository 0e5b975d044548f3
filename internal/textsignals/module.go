// Package textsignals is what customers' words lead to beyond the
// sentiment and intent the ingest pipeline scores: the competitor mentions
// each signal holds, competitor and sentiment-drop alerts (once per
// cooldown, to the owner and the channels subscribed to the topic, with
// the optional language model's summary), claims of those alerts, and
// customer messages in account Slack channels becoming signals.
//
// It plugs into every ingest (IngestHooks): the model is asked before the
// transaction opens; mentions and alerts are written, rendered and queued
// inside it. The offline analysis (scoring/text) decides; the model's
// reading (Analyst) is only shown.
package textsignals

import (
	"context"
	"log/slog"
	"time"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/handlers"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/schedule"
	"github.com/holdfast/holdfast/store"
)

// Options are what a Module runs with besides its dependencies.
type Options struct {
	Settings       Settings
	DefaultChannel string              // alerts.default_channel: where alerts go without an owner or a subscribed channel
	QuietHours     schedule.QuietHours // alerts.quiet_hours: alerts without stated intent to leave wait for them to end
}

// Ingester stores signals through the ingest pipeline.
type Ingester interface {
	IngestSignals(ctx context.Context, in []ingest.SignalIn) (ingest.SignalsResult, error)
}

// Module is the text-signal feature, with the face app.go mounts.
type Module struct {
	store          *store.Store
	ingest         Ingester
	insight        Insighter // nil: alerts carry no summary
	settings       Settings
	defaultChannel string
	quiet          schedule.QuietHours
	router         *handlers.Router
	now            func() time.Time
	log            *slog.Logger
}

// New wires the module. analyst may be nil (no language model configured).
func New(st *store.Store, in Ingester, analyst *Analyst, opts Options, now func() time.Time, log *slog.Logger) *Module {
	m := &Module{store: st, ingest: in, settings: opts.Settings, defaultChannel: opts.DefaultChannel, quiet: opts.QuietHours,
		now: now, log: log}
	if analyst != nil { // a nil interface, not a nil *Analyst
		m.insight = analyst
	}
	return m
}

// Name is the feature's name in logs and the app's feature list.
func (m *Module) Name() string { return "text" }

// Register listens to messages in account channels and handles the Claim
// button of text alerts and the feedback buttons of text-driven cards.
func (m *Module) Register(r *handlers.Router) {
	m.router = r
	r.HandleEvent("message", m.message)
	r.HandleAction(blocks.ActionTextAlertClaim, m.claimClicked)
	r.HandleAction(blocks.ActionTextLabelNotIntent, m.labelClicked)
	r.HandleAction(blocks.ActionTextLabelWrongSentiment, m.labelClicked)
}

// IngestHooks records mentions and raises text alerts in every ingest.
func (m *Module) IngestHooks() []ingest.Hook { return []ingest.Hook{hook{m}} }
