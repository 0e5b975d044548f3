package offers

// The changes to a request. Each service method opens one transaction and
// runs the change in one direction: lock the request, check the rules
// (rules.go), write (sql.go), then post what the change causes: its
// messages, rendered (messages.go) and queued in the outbox, so they are
// sent if and only if the change commits. The change functions below the
// methods do the part up to posting, inside the caller's transaction, and
// say what happened as an Event.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/holdfast/holdfast/handlers"
	"github.com/holdfast/holdfast/store"
)

// service runs the changes and reads of requests on the store.
type service struct{ st *store.Store }

// post renders the messages a change causes and queues them in its
// transaction. The zero Event (a refusal) posts nothing.
func post(ctx context.Context, tx store.Tx, st State, ev Event) error {
	if ev.Kind == "" {
		return nil
	}
	items, err := messages(st, ev)
	if err != nil {
		return fmt.Errorf("render offer %s: %w", ev.Kind, err)
	}
	for _, it := range items {
		if err := tx.Enqueue(ctx, it); err != nil {
			return err
		}
	}
	return nil
}

// run runs one change in a transaction and posts what it caused there.
func (s service) run(ctx context.Context, change func(tx store.Tx) (State, Event, error)) error {
	return s.st.InTx(ctx, func(tx store.Tx) error {
		st, ev, err := change(tx)
		if err != nil {
			return err
		}
		return post(ctx, tx, st, ev)
	})
}

// propose stores a new request (create) and posts it.
func (s service) propose(ctx context.Context, in Submission) (st State, err error) {
	err = s.run(ctx, func(tx store.Tx) (State, Event, error) {
		var ev Event
		if st, ev, err = create(ctx, tx, in); err != nil {
			return st, ev, err
		}
		return st, ev, handlers.Audit(ctx, tx, in.Actor, "offer.propose", in.AccountID, "offer "+strconv.FormatInt(st.Request.ID, 10))
	})
	return st, err
}

// revise stores a new version of a request (reviseRequest) and posts it;
// refusal is non-empty when nothing was changed (st is then empty).
func (s service) revise(ctx context.Context, requestID int64, seen int, in Submission) (st State, refusal string, err error) {
	err = s.run(ctx, func(tx store.Tx) (State, Event, error) {
		var ev Event
		st, ev, refusal, err = reviseRequest(ctx, tx, requestID, seen, in)
		return st, ev, err
	})
	return st, refusal, err
}

// decide records a decision on a step (decideStep) and posts it.
func (s service) decide(ctx context.Context, d StepDecision) (res DecideResult, err error) {
	err = s.run(ctx, func(tx store.Tx) (State, Event, error) {
		var ev Event
		if res, ev, err = decideStep(ctx, tx, d); err != nil || !res.Recorded {
			return res.State, ev, err
		}
		return res.State, ev, handlers.Audit(ctx, tx, d.Actor, "offer."+d.Action, res.State.Request.AccountID,
			"offer "+strconv.FormatInt(res.State.Request.ID, 10))
	})
	return res, err
}

// check says whether actor may decide the step now, without deciding; a
// refusal is recorded like any refused click. Reject and Request revision
// ask before opening their guidance modal.
func (s service) check(ctx context.Context, stepID int64, actor, action string, at time.Time) (res DecideResult, err error) {
	err = s.st.InTx(ctx, func(tx store.Tx) error {
		res, err = checkStep(ctx, tx, stepID, actor, action, at)
		return err
	})
	return res, err
}

// answer records the customer's answer to an approved offer
// (answerRequest) and posts it.
func (s service) answer(ctx context.Context, requestID int64, actor, answer, note string, at time.Time) (res AnswerResult, err error) {
	err = s.run(ctx, func(tx store.Tx) (State, Event, error) {
		var ev Event
		res, ev, err = answerRequest(ctx, tx, requestID, actor, answer, note, at)
		return res.State, ev, err
	})
	return res, err
}

// runSLAs nudges the approvers of every step waiting past its SLA and
// brings in the backup of every step waiting past its escalation time, as
// of now. Each step is handled in its own transaction under its request's
// lock, re-checked there, and marked in the same transaction as its
// messages: a run that dies halfway is finished by the next one, and a
// step is never nudged or escalated twice.
func (s service) runSLAs(ctx context.Context, now time.Time) (SLAResult, error) {
	var res SLAResult
	ids, err := dueSteps(ctx, s.st.DB(), now)
	if err != nil {
		return res, err
	}
	for _, id := range ids {
		err := s.run(ctx, func(tx store.Tx) (State, Event, error) {
			st, ev, err := remind(ctx, tx, id, now)
			switch ev.Kind {
			case EventEscalated:
				res.Escalated++
			case EventNudged:
				res.Nudged++
			}
			return st, ev, err
		})
		if err != nil {
			return res, fmt.Errorf("offer step %d: %w", id, err)
		}
	}
	return res, nil
}

