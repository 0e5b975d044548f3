package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/bot"
	"github.com/holdfast/holdfast/offers"
	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/store"
)

// OffersStore is what retention offers read and write.
type OffersStore interface {
	FindAccounts(ctx context.Context, query string, limit int) (matches, suggestions []store.Account, err error)
	Account(ctx context.Context, id int64) (store.Account, error)
	OfferBrief(ctx context.Context, a store.Account, exclude int64, now time.Time) (offers.Brief, error)
	CreateOffer(ctx context.Context, in store.OfferSubmission, render store.OfferRenderer) (store.OfferState, error)
	ReviseOffer(ctx context.Context, requestID int64, expectVersion int, in store.OfferSubmission, render store.OfferRenderer) (store.OfferState, string, error)
	DecideOfferStep(ctx context.Context, d store.StepDecision, render store.OfferRenderer) (store.DecideResult, error)
	CheckOfferStep(ctx context.Context, stepID int64, actor, action string, at time.Time) (store.DecideResult, error)
	AnswerOffer(ctx context.Context, requestID int64, actor, answer, note string, at time.Time, render store.OfferRenderer) (store.AnswerResult, error)
	SetOfferSummary(ctx context.Context, requestID int64, version int, summary string, render store.OfferRenderer) (bool, error)
	OfferState(ctx context.Context, requestID int64) (store.OfferState, error)
	OffersForAccount(ctx context.Context, accountID int64, limit int) ([]store.OfferState, error)
	OpenOfferFor(ctx context.Context, accountID int64) (store.OfferRequest, bool, error)
	OpenOffers(ctx context.Context, limit int) ([]store.OfferState, int, error)
	PendingApprovalsFor(ctx context.Context, user string, limit int) ([]store.PendingApproval, error)
	OfferStatRows(ctx context.Context, since time.Time) ([]offers.StatRow, error)
	RunOfferSLAs(ctx context.Context, now time.Time, render store.OfferRenderer) (store.SLAResult, error)
	ResolveOfferOutcomes(ctx context.Context, now time.Time, render store.OfferRenderer) (int, error)
	Enqueue(ctx context.Context, it store.OutboxItem) error
}

// OffersSlack is the part of Slack offers call directly.
type OffersSlack interface {
	OpenView(ctx context.Context, triggerID string, view slack.ModalViewRequest) error
	UserGroupMembers(ctx context.Context, group string) ([]string, error)
}

// Summarizer writes approvers' summaries (the language model); nil means
// none is configured and the template is the summary.
type Summarizer interface {
	JSON(ctx context.Context, system, user string, out any, validate func() error) error
}

// Offers runs retention-offer approvals: the form, routing, decisions in
// threads and DMs, revisions, SLAs and the /offers views.
type Offers struct {
	store  OffersStore
	slack  OffersSlack
	model  Summarizer
	cfg    offers.Config
	now    func() time.Time
	log    *slog.Logger
	router *Router
	groups groupCache

	// Summaries by the model are written after the request is stored;
	// Close waits for them.
	bg     sync.WaitGroup
	bgCtx  context.Context
	cancel context.CancelFunc
}

// NewOffers wires the offers feature. model may be nil.
func NewOffers(st OffersStore, sl OffersSlack, model Summarizer, cfg offers.Config, now func() time.Time, log *slog.Logger) *Offers {
	ctx, cancel := context.WithCancel(context.Background())
	return &Offers{store: st, slack: sl, model: model, cfg: cfg, now: now, log: log, bgCtx: ctx, cancel: cancel,
		groups: groupCache{ttl: time.Minute, m: map[string]groupEntry{}}}
}

// Close stops summaries in flight (the template stays) and waits for them.
func (o *Offers) Close() {
	o.cancel()
	o.bg.Wait()
}

const (
	groupLookupTimeout = 1500 * time.Millisecond // inside a view submission's 3 s
	pendingShown       = 15
	statsWindow        = 365 * 24 * time.Hour
)

// Register puts /offer, /offers, the decision buttons and the modals on r.
func (o *Offers) Register(r *Router) {
	o.router = r
	r.HandleCommand("/offer", o.offerCommand)
	r.HandleCommand("/offers", o.offersCommand)
	r.HandleAction(blocks.ActionProposeOffer, o.openNewForm)
	r.HandleAction(blocks.ActionOfferPickPrefix, o.openNewForm)
	r.HandleAction(blocks.ActionOfferApprovePrefix, o.approveClick)
	r.HandleAction(blocks.ActionOfferRevisePrefix, func(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
		return o.guidanceClick(ctx, cb, act, store.ActionRevise)
	})
	r.HandleAction(blocks.ActionOfferRejectPrefix, func(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
		return o.guidanceClick(ctx, cb, act, store.ActionReject)
	})
	r.HandleAction(blocks.ActionOfferEditPrefix, o.editClick)
	r.HandleAction(blocks.ActionOfferAnswerPrefix, o.answerClick)
	r.HandleView(blocks.CallbackOfferForm, o.submitForm)
	r.HandleView(blocks.CallbackOfferGuidance, o.submitGuidance)
	r.HandleView(blocks.CallbackOfferCounter, o.submitCounter)
}

