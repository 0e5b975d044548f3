package dunning

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/holdfast/holdfast/slackid"
)

// Settings configure payment-failure handling (YAML key dunning).
type Settings struct {
	// Channel overrides where dunning alerts go (default: the account's
	// channel, else alerts.default_channel).
	Channel string `yaml:"channel"`
	// EscalateARR: failures on accounts with at least this ARR are high
	// value: posted first, marked urgent, the CSM and EscalateTo mentioned,
	// and never held back by quiet hours.
	EscalateARR float64  `yaml:"escalate_arr"`
	EscalateTo  []string `yaml:"escalate_to"`
	// SoftRetryDays is the retry schedule shown for soft declines when
	// Stripe does not say when it retries (days after the failure).
	SoftRetryDays []int `yaml:"soft_retry_days"`
	// UpdateCardURL goes into the customer note of the card-update path.
	UpdateCardURL string `yaml:"update_card_url"`
}

// DefaultSettings are the dunning defaults.
func DefaultSettings() Settings {
	return Settings{EscalateARR: 50000, SoftRetryDays: []int{3, 5, 7}}
}

// Validate checks the section; an error names the key at fault.
func (d *Settings) Validate() error {
	if d.Channel != "" && !slackid.Conversation(d.Channel) {
		return fmt.Errorf("dunning.channel: %q is not a Slack channel id (like C0123ABCD)", d.Channel)
	}
	if d.EscalateARR < 0 {
		return fmt.Errorf("dunning.escalate_arr: must not be negative (got %g)", d.EscalateARR)
	}
	for i, u := range d.EscalateTo {
		if !slackid.User(u) {
			return fmt.Errorf("dunning.escalate_to[%d]: %q is not a Slack user id (like U0123ABCD)", i, u)
		}
	}
	if len(d.SoftRetryDays) > 10 {
		return errors.New("dunning.soft_retry_days: at most 10 retries")
	}
	for i, n := range d.SoftRetryDays {
		if n < 1 || n > 60 || (i > 0 && n <= d.SoftRetryDays[i-1]) {
			return fmt.Errorf("dunning.soft_retry_days[%d]: want increasing days from 1 to 60 (got %d)", i, n)
		}
	}
	if u := d.UpdateCardURL; u != "" {
		if p, err := url.Parse(u); err != nil || p.Scheme != "https" || p.Host == "" {
			return fmt.Errorf("dunning.update_card_url: not an https URL: %q", u)
		}
	}
	return nil
}
