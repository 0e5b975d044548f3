// Package handoff drives the sales-to-CS handoff of a won deal to its end:
// the account's room exists (created, adopted or linked), the right people
// are in it, the handoff card is posted and pinned, and the AE is asked for
// whatever the card is missing.
//
// Room creation needs Slack calls whose results feed the next call
// (conversations.create gives the channel id that invite and pin need), so
// it cannot be one outbox message. It is a state machine persisted in
// Postgres instead: each step is idempotent or guarded, is recorded when it
// succeeds, and a crash, a restart or a Slack error resumes the handoff at
// the step it stopped at, never from the start.
package handoff

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/bot"
	"github.com/holdfast/holdfast/rooms"
	"github.com/holdfast/holdfast/store"
)

// Store is what the handoff keeps its state in.
type Store interface {
	LeaseHandoffs(ctx context.Context, n int, lease time.Duration) ([]store.Handoff, error)
	HandoffSubject(ctx context.Context, h store.Handoff) (store.HandoffSubject, error)
	RecordNameTry(ctx context.Context, h store.Handoff, name string, try int) error
	RoomReady(ctx context.Context, h store.Handoff, r store.Room, at time.Time) (store.Room, error)
	AdvanceHandoff(ctx context.Context, h store.Handoff, next, detail string, msgs ...store.OutboxItem) error
	LogHandoffStep(ctx context.Context, h store.Handoff, outcome, detail string) error
	RetryHandoff(ctx context.Context, h store.Handoff, cause string, retryAt time.Time, countFailure bool) error
	FailHandoff(ctx context.Context, h store.Handoff, cause string, msgs ...store.OutboxItem) error
	OutboxMessage(ctx context.Context, ref string) (store.MessageState, error)
	Enqueue(ctx context.Context, it store.OutboxItem) error
	ReleaseHandoff(ctx context.Context, h store.Handoff) error
	ClearCardStale(ctx context.Context, h store.Handoff) error
	MarkCardStale(ctx context.Context, h store.Handoff) error
}

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

// Settings say how rooms are made.
type Settings struct {
	Pattern string   // channel name pattern, see rooms.ChannelName
	Private bool     // create private channels
	Invite  []string // Slack user ids invited to every room
	// NotRooms are channels never taken as an account's room even when an
	// account names them (the default alert channel).
	NotRooms []string
}

// Runner works the handoff queue; it is a store.Worker.
type Runner struct {
	store    Store
	slack    Slack
	settings Settings
	now      func() time.Time
	log      *slog.Logger
}

