package dunning

import (
	"strings"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]Class{
		"expired_card": Technical, "incorrect_number": Technical, "incorrect_cvc": Technical,
		"authentication_required": Technical, "processing_error": Technical, " Expired_Card ": Technical,
		"insufficient_funds": Soft, "do_not_honor": Soft, "try_again_later": Soft, "generic_decline": Soft,
		"lost_card": Hard, "stolen_card": Hard, "fraudulent": Hard, "card_not_supported": Hard,
		"": Unknown, "something_new": Unknown,
	} {
		if got := Classify(code); got != want {
			t.Errorf("Classify(%q) = %s, want %s", code, got, want)
		}
	}
}

func TestPlanFor(t *testing.T) {
	t.Parallel()
	failed := time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC)
	next := failed.AddDate(0, 0, 2)
	base := PlanInput{AccountName: "Acme", Champion: "Dana Smith", Amount: 1250, Currency: "usd", FailedAt: failed,
		SoftRetryDays: []int{3, 5, 7}, ARR: 2000, EscalateARR: 50000}
	for _, tc := range []struct {
		name      string
		edit      func(*PlanInput)
		class     Class
		path      string
		autoRetry bool
		retries   []string
		note      []string // substrings of the customer note; nil = no note
		high      bool
	}{
		{name: "technical", edit: func(p *PlanInput) { p.Code = "expired_card"; p.UpdateCardURL = "https://pay.example/update" },
			class: Technical, path: "Card update",
			note: []string{"Hi Dana,", "$1,250.00", "the card on file has expired", "https://pay.example/update"}},
		{name: "soft with Stripe's next retry", edit: func(p *PlanInput) { p.Code = "insufficient_funds"; p.NextRetry = &next },
			class: Soft, path: "Retry schedule and soft outreach", autoRetry: true, retries: []string{"2027-03-03"},
			note: []string{"We'll retry on Mar 3", "temporary hold"}},
		{name: "soft with the configured schedule", edit: func(p *PlanInput) { p.Code = "do_not_honor" },
			class: Soft, path: "Retry schedule and soft outreach", autoRetry: true,
			retries: []string{"2027-03-04", "2027-03-06", "2027-03-08"}, note: []string{"Mar 4"}},
		{name: "hard: no retry, no note", edit: func(p *PlanInput) { p.Code = "stolen_card" },
			class: Hard, path: "No automatic retry: CSM conversation"},
		{name: "unknown behaves like soft", edit: func(p *PlanInput) { p.Code = "" },
			class: Unknown, path: "Retry schedule and soft outreach", autoRetry: true,
			retries: []string{"2027-03-04", "2027-03-06", "2027-03-08"}, note: []string{"Hi Dana,"}},
		{name: "high value", edit: func(p *PlanInput) { p.Code = "fraudulent"; p.ARR = 200000 },
			class: Hard, path: "No automatic retry: CSM conversation", high: true},
		{name: "exactly at the threshold is high value", edit: func(p *PlanInput) { p.Code = "expired_card"; p.ARR = 50000; p.Champion = "" },
			class: Technical, path: "Card update", high: true, note: []string{"Hi there,", "in your billing settings"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := base
			tc.edit(&in)
			p := PlanFor(in)
			if p.Class != tc.class || p.Path != tc.path || p.AutoRetry != tc.autoRetry || p.HighValue != tc.high {
				t.Errorf("plan %+v", p)
			}
			var retries []string
			for _, r := range p.Retries {
				retries = append(retries, r.Format(time.DateOnly))
			}
			if strings.Join(retries, ",") != strings.Join(tc.retries, ",") {
				t.Errorf("retries %v, want %v", retries, tc.retries)
			}
			if (p.CustomerNote == "") != (tc.note == nil) {
				t.Errorf("note %q", p.CustomerNote)
			}
			for _, s := range tc.note {
				if !strings.Contains(p.CustomerNote, s) {
					t.Errorf("note %q lacks %q", p.CustomerNote, s)
				}
			}
			if tc.high && !strings.HasPrefix(p.Steps[0], "High-value") {
				t.Errorf("steps %v", p.Steps)
			}
			if tc.class == Hard && strings.Contains(strings.Join(p.Steps, " "), "stolen") {
				t.Error("hard path repeats the decline reason")
			}
		})
	}
}

func TestAmounts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		minor    int64
		currency string
		want     string
	}{
		{125000, "usd", "$1,250.00"}, {99, "usd", "$0.99"}, {123456789, "eur", "EUR 1,234,567.89"},
		{5000, "jpy", "JPY 5,000"}, {0, "usd", "$0.00"}, {199999, "", "$1,999.99"},
	} {
		if got := FormatAmount(FromMinor(tc.minor, tc.currency), tc.currency); got != tc.want {
			t.Errorf("%d %s = %q, want %q", tc.minor, tc.currency, got, tc.want)
		}
	}
	for amount, want := range map[float64]string{999.996: "$1,000.00", -1250.5: "$-1,250.50", 100: "$100.00", 1234567: "$1,234,567.00"} {
		if got := FormatAmount(amount, "usd"); got != want {
			t.Errorf("FormatAmount(%g) = %q, want %q", amount, got, want)
		}
	}
}

func TestByValue(t *testing.T) {
	t.Parallel()
	arr := []float64{2000, 200000, 50000, 2000}
	ByValue(arr, func(v float64) float64 { return v })
	if arr[0] != 200000 || arr[1] != 50000 || arr[3] != 2000 {
		t.Errorf("%v", arr)
	}
}

// High value only when the ARR or the amount says so; an unknown amount
// reads as unknown, never as $0.00.
func TestPlanWithoutAmount(t *testing.T) {
	t.Parallel()
	in := PlanInput{Code: "insufficient_funds", AccountName: "Acme", ARR: 2000, EscalateARR: 50000,
		FailedAt: time.Date(2027, 2, 8, 0, 0, 0, 0, time.UTC), SoftRetryDays: []int{3}}
	p := PlanFor(in)
	if p.HighValue || strings.Contains(p.CustomerNote, "$0.00") || !strings.Contains(p.CustomerNote, "the latest payment") {
		t.Errorf("no amount: high value %v, note %q", p.HighValue, p.CustomerNote)
	}
	if got := AmountText(0, "usd"); got != "amount unknown" {
		t.Errorf("AmountText(0) = %q", got)
	}
	in.Amount = 60000
	if !PlanFor(in).HighValue {
		t.Error("a $60,000 failed payment is not high value with escalate_arr 50000")
	}
}
