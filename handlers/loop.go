package handlers

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/bot"
	"github.com/holdfast/holdfast/churn"
	"github.com/holdfast/holdfast/config"
	"github.com/holdfast/holdfast/schedule"
	"github.com/holdfast/holdfast/store"
)

// ChurnStore records churn and its debriefs.
type ChurnStore interface {
	FindAccounts(ctx context.Context, query string, limit int) (matches, suggestions []store.Account, err error)
	Account(ctx context.Context, id int64) (store.Account, error)
	LatestChurn(ctx context.Context, accountID int64) (store.ChurnRecord, error)
	RecordChurn(ctx context.Context, in store.ChurnInput, render func(store.ChurnContext) ([]store.OutboxItem, any, error)) (store.ChurnRecord, bool, error)
	DebriefFor(ctx context.Context, churnID int64) (store.DebriefInfo, error)
	ScheduleDebrief(ctx context.Context, churnID int64, at time.Time, by string, now time.Time, render func(store.DebriefInfo) ([]store.OutboxItem, error)) (store.DebriefInfo, bool, error)
	RecordDebriefOutcome(ctx context.Context, churnID int64, o store.DebriefOutcome, render func(store.DebriefInfo) ([]store.OutboxItem, error)) (store.DebriefInfo, bool, error)
	SendDueCheckins(ctx context.Context, today time.Time, render func(store.DebriefInfo) ([]store.OutboxItem, error)) (int, error)
}

// ReportStore reads what root-cause reports are computed from.
type ReportStore interface {
	ChurnRecords(ctx context.Context, from, to time.Time) ([]store.ChurnRecord, error)
	CohortGroups(ctx context.Context, p churn.Period) ([]churn.CohortGroup, error)
	LookalikeCandidates(ctx context.Context, profiles []churn.Profile, ae string, minMatch, limit int) ([]churn.Candidate, error)
	WinbackAttempts(ctx context.Context, from, to time.Time) ([]churn.WinbackAttempt, error)
	ProcessChanges(ctx context.Context, from, to time.Time) ([]churn.ProcessChange, error)
	Posted(ctx context.Context, kind, period string) (bool, error)
	PostOnce(ctx context.Context, kind, period string, at time.Time, items []store.OutboxItem) (bool, error)
}

// WinbackStore keeps the weekly win-back lists and their attempts.
type WinbackStore interface {
	DormantAccounts(ctx context.Context, cutoff time.Time, limit int) ([]store.WinbackCandidate, error)
	ChurnedForWinback(ctx context.Context, churnedBefore time.Time) ([]store.WinbackCandidate, error)
	OfferWinbacks(ctx context.Context, owner, channel string, week, now time.Time, offers []store.NewOffer,
		render func(ref string, offers []store.WinbackOffer) (store.OutboxItem, error)) (int, error)
	WinbackOfferByID(ctx context.Context, id int64) (store.WinbackOffer, error)
	StartWinback(ctx context.Context, offerID int64, user string, now time.Time, render func([]store.WinbackOffer) ([]store.OutboxItem, error)) (store.WinbackOffer, bool, error)
	RecordWinbackOutcome(ctx context.Context, offerID int64, o churn.Outcome, user string, now time.Time, render func([]store.WinbackOffer) ([]store.OutboxItem, error)) (store.WinbackOffer, bool, error)
}

// LoopStore is everything closing the loop needs.
type LoopStore interface {
	ChurnStore
	ReportStore
	WinbackStore
}

// Loop closes the loop from churn back to Sales (root-cause records,
// debriefs, reports) and runs the weekly win-back list.
type Loop struct {
	store    LoopStore
	slack    Slack
	router   *Router
	settings config.Settings
	loc      *time.Location
	now      func() time.Time
	log      *slog.Logger
}

// NewLoop wires the churn, report and win-back handlers.
func NewLoop(st LoopStore, sl Slack, settings config.Settings, now func() time.Time, log *slog.Logger) *Loop {
	return &Loop{store: st, slack: sl, settings: settings, loc: settings.Schedule.Location(), now: now, log: log}
}