// resolveOutcomes tracks accepted offers to their renewal (renewalOutcome),
// each in its own transaction, and says how many it decided.
func (s service) resolveOutcomes(ctx context.Context, now time.Time) (int, error) {
	ids, err := dueOutcomes(ctx, s.st.DB(), now)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		err := s.run(ctx, func(tx store.Tx) (State, Event, error) {
			st, ev, err := resolve(ctx, tx, id, now)
			if err == nil && ev.Kind != "" {
				n++
			}
			return st, ev, err
		})
		if err != nil {
			return n, fmt.Errorf("offer %d: %w", id, err)
		}
	}
	return n, nil
}

// setSummary replaces a version's template summary with the model's, once
// (summarize), and posts it; false when the version's summary already
// came from the model.
func (s service) setSummary(ctx context.Context, requestID int64, version int, summary string) (bool, error) {
	changed := false
	err := s.run(ctx, func(tx store.Tx) (State, Event, error) {
		st, ev, err := summarize(ctx, tx, requestID, version, summary)
		changed = ev.Kind != ""
		return st, ev, err
	})
	return changed, err
}

// ---- reads ----

// openFor returns the account's request under review or sent back for
// revision, ok false when there is none.
func (s service) openFor(ctx context.Context, accountID int64) (Request, bool, error) {
	return openRequest(ctx, s.st.DB(), accountID)
}

// state loads one request.
func (s service) state(ctx context.Context, requestID int64) (State, error) {
	var st State
	err := s.st.InTx(ctx, func(tx store.Tx) error {
		var err error
		st, err = loadState(ctx, tx, requestID)
		return err
	})
	return st, err
}

// forAccount returns an account's requests, newest first.
func (s service) forAccount(ctx context.Context, accountID int64, limit int) ([]State, error) {
	return s.list(ctx, accountRequests, accountID, limit)
}

// open returns requests under review or sent back for revision, oldest
// first, and how many there are in all.
func (s service) open(ctx context.Context, limit int) ([]State, int, error) {
	total, err := countOpen(ctx, s.st.DB())
	if err != nil {
		return nil, 0, err
	}
	sts, err := s.list(ctx, openRequests, limit)
	return sts, total, err
}

func (s service) list(ctx context.Context, query string, args ...any) ([]State, error) {
	var out []State
	err := s.st.InTx(ctx, func(tx store.Tx) error {
		var err error
		out, err = listStates(ctx, tx, query, args...)
		return err
	})
	return out, err
}

// pending lists the steps waiting for user's decision, oldest first: the
// App Home and /offers pending show them.
func (s service) pending(ctx context.Context, user string, limit int) ([]PendingApproval, error) {
	return pendingFor(ctx, s.st.DB(), user, limit)
}

// statRows is every request submitted since `since`, for /offers stats.
func (s service) statRows(ctx context.Context, since time.Time) ([]StatRow, error) {
	return statRows(ctx, s.st.DB(), since)
}

// brief is what approvers are told about an account as of now (loadBrief).
func (s service) brief(ctx context.Context, a store.Account, exclude int64, now time.Time) (Brief, error) {
	return loadBrief(ctx, s.st, a, exclude, now)
}

// decisions is the whole decision log of a request, refusals included.
func (s service) decisions(ctx context.Context, requestID int64) ([]Decision, error) {
	return decisions(ctx, s.st.DB(), requestID)
}

// ---- the changes ----

func timeline(ctx context.Context, tx store.Tx, accountID, requestID int64, at time.Time, kind, actor, summary string) error {
	return tx.AddTimeline(ctx, accountID, store.TimelineEntry{At: at, Kind: kind, Summary: summary, Actor: actor}, requestID)
}

