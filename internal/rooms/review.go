package rooms

import (
	"context"
	"errors"
	"fmt"

	"github.com/holdfast/holdfast/store"
)

// errNotAllowed: the user may not review the deal (see mayReview).
var errNotAllowed = errors.New("not allowed")

// completeReview stores what the AE submitted in the won deal review, if
// user may review the deal: it replaces every handoff field the review
// shows. In the same transaction the handoff worker is asked to refresh
// the card, the timeline records the review and the request DM is
// updated to say thanks.
func (m *Module) completeReview(ctx context.Context, dealID int64, d Deal, user string) error {
	at := m.now()
	return m.st.InTx(ctx, func(tx store.Tx) error {
		accountID, allowed, err := lockForReview(ctx, tx, dealID, user)
		if err != nil {
			return err
		}
		if !allowed {
			return errNotAllowed
		}
		if err := storeReview(ctx, tx, dealID, accountID, d, user, at); err != nil {
			return err
		}
		if err := markCardChanged(ctx, tx, dealID); err != nil {
			return err
		}
		summary := fmt.Sprintf("Won deal review completed: %d promises recorded", len(d.Promises))
		if len(d.Promises) == 1 {
			summary = "Won deal review completed: 1 promise recorded"
		}
		if err := tx.AddTimeline(ctx, accountID, store.TimelineEntry{At: at, Kind: "handoff.reviewed", Summary: summary,
			Actor: user}, dealID); err != nil {
			return err
		}
		if err := m.thankReviewer(ctx, tx, dealID, accountID); err != nil {
			return err
		}
		return Handoffs.Notify(ctx, tx)
	})
}

// thankReviewer replaces the review request, if one was sent, with thanks.
// An update needs the DM's conversation id, which the request was posted
// to.
func (m *Module) thankReviewer(ctx context.Context, tx store.Tx, dealID, accountID int64) error {
	request, err := tx.OutboxMessage(ctx, ReviewRef(dealID))
	if err != nil || !request.Queued {
		return err
	}
	a, err := tx.Account(ctx, accountID)
	if err != nil {
		return err
	}
	room := ""
	if r, err := RoomOf(ctx, tx, accountID); err == nil {
		room = r.ChannelID
	}
	return tx.Enqueue(ctx, store.OutboxItem{Op: store.OpUpdate, ChannelID: request.ChannelID, TargetRef: ReviewRef(dealID),
		Message: ReviewDone(a.Name, room)})
}
