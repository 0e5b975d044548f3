package text

import (
	"math"
	"strings"

	"github.com/holdfast/holdfast/scoring/text/internal/linear"
)

// maxStatements bounds the statements read for intent in one text; a
// long e-mail's first ones are where customers say what they mean.
const maxStatements = 64

// maxQuote bounds a quoted statement, in bytes.
const maxQuote = 300

func (fs *featScratch) shrink() {
	if cap(fs.buf) > maxPooled || cap(fs.feats) > maxPooled || cap(fs.base) > maxPooled {
		*fs = featScratch{}
	}
}

// statements returns the token ranges of sentences (and clauses ending
// in ":" or ";"), at most maxStatements.
func (sc *scratch) statements(out [][2]int) [][2]int {
	from := 0
	for i := range sc.toks {
		if sc.toks[i].has(fSentEnd) || i == len(sc.toks)-1 {
			out = append(out, [2]int{from, i + 1})
			from = i + 1
			if len(out) == maxStatements {
				break
			}
		}
	}
	return out
}

// intentDenseInputs are the rule layer's findings inside tokens [from, to).
func (a *Analyzer) intentDenseInputs(sc *scratch, text string, from, to int, lexicon float64, d []float32) {
	clear(d)
	for _, h := range sc.hits {
		if int(h.from) < from || int(h.to) > to {
			continue
		}
		switch a.rules[h.rule].kind {
		case kindIntent:
			if !sc.denied(a, h) {
				d[idRule] = 1
			}
		case kindDenial:
			d[idDenial] = 1
		}
	}
	for i := from; i < to; i++ {
		if sc.toks[i].has(fMention) {
			d[idCompetitor] = 1
			break
		}
	}
	last := &sc.toks[to-1]
	if strings.Contains(text[last.we:last.end], "?") {
		d[idQuestion] = 1
	}
	d[idLexNeg] = float32(min(lexicon, 0))
}

// readIntent scores each statement with the intent model; fs holds
// masked's hashes (hashText).
func (a *Analyzer) readIntent(sc *scratch, fs *featScratch, s, masked string, lexicon float64, r *Result) {
	if len(sc.toks) == 0 {
		return
	}
	var stArr [8][2]int
	var dense [intentDense]float32
	p := fs.probs[:intentClassCount]
	best := -1
	for _, st := range sc.statements(stArr[:0]) {
		from, to := st[0], st[1]
		start, end := int(sc.toks[from].ws), int(sc.toks[to-1].end)
		feats := fs.selectFeatures(nsIntent, start, end)
		a.intentDenseInputs(sc, masked, from, to, lexicon, dense[:])
		a.models.intent.Scores(feats, dense[:], p)
		conf := 1 - p[0]
		if conf < IntentShownConfidence {
			continue
		}
		cat := 1
		for c := 2; c < intentClassCount; c++ {
			if p[c] > p[cat] {
				cat = c
			}
		}
		quote := strings.TrimSpace(s[start:end])
		qEnd := start + len(quote)
		if len(quote) > maxQuote {
			cut := maxQuote
			for cut > 0 && !isSpaceByte(quote[cut]) {
				cut--
			}
			if cut == 0 {
				cut = maxQuote
				for cut > 0 && quote[cut]&0xC0 == 0x80 {
					cut--
				}
			}
			quote = quote[:cut] + "…"
			qEnd = start + cut
		}
		in := Intent{Category: IntentCategory(intentClasses[cat]), Quote: quote, Start: start, End: qEnd,
			Confidence: math.Round(conf*1000) / 1000, High: conf >= a.models.intentHigh}
		r.Intents = append(r.Intents, in)
		if best < 0 || in.Confidence > r.Intents[best].Confidence {
			best = len(r.Intents) - 1
		}
	}
	if best >= 0 {
		r.Intent = r.Intents[best]
	}
}

