package scoring

import (
	"math"
	"testing"
	"time"
)

// now is a fixed clock so every age in these tests is exact.
var now = time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)

func daysAgo(d float64) time.Time { return now.Add(-time.Duration(d * float64(day))) }

func val(v float64) *float64 { return &v }

func sig(k Kind, ageDays float64) Signal { return Signal{Kind: k, OccurredAt: daysAgo(ageDays)} }

func usage(ageDays, v float64) Signal {
	s := sig(KindUsage, ageDays)
	s.Value = val(v)
	return s
}

func ticket(ageDays float64, severity string, sentiment *float64) Signal {
	s := sig(KindTicket, ageDays)
	s.Severity = severity
	s.Sentiment = sentiment
	return s
}

func nps(ageDays, v float64) Signal {
	s := sig(KindNPS, ageDays)
	s.Value = val(v)
	return s
}

func componentOf(t *testing.T, h Health, key string) Component {
	t.Helper()
	for _, c := range h.Components {
		if c.Key == key {
			return c
		}
	}
	t.Fatalf("no component %q in %+v", key, h.Components)
	return Component{}
}

// pointsTolerance covers the rounding of stored points to tenths.
const pointsTolerance = 0.051

func assertPoints(t *testing.T, c Component, want float64) {
	t.Helper()
	if math.Abs(c.Points-want) > pointsTolerance {
		t.Errorf("%s points = %v, want %v (detail %q)", c.Key, c.Points, want, c.Detail)
	}
}

func assertDetail(t *testing.T, c Component, want string) {
	t.Helper()
	if want != "*" && c.Detail != want {
		t.Errorf("%s detail = %q, want %q", c.Key, c.Detail, want)
	}
}

// componentCase is one account state and what one component should make
// of it. Expected points are worked out from the model's formulas, with the
// default config, in each case's comment or expression.
type componentCase struct {
	name    string
	signals []Signal
	acct    Account
	points  float64
	detail  string // "*" skips the check
}

func runComponentCases(t *testing.T, key string, cases []componentCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := Compute(DefaultConfig(), tc.acct, tc.signals, now)
			c := componentOf(t, h, key)
			assertPoints(t, c, tc.points)
			assertDetail(t, c, tc.detail)
		})
	}
}
