package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/holdfast/holdfast/llm/llmtest"
	"github.com/holdfast/holdfast/scoring/text"
)

type analyzed struct {
	ID           json.RawMessage `json:"id"`
	Sentiment    float64         `json:"sentiment"`
	Label        string          `json:"label"`
	ChurnIntent  bool            `json:"churn_intent"`
	IntentPhrase string          `json:"intent_phrase"`
	Intent       *text.Intent    `json:"intent"`
	Competitors  []text.Mention  `json:"competitors"`
	Omitted      int             `json:"mentions_omitted"`
	LLM          *struct {
		Summary string `json:"summary"`
	} `json:"llm"`
	LLMError string `json:"llm_error"`
}

func runAnalyze(t *testing.T, env map[string]string, stdin string, args ...string) (code int, out []analyzed, stderr string) {
	t.Helper()
	var so, se bytes.Buffer
	code = run(context.Background(), append([]string{"analyze"}, args...), func(k string) string { return env[k] }, strings.NewReader(stdin), &so, &se)
	sc := bufio.NewScanner(&so)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var a analyzed
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("output line %q: %v", sc.Text(), err)
		}
		out = append(out, a)
	}
	return code, out, se.String()
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAnalyzeJSONLFile(t *testing.T) {
	t.Parallel()
	cfg := writeFile(t, "holdfast.yaml", "text:\n  competitors:\n    - name: Gainsight\n    - name: Vitally\n      case_sensitive: true\n")
	in := writeFile(t, "tickets.jsonl", `{"id": 1, "text": "Still waiting on the export fix, third week now."}
{"id": "t-2", "text": "We're evaluating Gainsight’s platform ahead of renewal.", "extra": true}

{"id": 3, "text": "Thanks, that workaround did the trick!"}
{"id": 4, "text": "It is vitally important that the export works."}
`)
	code, out, stderr := runAnalyze(t, map[string]string{"HOLDFAST_CONFIG": cfg}, "", in)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if len(out) != 4 {
		t.Fatalf("%d lines, want 4 (blank lines skipped)", len(out))
	}
	if string(out[0].ID) != "1" || out[0].Label != "negative" || out[0].ChurnIntent {
		t.Errorf("row 1: %+v", out[0])
	}
	raw := "We're evaluating Gainsight’s platform ahead of renewal."
	if string(out[1].ID) != `"t-2"` || !out[1].ChurnIntent || out[1].IntentPhrase != raw || len(out[1].Competitors) != 1 ||
		out[1].Intent == nil || out[1].Intent.Quote != raw || !out[1].Intent.High || out[1].Intent.Category != text.IntentEvaluating {
		t.Fatalf("row 2: %+v", out[1])
	}
	if m := out[1].Competitors[0]; m.Competitor != "Gainsight" || raw[m.Start:m.End] != "Gainsight" || m.Snippet != raw {
		t.Errorf("row 2 mention %+v", m)
	}
	if out[2].Label != "positive" || len(out[3].Competitors) != 0 {
		t.Errorf("rows 3-4: %+v %+v", out[2], out[3])
	}
}

func TestAnalyzeCSVFromStdin(t *testing.T) {
	t.Parallel()
	csvIn := "ticket_id,id,text\r\nx,a1,\"Hi team,\nThe sync failed again.\nPlease advise.\"\r\ny,a2,\"Please send the cancellation terms, \"\"asap\"\".\"\r\n"
	code, out, stderr := runAnalyze(t, nil, csvIn)
	if code != 0 || stderr != "" || len(out) != 2 {
		t.Fatalf("exit %d, stderr %q, %d lines", code, stderr, len(out))
	}
	if string(out[0].ID) != `"a1"` || out[0].Label != "negative" || string(out[1].ID) != `"a2"` || !out[1].ChurnIntent {
		t.Errorf("rows %+v", out)
	}
	// -format forces the reading; "-" is stdin.
	if code, out, _ := runAnalyze(t, nil, "id,text\n1,hello\n", "-format", "csv", "-"); code != 0 || len(out) != 1 {
		t.Errorf("forced csv: exit %d, %d lines", code, len(out))
	}
}

