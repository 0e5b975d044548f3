package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/holdfast/holdfast/offers"
)

// Offer request statuses.
const (
	OfferPending           = "pending"
	OfferRevisionRequested = "revision_requested"
	OfferApproved          = "approved"
	OfferRejected          = "rejected"
)

// Offer step statuses. waiting: a later stage not started yet; closed: the
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

// OfferRequest is one retention offer across its versions.
type OfferRequest struct {
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

// OfferVersion is one submission of a request.
type OfferVersion struct {
	Version       int
	Offer         offers.Offer
	Impact        offers.Impact
	Route         offers.Route
	Brief         offers.Brief // Brief.Tier and Brief.ARR are the account's at submission
	Summary       string
	SummarySource string // template or llm
	SubmittedBy   string
	SubmittedAt   time.Time
}

// OfferStep is one approval of one version.
type OfferStep struct {
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
	DMUsers       []string // who got a DM with this step's buttons (see OfferDMRef)
}

// CanDecide reports whether user may decide the step: one of its
// approvers, or its backup once the step has escalated.
func (s OfferStep) CanDecide(user string) bool {
	return user != "" && (slices.Contains(s.Approvers, user) || (s.EscalatedAt != nil && s.Backup == user))
}

// Deciders is everyone who may decide the step now.
func (s OfferStep) Deciders() []string {
	out := slices.Clone(s.Approvers)
	if s.EscalatedAt != nil && s.Backup != "" && !slices.Contains(out, s.Backup) {
		out = append(out, s.Backup)
	}
	return out
}

// OfferDecision is one line of the append-only decision log.
type OfferDecision struct {
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

// OfferState is a request as it stands: what every renderer and command
// needs to show it.
type OfferState struct {
	Request  OfferRequest
	Account  Account
	Version  OfferVersion  // the current version
	Previous *OfferVersion // the version before it, nil for v1
	Steps    []OfferStep   // the current version's steps, by stage then position
	Trail    []OfferDecision
}

// ActiveSteps are the current version's steps waiting for a decision.
func (st OfferState) ActiveSteps() []OfferStep {
	var out []OfferStep
	for _, s := range st.Steps {
		if s.Status == StepPending {
			out = append(out, s)
		}
	}
	return out
}

// OfferEventKind says what just happened to a request.
type OfferEventKind string

const (
	OfferSubmitted  OfferEventKind = "submitted"  // version 1 stored, first stage active
	OfferRevised    OfferEventKind = "revised"    // a new version replaced the current one
	OfferDecided    OfferEventKind = "decided"    // a step was approved, rejected or sent back
	OfferNudged     OfferEventKind = "nudged"     // a step ran past its SLA
	OfferEscalated  OfferEventKind = "escalated"  // a step's backup was brought in
	OfferAnswered   OfferEventKind = "answered"   // the customer's answer was recorded
	OfferOutcome    OfferEventKind = "outcome"    // an accepted offer's renewal was decided
	OfferSummarized OfferEventKind = "summarized" // the model's summary replaced the template
)

// OfferEvent is what a renderer turns into Slack messages.
type OfferEvent struct {
	Kind      OfferEventKind
	At        time.Time
	Step      OfferStep     // decided, nudged or escalated
	Decision  OfferDecision // decided, answered
	Activated []OfferStep   // steps that started waiting for a decision
	Closed    []OfferStep   // steps taken out of play whose DMs must lose their buttons
	Version   OfferVersion  // summarized: the version whose summary changed
}

// OfferRenderer turns a change into the Slack messages it causes; they are
// written to the outbox in the same transaction as the change.
type OfferRenderer func(st OfferState, ev OfferEvent) ([]OutboxItem, error)

// OfferThreadKey is the approvals-channel thread of a request.
func OfferThreadKey(requestID int64) string { return fmt.Sprintf("offer:%d", requestID) }

// OfferRootRef names a request's root message in the approvals channel.
func OfferRootRef(requestID int64) string { return fmt.Sprintf("offer:%d:root", requestID) }

// OfferSummaryRef names the summary message of one version.
func OfferSummaryRef(requestID int64, version int) string {
	return fmt.Sprintf("offer:%d:v%d:summary", requestID, version)
}

// OfferDMRef names the DM a user got for a step.
func OfferDMRef(requestID, stepID int64, user string) string {
	return fmt.Sprintf("offer:%d:step:%d:dm:%s", requestID, stepID, user)
}

// OfferTermsRef names the DM telling the requester an approved version's terms.
func OfferTermsRef(requestID int64, version int) string {
	return fmt.Sprintf("offer:%d:v%d:terms", requestID, version)
}

// OfferRevisionRef names the DM asking the requester for a revision of a version.
func OfferRevisionRef(requestID int64, version int) string {
	return fmt.Sprintf("offer:%d:v%d:revise", requestID, version)
}

// OfferSubmission is one submission: a new request, or a new version of one.
type OfferSubmission struct {
	AccountID int64
	Actor     string
	ChannelID string // the approvals channel (new requests only)
	Offer     offers.Offer
	Impact    offers.Impact
	Route     offers.Route
	Groups    map[string][]string // user group id -> members, resolved before the call
	Brief     offers.Brief        // also gives the version's tier and ARR columns
	Summary   string              // the template summary
	At        time.Time
}

// OpenOfferError refuses a new request while the account has one under
// review or sent back for revision: that one is revised instead.
type OpenOfferError struct{ Request OfferRequest }

func (e *OpenOfferError) Error() string {
	return fmt.Sprintf("offer #%d for this account is still open (%s)", e.Request.ID, e.Request.Status)
}

// OpenOfferFor returns the account's request under review or sent back for
// revision, ok false when there is none.
func (s *Store) OpenOfferFor(ctx context.Context, accountID int64) (OfferRequest, bool, error) {
	return openOffer(ctx, s.pool, accountID)
}

func openOffer(ctx context.Context, q rowQuerier, accountID int64) (OfferRequest, bool, error) {
	r, err := scanRequest(q.QueryRow(ctx, `SELECT `+requestColumns+` FROM offer_requests
		WHERE account_id = $1 AND status IN ('pending', 'revision_requested') ORDER BY created_at DESC, id DESC LIMIT 1`, accountID))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, false, nil
	}
	return r, err == nil, wrap("open offer", err)
}

// CreateOffer stores a request and its first version, starts its first
// stage, and queues what render makes of it, all in one transaction. An
// account with an open request gets an *OpenOfferError and nothing is stored.
func (s *Store) CreateOffer(ctx context.Context, in OfferSubmission, render OfferRenderer) (OfferState, error) {
	if len(in.Route.Stages) == 0 {
		return OfferState{}, errors.New("create offer: empty route")
	}
	var st OfferState
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// The account's lock serialises proposals for it, so two forms
		// submitted at once cannot both start a request.
		if _, err := accountTx(ctx, tx, in.AccountID, true); err != nil {
			return err
		}
		if open, ok, err := openOffer(ctx, tx, in.AccountID); err != nil {
			return err
		} else if ok {
			return &OpenOfferError{Request: open}
		}
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO offer_requests (account_id, requested_by, channel_id, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $4) RETURNING id`, in.AccountID, in.Actor, in.ChannelID, in.At).Scan(&id); err != nil {
			return fmt.Errorf("insert offer request: %w", err)
		}
		activated, err := insertVersion(ctx, tx, id, 1, in)
		if err != nil {
			return err
		}
		if err := offerTimeline(ctx, tx, in.AccountID, id, in.At, "offer.submitted", in.Actor,
			fmt.Sprintf("Offer #%d submitted: %s; approval route %s", id, in.Offer.Describe(), in.Route.Describe())); err != nil {
			return err
		}
		if st, err = loadOfferState(ctx, tx, id); err != nil {
			return err
		}
		return emit(ctx, tx, render, st, OfferEvent{Kind: OfferSubmitted, At: in.At, Activated: activated})
	})
	return st, err
}

// insertVersion stores version n with its steps; the first stage's steps
// start waiting for decisions at once. It returns those steps.
func insertVersion(ctx context.Context, tx DB, requestID int64, n int, in OfferSubmission) ([]OfferStep, error) {
	if _, err := tx.Exec(ctx, `INSERT INTO offer_versions (request_id, version, offer, impact, route, brief, tier, arr,
			summary, summary_source, submitted_by, submitted_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'template', $10, $11)`,
		requestID, n, in.Offer, in.Impact, in.Route, in.Brief, in.Brief.Tier, in.Brief.ARR, in.Summary, in.Actor, in.At); err != nil {
		return nil, fmt.Errorf("insert offer version: %w", err)
	}
	var activated []OfferStep
	for si, stage := range in.Route.Stages {
		for pi, step := range stage.Steps {
			approvers := step.Approvers(in.Groups)
			status, at, dms := StepWaiting, (*time.Time)(nil), []string{}
			if si == 0 {
				status, at, dms = StepPending, &in.At, approvers
			}
			row := tx.QueryRow(ctx, `INSERT INTO offer_steps (request_id, version, stage, position, stage_name, name,
					approvers, group_id, backup, sla, escalate_after, status, activated_at, dm_users)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
				RETURNING `+stepColumns, requestID, n, si, pi, stage.Name, step.Name, approvers, step.Group, step.Backup,
				step.SLA, step.EscalateAfter, status, at, dms)
			s, err := scanStep(row)
			if err != nil {
				return nil, fmt.Errorf("insert offer step: %w", err)
			}
			if si == 0 {
				activated = append(activated, s)
			}
		}
	}
	return activated, nil
}

// ReviseOffer replaces the current version of a request with a new one:
// the old version's open steps are superseded (their approvals do not carry
// over) and the new version's route starts from its first stage. Only the
// requester or the account owner may revise, and only the version they saw
// (expectVersion), so a double submission makes one version. refusal is
// non-empty when nothing was changed (st is then empty).
func (s *Store) ReviseOffer(ctx context.Context, requestID int64, expectVersion int, in OfferSubmission, render OfferRenderer) (st OfferState, refusal string, err error) {
	if len(in.Route.Stages) == 0 {
		return OfferState{}, "", errors.New("revise offer: empty route")
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		req, err := lockRequest(ctx, tx, requestID)
		if err != nil {
			return err
		}
		acct, err := accountTx(ctx, tx, req.AccountID, false)
		if err != nil {
			return err
		}
		switch {
		case in.Actor != req.RequestedBy && in.Actor != acct.OwnerCSM:
			refusal = RefuseNotOwner
		case req.Version != expectVersion:
			refusal = RefuseStale
		case !Revisable(req):
			refusal = RefuseClosed
		}
		if refusal != "" {
			return nil
		}
		rows, err := tx.Query(ctx, `UPDATE offer_steps SET status = 'superseded'
			WHERE request_id = $1 AND version = $2 AND status IN ('waiting', 'pending') RETURNING `+stepColumns, requestID, req.Version)
		if err != nil {
			return fmt.Errorf("supersede offer steps: %w", err)
		}
		superseded, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (OfferStep, error) { return scanStep(r) })
		if err != nil {
			return fmt.Errorf("supersede offer steps: %w", err)
		}
		n := req.Version + 1
		activated, err := insertVersion(ctx, tx, requestID, n, in)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE offer_requests SET version = $2, stage = 0, status = 'pending', decided_at = NULL,
				customer_answer = NULL, answered_at = NULL, answered_by = NULL, answer_note = NULL, updated_at = $3
			WHERE id = $1`, requestID, n, in.At); err != nil {
			return fmt.Errorf("revise offer request: %w", err)
		}
		if err := offerTimeline(ctx, tx, req.AccountID, requestID, in.At, "offer.revised", in.Actor,
			fmt.Sprintf("Offer #%d revised to v%d: %s; approval route %s", requestID, n, in.Offer.Describe(), in.Route.Describe())); err != nil {
			return err
		}
		if st, err = loadOfferState(ctx, tx, requestID); err != nil {
			return err
		}
		return emit(ctx, tx, render, st, OfferEvent{Kind: OfferRevised, At: in.At, Activated: activated, Closed: withDMs(superseded)})
	})
	return st, refusal, err
}

