package playbook

import (
	"context"

	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/store"
)

// openFromAlerts opens a playbook for each at-risk or critical alert the
// batch raised for an account without an open one.
func (m *Module) openFromAlerts(ctx context.Context, tx store.Tx, b *ingest.Batch) error { return nil }
