// Package config reads Holdfast's settings from the environment and one YAML
// file, and refuses to start on anything it cannot use: every error names the
// variable or YAML key at fault.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/holdfast/holdfast/slackid"
	"io"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/holdfast/holdfast/config/duration"
	"github.com/holdfast/holdfast/llm"
	"github.com/holdfast/holdfast/offers"
	"github.com/holdfast/holdfast/scoring"
)

// DefaultSlackAPIURL is Slack's Web API base; slack-go appends method names.
const DefaultSlackAPIURL = "https://slack.com/api/"

// Config is everything the process needs, validated.
type Config struct {
	SlackBotToken string // xoxb-…; empty together with SlackAppToken means local mode
	SlackAppToken string // xapp-…
	SlackAPIURL   string // ends with "/"
	DatabaseURL   string
	RedisURL      string
	HTTPAddr      string
	IngestToken   string
	ConfigPath    string
	LLM           llm.Config // OPENAI_BASE_URL, OPENAI_API_KEY, OPENAI_MODEL; off when unset
	// StripeWebhookSecret (STRIPE_WEBHOOK_SECRET, whsec_…) verifies POST
	// /webhooks/stripe; unset, the endpoint answers 404.
	StripeWebhookSecret string
	CRM                 CRMEnv // SALESFORCE_*, HOLDFAST_CRM_WEBHOOK_SECRET; write-back off when unset
	// SurveyWebhookSecret signs POSTs to nps.survey_webhook.url
	// (HOLDFAST_SURVEY_WEBHOOK_SECRET); never logged.
	SurveyWebhookSecret string

	Settings Settings
}

// LocalMode is true when no Slack tokens are set: the bot then talks to the
// in-process fake workspace.
func (c Config) LocalMode() bool { return c.SlackBotToken == "" && c.SlackAppToken == "" }

// Settings is the YAML file (HOLDFAST_CONFIG).
type Settings struct {
	Alerts   AlertSettings    `yaml:"alerts"`
	Scoring  scoring.Config   `yaml:"scoring"`
	Redis    RedisSettings    `yaml:"redis"`
	Schedule ScheduleSettings `yaml:"schedule"`

	// Close the loop (issue 6): churn root causes, dunning, win-back.
	Churn   ChurnSettings   `yaml:"churn"`
	Dunning DunningSettings `yaml:"dunning"`
	Winback WinbackSettings `yaml:"winback"`

	// Account rooms (issue 7).
	Rooms RoomSettings `yaml:"rooms"`
	CRM   CRMSettings  `yaml:"crm"`

	// Text signals (issue 5).
	Text   TextSettings   `yaml:"text"`   // sentiment, competitors, text alerts (config/text.go)
	Digest DigestSettings `yaml:"digest"` // /digest defaults (config/text.go)

	// NPS as a conversation (issue 4).
	NPS NPSSettings `yaml:"nps"`

	// Retention-offer approvals (issue 3).
	Offers offers.Config `yaml:"offers"`
}

// ScheduleSettings says how periodic work reads its cron specs.
type ScheduleSettings struct {
	Timezone string `yaml:"timezone"` // IANA name; cron specs and "business days" use it (default UTC)

	loc *time.Location
}

// Location is the time zone of Timezone (UTC until validated).
func (s ScheduleSettings) Location() *time.Location {
	if s.loc == nil {
		return time.UTC
	}
	return s.loc
}

// AlertSettings says where and when alerts go.
type AlertSettings struct {
	DefaultChannel string     `yaml:"default_channel"` // used when the account has no channel of its own
	Cooldown       Duration   `yaml:"cooldown"`        // per account and alert kind
	QuietHours     QuietHours `yaml:"quiet_hours"`
}

// RedisSettings tunes how Holdfast uses Redis.
type RedisSettings struct {
	KeyPrefix string `yaml:"key_prefix"` // lets several deployments (or tests) share one Redis
}

