package text

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jonreiter/govader"
)

// Throughput of the offline analysis, per core (run with -cpu 1). Texts
// cycle through all four VADER sets and the customer texts, so the mix is
// general and customer text of realistic lengths.
func benchTexts(b *testing.B) []string {
	var out []string
	for _, set := range vaderSets {
		for _, r := range loadVADER(b, set) {
			out = append(out, r.text)
		}
	}
	for _, f := range []string{"customer_texts.tsv", "customer_texts_holdout.tsv", "customer_texts_blind.tsv"} {
		for _, r := range loadCustomer(b, f) {
			out = append(out, r.text)
		}
	}
	return out
}

// The machine these run on is shared, so wall time overstates the cost;
// CPU time used by the process (GC included) is what a core gives.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportTextsPerSec(b *testing.B, cpuStart time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "texts/s")
	if cpu := cpuTime(b) - cpuStart; cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "texts/cpu-s")
	}
}

// BenchmarkAnalyze is the whole offline analysis: sentiment, churn intent
// and competitor mentions with six competitors configured.
func BenchmarkAnalyze(b *testing.B) {
	texts := benchTexts(b)
	a := newEvalAnalyzer(b)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime(b)
	for i := 0; b.Loop(); i++ {
		a.Analyze(texts[i%len(texts)])
	}
	reportTextsPerSec(b, cpu)
}

// BenchmarkGovader is the library alone, for comparison.
func BenchmarkGovader(b *testing.B) {
	texts := benchTexts(b)
	sia := govader.NewSentimentIntensityAnalyzer()
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime(b)
	for i := 0; b.Loop(); i++ {
		sia.PolarityScores(texts[i%len(texts)])
	}
	reportTextsPerSec(b, cpu)
}

// BenchmarkAnalyzeLongText is the worst the ingest API lets in: texts at
// its 20,000-byte limit made of what the analysis looks at per word
// (competitor names, neutralised words, capitals). The cost must stay
// linear in the text.
func BenchmarkAnalyzeLongText(b *testing.B) {
	a := newEvalAnalyzer(b)
	for _, c := range []struct{ name, unit string }{
		{"names", "Vitally and Gainsight PX "},
		{"requests", "Please send "},
		{"laughs", "LOL the export broke lol "},
		{"prose", "The sync is broken again and nobody has responded. "},
	} {
		s := strings.Repeat(c.unit, 20000/len(c.unit))
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				a.Analyze(s)
			}
		})
	}
}
