package text

import (
	"strings"
	"testing"
)

func TestCompetitorMentions(t *testing.T) {
	t.Parallel()
	a, err := NewAnalyzer([]Competitor{
		{Name: "Gainsight", Aliases: []string{"GS", "Gainsight PX"}},
		{Name: "ChurnZero"},
		{Name: "Totango"},
		{Name: "Vitally", CaseSensitive: true},
		{Name: "Catalyst", CaseSensitive: true},
		{Name: "Pendo"},
	})
	if err != nil {
		t.Fatal(err)
	}
	type m struct{ competitor, text string }
	for _, c := range []struct {
		text string
		want []m
	}{
		{"We're evaluating Gainsight.", []m{{"Gainsight", "Gainsight"}}},
		{"gainsight came up again", []m{{"Gainsight", "gainsight"}}},
		{"GAINSIGHT is cheaper", []m{{"Gainsight", "GAINSIGHT"}}},
		// Possessives are not part of the name; plurals are.
		{"Gainsight's onboarding was faster.", []m{{"Gainsight", "Gainsight"}}},
		{"Gainsight’s onboarding was faster.", []m{{"Gainsight", "Gainsight"}}},
		{"Totangos' pricing", []m{{"Totango", "Totangos"}}},
		{"both Pendos and Pendoes", []m{{"Pendo", "Pendos"}, {"Pendo", "Pendoes"}}},
		// Punctuation around the name.
		{"(Totango), Totango. \"Totango\" #Totango Totango!", []m{{"Totango", "Totango"}, {"Totango", "Totango"}, {"Totango", "Totango"}, {"Totango", "Totango"}, {"Totango", "Totango"}}},
		// Spaces, hyphens and case changes inside a name are optional.
		{"Churn Zero, ChurnZero, churn-zero and churnzero", []m{{"ChurnZero", "Churn Zero"}, {"ChurnZero", "ChurnZero"}, {"ChurnZero", "churn-zero"}, {"ChurnZero", "churnzero"}}},
		// The longer alias wins.
		{"Gainsight PX is their product analytics.", []m{{"Gainsight", "Gainsight PX"}}},
		// Never inside another word, a URL, an address, a domain or a file.
		{"Totangoish vibes, antitotango, totango_export", nil},
		{"see https://www.gainsight.com/pricing or www.totango.com", nil},
		{"mail jo@gainsight.com or gainsight@example.com", nil},
		{"gainsight.com and totango.io", nil},
		{"attached gainsight.csv and /exports/totango/data", nil},
		{"<https://gainsight.com/compare|compare>", nil},
		// Names that are ordinary words only count with their capital.
		{"It is vitally important that the catalyst works.", nil},
		{"Vitally, we need the SSO config before the pilot.", nil},
		{"Vitally important: fix the sync.", nil},
		{"We moved from Vitally last year.", []m{{"Vitally", "Vitally"}}},
		{"Vitally is what they use today.", []m{{"Vitally", "Vitally"}}},
		{"Catalyst's pricing is lower.", []m{{"Catalyst", "Catalyst"}}},
		{"VITALLY sent us a quote", []m{{"Vitally", "VITALLY"}}},
		// Acronyms in capitals are case-sensitive by themselves.
		{"GS offered a discount.", []m{{"Gainsight", "GS"}}},
		{"the gs file", nil},
		// Mentions of several aliases interleave, in order of position.
		{"Gainsight PX, Gainsight, Gainsight PX and GS.", []m{{"Gainsight", "Gainsight PX"}, {"Gainsight", "Gainsight"}, {"Gainsight", "Gainsight PX"}, {"Gainsight", "GS"}}},
		{"ChurnZero and Totango were both mentioned, then Gainsight.", []m{{"ChurnZero", "ChurnZero"}, {"Totango", "Totango"}, {"Gainsight", "Gainsight"}}},
	} {
		r := a.Analyze(c.text)
		var got []m
		for _, x := range r.Competitors {
			got = append(got, m{x.Competitor, x.Text})
			if c.text[x.Start:x.End] != x.Text {
				t.Errorf("%q: span [%d,%d) is %q, not %q", c.text, x.Start, x.End, c.text[x.Start:x.End], x.Text)
			}
		}
		if len(got) != len(c.want) {
			t.Errorf("%q: mentions %v, want %v", c.text, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%q: mention %d = %v, want %v", c.text, i, got[i], c.want[i])
			}
		}
	}
}

