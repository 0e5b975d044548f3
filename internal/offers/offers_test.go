package offers

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/holdfast/holdfast/schedule"
)

var now = time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)

// enabled is the default config with every role staffed, validated.
func enabled(t *testing.T) Settings {
	t.Helper()
	c := DefaultSettings()
	c.ApprovalsChannel = "C0APPROVALS"
	c.Approvers = map[string]Role{
		"csm_manager": {Users: []string{"UMGR"}},
		"finance":     {Users: []string{"UFIN"}, Backup: "UCFO"},
		"revops":      {Group: "SREVOPS"},
		"executive":   {Users: []string{"UEXEC"}},
		"legal":       {Users: []string{"ULEGAL"}},
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		form Form
		want Offer
		errs []string // fields with errors
	}{
		{"discount", Form{Type: "discount", Value: "15%", Duration: "12 months", Justification: " why "},
			Offer{Type: Discount, Value: 15, DurationMonths: 12, Justification: "why"}, nil},
		{"credit with dollars", Form{Type: "service_credit", Value: "$5,000.50"}, Offer{Type: ServiceCredit, Value: 5000.5}, nil},
		{"free months", Form{Type: "free_months", Value: "2"}, Offer{Type: FreeMonths, Value: 2}, nil},
		{"contract change without cost", Form{Type: "contract_modification", Terms: "quarterly billing"},
			Offer{Type: ContractModification, Terms: "quarterly billing"}, nil},
		{"no type", Form{Value: "5"}, Offer{}, []string{FieldType}},
		{"unknown type", Form{Type: "bribe", Value: "5"}, Offer{Type: "bribe"}, []string{FieldType}},
		{"discount needs value and duration", Form{Type: "discount"}, Offer{Type: Discount}, []string{FieldValue, FieldDuration}},
		{"not a number", Form{Type: "service_credit", Value: "lots"}, Offer{Type: ServiceCredit}, []string{FieldValue}},
		{"negative", Form{Type: "service_credit", Value: "-5"}, Offer{Type: ServiceCredit, Value: -5}, []string{FieldValue}},
		{"zero credit", Form{Type: "service_credit", Value: "0"}, Offer{Type: ServiceCredit}, []string{FieldValue}},
		{"over 100%", Form{Type: "discount", Value: "120", Duration: "3"}, Offer{Type: Discount, Value: 120, DurationMonths: 3}, []string{FieldValue}},
		{"half a month", Form{Type: "free_months", Value: "1.5"}, Offer{Type: FreeMonths, Value: 1.5}, []string{FieldValue}},
		{"bad duration", Form{Type: "discount", Value: "10", Duration: "forever"}, Offer{Type: Discount, Value: 10}, []string{FieldDuration}},
		{"contract change needs terms", Form{Type: "contract_modification"}, Offer{Type: ContractModification}, []string{FieldTerms}},
		{"competitor too long", Form{Type: "free_months", Value: "1", Competitor: strings.Repeat("x", 101)},
			Offer{Type: FreeMonths, Value: 1, Competitor: strings.Repeat("x", 101)}, []string{FieldCompetitor}},
		{"NaN", Form{Type: "service_credit", Value: "NaN"}, Offer{Type: ServiceCredit}, []string{FieldValue}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, errs := Parse(c.form)
			var fields []string
			for f := range errs {
				fields = append(fields, f)
			}
			slices.Sort(fields)
			want := slices.Clone(c.errs)
			slices.Sort(want)
			if !slices.Equal(fields, want) {
				t.Fatalf("errors on %v (%v), want %v", fields, errs, want)
			}
			if got != c.want {
				t.Errorf("offer %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestComputeImpact(t *testing.T) {
	t.Parallel()
	renew := func(months int) *time.Time { r := now.AddDate(0, months, 0); return &r }
	cases := []struct {
		name                string
		o                   Offer
		arr                 float64
		renewal             *time.Time
		cost, retained, pct float64
		months, equivalent  float64
	}{
		{"30% for 12 months", Offer{Type: Discount, Value: 30, DurationMonths: 12}, 240_000, renew(2), 72_000, 240_000, 30, 12, 30},
		{"30% for 6 months keeps its nominal %", Offer{Type: Discount, Value: 30, DurationMonths: 6}, 240_000, renew(2), 36_000, 240_000, 15, 12, 30},
		{"renewal beyond the minimum term", Offer{Type: Discount, Value: 10, DurationMonths: 12}, 120_000, renew(18), 12_000, 181_000, 10, 18.1, 10},
		{"no renewal date assumes the minimum", Offer{Type: ServiceCredit, Value: 5000}, 100_000, nil, 5000, 100_000, 5, 12, 5},
		{"free months", Offer{Type: FreeMonths, Value: 2}, 120_000, renew(3), 20_000, 120_000, 100.0 / 6, 12, 100.0 / 6},
		{"contract change at no cost", Offer{Type: ContractModification, Terms: "x"}, 50_000, nil, 0, 50_000, 0, 12, 0},
		{"no ARR: any cost is all of it", Offer{Type: ServiceCredit, Value: 100}, 0, nil, 100, 0, 100, 12, 100},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			im := ComputeImpact(c.o, c.arr, c.renewal, now, 12)
			if !near(im.Cost, c.cost) || !near(im.RevenueRetained, c.retained) || !near(im.CostPctOfARR, c.pct) ||
				!near(im.RemainingMonths, c.months) || !near(im.EquivalentPct, c.equivalent) {
				t.Errorf("impact %+v, want cost %v retained %v pct %v months %v equivalent %v", im, c.cost, c.retained, c.pct, c.months, c.equivalent)
			}
			if im.RenewalKnown != (c.renewal != nil) || !near(im.Net(), c.retained-c.cost) {
				t.Errorf("renewal known %v, net %v", im.RenewalKnown, im.Net())
			}
		})
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 0.01 }

func TestCheckGuidelines(t *testing.T) {
	t.Parallel()
	c := enabled(t)
	cases := []struct {
		name  string
		tier  string
		o     Offer
		field string
		want  string // substring of the error, "" = no error on any field
	}{
		{"within enterprise", "enterprise", Offer{Type: Discount, Value: 35, DurationMonths: 12, Justification: "x"}, "", ""},
		{"over enterprise max names the tier key", "Enterprise", Offer{Type: Discount, Value: 45, DurationMonths: 12, Justification: "x"},
			FieldValue, "The Enterprise tier allows discounts up to 40% (offers.guidelines.tiers.enterprise.max_discount_pct)"},
		{"unknown tier uses the default key", "platinum", Offer{Type: Discount, Value: 31, DurationMonths: 12, Justification: "x"},
			FieldValue, "up to 30% (offers.guidelines.default.max_discount_pct)"},
		{"starter's own justification threshold", "starter", Offer{Type: Discount, Value: 12, DurationMonths: 3},
			FieldJustification, "above 10% need a justification (offers.guidelines.tiers.starter.justification_above_pct)"},
		{"default threshold inherited by a tier", "growth", Offer{Type: Discount, Value: 16, DurationMonths: 3},
			FieldJustification, "(offers.guidelines.default.justification_above_pct)"},
		{"at the threshold needs none", "growth", Offer{Type: Discount, Value: 15, DurationMonths: 3}, "", ""},
		{"duration", "growth", Offer{Type: Discount, Value: 5, DurationMonths: 13}, FieldDuration, "up to 12 months (offers.guidelines.default.max_duration_months)"},
		{"credit over the tier's max", "growth", Offer{Type: ServiceCredit, Value: 15_001, Justification: "x"}, FieldValue, "up to $15,000 (offers.guidelines.tiers.growth.max_credit)"},
		{"credit worth a lot of ARR needs a reason", "growth", Offer{Type: ServiceCredit, Value: 10_000}, FieldJustification, "Offers costing more than 15% of ARR"},
		{"free months", "starter", Offer{Type: FreeMonths, Value: 2, Justification: "x"}, FieldValue, "up to 1 free month (offers.guidelines.tiers.starter.max_free_months)"},
		{"contract change always needs a reason", "growth", Offer{Type: ContractModification, Terms: "x"}, FieldJustification, "Contract modifications need a justification"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			im := ComputeImpact(tc.o, 50_000, nil, now, 12)
			errs := Check(tc.o, c.Guidelines.For(tc.tier), tc.tier, im)
			if tc.want == "" {
				if errs != nil {
					t.Fatalf("unexpected errors %v", errs)
				}
				return
			}
			if !strings.Contains(errs[tc.field], tc.want) {
				t.Errorf("error on %s = %q, want %q (all: %v)", tc.field, errs[tc.field], tc.want, errs)
			}
		})
	}
}

func TestEvaluateDefaultRouting(t *testing.T) {
	t.Parallel()
	c := enabled(t)
	type want struct {
		stages string // "A+B>C"
	}
	route := func(r Route) string {
		var parts []string
		for _, st := range r.Stages {
			var names []string
			for _, s := range st.Steps {
				names = append(names, s.Name)
			}
			parts = append(parts, strings.Join(names, "+"))
		}
		return strings.Join(parts, ">")
	}
	cases := []struct {
		name string
		f    Facts
		want string
	}{
		{"up to 10% goes to the CSM manager", Facts{Type: Discount, DiscountPct: 10, ARR: 100_000}, "CSM manager"},
		{"10-25% to finance and RevOps in parallel", Facts{Type: Discount, DiscountPct: 10.5, ARR: 100_000}, "Finance+RevOps"},
		{"25% exactly stays there", Facts{Type: Discount, DiscountPct: 25, ARR: 100_000}, "Finance+RevOps"},
		{"above 25% then the executive", Facts{Type: Discount, DiscountPct: 30, ARR: 100_000}, "Finance+RevOps>Executive"},
		{"the issue's case: 30% on a high-ARR account", Facts{Type: Discount, DiscountPct: 30, ARR: 800_000}, "Finance+RevOps>Executive"},
		{"a small offer on a big account still reaches the executive", Facts{Type: Discount, DiscountPct: 5, ARR: 600_000}, "CSM manager>Executive"},
		{"contract change adds legal in parallel", Facts{Type: ContractModification, DiscountPct: 0, ARR: 50_000}, "CSM manager+Legal"},
		{"costly contract change", Facts{Type: ContractModification, DiscountPct: 40, ARR: 50_000}, "Finance+RevOps+Legal>Executive"},
		{"credit routed by its cost as % of ARR", Facts{Type: ServiceCredit, DiscountPct: 12, Value: 6000, ARR: 50_000}, "Finance+RevOps"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Evaluate(c, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := route(r); got != tc.want {
				t.Errorf("route %s, want %s", got, tc.want)
			}
		})
	}
	r, _ := Evaluate(c, Facts{Type: Discount, DiscountPct: 30, ARR: 800_000})
	fin := r.Stages[0].Steps[0]
	if !slices.Equal(fin.Users, []string{"UFIN"}) || fin.Backup != "UCFO" || fin.SLA != 24*time.Hour || fin.EscalateAfter != 48*time.Hour {
		t.Errorf("finance step %+v", fin)
	}
	rev := r.Stages[0].Steps[1]
	if rev.Group != "SREVOPS" || !slices.Equal(rev.Approvers(map[string][]string{"SREVOPS": {"UR1", "UFIN", "UR1"}}), []string{"UR1", "UFIN"}) {
		t.Errorf("revops step %+v", rev)
	}
	if r.Describe() != "Finance + RevOps → Executive" {
		t.Errorf("describe %q", r.Describe())
	}
}

func TestEvaluateCustomPolicy(t *testing.T) {
	t.Parallel()
	var c Settings
	raw := `
approvals_channel: C0APPROVALS
min_term_months: 12
discount_bands: [20]
summary_timeout: 5s
guidelines:
  default: {max_discount_pct: 50, justification_above_pct: 10, max_credit: 1000, max_free_months: 1, max_duration_months: 12}
approvers:
  boss: {users: [UBOSS]}
routing:
  - name: Enterprise desk
    when: [{tiers: [Enterprise], value: {above: 1000}}]
    steps: [{role: boss, sla: 2h, escalate_after: 3h, users: [UDESK]}]
  - name: Boss
    steps: [{role: boss, sla: 1h}]
`
	if err := yaml.Unmarshal([]byte(raw), &c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	r, err := Evaluate(c, Facts{Type: ServiceCredit, Value: 1500, Tier: "enterprise", ARR: 10})
	if err != nil || len(r.Stages) != 2 || r.Stages[0].Steps[0].Users[0] != "UDESK" || r.Stages[0].Steps[0].Name != "Boss" ||
		r.Stages[0].Steps[0].EscalateAfter != 3*time.Hour || r.Stages[1].Steps[0].EscalateAfter != 2*time.Hour {
		t.Fatalf("route %+v, %v", r, err)
	}
	r, _ = Evaluate(c, Facts{Type: ServiceCredit, Value: 500, Tier: "enterprise"})
	if len(r.Stages) != 1 {
		t.Errorf("value condition ignored: %+v", r)
	}
	c.Routing = c.Routing[:1]
	if _, err := Evaluate(c, Facts{Type: Discount, DiscountPct: 1}); err != ErrNoRoute {
		t.Errorf("err = %v, want ErrNoRoute", err)
	}
}

func TestValidateNamesTheKey(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		edit func(c *Settings)
		want string
	}{
		{"channel", func(c *Settings) { c.ApprovalsChannel = "#approvals" }, "offers.approvals_channel:"},
		{"role without people when enabled", func(c *Settings) { c.Approvers["legal"] = Role{} }, "offers.approvers.legal: names no approvers"},
		{"bad user", func(c *Settings) { c.Approvers["finance"] = Role{Users: []string{"bob"}} }, "offers.approvers.finance.users[0]:"},
		{"bad group", func(c *Settings) { c.Approvers["revops"] = Role{Group: "revops"} }, "offers.approvers.revops.group:"},
		{"bad backup", func(c *Settings) { c.Routing[1].Steps[0].Backup = "x" }, "offers.routing[1].steps[0].backup:"},
		{"unknown role", func(c *Settings) { c.Routing[0].Steps[2].Role = "cfo" }, `offers.routing[0].steps[2].role: no role "cfo"`},
		{"no stages", func(c *Settings) { c.Routing = nil }, "offers.routing: needs at least one stage"},
		{"empty stage", func(c *Settings) { c.Routing[1].Steps = nil }, "offers.routing[1].steps:"},
		{"duplicate stage", func(c *Settings) { c.Routing[1].Name = "review" }, "offers.routing[1].name:"},
		{"duplicate step", func(c *Settings) { c.Routing[0].Steps[2].Name = "finance" }, "offers.routing[0].steps[2].name:"},
		{"sla", func(c *Settings) { c.Routing[0].Steps[0].SLA = schedule.Duration{} }, "offers.routing[0].steps[0].sla:"},
		{"escalation before sla", func(c *Settings) { c.Routing[0].Steps[0].EscalateAfter = schedule.Duration{Duration: time.Hour} }, "offers.routing[0].steps[0].escalate_after:"},
		{"empty condition", func(c *Settings) { c.Routing[1].When = []Condition{{}} }, "offers.routing[1].when[0]: an empty condition"},
		{"upside-down range", func(c *Settings) { c.Routing[1].When[0].DiscountPct = &Range{Above: f(30), AtMost: f(20)} }, "offers.routing[1].when[0].discount_pct:"},
		{"unknown type", func(c *Settings) { c.Routing[0].Steps[3].When[0].Types = []Type{"bribe"} }, "offers.routing[0].steps[3].when[0].types[0]:"},
		{"max discount", func(c *Settings) { c.Guidelines.Default.MaxDiscountPct = 0 }, "offers.guidelines.default.max_discount_pct:"},
		{"tier threshold above its max", func(c *Settings) {
			c.Guidelines.Tiers["growth"] = TierLimit{JustificationAbovePct: f(31)}
		}, "offers.guidelines.tiers.growth.justification_above_pct:"},
		{"duplicate tier", func(c *Settings) { c.Guidelines.Tiers["Growth"] = TierLimit{} }, "offers.guidelines.tiers.growth:"},
		{"bands", func(c *Settings) { c.DiscountBands = []float64{25, 10} }, "offers.discount_bands[1]:"},
		{"term", func(c *Settings) { c.MinTermMonths = 0 }, "offers.min_term_months:"},
		{"summary timeout", func(c *Settings) { c.SummaryTimeout = schedule.Duration{} }, "offers.summary_timeout:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := enabled(t)
			tc.edit(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	// Off (no channel): empty roles are fine, everything else is still checked.
	c := DefaultSettings()
	if err := c.Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

func TestBandsAndStats(t *testing.T) {
	t.Parallel()
	bands := []float64{10, 25}
	for pct, want := range map[float64]string{0: "up to 10%", 10: "up to 10%", 10.1: "10–25%", 25: "10–25%", 30: "over 25%"} {
		if got := BandLabel(pct, bands); got != want {
			t.Errorf("BandLabel(%v) = %q, want %q", pct, got, want)
		}
	}
	at := func(h int) *time.Time { x := now.Add(time.Duration(h) * time.Hour); return &x }
	rows := []StatRow{
		{Type: Discount, EquivalentPct: 30, Status: "approved", Answer: "accepted", Outcome: "renewed", SubmittedAt: now, DecidedAt: at(10),
			Steps: []StepTime{{"Finance", 2 * time.Hour}, {"Executive", 8 * time.Hour}}},
		{Type: Discount, EquivalentPct: 28, Status: "approved", Answer: "accepted", Outcome: "churned", SubmittedAt: now, DecidedAt: at(20),
			Steps: []StepTime{{"Finance", 4 * time.Hour}}},
		{Type: Discount, EquivalentPct: 26, Status: "approved", Answer: "declined", SubmittedAt: now, DecidedAt: at(30)},
		{Type: Discount, EquivalentPct: 5, Status: "rejected", SubmittedAt: now, DecidedAt: at(1)},
		{Type: ServiceCredit, EquivalentPct: 2, Status: "approved", Answer: "accepted", SubmittedAt: now, DecidedAt: at(4)},
		{Type: FreeMonths, EquivalentPct: 16, Status: "pending", SubmittedAt: now},
	}
	st := ComputeStats(rows, bands)
	if len(st.Groups) != 4 {
		t.Fatalf("groups %+v", st.Groups)
	}
	g := st.Groups[1] // discount over 25%
	if g.Type != Discount || g.Band != "over 25%" || g.Requests != 3 || g.Approved != 3 || g.Answered != 3 || g.Accepted != 2 ||
		g.Tracked != 2 || g.Renewed != 1 {
		t.Fatalf("discount over 25%%: %+v", g)
	}
	if r, ok := g.AcceptanceRate(); !ok || !near(r, 2.0/3) {
		t.Errorf("acceptance %v %v", r, ok)
	}
	if r, ok := g.SaveRate(); !ok || !near(r, 0.5) {
		t.Errorf("save %v %v", r, ok)
	}
	if st.Groups[0].Band != "up to 10%" || st.Groups[0].Rejected != 1 || st.Groups[2].Type != ServiceCredit || st.Groups[3].Type != FreeMonths {
		t.Errorf("group order or tallies: %+v", st.Groups)
	}
	if _, ok := st.Groups[3].AcceptanceRate(); ok {
		t.Error("acceptance rate without answers")
	}
	// Approved after 4h, 10h, 20h, 30h: median 15h.
	if st.ApprovedRequests != 4 || st.MedianApproval != 15*time.Hour {
		t.Errorf("median approval %s over %d", st.MedianApproval, st.ApprovedRequests)
	}
	if len(st.Steps) != 2 || st.Steps[1].Name != "Finance" || st.Steps[1].Median != 3*time.Hour || st.Steps[1].N != 2 {
		t.Errorf("steps %+v", st.Steps)
	}
	if st.Total.Requests != 6 || st.Total.Accepted != 3 {
		t.Errorf("total %+v", st.Total)
	}
	if Median(nil) != 0 || Median([]time.Duration{3, 1, 2}) != 2 {
		t.Error("median")
	}
}

func TestSummaries(t *testing.T) {
	t.Parallel()
	score, change := 38, -22
	renew := now.AddDate(0, 0, 45)
	b := Brief{AccountName: "Acme", ARR: 240_000, RenewalDate: &renew, Score: &score, Band: "critical", ScoreChange: &change,
		Drivers: []Driver{{"usage -38% over 14 days", -22}, {"3 open tickets", -6}, {"x", -1}},
		NPS:     &NPS{Score: 3, At: now.AddDate(0, 0, -10)}, Tickets30d: 4,
		PreviousOffers: []PastOffer{{ID: 1, Offer: "10% discount for 6 months", Status: "approved", Answer: "accepted", Outcome: "renewed"}}}
	o := Offer{Type: Discount, Value: 30, DurationMonths: 12, Competitor: "Rival"}
	im := ComputeImpact(o, b.ARR, b.RenewalDate, now, 12)
	got := TemplateSummary(b, o, im, now)
	for _, want := range []string{
		"Acme is critical at 38/100, down 22 points in 30 days; mainly usage -38% over 14 days and 3 open tickets.",
		"ARR $240,000, renewal Apr 15, 2027 (in 45 days).", "Last NPS 3 (detractor) on Feb 19.", "4 support tickets",
		"1 offer before; the latest: 10% discount for 6 months (approved, customer accepted, renewed).",
		"Competitor involved: Rival.", "costs $72,000, 30% of ARR, to keep $240,000 over 12 months.",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("template summary misses %q:\n%s", want, got)
		}
	}
	if got := TemplateSummary(Brief{}, Offer{Type: FreeMonths, Value: 1}, Impact{}, now); !strings.Contains(got, "The account has no health score yet.") ||
		!strings.Contains(got, "no renewal date on record") || !strings.Contains(got, "No previous offers.") {
		t.Errorf("sparse summary: %s", got)
	}
	sys, user := SummaryPrompt(b, o, im, now)
	if !strings.Contains(sys, `{"summary": "..."}`) || !strings.Contains(user, `"account_name":"Acme"`) || !strings.Contains(user, `"cost":72000`) {
		t.Errorf("prompt:\n%s\n%s", sys, user)
	}
	for s, ok := range map[string]bool{"fine": true, "  ": false, strings.Repeat("é", MaxSummaryLen+1): false} {
		m := ModelSummary{Summary: s}
		if err := m.Validate(); (err == nil) != ok {
			t.Errorf("Validate(%.10q) = %v", s, err)
		}
	}
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	for o, want := range map[Offer]string{
		{Type: Discount, Value: 12.5, DurationMonths: 1}:              "12.5% discount for 1 month",
		{Type: ServiceCredit, Value: 12345.6}:                         "$12,346 service credit",
		{Type: FreeMonths, Value: 1}:                                  "1 free month",
		{Type: ContractModification, Terms: "quarterly\nbilling"}:     "contract modification: quarterly billing",
		{Type: ContractModification, Terms: strings.Repeat("a", 200)}: "contract modification: " + strings.Repeat("a", 119) + "…",
	} {
		if got := o.Describe(); got != want {
			t.Errorf("Describe = %q, want %q", got, want)
		}
	}
	if USD(-1250) != "-$1,250" || Pct(7.46) != "7.5%" || USD(math.Inf(1)) != "n/a" {
		t.Error("formatting")
	}
}
