package nps

import (
	"slices"
	"strconv"
	"strings"
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
type CadenceAccount struct {
	ID         int64
	Activation time.Time  // activation date (00:00 UTC of the date)
	Renewal    *time.Time // renewal date, if any
	Tickets    []Ticket   // critical tickets resolved recently
	// Contacts are the people known to answer for the account (recent
	// respondents). None: one survey to "" (the survey tool's contacts for
	// the account).
	Contacts []string
	// Taken holds the surveys already selected, by SurveyKey.
	Taken map[string]bool
	// LastTouch is, per lower-cased contact, the latest survey selected or
	// answer received.
	LastTouch map[string]time.Time
}

// SurveyKey names one occurrence of a survey for one contact.
func SurveyKey(kind SurveyKind, cycle, contact string) string {
	return string(kind) + "|" + cycle + "|" + strings.ToLower(contact)
}

// DueSurvey is a survey to send.
type DueSurvey struct {
	AccountID int64
	Contact   string
	Kind      SurveyKind
	Cycle     string
	Reason    string
}

// Deferred is a survey that is due but held back by the quiet period.
type Deferred struct {
	DueSurvey
	Until time.Time
}

// kindPriority orders reasons when several are due for one contact on one
// day: the one tied to an event wins, the routine one waits.
var kindPriority = []SurveyKind{KindPostTicket, KindPreRenewal, KindOnboarding, KindQuarterly}

// Due selects the surveys due for an account at now. Each contact gets at
// most one; the others are deferred by the quiet period. Windows are
// catch-up style: a run missed yesterday selects yesterday's surveys today.
func (p CadencePolicy) Due(a CadenceAccount, now time.Time) (due []DueSurvey, deferred []Deferred) {
	today := civilDate(now, p.Location)
	tenure := daysBetween(a.Activation, today)
	catchUp := max(1, int(p.CatchUp/(24*time.Hour)))
	contacts := a.Contacts
	if len(contacts) == 0 {
		contacts = []string{""}
	}
	for _, contact := range contacts {
		last, touched := a.LastTouch[strings.ToLower(contact)]
		var cands []DueSurvey
		add := func(kind SurveyKind, cycle, reason string) {
			if !a.Taken[SurveyKey(kind, cycle, contact)] {
				cands = append(cands, DueSurvey{AccountID: a.ID, Contact: contact, Kind: kind, Cycle: cycle, Reason: reason})
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
		if tenure > QuarterlyTenure && (!touched || now.Sub(last) >= QuarterDays*24*time.Hour) {
			period := (tenure - 1) / QuarterDays
			add(KindQuarterly, "q"+strconv.Itoa(period), "quarterly (tenure "+strconv.Itoa(tenure)+" days)")
		}
		if len(cands) == 0 {
			continue
		}
		slices.SortStableFunc(cands, func(x, y DueSurvey) int {
			return slices.Index(kindPriority, x.Kind) - slices.Index(kindPriority, y.Kind)
		})
		if touched && now.Sub(last) < p.QuietPeriod {
			for _, c := range cands {
				deferred = append(deferred, Deferred{DueSurvey: c, Until: last.Add(p.QuietPeriod)})
			}
			continue
		}
		due = append(due, cands[0])
		for _, c := range cands[1:] {
			deferred = append(deferred, Deferred{DueSurvey: c, Until: now.Add(p.QuietPeriod)})
		}
	}
	return due, deferred
}

// daysBetween counts calendar days from a to b (dates at 00:00 UTC, or any
// instants, compared by their UTC dates).
func daysBetween(a, b time.Time) int {
	ay, am, ad := a.UTC().Date()
	by, bm, bd := b.UTC().Date()
	return int(time.Date(by, bm, bd, 0, 0, 0, 0, time.UTC).Sub(time.Date(ay, am, ad, 0, 0, 0, 0, time.UTC)) / (24 * time.Hour))
}

// Tenure is the account's age in days at now (in loc's calendar).
func Tenure(activation, now time.Time, loc *time.Location) int {
	return daysBetween(activation, civilDate(now, loc))
}
