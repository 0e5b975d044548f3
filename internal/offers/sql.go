package offers

// Every statement on the offer tables (offer_requests, offer_versions,
// offer_steps, offer_decisions) and the reads behind an approver's brief.
// Writers take the store.Tx their service opened; readers take a store.DB.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/holdfast/holdfast/store"
)

// wrap adds what failed to err, nil staying nil.
func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

const requestColumns = `id, account_id, requested_by, channel_id, status, version, stage, decided_at, coalesce(customer_answer, ''),
	answered_at, coalesce(answered_by, ''), coalesce(answer_note, ''), renewal_date, coalesce(renewal_outcome, ''),
	outcome_at, created_at, updated_at`

func scanRequest(row pgx.Row) (Request, error) {
	var r Request
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

func stepDest(s *ApprovalStep) []any {
	return []any{&s.ID, &s.RequestID, &s.Version, &s.Stage, &s.Position, &s.StageName, &s.Name, &s.Approvers, &s.GroupID,
		&s.Backup, &s.SLA, &s.EscalateAfter, &s.Status, &s.ActivatedAt, &s.DecidedAt, &s.DecidedBy, &s.Guidance,
		&s.NudgedAt, &s.EscalatedAt, &s.DMUsers}
}

func scanStep(row pgx.Row) (ApprovalStep, error) {
	var s ApprovalStep
	err := row.Scan(stepDest(&s)...)
	return s, err
}

func collectSteps(rows pgx.Rows) ([]ApprovalStep, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ApprovalStep, error) { return scanStep(r) })
}

const versionColumns = `version, offer, impact, route, brief, summary, summary_source, submitted_by, submitted_at`

func versionDest(v *Version) []any {
	return []any{&v.Version, &v.Offer, &v.Impact, &v.Route, &v.Brief, &v.Summary, &v.SummarySource, &v.SubmittedBy, &v.SubmittedAt}
}

// decisionColumns reads offer_decisions d (with its step st) into Decision, by position.
const decisionColumns = `d.id, d.request_id, d.version, coalesce(d.step_id, 0), coalesce(st.name, ''), d.actor,
	d.action, d.outcome, coalesce(d.refusal, ''), coalesce(d.guidance, ''), coalesce(d.answer, ''), d.at`

// ---- requests ----

// openRequest returns the account's request under review or sent back for
// revision, ok false when there is none.
func openRequest(ctx context.Context, db store.DB, accountID int64) (Request, bool, error) {
	r, err := scanRequest(db.QueryRow(ctx, `SELECT `+requestColumns+` FROM offer_requests
		WHERE account_id = $1 AND status IN ('pending', 'revision_requested') ORDER BY created_at DESC, id DESC LIMIT 1`, accountID))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, false, nil
	}
	return r, err == nil, wrap("open offer", err)
}

func insertRequest(ctx context.Context, tx store.Tx, in Submission) (int64, error) {
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO offer_requests (account_id, requested_by, channel_id, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $4) RETURNING id`, in.AccountID, in.Actor, in.ChannelID, in.At).Scan(&id); err != nil {
		return 0, fmt.Errorf("insert offer request: %w", err)
	}
	return id, nil
}

func lockRequest(ctx context.Context, tx store.Tx, id int64) (Request, error) {
	r, err := scanRequest(tx.QueryRow(ctx, `SELECT `+requestColumns+` FROM offer_requests WHERE id = $1 FOR UPDATE`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, store.ErrNotFound
	}
	return r, wrap("lock offer request", err)
}

// restartRequest makes version n current and waiting for its first stage.
func restartRequest(ctx context.Context, tx store.Tx, id int64, n int, at time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE offer_requests SET version = $2, stage = 0, status = 'pending', decided_at = NULL,
				customer_answer = NULL, answered_at = NULL, answered_by = NULL, answer_note = NULL, updated_at = $3
			WHERE id = $1`, id, n, at)
	return wrap("revise offer request", err)
}

func advanceRequest(ctx context.Context, tx store.Tx, id int64, stage int, at time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE offer_requests SET stage = $2, updated_at = $3 WHERE id = $1`, id, stage, at)
	return wrap("advance offer stage", err)
}

func approveRequest(ctx context.Context, tx store.Tx, id int64, at time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE offer_requests SET status = 'approved', decided_at = $2, updated_at = $2 WHERE id = $1`,
		id, at)
	return wrap("approve offer", err)
}

