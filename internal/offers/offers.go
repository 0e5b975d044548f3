package offers

// The offer itself: what a CSM may propose (guidelines per tier), read
// from the form, and what it costs against what it keeps (financial
// impact). Pure: callers pass the clock and the data in.

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Offer is what a CSM proposes.
type Offer struct {
	Type           Type    `json:"type"`
	Value          float64 `json:"value"`
	DurationMonths int     `json:"duration_months,omitempty"` // discounts: how long the discount runs
	Terms          string  `json:"terms,omitempty"`           // contract changes: what changes; otherwise an optional note
	Justification  string  `json:"justification,omitempty"`
	Competitor     string  `json:"competitor,omitempty"`
}

// Describe is the offer in a few words: "30% discount for 12 months",
// "$5,000 service credit", "2 free months", "contract modification: …".
func (o Offer) Describe() string {
	switch o.Type {
	case Discount:
		s := trimFloat(o.Value) + "% discount"
		if o.DurationMonths > 0 {
			s += " for " + plural(o.DurationMonths, "month", "months")
		}
		return s
	case ServiceCredit:
		return USD(o.Value) + " service credit"
	case FreeMonths:
		return plural(int(o.Value), "free month", "free months")
	case ContractModification:
		s := "contract modification"
		if t := oneLine(o.Terms); t != "" {
			s += ": " + clip(t, 120)
		}
		return s
	}
	return string(o.Type)
}

// Form fields, as the modal names its inputs.
const (
	FieldType          = "type"
	FieldValue         = "value"
	FieldDuration      = "duration"
	FieldTerms         = "terms"
	FieldJustification = "justification"
	FieldCompetitor    = "competitor"
)

// Form is the modal's raw input.
type Form struct {
	Type, Value, Duration, Terms, Justification, Competitor string
}

// Input limits, matching what the modal lets people type.
const (
	MaxTermsLen         = 2000
	MaxJustificationLen = 2000
	MaxCompetitorLen    = 100
)

// FieldErrors maps a form field to what is wrong with it.
type FieldErrors map[string]string

// Parse turns the form into an offer, or says per field what is wrong
// with it. Values are read leniently ("15%", "$5,000", "12 months").
func Parse(f Form) (Offer, FieldErrors) {
	errs := FieldErrors{}
	o := Offer{
		Type:          Type(strings.TrimSpace(f.Type)),
		Terms:         strings.TrimSpace(f.Terms),
		Justification: strings.TrimSpace(f.Justification),
		Competitor:    strings.TrimSpace(f.Competitor),
	}
	if !o.Type.Valid() {
		errs[FieldType] = "Choose an offer type."
		return o, errs
	}
	value := strings.TrimSpace(f.Value)
	if value == "" {
		if o.Type != ContractModification {
			errs[FieldValue] = map[Type]string{
				Discount:      "Enter the discount in percent, e.g. 15.",
				ServiceCredit: "Enter the credit in USD, e.g. 5000.",
				FreeMonths:    "Enter the number of free months, e.g. 2.",
			}[o.Type]
		}
	} else if v, err := number(value); err != nil {
		errs[FieldValue] = "Enter a number, e.g. 15 or 5000."
	} else {
		o.Value = v
		switch {
		case v < 0:
			errs[FieldValue] = "Must not be negative."
		case v == 0 && o.Type != ContractModification:
			errs[FieldValue] = "Must be more than 0."
		case o.Type == Discount && v > 100:
			errs[FieldValue] = "A discount is at most 100%."
		case o.Type == FreeMonths && v != math.Trunc(v):
			errs[FieldValue] = "Free months are whole months."
		case o.Type != Discount && v > 1e9:
			errs[FieldValue] = "That is more than any account is worth; check the number."
		}
	}
	duration := strings.TrimSpace(strings.TrimSuffix(strings.TrimSuffix(strings.TrimSpace(f.Duration), "months"), "month"))
	switch {
	case duration == "" && o.Type == Discount:
		errs[FieldDuration] = "How many months does the discount run? e.g. 12."
	case duration != "":
		n, err := strconv.Atoi(duration)
		if err != nil || n < 1 || n > 60 {
			errs[FieldDuration] = "Enter whole months, 1 to 60."
		} else if o.Type == Discount {
			o.DurationMonths = n
		}
	}
	if o.Type == ContractModification && o.Terms == "" {
		errs[FieldTerms] = "Describe what changes in the contract."
	}
	if utf8.RuneCountInString(o.Terms) > MaxTermsLen {
		errs[FieldTerms] = fmt.Sprintf("Keep it under %d characters.", MaxTermsLen)
	}
	if utf8.RuneCountInString(o.Justification) > MaxJustificationLen {
		errs[FieldJustification] = fmt.Sprintf("Keep it under %d characters.", MaxJustificationLen)
	}
	if utf8.RuneCountInString(o.Competitor) > MaxCompetitorLen {
		errs[FieldCompetitor] = fmt.Sprintf("Keep it under %d characters.", MaxCompetitorLen)
	}
	if len(errs) == 0 {
		errs = nil
	}
	return o, errs
}

