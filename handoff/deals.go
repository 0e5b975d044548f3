package handoff

import (
	"context"
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
	store DealStore
	now   func() time.Time
}

// NewDeals wires the deal intake.
func NewDeals(st DealStore, now func() time.Time) *Deals { return &Deals{store: st, now: now} }

// RecordDeals validates a batch and stores it, all or nothing. A deal at
// closed-won claims its handoff in the same transaction; the room is made
// by the Runner afterwards. Errors are *rooms.ValidationError or
// *store.DealRowsError for the sender's mistakes.
func (d *Deals) RecordDeals(ctx context.Context, in []rooms.DealIn, source string) ([]store.DealResult, error) {
	now := d.now()
	rows, err := rooms.ValidateDeals(in, source, now)
	if err != nil {
		return nil, err
	}
	return d.store.UpsertDeals(ctx, rows, now)
}
