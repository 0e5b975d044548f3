package churn

// Recording a churn and following its debrief through. Each service opens
// its transaction and runs load -> decide -> write -> render -> enqueue in
// it, so what Slack is told is exactly what was committed.

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/store"
)

// RecordInput is one churn to record.
type RecordInput struct {
	AccountID int64
	// SubmissionKey names the submission (the form's view id): a replay
	// finds the record the first one stored.
	SubmissionKey string
	Submission    Submission
	RecordedBy    string
	At            time.Time
}

// debriefCandidates bounds the lookalike accounts a debrief DM is picked from.
const debriefCandidates = 50

// RecordChurn marks the account churned, stores the root-cause record, its
// timeline entry and (sales-attributable causes) a pending debrief, and
// enqueues the note in the account's thread and the debrief DMs, all in
// one transaction. A replay of the same submission returns the stored
// record with created=false and sends nothing; a different submission for
// an account that is already churned gets ErrAlreadyChurned.
func (m *Module) RecordChurn(ctx context.Context, in RecordInput) (rec StoredRecord, created bool, err error) {
	return m.record(ctx, in, true)
}

// RecordPastChurn records a churn as RecordChurn does, without telling
// anyone: a churn backfilled from history is not news.
func (m *Module) RecordPastChurn(ctx context.Context, in RecordInput) (rec StoredRecord, created bool, err error) {
	return m.record(ctx, in, false)
}

// newChurn is what the messages about a new churn are built from.
type newChurn struct {
	Record  StoredRecord
	Account store.Account
	// Candidates are active accounts in the AE's book (every active account
	// when there is no AE) that share at least the minimum traits with the
	// churned account, best first.
	Candidates []Candidate
	// SameCauseAE / SameCauseTeam count churns with this cause in the 365
	// days up to this one (this one included), in the AE's book / overall.
	SameCauseAE   int
	SameCauseTeam int
	// ThreadKey is the alert thread the churn note joins ("" = none).
	ThreadKey string
}

func (m *Module) record(ctx context.Context, in RecordInput, notify bool) (rec StoredRecord, created bool, err error) {
	err = m.store.InTx(ctx, func(tx store.Tx) error {
		acct, err := tx.AccountForUpdate(ctx, in.AccountID)
		if err != nil {
			return err
		}
		// The account row lock orders concurrent submits; a replay finds the first.
		existing, found, err := recordBySubmission(ctx, tx, in.SubmissionKey)
		if err != nil || found {
			rec = existing
			return err
		}
		if active, err := markChurned(ctx, tx, acct.ID); err != nil {
			return err
		} else if !active {
			return ErrAlreadyChurned
		}
		if rec, err = insertRecord(ctx, tx, acct.ID, in); err != nil {
			return err
		}
		created = true
		nc := newChurn{Record: rec, Account: acct}
		if ch := cmp.Or(acct.ChannelID, m.defaultChannel); ch != "" {
			nc.ThreadKey = "alerts:" + strconv.FormatInt(acct.ID, 10) + ":" + ch
			if m.playbooks != nil {
				// The thread of the episode of risk the churn ends, named before its playbook closes.
				if nc.ThreadKey, err = m.playbooks.AlertThread(ctx, tx, acct.ID, ch); err != nil {
					return err
				}
			}
		}
		if m.playbooks != nil {
			if err := m.playbooks.Churned(ctx, tx, acct.ID, in.RecordedBy, in.At); err != nil {
				return err
			}
		}
		if err := tx.AddTimeline(ctx, acct.ID, store.TimelineEntry{At: in.At, Kind: "churn.recorded",
			Summary: "churned: " + in.Submission.Cause.Label(), Actor: in.RecordedBy}, rec.ID); err != nil {
			return err
		}
		if rec.SalesAttributable {
			if nc.Candidates, err = lookalikeCandidates(ctx, tx, []Profile{rec.Profile}, rec.AE, m.set.LookalikeMinMatch, debriefCandidates); err != nil {
				return err
			}
			if nc.SameCauseAE, nc.SameCauseTeam, err = sameCauseCounts(ctx, tx, rec); err != nil {
				return err
			}
		}
		items, view := m.churnMessages(nc)
		if rec.SalesAttributable {
			if err := insertDebrief(ctx, tx, rec.ID, view); err != nil {
				return err
			}
		}
		if !notify {
			return nil
		}
		return enqueue(ctx, tx, items)
	})
	return rec, created, err
}

