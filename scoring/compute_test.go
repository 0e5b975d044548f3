package scoring

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

func TestDecayHalvesEachHalfLife(t *testing.T) {
	t.Parallel()
	cases := []struct {
		age      float64
		halfLife int
		want     float64
	}{
		{0, 14, 1},
		{14, 14, 0.5},
		{28, 14, 0.25},
		{7, 14, 1 / math.Sqrt2},
		{90, 90, 0.5},
		{5, 0, 0}, // unvalidated config: forget rather than divide by zero
	}
	for _, tc := range cases {
		if got := decay(tc.age, tc.halfLife); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("decay(%v, %v) = %v, want %v", tc.age, tc.halfLife, got, tc.want)
		}
	}
}

func TestUsage(t *testing.T) {
	t.Parallel()
	// Weight 20; a 50% drop is the whole weight, so points = -20*drop/0.5.
	runComponentCases(t, "usage", []componentCase{
		{name: "no usage signals", points: 0, detail: ""},
		{name: "half the usage takes the whole weight",
			signals: []Signal{usage(20, 100), usage(5, 50)}, points: -20, detail: "usage -50% over 14 days"},
		{name: "38% drop is 0.76 of the weight",
			signals: []Signal{usage(20, 100), usage(5, 62)}, points: -20 * 0.38 / 0.5, detail: "usage -38% over 14 days"},
		{name: "quarter drop is half the weight",
			signals: []Signal{usage(20, 100), usage(5, 75)}, points: -10, detail: "usage -25% over 14 days"},
		{name: "drop beyond full clamps to the weight",
			signals: []Signal{usage(20, 100), usage(5, 10)}, points: -20, detail: "usage -90% over 14 days"},
		{name: "growth costs nothing",
			signals: []Signal{usage(20, 100), usage(5, 112)}, points: 0, detail: "usage +12% over 14 days"},
		{name: "flat",
			signals: []Signal{usage(20, 100), usage(5, 100)}, points: 0, detail: "usage flat over 14 days"},
		{name: "averages the values present in each window",
			signals: []Signal{usage(15, 80), usage(27, 120), usage(1, 40), usage(13, 60)}, points: -20, detail: "usage -50% over 14 days"},
		{name: "exactly one window ago is the previous window; two windows ago is out",
			// If the 0 at 28 days counted, prev would average 50 and the drop vanish.
			signals: []Signal{usage(14, 100), usage(28, 0), usage(13.99, 50)}, points: -20, detail: "usage -50% over 14 days"},
		{name: "nothing to compare with",
			signals: []Signal{usage(5, 50)}, points: 0, detail: "no usage data in the 14 days before to compare with"},
		{name: "nothing recent",
			signals: []Signal{usage(20, 100)}, points: 0, detail: "no usage data in the last 14 days"},
		{name: "previous window all zero",
			signals: []Signal{usage(20, 0), usage(5, 10)}, points: 0, detail: "no usage in the 14 days before to compare with"},
		{name: "only old usage",
			signals: []Signal{usage(40, 100)}, points: 0, detail: "no usage data in the last 28 days"},
		{name: "future and valueless signals are ignored",
			signals: []Signal{usage(20, 100), usage(5, 50), usage(-1, 1000), sig(KindUsage, 2)}, points: -20, detail: "usage -50% over 14 days"},
		{name: "values near the float64 limit do not overflow the means",
			signals: []Signal{usage(20, 1.7e308), usage(19, 1.7e308), usage(5, 1e308)}, points: -20 * (1 - 1e308/1.7e308) / 0.5,
			detail: "usage -41% over 14 days"},
		{name: "growth past any percentage is capped, not wrapped",
			signals: []Signal{usage(20, 1e-300), usage(5, 1e300)}, points: 0, detail: "usage up more than 9900% over 14 days"},
		{name: "growth past float64 is no loss",
			signals: []Signal{usage(20, 1e-308), usage(5, 1.7e308)}, points: 0, detail: "usage up more than 9900% over 14 days"},
	})
}

