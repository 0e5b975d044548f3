package churn

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func months(n int) *int { return &n }

func TestTenureBucket(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		months *int
		bucket int
		label  string
	}{
		{nil, -1, ""}, {months(0), 0, "under 6 months"}, {months(5), 0, "under 6 months"},
		{months(6), 1, "6–12 months"}, {months(11), 1, "6–12 months"}, {months(12), 2, "1–2 years"},
		{months(23), 2, "1–2 years"}, {months(24), 3, "2+ years"}, {months(120), 3, "2+ years"},
	} {
		if b, l := TenureBucket(tc.months), TenureLabel(tc.months); b != tc.bucket || l != tc.label {
			t.Errorf("TenureBucket(%v) = %d %q, want %d %q", tc.months, b, l, tc.bucket, tc.label)
		}
	}
}

func TestSubmissionValidate(t *testing.T) {
	t.Parallel()
	today := day("2027-03-10")
	ok := Submission{StatedReason: "Too expensive", Cause: Pricing, Diagnosis: "Never adopted module B"}
	long := strings.Repeat("x", MaxTextLen+1)
	for _, tc := range []struct {
		name string
		edit func(*Submission)
		want []string // fields with errors
	}{
		{"valid", func(*Submission) {}, nil},
		{"valid with date", func(s *Submission) { s.ChurnedOn = today }, nil},
		{"missing reason and diagnosis", func(s *Submission) { s.StatedReason, s.Diagnosis = " ", "" }, []string{FieldDiagnosis, FieldStatedReason}},
		{"no cause", func(s *Submission) { s.Cause = "" }, []string{FieldCause}},
		{"support experience is not a churn cause", func(s *Submission) { s.Cause = SupportExperience }, []string{FieldCause}},
		{"unknown cause", func(s *Submission) { s.Cause = "vibes" }, []string{FieldCause}},
		{"sales cause needs deal behaviour", func(s *Submission) { s.Cause = FeatureOverpromise }, []string{FieldDealBehaviour}},
		{"sales cause with deal behaviour", func(s *Submission) { s.Cause, s.DealBehaviour = PhantomChampion, "single-threaded" }, nil},
		{"too long", func(s *Submission) { s.Diagnosis = long }, []string{FieldDiagnosis}},
		{"future date", func(s *Submission) { s.ChurnedOn = today.AddDate(0, 0, 1) }, []string{FieldChurnedOn}},
		{"ancient date", func(s *Submission) { s.ChurnedOn = today.AddDate(-3, 0, 0) }, []string{FieldChurnedOn}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := ok
			tc.edit(&s)
			errs := s.Validate(today)
			var got []string
			for f := range errs {
				got = append(got, f)
			}
			if len(got) > 1 {
				// map order: sort for comparison
				if got[0] > got[1] {
					got[0], got[1] = got[1], got[0]
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("errors %v, want fields %v", errs, tc.want)
			}
		})
	}
}

func TestPeriods(t *testing.T) {
	t.Parallel()
	today := day("2027-03-01")
	for _, tc := range []struct {
		arg, key, label, start, end string
		err                         bool
	}{
		{"", "2027-02", "February 2027", "2027-02-01", "2027-03-01", false},
		{"month", "2027-02", "February 2027", "2027-02-01", "2027-03-01", false},
		{"quarter", "2026-Q4", "Q4 2026", "2026-10-01", "2027-01-01", false},
		{"2027-01", "2027-01", "January 2027", "2027-01-01", "2027-02-01", false},
		{"2027-Q1", "2027-Q1", "Q1 2027", "2027-01-01", "2027-04-01", false},
		{"2027-03", "2027-03", "March 2027", "2027-03-01", "2027-04-01", false},
		{"2027-04", "", "", "", "", true},
		{"2027-Q5", "", "", "", "", true},
		{"yesterday", "", "", "", "", true},
	} {
		p, err := ParsePeriod(tc.arg, today)
		if tc.err {
			if err == nil {
				t.Errorf("ParsePeriod(%q) = %v, want error", tc.arg, p)
			}
			continue
		}
		if err != nil || p.Key() != tc.key || p.Label() != tc.label || !p.Start.Equal(day(tc.start)) || !p.End.Equal(day(tc.end)) {
			t.Errorf("ParsePeriod(%q) = %s %q [%s, %s) %v", tc.arg, p.Key(), p.Label(), p.Start, p.End, err)
		}
	}
	if q := QuarterOf(day("2027-01-01")).Prev(); q.Key() != "2026-Q4" {
		t.Errorf("prev quarter %s", q.Key())
	}
	if m := MonthOf(day("2027-01-15")).Prev(); m.Key() != "2026-12" {
		t.Errorf("prev month %s", m.Key())
	}
}

