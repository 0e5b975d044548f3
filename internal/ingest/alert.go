package ingest

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/store"
)

// assess rescores one account that got new signals, records the new health
// in writes and, when the change deserves it, raises a churn-risk alert:
// recorded, rendered with its id and queued for Slack in tx.
func (p *Pipeline) assess(ctx context.Context, tx store.Tx, b *Batch, in store.ScoringInput, fresh []scoring.Signal, writes *store.HealthWrites) error {
	cfg := p.settings.Scoring
	a := in.Account
	history := in.History
	h, ok := b.scored[a.ID]
	if !ok {
		h = scoring.Compute(cfg, scoring.Account{RenewalDate: a.RenewalDate, Status: a.Status}, history, b.now)
	}
	moved := in.Prev == nil || in.Prev.Score != h.Score || in.Prev.Band != h.Band
	if b.timeDriven && !moved {
		// Time-driven rescoring writes only what moved: 100k unchanged
		// accounts cost no rows.
		return nil
	}
	topDriver := ""
	if d := h.Drivers(1); len(d) > 0 {
		topDriver = blocks.DriverText(d[0])
	}
	// A snapshot a day keeps the weekly trend meaningful without one row per usage ping.
	snapshot := moved || b.now.Sub(in.Prev.ComputedAt) >= 24*time.Hour
	if err := writes.Add(a.ID, h, topDriver, snapshot, lastID(fresh)); err != nil {
		return err
	}
	b.Accounts[a.ID], b.Health[a.ID], b.History[a.ID] = a, h, history

	reasons := scoring.DecideAlerts(cfg, in.Prev, h, fresh)
	var kept []scoring.AlertReason
	for _, r := range reasons {
		ok, err := b.TakeCooldown(ctx, tx, cooldownKey(a.ID, r.Kind), p.settings.Alerts.Cooldown.Duration)
		if err != nil {
			return err
		}
		if ok {
			kept = append(kept, r)
		}
	}
	if len(kept) == 0 {
		return nil
	}
	channel := cmp.Or(a.ChannelID, p.settings.Alerts.DefaultChannel, a.OwnerCSM)
	if channel == "" {
		p.log.Warn("alert has nowhere to go: set alerts.default_channel", "account", a.ExternalID)
		return nil
	}
	alert := store.NewAlert{
		Critical:  slices.ContainsFunc(kept, func(r scoring.AlertReason) bool { return r.Critical }),
		ChannelID: channel,
	}
	for _, r := range kept {
		alert.Kinds = append(alert.Kinds, r.Kind)
	}
	var trigger scoring.Signal // none when time alone moved the score
	if len(fresh) > 0 {
		trigger = triggerSignal(fresh)
	}
	alert.SignalID = trigger.ID
	var notBefore time.Time // zero: deliver now
	if !alert.Critical {
		notBefore = p.settings.Alerts.QuietHours.Until(b.now)
	}
	alert.DueAt = b.now
	if notBefore.After(b.now) {
		alert.DueAt = notBefore
	}
	var err error
	if alert.ThreadKey, err = p.threads.AlertThread(ctx, tx, a.ID, channel); err != nil {
		return err
	}
	id, err := tx.InsertAlert(ctx, a.ID, h, alert)
	if err != nil {
		return err
	}
	view := alertView{
		AlertID: id, AccountID: a.ID, AccountName: a.Name, ExternalID: a.ExternalID,
		Score: h.Score, Band: h.Band, Reasons: kept, Drivers: drivers(in.Prev, h),
		Trigger: describeSignal(trigger), ARR: a.ARR, RenewalDate: a.RenewalDate,
		OwnerSlackID: a.OwnerCSM, Now: b.now, IntentOpen: intentOpen(h),
	}
	if strings.TrimSpace(trigger.Text) != "" && trigger.ID > 0 {
		view.TriggerSignalID, view.TriggerIntent = trigger.ID, trigger.ChurnIntent
	}
	if in.Prev != nil {
		prev := in.Prev.Score
		view.PrevScore = &prev
	}
	if err := tx.SetAlertView(ctx, id, view); err != nil {
		return err
	}
	if err := tx.Enqueue(ctx, store.OutboxItem{Op: store.OpPost, ChannelID: channel, Priority: store.PriorityAlert,
		ThreadKey: alert.ThreadKey, Message: alertCard(view),
		AlertID: id, NotBefore: notBefore, Ref: store.AlertRef(id)}); err != nil {
		return err
	}
	b.Alerts = append(b.Alerts, id)
	return nil
}

