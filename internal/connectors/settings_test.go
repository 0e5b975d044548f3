package connectors

import (
	"strings"
	"testing"
)

func TestSettingsValidateNamesTheKey(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		edit  func(*Settings)
		error string // "" = valid
	}{
		{"defaults", func(*Settings) {}, ""},
		{"public url", func(s *Settings) { s.PublicURL = "https://holdfast.example.com/" }, ""},
		{"public url with a path", func(s *Settings) { s.PublicURL = "https://x.example/hooks" }, "connectors.public_url"},
		{"zendesk by domain", func(s *Settings) { s.Zendesk.MapBy = KeyEmailDomain }, ""},
		{"zendesk by group", func(s *Settings) { s.Zendesk.MapBy = KeyGroupID }, "connectors.zendesk.map_by: must be one of organization, external_id, email_domain"},
		{"segment by company", func(s *Settings) { s.Segment.MapBy = KeyCompany }, "connectors.segment.map_by"},
		{"no won stages", func(s *Settings) { s.HubSpot.WonStages = nil }, "connectors.hubspot.won_stages"},
		{"blank won stage", func(s *Settings) { s.HubSpot.WonStages = []string{" "} }, "connectors.hubspot.won_stages[0]"},
		{"org id", func(s *Settings) { s.Salesforce.OrganizationID = "00D000000000062EAA" }, ""},
		{"bad org id", func(s *Settings) { s.Salesforce.OrganizationID = "001000000000062" }, "connectors.salesforce.organization_id"},
		{"blank event", func(s *Settings) { s.Segment.Events = []string{""} }, "connectors.segment.events[0]"},
		{"bad property", func(s *Settings) { s.Segment.SumProperty = "a b" }, "connectors.segment.sum_property"},
		{"replay off", func(s *Settings) { s.ReplaySpec = "off" }, ""},
		{"bad usage spec", func(s *Settings) { s.UsageSpec = "hourly" }, "connectors.usage_signals"},
		{"admins", func(s *Settings) { s.Admins = []string{"U0ADMIN"} }, ""},
		{"bad admin", func(s *Settings) { s.Admins = []string{"bob"} }, "connectors.admins[0]"},
	}
	for _, c := range cases {
		s := DefaultSettings()
		c.edit(&s)
		err := s.Validate()
		switch {
		case c.error == "" && err != nil:
			t.Errorf("%s: %v, want valid", c.name, err)
		case c.error != "" && (err == nil || !strings.Contains(err.Error(), c.error)):
			t.Errorf("%s: %v, want an error naming %q", c.name, err, c.error)
		}
	}
}

func TestLoadSecretsNamesTheVariableNotTheValue(t *testing.T) {
	t.Parallel()
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if _, err := LoadSecrets(env(map[string]string{"ZENDESK_WEBHOOK_SECRET": "short"}), ""); err == nil ||
		!strings.Contains(err.Error(), "ZENDESK_WEBHOOK_SECRET") || strings.Contains(err.Error(), "short") {
		t.Errorf("short secret: %v", err)
	}
	if _, err := LoadSecrets(env(map[string]string{"GONG_WEBHOOK_PUBLIC_KEY": "not a key"}), ""); err == nil ||
		!strings.Contains(err.Error(), "GONG_WEBHOOK_PUBLIC_KEY") {
		t.Errorf("bad key: %v", err)
	}
	if _, err := LoadSecrets(env(map[string]string{"SALESFORCE_OUTBOUND_TOKEN": "token-0123456"}), ""); err == nil ||
		!strings.Contains(err.Error(), "organization_id") {
		t.Errorf("token without org: %v", err)
	}
	s, err := LoadSecrets(env(map[string]string{"SEGMENT_WEBHOOK_SECRET": "sg-secret-0123"}), "")
	if err != nil || s.SegmentSecret == "" || strings.Contains(s.String(), "sg-secret") {
		t.Errorf("valid: %+v %v", s, err)
	}
}

func TestPlainTextAndDomains(t *testing.T) {
	t.Parallel()
	if got := plainText("<p>Our dashboards &amp; exports</p><p>are <b>empty</b>.</p>"); got != "Our dashboards & exports\nare empty." {
		t.Errorf("plainText = %q", got)
	}
	for in, want := range map[string]string{"Dana@Acme.Example": "acme.example", "nobody": "", "x@": ""} {
		if got := emailDomain(in); got != want {
			t.Errorf("emailDomain(%q) = %q, want %q", in, got, want)
		}
	}
}
