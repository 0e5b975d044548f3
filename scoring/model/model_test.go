package model

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// synthetic draws rows whose churn log-odds are known: -1 + 1.5·a - 0.8·b
// + 1.2·[plan = starter], a and b standard normal.
func synthetic(n int, seed uint64) ([]Column, [][]Value, []bool, []int64) {
	r := rand.New(rand.NewPCG(seed, 7))
	cols := []Column{{Name: "a", Label: "a", Kind: Numeric}, {Name: "b", Label: "b", Kind: Numeric},
		{Name: "trait:plan", Label: "plan", Kind: Categorical}}
	rows := make([][]Value, n)
	y := make([]bool, n)
	g := make([]int64, n)
	for i := range rows {
		a, b := r.NormFloat64(), r.NormFloat64()
		plan := "pro"
		if r.Float64() < 0.4 {
			plan = "starter"
		}
		z := -1 + 1.5*a - 0.8*b
		if plan == "starter" {
			z += 1.2
		}
		rows[i] = []Value{Num(a), Num(b), Cat(plan)}
		y[i] = r.Float64() < Sigmoid(z)
		g[i] = int64(i)
	}
	return cols, rows, y, g
}

func TestFitRecoversKnownCoefficients(t *testing.T) {
	cols, rows, y, _ := synthetic(40000, 1)
	enc := NewEncoder(cols, rows)
	x := enc.Matrix(rows)
	m, err := Fit(x, y, FitOptions{Lambda: 1e-6})
	if err != nil {
		t.Fatal(err)
	}
	// Features: a, b (standardised, std ≈ 1), plan=pro, plan=starter.
	// One-hot without a reference level leaves the split between the
	// intercept and the two levels to the tiny penalty; the difference of
	// the levels is what is identified.
	want := map[string]float64{"a": 1.5, "b": -0.8}
	for i, f := range enc.Features {
		name := enc.FeatureName(i)
		if w, ok := want[name]; ok {
			got := m.Coef[i] / f.Std
			if math.Abs(got-w) > 0.08 {
				t.Errorf("%s: coefficient %.3f, want %.2f", name, got, w)
			}
		}
	}
	var pro, starter float64
	for i := range enc.Features {
		switch enc.FeatureName(i) {
		case "plan = pro":
			pro = m.Coef[i]
		case "plan = starter":
			starter = m.Coef[i]
		}
	}
	if d := starter - pro; math.Abs(d-1.2) > 0.1 {
		t.Errorf("starter - pro = %.3f, want 1.2", d)
	}
}

func TestFitModelRanksAndCalibrates(t *testing.T) {
	cols, rows, y, g := synthetic(6000, 2)
	f, err := FitModel(Train{Columns: cols, Rows: rows, Labels: y, Groups: g})
	if err != nil {
		t.Fatal(err)
	}
	tcols, trows, ty, _ := synthetic(4000, 3)
	_ = tcols
	p := make([]float64, len(trows))
	mean, rate := 0.0, 0.0
	for i, r := range trows {
		p[i] = f.Model.P(r)
		mean += p[i]
		if ty[i] {
			rate++
		}
	}
	mean, rate = mean/float64(len(p)), rate/float64(len(p))
	if auc := ROCAUC(p, ty); auc < 0.78 {
		t.Errorf("held-out AUC %.3f, want >= 0.78 (the true model reaches about 0.8)", auc)
	}
	// Class weights inflate raw probabilities; calibration must undo that.
	if math.Abs(mean-rate) > 0.03 {
		t.Errorf("mean predicted %.3f vs churn rate %.3f: not calibrated", mean, rate)
	}
	// Explanations add up to the distance from the average account.
	e := f.Model.Explain(trows[0])
	sum := 0.0
	for _, c := range e.Columns {
		sum += c.Points
	}
	if math.Abs(e.Base+sum-e.Health) > 1e-6 || math.Abs(e.Health-100*(1-p[0])) > 1e-9 {
		t.Errorf("explanation: base %.3f + %.3f != health %.3f", e.Base, sum, e.Health)
	}
}

func TestExplainBlamesTheRiskyColumn(t *testing.T) {
	cols, rows, y, g := synthetic(5000, 4)
	f, err := FitModel(Train{Columns: cols, Rows: rows, Labels: y, Groups: g})
	if err != nil {
		t.Fatal(err)
	}
	e := f.Model.Explain([]Value{Num(3), Num(0), Cat("pro")})
	if len(e.Columns) == 0 || e.Columns[0].Column != 0 || e.Columns[0].Points >= 0 {
		t.Fatalf("a = 3 sd should cost the most points, got %+v", e.Columns)
	}
}