// create stores a request and its first version and starts its first
// stage. An account with an open request gets an *OpenRequestError and
// nothing is stored.
func create(ctx context.Context, tx store.Tx, in Submission) (State, Event, error) {
	if len(in.Route.Stages) == 0 {
		return State{}, Event{}, errors.New("create offer: empty route")
	}
	// The account's lock serialises proposals for it, so two forms
	// submitted at once cannot both start a request.
	if _, err := tx.AccountForUpdate(ctx, in.AccountID); err != nil {
		return State{}, Event{}, err
	}
	if open, ok, err := openRequest(ctx, tx, in.AccountID); err != nil {
		return State{}, Event{}, err
	} else if ok {
		return State{}, Event{}, &OpenRequestError{Request: open}
	}
	id, err := insertRequest(ctx, tx, in)
	if err != nil {
		return State{}, Event{}, err
	}
	activated, err := insertVersion(ctx, tx, id, 1, in)
	if err != nil {
		return State{}, Event{}, err
	}
	if err := timeline(ctx, tx, in.AccountID, id, in.At, "offer.submitted", in.Actor,
		fmt.Sprintf("Offer #%d submitted: %s; approval route %s", id, in.Offer.Describe(), in.Route.Describe())); err != nil {
		return State{}, Event{}, err
	}
	st, err := loadState(ctx, tx, id)
	return st, Event{Kind: EventSubmitted, At: in.At, Activated: activated}, err
}

// reviseRequest replaces the current version of a request with a new one:
// the old version's open steps are superseded (their approvals do not
// carry over) and the new version's route starts from its first stage.
// refusal (reviseRefusal) is non-empty when nothing was changed.
func reviseRequest(ctx context.Context, tx store.Tx, requestID int64, seen int, in Submission) (State, Event, string, error) {
	if len(in.Route.Stages) == 0 {
		return State{}, Event{}, "", errors.New("revise offer: empty route")
	}
	req, err := lockRequest(ctx, tx, requestID)
	if err != nil {
		return State{}, Event{}, "", err
	}
	acct, err := tx.Account(ctx, req.AccountID)
	if err != nil {
		return State{}, Event{}, "", err
	}
	if refusal := reviseRefusal(req, acct.OwnerCSM, in.Actor, seen); refusal != "" {
		return State{}, Event{}, refusal, nil
	}
	superseded, err := endSteps(ctx, tx, requestID, req.Version, StepSuperseded)
	if err != nil {
		return State{}, Event{}, "", err
	}
	n := req.Version + 1
	activated, err := insertVersion(ctx, tx, requestID, n, in)
	if err != nil {
		return State{}, Event{}, "", err
	}
	if err := restartRequest(ctx, tx, requestID, n, in.At); err != nil {
		return State{}, Event{}, "", err
	}
	if err := timeline(ctx, tx, req.AccountID, requestID, in.At, "offer.revised", in.Actor,
		fmt.Sprintf("Offer #%d revised to v%d: %s; approval route %s", requestID, n, in.Offer.Describe(), in.Route.Describe())); err != nil {
		return State{}, Event{}, "", err
	}
	st, err := loadState(ctx, tx, requestID)
	return st, Event{Kind: EventRevised, At: in.At, Activated: activated, Closed: withDMs(superseded)}, "", err
}