func TestFirstBusinessDayAndMonthlyPost(t *testing.T) {
	t.Parallel()
	for month, want := range map[string]string{
		"2027-01": "2027-01-01", // Friday
		"2027-05": "2027-05-03", // Saturday 1st -> Monday 3rd
		"2026-11": "2026-11-02", // Sunday 1st -> Monday 2nd
	} {
		m, _ := time.Parse("2006-01", month)
		if got := FirstBusinessDay(m.Year(), m.Month()); !got.Equal(day(want)) {
			t.Errorf("FirstBusinessDay(%s) = %s, want %s", month, got.Format(time.DateOnly), want)
		}
	}
	if _, due := MonthlyPostDue(day("2027-05-02")); due {
		t.Error("report due on a Sunday before the first business day")
	}
	if p, due := MonthlyPostDue(day("2027-05-03")); !due || p.Key() != "2027-04" {
		t.Errorf("first business day of May: %v %s", due, p.Key())
	}
	if p, due := MonthlyPostDue(day("2027-05-20")); !due || p.Key() != "2027-04" {
		t.Errorf("catch-up later in May: %v %s", due, p.Key())
	}
}

func rec(id int64, on string, cause Cause, arr float64, by string, p Profile) Record {
	return Record{ID: id, AccountID: id, AccountName: "acct", ChurnedOn: day(on), Cause: cause, ARR: arr, RecordedBy: by, Profile: p}
}

func TestByCauseAndRepeating(t *testing.T) {
	t.Parallel()
	records := []Record{
		rec(1, "2026-05-10", Pricing, 1000, "U1", Profile{}),             // Q2 2026
		rec(2, "2026-08-10", Pricing, 1000, "U1", Profile{}),             // Q3
		rec(3, "2026-11-10", Pricing, 2000, "U1", Profile{}),             // Q4
		rec(4, "2026-11-11", FeatureOverpromise, 5000, "U2", Profile{}),  // Q4
		rec(5, "2027-01-05", Pricing, 3000, "U1", Profile{}),             // Q1 2027
		rec(6, "2027-02-03", FeatureOverpromise, 10000, "U2", Profile{}), // Q1, in Feb
		rec(7, "2027-02-20", BusinessChange, 4000, "U2", Profile{}),      // Q1, in Feb
		rec(8, "2027-02-21", FeatureOverpromise, 6000, "U1", Profile{}),  // Q1, in Feb
		rec(9, "2027-03-02", Pricing, 99999, "U1", Profile{}),            // after the period
	}
	feb := MonthOf(day("2027-02-01"))
	lines, n, arr := ByCause(records, feb)
	if n != 3 || arr != 20000 {
		t.Fatalf("February: %d accounts %g ARR, want 3 and 20000", n, arr)
	}
	want := []CauseLine{
		{FeatureOverpromise, "Feature overpromise", true, 2, 16000, 0.8},
		{BusinessChange, "Business change", false, 1, 4000, 0.2},
	}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("by cause %+v\nwant %+v", lines, want)
	}

	qs := Quarters(feb)
	if qs[0].Key() != "2026-Q2" || qs[3].Key() != "2027-Q1" {
		t.Fatalf("quarters %s..%s", qs[0].Key(), qs[3].Key())
	}
	reps := RepeatingCauses(records, qs)
	// Pricing: Q2 1, Q3 1, Q4 1, Q1 2 (Q1 runs to March 31, so the March 2
	// record counts) -> streak 4. Feature overpromise: Q4 1, Q1 2 -> streak 2.
	// Business change: Q1 only -> not repeating.
	wantReps := []Repeat{
		{Pricing, "Pricing", []int{1, 1, 1, 2}, 4},
		{FeatureOverpromise, "Feature overpromise", []int{0, 0, 1, 2}, 2},
	}
	if !reflect.DeepEqual(reps, wantReps) {
		t.Errorf("repeating %+v\nwant %+v", reps, wantReps)
	}
}

