package healthmodel

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/scoring/model"
	"github.com/holdfast/holdfast/store"
)

// Scorer scores live accounts: the active model when one is in use, else
// the hand-set weights; either way an open statement of intent to cancel
// holds the account at least in scoring.intent_band. It is ingest's Scorer,
// for signals and time-driven rescoring alike.
type Scorer struct {
	cfg scoring.Config

	mu     sync.Mutex
	cached *Version // the active version last loaded; nil for hand-set weights
}

// NewScorer scores with cfg's hand-set weights until a model is active.
func NewScorer(cfg scoring.Config) *Scorer { return &Scorer{cfg: cfg} }

// maxComponents bounds how many of a model's columns a score lists: the
// ones that move it most.
const maxComponents = 10

// Score implements ingest.Scorer.
func (s *Scorer) Score(ctx context.Context, db store.DB, in map[int64]store.ScoringInput, now time.Time) (map[int64]scoring.Health, error) {
	v, err := s.active(ctx, db)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, 0, len(in))
	for id := range in {
		ids = append(ids, id)
	}
	intents, err := openIntents(ctx, db, ids)
	if err != nil {
		return nil, err
	}
	var traits map[int64]map[string]any
	if v != nil {
		if traits, err = store.AccountTraitsOn(ctx, db, ids); err != nil {
			return nil, err
		}
	}
	out := make(map[int64]scoring.Health, len(in))
	for id, si := range in {
		a := si.Account
		acct := scoring.Account{RenewalDate: a.RenewalDate, Status: a.Status}
		var h scoring.Health
		if v == nil || a.Status == scoring.StatusChurned {
			h = scoring.Compute(s.cfg, acct, si.History, now)
		} else {
			h = modelHealth(v, s.cfg, a.RenewalDate, traits[id], si.History, now)
		}
		if it, ok := intents[id]; ok && !h.Churned {
			h = holdForIntent(s.cfg, h, it, now)
		}
		out[id] = h
	}
	return out, nil
}

// active returns the active version, loading it again only when another
// one became active.
func (s *Scorer) active(ctx context.Context, db store.DB) (*Version, error) {
	id, err := ActiveID(ctx, db)
	if errors.Is(err, ErrNoModel) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cached != nil && s.cached.ID == id {
		return s.cached, nil
	}
	v, err := loadVersion(ctx, db, id)
	if err != nil {
		return nil, err
	}
	s.cached = &v
	return s.cached, nil
}

// modelHealth is health = 100·(1 - p) with each column's share in points.
func modelHealth(v *Version, cfg scoring.Config, renewal *time.Time, traits map[string]any, history []scoring.Signal, now time.Time) scoring.Health {
	m := v.Spec.Model
	cols := m.Encoder.Columns
	// A signal stamped now counts: the cut-off is just after it.
	row, assessed := Row(cfg, cols, v.Spec.TraitTypes, renewal, traits, history, now.Add(time.Nanosecond))
	e := m.Explain(row)
	h := scoring.Health{ComputedAt: now, Score: int(math.Max(0, math.Min(100, math.Round(e.Health))))}
	switch {
	case e.P >= v.Spec.CriticalP:
		h.Band = scoring.BandCritical
	case e.P >= v.Spec.AtRiskP:
		h.Band = scoring.BandAtRisk
	default:
		h.Band = scoring.BandHealthy
	}
	for _, c := range e.Columns {
		if len(h.Components) == maxComponents {
			break
		}
		col := cols[c.Column]
		comp := scoring.Component{Key: col.Name, Label: col.Label, Points: math.Round(c.Points*10) / 10}
		if c.Column < len(assessed) {
			comp.Detail = assessed[c.Column].Detail
		} else {
			comp.Detail = traitDetail(col.Label, row[c.Column], v.Spec.TraitTypes[col.Label], traits[col.Label])
		}
		if comp.Points == 0 {
			continue
		}
		h.Components = append(h.Components, comp)
	}
	return h
}

func traitDetail(key string, v model.Value, typ string, raw any) string {
	if v.Missing {
		return key + " unknown"
	}
	switch typ {
	case store.TraitCategory:
		return key + " " + v.Str
	case store.TraitBool:
		if v.Num == 1 {
			return key + ": yes"
		}
		return key + ": no"
	case store.TraitDate:
		return fmt.Sprintf("%s %v", key, raw)
	}
	return key + " " + strconv.FormatFloat(v.Num, 'f', -1, 64)
}

// openIntent is an account's latest unresolved statement of intent.
type openIntent struct {
	SignalID   int64
	Quote      string
	OccurredAt time.Time
}

// openIntents finds, per account, the latest intent signal newer than
// every one resolved in Slack.
func openIntents(ctx context.Context, db store.DB, ids []int64) (map[int64]openIntent, error) {
	rows, err := db.Query(ctx, `SELECT DISTINCT ON (s.account_id) s.account_id, s.id, s.text, s.occurred_at
		FROM signals s
		WHERE s.account_id = ANY($1) AND s.churn_intent
		  AND s.id > coalesce((SELECT max(r.through_signal_id) FROM intent_resolutions r WHERE r.account_id = s.account_id), 0)
		ORDER BY s.account_id, s.id DESC`, ids)
	if err != nil {
		return nil, fmt.Errorf("open intents: %w", err)
	}
	defer rows.Close()
	out := map[int64]openIntent{}
	for rows.Next() {
		var id int64
		var it openIntent
		if err := rows.Scan(&id, &it.SignalID, &it.Quote, &it.OccurredAt); err != nil {
			return nil, fmt.Errorf("open intents: %w", err)
		}
		out[id] = it
	}
	return out, rows.Err()
}

// holdForIntent keeps an account with open intent at least in the intent
// band, and puts the statement first among its drivers, quoted.
func holdForIntent(cfg scoring.Config, h scoring.Health, it openIntent, now time.Time) scoring.Health {
	floor := cfg.IntentBand
	ceiling := cfg.AtRiskBelow - 1
	if floor == scoring.BandCritical {
		ceiling = cfg.CriticalBelow - 1
	}
	lost := 0.0
	if h.Score > ceiling {
		lost = float64(h.Score - ceiling)
		h.Score = max(ceiling, 0)
	}
	if h.Band.Severity() < floor.Severity() {
		h.Band = floor
	}
	quote := strings.Join(strings.Fields(it.Quote), " ")
	if r := []rune(quote); len(r) > 160 {
		quote = string(r[:159]) + "…"
	}
	detail := scoring.OpenIntentDetail + ", " + ago(now.Sub(it.OccurredAt)) + ", until resolved in Slack"
	if quote != "" {
		detail = scoring.OpenIntentDetail + ": “" + quote + "” (" + ago(now.Sub(it.OccurredAt)) + ", until resolved in Slack)"
	}
	// Whatever the intent component already took stays counted once.
	comps := make([]scoring.Component, 0, len(h.Components)+1)
	for _, c := range h.Components {
		if c.Key == "intent" {
			lost -= c.Points
			continue
		}
		comps = append(comps, c)
	}
	intent := scoring.Component{Key: "intent", Label: "Cancellation intent", Points: -math.Round(lost*10) / 10, Detail: detail}
	if intent.Points > -0.1 {
		intent.Points = -0.1 // listed as a driver even when the score was already low
	}
	h.Components = append([]scoring.Component{intent}, comps...)
	return h
}

func ago(d time.Duration) string {
	days := int(d.Hours() / 24)
	switch {
	case days < 1:
		return "today"
	case days == 1:
		return "1 day ago"
	}
	return fmt.Sprintf("%d days ago", days)
}
