package churn

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Period is a calendar month or quarter: [Start, End) as dates.
type Period struct {
	Kind  string // "month" or "quarter"
	Start time.Time
	End   time.Time
}

// Period kinds.
const (
	Month   = "month"
	Quarter = "quarter"
)

// MonthOf is the month containing the date d.
func MonthOf(d time.Time) Period {
	s := time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC)
	return Period{Kind: Month, Start: s, End: s.AddDate(0, 1, 0)}
}

// QuarterOf is the calendar quarter containing the date d.
func QuarterOf(d time.Time) Period {
	m := time.Month((int(d.Month())-1)/3*3 + 1)
	s := time.Date(d.Year(), m, 1, 0, 0, 0, 0, time.UTC)
	return Period{Kind: Quarter, Start: s, End: s.AddDate(0, 3, 0)}
}

// Prev is the period of the same kind just before p.
func (p Period) Prev() Period {
	if p.Kind == Quarter {
		return QuarterOf(p.Start.AddDate(0, -1, 0))
	}
	return MonthOf(p.Start.AddDate(0, 0, -1))
}

// Contains reports whether the date d is in p.
func (p Period) Contains(d time.Time) bool { return !d.Before(p.Start) && d.Before(p.End) }

// Key names the period in storage and commands: "2027-02", "2027-Q1".
func (p Period) Key() string {
	if p.Kind == Quarter {
		return fmt.Sprintf("%d-Q%d", p.Start.Year(), (int(p.Start.Month())-1)/3+1)
	}
	return p.Start.Format("2006-01")
}

// Label is the period as people read it: "February 2027", "Q1 2027".
func (p Period) Label() string {
	if p.Kind == Quarter {
		return fmt.Sprintf("Q%d %d", (int(p.Start.Month())-1)/3+1, p.Start.Year())
	}
	return p.Start.Format("January 2006")
}

// LastComplete is the last whole month or quarter before the date today.
func LastComplete(kind string, today time.Time) Period {
	if kind == Quarter {
		return QuarterOf(today).Prev()
	}
	return MonthOf(today).Prev()
}

// ParsePeriod reads a report period: "" or "month" (the last whole month),
// "quarter" (the last whole quarter), "2027-02" or "2027-Q1". A period
// that has not started yet is an error; the current one is allowed (so far).
func ParsePeriod(arg string, today time.Time) (Period, error) {
	arg = strings.ToLower(strings.TrimSpace(arg))
	var p Period
	switch {
	case arg == "" || arg == Month:
		return LastComplete(Month, today), nil
	case arg == Quarter:
		return LastComplete(Quarter, today), nil
	case len(arg) == 7 && arg[4] == '-' && arg[5] == 'q':
		y, err1 := strconv.Atoi(arg[:4])
		q, err2 := strconv.Atoi(arg[6:])
		if err1 != nil || err2 != nil || q < 1 || q > 4 {
			return Period{}, fmt.Errorf("%q is not a quarter like 2027-Q1", arg)
		}
		p = QuarterOf(time.Date(y, time.Month(q*3), 1, 0, 0, 0, 0, time.UTC))
	default:
		t, err := time.Parse("2006-01", arg)
		if err != nil {
			return Period{}, fmt.Errorf("%q is not a period: use month, quarter, 2027-02 or 2027-Q1", arg)
		}
		p = MonthOf(t)
	}
	if p.Start.After(today) {
		return Period{}, fmt.Errorf("%s has not started yet", p.Label())
	}
	if p.Start.Year() < 2000 {
		return Period{}, fmt.Errorf("%s is too long ago", p.Label())
	}
	return p, nil
}

// FirstBusinessDay is the first Monday-to-Friday date of a month. Public
// holidays are not known here; the monthly post catches up on the next
// weekday run if the team's first working day is later.
func FirstBusinessDay(year int, month time.Month) time.Time {
	d := time.Date(year, month, 1, 0, 0, 0, 0, time.UTC)
	for d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

// MonthlyPostDue says which month's report is due on the date today: the
// previous month's, once today is on or after this month's first business
// day. Callers record the posted period so it goes out once.
func MonthlyPostDue(today time.Time) (Period, bool) {
	if today.Before(FirstBusinessDay(today.Year(), today.Month())) {
		return Period{}, false
	}
	return LastComplete(Month, today), true
}
