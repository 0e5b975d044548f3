package playbook

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/holdfast/holdfast/store"
)

// atRiskPage is the top of the /atrisk ranking plus totals over every
// account it ranks.
type atRiskPage struct {
	Accounts  []rankedAccount
	Total     int
	ARRAtRisk float64
	// ModelFittedAt is when the active health model was fitted; nil while
	// the hand-set weights score, and the ranking falls back to points.
	ModelFittedAt *time.Time
}

// rankedAccount is one at-risk account and how likely the ranking takes
// it to churn: the model's probability, or points below the at-risk line.
type rankedAccount struct {
	ID           int64
	Name         string
	ARR          float64
	RenewalDate  *time.Time
	OwnerCSM     string
	HealthScore  *int
	HealthBand   string
	HealthDriver string
	Likelihood   float64
}

// atRiskFilter is what /atrisk counts: active at-risk and critical
// accounts, optionally only those owned by the given CSMs (nil: every
// account; empty: none).
const atRiskFilter = `status = 'active' AND health_band IN ('at_risk', 'critical') AND ($1::text[] IS NULL OR owner_csm = ANY($1))`

// atRiskRanked ranks the accounts atRiskFilter picks by what is at stake,
// ARR × churn likelihood, and returns the first limit. With a fitted
// model active, a score is 100 × (1 − p) of the model's churn probability
// p, so p = 1 − score/100 and ARR × p is the ARR expected to churn. With
// the hand-set weights a score is no probability; the points below the
// at-risk line (atRiskBelow), at least 1, stand in for it so a small
// account barely under the line ranks below a large one deep under it.
// An account without a score counts as the most likely to churn.
func atRiskRanked(ctx context.Context, st *store.Store, owners []string, atRiskBelow, limit int) (atRiskPage, error) {
	var p atRiskPage
	model, fitted, err := st.ActiveModel(ctx)
	if err != nil {
		return p, err
	}
	if fitted {
		p.ModelFittedAt = &model.FittedAt
	}
	db := st.DB()
	if err := db.QueryRow(ctx, `SELECT count(*), coalesce(sum(arr), 0)::float8 FROM accounts WHERE `+atRiskFilter,
		owners).Scan(&p.Total, &p.ARRAtRisk); err != nil {
		return p, fmt.Errorf("at-risk totals: %w", err)
	}
	if p.Total == 0 || limit <= 0 {
		return p, nil
	}
	rows, err := db.Query(ctx, `SELECT id, name, arr::float8, renewal_date, owner_csm, health_score, coalesce(health_band, ''),
			health_driver, likelihood
		FROM accounts, LATERAL (SELECT CASE WHEN $2
			THEN greatest(1 - coalesce(health_score, 0) / 100.0, 0)::float8
			ELSE greatest($3::int - coalesce(health_score, 0), 1)::float8 END AS likelihood) l
		WHERE `+atRiskFilter+`
		ORDER BY arr * likelihood DESC, id
		LIMIT $4`, owners, p.ModelFittedAt != nil, atRiskBelow, limit)
	if err != nil {
		return p, fmt.Errorf("at-risk accounts: %w", err)
	}
	p.Accounts, err = pgx.CollectRows(rows, pgx.RowToStructByPos[rankedAccount])
	if err != nil {
		return p, fmt.Errorf("at-risk accounts: %w", err)
	}
	return p, nil
}