// Revisable reports whether a request takes a new version: while it is
// under review or sent back, and after approval when the customer countered.
func Revisable(r OfferRequest) bool {
	return r.Status == OfferPending || r.Status == OfferRevisionRequested ||
		(r.Status == OfferApproved && r.CustomerAnswer == AnswerCountered)
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
	Refusal  string    // why nothing changed, when !Recorded
	Step     OfferStep // the step as it is now
	// State is the whole request after a recorded decision; after a
	// refusal only State.Request is filled.
	State OfferState
}

// DecideOfferStep records a decision if the actor may make it and the step
// is waiting for it; otherwise it records the refused click and changes
// nothing else. The request row is locked for the whole change, so two
// clicks (two replicas, a double click) produce one decision, and parallel
// steps finishing together advance the stage once.
func (s *Store) DecideOfferStep(ctx context.Context, d StepDecision, render OfferRenderer) (DecideResult, error) {
	var res DecideResult
	newStatus, ok := map[string]string{ActionApprove: StepApproved, ActionReject: StepRejected, ActionRevise: StepRevision}[d.Action]
	if !ok {
		return res, fmt.Errorf("decide offer step: unknown action %q", d.Action)
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		req, step, err := lockStep(ctx, tx, d.StepID)
		if err != nil {
			return err
		}
		dec := OfferDecision{RequestID: req.ID, Version: step.Version, StepID: step.ID, StepName: step.Name, Actor: d.Actor,
			Action: d.Action, Guidance: d.Guidance, At: d.At}
		if res.Refusal = refusal(req, step, d.Actor); res.Refusal != "" {
			// A refused click changes nothing but the log; the caller only
			// needs the step and the request to explain the refusal.
			dec.Outcome, dec.Refusal, dec.Guidance = OutcomeRefused, res.Refusal, ""
			res.Step, res.State.Request = step, req
			return insertDecision(ctx, tx, &dec)
		}
		tag, err := tx.Exec(ctx, `UPDATE offer_steps SET status = $2, decided_at = $3, decided_by = $4, guidance = nullif($5, '')
			WHERE id = $1 AND status = 'pending'`, step.ID, newStatus, d.At, d.Actor, d.Guidance)
		if err != nil {
			return fmt.Errorf("decide offer step: %w", err)
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("decide offer step %d: not pending under lock", step.ID)
		}
		dec.Outcome = OutcomeRecord
		if err := insertDecision(ctx, tx, &dec); err != nil {
			return err
		}
		ev := OfferEvent{Kind: OfferDecided, At: d.At, Decision: dec}
		summary := fmt.Sprintf("%s %s offer #%d v%d", step.Name, pastTense(d.Action), req.ID, req.Version)
		kind := "offer.step_" + newStatus
		switch d.Action {
		case ActionApprove:
			var open int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM offer_steps WHERE request_id = $1 AND version = $2 AND stage = $3
				AND status <> 'approved'`, req.ID, req.Version, step.Stage).Scan(&open); err != nil {
				return fmt.Errorf("count open offer steps: %w", err)
			}
			if open > 0 {
				break
			}
			rows, err := tx.Query(ctx, `UPDATE offer_steps SET status = 'pending', activated_at = $4, dm_users = approvers
				WHERE request_id = $1 AND version = $2 AND stage = $3 AND status = 'waiting' RETURNING `+stepColumns,
				req.ID, req.Version, step.Stage+1, d.At)
			if err != nil {
				return fmt.Errorf("start next offer stage: %w", err)
			}
			if ev.Activated, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (OfferStep, error) { return scanStep(r) }); err != nil {
				return fmt.Errorf("start next offer stage: %w", err)
			}
			if len(ev.Activated) > 0 {
				_, err = tx.Exec(ctx, `UPDATE offer_requests SET stage = $2, updated_at = $3 WHERE id = $1`, req.ID, step.Stage+1, d.At)
				if err != nil {
					return fmt.Errorf("advance offer stage: %w", err)
				}
				summary += "; now waiting for " + stepNames(ev.Activated)
				break
			}
			if _, err := tx.Exec(ctx, `UPDATE offer_requests SET status = 'approved', decided_at = $2, updated_at = $2 WHERE id = $1`,
				req.ID, d.At); err != nil {
				return fmt.Errorf("approve offer: %w", err)
			}
			kind = "offer.approved"
			summary = fmt.Sprintf("Offer #%d approved (last: %s by %s)", req.ID, step.Name, d.Actor)
		case ActionReject, ActionRevise:
			status := OfferRejected
			if d.Action == ActionRevise {
				status = OfferRevisionRequested
			}
			kind = "offer." + status
			if _, err := tx.Exec(ctx, `UPDATE offer_requests SET status = $2, decided_at = CASE WHEN $2 = 'rejected' THEN $3::timestamptz END,
					updated_at = $3 WHERE id = $1`, req.ID, status, d.At); err != nil {
				return fmt.Errorf("close offer: %w", err)
			}
			rows, err := tx.Query(ctx, `UPDATE offer_steps SET status = 'closed'
				WHERE request_id = $1 AND version = $2 AND status IN ('waiting', 'pending') RETURNING `+stepColumns, req.ID, req.Version)
			if err != nil {
				return fmt.Errorf("close offer steps: %w", err)
			}
			closed, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (OfferStep, error) { return scanStep(r) })
			if err != nil {
				return fmt.Errorf("close offer steps: %w", err)
			}
			ev.Closed = withDMs(closed)
			if d.Guidance != "" {
				summary += ": " + clipText(d.Guidance, 300)
			}
		}
		if err := offerTimeline(ctx, tx, req.AccountID, req.ID, d.At, kind, d.Actor, summary); err != nil {
			return err
		}
		res.Recorded = true
		if res.State, err = loadOfferState(ctx, tx, req.ID); err != nil {
			return err
		}
		for _, st := range res.State.Steps {
			if st.ID == step.ID {
				res.Step = st
			}
		}
		ev.Step = res.Step
		return emit(ctx, tx, render, res.State, ev)
	})
	return res, err
}

// CheckOfferStep says whether actor may decide the step now, without
// deciding; a refusal is recorded like any refused click. Reject and
// Request revision call it before opening their guidance modal.
func (s *Store) CheckOfferStep(ctx context.Context, stepID int64, actor, action string, at time.Time) (DecideResult, error) {
	var res DecideResult
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		req, step, err := lockStep(ctx, tx, stepID)
		if err != nil {
			return err
		}
		res.Step = step
		if res.Refusal = refusal(req, step, actor); res.Refusal != "" {
			dec := OfferDecision{RequestID: req.ID, Version: step.Version, StepID: step.ID, Actor: actor, Action: action,
				Outcome: OutcomeRefused, Refusal: res.Refusal, At: at}
			if err := insertDecision(ctx, tx, &dec); err != nil {
				return err
			}
		}
		res.State, err = loadOfferState(ctx, tx, req.ID)
		return err
	})
	return res, err
}

// refusal is why actor may not decide step now, "" when they may.
// Authorization comes first: a stranger learns nothing about the request.
func refusal(req OfferRequest, step OfferStep, actor string) string {
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
	case step.Status != StepPending || req.Status != OfferPending:
		return RefuseClosed
	}
	return ""
}

// AnswerResult says what recording a customer answer did.
type AnswerResult struct {
	Recorded bool
	Refusal  string
	State    OfferState
}

// AnswerRefusal is why actor may not record the customer's answer to req
// now ("" when they may): only the requester or the account owner
// (owner), and only once per approved version.
func AnswerRefusal(req OfferRequest, owner, actor string) string {
	switch {
	case actor != req.RequestedBy && actor != owner:
		return RefuseNotOwner
	case req.Status != OfferApproved:
		return RefuseNotApproved
	case req.CustomerAnswer != "":
		return RefuseAlreadyAnswered
	}
	return ""
}

// AnswerOffer records the customer's answer to an approved offer. Only the
// requester or the account owner may; the first answer per version stands
// (a countered offer is answered again after its revision is approved).
func (s *Store) AnswerOffer(ctx context.Context, requestID int64, actor, answer, note string, at time.Time, render OfferRenderer) (AnswerResult, error) {
	var res AnswerResult
	if answer != AnswerAccepted && answer != AnswerDeclined && answer != AnswerCountered {
		return res, fmt.Errorf("answer offer: unknown answer %q", answer)
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		req, err := lockRequest(ctx, tx, requestID)
		if err != nil {
			return err
		}
		acct, err := accountTx(ctx, tx, req.AccountID, false)
		if err != nil {
			return err
		}
		res.Refusal = AnswerRefusal(req, acct.OwnerCSM, actor)
		dec := OfferDecision{RequestID: req.ID, Version: req.Version, Actor: actor, Action: ActionAnswer, Answer: answer,
			Guidance: note, At: at, Outcome: OutcomeRecord}
		if res.Refusal != "" {
			dec.Outcome, dec.Refusal, dec.Guidance = OutcomeRefused, res.Refusal, ""
			if err := insertDecision(ctx, tx, &dec); err != nil {
				return err
			}
			res.State, err = loadOfferState(ctx, tx, req.ID)
			return err
		}
		var renewal *time.Time
		if answer == AnswerAccepted {
			renewal = acct.RenewalDate
		}
		if _, err := tx.Exec(ctx, `UPDATE offer_requests SET customer_answer = $2, answered_at = $3, answered_by = $4,
				answer_note = nullif($5, ''), renewal_date = $6, updated_at = $3 WHERE id = $1`,
			req.ID, answer, at, actor, note, renewal); err != nil {
			return fmt.Errorf("answer offer: %w", err)
		}
		if err := insertDecision(ctx, tx, &dec); err != nil {
			return err
		}
		summary := fmt.Sprintf("Customer %s offer #%d", answer, req.ID)
		if note != "" {
			summary += ": " + clipText(note, 300)
		}
		if err := offerTimeline(ctx, tx, req.AccountID, req.ID, at, "offer."+answer, actor, summary); err != nil {
			return err
		}
		res.Recorded = true
		if res.State, err = loadOfferState(ctx, tx, req.ID); err != nil {
			return err
		}
		return emit(ctx, tx, render, res.State, OfferEvent{Kind: OfferAnswered, At: at, Decision: dec})
	})
	return res, err
}

// SLAResult counts what one SLA run did.
type SLAResult struct {
	Nudged, Escalated int
}

// RunOfferSLAs nudges the approvers of every step waiting past its SLA and
// brings in the backup of every step waiting past its escalation time, as
// of now. Each step is handled in its own transaction under its request's
// lock, re-checked there, and marked in the same transaction as its
// messages: a run that dies halfway is finished by the next one, and a
// step is never nudged or escalated twice.
func (s *Store) RunOfferSLAs(ctx context.Context, now time.Time, render OfferRenderer) (SLAResult, error) {
	var res SLAResult
	rows, err := s.pool.Query(ctx, `SELECT st.id FROM offer_steps st JOIN offer_requests r ON r.id = st.request_id
		WHERE st.status = 'pending' AND r.status = 'pending' AND st.version = r.version
		  AND ((st.nudged_at IS NULL AND st.activated_at + st.sla <= $1)
		    OR (st.escalated_at IS NULL AND st.backup <> '' AND st.activated_at + st.escalate_after <= $1))
		ORDER BY st.activated_at, st.id LIMIT 500`, now)
	if err != nil {
		return res, fmt.Errorf("due offer steps: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return res, fmt.Errorf("due offer steps: %w", err)
	}
	for _, id := range ids {
		err := s.inTx(ctx, func(tx pgx.Tx) error {
			req, step, err := lockStep(ctx, tx, id)
			if err != nil {
				return err
			}
			if step.Status != StepPending || req.Status != OfferPending || step.Version != req.Version || step.ActivatedAt == nil {
				return nil
			}
			waited := now.Sub(*step.ActivatedAt)
			ev := OfferEvent{At: now}
			switch {
			case step.EscalatedAt == nil && step.Backup != "" && waited >= step.EscalateAfter:
				if _, err := tx.Exec(ctx, `UPDATE offer_steps SET escalated_at = $2, nudged_at = coalesce(nudged_at, $2),
						dm_users = CASE WHEN $3 = ANY(dm_users) THEN dm_users ELSE array_append(dm_users, $3) END
					WHERE id = $1`, step.ID, now, step.Backup); err != nil {
					return fmt.Errorf("escalate offer step: %w", err)
				}
				ev.Kind = OfferEscalated
				res.Escalated++
				if err := offerTimeline(ctx, tx, req.AccountID, req.ID, now, "offer.escalated", "",
					fmt.Sprintf("%s step of offer #%d waited %s: escalated to backup %s", step.Name, req.ID, roundWait(waited), step.Backup)); err != nil {
					return err
				}
			case step.NudgedAt == nil && waited >= step.SLA:
				if _, err := tx.Exec(ctx, `UPDATE offer_steps SET nudged_at = $2 WHERE id = $1`, step.ID, now); err != nil {
					return fmt.Errorf("nudge offer step: %w", err)
				}
				ev.Kind = OfferNudged
				res.Nudged++
				if err := offerTimeline(ctx, tx, req.AccountID, req.ID, now, "offer.nudged", "",
					fmt.Sprintf("%s step of offer #%d waited %s (SLA %s): approvers reminded", step.Name, req.ID, roundWait(waited), roundWait(step.SLA))); err != nil {
					return err
				}
			default:
				return nil
			}
			st, err := loadOfferState(ctx, tx, req.ID)
			if err != nil {
				return err
			}
			for _, s := range st.Steps {
				if s.ID == step.ID {
					ev.Step = s
				}
			}
			return emit(ctx, tx, render, st, ev)
		})
		if err != nil {
			return res, fmt.Errorf("offer step %d: %w", id, err)
		}
	}
	return res, nil
}

// ResolveOfferOutcomes tracks accepted offers to their renewal: churned
// once the account is marked churned, renewed once the renewal date the
// offer was accepted against has passed with the account still active.
func (s *Store) ResolveOfferOutcomes(ctx context.Context, now time.Time, render OfferRenderer) (int, error) {
	rows, err := s.pool.Query(ctx, `SELECT r.id FROM offer_requests r JOIN accounts a ON a.id = r.account_id
		WHERE r.customer_answer = 'accepted' AND r.renewal_outcome IS NULL
		  AND (a.status = 'churned' OR r.renewal_date < $1::date)
		ORDER BY r.id LIMIT 1000`, now)
	if err != nil {
		return 0, fmt.Errorf("offers to resolve: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, fmt.Errorf("offers to resolve: %w", err)
	}
	n := 0
	for _, id := range ids {
		err := s.inTx(ctx, func(tx pgx.Tx) error {
			req, err := lockRequest(ctx, tx, id)
			if err != nil {
				return err
			}
			acct, err := accountTx(ctx, tx, req.AccountID, false)
			if err != nil {
				return err
			}
			outcome := ""
			switch {
			case req.CustomerAnswer != AnswerAccepted || req.RenewalOutcome != "":
			case acct.Status == "churned":
				outcome = "churned"
			case req.RenewalDate != nil && req.RenewalDate.Before(dateOf(now)):
				outcome = "renewed"
			}
			if outcome == "" {
				return nil
			}
			if _, err := tx.Exec(ctx, `UPDATE offer_requests SET renewal_outcome = $2, outcome_at = $3, updated_at = $3 WHERE id = $1`,
				id, outcome, now); err != nil {
				return fmt.Errorf("record offer outcome: %w", err)
			}
			if err := offerTimeline(ctx, tx, req.AccountID, id, now, "offer."+outcome, "",
				fmt.Sprintf("Accepted offer #%d: account %s", id, outcome)); err != nil {
				return err
			}
			n++
			st, err := loadOfferState(ctx, tx, id)
			if err != nil {
				return err
			}
			return emit(ctx, tx, render, st, OfferEvent{Kind: OfferOutcome, At: now})
		})
		if err != nil {
			return n, fmt.Errorf("offer %d: %w", id, err)
		}
	}
	return n, nil
}

// SetOfferSummary replaces a version's template summary with the model's,
// once; a version whose summary already came from the model is left alone.
func (s *Store) SetOfferSummary(ctx context.Context, requestID int64, version int, summary string, render OfferRenderer) (bool, error) {
	changed := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := lockRequest(ctx, tx, requestID); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE offer_versions SET summary = $3, summary_source = 'llm'
			WHERE request_id = $1 AND version = $2 AND summary_source = 'template'`, requestID, version, summary)
		if err != nil {
			return fmt.Errorf("set offer summary: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		changed = true
		st, err := loadOfferState(ctx, tx, requestID)
		if err != nil {
			return err
		}
		v := st.Version
		if v.Version != version { // revised while the model was writing
			if v, err = loadVersion(ctx, tx, requestID, version); err != nil {
				return err
			}
		}
		return emit(ctx, tx, render, st, OfferEvent{Kind: OfferSummarized, Version: v})
	})
	return changed, err
}

// OfferState loads one request.
func (s *Store) OfferState(ctx context.Context, requestID int64) (OfferState, error) {
	var st OfferState
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		st, err = loadOfferState(ctx, tx, requestID)
		return err
	})
	return st, err
}

