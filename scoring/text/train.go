package text

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/holdfast/holdfast/scoring/text/internal/linear"
)

// TrainConfig is where the training data lives. The recipe (split, seed,
// hyper-parameters) is fixed in this file, so the same inputs give the
// same model bytes.
type TrainConfig struct {
	TweetEvalDir string // test_text.txt/test_labels.txt are trained on; val_* are held out
	DataDir      string // scoring/text/data: customer_sentiment.tsv, churn_intent.tsv
	TestdataDir  string // scoring/text/testdata: customer_texts.tsv (its training file only)
}

// The recipe.
var (
	sentimentRecipe = linear.TrainConfig{Classes: sentimentClasses, Buckets: 1 << 17, Dense: sentimentDense,
		Epochs: 3, Rate: 0.05, L2: 1e-6, Seed: 20261206}
	intentRecipe = linear.TrainConfig{Classes: intentClasses, Buckets: 1 << 16, Dense: intentDense,
		Epochs: 12, Rate: 0.3, L2: 1e-6, Seed: 20261207}
	customerWeight float32 = 3 // a team-written customer text weighs three tweets
	// intentTargetPrecision: alerts on intent must rarely be wrong.
	intentTargetPrecision = 0.92
	// intentMinHigh: acting needs intent to be more likely than not.
	intentMinHigh = 0.5
)

// trainingCompetitors are the rivals the training texts name, configured
// as a customer would, so the models learn what a mention adds.
var trainingCompetitors = []Competitor{{Name: "Gainsight"}, {Name: "Totango"}, {Name: "ChurnZero", Aliases: []string{"Churn Zero"}},
	{Name: "Vitally", CaseSensitive: true}, {Name: "Planhat"}, {Name: "Catalyst", CaseSensitive: true}, {Name: "HubSpot"},
	{Name: "Zendesk"}, {Name: "Intercom"}, {Name: "Freshdesk"}, {Name: "Salesforce"}, {Name: "ServiceNow"},
	{Name: "Front", CaseSensitive: true}, {Name: "Pendo"}, {Name: "Zoho"}, {Name: "Monday.com"}}

// TrainedModels is what Train produces: gzip'd model files, the SHA-256
// of every input and output, and the measured figures.
type TrainedModels struct {
	Sentiment, Intent []byte // gzip'd linear models
	Inputs            map[string]string
	IntentHigh        float64 // the confidence at which intent acts
	Report            []string
}

