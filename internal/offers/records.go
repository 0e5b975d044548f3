package offers

// The records of a request: what is stored, version by version and step by
// step, and the events a change to them causes.

import (
	"fmt"
	"time"

	"github.com/holdfast/holdfast/store"
)

// Request statuses.
const (
	RequestPending           = "pending"
	RequestRevisionRequested = "revision_requested"
	RequestApproved          = "approved"
	RequestRejected          = "rejected"
)

// Step statuses. waiting: a later stage not started yet; closed: the
// request ended (revision, rejection) before this step decided;
// superseded: a newer version replaced the one this step belongs to.
const (
	StepWaiting    = "waiting"
	StepPending    = "pending"
	StepApproved   = "approved"
	StepRejected   = "rejected"
	StepRevision   = "revision_requested"
	StepClosed     = "closed"
	StepSuperseded = "superseded"
)

// Decision actions and outcomes.
const (
	ActionApprove  = "approve"
	ActionReject   = "reject"
	ActionRevise   = "revise"
	ActionAnswer   = "answer"
	OutcomeRecord  = "recorded"
	OutcomeRefused = "refused"
)

// Why a click changed nothing (recorded as the decision's refusal).
const (
	RefuseNotApprover     = "not_approver"     // the user is not an approver of the step
	RefuseOwnRequest      = "own_request"      // the requester cannot approve their own offer
	RefuseAlreadyDecided  = "already_decided"  // the step has its decision
	RefuseOldVersion      = "old_version"      // the request was revised since
	RefuseNotActive       = "not_active"       // the step's stage has not started
	RefuseClosed          = "closed"           // the request is not waiting for this step any more
	RefuseNotOwner        = "not_owner"        // only the requester or the account owner may do this
	RefuseNotApproved     = "not_approved"     // a customer answer before approval
	RefuseAlreadyAnswered = "already_answered" // the customer's answer is recorded
	RefuseStale           = "stale"            // a revision of a version that is no longer current
)

// Customer answers.
const (
	AnswerAccepted  = "accepted"
	AnswerDeclined  = "declined"
	AnswerCountered = "countered"
)