func TestSupport(t *testing.T) {
	t.Parallel()
	// Weight 15, six weighted tickets take it all: points = -15*load/6 = -2.5*load.
	runComponentCases(t, "support", []componentCase{
		{name: "no tickets", points: 0, detail: ""},
		{name: "one normal ticket today", signals: []Signal{ticket(0, "normal", nil)}, points: -2.5, detail: "1 ticket in 28 days"},
		{name: "blank severity is normal", signals: []Signal{ticket(0, "", nil)}, points: -2.5, detail: "*"},
		{name: "unknown severity is normal", signals: []Signal{ticket(0, "P2", nil)}, points: -2.5, detail: "*"},
		{name: "low weighs half", signals: []Signal{ticket(0, "low", nil)}, points: -1.25, detail: "*"},
		{name: "high weighs double", signals: []Signal{ticket(0, "High", nil)}, points: -5, detail: "1 ticket in 28 days, 1 high"},
		{name: "urgent weighs triple", signals: []Signal{ticket(0, "urgent", nil)}, points: -7.5, detail: "1 ticket in 28 days, 1 urgent"},
		{name: "urgent halves after one half-life", signals: []Signal{ticket(14, "urgent", nil)}, points: -3.75, detail: "*"},
		{name: "quarter after two half-lives, and out of the count",
			signals: []Signal{ticket(28, "normal", nil)}, points: -2.5 * 0.25, detail: "no tickets in 28 days (1 older, fading)"},
		{name: "six fresh tickets take the whole weight", signals: repeat(6, ticket(0, "normal", nil)), points: -15, detail: "6 tickets in 28 days"},
		{name: "more than full clamps", signals: repeat(9, ticket(0, "normal", nil)), points: -15, detail: "*"},
		{name: "very negative tone doubles a ticket", signals: []Signal{ticket(0, "normal", val(-1))}, points: -5, detail: "1 ticket in 28 days, tone negative"},
		{name: "half negative tone adds half", signals: []Signal{ticket(0, "normal", val(-0.5))}, points: -3.75, detail: "*"},
		{name: "positive tone does not shrink a ticket", signals: []Signal{ticket(0, "normal", val(0.9))}, points: -2.5, detail: "1 ticket in 28 days"},
		{name: "out of range tone still at most doubles", signals: []Signal{ticket(0, "normal", val(-3))}, points: -5, detail: "*"},
		{name: "slightly negative tone is not worth a word", signals: []Signal{ticket(0, "normal", val(-0.1))}, points: -2.75, detail: "1 ticket in 28 days"},
		{name: "detail counts the last two half-lives",
			signals: []Signal{
				ticket(0, "urgent", val(-0.8)), ticket(3, "urgent", nil), ticket(10, "normal", nil),
				ticket(20, "high", nil), ticket(40, "normal", nil),
			},
			points: -15, detail: "4 tickets in 28 days, 2 urgent, 1 high, tone negative"},
	})
}

func repeat(n int, s Signal) []Signal {
	out := make([]Signal, n)
	for i := range out {
		out[i] = s
		out[i].ID = int64(i + 1)
	}
	return out
}