// decideStep records a decision if the actor may make it and the step is
// waiting for it; otherwise it records the refused click and changes
// nothing else. The request row is locked for the whole change, so two
// clicks (two replicas, a double click) produce one decision, and
// parallel steps finishing together advance the stage once.
func decideStep(ctx context.Context, tx store.Tx, d StepDecision) (DecideResult, Event, error) {
	var res DecideResult
	newStatus, ok := decidedStatus(d.Action)
	if !ok {
		return res, Event{}, fmt.Errorf("decide offer step: unknown action %q", d.Action)
	}
	req, step, err := lockStep(ctx, tx, d.StepID)
	if err != nil {
		return res, Event{}, err
	}
	dec := Decision{RequestID: req.ID, Version: step.Version, StepID: step.ID, StepName: step.Name, Actor: d.Actor,
		Action: d.Action, Guidance: d.Guidance, At: d.At}
	if res.Refusal = refusal(req, step, d.Actor); res.Refusal != "" {
		// A refused click changes nothing but the log; the caller only
		// needs the step and the request to explain the refusal.
		dec.Outcome, dec.Refusal, dec.Guidance = OutcomeRefused, res.Refusal, ""
		res.Step, res.State.Request = step, req
		return res, Event{}, insertDecision(ctx, tx, &dec)
	}
	if err := recordStepDecision(ctx, tx, step.ID, newStatus, d); err != nil {
		return res, Event{}, err
	}
	dec.Outcome = OutcomeRecord
	if err := insertDecision(ctx, tx, &dec); err != nil {
		return res, Event{}, err
	}
	ev := Event{Kind: EventDecided, At: d.At, Decision: dec}
	summary := fmt.Sprintf("%s %s offer #%d v%d", step.Name, pastTense(d.Action), req.ID, req.Version)
	kind := "offer.step_" + newStatus
	switch d.Action {
	case ActionApprove:
		open, err := undecidedInStage(ctx, tx, req.ID, req.Version, step.Stage)
		if err != nil {
			return res, Event{}, err
		}
		if open > 0 {
			break
		}
		if ev.Activated, err = startStage(ctx, tx, req.ID, req.Version, step.Stage+1, d.At); err != nil {
			return res, Event{}, err
		}
		if len(ev.Activated) > 0 {
			if err := advanceRequest(ctx, tx, req.ID, step.Stage+1, d.At); err != nil {
				return res, Event{}, err
			}
			summary += "; now waiting for " + stepNames(ev.Activated)
			break
		}
		if err := approveRequest(ctx, tx, req.ID, d.At); err != nil {
			return res, Event{}, err
		}
		kind = "offer.approved"
		summary = fmt.Sprintf("Offer #%d approved (last: %s by %s)", req.ID, step.Name, d.Actor)
	case ActionReject, ActionRevise:
		status := closedStatus(d.Action)
		kind = "offer." + status
		if err := closeRequest(ctx, tx, req.ID, status, d.At); err != nil {
			return res, Event{}, err
		}
		closed, err := endSteps(ctx, tx, req.ID, req.Version, StepClosed)
		if err != nil {
			return res, Event{}, err
		}
		ev.Closed = withDMs(closed)
		if d.Guidance != "" {
			summary += ": " + clipText(d.Guidance, 300)
		}
	}
	if err := timeline(ctx, tx, req.AccountID, req.ID, d.At, kind, d.Actor, summary); err != nil {
		return res, Event{}, err
	}
	res.Recorded = true
	if res.State, err = loadState(ctx, tx, req.ID); err != nil {
		return res, Event{}, err
	}
	for _, st := range res.State.Steps {
		if st.ID == step.ID {
			res.Step = st
		}
	}
	ev.Step = res.Step
	return res, ev, nil
}

// checkStep is decideStep's refusal without the decision: a refused
// actor's click is recorded; the request is loaded either way.
func checkStep(ctx context.Context, tx store.Tx, stepID int64, actor, action string, at time.Time) (DecideResult, error) {
	var res DecideResult
	req, step, err := lockStep(ctx, tx, stepID)
	if err != nil {
		return res, err
	}
	res.Step = step
	if res.Refusal = refusal(req, step, actor); res.Refusal != "" {
		dec := Decision{RequestID: req.ID, Version: step.Version, StepID: step.ID, Actor: actor, Action: action,
			Outcome: OutcomeRefused, Refusal: res.Refusal, At: at}
		if err := insertDecision(ctx, tx, &dec); err != nil {
			return res, err
		}
	}
	res.State, err = loadState(ctx, tx, req.ID)
	return res, err
}

// answerRequest records the customer's answer to an approved offer. Only
// the requester or the account owner may; the first answer per version
// stands (a countered offer is answered again after its revision is
// approved). An accepted offer is tracked to the account's renewal date.
func answerRequest(ctx context.Context, tx store.Tx, requestID int64, actor, answer, note string, at time.Time) (AnswerResult, Event, error) {
	var res AnswerResult
	if !validAnswer(answer) {
		return res, Event{}, fmt.Errorf("answer offer: unknown answer %q", answer)
	}
	req, err := lockRequest(ctx, tx, requestID)
	if err != nil {
		return res, Event{}, err
	}
	acct, err := tx.Account(ctx, req.AccountID)
	if err != nil {
		return res, Event{}, err
	}
	res.Refusal = answerRefusal(req, acct.OwnerCSM, actor)
	dec := Decision{RequestID: req.ID, Version: req.Version, Actor: actor, Action: ActionAnswer, Answer: answer,
		Guidance: note, At: at, Outcome: OutcomeRecord}
	if res.Refusal != "" {
		dec.Outcome, dec.Refusal, dec.Guidance = OutcomeRefused, res.Refusal, ""
		if err := insertDecision(ctx, tx, &dec); err != nil {
			return res, Event{}, err
		}
		res.State, err = loadState(ctx, tx, req.ID)
		return res, Event{}, err
	}
	var renewal *time.Time
	if answer == AnswerAccepted {
		renewal = acct.RenewalDate
	}
	if err := recordAnswer(ctx, tx, req.ID, answer, at, actor, note, renewal); err != nil {
		return res, Event{}, err
	}
	if err := insertDecision(ctx, tx, &dec); err != nil {
		return res, Event{}, err
	}
	summary := fmt.Sprintf("Customer %s offer #%d", answer, req.ID)
	if note != "" {
		summary += ": " + clipText(note, 300)
	}
	if err := timeline(ctx, tx, req.AccountID, req.ID, at, "offer."+answer, actor, summary); err != nil {
		return res, Event{}, err
	}
	res.Recorded = true
	if res.State, err = loadState(ctx, tx, req.ID); err != nil {
		return res, Event{}, err
	}
	return res, Event{Kind: EventAnswered, At: at, Decision: dec}, nil
}