// Job names of the loop's scheduled work.
const (
	JobRootCauseMonthly = "rootcause_monthly"
	JobDebriefCheckins  = "debrief_checkins"
	JobWinbackWeekly    = "winback_weekly"
)

// Register puts the commands, buttons and forms on r.
func (h *Loop) Register(r *Router) {
	h.router = r
	r.HandleCommand("/churned", h.churned)
	r.HandleCommand("/rootcause", h.rootcause)
	r.HandleAction(blocks.ActionChurnPickPrefix, h.churnPick)
	r.HandleView(blocks.ViewChurnRecord, h.submitChurn)
	r.HandleAction(blocks.ActionDebriefSchedule, h.debriefButton)
	r.HandleAction(blocks.ActionDebriefOutcome, h.debriefButton)
	r.HandleView(blocks.ViewDebriefSchedule, h.submitSchedule)
	r.HandleView(blocks.ViewDebriefOutcome, h.submitOutcome)
	r.HandleAction(blocks.ActionWinbackStart, h.winbackStart)
	r.HandleAction(blocks.ActionWinbackOutcome, h.winbackOutcome)
}

// Jobs are the loop's scheduled jobs, in the schedule time zone: the
// monthly root-cause post (checked every weekday at 09:00; it goes out on
// the first business day, or the next run after it), the 30-day check-ins
// (daily 09:30) and the win-back list (Mondays 09:00).
func (h *Loop) Jobs() []schedule.Job {
	return []schedule.Job{
		{Name: JobRootCauseMonthly, Spec: "0 9 * * 1-5", Run: h.MonthlyPost},
		{Name: JobDebriefCheckins, Spec: "30 9 * * *", Run: h.Checkins},
		{Name: JobWinbackWeekly, Spec: "0 9 * * 1", Run: h.WinbackWeekly},
	}
}

func (h *Loop) today(now time.Time) time.Time { return churn.Date(now, h.loc) }

// at turns a date into the instant it starts in the team's time zone.
func (h *Loop) at(d time.Time) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, h.loc)
}

func (h *Loop) isAdmin(user string) bool { return slices.Contains(h.settings.Churn.Admins, user) }

// canRecord: the owner CSM records their account's churn; admins any; an
// unowned account anyone.
func (h *Loop) canRecord(user string, a store.Account) bool {
	return a.OwnerCSM == "" || a.OwnerCSM == user || h.isAdmin(user)
}

func (h *Loop) churned(ctx context.Context, cmd slack.SlashCommand) (bot.Reply, error) {
	q := strings.TrimSpace(cmd.Text)
	if q == "" {
		return reply(blocks.Problem("Usage: /churned <account name or id>")), nil
	}
	a, ask, err := NewPicker(h.store).Find(ctx, q, PickPrompt{ActionPrefix: blocks.ActionChurnPickPrefix, Question: "Which account churned?"})
	if err != nil || ask != nil {
		return replyOrErr(ask, err)
	}
	return h.openChurnForm(ctx, cmd.TriggerID, cmd.UserID, cmd.ChannelID, *a)
}

func (h *Loop) churnPick(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
	a, ok, err := PickedAccount(ctx, h.store, h.router, cb, act.Value)
	if !ok {
		return err
	}
	r, err := h.openChurnForm(ctx, cb.TriggerID, cb.User.ID, cb.Channel.ID, a)
	if err != nil {
		return err
	}
	h.router.Tell(ctx, cb, blocks.Message{Text: r.Text, Blocks: r.Blocks})
	return nil
}

func (h *Loop) openChurnForm(ctx context.Context, triggerID, user, channel string, a store.Account) (bot.Reply, error) {
	if a.Status == scoringChurned {
		if rec, err := h.store.LatestChurn(ctx, a.ID); err == nil {
			return reply(blocks.Problem("%s is already churned (since %s, %s). Nothing was changed.", a.Name, blocks.Date(rec.ChurnedOn), rec.Cause.Label())), nil
		}
		return reply(blocks.Problem("%s is already churned. Nothing was changed.", a.Name)), nil
	}
	if !h.canRecord(user, a) {
		return reply(blocks.Problem("Only the account's owner or a churn admin can record the churn of %s.", a.Name)), nil
	}
	view := blocks.ChurnModal(blocks.ChurnModalView{Meta: blocks.ChurnMeta{AccountID: a.ID, ChannelID: channel},
		AccountName: a.Name, ARR: a.ARR, OwnerCSM: a.OwnerCSM, AE: a.AE, Today: h.today(h.now())})
	if err := h.slack.OpenView(ctx, triggerID, view); err != nil {
		return bot.Reply{}, fmt.Errorf("open churn form: %w", err)
	}
	return reply(blocks.Message{Text: "Opening the churn record for " + blocks.Escape(a.Name) + "…"}), nil
}