// OffersForAccount returns an account's requests, newest first.
func (s *Store) OffersForAccount(ctx context.Context, accountID int64, limit int) ([]OfferState, error) {
	return s.offerStates(ctx, `SELECT id FROM offer_requests WHERE account_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`,
		accountID, limit)
}

// OpenOffers returns requests under review or sent back for revision,
// oldest first, and how many there are in all.
func (s *Store) OpenOffers(ctx context.Context, limit int) ([]OfferState, int, error) {
	var total int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM offer_requests WHERE status IN ('pending', 'revision_requested')`).
		Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count open offers: %w", err)
	}
	sts, err := s.offerStates(ctx, `SELECT id FROM offer_requests WHERE status IN ('pending', 'revision_requested')
		ORDER BY created_at, id LIMIT $1`, limit)
	return sts, total, err
}

func (s *Store) offerStates(ctx context.Context, query string, args ...any) ([]OfferState, error) {
	var out []OfferState
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("list offers: %w", err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return fmt.Errorf("list offers: %w", err)
		}
		out, err = loadOfferStates(ctx, tx, ids)
		return err
	})
	return out, err
}

// PendingApproval is one step waiting for a user's decision.
type PendingApproval struct {
	Step        OfferStep
	RequestID   int64
	AccountID   int64
	AccountName string
	RequestedBy string
	Offer       offers.Offer
	Impact      offers.Impact
}

// PendingApprovalsFor lists the steps waiting for user's decision (as an
// approver, or as the backup of an escalated step), oldest first. The App
// Home and /offers pending show them.
func (s *Store) PendingApprovalsFor(ctx context.Context, user string, limit int) ([]PendingApproval, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+stepColumnsST+`, r.id, r.account_id, a.name, r.requested_by, v.offer, v.impact
		FROM offer_steps st
		JOIN offer_requests r ON r.id = st.request_id AND r.version = st.version
		JOIN offer_versions v ON v.request_id = r.id AND v.version = r.version
		JOIN accounts a ON a.id = r.account_id
		WHERE st.status = 'pending' AND r.status = 'pending' AND r.requested_by <> $1
		  AND ($1 = ANY(st.approvers) OR (st.escalated_at IS NOT NULL AND st.backup = $1))
		ORDER BY st.activated_at, st.id LIMIT $2`, user, limit)
	if err != nil {
		return nil, fmt.Errorf("pending approvals: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (PendingApproval, error) {
		var p PendingApproval
		dest := append(stepDest(&p.Step), &p.RequestID, &p.AccountID, &p.AccountName, &p.RequestedBy, &p.Offer, &p.Impact)
		err := r.Scan(dest...)
		return p, err
	})
	return out, wrap("pending approvals", err)
}

// OfferStatRows returns every request submitted since `since`, in the
// shape offers.ComputeStats reads.
func (s *Store) OfferStatRows(ctx context.Context, since time.Time) ([]offers.StatRow, error) {
	rows, err := s.pool.Query(ctx, `SELECT r.id, v.offer, v.impact, r.status, coalesce(r.customer_answer, ''),
			coalesce(r.renewal_outcome, ''), r.created_at, r.decided_at
		FROM offer_requests r JOIN offer_versions v ON v.request_id = r.id AND v.version = r.version
		WHERE r.created_at >= $1 ORDER BY r.id`, since)
	if err != nil {
		return nil, fmt.Errorf("offer stats: %w", err)
	}
	type row struct {
		id  int64
		off offers.Offer
		im  offers.Impact
		sr  offers.StatRow
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		err := r.Scan(&x.id, &x.off, &x.im, &x.sr.Status, &x.sr.Answer, &x.sr.Outcome, &x.sr.SubmittedAt, &x.sr.DecidedAt)
		return x, err
	})
	if err != nil {
		return nil, fmt.Errorf("offer stats: %w", err)
	}
	steps, err := s.pool.Query(ctx, `SELECT st.request_id, st.name, st.decided_at - st.activated_at
		FROM offer_steps st JOIN offer_requests r ON r.id = st.request_id
		WHERE r.created_at >= $1 AND st.decided_at IS NOT NULL AND st.activated_at IS NOT NULL`, since)
	if err != nil {
		return nil, fmt.Errorf("offer step times: %w", err)
	}
	byReq := map[int64][]offers.StepTime{}
	var id int64
	var st offers.StepTime
	if _, err := pgx.ForEachRow(steps, []any{&id, &st.Name, &st.Took}, func() error {
		byReq[id] = append(byReq[id], st)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("offer step times: %w", err)
	}
	out := make([]offers.StatRow, len(list))
	for i, x := range list {
		x.sr.Type, x.sr.EquivalentPct, x.sr.Steps = x.off.Type, x.im.EquivalentPct, byReq[x.id]
		out[i] = x.sr
	}
	return out, nil
}

// OfferBrief gathers what approvers are told about an account as of now:
// health and its drivers, the 30-day trend, NPS, tickets, recent history
// and earlier offers (other than request `exclude`, the one being revised).
// a is the account as the caller just read it.
func (s *Store) OfferBrief(ctx context.Context, a Account, exclude int64, now time.Time) (offers.Brief, error) {
	accountID := a.ID
	b := offers.Brief{AccountName: a.Name, ExternalID: a.ExternalID, Tier: a.Tier, ARR: a.ARR, RenewalDate: a.RenewalDate,
		Owner: a.OwnerCSM, Score: a.HealthScore, Band: a.HealthBand}
	health, err := s.LatestHealth(ctx, accountID)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return b, err
	default:
		for _, c := range health.Drivers(3) {
			text := c.Detail
			if text == "" {
				text = c.Label
			}
			b.Drivers = append(b.Drivers, offers.Driver{Text: text, Points: c.Points})
		}
	}
	if a.HealthScore != nil {
		var old int
		err := s.pool.QueryRow(ctx, `SELECT score FROM health_snapshots WHERE account_id = $1 AND computed_at <= $2
			ORDER BY computed_at DESC, id DESC LIMIT 1`, accountID, now.AddDate(0, 0, -30)).Scan(&old)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return b, fmt.Errorf("score 30 days ago: %w", err)
		default:
			change := *a.HealthScore - old
			b.ScoreChange = &change
		}
	}
	var nps offers.NPS
	err = s.pool.QueryRow(ctx, `SELECT value, occurred_at FROM signals WHERE account_id = $1 AND kind = 'nps' AND value IS NOT NULL
		AND occurred_at <= $2 ORDER BY occurred_at DESC, id DESC LIMIT 1`, accountID, now).Scan(&nps.Score, &nps.At)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return b, fmt.Errorf("latest nps: %w", err)
	default:
		b.NPS = &nps
	}
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM signals WHERE account_id = $1 AND kind = 'ticket'
		AND occurred_at > $2 AND occurred_at <= $3`, accountID, now.AddDate(0, 0, -30), now).Scan(&b.Tickets30d); err != nil {
		return b, fmt.Errorf("recent tickets: %w", err)
	}
	entries, err := s.Timeline(ctx, accountID, 6)
	if err != nil {
		return b, err
	}
	for _, e := range entries {
		b.Timeline = append(b.Timeline, offers.Event{At: e.At, Kind: e.Kind, Summary: clipText(e.Summary, 300)})
	}
	rows, err := s.pool.Query(ctx, `SELECT r.id, r.created_at, v.offer, r.status, coalesce(r.customer_answer, ''),
			coalesce(r.renewal_outcome, '')
		FROM offer_requests r JOIN offer_versions v ON v.request_id = r.id AND v.version = r.version
		WHERE r.account_id = $1 AND r.id <> $2 ORDER BY r.created_at DESC, r.id DESC LIMIT 5`, accountID, exclude)
	if err != nil {
		return b, fmt.Errorf("previous offers: %w", err)
	}
	b.PreviousOffers, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (offers.PastOffer, error) {
		var p offers.PastOffer
		var o offers.Offer
		err := r.Scan(&p.ID, &p.At, &o, &p.Status, &p.Answer, &p.Outcome)
		p.Offer = o.Describe()
		return p, err
	})
	return b, wrap("previous offers", err)
}