func TestOneClassIsRefused(t *testing.T) {
	x := [][]float64{{1}, {2}, {3}}
	if _, err := Fit(x, []bool{false, false, false}, FitOptions{Lambda: 1}); !errors.Is(err, ErrOneClass) {
		t.Fatalf("err = %v, want ErrOneClass", err)
	}
}

func TestMetrics(t *testing.T) {
	score := []float64{0.9, 0.8, 0.7, 0.6, 0.5, 0.4}
	y := []bool{true, false, true, false, false, false}
	// Churners at ranks 1 and 3 of 6: 7 of 8 pairs ordered right.
	if got := ROCAUC(score, y); math.Abs(got-7.0/8) > 1e-12 {
		t.Errorf("AUC %v, want 0.875", got)
	}
	if got := PRAUC(score, y); math.Abs(got-(1+2.0/3)/2) > 1e-12 {
		t.Errorf("PR AUC %v", got)
	}
	if p, r, n := PrecisionRecall(score, y, 0.7); p != 2.0/3 || r != 1 || n != 3 {
		t.Errorf("precision %v recall %v flagged %d", p, r, n)
	}
	if th, ok := ThresholdForPrecision(score, y, 0.6); !ok || th != 0.7 {
		t.Errorf("threshold %v %v, want 0.7", th, ok)
	}
	if tied := ROCAUC([]float64{1, 1}, []bool{true, false}); tied != 0.5 {
		t.Errorf("ties AUC %v", tied)
	}
	bins := CalibrationTable(score, y, 3)
	if len(bins) != 3 || bins[2].Observed != 0.5 || bins[2].Count != 2 {
		t.Errorf("calibration %+v", bins)
	}
}

// BenchmarkFit100kx20: the whole fit (5-fold CV over the penalty grid,
// calibration, final fit) on 100,000 examples of 20 numeric columns.
func BenchmarkFit100kx20(b *testing.B) {
	r := rand.New(rand.NewPCG(9, 9))
	const n, d = 100_000, 20
	cols := make([]Column, d)
	for j := range cols {
		cols[j] = Column{Name: fmt.Sprint("x", j), Label: fmt.Sprint("x", j), Kind: Numeric}
	}
	rows := make([][]Value, n)
	y := make([]bool, n)
	g := make([]int64, n)
	for i := range rows {
		rows[i] = make([]Value, d)
		z := -2.0
		for j := range d {
			v := r.NormFloat64()
			rows[i][j] = Num(v)
			z += 0.3 * v * float64(j%3-1)
		}
		y[i], g[i] = r.Float64() < Sigmoid(z), int64(i)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := FitModel(Train{Columns: cols, Rows: rows, Labels: y, Groups: g}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestROCAUCIsMannWhitney checks the area under gonum's ROC curve against
// counting ordered pairs directly, with many ties.
func TestROCAUCIsMannWhitney(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	score, y := make([]float64, 300), make([]bool, 300)
	for i := range score {
		score[i] = float64(r.IntN(12)) / 4
		y[i] = r.Float64() < 0.2+0.05*score[i]
	}
	var pairs, right float64
	for i := range score {
		for j := range score {
			if y[i] && !y[j] {
				pairs++
				switch {
				case score[i] > score[j]:
					right++
				case score[i] == score[j]:
					right += 0.5
				}
			}
		}
	}
	if got, want := ROCAUC(score, y), right/pairs; math.Abs(got-want) > 1e-12 {
		t.Errorf("AUC %v, want %v", got, want)
	}
	curve := ROCCurve(score, y)
	if first, last := curve[0], curve[len(curve)-1]; first != (ROCPoint{0, 0}) || last != (ROCPoint{1, 1}) {
		t.Errorf("curve runs %v to %v", first, last)
	}
	if got := ROCAUC([]float64{0.1, 0.2}, []bool{false, false}); !math.IsNaN(got) {
		t.Errorf("one-class AUC %v, want NaN", got)
	}
	if c := ROCCurve([]float64{0.1, 0.2}, []bool{true, true}); len(c) != 2 || c[1] != (ROCPoint{1, 1}) {
		t.Errorf("one-class curve %v, want the diagonal", c)
	}
	// A NaN score must not panic the sort gonum's ROC relies on.
	_ = ROCAUC([]float64{math.NaN(), 0.3, 0.1, math.NaN()}, []bool{true, false, true, false})
}

func TestCrossValidateWantsAGroupPerRow(t *testing.T) {
	x := [][]float64{{1}, {2}, {3}, {4}}
	y := []bool{true, false, true, false}
	if _, err := CrossValidate(x, y, nil, 2, true); err == nil || !strings.Contains(err.Error(), "0 groups") {
		t.Fatalf("err = %v, want one naming the missing groups", err)
	}
}
