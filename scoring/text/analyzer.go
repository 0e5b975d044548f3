// Package text reads customer-success text (tickets, call notes, emails,
// Slack messages) offline: a sentiment score and whether the text states an
// intent to cancel. Everything is pure; one Analyzer serves any number of
// goroutines.
package text

import (
	"regexp"
	"strings"

	"github.com/jonreiter/govader"
)

// Label is the three-way sentiment class.
type Label string

const (
	Positive Label = "positive"
	Neutral  Label = "neutral"
	Negative Label = "negative"
)

// labelThreshold is VADER's published cut-off between neutral and polar.
const labelThreshold = 0.05

// LabelOf classifies a compound score the way VADER's authors do.
func LabelOf(compound float64) Label {
	switch {
	case compound > labelThreshold:
		return Positive
	case compound < -labelThreshold:
		return Negative
	}
	return Neutral
}

// Result is what Analyze finds in one text.
type Result struct {
	Sentiment    float64 // VADER compound, -1..+1
	Label        Label
	ChurnIntent  bool   // the text states an intent to cancel, not renew or switch
	IntentPhrase string // the words that triggered ChurnIntent, as written
}

// Analyzer is built once and is safe for concurrent use: govader's analyzer
// only reads its tables after construction.
type Analyzer struct {
	vader *govader.SentimentIntensityAnalyzer
}

// NewAnalyzer builds the lexicon tables.
func NewAnalyzer() *Analyzer {
	return &Analyzer{vader: govader.NewSentimentIntensityAnalyzer()}
}

// intentPatterns are statements of intent to leave. Each needs a verb of
// leaving tied to the contract or a rival, so "cancel the meeting" or "we
// are not planning to cancel" do not count.
var intentPatterns = []*regexp.Regexp{
	regexp.MustCompile(`(?i)\b(?:will|won't|wont|going to|plan(?:ning)? to|decided to|want to|would like to|need to|have to|must)\s+(?:not\s+)?(?:cancel|terminate|end|churn)\b(?:\s+(?:our|the|my))?\s*(?:contract|subscription|account|plan|service|agreement|license)?`),
	regexp.MustCompile(`(?i)\b(?:cancellation|termination)\s+(?:terms|notice|request|process|date|letter)\b`),
	regexp.MustCompile(`(?i)\b(?:not|won't|wont|will not|do not|don't|aren't|are not)\s+(?:going to\s+|planning to\s+|be\s+)?renew(?:ing)?\b`),
	regexp.MustCompile(`(?i)\b(?:switch(?:ing)?|mov(?:e|ing)|migrat(?:e|ing))\s+(?:over\s+)?to\s+(?:a\s+)?(?:another|a different|[A-Z][\w-]+)`),
	regexp.MustCompile(`(?i)\b(?:evaluat(?:e|ing)|look(?:ing)? at|consider(?:ing)?|explor(?:e|ing)|shop(?:ping)? (?:for|around))\s+(?:other|alternative|different)?\s*(?:options|alternatives|vendors|solutions|tools|providers)\b`),
	regexp.MustCompile(`(?i)\bwe will cancel\b|\bwe'll cancel\b|\bwe are cancel(?:l)?ing\b|\bwe're cancel(?:l)?ing\b`),
}

// negatedIntent catches the common denials that would otherwise match.
var negatedIntent = regexp.MustCompile(`(?i)\b(?:not|no|never)\s+(?:planning|going|intending|looking)\s+to\s+(?:cancel|switch|leave|churn)`)

// Analyze scores one text.
func (a *Analyzer) Analyze(s string) Result {
	var r Result
	if strings.TrimSpace(s) == "" {
		r.Label = Neutral
		return r
	}
	r.Sentiment = a.vader.PolarityScores(s).Compound
	if !negatedIntent.MatchString(s) {
		for _, p := range intentPatterns {
			if loc := p.FindStringIndex(s); loc != nil {
				r.ChurnIntent = true
				r.IntentPhrase = strings.TrimSpace(s[loc[0]:loc[1]])
				break
			}
		}
	}
	r.Label = LabelOf(r.Sentiment)
	return r
}
