package rooms

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/holdfast/holdfast/api"
)

func date(s string) *time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return &t
}

func TestNormalizeStage(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Closed Won": StageClosedWon, "closed-won": StageClosedWon, "CLOSED_WON": StageClosedWon, "ClosedWon": StageClosedWon,
		" won ": StageClosedWon, "Closed Lost": StageClosedLost, "Negotiation/Review": "negotiation/review", "Proposal  Sent": "proposal_sent",
	} {
		if got := NormalizeStage(in); got != want {
			t.Errorf("NormalizeStage(%q) = %q, want %q", in, got, want)
		}
	}
}

func complete() Deal {
	arr := 50000.0
	return Deal{DecisionMaker: "Dana", Champion: "Sam", ChampionRoleSince: date("2024-01-10"), CloseReason: "spreadsheets",
		ConcernsKnown: true, CompetitorsKnown: true, PromisesKnown: true, ARR: &arr, TermMonths: 12,
		RenewalDate: date("2027-01-01"), Segment: "smb", ClosedAt: date("2026-01-10")}
}

func TestMissing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*Deal)
		want   []Field
	}{
		{"complete", func(*Deal) {}, nil},
		{"confirmed none counts as known", func(d *Deal) { d.ProductConcerns, d.Competitors, d.Promises = "", nil, nil }, nil},
		{"blank text is missing", func(d *Deal) { d.DecisionMaker, d.CloseReason = "  ", "\n" },
			[]Field{FieldDecisionMaker, FieldCloseReason}},
		{"unknown lists", func(d *Deal) { d.PromisesKnown, d.ConcernsKnown, d.CompetitorsKnown = false, false, false },
			[]Field{FieldPromises, FieldProductConcerns, FieldCompetitors}},
		{"commercials", func(d *Deal) { d.ARR, d.TermMonths, d.RenewalDate, d.Segment = nil, 0, nil, "" },
			[]Field{FieldARR, FieldTerm, FieldRenewalDate, FieldSegment}},
		{"champion without tenure", func(d *Deal) { d.ChampionRoleSince = nil }, []Field{FieldChampionRoleSince}},
		{"nothing", func(d *Deal) { *d = Deal{} }, Fields},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := complete()
			tt.change(&d)
			if got := d.Missing(); !slices.Equal(got, tt.want) {
				t.Errorf("Missing() = %v, want %v", got, tt.want)
			}
			if d.Complete() != (len(tt.want) == 0) {
				t.Errorf("Complete() disagrees with Missing()")
			}
		})
	}
	for _, f := range Fields {
		if f.Label() == string(f) {
			t.Errorf("field %s has no label", f)
		}
	}
}

func TestTenure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		since, closed string
		months        int
		ok            bool
		text          string
	}{
		{"2024-01-10", "2026-01-10", 24, true, "2 years"},
		{"2024-01-10", "2026-01-09", 23, true, "1 year 11 months"},
		{"2025-12-31", "2026-01-30", 0, true, "under a month"},
		{"2025-11-15", "2026-01-15", 2, true, "2 months"},
		{"2025-01-15", "2026-02-15", 13, true, "1 year 1 month"},
		{"2026-01-15", "2026-01-15", 0, true, "under a month"},
		{"2026-02-01", "2026-01-15", 0, false, ""},
	}
	for _, tt := range tests {
		d := Deal{ChampionRoleSince: date(tt.since), ClosedAt: date(tt.closed)}
		m, ok := d.ChampionTenureMonths()
		if m != tt.months || ok != tt.ok {
			t.Errorf("%s..%s: %d %v, want %d %v", tt.since, tt.closed, m, ok, tt.months, tt.ok)
		}
		if ok && TenureText(m) != tt.text {
			t.Errorf("%s..%s: %q, want %q", tt.since, tt.closed, TenureText(m), tt.text)
		}
	}
	if _, ok := (Deal{ClosedAt: date("2026-01-01")}).ChampionTenureMonths(); ok {
		t.Error("tenure without a start date")
	}
}

