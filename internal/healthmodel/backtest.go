package healthmodel

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/holdfast/holdfast/handlers"
	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/scoring/model"
	"github.com/holdfast/holdfast/store"
)

// BacktestOptions are one `holdfast model backtest`.
type BacktestOptions struct {
	At      time.Time     // the cut-off; zero takes the latest one with known outcomes
	Horizon time.Duration // zero: the active model's, else the settings'
	Now     time.Time
}

// BacktestResult is a replay of the score as of a past date against what
// happened next.
type BacktestResult struct {
	Cutoff  time.Time
	Horizon time.Duration
	Version int64 // 0: the hand-set weights
	// LeftOut counts the accounts the model learned from, not scored here;
	// InSample is set when there were no others, so they were scored.
	LeftOut  int
	InSample bool
	AtRiskP  float64
	Figures  Figures
	P        []float64
	Labels   []bool
}

// Backtest scores every account that was a customer at the cut-off with
// the active model (or the hand-set weights), using only signals before
// the cut-off, and compares with churn within the horizon after it.
func Backtest(ctx context.Context, st *store.Store, cfg scoring.Config, set Settings, opt BacktestOptions) (BacktestResult, error) {
	var res BacktestResult
	v, err := Active(ctx, st.DB())
	if err != nil && !errors.Is(err, ErrNoModel) {
		return res, err
	}
	haveModel := err == nil
	res.Version = v.ID
	horizon := cmp.Or(opt.Horizon, time.Duration(v.HorizonDays)*day, set.Horizon.Duration)
	res.Horizon = horizon
	accounts, err := loadAccounts(ctx, st.DB())
	if err != nil {
		return res, err
	}
	trained := map[int64]bool{}
	for _, id := range v.TrainAccounts {
		trained[id] = true
	}
	var eval []accountRec
	for _, a := range accounts {
		if !trained[a.ID] {
			eval = append(eval, a)
		}
	}
	res.LeftOut = len(accounts) - len(eval)
	if len(eval) == 0 {
		eval, res.LeftOut, res.InSample = accounts, 0, true
	}
	res.Cutoff = opt.At
	if res.Cutoff.IsZero() {
		c := Cutoffs(eval, horizon, opt.Now, 1)
		if len(c) == 0 {
			return res, &RefusedError{"no cut-off to backtest: none of the accounts churned (import history with churned_at)"}
		}
		res.Cutoff = c[0]
	}
	if res.Cutoff.Add(horizon).After(opt.Now) {
		return res, &RefusedError{fmt.Sprintf("the cut-off %s plus the %s horizon ends after today: outcomes are not known yet",
			res.Cutoff.Format(time.DateOnly), days(horizon))}
	}
	traitTypes := v.Spec.TraitTypes
	if !haveModel {
		traitTypes = nil
	}
	ex, err := BuildExamples(ctx, st.DB(), cfg, eval, traitTypes, []time.Time{res.Cutoff}, horizon, nil)
	if err != nil {
		return res, err
	}
	if len(ex.Rows) == 0 {
		return res, &RefusedError{fmt.Sprintf("no account was a customer on %s", res.Cutoff.Format(time.DateOnly))}
	}
	res.P, res.Labels = make([]float64, len(ex.Rows)), ex.Labels
	if haveModel {
		for i, r := range ex.Rows {
			res.P[i] = v.Spec.Model.P(r)
		}
		res.AtRiskP = v.Spec.AtRiskP
	} else {
		// The hand-set score read as a probability: 100 - score points in 100.
		for i, r := range ex.Rows {
			res.P[i] = handSetLoss(cfg, r) / 100
		}
		res.AtRiskP = (100 - float64(cfg.AtRiskBelow) + 0.5) / 100
	}
	res.Figures = figures(model.Evaluate(res.P, res.Labels, res.AtRiskP))
	return res, nil
}

// handSetLoss is the points the hand-set weights take off for a row whose
// first columns are the component risks.
func handSetLoss(cfg scoring.Config, row []model.Value) float64 {
	w := cfg.Weights
	weights := []float64{w.Usage, w.Support, w.NPS, w.Payments, w.Renewal, w.Engagement, w.Champion, w.Intent}
	lost := 0.0
	for i, wt := range weights {
		if i < len(row) && !row[i].Missing {
			lost += wt * row[i].Num
		}
	}
	return math.Round(lost)
}

// Print writes the backtest as a person reads it.
func (r BacktestResult) Print(w io.Writer) {
	who := "hand-set weights"
	if r.Version != 0 {
		who = fmt.Sprintf("model version %d", r.Version)
	}
	fmt.Fprintf(w, "backtest of %s as of %s, churn within %s\n", who, r.Cutoff.Format(time.DateOnly), days(r.Horizon))
	switch {
	case r.InSample:
		fmt.Fprintln(w, "in sample: every account was in the model's training data, so these figures flatter it")
	case r.LeftOut > 0:
		fmt.Fprintf(w, "%s the model learned from left out\n", plural(r.LeftOut, "account"))
	}
	PrintFigures(w, r.Figures, r.AtRiskP)
}

// PrintFigures writes a backtest's figures as a person reads them.
func PrintFigures(w io.Writer, f Figures, atRiskP float64) {
	fmt.Fprintf(w, "accounts %d, churned %d\n", f.Examples, f.Churns)
	fmt.Fprintf(w, "ROC AUC %s, PR AUC %s, top-decile lift %s\n", fig(f.ROCAUC, "%.3f"), fig(f.PRAUC, "%.3f"), fig(f.TopDecileLift, "%.1fx"))
	fmt.Fprintf(w, "at risk (churn probability >= %.2f): %d flagged, precision %s, recall %s\n", atRiskP, f.AtRiskFlagged,
		fig(pct(f.AtRiskPrecision), "%.0f%%"), fig(pct(f.AtRiskRecall), "%.0f%%"))
	fmt.Fprintln(w, "calibration (deciles of predicted risk):")
	fmt.Fprintln(w, "  accounts  predicted  churned")
	for _, b := range f.Calibration {
		fmt.Fprintf(w, "  %8d  %8.1f%%  %6.1f%%\n", b.Count, 100*b.Predicted, 100*b.Observed)
	}
}

func pct(x *float64) *float64 {
	if x == nil {
		return nil
	}
	v := 100 * *x
	return &v
}

func fig(x *float64, format string) string {
	if x == nil {
		return "n/a"
	}
	return fmt.Sprintf(format, *x)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// Line is the one line /health and App Home show about a version.
func (v Version) Line() string {
	return handlers.ScoringLine(store.ActiveModel{FittedAt: v.FittedAt, Accounts: v.Accounts, AUC: v.Backtest.ROCAUC}, true)
}
