package text

import (
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

func newTestAnalyzer(t testing.TB) *Analyzer {
	t.Helper()
	a, err := NewAnalyzer(evalCompetitors)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestSentimentTrickyCases(t *testing.T) {
	t.Parallel()
	a := newTestAnalyzer(t)
	for _, c := range []struct {
		text string
		want Label
		cue  string // a cue that must be reported, if any
	}{
		// Negation.
		{"Not bad at all, the new dashboard loads much faster.", Positive, ""},
		{"The dashboard is not bad.", Positive, ""},
		{"Not happy with the response times lately.", Negative, ""},
		{"The export is not working.", Negative, "broken"},
		{"It's not broken anymore, thanks!", Positive, ""},
		{"No outages this month, nice.", Positive, ""},
		{"No issues at all since the upgrade.", Positive, "no_issues"},
		{"Not a single issue since the upgrade, nice job.", Positive, "no_issues"},
		// Complaints in neutral words.
		{"Still waiting on the export fix, third week now.", Negative, "waiting"},
		{"This is the third time I've asked about the SSO setup.", Negative, "repeat"},
		{"Any update on ticket 4821? It's been 10 days.", Negative, "chasing"},
		{"Following up again, we still don't have access to the admin panel.", Negative, "chasing"},
		{"Nobody has gotten back to us.", Negative, "no_response"},
		{"Day 9 of the Jira sync being down.", Negative, "duration"},
		{"We can't log in since Monday.", Negative, "blocked"},
		{"The site is down.", Negative, "down"},
		{"Hi team,\nThe nightly sync failed again and our reps are working off stale data.\nPlease advise.", Negative, "repeat"},
		{"We were promised this feature in Q2. It's now Q4.", Negative, "broken_promise"},
		// Sarcasm markers.
		{"Oh great, the login page is down again.", Negative, "sarcasm"},
		{"great, another outage 🙄", Negative, "sarcasm"},
		{`thanks for the "fix" 🙄 now nothing loads`, Negative, "sarcasm"},
		{`Yeah right, "fixed". It's still happening.`, Negative, "sarcasm"},
		{"Thanks for nothing.", Negative, "sarcasm"},
		{`Sure, another "quick fix" that broke everything else.`, Negative, ""},
		{"it's been down for hours and the status page says all good lol", Negative, "status_page"},
		// Sincere praise is not sarcasm.
		{"Oh great, that fixed it, thank you!", Positive, ""},
		{"Thanks for the quick fix, everything is working again!", Positive, ""},
		{"Huge thanks to the support team for jumping on this so fast.", Positive, ""},
		// "but" weighs the second half more.
		{"Your product is fine but support has been slow to respond.", Negative, ""},
		{"Bit of a rough start with the import, but overall really happy with the product.", Positive, ""},
		// Politeness and logistics are not feelings.
		{"Please send the updated DPA for signature.", Neutral, ""},
		{"Can we cancel the meeting tomorrow? Something came up.", Neutral, ""},
		{"Please kill the old API key, we rotated it.", Neutral, ""},
		{"Our fiscal year ends in June, so the PO will come through in July.", Neutral, ""},
		{"Could support take a look at the attached log when they get a chance?", Neutral, ""},
		{"Can you share the SOC 2 report?", Neutral, ""},
		// Empty and white space.
		{"", Neutral, ""},
		{"   \n\t ", Neutral, ""},
	} {
		r := a.Analyze(c.text)
		if r.Label != c.want {
			t.Errorf("%q: %s (%.3f, cues %v), want %s", c.text, r.Label, r.Sentiment, r.Cues, c.want)
		}
		if c.cue != "" && !slices.Contains(r.Cues, c.cue) {
			t.Errorf("%q: cues %v, want %q among them", c.text, r.Cues, c.cue)
		}
		if r.Sentiment < -1 || r.Sentiment > 1 || math.IsNaN(r.Sentiment) {
			t.Errorf("%q: sentiment %v out of range", c.text, r.Sentiment)
		}
	}
}

func TestChurnIntent(t *testing.T) {
	t.Parallel()
	a := newTestAnalyzer(t)
	for _, c := range []struct {
		text   string
		intent bool
		phrase string // expected IntentPhrase when intent
	}{
		{"We are evaluating other options ahead of our renewal in March.", true, "evaluating other options"},
		{"Please send the cancellation terms for our contract.", true, "cancellation terms"},
		{"We will not renew our subscription.", true, "not renew"},
		{"Not sure we'll renew given the issues this year.", true, "Not sure we'll renew"},
		{"We won't be renewing in June.", true, "won't be renewing"},
		{"If this isn't fixed by Friday we will cancel.", true, "will cancel"},
		{"We'd like to terminate the contract early.", true, "terminate the contract"},
		{"How do I end our subscription?", true, "end our subscription"},
		{"Please advise on the process to close our account.", true, "close our account"},
		{"We're considering moving to Gainsight when the contract ends.", true, "considering moving to Gainsight"},
		{"We're migrating to Churn Zero in Q1.", true, "migrating to Churn Zero"},
		{"The new VP is evaluating ChurnZero and Vitally.", true, "evaluating ChurnZero"},
		{"We have decided to go with Totango for next year.", true, "decided to go with Totango"},
		{"We're shopping around for a cheaper tool.", true, "shopping around"},
		{"We signed with a competitor and will not be renewing.", true, "signed with a competitor"},
		{"Leadership asked us to look at alternatives before renewal.", true, "look at alternatives"},
		{"We need to cancel our subscription at the end of the term.", true, "cancel our subscription"},

		// Leaving words about other things, and denials.
		{"We are not planning to cancel, just want to understand the seat pricing.", false, ""},
		{"We have no plans to switch providers, just checking on the roadmap.", false, ""},
		{"Not planning to leave, we're really happy with the platform.", false, ""},
		{"We won't cancel our subscription, don't worry.", false, ""},
		{"Can we cancel the meeting tomorrow?", false, ""},
		{"I cancelled my flight so I can't make the QBR, sorry.", false, ""},
		{"Can we end the call 10 minutes early today?", false, ""},
		{"Can you terminate the sandbox instance? We don't need it anymore.", false, ""},
		{"Please close the sandbox account, we are done testing.", false, ""},
		{"FYI we're moving to a new office next month.", false, ""},
		{"We're switching to SSO for all users next week, any gotchas?", false, ""},
		{"Moving to the next agenda item: seat counts.", false, ""},
		{"We looked at Gainsight last year but went with you.", false, ""},
		{"Glad we went with you over Totango, the rollout was painless.", false, ""},
		{"We will renew, the pricing looks fine.", false, ""},
		{"Can you confirm the renewal date for our contract?", false, ""},
		{"Before the end of our contract we want to add ten seats.", false, ""},
		{"The steak was tender and the team was happy.", false, ""},
	} {
		r := a.Analyze(c.text)
		if r.ChurnIntent != c.intent {
			t.Errorf("%q: intent %v (%q), want %v", c.text, r.ChurnIntent, r.IntentPhrase, c.intent)
			continue
		}
		if c.intent && !strings.Contains(strings.ToLower(r.IntentPhrase), strings.ToLower(c.phrase)) {
			t.Errorf("%q: phrase %q, want %q", c.text, r.IntentPhrase, c.phrase)
		}
		if c.intent && r.Label != Negative {
			t.Errorf("%q: stated intent to leave reads %s (%.2f)", c.text, r.Label, r.Sentiment)
		}
		if !c.intent && r.IntentPhrase != "" {
			t.Errorf("%q: phrase %q without intent", c.text, r.IntentPhrase)
		}
	}
}

// The analyzer is shared by every request: hammer it from several
// goroutines (go test -race) and compare with single-threaded answers.
func TestAnalyzeConcurrent(t *testing.T) {
	t.Parallel()
	a := newTestAnalyzer(t)
	texts := []string{
		"Still waiting on the export fix, third week now.",
		"We're considering moving to Gainsight when the contract ends.",
		"Love the new health score view!",
		strings.Repeat("The sync is broken again and nobody has responded. ", 40),
	}
	want := make([]Result, len(texts))
	for i, s := range texts {
		want[i] = a.Analyze(s)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for k := range 40 {
				i := (g + k) % len(texts)
				got := a.Analyze(texts[i])
				if got.Sentiment != want[i].Sentiment || got.ChurnIntent != want[i].ChurnIntent || len(got.Competitors) != len(want[i].Competitors) {
					t.Errorf("concurrent Analyze(%d) = %+v, want %+v", i, got, want[i])
					return
				}
			}
		})
	}
	wg.Wait()
}

