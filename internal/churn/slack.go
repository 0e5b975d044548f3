package churn

// Slack: /churned and its form, /rootcause, the debrief buttons and forms,
// and the win-back list's buttons.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/bot"
	"github.com/holdfast/holdfast/handlers"
	"github.com/holdfast/holdfast/store"
)

// Register puts the commands, buttons and forms on r.
func (m *Module) Register(r *handlers.Router) {
	m.router = r
	r.HandleCommand("/churned", m.churned)
	r.HandleCommand("/rootcause", m.rootcause)
	r.HandleAction(blocks.ActionChurnPickPrefix, m.churnPick)
	r.HandleView(blocks.ViewChurnRecord, m.submitChurn)
	r.HandleAction(blocks.ActionDebriefSchedule, m.debriefButton)
	r.HandleAction(blocks.ActionDebriefOutcome, m.debriefButton)
	r.HandleView(blocks.ViewDebriefSchedule, m.submitSchedule)
	r.HandleView(blocks.ViewDebriefOutcome, m.submitOutcome)
	r.HandleAction(blocks.ActionWinbackStart, m.winbackStart)
	r.HandleAction(blocks.ActionWinbackOutcome, m.winbackOutcome)
}

func reply(m blocks.Message) bot.Reply { return bot.Reply{Message: m} }

// statusChurned is the churned account status.
const statusChurned = "churned"

func (m *Module) churned(ctx context.Context, cmd slack.SlashCommand) (bot.Reply, error) {
	q := strings.TrimSpace(cmd.Text)
	if q == "" {
		return reply(blocks.Problem("Usage: /churned <account name or id>")), nil
	}
	a, ask, err := handlers.NewPicker(m.store).Find(ctx, q, handlers.PickPrompt{ActionPrefix: blocks.ActionChurnPickPrefix, Question: "Which account churned?"})
	switch {
	case err != nil:
		return bot.Reply{}, err
	case ask != nil:
		return reply(*ask), nil
	}
	return m.openChurnForm(ctx, cmd.TriggerID, cmd.UserID, cmd.ChannelID, *a)
}

func (m *Module) churnPick(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
	a, ok, err := handlers.PickedAccount(ctx, m.store, m.router, cb, act.Value)
	if !ok {
		return err
	}
	r, err := m.openChurnForm(ctx, cb.TriggerID, cb.User.ID, cb.Channel.ID, a)
	if err != nil {
		return err
	}
	m.router.Tell(ctx, cb, blocks.Message{Text: r.Text, Blocks: r.Blocks})
	return nil
}

func (m *Module) openChurnForm(ctx context.Context, triggerID, user, channel string, a store.Account) (bot.Reply, error) {
	if a.Status == statusChurned {
		if rec, err := latestRecord(ctx, m.store.DB(), a.ID); err == nil {
			return reply(blocks.Problem("%s is already churned (since %s, %s). Nothing was changed.", a.Name, blocks.Date(rec.ChurnedOn), rec.Cause.Label())), nil
		}
		return reply(blocks.Problem("%s is already churned. Nothing was changed.", a.Name)), nil
	}
	if !m.canRecord(user, a) {
		return reply(blocks.Problem("Only the account's owner or a churn admin can record the churn of %s.", a.Name)), nil
	}
	view := recordModal(recordForm{Meta: churnMeta{AccountID: a.ID, ChannelID: channel},
		AccountName: a.Name, ARR: a.ARR, OwnerCSM: a.OwnerCSM, AE: a.AE, Today: m.today(m.now())})
	if err := m.slack.OpenView(ctx, triggerID, view); err != nil {
		return bot.Reply{}, fmt.Errorf("open churn form: %w", err)
	}
	return reply(blocks.Message{Text: "Opening the churn record for " + blocks.Escape(a.Name) + "…"}), nil
}

func stateValue(cb slack.InteractionCallback, field string) slack.BlockAction {
	if cb.View.State == nil {
		return slack.BlockAction{}
	}
	return cb.View.State.Values[field][field]
}

