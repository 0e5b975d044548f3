package rooms

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/holdfast/holdfast/api"
	"github.com/holdfast/holdfast/store"
)

// Deals takes deals in from the API and the CRM webhook.
type Deals struct {
	store         *store.Store
	webhookSecret string // HOLDFAST_CRM_WEBHOOK_SECRET; "" turns the webhook off
	now           func() time.Time
	log           *slog.Logger
}

// NewDeals wires the deal intake.
func NewDeals(st *store.Store, webhookSecret string, now func() time.Time, log *slog.Logger) *Deals {
	return &Deals{store: st, webhookSecret: webhookSecret, now: now, log: log}
}

// RecordDeals validates a batch and stores it in one transaction, all or
// nothing. A deal at closed-won claims its handoff in the same
// transaction; the room is made by the Runner afterwards. The sender's
// mistakes, and problems only the database can see, are an
// *api.ValidationError.
func (d *Deals) RecordDeals(ctx context.Context, in []DealIn, source string) ([]DealResult, error) {
	var out []DealResult
	err := d.store.InTx(ctx, func(tx store.Tx) error {
		var err error
		out, err = d.RecordDealsTx(ctx, tx, in, source)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RecordDealsTx is RecordDeals inside the caller's transaction, for
// intake that must commit deals with records of its own (a connector's
// event ids).
func (d *Deals) RecordDealsTx(ctx context.Context, tx store.Tx, in []DealIn, source string) ([]DealResult, error) {
	now := d.now()
	rows, err := ValidateDeals(in, source, now)
	if err != nil {
		return nil, err
	}
	// Lock deals in one order so two batches cannot deadlock.
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(rows[a].Deal.ExternalID, rows[b].Deal.ExternalID) })
	out := make([]DealResult, len(rows))
	err = func() error {
		var problems []api.RowError
		wake := false
		for _, i := range order {
			res, problem, err := upsertDeal(ctx, tx, rows[i], now)
			if err != nil {
				return fmt.Errorf("deal %q: %w", rows[i].Deal.ExternalID, err)
			}
			if problem != nil {
				problem.Index = i
				problems = append(problems, *problem)
				continue
			}
			out[i] = res
			wake = wake || res.Handoff == "started" || (res.Handoff == "exists" && res.Status == "updated")
		}
		if len(problems) > 0 {
			slices.SortFunc(problems, func(a, b api.RowError) int { return a.Index - b.Index })
			return &api.ValidationError{Rows: problems}
		}
		if wake {
			return Handoffs.Notify(ctx, tx)
		}
		return nil
	}()
	if err != nil {
		return nil, err
	}
	return out, nil
}