func TestNPS(t *testing.T) {
	t.Parallel()
	// Weight 15. Detractor risk = 0.45 + 0.55*(6-score)/6, passive 0.15.
	detractor := func(score float64) float64 { return -15 * (0.45 + 0.55*(6-score)/6) }
	runComponentCases(t, "nps", []componentCase{
		{name: "no answer", points: 0, detail: ""},
		{name: "0 costs everything", signals: []Signal{nps(0, 0)}, points: -15, detail: "NPS 0 (detractor), today"},
		{name: "6 still costs 45%", signals: []Signal{nps(0, 6)}, points: -6.75, detail: "NPS 6 (detractor), today"},
		{name: "3 is in between", signals: []Signal{nps(0, 3)}, points: detractor(3), detail: "*"},
		{name: "7 is passive", signals: []Signal{nps(0, 7)}, points: -2.25, detail: "NPS 7 (passive), today"},
		{name: "8 is passive", signals: []Signal{nps(0, 8)}, points: -2.25, detail: "*"},
		{name: "9 is a promoter", signals: []Signal{nps(0, 9)}, points: 0, detail: "NPS 9 (promoter), today"},
		{name: "10 is a promoter", signals: []Signal{nps(0, 10)}, points: 0, detail: "*"},
		{name: "halves after one half-life", signals: []Signal{nps(90, 0)}, points: -7.5, detail: "NPS 0 (detractor), 90 days ago"},
		{name: "quarter after two", signals: []Signal{nps(180, 0)}, points: -3.75, detail: "*"},
		{name: "age in the detail", signals: []Signal{nps(12.5, 3)}, points: detractor(3) * math.Exp2(-12.5/90), detail: "NPS 3 (detractor), 12 days ago"},
		{name: "latest answer wins whatever the input order",
			signals: []Signal{nps(0, 9), nps(30, 0)}, points: 0, detail: "NPS 9 (promoter), today"},
		{name: "answer without a value is skipped",
			signals: []Signal{sig(KindNPS, 0), nps(0.5, 0)}, points: -15 * math.Exp2(-0.5/90), detail: "*"},
	})
}

func TestPayments(t *testing.T) {
	t.Parallel()
	// Weight 15, two open failures take it all: points = -7.5 per fresh failure.
	failed := func(age float64) Signal { return sig(KindPaymentFailed, age) }
	recovered := func(age float64) Signal { return sig(KindPaymentRecovered, age) }
	runComponentCases(t, "payments", []componentCase{
		{name: "no failures", points: 0, detail: ""},
		{name: "recovery alone is nothing", signals: []Signal{recovered(1)}, points: 0, detail: ""},
		{name: "one fresh failure is half", signals: []Signal{failed(0)}, points: -7.5, detail: "1 failed payment unresolved, from today"},
		{name: "two fresh failures take it all", signals: []Signal{failed(0), failed(0)}, points: -15, detail: "2 failed payments unresolved, oldest today"},
		{name: "three clamp", signals: []Signal{failed(0), failed(1), failed(2)}, points: -15, detail: "3 failed payments unresolved, oldest 2 days ago"},
		{name: "halves after one half-life", signals: []Signal{failed(30)}, points: -3.75, detail: "*"},
		{name: "recovered failure costs nothing", signals: []Signal{failed(5), recovered(2)}, points: 0, detail: "1 failed payment, recovered"},
		{name: "all recovered", signals: []Signal{recovered(1), failed(5), failed(4), recovered(2)}, points: 0, detail: "2 failed payments, all recovered"},
		{name: "recovery before the failure does not settle it", signals: []Signal{recovered(3), failed(0)}, points: -7.5, detail: "*"},
		{name: "recovery at the same instant settles it", signals: []Signal{recovered(3), failed(3)}, points: 0, detail: "*"},
		{name: "recovery settles the earliest open failure",
			// Left open: the 1-day-old failure, 7.5*2^(-1/30). Settling the
			// newest instead would leave the 30-day one at -3.75.
			signals: []Signal{recovered(0.5), failed(1), failed(30)}, points: -7.5 * math.Exp2(-1.0/30), detail: "1 failed payment unresolved, from 1 day ago"},
	})
}

func TestRenewal(t *testing.T) {
	t.Parallel()
	in := func(days float64) Account {
		d := now.Add(time.Duration(days * float64(day)))
		return Account{Status: StatusActive, RenewalDate: &d}
	}
	// Weight 5 over a 90-day window: points = -5*(1 - days/90).
	runComponentCases(t, "renewal", []componentCase{
		{name: "no renewal date", points: 0, detail: ""},
		{name: "far away", acct: in(120), points: 0, detail: "renewal in 120 days"},
		{name: "window edge costs nothing", acct: in(90), points: 0, detail: "renewal in 90 days"},
		{name: "just inside the window", acct: in(89), points: -5.0 / 90, detail: "renewal in 89 days"},
		{name: "halfway", acct: in(45), points: -2.5, detail: "renewal in 45 days"},
		{name: "tomorrow morning is in 1 day", acct: in(0.4), points: -5 * (1 - 0.4/90), detail: "renewal in 1 day"},
		{name: "renewal day takes the weight", acct: in(0), points: -5, detail: "renewal due today"},
		{name: "passed and not churned stays at the weight", acct: in(-10), points: -5, detail: "renewal date passed 10 days ago"},
	})

	t.Run("renewal alone never leaves healthy", func(t *testing.T) {
		h := Compute(DefaultConfig(), in(-1), nil, now)
		if h.Score != 95 || h.Band != BandHealthy {
			t.Errorf("score %d band %s, want 95 healthy", h.Score, h.Band)
		}
	})
}

