package notes

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/handlers"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/store"
)

// Views opens the Save to account modal.
type Views interface {
	OpenView(ctx context.Context, triggerID string, view slack.ModalViewRequest) error
}

// Options configure notes.
type Options struct {
	// Summarize lists the signal kinds whose text becomes a note
	// (rooms.summarize).
	Summarize []string
	CRM       CRMPolicy
}

// Module is notes as a feature of the bot: /note and the Save to account
// shortcut, the ingest hook that keeps conversations as notes, and the
// worker that summarises and publishes them.
type Module struct {
	st         *store.Store
	views      Views
	worker     *Worker
	summarize  map[scoring.Kind]bool
	crmEnabled bool // --case and the modal's case box do something
	router     *handlers.Router
	now        func() time.Time
	log        *slog.Logger
}

// New wires notes. model is the optional language model: pass a nil
// interface, not a typed nil, when there is none.
func New(st *store.Store, views Views, model Model, opts Options, now func() time.Time, log *slog.Logger) *Module {
	summarize := map[scoring.Kind]bool{}
	for _, k := range opts.Summarize {
		summarize[scoring.Kind(k)] = true
	}
	return &Module{st: st, views: views, worker: newWorker(st, NewSummarizer(model, log), opts.CRM, log),
		summarize: summarize, crmEnabled: opts.CRM.Enabled, now: now, log: log}
}

// Name names the feature.
func (*Module) Name() string { return "notes" }

// Workers is the note worker.
func (m *Module) Workers() []store.Worker { return []store.Worker{m.worker} }

// IngestHooks keeps, inside the ingest transaction, a note for every new
// signal of the summarised kinds that has text; the worker summarises it
// afterwards, outside the transaction, so ingest stays fast.
func (m *Module) IngestHooks() []ingest.Hook {
	return []ingest.Hook{ingest.HookFunc(m.keepSignalNotes)}
}

func (m *Module) keepSignalNotes(ctx context.Context, tx store.Tx, in *ingest.Batch) error {
	var n signalNotes
	for i, sig := range in.Inputs {
		if in.SignalIDs[i] == 0 || !m.summarize[sig.Kind] || len(sig.Text) == 0 {
			continue
		}
		n.accounts, n.signals = append(n.accounts, in.AccountIDs[i]), append(n.signals, in.SignalIDs[i])
		n.kinds = append(n.kinds, string(sig.Kind))
		n.keys = append(n.keys, "signal:"+strconv.FormatInt(in.SignalIDs[i], 10))
		n.authors, n.texts, n.at = append(n.authors, sig.Source), append(n.texts, sig.Text), append(n.at, sig.OccurredAt)
	}
	if len(n.accounts) == 0 {
		return nil
	}
	if err := insertSignalNotes(ctx, tx, n); err != nil {
		return err
	}
	return Queue.Notify(ctx, tx)
}

// save stores a note for the worker to summarise and publish; created is
// false when the same note (account and source key) was saved before.
func (m *Module) save(ctx context.Context, n newNote) (created bool, err error) {
	err = m.st.InTx(ctx, func(tx store.Tx) error {
		if _, created, err = insertNote(ctx, tx, n); err != nil || !created {
			return err
		}
		return Queue.Notify(ctx, tx)
	})
	return created, err
}