// ---- helpers ----

const requestColumns = `id, account_id, requested_by, channel_id, status, version, stage, decided_at, coalesce(customer_answer, ''),
	answered_at, coalesce(answered_by, ''), coalesce(answer_note, ''), renewal_date, coalesce(renewal_outcome, ''),
	outcome_at, created_at, updated_at`

func scanRequest(row pgx.Row) (OfferRequest, error) {
	var r OfferRequest
	err := row.Scan(&r.ID, &r.AccountID, &r.RequestedBy, &r.ChannelID, &r.Status, &r.Version, &r.Stage, &r.DecidedAt, &r.CustomerAnswer,
		&r.AnsweredAt, &r.AnsweredBy, &r.AnswerNote, &r.RenewalDate, &r.RenewalOutcome, &r.OutcomeAt, &r.CreatedAt, &r.UpdatedAt)
	return r, err
}

const stepColumns = `id, request_id, version, stage, position, stage_name, name, approvers, group_id, backup, sla,
	escalate_after, status, activated_at, decided_at, coalesce(decided_by, ''), coalesce(guidance, ''), nudged_at,
	escalated_at, dm_users`

// stepColumnsST is stepColumns for a query that calls offer_steps "st".
const stepColumnsST = `st.id, st.request_id, st.version, st.stage, st.position, st.stage_name, st.name, st.approvers,
	st.group_id, st.backup, st.sla, st.escalate_after, st.status, st.activated_at, st.decided_at,
	coalesce(st.decided_by, ''), coalesce(st.guidance, ''), st.nudged_at, st.escalated_at, st.dm_users`

