package playbook

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/handlers"
	"github.com/holdfast/holdfast/internal/churn"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/store"
	"github.com/jackc/pgx/v5"
)

// Refusals a person is told about.
var (
	ErrNotAllowed = errors.New("only the playbook's owner, their manager or leadership can record its steps")
	ErrClosed     = errors.New("this playbook is closed")
	ErrUnclaimed  = errors.New("claim the alert first: the playbook starts with its owner")
	errNotInBook  = errors.New("account not in the claimant's book")
)

// AlreadyRecordedError: a one-click step was recorded before.
type AlreadyRecordedError struct {
	By string
	At time.Time
}

func (e *AlreadyRecordedError) Error() string { return "step already recorded" }

// InputError is a form field the person has to correct.
type InputError struct{ Block, Message string }

func (e *InputError) Error() string { return e.Message }

// mayRecord says whether user may record st in p: the owner (claimant or
// the account's CSM), their manager, or leadership, as st.Who allows.
func (m *Module) mayRecord(ctx context.Context, user string, p Playbook, a store.Account, who []string) bool {
	if user == "" {
		return false
	}
	person := m.roles.Current(ctx, user)
	for _, w := range who {
		switch w {
		case WhoOwner:
			if user == p.ClaimedBy || user == a.OwnerCSM {
				return true
			}
		case WhoManager:
			if person.Manages(p.ClaimedBy) || person.Manages(a.OwnerCSM) {
				return true
			}
		case WhoLeadership:
			if person.IsLeadership() {
				return true
			}
		}
	}
	return false
}

// Claim records who owns the follow-up of a churn-risk alert (the first
// claim wins) and, for the alert's open playbook, starts it: the owner,
// the claim's time against the SLA, the steps card in the thread.
func (m *Module) Claim(ctx context.Context, alertID int64, user string) (store.ClaimResult, error) {
	now := m.now()
	var res store.ClaimResult
	var claimed *Playbook
	err := m.store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if res, err = tx.ClaimAlert(ctx, alertID, user, now); err != nil || !res.Claimed {
			return err
		}
		a, err := tx.Account(ctx, res.Alert.AccountID)
		if err != nil {
			return err
		}
		// Only someone whose book holds the account takes its follow-up.
		if !handlers.MayRead(ctx, a) {
			return errNotInBook
		}
		if err := handlers.Audit(ctx, tx, user, "alert.claim", a.ID, "alert "+strconv.FormatInt(alertID, 10)); err != nil {
			return err
		}
		card, err := ingest.ClaimedCard(res.Alert.View, user)
		if err != nil {
			return err
		}
		if err := tx.Enqueue(ctx, store.OutboxItem{Op: store.OpUpdate, ChannelID: res.Alert.ChannelID,
			TargetRef: store.AlertRef(alertID), Message: card, AlertID: alertID}); err != nil {
			return err
		}
		p, err := openPlaybookOf(ctx, tx, a.ID)
		if errors.Is(err, store.ErrNotFound) {
			return nil // not an at-risk alert, or its playbook already closed
		}
		if err != nil {
			return err
		}
		if p, err = lockPlaybook(ctx, tx, p.ID); err != nil || p.ClaimedBy != "" || !p.Open() {
			return err
		}
		p.ClaimedBy, p.ClaimedAt = user, &now
		next := now.Add(m.cfg.CheckinEvery.Duration)
		p.NextCheckinAt, p.CheckinScore = &next, a.HealthScore
		if _, err := tx.Exec(ctx, `UPDATE playbooks SET claimed_by = $2, claimed_at = $3, next_checkin_at = $4, checkin_score = $5
			WHERE id = $1`, p.ID, user, now, next, a.HealthScore); err != nil {
			return fmt.Errorf("claim playbook: %w", err)
		}
		card2, err := m.card(ctx, tx, p, a.Name, now)
		if err != nil {
			return err
		}
		claimed = &p
		return tx.Enqueue(ctx, store.OutboxItem{Op: store.OpPost, ChannelID: p.ChannelID, ThreadKey: p.ThreadKey,
			Ref: p.CardRef(), Message: card2})
	})
	if err == nil && claimed != nil {
		m.metrics.claims.Inc()
		m.metrics.claimTime.Observe(max(claimed.ClaimedAt.Sub(claimed.SLAFrom), 0).Seconds())
	}
	return res, err
}