// ---- /offer: proposing ----

func (o *Offers) offerCommand(ctx context.Context, cmd slack.SlashCommand) (bot.Reply, error) {
	if !o.cfg.Enabled() {
		return reply(blocks.Problem("Retention offers are not set up yet: an admin sets offers.approvals_channel and the approvers in Holdfast's config.")), nil
	}
	q := strings.TrimSpace(cmd.Text)
	if q == "" {
		return reply(blocks.Problem("Usage: /offer <account name or id>")), nil
	}
	found, ask, err := NewPicker(o.store).Find(ctx, q, PickPrompt{ActionPrefix: blocks.ActionOfferPickPrefix, Question: "Which one is the offer for?"})
	if err != nil || ask != nil {
		return replyOrErr(ask, err)
	}
	{
		a := *found
		if m, blocked := o.cannotPropose(ctx, a); blocked {
			return reply(m), nil
		}
		if err := o.slack.OpenView(ctx, cmd.TriggerID, o.newForm(a)); err != nil {
			o.log.Warn("open offer form", "err", err)
			return reply(blocks.Problem("I couldn't open the offer form in time; please try /offer again.")), nil
		}
		return reply(blocks.Info("📝 Offer form for *" + blocks.Escape(a.Name) + "* opened.")), nil
	}
}

// cannotPropose says why no new offer can start for the account now: it
// already churned, or an offer for it is still under review.
func (o *Offers) cannotPropose(ctx context.Context, a store.Account) (blocks.Message, bool) {
	if a.Status == "churned" {
		return blocks.Info("*" + blocks.Escape(a.Name) + "* is marked churned; there is no renewal left to save."), true
	}
	open, ok, err := o.store.OpenOfferFor(ctx, a.ID)
	if err != nil {
		// CreateOffer checks again on submission.
		o.log.Warn("open offer for account", "err", err)
		return blocks.Message{}, false
	}
	if ok {
		return blocks.Info(fmt.Sprintf("Offer #%d for *%s* is still open (%s). Revise it from its thread or DM instead of starting another; /offers %s shows it.",
			open.ID, blocks.Escape(a.Name), strings.ReplaceAll(open.Status, "_", " "), blocks.Escape(a.ExternalID))), true
	}
	return blocks.Message{}, false
}

// openNewForm answers a button whose value is an account id.
func (o *Offers) openNewForm(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
	if !o.cfg.Enabled() {
		o.tell(ctx, cb, blocks.Problem("Retention offers are not set up yet: an admin sets offers.approvals_channel and the approvers in Holdfast's config."))
		return nil
	}
	a, ok, err := PickedAccount(ctx, o.store, o.router, cb, act.Value)
	if !ok {
		return err
	}
	if m, blocked := o.cannotPropose(ctx, a); blocked {
		o.tell(ctx, cb, m)
		return nil
	}
	return o.slack.OpenView(ctx, cb.TriggerID, o.newForm(a))
}

func (o *Offers) newForm(a store.Account) slack.ModalViewRequest {
	return blocks.OfferForm(blocks.OfferFormView{Meta: blocks.OfferFormMeta{AccountID: a.ID}, AccountName: a.Name, Tier: a.Tier,
		ARR: a.ARR, RenewalDate: a.RenewalDate, Score: a.HealthScore, Band: scoring.Band(a.HealthBand),
		Guideline: o.cfg.Guidelines.For(a.Tier), Now: o.now()})
}

