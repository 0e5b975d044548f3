package handoff

import (
	"context"
	"log/slog"
	"time"

	"github.com/holdfast/holdfast/rooms"
	"github.com/holdfast/holdfast/store"
)

// DealStore records deals and claims handoffs.
type DealStore interface {
	UpsertDeals(ctx context.Context, in []rooms.DealInput, now time.Time) ([]store.DealResult, error)
}

// Deals takes deals in from the API and the CRM webhook.
type Deals struct {
	store         DealStore
	webhookSecret string // HOLDFAST_CRM_WEBHOOK_SECRET; "" turns the webhook off
	now           func() time.Time
	log           *slog.Logger
}

// NewDeals wires the deal intake.
func NewDeals(st DealStore, webhookSecret string, now func() time.Time, log *slog.Logger) *Deals {
	return &Deals{store: st, webhookSecret: webhookSecret, now: now, log: log}
}

// RecordDeals validates a batch and stores it, all or nothing. A deal at
// closed-won claims its handoff in the same transaction; the room is made
// by the Runner afterwards. The sender's mistakes are an
// *api.ValidationError.
func (d *Deals) RecordDeals(ctx context.Context, in []rooms.DealIn, source string) ([]store.DealResult, error) {
	now := d.now()
	rows, err := rooms.ValidateDeals(in, source, now)
	if err != nil {
		return nil, err
	}
	return d.store.UpsertDeals(ctx, rows, now)
}