func TestMentionSnippet(t *testing.T) {
	t.Parallel()
	a := newTestAnalyzer(t)
	long := strings.Repeat("Lots of unrelated preamble about the quarterly business review and seat counts. ", 5) +
		"Their CFO mentioned Gainsight twice during the call and asked for a comparison of the reporting features and pricing tiers we offer. " +
		strings.Repeat("More notes about the agenda, the roadmap and next steps for the integration work. ", 5)
	r := a.Analyze(long)
	if len(r.Competitors) != 1 {
		t.Fatalf("mentions %+v", r.Competitors)
	}
	s := r.Competitors[0].Snippet
	if !strings.Contains(s, "Gainsight") || len(s) > 220 || strings.Contains(s, "preamble") {
		t.Errorf("snippet %q: want the sentence around the mention, bounded", s)
	}
	if !strings.HasSuffix(s, "…") && !strings.HasSuffix(s, ".") {
		t.Errorf("snippet %q: a cut must be marked", s)
	}
	short := a.Analyze("Call notes:\n  they use Totango   today.")
	if got := short.Competitors[0].Snippet; got != "they use Totango today." {
		t.Errorf("snippet %q: white space should be flattened and the line kept", got)
	}
}

func TestCompetitorConfigErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		list []Competitor
		want string
	}{
		{[]Competitor{{Name: " "}}, "[0].name: must not be empty"},
		{[]Competitor{{Name: "Gainsight"}, {Name: "Totango", Aliases: []string{"gainsight"}}}, `[1].aliases[0]: "gainsight" is also a name of "Gainsight"`},
		{[]Competitor{{Name: "Gainsight"}, {Name: "Gain-sight"}}, "is also a name of"},
		{[]Competitor{{Name: "X"}}, "too short"},
		{[]Competitor{{Name: "Totango", Aliases: []string{"<b>"}}}, "only letters"},
	} {
		_, err := NewAnalyzer(c.list)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.list, err, c.want)
		}
		if err2 := ValidateCompetitors(c.list); err2 == nil {
			t.Errorf("%+v: ValidateCompetitors accepted it", c.list)
		}
	}
	if _, err := NewAnalyzer([]Competitor{{Name: "Gainsight", Aliases: []string{"Gainsight"}}}); err != nil {
		t.Errorf("a name repeated as its own alias is harmless: %v", err)
	}
}

func TestCompetitorPrecision(t *testing.T) {
	t.Parallel()
	a, err := NewAnalyzer([]Competitor{
		{Name: "Citi"}, {Name: "Spirit"},
		{Name: "Amazon", Exclude: []string{"Amazon river", "Amazon rainforest"}},
		{Name: "Virgin", Exclude: []string{"Virgin Islands"}},
		{Name: "Apple", Aliases: []string{"iPad", "iPhone"}, Exclude: []string{"apple pie"}},
		{Name: "Box"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		text string
		want []string // the mentions' texts
	}{
		// Only a name's own plural, never a longer word.
		{"Flights to three cities were late.", nil},
		{"The spirits were high after the launch.", nil},
		{"Both Citis in our portfolio use it.", []string{"Citis"}},
		{"Boxes and Spirits", []string{"Boxes", "Spirits"}},
		// Exclusions.
		{"We sailed the Amazon river last summer.", nil},
		{"Our office in the Virgin Islands needs access.", nil},
		{"Mum's apple pie was the best part of the offsite.", nil},
		{"Amazon quoted us a lower price.", []string{"Amazon"}},
		{"Virgin and the Amazon rainforest", []string{"Virgin"}},
		// Slash-joined and digit-suffixed names; paths and URLs still not.
		{"Works on iPad/iPhone both.", []string{"iPad", "iPhone"}},
		{"Tested on an iPad2 today.", []string{"iPad2"}},
		{"see /apps/ipad/config and https://apple.com/ipad", nil},
	} {
		var got []string
		for _, m := range a.Analyze(c.text).Competitors {
			got = append(got, m.Text)
		}
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("%q: mentions %q, want %q", c.text, got, c.want)
		}
	}
	if _, err := NewAnalyzer([]Competitor{{Name: "Amazon", Exclude: []string{" "}}}); err == nil || !strings.Contains(err.Error(), "[0].exclude[0]") {
		t.Errorf("empty exclude: %v", err)
	}
}

func TestMentionsCapped(t *testing.T) {
	t.Parallel()
	a, err := NewAnalyzer([]Competitor{{Name: "Totango"}})
	if err != nil {
		t.Fatal(err)
	}
	r := a.Analyze(strings.Repeat("Totango ", 400))
	if len(r.Competitors) != MaxMentions || r.MentionsOmitted != 400-MaxMentions {
		t.Errorf("%d mentions, %d omitted", len(r.Competitors), r.MentionsOmitted)
	}
}
