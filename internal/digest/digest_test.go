package digest

import (
	"strings"
	"testing"
	"time"

	"github.com/holdfast/holdfast/scoring"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestDue(t *testing.T) {
	t.Parallel()
	berlin := mustLoc(t, "Europe/Berlin")
	ny := mustLoc(t, "America/New_York")
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		name  string
		s     Schedule
		now   string
		due   bool
		key   string
		start string // RFC3339 UTC
		end   string
	}{
		{"daily before send time: yesterday's is past its grace", Schedule{Daily, berlin, "09:00", 0}, "2027-02-08T07:59:00Z",
			false, "2027-02-07", "2027-02-06T08:00:00Z", "2027-02-07T08:00:00Z"},
		{"daily at send time in Berlin", Schedule{Daily, berlin, "09:00", 0}, "2027-02-08T08:00:00Z",
			true, "2027-02-08", "2027-02-07T08:00:00Z", "2027-02-08T08:00:00Z"},
		{"daily a few hours late still goes", Schedule{Daily, berlin, "09:00", 0}, "2027-02-08T13:30:00Z",
			true, "2027-02-08", "2027-02-07T08:00:00Z", "2027-02-08T08:00:00Z"},
		{"daily too late waits for the next", Schedule{Daily, berlin, "09:00", 0}, "2027-02-08T20:00:00Z",
			false, "2027-02-08", "2027-02-07T08:00:00Z", "2027-02-08T08:00:00Z"},
		{"the channel's time zone decides the day", Schedule{Daily, ny, "09:00", 0}, "2027-02-08T13:00:00Z",
			false, "2027-02-07", "2027-02-06T14:00:00Z", "2027-02-07T14:00:00Z"},
		{"across the spring DST change the window is 23 hours", Schedule{Daily, berlin, "09:00", 0}, "2027-03-28T07:00:00Z",
			true, "2027-03-28", "2027-03-27T08:00:00Z", "2027-03-28T07:00:00Z"},
		{"weekly on Monday", Schedule{Weekly, berlin, "09:00", time.Monday}, "2027-02-08T09:00:00Z",
			true, "2027-W06", "2027-02-01T08:00:00Z", "2027-02-08T08:00:00Z"},
		{"weekly, the day after, still within grace", Schedule{Weekly, berlin, "09:00", time.Monday}, "2027-02-09T10:00:00Z",
			true, "2027-W06", "2027-02-01T08:00:00Z", "2027-02-08T08:00:00Z"},
		{"weekly, Sunday before the send time", Schedule{Weekly, berlin, "09:00", time.Monday}, "2027-02-07T10:00:00Z",
			false, "2027-W05", "2027-01-25T08:00:00Z", "2027-02-01T08:00:00Z"},
		{"weekly on Friday afternoon", Schedule{Weekly, time.UTC, "16:30", time.Friday}, "2027-02-12T16:30:00Z",
			true, "2027-W06", "2027-02-05T16:30:00Z", "2027-02-12T16:30:00Z"},
	} {
		p, due, err := Due(c.s, utc(c.now))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if due != c.due || p.Key != c.key || !p.Start.Equal(utc(c.start)) || !p.End.Equal(utc(c.end)) {
			t.Errorf("%s: due %v %s [%s, %s), want %v %s [%s, %s)", c.name, due, p.Key,
				p.Start.UTC().Format(time.RFC3339), p.End.UTC().Format(time.RFC3339), c.due, c.key, c.start, c.end)
		}
	}
	if _, _, err := Due(Schedule{Frequency: "hourly", SendAt: "09:00"}, time.Now()); err == nil {
		t.Error("unknown frequency accepted")
	}
	if _, _, err := Due(Schedule{Frequency: Daily, SendAt: "9:00"}, time.Now()); err == nil {
		t.Error("bad send time accepted")
	}
}

func ptr[T any](v T) *T { return &v }