// closeRequest rejects a request or sends it back; only a rejection is a
// final decision.
func closeRequest(ctx context.Context, tx store.Tx, id int64, status string, at time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE offer_requests SET status = $2, decided_at = CASE WHEN $2 = 'rejected' THEN $3::timestamptz END,
					updated_at = $3 WHERE id = $1`, id, status, at)
	return wrap("close offer", err)
}

func recordAnswer(ctx context.Context, tx store.Tx, id int64, answer string, at time.Time, actor, note string, renewal *time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE offer_requests SET customer_answer = $2, answered_at = $3, answered_by = $4,
				answer_note = nullif($5, ''), renewal_date = $6, updated_at = $3 WHERE id = $1`,
		id, answer, at, actor, note, renewal)
	return wrap("answer offer", err)
}

func recordOutcome(ctx context.Context, tx store.Tx, id int64, outcome string, at time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE offer_requests SET renewal_outcome = $2, outcome_at = $3, updated_at = $3 WHERE id = $1`,
		id, outcome, at)
	return wrap("record offer outcome", err)
}

// dueOutcomes lists accepted offers whose renewal may be decided as of now.
func dueOutcomes(ctx context.Context, db store.DB, now time.Time) ([]int64, error) {
	rows, err := db.Query(ctx, `SELECT r.id FROM offer_requests r JOIN accounts a ON a.id = r.account_id
		WHERE r.customer_answer = 'accepted' AND r.renewal_outcome IS NULL
		  AND (a.status = 'churned' OR r.renewal_date < $1::date)
		ORDER BY r.id LIMIT 1000`, now)
	if err != nil {
		return nil, fmt.Errorf("offers to resolve: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	return ids, wrap("offers to resolve", err)
}

// ---- versions and steps ----

// insertVersion stores version n of the request with its steps (newSteps)
// and returns the steps that start waiting for decisions at once.
func insertVersion(ctx context.Context, tx store.Tx, requestID int64, n int, in Submission) ([]ApprovalStep, error) {
	if _, err := tx.Exec(ctx, `INSERT INTO offer_versions (request_id, version, offer, impact, route, brief, tier, arr,
			summary, summary_source, submitted_by, submitted_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'template', $10, $11)`,
		requestID, n, in.Offer, in.Impact, in.Route, in.Brief, in.Brief.Tier, in.Brief.ARR, in.Summary, in.Actor, in.At); err != nil {
		return nil, fmt.Errorf("insert offer version: %w", err)
	}
	var activated []ApprovalStep
	for _, s := range newSteps(in, requestID, n) {
		row := tx.QueryRow(ctx, `INSERT INTO offer_steps (request_id, version, stage, position, stage_name, name,
					approvers, group_id, backup, sla, escalate_after, status, activated_at, dm_users)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
				RETURNING `+stepColumns, s.RequestID, s.Version, s.Stage, s.Position, s.StageName, s.Name, s.Approvers, s.GroupID,
			s.Backup, s.SLA, s.EscalateAfter, s.Status, s.ActivatedAt, s.DMUsers)
		stored, err := scanStep(row)
		if err != nil {
			return nil, fmt.Errorf("insert offer step: %w", err)
		}
		if stored.Status == StepPending {
			activated = append(activated, stored)
		}
	}
	return activated, nil
}

// endSteps takes the open steps of a version out of play: superseded by
// a new version, or closed with the request (StepSuperseded, StepClosed).
func endSteps(ctx context.Context, tx store.Tx, requestID int64, version int, status string) ([]ApprovalStep, error) {
	rows, err := tx.Query(ctx, `UPDATE offer_steps SET status = '`+status+`'
			WHERE request_id = $1 AND version = $2 AND status IN ('waiting', 'pending') RETURNING `+stepColumns, requestID, version)
	if err != nil {
		return nil, fmt.Errorf("end offer steps (%s): %w", status, err)
	}
	steps, err := collectSteps(rows)
	return steps, wrap("end offer steps ("+status+")", err)
}

// lockStep locks the step's request (always the request first, so every
// writer takes locks in one order) and reads the step under that lock.
func lockStep(ctx context.Context, tx store.Tx, stepID int64) (Request, ApprovalStep, error) {
	var reqID int64
	err := tx.QueryRow(ctx, `SELECT request_id FROM offer_steps WHERE id = $1`, stepID).Scan(&reqID)
	if errors.Is(err, pgx.ErrNoRows) {
		return Request{}, ApprovalStep{}, store.ErrNotFound
	}
	if err != nil {
		return Request{}, ApprovalStep{}, fmt.Errorf("find offer step: %w", err)
	}
	req, err := lockRequest(ctx, tx, reqID)
	if err != nil {
		return req, ApprovalStep{}, err
	}
	step, err := scanStep(tx.QueryRow(ctx, `SELECT `+stepColumns+` FROM offer_steps WHERE id = $1`, stepID))
	return req, step, wrap("read offer step", err)
}

// recordStepDecision sets a pending step's decision; the caller holds the
// request's lock, so the step must still be pending.
func recordStepDecision(ctx context.Context, tx store.Tx, stepID int64, status string, d StepDecision) error {
	tag, err := tx.Exec(ctx, `UPDATE offer_steps SET status = $2, decided_at = $3, decided_by = $4, guidance = nullif($5, '')
			WHERE id = $1 AND status = 'pending'`, stepID, status, d.At, d.Actor, d.Guidance)
	if err != nil {
		return fmt.Errorf("decide offer step: %w", err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("decide offer step %d: not pending under lock", stepID)
	}
	return nil
}

// undecidedInStage counts the steps of a stage not approved yet.
func undecidedInStage(ctx context.Context, tx store.Tx, requestID int64, version, stage int) (int, error) {
	var open int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM offer_steps WHERE request_id = $1 AND version = $2 AND stage = $3
				AND status <> 'approved'`, requestID, version, stage).Scan(&open); err != nil {
		return 0, fmt.Errorf("count open offer steps: %w", err)
	}
	return open, nil
}

