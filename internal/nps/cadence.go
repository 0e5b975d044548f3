package nps

import (
	"slices"
	"strconv"
	"time"
)

// Cadence rules, in days.
const (
	OnboardingDay   = 30 // survey 30 days after activation
	QuarterlyTenure = 90 // quarterly surveys once tenure exceeds 90 days…
	QuarterDays     = 90 // …and again 90 days after the last survey or answer
	PreRenewalDays  = 60 // survey 60 days before renewal
)

// CadencePolicy configures survey selection.
type CadencePolicy struct {
	QuietPeriod time.Duration  // nobody is surveyed twice inside it
	CatchUp     time.Duration  // a missed day-30 / pre-renewal / post-ticket survey stays due this long
	Location    *time.Location // whose calendar days count
}

// Ticket is a resolved critical support ticket.
type Ticket struct {
	Key        string
	ResolvedAt time.Time
}

// CadenceAccount is what selection needs to know about one active account.
//
// The survey tool picks the people inside an account, so Holdfast selects
// accounts, and its quiet period holds for the whole account: when nobody
// at an account may be surveyed twice inside it, nobody is.
type CadenceAccount struct {
	ID         int64
	Activation time.Time  // activation date (00:00 UTC of the date)
	Renewal    *time.Time // renewal date, if any
	Tickets    []Ticket   // critical tickets resolved recently
	// Taken holds the surveys already selected, by SurveyKey.
	Taken map[string]bool
	// LastTouch is the latest survey selected (any kind, follow-ups too) or
	// answer received; nil if none.
	LastTouch *time.Time
}

// SurveyKey names one occurrence of a survey kind.
func SurveyKey(kind SurveyKind, cycle string) string {
	return string(kind) + "|" + cycle
}

// DueSurvey is a survey to send.
type DueSurvey struct {
	AccountID int64
	Kind      SurveyKind
	Cycle     string
	Reason    string
}

// Deferred is a survey that is due but held back by the quiet period.
type Deferred struct {
	DueSurvey
	Until time.Time
}

// kindPriority orders reasons when several are due on one day: the one
// tied to an event wins, the routine one waits.
var kindPriority = []SurveyKind{KindPostTicket, KindPreRenewal, KindOnboarding, KindQuarterly}

// Due selects the survey due for an account at now, if any: at most one a
// run; others due the same day are deferred by the quiet period that
// survey starts. Windows are catch-up style: a run missed yesterday selects
// yesterday's surveys today.
func (p CadencePolicy) Due(a CadenceAccount, now time.Time) (due *DueSurvey, deferred []Deferred) {
	today := civilDate(now, p.Location)
	tenure := daysBetween(a.Activation, today)
	catchUp := max(1, int(p.CatchUp/(24*time.Hour)))
	var cands []DueSurvey
	add := func(kind SurveyKind, cycle, reason string) {
		if !a.Taken[SurveyKey(kind, cycle)] {
			cands = append(cands, DueSurvey{AccountID: a.ID, Kind: kind, Cycle: cycle, Reason: reason})
		}
	}
	for _, t := range a.Tickets {
		if !t.ResolvedAt.After(now) && now.Sub(t.ResolvedAt) < p.CatchUp {
			add(KindPostTicket, "ticket:"+t.Key, "critical ticket "+t.Key+" resolved")
		}
	}
	if a.Renewal != nil {
		if left := daysBetween(today, *a.Renewal); left <= PreRenewalDays && left > PreRenewalDays-catchUp {
			add(KindPreRenewal, a.Renewal.Format(time.DateOnly), "renewal in "+strconv.Itoa(left)+" days ("+a.Renewal.Format("Jan 2, 2006")+")")
		}
	}
	if tenure >= OnboardingDay && tenure < OnboardingDay+catchUp {
		add(KindOnboarding, "day30", strconv.Itoa(tenure)+" days since activation")
	}
	if tenure > QuarterlyTenure && (a.LastTouch == nil || now.Sub(*a.LastTouch) >= QuarterDays*24*time.Hour) {
		period := (tenure - 1) / QuarterDays
		add(KindQuarterly, "q"+strconv.Itoa(period), "quarterly (tenure "+strconv.Itoa(tenure)+" days)")
	}
	if len(cands) == 0 {
		return nil, nil
	}
	slices.SortStableFunc(cands, func(x, y DueSurvey) int {
		return slices.Index(kindPriority, x.Kind) - slices.Index(kindPriority, y.Kind)
	})
	if a.LastTouch != nil && now.Sub(*a.LastTouch) < p.QuietPeriod {
		for _, c := range cands {
			deferred = append(deferred, Deferred{DueSurvey: c, Until: a.LastTouch.Add(p.QuietPeriod)})
		}
		return nil, deferred
	}
	for _, c := range cands[1:] {
		deferred = append(deferred, Deferred{DueSurvey: c, Until: now.Add(p.QuietPeriod)})
	}
	return &cands[0], deferred
}

// daysBetween counts calendar days from a to b (dates at 00:00 UTC, or any
// instants, compared by their UTC dates).
func daysBetween(a, b time.Time) int {
	ay, am, ad := a.UTC().Date()
	by, bm, bd := b.UTC().Date()
	return int(time.Date(by, bm, bd, 0, 0, 0, 0, time.UTC).Sub(time.Date(ay, am, ad, 0, 0, 0, 0, time.UTC)) / (24 * time.Hour))
}

// Today is now's calendar date in loc, as 00:00 UTC of that date (how
// Postgres dates scan).
func Today(now time.Time, loc *time.Location) time.Time { return civilDate(now, loc) }
