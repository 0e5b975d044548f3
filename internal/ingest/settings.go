package ingest

import (
	"fmt"
	"time"

	"github.com/holdfast/holdfast/schedule"
	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/slackid"
)

// Settings are what the pipeline decides alerts with.
type Settings struct {
	Alerts  AlertSettings
	Scoring scoring.Config
	// CooldownScope prefixes every alert cooldown key: a local demo run starts
	// afresh without forgetting a real deployment's claims.
	CooldownScope string
}

// AlertSettings say where and when alerts go (YAML key alerts).
type AlertSettings struct {
	DefaultChannel string              `yaml:"default_channel"` // used when the account has no channel of its own
	Cooldown       schedule.Duration   `yaml:"cooldown"`        // per account and alert kind
	QuietHours     schedule.QuietHours `yaml:"quiet_hours"`
	// Admins (Slack user ids) see the work Holdfast gave up on (dead
	// letters) in their App Home and may retry it.
	Admins []string `yaml:"admins"`
}

// DefaultAlertSettings are the alerts defaults.
func DefaultAlertSettings() AlertSettings {
	return AlertSettings{Cooldown: schedule.Duration{Duration: 24 * time.Hour}}
}

// Validate checks the section; an error names the key at fault.
func (a *AlertSettings) Validate() error {
	if a.DefaultChannel != "" && !slackid.Conversation(a.DefaultChannel) {
		return fmt.Errorf("default_channel: %q is not a Slack channel id (like C0123ABCD)", a.DefaultChannel)
	}
	if a.Cooldown.Duration < time.Minute {
		return fmt.Errorf("cooldown: must be at least 1m (got %s)", a.Cooldown.Duration)
	}
	for i, u := range a.Admins {
		if !slackid.User(u) {
			return fmt.Errorf("admins[%d]: %q is not a Slack user id (like U0123ABCD)", i, u)
		}
	}
	if err := a.QuietHours.Resolve(); err != nil {
		return fmt.Errorf("quiet_hours.%w", err)
	}
	return nil
}
