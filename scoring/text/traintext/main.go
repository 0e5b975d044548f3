// Command traintext trains the offline text models embedded in
// scoring/text (`make train-text`): the sentiment model from TweetEval's
// test split and the team's customer texts, the churn-intent model from
// data/churn_intent.tsv's training split. It writes model/*.bin.gz and
// model/recipe.json (every input's and output's SHA-256, and the figures
// measured on the held-out parts: TweetEval's val split and the intent
// set's heldout rows).
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/holdfast/holdfast/scoring/text"
)

func main() {
	tweeteval := flag.String("tweeteval", "../shared/data/tweeteval-sentiment", "TweetEval sentiment directory")
	pkg := flag.String("pkg", "scoring/text", "the scoring/text directory")
	flag.Parse()
	if err := run(*tweeteval, *pkg); err != nil {
		fmt.Fprintln(os.Stderr, "traintext:", err)
		os.Exit(1)
	}
}

func run(tweeteval, pkg string) error {
	m, err := text.Train(text.TrainConfig{TweetEvalDir: tweeteval, DataDir: filepath.Join(pkg, "data"),
		TestdataDir: filepath.Join(pkg, "testdata")})
	if err != nil {
		return err
	}
	rec := text.ModelRecipe{Version: text.ModelVersion, IntentHigh: m.IntentHigh, Inputs: m.Inputs, Outputs: map[string]string{},
		Split: "sentiment: trained on TweetEval test (12,284) + data/customer_sentiment.tsv + testdata/customer_texts.tsv; " +
			"held out: TweetEval val (2,000). intent: trained on churn_intent.tsv rows with split=train; held out: split=heldout (whole template groups)."}
	for name, b := range map[string][]byte{"sentiment.bin.gz": m.Sentiment, "intent.bin.gz": m.Intent} {
		if err := os.WriteFile(filepath.Join(pkg, "model", name), b, 0o644); err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		rec.Outputs[name] = hex.EncodeToString(sum[:])
	}
	// Held-out sentiment figures need the new models: measure with them.
	figs, err := text.MeasureHeldOut(tweeteval, m)
	if err != nil {
		return err
	}
	rec.Figures = append(m.Report, figs...)
	sort.Strings(rec.Figures)
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	for _, f := range rec.Figures {
		fmt.Println(f)
	}
	return os.WriteFile(filepath.Join(pkg, "model", "recipe.json"), append(b, '\n'), 0o644)
}