// submitForm validates the form against the guidelines, routes the offer
// and stores it (or its new version). Problems go back into the modal,
// naming the rule; nothing is stored then.
func (o *Offers) submitForm(ctx context.Context, cb slack.InteractionCallback) (any, error) {
	var meta blocks.OfferFormMeta
	if err := json.Unmarshal([]byte(cb.View.PrivateMetadata), &meta); err != nil || meta.AccountID == 0 {
		return nil, fmt.Errorf("offer form metadata %q: %v", cb.View.PrivateMetadata, err)
	}
	offer, ferrs := offers.Parse(blocks.OfferFormValues(cb.View.State))
	if ferrs != nil {
		return formErrors(ferrs), nil
	}
	var a store.Account
	var err error
	if meta.RequestID != 0 {
		// The request's own account, whatever the form says.
		var st store.OfferState
		if st, err = o.store.OfferState(ctx, meta.RequestID); err == nil {
			a = st.Account
		}
	} else {
		a, err = o.store.Account(ctx, meta.AccountID)
	}
	if errors.Is(err, store.ErrNotFound) {
		return formErrors(offers.FieldErrors{offers.FieldType: "That account or offer no longer exists; nothing was submitted."}), nil
	}
	if err != nil {
		return nil, err
	}
	now := o.now()
	im := offers.ComputeImpact(offer, a.ARR, a.RenewalDate, now, o.cfg.MinTermMonths)
	if ferrs := offers.Check(offer, o.cfg.Guidelines.For(a.Tier), a.Tier, im); ferrs != nil {
		return formErrors(ferrs), nil
	}
	route, err := offers.Evaluate(o.cfg, offers.FactsOf(offer, im, a.Tier))
	if errors.Is(err, offers.ErrNoRoute) {
		return formErrors(offers.FieldErrors{offers.FieldType: "No approval route matches this offer; ask an admin to check offers.routing."}), nil
	}
	if err != nil {
		return nil, err
	}
	groups, err := o.resolveGroups(ctx, route)
	if err != nil {
		o.log.Warn("resolve approver groups", "err", err)
		return formErrors(offers.FieldErrors{offers.FieldType: "I couldn't read the approvers' Slack user group; nothing was submitted. Please try again in a minute."}), nil
	}
	for _, st := range route.Stages {
		for _, s := range st.Steps {
			// The requester may not approve their own offer, so a step needs
			// someone else.
			others := slices.DeleteFunc(s.Approvers(groups), func(u string) bool { return u == cb.User.ID })
			if len(others) == 0 {
				return formErrors(offers.FieldErrors{offers.FieldType: fmt.Sprintf(
					"The %s step has nobody but you to approve it, and you can't approve your own offer; nothing was submitted. Ask an admin to check offers.approvers.", s.Name)}), nil
			}
		}
	}
	brief, err := o.store.OfferBrief(ctx, a, meta.RequestID, now)
	if err != nil {
		return nil, err
	}
	in := store.OfferSubmission{AccountID: a.ID, Actor: cb.User.ID, ChannelID: o.cfg.ApprovalsChannel, Offer: offer, Impact: im,
		Route: route, Groups: groups, Brief: brief,
		Summary: offers.TemplateSummary(brief, offer, im, now), At: now}
	var st store.OfferState
	if meta.RequestID == 0 {
		st, err = o.store.CreateOffer(ctx, in, o.render)
		var open *store.OpenOfferError
		if errors.As(err, &open) {
			return formErrors(offers.FieldErrors{offers.FieldType: fmt.Sprintf(
				"Offer #%d for this account is already open (%s); revise it from its thread or DM instead. Nothing was submitted.",
				open.Request.ID, strings.ReplaceAll(open.Request.Status, "_", " "))}), nil
		}
		if err != nil {
			return nil, err
		}
	} else {
		var refusal string
		st, refusal, err = o.store.ReviseOffer(ctx, meta.RequestID, meta.Version, in, o.render)
		if err != nil {
			return nil, err
		}
		if refusal != "" {
			return slack.NewErrorsViewSubmissionResponse(map[string]string{blocks.OfferBlockType: refusalText(refusal)}), nil
		}
	}
	o.summarizeLater(st, brief)
	return nil, nil
}

func formErrors(ferrs offers.FieldErrors) *slack.ViewSubmissionResponse {
	m := make(map[string]string, len(ferrs))
	for f, msg := range ferrs {
		m[blocks.OfferFieldBlock(f)] = msg
	}
	return slack.NewErrorsViewSubmissionResponse(m)
}

// refusalText is a refusal as the plain text a modal error shows.
func refusalText(reason string) string {
	return strings.NewReplacer("*", "").Replace(blocks.PlainText(blocks.OfferRefusal(reason, blocks.OfferStepView{Name: "this step"}, 0)))
}

// summarizeLater asks the model for the approvers' summary after the
// request is stored with the template's, and swaps it in if it comes in
// time. It never holds up the submission.
func (o *Offers) summarizeLater(st store.OfferState, brief offers.Brief) {
	if o.model == nil {
		return
	}
	v := st.Version
	o.bg.Go(func() {
		ctx, cancel := context.WithTimeout(o.bgCtx, o.cfg.SummaryTimeout.Duration)
		defer cancel()
		system, user := offers.SummaryPrompt(brief, v.Offer, v.Impact, v.SubmittedAt)
		var out offers.ModelSummary
		if err := o.model.JSON(ctx, system, user, &out, out.Validate); err != nil {
			o.log.Info("offer summary: keeping the template", "request", st.Request.ID, "err", err)
			return
		}
		wctx, wcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer wcancel()
		if _, err := o.store.SetOfferSummary(wctx, st.Request.ID, v.Version, out.Summary, o.render); err != nil {
			o.log.Warn("offer summary: store", "request", st.Request.ID, "err", err)
		}
	})
}

