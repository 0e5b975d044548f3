// Package config reads Holdfast's settings from the environment and one YAML
// file, and refuses to start on anything it cannot use: every error names the
// variable or YAML key at fault.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/holdfast/holdfast/internal/access"
	"github.com/holdfast/holdfast/internal/churn"
	"github.com/holdfast/holdfast/internal/connectors"
	"github.com/holdfast/holdfast/internal/crm"
	"github.com/holdfast/holdfast/internal/digest"
	"github.com/holdfast/holdfast/internal/dunning"
	"github.com/holdfast/holdfast/internal/healthmodel"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/internal/nps"
	"github.com/holdfast/holdfast/internal/offers"
	"github.com/holdfast/holdfast/internal/playbook"
	"github.com/holdfast/holdfast/internal/rooms"
	"github.com/holdfast/holdfast/internal/textsignals"
	"github.com/holdfast/holdfast/llm"
	"github.com/holdfast/holdfast/schedule"
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
	// Connectors are the tools' webhook secrets (ZENDESK_WEBHOOK_SECRET,
	// INTERCOM_CLIENT_SECRET, HUBSPOT_CLIENT_SECRET, SEGMENT_WEBHOOK_SECRET,
	// GONG_WEBHOOK_PUBLIC_KEY, SALESFORCE_OUTBOUND_TOKEN); never logged.
	Connectors connectors.Secrets

	Settings Settings
}

// LocalMode is true when no Slack tokens are set: the bot then talks to the
// in-process fake workspace.
func (c Config) LocalMode() bool { return c.SlackBotToken == "" && c.SlackAppToken == "" }

// Settings is the YAML file (HOLDFAST_CONFIG): one section per concept,
// each defined, defaulted and validated by the package that owns it.
type Settings struct {
	Alerts   ingest.AlertSettings `yaml:"alerts"`
	Scoring  scoring.Config       `yaml:"scoring"`
	Redis    RedisSettings        `yaml:"redis"`
	Schedule schedule.Settings    `yaml:"schedule"`
	Text     textsignals.Settings `yaml:"text"`
	Digest   digest.Settings      `yaml:"digest"`
	Offers   offers.Settings      `yaml:"offers"`
	NPS      nps.Settings         `yaml:"nps"`
	Churn    churn.Settings       `yaml:"churn"`
	Dunning  dunning.Settings     `yaml:"dunning"`
	Rooms    rooms.Settings       `yaml:"rooms"`
	CRM      crm.Settings         `yaml:"crm"`
	Roles    access.Settings      `yaml:"roles"`

	Connectors connectors.Settings  `yaml:"connectors"`
	Model      healthmodel.Settings `yaml:"model"`
	Playbook   playbook.Settings    `yaml:"playbook"`

	// The weekly win-back list is part of the churn module, with a section
	// of its own.
	Winback churn.WinbackSettings `yaml:"winback"`
}

// RedisSettings tunes how Holdfast uses Redis.
type RedisSettings struct {
	KeyPrefix string `yaml:"key_prefix"` // lets several deployments (or tests) share one Redis
}

// DefaultSettings are used for every key the YAML file leaves out.
func DefaultSettings() Settings {
	return Settings{
		Alerts:  ingest.DefaultAlertSettings(),
		Scoring: scoring.DefaultConfig(),
		Redis:   RedisSettings{KeyPrefix: "holdfast:"},
		Text:    textsignals.DefaultSettings(),
		Digest:  digest.DefaultSettings(),
		Offers:  offers.DefaultSettings(),
		NPS:     nps.DefaultSettings(),
		Churn:   churn.DefaultSettings(),
		Dunning: dunning.DefaultSettings(),
		Winback: churn.DefaultWinbackSettings(),
		Rooms:   rooms.DefaultSettings(),
		CRM:     crm.DefaultSettings(),
		Roles:   access.DefaultSettings(),

		Connectors: connectors.DefaultSettings(),
		Model:      healthmodel.DefaultSettings(),
		Playbook:   playbook.DefaultSettings(),
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
	secrets, err := connectors.LoadSecrets(getenv, c.Settings.Connectors.Salesforce.OrganizationID)
	if err != nil {
		return Config{}, err
	}
	c.Connectors = secrets
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

func (s *Settings) validate() error {
	if err := s.Scoring.Validate(); err != nil {
		// Every scoring problem at once, on the one line a start failure gets.
		return errors.New(strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	if err := s.Alerts.Validate(); err != nil {
		return fmt.Errorf("alerts.%w", err)
	}
	if err := s.Schedule.Resolve(); err != nil {
		return fmt.Errorf("schedule.%w", err)
	}
	loc := s.Schedule.Location()
	for _, v := range []func() error{
		s.Text.Validate,
		func() error { return s.Digest.Validate(loc.String()) },
		func() error { return s.NPS.Validate(loc) },
		func() error {
			if s.Redis.KeyPrefix == "" {
				return errors.New("redis.key_prefix: must not be empty")
			}
			return nil
		},
		s.Offers.Validate,
		s.Churn.Validate,
		s.Dunning.Validate,
		s.Winback.Validate,
		s.Rooms.Validate,
		func() error { return s.CRM.Validate(rooms.NoteKinds) },
		s.Roles.Validate,
		s.Connectors.Validate,
		s.Model.Validate,
		func() error { return s.Playbook.Validate(loc) },
	} {
		if err := v(); err != nil {
			return err
		}
	}
	return nil
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

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}