// Train fits the intent model, then the sentiment model (which reads the
// intent model's confidence), and measures both on their held-out parts.
func Train(cfg TrainConfig) (*TrainedModels, error) {
	out := &TrainedModels{Inputs: map[string]string{}}
	read := func(path string) ([]string, error) {
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(raw)
		out.Inputs[filepath.Base(filepath.Dir(path))+"/"+filepath.Base(path)] = hex.EncodeToString(sum[:])
		return strings.Split(strings.TrimRight(string(raw), "\n"), "\n"), nil
	}
	// Every intent text is read twice: with the rivals it names configured
	// as competitors and with none, so the model works either way.
	a, err := NewAnalyzer(nil, withModels(models{sentiment: &linear.Model{}}))
	if err != nil {
		return nil, err
	}
	ac, err := NewAnalyzer(trainingCompetitors, withModels(models{sentiment: &linear.Model{}}))
	if err != nil {
		return nil, err
	}
	both := func(rows []IntentRow) []linear.Example {
		return append(intentExamples(a, rows), intentExamples(ac, rows)...)
	}
	setIntent := func(m *linear.Model, high float64) {
		a.models.intent, ac.models.intent = m, m
		a.models.intentHigh, ac.models.intentHigh = high, high
	}

	// Churn intent.
	intentRows, err := read(filepath.Join(cfg.DataDir, "churn_intent.tsv"))
	if err != nil {
		return nil, err
	}
	rows, err := parseIntentRows(intentRows)
	if err != nil {
		return nil, err
	}
	// The older customer texts' training file says intent or not, without
	// a category; a keyword guess supplies one.
	ctLines, err := read(filepath.Join(cfg.TestdataDir, "customer_texts.tsv"))
	if err != nil {
		return nil, err
	}
	for i, line := range ctLines {
		f := strings.Split(line, "\t")
		if i == 0 || len(f) != 4 {
			continue
		}
		r := IntentRow{ID: f[0], Group: "customer_texts-" + f[0], Split: "train", Lang: "en", Kind: "customer_texts",
			Text: strings.ReplaceAll(f[3], `\n`, "\n"), Category: IntentNone}
		if f[2] == "1" {
			r.Category = guessIntentCategory(r.Text)
		}
		rows = append(rows, r)
	}
	var trainRows, devRows, heldRows []IntentRow
	for _, r := range rows {
		switch {
		case r.Split == "heldout":
			heldRows = append(heldRows, r)
		case groupHash(r.Group)%5 == 0:
			devRows = append(devRows, r)
			trainRows = append(trainRows, r)
		default:
			trainRows = append(trainRows, r)
		}
	}
	// First a model without the development groups, to choose thresholds.
	var fitRows []IntentRow
	for _, r := range trainRows {
		if groupHash(r.Group)%5 != 0 {
			fitRows = append(fitRows, r)
		}
	}
	setIntent(linear.Train(intentRecipe, both(fitRows)), 0)
	// The cut-off for acting: the lowest, down to intentMinHigh, whose
	// development precision is at least intentTargetPrecision.
	out.IntentHigh = 0.95
	for th := 0.95; th >= intentMinHigh-1e-9; th -= 0.05 {
		p, r := intentPR([]*Analyzer{a, ac}, devRows, th)
		if p < intentTargetPrecision {
			break
		}
		out.IntentHigh = math.Round(th*100) / 100
		out.Report = append(out.Report, fmt.Sprintf("intent dev (%d texts, groups held from a first fit) at %.2f: precision %.3f recall %.3f", len(devRows), th, p, r))
	}
	intentModel := linear.Train(intentRecipe, both(trainRows))
	setIntent(intentModel, out.IntentHigh)
	for _, x := range []struct {
		a    *Analyzer
		name string
	}{{a, "no competitors configured"}, {ac, "the named rivals configured"}} {
		p, r := intentPR([]*Analyzer{x.a}, heldRows, out.IntentHigh)
		out.Report = append(out.Report, fmt.Sprintf("intent held-out (%d texts, %s): precision %.3f recall %.3f at confidence %.2f", len(heldRows), x.name, p, r, out.IntentHigh))
	}

	// Sentiment.
	var exs []linear.Example
	add := func(text string, class int, w float32) {
		in := a.inputsForTraining(text, true)
		if in.sentSparse == nil && in.sentDense == nil {
			return
		}
		exs = append(exs, linear.Example{Sparse: in.sentSparse, Dense: in.sentDense, Class: class, Weight: w})
	}
	texts, err := read(filepath.Join(cfg.TweetEvalDir, "test_text.txt"))
	if err != nil {
		return nil, err
	}
	labels, err := read(filepath.Join(cfg.TweetEvalDir, "test_labels.txt"))
	if err != nil {
		return nil, err
	}
	if len(texts) != len(labels) {
		return nil, fmt.Errorf("tweeteval test: %d texts, %d labels", len(texts), len(labels))
	}
	// Classes weigh alike (weights inverse to their counts): a corpus's
	// mix of classes says nothing about the next one's.
	var counts [3]float32
	for i := range texts {
		c := int(labels[i][0] - '0')
		if c < 0 || c > 2 {
			return nil, fmt.Errorf("tweeteval test line %d: label %q", i+1, labels[i])
		}
		counts[c]++
	}
	for i := range texts {
		c := int(labels[i][0] - '0')
		add(texts[i], c, float32(len(texts))/(3*counts[c]))
	}
	for _, file := range []string{filepath.Join(cfg.DataDir, "customer_sentiment.tsv"), filepath.Join(cfg.TestdataDir, "customer_texts.tsv")} {
		lines, err := read(file)
		if err != nil {
			return nil, err
		}
		cs, err := parseSentimentRows(lines)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		for _, r := range cs {
			add(r.Text, r.Class, customerWeight)
		}
	}
	// Development figures: a first fit without every seventh tweet,
	// measured on those (the val split stays unread until the end).
	var fit, dev []linear.Example
	for i, ex := range exs {
		if i < len(texts) && i%7 == 3 {
			dev = append(dev, ex)
		} else {
			fit = append(fit, ex)
		}
	}
	devSent := linear.Train(sentimentRecipe, fit)
	var gold, pred []Label
	p3 := make([]float64, 3)
	for _, ex := range dev {
		devSent.Scores(ex.Sparse, ex.Dense, p3)
		_, l := sentimentFromProbs(p3)
		pred = append(pred, l)
		gold = append(gold, Label(sentimentClasses[ex.Class]))
	}
	out.Report = append(out.Report, "sentiment dev (every 7th TweetEval test tweet, held from a first fit): "+ScoreLabels(gold, pred).String())
	sentModel := linear.Train(sentimentRecipe, exs)
	a.models.sentiment = sentModel

	for _, m := range []struct {
		m   *linear.Model
		dst *[]byte
	}{{intentModel, &out.Intent}, {sentModel, &out.Sentiment}} {
		raw, err := m.m.MarshalBinary()
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		zw.Write(raw)
		if err := zw.Close(); err != nil {
			return nil, err
		}
		*m.dst = b.Bytes()
	}
	return out, nil
}

// guessIntentCategory names the kind of intent a text states, by keyword.
func guessIntentCategory(s string) IntentCategory {
	l := strings.ToLower(s)
	has := func(ws ...string) bool {
		for _, w := range ws {
			if strings.Contains(l, w) {
				return true
			}
		}
		return false
	}
	switch {
	case has("if this", "unless", " or we "):
		return IntentUltimatum
	case has("downgrade", "fewer seats", "reduce"):
		return IntentDowngrade
	case has("evaluating", "alternatives", "options", "shopping", "looking at", "considering"):
		return IntentEvaluating
	case has("switch", "moving to", "move to", "migrating", "signed with", "consolidate"):
		return IntentSwitch
	case has("renew"):
		return IntentNonRenewal
	}
	return IntentCancel
}

