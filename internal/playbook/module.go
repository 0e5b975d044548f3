// Package playbook is what follows a churn-risk alert: the response SLA
// (the owner nudged, then their manager), the intervention recorded step by
// step in the alert's thread (contact, discovery, plan, weekly check-ins),
// its resolution (recovered after staying above the line, churned, or
// dismissed as a false alarm with a reason), live alerts for leadership,
// /atrisk ordered by what is at stake, and the figures that show saves.
//
// A playbook opens in the ingest transaction of the at-risk or critical
// alert that starts an episode of risk; later alerts of the episode join
// it. Every change (claim, step, nudge, resolution) is one transaction that
// also queues its Slack messages, so each happens once across replicas and
// survives restarts.
package playbook

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/handlers"
	"github.com/holdfast/holdfast/internal/access"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/schedule"
	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/store"
)

// Job names.
const (
	JobWatch = "playbook.watch" // nudges, escalations, overdue steps, check-ins, recoveries
	JobChart = "playbook.chart" // monthly at-risk ARR chart
)

// Slack is what the module asks of Slack directly (everything else goes
// through the outbox).
type Slack interface {
	OpenView(ctx context.Context, triggerID string, view slack.ModalViewRequest) error
	Respond(ctx context.Context, responseURL string, m blocks.Message, replaceOriginal bool) error
}

// FileUploader shares a file in a channel (files.uploadV2): the monthly chart.
type FileUploader interface {
	UploadFileContext(ctx context.Context, params slack.UploadFileParameters) (*slack.FileSummary, error)
}

// Roles says who leads and who manages whom.
type Roles interface {
	Current(ctx context.Context, user string) access.Person
	ManagersOf(csm string) []string
}

// Options are what the module runs with besides its dependencies.
type Options struct {
	Settings Settings
	Scoring  scoring.Config // the at-risk line
	// QuietHours (alerts.quiet_hours) delay non-critical alerts; the SLA
	// clock starts when the alert is due in Slack.
	QuietHours schedule.QuietHours
	// DefaultChannel (alerts.default_channel) gets the monthly chart when
	// no channel subscribes to a weekly digest.
	DefaultChannel string
	Location       *time.Location // schedule.timezone
	// Cooldown (alerts.cooldown): a live leadership alert of one kind goes
	// to a channel once per account per cooldown.
	Cooldown time.Duration
	// Files uploads the monthly chart.
	Files FileUploader
}

// Module is the at-risk playbook with the feature face app.go mounts.
type Module struct {
	store    *store.Store
	ingest   *ingest.Pipeline
	slack    Slack
	files    FileUploader
	roles    Roles
	router   *handlers.Router
	cfg      Settings
	scoring  scoring.Config
	quiet    schedule.QuietHours
	channel  string
	loc      *time.Location
	cooldown time.Duration
	metrics  *Metrics
	now      func() time.Time
	log      *slog.Logger
}

// New wires the module.
func New(st *store.Store, in *ingest.Pipeline, sl Slack, roles Roles, opts Options, metrics *Metrics,
	now func() time.Time, log *slog.Logger) *Module {
	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	if metrics == nil {
		metrics = NewMetrics(prometheus.NewRegistry())
	}
	return &Module{store: st, ingest: in, slack: sl, roles: roles, cfg: opts.Settings, scoring: opts.Scoring,
		quiet: opts.QuietHours, channel: opts.DefaultChannel, loc: loc, cooldown: opts.Cooldown, files: opts.Files, metrics: metrics, now: now, log: log}
}

// Name is the feature's name.
func (m *Module) Name() string { return "playbook" }

// Jobs are the watcher and the monthly chart (the weekly figures are the
// digest's Saves section: Module.Saves).
func (m *Module) Jobs() []schedule.Job {
	return []schedule.Job{
		{Name: JobWatch, Spec: m.cfg.Jobs, Run: m.Watch},
		{Name: JobChart, Spec: m.cfg.Chart, Run: m.MonthlyChart},
	}
}

// IngestHooks open a playbook with the alert that starts an episode of
// risk, in the alert's transaction.
func (m *Module) IngestHooks() []ingest.Hook {
	return []ingest.Hook{ingest.HookFunc(m.openFromAlerts)}
}