// drivers explain an alert: the components that moved the score since the
// last one come first (biggest move first), then those that were already
// holding it down (biggest cost first), at most three.
func drivers(prev *scoring.Health, h scoring.Health) []scoring.ComponentDelta {
	moved := map[string]float64{}
	for _, d := range scoring.Deltas(prev, h) {
		moved[d.Key] = d.Delta
	}
	var out []scoring.ComponentDelta
	for _, c := range h.Drivers(len(h.Components)) {
		out = append(out, scoring.ComponentDelta{Component: c, Delta: moved[c.Key]})
	}
	slices.SortStableFunc(out, func(a, b scoring.ComponentDelta) int {
		if c := cmp.Compare(min(a.Delta, 0), min(b.Delta, 0)); c != 0 {
			return c
		}
		return cmp.Compare(a.Points, b.Points)
	})
	return out[:min(3, len(out))]
}

// triggerSignal picks the new signal that best explains an alert: stated
// churn intent first, then the latest with words, then the latest.
func triggerSignal(fresh []scoring.Signal) scoring.Signal {
	best := fresh[len(fresh)-1]
	for _, s := range fresh {
		if s.ChurnIntent || s.Kind == scoring.KindCancellation {
			return s
		}
		if s.Text != "" && (best.Text == "" || s.OccurredAt.After(best.OccurredAt)) {
			best = s
		}
	}
	return best
}

func describeSignal(s scoring.Signal) string {
	if s.Kind == "" {
		return ""
	}
	d := strings.ReplaceAll(string(s.Kind), "_", " ") + " from " + s.Source
	if s.Value != nil {
		d += " (" + strconv.FormatFloat(*s.Value, 'g', -1, 64) + ")"
	}
	if t := strings.Join(strings.Fields(s.Text), " "); t != "" {
		if r := []rune(t); len(r) > 200 {
			t = string(r[:199]) + "…"
		}
		d += ": “" + t + "”"
	}
	return d
}

// intentOpen reports whether the score holds an open statement of intent
// (the Scorer marks it), which the alert then offers to resolve.
func intentOpen(h scoring.Health) bool {
	for _, c := range h.Components {
		if c.Key == "intent" && strings.HasPrefix(c.Detail, scoring.OpenIntentDetail) {
			return true
		}
	}
	return false
}

// lastID is the id of the latest fresh signal; 0 when none caused the score.
func lastID(fresh []scoring.Signal) int64 {
	if len(fresh) == 0 {
		return 0
	}
	return fresh[len(fresh)-1].ID
}

// AlertThreads names the Slack thread a churn-risk alert joins: the
// playbook of the account's current episode of risk, so a new episode
// after a recovery starts a thread of its own.
type AlertThreads interface {
	AlertThread(ctx context.Context, tx store.Tx, accountID int64, channel string) (string, error)
}

// DefaultThread is the one thread per account and channel every alert
// joins when nothing names another.
func DefaultThread(accountID int64, channel string) string {
	return "alerts:" + strconv.FormatInt(accountID, 10) + ":" + channel
}

type defaultThreads struct{}

func (defaultThreads) AlertThread(_ context.Context, _ store.Tx, accountID int64, channel string) (string, error) {
	return DefaultThread(accountID, channel), nil
}

func cooldownKey(accountID int64, kind scoring.AlertKind) string {
	return "cooldown:" + strconv.FormatInt(accountID, 10) + ":" + string(kind)
}

// CooldownScope is the prefix of every alert cooldown key, for features
// that take cooldowns outside an ingest batch (the playbook's live alerts
// on recovery) and must stay apart from a local demo run's just the same.
func (p *Pipeline) CooldownScope() string { return p.settings.CooldownScope }

// TakeCooldown claims the alert cooldown named key for ttl from the
// batch's time in tx and reports whether it was free. The claim is a row
// of the ingest transaction: a batch that rolls back, or a process killed
// before its commit, leaves no cooldown behind, so the client's retry alerts.
func (b *Batch) TakeCooldown(ctx context.Context, tx store.Tx, key string, ttl time.Duration) (bool, error) {
	return tx.TakeAlertCooldown(ctx, b.p.settings.CooldownScope+key, b.now, ttl)
}
