package digest

import (
	"fmt"
	"time"

	"github.com/holdfast/holdfast/schedule"
)

// Settings are the defaults of /digest subscriptions (digest:).
type Settings struct {
	SendAt    string `yaml:"send_at"`    // local time in the channel's time zone, "09:00"
	WeeklyDay string `yaml:"weekly_day"` // weekly digests go out on this day ("monday")
	Timezone  string `yaml:"timezone"`   // default for new subscriptions; default schedule.timezone
}

// Weekday is WeeklyDay parsed; Monday when it is not a day (validate
// rejects that).
func (d Settings) Weekday() time.Weekday {
	if wd, ok := schedule.Weekday(d.WeeklyDay); ok {
		return wd
	}
	return time.Monday
}

// DefaultSettings are the /digest defaults.
func DefaultSettings() Settings {
	return Settings{SendAt: "09:00", WeeklyDay: "monday"}
}

// Validate checks the section, filling the time zone from defaultTZ
// (schedule.timezone); an error names the key at fault.
func (d *Settings) Validate(defaultTZ string) error {
	if !schedule.IsClock(d.SendAt) {
		return fmt.Errorf("digest.send_at: want HH:MM (got %q)", d.SendAt)
	}
	if _, ok := schedule.Weekday(d.WeeklyDay); !ok {
		return fmt.Errorf("digest.weekly_day: want a day of the week like monday (got %q)", d.WeeklyDay)
	}
	if d.Timezone == "" {
		d.Timezone = defaultTZ
	}
	if _, err := time.LoadLocation(d.Timezone); err != nil {
		return fmt.Errorf("digest.timezone: unknown time zone %q", d.Timezone)
	}
	return nil
}