// Request is one retention offer across its versions.
type Request struct {
	ID             int64
	AccountID      int64
	RequestedBy    string
	ChannelID      string // the approvals channel its thread is in
	Status         string
	Version        int
	Stage          int
	DecidedAt      *time.Time
	CustomerAnswer string
	AnsweredAt     *time.Time
	AnsweredBy     string
	AnswerNote     string
	RenewalDate    *time.Time
	RenewalOutcome string
	OutcomeAt      *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Version is one submission of a request.
type Version struct {
	Version       int
	Offer         Offer
	Impact        Impact
	Route         Route
	Brief         Brief // Brief.Tier and Brief.ARR are the account's at submission
	Summary       string
	SummarySource string // template or llm
	SubmittedBy   string
	SubmittedAt   time.Time
}

// ApprovalStep is one approval of one version: a RouteStep as stored,
// with its approvers fixed and its state.
type ApprovalStep struct {
	ID            int64
	RequestID     int64
	Version       int
	Stage         int
	Position      int
	StageName     string
	Name          string
	Approvers     []string
	GroupID       string
	Backup        string
	SLA           time.Duration
	EscalateAfter time.Duration
	Status        string
	ActivatedAt   *time.Time
	DecidedAt     *time.Time
	DecidedBy     string
	Guidance      string
	NudgedAt      *time.Time
	EscalatedAt   *time.Time
	DMUsers       []string // who got a DM with this step's buttons (see dmRef)
}

// Decision is one line of the append-only decision log. Its fields are
// read by position (decisionColumns).
type Decision struct {
	ID        int64
	RequestID int64
	Version   int
	StepID    int64 // 0 for customer answers
	StepName  string
	Actor     string
	Action    string
	Outcome   string
	Refusal   string
	Guidance  string
	Answer    string
	At        time.Time
}

// State is a request as it stands: what every message and command needs
// to show it.
type State struct {
	Request  Request
	Account  store.Account
	Version  Version        // the current version
	Previous *Version       // the version before it, nil for v1
	Steps    []ApprovalStep // the current version's steps, by stage then position
	Trail    []Decision
}

// ActiveSteps are the current version's steps waiting for a decision.
func (st State) ActiveSteps() []ApprovalStep {
	var out []ApprovalStep
	for _, s := range st.Steps {
		if s.Status == StepPending {
			out = append(out, s)
		}
	}
	return out
}

// EventKind says what just happened to a request.
type EventKind string

const (
	EventSubmitted  EventKind = "submitted"  // version 1 stored, first stage active
	EventRevised    EventKind = "revised"    // a new version replaced the current one
	EventDecided    EventKind = "decided"    // a step was approved, rejected or sent back
	EventNudged     EventKind = "nudged"     // a step ran past its SLA
	EventEscalated  EventKind = "escalated"  // a step's backup was brought in
	EventAnswered   EventKind = "answered"   // the customer's answer was recorded
	EventOutcome    EventKind = "outcome"    // an accepted offer's renewal was decided
	EventSummarized EventKind = "summarized" // the model's summary replaced the template
)

// Event is what a change did; messages turns it into Slack messages. The
// zero Event (no Kind) is a change that posts nothing (a refusal).
type Event struct {
	Kind      EventKind
	At        time.Time
	Step      ApprovalStep   // decided, nudged or escalated
	Decision  Decision       // decided, answered
	Activated []ApprovalStep // steps that started waiting for a decision
	Closed    []ApprovalStep // steps taken out of play whose DMs must lose their buttons
	Version   Version        // summarized: the version whose summary changed
}

// Submission is one submission: a new request, or a new version of one.
type Submission struct {
	AccountID int64
	Actor     string
	ChannelID string // the approvals channel (new requests only)
	Offer     Offer
	Impact    Impact
	Route     Route
	Groups    map[string][]string // user group id -> members, resolved before the call
	Brief     Brief               // also gives the version's tier and ARR columns
	Summary   string              // the template summary
	At        time.Time
}

// OpenRequestError refuses a new request while the account has one under
// review or sent back for revision: that one is revised instead.
type OpenRequestError struct{ Request Request }

func (e *OpenRequestError) Error() string {
	return fmt.Sprintf("offer #%d for this account is still open (%s)", e.Request.ID, e.Request.Status)
}

// StepDecision is one click on Approve, or a submitted Reject / Request
// revision with its guidance.
type StepDecision struct {
	StepID   int64
	Actor    string
	Action   string // approve, reject, revise
	Guidance string
	At       time.Time
}

// DecideResult says what a decision did.
type DecideResult struct {
	Recorded bool
	Refusal  string       // why nothing changed, when !Recorded
	Step     ApprovalStep // the step as it is now
	// State is the whole request after a recorded decision; after a
	// refusal only State.Request is filled.
	State State
}

// AnswerResult says what recording a customer answer did.
type AnswerResult struct {
	Recorded bool
	Refusal  string
	State    State
}

// SLAResult counts what one SLA run did.
type SLAResult struct {
	Nudged, Escalated int
}

// PendingApproval is one step waiting for a user's decision.
type PendingApproval struct {
	Step        ApprovalStep
	RequestID   int64
	AccountID   int64
	AccountName string
	RequestedBy string
	Offer       Offer
	Impact      Impact
}

// threadKey is the approvals-channel thread of a request.
func threadKey(requestID int64) string { return fmt.Sprintf("offer:%d", requestID) }

// rootRef names a request's root message in the approvals channel.
func rootRef(requestID int64) string { return fmt.Sprintf("offer:%d:root", requestID) }

// summaryRef names the summary message of one version.
func summaryRef(requestID int64, version int) string {
	return fmt.Sprintf("offer:%d:v%d:summary", requestID, version)
}

// dmRef names the DM a user got for a step.
func dmRef(requestID, stepID int64, user string) string {
	return fmt.Sprintf("offer:%d:step:%d:dm:%s", requestID, stepID, user)
}

// termsRef names the DM telling the requester an approved version's terms.
func termsRef(requestID int64, version int) string {
	return fmt.Sprintf("offer:%d:v%d:terms", requestID, version)
}

// revisionRef names the DM asking the requester for a revision of a version.
func revisionRef(requestID int64, version int) string {
	return fmt.Sprintf("offer:%d:v%d:revise", requestID, version)
}
