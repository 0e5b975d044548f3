package schedule

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	for _, tt := range []struct {
		attempt int
		want    time.Duration
	}{{0, time.Second}, {1, time.Second}, {2, 2 * time.Second}, {5, 16 * time.Second}, {7, 30 * time.Second}, {1000, 30 * time.Second}} {
		if got := Backoff(tt.attempt, time.Second, 30*time.Second); got != tt.want {
			t.Errorf("Backoff(%d) = %s, want %s", tt.attempt, got, tt.want)
		}
	}
}

type queue struct {
	works atomic.Int32
	full  atomic.Int32 // passes that lease something
}

func (q *queue) Work(context.Context) (int, error) {
	q.works.Add(1)
	if q.full.Add(-1) >= 0 {
		return 4, nil
	}
	return 0, nil
}

func (q *queue) NextDue(context.Context) (time.Time, error) { return time.Time{}, nil }

func TestLoopDrainsUntilEmptyAndWakes(t *testing.T) {
	q := &queue{}
	q.full.Store(3)
	l := (&Loop{Name: "q", Queue: q, Poll: time.Hour, Log: slog.New(slog.DiscardHandler)}).Init()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for q.works.Load() < 4 { // three passes with work, then an empty one
		if time.Now().After(deadline) {
			t.Fatalf("only %d passes", q.works.Load())
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	if n := q.works.Load(); n != 4 {
		t.Fatalf("%d passes before the hour-long poll, want 4", n)
	}
	l.Wake()
	for q.works.Load() < 5 {
		if time.Now().After(deadline) {
			t.Fatal("Wake did not start a pass")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
}