// scoringChurned is the churned account status.
const scoringChurned = "churned"

func stateValue(cb slack.InteractionCallback, field string) slack.BlockAction {
	if cb.View.State == nil {
		return slack.BlockAction{}
	}
	return cb.View.State.Values[field][field]
}

func (h *Loop) submitChurn(ctx context.Context, cb slack.InteractionCallback) (any, error) {
	var meta blocks.ChurnMeta
	if err := json.Unmarshal([]byte(cb.View.PrivateMetadata), &meta); err != nil || meta.AccountID == 0 {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{churn.FieldStatedReason: "This form is out of date; run /churned again."}), nil
	}
	sub := churn.Submission{
		StatedReason:  strings.TrimSpace(stateValue(cb, churn.FieldStatedReason).Value),
		Cause:         churn.Cause(stateValue(cb, churn.FieldCause).SelectedOption.Value),
		Diagnosis:     strings.TrimSpace(stateValue(cb, churn.FieldDiagnosis).Value),
		DealBehaviour: strings.TrimSpace(stateValue(cb, churn.FieldDealBehaviour).Value),
	}
	now := h.now()
	today := h.today(now)
	sub.ChurnedOn = today
	if d := stateValue(cb, churn.FieldChurnedOn).SelectedDate; d != "" {
		t, err := time.Parse(time.DateOnly, d)
		if err != nil {
			return slack.NewErrorsViewSubmissionResponse(map[string]string{churn.FieldChurnedOn: "Pick a date."}), nil
		}
		sub.ChurnedOn = t
	}
	if errs := sub.Validate(today); errs != nil {
		return slack.NewErrorsViewSubmissionResponse(errs), nil
	}
	a, err := h.store.Account(ctx, meta.AccountID)
	if errors.Is(err, store.ErrNotFound) {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{churn.FieldStatedReason: "This account no longer exists."}), nil
	}
	if err != nil {
		return nil, err
	}
	// Permission is checked on submit too: the form could be old, or forged.
	if !h.canRecord(cb.User.ID, a) {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{churn.FieldStatedReason: "Only the account's owner or a churn admin can record its churn."}), nil
	}
	key := cb.View.ID
	if key == "" {
		key = "user:" + cb.User.ID + ":account:" + strconv.FormatInt(a.ID, 10) + ":" + today.Format(time.DateOnly)
	}
	var notified []string
	fallback := ""
	rec, _, err := h.store.RecordChurn(ctx, store.ChurnInput{AccountID: a.ID, SubmissionKey: key, Submission: sub,
		RecordedBy: cb.User.ID, At: now, MinMatch: h.settings.Churn.LookalikeMinMatch, Lookalikes: 50},
		func(cc store.ChurnContext) ([]store.OutboxItem, any, error) {
			items, view, to := h.churnMessages(cc)
			notified = to
			if len(to) == 0 && cc.Record.SalesAttributable {
				fallback = h.settings.Churn.DebriefChannel
			}
			return items, view, nil
		})
	if errors.Is(err, store.ErrAlreadyChurned) {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{churn.FieldStatedReason: a.Name + " was marked churned already; nothing was changed."}), nil
	}
	if err != nil {
		return nil, err
	}
	if notified == nil && rec.SalesAttributable {
		// A replayed submit: the first one notified; say who, without sending again.
		notified = debriefUsers(rec)
		if len(notified) == 0 {
			fallback = h.settings.Churn.DebriefChannel
		}
	}
	return slack.NewUpdateViewSubmissionResponse(ptrView(blocks.ChurnRecordedModal(a.Name, rec.Cause, notified, fallback))), nil
}

