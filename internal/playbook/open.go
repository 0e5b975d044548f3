package playbook

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/store"
)

// AlertThread names the Slack thread a churn-risk alert joins: the open
// playbook's, else a new one once an earlier playbook closed (a slip
// starts a thread of its own), else the account's first thread.
func (m *Module) AlertThread(ctx context.Context, tx store.Tx, accountID int64, channel string) (string, error) {
	last, err := lastPlaybookOf(ctx, tx, accountID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return ingest.DefaultThread(accountID, channel), nil
	case err != nil:
		return "", err
	case last.Open() && last.ChannelID == channel:
		return last.ThreadKey, nil
	}
	return ingest.DefaultThread(accountID, channel) + ":after:" + strconv.FormatInt(last.ID, 10), nil
}

// raisedAlert is a churn-risk alert as the playbook reads it.
type raisedAlert struct {
	ID, AccountID        int64
	Critical             bool
	Band                 scoring.Band
	Score                int
	ChannelID, ThreadKey string
	DueAt                time.Time
}

func (a raisedAlert) atRisk() bool {
	return a.Band == scoring.BandAtRisk || a.Band == scoring.BandCritical
}

// openFromAlerts runs in the ingest transaction that raised the batch's
// churn-risk alerts: an at-risk or critical alert opens a playbook for an
// account without an open one; a critical one also goes live to
// leadership channels.
func (m *Module) openFromAlerts(ctx context.Context, tx store.Tx, b *ingest.Batch) error {
	if len(b.Alerts) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT id, account_id, critical, band, score, channel_id, thread_key, coalesce(due_at, $2)
		FROM alerts WHERE id = ANY($1) ORDER BY id`, b.Alerts, b.Now())
	if err != nil {
		return fmt.Errorf("raised alerts: %w", err)
	}
	alerts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (raisedAlert, error) {
		var a raisedAlert
		err := r.Scan(&a.ID, &a.AccountID, &a.Critical, &a.Band, &a.Score, &a.ChannelID, &a.ThreadKey, &a.DueAt)
		return a, err
	})
	if err != nil {
		return fmt.Errorf("raised alerts: %w", err)
	}
	for _, a := range alerts {
		acct, ok := b.Accounts[a.AccountID]
		if !ok || !a.atRisk() || acct.Status == scoring.StatusChurned {
			continue
		}
		if err := m.open(ctx, tx, b.Now(), acct, a); err != nil {
			return fmt.Errorf("playbook for alert %d: %w", a.ID, err)
		}
		if a.Critical {
			h := b.Health[a.AccountID]
			driver := ""
			if d := h.Drivers(1); len(d) > 0 {
				driver = blocks.DriverText(d[0])
			}
			if err := m.postLive(ctx, tx, liveEvent{Kind: liveCritical, Account: acct, Score: a.Score, Driver: driver, At: b.Now()}); err != nil {
				return err
			}
		}
	}
	return nil
}

// open starts the account's playbook with alert a, unless one is open
// (the alert then joins it; a critical one makes it critical). A playbook
// that follows a closed one links to it and says so in its thread.
func (m *Module) open(ctx context.Context, tx store.Tx, now time.Time, acct store.Account, a raisedAlert) error {
	// At most one playbook is open, and it is the latest (one opens only
	// when none is): the latest says both whether this alert joins one and
	// which closed one a new playbook follows.
	var prev *Playbook
	last, err := lastPlaybookOf(ctx, tx, acct.ID)
	switch {
	case err == nil && last.Open():
		if a.Critical && !last.Critical {
			_, err = tx.Exec(ctx, `UPDATE playbooks SET critical = true WHERE id = $1`, last.ID)
			return wrap("mark playbook critical", err)
		}
		return nil
	case err == nil:
		prev = &last
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	cal := m.cfg.Calendar()
	p := Playbook{AccountID: acct.ID, AlertID: a.ID, ChannelID: a.ChannelID, ThreadKey: a.ThreadKey, Critical: a.Critical,
		OwnerCSM: acct.OwnerCSM, Segment: acct.Segment, ARR: acct.ARR, ScoreAtOpen: a.Score, BandAtOpen: string(a.Band),
		OpenedAt: now, SLAFrom: a.DueAt, NudgeAt: cal.Add(a.DueAt, m.cfg.NudgeAfter.Duration),
		ClaimDueAt: cal.Add(a.DueAt, m.cfg.ClaimWithin.Duration)}
	if prev != nil {
		p.PreviousID = &prev.ID
	}
	err = tx.QueryRow(ctx, `INSERT INTO playbooks (account_id, alert_id, previous_id, channel_id, thread_key, critical,
			owner_csm, segment, arr, score_at_open, band_at_open, opened_at, sla_from, nudge_at, claim_due_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
		ON CONFLICT (account_id) WHERE state = 'open' DO NOTHING RETURNING id`,
		p.AccountID, p.AlertID, p.PreviousID, p.ChannelID, p.ThreadKey, p.Critical, p.OwnerCSM, p.Segment, p.ARR,
		p.ScoreAtOpen, p.BandAtOpen, p.OpenedAt, p.SLAFrom, p.NudgeAt, p.ClaimDueAt).Scan(&p.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // another transaction opened it a moment ago; this alert joins it
	}
	if err != nil {
		return fmt.Errorf("open playbook: %w", err)
	}
	summary := "at-risk playbook opened"
	if prev != nil {
		summary += fmt.Sprintf(" (follows playbook %d, %s)", prev.ID, prev.State)
	}
	if err := tx.AddTimeline(ctx, acct.ID, store.TimelineEntry{At: now, Kind: "playbook.opened", Summary: summary}, p.ID); err != nil {
		return err
	}
	m.metrics.opened.WithLabelValues(string(a.Band)).Inc()
	if prev == nil {
		return nil
	}
	steps, err := stepsOf(ctx, tx, prev.ID)
	if err != nil {
		return err
	}
	return tx.Enqueue(ctx, threadPost(p, slipNote(acct.Name, a.Score, *prev, steps, m.cfg)))
}

// threadPost is a message in the playbook's thread.
func threadPost(p Playbook, msg blocks.Message) store.OutboxItem {
	return store.OutboxItem{Op: store.OpPost, ChannelID: p.ChannelID, ThreadKey: p.ThreadKey, Message: msg}
}

func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
