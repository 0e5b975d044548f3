// Package schedule runs Holdfast's periodic jobs (digests, SLA nudges,
// survey cadence) on cron specs, once per tick across every replica.
// Durable queues are store.Queue's.
//
// Each replica runs the same cron table; when a tick fires, the replicas race
// for a Redis key named after the job and the tick, and only the winner runs
// the job. Jobs must still be written to catch up (select everything due as
// of now, mark it done in the same transaction as its effect), because a
// replica can die after winning a tick: the next tick then does the work.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/robfig/cron/v3"
)

// JobFunc does one run of a job as of now.
type JobFunc func(ctx context.Context, now time.Time) error

// Job is a named piece of periodic work.
type Job struct {
	Name string // unique; part of the Redis key and the metrics label
	// Spec is a standard five-field cron spec ("0 9 * * 1-5") or a
	// descriptor ("@every 5m", "@daily"), in the scheduler's time zone;
	// Off or "" leaves the job out.
	Spec string
	Run  JobFunc
	// Timeout bounds one run; default 10 minutes.
	Timeout time.Duration
}

// Scheduler owns the cron table.
type Scheduler struct {
	cron   *cron.Cron
	rdb    *redis.Client
	prefix string
	now    func() time.Time
	log    *slog.Logger
	jobs   map[string]Job
	wg     sync.WaitGroup
	ctx    context.Context
	runs   *prometheus.CounterVec
}

var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// New builds a scheduler that reads specs in loc. prefix namespaces its
// Redis keys; now is the clock jobs are given.
func New(rdb *redis.Client, prefix string, loc *time.Location, now func() time.Time, log *slog.Logger, reg prometheus.Registerer) *Scheduler {
	s := &Scheduler{
		cron:   cron.New(cron.WithLocation(loc), cron.WithParser(parser)),
		rdb:    rdb,
		prefix: prefix,
		now:    now,
		log:    log,
		jobs:   map[string]Job{},
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "holdfast_job_runs_total", Help: "Scheduled job runs by job and outcome.",
		}, []string{"job", "outcome"}),
	}
	reg.MustRegister(s.runs)
	return s
}

// Off is the spec that turns a job off (so is an empty spec).
const Off = "off"

func isOff(spec string) bool { return spec == "" || spec == Off }

// Validate checks a spec the way Add will, for config validation.
func Validate(spec string) error {
	if isOff(spec) {
		return nil
	}
	_, err := parser.Parse(spec)
	return err
}

// Add registers jobs. It is an error to add two jobs with one name or a
// spec that does not parse.
func (s *Scheduler) Add(jobs ...Job) error {
	for _, j := range jobs {
		if err := s.add(j); err != nil {
			return err
		}
	}
	return nil
}

func (s *Scheduler) add(j Job) error {
	if j.Name == "" || j.Run == nil {
		return errors.New("schedule: job needs a name and a function")
	}
	if _, dup := s.jobs[j.Name]; dup {
		return fmt.Errorf("schedule: job %q added twice", j.Name)
	}
	if isOff(j.Spec) {
		return nil // configured off: not scheduled, not runnable
	}
	sched, err := parser.Parse(j.Spec)
	if err != nil {
		return fmt.Errorf("schedule: job %q: spec %q: %w", j.Name, j.Spec, err)
	}
	// The tick lock is named by the minute, so two ticks in one minute
	// would be taken for one.
	first := sched.Next(time.Now())
	if sched.Next(first).Sub(first) < time.Minute {
		return fmt.Errorf("schedule: job %q: spec %q runs more than once a minute", j.Name, j.Spec)
	}
	if j.Timeout <= 0 {
		j.Timeout = 10 * time.Minute
	}
	s.jobs[j.Name] = j
	s.cron.Schedule(sched, cron.FuncJob(func() { s.tick(j) }))
	return nil
}

// Jobs lists the registered job names.
func (s *Scheduler) Jobs() []string {
	out := make([]string, 0, len(s.jobs))
	for n := range s.jobs {
		out = append(out, n)
	}
	return out
}

// Run starts the cron table and blocks until ctx ends; then it waits for
// the runs in flight to finish.
func (s *Scheduler) Run(ctx context.Context) {
	s.ctx = ctx
	s.cron.Start()
	<-ctx.Done()
	<-s.cron.Stop().Done()
	s.wg.Wait()
}

func (s *Scheduler) tick(j Job) {
	ctx := s.ctx
	if ctx == nil || ctx.Err() != nil {
		return
	}
	now := s.now()
	// Replicas' clocks differ by a little; the minute names the tick.
	key := s.prefix + "job:" + j.Name + ":" + now.UTC().Truncate(time.Minute).Format(time.RFC3339)
	won, err := s.rdb.SetNX(ctx, key, "1", 24*time.Hour).Result()
	if err != nil {
		s.log.Warn("scheduled job skipped: redis unavailable", "job", j.Name, "err", err)
		s.runs.WithLabelValues(j.Name, "skipped").Inc()
		return
	}
	if !won {
		s.runs.WithLabelValues(j.Name, "other_replica").Inc()
		return
	}
	s.wg.Add(1)
	defer s.wg.Done()
	if err := s.RunNow(context.WithoutCancel(ctx), j.Name, now); err != nil {
		s.log.Error("scheduled job failed", "job", j.Name, "err", err)
	}
}

// RunNow runs a job once, as of now, on this replica without taking the
// tick lock. Tests drive jobs this way with a test clock; operators could
// too.
func (s *Scheduler) RunNow(ctx context.Context, name string, now time.Time) error {
	j, ok := s.jobs[name]
	if !ok {
		return fmt.Errorf("schedule: no job %q", name)
	}
	ctx, cancel := context.WithTimeout(ctx, j.Timeout)
	defer cancel()
	start := time.Now()
	err := j.Run(ctx, now)
	outcome := "ok"
	if err != nil {
		outcome = "error"
		err = fmt.Errorf("job %s: %w", name, err)
	}
	s.runs.WithLabelValues(name, outcome).Inc()
	s.log.Debug("scheduled job ran", "job", name, "took", time.Since(start), "err", err)
	return err
}
