package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/holdfast/holdfast/store"
)

// OutboxStore is the queue the deliverer drains.
type OutboxStore interface {
	LeaseOutbox(ctx context.Context, n int, lease time.Duration) ([]store.OutboxItem, error)
	MarkDelivered(ctx context.Context, it store.OutboxItem, ts string) error
	MarkFailed(ctx context.Context, id int64, cause error, retryAt time.Time, permanent bool) error
	NextOutboxDue(ctx context.Context) (time.Time, error)
	ListenOutbox(ctx context.Context, wake func()) error
}

// Deliverer moves outbox rows to Slack. Rows are leased, so several replicas
// can run one each; a replica that dies mid-delivery leaves its lease to
// expire and another one delivers.
type Deliverer struct {
	store   OutboxStore
	sender  *Sender
	log     *slog.Logger
	wake    chan struct{}
	workers int
	// poll bounds how long a message due later (quiet hours, retry) waits
	// when no notification arrives.
	poll time.Duration
}

// leaseFor is long enough for a paced post that meets a 429 or two.
const leaseFor = 2 * time.Minute

// maxAttempts before a message is given up on and left for a person to see.
const maxAttempts = 25

// NewDeliverer wires a deliverer with `workers` concurrent deliveries.
func NewDeliverer(st OutboxStore, sender *Sender, workers int, log *slog.Logger) *Deliverer {
	return &Deliverer{store: st, sender: sender, log: log, wake: make(chan struct{}, 1), workers: max(1, workers), poll: 5 * time.Second}
}

// Wake makes the deliverer look at the outbox now.
func (d *Deliverer) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends, then finishes the deliveries in flight.
func (d *Deliverer) Run(ctx context.Context) {
	go d.listen(ctx)
	var inflight sync.WaitGroup
	defer inflight.Wait()
	slots := make(chan struct{}, d.workers)
	for ctx.Err() == nil {
		items, err := d.store.LeaseOutbox(ctx, d.workers*4, leaseFor)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Error("lease outbox", "err", err)
			}
			d.idle(ctx, time.Second)
			continue
		}
		if len(items) == 0 {
			d.idle(ctx, d.untilNextDue(ctx))
			continue
		}
		for _, it := range items {
			slots <- struct{}{}
			inflight.Go(func() {
				defer func() { <-slots }()
				// Shutdown must not cut a delivery in half: finish it on its own clock.
				dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), leaseFor)
				defer cancel()
				d.deliver(dctx, it)
			})
		}
		// The next lease must see this batch's results (thread roots, order).
		inflight.Wait()
	}
}

func (d *Deliverer) listen(ctx context.Context) {
	for ctx.Err() == nil {
		if err := d.store.ListenOutbox(ctx, d.Wake); err != nil {
			d.log.Warn("outbox notifications lost; polling until they are back", "err", err)
			d.idle(ctx, 2*time.Second)
		}
	}
}

func (d *Deliverer) untilNextDue(ctx context.Context) time.Duration {
	next, err := d.store.NextOutboxDue(ctx)
	if err != nil || next.IsZero() {
		return d.poll
	}
	return min(d.poll, max(10*time.Millisecond, time.Until(next)))
}

func (d *Deliverer) idle(ctx context.Context, wait time.Duration) {
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-d.wake:
	case <-t.C:
	}
}

func (d *Deliverer) deliver(ctx context.Context, it store.OutboxItem) {
	var m Message
	if err := json.Unmarshal(it.Raw, &m); err != nil {
		d.fail(ctx, it, fmt.Errorf("decode outbox message: %w", err), true)
		return
	}
	var ts string
	var err error
	switch it.Op {
	case store.OpPost:
		it.SentChannel, ts, err = d.sender.Post(ctx, it.ChannelID, it.ThreadTS, m)
	case store.OpUpdate:
		ts = it.TargetTS
		err = d.sender.Update(ctx, it.ChannelID, it.TargetTS, m)
	case store.OpEphemeral:
		ts, err = d.sender.Ephemeral(ctx, it.ChannelID, it.UserID, it.ThreadTS, m)
	default:
		err = fmt.Errorf("unknown outbox op %q", it.Op)
	}
	if err != nil {
		d.fail(ctx, it, err, Permanent(err) || it.Attempts >= maxAttempts)
		return
	}
	if err := d.store.MarkDelivered(ctx, it, ts); err != nil {
		// The lease will expire and the message go out again: a rare
		// duplicate beats a lost alert.
		d.log.Error("record delivery", "outbox_id", it.ID, "err", err)
	}
}

func (d *Deliverer) fail(ctx context.Context, it store.OutboxItem, cause error, permanent bool) {
	backoff := min(time.Duration(1<<min(it.Attempts, 9))*time.Second, 10*time.Minute)
	if permanent {
		d.log.Error("slack message given up", "outbox_id", it.ID, "channel", it.ChannelID, "attempts", it.Attempts, "err", cause)
	} else {
		d.log.Warn("slack message will be retried", "outbox_id", it.ID, "channel", it.ChannelID, "in", backoff, "err", cause)
	}
	if err := d.store.MarkFailed(ctx, it.ID, cause, time.Now().Add(backoff), permanent); err != nil {
		d.log.Error("record delivery failure", "outbox_id", it.ID, "err", err)
	}
}