func TestEngagement(t *testing.T) {
	t.Parallel()
	// Weight 10; silence costs nothing for 7 days and everything at 30:
	// points = -10*(days-7)/23.
	runComponentCases(t, "engagement", []componentCase{
		{name: "no engagement yet is no data, not dormancy", points: 0, detail: ""},
		{name: "recent email", signals: []Signal{sig(KindEmail, 3)}, points: 0, detail: "last engagement 3 days ago (email)"},
		{name: "grace edge costs nothing", signals: []Signal{sig(KindMeeting, 7)}, points: 0, detail: "last engagement 7 days ago (meeting)"},
		{name: "halfway through the ramp", signals: []Signal{sig(KindCallNote, 18.5)}, points: -5, detail: "no engagement for 18 days"},
		{name: "full edge takes the weight", signals: []Signal{sig(KindSlackMessage, 30)}, points: -10, detail: "no engagement for 30 days"},
		{name: "beyond full clamps", signals: []Signal{sig(KindTicket, 45)}, points: -10, detail: "no engagement for 45 days"},
		{name: "usage counts as engagement", signals: []Signal{sig(KindEmail, 25), usage(2, 10)}, points: 0, detail: "last engagement 2 days ago (usage report)"},
		{name: "nps counts as engagement", signals: []Signal{sig(KindEmail, 25), nps(1, 9)}, points: 0, detail: "*"},
		{name: "billing and champion changes do not",
			signals: []Signal{sig(KindPaymentFailed, 1), sig(KindPaymentRecovered, 1), sig(KindChampionChange, 1), sig(KindCancellation, 1), sig(KindEmail, 30)},
			points:  -10, detail: "no engagement for 30 days"},
		{name: "only non-engaging signals is no data", signals: []Signal{sig(KindPaymentFailed, 40)}, points: 0, detail: ""},
	})
}

func TestChampion(t *testing.T) {
	t.Parallel()
	// Weight 10, half-life 60: points = -10*2^(-days/60).
	runComponentCases(t, "champion", []componentCase{
		{name: "none", points: 0, detail: ""},
		{name: "today takes the weight", signals: []Signal{sig(KindChampionChange, 0)}, points: -10, detail: "champion changed today"},
		{name: "one half-life", signals: []Signal{sig(KindChampionChange, 60)}, points: -5, detail: "champion changed 60 days ago"},
		{name: "two half-lives", signals: []Signal{sig(KindChampionChange, 120)}, points: -2.5, detail: "*"},
		{name: "latest change counts", signals: []Signal{sig(KindChampionChange, 120), sig(KindChampionChange, 10)}, points: -10 * math.Exp2(-10.0/60), detail: "champion changed 10 days ago"},
	})
}

func TestIntent(t *testing.T) {
	t.Parallel()
	// Weight 10, half-life 30: points = -10*2^(-days/30).
	withIntent := func(k Kind, age float64) Signal {
		s := sig(k, age)
		s.ChurnIntent = true
		return s
	}
	fromCRM := sig(KindCancellation, 0)
	fromCRM.Source = "hubspot"
	runComponentCases(t, "intent", []componentCase{
		{name: "none", signals: []Signal{ticket(0, "urgent", val(-1))}, points: 0, detail: ""},
		{name: "cancellation notice today", signals: []Signal{sig(KindCancellation, 0)}, points: -10, detail: "cancellation intent today"},
		{name: "names the source of a notice", signals: []Signal{fromCRM}, points: -10, detail: "cancellation intent today (hubspot)"},
		{name: "intent in a ticket, one half-life ago", signals: []Signal{withIntent(KindTicket, 30)}, points: -5, detail: "cancellation intent 30 days ago (ticket)"},
		{name: "latest statement counts",
			signals: []Signal{sig(KindCancellation, 60), withIntent(KindCallNote, 2)},
			points:  -10 * math.Exp2(-2.0/30), detail: "cancellation intent 2 days ago (call note)"},
		{name: "intent from the future is ignored", signals: []Signal{withIntent(KindEmail, -2)}, points: 0, detail: ""},
	})
}

