// Package digest is the roll-up of account risk a channel subscribes to
// with /digest: accounts that entered at-risk, the biggest score drops with
// their drivers, competitor mentions by competitor with their trend,
// sentiment movers and the ARR at risk, sent once per subscription and
// period, even with several replicas. A subscription's topics also route
// live text alerts to the channel (AlertChannels).
//
// When a digest is due and what it says are pure rules (digest.go,
// command.go); the job and /digest load, build, claim the period and
// queue the post in one direction.
package digest

import (
	"context"
	"log/slog"
	"time"

	"github.com/holdfast/holdfast/handlers"
	"github.com/holdfast/holdfast/schedule"
	"github.com/holdfast/holdfast/store"
)

// JobSpec is how often the job looks for due digests; each goes out at its
// own time, within this much of it.
const JobSpec = "*/5 * * * *"

// Module answers /digest and sends the scheduled digests.
type Module struct {
	store    *store.Store
	settings Settings
	saves    SavesSource // nil: weekly digests have no Saves section
	now      func() time.Time
	log      *slog.Logger
	// gather loads the rows of one digest; tests count the calls.
	gather func(ctx context.Context, db store.DB, q query, topics []string) (Input, error)
}

// New wires /digest and the digest job; settings are the digest: section,
// validated. saves (may be nil) fills weekly digests' Saves section.
func New(st *store.Store, settings Settings, saves SavesSource, now func() time.Time, log *slog.Logger) *Module {
	return &Module{store: st, settings: settings, saves: saves, now: now, log: log, gather: gather}
}

// Name is the feature's name in logs and the app's feature list.
func (m *Module) Name() string { return "digest" }

// Register adds /digest.
func (m *Module) Register(r *handlers.Router) { r.HandleCommand("/digest", m.command) }

// Jobs is the digest job.
func (m *Module) Jobs() []schedule.Job {
	return []schedule.Job{{Name: "digest", Spec: JobSpec, Run: m.Run}}
}