// number reads "15", "15%", "$5,000", "5000.50", "2 months".
func number(s string) (float64, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "$")
	s = strings.TrimSuffix(s, "%")
	for _, unit := range []string{"months", "month", "usd", "USD"} {
		s = strings.TrimSuffix(strings.TrimSpace(s), unit)
	}
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", "")
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("not a number: %q", s)
	}
	return v, nil
}

// Check holds an offer against the account's guideline. A limit exceeded
// refuses the offer naming the rule; a discount (or equivalent) above the
// justification threshold, and every contract change, needs a reason.
func Check(o Offer, g Guideline, tier string, im Impact) FieldErrors {
	errs := FieldErrors{}
	who := "Accounts without a tier listed in the guidelines"
	if strings.TrimSpace(tier) != "" {
		who = "The " + strings.TrimSpace(tier) + " tier"
	}
	switch o.Type {
	case Discount:
		if o.Value > g.MaxDiscountPct {
			errs[FieldValue] = fmt.Sprintf("%s allows discounts up to %s%% (%s).", who, trimFloat(g.MaxDiscountPct), g.Key("max_discount_pct"))
		}
		if o.DurationMonths > g.MaxDurationMonths {
			errs[FieldDuration] = fmt.Sprintf("%s allows discounts for up to %s (%s).", who, plural(g.MaxDurationMonths, "month", "months"), g.Key("max_duration_months"))
		}
	case ServiceCredit:
		if o.Value > g.MaxCredit {
			errs[FieldValue] = fmt.Sprintf("%s allows service credits up to %s (%s).", who, USD(g.MaxCredit), g.Key("max_credit"))
		}
	case FreeMonths:
		if int(o.Value) > g.MaxFreeMonths {
			errs[FieldValue] = fmt.Sprintf("%s allows up to %s (%s).", who, plural(g.MaxFreeMonths, "free month", "free months"), g.Key("max_free_months"))
		}
	}
	if o.Justification == "" {
		switch {
		case o.Type == ContractModification:
			errs[FieldJustification] = "Contract modifications need a justification."
		case im.EquivalentPct > g.JustificationAbovePct:
			limit, key := trimFloat(g.JustificationAbovePct), g.Key("justification_above_pct")
			if o.Type == Discount {
				errs[FieldJustification] = fmt.Sprintf("Discounts above %s%% need a justification (%s).", limit, key)
			} else {
				errs[FieldJustification] = fmt.Sprintf("Offers costing more than %s%% of ARR need a justification (%s).", limit, key)
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// Impact weighs an offer's cost against the revenue it keeps.
type Impact struct {
	ARR             float64 `json:"arr"`
	Cost            float64 `json:"cost"`             // USD the offer gives away
	RemainingMonths float64 `json:"remaining_months"` // the term the offer is weighed against
	RenewalKnown    bool    `json:"renewal_known"`
	RevenueRetained float64 `json:"revenue_retained"` // ARR × RemainingMonths / 12
	CostPctOfARR    float64 `json:"cost_pct_of_arr"`
	// EquivalentPct is what routing and guidelines read as "discount %":
	// the discount itself, or for other offers their cost as % of ARR.
	EquivalentPct float64 `json:"equivalent_pct"`
}

// Net is what is left of the retained revenue after the offer's cost.
func (im Impact) Net() float64 { return im.RevenueRetained - im.Cost }

// avgMonth is a Gregorian month, so a year is exactly 12 of them.
const avgMonth = time.Duration(365.2425 / 12 * 24 * float64(time.Hour))

// ComputeImpact prices an offer for an account with arr and an optional
// renewal date, as of now. Revenue retained is ARR × remaining term, the
// term being the time to renewal but at least minTermMonths: a customer
// lost at renewal takes at least a term's revenue along.
func ComputeImpact(o Offer, arr float64, renewal *time.Time, now time.Time, minTermMonths int) Impact {
	im := Impact{ARR: max(arr, 0), RemainingMonths: float64(minTermMonths)}
	if renewal != nil && !renewal.IsZero() {
		im.RenewalKnown = true
		months := float64(renewal.Sub(now)) / float64(avgMonth)
		im.RemainingMonths = max(math.Round(months*10)/10, float64(minTermMonths))
	}
	monthly := im.ARR / 12
	switch o.Type {
	case Discount:
		im.Cost = im.ARR * o.Value / 100 * float64(max(o.DurationMonths, 0)) / 12
	case ServiceCredit, ContractModification:
		im.Cost = o.Value
	case FreeMonths:
		im.Cost = monthly * o.Value
	}
	im.Cost = math.Round(im.Cost*100) / 100
	im.RevenueRetained = math.Round(monthly*im.RemainingMonths*100) / 100
	switch {
	case im.ARR > 0:
		im.CostPctOfARR = im.Cost / im.ARR * 100
	case im.Cost > 0:
		im.CostPctOfARR = 100 // no recorded ARR: any cost is all of it
	}
	im.EquivalentPct = im.CostPctOfARR
	if o.Type == Discount {
		im.EquivalentPct = o.Value
	}
	return im
}

// USD formats whole dollars with separators: "$72,000", "-$1,250".
func USD(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	if v >= 1e15 {
		return sign + "$999T+"
	}
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return sign + "$" + b.String()
}

// Pct formats a percentage with at most one decimal: "30%", "7.5%".
func Pct(v float64) string { return trimFloat(math.Round(v*10)/10) + "%" }

func trimFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}
