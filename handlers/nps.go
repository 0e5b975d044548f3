package handlers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/bot"
	"github.com/holdfast/holdfast/churn"
	"github.com/holdfast/holdfast/nps"
	"github.com/holdfast/holdfast/npsflow"
	"github.com/holdfast/holdfast/store"
)

// NPSService is what the NPS handlers need from the NPS flows.
type NPSService interface {
	AccountNPS(ctx context.Context, a store.Account) (blocks.Message, error)
	Report(ctx context.Context) (blocks.Message, error)
	Authorize(ctx context.Context, loopID int64, user string) (store.NPSLoop, store.Account, error)
	RecordContact(ctx context.Context, loopID int64, user string) error
	RecordRootCause(ctx context.Context, loopID int64, user string, cause churn.Cause, words string) error
	RecordPlan(ctx context.Context, loopID int64, user, plan, owner string, due time.Time) error
	Escalate(ctx context.Context, loopID int64, user string) error
}

// NPSAccounts finds accounts for /nps.
type NPSAccounts interface {
	FindAccounts(ctx context.Context, query string, limit int) (matches, suggestions []store.Account, err error)
	Account(ctx context.Context, id int64) (store.Account, error)
}

// NPS answers /nps and the detractor loop's buttons and modals.
type NPS struct {
	svc      NPSService
	accounts NPSAccounts
	slack    Slack
	router   *Router
}

// NewNPS wires the NPS handlers.
func NewNPS(svc NPSService, accounts NPSAccounts, sl Slack) *NPS {
	return &NPS{svc: svc, accounts: accounts, slack: sl}
}

// Register puts /nps, the loop buttons and the step modals on r.
func (h *NPS) Register(r *Router) {
	h.router = r
	r.HandleCommand("/nps", h.command)
	r.HandleAction(blocks.ActionNPSContacted, h.clickStep(nps.StepContact, h.svc.RecordContact))
	r.HandleAction(blocks.ActionNPSRootCause, h.openRootCause)
	r.HandleAction(blocks.ActionNPSPlan, h.openPlan)
	r.HandleAction(blocks.ActionNPSEscalate, h.clickStep(nps.StepEscalate, h.svc.Escalate))
	r.HandleAction(blocks.ActionNPSPick, h.pick)
	r.HandleView(blocks.ViewNPSRootCause, h.submitRootCause)
	r.HandleView(blocks.ViewNPSPlan, h.submitPlan)
}

func (h *NPS) command(ctx context.Context, cmd slack.SlashCommand) (bot.Reply, error) {
	q := strings.TrimSpace(cmd.Text)
	switch strings.ToLower(q) {
	case "", "help":
		return reply(blocks.NPSUsage()), nil
	case "report":
		m, err := h.svc.Report(ctx)
		if err != nil {
			return bot.Reply{}, err
		}
		return reply(m), nil
	}
	a, ask, err := NewPicker(h.accounts).Find(ctx, q, PickPrompt{ActionPrefix: blocks.ActionNPSPick,
		Usage: "Usage: /nps <account name or id> · /nps report"})
	if err != nil || ask != nil {
		return replyOrErr(ask, err)
	}
	m, err := h.svc.AccountNPS(ctx, *a)
	if err != nil {
		return bot.Reply{}, err
	}
	return reply(m), nil
}

func (h *NPS) pick(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
	a, ok, err := PickedAccount(ctx, h.accounts, h.router, cb, act.Value)
	if !ok {
		return err
	}
	m, err := h.svc.AccountNPS(ctx, a)
	if err != nil {
		return err
	}
	return h.slack.Respond(ctx, cb.ResponseURL, m, true)
}

func loopID(value string) (int64, error) {
	id, err := strconv.ParseInt(value, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("bad loop id %q", value)
	}
	return id, nil
}

// npsRefusalText says why a step changed nothing when the user cannot fix it
// by editing a field; "" for any other error.
func npsRefusalText(err error) string {
	switch {
	case errors.Is(err, npsflow.ErrNotAllowed):
		return "Only the account's owner CSM or a manager can record steps of this detractor loop."
	case errors.Is(err, nps.ErrClosed):
		return "This detractor loop is closed."
	case errors.Is(err, store.ErrNotFound):
		return "That detractor loop no longer exists."
	}
	return ""
}

// refusal explains, ephemerally, why a click on step changed nothing;
// handled reports whether err was one of those expected refusals.
func (h *NPS) refusal(ctx context.Context, cb slack.InteractionCallback, loop int64, step nps.Step, err error) (handled bool) {
	if errors.Is(err, nps.ErrAlreadyDone) {
		var by string
		var at time.Time
		if l, _, lerr := h.svc.Authorize(ctx, loop, cb.User.ID); lerr == nil {
			at, by = l.DoneAt(step)
		}
		h.router.Tell(ctx, cb, blocks.NPSStepAlreadyRecorded(step, by, at))
		return true
	}
	if text := npsRefusalText(err); text != "" {
		h.router.Tell(ctx, cb, blocks.Problem(text))
		return true
	}
	return false
}

