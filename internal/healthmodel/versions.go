package healthmodel

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/holdfast/holdfast/scoring/model"
	"github.com/holdfast/holdfast/store"
)

// Spec is a fitted model with what scoring needs besides the math.
type Spec struct {
	Model       *model.Model      `json:"model"`
	TraitTypes  map[string]string `json:"trait_types"`
	HorizonDays int               `json:"horizon_days"`
	// AtRiskP and CriticalP are the churn probabilities from which an
	// account is at risk or critical (chosen for a precision target).
	AtRiskP   float64 `json:"at_risk_p"`
	CriticalP float64 `json:"critical_p"`
	// BandsBy says how the lines were set: "precision 30%" or "score lines".
	BandsBy string             `json:"bands_by"`
	CVAUC   map[string]float64 `json:"cv_auc"`
}

// Figures are a backtest's numbers as stored and shown; an undefined
// figure (no churn among the accounts) is nil.
type Figures struct {
	Examples        int                    `json:"examples"`
	Churns          int                    `json:"churns"`
	ROCAUC          *float64               `json:"roc_auc"`
	PRAUC           *float64               `json:"pr_auc"`
	AtRiskPrecision *float64               `json:"at_risk_precision"`
	AtRiskRecall    *float64               `json:"at_risk_recall"`
	AtRiskFlagged   int                    `json:"at_risk_flagged"`
	TopDecileLift   *float64               `json:"top_decile_lift"`
	Calibration     []model.CalibrationBin `json:"calibration"`
}

func figures(r model.Report) Figures {
	f := func(x float64) *float64 {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		return &x
	}
	return Figures{Examples: r.Examples, Churns: r.Churns, ROCAUC: f(r.ROCAUC), PRAUC: f(r.PRAUC),
		AtRiskPrecision: f(r.AtRiskPrecision), AtRiskRecall: f(r.AtRiskRecall), AtRiskFlagged: r.AtRiskFlagged,
		TopDecileLift: f(r.TopDecileLift), Calibration: r.Calibration}
}

// Version is one stored model.
type Version struct {
	ID            int64
	FittedBy      string
	FittedAt      time.Time
	HorizonDays   int
	Cutoffs       []time.Time
	Accounts      int
	Examples      int
	Churns        int
	Spec          Spec
	Backtest      Figures
	TrainAccounts []int64
	// OOF and Labels are the fit's out-of-fold predictions and outcomes
	// (for its plot); not stored.
	OOF    []float64
	Labels []bool
}

// ErrNoModel means the hand-set weights score: no model was ever made
// active, or the last one was rolled back.
var ErrNoModel = errors.New("no fitted model is active")

func saveVersion(ctx context.Context, tx store.Tx, v *Version) error {
	return tx.QueryRow(ctx, `INSERT INTO health_models (fitted_by, horizon_days, cutoffs, accounts, examples, churns,
			model, backtest, train_accounts)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id, fitted_at`,
		v.FittedBy, v.HorizonDays, v.Cutoffs, v.Accounts, v.Examples, v.Churns, v.Spec, v.Backtest, v.TrainAccounts,
	).Scan(&v.ID, &v.FittedAt)
}

const versionColumns = `id, fitted_by, fitted_at, horizon_days, cutoffs::timestamptz[], accounts, examples, churns, model, backtest`

func scanVersion(row pgx.Row) (Version, error) {
	var v Version
	err := row.Scan(&v.ID, &v.FittedBy, &v.FittedAt, &v.HorizonDays, &v.Cutoffs, &v.Accounts, &v.Examples, &v.Churns, &v.Spec, &v.Backtest)
	return v, err
}

// LoadVersion reads one version, with its training accounts.
func LoadVersion(ctx context.Context, db store.DB, id int64) (Version, error) {
	v, err := loadVersion(ctx, db, id)
	if err != nil {
		return v, err
	}
	err = db.QueryRow(ctx, `SELECT train_accounts FROM health_models WHERE id = $1`, id).Scan(&v.TrainAccounts)
	return v, err
}

// loadVersion reads one version without its training accounts, which
// scoring does not need and can be large.
func loadVersion(ctx context.Context, db store.DB, id int64) (Version, error) {
	v, err := scanVersion(db.QueryRow(ctx, `SELECT `+versionColumns+` FROM health_models WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return v, fmt.Errorf("model version %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return v, fmt.Errorf("model version %d: %w", id, err)
	}
	return v, nil
}

// Versions lists every version, newest first, without training accounts.
func Versions(ctx context.Context, db store.DB) ([]Version, error) {
	rows, err := db.Query(ctx, `SELECT `+versionColumns+` FROM health_models ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("model versions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Version, error) { return scanVersion(r) })
	if err != nil {
		return nil, fmt.Errorf("model versions: %w", err)
	}
	return out, nil
}

// ActiveID is the version that scores now; ErrNoModel for hand-set weights.
func ActiveID(ctx context.Context, db store.DB) (int64, error) {
	var id *int64
	err := db.QueryRow(ctx, `SELECT model_id FROM health_model_activations ORDER BY id DESC LIMIT 1`).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && id == nil) {
		return 0, ErrNoModel
	}
	if err != nil {
		return 0, fmt.Errorf("active model: %w", err)
	}
	return *id, nil
}

// Active loads the active version; ErrNoModel when the hand-set weights score.
func Active(ctx context.Context, db store.DB) (Version, error) {
	id, err := ActiveID(ctx, db)
	if err != nil {
		return Version{}, err
	}
	return LoadVersion(ctx, db, id)
}

// Use makes version id the one that scores (0: the hand-set weights).
func Use(ctx context.Context, st *store.Store, id int64, by string) error {
	return st.InTx(ctx, func(tx store.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE health_model_activations IN EXCLUSIVE MODE`); err != nil {
			return err
		}
		if id != 0 {
			if _, err := LoadVersion(ctx, tx, id); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO health_model_activations (model_id, activated_by) VALUES ($1, $2)`, nullID(id), by)
		return err
	})
}

// Rollback goes back to whatever scored before the current version (the
// hand-set weights when nothing did) and returns it (0: hand-set weights).
func Rollback(ctx context.Context, st *store.Store, by string) (int64, error) {
	var back int64
	err := st.InTx(ctx, func(tx store.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE health_model_activations IN EXCLUSIVE MODE`); err != nil {
			return err
		}
		_, err := ActiveID(ctx, tx)
		if errors.Is(err, ErrNoModel) {
			return errors.New("nothing to roll back: the hand-set weights are already scoring")
		}
		if err != nil {
			return err
		}
		// Replay the log as a stack: use pushes, rollback pops.
		rows, err := tx.Query(ctx, `SELECT model_id, rollback FROM health_model_activations ORDER BY id`)
		if err != nil {
			return fmt.Errorf("model activations: %w", err)
		}
		var stack []int64
		var id *int64
		var rb bool
		if _, err := pgx.ForEachRow(rows, []any{&id, &rb}, func() error {
			switch {
			case rb && len(stack) > 0:
				stack = stack[:len(stack)-1]
			case !rb:
				stack = append(stack, derefID(id))
			}
			return nil
		}); err != nil {
			return fmt.Errorf("model activations: %w", err)
		}
		if len(stack) > 0 {
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 {
			back = stack[len(stack)-1]
		}
		_, err = tx.Exec(ctx, `INSERT INTO health_model_activations (model_id, rollback, activated_by) VALUES ($1, true, $2)`, nullID(back), by)
		return err
	})
	return back, err
}

func derefID(id *int64) int64 {
	if id == nil {
		return 0
	}
	return *id
}

func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}
