package playbook

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/holdfast/holdfast/store"
)

// watchBatch bounds how many playbooks one run of the watcher handles per
// kind of work; the next run takes the rest.
const watchBatch = 500

// Watch runs what is due: nudges and escalations of unclaimed playbooks,
// overdue steps, weekly check-ins and recoveries. Each playbook changes in
// its own transaction under its row lock, with the due time re-checked, so
// two replicas (or a rerun after a crash) send each message once.
func (m *Module) Watch(ctx context.Context, now time.Time) error {
	var errs []error
	// Overdue steps: only playbooks with a step past its deadline, not
	// recorded and not yet reminded of, so an idle run costs one query
	// however many playbooks are open.
	keys, dues := m.stepDeadlines()
	const overdue = `SELECT DISTINCT p.id FROM playbooks p CROSS JOIN unnest($3::text[], $4::float8[]) AS s(step, due_s)
		WHERE p.state = 'open' AND p.claimed_at IS NOT NULL AND p.claimed_at + make_interval(secs => s.due_s) <= $1
		  AND NOT EXISTS (SELECT 1 FROM playbook_steps x WHERE x.playbook_id = p.id AND x.step = s.step)
		  AND NOT EXISTS (SELECT 1 FROM playbook_reminders r WHERE r.playbook_id = p.id AND r.step = s.step)
		ORDER BY p.id LIMIT $2`
	for _, job := range []struct {
		name  string
		query string
		run   func(context.Context, int64, time.Time) error
		args  []any
	}{
		{"nudge", `SELECT id FROM playbooks WHERE state = 'open' AND claimed_at IS NULL
			AND ((nudged_at IS NULL AND nudge_at <= $1) OR (escalated_at IS NULL AND claim_due_at <= $1)) ORDER BY id LIMIT $2`, m.nudge, nil},
		{"overdue", overdue, m.overdue, []any{keys, dues}},
		{"check-in", `SELECT id FROM playbooks WHERE state = 'open' AND next_checkin_at <= $1 ORDER BY id LIMIT $2`, m.checkin, nil},
	} {
		ids, err := dueIDs(ctx, m.store.DB(), job.query, append([]any{now, watchBatch}, job.args...)...)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", job.name, err))
			continue
		}
		for _, id := range ids {
			if err := job.run(ctx, id, now); err != nil {
				errs = append(errs, fmt.Errorf("playbook %d %s: %w", id, job.name, err))
			}
		}
	}
	if err := m.recoveries(ctx, now); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// dueIDs runs a watcher query: $1 is now, $2 the batch size.
