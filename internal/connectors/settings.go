package connectors

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/holdfast/holdfast/schedule"
	"github.com/holdfast/holdfast/slackid"
)

// Settings is the YAML "connectors" section: how each tool's records map
// to accounts and which of its events count. Secrets come from the
// environment (Secrets).
type Settings struct {
	// PublicURL is where the tools reach Holdfast (https://holdfast.example.com),
	// as HubSpot and Gong sign it; unset, it is read from the request.
	PublicURL  string             `yaml:"public_url"`
	Zendesk    ToolSettings       `yaml:"zendesk"`
	Intercom   ToolSettings       `yaml:"intercom"`
	HubSpot    HubSpotSettings    `yaml:"hubspot"`
	Salesforce SalesforceSettings `yaml:"salesforce"`
	Segment    SegmentSettings    `yaml:"segment"`
	Gong       ToolSettings       `yaml:"gong"`
	// ReplaySpec retries quarantined events whose key now names an account
	// (an account created since through /v1/accounts with that external
	// or CRM id); "off" turns it off.
	ReplaySpec string `yaml:"replay"`
	// UsageSpec turns finished days of summed usage into usage signals.
	UsageSpec string `yaml:"usage_signals"`
	// Admins see the quarantine in their App Home (Slack user ids).
	Admins []string `yaml:"admins"`
}

// ToolSettings is what every connector has: the key it maps accounts by.
type ToolSettings struct {
	MapBy string `yaml:"map_by"`
}

// HubSpotSettings adds the deal stages that count as won.
type HubSpotSettings struct {
	MapBy     string   `yaml:"map_by"`
	WonStages []string `yaml:"won_stages"` // dealstage values; default closedwon
}

// SalesforceSettings adds the org whose Outbound Messages are accepted.
type SalesforceSettings struct {
	MapBy          string `yaml:"map_by"`
	OrganizationID string `yaml:"organization_id"` // 15 or 18 characters, 00D…
}

// SegmentSettings says what counts as usage.
type SegmentSettings struct {
	MapBy string `yaml:"map_by"`
	// Events are the track event names that count; empty counts every
	// track call.
	Events []string `yaml:"events"`
	// SumProperty sums this numeric property of each counted event
	// instead of counting events (e.g. "minutes").
	SumProperty string `yaml:"sum_property"`
}

// Map keys: what a tool's record carries that names an account.
const (
	KeyExternalID   = "external_id"  // equals the account's external id
	KeyCRMID        = "crm_id"       // equals the account's CRM id (Salesforce Account, HubSpot company)
	KeyEmailDomain  = "email_domain" // the customer's e-mail domain, mapped once
	KeyOrganization = "organization" // a Zendesk organisation id, mapped once
	KeyCompany      = "company"      // an Intercom company id, mapped once
	KeyGroupID      = "group_id"     // a Segment groupId, mapped once
	keyDeal         = "deal"         // a HubSpot deal, linked to its company by HubSpot
	keyUser         = "user"         // a Segment userId, linked to its group by group calls
)

// mapKeys are the keys each tool can map by, the default first.
var mapKeys = map[string][]string{
	Zendesk:    {KeyOrganization, KeyExternalID, KeyEmailDomain},
	Intercom:   {KeyCompany, KeyExternalID, KeyEmailDomain},
	HubSpot:    {KeyCRMID, KeyExternalID},
	Salesforce: {KeyCRMID, KeyExternalID},
	Segment:    {KeyGroupID, KeyExternalID},
	Gong:       {KeyCRMID, KeyEmailDomain},
}

// DefaultSettings are the connectors' defaults.
func DefaultSettings() Settings {
	return Settings{
		Zendesk:    ToolSettings{MapBy: KeyOrganization},
		Intercom:   ToolSettings{MapBy: KeyCompany},
		HubSpot:    HubSpotSettings{MapBy: KeyCRMID, WonStages: []string{"closedwon"}},
		Salesforce: SalesforceSettings{MapBy: KeyCRMID},
		Segment:    SegmentSettings{MapBy: KeyGroupID},
		Gong:       ToolSettings{MapBy: KeyCRMID},
		ReplaySpec: "@every 1m",
		UsageSpec:  "@every 1h",
	}
}

var (
	sfOrgID      = regexp.MustCompile(`^00D[A-Za-z0-9]{12}([A-Za-z0-9]{3})?$`)
	propertyName = regexp.MustCompile(`^[A-Za-z0-9_.$-]{1,100}$`)
)

