package playbook

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/holdfast/holdfast/internal/digest"
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

// postLive queues ev to every channel subscribed `live risk` whose filters
// (min_arr, tier) the account passes, in tx: the post commits with the
// alert or recovery that caused it, or not at all. A cooldown per kind,
// account and channel, taken in the same transaction, keeps an account
// that flaps across the line from posting more than once per cooldown
// (alerts.cooldown); replicas racing here wait on the cooldown row.
func (m *Module) postLive(ctx context.Context, tx store.Tx, ev liveEvent) error {
	if ev.Kind != liveCritical && ev.Kind != liveRecovered {
		return fmt.Errorf("live alert: unknown kind %q", ev.Kind)
	}
	if ev.At.IsZero() {
		ev.At = m.now()
	}
	a := ev.Account
	channels, err := digest.LiveRiskChannels(ctx, tx, a.ARR, a.Tier)
	if err != nil {
		return err
	}
	if len(channels) == 0 {
		return nil
	}
	msg := liveCard(liveView{Kind: ev.Kind, AccountID: a.ID, Name: a.Name, Score: ev.Score, Before: ev.Before, Driver: ev.Driver,
		ARR: a.ARR, RenewalDate: a.RenewalDate, OwnerSlackID: a.OwnerCSM, Now: ev.At})
	// Good news can wait for the end of quiet hours; a critical account
	// cannot, as with the alert itself.
	var notBefore time.Time
	if ev.Kind == liveRecovered {
		notBefore = m.quiet.Until(ev.At)
	}
	for _, ch := range channels {
		if ch == a.ChannelID {
			continue // the account's own channel may be shared with the customer
		}
		free, err := tx.TakeAlertCooldown(ctx, m.liveCooldownKey(ev.Kind, a.ID, ch), ev.At, m.cooldown)
		if err != nil {
			return fmt.Errorf("live alert of account %d: %w", a.ID, err)
		}
		if !free {
			continue
		}
		if err := tx.Enqueue(ctx, store.OutboxItem{Op: store.OpPost, ChannelID: ch, Priority: store.PriorityAlert,
			NotBefore: notBefore, Message: msg}); err != nil {
			return fmt.Errorf("queue live alert of account %d: %w", a.ID, err)
		}
		m.metrics.live.Inc()
	}
	return nil
}

// liveCooldownKey names the cooldown of one kind of live alert of one
// account in one channel, within the pipeline's cooldown scope (a local
// demo run keeps its own).
func (m *Module) liveCooldownKey(kind string, accountID int64, channel string) string {
	scope := ""
	if m.ingest != nil {
		scope = m.ingest.CooldownScope()
	}
	return scope + "live:" + kind + ":" + strconv.FormatInt(accountID, 10) + ":" + channel
}
