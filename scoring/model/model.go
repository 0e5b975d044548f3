package model

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
)

// Model is a fitted, calibrated churn model: raw row in, probability of
// churn within the horizon out, with each column's share in health points.
type Model struct {
	Encoder     *Encoder    `json:"encoder"`
	Logistic    Logistic    `json:"logistic"`
	Calibration Calibration `json:"calibration"`
	Lambda      float64     `json:"lambda"`
}

// Train is everything a fit needs.
type Train struct {
	Columns []Column
	Rows    [][]Value
	Labels  []bool
	Groups  []int64 // one per row: rows of a group stay in one fold (the account id)
	Folds   int     // k of the cross-validation (default 5)
}

// Fitted is a model with what cross-validation learned about it.
type Fitted struct {
	Model *Model
	CV    CVResult
	// OOF are the calibrated out-of-fold probabilities per training row:
	// an honest backtest of the fitting procedure on these accounts.
	OOF []float64
}

// FitModel encodes, cross-validates the penalty, calibrates on the
// out-of-fold logits and refits on every row.
func FitModel(t Train) (Fitted, error) {
	if len(t.Rows) == 0 {
		return Fitted{}, errors.New("no training rows")
	}
	enc := NewEncoder(t.Columns, t.Rows)
	if len(enc.Features) == 0 {
		return Fitted{}, errors.New("no column tells accounts apart (every value is the same)")
	}
	x := enc.Matrix(t.Rows)
	folds := cmp.Or(t.Folds, 5)
	cv, err := CrossValidate(x, t.Labels, t.Groups, folds, true)
	if err != nil {
		return Fitted{}, err
	}
	cal, err := Calibrate(cv.OOF, t.Labels)
	if err != nil {
		return Fitted{}, err
	}
	lr, err := Fit(x, t.Labels, FitOptions{Lambda: cv.Lambda, Balanced: true})
	if err != nil {
		return Fitted{}, err
	}
	oof := make([]float64, len(cv.OOF))
	for i, l := range cv.OOF {
		oof[i] = cal.P(l)
	}
	return Fitted{Model: &Model{Encoder: enc, Logistic: lr, Calibration: cal, Lambda: cv.Lambda}, CV: cv, OOF: oof}, nil
}

// P is the calibrated probability of churn within the horizon.
func (m *Model) P(row []Value) float64 {
	x := make([]float64, len(m.Encoder.Features))
	m.Encoder.Encode(row, x)
	return m.Calibration.P(m.Logistic.Logit(x))
}

// Contribution is one column's share of a prediction, in health points:
// negative when the column makes churn likelier than for the average
// training account.
type Contribution struct {
	Column int     `json:"column"`
	Points float64 `json:"points"`
}

// Explanation is a prediction with the points each column moved it by.
type Explanation struct {
	P       float64        // calibrated churn probability
	Health  float64        // 100·(1-P)
	Base    float64        // the health of an average training account
	Columns []Contribution // every column with a share, largest |points| first
}

// Explain predicts row and splits Health - Base across the columns. Each
// column's logit share is measured from the training mean of its features
// and turned into points with the slope of the sigmoid between the two
// scores, so the points add up to exactly Health - Base and a column that
// raises the risk always costs points.
func (m *Model) Explain(row []Value) Explanation {
	enc := m.Encoder
	x := make([]float64, len(enc.Features))
	enc.Encode(row, x)
	shares := make([]float64, len(enc.Columns))
	base := m.Logistic.Intercept
	for i, f := range enc.Features {
		c := m.Logistic.Coef[i]
		base += c * f.meanEncoded()
		shares[f.Column] += m.Calibration.A * c * (x[i] - f.meanEncoded())
	}
	l0 := m.Calibration.A*base + m.Calibration.B
	total := 0.0
	for _, s := range shares {
		total += s
	}
	p, p0 := sigmoid(l0+total), sigmoid(l0)
	e := Explanation{P: p, Health: 100 * (1 - p), Base: 100 * (1 - p0)}
	slope := -100 * p * (1 - p)
	if math.Abs(total) > 1e-9 {
		slope = (e.Health - e.Base) / total
	}
	for j, s := range shares {
		if s != 0 {
			e.Columns = append(e.Columns, Contribution{Column: j, Points: slope * s})
		}
	}
	slices.SortStableFunc(e.Columns, func(a, b Contribution) int { return cmp.Compare(math.Abs(b.Points), math.Abs(a.Points)) })
	return e
}

// meanEncoded is the training mean of the feature as encoded: 0 for a
// standardised number, the share of 1s for an indicator.
func (f Feature) meanEncoded() float64 {
	switch {
	case f.Square:
		return f.SqMean
	case f.Std > 0 && !f.Missing && f.Level == "":
		return 0
	}
	return f.Mean
}

// Coefficients lists the features by name with their coefficient, for
// people reading a fit.
func (m *Model) Coefficients() []string {
	out := make([]string, len(m.Encoder.Features))
	for i := range m.Encoder.Features {
		out[i] = fmt.Sprintf("%s: %+.3f", m.Encoder.FeatureName(i), m.Logistic.Coef[i])
	}
	return out
}
