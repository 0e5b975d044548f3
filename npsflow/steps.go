package npsflow

import (
	"context"
	"errors"
	"time"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/churn"
	"github.com/holdfast/holdfast/nps"
	"github.com/holdfast/holdfast/store"
)

// ErrNotAllowed: the user is neither the account's owner CSM nor a
// configured manager.
var ErrNotAllowed = errors.New("only the account's owner CSM or a configured manager can record loop steps")

// allowed checks the clicking user against the account as it is now (the
// owner may have changed since the loop opened), never against anything
// the button carried.
func (s *Service) allowed(user string, a store.Account) bool {
	return nps.CanAct(user, a.OwnerCSM, s.cfg.IsManager(user))
}

// Authorize loads a loop for a user about to record a step (before a
// modal opens): ErrNotAllowed, nps.ErrClosed or store.ErrNotFound say why
// not.
func (s *Service) Authorize(ctx context.Context, loopID int64, user string) (store.NPSLoop, store.Account, error) {
	l, a, err := s.store.NPSLoop(ctx, loopID)
	if err != nil {
		return l, a, err
	}
	if !s.allowed(user, a) {
		return l, a, ErrNotAllowed
	}
	if !l.Open() {
		return l, a, nps.ErrClosed
	}
	return l, a, nil
}

// step applies one recorded step: the transition (which validates), then
// the timeline entry, the note in the thread and the card's re-render,
// all in one transaction.
func (s *Service) step(ctx context.Context, loopID int64, user string, kind, summary string,
	apply func(l *store.NPSLoop, a store.Account, now time.Time) (blocks.Message, error)) error {
	now := s.now()
	return s.store.UpdateNPSLoop(ctx, loopID, func(l *store.NPSLoop, a store.Account) (store.LoopEffects, error) {
		if !s.allowed(user, a) {
			return store.LoopEffects{}, ErrNotAllowed
		}
		note, err := apply(l, a, now)
		if err != nil {
			return store.LoopEffects{}, err
		}
		if a.OwnerCSM != "" {
			l.OwnerCSM = a.OwnerCSM
		}
		l.NextCheckAt = s.policy.NextCheck(l.Loop, l.Nudged, l.FollowUpSurveyID != 0)
		eff := store.LoopEffects{Timeline: []store.TimelineEntry{{At: now, Kind: kind, Summary: summary, Actor: user}}}
		if l.ChannelID != "" {
			up, err := s.cardUpdate(*l)
			if err != nil {
				return store.LoopEffects{}, err
			}
			eff.Outbox = []store.OutboxItem{threadPost(*l, note), up}
		}
		return eff, nil
	})
}

// RecordContact records step 1 for user.
func (s *Service) RecordContact(ctx context.Context, loopID int64, user string) error {
	return s.step(ctx, loopID, user, "nps.contacted", "detractor contacted",
		func(l *store.NPSLoop, _ store.Account, now time.Time) (blocks.Message, error) {
			return blocks.NPSContactedNote(user), l.RecordContact(user, now)
		})
}

// RecordRootCause records (or corrects) step 2. A *nps.InputError names
// the modal field at fault.
func (s *Service) RecordRootCause(ctx context.Context, loopID int64, user string, cause churn.Cause, words string) error {
	info, _ := nps.DetractorCause(cause)
	return s.step(ctx, loopID, user, "nps.root_cause", "detractor root cause: "+info.Label,
		func(l *store.NPSLoop, _ store.Account, now time.Time) (blocks.Message, error) {
			corrected := l.Done(nps.StepRootCause)
			if err := l.RecordRootCause(cause, words, user, now); err != nil {
				return blocks.Message{}, err
			}
			return blocks.NPSRootCauseNote(user, l.RootCause, l.RootCauseWords, corrected), nil
		})
}

// RecordPlan records (or revises) step 3 and schedules the follow-up.
func (s *Service) RecordPlan(ctx context.Context, loopID int64, user, plan, owner string, due time.Time) error {
	return s.step(ctx, loopID, user, "nps.action_plan", "detractor action plan, due "+due.Format("Jan 2"),
		func(l *store.NPSLoop, _ store.Account, now time.Time) (blocks.Message, error) {
			revised := l.Done(nps.StepActionPlan)
			if err := l.RecordPlan(s.policy, plan, owner, due, user, now, s.loc); err != nil {
				return blocks.Message{}, err
			}
			return blocks.NPSPlanNote(user, l.Plan, l.PlanOwner, due, l.FollowUpDue, revised), nil
		})
}

// Escalate records step 4 and mentions the configured executive.
func (s *Service) Escalate(ctx context.Context, loopID int64, user string) error {
	return s.step(ctx, loopID, user, "nps.escalated", "detractor escalated to an executive",
		func(l *store.NPSLoop, a store.Account, now time.Time) (blocks.Message, error) {
			if err := l.Escalate(user, now); err != nil {
				return blocks.Message{}, err
			}
			return blocks.NPSEscalationNote(user, s.cfg.Executive, a.Name, a.ARR, l.Score), nil
		})
}

// OpenLoopsFor lists the open detractor loops of the accounts a user owns
// (for the App Home), oldest first, as blocks.NPSHomeLoops takes them.
func (s *Service) OpenLoopsFor(ctx context.Context, user string, limit int) ([]blocks.NPSHomeLoop, error) {
	list, err := s.store.OpenNPSLoopsFor(ctx, user, limit)
	if err != nil {
		return nil, err
	}
	out := make([]blocks.NPSHomeLoop, len(list))
	for i, v := range list {
		out[i] = blocks.NPSHomeLoop{Loop: v.Loop.Loop, AccountName: v.AccountName, ARR: v.ARR}
	}
	return out, nil
}