// resolveGroups expands the route's user groups through Slack (cached a
// minute), so a request's approvers are fixed when it is submitted.
func (o *Offers) resolveGroups(ctx context.Context, route offers.Route) (map[string][]string, error) {
	out := map[string][]string{}
	ctx, cancel := context.WithTimeout(ctx, groupLookupTimeout)
	defer cancel()
	for _, st := range route.Stages {
		for _, s := range st.Steps {
			if s.Group == "" || out[s.Group] != nil {
				continue
			}
			users, err := o.groups.get(ctx, s.Group, o.slack.UserGroupMembers)
			if err != nil {
				return nil, fmt.Errorf("user group %s: %w", s.Group, err)
			}
			out[s.Group] = users
		}
	}
	return out, nil
}

type groupEntry struct {
	users []string
	at    time.Time
}

type groupCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]groupEntry
}

func (c *groupCache) get(ctx context.Context, id string, fetch func(context.Context, string) ([]string, error)) ([]string, error) {
	c.mu.Lock()
	e, ok := c.m[id]
	c.mu.Unlock()
	// Wall clock on purpose: freshness of Slack's answer, not domain time.
	if ok && time.Since(e.at) < c.ttl {
		return e.users, nil
	}
	users, err := fetch(ctx, id)
	if err != nil {
		return nil, err
	}
	if users == nil {
		users = []string{}
	}
	c.mu.Lock()
	c.m[id] = groupEntry{users: users, at: time.Now()}
	c.mu.Unlock()
	return users, nil
}

// ---- decisions ----

func (o *Offers) approveClick(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
	stepID, err := strconv.ParseInt(act.Value, 10, 64)
	if err != nil {
		return fmt.Errorf("bad step id %q", act.Value)
	}
	res, err := o.store.DecideOfferStep(ctx, store.StepDecision{StepID: stepID, Actor: cb.User.ID, Action: store.ActionApprove,
		At: o.now()}, o.render)
	if errors.Is(err, store.ErrNotFound) {
		o.tell(ctx, cb, blocks.Problem("That offer no longer exists."))
		return nil
	}
	if err != nil {
		return err
	}
	if !res.Recorded {
		o.refuse(ctx, cb, res.Refusal, res.Step, res.State)
	}
	return nil
}

// guidanceClick checks the click before opening the guidance modal, so a
// stranger never gets the form; the decision itself is made on submit.
func (o *Offers) guidanceClick(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction, action string) error {
	stepID, err := strconv.ParseInt(act.Value, 10, 64)
	if err != nil {
		return fmt.Errorf("bad step id %q", act.Value)
	}
	res, err := o.store.CheckOfferStep(ctx, stepID, cb.User.ID, action, o.now())
	if errors.Is(err, store.ErrNotFound) {
		o.tell(ctx, cb, blocks.Problem("That offer no longer exists."))
		return nil
	}
	if err != nil {
		return err
	}
	if res.Refusal != "" {
		o.refuse(ctx, cb, res.Refusal, res.Step, res.State)
		return nil
	}
	return o.slack.OpenView(ctx, cb.TriggerID, blocks.OfferGuidanceModal(blocks.OfferGuidanceMeta{StepID: stepID, Action: action},
		res.State.Account.Name, res.State.Version.Offer.Describe(), res.Step.Name))
}

func (o *Offers) submitGuidance(ctx context.Context, cb slack.InteractionCallback) (any, error) {
	var meta blocks.OfferGuidanceMeta
	if err := json.Unmarshal([]byte(cb.View.PrivateMetadata), &meta); err != nil ||
		(meta.Action != store.ActionReject && meta.Action != store.ActionRevise) {
		return nil, fmt.Errorf("guidance metadata %q: %v", cb.View.PrivateMetadata, err)
	}
	guidance := strings.TrimSpace(blocks.StateText(cb.View.State, blocks.OfferBlockGuidance))
	if guidance == "" {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blocks.OfferBlockGuidance: "Tell the CSM what to change or why."}), nil
	}
	res, err := o.store.DecideOfferStep(ctx, store.StepDecision{StepID: meta.StepID, Actor: cb.User.ID, Action: meta.Action,
		Guidance: guidance, At: o.now()}, o.render)
	if errors.Is(err, store.ErrNotFound) {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blocks.OfferBlockGuidance: "That offer no longer exists."}), nil
	}
	if err != nil {
		return nil, err
	}
	if !res.Recorded {
		m := blocks.OfferRefusal(res.Refusal, stepView(res.Step), res.State.Request.Version)
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blocks.OfferBlockGuidance: blocks.PlainText(m)}), nil
	}
	return nil, nil
}

