package rooms

// The handoff of a won deal, driven to its end: the account's room exists
// (created, adopted or linked), the right people are in it, the handoff
// card is posted and pinned, and the AE is asked for whatever the card is
// missing.
//
// Room creation needs Slack calls whose results feed the next call
// (conversations.create gives the channel id that invite and pin need), so
// it cannot be one outbox message. It is a state machine persisted in
// Postgres instead: each step is idempotent or guarded, is recorded when it
// succeeds, and a crash, a restart or a Slack error resumes the handoff at
// the step it stopped at, never from the start.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/bot"
	"github.com/holdfast/holdfast/store"
)

// Runner works the handoff queue; it is a store.Worker.
type Runner struct {
	store    *store.Store
	slack    Slack
	settings Settings
	// notRooms are channels never taken as an account's room even when an
	// account names them (the default alert channel).
	notRooms []string
	now      func() time.Time
	log      *slog.Logger
}

// newRunner wires a runner.
func newRunner(st *store.Store, sl Slack, settings Settings, notRooms []string, now func() time.Time, log *slog.Logger) *Runner {
	if settings.ChannelPattern == "" {
		settings.ChannelPattern = DefaultChannelPattern
	}
	return &Runner{store: st, slack: sl, settings: settings, notRooms: notRooms, now: now, log: log}
}

// Tuning of the queue.
const (
	Batch         = 8
	lease         = 2 * time.Minute
	maxFailures   = 12 // ~1 h of backoff before a person is told
	maxNameTries  = 20
	deliveryPoll  = 100 * time.Millisecond
	deliveryLook  = 10 * time.Millisecond
	deliveryLooks = 10
	backoffBase   = 2 * time.Second
	backoffLimit  = 10 * time.Minute
)

// Queue is the handoffs queue.
func (r *Runner) Queue() store.Queue { return Handoffs }

// Work runs one step of each due handoff.
func (r *Runner) Work(ctx context.Context) (int, error) {
	list, err := leaseHandoffs(ctx, r.store.DB(), Batch, lease)
	if err != nil {
		return 0, err
	}
	for _, h := range list {
		if err := r.step(ctx, h); err != nil && !errors.Is(err, errHandoffMoved) {
			r.log.Error("handoff step", "deal_id", h.DealID, "step", h.Step, "err", err)
		}
	}
	return len(list), nil
}

// stepError is a failed step: retried with backoff unless permanent.
type stepError struct {
	err       error
	permanent bool
}

func (e *stepError) Error() string { return e.err.Error() }
func (e *stepError) Unwrap() error { return e.err }

func permanent(err error) error { return &stepError{err: err, permanent: true} }

func (r *Runner) step(ctx context.Context, h handoff) error {
	cardQueued := h.Step == StepPin || h.Step == StepDone || h.Step == StepFailed
	if h.CardStale {
		// Cleared before the data is read: a change after this point marks
		// it again and is rendered on the next pass.
		if err := clearCardStale(ctx, r.store.DB(), h); err != nil {
			return err
		}
	}
	sub, err := loadSubject(ctx, r.store, h)
	if err != nil {
		return r.outcome(ctx, h, sub, err)
	}
	if h.CardStale && cardQueued {
		if err := r.refreshCard(ctx, h, sub); err != nil {
			_ = markCardStale(ctx, r.store.DB(), h)
			return err
		}
	}
	switch h.Step {
	case StepChannel:
		err = r.channel(ctx, h, sub)
	case StepInvite:
		err = r.invite(ctx, h, sub)
	case StepCard:
		err = r.card(ctx, h, sub)
	case StepPin:
		err = r.pin(ctx, h)
	default:
		// Done or failed: only a card refresh was due.
		return release(ctx, r.store.DB(), h)
	}
	return r.outcome(ctx, h, sub, err)
}