// card renders the playbook's steps card as of now.
func (m *Module) card(ctx context.Context, db store.DB, p Playbook, account string, now time.Time) (blocks.Message, error) {
	done, err := stepsOf(ctx, db, p.ID)
	if err != nil {
		return blocks.Message{}, err
	}
	return stepsCard(stepsView{P: p, Account: account, Steps: m.cfg.Steps, Done: done, Now: now, Loc: m.loc,
		Within: m.cfg.ClaimWithin.Duration}), nil
}

// cardUpdate re-renders the posted steps card (once it is delivered; a
// playbook closed before its claim has none to update).
func (m *Module) cardUpdate(ctx context.Context, tx store.Tx, p Playbook, account string, now time.Time) error {
	if p.ClaimedBy == "" {
		return nil
	}
	msg, err := m.card(ctx, tx, p, account, now)
	if err != nil {
		return err
	}
	return tx.Enqueue(ctx, store.OutboxItem{Op: store.OpUpdate, ChannelID: p.ChannelID, TargetRef: p.CardRef(), Message: msg})
}

// authorize loads a playbook for user about to record step (before a
// modal opens); the same checks run again when the step is recorded.
func (m *Module) authorize(ctx context.Context, id int64, user string, who []string) (Playbook, store.Account, error) {
	p, err := readPlaybook(ctx, m.store.DB(), id)
	if err != nil {
		return p, store.Account{}, err
	}
	a, err := m.store.Account(ctx, p.AccountID)
	if err != nil {
		return p, a, err
	}
	return p, a, m.check(ctx, user, p, a, who, true)
}

// check says why user may not change p now (nil: they may): not theirs
// to record, closed, or (when claimed is asked for) not claimed yet.
func (m *Module) check(ctx context.Context, user string, p Playbook, a store.Account, who []string, claimed bool) error {
	switch {
	case !handlers.MayRead(ctx, a) || !m.mayRecord(ctx, user, p, a, who):
		return ErrNotAllowed
	case !p.Open():
		return ErrClosed
	case claimed && p.ClaimedBy == "":
		return ErrUnclaimed
	}
	return nil
}

// lockWithAccount locks a playbook, then its account, in tx: steps,
// dismissals and recoveries of one playbook take turns.
func lockWithAccount(ctx context.Context, tx store.Tx, id int64) (Playbook, store.Account, error) {
	p, err := lockPlaybook(ctx, tx, id)
	if err != nil {
		return p, store.Account{}, err
	}
	a, err := tx.AccountForUpdate(ctx, p.AccountID)
	return p, a, err
}

