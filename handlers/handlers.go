// Package handlers is the shared Slack layer: the Router every feature
// registers its commands, clicks, modals and events on, the one account
// picker, and the account surface (/health, /atrisk, the history modal,
// the App Home) with its cards.
package handlers

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/bot"
	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/store"
)

// Store is what the handlers read and write.
type Store interface {
	FindAccounts(ctx context.Context, query string, limit int) (matches, suggestions []store.Account, err error)
	Account(ctx context.Context, id int64) (store.Account, error)
	LatestHealth(ctx context.Context, accountID int64) (scoring.Health, error)
	WeeklyScores(ctx context.Context, accountID int64, since time.Time) ([]store.ScorePoint, error)
	Timeline(ctx context.Context, accountID int64, limit int) ([]store.TimelineEntry, error)
	TimelinePage(ctx context.Context, accountID int64, limit int) ([]store.TimelineEntry, int, error)
	Audit(ctx context.Context, e store.AuditEntry) error
	ActiveModel(ctx context.Context) (store.ActiveModel, bool, error)
}

// Slack is the part of the Slack connection handlers use directly.
type Slack interface {
	OpenView(ctx context.Context, triggerID string, view slack.ModalViewRequest) error
	Respond(ctx context.Context, responseURL string, m blocks.Message, replaceOriginal bool) error
}

// Handlers answers Slack.
type Handlers struct {
	store  Store
	slack  Slack
	router *Router
	now    func() time.Time
	log    *slog.Logger
}

// New wires the handlers.
func New(st Store, sl Slack, now func() time.Time, log *slog.Logger) *Handlers {
	return &Handlers{store: st, slack: sl, now: now, log: log}
}

const (
	weeksShown   = 8
	timelineRows = 5
	historyRows  = 90 // leaves room in a 100-block modal for headers
)

func reply(m blocks.Message) bot.Reply { return bot.Reply{Message: m} }

// Name names the account surface in the wiring.
func (h *Handlers) Name() string { return "accounts" }

// Register puts the account-health commands and buttons on r.
func (h *Handlers) Register(r *Router) {
	h.router = r
	r.HandleCommand("/health", func(ctx context.Context, cmd slack.SlashCommand) (bot.Reply, error) {
		return h.health(ctx, cmd.UserID, cmd.Text)
	})
	r.HandleAction(blocks.ActionHistory, func(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
		return h.history(ctx, cb, act.Value)
	})
	r.HandleAction(blocks.ActionPickPrefix, func(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
		return h.pick(ctx, cb, act.Value)
	})
}

func (h *Handlers) health(ctx context.Context, user, query string) (bot.Reply, error) {
	query = strings.TrimSpace(query)
	if query == "" {
		return reply(blocks.Problem("Usage: /health <account name or id>")), nil
	}
	a, ask, err := NewPicker(h.store).Find(ctx, query, healthPick)
	if err != nil || ask != nil {
		return replyOrErr(ask, err)
	}
	if err := Audit(ctx, h.store, user, "account.read", a.ID, "/health"); err != nil {
		return bot.Reply{}, err
	}
	return h.healthReply(ctx, *a)
}

// healthPick is how /health asks which account.
var healthPick = PickPrompt{ActionPrefix: blocks.ActionPickPrefix, Usage: "Usage: /health <account name or id>"}

// replyOrErr answers with m, or fails with err.
func replyOrErr(m *blocks.Message, err error) (bot.Reply, error) {
	if err != nil {
		return bot.Reply{}, err
	}
	return reply(*m), nil
}

func (h *Handlers) healthReply(ctx context.Context, a store.Account) (bot.Reply, error) {
	now := h.now()
	v := healthView{
		AccountID: a.ID, AccountName: a.Name, ExternalID: a.ExternalID, Tier: a.Tier, Segment: a.Segment,
		Score: a.HealthScore, Band: scoring.Band(a.HealthBand), Churned: a.Status == "churned",
		ARR: a.ARR, RenewalDate: a.RenewalDate, OwnerSlackID: a.OwnerCSM, Now: now,
	}
	health, err := h.store.LatestHealth(ctx, a.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return bot.Reply{}, err
	default:
		v.Components = health.Components
	}
	points, err := h.store.WeeklyScores(ctx, a.ID, weekStart(now).AddDate(0, 0, -7*(weeksShown-1)))
	if err != nil {
		return bot.Reply{}, err
	}
	v.Weekly = weeklySeries(points, now, weeksShown)
	entries, err := h.store.Timeline(ctx, a.ID, timelineRows)
	if err != nil {
		return bot.Reply{}, err
	}
	v.Timeline = timeline(entries)
	model, fitted, err := h.store.ActiveModel(ctx)
	if err != nil {
		return bot.Reply{}, err
	}
	v.ScoringLine = ScoringLine(model, fitted)
	return reply(healthCard(v)), nil
}

// weeklySeries gives one score per week, oldest first, carrying the last
// known score through weeks without a snapshot (the score did not change).
func weeklySeries(points []store.ScorePoint, now time.Time, weeks int) []int {
	byWeek := map[time.Time]int{}
	for _, p := range points {
		byWeek[weekStart(p.Week)] = p.Score
	}
	first := weekStart(now).AddDate(0, 0, -7*(weeks-1))
	var out []int
	last, known := 0, false
	for i := range weeks {
		w := first.AddDate(0, 0, 7*i)
		if s, ok := byWeek[w]; ok {
			last, known = s, true
		}
		if known {
			out = append(out, last)
		}
	}
	return out
}

// weekStart is Monday 00:00 UTC, as Postgres' date_trunc('week') has it.
func weekStart(t time.Time) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
}

func timeline(entries []store.TimelineEntry) []blocks.TimelineEntry {
	out := make([]blocks.TimelineEntry, len(entries))
	for i, e := range entries {
		out[i] = blocks.TimelineEntry{At: e.At, Kind: e.Kind, Summary: e.Summary, Actor: e.Actor}
	}
	return out
}

func (h *Handlers) history(ctx context.Context, cb slack.InteractionCallback, value string) error {
	a, ok, err := PickedAccount(ctx, h.store, h.router, cb, value)
	if !ok {
		return err
	}
	if err := Audit(ctx, h.store, cb.User.ID, "account.read", a.ID, "history"); err != nil {
		return err
	}
	entries, total, err := h.store.TimelinePage(ctx, a.ID, historyRows)
	if err != nil {
		return err
	}
	view := historyModal(historyView{AccountName: a.Name, Score: a.HealthScore, Band: scoring.Band(a.HealthBand),
		Entries: timeline(entries), Total: total, Now: h.now()})
	return h.slack.OpenView(ctx, cb.TriggerID, view)
}

func (h *Handlers) pick(ctx context.Context, cb slack.InteractionCallback, value string) error {
	a, ok, err := PickedAccount(ctx, h.store, h.router, cb, value)
	if !ok {
		return err
	}
	if err := Audit(ctx, h.store, cb.User.ID, "account.read", a.ID, "/health"); err != nil {
		return err
	}
	r, err := h.healthReply(ctx, a)
	if err != nil {
		return err
	}
	return h.slack.Respond(ctx, cb.ResponseURL, r.Message, true)
}