func TestAnalyzeBadInput(t *testing.T) {
	t.Parallel()
	jsonl := `{"id": 1, "text": "fine"}
not json
{"text": "no id"}
{"id": 4}
{"id": 5, "text": "still fine"}
`
	code, out, stderr := runAnalyze(t, nil, jsonl)
	if code != 1 || len(out) != 2 || string(out[1].ID) != "5" {
		t.Errorf("exit %d, %d lines: good rows are still written, the exit status says some were skipped", code, len(out))
	}
	for _, want := range []string{"- line 2: not a JSON object", `- line 3: missing "id"`, `- line 4: missing "text"`, "3 rows skipped"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	// A malformed CSV record is reported and skipped, not a crash.
	if code, out, stderr := runAnalyze(t, nil, "id,text\n1,fine\na\"b,broken quote\n2,\"unterminated\n"); code != 1 || len(out) != 1 || string(out[0].ID) != `"1"` ||
		!strings.Contains(stderr, "- line 3: bare \" in non-quoted-field") || !strings.Contains(stderr, "2 rows skipped") {
		t.Errorf("malformed csv: exit %d, %d lines, stderr %q", code, len(out), stderr)
	}
	if code, _, stderr := runAnalyze(t, nil, "ticket,body\n1,x\n"); code != 1 || !strings.Contains(stderr, "want columns named id and text") {
		t.Errorf("csv without id/text: exit %d %q", code, stderr)
	}
	if code, _, stderr := runAnalyze(t, nil, "", "-format", "xml"); code != exitUsage || !strings.Contains(stderr, `-format "xml"`) {
		t.Errorf("bad format: exit %d %q", code, stderr)
	}
	if code, _, stderr := runAnalyze(t, nil, "", "a.jsonl", "b.jsonl"); code != exitUsage || !strings.Contains(stderr, "at most one FILE") {
		t.Errorf("two files: exit %d %q", code, stderr)
	}
	if code, _, stderr := runAnalyze(t, nil, "", filepath.Join(t.TempDir(), "missing.jsonl")); code != 1 || !strings.Contains(stderr, "no such file") {
		t.Errorf("missing file: exit %d %q", code, stderr)
	}
	bad := writeFile(t, "bad.yaml", "text:\n  competitors:\n    - name: \"\"\n")
	if code, _, stderr := runAnalyze(t, map[string]string{"HOLDFAST_CONFIG": bad}, ""); code != exitUsage || !strings.Contains(stderr, "text.competitors[0].name: must not be empty") {
		t.Errorf("bad config: exit %d %q", code, stderr)
	}
	if code, out, stderr := runAnalyze(t, nil, ""); code != 0 || len(out) != 0 || stderr != "" {
		t.Errorf("empty input: exit %d, %d lines, %q", code, len(out), stderr)
	}
	if code, _, stderr := runAnalyze(t, nil, "", "-llm"); code != exitUsage || !strings.Contains(stderr, "-llm needs OPENAI_API_KEY") {
		t.Errorf("-llm without a model: exit %d %q", code, stderr)
	}
}

// An over-long line is reported and skipped; the stream goes on.
func TestAnalyzeKeepsStreamingPastAnOverlongLine(t *testing.T) {
	t.Parallel()
	long := `{"id": 2, "text": "` + strings.Repeat("a", maxLine+10) + "\"}\n"
	in := `{"id": 1, "text": "fine"}` + "\n" + long + `{"id": 3, "text": "still fine"}` + "\nnot json\n" + `{"id": 5, "text": "last"}`
	code, out, stderr := runAnalyze(t, nil, in)
	if code != 1 || len(out) != 3 || string(out[0].ID) != "1" || string(out[1].ID) != "3" || string(out[2].ID) != "5" {
		t.Fatalf("exit %d, %d lines %+v", code, len(out), out)
	}
	for _, want := range []string{"- line 2: longer than 16 MiB", "- line 4: not a JSON object", "2 rows skipped"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

// Slack link labels are read as Slack shows them; mentions per text are
// capped; own names are neither competitors nor sentiment.
func TestAnalyzeSlackLabelsOwnNamesAndCap(t *testing.T) {
	t.Parallel()
	cfg := writeFile(t, "holdfast.yaml", "text:\n  own_names: [Acme, \"@AcmeHelp\"]\n  competitors:\n    - name: Gainsight\n    - name: Totango\n")
	many := strings.Repeat("Totango ", 300)
	in := fmt.Sprintf("{\"id\": 1, \"text\": %q}\n{\"id\": 2, \"text\": %q}\n{\"id\": 3, \"text\": %q}\n",
		"Have you seen <https://www.gainsight.com/compare|Gainsight's comparison page>?", many, "@AcmeHelp Acme lost our export again")
	code, out, stderr := runAnalyze(t, map[string]string{"HOLDFAST_CONFIG": cfg}, in)
	if code != 0 || len(out) != 3 {
		t.Fatalf("exit %d, %d lines, %s", code, len(out), stderr)
	}
	if len(out[0].Competitors) != 1 || out[0].Competitors[0].Competitor != "Gainsight" {
		t.Errorf("link label: %+v", out[0].Competitors)
	}
	if len(out[1].Competitors) != text.MaxMentions || out[1].Omitted != 300-text.MaxMentions {
		t.Errorf("cap: %d mentions, %d omitted", len(out[1].Competitors), out[1].Omitted)
	}
	if len(out[2].Competitors) != 0 || out[2].Label != "negative" {
		t.Errorf("own names: %+v", out[2])
	}
	bad := writeFile(t, "bad.yaml", "text:\n  own_names: [Gainsight]\n  competitors:\n    - name: Gainsight\n")
	if code, _, stderr := runAnalyze(t, map[string]string{"HOLDFAST_CONFIG": bad}, ""); code != exitUsage || !strings.Contains(stderr, "text.own_names[0]") {
		t.Errorf("own name that is a competitor: exit %d %q", code, stderr)
	}
}

func TestAnalyzeKeepsOrderWithManyWorkers(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&b, "{\"id\": %d, \"text\": %q}\n", i, []string{"Love it!", "It is broken again.", "Send the invoice."}[i%3])
	}
	code, out, _ := runAnalyze(t, nil, b.String(), "-workers", "7")
	if code != 0 || len(out) != 5000 {
		t.Fatalf("exit %d, %d lines", code, len(out))
	}
	for i, o := range out {
		if string(o.ID) != fmt.Sprint(i) || o.Label != []string{"positive", "negative", "neutral"}[i%3] {
			t.Fatalf("line %d: %+v", i, o)
		}
	}
}

func TestAnalyzeWithLLM(t *testing.T) {
	t.Parallel()
	fake := llmtest.New(t, func(r llmtest.Request) llmtest.Answer {
		if strings.Contains(r.User, "slow") {
			return llmtest.Answer{Status: 500}
		}
		return llmtest.Answer{Content: `{"sentiment": -0.5, "label": "negative", "reason": "r", "churn_intent": false, "intent_quote": "", "competitors": [], "summary": "Export is broken."}`}
	})
	env := map[string]string{"OPENAI_BASE_URL": fake.URL, "OPENAI_API_KEY": "k", "OPENAI_MODEL": "m"}
	code, out, _ := runAnalyze(t, env, "{\"id\":1,\"text\":\"The export is broken.\"}\n{\"id\":2,\"text\":\"It is slow.\"}\n", "-llm")
	if code != 0 || len(out) != 2 {
		t.Fatalf("exit %d, %d lines", code, len(out))
	}
	if out[0].LLM == nil || out[0].LLM.Summary != "Export is broken." || out[1].LLM != nil || out[1].LLMError == "" || out[1].Label == "" {
		t.Errorf("llm fields %+v / %+v: a failed call keeps the offline result and says why", out[0], out[1])
	}
}

// benchInput is every VADER text and customer text as JSONL.
func benchInput(b *testing.B) ([]byte, int) {
	var buf bytes.Buffer
	n := 0
	for _, set := range []string{"tweets", "amazonReviewSnippets", "movieReviewSnippets", "nytEditorialSnippets"} {
		f, err := os.Open(filepath.Join("..", "..", "scoring", "text", "testdata", "vader", set+"_GroundTruth.txt.gz"))
		if err != nil {
			b.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(zr)
		for sc.Scan() {
			parts := strings.SplitN(strings.TrimRight(sc.Text(), "\r"), "\t", 3)
			if len(parts) == 3 {
				line, _ := json.Marshal(map[string]string{"id": set + ":" + parts[0], "text": parts[2]})
				buf.Write(append(line, '\n'))
				n++
			}
		}
		f.Close()
	}
	return buf.Bytes(), n
}

// BenchmarkAnalyzeCommand is holdfast analyze on one worker: read JSONL,
// analyse (two competitors configured), write JSONL. Figures per core:
// texts/cpu-s counts the process's CPU time, the machine being shared.
func BenchmarkAnalyzeCommand(b *testing.B) {
	input, n := benchInput(b)
	a, err := text.NewAnalyzer([]text.Competitor{{Name: "Gainsight"}, {Name: "Totango"}})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu0 := processCPU(b)
	for b.Loop() {
		if _, err := analyzeStream(context.Background(), bytes.NewReader(input), "bench.jsonl", io.Discard, io.Discard,
			analyzeOptions{format: "jsonl", workers: 1}, a, nil); err != nil {
			b.Fatal(err)
		}
	}
	texts := float64(b.N * n)
	b.ReportMetric(texts/b.Elapsed().Seconds(), "texts/s")
	b.ReportMetric(texts/(processCPU(b)-cpu0).Seconds(), "texts/cpu-s")
}

func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
