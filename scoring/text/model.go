package text

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/holdfast/holdfast/scoring/text/internal/linear"
)

// The trained models, written by `make train-text` (scoring/text/traintext)
// with the recipe that made them: inputs' and outputs' SHA-256, the split
// and the hyper-parameters. model_test.go checks the embedded files
// against the recipe.
var (
	//go:embed model/sentiment.bin.gz
	sentimentModelGz []byte
	//go:embed model/intent.bin.gz
	intentModelGz []byte
	//go:embed model/recipe.json
	modelRecipeJSON []byte
)

// ModelVersion names the embedded models; it changes when they are retrained.
const ModelVersion = "2026-12-text-1"

// Sentiment classes in the model's order.
var sentimentClasses = []string{string(Negative), string(Neutral), string(Positive)}

// IntentCategory is what kind of leaving a statement announces.
type IntentCategory string

const (
	IntentNone       IntentCategory = "none"
	IntentCancel     IntentCategory = "cancel"
	IntentNonRenewal IntentCategory = "non_renewal"
	IntentDowngrade  IntentCategory = "downgrade"
	IntentSwitch     IntentCategory = "competitor_switch" // decided, under way or already made
	IntentEvaluating IntentCategory = "evaluating_alternatives"
	IntentUltimatum  IntentCategory = "ultimatum" // "fix this by Friday or we walk"
	intentClassCount                = 7
)

var intentClasses = []string{string(IntentNone), string(IntentCancel), string(IntentNonRenewal), string(IntentDowngrade),
	string(IntentSwitch), string(IntentEvaluating), string(IntentUltimatum)}

// Intent is one statement of churn intent: the sentence as written, where
// it is, the model's confidence (probability it states intent) and whether
// that is high enough to act on. Only High intent drives alerts and the
// at-risk state; lower confidence is shown, not alerted.
type Intent struct {
	Category   IntentCategory `json:"category"`
	Quote      string         `json:"quote"`
	Start      int            `json:"start"` // byte offsets of Quote in the text
	End        int            `json:"end"`
	Confidence float64        `json:"confidence"`
	High       bool           `json:"high"`
}

// IntentShownConfidence: below it a statement is not reported at all.
// The cut-off for acting is the recipe's intent_high, chosen by the
// trainer on the training data's own development groups (never on the
// held-out split); Analyzer.IntentHighConfidence reports it.
const IntentShownConfidence = 0.35

// Dense inputs of the sentiment model, in order.
const (
	sdLexicon = iota // the VADER + customer-success score
	sdLexPos
	sdLexNeg
	sdComplaintCues
	sdPraiseCues
	sdEmoji
	sdIntent
	sdExclaim
	sdQuestion
	sentimentDense
)

// Dense inputs of the intent model, in order.
const (
	idRule = iota // an intent pattern matched in the statement
	idDenial
	idCompetitor
	idQuestion
	idLexNeg
	intentDense
)

type models struct {
	sentiment, intent *linear.Model
	intentHigh        float64
}

// ModelRecipe is model/recipe.json.
type ModelRecipe struct {
	Version    string            `json:"version"`
	Split      string            `json:"split"`
	IntentHigh float64           `json:"intent_high"`
	Inputs     map[string]string `json:"inputs"`
	Outputs    map[string]string `json:"outputs"`
	Figures    []string          `json:"figures"`
}

// EmbeddedRecipe returns the recipe the embedded models were trained by.
func EmbeddedRecipe() (ModelRecipe, error) {
	var r ModelRecipe
	err := json.Unmarshal(modelRecipeJSON, &r)
	return r, err
}

// EmbeddedModelFiles returns the embedded model files by name.
func EmbeddedModelFiles() map[string][]byte {
	return map[string][]byte{"sentiment.bin.gz": sentimentModelGz, "intent.bin.gz": intentModelGz}
}

// loadModels decodes the embedded models once per process: they are
// read-only, and every Analyzer shares them.
var loadModels = sync.OnceValues(func() (models, error) {
	var m models
	var err error
	if m.sentiment, err = decodeModel(sentimentModelGz, sentimentClasses, sentimentDense); err != nil {
		return m, fmt.Errorf("sentiment model: %w", err)
	}
	if m.intent, err = decodeModel(intentModelGz, intentClasses, intentDense); err != nil {
		return m, fmt.Errorf("intent model: %w", err)
	}
	rec, err := EmbeddedRecipe()
	if err != nil {
		return m, fmt.Errorf("model recipe: %w", err)
	}
	if rec.IntentHigh <= IntentShownConfidence || rec.IntentHigh >= 1 {
		return m, fmt.Errorf("model recipe: intent_high %v out of range", rec.IntentHigh)
	}
	m.intentHigh = rec.IntentHigh
	return m, nil
})

func decodeModel(gz []byte, classes []string, dense int) (*linear.Model, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	m, err := linear.Load(raw)
	if err != nil {
		return nil, err
	}
	if strings.Join(m.Classes, ",") != strings.Join(classes, ",") || m.Dense != dense {
		return nil, fmt.Errorf("classes %v with %d dense inputs, want %v with %d", m.Classes, m.Dense, classes, dense)
	}
	return m, nil
}