func ptrView(v slack.ModalViewRequest) *slack.ModalViewRequest { return &v }

// debriefUsers are the AE and the sales manager, once each.
func debriefUsers(r store.ChurnRecord) []string {
	var out []string
	for _, u := range []string{r.AE, r.SalesManager} {
		if u != "" && !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

// debriefRecipients are where the debrief DM goes: the AE and sales
// manager, or the debrief channel when neither is on file.
func (h *Loop) debriefRecipients(r store.ChurnRecord) []string {
	if to := debriefUsers(r); len(to) > 0 {
		return to
	}
	if h.settings.Churn.DebriefChannel != "" {
		return []string{h.settings.Churn.DebriefChannel}
	}
	return nil
}

func debriefRef(churnID int64, to string) string {
	return "churn:" + strconv.FormatInt(churnID, 10) + ":debrief:" + to
}

// churnMessages are what a new churn sends: a note in the account's alert
// thread and, for a sales-attributable cause, the debrief DMs.
func (h *Loop) churnMessages(cc store.ChurnContext) (items []store.OutboxItem, view blocks.SalesDebriefView, to []string) {
	rec, a := cc.Record, cc.Account
	if ch := cmp.Or(a.ChannelID, h.settings.Alerts.DefaultChannel); ch != "" {
		m := blocks.ChurnNote(a.Name, rec.Cause, rec.RecordedBy, rec.ChurnedOn)
		items = append(items, store.OutboxItem{Op: store.OpPost, ChannelID: ch,
			ThreadKey: "alerts:" + strconv.FormatInt(a.ID, 10) + ":" + ch, Message: m})
	}
	if !rec.SalesAttributable {
		return items, view, nil
	}
	view = blocks.SalesDebriefView{ChurnID: rec.ID, AccountName: rec.AccountName, ARR: rec.ARR, ChurnedOn: rec.ChurnedOn,
		Cause: rec.Cause, StatedReason: rec.StatedReason, Diagnosis: rec.Diagnosis, DealBehaviour: rec.DealBehaviour,
		OwnerCSM: rec.OwnerCSM, AE: rec.AE, SalesManager: rec.SalesManager, RecordedBy: rec.RecordedBy,
		SameCauseAE: cc.SameCauseAE, SameCauseTeam: cc.SameCauseTeam, Loc: h.loc}
	for _, l := range churn.MatchLookalikes([]churn.Record{rec.Record}, cc.Candidates, h.settings.Churn.LookalikeMinMatch, 5) {
		view.Lookalikes = append(view.Lookalikes, blocks.LookalikeRow{Name: l.Name, ARR: l.ARR, HealthScore: l.HealthScore,
			OwnerCSM: l.OwnerCSM, Traits: l.Traits})
	}
	for _, r := range h.debriefRecipients(rec) {
		v := view
		v.Recipient = r
		m := blocks.SalesDebrief(v)
		ref := debriefRef(rec.ID, r)
		items = append(items, store.OutboxItem{Op: store.OpPost, ChannelID: r, ThreadKey: ref, Ref: ref + ":root",
			Message: m})
	}
	return items, view, debriefUsers(rec)
}

// canDebrief: the AE, the sales manager, the CSMs involved and admins.
func (h *Loop) canDebrief(user string, r store.ChurnRecord) bool {
	return user != "" && (user == r.AE || user == r.SalesManager || user == r.RecordedBy || user == r.OwnerCSM || h.isAdmin(user))
}

// clicked loads the row whose id a button carries; when it is gone the
// clicker is told so (ok=false, nil error).
func clicked[T any](ctx context.Context, r *Router, cb slack.InteractionCallback, value string,
	load func(context.Context, int64) (T, error), gone string) (_ T, ok bool, _ error) {
	var zero T
	id, err := strconv.ParseInt(value, 10, 64)
	if err != nil {
		return zero, false, fmt.Errorf("bad id %q in a button", value)
	}
	v, err := load(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		r.Tell(ctx, cb, blocks.Problem(gone))
		return v, false, nil
	}
	return v, err == nil, err
}

func (h *Loop) debriefButton(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
	info, ok, err := clicked(ctx, h.router, cb, act.Value, h.store.DebriefFor, "That churn has no debrief.")
	if !ok {
		return err
	}
	id := info.Record.ID
	if !h.canDebrief(cb.User.ID, info.Record) {
		h.router.Tell(ctx, cb, blocks.Problem("Only the AE, the sales manager or the CSM of %s can do that.", info.Record.AccountName))
		return nil
	}
	if info.Debrief.HeldAt != nil {
		h.router.Tell(ctx, cb, blocks.Problem("The debrief of %s was already held; its outcome is recorded.", info.Record.AccountName))
		return nil
	}
	var view slack.ModalViewRequest
	if act.ActionID == blocks.ActionDebriefSchedule {
		view = blocks.DebriefScheduleModal(id, info.Record.AccountName, h.nextSlot(h.now()))
	} else {
		view = blocks.DebriefOutcomeModal(id, info.Record.AccountName, int(h.settings.Churn.CheckinAfter.Hours()/24))
	}
	return h.slack.OpenView(ctx, cb.TriggerID, view)
}

// nextSlot suggests 10:00 on the next business day.
func (h *Loop) nextSlot(now time.Time) time.Time {
	d := now.In(h.loc).AddDate(0, 0, 1)
	for d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
		d = d.AddDate(0, 0, 1)
	}
	return time.Date(d.Year(), d.Month(), d.Day(), 10, 0, 0, 0, h.loc)
}

func (h *Loop) debriefFormCheck(ctx context.Context, cb slack.InteractionCallback, field string) (int64, any, error) {
	id, err := strconv.ParseInt(cb.View.PrivateMetadata, 10, 64)
	if err != nil {
		return 0, slack.NewErrorsViewSubmissionResponse(map[string]string{field: "This form is out of date."}), nil
	}
	info, err := h.store.DebriefFor(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return 0, slack.NewErrorsViewSubmissionResponse(map[string]string{field: "That churn has no debrief."}), nil
	}
	if err != nil {
		return 0, nil, err
	}
	if !h.canDebrief(cb.User.ID, info.Record) {
		return 0, slack.NewErrorsViewSubmissionResponse(map[string]string{field: "Only the AE, the sales manager or the CSM can do that."}), nil
	}
	return id, nil, nil
}

func (h *Loop) submitSchedule(ctx context.Context, cb slack.InteractionCallback) (any, error) {
	id, ack, err := h.debriefFormCheck(ctx, cb, blocks.FieldDebriefWhen)
	if ack != nil || err != nil {
		return ack, err
	}
	now := h.now()
	secs := stateValue(cb, blocks.FieldDebriefWhen).SelectedDateTime
	when := time.Unix(secs, 0)
	if secs == 0 || when.Before(now.Add(-time.Hour)) || when.After(now.AddDate(0, 6, 0)) {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blocks.FieldDebriefWhen: "Pick a time within the next six months."}), nil
	}
	_, ok, err := h.store.ScheduleDebrief(ctx, id, when, cb.User.ID, now, func(info store.DebriefInfo) ([]store.OutboxItem, error) {
		return h.debriefUpdates(info, "🗓️ Debrief scheduled for "+blocks.When(when, h.loc)+" by "+blocks.Mention(cb.User.ID)+".")
	})
	if err != nil {
		return nil, err
	}
	if !ok {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blocks.FieldDebriefWhen: "The debrief was already held; its outcome is recorded."}), nil
	}
	return nil, nil
}

