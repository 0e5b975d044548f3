package nps

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/holdfast/holdfast/internal/churn"
	"github.com/holdfast/holdfast/slackid"
)

// Step is one step of a detractor loop.
type Step string

const (
	StepContact    Step = "contact"     // 1. contact the customer
	StepRootCause  Step = "root_cause"  // 2. find the root cause
	StepActionPlan Step = "action_plan" // 3. agree an action plan
	StepEscalate   Step = "escalate"    // 4. escalate to an executive (optional)
	StepFollowUp   Step = "follow_up"   // 5. follow-up survey after the plan
)

// Label is the step as the card names it.
func (s Step) Label() string {
	switch s {
	case StepContact:
		return "Contact the customer"
	case StepRootCause:
		return "Root cause"
	case StepActionPlan:
		return "Action plan"
	case StepEscalate:
		return "Escalate to an executive"
	case StepFollowUp:
		return "Follow-up survey"
	}
	return string(s)
}

// DeadlineSteps are the steps with a deadline, in order.
var DeadlineSteps = []Step{StepContact, StepRootCause, StepActionPlan}

// Clock adds working time to an instant; schedule.BusinessHours is one,
// and PlainClock counts every hour.
type Clock interface {
	Add(t time.Time, d time.Duration) time.Time
}

// PlainClock is calendar time.
type PlainClock struct{}

// Add is t.Add(d).
func (PlainClock) Add(t time.Time, d time.Duration) time.Time { return t.Add(d) }

// Policy is how a loop is run: its deadlines from opening, how long after
// a deadline the manager hears, when the follow-up goes out, and which
// accounts deserve an executive.
type Policy struct {
	Contact, RootCause, ActionPlan time.Duration
	EscalateAfter                  time.Duration
	FollowUp                       time.Duration // calendar time after the plan
	Calendar                       Clock         // nil = every hour counts
	EscalationARR                  float64       // 0 = never proposed
}

func (p Policy) clock() Clock {
	if p.Calendar == nil {
		return PlainClock{}
	}
	return p.Calendar
}

// Deadlines are a loop's step deadlines.
type Deadlines struct {
	Contact, RootCause, ActionPlan time.Time
}

// Of is the deadline of a step ("zero" for steps without one).
func (d Deadlines) Of(s Step) time.Time {
	switch s {
	case StepContact:
		return d.Contact
	case StepRootCause:
		return d.RootCause
	case StepActionPlan:
		return d.ActionPlan
	}
	return time.Time{}
}

// DeadlinesFrom computes the deadlines of a loop opened at opened.
func (p Policy) DeadlinesFrom(opened time.Time) Deadlines {
	c := p.clock()
	return Deadlines{Contact: c.Add(opened, p.Contact), RootCause: c.Add(opened, p.RootCause), ActionPlan: c.Add(opened, p.ActionPlan)}
}

// ProposeEscalation reports whether an account of this ARR should be
// escalated to an executive.
func (p Policy) ProposeEscalation(arr float64) bool {
	return p.EscalationARR > 0 && arr >= p.EscalationARR
}

// Loop is a detractor loop's state.
type Loop struct {
	ID                 int64
	AccountID          int64
	Respondent         string
	Score              int
	OwnerCSM           string
	OpenedAt           time.Time
	Due                Deadlines
	EscalationProposed bool

	ContactedAt *time.Time
	ContactedBy string

	RootCause      churn.Cause
	RootCauseWords string
	RootCauseAt    *time.Time
	RootCauseBy    string

	Plan      string
	PlanOwner string
	PlanDue   *time.Time // a date
	PlanAt    *time.Time
	PlanBy    string

	EscalatedAt *time.Time
	EscalatedBy string

	FollowUpDue    *time.Time
	FollowUpSentAt *time.Time
	FollowUpScore  *int
	FollowUpAt     *time.Time

	ClosedAt *time.Time
}

// Done reports whether a step is recorded.
func (l Loop) Done(s Step) bool {
	switch s {
	case StepContact:
		return l.ContactedAt != nil
	case StepRootCause:
		return l.RootCauseAt != nil
	case StepActionPlan:
		return l.PlanAt != nil
	case StepEscalate:
		return l.EscalatedAt != nil
	case StepFollowUp:
		return l.FollowUpAt != nil
	}
	return false
}