// clickStep records a one-click step (contact, escalation).
func (h *NPS) clickStep(step nps.Step, record func(ctx context.Context, loopID int64, user string) error) ActionFunc {
	return func(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
		id, err := loopID(act.Value)
		if err != nil {
			return err
		}
		if err := record(ctx, id, cb.User.ID); err != nil && !h.refusal(ctx, cb, id, step, err) {
			return err
		}
		return nil
	}
}

// authorize loads the clicked loop for a step's modal, checking the user
// may act before the modal opens (the same check runs again on
// submission: the modal could sit open for a while). ok=false with a nil
// error: the user has been told why not.
func (h *NPS) authorize(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction, step nps.Step) (
	_ store.NPSLoop, _ store.Account, ok bool, _ error) {
	id, err := loopID(act.Value)
	if err != nil {
		return store.NPSLoop{}, store.Account{}, false, err
	}
	l, a, err := h.svc.Authorize(ctx, id, cb.User.ID)
	if err != nil {
		if h.refusal(ctx, cb, id, step, err) {
			err = nil
		}
		return l, a, false, err
	}
	return l, a, true, nil
}

func (h *NPS) openRootCause(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
	l, a, ok, err := h.authorize(ctx, cb, act, nps.StepRootCause)
	if !ok {
		return err
	}
	return h.slack.OpenView(ctx, cb.TriggerID, blocks.NPSRootCauseModal(l.ID, a.Name, l.RootCause, l.RootCauseWords))
}

func (h *NPS) openPlan(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
	l, a, ok, err := h.authorize(ctx, cb, act, nps.StepActionPlan)
	if !ok {
		return err
	}
	return h.slack.OpenView(ctx, cb.TriggerID, blocks.NPSPlanModal(l.ID, a.Name, l.Plan, cmp.Or(l.PlanOwner, cb.User.ID), l.PlanDue))
}

// modalError turns a refused submission into errors shown on the modal's
// fields (a modal has no response_url for an ephemeral message).
func modalError(err error, fields map[string]string, fallback string) (any, error) {
	var ie *nps.InputError
	switch {
	case errors.As(err, &ie):
		block := fields[ie.Field]
		if block == "" {
			block = fallback
		}
		return slack.NewErrorsViewSubmissionResponse(map[string]string{block: ie.Message}), nil
	case npsRefusalText(err) != "":
		return slack.NewErrorsViewSubmissionResponse(map[string]string{fallback: npsRefusalText(err)}), nil
	}
	return nil, err
}

func viewValue(cb slack.InteractionCallback, block string) slack.BlockAction {
	if b, ok := cb.View.State.Values[block]; ok {
		return b[blocks.NPSInput]
	}
	return slack.BlockAction{}
}

func (h *NPS) submitRootCause(ctx context.Context, cb slack.InteractionCallback) (any, error) {
	id, err := loopID(cb.View.PrivateMetadata)
	if err != nil {
		return nil, err
	}
	cause := churn.Cause(viewValue(cb, blocks.NPSBlockCause).SelectedOption.Value)
	words := viewValue(cb, blocks.NPSBlockWords).Value
	if err := h.svc.RecordRootCause(ctx, id, cb.User.ID, cause, words); err != nil {
		return modalError(err, map[string]string{"cause": blocks.NPSBlockCause, "words": blocks.NPSBlockWords}, blocks.NPSBlockCause)
	}
	return nil, nil
}

func (h *NPS) submitPlan(ctx context.Context, cb slack.InteractionCallback) (any, error) {
	id, err := loopID(cb.View.PrivateMetadata)
	if err != nil {
		return nil, err
	}
	plan := viewValue(cb, blocks.NPSBlockPlan).Value
	owner := viewValue(cb, blocks.NPSBlockOwner).SelectedUser
	var due time.Time
	if d := viewValue(cb, blocks.NPSBlockDue).SelectedDate; d != "" {
		if due, err = time.Parse(time.DateOnly, d); err != nil {
			return slack.NewErrorsViewSubmissionResponse(map[string]string{blocks.NPSBlockDue: "Choose a date."}), nil
		}
	}
	if err := h.svc.RecordPlan(ctx, id, cb.User.ID, plan, owner, due); err != nil {
		return modalError(err, map[string]string{"plan": blocks.NPSBlockPlan, "owner": blocks.NPSBlockOwner, "due": blocks.NPSBlockDue},
			blocks.NPSBlockPlan)
	}
	return nil, nil
}
