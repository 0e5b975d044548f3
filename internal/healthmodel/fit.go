package healthmodel

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/holdfast/holdfast/schedule"
	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/scoring/model"
	"github.com/holdfast/holdfast/store"
)

// Settings is the `model:` section of the settings file.
type Settings struct {
	// Horizon is how far after a cut-off a churn counts (default 90d).
	Horizon schedule.Duration `yaml:"horizon"`
	// AtRiskPrecision and CriticalPrecision set the band lines of a fitted
	// model: at risk where at least this share of accounts churned in the
	// fit's backtest (defaults 0.3 and 0.6).
	AtRiskPrecision   float64 `yaml:"at_risk_precision"`
	CriticalPrecision float64 `yaml:"critical_precision"`
	// MinAccounts and MinChurns refuse a fit on too little history.
	MinAccounts int `yaml:"min_accounts"`
	MinChurns   int `yaml:"min_churns"`
	// Channel receives the summary and plot after each fit ("" = none).
	Channel string `yaml:"channel"`
}

// DefaultSettings are the `model:` defaults.
func DefaultSettings() Settings {
	return Settings{Horizon: schedule.Duration{Duration: 90 * day}, AtRiskPrecision: 0.3, CriticalPrecision: 0.6,
		MinAccounts: 200, MinChurns: 30}
}

// Validate names the key of every problem.
func (s Settings) Validate() error {
	var errs []error
	if s.Horizon.Duration < day {
		errs = append(errs, fmt.Errorf("model.horizon: must be at least 1 day (got %s)", s.Horizon.Duration))
	}
	for _, p := range []struct {
		key string
		v   float64
	}{{"at_risk_precision", s.AtRiskPrecision}, {"critical_precision", s.CriticalPrecision}} {
		if !(p.v > 0 && p.v < 1) {
			errs = append(errs, fmt.Errorf("model.%s: must be between 0 and 1, a share of accounts that churned (got %v)", p.key, p.v))
		}
	}
	if s.CriticalPrecision < s.AtRiskPrecision {
		errs = append(errs, fmt.Errorf("model.critical_precision: must be at least at_risk_precision"))
	}
	if s.MinAccounts < 2 || s.MinChurns < 1 {
		errs = append(errs, errors.New("model.min_accounts and model.min_churns: must be at least 2 and 1"))
	}
	return errors.Join(errs...)
}

// FitOptions are one `holdfast model fit`.
type FitOptions struct {
	Horizon    time.Duration
	At         time.Time // one cut-off; zero chooses them (see Cutoffs)
	MaxCutoffs int       // default 4
	By         string    // who fitted
	Now        time.Time
}

// RefusedError is a fit that was not attempted: the history cannot
// support one. Its message says what is missing.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return e.Reason }

// Fit learns a model from the stored history and stores it as a new
// version (not yet active).
func Fit(ctx context.Context, st *store.Store, cfg scoring.Config, set Settings, opt FitOptions) (Version, error) {
	horizon := cmp.Or(opt.Horizon, set.Horizon.Duration)
	accounts, err := loadAccounts(ctx, st.DB())
	if err != nil {
		return Version{}, err
	}
	traitTypes, err := st.TraitKeys(ctx)
	if err != nil {
		return Version{}, err
	}
	cutoffs := []time.Time{opt.At}
	if opt.At.IsZero() {
		cutoffs = Cutoffs(accounts, horizon, opt.Now, cmp.Or(opt.MaxCutoffs, 4))
	} else if opt.At.Add(horizon).After(opt.Now) {
		return Version{}, &RefusedError{fmt.Sprintf("the cut-off %s plus the %s horizon ends after today: outcomes are not known yet",
			opt.At.Format(time.DateOnly), days(horizon))}
	}
	if len(cutoffs) == 0 {
		return Version{}, &RefusedError{fmt.Sprintf("one outcome only: no account churned (no churned_at among %d accounts); "+
			"a model needs accounts that churned and accounts that stayed (import them with holdfast import history)", len(accounts))}
	}
	ex, err := BuildExamples(ctx, st.DB(), cfg, accounts, traitTypes, cutoffs, horizon, nil)
	if err != nil {
		return Version{}, err
	}
	distinct := map[int64]bool{}
	churns := 0
	for i, id := range ex.Accounts {
		distinct[id] = true
		if ex.Labels[i] {
			churns++
		}
	}
	var missing []string
	if len(distinct) < set.MinAccounts {
		missing = append(missing, fmt.Sprintf("%d accounts active at the cut-offs (need %d)", len(distinct), set.MinAccounts))
	}
	if churns < set.MinChurns {
		missing = append(missing, fmt.Sprintf("%d churns within %s of a cut-off (need %d)", churns, days(horizon), set.MinChurns))
	}
	if churns == len(ex.Labels) && len(ex.Labels) > 0 {
		missing = append(missing, "no account that stayed")
	}
	if len(missing) > 0 {
		return Version{}, &RefusedError{"too little history: " + strings.Join(missing, ", ") +
			"; import more with holdfast import history"}
	}
	groups := make([]int64, len(ex.Accounts))
	copy(groups, ex.Accounts)
	fitted, err := model.FitModel(model.Train{Columns: ex.Columns, Rows: ex.Rows, Labels: ex.Labels, Groups: groups})
	if errors.Is(err, model.ErrOneClass) {
		return Version{}, &RefusedError{"one outcome only in part of the history: " + err.Error()}
	}
	if err != nil {
		return Version{}, err
	}
	spec := Spec{Model: fitted.Model, TraitTypes: traitTypes, HorizonDays: int(horizon / day), CVAUC: fitted.CV.AUC}
	spec.setBands(fitted.OOF, ex.Labels, cfg, set)
	train := make([]int64, 0, len(distinct))
	for _, a := range accounts {
		if distinct[a.ID] {
			train = append(train, a.ID)
		}
	}
	v := Version{FittedBy: opt.By, HorizonDays: spec.HorizonDays, Cutoffs: cutoffs, Accounts: len(distinct),
		Examples: len(ex.Rows), Churns: churns, Spec: spec, TrainAccounts: train,
		Backtest: figures(model.Evaluate(fitted.OOF, ex.Labels, spec.AtRiskP)), OOF: fitted.OOF, Labels: ex.Labels}
	err = st.InTx(ctx, func(tx store.Tx) error { return saveVersion(ctx, tx, &v) })
	return v, err
}

// setBands places the at-risk and critical lines where the out-of-fold
// predictions reach the precision targets; a target no threshold reaches
// falls back to the hand-set score lines.
func (s *Spec) setBands(p []float64, y []bool, cfg scoring.Config, set Settings) {
	atRisk, ok1 := model.ThresholdForPrecision(p, y, set.AtRiskPrecision)
	critical, ok2 := model.ThresholdForPrecision(p, y, set.CriticalPrecision)
	s.AtRiskP, s.CriticalP = 1-float64(cfg.AtRiskBelow)/100, 1-float64(cfg.CriticalBelow)/100
	s.BandsBy = "score lines"
	if ok1 {
		s.AtRiskP = atRisk
		s.BandsBy = fmt.Sprintf("precision %.0f%%", 100*set.AtRiskPrecision)
	}
	if ok2 {
		s.CriticalP = critical
	}
	s.CriticalP = math.Max(s.CriticalP, s.AtRiskP)
}

func days(d time.Duration) string { return fmt.Sprintf("%dd", int(d/day)) }
