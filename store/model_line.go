package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ActiveModel is the fitted health model that scores now, as the account
// surface names it (internal/healthmodel keeps the versions).
type ActiveModel struct {
	FittedAt time.Time
	Accounts int
	AUC      *float64 // backtest ROC AUC, nil when the fit had none
}

// ActiveModel is the model in use; ok is false while the hand-set weights
// score.
func (q Queries) ActiveModel(ctx context.Context) (m ActiveModel, ok bool, err error) {
	err = q.db.QueryRow(ctx, `SELECT m.fitted_at, m.accounts, (m.backtest->>'roc_auc')::float8
		FROM (SELECT model_id FROM health_model_activations ORDER BY id DESC LIMIT 1) a
		JOIN health_models m ON m.id = a.model_id`).Scan(&m.FittedAt, &m.Accounts, &m.AUC)
	if errors.Is(err, pgx.ErrNoRows) {
		return ActiveModel{}, false, nil
	}
	if err != nil {
		return ActiveModel{}, false, fmt.Errorf("active model: %w", err)
	}
	return m, true, nil
}
