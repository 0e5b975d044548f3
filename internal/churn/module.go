// Package churn closes the loop from churn back to Sales: why customers
// leave (the root-cause taxonomy, shared with NPS detractor loops), the
// churn records CSMs file with /churned, the sales debrief of a
// sales-attributable churn and the 30-day check-in on the process change
// it agreed, the root-cause reports (/rootcause and the monthly post:
// causes, repeats, cohorts, lookalike accounts, win-back and the tag
// audit), and the weekly win-back list of dormant and churned accounts.
//
// Win-back lives here rather than in a module of its own: its windows are
// set per root cause, its churned candidates are churn records, its
// results are part of the root-cause report, and churn admins may act on
// any list.
package churn

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/handlers"
	"github.com/holdfast/holdfast/schedule"
	"github.com/holdfast/holdfast/store"
)

// Slack is what the module asks of Slack directly; messages go through the
// outbox.
type Slack interface {
	OpenView(ctx context.Context, triggerID string, view slack.ModalViewRequest) error
}

// Options configure the module.
type Options struct {
	Settings Settings        // YAML churn
	Winback  WinbackSettings // YAML winback
	// DefaultChannel (alerts.default_channel) gets the churn note of an
	// account without a channel, and the win-back list of unowned accounts.
	DefaultChannel string
	// Location is the team's time zone: dates, debrief times, job days.
	Location *time.Location
	// Playbooks, when set, names the alert thread a churn note joins and
	// closes the account's at-risk playbook in the churn's transaction.
	Playbooks Playbooks
}

// Playbooks is what a churn asks of the at-risk playbook.
type Playbooks interface {
	AlertThread(ctx context.Context, tx store.Tx, accountID int64, channel string) (string, error)
	Churned(ctx context.Context, tx store.Tx, accountID int64, by string, at time.Time) error
}

// Module is the churn feature: its Slack commands, clicks and forms, its
// scheduled jobs, and the services behind them.
type Module struct {
	store          *store.Store
	slack          Slack
	router         *handlers.Router
	set            Settings
	winback        WinbackSettings
	defaultChannel string
	loc            *time.Location
	playbooks      Playbooks
	now            func() time.Time
	log            *slog.Logger
}

// New wires the module; now is the clock (tests pass their own).
func New(st *store.Store, sl Slack, opts Options, now func() time.Time, log *slog.Logger) *Module {
	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	return &Module{store: st, slack: sl, set: opts.Settings, winback: opts.Winback, defaultChannel: opts.DefaultChannel,
		loc: loc, playbooks: opts.Playbooks, now: now, log: log}
}

// Name names the feature.
func (m *Module) Name() string { return "churn" }

// Job names of the module's scheduled work.
const (
	JobRootCauseMonthly = "rootcause_monthly"
	JobDebriefCheckins  = "debrief_checkins"
	JobWinbackWeekly    = "winback_weekly"
)

// Jobs are the scheduled jobs, in the schedule time zone: the monthly
// root-cause post (checked every weekday at 09:00; it goes out on the
// first business day, or the next run after it), the 30-day check-ins
// (daily 09:30) and the win-back list (Mondays 09:00).
func (m *Module) Jobs() []schedule.Job {
	return []schedule.Job{
		{Name: JobRootCauseMonthly, Spec: "0 9 * * 1-5", Run: m.MonthlyPost},
		{Name: JobDebriefCheckins, Spec: "30 9 * * *", Run: m.Checkins},
		{Name: JobWinbackWeekly, Spec: "0 9 * * 1", Run: m.WinbackWeekly},
	}
}

// Profile is an account's stored cohort traits ({} when none are known)
// and its Stripe customer.
func (m *Module) Profile(ctx context.Context, accountID int64) (Profile, string, error) {
	return accountProfile(ctx, m.store.DB(), accountID)
}

func (m *Module) today(now time.Time) time.Time { return Date(now, m.loc) }

// at turns a date into the instant it starts in the team's time zone.
func (m *Module) at(d time.Time) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, m.loc)
}

// Who may do what.

func (m *Module) isAdmin(user string) bool { return slices.Contains(m.set.Admins, user) }

// canRecord: the owner CSM records their account's churn; admins any; an
// unowned account anyone.
func (m *Module) canRecord(user string, a store.Account) bool {
	return a.OwnerCSM == "" || a.OwnerCSM == user || m.isAdmin(user)
}

// canDebrief: the AE, the sales manager, the CSMs involved and admins.
func (m *Module) canDebrief(user string, r StoredRecord) bool {
	return user != "" && (user == r.AE || user == r.SalesManager || user == r.RecordedBy || user == r.OwnerCSM || m.isAdmin(user))
}

// canWinback: the owner the account was offered to, its admins, and anyone
// for an unowned account's offer.
func (m *Module) canWinback(user string, o WinbackOffer) bool {
	return o.Owner == "" || o.Owner == user || m.isAdmin(user)
}
