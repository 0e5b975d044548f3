package handlers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/churn"
	"github.com/holdfast/holdfast/store"
)

// dormantLimit bounds the dormant accounts listed per week (the largest first).
const dormantLimit = 500

// WinbackWeekly puts dormant accounts and churned accounts whose win-back
// window is open in front of their owners, each with a Start win-back
// button. Accounts already offered this week are not offered again, so a
// re-run (or a second replica) posts nothing twice.
func (h *Loop) WinbackWeekly(ctx context.Context, now time.Time) error {
	today := h.today(now)
	week := today.AddDate(0, 0, -((int(today.Weekday()) + 6) % 7))
	cfg := h.settings.Winback
	dormant, err := h.store.DormantAccounts(ctx, now.Add(-cfg.DormantAfter.Duration), dormantLimit)
	if err != nil {
		return err
	}
	churned, err := h.store.ChurnedForWinback(ctx, today)
	if err != nil {
		return err
	}
	delays, length := cfg.WinbackDays(), int(cfg.WindowLength.Hours()/24)
	byOwner := map[string][]store.NewOffer{}
	for _, c := range dormant {
		detail := "no usage signal since " + blocks.Date(c.LastUsage.In(h.loc))
		byOwner[c.Owner] = append(byOwner[c.Owner], store.NewOffer{Candidate: c, Detail: detail})
	}
	for _, c := range churned {
		w := churn.WinbackWindow(c.Cause, c.ChurnedOn, delays, length)
		if !w.OpenOn(today) {
			continue
		}
		detail := "churned " + blocks.Date(c.ChurnedOn) + " (" + c.Cause.Label() + "); window open until " + blocks.Date(w.Closes.AddDate(0, 0, -1))
		byOwner[c.Owner] = append(byOwner[c.Owner], store.NewOffer{Candidate: c, Detail: detail})
	}
	owners := make([]string, 0, len(byOwner))
	for o := range byOwner {
		owners = append(owners, o)
	}
	slices.Sort(owners)
	for _, owner := range owners {
		channel := cmp.Or(owner, h.settings.Alerts.DefaultChannel)
		if channel == "" {
			h.log.Warn("win-back list for unowned accounts has nowhere to go: set alerts.default_channel", "accounts", len(byOwner[owner]))
			continue
		}
		offers := byOwner[owner]
		slices.SortStableFunc(offers, func(a, b store.NewOffer) int { return cmp.Compare(b.Candidate.ARR, a.Candidate.ARR) })
		for chunk := range slices.Chunk(offers, blocks.MaxWinbackRows) {
			if _, err := h.store.OfferWinbacks(ctx, owner, channel, week, now, chunk, func(ref string, fresh []store.WinbackOffer) (store.OutboxItem, error) {
				m := winbackList(fresh)
				return store.OutboxItem{Op: store.OpPost, ChannelID: channel, Message: m}, nil
			}); err != nil {
				return fmt.Errorf("win-back list for %s: %w", owner, err)
			}
		}
	}
	return nil
}

func winbackList(offers []store.WinbackOffer) blocks.Message {
	v := blocks.WinbackListView{}
	for _, o := range offers {
		v.Week = o.Week
		row := blocks.WinbackRow{OfferID: o.ID, Name: o.Name, ARR: o.ARR, Kind: o.Kind, Detail: o.Detail}
		if a := o.Attempt; a != nil {
			at := a.StartedAt
			row.StartedBy, row.StartedAt, row.Outcome, row.OutcomeBy = a.StartedBy, &at, a.Outcome, a.OutcomeBy
		}
		v.Rows = append(v.Rows, row)
	}
	return blocks.WinbackList(v)
}

// winbackRender re-renders the list message the offers share.
func winbackRender(offers []store.WinbackOffer) ([]store.OutboxItem, error) {
	if len(offers) == 0 || offers[0].ChannelID == "" {
		return nil, nil
	}
	m := winbackList(offers)
	return []store.OutboxItem{{Op: store.OpUpdate, ChannelID: offers[0].ChannelID, TargetRef: offers[0].MessageRef,
		Message: m}}, nil
}

// canWinback: the owner the account was offered to, its admins, and anyone
// for an unowned account's offer.
func (h *Loop) canWinback(user string, o store.WinbackOffer) bool {
	return o.Owner == "" || o.Owner == user || h.isAdmin(user)
}

const offerGone = "That win-back offer no longer exists."

func (h *Loop) winbackStart(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
	offer, ok, err := clicked(ctx, h.router, cb, act.Value, h.store.WinbackOfferByID, offerGone)
	if !ok {
		return err
	}
	if !h.canWinback(cb.User.ID, offer) {
		h.router.Tell(ctx, cb, blocks.Problem("Only the account's owner can start this win-back."))
		return nil
	}
	offer, started, err := h.store.StartWinback(ctx, offer.ID, cb.User.ID, h.now(), winbackRender)
	switch {
	case errors.Is(err, store.ErrWinbackOpen):
		h.router.Tell(ctx, cb, blocks.Problem("A win-back of %s is already open; record its answer first.", offer.Name))
		return nil
	case err != nil:
		return err
	case !started:
		h.router.Tell(ctx, cb, blocks.Problem("This win-back was already started."))
	}
	return nil
}

func (h *Loop) winbackOutcome(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
	idText, outcome, _ := strings.Cut(act.Value, ":")
	if !churn.ValidOutcome(churn.Outcome(outcome)) {
		return fmt.Errorf("bad win-back outcome %q", act.Value)
	}
	offer, ok, err := clicked(ctx, h.router, cb, idText, h.store.WinbackOfferByID, offerGone)
	if !ok {
		return err
	}
	if offer.Attempt == nil {
		h.router.Tell(ctx, cb, blocks.Problem("Start the win-back first."))
		return nil
	}
	if !h.canWinback(cb.User.ID, offer) && cb.User.ID != offer.Attempt.StartedBy {
		h.router.Tell(ctx, cb, blocks.Problem("Only the account's owner can record this answer."))
		return nil
	}
	_, ok, err = h.store.RecordWinbackOutcome(ctx, offer.ID, churn.Outcome(outcome), cb.User.ID, h.now(), winbackRender)
	if err != nil {
		return err
	}
	if !ok {
		h.router.Tell(ctx, cb, blocks.Problem("The answer was already recorded."))
	}
	return nil
}
