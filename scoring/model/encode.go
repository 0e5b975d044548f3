// Package model is the learned health model's math: it turns raw columns
// (component risks, account traits) into a design matrix, fits an
// L2-regularised logistic regression with class weights and a
// cross-validated penalty, calibrates it, explains a prediction in health
// points, and measures predictions against outcomes. Every function is
// pure: callers bring the data and the clock.
package model

import (
	"cmp"
	"math"
	"slices"
	"strings"
)

// ColumnKind says how a raw column is encoded.
type ColumnKind string

const (
	// Numeric columns are standardised; a missing value becomes the mean
	// plus a "missing" indicator when the training data had any gaps.
	Numeric ColumnKind = "numeric"
	// Categorical columns are one-hot encoded, one feature per level seen
	// in training (rare levels share "other").
	Categorical ColumnKind = "categorical"
)

// Column is one raw input of the model.
type Column struct {
	Name  string     `json:"name"`  // "usage", "trait:plan"
	Label string     `json:"label"` // what a CSM reads: "Product usage", "plan"
	Kind  ColumnKind `json:"kind"`
}

// Value is one raw cell: Num for numeric columns, Str for categorical
// ones; Missing when the account has no value.
type Value struct {
	Num     float64
	Str     string
	Missing bool
}

// Num is a present numeric value.
func Num(f float64) Value {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return Value{Missing: true}
	}
	return Value{Num: f}
}

// Cat is a present categorical value ("" is missing).
func Cat(s string) Value { return Value{Str: s, Missing: s == ""} }

// Missing is an absent value.
func Missing() Value { return Value{Missing: true} }

// maxLevels bounds one-hot width: beyond it a trait is more an identifier
// than a category, and the rare levels would only be noise.
const maxLevels = 60

// minLevelCount is how many training rows a level needs to get a feature.
const minLevelCount = 5

// otherLevel collects levels unseen in training or too rare to keep.
const otherLevel = "(other)"

// Feature is one column of the design matrix.
type Feature struct {
	Column int    `json:"column"` // index into Encoder.Columns
	Level  string `json:"level,omitempty"`
	// Missing marks the indicator of a numeric column's gaps.
	Missing bool `json:"missing,omitempty"`
	// Square marks the square of a numeric column's standardised value
	// (clipped at ±4 sd), which lets a linear model see that too little
	// and too much of something can both go with churn. SqMean is its
	// training mean.
	Square bool    `json:"square,omitempty"`
	SqMean float64 `json:"sq_mean,omitempty"`
	Mean   float64 `json:"mean"` // numeric: the raw mean; one-hot and indicators: share of 1s
	Std    float64 `json:"std"`  // numeric: the raw standard deviation
}

// Encoder maps raw rows to feature vectors, with statistics learned from
// the training rows only.
type Encoder struct {
	Columns  []Column  `json:"columns"`
	Features []Feature `json:"features"`
}