func FuzzAnalyze(f *testing.F) {
	for _, s := range []string{"", "Gainsight's", "“fixed” 🙄", "not\nnot\nnot", "churn-zero.", "\xff\xfe", "Vitally, a", "0th 1st 2nd", "''''", "https://gainsight.com Gainsight"} {
		f.Add(s)
	}
	a := newTestAnalyzer(f)
	f.Fuzz(func(t *testing.T, s string) {
		r := a.Analyze(s)
		if math.IsNaN(r.Sentiment) || r.Sentiment < -1 || r.Sentiment > 1 {
			t.Fatalf("sentiment %v", r.Sentiment)
		}
		if r.Label != LabelOf(r.Sentiment) {
			t.Fatalf("label %s for %v", r.Label, r.Sentiment)
		}
		for _, m := range r.Competitors {
			if m.Start < 0 || m.End > len(s) || m.Start >= m.End || s[m.Start:m.End] != m.Text {
				t.Fatalf("bad span %+v in %q", m, s)
			}
			if utf8.ValidString(s) && !utf8.ValidString(m.Snippet) {
				t.Fatalf("snippet %q is not valid UTF-8", m.Snippet)
			}
		}
		if r.ChurnIntent && !strings.Contains(s, r.IntentPhrase) {
			t.Fatalf("intent phrase %q not in text", r.IntentPhrase)
		}
	})
}
