// Package rooms is the sales-to-CS handoff of a won deal: deals come in
// (POST /v1/deals, the signed CRM webhook), a won deal gets its account a
// Slack room (a resumable state machine that creates or adopts the
// channel, invites the people and pins the handoff card), the AE is asked
// for what the card is missing (the won deal review), and /room shows or
// links an account's room. The pure rules (what a handoff must carry,
// deal validation, channel naming) are table-tested beside it.
package rooms

import (
	"context"
	"log/slog"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/api"
	"github.com/holdfast/holdfast/handlers"
	"github.com/holdfast/holdfast/store"
)

// Slack is the workspace the rooms live in.
type Slack interface {
	CreateChannel(ctx context.Context, name string, private bool) (string, error)
	FindChannel(ctx context.Context, name string, private bool) (id, creator string, err error)
	BotUserID(ctx context.Context) (string, error)
	Join(ctx context.Context, channel string) (string, error)
	Invite(ctx context.Context, channel, user string) error
	Pin(ctx context.Context, channel, ts string) error
	OpenDM(ctx context.Context, user string) (string, error)
}

// Views opens the won deal review.
type Views interface {
	OpenView(ctx context.Context, triggerID string, view slack.ModalViewRequest) error
}

// Options configure the rooms feature.
type Options struct {
	Settings Settings
	// DefaultChannel is never taken as an account's room, even when an
	// account names it (it is the alert channel many accounts share).
	DefaultChannel string
	// WebhookSecret signs POST /webhooks/crm (HOLDFAST_CRM_WEBHOOK_SECRET);
	// "" turns the webhook off.
	WebhookSecret string
}

// Module is account rooms as a feature of the bot.
type Module struct {
	st       *store.Store
	channels Slack
	views    Views
	settings Settings
	deals    *Deals
	runner   *Runner
	router   *handlers.Router
	now      func() time.Time
	log      *slog.Logger
}

// New wires account rooms.
func New(st *store.Store, channels Slack, views Views, opts Options, now func() time.Time, log *slog.Logger) *Module {
	var notRooms []string
	if opts.DefaultChannel != "" {
		notRooms = append(notRooms, opts.DefaultChannel)
	}
	return &Module{st: st, channels: channels, views: views, settings: opts.Settings,
		deals:  NewDeals(st, opts.WebhookSecret, now, log),
		runner: newRunner(st, channels, opts.Settings, notRooms, now, log),
		now:    now, log: log}
}

// Name names the feature.
func (*Module) Name() string { return "rooms" }

// Routes are the deal intake: POST /v1/deals and POST /webhooks/crm.
func (m *Module) Routes() []api.Route { return m.deals.routes() }

// Deals is the deal intake, for other ways deals come in (connectors).
func (m *Module) Deals() *Deals { return m.deals }

// Workers is the handoff runner.
func (m *Module) Workers() []store.Worker { return []store.Worker{m.runner} }
