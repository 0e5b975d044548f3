// Package dunning chases failed payments by why they failed: a card that
// needs updating, a soft decline worth retrying, or a hard decline that
// needs a conversation. Every payment_failed signal, from the ingest API
// or the Stripe webhook, opens or extends a case with an alert that says
// which path to take and holds a ready customer note; a payment_recovered
// signal closes the case in the same thread. It all happens in the
// transaction that stores the signal.
package dunning

import (
	"context"
	"log/slog"
	"time"

	"github.com/holdfast/holdfast/api"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/schedule"
	"github.com/holdfast/holdfast/store"
)

// Ingester stores signals through the scoring pipeline inside a
// transaction the webhook opens (*ingest.Pipeline).
type Ingester interface {
	Prepare(ctx context.Context, in []ingest.SignalIn) (*ingest.Batch, error)
	Apply(ctx context.Context, tx store.Tx, b *ingest.Batch) error
}

// Options configure the module.
type Options struct {
	Settings Settings // YAML dunning
	// DefaultChannel (alerts.default_channel) gets the alert of an account
	// without a channel when dunning.channel is unset.
	DefaultChannel string
	// QuietHours (alerts.quiet_hours) hold a standard account's alerts.
	QuietHours schedule.QuietHours
	// StripeWebhookSecret verifies POST /webhooks/stripe; empty, the
	// endpoint answers 404.
	StripeWebhookSecret string
}

// Module is the dunning feature: its ingest hook and the Stripe webhook.
type Module struct {
	store  *store.Store
	ingest Ingester
	opts   Options
	now    func() time.Time
	log    *slog.Logger
}

// New wires the module; now is the clock quiet hours and unsigned event
// times are judged by.
func New(st *store.Store, in Ingester, opts Options, now func() time.Time, log *slog.Logger) *Module {
	return &Module{store: st, ingest: in, opts: opts, now: now, log: log}
}

// Name names the feature.
func (m *Module) Name() string { return "dunning" }

// IngestHooks: every ingested payment signal goes through the cases.
func (m *Module) IngestHooks() []ingest.Hook { return []ingest.Hook{ingest.HookFunc(m.hook)} }

// Routes: the Stripe webhook.
func (m *Module) Routes() []api.Route {
	return []api.Route{{Pattern: "POST /webhooks/stripe", Name: "stripe_webhook", Handler: m.stripeWebhook}}
}
