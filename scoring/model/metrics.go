package model

import (
	"cmp"
	"math"
	"slices"

	"gonum.org/v1/gonum/integrate"
	"gonum.org/v1/gonum/stat"
)

// ROCAUC is the probability that a random churner scores above a random
// account that stayed (ties count half): the area under ROCCurve. NaN
// without both classes.
func ROCAUC(score []float64, y []bool) float64 {
	if !bothClasses(y) {
		return math.NaN()
	}
	curve := ROCCurve(score, y)
	fpr, tpr := make([]float64, len(curve)), make([]float64, len(curve))
	for i, c := range curve {
		fpr[i], tpr[i] = c.FPR, c.TPR
	}
	return integrate.Trapezoidal(fpr, tpr)
}

// order sorts indexes by ascending score.
func order(score []float64) []int {
	idx := make([]int, len(score))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(score[a], score[b]) })
	return idx
}

// PRAUC is average precision: the mean of the precision at each churner,
// ranking riskiest first.
func PRAUC(score []float64, y []bool) float64 {
	idx := order(score)
	slices.Reverse(idx)
	tp, pos := 0, 0
	sum := 0.0
	for k, i := range idx {
		if y[i] {
			tp++
			pos++
			sum += float64(tp) / float64(k+1)
		}
	}
	if pos == 0 {
		return math.NaN()
	}
	return sum / float64(pos)
}

// PrecisionRecall of flagging every account whose score is at least at.
func PrecisionRecall(score []float64, y []bool, at float64) (precision, recall float64, flagged int) {
	tp, pos := 0, 0
	for i, s := range score {
		if y[i] {
			pos++
		}
		if s >= at {
			flagged++
			if y[i] {
				tp++
			}
		}
	}
	precision, recall = math.NaN(), math.NaN()
	if flagged > 0 {
		precision = float64(tp) / float64(flagged)
	}
	if pos > 0 {
		recall = float64(tp) / float64(pos)
	}
	return precision, recall, flagged
}

// TopDecileLift is the churn rate of the riskiest tenth over the overall
// churn rate.
func TopDecileLift(score []float64, y []bool) float64 {
	idx := order(score)
	slices.Reverse(idx)
	n := max(1, len(idx)/10)
	top, all := 0, 0
	for k, i := range idx {
		if y[i] {
			all++
			if k < n {
				top++
			}
		}
	}
	if all == 0 {
		return math.NaN()
	}
	return (float64(top) / float64(n)) / (float64(all) / float64(len(idx)))
}

// CalibrationBin is one row of a calibration table.
type CalibrationBin struct {
	Lo, Hi    float64 `json:"-"`
	Count     int     `json:"count"`
	Predicted float64 `json:"predicted"` // mean predicted probability
	Observed  float64 `json:"observed"`  // churn rate
}

// CalibrationTable groups predictions into bins equal in count (deciles
// by default), so every bin has enough accounts to compare.
func CalibrationTable(p []float64, y []bool, bins int) []CalibrationBin {
	if len(p) == 0 {
		return nil
	}
	bins = min(max(bins, 1), len(p))
	idx := order(p)
	var out []CalibrationBin
	for b := 0; b < bins; b++ {
		lo, hi := b*len(idx)/bins, (b+1)*len(idx)/bins
		if lo == hi {
			continue
		}
		var bin CalibrationBin
		for _, i := range idx[lo:hi] {
			bin.Count++
			bin.Predicted += p[i]
			if y[i] {
				bin.Observed++
			}
		}
		bin.Lo, bin.Hi = p[idx[lo]], p[idx[hi-1]]
		bin.Predicted /= float64(bin.Count)
		bin.Observed /= float64(bin.Count)
		out = append(out, bin)
	}
	return out
}

// ROCPoint is one point of a ROC curve.
type ROCPoint struct{ FPR, TPR float64 }

// ROCCurve lists the curve from (0,0) to (1,1), one point per distinct
// score (gonum's stat.ROC); the diagonal without both classes.
func ROCCurve(score []float64, y []bool) []ROCPoint {
	if !bothClasses(y) {
		return []ROCPoint{{0, 0}, {1, 1}}
	}
	// Sorted with cmp.Compare rather than stat.SortWeightedLabeled, whose
	// "<" would leave a NaN score out of order and make stat.ROC panic.
	s, c := make([]float64, len(score)), make([]bool, len(y))
	for k, i := range order(score) {
		s[k], c[k] = score[i], y[i]
	}
	tpr, fpr, _ := stat.ROC(nil, s, c, nil)
	out := make([]ROCPoint, len(tpr))
	for i := range tpr {
		out[i] = ROCPoint{FPR: fpr[i], TPR: tpr[i]}
	}
	return out
}

func bothClasses(y []bool) bool {
	return slices.Contains(y, true) && slices.Contains(y, false)
}

// ThresholdForPrecision is the lowest probability t such that flagging
// every p >= t has at least the target precision, widening the flagged set
// as far as the target allows; ok is false when no threshold reaches it.
func ThresholdForPrecision(p []float64, y []bool, target float64) (t float64, ok bool) {
	idx := order(p)
	slices.Reverse(idx)
	tp := 0
	for k, i := range idx {
		if y[i] {
			tp++
		}
		if k+1 < len(idx) && p[idx[k+1]] == p[i] {
			continue
		}
		if float64(tp)/float64(k+1) >= target {
			t, ok = p[i], true
		}
	}
	return t, ok
}

// Report is the backtest's figures.
type Report struct {
	Examples        int              `json:"examples"`
	Churns          int              `json:"churns"`
	ROCAUC          float64          `json:"roc_auc"`
	PRAUC           float64          `json:"pr_auc"`
	AtRiskPrecision float64          `json:"at_risk_precision"`
	AtRiskRecall    float64          `json:"at_risk_recall"`
	AtRiskFlagged   int              `json:"at_risk_flagged"`
	TopDecileLift   float64          `json:"top_decile_lift"`
	Calibration     []CalibrationBin `json:"calibration"`
}

// Evaluate computes the report of churn probabilities p against outcomes,
// the at-risk band being p >= atRisk.
func Evaluate(p []float64, y []bool, atRisk float64) Report {
	r := Report{Examples: len(p), ROCAUC: ROCAUC(p, y), PRAUC: PRAUC(p, y), TopDecileLift: TopDecileLift(p, y),
		Calibration: CalibrationTable(p, y, 10)}
	for _, l := range y {
		if l {
			r.Churns++
		}
	}
	r.AtRiskPrecision, r.AtRiskRecall, r.AtRiskFlagged = PrecisionRecall(p, y, atRisk)
	return r
}
