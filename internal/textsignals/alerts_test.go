package textsignals

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"

	"github.com/holdfast/holdfast/scoring/text"
	"github.com/holdfast/holdfast/store"
)

// recordingInsighter stands in for the language model (Analyst).
type recordingInsighter struct {
	mu    sync.Mutex
	texts []string
}

func (r *recordingInsighter) Insight(_ context.Context, _, body string) (Insight, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.texts = append(r.texts, body)
	return Insight{Summary: "about " + body}, nil
}

// One alert per account and competitor quotes the pair's first row: only
// those rows are worth a model call, however many rows repeat the pair.
func TestInsightsAskOncePerAccountAndCompetitor(t *testing.T) {
	t.Parallel()
	a, err := text.NewAnalyzer([]text.Competitor{{Name: "Gainsight"}, {Name: "Totango"}})
	if err != nil {
		t.Fatal(err)
	}
	var rows []store.SignalInput
	add := func(acct, body string) {
		rows = append(rows, store.SignalInput{AccountExternalID: acct, Kind: "ticket", Text: body})
	}
	for range 10 {
		add("acme", "They keep mentioning Gainsight.")
	}
	add("acme", "No rival named here.")
	add("acme", "Gainsight and now Totango too.")
	add("globex", "Globex looked at Gainsight.")
	tb := &textBatch{results: make([]text.Result, len(rows)), insights: map[int]Insight{}}
	for i, r := range rows {
		tb.results[i] = a.Analyze(r.Text)
	}
	model := &recordingInsighter{}
	m := &Module{insight: model, log: slog.New(slog.DiscardHandler)}
	m.insights(context.Background(), rows, tb)

	slices.Sort(model.texts)
	want := []string{"Gainsight and now Totango too.", "Globex looked at Gainsight.", "They keep mentioning Gainsight."}
	if !slices.Equal(model.texts, want) {
		t.Errorf("model asked about %q, want %q", model.texts, want)
	}
	if tb.insights[0].Summary == "" || tb.insights[11].Summary == "" || tb.insights[12].Summary == "" || len(tb.insights) != 3 {
		t.Errorf("insights %v: want rows 0, 11 and 12", tb.insights)
	}
}
