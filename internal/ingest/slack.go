package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/handlers"
	"github.com/holdfast/holdfast/store"
)

// Register puts the churn-risk alert's Claim button on r.
func (p *Pipeline) Register(r *handlers.Router) {
	p.router = r
	r.HandleAction(blocks.ActionClaim, func(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
		return p.claim(ctx, cb, act.Value)
	})
}

// errNotInBook rolls a claim back: the account is outside the claimant's book.
var errNotInBook = errors.New("account not in the claimant's book")

// claim records who owns the follow-up of a churn-risk alert; the first
// claim wins, and a later claimant is told who owns it.
func (p *Pipeline) claim(ctx context.Context, cb slack.InteractionCallback, value string) error {
	id, err := strconv.ParseInt(value, 10, 64)
	if err != nil {
		return fmt.Errorf("bad alert id %q", value)
	}
	var res store.ClaimResult
	err = p.store.InTx(ctx, func(tx store.Tx) error {
		if res, err = tx.ClaimAlert(ctx, id, cb.User.ID, p.now()); err != nil || !res.Claimed {
			return err
		}
		// Only someone whose book holds the account takes its follow-up.
		if a, err := tx.Account(ctx, res.Alert.AccountID); err != nil {
			return err
		} else if !handlers.MayRead(ctx, a) {
			return errNotInBook
		}
		if err := handlers.Audit(ctx, tx, cb.User.ID, "alert.claim", res.Alert.AccountID, "alert "+value); err != nil {
			return err
		}
		// The posted alert shows its owner: an edit queued with the claim.
		var view alertView
		if err := json.Unmarshal(res.Alert.View, &view); err != nil {
			return fmt.Errorf("decode alert view: %w", err)
		}
		view.ClaimedBy = cb.User.ID
		return tx.Enqueue(ctx, store.OutboxItem{Op: store.OpUpdate, ChannelID: res.Alert.ChannelID,
			TargetRef: store.AlertRef(id), Message: alertCard(view), AlertID: id})
	})
	switch {
	case errors.Is(err, errNotInBook):
		p.router.Tell(ctx, cb, blocks.Problem(handlers.NotInBook))
	case errors.Is(err, store.ErrNotFound):
		p.router.Tell(ctx, cb, blocks.Problem("That alert no longer exists."))
	case err != nil:
		return err
	case !res.Claimed && res.Alert.ClaimedBy == cb.User.ID:
		p.router.Tell(ctx, cb, blocks.Problem("You already own this follow-up."))
	case !res.Claimed:
		p.router.Tell(ctx, cb, blocks.AlreadyClaimed(res.Alert.ClaimedBy))
	}
	return nil
}
