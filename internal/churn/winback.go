package churn

import "time"

// Win-back outcomes.
type Outcome string

const (
	ReEngaged  Outcome = "re_engaged"
	NoResponse Outcome = "no_response"
	Declined   Outcome = "declined"
)

// Label is the outcome as people read it.
func (o Outcome) Label() string {
	switch o {
	case ReEngaged:
		return "Re-engaged"
	case NoResponse:
		return "No response"
	case Declined:
		return "Declined"
	}
	return "Open"
}

// ValidOutcome reports whether o is an outcome a person may record.
func ValidOutcome(o Outcome) bool { return o == ReEngaged || o == NoResponse || o == Declined }

// Win-back list kinds.
const (
	KindDormant = "dormant"
	KindChurned = "churned"
)

// Window is when a churned account may be approached again.
type Window struct {
	Never  bool
	Opens  time.Time // a date
	Closes time.Time // exclusive
}

// OpenOn reports whether the window is open on the date today.
func (w Window) OpenOn(today time.Time) bool {
	return !w.Never && !today.Before(w.Opens) && today.Before(w.Closes)
}

// WinbackWindow is the window for a churn: it opens delays[cause] days after
// the churn and stays open lengthDays. A cause without a delay, or with a
// negative one, is never won back (ICP miss: the account was never a fit).
func WinbackWindow(cause Cause, churnedOn time.Time, delays map[Cause]int, lengthDays int) Window {
	d, ok := delays[cause]
	if !ok || d < 0 || cause == ICPMiss {
		return Window{Never: true}
	}
	opens := churnedOn.AddDate(0, 0, d)
	return Window{Opens: opens, Closes: opens.AddDate(0, 0, lengthDays)}
}

// WinbackAttempt is a started win-back and its answer ("" while open).
type WinbackAttempt struct {
	Kind    string
	Cause   Cause
	Outcome Outcome
}

// WinbackStats sums attempts. Rate is re-engaged over answered attempts
// (open ones are not counted either way).
type WinbackStats struct {
	Started    int
	ReEngaged  int
	NoResponse int
	Declined   int
	Open       int
	Rate       float64
	Dormant    int // attempts on dormant accounts
	Churned    int // attempts on churned accounts
}

// WinbackRate sums attempts into stats.
func WinbackRate(attempts []WinbackAttempt) WinbackStats {
	var s WinbackStats
	for _, a := range attempts {
		s.Started++
		switch a.Outcome {
		case ReEngaged:
			s.ReEngaged++
		case NoResponse:
			s.NoResponse++
		case Declined:
			s.Declined++
		default:
			s.Open++
		}
		if a.Kind == KindChurned {
			s.Churned++
		} else {
			s.Dormant++
		}
	}
	if answered := s.ReEngaged + s.NoResponse + s.Declined; answered > 0 {
		s.Rate = float64(s.ReEngaged) / float64(answered)
	}
	return s
}