// editClick opens the form pre-filled with the current version for the
// requester (or the account owner) to revise.
func (o *Offers) editClick(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
	id, err := strconv.ParseInt(act.Value, 10, 64)
	if err != nil {
		return fmt.Errorf("bad request id %q", act.Value)
	}
	st, err := o.store.OfferState(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		o.tell(ctx, cb, blocks.Problem("That offer no longer exists."))
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case cb.User.ID != st.Request.RequestedBy && cb.User.ID != st.Account.OwnerCSM:
		o.refuse(ctx, cb, store.RefuseNotOwner, store.OfferStep{}, st)
		return nil
	case !store.Revisable(st.Request):
		o.refuse(ctx, cb, store.RefuseClosed, store.OfferStep{}, st)
		return nil
	}
	a := st.Account
	offer := st.Version.Offer
	v := blocks.OfferFormView{Meta: blocks.OfferFormMeta{AccountID: a.ID, RequestID: id, Version: st.Request.Version},
		AccountName: a.Name, Tier: a.Tier, ARR: a.ARR, RenewalDate: a.RenewalDate, Score: a.HealthScore,
		Band: scoring.Band(a.HealthBand), Guideline: o.cfg.Guidelines.For(a.Tier), Prefill: &offer, Now: o.now()}
	for _, s := range st.Steps {
		if s.Status == store.StepRevision {
			v.GuidanceBy, v.GuidanceStep, v.Guidance = s.DecidedBy, s.Name, s.Guidance
		}
	}
	if st.Request.CustomerAnswer == store.AnswerCountered {
		v.GuidanceBy, v.GuidanceStep, v.Guidance = st.Request.AnsweredBy, "customer's counter", st.Request.AnswerNote
	}
	return o.slack.OpenView(ctx, cb.TriggerID, blocks.OfferForm(v))
}

func (o *Offers) answerClick(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
	id, err := strconv.ParseInt(act.Value, 10, 64)
	if err != nil {
		return fmt.Errorf("bad request id %q", act.Value)
	}
	answer := strings.TrimPrefix(act.ActionID, blocks.ActionOfferAnswerPrefix)
	if answer == store.AnswerCountered {
		st, err := o.store.OfferState(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			o.tell(ctx, cb, blocks.Problem("That offer no longer exists."))
			return nil
		}
		if err != nil {
			return err
		}
		// Checked before the modal opens, as for Reject: only someone who
		// may record the answer gets the form (submitCounter checks again).
		if reason := store.AnswerRefusal(st.Request, st.Account.OwnerCSM, cb.User.ID); reason != "" {
			o.refuse(ctx, cb, reason, store.OfferStep{}, st)
			return nil
		}
		return o.slack.OpenView(ctx, cb.TriggerID, blocks.OfferCounterModal(id, st.Account.Name))
	}
	res, err := o.store.AnswerOffer(ctx, id, cb.User.ID, answer, "", o.now(), o.render)
	if errors.Is(err, store.ErrNotFound) {
		o.tell(ctx, cb, blocks.Problem("That offer no longer exists."))
		return nil
	}
	if err != nil {
		return err
	}
	if !res.Recorded {
		o.refuse(ctx, cb, res.Refusal, store.OfferStep{}, res.State)
	}
	return nil
}

func (o *Offers) submitCounter(ctx context.Context, cb slack.InteractionCallback) (any, error) {
	id, err := strconv.ParseInt(cb.View.PrivateMetadata, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("counter metadata %q: %w", cb.View.PrivateMetadata, err)
	}
	note := strings.TrimSpace(blocks.StateText(cb.View.State, blocks.OfferBlockCounter))
	if note == "" {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blocks.OfferBlockCounter: "What did the customer ask for?"}), nil
	}
	res, err := o.store.AnswerOffer(ctx, id, cb.User.ID, store.AnswerCountered, note, o.now(), o.render)
	if err != nil {
		return nil, err
	}
	if !res.Recorded {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blocks.OfferBlockCounter: refusalText(res.Refusal)}), nil
	}
	return nil, nil
}

// refuse tells the clicker, politely and only them, why nothing changed:
// ephemerally where Slack gave a response_url, else (App Home) in a DM.
func (o *Offers) refuse(ctx context.Context, cb slack.InteractionCallback, reason string, step store.OfferStep, st store.OfferState) {
	m := blocks.OfferRefusal(reason, stepView(step), st.Request.Version)
	if cb.ResponseURL != "" {
		o.tell(ctx, cb, m)
		return
	}
	if err := o.store.Enqueue(ctx, store.OutboxItem{Op: store.OpPost, ChannelID: cb.User.ID, Message: m}); err != nil {
		o.log.Warn("offer refusal DM", "err", err)
	}
}

