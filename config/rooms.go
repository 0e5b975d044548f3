package config

import (
	"errors"
	"fmt"
	"github.com/holdfast/holdfast/slackid"
	"net"
	"net/url"
	"regexp"
	"slices"

	"github.com/holdfast/holdfast/rooms"
)

// RoomSettings configure account rooms (YAML "rooms").
type RoomSettings struct {
	// ChannelPattern names a new room: {name}, {external_id}, {segment},
	// {tier}; the result is folded to Slack's channel-name rules.
	ChannelPattern string   `yaml:"channel_pattern"`
	Private        bool     `yaml:"private"` // create private channels
	Invite         []string `yaml:"invite"`  // Slack user ids invited to every room
	Admins         []string `yaml:"admins"`  // may /room link any account
	// Summarize lists the signal kinds whose text becomes a note with a
	// summary on the timeline and in the room.
	Summarize []string `yaml:"summarize"`
}

// CRMSettings configure CRM write-back (YAML "crm"); credentials come from
// the environment (CRMEnv).
type CRMSettings struct {
	WriteBack  []string           `yaml:"write_back"`  // note kinds written to the CRM
	NoteObject string             `yaml:"note_object"` // task (default) or note
	Salesforce SalesforceSettings `yaml:"salesforce"`
}

// SalesforceSettings are the connector's non-secret options.
type SalesforceSettings struct {
	APIVersion      string `yaml:"api_version"`       // default v60.0
	ExternalIDField string `yaml:"external_id_field"` // e.g. Holdfast_Key__c: upsert by it
	CaseOrigin      string `yaml:"case_origin"`       // Case.Origin picklist value, optional
}

// CRMEnv is the CRM's connection and secrets, from the environment:
// SALESFORCE_INSTANCE_URL, SALESFORCE_TOKEN_URL, SALESFORCE_CLIENT_ID,
// SALESFORCE_CLIENT_SECRET, SALESFORCE_ACCESS_TOKEN and
// HOLDFAST_CRM_WEBHOOK_SECRET. Never logged.
type CRMEnv struct {
	InstanceURL   string
	TokenURL      string
	ClientID      string
	ClientSecret  string
	AccessToken   string
	WebhookSecret string
}

// Enabled reports whether CRM write-back is configured.
func (c CRMEnv) Enabled() bool { return c.InstanceURL != "" }

// String never shows a secret.
func (c CRMEnv) String() string {
	return fmt.Sprintf("salesforce instance %q (credentials hidden)", c.InstanceURL)
}

// noteKinds are the kinds a note can have: typed in Slack, or ingested
// conversation.
var noteKinds = []string{"note", "call_note", "ticket", "email", "meeting", "slack_message"}

func defaultRooms() RoomSettings {
	return RoomSettings{ChannelPattern: rooms.DefaultChannelPattern, Summarize: []string{"call_note", "ticket", "email", "meeting"}}
}

func defaultCRM() CRMSettings {
	return CRMSettings{WriteBack: []string{"note", "call_note", "email", "meeting"}, NoteObject: "task"}
}

var (
	apiVersion  = regexp.MustCompile(`^v\d{2,3}\.\d$`)
	sfFieldName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,39}$`)
)

func (s *Settings) validateRooms() error {
	r := &s.Rooms
	if err := rooms.ValidatePattern(r.ChannelPattern); err != nil {
		return fmt.Errorf("rooms.channel_pattern: %w", err)
	}
	// In YAML order, so the same file always names the same first problem.
	for _, l := range []struct {
		key  string
		list []string
	}{{"invite", r.Invite}, {"admins", r.Admins}} {
		for i, u := range l.list {
			if !slackid.User(u) {
				return fmt.Errorf("rooms.%s[%d]: %q is not a Slack user id (like U0123ABCD)", l.key, i, u)
			}
		}
	}
	for i, k := range r.Summarize {
		if k == "note" || !slices.Contains(noteKinds, k) {
			return fmt.Errorf("rooms.summarize[%d]: %q is not a signal kind with text (call_note, ticket, email, meeting, slack_message)", i, k)
		}
	}
	c := &s.CRM
	for i, k := range c.WriteBack {
		if !slices.Contains(noteKinds, k) {
			return fmt.Errorf("crm.write_back[%d]: %q is not a note kind (note, call_note, ticket, email, meeting, slack_message)", i, k)
		}
	}
	if c.NoteObject != "task" && c.NoteObject != "note" {
		return fmt.Errorf("crm.note_object: must be task or note (got %q)", c.NoteObject)
	}
	sf := c.Salesforce
	if sf.APIVersion != "" && !apiVersion.MatchString(sf.APIVersion) {
		return fmt.Errorf("crm.salesforce.api_version: want like v60.0 (got %q)", sf.APIVersion)
	}
	if sf.ExternalIDField != "" && !sfFieldName.MatchString(sf.ExternalIDField) {
		return fmt.Errorf("crm.salesforce.external_id_field: %q is not a Salesforce field name", sf.ExternalIDField)
	}
	if len(sf.CaseOrigin) > 40 {
		return errors.New("crm.salesforce.case_origin: longer than 40 characters")
	}
	return nil
}

func loadCRMEnv(getenv Getenv) CRMEnv {
	return CRMEnv{
		InstanceURL: getenv("SALESFORCE_INSTANCE_URL"), TokenURL: getenv("SALESFORCE_TOKEN_URL"),
		ClientID: getenv("SALESFORCE_CLIENT_ID"), ClientSecret: getenv("SALESFORCE_CLIENT_SECRET"),
		AccessToken: getenv("SALESFORCE_ACCESS_TOKEN"), WebhookSecret: getenv("HOLDFAST_CRM_WEBHOOK_SECRET"),
	}
}

func (c CRMEnv) validate() error {
	if c.WebhookSecret != "" && len(c.WebhookSecret) < 16 {
		return errors.New("HOLDFAST_CRM_WEBHOOK_SECRET: must be at least 16 characters")
	}
	if c.InstanceURL == "" {
		if c.ClientID != "" || c.ClientSecret != "" || c.AccessToken != "" || c.TokenURL != "" {
			return errors.New("SALESFORCE_INSTANCE_URL: required when other SALESFORCE_* variables are set")
		}
		return nil
	}
	for _, e := range [][2]string{{"SALESFORCE_INSTANCE_URL", c.InstanceURL}, {"SALESFORCE_TOKEN_URL", c.TokenURL}} {
		name, v := e[0], e[1]
		if v == "" {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname()))) {
			return fmt.Errorf("%s: want an https URL (got %q)", name, v)
		}
	}
	hasClient := c.ClientID != "" || c.ClientSecret != ""
	switch {
	case c.AccessToken != "" && hasClient:
		return errors.New("SALESFORCE_ACCESS_TOKEN: set it or SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET, not both")
	case c.AccessToken == "" && (c.ClientID == "" || c.ClientSecret == ""):
		return errors.New("SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET: set both (or SALESFORCE_ACCESS_TOKEN) with SALESFORCE_INSTANCE_URL")
	}
	return nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
