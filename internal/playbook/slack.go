package playbook

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/handlers"
	"github.com/holdfast/holdfast/store"
)

// Register puts /atrisk, the alert's Claim and the playbook's steps on r.
func (m *Module) Register(r *handlers.Router) {
	m.router = r
	r.HandleCommand("/atrisk", m.command)
	r.HandleAction(ActionClaim, func(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
		return m.claimClick(ctx, cb, act.Value)
	})
	r.HandleAction(ActionStep, m.stepClick)
	r.HandleAction(ActionDismiss, m.dismissClick)
	r.HandleView(ViewStep, m.submitStep)
	r.HandleView(ViewDismiss, m.submitDismiss)
}

func (m *Module) claimClick(ctx context.Context, cb slack.InteractionCallback, value string) error {
	id, err := strconv.ParseInt(value, 10, 64)
	if err != nil {
		return fmt.Errorf("bad alert id %q", value)
	}
	res, err := m.Claim(ctx, id, cb.User.ID)
	switch {
	case errors.Is(err, errNotInBook):
		m.router.Tell(ctx, cb, blocks.Problem(handlers.NotInBook))
	case errors.Is(err, store.ErrNotFound):
		m.router.Tell(ctx, cb, blocks.Problem("That alert no longer exists."))
	case err != nil:
		return err
	case !res.Claimed && res.Alert.ClaimedBy == cb.User.ID:
		m.router.Tell(ctx, cb, blocks.Problem("You already own this follow-up."))
	case !res.Claimed:
		m.router.Tell(ctx, cb, blocks.AlreadyClaimed(res.Alert.ClaimedBy))
	}
	return nil
}

// refusal tells the person why a step was not recorded; false when err is
// not one of the expected refusals.
func (m *Module) refusal(ctx context.Context, cb slack.InteractionCallback, err error) bool {
	if ae, ok := errors.AsType[*AlreadyRecordedError](err); ok {
		// A mention, which Problem would escape.
		m.router.Tell(ctx, cb, blocks.Info("⚠️ Already recorded by "+blocks.UserRef(ae.By, "someone")+" on "+stamp(ae.At, m.loc)+"."))
		return true
	}
	if text := refusalText(err); text != "" {
		m.router.Tell(ctx, cb, blocks.Problem(text))
		return true
	}
	return false
}

func refusalText(err error) string {
	switch {
	case errors.Is(err, ErrNotAllowed):
		return "Only the playbook's owner, their manager or leadership can record its steps."
	case errors.Is(err, ErrClosed):
		return "This playbook is closed."
	case errors.Is(err, ErrUnclaimed):
		return "Claim the alert first: the playbook starts with its owner."
	case errors.Is(err, store.ErrNotFound):
		return "That playbook no longer exists."
	}
	return ""
}

// stepClick records a one-click step or opens a step's form.
func (m *Module) stepClick(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
	key := strings.TrimPrefix(act.ActionID, ActionStep)
	st, ok := m.cfg.Step(key)
	if !ok {
		m.router.Tell(ctx, cb, blocks.Problem("That step is no longer part of the playbook."))
		return nil
	}
	id, err := strconv.ParseInt(act.Value, 10, 64)
	if err != nil {
		return fmt.Errorf("bad playbook id %q", act.Value)
	}
	if st.Form == FormNone {
		if err := m.RecordStep(ctx, id, cb.User.ID, key, StepDetails{}, handlers.RequestKey(ctx)); err != nil && !m.refusal(ctx, cb, err) {
			return err
		}
		return nil
	}
	p, a, err := m.authorize(ctx, id, cb.User.ID, st.Who)
	if err != nil {
		if m.refusal(ctx, cb, err) {
			return nil
		}
		return err
	}
	return m.slack.OpenView(ctx, cb.TriggerID, stepModal(p, a.Name, st, m.now()))
}

func (m *Module) dismissClick(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
	id, err := strconv.ParseInt(act.Value, 10, 64)
	if err != nil {
		return fmt.Errorf("bad playbook id %q", act.Value)
	}
	p, a, err := m.authorize(ctx, id, cb.User.ID, []string{WhoOwner, WhoManager, WhoLeadership})
	if errors.Is(err, ErrUnclaimed) {
		err = nil // a false alarm may be dismissed before anyone claims it
	}
	if err != nil {
		if m.refusal(ctx, cb, err) {
			return nil
		}
		return err
	}
	return m.slack.OpenView(ctx, cb.TriggerID, dismissModal(p, a.Name))
}

// viewValue is the value of a modal's input block.
func viewValue(cb slack.InteractionCallback, block string) slack.BlockAction {
	if b, ok := cb.View.State.Values[block]; ok {
		return b[input]
	}
	return slack.BlockAction{}
}

// modalError shows a refused submission on the modal (a modal has no
// response_url for an ephemeral message).
func modalError(err error, fallback string) (any, error) {
	if ie, ok := errors.AsType[*InputError](err); ok {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{ie.Block: ie.Message}), nil
	}
	if text := refusalText(err); text != "" {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{fallback: text}), nil
	}
	return nil, err
}

func (m *Module) submitStep(ctx context.Context, cb slack.InteractionCallback) (any, error) {
	key := strings.TrimPrefix(cb.View.CallbackID, ViewStep)
	st, ok := m.cfg.Step(key)
	if !ok {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{BlockNotes: "That step is no longer part of the playbook."}), nil
	}
	id, err := strconv.ParseInt(cb.View.PrivateMetadata, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("bad playbook id %q", cb.View.PrivateMetadata)
	}
	d := StepDetails{Notes: viewValue(cb, BlockNotes).Value, RootCause: viewValue(cb, BlockRootCause).SelectedOption.Value}
	first := BlockNotes
	switch st.Form {
	case FormDiscovery:
		first = BlockRootCause
	case FormPlan:
		first = BlockAction + "0"
		for i := range planRows {
			n := strconv.Itoa(i)
			a := PlanAction{What: viewValue(cb, BlockAction+n).Value, Owner: viewValue(cb, BlockActionOwner+n).SelectedUser}
			if s := viewValue(cb, BlockActionDue+n).SelectedDate; s != "" {
				due, err := time.ParseInLocation(time.DateOnly, s, m.loc)
				if err != nil {
					return slack.NewErrorsViewSubmissionResponse(map[string]string{BlockActionDue + n: "Choose a date."}), nil
				}
				a.Due = due
			}
			d.Actions = append(d.Actions, a)
		}
		for _, o := range viewValue(cb, BlockResources).SelectedOptions {
			d.Resources = append(d.Resources, o.Value)
		}
	}
	if err := m.RecordStep(ctx, id, cb.User.ID, key, d, handlers.RequestKey(ctx)); err != nil {
		return modalError(err, first)
	}
	return nil, nil
}

func (m *Module) submitDismiss(ctx context.Context, cb slack.InteractionCallback) (any, error) {
	id, err := strconv.ParseInt(cb.View.PrivateMetadata, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("bad playbook id %q", cb.View.PrivateMetadata)
	}
	if err := m.Dismiss(ctx, id, cb.User.ID, viewValue(cb, BlockReason).Value); err != nil {
		return modalError(err, BlockReason)
	}
	return nil, nil
}
