package nps

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
	"github.com/holdfast/holdfast/handlers"
	"github.com/holdfast/holdfast/internal/churn"
	"github.com/holdfast/holdfast/store"
)

// usage answers /nps without an account; the picker escapes it.
const usage = "Usage: /nps <account name or id> · /nps report"

// Register puts /nps, the loop buttons and the step modals on r.
func (m *Module) Register(r *handlers.Router) {
	m.router = r
	r.HandleCommand("/nps", m.command)
	r.HandleAction(blocks.ActionNPSContacted, m.clickStep(StepContact, m.RecordContact))
	r.HandleAction(blocks.ActionNPSRootCause, m.openRootCause)
	r.HandleAction(blocks.ActionNPSPlan, m.openPlan)
	r.HandleAction(blocks.ActionNPSEscalate, m.clickStep(StepEscalate, m.Escalate))
	r.HandleAction(blocks.ActionNPSPick, m.pick)
	r.HandleView(blocks.ViewNPSRootCause, m.submitRootCause)
	r.HandleView(blocks.ViewNPSPlan, m.submitPlan)
}

func (m *Module) command(ctx context.Context, cmd slack.SlashCommand) (bot.Reply, error) {
	q := strings.TrimSpace(cmd.Text)
	var msg blocks.Message
	var err error
	switch strings.ToLower(q) {
	case "", "help":
		msg = usageCard()
	case "report":
		msg, err = m.report(ctx)
	default:
		a, ask, ferr := handlers.NewPicker(m.store).Find(ctx, q, handlers.PickPrompt{ActionPrefix: blocks.ActionNPSPick, Usage: usage})
		switch {
		case ferr != nil:
			err = ferr
		case ask != nil:
			msg = *ask
		default:
			if err = handlers.Audit(ctx, m.store, cmd.UserID, "account.read", a.ID, "/nps"); err == nil {
				msg, err = m.accountNPS(ctx, *a)
			}
		}
	}
	if err != nil {
		return bot.Reply{}, err
	}
	return bot.Reply{Message: msg}, nil
}

func (m *Module) pick(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
	a, ok, err := handlers.PickedAccount(ctx, m.store, m.router, cb, act.Value)
	if !ok {
		return err
	}
	msg, err := m.accountNPS(ctx, a)
	if err != nil {
		return err
	}
	return m.slack.Respond(ctx, cb.ResponseURL, msg, true)
}

func loopID(value string) (int64, error) {
	id, err := strconv.ParseInt(value, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("bad loop id %q", value)
	}
	return id, nil
}

// refusalText says why a step changed nothing when the user cannot fix it
// by editing a field; "" for any other error.
func refusalText(err error) string {
	switch {
	case errors.Is(err, ErrNotAllowed):
		return "Only the account's owner CSM or a manager can record steps of this detractor loop."
	case errors.Is(err, ErrClosed):
		return "This detractor loop is closed."
	case errors.Is(err, store.ErrNotFound):
		return "That detractor loop no longer exists."
	}
	return ""
}

// refusal explains, ephemerally, why a click on step changed nothing;
// handled reports whether err was one of those expected refusals.
func (m *Module) refusal(ctx context.Context, cb slack.InteractionCallback, loop int64, step Step, err error) (handled bool) {
	if errors.Is(err, ErrAlreadyDone) {
		var by string
		var at time.Time
		if l, _, lerr := m.authorize(ctx, loop, cb.User.ID); lerr == nil {
			at, by = l.DoneAt(step)
		}
		m.router.Tell(ctx, cb, stepAlreadyRecorded(step, by, at))
		return true
	}
	if text := refusalText(err); text != "" {
		m.router.Tell(ctx, cb, blocks.Problem(text))
		return true
	}
	return false
}

// clickStep records a one-click step (contact, escalation).
func (m *Module) clickStep(step Step, record func(ctx context.Context, loopID int64, user string) error) handlers.ActionFunc {
	return func(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
		id, err := loopID(act.Value)
		if err != nil {
			return err
		}
		if err := record(ctx, id, cb.User.ID); err != nil && !m.refusal(ctx, cb, id, step, err) {
			return err
		}
		return nil
	}
}

// stepModal loads the clicked loop for a step's modal, checking the user
// may act before the modal opens (the same check runs again on
// submission: the modal could sit open for a while). ok=false with a nil
// error: the user has been told why not.
func (m *Module) stepModal(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction, step Step) (
	_ loopRow, _ store.Account, ok bool, _ error) {
	id, err := loopID(act.Value)
	if err != nil {
		return loopRow{}, store.Account{}, false, err
	}
	l, a, err := m.authorize(ctx, id, cb.User.ID)
	if err != nil {
		if m.refusal(ctx, cb, id, step, err) {
			err = nil
		}
		return l, a, false, err
	}
	return l, a, true, nil
}

func (m *Module) openRootCause(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
	l, a, ok, err := m.stepModal(ctx, cb, act, StepRootCause)
	if !ok {
		return err
	}
	return m.slack.OpenView(ctx, cb.TriggerID, rootCauseModal(l.ID, a.Name, l.RootCause, l.RootCauseWords))
}

func (m *Module) openPlan(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
	l, a, ok, err := m.stepModal(ctx, cb, act, StepActionPlan)
	if !ok {
		return err
	}
	return m.slack.OpenView(ctx, cb.TriggerID, planModal(l.ID, a.Name, l.Plan, cmp.Or(l.PlanOwner, cb.User.ID), l.PlanDue))
}

// modalError turns a refused submission into errors shown on the modal's
// fields (a modal has no response_url for an ephemeral message).
func modalError(err error, fields map[string]string, fallback string) (any, error) {
	var ie *InputError
	switch {
	case errors.As(err, &ie):
		block := fields[ie.Field]
		if block == "" {
			block = fallback
		}
		return slack.NewErrorsViewSubmissionResponse(map[string]string{block: ie.Message}), nil
	case refusalText(err) != "":
		return slack.NewErrorsViewSubmissionResponse(map[string]string{fallback: refusalText(err)}), nil
	}
	return nil, err
}

func viewValue(cb slack.InteractionCallback, block string) slack.BlockAction {
	if b, ok := cb.View.State.Values[block]; ok {
		return b[blocks.NPSInput]
	}
	return slack.BlockAction{}
}

func (m *Module) submitRootCause(ctx context.Context, cb slack.InteractionCallback) (any, error) {
	id, err := loopID(cb.View.PrivateMetadata)
	if err != nil {
		return nil, err
	}
	cause := churn.Cause(viewValue(cb, blocks.NPSBlockCause).SelectedOption.Value)
	words := viewValue(cb, blocks.NPSBlockWords).Value
	if err := m.RecordRootCause(ctx, id, cb.User.ID, cause, words); err != nil {
		return modalError(err, map[string]string{"cause": blocks.NPSBlockCause, "words": blocks.NPSBlockWords}, blocks.NPSBlockCause)
	}
	return nil, nil
}

func (m *Module) submitPlan(ctx context.Context, cb slack.InteractionCallback) (any, error) {
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
	if err := m.RecordPlan(ctx, id, cb.User.ID, plan, owner, due); err != nil {
		return modalError(err, map[string]string{"plan": blocks.NPSBlockPlan, "owner": blocks.NPSBlockOwner, "due": blocks.NPSBlockDue},
			blocks.NPSBlockPlan)
	}
	return nil, nil
}