// outcome turns a step's error into a retry with backoff or, when
// retrying cannot help, a failed handoff and a DM to a person.
func (r *Runner) outcome(ctx context.Context, h handoff, sub subject, err error) error {
	if err == nil || errors.Is(err, errHandoffMoved) {
		return err
	}
	var se *stepError
	perm := errors.As(err, &se) && se.permanent || bot.Permanent(err) || permanentSlack(bot.SlackError(err))
	if !perm && h.Attempts+1 < maxFailures {
		wait := store.Backoff(h.Attempts+1, backoffBase, backoffLimit)
		r.log.Warn("handoff step will be retried", "deal_id", h.DealID, "step", h.Step, "in", wait, "err", err)
		return r.retry(ctx, h, err.Error(), time.Now().Add(wait), true)
	}
	r.log.Error("handoff stopped", "deal_id", h.DealID, "step", h.Step, "err", err)
	return r.fail(ctx, h, sub, err.Error())
}

// roomReady records the handoff's room (created, adopted or found) and
// moves it to the invite step. When the account meanwhile got another
// room, that one wins.
func (r *Runner) roomReady(ctx context.Context, h handoff, room Room) error {
	return r.store.InTx(ctx, func(tx store.Tx) error {
		existing, err := RoomOf(ctx, tx, h.AccountID)
		switch {
		case err == nil:
			room = existing
		case errors.Is(err, store.ErrNotFound):
			what := "Room created"
			if room.Origin != "created" {
				what = "Room set"
			}
			entry := store.TimelineEntry{At: r.now(), Kind: "room." + room.Origin,
				Summary: fmt.Sprintf("%s: #%s", what, cmp.Or(room.ChannelName, room.ChannelID))}
			if err := saveRoom(ctx, tx, room, entry); err != nil {
				return err
			}
		default:
			return err
		}
		return moveStep(ctx, tx, h, StepInvite, room.ChannelID, "room "+room.ChannelID+" ("+room.Origin+")")
	})
}

// advance moves the handoff from its current step to next, logs the step
// and queues msgs, all in one transaction: a step's messages are queued
// exactly once. Another worker that moved the handoff meanwhile wins.
func (r *Runner) advance(ctx context.Context, h handoff, next, detail string, msgs ...store.OutboxItem) error {
	return r.store.InTx(ctx, func(tx store.Tx) error {
		for _, m := range msgs {
			if err := tx.Enqueue(ctx, m); err != nil {
				return err
			}
		}
		return moveStep(ctx, tx, h, next, h.ChannelID, detail)
	})
}

// retry sets the current step due again at retryAt. counted false means
// the step is waiting (for a message's delivery), not failing.
func (r *Runner) retry(ctx context.Context, h handoff, cause string, retryAt time.Time, counted bool) error {
	return r.store.InTx(ctx, func(tx store.Tx) error {
		moved, err := retryStep(ctx, tx, h, cause, retryAt, counted)
		if err != nil || moved || !counted {
			return err // waiting is not worth a log row per poll
		}
		return logStep(ctx, tx, h, "retry", cause)
	})
}

// fail gives up on a handoff at its current step and, in the same
// transaction, tells a person (the CSM, else the AE) and the timeline.
// /room link resumes a handoff that failed at the channel step.
func (r *Runner) fail(ctx context.Context, h handoff, sub subject, cause string) error {
	return r.store.InTx(ctx, func(tx store.Tx) error {
		if err := failStep(ctx, tx, h, cause); err != nil {
			return err
		}
		if to := firstSet(sub.Account.OwnerCSM, sub.Deal.OwnerCSM, sub.Deal.AE, sub.Account.AE); to != "" {
			m := RoomFailed(RoomFailedView{AccountName: sub.Account.Name, Step: h.Step, Error: cause})
			if err := tx.Enqueue(ctx, store.OutboxItem{Op: store.OpPost, ChannelID: to, Message: m}); err != nil {
				return err
			}
		}
		if err := tx.AddTimeline(ctx, h.AccountID, store.TimelineEntry{At: time.Now(), Kind: "handoff.failed",
			Summary: "Handoff stopped at " + h.Step + ": " + cause}, 0); err != nil {
			return err
		}
		return logStep(ctx, tx, h, "failed", cause)
	})
}