func TestComputeEmptyAccountIsPerfect(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	h := Compute(cfg, Account{Status: StatusActive}, nil, now)
	if h.Score != 100 || h.Band != BandHealthy || h.Churned || !h.ComputedAt.Equal(now) {
		t.Fatalf("got score %d band %s churned %v at %v", h.Score, h.Band, h.Churned, h.ComputedAt)
	}
	wantKeys := []string{"usage", "support", "nps", "payments", "renewal", "engagement", "champion", "intent"}
	wantWeights := []float64{20, 15, 15, 15, 5, 10, 10, 10}
	if len(h.Components) != len(wantKeys) {
		t.Fatalf("%d components, want %d", len(h.Components), len(wantKeys))
	}
	for i, c := range h.Components {
		if c.Key != wantKeys[i] || c.Weight != wantWeights[i] || c.Label == "" || c.Points != 0 || math.Signbit(c.Points) {
			t.Errorf("component %d = %+v, want key %s weight %v, a label and +0 points", i, c, wantKeys[i], wantWeights[i])
		}
	}
}

func TestComputeScore(t *testing.T) {
	t.Parallel()
	renewsToday := now
	everything := []Signal{
		usage(20, 100), usage(5, 0), // usage -20
		ticket(0, "urgent", nil), ticket(0, "urgent", nil), // support -15
		nps(0, 0),                                            // nps -15
		sig(KindPaymentFailed, 0), sig(KindPaymentFailed, 0), // payments -15
		sig(KindChampionChange, 0), // champion -10
		sig(KindCancellation, 0),   // intent -10
	}
	// The newest engaging signal above is from today, so engagement costs
	// nothing; with renewal due today the rest sum to -90.
	cases := []struct {
		name    string
		signals []Signal
		acct    Account
		score   int
		band    Band
	}{
		{"rounds the exact total: 100-15.2", []Signal{usage(20, 100), usage(5, 62)}, Account{}, 85, BandHealthy},
		{"one maxed heavy component stays healthy", []Signal{usage(20, 100), usage(5, 0)}, Account{}, 80, BandHealthy},
		{"two problems reach at risk: -20 -15", []Signal{usage(20, 100), usage(5, 0), sig(KindPaymentFailed, 0), sig(KindPaymentFailed, 0)}, Account{}, 65, BandAtRisk},
		{"everything but engagement", everything, Account{RenewalDate: &renewsToday}, 10, BandCritical},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := Compute(DefaultConfig(), tc.acct, tc.signals, now)
			if h.Score != tc.score || h.Band != tc.band {
				t.Errorf("score %d band %s, want %d %s; components %+v", h.Score, h.Band, tc.score, tc.band, h.Components)
			}
		})
	}

	t.Run("score never goes below 0", func(t *testing.T) {
		cfg := DefaultConfig()
		cfg.Weights.Usage = 200 // unvalidated on purpose
		h := Compute(cfg, Account{RenewalDate: &renewsToday}, everything, now)
		if h.Score != 0 {
			t.Errorf("score %d, want 0", h.Score)
		}
	})

	t.Run("a bad weight costs nothing instead of breaking the score", func(t *testing.T) {
		cfg := DefaultConfig()
		cfg.Weights.Usage = math.NaN()
		cfg.Weights.Payments = -15
		h := Compute(cfg, Account{}, []Signal{usage(20, 100), usage(5, 0), sig(KindPaymentFailed, 0)}, now)
		if h.Score != 100 {
			t.Errorf("score %d, want 100", h.Score)
		}
	})
}