// formErrors is the ack that shows errors next to the form's fields.
func formErrors(errs map[string]string) (any, error) {
	return slack.NewErrorsViewSubmissionResponse(errs), nil
}

func formError(field, msg string) (any, error) { return formErrors(map[string]string{field: msg}) }

func (m *Module) submitChurn(ctx context.Context, cb slack.InteractionCallback) (any, error) {
	var meta churnMeta
	if err := json.Unmarshal([]byte(cb.View.PrivateMetadata), &meta); err != nil || meta.AccountID == 0 {
		return formError(FieldStatedReason, "This form is out of date; run /churned again.")
	}
	sub := Submission{
		StatedReason:  strings.TrimSpace(stateValue(cb, FieldStatedReason).Value),
		Cause:         Cause(stateValue(cb, FieldCause).SelectedOption.Value),
		Diagnosis:     strings.TrimSpace(stateValue(cb, FieldDiagnosis).Value),
		DealBehaviour: strings.TrimSpace(stateValue(cb, FieldDealBehaviour).Value),
	}
	now := m.now()
	today := m.today(now)
	sub.ChurnedOn = today
	if d := stateValue(cb, FieldChurnedOn).SelectedDate; d != "" {
		t, err := time.Parse(time.DateOnly, d)
		if err != nil {
			return formError(FieldChurnedOn, "Pick a date.")
		}
		sub.ChurnedOn = t
	}
	if errs := sub.Validate(today); errs != nil {
		return formErrors(errs)
	}
	a, err := m.store.Account(ctx, meta.AccountID)
	if errors.Is(err, store.ErrNotFound) {
		return formError(FieldStatedReason, "This account no longer exists.")
	}
	if err != nil {
		return nil, err
	}
	// Permission is checked on submit too: the form could be old, or forged.
	if !m.canRecord(cb.User.ID, a) {
		return formError(FieldStatedReason, "Only the account's owner or a churn admin can record its churn.")
	}
	key := cb.View.ID
	if key == "" {
		key = "user:" + cb.User.ID + ":account:" + strconv.FormatInt(a.ID, 10) + ":" + today.Format(time.DateOnly)
	}
	rec, _, err := m.RecordChurn(ctx, RecordInput{AccountID: a.ID, SubmissionKey: key, Submission: sub, RecordedBy: cb.User.ID, At: now})
	if errors.Is(err, ErrAlreadyChurned) {
		return formError(FieldStatedReason, a.Name+" was marked churned already; nothing was changed.")
	}
	if err != nil {
		return nil, err
	}
	// Who was told (a replayed submit says who the first one told, without
	// sending again).
	var notified []string
	fallback := ""
	if rec.SalesAttributable {
		if notified = debriefUsers(rec); len(notified) == 0 {
			fallback = m.set.DebriefChannel
		}
	}
	v := recordedModal(a.Name, rec.Cause, notified, fallback)
	return slack.NewUpdateViewSubmissionResponse(&v), nil
}

// clicked loads the row whose id a button carries; when it is gone the
// clicker is told so (ok=false, nil error).
func clicked[T any](ctx context.Context, r *handlers.Router, cb slack.InteractionCallback, value string,
	load func(context.Context, store.DB, int64) (T, error), db store.DB, gone string) (_ T, ok bool, _ error) {
	var zero T
	id, err := strconv.ParseInt(value, 10, 64)
	if err != nil {
		return zero, false, fmt.Errorf("bad id %q in a button", value)
	}
	v, err := load(ctx, db, id)
	if errors.Is(err, store.ErrNotFound) {
		r.Tell(ctx, cb, blocks.Problem(gone))
		return v, false, nil
	}
	return v, err == nil, err
}

