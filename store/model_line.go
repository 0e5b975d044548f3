package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// HandSetLine is ScoringLine while no fitted model is active.
const HandSetLine = "hand-set weights (no model fitted; see holdfast model fit)"

// ModelLine is how /health and App Home name a fitted model in one line:
// "weights fitted 2026-12-01 on 7,043 accounts; backtest AUC 0.84".
func ModelLine(fittedAt time.Time, accounts int, auc *float64) string {
	a := "n/a"
	if auc != nil {
		a = fmt.Sprintf("%.2f", *auc)
	}
	return fmt.Sprintf("weights fitted %s on %s accounts; backtest AUC %s", fittedAt.UTC().Format(time.DateOnly), thousands(accounts), a)
}

// ScoringLine says which weights score now (the health model's versions
// are kept by internal/healthmodel; this is the shared read the account
// surface shows).
func (q Queries) ScoringLine(ctx context.Context) (string, error) {
	var fittedAt time.Time
	var accounts int
	var auc *float64
	err := q.db.QueryRow(ctx, `SELECT m.fitted_at, m.accounts, (m.backtest->>'roc_auc')::float8
		FROM (SELECT model_id FROM health_model_activations ORDER BY id DESC LIMIT 1) a
		JOIN health_models m ON m.id = a.model_id`).Scan(&fittedAt, &accounts, &auc)
	if errors.Is(err, pgx.ErrNoRows) {
		return HandSetLine, nil
	}
	if err != nil {
		return "", fmt.Errorf("scoring line: %w", err)
	}
	return ModelLine(fittedAt, accounts, auc), nil
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
