package api

import (
	"context"

	"github.com/holdfast/holdfast/ingest"
	"github.com/holdfast/holdfast/store"
)

// hooked runs features' transaction hooks on every signal batch the API
// ingests, so rows a feature keeps per signal (a dunning case) are written
// whichever way the signal arrived.
type hooked struct {
	Ingester
	hooks []store.TxHook
}

// WithHooks wraps in so every IngestSignals call also runs hooks (after any
// the caller passes), in the ingest transaction.
func WithHooks(in Ingester, hooks ...store.TxHook) Ingester {
	return &hooked{Ingester: in, hooks: hooks}
}

func (h *hooked) IngestSignals(ctx context.Context, in []ingest.SignalIn, hooks ...store.TxHook) (ingest.SignalsResult, error) {
	all := append(append([]store.TxHook(nil), hooks...), h.hooks...)
	return h.Ingester.IngestSignals(ctx, in, all...)
}
