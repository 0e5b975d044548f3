package text

import (
	"fmt"
	"os"
	"testing"
)

func TestZZHits(t *testing.T) {
	a := newEvalAnalyzer(t)
	s := os.Getenv("TEXT")
	sc := a.pool.Get().(*scratch)
	sc.reset()
	a.tokenize(sc, s)
	a.findMentions(sc, s)
	a.markMentions(sc)
	a.findHits(sc)
	for _, tk := range sc.toks {
		fmt.Printf("[%s f=%b] ", sc.low[tk.lo:tk.hi], tk.flags)
	}
	fmt.Println()
	for _, h := range sc.hits {
		fmt.Println(a.rules[h.rule].pattern, h.from, h.to)
	}
	fmt.Println(a.Analyze(s), govaderScore()(s))
}
