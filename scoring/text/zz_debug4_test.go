package text

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestZZWords(t *testing.T) {
	a := newEvalAnalyzer(t)
	for _, w := range strings.Fields(os.Getenv("WORDS")) {
		v, ok := a.vader.Lexicon[strings.ToLower(w)]
		fmt.Printf("%s=%v/%v ", w, v, ok)
	}
	fmt.Println()
}
