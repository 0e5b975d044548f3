package model

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/optimize"
)

// Logistic is a fitted logistic regression over encoded features:
// logit = Intercept + Coef·x.
type Logistic struct {
	Intercept float64   `json:"intercept"`
	Coef      []float64 `json:"coef"`
}

// Logit is the linear score of x.
func (m Logistic) Logit(x []float64) float64 {
	return m.Intercept + floats.Dot(m.Coef, x)
}

// FitOptions tune one fit.
type FitOptions struct {
	Lambda float64 // L2 penalty on the coefficients (not the intercept), per unit of weight
	// Balanced weighs each class to half the total, so a rare churn class
	// is not drowned by the accounts that stayed.
	Balanced bool
}

// ErrOneClass is a training set where every label is the same: there is
// nothing to separate.
var ErrOneClass = errors.New("every example has the same outcome")

// Fit minimises the weighted mean log-loss plus Lambda/2·|coef|² with
// L-BFGS. Rows of x must all have the same length.
func Fit(x [][]float64, y []bool, opt FitOptions) (Logistic, error) {
	n := len(x)
	if n == 0 || n != len(y) {
		return Logistic{}, fmt.Errorf("fit: %d rows, %d labels", n, len(y))
	}
	pos := 0
	for _, l := range y {
		if l {
			pos++
		}
	}
	if pos == 0 || pos == n {
		return Logistic{}, ErrOneClass
	}
	d := len(x[0])
	w := make([]float64, n)
	wPos, wNeg := 1.0, 1.0
	if opt.Balanced {
		wPos, wNeg = float64(n)/(2*float64(pos)), float64(n)/(2*float64(n-pos))
	}
	total := 0.0
	for i, l := range y {
		w[i] = wNeg
		if l {
			w[i] = wPos
		}
		total += w[i]
	}
	for i := range w {
		w[i] /= total
	}
	// Start at the weighted base rate so the first steps go to the features.
	base := 0.0
	for i, l := range y {
		if l {
			base += w[i]
		}
	}
	params := make([]float64, d+1)
	params[0] = math.Log(base / (1 - base))
	lambda := opt.Lambda

	objective := func(p []float64, grad []float64) float64 {
		b, coef := p[0], p[1:]
		if grad != nil {
			for k := range grad {
				grad[k] = 0
			}
		}
		loss := 0.0
		for i, row := range x {
			z := b + floats.Dot(coef, row)
			// log(1+e^z) - y·z, computed without overflow.
			var l float64
			if z > 0 {
				l = z + math.Log1p(math.Exp(-z))
			} else {
				l = math.Log1p(math.Exp(z))
			}
			yi := 0.0
			if y[i] {
				yi = 1
				l -= z
			}
			loss += w[i] * l
			if grad != nil {
				r := w[i] * (sigmoid(z) - yi)
				grad[0] += r
				floats.AddScaled(grad[1:], r, row)
			}
		}
		loss += lambda / 2 * floats.Dot(coef, coef)
		if grad != nil {
			floats.AddScaled(grad[1:], lambda, coef)
		}
		return loss
	}
	problem := optimize.Problem{
		Func: func(p []float64) float64 { return objective(p, nil) },
		Grad: func(g, p []float64) { objective(p, g) },
	}
	settings := &optimize.Settings{
		GradientThreshold: 1e-7,
		MajorIterations:   2000,
		Converger:         &optimize.FunctionConverge{Absolute: 1e-12, Relative: 1e-10, Iterations: 20},
	}
	res, err := optimize.Minimize(problem, params, settings, &optimize.LBFGS{})
	if err != nil && res == nil {
		return Logistic{}, fmt.Errorf("fit: %w", err)
	}
	// A stop on the iteration cap or a line search that cannot improve
	// further still leaves the best point found, which is what we want.
	out := Logistic{Intercept: res.X[0], Coef: append([]float64(nil), res.X[1:]...)}
	for _, v := range res.X {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Logistic{}, errors.New("fit: the optimiser diverged")
		}
	}
	return out, nil
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// Sigmoid is the logistic function.
func Sigmoid(z float64) float64 { return sigmoid(z) }