// permanentSlack lists room-making errors retrying cannot fix.
func permanentSlack(code string) bool {
	switch code {
	case "restricted_action", "restricted_action_read_only_channel", "restricted_action_thread_only_channel",
		"invalid_name", "invalid_name_maxlength", "invalid_name_punctuation", "invalid_name_specials",
		"invalid_name_required", "team_access_not_granted", "not_authed", "no_permission", "ekm_access_denied",
		"method_not_supported_for_channel_type", "not_allowed_token_type":
		return true
	}
	return false
}

// channel finds the account's room: one it already has, the channel the
// account was imported with (unless several accounts share it, as an
// alert channel), or a new one named by the pattern.
func (r *Runner) channel(ctx context.Context, h handoff, sub subject) error {
	if sub.Room != nil {
		return r.roomReady(ctx, h, *sub.Room)
	}
	if ch := sub.Account.ChannelID; ch != "" && !sub.ChannelShared && !slices.Contains(r.notRooms, ch) {
		name, err := r.slack.Join(ctx, ch)
		if err == nil {
			err = r.roomReady(ctx, h, Room{AccountID: h.AccountID, ChannelID: ch, ChannelName: name, Origin: "existing"})
			var taken *ChannelTakenError
			if !errors.As(err, &taken) {
				return err
			}
		}
		// Not usable (private without us, archived, another account's
		// room): the account gets a room of its own.
		_ = logStep(ctx, r.store.DB(), h, "skipped", "account channel "+ch+" not usable: "+err.Error())
	}
	vars := NameVars{Name: sub.Account.Name, ExternalID: sub.Account.ExternalID, Segment: sub.Account.Segment, Tier: sub.Account.Tier}
	tried := h.NameTried
	for try := h.NameTry; try < h.NameTry+maxNameTries; try++ {
		name := ChannelName(r.settings.ChannelPattern, vars, try)
		ourOwn := tried == name // an earlier run may have created it and died before recording it
		if err := recordNameTry(ctx, r.store.DB(), h, name, try); err != nil {
			return err
		}
		tried = name
		id, err := r.slack.CreateChannel(ctx, name, r.settings.Private)
		if err == nil {
			return r.roomReady(ctx, h, Room{AccountID: h.AccountID, ChannelID: id, ChannelName: name, Origin: "created"})
		}
		if bot.SlackError(err) != "name_taken" {
			return err
		}
		if ourOwn {
			adopted, err := r.adopt(ctx, h, name)
			if adopted || err != nil {
				return err
			}
		}
		_ = logStep(ctx, r.store.DB(), h, "retry", "name_taken: "+name)
	}
	return permanent(fmt.Errorf("no free channel name after %d tries (pattern %q)", maxNameTries, r.settings.ChannelPattern))
}

// adopt takes over a channel with a name this handoff tried before, if the
// bot created it and it is nobody's room yet.
func (r *Runner) adopt(ctx context.Context, h handoff, name string) (bool, error) {
	me, err := r.slack.BotUserID(ctx)
	if err != nil {
		return false, err
	}
	id, creator, err := r.slack.FindChannel(ctx, name, r.settings.Private)
	if err != nil {
		return false, err
	}
	if id == "" || creator != me {
		return false, nil
	}
	err = r.roomReady(ctx, h, Room{AccountID: h.AccountID, ChannelID: id, ChannelName: name, Origin: "created"})
	var taken *ChannelTakenError
	if errors.As(err, &taken) {
		return false, nil
	}
	if err == nil {
		_ = logStep(ctx, r.store.DB(), h, "ok", "adopted channel "+id+" created by an earlier try")
	}
	return err == nil, err
}

// userErrors are invite errors about one person: they are logged and the
// others are still invited.
func userError(code string) bool {
	switch code {
	case "user_not_found", "user_is_bot", "user_is_restricted", "user_is_ultra_restricted", "cant_invite",
		"ura_max_channels", "user_team_not_in_channel", "cant_invite_external", "invalid_user_id":
		return true
	}
	return false
}

