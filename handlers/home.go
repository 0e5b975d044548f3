package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/store"
)

// HomeStore is what the App Home reads.
type HomeStore interface {
	OwnedAccounts(ctx context.Context, owner string, limit int) ([]store.Account, int, error)
	ClaimedAlerts(ctx context.Context, user string, since time.Time, limit int) ([]store.ClaimedAlert, error)
}

// HomePublisher sets a user's Home tab (views.publish).
type HomePublisher interface {
	PublishView(ctx context.Context, userID string, view slack.HomeTabViewRequest) error
}

// HomeSection is a feature's part of every user's App Home (pending offer
// approvals, open NPS loops…). Render returns ok=false when it has nothing
// for this user. Block ids must be unique in the view: prefix them with
// the feature's name. An error shows a one-line note in place of the
// section; the rest of the Home still renders.
type HomeSection struct {
	Name   string
	Render func(ctx context.Context, userID string, now time.Time) (section blocks.HomeSection, ok bool, err error)
}

// Home publishes the App Home when a user opens it.
type Home struct {
	store    HomeStore
	slack    HomePublisher
	sections []HomeSection
	now      func() time.Time
	log      *slog.Logger
}

// NewHome wires the App Home.
func NewHome(st HomeStore, sl HomePublisher, now func() time.Time, log *slog.Logger) *Home {
	return &Home{store: st, slack: sl, now: now, log: log}
}

// AddSection appends features' sections; sections show in the order added.
func (h *Home) AddSection(s ...HomeSection) {
	h.sections = append(h.sections, s...)
}

// Register publishes on app_home_opened.
func (h *Home) Register(r *Router) { r.HandleEvent("app_home_opened", h.opened) }

const (
	homeAccounts    = 15
	homeAlerts      = 10
	homeAlertDays   = 30
	homeSectionWait = 2 * time.Second // for all sections together
)

func (h *Home) opened(ctx context.Context, ev slackevents.EventsAPIEvent) error {
	e, ok := ev.InnerEvent.Data.(*slackevents.AppHomeOpenedEvent)
	if !ok || e == nil || e.User == "" || (e.Tab != "" && e.Tab != "home") {
		return nil
	}
	return h.Publish(ctx, e.User)
}

// sectionResult is what one section answered.
type sectionResult struct {
	sec blocks.HomeSection
	ok  bool
	err error
}

// Publish renders and sets one user's Home tab.
func (h *Home) Publish(ctx context.Context, user string) error {
	now := h.now()
	// Sections run side by side, and alongside the Home's own queries,
	// within one budget: the Home waits homeSectionWait at most, not that
	// much per section, and a section that ignores its context is left
	// behind rather than waited for.
	sctx, cancel := context.WithTimeout(ctx, homeSectionWait)
	defer cancel()
	pending := make([]chan sectionResult, len(h.sections))
	for i, s := range h.sections {
		ch := make(chan sectionResult, 1)
		pending[i] = ch
		go func() {
			sec, ok, err := s.Render(sctx, user, now)
			ch <- sectionResult{sec, ok, err}
		}()
	}
	accounts, total, err := h.store.OwnedAccounts(ctx, user, homeAccounts)
	if err != nil {
		return err
	}
	claimed, err := h.store.ClaimedAlerts(ctx, user, now.AddDate(0, 0, -homeAlertDays), homeAlerts)
	if err != nil {
		return err
	}
	v := homeView{UserID: user, Total: total, Now: now}
	for _, a := range accounts {
		v.Accounts = append(v.Accounts, homeAccount{AccountID: a.ID, Name: a.Name, Score: a.HealthScore,
			Band: scoring.Band(a.HealthBand), ARR: a.ARR, RenewalDate: a.RenewalDate, Driver: a.HealthDriver})
	}
	for _, c := range claimed {
		v.Claimed = append(v.Claimed, homeAlert{AccountID: c.AccountID, AccountName: c.AccountName, What: claimedWhat(c), ClaimedAt: c.ClaimedAt})
	}
	var extra []blocks.HomeSection
	for i, s := range h.sections {
		var r sectionResult
		select {
		case r = <-pending[i]:
		case <-sctx.Done():
			select {
			case r = <-pending[i]:
			default:
				r.err = fmt.Errorf("no answer in %s: %w", homeSectionWait, sctx.Err())
			}
		}
		switch {
		case r.err != nil:
			h.log.Warn("app home section failed", "section", s.Name, "err", r.err)
			extra = append(extra, blocks.HomeSection{Title: s.Name, Blocks: []slack.Block{
				slack.NewContextBlock("home_error_"+s.Name, slack.NewTextBlockObject(slack.PlainTextType, "Could not load this section right now.", false, false))}})
		case r.ok:
			extra = append(extra, r.sec)
		}
	}
	if err := h.slack.PublishView(ctx, user, homeTab(v, extra)); err != nil {
		return fmt.Errorf("publish app home: %w", err)
	}
	return nil
}

// claimedWhat: "entered at risk, score drop" or "Gainsight mentioned".
func claimedWhat(c store.ClaimedAlert) string {
	var parts []string
	for _, k := range c.Kinds {
		switch k {
		case store.TextAlertCompetitor:
			parts = append(parts, c.Competitor+" mentioned")
		case store.TextAlertSentiment:
			parts = append(parts, "sentiment drop")
		default:
			parts = append(parts, strings.ReplaceAll(k, "_", " "))
		}
	}
	return strings.Join(parts, ", ")
}
