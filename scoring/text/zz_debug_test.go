package text

import (
	"fmt"
	"os"
	"testing"
)

func TestZZDiff(t *testing.T) {
	a := newEvalAnalyzer(t)
	base := govaderScore()
	set := os.Getenv("SET")
	if set == "" {
		set = "tweets"
	}
	harm, help := 0, 0
	for _, row := range loadVADER(t, set) {
		b := base(row.text)
		r := a.Analyze(row.text)
		g := LabelOf(row.rating)
		if LabelOf(b) == LabelOf(r.Sentiment) {
			continue
		}
		tag := "HELP"
		if LabelOf(b) == g {
			tag = "HARM"
			harm++
		} else if LabelOf(r.Sentiment) == g {
			help++
		} else {
			tag = "SAME"
		}
		fmt.Printf("%s gold=%.2f base=%.2f ours=%.2f cues=%v int=%q | %s\n", tag, row.rating, b, r.Sentiment, r.Cues, r.IntentPhrase, row.text)
	}
	fmt.Println("harm", harm, "help", help)
}
