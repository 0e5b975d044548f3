package churn

import (
	"strings"
	"time"
	"unicode/utf8"
)

// CauseList names the churn causes for error messages: "icp_miss, …".
func CauseList() string {
	names := make([]string, len(Causes))
	for i, c := range Causes {
		names[i] = string(c.Cause)
	}
	return strings.Join(names, ", ")
}

// IsChurnCause reports whether c may tag a churn (the taxonomy without
// SupportExperience, which only detractor loops use).
func IsChurnCause(c Cause) bool {
	for _, i := range Causes {
		if i.Cause == c {
			return true
		}
	}
	return false
}

// Label is the cause as people read it, or the raw value if unknown.
func (c Cause) Label() string {
	if i, ok := Lookup(c); ok {
		return i.Label
	}
	return string(c)
}

// Profile is what Sales knew about an account at close: the cohort traits
// churn is sliced by and lookalikes are matched on.
type Profile struct {
	SizeBand             string
	Industry             string
	DealSource           string
	ChampionTenureMonths *int // the champion's tenure in their role when the deal closed
}

// TenureThresholds split champion tenure at close into buckets (months):
// under 6, 6–12, 12–24, 24 and over. Postgres' width_bucket(months,
// thresholds) gives the same bucket index as TenureBucket.
var TenureThresholds = []int{6, 12, 24}

var tenureLabels = []string{"under 6 months", "6–12 months", "1–2 years", "2+ years"}

// TenureBucket is the bucket index of a tenure (-1 = unknown).
func TenureBucket(months *int) int {
	if months == nil {
		return -1
	}
	i := 0
	for i < len(TenureThresholds) && *months >= TenureThresholds[i] {
		i++
	}
	return i
}

// TenureLabel names a tenure's bucket ("" when unknown).
func TenureLabel(months *int) string {
	if b := TenureBucket(months); b >= 0 {
		return tenureLabels[b]
	}
	return ""
}

// Record is one recorded churn as reports read it.
type Record struct {
	ID           int64
	AccountID    int64
	AccountName  string
	ChurnedOn    time.Time // a date (UTC midnight)
	Cause        Cause
	ARR          float64
	RecordedBy   string // the CSM who tagged it
	OwnerCSM     string
	AE           string
	SalesManager string
	Profile      Profile
}

// Submission fields, named as the modal's blocks so errors land next to the
// field that caused them.
const (
	FieldStatedReason  = "stated_reason"
	FieldCause         = "cause"
	FieldDiagnosis     = "diagnosis"
	FieldDealBehaviour = "deal_behaviour"
	FieldChurnedOn     = "churned_on"
)

// MaxTextLen bounds each free-text level of a churn record.
const MaxTextLen = 3000

// Submission is what a CSM enters to record a churn.
type Submission struct {
	StatedReason  string // the customer's stated reason, in their words
	Cause         Cause
	Diagnosis     string // CS's diagnosis
	DealBehaviour string // the deal behaviour that predicted it
	ChurnedOn     time.Time
}

// Validate returns a message per field that is wrong (nil when the
// submission can be stored). today is the date in the team's time zone.
func (s Submission) Validate(today time.Time) map[string]string {
	errs := map[string]string{}
	text := func(field, v string, required bool, what string) {
		switch {
		case required && strings.TrimSpace(v) == "":
			errs[field] = what + " is required."
		case !utf8.ValidString(v) || strings.ContainsRune(v, 0):
			errs[field] = "Contains characters that cannot be stored."
		case utf8.RuneCountInString(v) > MaxTextLen:
			errs[field] = "Keep it under 3,000 characters."
		}
	}
	text(FieldStatedReason, s.StatedReason, true, "The customer's stated reason")
	text(FieldDiagnosis, s.Diagnosis, true, "Your diagnosis")
	switch {
	case s.Cause == "":
		errs[FieldCause] = "Pick the root cause."
	case !IsChurnCause(s.Cause):
		errs[FieldCause] = "Pick one of the listed root causes."
	}
	// A sales-attributable cause goes to the AE as a lesson; without the
	// deal behaviour there is nothing to learn from.
	text(FieldDealBehaviour, s.DealBehaviour, s.Cause.SalesAttributable(), "For a sales-attributable cause, the deal behaviour that predicted it")
	if !s.ChurnedOn.IsZero() {
		switch {
		case s.ChurnedOn.After(today):
			errs[FieldChurnedOn] = "The churn date cannot be in the future."
		case s.ChurnedOn.Before(today.AddDate(-2, 0, 0)):
			errs[FieldChurnedOn] = "The churn date is more than two years ago."
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// Date is t's calendar date in loc, as UTC midnight (how dates are compared here).
func Date(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
}