func (h *Loop) submitOutcome(ctx context.Context, cb slack.InteractionCallback) (any, error) {
	id, ack, err := h.debriefFormCheck(ctx, cb, blocks.FieldDebriefOutcome)
	if ack != nil || err != nil {
		return ack, err
	}
	o := store.DebriefOutcome{
		Outcome:       strings.TrimSpace(stateValue(cb, blocks.FieldDebriefOutcome).Value),
		ProcessChange: strings.TrimSpace(stateValue(cb, blocks.FieldProcessChange).Value),
		ChangeOwner:   stateValue(cb, blocks.FieldProcessChangeOwner).SelectedUser,
		By:            cb.User.ID,
		At:            h.now(),
	}
	errs := map[string]string{}
	switch {
	case o.Outcome == "":
		errs[blocks.FieldDebriefOutcome] = "Say what the debrief concluded."
	case len([]rune(o.Outcome)) > churn.MaxTextLen:
		errs[blocks.FieldDebriefOutcome] = "Keep it under 3,000 characters."
	}
	if len([]rune(o.ProcessChange)) > 500 {
		errs[blocks.FieldProcessChange] = "One change, under 500 characters."
	}
	if o.ProcessChange != "" && o.ChangeOwner == "" {
		errs[blocks.FieldProcessChangeOwner] = "Who owns this change? They get the check-in reminder."
	}
	if len(errs) > 0 {
		return slack.NewErrorsViewSubmissionResponse(errs), nil
	}
	if o.ProcessChange != "" {
		due := h.today(o.At).Add(h.settings.Churn.CheckinAfter.Duration)
		o.CheckinDue = &due
	} else {
		o.ChangeOwner = ""
	}
	_, ok, err := h.store.RecordDebriefOutcome(ctx, id, o, func(info store.DebriefInfo) ([]store.OutboxItem, error) {
		note := "✅ Debrief outcome recorded by " + blocks.Mention(cb.User.ID) + "."
		if o.ProcessChange != "" {
			note += " Process change owned by " + blocks.Mention(o.ChangeOwner) + ", check-in " + blocks.Date(*o.CheckinDue) + "."
		}
		return h.debriefUpdates(info, note)
	})
	if err != nil {
		return nil, err
	}
	if !ok {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blocks.FieldDebriefOutcome: "The outcome was already recorded."}), nil
	}
	return nil, nil
}

