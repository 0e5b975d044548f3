package churn

import (
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/holdfast/holdfast/schedule"
	"github.com/holdfast/holdfast/slackid"
)

// Settings configure churn root-cause records and their reports (YAML
// key churn).
type Settings struct {
	// Admins may record a churn for any account; otherwise only the
	// account's owner CSM may.
	Admins []string `yaml:"admins"`
	// DebriefChannel gets the monthly root-cause post, and the debrief DM
	// when a sales-attributable churn has no AE or sales manager on file.
	DebriefChannel string `yaml:"debrief_channel"`
	// CheckinAfter is when the owner of an agreed process change is asked
	// whether it happened.
	CheckinAfter schedule.Duration `yaml:"checkin_after"`
	// LookalikeWindow: sales-attributable churn this recent defines the
	// profile current accounts are matched against.
	LookalikeWindow schedule.Duration `yaml:"lookalike_window"`
	// LookalikeMinMatch is how many of the four cohort traits (size band,
	// industry, deal source, champion tenure) must match.
	LookalikeMinMatch int `yaml:"lookalike_min_match"`
	// Audit flags a CSM whose records lean on one cause ("product gap" as a
	// catch-all): at least MinRecords records and one cause's share above
	// CatchAllShare.
	Audit AuditSettings `yaml:"audit"`
}

// AuditSettings tune the root-cause tag audit.
type AuditSettings struct {
	CatchAllShare float64 `yaml:"catch_all_share"`
	MinRecords    int     `yaml:"min_records"`
}

// WinbackSettings configure the weekly win-back list (YAML key winback).
type WinbackSettings struct {
	// DormantAfter: an active account without a usage signal this long is dormant.
	DormantAfter schedule.Duration `yaml:"dormant_after"`
	// WindowLength: how long a churned account's win-back window stays
	// open once it opens.
	WindowLength schedule.Duration `yaml:"window_length"`
	// Windows: per root cause, how long after the churn the window opens,
	// or "never".
	Windows map[Cause]WinbackDelay `yaml:"windows"`
}

// WinbackDelay is a win-back delay in whole days, or never.
type WinbackDelay struct {
	After time.Duration
	Never bool
}

// UnmarshalYAML accepts "never" or a duration in days ("90d").
func (w *WinbackDelay) UnmarshalYAML(node *yaml.Node) error {
	var s string
	if err := node.Decode(&s); err != nil {
		return err
	}
	if strings.TrimSpace(s) == "never" {
		*w = WinbackDelay{Never: true}
		return nil
	}
	d, err := schedule.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want a number of days like 90d, or never (got %q)", s)
	}
	*w = WinbackDelay{After: d}
	return nil
}

// WinbackDays converts the windows for WinbackDelay: -1 = never.
func (w WinbackSettings) WinbackDays() map[Cause]int {
	out := make(map[Cause]int, len(w.Windows))
	for c, win := range w.Windows {
		if win.Never {
			out[c] = -1
		} else {
			out[c] = int(win.After / (24 * time.Hour))
		}
	}
	return out
}

// DefaultSettings are the churn defaults.
func DefaultSettings() Settings {
	return Settings{
		CheckinAfter:      schedule.Duration{Duration: 30 * 24 * time.Hour},
		LookalikeWindow:   schedule.Duration{Duration: 180 * 24 * time.Hour},
		LookalikeMinMatch: 3,
		Audit:             AuditSettings{CatchAllShare: 0.5, MinRecords: 4},
	}
}

// DefaultWinbackSettings are the winback defaults.
func DefaultWinbackSettings() WinbackSettings {
	day := 24 * time.Hour
	return WinbackSettings{
		DormantAfter: schedule.Duration{Duration: 30 * day},
		WindowLength: schedule.Duration{Duration: 90 * day},
		Windows: map[Cause]WinbackDelay{
			Pricing:             {After: 90 * day},
			BusinessChange:      {After: 180 * day},
			CompetitiveLoss:     {After: 180 * day},
			ProductDeficiency:   {After: 180 * day},
			FeatureOverpromise:  {After: 180 * day},
			TimelineOverpromise: {After: 120 * day},
			PhantomChampion:     {After: 90 * day},
			ICPMiss:             {Never: true},
		},
	}
}

// Validate checks the section; an error names the key at fault.
func (c *Settings) Validate() error {
	for i, u := range c.Admins {
		if !slackid.User(u) {
			return fmt.Errorf("churn.admins[%d]: %q is not a Slack user id (like U0123ABCD)", i, u)
		}
	}
	if c.DebriefChannel != "" && !slackid.Conversation(c.DebriefChannel) {
		return fmt.Errorf("churn.debrief_channel: %q is not a Slack channel id (like C0123ABCD)", c.DebriefChannel)
	}
	if err := wholeDays("churn.checkin_after", c.CheckinAfter.Duration); err != nil {
		return err
	}
	if err := wholeDays("churn.lookalike_window", c.LookalikeWindow.Duration); err != nil {
		return err
	}
	if c.LookalikeMinMatch < 1 || c.LookalikeMinMatch > 4 {
		return fmt.Errorf("churn.lookalike_min_match: must be 1 to 4 of the four cohort traits (got %d)", c.LookalikeMinMatch)
	}
	if c.Audit.CatchAllShare <= 0 || c.Audit.CatchAllShare > 1 {
		return fmt.Errorf("churn.audit.catch_all_share: must be above 0 and at most 1 (got %g)", c.Audit.CatchAllShare)
	}
	if c.Audit.MinRecords < 1 {
		return fmt.Errorf("churn.audit.min_records: must be at least 1 (got %d)", c.Audit.MinRecords)
	}
	return nil
}

// Validate checks the section; an error names the key at fault.
func (w *WinbackSettings) Validate() error {
	if err := wholeDays("winback.dormant_after", w.DormantAfter.Duration); err != nil {
		return err
	}
	if err := wholeDays("winback.window_length", w.WindowLength.Duration); err != nil {
		return err
	}
	for cause, win := range w.Windows {
		if !IsChurnCause(cause) {
			return fmt.Errorf("winback.windows.%s: not a churn root cause (want one of %s)", cause, CauseList())
		}
		if cause == ICPMiss && !win.Never {
			return fmt.Errorf("winback.windows.%s: must be never: an %s account was never a fit, and winning it back repeats the mistake", cause, cause.Label())
		}
		if !win.Never {
			if err := wholeDays("winback.windows."+string(cause), win.After); err != nil {
				return err
			}
		}
	}
	return nil
}

func wholeDays(key string, d time.Duration) error {
	if d < 24*time.Hour || d%(24*time.Hour) != 0 {
		return fmt.Errorf("%s: want whole days of at least 1d, like 30d (got %s)", key, d)
	}
	return nil
}