// startStage makes a stage's steps wait for decisions (their approvers
// get DMs) and returns them; none when the version has no such stage.
func startStage(ctx context.Context, tx store.Tx, requestID int64, version, stage int, at time.Time) ([]ApprovalStep, error) {
	rows, err := tx.Query(ctx, `UPDATE offer_steps SET status = 'pending', activated_at = $4, dm_users = approvers
				WHERE request_id = $1 AND version = $2 AND stage = $3 AND status = 'waiting' RETURNING `+stepColumns,
		requestID, version, stage, at)
	if err != nil {
		return nil, fmt.Errorf("start next offer stage: %w", err)
	}
	steps, err := collectSteps(rows)
	return steps, wrap("start next offer stage", err)
}

// escalateStep brings the backup in: it may decide from now on and gets
// a DM; an escalated step counts as nudged.
func escalateStep(ctx context.Context, tx store.Tx, stepID int64, backup string, at time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE offer_steps SET escalated_at = $2, nudged_at = coalesce(nudged_at, $2),
						dm_users = CASE WHEN $3 = ANY(dm_users) THEN dm_users ELSE array_append(dm_users, $3) END
					WHERE id = $1`, stepID, at, backup)
	return wrap("escalate offer step", err)
}

func nudgeStep(ctx context.Context, tx store.Tx, stepID int64, at time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE offer_steps SET nudged_at = $2 WHERE id = $1`, stepID, at)
	return wrap("nudge offer step", err)
}

