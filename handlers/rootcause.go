package handlers

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/bot"
	"github.com/holdfast/holdfast/churn"
	"github.com/holdfast/holdfast/store"
)

const rootcauseUsage = "Usage: /rootcause [report] [month|quarter|2027-02|2027-Q1] · /rootcause audit [month|quarter|…]"

func (h *Loop) rootcause(ctx context.Context, cmd slack.SlashCommand) (bot.Reply, error) {
	args := strings.Fields(strings.ToLower(cmd.Text))
	what := "report"
	if len(args) > 0 && (args[0] == "report" || args[0] == "audit" || args[0] == "help") {
		what, args = args[0], args[1:]
	}
	if what == "help" || len(args) > 1 {
		return reply(blocks.Problem(rootcauseUsage)), nil
	}
	arg := ""
	if len(args) == 1 {
		arg = args[0]
	} else if what == "audit" {
		arg = churn.Quarter // a month holds too few records per CSM to judge
	}
	today := h.today(h.now())
	p, err := churn.ParsePeriod(arg, today)
	if err != nil {
		return reply(blocks.Problem("%s. "+rootcauseUsage, err.Error())), nil
	}
	if what == "audit" {
		m, err := h.audit(ctx, p)
		if err != nil {
			return bot.Reply{}, err
		}
		return reply(m), nil
	}
	r, err := h.Report(ctx, p)
	if err != nil {
		return bot.Reply{}, err
	}
	return reply(blocks.RootCauseReport(r)), nil
}

func toRecords(in []store.ChurnRecord) []churn.Record {
	out := make([]churn.Record, len(in))
	for i, r := range in {
		out[i] = r.Record
	}
	return out
}

// Report computes the root-cause report of a period.
func (h *Loop) Report(ctx context.Context, p churn.Period) (churn.Report, error) {
	// One read covers the four quarters (repeating causes) and the
	// lookalike window (recent sales-attributable churn).
	from := churn.Quarters(p)[0].Start
	recentFrom := p.End.Add(-h.settings.Churn.LookalikeWindow.Duration)
	if recentFrom.Before(from) {
		from = recentFrom
	}
	recs, err := h.store.ChurnRecords(ctx, from, p.End)
	if err != nil {
		return churn.Report{}, err
	}
	groups, err := h.store.CohortGroups(ctx, p)
	if err != nil {
		return churn.Report{}, err
	}
	// The profile of recent sales-attributable churn, matched against the
	// accounts that are customers now.
	var sales []churn.Record
	var profiles []churn.Profile
	for _, r := range recs {
		if r.SalesAttributable && !r.ChurnedOn.Before(recentFrom) {
			sales = append(sales, r.Record)
			profiles = append(profiles, r.Profile)
		}
	}
	cands, err := h.store.LookalikeCandidates(ctx, profiles, "", h.settings.Churn.LookalikeMinMatch, 100)
	if err != nil {
		return churn.Report{}, err
	}
	from, to := h.at(p.Start), h.at(p.End)
	wins, err := h.store.WinbackAttempts(ctx, from, to)
	if err != nil {
		return churn.Report{}, err
	}
	changes, err := h.store.ProcessChanges(ctx, from, to)
	if err != nil {
		return churn.Report{}, err
	}
	return churn.BuildReport(churn.ReportInput{Period: p, Records: toRecords(recs), Cohorts: groups,
		Lookalikes: churn.MatchLookalikes(sales, cands, h.settings.Churn.LookalikeMinMatch, 10), Winback: wins, ProcessChanges: changes}), nil
}

func (h *Loop) audit(ctx context.Context, p churn.Period) (blocks.Message, error) {
	recs, err := h.store.ChurnRecords(ctx, p.Start, p.End)
	if err != nil {
		return blocks.Message{}, err
	}
	a := h.settings.Churn.Audit
	rows, team := churn.TagAudit(toRecords(recs), a.MinRecords, a.CatchAllShare)
	return blocks.TagAudit(blocks.TagAuditView{Period: p, Rows: rows, Team: team, Share: a.CatchAllShare}), nil
}

// MonthlyPost posts last month's root-cause report to the debrief channel
// on the first business day of the month (or the first run after it),
// with the quarter's tag audit in its thread, once.
func (h *Loop) MonthlyPost(ctx context.Context, now time.Time) error {
	channel := h.settings.Churn.DebriefChannel
	if channel == "" {
		return nil
	}
	p, due := churn.MonthlyPostDue(h.today(now))
	if !due {
		return nil
	}
	if done, err := h.store.Posted(ctx, JobRootCauseMonthly, p.Key()); err != nil || done {
		return err
	}
	r, err := h.Report(ctx, p)
	if err != nil {
		return err
	}
	audit, err := h.audit(ctx, churn.QuarterOf(p.Start))
	if err != nil {
		return err
	}
	report := blocks.RootCauseReport(r)
	thread := "rootcause:" + p.Key()
	posted, err := h.store.PostOnce(ctx, JobRootCauseMonthly, p.Key(), now, []store.OutboxItem{
		{Op: store.OpPost, ChannelID: channel, ThreadKey: thread, Message: report},
		{Op: store.OpPost, ChannelID: channel, ThreadKey: thread, Message: audit},
	})
	if err != nil {
		return fmt.Errorf("monthly root-cause post: %w", err)
	}
	if posted {
		h.log.Info("monthly root-cause report posted", "period", p.Key(), "channel", channel)
	}
	return nil
}