func TestChannelName(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("Very Long Company Name ", 6)
	tests := []struct {
		pattern string
		vars    NameVars
		try     int
		want    string
	}{
		{"acct-{name}", NameVars{Name: "Acme Corp."}, 0, "acct-acme-corp"},
		{"acct-{name}", NameVars{Name: "Acme Corp."}, 1, "acct-acme-corp-2"},
		{"acct-{name}", NameVars{Name: "Société Générale & Fils"}, 0, "acct-societe-generale-fils"},
		{"cs_{segment}-{name}", NameVars{Name: "Initech", Segment: "Mid Market"}, 0, "cs_mid-market-initech"},
		{"cs-{segment}-{name}", NameVars{Name: "Initech"}, 0, "cs-initech"},
		{"{external_id}", NameVars{ExternalID: "SF-0042"}, 0, "sf-0042"},
		{"acct-{name}", NameVars{Name: "東京", ExternalID: "tok-1"}, 0, "acct-tok-1"},
		{"acct-{name}", NameVars{Name: "!!!"}, 0, "acct"},
	}
	for _, tt := range tests {
		if got := ChannelName(tt.pattern, tt.vars, tt.try); got != tt.want {
			t.Errorf("ChannelName(%q, %+v, %d) = %q, want %q", tt.pattern, tt.vars, tt.try, got, tt.want)
		}
	}
	for try := range 12 {
		name := ChannelName("acct-{name}", NameVars{Name: long}, try)
		if len(name) > MaxChannelName || strings.HasSuffix(strings.TrimSuffix(name, "-"+strconv.Itoa(try+1)), "-") {
			t.Errorf("try %d: %q (%d long)", try, name, len(name))
		}
		if try > 0 && !strings.HasSuffix(name, "-"+strconv.Itoa(try+1)) {
			t.Errorf("try %d: %q lacks its suffix", try, name)
		}
	}
}

func TestValidateDeals(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	arr, term, badTerm := 1000.0, 12, 0
	concerns := ""
	good := DealIn{ID: "006A", Account: "acme", AccountName: "Acme", CRMAccountID: "001000000000001", Stage: "Closed Won",
		AE: "U1AE", Champion: &ChampionIn{Name: "Sam", InRoleSince: "2025-01-02"}, ProductConcerns: &concerns,
		Promises: &[]PromiseIn{{Kind: "Feature", Text: "SSO", Due: "2027-01-01"}}, ARR: &arr, TermMonths: &term,
		RenewalDate: "2027-11-25"}
	out, err := ValidateDeals([]DealIn{good}, "api", now)
	if err != nil {
		t.Fatal(err)
	}
	d := out[0].Deal
	if d.Stage != StageClosedWon || d.ClosedAt == nil || !d.ClosedAt.Equal(now) || !d.ConcernsKnown || d.CompetitorsKnown ||
		!d.PromisesKnown || d.Promises[0].Kind != PromiseFeature || d.TermMonths != 12 || out[0].Source != "api" {
		t.Fatalf("converted deal %+v", d)
	}
	again, _ := ValidateDeals([]DealIn{good}, "api", now.Add(time.Hour))
	if again[0].PayloadHash != out[0].PayloadHash {
		t.Error("the same message hashed differently")
	}
	changed := good
	changed.Segment = "smb"
	if c, _ := ValidateDeals([]DealIn{changed}, "api", now); c[0].PayloadHash == out[0].PayloadHash {
		t.Error("a changed message hashed the same")
	}

	bad := DealIn{ID: "006A", Stage: "", AE: "bob", CRMAccountID: "001-bad", TermMonths: &badTerm, RenewalDate: "11/25/2027",
		Champion: &ChampionIn{InRoleSince: "2030-01-01"}, Promises: &[]PromiseIn{{Kind: "vibes"}},
		Competitors: &[]string{""}}
	_, err = ValidateDeals([]DealIn{good, bad}, "api", now)
	var ve *api.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want a api.ValidationError, got %v", err)
	}
	fields := map[string]bool{}
	for _, r := range ve.Rows {
		if r.Index != 1 {
			t.Errorf("error on the good row: %+v", r)
		}
		fields[r.Field] = true
	}
	for _, f := range []string{"id", "account", "stage", "ae", "crm_account_id", "term_months", "renewal_date",
		"champion.in_role_since", "promises[0].kind", "promises[0].text", "competitors[0]"} {
		if !fields[f] {
			t.Errorf("no error for %s (got %v)", f, fields)
		}
	}
	if _, err := ValidateDeals(nil, "api", now); err == nil {
		t.Error("empty batch accepted")
	}
}

func TestWonSummary(t *testing.T) {
	t.Parallel()
	arr := 120000.4
	d := Deal{Name: "Acme – New", ARR: &arr, TermMonths: 24, Promises: []Promise{{}, {}}}
	if got, want := WonSummary(d), "Closed-won: Acme – New · $120,000 ARR · 24 months · 2 promises"; got != want {
		t.Errorf("WonSummary = %q, want %q", got, want)
	}
	if got := WonSummary(Deal{}); got != "Closed-won" {
		t.Errorf("empty deal: %q", got)
	}
}