// dueSteps lists the steps that may be due for a reminder or their backup
// as of now (slaDue decides under the request's lock).
func dueSteps(ctx context.Context, db store.DB, now time.Time) ([]int64, error) {
	rows, err := db.Query(ctx, `SELECT st.id FROM offer_steps st JOIN offer_requests r ON r.id = st.request_id
		WHERE st.status = 'pending' AND r.status = 'pending' AND st.version = r.version
		  AND ((st.nudged_at IS NULL AND st.activated_at + st.sla <= $1)
		    OR (st.escalated_at IS NULL AND st.backup <> '' AND st.activated_at + st.escalate_after <= $1))
		ORDER BY st.activated_at, st.id LIMIT 500`, now)
	if err != nil {
		return nil, fmt.Errorf("due offer steps: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	return ids, wrap("due offer steps", err)
}

// replaceSummary swaps a version's template summary for the model's;
// false when the summary already came from the model.
func replaceSummary(ctx context.Context, tx store.Tx, requestID int64, version int, summary string) (bool, error) {
	tag, err := tx.Exec(ctx, `UPDATE offer_versions SET summary = $3, summary_source = 'llm'
			WHERE request_id = $1 AND version = $2 AND summary_source = 'template'`, requestID, version, summary)
	if err != nil {
		return false, fmt.Errorf("set offer summary: %w", err)
	}
	return tag.RowsAffected() > 0, nil
}

func loadVersion(ctx context.Context, db store.DB, requestID int64, version int) (Version, error) {
	var v Version
	err := db.QueryRow(ctx, `SELECT `+versionColumns+` FROM offer_versions WHERE request_id = $1 AND version = $2`,
		requestID, version).Scan(versionDest(&v)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return v, store.ErrNotFound
	}
	return v, wrap("offer version", err)
}

// ---- decisions ----

func insertDecision(ctx context.Context, tx store.Tx, d *Decision) error {
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

// decisions is the whole decision log of a request, refusals included.
func decisions(ctx context.Context, db store.DB, requestID int64) ([]Decision, error) {
	rows, err := db.Query(ctx, `SELECT `+decisionColumns+`
		FROM offer_decisions d LEFT JOIN offer_steps st ON st.id = d.step_id
		WHERE d.request_id = $1 ORDER BY d.at, d.id`, requestID)
	if err != nil {
		return nil, fmt.Errorf("offer decisions: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Decision])
	return out, wrap("offer decisions", err)
}

// ---- whole requests ----

func loadState(ctx context.Context, tx store.Tx, id int64) (State, error) {
	sts, err := loadStates(ctx, tx, []int64{id})
	if err != nil {
		return State{}, err
	}
	return sts[0], nil
}

// loadStates reads requests as they stand, in the order of ids, with one
// query per table however many requests there are (lists show up to 15).
// store.ErrNotFound when any of them does not exist.
func loadStates(ctx context.Context, tx store.Tx, ids []int64) ([]State, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := tx.Query(ctx, `SELECT `+requestColumns+` FROM offer_requests WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("offer requests: %w", err)
	}
	reqs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Request, error) { return scanRequest(r) })
	if err != nil {
		return nil, fmt.Errorf("offer requests: %w", err)
	}
	byID := make(map[int64]*State, len(reqs))
	accountIDs := make([]int64, 0, len(reqs))
	for _, r := range reqs {
		byID[r.ID] = &State{Request: r}
		accountIDs = append(accountIDs, r.AccountID)
	}
	for _, id := range ids {
		if byID[id] == nil {
			return nil, store.ErrNotFound
		}
	}

	accts, err := tx.Accounts(ctx, accountIDs)
	if err != nil {
		return nil, fmt.Errorf("offer accounts: %w", err)
	}
	byAccount := make(map[int64]store.Account, len(accts))
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
	var v Version
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
		v = Version{}
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
	var step ApprovalStep
	if _, err := pgx.ForEachRow(rows, stepDest(&step), func() error {
		st := byID[step.RequestID]
		st.Steps = append(st.Steps, step)
		step = ApprovalStep{} // as v above
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
	trail, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Decision])
	if err != nil {
		return nil, fmt.Errorf("offer decisions: %w", err)
	}
	for _, d := range trail {
		st := byID[d.RequestID]
		st.Trail = append(st.Trail, d)
	}

	out := make([]State, len(ids))
	for i, id := range ids {
		out[i] = *byID[id]
	}
	return out, nil
}

// listStates loads the requests query selects (by id, in its order).
func listStates(ctx context.Context, tx store.Tx, query string, args ...any) ([]State, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list offers: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("list offers: %w", err)
	}
	return loadStates(ctx, tx, ids)
}

const (
	accountRequests = `SELECT id FROM offer_requests WHERE account_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`
	openRequests    = `SELECT id FROM offer_requests WHERE status IN ('pending', 'revision_requested')
		ORDER BY created_at, id LIMIT $1`
)

func countOpen(ctx context.Context, db store.DB) (int, error) {
	var total int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM offer_requests WHERE status IN ('pending', 'revision_requested')`).
		Scan(&total); err != nil {
		return 0, fmt.Errorf("count open offers: %w", err)
	}
	return total, nil
}

// pendingFor lists the steps waiting for user's decision (as an approver,
// or as the backup of an escalated step), oldest first.
func pendingFor(ctx context.Context, db store.DB, user string, limit int) ([]PendingApproval, error) {
	rows, err := db.Query(ctx, `SELECT `+stepColumnsST+`, r.id, r.account_id, a.name, r.requested_by, v.offer, v.impact
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

// statRows returns every request submitted since `since`, in the shape
// ComputeStats reads.
func statRows(ctx context.Context, db store.DB, since time.Time) ([]StatRow, error) {
	rows, err := db.Query(ctx, `SELECT r.id, v.offer, v.impact, r.status, coalesce(r.customer_answer, ''),
			coalesce(r.renewal_outcome, ''), r.created_at, r.decided_at
		FROM offer_requests r JOIN offer_versions v ON v.request_id = r.id AND v.version = r.version
		WHERE r.created_at >= $1 ORDER BY r.id`, since)
	if err != nil {
		return nil, fmt.Errorf("offer stats: %w", err)
	}
	type row struct {
		id  int64
		off Offer
		im  Impact
		sr  StatRow
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		err := r.Scan(&x.id, &x.off, &x.im, &x.sr.Status, &x.sr.Answer, &x.sr.Outcome, &x.sr.SubmittedAt, &x.sr.DecidedAt)
		return x, err
	})
	if err != nil {
		return nil, fmt.Errorf("offer stats: %w", err)
	}
	steps, err := db.Query(ctx, `SELECT st.request_id, st.name, st.decided_at - st.activated_at
		FROM offer_steps st JOIN offer_requests r ON r.id = st.request_id
		WHERE r.created_at >= $1 AND st.decided_at IS NOT NULL AND st.activated_at IS NOT NULL`, since)
	if err != nil {
		return nil, fmt.Errorf("offer step times: %w", err)
	}
	byReq := map[int64][]StepTime{}
	var id int64
	var st StepTime
	if _, err := pgx.ForEachRow(steps, []any{&id, &st.Name, &st.Took}, func() error {
		byReq[id] = append(byReq[id], st)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("offer step times: %w", err)
	}
	out := make([]StatRow, len(list))
	for i, x := range list {
		x.sr.Type, x.sr.EquivalentPct, x.sr.Steps = x.off.Type, x.im.EquivalentPct, byReq[x.id]
		out[i] = x.sr
	}
	return out, nil
}

// ---- the approvers' brief ----

// loadBrief gathers what approvers are told about an account as of now:
// health and its drivers, the 30-day trend, NPS, tickets, recent history
// and earlier offers (other than request `exclude`, the one being revised).
// a is the account as the caller just read it.
func loadBrief(ctx context.Context, st *store.Store, a store.Account, exclude int64, now time.Time) (Brief, error) {
	db := st.DB()
	accountID := a.ID
	b := Brief{AccountName: a.Name, ExternalID: a.ExternalID, Tier: a.Tier, ARR: a.ARR, RenewalDate: a.RenewalDate,
		Owner: a.OwnerCSM, Score: a.HealthScore, Band: a.HealthBand}
	health, err := st.LatestHealth(ctx, accountID)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return b, err
	default:
		for _, c := range health.Drivers(3) {
			text := c.Detail
			if text == "" {
				text = c.Label
			}
			b.Drivers = append(b.Drivers, Driver{Text: text, Points: c.Points})
		}
	}
	if a.HealthScore != nil {
		var old int
		err := db.QueryRow(ctx, `SELECT score FROM health_snapshots WHERE account_id = $1 AND computed_at <= $2
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
	var nps NPS
	err = db.QueryRow(ctx, `SELECT value, occurred_at FROM signals WHERE account_id = $1 AND kind = 'nps' AND value IS NOT NULL
		AND occurred_at <= $2 ORDER BY occurred_at DESC, id DESC LIMIT 1`, accountID, now).Scan(&nps.Score, &nps.At)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return b, fmt.Errorf("latest nps: %w", err)
	default:
		b.NPS = &nps
	}
	if err := db.QueryRow(ctx, `SELECT count(*) FROM signals WHERE account_id = $1 AND kind = 'ticket'
		AND occurred_at > $2 AND occurred_at <= $3`, accountID, now.AddDate(0, 0, -30), now).Scan(&b.Tickets30d); err != nil {
		return b, fmt.Errorf("recent tickets: %w", err)
	}
	entries, err := st.Timeline(ctx, accountID, 6)
	if err != nil {
		return b, err
	}
	for _, e := range entries {
		b.Timeline = append(b.Timeline, TimelineEvent{At: e.At, Kind: e.Kind, Summary: clipText(e.Summary, 300)})
	}
	rows, err := db.Query(ctx, `SELECT r.id, r.created_at, v.offer, r.status, coalesce(r.customer_answer, ''),
			coalesce(r.renewal_outcome, '')
		FROM offer_requests r JOIN offer_versions v ON v.request_id = r.id AND v.version = r.version
		WHERE r.account_id = $1 AND r.id <> $2 ORDER BY r.created_at DESC, r.id DESC LIMIT 5`, accountID, exclude)
	if err != nil {
		return b, fmt.Errorf("previous offers: %w", err)
	}
	b.PreviousOffers, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (PastOffer, error) {
		var p PastOffer
		var o Offer
		err := r.Scan(&p.ID, &p.At, &o, &p.Status, &p.Answer, &p.Outcome)
		p.Offer = o.Describe()
		return p, err
	})
	return b, wrap("previous offers", err)
}