func (m *Module) debriefButton(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
	info, ok, err := clicked(ctx, m.router, cb, act.Value, debriefFor, m.store.DB(), "That churn has no debrief.")
	if !ok {
		return err
	}
	id := info.Record.ID
	if !m.canDebrief(cb.User.ID, info.Record) {
		m.router.Tell(ctx, cb, blocks.Problem("Only the AE, the sales manager or the CSM of %s can do that.", info.Record.AccountName))
		return nil
	}
	if info.Debrief.HeldAt != nil {
		m.router.Tell(ctx, cb, blocks.Problem("The debrief of %s was already held; its outcome is recorded.", info.Record.AccountName))
		return nil
	}
	var view slack.ModalViewRequest
	if act.ActionID == blocks.ActionDebriefSchedule {
		view = scheduleModal(id, info.Record.AccountName, m.nextSlot(m.now()))
	} else {
		view = outcomeModal(id, info.Record.AccountName, int(m.set.CheckinAfter.Hours()/24))
	}
	return m.slack.OpenView(ctx, cb.TriggerID, view)
}

// nextSlot suggests 10:00 on the next business day.
func (m *Module) nextSlot(now time.Time) time.Time {
	d := now.In(m.loc).AddDate(0, 0, 1)
	for d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
		d = d.AddDate(0, 0, 1)
	}
	return time.Date(d.Year(), d.Month(), d.Day(), 10, 0, 0, 0, m.loc)
}

// debriefFormCheck reads which debrief a form is about and checks the
// submitter may act on it; a non-nil ack answers the submit instead.
func (m *Module) debriefFormCheck(ctx context.Context, cb slack.InteractionCallback, field string) (int64, any, error) {
	id, err := strconv.ParseInt(cb.View.PrivateMetadata, 10, 64)
	if err != nil {
		ack, err := formError(field, "This form is out of date.")
		return 0, ack, err
	}
	info, err := debriefFor(ctx, m.store.DB(), id)
	if errors.Is(err, store.ErrNotFound) {
		ack, err := formError(field, "That churn has no debrief.")
		return 0, ack, err
	}
	if err != nil {
		return 0, nil, err
	}
	if !m.canDebrief(cb.User.ID, info.Record) {
		ack, err := formError(field, "Only the AE, the sales manager or the CSM can do that.")
		return 0, ack, err
	}
	return id, nil, nil
}

func (m *Module) submitSchedule(ctx context.Context, cb slack.InteractionCallback) (any, error) {
	id, ack, err := m.debriefFormCheck(ctx, cb, blocks.FieldDebriefWhen)
	if ack != nil || err != nil {
		return ack, err
	}
	now := m.now()
	secs := stateValue(cb, blocks.FieldDebriefWhen).SelectedDateTime
	at := time.Unix(secs, 0)
	if secs == 0 || at.Before(now.Add(-time.Hour)) || at.After(now.AddDate(0, 6, 0)) {
		return formError(blocks.FieldDebriefWhen, "Pick a time within the next six months.")
	}
	ok, err := m.ScheduleDebrief(ctx, id, at, cb.User.ID, now)
	if err != nil {
		return nil, err
	}
	if !ok {
		return formError(blocks.FieldDebriefWhen, "The debrief was already held; its outcome is recorded.")
	}
	return nil, nil
}

func (m *Module) submitOutcome(ctx context.Context, cb slack.InteractionCallback) (any, error) {
	id, ack, err := m.debriefFormCheck(ctx, cb, blocks.FieldDebriefOutcome)
	if ack != nil || err != nil {
		return ack, err
	}
	o := DebriefOutcome{
		Outcome:       strings.TrimSpace(stateValue(cb, blocks.FieldDebriefOutcome).Value),
		ProcessChange: strings.TrimSpace(stateValue(cb, blocks.FieldProcessChange).Value),
		ChangeOwner:   stateValue(cb, blocks.FieldProcessChangeOwner).SelectedUser,
		By:            cb.User.ID,
		At:            m.now(),
	}
	errs := map[string]string{}
	switch {
	case o.Outcome == "":
		errs[blocks.FieldDebriefOutcome] = "Say what the debrief concluded."
	case len([]rune(o.Outcome)) > MaxTextLen:
		errs[blocks.FieldDebriefOutcome] = "Keep it under 3,000 characters."
	}
	if len([]rune(o.ProcessChange)) > 500 {
		errs[blocks.FieldProcessChange] = "One change, under 500 characters."
	}
	if o.ProcessChange != "" && o.ChangeOwner == "" {
		errs[blocks.FieldProcessChangeOwner] = "Who owns this change? They get the check-in reminder."
	}
	if len(errs) > 0 {
		return formErrors(errs)
	}
	ok, err := m.RecordDebriefOutcome(ctx, id, o)
	if err != nil {
		return nil, err
	}
	if !ok {
		return formError(blocks.FieldDebriefOutcome, "The outcome was already recorded.")
	}
	return nil, nil
}

