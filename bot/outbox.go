package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/store"
)

// Deliverer moves outbox rows to Slack: the worker of store.Outbox. Rows
// are leased, so several replicas can run one each; a replica that dies
// mid-delivery leaves its lease to expire and another one delivers, after
// checking that the first did not post it already (the outbox id rides in
// the message's metadata).
//
// Each Slack channel is a lane: at most one of its messages is in flight,
// and deliveries run on their own goroutines, so a channel waiting on
// Slack's pace never delays a message for another channel.
type Deliverer struct {
	store    *store.Store
	sender   *Sender
	log      *slog.Logger
	workers  int
	inFlight atomic.Int64
	running  sync.WaitGroup
	wake     func()
	sharing  *Sharing
}

// callTimeout bounds one delivery: the channel's pace (about a second;
// longer after a 429) and the Web API call itself.
const callTimeout = 30 * time.Second

// leaseFor outlasts callTimeout, so a live delivery never loses its row to
// another replica; a dead replica's row is free again within a minute.
const leaseFor = callTimeout + 15*time.Second

// maxAttempts before a message is given up on (about a day of Slack
// outage at the capped backoff): it becomes a dead letter, counted in
// /metrics and listed for admins with a Retry button, never dropped.
const maxAttempts = 200

// maxBackoff caps the wait between attempts.
const maxBackoff = 512 * time.Second

// historyLookback is how far back a re-sent post looks for itself in the
// channel: its last attempt began at most a backoff and a lease ago.
const historyLookback = maxBackoff + leaseFor + time.Minute

// NewDeliverer wires a deliverer with at most `workers` deliveries (each
// in its own channel) in flight.
func NewDeliverer(st *store.Store, sender *Sender, workers int, log *slog.Logger) *Deliverer {
	return &Deliverer{store: st, sender: sender, log: log, workers: max(1, workers), wake: func() {}}
}

// KeepInternal makes every internal message bound for a channel an outside
// organisation can read go to its internal route instead (Sharing.Route).
func (d *Deliverer) KeepInternal(s *Sharing) { d.sharing = s }

// Queue is the outbox.
func (d *Deliverer) Queue() store.Queue { return store.Outbox }

// SetWake is how a finished delivery asks for the next lease at once.
func (d *Deliverer) SetWake(wake func()) { d.wake = wake }

// Drain waits for the deliveries in flight.
func (d *Deliverer) Drain() { d.running.Wait() }

// Work leases the heads of free channels, up to the free delivery slots,
// and starts delivering them; it does not wait for them. Each delivery
// finishes on its own clock, so a shutdown never cuts one in half.
func (d *Deliverer) Work(ctx context.Context) (int, error) {
	free := d.workers - int(d.inFlight.Load())
	if free <= 0 {
		return 0, nil // a finishing delivery wakes the queue
	}
	items, err := d.store.LeaseOutbox(ctx, free, leaseFor)
	if err != nil || len(items) == 0 {
		return 0, err
	}
	for _, it := range items {
		d.inFlight.Add(1)
		d.running.Go(func() {
			defer func() { d.inFlight.Add(-1); d.wake() }()
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), callTimeout)
			defer cancel()
			d.deliver(dctx, it)
		})
	}
	return len(items), nil
}

// OutboxMetadataType is the Slack message metadata event type carrying an
// outbox id (event_payload {"outbox_id": N}).
const OutboxMetadataType = "holdfast_outbox"

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
		if it.Attempts > 1 && !isUserID(it.ChannelID) {
			// An earlier attempt may have posted and died before recording
			// it: look for this outbox id in the channel before posting again.
			var found bool
			found, ts, err = d.sender.FindPosted(ctx, it.ChannelID, it.ThreadTS, it.ID, time.Now().Add(-historyLookback))
			var refused slack.SlackErrorResponse
			switch {
			case errors.As(err, &refused):
				// Slack will not show this history (a scope or channel
				// problem): post anyway; a rare duplicate beats a dead letter.
				d.log.Warn("cannot look for an earlier post; posting again", "outbox_id", it.ID, "err", err)
			case err != nil:
				d.fail(ctx, it, fmt.Errorf("look for an earlier post: %w", err), it.Attempts >= maxAttempts)
				return
			}
			if found {
				d.log.Info("slack message was already posted; recorded, not re-sent", "outbox_id", it.ID, "ts", ts)
				d.record(ctx, it, ts)
				return
			}
		}
		it.SentChannel, ts, err = d.sender.PostOutbox(ctx, it.ChannelID, it.ThreadTS, m, it.ID)
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
	d.record(ctx, it, ts)
}

func (d *Deliverer) record(ctx context.Context, it store.OutboxItem, ts string) {
	err := d.store.InTx(ctx, func(tx store.Tx) error { return tx.MarkDelivered(ctx, it, ts) })
	if err != nil {
		// The lease will expire and the next attempt find the post in the
		// channel's history by its outbox id: recorded then, not re-sent.
		d.log.Error("record delivery", "outbox_id", it.ID, "err", err)
	}
}

func (d *Deliverer) fail(ctx context.Context, it store.OutboxItem, cause error, permanent bool) {
	backoff := store.Backoff(it.Attempts+1, time.Second, maxBackoff)
	if permanent {
		d.log.Error("slack message given up: now a dead letter", "outbox_id", it.ID, "channel", it.ChannelID, "attempts", it.Attempts, "err", cause)
	} else {
		d.log.Warn("slack message will be retried", "outbox_id", it.ID, "channel", it.ChannelID, "in", backoff, "err", cause)
	}
	if err := d.store.MarkFailed(ctx, it.ID, cause, time.Now().Add(backoff), permanent); err != nil {
		d.log.Error("record delivery failure", "outbox_id", it.ID, "err", err)
	}
}

// isUserID: a post addressed to a user lands in a DM whose history the bot
// may not read (im:history is not requested), so it is not looked up.
func isUserID(channel string) bool {
	return strings.HasPrefix(channel, "U") || strings.HasPrefix(channel, "W")
}
