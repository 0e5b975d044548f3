// Package deadletters is what happens to work Holdfast gave up on: a
// Slack message after its last attempt, a CRM write, a room step. Nothing
// is dropped silently: each stays in its queue's table as a dead letter,
// counted in /metrics (holdfast_dead_letters by kind), listed in the App
// Home of the admins (alerts.admins and the admin role) with a Retry button that makes it due
// again with fresh attempts.
package deadletters

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/handlers"
	"github.com/holdfast/holdfast/store"
)

// homeLimit is how many dead letters of each kind the Home lists.
const homeLimit = 10

// Module lists and retries dead letters.
type Module struct {
	store   *store.Store
	isAdmin func(user string) bool
	queues  []store.DeadLetterQueue
	log     *slog.Logger
	router  *handlers.Router
}

// New wires the module over queues; the users isAdmin accepts see and
// retry them. It registers the holdfast_dead_letters gauge on reg.
func New(st *store.Store, isAdmin func(user string) bool, queues []store.DeadLetterQueue, reg prometheus.Registerer, log *slog.Logger) *Module {
	m := &Module{store: st, isAdmin: isAdmin, queues: queues, log: log}
	reg.MustRegister(&collector{m: m, desc: prometheus.NewDesc("holdfast_dead_letters",
		"Work given up on (Slack messages, CRM writes, room steps), waiting for an admin's Retry.", []string{"kind"}, nil)})
	return m
}

// Name names the feature.
func (m *Module) Name() string { return "deadletters" }

// Register puts the Retry button on r.
func (m *Module) Register(r *handlers.Router) {
	m.router = r
	r.HandleAction(blocks.ActionDeadLetterRetry, func(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
		return m.retry(ctx, cb, act.Value)
	})
}

func (m *Module) retry(ctx context.Context, cb slack.InteractionCallback, value string) error {
	if !m.isAdmin(cb.User.ID) {
		m.router.Tell(ctx, cb, blocks.Problem("Only Holdfast admins (alerts.admins, or the admin role) can retry given-up work."))
		return nil
	}
	kind, idText, _ := strings.Cut(value, ":")
	id, err := strconv.ParseInt(idText, 10, 64)
	i := slices.IndexFunc(m.queues, func(q store.DeadLetterQueue) bool { return q.Kind == kind })
	if err != nil || i < 0 {
		return fmt.Errorf("bad dead letter %q", value)
	}
	var retried bool
	if err := m.store.InTx(ctx, func(tx store.Tx) error {
		retried, err = tx.RetryDeadLetter(ctx, m.queues[i], id)
		return err
	}); err != nil {
		return err
	}
	if !retried {
		m.router.Tell(ctx, cb, blocks.Problem("That one is not waiting anymore: someone retried it already."))
		return nil
	}
	m.log.Info("dead letter retried", "kind", kind, "id", id, "by", cb.User.ID)
	m.router.Tell(ctx, cb, blocks.Info("Retrying "+blocks.Escape(label(kind))+" "+strconv.FormatInt(id, 10)+" now."))
	return nil
}

// HomeSections show admins what was given up on.
func (m *Module) HomeSections() []handlers.HomeSection {
	return []handlers.HomeSection{{Name: "deadletters", Render: func(ctx context.Context, user string, now time.Time) (blocks.HomeSection, bool, error) {
		if !m.isAdmin(user) {
			return blocks.HomeSection{}, false, nil
		}
		dead, err := m.store.DeadLetters(ctx, m.queues, homeLimit)
		if err != nil || len(dead) == 0 {
			return blocks.HomeSection{}, false, err
		}
		return blocks.HomeSection{Title: "Given up on: retry when the cause is fixed", Blocks: homeBlocks(dead)}, true, nil
	}}}
}

func label(kind string) string {
	switch kind {
	case store.OutboxDeadLetters.Kind:
		return "Slack message"
	case "crm_write":
		return "CRM write"
	case "room_step":
		return "room step"
	}
	return strings.ReplaceAll(kind, "_", " ")
}

func homeBlocks(dead []store.DeadLetter) []slack.Block {
	var bs []slack.Block
	for i, d := range dead {
		id := strconv.Itoa(i)
		text := "*" + blocks.Escape(label(d.Kind)) + " " + strconv.FormatInt(d.ID, 10) + "*: " + blocks.UserText(d.Summary, 300) +
			"\n" + blocks.UserText(blocks.OneLine(d.Error), 300)
		bs = append(bs, blocks.Section("deadletters_item_"+id, text),
			blocks.ContextBlock("deadletters_when_"+id, "Given up "+blocks.Date(d.At)),
			blocks.Actions("deadletters_actions_"+id, blocks.Button(blocks.ActionDeadLetterRetry, d.Kind+":"+strconv.FormatInt(d.ID, 10), "Retry")))
	}
	return bs
}

// collector counts the dead letters of each kind when /metrics is read.
type collector struct {
	m    *Module
	desc *prometheus.Desc
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, q := range c.m.queues {
		n, err := c.m.store.CountDeadLetters(ctx, q)
		if err != nil {
			c.m.log.Warn("count dead letters", "kind", q.Kind, "err", err)
			continue
		}
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), q.Kind)
	}
}
