package nps

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/holdfast/holdfast/store"
)

// Batch sizes per run; a run that hits one leaves the rest for the next
// tick (every job is catch-up style).
const (
	loopsPerRun     = 500
	remindersPerRun = 2000
	digestPerRun    = 2000
	// surveysPerDelivery bounds one POST to the survey tool.
	surveysPerDelivery = 500
)

// Cadence selects today's surveys, posts the due list to the CS channel
// and queues them for the survey tool, in one transaction. Surveys already
// selected are skipped by their unique key, so a rerun selects nothing
// twice.
func (m *Module) Cadence(ctx context.Context, now time.Time) error {
	today := Today(now, m.loc)
	deferred, selected := 0, 0
	err := m.store.InTx(ctx, func(tx store.Tx) error {
		if err := lockCadence(ctx, tx); err != nil {
			return err
		}
		cands, err := cadenceCandidates(ctx, tx, cadenceParams{Now: now, Today: today, Timezone: m.loc.String(),
			CatchUp: m.cadence.CatchUp})
		if err != nil {
			return err
		}
		byID := map[int64]cadenceCandidate{}
		var due []Survey
		for _, c := range cands {
			d, held := m.cadence.Due(c.CadenceAccount, now)
			deferred += len(held)
			if d == nil {
				continue
			}
			byID[c.ID] = c
			due = append(due, Survey{AccountID: c.ID, Kind: d.Kind, Cycle: d.Cycle, Reason: d.Reason})
		}
		created, err := insertSurveys(ctx, tx, due, now)
		if err != nil || len(created) == 0 {
			return err
		}
		selected = len(created)
		if m.channel == "" {
			m.log.Warn("the due-survey list has nowhere to go: set nps.cs_channel or alerts.default_channel")
		} else {
			view := dueView{ViaTool: m.webhookOn(), Date: today}
			for _, v := range created {
				c := byID[v.AccountID]
				view.Rows = append(view.Rows, dueRow{AccountID: c.ID, AccountName: c.Name, ExternalID: c.ExternalID,
					OwnerCSM: c.OwnerCSM, Kind: v.Kind, Reason: v.Reason})
			}
			if err := tx.Enqueue(ctx, store.OutboxItem{Op: store.OpPost, ChannelID: m.channel, Message: dueList(view), Priority: store.PriorityBulk}); err != nil {
				return err
			}
		}
		if !m.webhookOn() {
			return markSurveysSent(ctx, tx, created, now)
		}
		for i := 0; i < len(created); i += surveysPerDelivery {
			chunk := created[i:min(i+surveysPerDelivery, len(created))]
			payload := SurveyPayload{Type: payloadType, GeneratedAt: now}
			for _, v := range chunk {
				c := byID[v.AccountID]
				payload.Surveys = append(payload.Surveys, SurveyRequest{SurveyID: v.ID, Account: c.ExternalID, AccountName: c.Name,
					Kind: v.Kind, Reason: v.Reason, Contact: v.Contact, KnownRespondents: c.Respondents, OwnerCSM: c.OwnerCSM})
			}
			if err := insertDelivery(ctx, tx, payload, now, chunk); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("nps cadence: %w", err)
	}
	m.log.Info("nps cadence", "selected", selected, "deferred_by_quiet_period", deferred)
	return nil
}

// Loops nudges overdue steps, sends due follow-ups and reminds CSMs of
// unanswered surveys.
func (m *Module) Loops(ctx context.Context, now time.Time) error {
	ids, err := dueLoops(ctx, m.store.DB(), now, loopsPerRun)
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range ids {
		if err := m.followUp(ctx, id, now); err != nil {
			errs = append(errs, fmt.Errorf("loop %d follow-up: %w", id, err))
		}
		if err := m.nudge(ctx, id, now); err != nil {
			errs = append(errs, fmt.Errorf("loop %d nudge: %w", id, err))
		}
	}
	if err := m.remind(ctx, now); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// nudge posts what the policy says is due for one loop: the CSM in the
// thread when a step is late, their manager when it stays late.
func (m *Module) nudge(ctx context.Context, id int64, now time.Time) error {
	return m.store.InTx(ctx, func(tx store.Tx) error {
		l, a, err := lockLoopAndAccount(ctx, tx, id)
		if err != nil {
			return err
		}
		if a.OwnerCSM != "" {
			l.OwnerCSM = a.OwnerCSM
		}
		manager := m.cfg.ManagerOf(l.OwnerCSM)
		due := m.policy.Nudges(l.Loop, l.Nudged, now)
		var sent []NudgeKey
		var told []Nudge // those someone hears about
		var entries []store.TimelineEntry
		for _, n := range due {
			key := NudgeKey{Step: n.Step, Level: n.Level}
			sent = append(sent, key)
			l.Nudged[key] = true
			if n.Level == 2 && manager == "" {
				m.log.Warn("overdue loop step has no manager to mention: set nps.managers or nps.default_manager",
					"loop", l.ID, "step", n.Step)
				continue
			}
			summary := "detractor loop: " + string(n.Step) + " overdue, CSM nudged"
			if n.Level == 2 {
				summary = "detractor loop: " + string(n.Step) + " overdue, manager mentioned"
			}
			told = append(told, n)
			entries = append(entries, store.TimelineEntry{At: now, Kind: "nps.overdue", Summary: summary})
		}
		// Written even when nothing was due, so a loop is not picked again
		// before its next nudge.
		l.reschedule(m.policy)
		if err := saveLoop(ctx, tx, l); err != nil {
			return err
		}
		if err := recordNudges(ctx, tx, l.ID, sent, now); err != nil {
			return err
		}
		if err := addLoopTimeline(ctx, tx, l, entries...); err != nil {
			return err
		}
		if l.ChannelID == "" {
			return nil
		}
		var posts []store.OutboxItem
		for _, n := range told {
			posts = append(posts, threadPost(l, nudgeNote(n, l.OwnerCSM, manager)))
		}
		if len(due) > 0 {
			up, err := m.cardUpdate(l) // shows the step as overdue
			if err != nil {
				return err
			}
			posts = append(posts, up)
		}
		return enqueue(ctx, tx, posts...)
	})
}

// followUp sends a loop's follow-up survey once it is due: through the
// survey tool when there is one, else the CSM is asked to send it.
func (m *Module) followUp(ctx context.Context, id int64, now time.Time) error {
	return m.store.InTx(ctx, func(tx store.Tx) error {
		l, err := lockLoop(ctx, tx, id)
		if err != nil {
			return err
		}
		if !l.followUpDue(now) {
			return nil
		}
		a, err := loopAccount(ctx, tx, &l)
		if err != nil {
			return err
		}
		made, err := insertSurveys(ctx, tx, []Survey{{AccountID: l.AccountID, Contact: l.Respondent, Kind: KindFollowUp,
			Cycle: "loop:" + strconv.FormatInt(l.ID, 10), Reason: "follow-up of a detractor loop after its action plan", LoopID: l.ID}}, now)
		if err != nil || len(made) == 0 {
			return err
		}
		v := made[0]
		l.recordFollowUpSurvey(v.ID, m.webhookOn(), now)
		l.reschedule(m.policy)
		if m.webhookOn() {
			if err := insertDelivery(ctx, tx, SurveyPayload{Type: payloadType, GeneratedAt: now, Surveys: []SurveyRequest{{SurveyID: v.ID,
				Account: a.ExternalID, AccountName: a.Name, Kind: v.Kind, Reason: v.Reason, Contact: v.Contact, OwnerCSM: a.OwnerCSM}}},
				now, made); err != nil {
				return err
			}
		} else if err := markSurveysSent(ctx, tx, made, now); err != nil {
			return err
		}
		if err := saveLoop(ctx, tx, l); err != nil {
			return err
		}
		if err := addLoopTimeline(ctx, tx, l, store.TimelineEntry{At: now, Kind: "nps.follow_up_sent",
			Summary: "detractor follow-up survey to " + l.Respondent}); err != nil {
			return err
		}
		if l.ChannelID == "" {
			return nil
		}
		// The card says "sent" now; with a survey tool the POST is on its
		// way (and retried until the tool takes it).
		sent := l
		sent.FollowUpSentAt = &now
		up, err := m.cardUpdate(sent)
		if err != nil {
			return err
		}
		return enqueue(ctx, tx, threadPost(l, followUpSentNote(l.Respondent, m.policy.FollowUp, m.webhookOn())), up)
	})
}

// remind sends each CSM one message about their surveys sent a week ago
// (nps.cadence.reminder_after) and still unanswered; each survey is in one
// reminder only.
func (m *Module) remind(ctx context.Context, now time.Time) error {
	after := m.cfg.Cadence.ReminderAfter.Duration
	return m.store.InTx(ctx, func(tx store.Tx) error {
		list, err := claimUnanswered(ctx, tx, now.Add(-after), now, remindersPerRun)
		if err != nil {
			return err
		}
		byOwner := map[string][]reminderRow{}
		var owners []string
		for _, u := range list {
			if _, ok := byOwner[u.OwnerCSM]; !ok {
				owners = append(owners, u.OwnerCSM)
			}
			byOwner[u.OwnerCSM] = append(byOwner[u.OwnerCSM], reminderRow{AccountID: u.Survey.AccountID,
				AccountName: u.AccountName, Contact: u.Survey.Contact, Kind: u.Survey.Kind, SentAt: *u.Survey.SentAt})
		}
		slices.Sort(owners)
		for _, owner := range owners {
			// A DM is a post to the user's id; accounts without an owner go
			// to the CS channel.
			ch := cmp.Or(owner, m.channel)
			if ch == "" {
				m.log.Warn("survey reminders have nowhere to go", "surveys", len(byOwner[owner]))
				continue
			}
			if err := tx.Enqueue(ctx, store.OutboxItem{Op: store.OpPost, ChannelID: ch,
				Message: reminderCard(owner, byOwner[owner], after, now)}); err != nil {
				return err
			}
		}
		return nil
	})
}

// Digest posts the week's promoters (advocacy and expansion candidates)
// and passives (low-priority tasks) to the CS channel.
func (m *Module) Digest(ctx context.Context, now time.Time) error {
	if m.channel == "" {
		m.log.Warn("nps digest has nowhere to go: set nps.cs_channel or alerts.default_channel")
		return nil
	}
	return m.store.InTx(ctx, func(tx store.Tx) error {
		list, err := claimDigest(ctx, tx, now, digestPerRun)
		if err != nil || len(list) == 0 {
			return err
		}
		var promoters, passives []digestRow
		for _, e := range list {
			row := digestRow{AccountID: e.Response.AccountID, AccountName: e.AccountName, OwnerCSM: e.OwnerCSM,
				ARR: e.ARR, Respondent: e.Response.Respondent, Score: e.Response.Score, Comment: e.Response.Comment}
			if e.Response.Category == Promoter {
				promoters = append(promoters, row)
			} else {
				passives = append(passives, row)
			}
		}
		// Biggest accounts first: that is where advocacy and expansion pay.
		byARR := func(a, b digestRow) int { return cmp.Compare(b.ARR, a.ARR) }
		slices.SortStableFunc(promoters, byARR)
		slices.SortStableFunc(passives, func(a, b digestRow) int {
			return cmp.Or(cmp.Compare(a.OwnerCSM, b.OwnerCSM), byARR(a, b))
		})
		return tx.Enqueue(ctx, store.OutboxItem{Op: store.OpPost, ChannelID: m.channel, Priority: store.PriorityBulk,
			Message: digestCard(promoters, passives, Today(now, m.loc))})
	})
}