// Validate checks the section; an error names the key at fault.
func (s *Settings) Validate() error {
	if s.PublicURL != "" {
		u, err := url.Parse(s.PublicURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return fmt.Errorf("connectors.public_url: want the scheme and host Holdfast is reached at, e.g. https://holdfast.example.com (got %q)", s.PublicURL)
		}
		s.PublicURL = strings.TrimSuffix(s.PublicURL, "/")
	}
	for _, t := range []struct {
		tool  string
		mapBy string
	}{{Zendesk, s.Zendesk.MapBy}, {Intercom, s.Intercom.MapBy}, {HubSpot, s.HubSpot.MapBy},
		{Salesforce, s.Salesforce.MapBy}, {Segment, s.Segment.MapBy}, {Gong, s.Gong.MapBy}} {
		if !slices.Contains(mapKeys[t.tool], t.mapBy) {
			return fmt.Errorf("connectors.%s.map_by: must be one of %s (got %q)", t.tool, strings.Join(mapKeys[t.tool], ", "), t.mapBy)
		}
	}
	for _, j := range []struct{ key, spec string }{{"replay", s.ReplaySpec}, {"usage_signals", s.UsageSpec}} {
		if err := schedule.Validate(j.spec); err != nil {
			return fmt.Errorf("connectors.%s: %q: %w", j.key, j.spec, err)
		}
	}
	for i, u := range s.Admins {
		if !slackid.User(u) {
			return fmt.Errorf("connectors.admins[%d]: %q is not a Slack user id", i, u)
		}
	}
	if len(s.HubSpot.WonStages) == 0 {
		return errors.New("connectors.hubspot.won_stages: name at least one deal stage (HubSpot's default is closedwon)")
	}
	for i, st := range s.HubSpot.WonStages {
		if strings.TrimSpace(st) == "" || len(st) > 100 {
			return fmt.Errorf("connectors.hubspot.won_stages[%d]: must be a deal stage id (got %q)", i, st)
		}
	}
	if id := s.Salesforce.OrganizationID; id != "" && !sfOrgID.MatchString(id) {
		return fmt.Errorf("connectors.salesforce.organization_id: %q is not a Salesforce organisation id (00D…, 15 or 18 characters)", id)
	}
	for i, e := range s.Segment.Events {
		if strings.TrimSpace(e) == "" || len(e) > 200 {
			return fmt.Errorf("connectors.segment.events[%d]: must be a track event name (got %q)", i, e)
		}
	}
	if p := s.Segment.SumProperty; p != "" && !propertyName.MatchString(p) {
		return fmt.Errorf("connectors.segment.sum_property: %q is not a property name", p)
	}
	return nil
}

// Secrets are the connectors' credentials, from the environment; a tool
// without its variable is off (its URL answers 404). Never logged.
type Secrets struct {
	ZendeskSecret     string         // ZENDESK_WEBHOOK_SECRET: the webhook's signing secret
	IntercomSecret    string         // INTERCOM_CLIENT_SECRET: the app's client secret
	HubSpotSecret     string         // HUBSPOT_CLIENT_SECRET: the app's client secret
	SegmentSecret     string         // SEGMENT_WEBHOOK_SECRET: the destination's shared secret
	GongPublicKey     *rsa.PublicKey // GONG_WEBHOOK_PUBLIC_KEY: the rule's public key (PEM)
	SalesforceToken   string         // SALESFORCE_OUTBOUND_TOKEN: the token= query parameter of the endpoint URL
	SalesforceEnabled bool
}

// String never shows a secret.
func (s Secrets) String() string { return "connector secrets (hidden)" }

// LoadSecrets reads and checks the connectors' environment variables.
// salesforceOrg is connectors.salesforce.organization_id, which turns the
// Salesforce endpoint on.
func LoadSecrets(getenv func(string) string, salesforceOrg string) (Secrets, error) {
	s := Secrets{
		ZendeskSecret: getenv("ZENDESK_WEBHOOK_SECRET"), IntercomSecret: getenv("INTERCOM_CLIENT_SECRET"),
		HubSpotSecret: getenv("HUBSPOT_CLIENT_SECRET"), SegmentSecret: getenv("SEGMENT_WEBHOOK_SECRET"),
		SalesforceToken: getenv("SALESFORCE_OUTBOUND_TOKEN"), SalesforceEnabled: salesforceOrg != "",
	}
	for _, v := range []struct{ name, val string }{
		{"ZENDESK_WEBHOOK_SECRET", s.ZendeskSecret}, {"INTERCOM_CLIENT_SECRET", s.IntercomSecret},
		{"HUBSPOT_CLIENT_SECRET", s.HubSpotSecret}, {"SEGMENT_WEBHOOK_SECRET", s.SegmentSecret},
		{"SALESFORCE_OUTBOUND_TOKEN", s.SalesforceToken},
	} {
		if v.val != "" && (len(v.val) < 8 || strings.ContainsAny(v.val, " \t\r\n")) {
			return Secrets{}, fmt.Errorf("%s: must be the tool's secret, at least 8 characters without spaces", v.name)
		}
	}
	if s.SalesforceToken != "" && !s.SalesforceEnabled {
		return Secrets{}, errors.New("SALESFORCE_OUTBOUND_TOKEN: set connectors.salesforce.organization_id too")
	}
	if raw := getenv("GONG_WEBHOOK_PUBLIC_KEY"); raw != "" {
		key, err := ParseRSAPublicKey(raw)
		if err != nil {
			return Secrets{}, fmt.Errorf("GONG_WEBHOOK_PUBLIC_KEY: %w", err)
		}
		s.GongPublicKey = key
	}
	return s, nil
}

// ParseRSAPublicKey reads a PEM public key (PKIX or PKCS#1), or its
// base64 body alone as Gong's settings page shows it.
func ParseRSAPublicKey(raw string) (*rsa.PublicKey, error) {
	raw = strings.TrimSpace(raw)
	if !strings.HasPrefix(raw, "-----BEGIN") {
		raw = "-----BEGIN PUBLIC KEY-----\n" + raw + "\n-----END PUBLIC KEY-----"
	}
	block, _ := pem.Decode([]byte(raw))
	if block == nil {
		return nil, errors.New("not a PEM public key")
	}
	if k, err := x509.ParsePKIXPublicKey(block.Bytes); err == nil {
		if rk, ok := k.(*rsa.PublicKey); ok {
			return rk, nil
		}
		return nil, errors.New("not an RSA key (Gong signs with RS256)")
	}
	k, err := x509.ParsePKCS1PublicKey(block.Bytes)
	if err != nil {
		return nil, errors.New("not a PEM public key")
	}
	return k, nil
}