func (o *Offers) tell(ctx context.Context, cb slack.InteractionCallback, m blocks.Message) {
	if o.router != nil {
		o.router.Tell(ctx, cb, m)
	}
}

// ---- /offers ----

func (o *Offers) offersCommand(ctx context.Context, cmd slack.SlashCommand) (bot.Reply, error) {
	arg := strings.TrimSpace(cmd.Text)
	switch strings.ToLower(arg) {
	case "", "pending":
		return o.pendingList(ctx, cmd.UserID)
	case "stats":
		return o.stats(ctx)
	case "help":
		return reply(blocks.Info("Usage: /offers [pending | stats | account name or id]")), nil
	}
	a, ask, err := NewPicker(o.store).Find(ctx, arg, PickPrompt{Usage: "Usage: /offers [pending | stats | account name or id]"})
	if err != nil || ask != nil {
		return replyOrErr(ask, err)
	}
	list, err := o.store.OffersForAccount(ctx, a.ID, blocks.MaxOfferHistory+1)
	if err != nil {
		return bot.Reply{}, err
	}
	views := make([]blocks.OfferView, len(list))
	for i, st := range list {
		views[i] = o.view(st, o.now())
	}
	return reply(blocks.OfferAccountHistory(a.Name, a.ID, views)), nil
}

func (o *Offers) pendingList(ctx context.Context, user string) (bot.Reply, error) {
	now := o.now()
	mine, err := o.store.PendingApprovalsFor(ctx, user, pendingShown)
	if err != nil {
		return bot.Reply{}, err
	}
	open, total, err := o.store.OpenOffers(ctx, pendingShown)
	if err != nil {
		return bot.Reply{}, err
	}
	v := blocks.OffersListView{Mine: pendingApprovalRows(mine, user, now), Total: total}
	for _, st := range open {
		v.Open = append(v.Open, o.view(st, now))
	}
	return reply(blocks.OffersList(v)), nil
}

func (o *Offers) stats(ctx context.Context) (bot.Reply, error) {
	since := o.now().Add(-statsWindow)
	rows, err := o.store.OfferStatRows(ctx, since)
	if err != nil {
		return bot.Reply{}, err
	}
	return reply(blocks.OfferStats(offers.ComputeStats(rows, o.cfg.DiscountBands), since)), nil
}

// PendingForHome is the App Home section of offers waiting for user's
// decision, with their buttons; ok is false when nothing waits (the
// section is then left out).
func (o *Offers) PendingForHome(ctx context.Context, user string, now time.Time) (title string, bs []slack.Block, ok bool, err error) {
	list, err := o.store.PendingApprovalsFor(ctx, user, pendingShown+1)
	if err != nil || len(list) == 0 {
		return "", nil, false, err
	}
	return blocks.PendingApprovalsTitle, blocks.PendingApprovals(pendingApprovalRows(list, user, now)), true, nil
}

// pendingApprovalRows adapts the store's pending approvals for
// blocks.PendingApprovals (/offers pending and the App Home section).
func pendingApprovalRows(list []store.PendingApproval, user string, now time.Time) []blocks.PendingApprovalRow {
	out := make([]blocks.PendingApprovalRow, 0, len(list))
	for _, p := range list {
		r := blocks.PendingApprovalRow{StepID: p.Step.ID, StepName: p.Step.Name, RequestID: p.RequestID, AccountName: p.AccountName,
			RequestedBy: p.RequestedBy, Offer: p.Offer, Impact: p.Impact, SLA: p.Step.SLA,
			Escalated: p.Step.EscalatedAt != nil && p.Step.Backup == user && !slices.Contains(p.Step.Approvers, user)}
		if p.Step.ActivatedAt != nil {
			r.WaitingFor = now.Sub(*p.Step.ActivatedAt)
		}
		out = append(out, r)
	}
	return out
}

// ---- scheduled work ----

// RunSLAs nudges and escalates approval steps waiting past their SLA, as
// of now (the offers-sla job).
func (o *Offers) RunSLAs(ctx context.Context, now time.Time) error {
	res, err := o.store.RunOfferSLAs(ctx, now, o.render)
	if res.Nudged+res.Escalated > 0 {
		o.log.Info("offer SLAs", "nudged", res.Nudged, "escalated", res.Escalated)
	}
	return err
}

// ResolveOutcomes tracks accepted offers to their renewal (the
// offers-outcomes job).
func (o *Offers) ResolveOutcomes(ctx context.Context, now time.Time) error {
	n, err := o.store.ResolveOfferOutcomes(ctx, now, o.render)
	if n > 0 {
		o.log.Info("offer renewal outcomes recorded", "count", n)
	}
	return err
}

// ---- rendering: what each change posts ----

