package text

import (
	"fmt"
	"os"
	"sort"
	"testing"
)

func TestZZR(t *testing.T) {
	a := newEvalAnalyzer(t)
	base := govaderScore()
	set := os.Getenv("SET")
	if set == "" {
		set = "tweets"
	}
	rows := loadVADER(t, set)
	xs, bs, ys := make([]float64, len(rows)), make([]float64, len(rows)), make([]float64, len(rows))
	info := make([]string, len(rows))
	for i, row := range rows {
		r := a.Analyze(row.text)
		xs[i], bs[i], ys[i] = r.Sentiment, base(row.text), row.rating
		info[i] = fmt.Sprintf("gold=%.2f base=%.2f ours=%.2f cues=%v int=%q | %s", row.rating, bs[i], xs[i], r.Cues, r.IntentPhrase, row.text)
	}
	r0 := pearson(xs, ys)
	type d struct {
		gain float64
		i    int
	}
	var ds []d
	for i := range xs {
		if xs[i] == bs[i] {
			continue
		}
		old := xs[i]
		xs[i] = bs[i]
		ds = append(ds, d{pearson(xs, ys) - r0, i})
		xs[i] = old
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i].gain > ds[j].gain })
	fmt.Printf("r=%.4f base=%.4f\n", r0, pearson(bs, ys))
	for k, x := range ds {
		if k < 30 {
			fmt.Printf("%+.5f %s\n", x.gain, info[x.i])
		}
	}
}
