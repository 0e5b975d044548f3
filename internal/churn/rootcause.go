package churn

// Root-cause reports: read what a period's report is computed from, build
// it (BuildReport, pure), and post last month's once.

import (
	"context"
	"fmt"
	"time"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/store"
)

func toRecords(in []StoredRecord) []Record {
	out := make([]Record, len(in))
	for i, r := range in {
		out[i] = r.Record
	}
	return out
}

// Report computes the root-cause report of a period.
func (m *Module) Report(ctx context.Context, p Period) (Report, error) {
	db := m.store.DB()
	// One read covers the four quarters (repeating causes) and the
	// lookalike window (recent sales-attributable churn).
	from := Quarters(p)[0].Start
	recentFrom := p.End.Add(-m.set.LookalikeWindow.Duration)
	if recentFrom.Before(from) {
		from = recentFrom
	}
	recs, err := churnRecords(ctx, db, from, p.End)
	if err != nil {
		return Report{}, err
	}
	groups, err := cohortGroups(ctx, db, p)
	if err != nil {
		return Report{}, err
	}
	// The profile of recent sales-attributable churn, matched against the
	// accounts that are customers now.
	var sales []Record
	var profiles []Profile
	for _, r := range recs {
		if r.SalesAttributable && !r.ChurnedOn.Before(recentFrom) {
			sales = append(sales, r.Record)
			profiles = append(profiles, r.Profile)
		}
	}
	cands, err := lookalikeCandidates(ctx, db, profiles, "", m.set.LookalikeMinMatch, 100)
	if err != nil {
		return Report{}, err
	}
	from, to := m.at(p.Start), m.at(p.End)
	wins, err := winbackAttempts(ctx, db, from, to)
	if err != nil {
		return Report{}, err
	}
	changes, err := processChanges(ctx, db, from, to)
	if err != nil {
		return Report{}, err
	}
	return BuildReport(ReportInput{Period: p, Records: toRecords(recs), Cohorts: groups,
		Lookalikes: MatchLookalikes(sales, cands, m.set.LookalikeMinMatch, 10), Winback: wins, ProcessChanges: changes}), nil
}

// audit renders the root-cause tag audit of a period.
func (m *Module) audit(ctx context.Context, p Period) (blocks.Message, error) {
	recs, err := churnRecords(ctx, m.store.DB(), p.Start, p.End)
	if err != nil {
		return blocks.Message{}, err
	}
	a := m.set.Audit
	rows, team := TagAudit(toRecords(recs), a.MinRecords, a.CatchAllShare)
	return auditCard(auditView{Period: p, Rows: rows, Team: team, Share: a.CatchAllShare}), nil
}

// MonthlyPost posts last month's root-cause report to the debrief channel
// on the first business day of the month (or the first run after it),
// with the quarter's tag audit in its thread, once: the post is recorded
// in the transaction that enqueues it, so replicas and catch-up runs
// cannot post it twice.
func (m *Module) MonthlyPost(ctx context.Context, now time.Time) error {
	channel := m.set.DebriefChannel
	if channel == "" {
		return nil
	}
	p, due := MonthlyPostDue(m.today(now))
	if !due {
		return nil
	}
	if done, err := posted(ctx, m.store.DB(), JobRootCauseMonthly, p.Key()); err != nil || done {
		return err
	}
	r, err := m.Report(ctx, p)
	if err != nil {
		return err
	}
	audit, err := m.audit(ctx, QuarterOf(p.Start))
	if err != nil {
		return err
	}
	thread := "rootcause:" + p.Key()
	items := []store.OutboxItem{
		{Op: store.OpPost, ChannelID: channel, ThreadKey: thread, Message: reportCard(r), Priority: store.PriorityBulk},
		{Op: store.OpPost, ChannelID: channel, ThreadKey: thread, Message: audit, Priority: store.PriorityBulk},
	}
	first := false
	err = m.store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if first, err = recordPost(ctx, tx, JobRootCauseMonthly, p.Key(), now); err != nil || !first {
			return err
		}
		return enqueue(ctx, tx, items)
	})
	if err != nil {
		return fmt.Errorf("monthly root-cause post: %w", err)
	}
	if first {
		m.log.Info("monthly root-cause report posted", "period", p.Key(), "channel", channel)
	}
	return nil
}