// view adapts a stored request. Messages that stay in Slack get a zero now
// so they say dates, not "waiting 3h" that would go stale.
func (o *Offers) view(st store.OfferState, now time.Time) blocks.OfferView {
	return versionView(st, st.Version, st.Steps, now)
}

func versionView(st store.OfferState, ver store.OfferVersion, steps []store.OfferStep, now time.Time) blocks.OfferView {
	v := blocks.OfferView{
		RequestID: st.Request.ID, Version: ver.Version, Status: st.Request.Status,
		AccountID: st.Account.ID, AccountName: st.Account.Name,
		RenewalDate: st.Account.RenewalDate, RequestedBy: st.Request.RequestedBy, Offer: ver.Offer, Impact: ver.Impact,
		CustomerAnswer: st.Request.CustomerAnswer, AnswerNote: st.Request.AnswerNote, RenewalOutcome: st.Request.RenewalOutcome,
		ApprovalsChannel: st.Request.ChannelID, SubmittedAt: ver.SubmittedAt, Summary: ver.Summary, Now: now,
	}
	for _, s := range steps {
		v.Steps = append(v.Steps, stepView(s))
	}
	for _, d := range st.Trail {
		v.Trail = append(v.Trail, blocks.OfferTrailEntry{At: d.At, Version: d.Version, Step: d.StepName, Actor: d.Actor,
			Action: d.Action, Guidance: d.Guidance, Answer: d.Answer})
	}
	return v
}

func stepView(s store.OfferStep) blocks.OfferStepView {
	return blocks.OfferStepView{ID: s.ID, Stage: s.Stage, StageName: s.StageName, Name: s.Name, Approvers: s.Approvers,
		Backup: s.Backup, Escalated: s.EscalatedAt != nil, Status: s.Status, DecidedBy: s.DecidedBy, DecidedAt: s.DecidedAt,
		Guidance: s.Guidance, ActivatedAt: s.ActivatedAt, SLA: s.SLA}
}

// render turns a change into the messages it causes; the store writes
// them to the outbox in the change's transaction.
func (o *Offers) render(st store.OfferState, ev store.OfferEvent) ([]store.OutboxItem, error) {
	r := offerMessages{st: st, v: o.view(st, time.Time{})}
	id, ver := st.Request.ID, st.Request.Version
	switch ev.Kind {
	case store.OfferSubmitted:
		r.add(store.OutboxItem{Op: store.OpPost, ChannelID: st.Request.ChannelID, ThreadKey: store.OfferThreadKey(id),
			Ref: store.OfferRootRef(id), Message: msg(blocks.OfferCard(r.v))})
		r.summary()
		r.approverDMs(ev.Activated)
		r.dm(st.Request.RequestedBy, "", blocks.OfferSubmittedDM(r.v))
	case store.OfferRevised:
		r.root()
		prev := offers.Offer{}
		if st.Previous != nil {
			prev = st.Previous.Offer
		}
		r.thread(blocks.OfferRevisedNote(r.v, prev))
		r.summary()
		r.refreshDMs(ev.Closed)
		r.approverDMs(ev.Activated)
		r.dm(st.Request.RequestedBy, "", blocks.OfferSubmittedDM(r.v))
	case store.OfferDecided:
		r.root()
		r.thread(blocks.OfferDecisionNote(r.v, stepView(ev.Step)))
		r.refreshDMs(append([]store.OfferStep{ev.Step}, ev.Closed...))
		if len(ev.Activated) > 0 {
			started := make([]blocks.OfferStepView, len(ev.Activated))
			for i, s := range ev.Activated {
				started[i] = stepView(s)
			}
			r.thread(blocks.OfferStageNote(r.v, started))
			r.approverDMs(ev.Activated)
		}
		switch st.Request.Status {
		case store.OfferApproved:
			r.thread(blocks.OfferApprovedNote(r.v))
			r.dm(st.Request.RequestedBy, store.OfferTermsRef(id, ver), blocks.OfferTermsDM(r.v))
		case store.OfferRejected:
			r.dm(st.Request.RequestedBy, "", blocks.OfferClosedDM(r.v, stepView(ev.Step)))
		case store.OfferRevisionRequested:
			r.dm(st.Request.RequestedBy, store.OfferRevisionRef(id, ver), blocks.OfferClosedDM(r.v, stepView(ev.Step)))
		}
	case store.OfferNudged:
		waited := ev.At.Sub(deref(ev.Step.ActivatedAt, ev.At))
		r.thread(blocks.OfferNudgeNote(stepView(ev.Step), waited))
		for _, u := range ev.Step.Deciders() {
			r.dm(u, "", blocks.OfferReminderDM(r.v, stepView(ev.Step), waited))
		}
	case store.OfferEscalated:
		waited := ev.At.Sub(deref(ev.Step.ActivatedAt, ev.At))
		r.root()
		r.thread(blocks.OfferEscalationNote(stepView(ev.Step), waited))
		if b := ev.Step.Backup; b != "" && !slices.Contains(ev.Step.Approvers, b) {
			r.dm(b, store.OfferDMRef(id, ev.Step.ID, b), blocks.OfferApproverDM(r.v, stepView(ev.Step), true))
		}
	case store.OfferAnswered:
		r.root()
		r.thread(blocks.OfferAnswerNote(r.v))
		r.dmUpdate(st.Request.RequestedBy, store.OfferTermsRef(id, ver), blocks.OfferTermsDM(r.v))
	case store.OfferOutcome:
		r.root()
		r.thread(blocks.OfferOutcomeNote(r.v))
	case store.OfferSummarized:
		sv := versionView(st, ev.Version, nil, time.Time{})
		m := blocks.OfferSummary(blocks.OfferSummaryView{Offer: sv, Brief: ev.Version.Brief, ByModel: true})
		r.add(store.OutboxItem{Op: store.OpUpdate, ChannelID: st.Request.ChannelID, TargetRef: store.OfferSummaryRef(id, ev.Version.Version),
			Message: msg(m)})
		if ev.Version.Version == st.Version.Version && st.Request.Status == store.OfferPending {
			r.refreshDMs(st.ActiveSteps()) // open approval DMs show the summary too
		}
	default:
		return nil, fmt.Errorf("unknown offer event %q", ev.Kind)
	}
	return r.items, nil
}

