package playbook

import (
	"context"
	"strings"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/bot"
	"github.com/holdfast/holdfast/handlers"
	"github.com/holdfast/holdfast/internal/digest"
)

// reportViewer is what a report asks of the request's viewer beyond its
// book (access.Person has it): whether they may see figures at all, and
// whose figures — finance sees every account's figures without reading
// any account.
type reportViewer interface {
	MaySeeReports() bool
	ReportBook() (all bool, owners []string)
}

// reportRefusal answers someone without report rights; the Router's gate
// (access) refuses first, this keeps the module safe behind any gate.
var reportRefusal = blocks.Message{Text: "Sorry, the at-risk report is for leadership, managers and finance. " +
	"`/atrisk` shows the accounts in your book."}

// reportCommand answers /atrisk report [period]: the playbooks' response
// times, outcomes and ARR saved, by CSM and segment, for the asker's book.
func (m *Module) reportCommand(ctx context.Context, cmd slack.SlashCommand, args []string) (bot.Reply, error) {
	var owners []string // nil: every account
	book := false
	if v := handlers.ViewerFrom(ctx); v != nil {
		all, list := v.Book()
		if rv, ok := v.(reportViewer); ok {
			if !rv.MaySeeReports() {
				return bot.Reply{Message: reportRefusal}, nil
			}
			all, list = rv.ReportBook()
		}
		if !all {
			owners, book = append([]string{}, list...), true
		}
	}
	if len(args) > 1 {
		return bot.Reply{Message: blocks.Problem(reportUsage)}, nil
	}
	now := m.now()
	p, err := parseReportPeriod(strings.Join(args, ""), now, m.loc)
	if err != nil {
		return bot.Reply{Message: blocks.Problem("%s. "+reportUsage, err.Error())}, nil
	}
	f, err := loadReport(ctx, m.store.DB(), reportQuery{Start: p.Start, End: p.End, AsOf: now, Owners: owners})
	if err != nil {
		return bot.Reply{}, err
	}
	return bot.Reply{Message: reportCard(reportView{Period: p, Location: m.loc, Book: book, Figures: f})}, nil
}

// Saves are a weekly digest's playbook figures (digest.SavesSource): the
// report's figures for the digest's window and filters.
func (m *Module) Saves(ctx context.Context, q digest.SavesQuery) (digest.Saves, error) {
	f, err := loadReport(ctx, m.store.DB(), reportQuery{Start: q.Start, End: q.End, AsOf: m.now(), MinARR: q.MinARR, Tier: q.Tier})
	if err != nil {
		return digest.Saves{}, err
	}
	return digest.Saves{Opened: f.Opened, SLAMet: f.SLAMet, SLADue: f.SLADue, MedianClaim: f.ClaimMedian,
		Recovered: f.Recovered, Churned: f.Churned, Dismissed: f.Dismissed, StillOpen: f.StillOpen,
		ARRSaved: f.ARRSaved, ARRLost: f.ARRLost, RecoveryRate: f.RecoveryRate(), MedianRecovery: f.RecoveryMedian}, nil
}

// The module fills weekly digests' Saves section.
var _ digest.SavesSource = (*Module)(nil)