func TestBuild(t *testing.T) {
	t.Parallel()
	usage := scoring.Component{Key: "usage", Label: "Product usage", Weight: 20, Points: -18, Detail: "usage -45% over 14 days"}
	support := scoring.Component{Key: "support", Label: "Support tickets", Weight: 15, Points: -6, Detail: "4 tickets in 28 days"}
	in := Input{
		Frequency: Weekly,
		Worsened: []ScoreChange{
			{AccountID: 1, Name: "Acme", ARR: 120000, FromScore: ptr(82), FromBand: scoring.BandHealthy, ToScore: 61, ToBand: scoring.BandAtRisk, Components: []scoring.Component{support, usage}},
			{AccountID: 2, Name: "Globex", ARR: 300000, FromScore: ptr(55), FromBand: scoring.BandAtRisk, ToScore: 35, ToBand: scoring.BandCritical},
			{AccountID: 3, Name: "Initech", ARR: 50000, FromScore: ptr(90), FromBand: scoring.BandHealthy, ToScore: 84, ToBand: scoring.BandHealthy},
			{AccountID: 4, Name: "Umbrella", ARR: 80000, FromScore: nil, ToScore: 50, ToBand: scoring.BandAtRisk},
		},
		AtRiskCount: 7, AtRiskARR: 910000,
		Competitors: []CompetitorCount{
			{Competitor: "Totango", Mentions: 1, MentionsBefore: 3, Accounts: 1},
			{Competitor: "Gainsight", Mentions: 4, MentionsBefore: 1, Accounts: 3, WithChurnIntent: 1},
		},
		Examples: []MentionExample{
			{Competitor: "Gainsight", AccountName: "Acme", Snippet: "a"}, {Competitor: "Gainsight", AccountName: "Globex", Snippet: "b"},
			{Competitor: "Gainsight", AccountName: "Initech", Snippet: "c"}, {Competitor: "Totango", AccountName: "Acme", Snippet: "d"},
		},
		Sentiment: []SentimentChange{
			{AccountID: 1, Name: "Acme", Recent: -0.5, RecentN: 3, Before: ptr(0.3), BeforeN: 4},
			{AccountID: 2, Name: "Globex", Recent: 0.1, RecentN: 5, Before: ptr(0.2), BeforeN: 4},   // too small a fall
			{AccountID: 3, Name: "Initech", Recent: -0.8, RecentN: 1, Before: ptr(0.5), BeforeN: 4}, // one text is not a trend
			{AccountID: 4, Name: "Umbrella", Recent: -0.8, RecentN: 4},                              // nothing to compare with
		},
	}
	d := Build(in)
	if !d.Risk || !d.Comp || !d.Sent {
		t.Fatal("no topics means all topics")
	}
	if len(d.EnteredAtRisk) != 3 || d.EnteredAtRisk[0].Name != "Globex" || d.EnteredAtRisk[1].Name != "Acme" || d.EnteredCount != 3 || d.EnteredARR != 500000 {
		t.Errorf("entered at risk %+v (count %d, ARR %v): critical first, then by ARR", d.EnteredAtRisk, d.EnteredCount, d.EnteredARR)
	}
	if len(d.Drops) != 3 || d.Drops[0].Name != "Acme" || d.Drops[0].Drop() != 21 || d.Drops[0].Drivers[0].Key != "usage" {
		t.Errorf("drops %+v: biggest first, with the heaviest driver first", d.Drops)
	}
	if len(d.Competitors) != 2 || d.Competitors[0].Competitor != "Gainsight" || d.Competitors[0].Trend() != 3 || len(d.Competitors[0].Examples) != MaxExamples || d.Competitors[1].Trend() != -2 {
		t.Errorf("competitors %+v", d.Competitors)
	}
	if len(d.Movers) != 1 || d.Movers[0].Name != "Acme" {
		t.Errorf("movers %+v", d.Movers)
	}
	if d.Quiet() {
		t.Error("not quiet")
	}

	only := Build(Input{Topics: []string{TopicCompetitors}, Worsened: in.Worsened, Competitors: in.Competitors})
	if only.Risk || only.Sent || len(only.EnteredAtRisk) != 0 || len(only.Competitors) != 2 {
		t.Errorf("topic filter: %+v", only)
	}
	if !Build(Input{}).Quiet() {
		t.Error("an empty digest is quiet")
	}
}