const rootcauseUsage = "Usage: /rootcause [report] [month|quarter|2027-02|2027-Q1] · /rootcause audit [month|quarter|…]"

func (m *Module) rootcause(ctx context.Context, cmd slack.SlashCommand) (bot.Reply, error) {
	args := strings.Fields(strings.ToLower(cmd.Text))
	what := "report"
	if len(args) > 0 && (args[0] == "report" || args[0] == "audit" || args[0] == "help") {
		what, args = args[0], args[1:]
	}
	if what == "help" || len(args) > 1 {
		return reply(blocks.Problem(rootcauseUsage)), nil
	}
	arg := ""
	if len(args) == 1 {
		arg = args[0]
	} else if what == "audit" {
		arg = Quarter // a month holds too few records per CSM to judge
	}
	p, err := ParsePeriod(arg, m.today(m.now()))
	if err != nil {
		return reply(blocks.Problem("%s. "+rootcauseUsage, err.Error())), nil
	}
	if what == "audit" {
		msg, err := m.audit(ctx, p)
		if err != nil {
			return bot.Reply{}, err
		}
		return reply(msg), nil
	}
	r, err := m.Report(ctx, p)
	if err != nil {
		return bot.Reply{}, err
	}
	return reply(reportCard(r)), nil
}

const offerGone = "That win-back offer no longer exists."

func (m *Module) winbackStart(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
	offer, ok, err := clicked(ctx, m.router, cb, act.Value, offerByID, m.store.DB(), offerGone)
	if !ok {
		return err
	}
	if !m.canWinback(cb.User.ID, offer) {
		m.router.Tell(ctx, cb, blocks.Problem("Only the account's owner can start this win-back."))
		return nil
	}
	offer, started, err := m.StartWinback(ctx, offer.ID, cb.User.ID, m.now())
	switch {
	case errors.Is(err, errWinbackOpen):
		m.router.Tell(ctx, cb, blocks.Problem("A win-back of %s is already open; record its answer first.", offer.Name))
		return nil
	case err != nil:
		return err
	case !started:
		m.router.Tell(ctx, cb, blocks.Problem("This win-back was already started."))
	}
	return nil
}

func (m *Module) winbackOutcome(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
	idText, outcome, _ := strings.Cut(act.Value, ":")
	if !ValidOutcome(Outcome(outcome)) {
		return fmt.Errorf("bad win-back outcome %q", act.Value)
	}
	offer, ok, err := clicked(ctx, m.router, cb, idText, offerByID, m.store.DB(), offerGone)
	if !ok {
		return err
	}
	if offer.Attempt == nil {
		m.router.Tell(ctx, cb, blocks.Problem("Start the win-back first."))
		return nil
	}
	if !m.canWinback(cb.User.ID, offer) && cb.User.ID != offer.Attempt.StartedBy {
		m.router.Tell(ctx, cb, blocks.Problem("Only the account's owner can record this answer."))
		return nil
	}
	_, ok, err = m.RecordWinbackOutcome(ctx, offer.ID, Outcome(outcome), cb.User.ID, m.now())
	if err != nil {
		return err
	}
	if !ok {
		m.router.Tell(ctx, cb, blocks.Problem("The answer was already recorded."))
	}
	return nil
}
