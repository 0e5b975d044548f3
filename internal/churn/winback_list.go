package churn

// The weekly win-back list: who is offered to whom, and the attempts
// started from the list's buttons.

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/store"
)

// dormantLimit bounds the dormant accounts listed per week (the largest first).
const dormantLimit = 500

// newOffer is one account to put on an owner's list.
type newOffer struct {
	Candidate winbackCandidate
	Detail    string
}

// WinbackWeekly puts dormant accounts and churned accounts whose win-back
// window is open in front of their owners, each with a Start win-back
// button. Accounts already offered this week are not offered again, so a
// re-run (or a second replica) posts nothing twice.
func (m *Module) WinbackWeekly(ctx context.Context, now time.Time) error {
	today := m.today(now)
	week := today.AddDate(0, 0, -((int(today.Weekday()) + 6) % 7))
	cfg := m.winback
	dormant, err := dormantAccounts(ctx, m.store.DB(), now.Add(-cfg.DormantAfter.Duration), dormantLimit)
	if err != nil {
		return err
	}
	churned, err := churnedForWinback(ctx, m.store.DB(), today)
	if err != nil {
		return err
	}
	delays, length := cfg.WinbackDays(), int(cfg.WindowLength.Hours()/24)
	byOwner := map[string][]newOffer{}
	for _, c := range dormant {
		detail := "no usage signal since " + blocks.Date(c.LastUsage.In(m.loc))
		byOwner[c.Owner] = append(byOwner[c.Owner], newOffer{Candidate: c, Detail: detail})
	}
	for _, c := range churned {
		w := WinbackWindow(c.Cause, c.ChurnedOn, delays, length)
		if !w.OpenOn(today) {
			continue
		}
		detail := "churned " + blocks.Date(c.ChurnedOn) + " (" + c.Cause.Label() + "); window open until " + blocks.Date(w.Closes.AddDate(0, 0, -1))
		byOwner[c.Owner] = append(byOwner[c.Owner], newOffer{Candidate: c, Detail: detail})
	}
	owners := make([]string, 0, len(byOwner))
	for o := range byOwner {
		owners = append(owners, o)
	}
	slices.Sort(owners)
	for _, owner := range owners {
		channel := cmp.Or(owner, m.defaultChannel)
		if channel == "" {
			m.log.Warn("win-back list for unowned accounts has nowhere to go: set alerts.default_channel", "accounts", len(byOwner[owner]))
			continue
		}
		offers := byOwner[owner]
		slices.SortStableFunc(offers, func(a, b newOffer) int { return cmp.Compare(b.Candidate.ARR, a.Candidate.ARR) })
		for chunk := range slices.Chunk(offers, maxWinbackRows) {
			if err := m.offerWinbacks(ctx, owner, channel, week, now, chunk); err != nil {
				return fmt.Errorf("win-back list for %s: %w", owner, err)
			}
		}
	}
	return nil
}

// offerWinbacks records the offers for one owner and week and enqueues the
// list message of those that are new, in one transaction; offers already
// made this week are skipped. channel is where the message goes (the
// owner's DM).
func (m *Module) offerWinbacks(ctx context.Context, owner, channel string, week, now time.Time, offers []newOffer) error {
	return m.store.InTx(ctx, func(tx store.Tx) error {
		var fresh []WinbackOffer
		for _, o := range offers {
			c := o.Candidate
			id, isNew, err := insertOffer(ctx, tx, c, owner, week, now, o.Detail)
			if err != nil {
				return err
			}
			if !isNew {
				continue
			}
			fresh = append(fresh, WinbackOffer{ID: id, AccountID: c.AccountID, Name: c.Name, ARR: c.ARR, Kind: c.Kind,
				ChurnID: c.ChurnID, Cause: c.Cause, Owner: owner, Week: week, ChannelID: channel, Detail: o.Detail})
		}
		if len(fresh) == 0 {
			return nil
		}
		ref := "winback:" + week.Format(time.DateOnly) + ":" + owner + ":" + strconv.FormatInt(fresh[0].ID, 10)
		ids := make([]int64, len(fresh))
		for i := range fresh {
			fresh[i].MessageRef = ref
			ids[i] = fresh[i].ID
		}
		if err := nameOfferMessage(ctx, tx, ids, ref); err != nil {
			return err
		}
		return tx.Enqueue(ctx, store.OutboxItem{Op: store.OpPost, ChannelID: channel, Message: winbackList(fresh), Ref: ref, Priority: store.PriorityBulk})
	})
}

