package api

import (
	"context"

	"github.com/holdfast/holdfast/ingest"
	"github.com/holdfast/holdfast/store"
)

// WithHooks wraps an Ingester so every POST /v1/signals batch also runs
// hooks inside its transaction (features that keep their own rows per
// signal: notes to summarise, NPS answers, dunning cases).
func WithHooks(in Ingester, hooks ...store.TxHook) Ingester {
	return hooked{Ingester: in, hooks: hooks}
}

type hooked struct {
	Ingester
	hooks []store.TxHook
}

func (h hooked) IngestSignals(ctx context.Context, in []ingest.SignalIn, hooks ...store.TxHook) (ingest.SignalsResult, error) {
	return h.Ingester.IngestSignals(ctx, in, append(append([]store.TxHook(nil), h.hooks...), hooks...)...)
}
