package notes

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/holdfast/holdfast/llm"
	"github.com/holdfast/holdfast/llm/llmtest"
)

const callNote = `Quarterly check-in with Dana (VP Ops) and two team leads.
Usage is steady in the US team but the EU team has not started.
Dana said the EU rollout is blocked until SSO with Okta is live, and Sales promised it for March.
They are evaluating a competitor for the EU region if SSO slips.
We talked about their holiday schedule and the weather in Lisbon.
Budget for 40 more seats is approved once SSO ships.
Next step: send the SSO timeline by Friday.`

const emailThread = `Hi Sam,

The export job failed again last night and finance could not close the books.
This is the third outage this month; our CFO asked whether we should cancel and switch vendors.
Please escalate and send a root cause by Friday.

Thanks,
Dana

-- 
Dana Lee | VP Operations | Acme Corp

On Mon, Nov 23, 2026 at 9:00 AM Support <support@example.com> wrote:
> We are looking into it and will get back to you shortly with more details.`

func TestExtractive(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		max     int
		want    string   // exact, when set
		has     []string // must appear
		hasNot  []string // must not appear
		inOrder []string // appear in this order
	}{
		{name: "empty", in: "  \n ", max: 400, want: ""},
		{name: "short text is kept whole, flattened", in: "Renewal call went well.\nThey want a\tdiscount.", max: 400,
			want: "Renewal call went well. They want a discount."},
		{name: "call note keeps what CS acts on", in: callNote, max: 400,
			has:     []string{"SSO with Okta", "competitor"},
			hasNot:  []string{"weather in Lisbon"},
			inOrder: []string{"SSO with Okta", "competitor"}},
		{name: "email drops greeting, signature and the quoted reply", in: emailThread, max: 250,
			has:    []string{"cancel and switch vendors"},
			hasNot: []string{"Hi Sam", "Thanks", "Dana", "VP Operations |", "looking into it"}},
		{name: "one long sentence is cut at a word", in: strings.Repeat("word ", 200), max: 50},
		{name: "bullets become sentences", in: "- pricing is too high for the renewal\n- the integration with Jira keeps failing\n- nice lunch today with everyone on the team\n" +
			strings.Repeat("- filler line about nothing in particular here\n", 10), max: 120,
			has: []string{"pricing is too high"}, hasNot: []string{"- "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Extractive(tt.in, tt.max)
			if tt.want != "" || strings.TrimSpace(tt.in) == "" {
				if got != tt.want {
					t.Fatalf("got %q, want %q", got, tt.want)
				}
				return
			}
			if n := utf8.RuneCountInString(got); n == 0 || n > tt.max {
				t.Fatalf("%d runes (max %d): %q", n, tt.max, got)
			}
			for _, s := range tt.has {
				if !strings.Contains(got, s) {
					t.Errorf("missing %q in %q", s, got)
				}
			}
			for _, s := range tt.hasNot {
				if strings.Contains(got, s) {
					t.Errorf("unexpected %q in %q", s, got)
				}
			}
			last := -1
			for _, s := range tt.inOrder {
				i := strings.Index(got, s)
				if i < last {
					t.Errorf("%q out of the original order in %q", s, got)
				}
				last = i
			}
		})
	}
}

func TestSummarizer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)

	// No model: short texts verbatim, long ones extractive.
	s := NewSummarizer(nil, log)
	if sum, by := s.Summarize(ctx, "call_note", "Acme", "Quick sync, all good."); by != "verbatim" || sum != "Quick sync, all good." {
		t.Fatalf("short: %q %s", sum, by)
	}
	if sum, by := s.Summarize(ctx, "call_note", "Acme", callNote); by != "extractive" || !strings.Contains(sum, "SSO") {
		t.Fatalf("no model: %q %s", sum, by)
	}

	answers := []llmtest.Answer{
		{Content: `{"summary": "EU rollout waits for Okta SSO, promised for March."}`},
		{Content: `{"summary": ""}`}, // rejected by validation
		{Status: 500},                // an outage
		{Content: `not json at all`}, // garbage
	}
	i := 0
	fake := llmtest.New(t, func(llmtest.Request) llmtest.Answer {
		a := answers[min(i, len(answers)-1)]
		i++
		return a
	})
	model := llm.New(llm.Config{BaseURL: fake.URL, APIKey: "sk-test"})
	s = NewSummarizer(model, log)
	if sum, by := s.Summarize(ctx, "call_note", "Acme", callNote); by != "llm" || sum != "EU rollout waits for Okta SSO, promised for March." {
		t.Fatalf("model: %q %s", sum, by)
	}
	req := fake.Requests()[0]
	if !req.JSONMode || !strings.Contains(req.User, "Kind: call note") || !strings.Contains(req.User, "Dana said") ||
		!strings.Contains(req.System, "not instructions") {
		t.Fatalf("request %+v", req)
	}
	for range 3 {
		// Different text each time so the client's cache does not answer.
		text := callNote + strings.Repeat(" More.", i)
		if sum, by := s.Summarize(ctx, "email", "Acme", text); by != "extractive" || sum == "" {
			t.Fatalf("failed model answer %d: %q %s", i, sum, by)
		}
	}
}

func BenchmarkExtractive(b *testing.B) {
	text := strings.Repeat(callNote+"\n", 8) // about 4 KB, a long call note
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		Extractive(text, SummaryMax)
	}
}
