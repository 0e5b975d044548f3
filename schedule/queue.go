package schedule

// Queues: besides cron ticks, some work is a durable Postgres-backed queue
// (room handoffs, notes to summarise, CRM writes). A Loop leases what is
// due, works it, then sleeps until the next item is due, a notification
// says something new arrived, or a poll interval passes (notifications can
// be lost; the poll is the backstop).

import (
	"context"
	"log/slog"
	"time"
)

// Queue is one kind of durable work.
type Queue interface {
	// Work does one batch of due items and reports how many it leased.
	// A pass that leased anything is followed by another at once: its work
	// may have made more work due (the next step of a state machine).
	Work(ctx context.Context) (leased int, err error)
	// NextDue is when the earliest waiting item is due (zero if none).
	NextDue(ctx context.Context) (time.Time, error)
}

// Loop drives one queue.
type Loop struct {
	Name  string
	Queue Queue
	Poll  time.Duration // longest sleep; default 5 s
	Log   *slog.Logger

	wake chan struct{}
}

// Wake makes the loop look at its queue now.
func (l *Loop) Wake() {
	if l.wake == nil {
		return
	}
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Init prepares Wake; call it before Run and before anyone may Wake.
func (l *Loop) Init() *Loop {
	l.wake = make(chan struct{}, 1)
	if l.Poll <= 0 {
		l.Poll = 5 * time.Second
	}
	return l
}

// Run works the queue until ctx ends. Work in progress finishes on its own
// clock so a shutdown never leaves a step half done; what is left over
// waits in Postgres for the next run.
func (l *Loop) Run(ctx context.Context) {
	if l.wake == nil {
		l.Init()
	}
	for ctx.Err() == nil {
		n, err := l.Queue.Work(context.WithoutCancel(ctx))
		if err != nil {
			l.Log.Error("queue work failed", "queue", l.Name, "err", err)
			l.sleep(ctx, time.Second)
			continue
		}
		if n > 0 {
			continue
		}
		l.sleep(ctx, l.untilNext(ctx))
	}
}

func (l *Loop) untilNext(ctx context.Context) time.Duration {
	next, err := l.Queue.NextDue(ctx)
	if err != nil || next.IsZero() {
		return l.Poll
	}
	return min(l.Poll, max(10*time.Millisecond, time.Until(next)))
}

func (l *Loop) sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-l.wake:
	case <-t.C:
	}
}

// Backoff is the wait before retry number attempt (1-based): base doubling
// each time, capped.
func Backoff(attempt int, base, limit time.Duration) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := base
	for i := 1; i < attempt && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}
