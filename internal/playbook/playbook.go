package playbook

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/holdfast/holdfast/store"
)

// States of a playbook.
const (
	StateOpen      = "open"
	StateRecovered = "recovered"
	StateChurned   = "churned"
	StateDismissed = "dismissed"
)

// Playbook is one episode of risk of one account, from the alert that
// opened it to its resolution.
type Playbook struct {
	ID, AccountID, AlertID int64
	PreviousID             *int64
	ChannelID, ThreadKey   string
	Critical               bool
	OwnerCSM, Segment      string
	ARR                    float64
	ScoreAtOpen            int
	BandAtOpen             string
	OpenedAt, SLAFrom      time.Time
	NudgeAt, ClaimDueAt    time.Time
	NudgedAt, EscalatedAt  *time.Time
	ClaimedBy              string
	ClaimedAt, ContactedAt *time.Time
	NextCheckinAt          *time.Time
	CheckinScore           *int
	State                  string
	ResolvedAt             *time.Time
	ResolvedBy             string
	ScoreAtResolution      *int
	RecoveredFrom          *time.Time
	ResolutionNote         string
}

// Open says whether the playbook still runs.
func (p Playbook) Open() bool { return p.State == StateOpen }

// Owner is who answers for the playbook: its claimant, else the account's
// CSM when it opened.
func (p Playbook) Owner() string {
	if p.ClaimedBy != "" {
		return p.ClaimedBy
	}
	return p.OwnerCSM
}

// CardRef names the playbook's steps card in the outbox.
func (p Playbook) CardRef() string { return fmt.Sprintf("playbook:%d", p.ID) }

const playbookColumns = `id, account_id, alert_id, previous_id, channel_id, thread_key, critical, owner_csm, segment,
	arr::float8, score_at_open, band_at_open, opened_at, sla_from, nudge_at, claim_due_at, nudged_at, escalated_at,
	coalesce(claimed_by, ''), claimed_at, contacted_at, next_checkin_at, checkin_score, state, resolved_at, resolved_by,
	score_at_resolution, recovered_from, resolution_note`

func scanPlaybook(row pgx.Row) (Playbook, error) {
	var p Playbook
	err := row.Scan(&p.ID, &p.AccountID, &p.AlertID, &p.PreviousID, &p.ChannelID, &p.ThreadKey, &p.Critical, &p.OwnerCSM,
		&p.Segment, &p.ARR, &p.ScoreAtOpen, &p.BandAtOpen, &p.OpenedAt, &p.SLAFrom, &p.NudgeAt, &p.ClaimDueAt, &p.NudgedAt,
		&p.EscalatedAt, &p.ClaimedBy, &p.ClaimedAt, &p.ContactedAt, &p.NextCheckinAt, &p.CheckinScore, &p.State,
		&p.ResolvedAt, &p.ResolvedBy, &p.ScoreAtResolution, &p.RecoveredFrom, &p.ResolutionNote)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, store.ErrNotFound
	}
	return p, err
}

// readPlaybook loads one playbook.
func readPlaybook(ctx context.Context, db store.DB, id int64) (Playbook, error) {
	p, err := scanPlaybook(db.QueryRow(ctx, `SELECT `+playbookColumns+` FROM playbooks WHERE id = $1`, id))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return p, fmt.Errorf("read playbook %d: %w", id, err)
	}
	return p, err
}

// lockPlaybook loads one playbook for update in tx: changes to one
// playbook (clicks, the watcher on two replicas) take turns.
func lockPlaybook(ctx context.Context, tx store.Tx, id int64) (Playbook, error) {
	p, err := scanPlaybook(tx.QueryRow(ctx, `SELECT `+playbookColumns+` FROM playbooks WHERE id = $1 FOR UPDATE`, id))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return p, fmt.Errorf("lock playbook %d: %w", id, err)
	}
	return p, err
}

// openPlaybookOf is the account's open playbook (store.ErrNotFound: none).
func openPlaybookOf(ctx context.Context, db store.DB, accountID int64) (Playbook, error) {
	p, err := scanPlaybook(db.QueryRow(ctx, `SELECT `+playbookColumns+` FROM playbooks
		WHERE account_id = $1 AND state = 'open'`, accountID))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return p, fmt.Errorf("open playbook of account %d: %w", accountID, err)
	}
	return p, err
}

// lastPlaybookOf is the account's latest playbook (store.ErrNotFound: none).
func lastPlaybookOf(ctx context.Context, db store.DB, accountID int64) (Playbook, error) {
	p, err := scanPlaybook(db.QueryRow(ctx, `SELECT `+playbookColumns+` FROM playbooks
		WHERE account_id = $1 ORDER BY id DESC LIMIT 1`, accountID))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return p, fmt.Errorf("last playbook of account %d: %w", accountID, err)
	}
	return p, err
}

// StepRecord is one recorded step.
type StepRecord struct {
	ID         int64
	Step       string
	RecordedBy string
	RecordedAt time.Time
	Details    StepDetails
}

// StepDetails are a step form's fields.
type StepDetails struct {
	RootCause string       `json:"root_cause,omitempty"` // churn taxonomy key (discovery)
	Notes     string       `json:"notes,omitempty"`
	Actions   []PlanAction `json:"actions,omitempty"`   // plan
	Resources []string     `json:"resources,omitempty"` // plan: exec_sponsor, support_engineer, discount
	Score     *int         `json:"score,omitempty"`     // health when recorded
}

// PlanAction is one action of a plan: what, who, by when.
type PlanAction struct {
	What  string    `json:"what"`
	Owner string    `json:"owner"` // Slack user id
	Due   time.Time `json:"due"`
}

// stepsOf lists a playbook's recorded steps, oldest first.
func stepsOf(ctx context.Context, db store.DB, playbookID int64) ([]StepRecord, error) {
	rows, err := db.Query(ctx, `SELECT id, step, recorded_by, recorded_at, details FROM playbook_steps
		WHERE playbook_id = $1 ORDER BY recorded_at, id`, playbookID)
	if err != nil {
		return nil, fmt.Errorf("playbook steps: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (StepRecord, error) {
		var s StepRecord
		err := r.Scan(&s.ID, &s.Step, &s.RecordedBy, &s.RecordedAt, &s.Details)
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("playbook steps: %w", err)
	}
	return out, nil
}