func TestCohortRates(t *testing.T) {
	t.Parallel()
	groups := []CohortGroup{
		{Profile{SizeBand: "51-200", Industry: "Retail", DealSource: "Outbound", ChampionTenureMonths: months(3)}, 4, 2},
		{Profile{SizeBand: "51-200", Industry: "Fintech", DealSource: "Inbound", ChampionTenureMonths: months(30)}, 6, 1},
		{Profile{SizeBand: "1-50", Industry: "Retail", DealSource: "Outbound", ChampionTenureMonths: months(8)}, 5, 0},
		{Profile{}, 3, 1},
	}
	dims := CohortRates(groups)
	if len(dims) != 4 {
		t.Fatalf("%d dimensions", len(dims))
	}
	size := dims[0]
	want := []CohortRate{
		{"51-200", 10, 3, 0.3},
		{"1-50", 5, 0, 0},
		{"", 3, 1, 1.0 / 3},
	}
	if size.Name != DimSize || !reflect.DeepEqual(size.Rates, want) {
		t.Errorf("size %+v", size)
	}
	tenure := dims[3]
	if tenure.Rates[0].Value != "under 6 months" || tenure.Rates[0].Rate != 0.5 || tenure.Rates[len(tenure.Rates)-1].Value != "" {
		t.Errorf("tenure %+v", tenure.Rates)
	}
}

func TestMatchLookalikes(t *testing.T) {
	t.Parallel()
	churned := []Record{
		rec(100, "2027-02-01", FeatureOverpromise, 50000, "U1",
			Profile{SizeBand: "51-200", Industry: "Retail", DealSource: "Outbound", ChampionTenureMonths: months(3)}),
		rec(101, "2027-02-10", Pricing, 50000, "U1", // not sales-attributable: never a profile
			Profile{SizeBand: "1-50", Industry: "Fintech", DealSource: "Inbound", ChampionTenureMonths: months(40)}),
	}
	cands := []Candidate{
		{AccountID: 1, Name: "all four", ARR: 1000, Profile: Profile{SizeBand: "51-200", Industry: "retail", DealSource: "Outbound", ChampionTenureMonths: months(5)}},
		{AccountID: 2, Name: "three, big", ARR: 90000, Profile: Profile{SizeBand: "51-200", Industry: "Retail", DealSource: "Outbound", ChampionTenureMonths: months(30)}},
		{AccountID: 3, Name: "three, small", ARR: 2000, Profile: Profile{SizeBand: "51-200", Industry: "Retail", DealSource: "Outbound"}},
		{AccountID: 4, Name: "two", ARR: 99999, Profile: Profile{SizeBand: "51-200", Industry: "Retail"}},
		{AccountID: 5, Name: "like the pricing churn", ARR: 5000, Profile: Profile{SizeBand: "1-50", Industry: "Fintech", DealSource: "Inbound", ChampionTenureMonths: months(40)}},
		{AccountID: 100, Name: "the churned one itself", Profile: churned[0].Profile},
	}
	got := MatchLookalikes(churned, cands, 3, 10)
	var names []string
	for _, l := range got {
		names = append(names, l.Name)
	}
	if want := []string{"all four", "three, big", "three, small"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("lookalikes %v, want %v", names, want)
	}
	if got[0].Like.ID != 100 || len(got[0].Traits) != 4 || got[0].Traits[1] != "Industry: retail" {
		t.Errorf("first lookalike %+v", got[0])
	}
	if l := MatchLookalikes(churned, cands, 3, 2); len(l) != 2 {
		t.Errorf("limit: %d", len(l))
	}
}

func TestTagAudit(t *testing.T) {
	t.Parallel()
	var records []Record
	add := func(by string, cause Cause, n int) {
		for range n {
			records = append(records, rec(int64(len(records)+1), "2027-01-10", cause, 1, by, Profile{}))
		}
	}
	add("U_CATCHALL", ProductDeficiency, 4)
	add("U_CATCHALL", Pricing, 1)
	add("U_BALANCED", ProductDeficiency, 2)
	add("U_BALANCED", CompetitiveLoss, 2)
	add("U_FEW", ProductDeficiency, 2) // all product gap, but too few to judge
	rows, team := TagAudit(records, 4, 0.5)
	if len(rows) != 3 || rows[0].CSM != "U_CATCHALL" || !rows[0].CatchAll || rows[0].Total != 5 {
		t.Fatalf("rows %+v", rows)
	}
	if rows[0].Counts[0].Cause != ProductDeficiency || rows[0].Counts[0].Share != 0.8 {
		t.Errorf("catch-all counts %+v", rows[0].Counts)
	}
	for _, r := range rows[1:] {
		if r.CatchAll {
			t.Errorf("%s flagged", r.CSM)
		}
	}
	if team[0].Cause != ProductDeficiency || team[0].Count != 8 || math.Abs(team[0].Share-8.0/11) > 1e-9 {
		t.Errorf("team %+v", team)
	}
}

