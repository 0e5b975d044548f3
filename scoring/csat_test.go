package scoring

import "testing"

func csat(ageDays, v float64) Signal {
	s := sig(KindCSAT, ageDays)
	s.Value = val(v)
	return s
}

func threaded(ageDays float64, severity string, sentiment *float64, thread string) Signal {
	s := ticket(ageDays, severity, sentiment)
	s.Source, s.Thread = "zendesk", thread
	return s
}

// csatConfig is the default model with CSAT turned on the way the README
// suggests: five of support's points moved to it.
func csatConfig() Config {
	c := DefaultConfig()
	c.Weights.Support, c.Weights.CSAT = 10, 5
	return c
}

func TestCSAT(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		signals []Signal
		points  float64
		detail  string
	}{
		{"no ratings costs nothing", nil, 0, ""},
		{"a satisfied rating costs nothing", []Signal{csat(0, 5)}, 0, "CSAT 5.0/5 over 1 rating, 0 unsatisfied"},
		{"a 4 is satisfied", []Signal{csat(0, 4)}, 0, "*"},
		// (4-1)/3 = 1: the whole weight.
		{"a fresh 1 takes the whole weight", []Signal{csat(0, 1)}, -5, "CSAT 1.0/5 over 1 rating, 1 unsatisfied"},
		// (4-2.5)/3 = 0.5.
		{"a fresh 2.5 takes half", []Signal{csat(0, 2.5)}, -2.5, "*"},
		// One half-life: shortfall 1 at weight 0.5, freshness 0.5 -> 0.5.
		{"a 1 halves after one ticket half-life", []Signal{csat(14, 1)}, -2.5, "*"},
		// Mean shortfall (1 + 0) / 2 = 0.5, all fresh.
		{"a good rating offsets a bad one", []Signal{csat(0, 1), csat(0, 5)}, -2.5, "CSAT 3.0/5 over 2 ratings, 1 unsatisfied"},
		{"out-of-range values clamp", []Signal{csat(0, -3)}, -5, "*"},
		{"ratings are not tickets", []Signal{csat(0, 1)}, -5, "*"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := Compute(csatConfig(), Account{}, tc.signals, now)
			c := componentOf(t, h, "csat")
			assertPoints(t, c, tc.points)
			assertDetail(t, c, tc.detail)
			if s := componentOf(t, h, "support"); s.Points != 0 {
				t.Errorf("support = %v from ratings alone, want 0", s.Points)
			}
		})
	}
}

func TestCSATOffByDefault(t *testing.T) {
	t.Parallel()
	h := Compute(DefaultConfig(), Account{}, []Signal{csat(0, 1)}, now)
	for _, c := range h.Components {
		if c.Key == "csat" {
			t.Fatalf("csat component %+v shown with weight 0", c)
		}
	}
	if h.Score != 100 {
		t.Errorf("score %d, want 100: a rating must cost nothing while csat weighs 0", h.Score)
	}
}

func TestTicketThreadsCountOnce(t *testing.T) {
	t.Parallel()
	angry := val(-1)
	cases := []struct {
		name    string
		signals []Signal
		points  float64
	}{
		// 1 urgent fresh ticket: 3/6 of 15; aged from its creation (2 days: x0.906).
		{"one ticket, created", []Signal{threaded(0, "urgent", nil, "42")}, -7.5},
		{"created, replied and solved is still one ticket", []Signal{
			threaded(2, "urgent", nil, "42"), threaded(1, "urgent", nil, "42"), threaded(0, "urgent", nil, "42")}, -6.8},
		// The thread keeps its worst tone: 3 x 2 / 6 of 15, aged 1 day.
		{"an angry reply makes the ticket angry", []Signal{
			threaded(1, "urgent", nil, "42"), threaded(0, "urgent", angry, "42")}, -14.3},
		{"a raised priority counts", []Signal{threaded(0, "low", nil, "42"), threaded(0, "urgent", nil, "42")}, -7.5},
		{"two tickets count twice", []Signal{threaded(0, "urgent", nil, "42"), threaded(0, "urgent", nil, "43")}, -15},
		{"signals without a thread stand alone", []Signal{ticket(0, "urgent", nil), ticket(0, "urgent", nil)}, -15},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := Compute(DefaultConfig(), Account{}, tc.signals, now)
			assertPoints(t, componentOf(t, h, "support"), tc.points)
		})
	}
}

func TestSupportDetailNamesTheWorstTicket(t *testing.T) {
	t.Parallel()
	angry := val(-0.9)
	h := Compute(DefaultConfig(), Account{}, []Signal{
		threaded(3, "normal", nil, "41"), threaded(1, "urgent", angry, "42"), ticket(0, "high", nil)}, now)
	c := componentOf(t, h, "support")
	assertDetail(t, c, "3 tickets in 28 days, 1 urgent, 1 high, tone negative, worst: zendesk #42")
}