// DoneAt is when a step was recorded, and by whom.
func (l Loop) DoneAt(s Step) (time.Time, string) {
	switch s {
	case StepContact:
		return deref(l.ContactedAt), l.ContactedBy
	case StepRootCause:
		return deref(l.RootCauseAt), l.RootCauseBy
	case StepActionPlan:
		return deref(l.PlanAt), l.PlanBy
	case StepEscalate:
		return deref(l.EscalatedAt), l.EscalatedBy
	case StepFollowUp:
		return deref(l.FollowUpAt), ""
	}
	return time.Time{}, ""
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// Complete reports whether steps 1-3 are recorded: the loop then only
// waits for its follow-up.
func (l Loop) Complete() bool {
	return l.Done(StepContact) && l.Done(StepRootCause) && l.Done(StepActionPlan)
}

// OnTime reports whether steps 1-3 were each recorded by their deadline.
func (l Loop) OnTime() bool {
	for _, s := range DeadlineSteps {
		at, _ := l.DoneAt(s)
		if !l.Done(s) || at.After(l.Due.Of(s)) {
			return false
		}
	}
	return true
}

// Open reports whether the loop still waits for something.
func (l Loop) Open() bool { return l.ClosedAt == nil }

// Errors a step transition returns; handlers tell the clicking user.
var (
	ErrClosed      = errors.New("this loop is closed")
	ErrAlreadyDone = errors.New("already recorded")
)

// InputError is a bad field in a step's modal; Field is the input's name.
type InputError struct {
	Field   string
	Message string
}

func (e *InputError) Error() string { return e.Field + ": " + e.Message }

// Field limits for step modals.
const (
	MaxWordsLen = 2900 // customer's words; stays inside a 3,000-char section when shown
	MaxPlanLen  = 2900
)

// RecordContact records step 1.
func (l *Loop) RecordContact(by string, at time.Time) error {
	if !l.Open() {
		return ErrClosed
	}
	if l.Done(StepContact) {
		return ErrAlreadyDone
	}
	l.ContactedAt, l.ContactedBy = &at, by
	return nil
}

// contactImplied records contact with a later step: nobody learns a root
// cause or agrees a plan without talking to the customer.
func (l *Loop) contactImplied(by string, at time.Time) {
	if l.ContactedAt == nil {
		l.ContactedAt, l.ContactedBy = &at, by
	}
}

// RecordRootCause records (or corrects) step 2.
func (l *Loop) RecordRootCause(cause churn.Cause, words, by string, at time.Time) error {
	if !l.Open() {
		return ErrClosed
	}
	if _, ok := DetractorCause(cause); !ok {
		return &InputError{Field: "cause", Message: "choose a root cause category"}
	}
	words = strings.TrimSpace(words)
	if words == "" {
		return &InputError{Field: "words", Message: "write down what the customer said, in their words"}
	}
	if utf8.RuneCountInString(words) > MaxWordsLen {
		return &InputError{Field: "words", Message: fmt.Sprintf("keep it under %d characters", MaxWordsLen)}
	}
	l.contactImplied(by, at)
	l.RootCause, l.RootCauseWords = cause, words
	// A correction keeps the first recording's time: the step was done then.
	if l.RootCauseAt == nil {
		l.RootCauseAt, l.RootCauseBy = &at, by
	}
	return nil
}

// RecordPlan records (or revises) step 3 and schedules the follow-up
// survey policy.FollowUp after it. due is a calendar date (00:00 UTC); it
// may not be before today in loc.
func (l *Loop) RecordPlan(p Policy, plan, owner string, due time.Time, by string, at time.Time, loc *time.Location) error {
	if !l.Open() {
		return ErrClosed
	}
	plan = strings.TrimSpace(plan)
	switch {
	case plan == "":
		return &InputError{Field: "plan", Message: "describe the plan"}
	case utf8.RuneCountInString(plan) > MaxPlanLen:
		return &InputError{Field: "plan", Message: fmt.Sprintf("keep it under %d characters", MaxPlanLen)}
	case !slackid.User(owner):
		return &InputError{Field: "owner", Message: "choose who owns the plan"}
	case due.IsZero():
		return &InputError{Field: "due", Message: "choose a due date"}
	case due.Before(civilDate(at, loc)):
		return &InputError{Field: "due", Message: "the due date is in the past"}
	}
	l.contactImplied(by, at)
	l.Plan, l.PlanOwner, l.PlanDue = plan, owner, &due
	// A revision keeps the first plan's time and does not push the
	// follow-up back: the customer was promised a check-in, and the clock
	// started with the first plan.
	if l.PlanAt == nil {
		l.PlanAt, l.PlanBy = &at, by
		f := at.Add(p.FollowUp)
		l.FollowUpDue = &f
	}
	return nil
}

// Escalate records step 4.
func (l *Loop) Escalate(by string, at time.Time) error {
	if !l.Open() {
		return ErrClosed
	}
	if l.Done(StepEscalate) {
		return ErrAlreadyDone
	}
	l.EscalatedAt, l.EscalatedBy = &at, by
	return nil
}

// RecordFollowUp records the follow-up answer and closes the loop.
func (l *Loop) RecordFollowUp(score int, at time.Time) {
	l.FollowUpScore, l.FollowUpAt = &score, &at
	l.ClosedAt = &at
}

// DetractorCause finds a root-cause category a detractor loop may use.
func DetractorCause(c churn.Cause) (churn.Info, bool) {
	for _, i := range churn.DetractorCauses {
		if i.Cause == c {
			return i, true
		}
	}
	return churn.Info{}, false
}

// CanAct reports whether user may record a loop's steps: its owner CSM or
// a configured manager. Button values are never trusted for this; owner
// is read from the account when the click arrives.
func CanAct(user, owner string, isManager bool) bool {
	return user != "" && (user == owner || isManager)
}

// Nudge is an overdue step to say something about: level 1 nudges the CSM
// in the thread, level 2 mentions their manager.
type Nudge struct {
	Step      Step
	Level     int
	Due       time.Time // the step's deadline
	OverdueBy time.Duration
}

// NudgeKey names a nudge already sent.
type NudgeKey struct {
	Step  Step
	Level int
}

// Nudges are the nudges due at now that were not sent yet, in step order,
// level 1 before level 2. A closed loop or a recorded step needs none.
func (p Policy) Nudges(l Loop, sent map[NudgeKey]bool, now time.Time) []Nudge {
	if !l.Open() {
		return nil
	}
	var out []Nudge
	for _, s := range DeadlineSteps {
		if l.Done(s) {
			continue
		}
		due := l.Due.Of(s)
		if now.Before(due) {
			continue
		}
		if !sent[NudgeKey{s, 1}] {
			out = append(out, Nudge{Step: s, Level: 1, Due: due, OverdueBy: now.Sub(due)})
		}
		if !now.Before(p.clock().Add(due, p.EscalateAfter)) && !sent[NudgeKey{s, 2}] {
			out = append(out, Nudge{Step: s, Level: 2, Due: due, OverdueBy: now.Sub(due)})
		}
	}
	return out
}

// NextCheck is when the loop next needs the watcher: the earliest nudge
// not yet sent or the follow-up not yet created; nil when nothing is left.
func (p Policy) NextCheck(l Loop, sent map[NudgeKey]bool, followUpCreated bool) *time.Time {
	if !l.Open() {
		return nil
	}
	var next *time.Time
	consider := func(t time.Time) {
		if next == nil || t.Before(*next) {
			next = &t
		}
	}
	for _, s := range DeadlineSteps {
		if l.Done(s) {
			continue
		}
		due := l.Due.Of(s)
		if !sent[NudgeKey{s, 1}] {
			consider(due)
		}
		if !sent[NudgeKey{s, 2}] {
			consider(p.clock().Add(due, p.EscalateAfter))
		}
	}
	if l.FollowUpDue != nil && !followUpCreated {
		consider(*l.FollowUpDue)
	}
	return next
}

// loopRow is a loop as it is kept: the loop, where its thread and card
// are, and what the loop watcher needs.
type loopRow struct {
	Loop
	ResponseID         int64
	PreviousLoopID     int64
	ChannelID          string
	ThreadKey          string
	CardRef            string
	Card               json.RawMessage // the card's context at opening
	FollowUpSurveyID   int64
	FollowUpResponseID int64
	// Nudged are the nudges already sent (loaded with a loop to change).
	Nudged map[NudgeKey]bool
	// NextCheckAt is when the loop watcher should look again (nil: never);
	// set from Policy.NextCheck before a loop is written.
	NextCheckAt *time.Time
}

// followUpDue reports whether the loop's follow-up survey goes out at now:
// the wait after the plan is over, and the loop, still open, has none yet.
func (l loopRow) followUpDue(now time.Time) bool {
	return l.Open() && l.FollowUpSurveyID == 0 && l.FollowUpDue != nil && !l.FollowUpDue.After(now)
}

// recordFollowUpSurvey records the loop's follow-up survey; without a
// survey tool to hand it to, it counts as sent at now.
func (l *loopRow) recordFollowUpSurvey(surveyID int64, viaTool bool, now time.Time) {
	l.FollowUpSurveyID = surveyID
	if !viaTool {
		l.FollowUpSentAt = &now
	}
}

// reschedule sets when the loop watcher looks at the loop next.
func (l *loopRow) reschedule(p Policy) {
	l.NextCheckAt = p.NextCheck(l.Loop, l.Nudged, l.FollowUpSurveyID != 0)
}

// civilDate is t's calendar date in loc, as 00:00 UTC of that date.
func civilDate(t time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