// remind nudges a step's approvers or escalates it to its backup when it
// is due for that as of now (slaDue, under its request's lock); the zero
// Event when it is not.
func remind(ctx context.Context, tx store.Tx, stepID int64, now time.Time) (State, Event, error) {
	req, step, err := lockStep(ctx, tx, stepID)
	if err != nil {
		return State{}, Event{}, err
	}
	ev := Event{Kind: slaDue(req, step, now), At: now}
	switch ev.Kind {
	case EventEscalated:
		waited := now.Sub(*step.ActivatedAt)
		if err := escalateStep(ctx, tx, step.ID, step.Backup, now); err != nil {
			return State{}, Event{}, err
		}
		if err := timeline(ctx, tx, req.AccountID, req.ID, now, "offer.escalated", "",
			fmt.Sprintf("%s step of offer #%d waited %s: escalated to backup %s", step.Name, req.ID, roundWait(waited), step.Backup)); err != nil {
			return State{}, Event{}, err
		}
	case EventNudged:
		waited := now.Sub(*step.ActivatedAt)
		if err := nudgeStep(ctx, tx, step.ID, now); err != nil {
			return State{}, Event{}, err
		}
		if err := timeline(ctx, tx, req.AccountID, req.ID, now, "offer.nudged", "",
			fmt.Sprintf("%s step of offer #%d waited %s (SLA %s): approvers reminded", step.Name, req.ID, roundWait(waited), roundWait(step.SLA))); err != nil {
			return State{}, Event{}, err
		}
	default:
		return State{}, Event{}, nil
	}
	st, err := loadState(ctx, tx, req.ID)
	if err != nil {
		return State{}, Event{}, err
	}
	for _, s := range st.Steps {
		if s.ID == step.ID {
			ev.Step = s
		}
	}
	return st, ev, nil
}

// resolve records how an accepted offer ended (renewalOutcome) once that
// is decided; the zero Event while it is not.
func resolve(ctx context.Context, tx store.Tx, requestID int64, now time.Time) (State, Event, error) {
	req, err := lockRequest(ctx, tx, requestID)
	if err != nil {
		return State{}, Event{}, err
	}
	acct, err := tx.Account(ctx, req.AccountID)
	if err != nil {
		return State{}, Event{}, err
	}
	outcome := renewalOutcome(req, acct.Status, now)
	if outcome == "" {
		return State{}, Event{}, nil
	}
	if err := recordOutcome(ctx, tx, requestID, outcome, now); err != nil {
		return State{}, Event{}, err
	}
	if err := timeline(ctx, tx, req.AccountID, requestID, now, "offer."+outcome, "",
		fmt.Sprintf("Accepted offer #%d: account %s", requestID, outcome)); err != nil {
		return State{}, Event{}, err
	}
	st, err := loadState(ctx, tx, requestID)
	return st, Event{Kind: EventOutcome, At: now}, err
}

// summarize replaces a version's template summary with the model's, once;
// a version whose summary already came from the model is left alone (the
// zero Event).
func summarize(ctx context.Context, tx store.Tx, requestID int64, version int, summary string) (State, Event, error) {
	if _, err := lockRequest(ctx, tx, requestID); err != nil {
		return State{}, Event{}, err
	}
	changed, err := replaceSummary(ctx, tx, requestID, version, summary)
	if err != nil || !changed {
		return State{}, Event{}, err
	}
	st, err := loadState(ctx, tx, requestID)
	if err != nil {
		return State{}, Event{}, err
	}
	v := st.Version
	if v.Version != version { // revised while the model was writing
		if v, err = loadVersion(ctx, tx, requestID, version); err != nil {
			return State{}, Event{}, err
		}
	}
	return st, Event{Kind: EventSummarized, Version: v}, nil
}
