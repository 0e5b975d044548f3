package nps

import (
	"context"
	"errors"
	"time"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/internal/churn"
	"github.com/holdfast/holdfast/store"
)

// ErrNotAllowed: the user is neither the account's owner CSM nor a
// configured manager.
var ErrNotAllowed = errors.New("only the account's owner CSM or a configured manager can record loop steps")

// allowed checks the clicking user against the account as it is now (the
// owner may have changed since the loop opened), never against anything
// the button carried.
func (m *Module) allowed(user string, a store.Account) bool {
	return CanAct(user, a.OwnerCSM, m.cfg.IsManager(user))
}

// authorize loads a loop for a user about to record a step (before a
// modal opens): ErrNotAllowed, ErrClosed or store.ErrNotFound say why not.
func (m *Module) authorize(ctx context.Context, loopID int64, user string) (loopRow, store.Account, error) {
	l, err := readLoop(ctx, m.store.DB(), loopID)
	if err != nil {
		return l, store.Account{}, err
	}
	a, err := m.store.Account(ctx, l.AccountID)
	if err != nil {
		return l, a, err
	}
	if !m.allowed(user, a) {
		return l, a, ErrNotAllowed
	}
	if !l.Open() {
		return l, a, ErrClosed
	}
	return l, a, nil
}

// stepRule is one step a user records: the transition (which validates)
// and the note the loop's thread hears about it.
type stepRule struct {
	kind, summary string // the timeline entry
	apply         func(l *Loop, now time.Time) error
	note          func(before, after Loop, a store.Account) blocks.Message
}

// step records one step in one transaction: the loop and its account
// (locked), the user's right to act, the transition, the loop and its
// timeline entry written, then the note in the thread and the card's
// re-render.
func (m *Module) step(ctx context.Context, loopID int64, user string, r stepRule) error {
	now := m.now()
	return m.store.InTx(ctx, func(tx store.Tx) error {
		l, a, err := lockLoopAndAccount(ctx, tx, loopID)
		if err != nil {
			return err
		}
		if !m.allowed(user, a) {
			return ErrNotAllowed
		}
		before := l.Loop
		if err := r.apply(&l.Loop, now); err != nil {
			return err
		}
		if a.OwnerCSM != "" {
			l.OwnerCSM = a.OwnerCSM
		}
		l.reschedule(m.policy)
		if err := saveLoop(ctx, tx, l); err != nil {
			return err
		}
		if err := addLoopTimeline(ctx, tx, l, store.TimelineEntry{At: now, Kind: r.kind, Summary: r.summary, Actor: user}); err != nil {
			return err
		}
		if l.ChannelID == "" {
			return nil
		}
		up, err := m.cardUpdate(l)
		if err != nil {
			return err
		}
		return enqueue(ctx, tx, threadPost(l, r.note(before, l.Loop, a)), up)
	})
}

// RecordContact records step 1 for user.
func (m *Module) RecordContact(ctx context.Context, loopID int64, user string) error {
	return m.step(ctx, loopID, user, stepRule{kind: "nps.contacted", summary: "detractor contacted",
		apply: func(l *Loop, now time.Time) error { return l.RecordContact(user, now) },
		note:  func(_, _ Loop, _ store.Account) blocks.Message { return contactedNote(user) },
	})
}

// RecordRootCause records (or corrects) step 2. An *InputError names the
// modal field at fault.
func (m *Module) RecordRootCause(ctx context.Context, loopID int64, user string, cause churn.Cause, words string) error {
	info, _ := DetractorCause(cause)
	return m.step(ctx, loopID, user, stepRule{kind: "nps.root_cause", summary: "detractor root cause: " + info.Label,
		apply: func(l *Loop, now time.Time) error { return l.RecordRootCause(cause, words, user, now) },
		note: func(before, after Loop, _ store.Account) blocks.Message {
			return rootCauseNote(user, after.RootCause, after.RootCauseWords, before.Done(StepRootCause))
		},
	})
}

// RecordPlan records (or revises) step 3 and schedules the follow-up.
func (m *Module) RecordPlan(ctx context.Context, loopID int64, user, plan, owner string, due time.Time) error {
	return m.step(ctx, loopID, user, stepRule{kind: "nps.action_plan", summary: "detractor action plan, due " + due.Format("Jan 2"),
		apply: func(l *Loop, now time.Time) error { return l.RecordPlan(m.policy, plan, owner, due, user, now, m.loc) },
		note: func(before, after Loop, _ store.Account) blocks.Message {
			return planNote(user, after.Plan, after.PlanOwner, due, after.FollowUpDue, before.Done(StepActionPlan))
		},
	})
}

// Escalate records step 4 and mentions the configured executive.
func (m *Module) Escalate(ctx context.Context, loopID int64, user string) error {
	return m.step(ctx, loopID, user, stepRule{kind: "nps.escalated", summary: "detractor escalated to an executive",
		apply: func(l *Loop, now time.Time) error { return l.Escalate(user, now) },
		note: func(_, after Loop, a store.Account) blocks.Message {
			return escalationNote(user, m.cfg.Executive, a.Name, a.ARR, after.Score)
		},
	})
}
