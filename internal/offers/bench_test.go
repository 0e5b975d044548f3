package offers

import (
	"testing"
	"time"
)

func BenchmarkEvaluate(b *testing.B) {
	c := DefaultSettings()
	if err := c.Validate(); err != nil {
		b.Fatal(err)
	}
	f := Facts{Type: Discount, DiscountPct: 30, Value: 72_000, Tier: "enterprise", ARR: 800_000}
	for b.Loop() {
		if _, err := Evaluate(c, f); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckAndImpact(b *testing.B) {
	c := DefaultSettings()
	renew := now.AddDate(0, 3, 0)
	o := Offer{Type: Discount, Value: 30, DurationMonths: 12, Justification: "x"}
	for b.Loop() {
		im := ComputeImpact(o, 800_000, &renew, now, 12)
		if errs := Check(o, c.Guidelines.For("enterprise"), "enterprise", im); errs != nil {
			b.Fatal(errs)
		}
	}
}

func BenchmarkComputeStats10k(b *testing.B) {
	rows := make([]StatRow, 10_000)
	for i := range rows {
		d := now.Add(time.Duration(i) * time.Minute)
		rows[i] = StatRow{Type: Types[i%4], EquivalentPct: float64(i % 40), Status: "approved", Answer: "accepted", Outcome: "renewed",
			SubmittedAt: now, DecidedAt: &d, Steps: []StepTime{{"Finance", time.Hour}, {"RevOps", 2 * time.Hour}}}
	}
	for b.Loop() {
		ComputeStats(rows, []float64{10, 25})
	}
}
