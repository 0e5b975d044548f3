package schedule

import (
	"fmt"
	"strings"
	"time"
)

// BusinessHoursSettings is a YAML business_hours section (NPS loops, the
// at-risk playbook's SLA): working time only, in schedule.timezone. Empty
// start and end: every hour counts.
type BusinessHoursSettings struct {
	Start    string   `yaml:"start"` // "09:00"
	End      string   `yaml:"end"`   // "17:00"
	Days     []string `yaml:"days"`  // default mon..fri
	Holidays []string `yaml:"holidays"`
}

// Calendar builds the section's calendar in loc; nothing set is the plain
// calendar (every hour counts).
func (b BusinessHoursSettings) Calendar(loc *time.Location) (BusinessHours, error) {
	if b.Start == "" && b.End == "" && len(b.Days) == 0 && len(b.Holidays) == 0 {
		return BusinessHours{}, nil
	}
	days := b.Days
	if len(days) == 0 {
		days = []string{"mon", "tue", "wed", "thu", "fri"}
	}
	return NewBusinessHours(loc, b.Start, b.End, days, b.Holidays)
}

// BusinessHours is a working-time calendar: SLA clocks that should not run
// at night, at weekends or on holidays count only the time inside it (the
// way help-desk SLAs count "business hours"). The zero value is the plain
// calendar: every hour counts.
//
// With 09:00-17:00 Monday to Friday, "24h" of business time is three
// working days; "8h" is one.
type BusinessHours struct {
	loc        *time.Location
	start, end int // minutes after midnight, start < end
	days       [7]bool
	holidays   map[string]bool // "2006-01-02" in loc
}

// NewBusinessHours builds a calendar from "HH:MM" times, weekday names
// ("mon".."sun", or full names) and holiday dates (YYYY-MM-DD), in loc.
func NewBusinessHours(loc *time.Location, start, end string, days, holidays []string) (BusinessHours, error) {
	b := BusinessHours{loc: loc, holidays: map[string]bool{}}
	var err error
	if b.start, err = clockMinutes(start); err != nil {
		return BusinessHours{}, fmt.Errorf("start: %w", err)
	}
	if b.end, err = clockMinutes(end); err != nil {
		return BusinessHours{}, fmt.Errorf("end: %w", err)
	}
	if b.start >= b.end {
		return BusinessHours{}, fmt.Errorf("start %s must be before end %s (overnight shifts are not supported)", start, end)
	}
	if len(days) == 0 {
		return BusinessHours{}, fmt.Errorf("days: name at least one day")
	}
	for _, d := range days {
		wd, ok := weekdays[strings.ToLower(strings.TrimSpace(d))]
		if !ok {
			return BusinessHours{}, fmt.Errorf("days: %q is not a weekday (mon, tue, …)", d)
		}
		b.days[wd] = true
	}
	for _, h := range holidays {
		if _, err := time.Parse(time.DateOnly, h); err != nil {
			return BusinessHours{}, fmt.Errorf("holidays: %q is not a date (YYYY-MM-DD)", h)
		}
		b.holidays[h] = true
	}
	if loc == nil {
		b.loc = time.UTC
	}
	return b, nil
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "sunday": time.Sunday, "mon": time.Monday, "monday": time.Monday,
	"tue": time.Tuesday, "tuesday": time.Tuesday, "wed": time.Wednesday, "wednesday": time.Wednesday,
	"thu": time.Thursday, "thursday": time.Thursday, "fri": time.Friday, "friday": time.Friday,
	"sat": time.Saturday, "saturday": time.Saturday,
}

func clockMinutes(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, fmt.Errorf("want HH:MM (got %q)", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// Enabled reports whether business hours are configured; without them the
// calendar counts every hour.
func (b BusinessHours) Enabled() bool { return b.loc != nil }

// window is the business window of the calendar day containing t, and
// whether that day has one.
func (b BusinessHours) window(t time.Time) (from, to time.Time, ok bool) {
	y, m, d := t.Date()
	if !b.days[t.Weekday()] || b.holidays[t.Format(time.DateOnly)] {
		return time.Time{}, time.Time{}, false
	}
	// time.Date per day keeps DST days right: a 09:00 start is 09:00 local.
	from = time.Date(y, m, d, b.start/60, b.start%60, 0, 0, b.loc)
	to = time.Date(y, m, d, b.end/60, b.end%60, 0, 0, b.loc)
	return from, to, true
}

func nextDay(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, t.Location())
}

// maxScanDays bounds the day-by-day walk; no SLA spans more than ten years
// of calendar time, and a bound keeps a mistake from looping forever.
const maxScanDays = 3660

// Add returns the instant d of business time after t. A deadline that
// lands exactly on closing time stays at closing time rather than moving
// to the next morning. d <= 0 returns t.
func (b BusinessHours) Add(t time.Time, d time.Duration) time.Time {
	if !b.Enabled() || d <= 0 {
		return t.Add(max(d, 0))
	}
	cur := t.In(b.loc)
	remaining := d
	for range maxScanDays {
		if from, to, ok := b.window(cur); ok {
			if cur.Before(from) {
				cur = from
			}
			if cur.Before(to) {
				if avail := to.Sub(cur); remaining <= avail {
					return cur.Add(remaining)
				}
				remaining -= to.Sub(cur)
			}
		}
		cur = nextDay(cur)
	}
	return cur.Add(remaining)
}