// QuietHours defers non-critical alerts posted between Start and End (local
// time in TZ) to End. Empty Start and End mean no quiet hours.
type QuietHours struct {
	Start    string `yaml:"start"` // "20:00"
	End      string `yaml:"end"`   // "08:00"
	Timezone string `yaml:"timezone"`

	start, end int // minutes after midnight
	loc        *time.Location
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

// Duration is a time.Duration that YAML writes as "90m", "24h" or "7d".
// It is duration.Duration under this package's name (offers, which config
// imports, uses that one), declared rather than aliased so the settings'
// unkeyed Duration{24 * time.Hour} literals stay vet-clean.
type Duration struct{ time.Duration }

// UnmarshalYAML accepts Go durations plus a "d" suffix for days.
func (d *Duration) UnmarshalYAML(node *yaml.Node) error {
	return (*duration.Duration)(d).UnmarshalYAML(node)
}

// ParseDuration is time.ParseDuration plus whole days ("7d").
func ParseDuration(s string) (time.Duration, error) { return duration.Parse(s) }

// DefaultSettings are used for every key the YAML file leaves out.
func DefaultSettings() Settings {
	return Settings{
		Alerts: AlertSettings{
			DefaultChannel: "",
			Cooldown:       Duration{24 * time.Hour},
		},
		Scoring: scoring.DefaultConfig(),
		Redis:   RedisSettings{KeyPrefix: "holdfast:"},
		Churn:   defaultChurn(),
		Dunning: defaultDunning(),
		Winback: defaultWinback(),
		Rooms:   defaultRooms(),
		CRM:     defaultCRM(),
		Text:    defaultTextSettings(),
		Digest:  defaultDigestSettings(),
		NPS:     defaultNPS(),
		Offers:  offers.DefaultConfig(),
	}
}

// Getenv is os.Getenv's shape, so tests can pass a map.
type Getenv func(string) string

// Load reads the environment and the YAML file it names.
func Load(getenv Getenv) (Config, error) {
	c := Config{
		SlackBotToken: getenv("SLACK_BOT_TOKEN"),
		SlackAppToken: getenv("SLACK_APP_TOKEN"),
		SlackAPIURL:   orDefault(getenv("SLACK_API_URL"), DefaultSlackAPIURL),
		DatabaseURL:   orDefault(getenv("DATABASE_URL"), "postgres://postgres@127.0.0.1:5432/holdfast?sslmode=disable"),
		RedisURL:      orDefault(getenv("REDIS_URL"), "redis://127.0.0.1:6379/0"),
		HTTPAddr:      orDefault(getenv("HOLDFAST_HTTP_ADDR"), "127.0.0.1:8080"),
		IngestToken:   getenv("HOLDFAST_INGEST_TOKEN"),
		ConfigPath:    getenv("HOLDFAST_CONFIG"),
		LLM: llm.Config{BaseURL: getenv("OPENAI_BASE_URL"), APIKey: getenv("OPENAI_API_KEY"),
			Model: getenv("OPENAI_MODEL")},
		StripeWebhookSecret: getenv("STRIPE_WEBHOOK_SECRET"),
		CRM:                 loadCRMEnv(getenv),
		SurveyWebhookSecret: getenv("HOLDFAST_SURVEY_WEBHOOK_SECRET"),
		Settings:            DefaultSettings(),
	}
	if c.ConfigPath != "" {
		raw, err := os.ReadFile(c.ConfigPath)
		if err != nil {
			return Config{}, fmt.Errorf("HOLDFAST_CONFIG: %w", err)
		}
		s, err := ParseSettings(raw)
		if err != nil {
			return Config{}, fmt.Errorf("HOLDFAST_CONFIG %s: %w", c.ConfigPath, err)
		}
		c.Settings = s
	} else if err := c.Settings.validate(); err != nil {
		return Config{}, err
	}
	if err := c.validateEnv(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// ParseSettings decodes YAML over the defaults and validates the result.
// Unknown keys are errors: a typo must not silently fall back to a default.
func ParseSettings(raw []byte) (Settings, error) {
	s := DefaultSettings()
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	// io.EOF: an empty file means "all defaults".
	if err := dec.Decode(&s); err != nil && !errors.Is(err, io.EOF) {
		return Settings{}, yamlError(err)
	}
	if err := s.validate(); err != nil {
		return Settings{}, err
	}
	return s, nil
}

var unknownField = regexp.MustCompile(`field (\S+) not found in type \S+`)

// yamlError puts yaml.v3's multi-line report on one line and says
// "unknown key" in the words a person editing the file would use.
func yamlError(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return fmt.Errorf("yaml: %w", err)
	}
	msgs := make([]string, len(te.Errors))
	for i, m := range te.Errors {
		msgs[i] = unknownField.ReplaceAllString(m, `unknown key "$1"`)
	}
	return errors.New("yaml: " + strings.Join(msgs, "; "))
}

var (
	clock = regexp.MustCompile(`^([01]\d|2[0-3]):([0-5]\d)$`)
)

func (s *Settings) validate() error {
	if err := s.Scoring.Validate(); err != nil {
		// Every scoring problem at once, on the one line a start failure gets.
		return errors.New(strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	a := &s.Alerts
	if a.DefaultChannel != "" && !slackid.Conversation(a.DefaultChannel) {
		return fmt.Errorf("alerts.default_channel: %q is not a Slack channel id (like C0123ABCD)", a.DefaultChannel)
	}
	if a.Cooldown.Duration < time.Minute {
		return fmt.Errorf("alerts.cooldown: must be at least 1m (got %s)", a.Cooldown.Duration)
	}
	q := &a.QuietHours
	if q.Start != "" || q.End != "" {
		for key, v := range map[string]string{"start": q.Start, "end": q.End} {
			if !clock.MatchString(v) {
				return fmt.Errorf("alerts.quiet_hours.%s: want HH:MM (got %q)", key, v)
			}
		}
		q.start, q.end = minutes(q.Start), minutes(q.End)
		if q.start == q.end {
			return fmt.Errorf("alerts.quiet_hours: start and end are both %s", q.Start)
		}
		tz := orDefault(q.Timezone, "UTC")
		loc, err := time.LoadLocation(tz)
		if err != nil {
			return fmt.Errorf("alerts.quiet_hours.timezone: unknown time zone %q", tz)
		}
		q.loc = loc
	}
	tz := orDefault(s.Schedule.Timezone, "UTC")
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return fmt.Errorf("schedule.timezone: unknown time zone %q", tz)
	}
	s.Schedule.loc = loc
	if err := s.Text.validate(); err != nil {
		return err
	}
	if err := s.Digest.validate(tz); err != nil {
		return err
	}
	if err := s.NPS.validate(loc); err != nil {
		return err
	}
	if s.Redis.KeyPrefix == "" {
		return errors.New("redis.key_prefix: must not be empty")
	}
	if err := s.Offers.Validate(); err != nil {
		return err
	}
	if err := s.validateLoop(); err != nil {
		return err
	}
	return s.validateRooms()
}

func (c Config) validateEnv() error {
	if (c.SlackBotToken == "") != (c.SlackAppToken == "") {
		return errors.New("SLACK_BOT_TOKEN and SLACK_APP_TOKEN: set both (Socket Mode) or neither (local mode)")
	}
	if c.SlackBotToken != "" && !strings.HasPrefix(c.SlackBotToken, "xoxb-") {
		return errors.New("SLACK_BOT_TOKEN: must be a bot token starting with xoxb-")
	}
	if c.SlackAppToken != "" && !strings.HasPrefix(c.SlackAppToken, "xapp-") {
		return errors.New("SLACK_APP_TOKEN: must be an app-level token starting with xapp- (with connections:write)")
	}
	if u, err := url.Parse(c.SlackAPIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("SLACK_API_URL: not an http(s) URL: %q", c.SlackAPIURL)
	}
	if !strings.HasSuffix(c.SlackAPIURL, "/") {
		return errors.New("SLACK_API_URL: must end with / (method names are appended to it)")
	}
	if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return errors.New("DATABASE_URL: want postgres://user@host:port/db")
	}
	if u, err := url.Parse(c.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
		return errors.New("REDIS_URL: want redis://host:port/db")
	}
	if !strings.Contains(c.HTTPAddr, ":") {
		return fmt.Errorf("HOLDFAST_HTTP_ADDR: want host:port (got %q)", c.HTTPAddr)
	}
	if c.IngestToken != "" && len(c.IngestToken) < 16 {
		return errors.New("HOLDFAST_INGEST_TOKEN: must be at least 16 characters")
	}
	if u := c.LLM.BaseURL; u != "" {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return fmt.Errorf("OPENAI_BASE_URL: not an http(s) URL: %q", u)
		}
	}
	if s := c.StripeWebhookSecret; s != "" && (len(s) < 16 || strings.ContainsAny(s, " \t\r\n")) {
		return errors.New("STRIPE_WEBHOOK_SECRET: must be the endpoint's signing secret (whsec_…), at least 16 characters without spaces")
	}
	if err := c.CRM.validate(); err != nil {
		return err
	}
	if c.Settings.NPS.Webhook.URL != "" && len(c.SurveyWebhookSecret) < 16 {
		return errors.New("HOLDFAST_SURVEY_WEBHOOK_SECRET: at least 16 characters required when nps.survey_webhook.url is set")
	}
	if c.IngestToken == "" && !c.LocalMode() {
		return errors.New("HOLDFAST_INGEST_TOKEN: required when connected to Slack (the ingest API must not be open)")
	}
	return nil
}

func minutes(hhmm string) int {
	return int(hhmm[0]-'0')*600 + int(hhmm[1]-'0')*60 + int(hhmm[3]-'0')*10 + int(hhmm[4]-'0')
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}