func TestWinbackWindow(t *testing.T) {
	t.Parallel()
	delays := map[Cause]int{Pricing: 90, BusinessChange: 180, ICPMiss: 30}
	churned := day("2027-01-01")
	for _, tc := range []struct {
		cause Cause
		today string
		open  bool
	}{
		{Pricing, "2027-03-31", false}, // day 89
		{Pricing, "2027-04-01", true},  // day 90
		{Pricing, "2027-06-29", true},  // last day of a 90-day window
		{Pricing, "2027-06-30", false}, // closed
		{BusinessChange, "2027-04-01", false},
		{BusinessChange, "2027-06-30", true},
		{ICPMiss, "2027-06-30", false},            // never, whatever the config says
		{CompetitiveLoss, "2027-06-30", false},    // no delay configured: never
		{FeatureOverpromise, "2027-06-30", false}, // likewise
	} {
		w := WinbackWindow(tc.cause, churned, delays, 90)
		if got := w.OpenOn(day(tc.today)); got != tc.open {
			t.Errorf("%s on %s: open %v, want %v (%+v)", tc.cause, tc.today, got, tc.open, w)
		}
	}
}

func TestWinbackRate(t *testing.T) {
	t.Parallel()
	s := WinbackRate([]WinbackAttempt{
		{KindChurned, Pricing, ReEngaged}, {KindDormant, "", ReEngaged}, {KindDormant, "", NoResponse},
		{KindChurned, BusinessChange, Declined}, {KindDormant, "", ""},
	})
	want := WinbackStats{Started: 5, ReEngaged: 2, NoResponse: 1, Declined: 1, Open: 1, Rate: 0.5, Dormant: 3, Churned: 2}
	if s != want {
		t.Errorf("stats %+v, want %+v", s, want)
	}
	if (WinbackRate(nil) != WinbackStats{}) {
		t.Error("empty stats")
	}
}

func TestBuildReport(t *testing.T) {
	t.Parallel()
	feb := MonthOf(day("2027-02-01"))
	r := BuildReport(ReportInput{Period: feb, Records: []Record{
		rec(1, "2027-02-03", FeatureOverpromise, 10000, "U2", Profile{}),
		rec(2, "2027-02-20", BusinessChange, 4000, "U2", Profile{}),
		rec(3, "2027-01-20", ICPMiss, 7000, "U2", Profile{}),
		rec(4, "2026-12-20", ICPMiss, 7000, "U2", Profile{}),
		rec(5, "2027-03-01", BusinessChange, 7000, "U2", Profile{}), // after February: not in Q1-to-date
	}})
	if len(r.Repeating) != 1 || r.Repeating[0].Cause != ICPMiss || r.Repeating[0].Counts[3] != 1 {
		t.Errorf("repeating %+v", r.Repeating)
	}
	if r.Accounts != 2 || r.ARR != 14000 || r.SalesAccounts != 1 || r.SalesARR != 10000 || len(r.Quarters) != 4 || len(r.Cohorts) != 4 {
		t.Errorf("report %+v", r)
	}
}

func BenchmarkBuildReport(b *testing.B) {
	feb := MonthOf(day("2027-02-01"))
	var recs []Record
	for i := range 10_000 {
		recs = append(recs, rec(int64(i), day("2026-04-01").AddDate(0, 0, i%330).Format(time.DateOnly), Causes[i%8].Cause, 1000, "U"+string(rune('A'+i%26)),
			Profile{SizeBand: "s" + string(rune('a'+i%4)), Industry: "i" + string(rune('a'+i%5)), DealSource: "d" + string(rune('a'+i%3)), ChampionTenureMonths: months(i % 48)}))
	}
	var groups []CohortGroup
	for i := range 1000 {
		groups = append(groups, CohortGroup{Profile: recs[i].Profile, Accounts: 100, Churned: i % 7})
	}
	for b.Loop() {
		BuildReport(ReportInput{Period: feb, Records: recs, Cohorts: groups})
	}
}

func BenchmarkTagAudit(b *testing.B) {
	var recs []Record
	for i := range 10_000 {
		recs = append(recs, rec(int64(i), "2027-01-10", Causes[i%8].Cause, 1, "U"+string(rune('A'+i%26)), Profile{}))
	}
	for b.Loop() {
		TagAudit(recs, 4, 0.5)
	}
}
