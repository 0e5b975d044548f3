package text

import (
	"fmt"

	"github.com/jonreiter/govader"
)

// ClassScores are accuracy and macro-averaged recall and F1 over the three
// sentiment classes.
type ClassScores struct {
	Accuracy, MacroRecall, MacroF1 float64
	N                              int
}

func (s ClassScores) String() string {
	return fmt.Sprintf("accuracy %.3f macro recall %.3f macro F1 %.3f (n=%d)", s.Accuracy, s.MacroRecall, s.MacroF1, s.N)
}

// ScoreLabels compares predicted with gold labels.
func ScoreLabels(gold, pred []Label) ClassScores {
	s := ClassScores{N: len(gold)}
	var correct float64
	for i := range gold {
		if gold[i] == pred[i] {
			correct++
		}
	}
	if len(gold) > 0 {
		s.Accuracy = correct / float64(len(gold))
	}
	for _, c := range []Label{Negative, Neutral, Positive} {
		var m confusion
		for i := range gold {
			m.add(pred[i] == c, gold[i] == c)
		}
		_, r, f := m.prf()
		s.MacroRecall += r / 3
		s.MacroF1 += f / 3
	}
	return s
}

// HeldOutComparison scores the model, the lexicon layer alone (today's
// analyser before the model) and plain govader on texts with gold labels.
func (a *Analyzer) HeldOutComparison(texts []string, gold []Label) (model, lexicon, vader ClassScores) {
	sia := govader.NewSentimentIntensityAnalyzer()
	var pm, pl, pv []Label
	for _, t := range texts {
		r := a.Analyze(t)
		pm = append(pm, r.Label)
		pl = append(pl, LabelOf(r.Lexicon))
		pv = append(pv, LabelOf(sia.PolarityScores(t).Compound))
	}
	return ScoreLabels(gold, pm), ScoreLabels(gold, pl), ScoreLabels(gold, pv)
}

// MeasureHeldOut reports the trained models' figures on TweetEval's val
// split, which training never reads.
func MeasureHeldOut(tweetevalDir string, m *TrainedModels) ([]string, error) {
	sent, err := decodeModel(m.Sentiment, sentimentClasses, sentimentDense)
	if err != nil {
		return nil, err
	}
	intent, err := decodeModel(m.Intent, intentClasses, intentDense)
	if err != nil {
		return nil, err
	}
	a, err := NewAnalyzer(trainingCompetitors, withModels(models{sentiment: sent, intent: intent, intentHigh: m.IntentHigh}))
	if err != nil {
		return nil, err
	}
	texts, gold, err := ReadTweetEval(tweetevalDir, "val")
	if err != nil {
		return nil, err
	}
	mo, le, va := a.HeldOutComparison(texts, gold)
	return []string{
		"sentiment held-out TweetEval val, model: " + mo.String(),
		"sentiment held-out TweetEval val, lexicon layer (previous analyser): " + le.String(),
		"sentiment held-out TweetEval val, govader: " + va.String(),
	}, nil
}

// IntentHighConfidence is the confidence at which a statement of intent
// acts (alerts, at-risk); below it, down to IntentShownConfidence, it is
// shown only.
func (a *Analyzer) IntentHighConfidence() float64 { return a.models.intentHigh }

// confusion counts one class's (or one yes/no question's) hits and misses.
type confusion struct{ tp, fp, fn float64 }

func (m *confusion) add(got, want bool) {
	switch {
	case got && want:
		m.tp++
	case got && !want:
		m.fp++
	case !got && want:
		m.fn++
	}
}

// prf is precision, recall and F1; each is 0 where it is undefined.
func (m confusion) prf() (p, r, f float64) {
	if m.tp+m.fp > 0 {
		p = m.tp / (m.tp + m.fp)
	}
	if m.tp+m.fn > 0 {
		r = m.tp / (m.tp + m.fn)
	}
	if p+r > 0 {
		f = 2 * p * r / (p + r)
	}
	return p, r, f
}
