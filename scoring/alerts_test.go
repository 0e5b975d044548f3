package scoring

import (
	"reflect"
	"testing"
)

func scored(score int) *Health {
	return &Health{Score: score, Band: DefaultConfig().BandFor(score)}
}

func TestDecideAlerts(t *testing.T) {
	t.Parallel()
	withIntent := func(k Kind) Signal { s := sig(k, 0); s.ChurnIntent = true; return s }
	churned := &Health{Score: 0, Band: BandCritical, Churned: true}

	cases := []struct {
		name    string
		prev    *Health
		next    *Health
		signals []Signal
		want    []AlertReason
	}{
		{name: "first score healthy", prev: nil, next: scored(85)},
		{name: "first score at risk", prev: nil, next: scored(64),
			want: []AlertReason{{AlertEnteredAtRisk, false, "entered at risk: 64 (first score)"}}},
		{name: "first score critical", prev: nil, next: scored(30),
			want: []AlertReason{{AlertEnteredCritical, true, "entered critical: 30 (first score)"}}},
		{name: "healthy to at risk", prev: scored(82), next: scored(64),
			want: []AlertReason{{AlertEnteredAtRisk, false, "entered at risk: 82 → 64"}}},
		{name: "band edge: 70 to 69", prev: scored(70), next: scored(69),
			want: []AlertReason{{AlertEnteredAtRisk, false, "entered at risk: 70 → 69"}}},
		{name: "at risk to critical", prev: scored(45), next: scored(39),
			want: []AlertReason{{AlertEnteredCritical, true, "entered critical: 45 → 39"}}},
		{name: "healthy straight to critical is one alert", prev: scored(90), next: scored(20),
			want: []AlertReason{{AlertEnteredCritical, true, "entered critical: 90 → 20"}}},
		{name: "no second band alert while still at risk", prev: scored(64), next: scored(50)},
		{name: "no second band alert while still critical", prev: scored(39), next: scored(30)},
		{name: "big drop inside at risk", prev: scored(68), next: scored(45),
			want: []AlertReason{{AlertScoreDrop, false, "dropped 23 points: 68 → 45"}}},
		{name: "big drop inside healthy", prev: scored(100), next: scored(84),
			want: []AlertReason{{AlertScoreDrop, false, "dropped 16 points: 100 → 84"}}},
		{name: "drop of exactly drop_points is not more than it", prev: scored(100), next: scored(85)},
		{name: "big drop inside critical is critical", prev: scored(39), next: scored(20),
			want: []AlertReason{{AlertScoreDrop, true, "dropped 19 points: 39 → 20"}}},
		{name: "band alert replaces the drop alert", prev: scored(60), next: scored(35),
			want: []AlertReason{{AlertEnteredCritical, true, "entered critical: 60 → 35"}}},
		{name: "improvement into healthy", prev: scored(50), next: scored(80)},
		{name: "improvement out of critical", prev: scored(20), next: scored(60)},
		{name: "cancellation is critical even while improving", prev: scored(50), next: scored(80),
			signals: []Signal{sig(KindEmail, 0), withIntent(KindTicket)},
			want:    []AlertReason{{AlertCancellation, true, "cancellation intent in a ticket"}}},
		{name: "cancellation notice", prev: scored(90), next: scored(88),
			signals: []Signal{sig(KindCancellation, 0)},
			want:    []AlertReason{{AlertCancellation, true, "cancellation intent recorded"}}},
		{name: "cancellation comes after the band alert", prev: scored(75), next: scored(60),
			signals: []Signal{withIntent(KindEmail), withIntent(KindTicket), withIntent(KindTicket)},
			want: []AlertReason{
				{AlertEnteredAtRisk, false, "entered at risk: 75 → 60"},
				{AlertCancellation, true, "cancellation intent in 2 tickets and an email"},
			}},
		{name: "churned never alerts", prev: scored(80), next: churned,
			signals: []Signal{sig(KindCancellation, 0)}},
		{name: "reactivated account is judged as new", prev: churned, next: scored(60),
			want: []AlertReason{{AlertEnteredAtRisk, false, "entered at risk: 60 (first score)"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := DecideAlerts(DefaultConfig(), tc.prev, *tc.next, tc.signals)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestDecideAlertsFromCompute runs the real pipeline once, so a change in
// how Compute fills Band cannot silently disable alerting.
func TestDecideAlertsFromCompute(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	acct := Account{Status: StatusActive}
	before := []Signal{usage(20, 100), usage(5, 100), sig(KindEmail, 1)}
	prev := Compute(cfg, acct, before, now)
	// Usage halves (-20) and two payments fail (-15): 100 → 65.
	after := append(before, usage(1, 0), usage(2, 0), sig(KindPaymentFailed, 0), sig(KindPaymentFailed, 0))
	next := Compute(cfg, acct, after, now)
	got := DecideAlerts(cfg, &prev, next, after[len(before):])
	want := []AlertReason{{AlertEnteredAtRisk, false, "entered at risk: 100 → 65"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}
