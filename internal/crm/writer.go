package crm

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/holdfast/holdfast/store"
)

// Writer delivers the CRM outbox through a connector; it is a
// store.Worker.
type Writer struct {
	store *store.Store
	conn  Connector
	log   *slog.Logger
	// Base and Limit shape the backoff between attempts; MaxAttempts
	// bounds them (with the defaults, about a day of CRM outage).
	Base, Limit time.Duration
	MaxAttempts int
}

// Batch is how many writes one pass leases.
const Batch = 16

// NewWriter wires a writer with default backoff (1 s doubling to 30 min,
// 60 attempts).
func NewWriter(st *store.Store, conn Connector, log *slog.Logger) *Writer {
	return &Writer{store: st, conn: conn, log: log, Base: time.Second, Limit: 30 * time.Minute, MaxAttempts: 60}
}

// Queue is the CRM writes queue.
func (w *Writer) Queue() store.Queue { return Writes }

// noCRMIDWait is how long a write waits for its account's CRM id to appear.
const noCRMIDWait = time.Hour

// Work delivers one batch.
func (w *Writer) Work(ctx context.Context) (int, error) {
	items, err := lease(ctx, w.store.DB(), Batch, 2*time.Minute)
	if err != nil {
		return 0, err
	}
	for _, it := range items {
		if err := w.deliver(ctx, it); err != nil {
			w.log.Error("record crm write", "crm_outbox_id", it.ID, "err", err)
		}
	}
	return len(items), nil
}

// deliver makes one attempt and records its outcome with the write.
func (w *Writer) deliver(ctx context.Context, it item) error {
	r := w.attempt(ctx, it)
	return w.store.InTx(ctx, func(tx store.Tx) error {
		if r.done {
			return written(ctx, tx, it.ID, r.attempt)
		}
		return reschedule(ctx, tx, it.ID, r.attempt, r.retryAt, r.permanent)
	})
}

// result is what became of one attempt: written (done), to be retried at
// retryAt, or given up on (permanent).
type result struct {
	attempt
	done      bool
	retryAt   time.Time
	permanent bool
}

func (w *Writer) attempt(ctx context.Context, it item) result {
	r := result{attempt: attempt{Connector: w.conn.Name(), Object: it.Object}}
	if it.CRMID == "" {
		r.Outcome, r.Detail = "retry", "the account has no CRM id yet (send crm_account_id with a deal)"
		r.retryAt, r.permanent = time.Now().Add(noCRMIDWait), it.Attempts >= w.MaxAttempts
		return r
	}
	var a Activity
	if err := json.Unmarshal(it.Payload, &a); err != nil {
		r.Outcome, r.Detail = "failed", "unreadable payload: "+err.Error()
		r.retryAt, r.permanent = time.Now(), true
		return r
	}
	res, err := w.conn.Write(ctx, Record{Key: it.Key, Object: it.Object, AccountID: it.CRMID, Activity: a, Retry: it.Attempts > 1})
	if err == nil {
		r.Outcome, r.RecordID, r.done = res.Outcome, res.ID, true
		w.log.Info("crm record written", "key", it.Key, "object", it.Object, "id", res.ID, "outcome", res.Outcome)
		return r
	}
	r.permanent = IsPermanent(err) || it.Attempts >= w.MaxAttempts
	wait := store.Backoff(it.Attempts, w.Base, w.Limit)
	r.Outcome, r.Detail, r.retryAt = "retry", err.Error(), time.Now().Add(wait)
	if r.permanent {
		r.Outcome = "failed"
		w.log.Error("crm write given up", "key", it.Key, "attempts", it.Attempts, "err", err)
	} else {
		w.log.Warn("crm write will be retried", "key", it.Key, "attempt", it.Attempts, "in", wait, "err", err)
	}
	return r
}