func (r *Runner) invite(ctx context.Context, h handoff, sub subject) error {
	people := uniqueUsers(append([]string{sub.Account.OwnerCSM, sub.Deal.OwnerCSM, sub.Deal.AE, sub.Account.AE},
		r.settings.Invite...))
	invited := 0
	for _, u := range people {
		err := r.slack.Invite(ctx, h.ChannelID, u)
		switch {
		case err == nil:
			invited++
		case userError(bot.SlackError(err)):
			_ = logStep(ctx, r.store.DB(), h, "skipped", "invite "+u+": "+bot.SlackError(err))
		default:
			return err
		}
	}
	return r.advance(ctx, h, StepCard, fmt.Sprintf("%d of %d invited", invited, len(people)))
}

// card queues the handoff card for the room and, when fields are missing,
// the won deal review request for the AE, in one transaction with the
// step: each is sent once.
func (r *Runner) card(ctx context.Context, h handoff, sub subject) error {
	card := r.renderCard(sub)
	msgs := []store.OutboxItem{{Op: store.OpPost, ChannelID: h.ChannelID, Ref: CardRef(h.DealID), Message: card}}
	detail := "card queued"
	if missing := sub.Deal.Missing(); len(missing) > 0 {
		if to := firstSet(sub.Deal.AE, sub.Account.AE, sub.Account.SalesManager, sub.Account.OwnerCSM); to != "" {
			// Posted to the DM conversation (not the user id) so it can be
			// updated when the review is done.
			dm, err := r.slack.OpenDM(ctx, to)
			if err != nil {
				return err
			}
			m := ReviewRequest(ReviewRequestView{AccountName: sub.Account.Name, DealID: h.DealID,
				DealName: sub.Deal.Name, RoomID: h.ChannelID, Missing: missing})
			msgs = append(msgs, store.OutboxItem{Op: store.OpPost, ChannelID: dm, Ref: ReviewRef(h.DealID),
				Message: m})
			detail = fmt.Sprintf("card queued; review requested from %s (%d missing)", to, len(missing))
		} else {
			detail = fmt.Sprintf("card queued; %d fields missing and nobody to ask", len(missing))
		}
	}
	return r.advance(ctx, h, StepPin, detail, msgs...)
}

func (r *Runner) renderCard(sub subject) blocks.Message {
	m := HandoffCard(HandoffView{AccountName: sub.Account.Name, ExternalID: sub.Account.ExternalID,
		OwnerCSM: sub.Account.OwnerCSM, Deal: sub.Deal, Now: r.now()})
	return m
}

// pin pins the card once the outbox has delivered it.
func (r *Runner) pin(ctx context.Context, h handoff) error {
	// The deliverer usually posts the card within milliseconds of its
	// queueing: look a few times before handing the handoff back.
	var st store.MessageState
	var err error
	for range deliveryLooks {
		if st, err = r.store.OutboxMessage(ctx, CardRef(h.DealID)); err != nil || st.TS != "" || st.Failed {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(deliveryLook):
		}
	}
	switch {
	case err != nil:
		return err
	case !st.Queued:
		return permanent(errors.New("handoff card was never queued"))
	case st.Failed:
		return permanent(errors.New("handoff card could not be posted (see the outbox)"))
	case st.TS == "":
		return r.retry(ctx, h, "waiting for the card's delivery", time.Now().Add(deliveryPoll), false)
	}
	if err := r.slack.Pin(ctx, st.ChannelID, st.TS); err != nil {
		return err
	}
	return r.advance(ctx, h, StepDone, "card pinned")
}

// refreshCard queues an update of the card with the deal as it is now.
func (r *Runner) refreshCard(ctx context.Context, h handoff, sub subject) error {
	st, err := r.store.OutboxMessage(ctx, CardRef(h.DealID))
	if err != nil || !st.Queued {
		return err
	}
	return r.store.Enqueue(ctx, store.OutboxItem{Op: store.OpUpdate, ChannelID: st.ChannelID,
		TargetRef: CardRef(h.DealID), Message: r.renderCard(sub)})
}

func uniqueUsers(ids []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, id := range ids {
		if id == "" || seen[id] || (id[0] != 'U' && id[0] != 'W') {
			continue
		}
		seen[id] = true
		out = append(out, id)
	}
	return out
}

func firstSet(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}