func TestComputeIgnoresSignalOrder(t *testing.T) {
	t.Parallel()
	signals := benchSignals(200)
	d := now.Add(30 * day)
	acct := Account{Status: StatusActive, RenewalDate: &d}
	want := Compute(DefaultConfig(), acct, signals, now)
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		shuffled := append([]Signal(nil), signals...)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if got := Compute(DefaultConfig(), acct, shuffled, now); !reflect.DeepEqual(got, want) {
			t.Fatalf("order changed the result:\n got %+v\nwant %+v", got, want)
		}
	}
}

func TestComputeDoesNotModifyInput(t *testing.T) {
	t.Parallel()
	signals := []Signal{sig(KindPaymentFailed, 1), sig(KindPaymentRecovered, 3), sig(KindPaymentFailed, 5), usage(-1, 5)}
	before := append([]Signal(nil), signals...)
	Compute(DefaultConfig(), Account{}, signals, now)
	if !reflect.DeepEqual(signals, before) {
		t.Errorf("Compute reordered or changed its input")
	}
}

func TestComputeChurned(t *testing.T) {
	t.Parallel()
	h := Compute(DefaultConfig(), Account{Status: StatusChurned}, []Signal{sig(KindCancellation, 0), nps(0, 0)}, now)
	if h.Score != 0 || h.Band != BandCritical || !h.Churned {
		t.Fatalf("score %d band %s churned %v, want 0 critical churned", h.Score, h.Band, h.Churned)
	}
	if len(h.Components) != 8 {
		t.Fatalf("%d components, want 8", len(h.Components))
	}
	for _, c := range h.Components {
		if c.Points != 0 || c.Detail != "account churned" || c.Weight == 0 {
			t.Errorf("component %+v, want 0 points, its weight, and 'account churned'", c)
		}
	}
}

func TestBandFor(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cases := []struct {
		score int
		want  Band
	}{
		{100, BandHealthy}, {70, BandHealthy}, {69, BandAtRisk},
		{40, BandAtRisk}, {39, BandCritical}, {0, BandCritical},
	}
	for _, tc := range cases {
		if got := cfg.BandFor(tc.score); got != tc.want {
			t.Errorf("BandFor(%d) = %s, want %s", tc.score, got, tc.want)
		}
	}
}

// benchSignals spreads n signals of every kind over 90 days, the way a busy
// account looks to the scorer.
func benchSignals(n int) []Signal {
	r := rand.New(rand.NewPCG(7, 11))
	out := make([]Signal, n)
	for i := range out {
		k := Kinds[r.IntN(len(Kinds))]
		s := Signal{ID: int64(i + 1), Kind: k, OccurredAt: daysAgo(r.Float64() * 90)}
		switch k {
		case KindUsage:
			s.Value = val(50 + r.Float64()*100)
		case KindNPS:
			s.Value = val(float64(r.IntN(11)))
		case KindTicket:
			s.Severity = []string{"low", "normal", "high", "urgent", ""}[r.IntN(5)]
			s.Sentiment = val(r.Float64()*2 - 1)
			s.ChurnIntent = r.IntN(20) == 0
		}
		out[i] = s
	}
	return out
}

func BenchmarkCompute(b *testing.B) {
	signals := benchSignals(200)
	cfg := DefaultConfig()
	d := now.Add(30 * day)
	acct := Account{Status: StatusActive, RenewalDate: &d}
	b.ReportAllocs()
	for b.Loop() {
		Compute(cfg, acct, signals, now)
	}
}

func TestSameInstantSignalsDoNotDependOnOrder(t *testing.T) {
	t.Parallel()
	a, b := nps(1, 0), nps(1, 9)
	a.ID, b.ID = 1, 2
	first := Compute(DefaultConfig(), Account{}, []Signal{a, b}, now)
	second := Compute(DefaultConfig(), Account{}, []Signal{b, a}, now)
	if !reflect.DeepEqual(first, second) {
		t.Errorf("tie broken by input order: %+v vs %+v", componentOf(t, first, "nps"), componentOf(t, second, "nps"))
	}
}