func TestParseCommand(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		text string
		want Command
		err  string
	}{
		{"", Command{Action: "help"}, ""},
		{"help", Command{Action: "help"}, ""},
		{"list", Command{Action: "list"}, ""},
		{"subscribe weekly", Command{Action: "subscribe", Frequency: Weekly}, ""},
		{"Subscribe DAILY sentiment risk min_arr=50k tier=Enterprise tz=Europe/Berlin at=08:30",
			Command{Action: "subscribe", Frequency: Daily, Topics: []string{"risk", "sentiment"}, MinARR: 50000, Tier: "Enterprise", Timezone: "Europe/Berlin", SendAt: "08:30"}, ""},
		{"subscribe weekly competitors competitors min_arr=$1,200,000", Command{Action: "subscribe", Frequency: Weekly, Topics: []string{"competitors"}, MinARR: 1.2e6}, ""},
		{"unsubscribe", Command{Action: "unsubscribe"}, ""},
		{"unsubscribe weekly", Command{Action: "unsubscribe", Frequency: Weekly}, ""},
		{"preview daily", Command{Action: "preview", Frequency: Daily}, ""},
		{"subscribe", Command{}, "say how often"},
		{"subscribe hourly", Command{}, `"hourly" is not daily, weekly or live`},
		{"subscribe daily churn", Command{}, `"churn" is not a topic`},
		{"subscribe daily min_arr=lots", Command{}, "min_arr=lots: want an amount"},
		{"subscribe daily min_arr=", Command{}, "min_arr= needs a value"},
		{"subscribe daily min_arr=NaN", Command{}, "min_arr=NaN: want an amount"},
		{"subscribe daily min_arr=-5k", Command{}, "min_arr=-5k: want an amount"},
		{"subscribe daily at=9", Command{}, "at=9: want HH:MM"},
		{"subscribe daily colour=red", Command{}, `"colour=" is not an option`},
		{"unsubscribe monthly", Command{}, "is not daily, weekly or live"},
		{"subscribe live risk min_arr=250000", Command{Action: "subscribe", Frequency: Live, Topics: []string{"risk"}, MinARR: 250000}, ""},
		{"subscribe LIVE tier=Enterprise", Command{Action: "subscribe", Frequency: Live, Topics: []string{"risk"}, Tier: "Enterprise"}, ""},
		{"subscribe live competitors", Command{}, "live subscriptions carry churn risk only; competitors alerts already arrive"},
		{"subscribe live risk sentiment", Command{}, "live subscriptions carry churn risk only; sentiment alerts"},
		{"subscribe live tz=Europe/Berlin", Command{}, "tz= is for daily and weekly digests"},
		{"subscribe live at=09:00", Command{}, "at= is for daily and weekly digests"},
		{"subscribe live at=9", Command{}, "at=9: want HH:MM"},
		{"unsubscribe live", Command{Action: "unsubscribe", Frequency: Live}, ""},
		{"preview live", Command{}, "no digest to preview"},
		{"preview monthly", Command{}, "is not daily or weekly"},
		{"list all", Command{}, "takes no options"},
		{"frobnicate", Command{}, "I don't know `/digest frobnicate`"},
	} {
		got, err := ParseCommand(c.text)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want %q", c.text, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.text, err)
			continue
		}
		if got.Action != c.want.Action || got.Frequency != c.want.Frequency || strings.Join(got.Topics, ",") != strings.Join(c.want.Topics, ",") ||
			got.MinARR != c.want.MinARR || got.Tier != c.want.Tier || got.Timezone != c.want.Timezone || got.SendAt != c.want.SendAt {
			t.Errorf("%q: %+v, want %+v", c.text, got, c.want)
		}
	}
}
