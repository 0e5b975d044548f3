package offers

// The approval rules: who may decide, revise or answer what and when, how
// a route becomes steps, when a step is due for a reminder or its backup,
// and how an accepted offer ends. Pure: the services load the records,
// ask these, and write what they say.

import (
	"slices"
	"time"
)

// CanDecide reports whether user may decide the step: one of its
// approvers, or its backup once the step has escalated.
func (s ApprovalStep) CanDecide(user string) bool {
	return user != "" && (slices.Contains(s.Approvers, user) || (s.EscalatedAt != nil && s.Backup == user))
}

// Deciders is everyone who may decide the step now.
func (s ApprovalStep) Deciders() []string {
	out := slices.Clone(s.Approvers)
	if s.EscalatedAt != nil && s.Backup != "" && !slices.Contains(out, s.Backup) {
		out = append(out, s.Backup)
	}
	return out
}

// Revisable reports whether a request takes a new version: while it is
// under review or sent back, and after approval when the customer countered.
func Revisable(r Request) bool {
	return r.Status == RequestPending || r.Status == RequestRevisionRequested ||
		(r.Status == RequestApproved && r.CustomerAnswer == AnswerCountered)
}

// refusal is why actor may not decide step now, "" when they may.
// Authorization comes first: a stranger learns nothing about the request.
func refusal(req Request, step ApprovalStep, actor string) string {
	switch {
	case !step.CanDecide(actor):
		return RefuseNotApprover
	case actor == req.RequestedBy:
		return RefuseOwnRequest
	case step.Version != req.Version:
		return RefuseOldVersion
	case step.Status == StepApproved || step.Status == StepRejected || step.Status == StepRevision:
		return RefuseAlreadyDecided
	case step.Status == StepWaiting:
		return RefuseNotActive
	case step.Status != StepPending || req.Status != RequestPending:
		return RefuseClosed
	}
	return ""
}

// reviseRefusal is why actor may not revise req now ("" when they may):
// only the requester or the account owner (owner), only the version they
// saw (seen), so a double submission makes one version, and only while
// the request takes a new version.
func reviseRefusal(req Request, owner, actor string, seen int) string {
	switch {
	case actor != req.RequestedBy && actor != owner:
		return RefuseNotOwner
	case req.Version != seen:
		return RefuseStale
	case !Revisable(req):
		return RefuseClosed
	}
	return ""
}

// answerRefusal is why actor may not record the customer's answer to req
// now ("" when they may): only the requester or the account owner
// (owner), and only once per approved version.
func answerRefusal(req Request, owner, actor string) string {
	switch {
	case actor != req.RequestedBy && actor != owner:
		return RefuseNotOwner
	case req.Status != RequestApproved:
		return RefuseNotApproved
	case req.CustomerAnswer != "":
		return RefuseAlreadyAnswered
	}
	return ""
}

// validAnswer reports whether answer is one a customer can give.
func validAnswer(answer string) bool {
	return answer == AnswerAccepted || answer == AnswerDeclined || answer == AnswerCountered
}

// decidedStatus is the status a step takes on action.
func decidedStatus(action string) (string, bool) {
	s, ok := map[string]string{ActionApprove: StepApproved, ActionReject: StepRejected, ActionRevise: StepRevision}[action]
	return s, ok
}

// closedStatus is the status a request takes when a step rejects it or
// sends it back.
func closedStatus(action string) string {
	if action == ActionRevise {
		return RequestRevisionRequested
	}
	return RequestRejected
}

// newSteps lays a submission's route out as the steps of version n: the
// approvers fixed (groups expanded), the first stage's steps waiting for
// decisions at once (their approvers get DMs), the later ones waiting for
// their stage.
func newSteps(in Submission, requestID int64, n int) []ApprovalStep {
	var out []ApprovalStep
	for si, stage := range in.Route.Stages {
		for pi, step := range stage.Steps {
			approvers := step.Approvers(in.Groups)
			s := ApprovalStep{RequestID: requestID, Version: n, Stage: si, Position: pi, StageName: stage.Name, Name: step.Name,
				Approvers: approvers, GroupID: step.Group, Backup: step.Backup, SLA: step.SLA, EscalateAfter: step.EscalateAfter,
				Status: StepWaiting, DMUsers: []string{}}
			if si == 0 {
				at := in.At
				s.Status, s.ActivatedAt, s.DMUsers = StepPending, &at, approvers
			}
			out = append(out, s)
		}
	}
	return out
}

// slaDue says what a step waiting as of now is due for: its backup
// (EventEscalated) once it waited past its escalation time, else a
// reminder (EventNudged) once past its SLA; each once. "" when nothing,
// or when the step is no longer waiting for a decision.
func slaDue(req Request, step ApprovalStep, now time.Time) EventKind {
	if step.Status != StepPending || req.Status != RequestPending || step.Version != req.Version || step.ActivatedAt == nil {
		return ""
	}
	waited := now.Sub(*step.ActivatedAt)
	switch {
	case step.EscalatedAt == nil && step.Backup != "" && waited >= step.EscalateAfter:
		return EventEscalated
	case step.NudgedAt == nil && waited >= step.SLA:
		return EventNudged
	}
	return ""
}

// renewalOutcome is how an accepted offer ended as of now: churned once
// the account is (accountStatus), renewed once the renewal date it was
// accepted against has passed with the account still active; "" while
// undecided, or when there is nothing to decide.
func renewalOutcome(req Request, accountStatus string, now time.Time) string {
	switch {
	case req.CustomerAnswer != AnswerAccepted || req.RenewalOutcome != "":
	case accountStatus == "churned":
		return "churned"
	case req.RenewalDate != nil && req.RenewalDate.Before(dateOf(now)):
		return "renewed"
	}
	return ""
}

// withDMs keeps the steps whose approvers got a DM (only those have
// messages to update).
func withDMs(steps []ApprovalStep) []ApprovalStep {
	var out []ApprovalStep
	for _, s := range steps {
		if len(s.DMUsers) > 0 {
			out = append(out, s)
		}
	}
	return out
}

func stepNames(steps []ApprovalStep) string {
	out := ""
	for i, s := range steps {
		if i > 0 {
			out += " + "
		}
		out += s.Name
	}
	return out
}

func pastTense(action string) string {
	switch action {
	case ActionApprove:
		return "approved"
	case ActionReject:
		return "rejected"
	case ActionRevise:
		return "requested a revision of"
	}
	return action
}

func clipText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func roundWait(d time.Duration) string {
	if d >= time.Hour {
		return d.Round(time.Minute).String()
	}
	return d.Round(time.Second).String()
}

func dateOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
