package notes

import (
	"cmp"
	"context"
	"log/slog"
	"time"

	"github.com/holdfast/holdfast/internal/crm"
	"github.com/holdfast/holdfast/store"
)

// Worker summarises queued notes and publishes them: the account's
// timeline, its room, the CRM. It is a store.Worker.
type Worker struct {
	store *store.Store
	sum   *Summarizer
	crm   CRMPolicy
	log   *slog.Logger
}

// newWorker wires a note worker.
func newWorker(st *store.Store, sum *Summarizer, policy CRMPolicy, log *slog.Logger) *Worker {
	if policy.NoteObject == "" {
		policy.NoteObject = crm.ObjectTask
	}
	return &Worker{store: st, sum: sum, crm: policy, log: log}
}

// Batch is how many notes one pass leases.
const Batch = 8

// Retries of a note whose publication failed.
const (
	retryBase  = 2 * time.Second
	retryLimit = 10 * time.Minute
)

// Queue is the notes queue.
func (w *Worker) Queue() store.Queue { return Queue }

// Work summarises and publishes one batch. The model is called here, never
// inside the ingest transaction that queued the note.
func (w *Worker) Work(ctx context.Context) (int, error) {
	list, err := lease(ctx, w.store.DB(), Batch, 2*time.Minute)
	if err != nil {
		return 0, err
	}
	for _, n := range list {
		if err := w.publish(ctx, n); err != nil {
			w.log.Error("publish note", "note_id", n.ID, "err", err)
			if err := retry(ctx, w.store.DB(), n.ID, time.Now().Add(store.Backoff(n.Attempts, retryBase, retryLimit))); err != nil {
				w.log.Error("reschedule note", "note_id", n.ID, "err", err)
			}
		}
	}
	return len(list), nil
}

// publish summarises a note (outside any transaction: the model may be
// slow), then stores the summary and, in the same transaction, the
// timeline entry, the room post and the CRM writes, once: a note finished
// meanwhile (another worker, a replay) publishes nothing.
func (w *Worker) publish(ctx context.Context, n pending) error {
	summary, by := w.sum.Summarize(ctx, n.Kind, n.AccountName, n.Text)
	return w.store.InTx(ctx, func(tx store.Tx) error {
		accountID, ok, err := finish(ctx, tx, n.ID, summary, by)
		if err != nil || !ok {
			return err
		}
		label, kind := "Note", "note"
		if n.Kind != "note" {
			label, kind = cmp.Or(SummaryLabel(n.Kind), "Summary"), "summary."+n.Kind
		}
		entry := store.TimelineEntry{At: n.OccurredAt, Kind: kind, Summary: label + ": " + cut(summary, 500), Actor: n.Author}
		if err := tx.AddTimeline(ctx, accountID, entry, n.ID); err != nil {
			return err
		}
		if n.RoomChannel != "" && n.RoomChannel != n.OriginChannel {
			m := RoomPost(RoomPostView{AccountName: n.AccountName, Kind: n.Kind, Author: n.Author, Text: summary,
				By: by, At: n.OccurredAt, OpenCase: n.OpenCase && w.crm.Enabled})
			if err := tx.Enqueue(ctx, store.OutboxItem{Op: store.OpPost, ChannelID: n.RoomChannel, Message: m}); err != nil {
				return err
			}
		}
		return crm.Enqueue(ctx, tx, accountID, n.ID, w.crm.writes(n, summary)...)
	})
}