// churnMessages are what a new churn sends: a note in the account's alert
// thread and, for a sales-attributable cause, the debrief DMs (view is
// what they show, kept with the debrief).
func (m *Module) churnMessages(nc newChurn) (items []store.OutboxItem, view debriefView) {
	rec, a := nc.Record, nc.Account
	if ch := cmp.Or(a.ChannelID, m.defaultChannel); ch != "" && nc.ThreadKey != "" {
		items = append(items, store.OutboxItem{Op: store.OpPost, ChannelID: ch,
			ThreadKey: nc.ThreadKey, Message: churnNote(a.Name, rec.Cause, rec.RecordedBy, rec.ChurnedOn)})
	}
	if !rec.SalesAttributable {
		return items, view
	}
	view = debriefView{ChurnID: rec.ID, AccountName: rec.AccountName, ARR: rec.ARR, ChurnedOn: rec.ChurnedOn,
		Cause: rec.Cause, StatedReason: rec.StatedReason, Diagnosis: rec.Diagnosis, DealBehaviour: rec.DealBehaviour,
		OwnerCSM: rec.OwnerCSM, AE: rec.AE, SalesManager: rec.SalesManager, RecordedBy: rec.RecordedBy,
		SameCauseAE: nc.SameCauseAE, SameCauseTeam: nc.SameCauseTeam, Loc: m.loc}
	for _, l := range MatchLookalikes([]Record{rec.Record}, nc.Candidates, m.set.LookalikeMinMatch, 5) {
		view.Lookalikes = append(view.Lookalikes, lookalikeRow{Name: l.Name, ARR: l.ARR, HealthScore: l.HealthScore,
			OwnerCSM: l.OwnerCSM, Traits: l.Traits})
	}
	for _, r := range m.debriefRecipients(rec) {
		v := view
		v.Recipient = r
		ref := debriefRef(rec.ID, r)
		items = append(items, store.OutboxItem{Op: store.OpPost, ChannelID: r, ThreadKey: ref, Ref: ref + ":root",
			Message: salesDebrief(v)})
	}
	return items, view
}

// debriefUsers are the AE and the sales manager, once each.
func debriefUsers(r StoredRecord) []string {
	var out []string
	for _, u := range []string{r.AE, r.SalesManager} {
		if u != "" && !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

// debriefRecipients are where the debrief DM goes: the AE and sales
// manager, or the debrief channel when neither is on file.
func (m *Module) debriefRecipients(r StoredRecord) []string {
	if to := debriefUsers(r); len(to) > 0 {
		return to
	}
	if m.set.DebriefChannel != "" {
		return []string{m.set.DebriefChannel}
	}
	return nil
}

func debriefRef(churnID int64, to string) string {
	return "churn:" + strconv.FormatInt(churnID, 10) + ":debrief:" + to
}

// ScheduleDebrief records when the debrief takes place and updates the
// debrief DMs; false once the debrief was held (rescheduling is allowed
// until then).
func (m *Module) ScheduleDebrief(ctx context.Context, churnID int64, at time.Time, by string, now time.Time) (bool, error) {
	ok := false
	err := m.store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if ok, err = scheduleDebrief(ctx, tx, churnID, at, by); err != nil {
			return err
		}
		info, err := debriefFor(ctx, tx, churnID)
		if err != nil || !ok {
			return err
		}
		if err := tx.AddTimeline(ctx, info.Record.AccountID, store.TimelineEntry{At: now, Kind: "churn.debrief_scheduled",
			Summary: "sales debrief scheduled for " + at.UTC().Format("Jan 2 15:04 MST"), Actor: by}, churnID); err != nil {
			return err
		}
		items, err := m.debriefUpdates(info, "🗓️ Debrief scheduled for "+when(at, m.loc)+" by "+mention(by)+".")
		if err != nil {
			return err
		}
		return enqueue(ctx, tx, items)
	})
	return ok, err
}

