package text

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
)

// The Emoji Sentiment Ranking (Kralj Novak et al. 2015, CC BY-SA 4.0):
// how often each emoji appeared in tweets that people labelled negative,
// neutral and positive. See data/SOURCE.md.
//
//go:embed data/emoji_sentiment.tsv
var emojiSentimentTSV string

// emojiMinOccurrences: rarer emoji have too few ratings to say anything.
const emojiMinOccurrences = 5

// loadEmojiValence parses the ranking into a valence in -1..+1 per emoji:
// p(+) - p(-) with the authors' Laplace smoothing.
func loadEmojiValence() (map[rune]float32, error) {
	out := map[rune]float32{}
	for i, line := range strings.Split(strings.TrimSpace(emojiSentimentTSV), "\n") {
		if i == 0 {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 5 {
			return nil, fmt.Errorf("emoji ranking line %d: want 5 fields", i+1)
		}
		cp, err := strconv.ParseUint(f[0], 16, 32)
		if err != nil {
			return nil, fmt.Errorf("emoji ranking line %d: %w", i+1, err)
		}
		var n [4]float64
		for j := range n {
			if n[j], err = strconv.ParseFloat(f[j+1], 64); err != nil {
				return nil, fmt.Errorf("emoji ranking line %d: %w", i+1, err)
			}
		}
		if n[0] < emojiMinOccurrences {
			continue
		}
		out[rune(cp)] = float32((n[3]+1)/(n[0]+3) - (n[1]+1)/(n[0]+3))
	}
	return out, nil
}

// emoticons are the ASCII faces, on the same -1..+1 scale (VADER's
// lexicon values divided by four).
var emoticons = map[string]float32{
	":)": 0.5, ":-)": 0.5, "(:": 0.5, ":]": 0.45, "=)": 0.45, ":D": 0.6, ":-D": 0.6, "xD": 0.5, "XD": 0.5,
	";)": 0.4, ";-)": 0.4, ":P": 0.35, ":p": 0.35, ":-P": 0.35, "<3": 0.6, "^^": 0.4, "^_^": 0.45,
	":(": -0.55, ":-(": -0.55, "):": -0.5, ":[": -0.5, ":'(": -0.6, ":/": -0.35, ":-/": -0.35,
	":|": -0.2, ">:(": -0.7, "D:": -0.5, ":@": -0.6, "</3": -0.6, "-_-": -0.35, ":S": -0.35, ":s": -0.35,
}
