package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/scoring/text"
)

// TextSettings configure text analysis (the YAML key text:) and the alerts
// it raises.
type TextSettings struct {
	Competitors        []text.Competitor           `yaml:"competitors"`
	CompetitorCooldown Duration                    `yaml:"competitor_cooldown"` // one alert per account and competitor per window
	SentimentDrop      scoring.SentimentDropConfig `yaml:"sentiment_drop"`
	SentimentCooldown  Duration                    `yaml:"sentiment_cooldown"` // one sentiment-drop alert per account per window
	// SlackAuthors: which messages in account channels are analysed.
	// "customers" (default): only people from another workspace (Slack
	// Connect), so the team's own replies do not count as the customer's
	// mood; internal messages are still kept as history. "all": everyone,
	// for internal account channels.
	SlackAuthors string `yaml:"slack_authors"`
}

// Slack author policies.
const (
	SlackAuthorsCustomers = "customers"
	SlackAuthorsAll       = "all"
)

// DigestSettings are the defaults of /digest subscriptions (digest:).
type DigestSettings struct {
	SendAt    string `yaml:"send_at"`    // local time in the channel's time zone, "09:00"
	WeeklyDay string `yaml:"weekly_day"` // weekly digests go out on this day ("monday")
	Timezone  string `yaml:"timezone"`   // default for new subscriptions; default schedule.timezone
}

// Weekday is WeeklyDay parsed; Monday when it is not a day (validate
// rejects that).
func (d DigestSettings) Weekday() time.Weekday {
	if wd, ok := weekdays[strings.ToLower(d.WeeklyDay)]; ok {
		return wd
	}
	return time.Monday
}

func defaultTextSettings() TextSettings {
	return TextSettings{
		// A customer who names a rival weekly is one story, not seven alerts.
		CompetitorCooldown: Duration{7 * 24 * time.Hour},
		SentimentDrop:      scoring.DefaultSentimentDrop(),
		SentimentCooldown:  Duration{7 * 24 * time.Hour},
		SlackAuthors:       SlackAuthorsCustomers,
	}
}

func defaultDigestSettings() DigestSettings {
	return DigestSettings{SendAt: "09:00", WeeklyDay: "monday"}
}

var weekdays = map[string]time.Weekday{"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday,
	"wednesday": time.Wednesday, "thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday}

func (t *TextSettings) validate() error {
	if err := text.ValidateCompetitors(t.Competitors); err != nil {
		return fmt.Errorf("text.competitors%w", err)
	}
	if t.CompetitorCooldown.Duration < time.Minute {
		return fmt.Errorf("text.competitor_cooldown: must be at least 1m (got %s)", t.CompetitorCooldown.Duration)
	}
	if t.SentimentCooldown.Duration < time.Minute {
		return fmt.Errorf("text.sentiment_cooldown: must be at least 1m (got %s)", t.SentimentCooldown.Duration)
	}
	if err := t.SentimentDrop.Validate("text.sentiment_drop"); err != nil {
		return err
	}
	switch t.SlackAuthors {
	case SlackAuthorsCustomers, SlackAuthorsAll:
	default:
		return fmt.Errorf("text.slack_authors: want %q or %q (got %q)", SlackAuthorsCustomers, SlackAuthorsAll, t.SlackAuthors)
	}
	return nil
}

func (d *DigestSettings) validate(defaultTZ string) error {
	if !clock.MatchString(d.SendAt) {
		return fmt.Errorf("digest.send_at: want HH:MM (got %q)", d.SendAt)
	}
	if _, ok := weekdays[strings.ToLower(d.WeeklyDay)]; !ok {
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