// sentimentDenseInputs are the lexicon layer's findings for the text.
func (a *Analyzer) sentimentDenseInputs(sc *scratch, lexicon float64, emoji float32, intent float64, text string, d []float32) {
	clear(d)
	d[sdLexicon] = float32(lexicon)
	d[sdLexPos] = float32(max(lexicon, 0))
	d[sdLexNeg] = float32(min(lexicon, 0))
	var neg, pos int
	for _, h := range sc.hits {
		r := &a.rules[h.rule]
		if r.kind == kindCue && r.cue != "request" && r.cue != "" {
			if r.val < 0 {
				neg++
			} else if r.val > 0 {
				pos++
			}
		}
		if r.kind == kindSarcasm {
			neg++
		}
	}
	d[sdComplaintCues] = float32(min(neg, 3)) / 3
	d[sdPraiseCues] = float32(min(pos, 3)) / 3
	d[sdEmoji] = float32(math.Tanh(float64(emoji)))
	d[sdIntent] = float32(intent)
	d[sdExclaim] = float32(min(strings.Count(text, "!"), 3)) / 3
	if strings.Contains(text, "?") {
		d[sdQuestion] = 1
	}
}

// readSentiment runs the sentiment model over the (own-name-masked) text.
// fs holds masked's hashes (hashText), emoji its emoji valence.
func (a *Analyzer) readSentiment(sc *scratch, fs *featScratch, masked string, emoji float32, lexicon, intent float64) (float64, Label) {
	var dense [sentimentDense]float32
	a.sentimentDenseInputs(sc, lexicon, emoji, intent, masked, dense[:])
	p := fs.probs[:3]
	a.models.sentiment.Scores(fs.selectFeatures(nsSentiment, 0, len(masked)), dense[:], p)
	return sentimentFromProbs(p)
}

// sentimentFromProbs turns (neg, neu, pos) into a score and a label, the
// score nudged into the label's band.
func sentimentFromProbs(p []float64) (float64, Label) {
	score := p[2] - p[0]
	switch {
	case p[2] >= p[1] && p[2] > p[0]:
		return math.Max(score, labelThreshold+0.001), Positive
	case p[0] >= p[1] && p[0] >= p[2]:
		return math.Min(score, -labelThreshold-0.001), Negative
	}
	return math.Max(-labelThreshold, math.Min(labelThreshold, score)), Neutral
}

// trainingInputs are what the trainer needs from the analysis of a text.
type trainingInputs struct {
	sentSparse []linear.Feature
	sentDense  []float32
	statements []trainingStatement // each sentence
	whole      trainingStatement   // the whole text as one statement
}

type trainingStatement struct {
	sparse []linear.Feature
	dense  []float32
}

// inputsForTraining runs the analysis the way Analyze does and returns the
// models' inputs. intentConf is the intent model's confidence when an
// intent model is loaded (the sentiment model reads it), else 0.
func (a *Analyzer) inputsForTraining(s string, withIntent bool) trainingInputs {
	sc := new(scratch)
	fs := new(featScratch)
	masked, ruleIntent := a.read(sc, s)
	var out trainingInputs
	if len(sc.toks) == 0 {
		return out
	}
	lexicon, _ := a.sentiment(sc, masked, ruleIntent)
	emoji := a.hashText(fs, masked)
	stmt := func(from, to int) trainingStatement {
		start, end := int(sc.toks[from].ws), int(sc.toks[to-1].end)
		feats := fs.selectFeatures(nsIntent, start, end)
		d := make([]float32, intentDense)
		a.intentDenseInputs(sc, masked, from, to, lexicon, d)
		return trainingStatement{sparse: append([]linear.Feature(nil), feats...), dense: d}
	}
	for _, st := range sc.statements(nil) {
		out.statements = append(out.statements, stmt(st[0], st[1]))
	}
	out.whole = stmt(0, len(sc.toks))
	intent := 0.0
	if withIntent {
		var r Result
		a.readIntent(sc, fs, s, masked, lexicon, &r)
		intent = r.Intent.Confidence
	}
	out.sentSparse = append([]linear.Feature(nil), fs.selectFeatures(nsSentiment, 0, len(masked))...)
	out.sentDense = make([]float32, sentimentDense)
	a.sentimentDenseInputs(sc, lexicon, emoji, intent, masked, out.sentDense)
	return out
}

// intentOnly is Analyze's intent reading alone (for the trainer, before
// there is a sentiment model).
func (a *Analyzer) intentOnly(s string) Intent {
	sc := new(scratch)
	fs := new(featScratch)
	masked, ruleIntent := a.read(sc, s)
	var r Result
	if len(sc.toks) == 0 {
		return r.Intent
	}
	lexicon, _ := a.sentiment(sc, masked, ruleIntent)
	a.hashText(fs, masked)
	a.readIntent(sc, fs, s, masked, lexicon, &r)
	return r.Intent
}
