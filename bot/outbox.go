package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/store"
)

// Deliverer moves outbox rows to Slack: the worker of store.Outbox. Rows
// are leased, so several replicas can run one each; a replica that dies
// mid-delivery leaves its lease to expire and another one delivers.
type Deliverer struct {
	store   *store.Store
	sender  *Sender
	log     *slog.Logger
	workers int
	sharing *Sharing
}

// leaseFor is long enough for a paced post that meets a 429 or two.
const leaseFor = 2 * time.Minute

// maxAttempts before a message is given up on and left for a person to see.
const maxAttempts = 25

// NewDeliverer wires a deliverer with `workers` concurrent deliveries.
func NewDeliverer(st *store.Store, sender *Sender, workers int, log *slog.Logger) *Deliverer {
	return &Deliverer{store: st, sender: sender, log: log, workers: max(1, workers)}
}

// KeepInternal makes every internal message bound for a channel an outside
// organisation can read go to its internal route instead (Sharing.Route).
func (d *Deliverer) KeepInternal(s *Sharing) { d.sharing = s }

// Queue is the outbox.
func (d *Deliverer) Queue() store.Queue { return store.Outbox }

// Work delivers one batch of ready messages, several at a time, and waits
// for all of them: the next lease must see this batch's results (thread
// roots, order). Each delivery finishes on its own clock, so a shutdown
// never cuts one in half.
func (d *Deliverer) Work(ctx context.Context) (int, error) {
	items, err := d.store.LeaseOutbox(ctx, d.workers*4, leaseFor)
	if err != nil || len(items) == 0 {
		return 0, err
	}
	slots := make(chan struct{}, d.workers)
	done := make(chan struct{}, len(items))
	for _, it := range items {
		slots <- struct{}{}
		go func() {
			defer func() { <-slots; done <- struct{}{} }()
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), leaseFor)
			defer cancel()
			d.deliver(dctx, it)
		}()
	}
	for range items {
		<-done
	}
	return len(items), nil
}

func (d *Deliverer) deliver(ctx context.Context, it store.OutboxItem) {
	var m blocks.Message
	if err := json.Unmarshal(it.Raw, &m); err != nil {
		d.fail(ctx, it, fmt.Errorf("decode outbox message: %w", err), true)
		return
	}
	if d.sharing != nil {
		if err := d.sharing.address(ctx, &it); err != nil {
			d.fail(ctx, it, err, errors.Is(err, ErrNoInternalRoute) || Permanent(err) || it.Attempts >= maxAttempts)
			return
		}
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
	err = d.store.InTx(ctx, func(tx store.Tx) error { return tx.MarkDelivered(ctx, it, ts) })
	if err != nil {
		// The lease will expire and the message go out again: a rare
		// duplicate beats a lost alert.
		d.log.Error("record delivery", "outbox_id", it.ID, "err", err)
	}
}

func (d *Deliverer) fail(ctx context.Context, it store.OutboxItem, cause error, permanent bool) {
	backoff := store.Backoff(it.Attempts+1, time.Second, 512*time.Second)
	if permanent {
		d.log.Error("slack message given up", "outbox_id", it.ID, "channel", it.ChannelID, "attempts", it.Attempts, "err", cause)
	} else {
		d.log.Warn("slack message will be retried", "outbox_id", it.ID, "channel", it.ChannelID, "in", backoff, "err", cause)
	}
	if err := d.store.MarkFailed(ctx, it.ID, cause, time.Now().Add(backoff), permanent); err != nil {
		d.log.Error("record delivery failure", "outbox_id", it.ID, "err", err)
	}
}