// RecordStep records one step: the playbook and its account locked, the
// user's right checked, the step and its timeline entry written, the
// thread told and the card re-rendered, in one transaction. request names
// the Slack request: a redelivery records nothing twice.
func (m *Module) RecordStep(ctx context.Context, id int64, user, key string, d StepDetails, request string) error {
	st, ok := m.cfg.Step(key)
	if !ok {
		return fmt.Errorf("no playbook step %q", key)
	}
	if err := validateStep(st, &d, m.now().In(m.loc)); err != nil {
		return err
	}
	now := m.now()
	recorded := false
	err := m.store.InTx(ctx, func(tx store.Tx) error {
		p, a, err := lockWithAccount(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := m.check(ctx, user, p, a, st.Who, true); err != nil {
			return err
		}
		if st.Form == FormNone {
			// A one-click step happens once; forms may be recorded again (a revised plan).
			var by string
			var at time.Time
			err := tx.QueryRow(ctx, `SELECT recorded_by, recorded_at FROM playbook_steps WHERE playbook_id = $1 AND step = $2
				ORDER BY id LIMIT 1`, p.ID, key).Scan(&by, &at)
			if err == nil {
				return &AlreadyRecordedError{By: by, At: at}
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("step recorded before: %w", err)
			}
		}
		d.Score = a.HealthScore
		var req *string
		if request != "" {
			r := "playbook:" + key + ":" + request
			req = &r
		}
		tag, err := tx.Exec(ctx, `INSERT INTO playbook_steps (playbook_id, step, recorded_by, recorded_at, details, request_key)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (request_key) DO NOTHING`, p.ID, key, user, now, d, req)
		if err != nil {
			return fmt.Errorf("record playbook step: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil // Slack delivered the same request again
		}
		recorded = true
		if st.Contact && p.ContactedAt == nil {
			p.ContactedAt = &now
			if _, err := tx.Exec(ctx, `UPDATE playbooks SET contacted_at = $2 WHERE id = $1`, p.ID, now); err != nil {
				return fmt.Errorf("record contact: %w", err)
			}
		}
		if st.Form == FormCheckin {
			// A check-in recorded by hand counts as this week's.
			next := now.Add(m.cfg.CheckinEvery.Duration)
			p.NextCheckinAt, p.CheckinScore = &next, a.HealthScore
			if _, err := tx.Exec(ctx, `UPDATE playbooks SET next_checkin_at = $2, checkin_score = $3 WHERE id = $1`,
				p.ID, next, a.HealthScore); err != nil {
				return fmt.Errorf("record check-in: %w", err)
			}
		}
		if err := tx.AddTimeline(ctx, a.ID, store.TimelineEntry{At: now, Kind: "playbook.step",
			Summary: "playbook step: " + st.Label, Actor: user}, p.ID); err != nil {
			return err
		}
		if err := handlers.Audit(ctx, tx, user, "playbook.step", a.ID, "playbook "+strconv.FormatInt(p.ID, 10)+" "+key); err != nil {
			return err
		}
		if err := tx.Enqueue(ctx, threadPost(p, stepNote(st, user, d, a.ID, m.loc))); err != nil {
			return err
		}
		return m.cardUpdate(ctx, tx, p, a.Name, now)
	})
	if err == nil && recorded {
		m.metrics.steps.WithLabelValues(key).Inc()
	}
	return err
}

// validateStep checks a step's form and tidies it (trimmed text, plan
// rows without an action dropped).
func validateStep(st Step, d *StepDetails, today time.Time) error {
	d.Notes = strings.TrimSpace(d.Notes)
	if len([]rune(d.Notes)) > maxNotes {
		return &InputError{BlockNotes, fmt.Sprintf("At most %d characters.", maxNotes)}
	}
	if strings.ContainsRune(d.Notes, 0) {
		return &InputError{BlockNotes, "The notes contain a character Holdfast cannot store."}
	}
	switch st.Form {
	case FormDiscovery:
		c := churn.Cause(d.RootCause)
		if !slices.ContainsFunc(churn.Causes, func(i churn.Info) bool { return i.Cause == c }) {
			return &InputError{BlockRootCause, "Choose a root cause from the list."}
		}
		if d.Notes == "" {
			return &InputError{BlockNotes, "Say what you found."}
		}
	case FormPlan:
		var kept []PlanAction
		for i, a := range d.Actions {
			a.What = strings.TrimSpace(a.What)
			n := strconv.Itoa(i)
			switch {
			case a.What == "" && a.Owner == "":
				continue
			case a.What == "":
				return &InputError{BlockAction + n, "Say what the action is, or clear its owner."}
			case len([]rune(a.What)) > maxAction || strings.ContainsRune(a.What, 0):
				return &InputError{BlockAction + n, fmt.Sprintf("At most %d characters of plain text.", maxAction)}
			case a.Owner == "":
				return &InputError{BlockActionOwner + n, "Choose who owns this action."}
			case a.Due.IsZero():
				return &InputError{BlockActionDue + n, "Choose a due date."}
			case a.Due.Before(time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, a.Due.Location())):
				return &InputError{BlockActionDue + n, "Choose a date from today on."}
			}
			kept = append(kept, a)
		}
		if len(kept) == 0 {
			return &InputError{BlockAction + "0", "A plan needs at least one action with an owner and a due date."}
		}
		d.Actions = kept
		for _, r := range d.Resources {
			if !slices.ContainsFunc(Resources, func(x struct{ Key, Label string }) bool { return x.Key == r }) {
				return &InputError{BlockResources, "Choose resources from the list."}
			}
		}
	default:
		if st.Form != FormNone && d.Notes == "" {
			return &InputError{BlockNotes, "Say what happened."}
		}
	}
	return nil
}

// Dismiss closes a playbook as a false alarm with user's reason, kept
// with the health that raised it as a labelled example for the health model.
func (m *Module) Dismiss(ctx context.Context, id int64, user, reason string) error {
	reason = strings.TrimSpace(reason)
	switch n := len([]rune(reason)); {
	case n < minReason:
		return &InputError{BlockReason, fmt.Sprintf("Say why in at least %d characters: the reason teaches the health model.", minReason)}
	case n > maxReason || strings.ContainsRune(reason, 0):
		return &InputError{BlockReason, fmt.Sprintf("At most %d characters of plain text.", maxReason)}
	}
	now := m.now()
	closed := false
	var opened time.Time
	err := m.store.InTx(ctx, func(tx store.Tx) error {
		p, a, err := lockWithAccount(ctx, tx, id)
		if err != nil {
			return err
		}
		if p.State == StateDismissed && handlers.MayRead(ctx, a) {
			return nil // the same submission again
		}
		// A false alarm may be dismissed before anyone claims it.
		if err := m.check(ctx, user, p, a, []string{WhoOwner, WhoManager, WhoLeadership}, false); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO risk_labels (account_id, playbook_id, alert_id, label, reason, score, band,
				components, labelled_by, labelled_at)
			SELECT $1, $2, $3, 'false_alarm', $4, a.health_score, coalesce(a.health_band, ''),
				coalesce((SELECT components FROM health_snapshots WHERE account_id = $1 ORDER BY computed_at DESC, id DESC LIMIT 1), '[]'),
				$5, $6
			FROM accounts a WHERE a.id = $1`, a.ID, p.ID, p.AlertID, reason, user, now); err != nil {
			return fmt.Errorf("label false alarm: %w", err)
		}
		if err := m.resolve(ctx, tx, &p, a, StateDismissed, user, reason, nil, now); err != nil {
			return err
		}
		closed, opened = true, p.OpenedAt
		if err := handlers.Audit(ctx, tx, user, "playbook.dismiss", a.ID, "playbook "+strconv.FormatInt(p.ID, 10)); err != nil {
			return err
		}
		return tx.Enqueue(ctx, threadPost(p, dismissedNote(user, reason)))
	})
	if err == nil && closed {
		m.observeResolution(StateDismissed, opened, now)
	}
	return err
}

// resolve closes p in tx: its row, the timeline and its card.
func (m *Module) resolve(ctx context.Context, tx store.Tx, p *Playbook, a store.Account, state, by, note string,
	recoveredFrom *time.Time, now time.Time) error {
	p.State, p.ResolvedAt, p.ResolvedBy, p.ResolutionNote, p.RecoveredFrom = state, &now, by, note, recoveredFrom
	p.ScoreAtResolution = a.HealthScore
	if _, err := tx.Exec(ctx, `UPDATE playbooks SET state = $2, resolved_at = $3, resolved_by = $4, resolution_note = $5,
			recovered_from = $6, score_at_resolution = $7 WHERE id = $1`,
		p.ID, state, now, by, note, recoveredFrom, a.HealthScore); err != nil {
		return fmt.Errorf("resolve playbook: %w", err)
	}
	if err := tx.AddTimeline(ctx, a.ID, store.TimelineEntry{At: now, Kind: "playbook." + state,
		Summary: "at-risk playbook closed: " + state, Actor: by}, p.ID); err != nil {
		return err
	}
	return m.cardUpdate(ctx, tx, *p, a.Name, now)
}

func (m *Module) observeResolution(state string, opened, now time.Time) {
	m.metrics.resolutions.WithLabelValues(state).Inc()
	m.metrics.resolveTime.WithLabelValues(state).Observe(max(now.Sub(opened), 0).Seconds())
}

// Churned closes the account's open playbook as churned, in the
// transaction that records the churn (/churned), whose note in the
// playbook's thread says so.
func (m *Module) Churned(ctx context.Context, tx store.Tx, accountID int64, by string, at time.Time) error {
	p, err := openPlaybookOf(ctx, tx, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if p, err = lockPlaybook(ctx, tx, p.ID); err != nil || !p.Open() {
		return err
	}
	a, err := tx.Account(ctx, accountID)
	if err != nil {
		return err
	}
	if err := m.resolve(ctx, tx, &p, a, StateChurned, by, "", nil, at); err != nil {
		return err
	}
	m.observeResolution(StateChurned, p.OpenedAt, at)
	return nil // the churn's own note goes to the thread; the card says closed
}