// RecordDebriefOutcome stores what the debrief concluded, once: the first
// submission wins (false for later ones). An agreed process change gets
// its check-in CheckinAfter from today; without one there is no owner.
func (m *Module) RecordDebriefOutcome(ctx context.Context, churnID int64, o DebriefOutcome) (bool, error) {
	if o.ProcessChange != "" {
		due := m.today(o.At).Add(m.set.CheckinAfter.Duration)
		o.CheckinDue = &due
	} else {
		o.ChangeOwner, o.CheckinDue = "", nil
	}
	ok := false
	err := m.store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if ok, err = recordDebriefOutcome(ctx, tx, churnID, o); err != nil {
			return err
		}
		info, err := debriefFor(ctx, tx, churnID)
		if err != nil || !ok {
			return err
		}
		summary := "sales debrief held"
		if o.ProcessChange != "" {
			summary += "; process change agreed"
		}
		if err := tx.AddTimeline(ctx, info.Record.AccountID, store.TimelineEntry{At: o.At, Kind: "churn.debrief_held",
			Summary: summary, Actor: o.By}, churnID); err != nil {
			return err
		}
		note := "✅ Debrief outcome recorded by " + mention(o.By) + "."
		if o.ProcessChange != "" {
			note += " Process change owned by " + mention(o.ChangeOwner) + ", check-in " + blocks.Date(*o.CheckinDue) + "."
		}
		items, err := m.debriefUpdates(info, note)
		if err != nil {
			return err
		}
		return enqueue(ctx, tx, items)
	})
	return ok, err
}

// debriefUpdates re-render the debrief DMs with the debrief's state and
// say what changed in their threads.
func (m *Module) debriefUpdates(info DebriefInfo, note string) ([]store.OutboxItem, error) {
	var v debriefView
	if err := json.Unmarshal(info.Debrief.View, &v); err != nil {
		return nil, fmt.Errorf("decode debrief view: %w", err)
	}
	d := info.Debrief
	v.Loc = m.loc
	v.Debrief = debriefState{ScheduledFor: d.ScheduledFor, ScheduledBy: d.ScheduledBy, HeldAt: d.HeldAt, Outcome: d.Outcome,
		ProcessChange: d.ProcessChange, ChangeOwner: d.ChangeOwner, CheckinDue: d.CheckinDue}
	noteMsg := blocks.Note("debrief_note", note)
	var items []store.OutboxItem
	for _, r := range m.debriefRecipients(info.Record) {
		v.Recipient = r
		ref := debriefRef(info.Record.ID, r)
		items = append(items,
			store.OutboxItem{Op: store.OpUpdate, ChannelID: r, TargetRef: ref + ":root", Message: salesDebrief(v)},
			store.OutboxItem{Op: store.OpPost, ChannelID: r, ThreadKey: ref, Message: noteMsg})
	}
	return items, nil
}

// Checkins sends the 30-day check-in of every agreed process change that
// is due (catching up on missed days), and marks it sent in the same
// transaction: each goes out once.
func (m *Module) Checkins(ctx context.Context, now time.Time) error {
	n := 0
	err := m.store.InTx(ctx, func(tx store.Tx) error {
		due, err := dueCheckins(ctx, tx, m.today(now))
		if err != nil {
			return err
		}
		for _, info := range due {
			if err := enqueue(ctx, tx, m.checkinMessages(info)); err != nil {
				return err
			}
			if err := markCheckinSent(ctx, tx, info.Debrief.ChurnID); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if n > 0 && err == nil {
		m.log.Info("process-change check-ins sent", "count", n)
	}
	return err
}

// checkinMessages: the reminder DM to the change's owner.
func (m *Module) checkinMessages(info DebriefInfo) []store.OutboxItem {
	d := info.Debrief
	if d.ChangeOwner == "" || d.HeldAt == nil {
		return nil
	}
	msg := checkinCard(checkinView{AccountName: info.Record.AccountName, Cause: info.Record.Cause,
		ProcessChange: d.ProcessChange, ChangeOwner: d.ChangeOwner, HeldAt: d.HeldAt.In(m.loc),
		SalesManager: info.Record.SalesManager})
	return []store.OutboxItem{{Op: store.OpPost, ChannelID: d.ChangeOwner, Message: msg}}
}

func enqueue(ctx context.Context, tx store.Tx, items []store.OutboxItem) error {
	for _, it := range items {
		if err := tx.Enqueue(ctx, it); err != nil {
			return err
		}
	}
	return nil
}