func groupHash(g string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(g))
	return h.Sum32()
}

// IntentRow is one labelled text of data/churn_intent.tsv.
type IntentRow struct {
	ID, Group, Split, Lang, Kind, Text string
	Category                           IntentCategory
}

// ParseIntentFile reads data/churn_intent.tsv.
func ParseIntentFile(path string) ([]IntentRow, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseIntentRows(strings.Split(strings.TrimRight(string(raw), "\n"), "\n"))
}

func parseIntentRows(lines []string) ([]IntentRow, error) {
	var out []IntentRow
	for i, line := range lines {
		if i == 0 || strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 7 {
			return nil, fmt.Errorf("churn_intent.tsv line %d: want 7 fields, got %d", i+1, len(f))
		}
		r := IntentRow{ID: f[0], Group: f[1], Split: f[2], Lang: f[3], Category: IntentCategory(f[4]), Kind: f[5],
			Text: strings.ReplaceAll(f[6], `\n`, "\n")}
		if classIndex(intentClasses, string(r.Category)) < 0 {
			return nil, fmt.Errorf("churn_intent.tsv line %d: category %q", i+1, f[4])
		}
		if r.Split != "train" && r.Split != "heldout" {
			return nil, fmt.Errorf("churn_intent.tsv line %d: split %q", i+1, f[2])
		}
		out = append(out, r)
	}
	return out, nil
}

type sentimentRow struct {
	Text  string
	Class int
}

// parseSentimentRows reads id, label, [churn_intent,] text.
func parseSentimentRows(lines []string) ([]sentimentRow, error) {
	var out []sentimentRow
	for i, line := range lines {
		if i == 0 || strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) < 3 {
			return nil, fmt.Errorf("line %d: want id, label, text", i+1)
		}
		c := classIndex(sentimentClasses, f[1])
		if c < 0 {
			return nil, fmt.Errorf("line %d: label %q", i+1, f[1])
		}
		out = append(out, sentimentRow{Text: strings.ReplaceAll(f[len(f)-1], `\n`, "\n"), Class: c})
	}
	return out, nil
}

func classIndex(classes []string, c string) int {
	for i, x := range classes {
		if x == c {
			return i
		}
	}
	return -1
}

// intentExamples: a text stating intent is one example as a whole (which
// of its sentences says it is not labelled); every sentence of a text
// without intent is an example of none.
func intentExamples(a *Analyzer, rows []IntentRow) []linear.Example {
	var out []linear.Example
	for _, r := range rows {
		in := a.inputsForTraining(r.Text, false)
		c := classIndex(intentClasses, string(r.Category))
		if c == 0 {
			for _, st := range in.statements {
				out = append(out, linear.Example{Sparse: st.sparse, Dense: st.dense, Class: 0, Weight: 1})
			}
			if len(in.statements) > 1 {
				out = append(out, linear.Example{Sparse: in.whole.sparse, Dense: in.whole.dense, Class: 0, Weight: 1})
			}
			continue
		}
		if in.whole.sparse == nil {
			continue
		}
		out = append(out, linear.Example{Sparse: in.whole.sparse, Dense: in.whole.dense, Class: c, Weight: 1})
	}
	return out
}

// intentPR is precision and recall of High intent over rows at threshold th.
func intentPR(as []*Analyzer, rows []IntentRow, th float64) (p, r float64) {
	var m confusion
	for _, a := range as {
		for _, row := range rows {
			in := a.intentOnly(row.Text)
			m.add(in.Category != "" && in.Confidence >= th, row.Category != IntentNone)
		}
	}
	p, r, _ = m.prf()
	if m.tp+m.fp == 0 {
		p = 1 // nothing claimed, nothing wrong
	}
	return p, r
}

// ReadTweetEval reads one TweetEval split ("val" or "test").
func ReadTweetEval(dir, split string) (texts []string, labels []Label, err error) {
	read := func(name string) ([]string, error) {
		f, err := os.Open(filepath.Join(dir, split+"_"+name+".txt"))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		var lines []string
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		return lines, sc.Err()
	}
	if texts, err = read("text"); err != nil {
		return nil, nil, err
	}
	ls, err := read("labels")
	if err != nil {
		return nil, nil, err
	}
	if len(ls) != len(texts) {
		return nil, nil, fmt.Errorf("tweeteval %s: %d texts, %d labels", split, len(texts), len(ls))
	}
	for i, l := range ls {
		c := classIndex([]string{"0", "1", "2"}, strings.TrimSpace(l))
		if c < 0 {
			return nil, nil, fmt.Errorf("tweeteval %s line %d: label %q", split, i+1, l)
		}
		labels = append(labels, Label(sentimentClasses[c]))
	}
	return texts, labels, nil
}