type offerMessages struct {
	st    store.OfferState
	v     blocks.OfferView
	items []store.OutboxItem
}

func msg(m blocks.Message) blocks.Message { return m }

func (r *offerMessages) add(it store.OutboxItem) { r.items = append(r.items, it) }

func (r *offerMessages) root() {
	r.add(store.OutboxItem{Op: store.OpUpdate, ChannelID: r.st.Request.ChannelID, TargetRef: store.OfferRootRef(r.st.Request.ID),
		Message: msg(blocks.OfferCard(r.v))})
}

func (r *offerMessages) thread(m blocks.Message) {
	r.add(store.OutboxItem{Op: store.OpPost, ChannelID: r.st.Request.ChannelID, ThreadKey: store.OfferThreadKey(r.st.Request.ID),
		Message: msg(m)})
}

// summary posts the new version's template summary in the thread, named
// so the model's can replace it (OfferSummarized).
func (r *offerMessages) summary() {
	m := blocks.OfferSummary(blocks.OfferSummaryView{Offer: r.v, Brief: r.st.Version.Brief})
	r.add(store.OutboxItem{Op: store.OpPost, ChannelID: r.st.Request.ChannelID, ThreadKey: store.OfferThreadKey(r.st.Request.ID),
		Ref: store.OfferSummaryRef(r.st.Request.ID, r.st.Version.Version), Message: msg(m)})
}

// dm posts to a user's DM; ref names it when it will be updated later.
func (r *offerMessages) dm(user, ref string, m blocks.Message) {
	if user == "" {
		return
	}
	r.add(store.OutboxItem{Op: store.OpPost, ChannelID: user, Ref: ref, Message: msg(m)})
}

func (r *offerMessages) dmUpdate(user, ref string, m blocks.Message) {
	if user == "" {
		return
	}
	r.add(store.OutboxItem{Op: store.OpUpdate, ChannelID: user, TargetRef: ref, Message: msg(m)})
}

// approverDMs sends the approvers of steps that just started the request
// with its buttons (a backup is brought in by OfferEscalated instead).
func (r *offerMessages) approverDMs(steps []store.OfferStep) {
	for _, s := range steps {
		for _, u := range s.DMUsers {
			r.dm(u, store.OfferDMRef(r.st.Request.ID, s.ID, u), blocks.OfferApproverDM(r.v, stepView(s), false))
		}
	}
}

// refreshDMs re-renders the DMs of steps that were decided or taken out of
// play, which drops their buttons. A superseded step's DM keeps showing
// the version it was about.
func (r *offerMessages) refreshDMs(steps []store.OfferStep) {
	for _, s := range steps {
		v := r.v
		if s.Version != r.st.Version.Version && r.st.Previous != nil && r.st.Previous.Version == s.Version {
			v = versionView(r.st, *r.st.Previous, nil, time.Time{})
			v.Version = r.st.Version.Version // "replaced by version N" names the new one
		}
		for _, u := range s.DMUsers {
			escalated := s.EscalatedAt != nil && u == s.Backup && !slices.Contains(s.Approvers, u)
			r.dmUpdate(u, store.OfferDMRef(r.st.Request.ID, s.ID, u), blocks.OfferApproverDM(v, stepView(s), escalated))
		}
	}
}

func deref(t *time.Time, def time.Time) time.Time {
	if t == nil {
		return def
	}
	return *t
}