// debriefUpdates re-render the debrief DMs with the debrief's state and
// say what changed in their threads.
func (h *Loop) debriefUpdates(info store.DebriefInfo, note string) ([]store.OutboxItem, error) {
	var v blocks.SalesDebriefView
	if err := json.Unmarshal(info.Debrief.View, &v); err != nil {
		return nil, fmt.Errorf("decode debrief view: %w", err)
	}
	d := info.Debrief
	v.Loc = h.loc
	v.Debrief = blocks.DebriefState{ScheduledFor: d.ScheduledFor, ScheduledBy: d.ScheduledBy, HeldAt: d.HeldAt, Outcome: d.Outcome,
		ProcessChange: d.ProcessChange, ChangeOwner: d.ChangeOwner, CheckinDue: d.CheckinDue}
	noteMsg := blocks.Note("debrief_note", note)
	var items []store.OutboxItem
	for _, r := range h.debriefRecipients(info.Record) {
		v.Recipient = r
		m := blocks.SalesDebrief(v)
		ref := debriefRef(info.Record.ID, r)
		items = append(items,
			store.OutboxItem{Op: store.OpUpdate, ChannelID: r, TargetRef: ref + ":root", Message: m},
			store.OutboxItem{Op: store.OpPost, ChannelID: r, ThreadKey: ref, Message: noteMsg})
	}
	return items, nil
}

// Checkins sends the 30-day check-in of every agreed process change that
// is due (catching up on missed days); each goes out once.
func (h *Loop) Checkins(ctx context.Context, now time.Time) error {
	n, err := h.store.SendDueCheckins(ctx, h.today(now), func(info store.DebriefInfo) ([]store.OutboxItem, error) {
		d := info.Debrief
		if d.ChangeOwner == "" || d.HeldAt == nil {
			return nil, nil
		}
		m := blocks.Checkin(blocks.CheckinView{AccountName: info.Record.AccountName, Cause: info.Record.Cause,
			ProcessChange: d.ProcessChange, ChangeOwner: d.ChangeOwner, HeldAt: d.HeldAt.In(h.loc),
			SalesManager: info.Record.SalesManager})
		return []store.OutboxItem{{Op: store.OpPost, ChannelID: d.ChangeOwner, Message: m}}, nil
	})
	if n > 0 {
		h.log.Info("process-change check-ins sent", "count", n)
	}
	return err
}