// New wires a runner.
func New(st Store, sl Slack, settings Settings, now func() time.Time, log *slog.Logger) *Runner {
	if settings.Pattern == "" {
		settings.Pattern = rooms.DefaultChannelPattern
	}
	return &Runner{store: st, slack: sl, settings: settings, now: now, log: log}
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
func (r *Runner) Queue() store.Queue { return store.Handoffs }

// Work runs one step of each due handoff.
func (r *Runner) Work(ctx context.Context) (int, error) {
	list, err := r.store.LeaseHandoffs(ctx, Batch, lease)
	if err != nil {
		return 0, err
	}
	for _, h := range list {
		if err := r.step(ctx, h); err != nil && !store.IsHandoffMoved(err) {
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

func (r *Runner) step(ctx context.Context, h store.Handoff) error {
	cardQueued := h.Step == store.StepPin || h.Step == store.StepDone || h.Step == store.StepFailed
	if h.CardStale {
		// Cleared before the data is read: a change after this point marks
		// it again and is rendered on the next pass.
		if err := r.store.ClearCardStale(ctx, h); err != nil {
			return err
		}
	}
	sub, err := r.store.HandoffSubject(ctx, h)
	if err != nil {
		return r.outcome(ctx, h, sub, err)
	}
	if h.CardStale && cardQueued {
		if err := r.refreshCard(ctx, h, sub); err != nil {
			_ = r.store.MarkCardStale(ctx, h)
			return err
		}
	}
	switch h.Step {
	case store.StepChannel:
		err = r.channel(ctx, h, sub)
	case store.StepInvite:
		err = r.invite(ctx, h, sub)
	case store.StepCard:
		err = r.card(ctx, h, sub)
	case store.StepPin:
		err = r.pin(ctx, h)
	default:
		// Done or failed: only a card refresh was due.
		return r.store.ReleaseHandoff(ctx, h)
	}
	return r.outcome(ctx, h, sub, err)
}

// outcome turns a step's error into a retry with backoff or, when
// retrying cannot help, a failed handoff and a DM to a person.
func (r *Runner) outcome(ctx context.Context, h store.Handoff, sub store.HandoffSubject, err error) error {
	if err == nil || store.IsHandoffMoved(err) {
		return err
	}
	var se *stepError
	perm := errors.As(err, &se) && se.permanent || bot.Permanent(err) || permanentSlack(bot.SlackError(err))
	if !perm && h.Attempts+1 < maxFailures {
		wait := store.Backoff(h.Attempts+1, backoffBase, backoffLimit)
		r.log.Warn("handoff step will be retried", "deal_id", h.DealID, "step", h.Step, "in", wait, "err", err)
		return r.store.RetryHandoff(ctx, h, err.Error(), time.Now().Add(wait), true)
	}
	r.log.Error("handoff stopped", "deal_id", h.DealID, "step", h.Step, "err", err)
	var msgs []store.OutboxItem
	if to := firstSet(sub.Account.OwnerCSM, sub.Deal.OwnerCSM, sub.Deal.AE, sub.Account.AE); to != "" {
		m := blocks.RoomFailed(blocks.RoomFailedView{AccountName: sub.Account.Name, Step: h.Step, Error: err.Error()})
		msgs = append(msgs, store.OutboxItem{Op: store.OpPost, ChannelID: to, Message: m})
	}
	return r.store.FailHandoff(ctx, h, err.Error(), msgs...)
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
func (r *Runner) channel(ctx context.Context, h store.Handoff, sub store.HandoffSubject) error {
	if sub.Room != nil {
		_, err := r.store.RoomReady(ctx, h, *sub.Room, r.now())
		return err
	}
	if ch := sub.Account.ChannelID; ch != "" && !sub.ChannelShared && !slices.Contains(r.settings.NotRooms, ch) {
		name, err := r.slack.Join(ctx, ch)
		if err == nil {
			_, err = r.store.RoomReady(ctx, h, store.Room{AccountID: h.AccountID, ChannelID: ch, ChannelName: name, Origin: "existing"}, r.now())
			var taken *store.ChannelTakenError
			if !errors.As(err, &taken) {
				return err
			}
		}
		// Not usable (private without us, archived, another account's
		// room): the account gets a room of its own.
		_ = r.store.LogHandoffStep(ctx, h, "skipped", "account channel "+ch+" not usable: "+err.Error())
	}
	vars := rooms.NameVars{Name: sub.Account.Name, ExternalID: sub.Account.ExternalID, Segment: sub.Account.Segment, Tier: sub.Account.Tier}
	tried := h.NameTried
	for try := h.NameTry; try < h.NameTry+maxNameTries; try++ {
		name := rooms.ChannelName(r.settings.Pattern, vars, try)
		ourOwn := tried == name // an earlier run may have created it and died before recording it
		if err := r.store.RecordNameTry(ctx, h, name, try); err != nil {
			return err
		}
		tried = name
		id, err := r.slack.CreateChannel(ctx, name, r.settings.Private)
		if err == nil {
			_, err = r.store.RoomReady(ctx, h, store.Room{AccountID: h.AccountID, ChannelID: id, ChannelName: name, Origin: "created"}, r.now())
			return err
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
		_ = r.store.LogHandoffStep(ctx, h, "retry", "name_taken: "+name)
	}
	return permanent(fmt.Errorf("no free channel name after %d tries (pattern %q)", maxNameTries, r.settings.Pattern))
}

// adopt takes over a channel with a name this handoff tried before, if the
// bot created it and it is nobody's room yet.
func (r *Runner) adopt(ctx context.Context, h store.Handoff, name string) (bool, error) {
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
	_, err = r.store.RoomReady(ctx, h, store.Room{AccountID: h.AccountID, ChannelID: id, ChannelName: name, Origin: "created"}, r.now())
	var taken *store.ChannelTakenError
	if errors.As(err, &taken) {
		return false, nil
	}
	if err == nil {
		_ = r.store.LogHandoffStep(ctx, h, "ok", "adopted channel "+id+" created by an earlier try")
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

func (r *Runner) invite(ctx context.Context, h store.Handoff, sub store.HandoffSubject) error {
	people := uniqueUsers(append([]string{sub.Account.OwnerCSM, sub.Deal.OwnerCSM, sub.Deal.AE, sub.Account.AE},
		r.settings.Invite...))
	invited := 0
	for _, u := range people {
		err := r.slack.Invite(ctx, h.ChannelID, u)
		switch {
		case err == nil:
			invited++
		case userError(bot.SlackError(err)):
			_ = r.store.LogHandoffStep(ctx, h, "skipped", "invite "+u+": "+bot.SlackError(err))
		default:
			return err
		}
	}
	return r.store.AdvanceHandoff(ctx, h, store.StepCard, fmt.Sprintf("%d of %d invited", invited, len(people)))
}

// card queues the handoff card for the room and, when fields are missing,
// the won deal review request for the AE, in one transaction with the
// step: each is sent once.
func (r *Runner) card(ctx context.Context, h store.Handoff, sub store.HandoffSubject) error {
	card := r.renderCard(sub)
	msgs := []store.OutboxItem{{Op: store.OpPost, ChannelID: h.ChannelID, Ref: rooms.CardRef(h.DealID), Message: card}}
	detail := "card queued"
	if missing := sub.Deal.Missing(); len(missing) > 0 {
		if to := firstSet(sub.Deal.AE, sub.Account.AE, sub.Account.SalesManager, sub.Account.OwnerCSM); to != "" {
			// Posted to the DM conversation (not the user id) so it can be
			// updated when the review is done.
			dm, err := r.slack.OpenDM(ctx, to)
			if err != nil {
				return err
			}
			m := blocks.ReviewRequest(blocks.ReviewRequestView{AccountName: sub.Account.Name, DealID: h.DealID,
				DealName: sub.Deal.Name, RoomID: h.ChannelID, Missing: missing})
			msgs = append(msgs, store.OutboxItem{Op: store.OpPost, ChannelID: dm, Ref: rooms.ReviewRef(h.DealID),
				Message: m})
			detail = fmt.Sprintf("card queued; review requested from %s (%d missing)", to, len(missing))
		} else {
			detail = fmt.Sprintf("card queued; %d fields missing and nobody to ask", len(missing))
		}
	}
	return r.store.AdvanceHandoff(ctx, h, store.StepPin, detail, msgs...)
}

func (r *Runner) renderCard(sub store.HandoffSubject) blocks.Message {
	m := blocks.HandoffCard(blocks.HandoffView{AccountName: sub.Account.Name, ExternalID: sub.Account.ExternalID,
		OwnerCSM: sub.Account.OwnerCSM, Deal: sub.Deal, Now: r.now()})
	return m
}

// pin pins the card once the outbox has delivered it.
func (r *Runner) pin(ctx context.Context, h store.Handoff) error {
	// The deliverer usually posts the card within milliseconds of its
	// queueing: look a few times before handing the handoff back.
	var st store.MessageState
	var err error
	for range deliveryLooks {
		if st, err = r.store.OutboxMessage(ctx, rooms.CardRef(h.DealID)); err != nil || st.TS != "" || st.Failed {
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
		return r.store.RetryHandoff(ctx, h, "waiting for the card's delivery", time.Now().Add(deliveryPoll), false)
	}
	if err := r.slack.Pin(ctx, st.ChannelID, st.TS); err != nil {
		return err
	}
	return r.store.AdvanceHandoff(ctx, h, store.StepDone, "card pinned")
}

// refreshCard queues an update of the card with the deal as it is now.
func (r *Runner) refreshCard(ctx context.Context, h store.Handoff, sub store.HandoffSubject) error {
	st, err := r.store.OutboxMessage(ctx, rooms.CardRef(h.DealID))
	if err != nil || !st.Queued {
		return err
	}
	return r.store.Enqueue(ctx, store.OutboxItem{Op: store.OpUpdate, ChannelID: st.ChannelID,
		TargetRef: rooms.CardRef(h.DealID), Message: r.renderCard(sub)})
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
