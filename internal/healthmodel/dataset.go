package healthmodel

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/scoring/model"
	"github.com/holdfast/holdfast/store"
)

const day = 24 * time.Hour

// historyDays bounds the signals that count as of a cut-off, as live
// scoring does: the slowest component (NPS) halves every 90 days.
const historyDays = 180

// accountRec is what a fit knows of one account.
type accountRec struct {
	ID         int64
	ExternalID string
	Activation *time.Time
	ChurnedAt  *time.Time
	Renewal    *time.Time
	Traits     map[string]any
}

func loadAccounts(ctx context.Context, db store.DB) ([]accountRec, error) {
	rows, err := db.Query(ctx, `SELECT id, external_id, activation_date::timestamptz, churned_at, renewal_date::timestamptz, traits
		FROM accounts ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("load accounts: %w", err)
	}
	var out []accountRec
	var a accountRec
	_, err = pgx.ForEachRow(rows, []any{&a.ID, &a.ExternalID, &a.Activation, &a.ChurnedAt, &a.Renewal, &a.Traits}, func() error {
		out = append(out, a)
		a = accountRec{}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load accounts: %w", err)
	}
	return out, nil
}

// loadSignals reads every signal in [from, to) by account, oldest first.
func loadSignals(ctx context.Context, db store.DB, from, to time.Time) (map[int64][]scoring.Signal, error) {
	rows, err := db.Query(ctx, `SELECT account_id, id, kind, source, occurred_at, value, sentiment, churn_intent, severity
		FROM signals WHERE occurred_at >= $1 AND occurred_at < $2 ORDER BY account_id, occurred_at, id`, from, to)
	if err != nil {
		return nil, fmt.Errorf("load signals: %w", err)
	}
	out := map[int64][]scoring.Signal{}
	var accountID int64
	var s scoring.Signal
	var kind string
	_, err = pgx.ForEachRow(rows, []any{&accountID, &s.ID, &kind, &s.Source, &s.OccurredAt, &s.Value, &s.Sentiment, &s.ChurnIntent, &s.Severity}, func() error {
		s.Kind = scoring.Kind(kind)
		out[accountID] = append(out[accountID], s)
		s = scoring.Signal{}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load signals: %w", err)
	}
	return out, nil
}

// Columns are the model's raw inputs: every component's risk, then every
// trait key in name order.
func Columns(traitTypes map[string]string) []model.Column {
	var cols []model.Column
	for _, c := range scoring.ComponentList() {
		cols = append(cols, model.Column{Name: c.Key, Label: c.Label, Kind: model.Numeric})
	}
	for _, k := range slices.Sorted(maps.Keys(traitTypes)) {
		kind := model.Numeric
		if traitTypes[k] == store.TraitCategory {
			kind = model.Categorical
		}
		cols = append(cols, model.Column{Name: "trait:" + k, Label: k, Kind: kind})
	}
	return cols
}

// Row is one account's raw inputs as of at, with the component sentences
// for explanations. Only signals before at count: the signals passed in
// may reach past it (a backtest loads them once for several cut-offs).
func Row(cfg scoring.Config, cols []model.Column, traitTypes map[string]string, renewal *time.Time, traits map[string]any, signals []scoring.Signal, at time.Time) ([]model.Value, []scoring.Assessment) {
	row := make([]model.Value, len(cols))
	// Strictly before the cut-off: a signal at the very instant is the
	// cut-off's future.
	n, _ := slices.BinarySearchFunc(signals, at, func(s scoring.Signal, t time.Time) int { return s.OccurredAt.Compare(t) })
	from, _ := slices.BinarySearchFunc(signals[:n], at.Add(-historyDays*day), func(s scoring.Signal, t time.Time) int { return s.OccurredAt.Compare(t) })
	assessed := scoring.Assess(cfg, scoring.Account{RenewalDate: renewal, Status: scoring.StatusActive}, signals[from:n], at)
	comps := len(assessed)
	for i := range comps {
		row[i] = model.Num(assessed[i].Risk)
	}
	for j := comps; j < len(cols); j++ {
		key := cols[j].Name[len("trait:"):]
		v, ok := traits[key]
		if !ok || v == nil {
			row[j] = model.Missing()
			continue
		}
		row[j] = traitValue(traitTypes[key], v, at)
	}
	return row, assessed
}

// traitValue encodes one stored trait: a date as days before at (tenure,
// contract age), a bool as 0/1.
func traitValue(typ string, v any, at time.Time) model.Value {
	switch typ {
	case store.TraitNumber:
		if f, ok := v.(float64); ok {
			return model.Num(f)
		}
	case store.TraitBool:
		if b, ok := v.(bool); ok {
			if b {
				return model.Num(1)
			}
			return model.Num(0)
		}
	case store.TraitDate:
		if s, ok := v.(string); ok {
			if d, err := time.Parse(time.DateOnly, s); err == nil {
				return model.Num(at.Sub(d).Hours() / 24)
			}
		}
	case store.TraitCategory:
		if s, ok := v.(string); ok {
			return model.Cat(s)
		}
	}
	return model.Missing()
}

// Example set: rows with their outcome, account and cut-off.
type Examples struct {
	Columns  []model.Column
	Rows     [][]model.Value
	Labels   []bool
	Accounts []int64
	Cutoffs  []time.Time
}

// eligible reports whether an account was a customer at the cut-off: it
// had started (when its start is known) and had not churned.
func (a accountRec) eligible(at time.Time) bool {
	if a.Activation != nil && a.Activation.After(at) {
		return false
	}
	return a.ChurnedAt == nil || a.ChurnedAt.After(at)
}

// churnedWithin is the label: the account churned in (at, at+horizon].
func (a accountRec) churnedWithin(at time.Time, horizon time.Duration) bool {
	return a.ChurnedAt != nil && a.ChurnedAt.After(at) && !a.ChurnedAt.After(at.Add(horizon))
}

// Cutoffs chooses the dates a fit learns from: the latest is the one whose
// horizon ends at the latest churn (and not after now, so every outcome is
// known), then one per horizon before it, up to max. A cut-off with no
// churn in its horizon teaches nothing about churn and is skipped.
func Cutoffs(accounts []accountRec, horizon time.Duration, now time.Time, max int) []time.Time {
	var latest time.Time
	for _, a := range accounts {
		if a.ChurnedAt != nil && a.ChurnedAt.After(latest) {
			latest = *a.ChurnedAt
		}
	}
	if latest.IsZero() {
		return nil
	}
	c0 := latest.Truncate(day).Add(day - horizon)
	if limit := now.Truncate(day).Add(-horizon); c0.After(limit) {
		c0 = limit
	}
	var out []time.Time
	for k := 0; k < 4*max && len(out) < max; k++ {
		c := c0.Add(-time.Duration(k) * horizon)
		churns, active := 0, 0
		for _, a := range accounts {
			if a.eligible(c) {
				active++
				if a.churnedWithin(c, horizon) {
					churns++
				}
			}
		}
		if active == 0 {
			break
		}
		if churns > 0 {
			out = append(out, c)
		}
	}
	return out
}

// BuildExamples computes every eligible account's row as of each cut-off,
// using only signals before it, and labels it with churn within the
// horizon. keep (nil: all) chooses the accounts.
func BuildExamples(ctx context.Context, db store.DB, cfg scoring.Config, accounts []accountRec, traitTypes map[string]string, cutoffs []time.Time, horizon time.Duration, keep func(int64) bool) (Examples, error) {
	ex := Examples{Columns: Columns(traitTypes)}
	if len(cutoffs) == 0 {
		return ex, nil
	}
	first := slices.MinFunc(cutoffs, time.Time.Compare)
	last := slices.MaxFunc(cutoffs, time.Time.Compare)
	signals, err := loadSignals(ctx, db, first.Add(-historyDays*day), last)
	if err != nil {
		return ex, err
	}
	for _, c := range cutoffs {
		for _, a := range accounts {
			if !a.eligible(c) || (keep != nil && !keep(a.ID)) {
				continue
			}
			row, _ := Row(cfg, ex.Columns, traitTypes, a.Renewal, a.Traits, signals[a.ID], c)
			ex.Rows = append(ex.Rows, row)
			ex.Labels = append(ex.Labels, a.churnedWithin(c, horizon))
			ex.Accounts = append(ex.Accounts, a.ID)
			ex.Cutoffs = append(ex.Cutoffs, c)
		}
	}
	return ex, nil
}