func dueIDs(ctx context.Context, db store.DB, query string, args ...any) ([]int64, error) {
	rows, err := db.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// nudge tells the owner of an unclaimed playbook at nudge_at and their
// manager at claim_due_at; a run that finds both due (the watcher was
// down) sends only the escalation, which names the owner too.
func (m *Module) nudge(ctx context.Context, id int64, now time.Time) error {
	var levels []string
	err := m.store.InTx(ctx, func(tx store.Tx) error {
		p, err := lockPlaybook(ctx, tx, id)
		if err != nil || !p.Open() || p.ClaimedAt != nil {
			return err
		}
		a, err := tx.Account(ctx, p.AccountID)
		if err != nil {
			return err
		}
		owner := a.OwnerCSM
		if owner == "" {
			owner = p.OwnerCSM
		}
		switch {
		case p.EscalatedAt == nil && !p.ClaimDueAt.After(now):
			managers := m.roles.ManagersOf(owner)
			if len(managers) == 0 && m.cfg.EscalateTo != "" {
				managers = []string{m.cfg.EscalateTo}
			}
			if _, err := tx.Exec(ctx, `UPDATE playbooks SET escalated_at = $2, nudged_at = coalesce(nudged_at, $2) WHERE id = $1`, id, now); err != nil {
				return fmt.Errorf("record escalation: %w", err)
			}
			levels = append(levels, "manager")
			if err := tx.AddTimeline(ctx, a.ID, store.TimelineEntry{At: now, Kind: "playbook.escalated",
				Summary: "unclaimed alert escalated to the owner's manager"}, p.ID); err != nil {
				return err
			}
			return tx.Enqueue(ctx, threadPost(p, escalationNote(owner, managers, m.cfg.ClaimWithin.Duration)))
		case p.NudgedAt == nil && !p.NudgeAt.After(now):
			if _, err := tx.Exec(ctx, `UPDATE playbooks SET nudged_at = $2 WHERE id = $1`, id, now); err != nil {
				return fmt.Errorf("record nudge: %w", err)
			}
			levels = append(levels, "owner")
			return tx.Enqueue(ctx, threadPost(p, nudgeNote(owner, now.Sub(p.SLAFrom), m.cfg.ClaimWithin.Duration)))
		}
		return nil
	})
	if err == nil {
		for _, l := range levels {
			m.metrics.nudges.WithLabelValues(l).Inc()
		}
	}
	return err
}

// overdue reminds the owner, once per step, of steps past their deadline.
func (m *Module) overdue(ctx context.Context, id int64, now time.Time) error {
	return m.store.InTx(ctx, func(tx store.Tx) error {
		p, err := lockPlaybook(ctx, tx, id)
		if err != nil || !p.Open() || p.ClaimedAt == nil {
			return err
		}
		done, err := stepsOf(ctx, tx, p.ID)
		if err != nil {
			return err
		}
		for _, st := range m.cfg.Steps {
			due := p.ClaimedAt.Add(st.Due.Duration)
			if st.Due.Duration == 0 || due.After(now) || recorded(done, st.Key) {
				continue
			}
			tag, err := tx.Exec(ctx, `INSERT INTO playbook_reminders (playbook_id, step, sent_at) VALUES ($1, $2, $3)
				ON CONFLICT DO NOTHING`, p.ID, st.Key, now)
			if err != nil {
				return fmt.Errorf("record reminder: %w", err)
			}
			if tag.RowsAffected() == 0 {
				continue
			}
			if err := tx.Enqueue(ctx, threadPost(p, overdueNote(p.ClaimedBy, st, due, m.loc))); err != nil {
				return err
			}
		}
		return nil
	})
}

// stepDeadlines are the steps with a deadline: their keys and deadlines
// after the claim in seconds.
func (m *Module) stepDeadlines() (keys []string, dues []float64) {
	for _, st := range m.cfg.Steps {
		if st.Due.Duration > 0 {
			keys, dues = append(keys, st.Key), append(dues, st.Due.Seconds())
		}
	}
	return keys, dues
}

func recorded(done []StepRecord, key string) bool {
	for _, d := range done {
		if d.Step == key {
			return true
		}
	}
	return false
}

// checkin posts the weekly reminder in the thread with the score's move
// since the last one.
func (m *Module) checkin(ctx context.Context, id int64, now time.Time) error {
	return m.store.InTx(ctx, func(tx store.Tx) error {
		p, err := lockPlaybook(ctx, tx, id)
		if err != nil || !p.Open() || p.NextCheckinAt == nil || p.NextCheckinAt.After(now) {
			return err
		}
		a, err := tx.Account(ctx, p.AccountID)
		if err != nil {
			return err
		}
		next := now.Add(m.cfg.CheckinEvery.Duration)
		if _, err := tx.Exec(ctx, `UPDATE playbooks SET next_checkin_at = $2, checkin_score = $3 WHERE id = $1`,
			p.ID, next, a.HealthScore); err != nil {
			return fmt.Errorf("schedule check-in: %w", err)
		}
		key := checkinKey(m.cfg.Steps)
		st, ok := m.cfg.Step(key)
		if !ok {
			return nil // this team's playbook has no check-in step
		}
		since := p.NextCheckinAt.Add(-m.cfg.CheckinEvery.Duration)
		return tx.Enqueue(ctx, threadPost(p, checkinNote(p.Owner(), st, p.ID, a.HealthScore, p.CheckinScore, since, m.loc)))
	})
}

// recoveries closes as recovered every open playbook whose account has
// stayed at or above the at-risk line for recovered_after: above now, no
// snapshot below the line since the window began, and above when it began.
func (m *Module) recoveries(ctx context.Context, now time.Time) error {
	from := now.Add(-m.cfg.RecoveredAfter.Duration)
	ids, err := dueIDs(ctx, m.store.DB(), `SELECT p.id FROM playbooks p JOIN accounts a ON a.id = p.account_id
		WHERE p.state = 'open' AND p.opened_at <= $1 AND a.status = 'active'
		  AND a.health_band IS NOT NULL AND a.health_band NOT IN ('at_risk', 'critical')
		  AND NOT EXISTS (SELECT 1 FROM health_snapshots s WHERE s.account_id = p.account_id
			AND s.computed_at > $1 AND s.band IN ('at_risk', 'critical'))
		  AND (SELECT s.band FROM health_snapshots s WHERE s.account_id = p.account_id AND s.computed_at <= $1
			ORDER BY s.computed_at DESC, s.id DESC LIMIT 1) NOT IN ('at_risk', 'critical')
		ORDER BY p.id LIMIT $2`, from, watchBatch)
	if err != nil {
		return fmt.Errorf("recoveries: %w", err)
	}
	var errs []error
	for _, id := range ids {
		if err := m.recover(ctx, id, now); err != nil {
			errs = append(errs, fmt.Errorf("playbook %d recovery: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

// recover closes one playbook as recovered, tells its thread what was
// done and the score before and after, and leadership's live channels.
func (m *Module) recover(ctx context.Context, id int64, now time.Time) error {
	var opened time.Time
	closed := false
	err := m.store.InTx(ctx, func(tx store.Tx) error {
		p, err := lockPlaybook(ctx, tx, id)
		if err != nil || !p.Open() {
			return err
		}
		a, err := tx.AccountForUpdate(ctx, p.AccountID)
		if err != nil || a.HealthScore == nil {
			return err
		}
		// When it climbed back: the first snapshot after the last one below the line.
		var since time.Time
		if err := tx.QueryRow(ctx, `SELECT coalesce(min(computed_at), $2) FROM health_snapshots
			WHERE account_id = $1 AND computed_at > coalesce((SELECT max(computed_at) FROM health_snapshots
				WHERE account_id = $1 AND band IN ('at_risk', 'critical')), '-infinity')`, a.ID, p.OpenedAt).Scan(&since); err != nil {
			return fmt.Errorf("recovered since: %w", err)
		}
		if now.Sub(since) < m.cfg.RecoveredAfter.Duration {
			return nil // it slipped between the query and the lock
		}
		done, err := stepsOf(ctx, tx, p.ID)
		if err != nil {
			return err
		}
		if err := m.resolve(ctx, tx, &p, a, StateRecovered, "", "", &since, now); err != nil {
			return err
		}
		closed, opened = true, p.OpenedAt
		if err := tx.Enqueue(ctx, threadPost(p, recoveredNote(p, a.Name, *a.HealthScore, since, m.cfg.Steps, done, m.loc))); err != nil {
			return err
		}
		before := p.ScoreAtOpen
		return m.postLive(ctx, tx, liveEvent{Kind: liveRecovered, Account: a, Score: *a.HealthScore, Before: &before,
			PlaybookID: p.ID, At: now})
	})
	if err == nil && closed {
		m.observeResolution(StateRecovered, opened, now)
	}
	return err
}
