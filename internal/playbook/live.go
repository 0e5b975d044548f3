package playbook

import (
	"context"
	"time"

	"github.com/holdfast/holdfast/store"
)

// Live leadership alert kinds.
const (
	liveCritical  = "critical"
	liveRecovered = "recovered"
)

// liveEvent is what a live leadership alert says.
type liveEvent struct {
	Kind       string // liveCritical or liveRecovered
	Account    store.Account
	Score      int
	Before     *int   // recovered: the score when the playbook opened
	Driver     string // critical: the top driver, as the alert words it
	PlaybookID int64
	At         time.Time
}

// TODO(live helper): post to channels subscribed `live risk` whose min_arr the
// account reaches, once per account per cooldown.
func (m *Module) postLive(ctx context.Context, tx store.Tx, ev liveEvent) error { return nil }
