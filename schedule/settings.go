package schedule

import (
	"cmp"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Settings say how periodic work reads its cron specs (YAML key schedule).
type Settings struct {
	Timezone string `yaml:"timezone"` // IANA name; cron specs and "business days" use it (default UTC)

	loc *time.Location
}

// Resolve loads the time zone; an error names the key at fault.
func (s *Settings) Resolve() error {
	tz := cmp.Or(s.Timezone, "UTC")
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return fmt.Errorf("timezone: unknown time zone %q", tz)
	}
	s.loc = loc
	return nil
}

// Location is the time zone of Timezone (UTC until resolved).
func (s Settings) Location() *time.Location {
	if s.loc == nil {
		return time.UTC
	}
	return s.loc
}

// QuietHours defers non-critical alerts posted between Start and End (local
// time in Timezone) to End. Empty Start and End mean no quiet hours.
type QuietHours struct {
	Start    string `yaml:"start"` // "20:00"
	End      string `yaml:"end"`   // "08:00"
	Timezone string `yaml:"timezone"`

	start, end int // minutes after midnight
	loc        *time.Location
}

var clock = regexp.MustCompile(`^([01]\d|2[0-3]):([0-5]\d)$`)

// Resolve checks and loads the window; an error names the key at fault.
func (q *QuietHours) Resolve() error {
	if q.Start == "" && q.End == "" {
		return nil
	}
	for key, v := range map[string]string{"start": q.Start, "end": q.End} {
		if !clock.MatchString(v) {
			return fmt.Errorf("%s: want HH:MM (got %q)", key, v)
		}
	}
	q.start, q.end = minutes(q.Start), minutes(q.End)
	if q.start == q.end {
		return fmt.Errorf("start: is the same as end (%s)", q.Start)
	}
	tz := cmp.Or(q.Timezone, "UTC")
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return fmt.Errorf("timezone: unknown time zone %q", tz)
	}
	q.loc = loc
	return nil
}

func minutes(hhmm string) int {
	return int(hhmm[0]-'0')*600 + int(hhmm[1]-'0')*60 + int(hhmm[3]-'0')*10 + int(hhmm[4]-'0')
}

// Enabled reports whether quiet hours are configured.
func (q QuietHours) Enabled() bool { return q.loc != nil }

// Until returns the end of the quiet period that contains t, or the zero time
// when t is outside quiet hours.
func (q QuietHours) Until(t time.Time) time.Time {
	if q.loc == nil {
		return time.Time{}
	}
	local := t.In(q.loc)
	minute := local.Hour()*60 + local.Minute()
	in := false
	if q.start < q.end {
		in = minute >= q.start && minute < q.end
	} else {
		in = minute >= q.start || minute < q.end
	}
	if !in {
		return time.Time{}
	}
	end := time.Date(local.Year(), local.Month(), local.Day(), q.end/60, q.end%60, 0, 0, q.loc)
	if !end.After(local) {
		end = end.AddDate(0, 0, 1)
	}
	return end
}

// IsClock reports whether s is a time of day written HH:MM.
func IsClock(s string) bool { return clock.MatchString(s) }

// Weekday reads a day's name ("monday" or "mon", any case).
func Weekday(name string) (time.Weekday, bool) {
	wd, ok := weekdays[strings.ToLower(strings.TrimSpace(name))]
	return wd, ok
}
