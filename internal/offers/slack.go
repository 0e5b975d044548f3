package offers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/bot"
	"github.com/holdfast/holdfast/handlers"
	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/store"
)

// The Slack side of offers: /offer and its form, the decision buttons and
// the guidance modal, the customer's answer, /offers, and the refusals a
// click that changed nothing gets.

func reply(m blocks.Message) bot.Reply { return bot.Reply{Message: m} }

func replyOrErr(m *blocks.Message, err error) (bot.Reply, error) {
	if err != nil {
		return bot.Reply{}, err
	}
	return reply(*m), nil
}

// ---- /offer: proposing ----

func (o *Module) offerCommand(ctx context.Context, cmd slack.SlashCommand) (bot.Reply, error) {
	if !o.set.Enabled() {
		return reply(blocks.Problem("Retention offers are not set up yet: an admin sets offers.approvals_channel and the approvers in Holdfast's config.")), nil
	}
	q := strings.TrimSpace(cmd.Text)
	if q == "" {
		return reply(blocks.Problem("Usage: /offer <account name or id>")), nil
	}
	found, ask, err := handlers.NewPicker(o.st).Find(ctx, q, handlers.PickPrompt{ActionPrefix: blocks.ActionOfferPickPrefix, Question: "Which one is the offer for?"})
	if err != nil || ask != nil {
		return replyOrErr(ask, err)
	}
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

// cannotPropose says why no new offer can start for the account now: it
// already churned, or an offer for it is still under review.
func (o *Module) cannotPropose(ctx context.Context, a store.Account) (blocks.Message, bool) {
	if a.Status == "churned" {
		return blocks.Info("*" + blocks.Escape(a.Name) + "* is marked churned; there is no renewal left to save."), true
	}
	open, ok, err := o.svc.openFor(ctx, a.ID)
	if err != nil {
		// create checks again on submission, under the account's lock.
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
func (o *Module) openNewForm(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
	if !o.set.Enabled() {
		o.tell(ctx, cb, blocks.Problem("Retention offers are not set up yet: an admin sets offers.approvals_channel and the approvers in Holdfast's config."))
		return nil
	}
	a, ok, err := handlers.PickedAccount(ctx, o.st, o.router, cb, act.Value)
	if !ok {
		return err
	}
	if m, blocked := o.cannotPropose(ctx, a); blocked {
		o.tell(ctx, cb, m)
		return nil
	}
	return o.slack.OpenView(ctx, cb.TriggerID, o.newForm(a))
}

func (o *Module) newForm(a store.Account) slack.ModalViewRequest {
	return formModal(formView{Meta: FormMeta{AccountID: a.ID}, AccountName: a.Name, Tier: a.Tier,
		ARR: a.ARR, RenewalDate: a.RenewalDate, Score: a.HealthScore, Band: scoring.Band(a.HealthBand),
		Guideline: o.set.Guidelines.For(a.Tier), Now: o.now()})
}

// submitForm validates the form against the guidelines, routes the offer
// and stores it (or its new version). Problems go back into the modal,
// naming the rule; nothing is stored then.
func (o *Module) submitForm(ctx context.Context, cb slack.InteractionCallback) (any, error) {
	var meta FormMeta
	if err := json.Unmarshal([]byte(cb.View.PrivateMetadata), &meta); err != nil || meta.AccountID == 0 {
		return nil, fmt.Errorf("offer form metadata %q: %v", cb.View.PrivateMetadata, err)
	}
	offer, ferrs := Parse(formValues(cb.View.State))
	if ferrs != nil {
		return formErrors(ferrs), nil
	}
	var a store.Account
	var err error
	if meta.RequestID != 0 {
		// The request's own account, whatever the form says.
		var st State
		if st, err = o.svc.state(ctx, meta.RequestID); err == nil {
			a = st.Account
		}
	} else {
		a, err = o.st.Account(ctx, meta.AccountID)
	}
	if errors.Is(err, store.ErrNotFound) {
		return formErrors(FieldErrors{FieldType: "That account or offer no longer exists; nothing was submitted."}), nil
	}
	if err != nil {
		return nil, err
	}
	now := o.now()
	im := ComputeImpact(offer, a.ARR, a.RenewalDate, now, o.set.MinTermMonths)
	if ferrs := Check(offer, o.set.Guidelines.For(a.Tier), a.Tier, im); ferrs != nil {
		return formErrors(ferrs), nil
	}
	route, err := Evaluate(o.set, FactsOf(offer, im, a.Tier))
	if errors.Is(err, ErrNoRoute) {
		return formErrors(FieldErrors{FieldType: "No approval route matches this offer; ask an admin to check offers.routing."}), nil
	}
	if err != nil {
		return nil, err
	}
	groups, err := o.resolveGroups(ctx, route)
	if err != nil {
		o.log.Warn("resolve approver groups", "err", err)
		return formErrors(FieldErrors{FieldType: "I couldn't read the approvers' Slack user group; nothing was submitted. Please try again in a minute."}), nil
	}
	for _, st := range route.Stages {
		for _, s := range st.Steps {
			// The requester may not approve their own offer, so a step needs
			// someone else.
			others := slices.DeleteFunc(s.Approvers(groups), func(u string) bool { return u == cb.User.ID })
			if len(others) == 0 {
				return formErrors(FieldErrors{FieldType: fmt.Sprintf(
					"The %s step has nobody but you to approve it, and you can't approve your own offer; nothing was submitted. Ask an admin to check offers.approvers.", s.Name)}), nil
			}
		}
	}
	brief, err := o.svc.brief(ctx, a, meta.RequestID, now)
	if err != nil {
		return nil, err
	}
	in := Submission{AccountID: a.ID, Actor: cb.User.ID, ChannelID: o.set.ApprovalsChannel, Offer: offer, Impact: im,
		Route: route, Groups: groups, Brief: brief,
		Summary: TemplateSummary(brief, offer, im, now), At: now}
	var st State
	if meta.RequestID == 0 {
		st, err = o.svc.propose(ctx, in)
		var open *OpenRequestError
		if errors.As(err, &open) {
			return formErrors(FieldErrors{FieldType: fmt.Sprintf(
				"Offer #%d for this account is already open (%s); revise it from its thread or DM instead. Nothing was submitted.",
				open.Request.ID, strings.ReplaceAll(open.Request.Status, "_", " "))}), nil
		}
		if err != nil {
			return nil, err
		}
	} else {
		var refusal string
		st, refusal, err = o.svc.revise(ctx, meta.RequestID, meta.Version, in)
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

func formErrors(ferrs FieldErrors) *slack.ViewSubmissionResponse {
	m := make(map[string]string, len(ferrs))
	for f, msg := range ferrs {
		m[fieldBlock(f)] = msg
	}
	return slack.NewErrorsViewSubmissionResponse(m)
}

// refusalText is a refusal as the plain text a modal error shows.
func refusalText(reason string) string {
	return strings.NewReplacer("*", "").Replace(blocks.PlainText(refusalMessage(reason, stepView{Name: "this step"}, 0)))
}

// summarizeLater asks the model for the approvers' summary after the
// request is stored with the template's, and swaps it in if it comes in
// time. It never holds up the submission.
func (o *Module) summarizeLater(st State, brief Brief) {
	if o.model == nil {
		return
	}
	v := st.Version
	o.bg.Go(func() {
		ctx, cancel := context.WithTimeout(o.bgCtx, o.set.SummaryTimeout.Duration)
		defer cancel()
		system, user := SummaryPrompt(brief, v.Offer, v.Impact, v.SubmittedAt)
		var out ModelSummary
		if err := o.model.JSON(ctx, system, user, &out, out.Validate); err != nil {
			o.log.Info("offer summary: keeping the template", "request", st.Request.ID, "err", err)
			return
		}
		wctx, wcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer wcancel()
		if _, err := o.svc.setSummary(wctx, st.Request.ID, v.Version, out.Summary); err != nil {
			o.log.Warn("offer summary: store", "request", st.Request.ID, "err", err)
		}
	})
}

// resolveGroups expands the route's user groups through Slack (cached a
// minute), so a request's approvers are fixed when it is submitted.
func (o *Module) resolveGroups(ctx context.Context, route Route) (map[string][]string, error) {
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

func (o *Module) approveClick(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
	stepID, err := strconv.ParseInt(act.Value, 10, 64)
	if err != nil {
		return fmt.Errorf("bad step id %q", act.Value)
	}
	res, err := o.svc.decide(ctx, StepDecision{StepID: stepID, Actor: cb.User.ID, Action: ActionApprove,
		At: o.now()})
	if o.gone(ctx, cb, err) {
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
func (o *Module) guidanceClick(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction, action string) error {
	stepID, err := strconv.ParseInt(act.Value, 10, 64)
	if err != nil {
		return fmt.Errorf("bad step id %q", act.Value)
	}
	res, err := o.svc.check(ctx, stepID, cb.User.ID, action, o.now())
	if o.gone(ctx, cb, err) {
		return nil
	}
	if err != nil {
		return err
	}
	if res.Refusal != "" {
		o.refuse(ctx, cb, res.Refusal, res.Step, res.State)
		return nil
	}
	return o.slack.OpenView(ctx, cb.TriggerID, guidanceModal(guidanceMeta{StepID: stepID, Action: action},
		res.State.Account.Name, res.State.Version.Offer.Describe(), res.Step.Name))
}

func (o *Module) submitGuidance(ctx context.Context, cb slack.InteractionCallback) (any, error) {
	var meta guidanceMeta
	if err := json.Unmarshal([]byte(cb.View.PrivateMetadata), &meta); err != nil ||
		(meta.Action != ActionReject && meta.Action != ActionRevise) {
		return nil, fmt.Errorf("guidance metadata %q: %v", cb.View.PrivateMetadata, err)
	}
	guidance := strings.TrimSpace(stateValue(cb.View.State, blocks.OfferBlockGuidance))
	if guidance == "" {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blocks.OfferBlockGuidance: "Tell the CSM what to change or why."}), nil
	}
	res, err := o.svc.decide(ctx, StepDecision{StepID: meta.StepID, Actor: cb.User.ID, Action: meta.Action,
		Guidance: guidance, At: o.now()})
	if errors.Is(err, store.ErrNotFound) {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blocks.OfferBlockGuidance: "That offer no longer exists."}), nil
	}
	if err != nil {
		return nil, err
	}
	if !res.Recorded {
		m := refusalMessage(res.Refusal, stepViewOf(res.Step), res.State.Request.Version)
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blocks.OfferBlockGuidance: blocks.PlainText(m)}), nil
	}
	return nil, nil
}

// editClick opens the form pre-filled with the current version for the
// requester (or the account owner) to revise.
func (o *Module) editClick(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
	id, err := strconv.ParseInt(act.Value, 10, 64)
	if err != nil {
		return fmt.Errorf("bad request id %q", act.Value)
	}
	st, err := o.svc.state(ctx, id)
	if o.gone(ctx, cb, err) {
		return nil
	}
	if err != nil {
		return err
	}
	// The version shown is the one revised: checked again on submission.
	if reason := reviseRefusal(st.Request, st.Account.OwnerCSM, cb.User.ID, st.Request.Version); reason != "" {
		o.refuse(ctx, cb, reason, ApprovalStep{}, st)
		return nil
	}
	a := st.Account
	offer := st.Version.Offer
	v := formView{Meta: FormMeta{AccountID: a.ID, RequestID: id, Version: st.Request.Version},
		AccountName: a.Name, Tier: a.Tier, ARR: a.ARR, RenewalDate: a.RenewalDate, Score: a.HealthScore,
		Band: scoring.Band(a.HealthBand), Guideline: o.set.Guidelines.For(a.Tier), Prefill: &offer, Now: o.now()}
	for _, s := range st.Steps {
		if s.Status == StepRevision {
			v.GuidanceBy, v.GuidanceStep, v.Guidance = s.DecidedBy, s.Name, s.Guidance
		}
	}
	if st.Request.CustomerAnswer == AnswerCountered {
		v.GuidanceBy, v.GuidanceStep, v.Guidance = st.Request.AnsweredBy, "customer's counter", st.Request.AnswerNote
	}
	return o.slack.OpenView(ctx, cb.TriggerID, formModal(v))
}

func (o *Module) answerClick(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
	id, err := strconv.ParseInt(act.Value, 10, 64)
	if err != nil {
		return fmt.Errorf("bad request id %q", act.Value)
	}
	answer := strings.TrimPrefix(act.ActionID, blocks.ActionOfferAnswerPrefix)
	if answer == AnswerCountered {
		st, err := o.svc.state(ctx, id)
		if o.gone(ctx, cb, err) {
			return nil
		}
		if err != nil {
			return err
		}
		// Checked before the modal opens, as for Reject: only someone who
		// may record the answer gets the form (submitCounter checks again).
		if reason := answerRefusal(st.Request, st.Account.OwnerCSM, cb.User.ID); reason != "" {
			o.refuse(ctx, cb, reason, ApprovalStep{}, st)
			return nil
		}
		return o.slack.OpenView(ctx, cb.TriggerID, counterModal(id, st.Account.Name))
	}
	res, err := o.svc.answer(ctx, id, cb.User.ID, answer, "", o.now())
	if o.gone(ctx, cb, err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !res.Recorded {
		o.refuse(ctx, cb, res.Refusal, ApprovalStep{}, res.State)
	}
	return nil
}

func (o *Module) submitCounter(ctx context.Context, cb slack.InteractionCallback) (any, error) {
	id, err := strconv.ParseInt(cb.View.PrivateMetadata, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("counter metadata %q: %w", cb.View.PrivateMetadata, err)
	}
	note := strings.TrimSpace(stateValue(cb.View.State, blocks.OfferBlockCounter))
	if note == "" {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blocks.OfferBlockCounter: "What did the customer ask for?"}), nil
	}
	res, err := o.svc.answer(ctx, id, cb.User.ID, AnswerCountered, note, o.now())
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
func (o *Module) refuse(ctx context.Context, cb slack.InteractionCallback, reason string, step ApprovalStep, st State) {
	m := refusalMessage(reason, stepViewOf(step), st.Request.Version)
	if cb.ResponseURL != "" {
		o.tell(ctx, cb, m)
		return
	}
	if err := o.st.Enqueue(ctx, store.OutboxItem{Op: store.OpPost, ChannelID: cb.User.ID, Message: m}); err != nil {
		o.log.Warn("offer refusal DM", "err", err)
	}
}

// gone tells the clicker the offer their button was for no longer exists,
// when err says so.
func (o *Module) gone(ctx context.Context, cb slack.InteractionCallback, err error) bool {
	if !errors.Is(err, store.ErrNotFound) {
		return false
	}
	o.tell(ctx, cb, blocks.Problem("That offer no longer exists."))
	return true
}

func (o *Module) tell(ctx context.Context, cb slack.InteractionCallback, m blocks.Message) {
	if o.router != nil {
		o.router.Tell(ctx, cb, m)
	}
}

// ---- /offers ----

func (o *Module) offersCommand(ctx context.Context, cmd slack.SlashCommand) (bot.Reply, error) {
	arg := strings.TrimSpace(cmd.Text)
	switch strings.ToLower(arg) {
	case "", "pending":
		return o.pendingList(ctx, cmd.UserID)
	case "stats":
		return o.stats(ctx)
	case "help":
		return reply(blocks.Info("Usage: /offers [pending | stats | account name or id]")), nil
	}
	a, ask, err := handlers.NewPicker(o.st).Find(ctx, arg, handlers.PickPrompt{Usage: "Usage: /offers [pending | stats | account name or id]"})
	if err != nil || ask != nil {
		return replyOrErr(ask, err)
	}
	if err := handlers.Audit(ctx, o.st, cmd.UserID, "account.read", a.ID, "/offers"); err != nil {
		return bot.Reply{}, err
	}
	list, err := o.svc.forAccount(ctx, a.ID, maxHistory+1)
	if err != nil {
		return bot.Reply{}, err
	}
	views := make([]requestView, len(list))
	for i, st := range list {
		views[i] = viewOf(st, o.now())
	}
	return reply(historyMessage(a.Name, a.ID, views)), nil
}

func (o *Module) pendingList(ctx context.Context, user string) (bot.Reply, error) {
	now := o.now()
	mine, err := o.svc.pending(ctx, user, pendingShown)
	if err != nil {
		return bot.Reply{}, err
	}
	open, total, err := o.svc.open(ctx, pendingShown)
	if err != nil {
		return bot.Reply{}, err
	}
	v := listView{Mine: pendingApprovalRows(mine, user, now), Total: total}
	for _, st := range open {
		v.Open = append(v.Open, viewOf(st, now))
	}
	return reply(listMessage(v)), nil
}

func (o *Module) stats(ctx context.Context) (bot.Reply, error) {
	since := o.now().Add(-statsWindow)
	rows, err := o.svc.statRows(ctx, since)
	if err != nil {
		return bot.Reply{}, err
	}
	return reply(statsMessage(ComputeStats(rows, o.set.DiscountBands), since)), nil
}

// pendingApprovalRows adapts the store's pending approvals for
// pendingBlocks (/offers pending and the App Home section).
func pendingApprovalRows(list []PendingApproval, user string, now time.Time) []pendingRow {
	out := make([]pendingRow, 0, len(list))
	for _, p := range list {
		r := pendingRow{StepID: p.Step.ID, StepName: p.Step.Name, RequestID: p.RequestID, AccountName: p.AccountName,
			RequestedBy: p.RequestedBy, Offer: p.Offer, Impact: p.Impact, SLA: p.Step.SLA,
			Escalated: p.Step.EscalatedAt != nil && p.Step.Backup == user && !slices.Contains(p.Step.Approvers, user)}
		if p.Step.ActivatedAt != nil {
			r.WaitingFor = now.Sub(*p.Step.ActivatedAt)
		}
		out = append(out, r)
	}
	return out
}