// winbackList renders the list message of offers.
func winbackList(offers []WinbackOffer) blocks.Message {
	v := winbackListView{}
	for _, o := range offers {
		v.Week = o.Week
		row := winbackRow{OfferID: o.ID, Name: o.Name, ARR: o.ARR, Kind: o.Kind, Detail: o.Detail}
		if a := o.Attempt; a != nil {
			at := a.StartedAt
			row.StartedBy, row.StartedAt, row.Outcome, row.OutcomeBy = a.StartedBy, &at, a.Outcome, a.OutcomeBy
		}
		v.Rows = append(v.Rows, row)
	}
	return winbackCard(v)
}

// relist re-renders the list message the offer shares with others, read
// in the transaction that changed the offer.
func relist(ctx context.Context, tx store.Tx, offer WinbackOffer) error {
	offers, err := offersByRef(ctx, tx, offer.MessageRef)
	if err != nil || len(offers) == 0 || offers[0].ChannelID == "" {
		return err
	}
	return tx.Enqueue(ctx, store.OutboxItem{Op: store.OpUpdate, ChannelID: offers[0].ChannelID, TargetRef: offers[0].MessageRef,
		Message: winbackList(offers)})
}

// StartWinback records the attempt for an offer once (a second click, or
// a second offer of the same account while one is open, starts nothing)
// and updates the list message.
func (m *Module) StartWinback(ctx context.Context, offerID int64, user string, now time.Time) (WinbackOffer, bool, error) {
	var offer WinbackOffer
	started := false
	err := m.store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if offer, err = lockOffer(ctx, tx, offerID); err != nil || offer.Attempt != nil {
			return err
		}
		id, err := insertAttempt(ctx, tx, offer, user, now)
		if err != nil {
			return err
		}
		offer.Attempt = &OfferAttempt{ID: id, StartedBy: user, StartedAt: now}
		started = true
		if err := tx.AddTimeline(ctx, offer.AccountID, store.TimelineEntry{At: now, Kind: "winback.started",
			Summary: "win-back started (" + offer.Kind + ")", Actor: user}, id); err != nil {
			return err
		}
		return relist(ctx, tx, offer)
	})
	return offer, started, err
}

// RecordWinbackOutcome records the answer of the offer's attempt once and
// updates the list message.
func (m *Module) RecordWinbackOutcome(ctx context.Context, offerID int64, outcome Outcome, user string, now time.Time) (WinbackOffer, bool, error) {
	var offer WinbackOffer
	ok := false
	err := m.store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if offer, err = lockOffer(ctx, tx, offerID); err != nil {
			return err
		}
		if offer.Attempt == nil || offer.Attempt.Outcome != "" {
			return nil
		}
		if err := recordAttemptOutcome(ctx, tx, offer.Attempt.ID, outcome, user, now); err != nil {
			return err
		}
		offer.Attempt.Outcome, offer.Attempt.OutcomeBy, offer.Attempt.OutcomeAt = outcome, user, &now
		ok = true
		if err := tx.AddTimeline(ctx, offer.AccountID, store.TimelineEntry{At: now, Kind: "winback.outcome",
			Summary: "win-back answer: " + outcome.Label(), Actor: user}, offer.Attempt.ID); err != nil {
			return err
		}
		return relist(ctx, tx, offer)
	})
	return offer, ok, err
}
