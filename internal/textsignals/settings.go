package textsignals

import (
	"fmt"
	"strings"
	"time"

	"github.com/holdfast/holdfast/schedule"
	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/scoring/text"
)

// Settings configure text analysis (the YAML key text:) and the alerts it
// raises.
type Settings struct {
	Competitors []text.Competitor `yaml:"competitors"`
	// OwnNames are our company and product names and support handles
	// ("Acme", "Acme Cloud", "@AcmeHelp"): no sentiment, never a competitor.
	OwnNames           []string                    `yaml:"own_names"`
	CompetitorCooldown schedule.Duration           `yaml:"competitor_cooldown"` // one alert per account and competitor per window
	SentimentDrop      scoring.SentimentDropConfig `yaml:"sentiment_drop"`
	SentimentCooldown  schedule.Duration           `yaml:"sentiment_cooldown"` // one sentiment-drop alert per account per window
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

// DefaultSettings are the text defaults.
func DefaultSettings() Settings {
	return Settings{
		// A customer who names a rival weekly is one story, not seven alerts.
		CompetitorCooldown: schedule.Duration{Duration: 7 * 24 * time.Hour},
		SentimentDrop:      scoring.DefaultSentimentDrop(),
		SentimentCooldown:  schedule.Duration{Duration: 7 * 24 * time.Hour},
		SlackAuthors:       SlackAuthorsCustomers,
	}
}

// Validate checks the section; an error names the key at fault.
func (t *Settings) Validate() error {
	if err := text.ValidateCompetitors(t.Competitors); err != nil {
		return fmt.Errorf("text.competitors%w", err)
	}
	if err := text.ValidateOwnNames(t.OwnNames); err != nil {
		return fmt.Errorf("text.own_names%w", err)
	}
	for i, n := range t.OwnNames {
		for _, c := range t.Competitors {
			for _, alias := range append([]string{c.Name}, c.Aliases...) {
				if strings.EqualFold(strings.TrimPrefix(strings.TrimSpace(n), "@"), strings.TrimSpace(alias)) {
					return fmt.Errorf("text.own_names[%d]: %q is also competitor %q; our own names are never competitors", i, n, c.Name)
				}
			}
		}
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

// NewAnalyzer builds the offline analyzer these settings describe.
func (t *Settings) NewAnalyzer() (*text.Analyzer, error) {
	return text.NewAnalyzer(t.Competitors, text.WithOwnNames(t.OwnNames))
}
