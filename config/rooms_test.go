package config

import (
	"strings"
	"testing"
)

func TestRoomAndCRMSettings(t *testing.T) {
	t.Parallel()
	s, err := ParseSettings([]byte("rooms:\n  channel_pattern: cs-{segment}-{name}\n  invite: [U0LEAD]\n  admins: [W0ADMIN]\n" +
		"crm:\n  note_object: note\n  write_back: [note, call_note]\n  salesforce:\n    api_version: v61.0\n    external_id_field: Holdfast_Key__c\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Rooms.ChannelPattern != "cs-{segment}-{name}" || s.Rooms.Invite[0] != "U0LEAD" || s.CRM.NoteObject != "note" ||
		len(s.Rooms.Summarize) != 4 || s.CRM.Salesforce.ExternalIDField != "Holdfast_Key__c" {
		t.Fatalf("settings %+v %+v", s.Rooms, s.CRM)
	}
	for yaml, want := range map[string]string{
		"rooms:\n  channel_pattern: \"{segment}\"\n":            "rooms.channel_pattern: needs {name}",
		"rooms:\n  invite: [bob]\n":                             "rooms.invite[0]: \"bob\" is not a Slack user id",
		"rooms:\n  summarize: [usage]\n":                        "rooms.summarize[0]",
		"crm:\n  write_back: [nps]\n":                           "crm.write_back[0]",
		"crm:\n  note_object: event\n":                          "crm.note_object",
		"crm:\n  salesforce:\n    api_version: \"60\"\n":        "crm.salesforce.api_version",
		"crm:\n  salesforce:\n    external_id_field: \"a b\"\n": "crm.salesforce.external_id_field",
		"rooms:\n  chanel_pattern: x-{name}\n":                  `unknown key "chanel_pattern"`,
	} {
		if _, err := ParseSettings([]byte(yaml)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", yaml, err, want)
		}
	}
}

func TestCRMEnv(t *testing.T) {
	t.Parallel()
	base := map[string]string{"HOLDFAST_INGEST_TOKEN": "0123456789abcdef0123"}
	load := func(extra map[string]string) (Config, error) {
		env := map[string]string{}
		for k, v := range base {
			env[k] = v
		}
		for k, v := range extra {
			env[k] = v
		}
		return Load(func(k string) string { return env[k] })
	}
	c, err := load(nil)
	if err != nil || c.CRM.Enabled() {
		t.Fatalf("no CRM: %+v %v", c.CRM, err)
	}
	c, err = load(map[string]string{"SALESFORCE_INSTANCE_URL": "https://acme.my.salesforce.com",
		"SALESFORCE_CLIENT_ID": "id", "SALESFORCE_CLIENT_SECRET": "very-secret-value"})
	if err != nil || !c.CRM.Enabled() {
		t.Fatalf("client credentials: %v", err)
	}
	if strings.Contains(c.CRM.String(), "very-secret-value") || strings.Contains(c.CRM.String(), "id\"") {
		t.Fatalf("String() shows credentials: %s", c.CRM)
	}
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"secret without instance": {map[string]string{"SALESFORCE_CLIENT_SECRET": "x"}, "SALESFORCE_INSTANCE_URL: required"},
		"instance without auth":   {map[string]string{"SALESFORCE_INSTANCE_URL": "https://a.my.salesforce.com"}, "SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET"},
		"both auths": {map[string]string{"SALESFORCE_INSTANCE_URL": "https://a.my.salesforce.com", "SALESFORCE_ACCESS_TOKEN": "t",
			"SALESFORCE_CLIENT_ID": "i", "SALESFORCE_CLIENT_SECRET": "s"}, "not both"},
		"plain http":           {map[string]string{"SALESFORCE_INSTANCE_URL": "http://acme.example.com", "SALESFORCE_ACCESS_TOKEN": "t"}, "want an https URL"},
		"short webhook secret": {map[string]string{"HOLDFAST_CRM_WEBHOOK_SECRET": "short"}, "HOLDFAST_CRM_WEBHOOK_SECRET"},
	} {
		if _, err := load(tc.env); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	if _, err := load(map[string]string{"SALESFORCE_INSTANCE_URL": "http://127.0.0.1:8443", "SALESFORCE_ACCESS_TOKEN": "t"}); err != nil {
		t.Errorf("loopback http (tests, tunnels): %v", err)
	}
}
