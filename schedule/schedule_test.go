package schedule

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/holdfast/holdfast/internal/testenv"
)

func newScheduler(t *testing.T, prefix string, now func() time.Time) *Scheduler {
	rdb, _ := testenv.Redis(t)
	return New(rdb, prefix, time.UTC, now, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
}

func TestATickRunsOnceAcrossReplicas(t *testing.T) {
	t.Parallel()
	_, prefix := testenv.Redis(t)
	at := time.Date(2026, 11, 25, 9, 0, 3, 0, time.UTC)
	var runs atomic.Int32
	var seen sync.Map
	job := Job{Name: "digest", Spec: "0 9 * * *", Run: func(_ context.Context, now time.Time) error {
		runs.Add(1)
		seen.Store(now, true)
		return nil
	}}
	var replicas []*Scheduler
	for range 3 {
		s := newScheduler(t, prefix, func() time.Time { return at })
		if err := s.Add(job); err != nil {
			t.Fatal(err)
		}
		s.ctx = context.Background()
		replicas = append(replicas, s)
	}
	var wg sync.WaitGroup
	for _, s := range replicas {
		wg.Go(func() { s.tick(s.jobs["digest"]) })
	}
	wg.Wait()
	if n := runs.Load(); n != 1 {
		t.Fatalf("job ran %d times for one tick on three replicas, want 1", n)
	}
	// The next day's tick is a new tick.
	at = at.AddDate(0, 0, 1)
	replicas[1].tick(replicas[1].jobs["digest"])
	if n := runs.Load(); n != 2 {
		t.Fatalf("next tick: %d runs, want 2", n)
	}
}

func TestAddValidates(t *testing.T) {
	t.Parallel()
	s := newScheduler(t, "x:", time.Now)
	run := func(context.Context, time.Time) error { return nil }
	cases := []struct {
		job  Job
		want string
	}{
		{Job{Name: "a", Spec: "not a spec", Run: run}, "spec"},
		{Job{Name: "b", Spec: "@every 10s", Run: run}, "more than once a minute"},
		{Job{Name: "", Spec: "@daily", Run: run}, "needs a name"},
	}
	for _, c := range cases {
		if err := s.Add(c.job); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Add(%+v) = %v, want an error with %q", c.job.Name, err, c.want)
		}
	}
	if err := s.Add(Job{Name: "ok", Spec: "*/5 * * * *", Run: run}); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(Job{Name: "ok", Spec: "@hourly", Run: run}); err == nil {
		t.Error("duplicate name accepted")
	}
	if err := Validate("0 9 * * 1-5"); err != nil {
		t.Error(err)
	}
}

func TestRunNowPassesTheClockAndWrapsErrors(t *testing.T) {
	t.Parallel()
	s := newScheduler(t, "y:", time.Now)
	when := time.Date(2027, 1, 4, 8, 0, 0, 0, time.UTC)
	var got time.Time
	_ = s.Add(Job{Name: "j", Spec: "@daily", Run: func(_ context.Context, now time.Time) error {
		got = now
		return context.DeadlineExceeded
	}})
	err := s.RunNow(context.Background(), "j", when)
	if !got.Equal(when) || err == nil || !strings.Contains(err.Error(), "job j") {
		t.Fatalf("RunNow: now %s err %v", got, err)
	}
	if err := s.RunNow(context.Background(), "nope", when); err == nil {
		t.Error("unknown job ran")
	}
}

func TestRunStopsWhenContextEnds(t *testing.T) {
	t.Parallel()
	s := newScheduler(t, "z:", time.Now)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestOffSpecsLeaveTheJobOut(t *testing.T) {
	t.Parallel()
	s := newScheduler(t, "off:", time.Now)
	run := func(context.Context, time.Time) error { return nil }
	for _, spec := range []string{Off, ""} {
		if err := Validate(spec); err != nil {
			t.Errorf("Validate(%q) = %v", spec, err)
		}
		if err := s.Add(Job{Name: "j" + spec, Spec: spec, Run: run}); err != nil {
			t.Errorf("Add with spec %q: %v", spec, err)
		}
	}
	if len(s.Jobs()) != 0 {
		t.Errorf("jobs %v scheduled, want none", s.Jobs())
	}
	if err := s.RunNow(context.Background(), "joff", time.Now()); err == nil {
		t.Error("a job turned off can be run")
	}
}