func stepDest(s *OfferStep) []any {
	return []any{&s.ID, &s.RequestID, &s.Version, &s.Stage, &s.Position, &s.StageName, &s.Name, &s.Approvers, &s.GroupID,
		&s.Backup, &s.SLA, &s.EscalateAfter, &s.Status, &s.ActivatedAt, &s.DecidedAt, &s.DecidedBy, &s.Guidance,
		&s.NudgedAt, &s.EscalatedAt, &s.DMUsers}
}

func scanStep(row pgx.Row) (OfferStep, error) {
	var s OfferStep
	err := row.Scan(stepDest(&s)...)
	return s, err
}

func lockRequest(ctx context.Context, tx DB, id int64) (OfferRequest, error) {
	r, err := scanRequest(tx.QueryRow(ctx, `SELECT `+requestColumns+` FROM offer_requests WHERE id = $1 FOR UPDATE`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, ErrNotFound
	}
	return r, wrap("lock offer request", err)
}

// lockStep locks the step's request (always the request first, so every
// writer takes locks in one order) and reads the step under that lock.
func lockStep(ctx context.Context, tx DB, stepID int64) (OfferRequest, OfferStep, error) {
	var reqID int64
	err := tx.QueryRow(ctx, `SELECT request_id FROM offer_steps WHERE id = $1`, stepID).Scan(&reqID)
	if errors.Is(err, pgx.ErrNoRows) {
		return OfferRequest{}, OfferStep{}, ErrNotFound
	}
	if err != nil {
		return OfferRequest{}, OfferStep{}, fmt.Errorf("find offer step: %w", err)
	}
	req, err := lockRequest(ctx, tx, reqID)
	if err != nil {
		return req, OfferStep{}, err
	}
	step, err := scanStep(tx.QueryRow(ctx, `SELECT `+stepColumns+` FROM offer_steps WHERE id = $1`, stepID))
	return req, step, wrap("read offer step", err)
}

func insertDecision(ctx context.Context, tx DB, d *OfferDecision) error {
	var step *int64
	if d.StepID != 0 {
		step = &d.StepID
	}
	err := tx.QueryRow(ctx, `INSERT INTO offer_decisions (request_id, version, step_id, actor, action, outcome, refusal,
			guidance, answer, at)
		VALUES ($1, $2, $3, $4, $5, $6, nullif($7, ''), nullif($8, ''), nullif($9, ''), $10) RETURNING id`,
		d.RequestID, d.Version, step, d.Actor, d.Action, d.Outcome, d.Refusal, d.Guidance, d.Answer, d.At).Scan(&d.ID)
	return wrap("record offer decision", err)
}

const versionColumns = `version, offer, impact, route, brief, summary, summary_source, submitted_by, submitted_at`

func versionDest(v *OfferVersion) []any {
	return []any{&v.Version, &v.Offer, &v.Impact, &v.Route, &v.Brief, &v.Summary, &v.SummarySource, &v.SubmittedBy, &v.SubmittedAt}
}

func loadVersion(ctx context.Context, tx DB, requestID int64, version int) (OfferVersion, error) {
	var v OfferVersion
	err := tx.QueryRow(ctx, `SELECT `+versionColumns+` FROM offer_versions WHERE request_id = $1 AND version = $2`,
		requestID, version).Scan(versionDest(&v)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return v, ErrNotFound
	}
	return v, wrap("offer version", err)
}

// decisionColumns reads offer_decisions d (with its step st) into OfferDecision, by position.
const decisionColumns = `d.id, d.request_id, d.version, coalesce(d.step_id, 0), coalesce(st.name, ''), d.actor,
	d.action, d.outcome, coalesce(d.refusal, ''), coalesce(d.guidance, ''), coalesce(d.answer, ''), d.at`

func loadOfferState(ctx context.Context, tx DB, id int64) (OfferState, error) {
	sts, err := loadOfferStates(ctx, tx, []int64{id})
	if err != nil {
		return OfferState{}, err
	}
	return sts[0], nil
}

// loadOfferStates reads requests as they stand, in the order of ids, with
// one query per table however many requests there are (lists show up to
// 15). ErrNotFound when any of them does not exist.
func loadOfferStates(ctx context.Context, tx DB, ids []int64) ([]OfferState, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := tx.Query(ctx, `SELECT `+requestColumns+` FROM offer_requests WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("offer requests: %w", err)
	}
	reqs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (OfferRequest, error) { return scanRequest(r) })
	if err != nil {
		return nil, fmt.Errorf("offer requests: %w", err)
	}
	byID := make(map[int64]*OfferState, len(reqs))
	accountIDs := make([]int64, 0, len(reqs))
	for _, r := range reqs {
		byID[r.ID] = &OfferState{Request: r}
		accountIDs = append(accountIDs, r.AccountID)
	}
	for _, id := range ids {
		if byID[id] == nil {
			return nil, ErrNotFound
		}
	}

	rows, err = tx.Query(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = ANY($1)`, accountIDs)
	if err != nil {
		return nil, fmt.Errorf("offer accounts: %w", err)
	}
	accts, err := collectAccounts(rows)
	if err != nil {
		return nil, fmt.Errorf("offer accounts: %w", err)
	}
	byAccount := make(map[int64]Account, len(accts))
	for _, a := range accts {
		byAccount[a.ID] = a
	}
	for _, st := range byID {
		st.Account = byAccount[st.Request.AccountID]
	}

	// The current version and the one before it (a revision shows what changed).
	rows, err = tx.Query(ctx, `SELECT request_id, `+versionColumns+` FROM offer_versions v
		WHERE request_id = ANY($1) AND version >= (SELECT r.version - 1 FROM offer_requests r WHERE r.id = v.request_id)`, ids)
	if err != nil {
		return nil, fmt.Errorf("offer versions: %w", err)
	}
	var reqID int64
	var v OfferVersion
	if _, err := pgx.ForEachRow(rows, append([]any{&reqID}, versionDest(&v)...), func() error {
		st := byID[reqID]
		if v.Version == st.Request.Version {
			st.Version = v
		} else {
			prev := v
			st.Previous = &prev
		}
		// Fresh for the next row: decoding into v would reuse the slices
		// and pointers the stored copy still holds.
		v = OfferVersion{}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("offer versions: %w", err)
	}

	rows, err = tx.Query(ctx, `SELECT `+stepColumnsST+` FROM offer_steps st
		JOIN offer_requests r ON r.id = st.request_id AND r.version = st.version
		WHERE r.id = ANY($1) ORDER BY st.request_id, st.stage, st.position`, ids)
	if err != nil {
		return nil, fmt.Errorf("offer steps: %w", err)
	}
	var step OfferStep
	if _, err := pgx.ForEachRow(rows, stepDest(&step), func() error {
		st := byID[step.RequestID]
		st.Steps = append(st.Steps, step)
		step = OfferStep{} // as v above
		return nil
	}); err != nil {
		return nil, fmt.Errorf("offer steps: %w", err)
	}

	rows, err = tx.Query(ctx, `SELECT `+decisionColumns+`
		FROM offer_decisions d LEFT JOIN offer_steps st ON st.id = d.step_id
		WHERE d.request_id = ANY($1) AND d.outcome = 'recorded' ORDER BY d.at, d.id`, ids)
	if err != nil {
		return nil, fmt.Errorf("offer decisions: %w", err)
	}
	trail, err := pgx.CollectRows(rows, pgx.RowToStructByPos[OfferDecision])
	if err != nil {
		return nil, fmt.Errorf("offer decisions: %w", err)
	}
	for _, d := range trail {
		st := byID[d.RequestID]
		st.Trail = append(st.Trail, d)
	}

	out := make([]OfferState, len(ids))
	for i, id := range ids {
		out[i] = *byID[id]
	}
	return out, nil
}

// OfferDecisions is the whole decision log of a request, refusals included.
func (s *Store) OfferDecisions(ctx context.Context, requestID int64) ([]OfferDecision, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+decisionColumns+`
		FROM offer_decisions d LEFT JOIN offer_steps st ON st.id = d.step_id
		WHERE d.request_id = $1 ORDER BY d.at, d.id`, requestID)
	if err != nil {
		return nil, fmt.Errorf("offer decisions: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[OfferDecision])
	return out, wrap("offer decisions", err)
}

func emit(ctx context.Context, tx DB, render OfferRenderer, st OfferState, ev OfferEvent) error {
	if render == nil {
		return nil
	}
	items, err := render(st, ev)
	if err != nil {
		return fmt.Errorf("render offer %s: %w", ev.Kind, err)
	}
	for _, it := range items {
		if err := enqueue(ctx, tx, it); err != nil {
			return err
		}
	}
	return nil
}

func offerTimeline(ctx context.Context, tx DB, accountID, requestID int64, at time.Time, kind, actor, summary string) error {
	return addTimeline(ctx, tx, accountID, TimelineEntry{At: at, Kind: kind, Summary: summary, Actor: actor}, requestID)
}

// withDMs keeps the steps whose approvers got a DM (only those have
// messages to update).
func withDMs(steps []OfferStep) []OfferStep {
	var out []OfferStep
	for _, s := range steps {
		if len(s.DMUsers) > 0 {
			out = append(out, s)
		}
	}
	return out
}

func stepNames(steps []OfferStep) string {
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
