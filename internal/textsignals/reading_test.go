package textsignals

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/holdfast/holdfast/llm"
	"github.com/holdfast/holdfast/llm/llmtest"
	"github.com/holdfast/holdfast/scoring/text"
	"github.com/holdfast/holdfast/store"
	"github.com/holdfast/holdfast/store/storetest"
)

var testCompetitors = []text.Competitor{{Name: "Gainsight"}, {Name: "Totango"}}

const ticket = "Still waiting on the export fix. Honestly we will cancel if it is not fixed, Gainsight looks better."

func newAnalyst(t *testing.T, url string, cache store.DB, timeout time.Duration) *Analyst {
	t.Helper()
	return NewAnalyst(llm.New(llm.Config{BaseURL: url, APIKey: "k", Model: "m", Timeout: timeout}), "m", testCompetitors, cache, slog.New(slog.DiscardHandler))
}

func TestReadValidatesAndCachesInPostgres(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	fake := llmtest.New(t, func(r llmtest.Request) llmtest.Answer {
		return llmtest.Answer{Content: `{"sentiment": -0.7, "label": "negative", "reason": "Export broken for weeks.",
			"churn_intent": true, "intent_quote": "we will cancel", "competitors": ["gainsight", "Zendesk"],
			"summary": "Customer threatens to cancel over the export bug and compares with Gainsight."}`}
	})
	r, err := newAnalyst(t, fake.URL, st.DB(), time.Second).Read(context.Background(), "ticket", ticket)
	if err != nil {
		t.Fatal(err)
	}
	if r.Sentiment != -0.7 || r.Label != text.Negative || !r.ChurnIntent || r.IntentQuote != "we will cancel" ||
		len(r.Competitors) != 1 || r.Competitors[0] != "Gainsight" || !strings.Contains(r.Summary, "threatens") {
		t.Errorf("reading %+v: unknown competitors dropped, known ones named as configured", r)
	}
	reqs := fake.Requests()
	if len(reqs) != 1 || !reqs[0].JSONMode || !strings.Contains(reqs[0].User, ticket) || !strings.Contains(reqs[0].System, "Gainsight, Totango") {
		t.Fatalf("requests %+v", reqs)
	}
	// Another process (a new client, so no in-process cache) finds it in Postgres.
	again, err := newAnalyst(t, fake.URL, st.DB(), time.Second).Read(context.Background(), "ticket", ticket)
	if err != nil || again.Summary != r.Summary {
		t.Fatalf("cached read %+v %v", again, err)
	}
	if n := len(fake.Requests()); n != 1 {
		t.Errorf("%d requests: the second read should come from the text_analyses cache", n)
	}
	// The cache is per text: a different text asks again.
	if _, err := newAnalyst(t, fake.URL, st.DB(), time.Second).Read(context.Background(), "ticket", ticket+" Also the API is slow."); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.Requests()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

func TestReadDistrustsWhatItCannotCheck(t *testing.T) {
	t.Parallel()
	fake := llmtest.New(t, func(r llmtest.Request) llmtest.Answer {
		return llmtest.Answer{Content: `{"sentiment": -0.4, "label": "negative", "reason": "r", "churn_intent": true,
			"intent_quote": "we are leaving for Totango", "competitors": [], "summary": "` + strings.Repeat("long ", 200) + `"}`}
	})
	r, err := newAnalyst(t, fake.URL, nil, time.Second).Read(context.Background(), "email", "The export is slow again.")
	if err != nil {
		t.Fatal(err)
	}
	if r.ChurnIntent || r.IntentQuote != "" {
		t.Errorf("intent %v %q: a quote that is not in the text is not believed", r.ChurnIntent, r.IntentQuote)
	}
	if len(r.Summary) > 400 {
		t.Errorf("summary of %d bytes, want at most 400", len(r.Summary))
	}
}

func TestReadFailuresFallBack(t *testing.T) {
	t.Parallel()
	for name, a := range map[string]llmtest.Answer{
		"not json":           {Content: "The customer seems unhappy."},
		"sentiment too big":  {Content: `{"sentiment": 4, "label": "negative"}`},
		"label contradicts":  {Content: `{"sentiment": 0.8, "label": "negative"}`},
		"unknown label":      {Content: `{"sentiment": 0.1, "label": "meh"}`},
		"server error":       {Status: 500},
		"slower than budget": {Content: `{"sentiment": 0, "label": "neutral"}`, Delay: 2 * time.Second},
	} {
		fake := llmtest.New(t, func(llmtest.Request) llmtest.Answer { return a })
		start := time.Now()
		_, err := newAnalyst(t, fake.URL, nil, 300*time.Millisecond).Read(context.Background(), "ticket", "hello")
		if err == nil {
			t.Errorf("%s: no error; the caller must fall back to the offline analysis", name)
		}
		if time.Since(start) > 1500*time.Millisecond {
			t.Errorf("%s: took %v, past the time box", name, time.Since(start))
		}
	}
	var none *Analyst
	if _, err := none.Read(context.Background(), "ticket", "x"); !errors.Is(err, llm.ErrDisabled) {
		t.Errorf("nil analyst: %v", err)
	}
	if NewAnalyst(nil, "", nil, nil, nil) != nil {
		t.Error("no model, no analyst")
	}
}