// Lambdas is the penalty grid cross-validation chooses from, strong to weak.
var Lambdas = []float64{1, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001, 0.0001}

// CVResult is what k-fold cross-validation found.
type CVResult struct {
	Lambda float64            `json:"lambda"`
	AUC    map[string]float64 `json:"auc_by_lambda"` // mean out-of-fold ROC AUC per penalty
	// OOF are the out-of-fold logits of the chosen penalty, per row: each
	// predicted by a model that never saw the row's group.
	OOF []float64 `json:"-"`
}

// CrossValidate picks the penalty with the best out-of-fold ROC AUC
// (ties go to the stronger penalty). group keeps the rows of one account in
// one fold, so an account's earlier cut-offs cannot teach the model its
// later ones.
func CrossValidate(x [][]float64, y []bool, group []int64, k int, balanced bool) (CVResult, error) {
	if k < 2 {
		k = 2
	}
	// Rows without a group would all fall in fold 0 and leave that fold
	// nothing to train on.
	if len(group) != len(x) || len(y) != len(x) {
		return CVResult{}, fmt.Errorf("cross-validation: %d rows, %d labels, %d groups", len(x), len(y), len(group))
	}
	fold := make([]int, len(x))
	for i, g := range group {
		fold[i] = int(mix(uint64(g)) % uint64(k))
	}
	res := CVResult{AUC: map[string]float64{}}
	best := -1.0
	for _, lambda := range Lambdas {
		oof := make([]float64, len(x))
		// Folds are independent: fit them side by side.
		errs := make([]error, k)
		var wg sync.WaitGroup
		for f := range k {
			wg.Go(func() {
				var tx [][]float64
				var ty []bool
				for i := range x {
					if fold[i] != f {
						tx, ty = append(tx, x[i]), append(ty, y[i])
					}
				}
				m, err := Fit(tx, ty, FitOptions{Lambda: lambda, Balanced: balanced})
				if errors.Is(err, ErrOneClass) {
					err = fmt.Errorf("cross-validation fold %d of %d has one outcome only: %w", f+1, k, err)
				}
				if err != nil {
					errs[f] = err
					return
				}
				for i := range x {
					if fold[i] == f {
						oof[i] = m.Logit(x[i])
					}
				}
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return res, err
		}
		auc := ROCAUC(oof, y)
		res.AUC[fmt.Sprint(lambda)] = auc
		// Strictly better only: among equal fits the stronger penalty
		// generalises at least as well and is listed first.
		if auc > best+1e-9 {
			best, res.Lambda, res.OOF = auc, lambda, oof
		}
	}
	return res, nil
}

// mix spreads ids over folds (splitmix64's finaliser).
func mix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Calibration maps a model's logit to a churn probability over the
// horizon: p = σ(A·logit + B). Class weights shift a logit's scale and
// base rate; this undoes that on out-of-fold predictions (Platt scaling).
type Calibration struct {
	A float64 `json:"a"`
	B float64 `json:"b"`
}

// P is the calibrated probability of a logit.
func (c Calibration) P(logit float64) float64 { return sigmoid(c.A*logit + c.B) }

// Calibrate fits A and B on out-of-fold logits and their outcomes.
func Calibrate(logits []float64, y []bool) (Calibration, error) {
	x := make([][]float64, len(logits))
	for i, l := range logits {
		x[i] = []float64{l}
	}
	m, err := Fit(x, y, FitOptions{Lambda: 1e-6})
	if err != nil {
		return Calibration{}, fmt.Errorf("calibrate: %w", err)
	}
	return Calibration{A: m.Coef[0], B: m.Intercept}, nil
}