// NewEncoder learns the encoding of columns from rows. A numeric column
// without spread encodes to nothing: it cannot tell accounts apart.
func NewEncoder(columns []Column, rows [][]Value) *Encoder {
	e := &Encoder{Columns: columns}
	n := float64(len(rows))
	for j, c := range columns {
		switch c.Kind {
		case Numeric:
			var sum, sq, present float64
			for _, r := range rows {
				if !r[j].Missing {
					sum += r[j].Num
					present++
				}
			}
			if present == 0 {
				continue
			}
			mean := sum / present
			for _, r := range rows {
				if !r[j].Missing {
					sq += (r[j].Num - mean) * (r[j].Num - mean)
				}
			}
			std := math.Sqrt(sq / present)
			if std > 1e-12 {
				e.Features = append(e.Features, Feature{Column: j, Mean: mean, Std: std})
				if distinct(rows, j) > 2 {
					f := Feature{Column: j, Mean: mean, Std: std, Square: true}
					for _, r := range rows {
						if !r[j].Missing {
							f.SqMean += f.square(r[j].Num)
						}
					}
					f.SqMean /= present
					e.Features = append(e.Features, f)
				}
			}
			if present < n {
				e.Features = append(e.Features, Feature{Column: j, Missing: true, Mean: (n - present) / n})
			}
		case Categorical:
			counts := map[string]int{}
			for _, r := range rows {
				counts[level(r[j])]++
			}
			if len(counts) < 2 {
				continue
			}
			levels := make([]string, 0, len(counts))
			for l := range counts {
				levels = append(levels, l)
			}
			slices.SortFunc(levels, func(a, b string) int {
				if c := cmp.Compare(counts[b], counts[a]); c != 0 {
					return c
				}
				return strings.Compare(a, b)
			})
			// Levels too rare to learn from (an id column has only such
			// levels) share "other" with those beyond maxLevels.
			kept := 0
			for kept < len(levels) && kept < maxLevels && counts[levels[kept]] >= minLevelCount {
				kept++
			}
			other := 0
			for _, l := range levels[kept:] {
				other += counts[l]
			}
			levels = levels[:kept]
			if kept == 0 {
				continue
			}
			for _, l := range levels {
				e.Features = append(e.Features, Feature{Column: j, Level: l, Mean: float64(counts[l]) / n})
			}
			if other > 0 {
				e.Features = append(e.Features, Feature{Column: j, Level: otherLevel, Mean: float64(other) / n})
			}
		}
	}
	return e
}

func level(v Value) string {
	if v.Missing {
		return "(missing)"
	}
	return v.Str
}

// Encode writes row's features into x (len(e.Features)).
func (e *Encoder) Encode(row []Value, x []float64) {
	known := map[int]bool{} // categorical columns whose level has a feature
	for i, f := range e.Features {
		v := row[f.Column]
		switch {
		case e.Columns[f.Column].Kind == Numeric && f.Missing:
			x[i] = b2f(v.Missing)
		case f.Square:
			x[i] = f.SqMean // a missing value sits at the average
			if !v.Missing {
				x[i] = f.square(v.Num)
			}
		case e.Columns[f.Column].Kind == Numeric:
			if v.Missing {
				x[i] = 0
			} else {
				x[i] = (v.Num - f.Mean) / f.Std
			}
		default:
			hit := level(v) == f.Level
			x[i] = b2f(hit)
			if hit {
				known[f.Column] = true
			}
		}
	}
	// A level unseen in training counts as "other" when that feature exists.
	for i, f := range e.Features {
		if f.Level == otherLevel && !known[f.Column] {
			x[i] = 1
		}
	}
}

// Matrix encodes every row.
func (e *Encoder) Matrix(rows [][]Value) [][]float64 {
	out := make([][]float64, len(rows))
	flat := make([]float64, len(rows)*len(e.Features))
	for i, r := range rows {
		out[i] = flat[i*len(e.Features) : (i+1)*len(e.Features)]
		e.Encode(r, out[i])
	}
	return out
}

// FeatureName reads one feature: "usage", "plan = pro", "seats missing".
func (e *Encoder) FeatureName(i int) string {
	f := e.Features[i]
	c := e.Columns[f.Column]
	switch {
	case f.Missing:
		return c.Label + " missing"
	case f.Square:
		return c.Label + " squared"
	case c.Kind == Categorical:
		return c.Label + " = " + f.Level
	}
	return c.Label
}

// squareClip bounds the squared feature so one outlier cannot dominate.
const squareClip = 4

func (f Feature) square(v float64) float64 {
	z := max(-squareClip, min(squareClip, (v-f.Mean)/f.Std))
	return z * z
}

// distinct counts a numeric column's values up to 3: a column with two
// values (a 0/1 flag) gains nothing from its square.
func distinct(rows [][]Value, j int) int {
	seen := map[float64]bool{}
	for _, r := range rows {
		if !r[j].Missing {
			seen[r[j].Num] = true
			if len(seen) > 2 {
				break
			}
		}
	}
	return len(seen)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
