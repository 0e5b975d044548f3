package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestNPSDefaults(t *testing.T) {
	t.Parallel()
	s, err := ParseSettings(nil)
	if err != nil {
		t.Fatal(err)
	}
	n := s.NPS
	if n.Steps.Contact.Duration != 24*time.Hour || n.Steps.ActionPlan.Duration != 72*time.Hour ||
		n.Steps.FollowUp.Duration != 30*24*time.Hour || n.Cadence.QuietPeriod.Duration != 60*24*time.Hour ||
		n.Cadence.ReminderAfter.Duration != 7*24*time.Hour || n.EscalationARR != 100000 || n.Calendar().Enabled() {
		t.Errorf("defaults: %+v", n)
	}
}

func TestNPSSettings(t *testing.T) {
	t.Parallel()
	s, err := ParseSettings([]byte(`
schedule:
  timezone: Europe/Berlin
nps:
  cs_channel: C0CS
  managers:
    U0CSM: U0MGR
  default_manager: U0VP
  executive: U0CEO
  steps:
    contact: 8h
    root_cause: 16h
    action_plan: 3d
  business_hours:
    start: "09:00"
    end: "17:30"
    holidays: ["2027-12-24"]
  cadence:
    quiet_period: 45d
`))
	if err != nil {
		t.Fatal(err)
	}
	n := s.NPS
	if !n.Calendar().Enabled() || n.ManagerOf("U0CSM") != "U0MGR" || n.ManagerOf("U0NEW") != "U0VP" ||
		!n.IsManager("U0MGR") || !n.IsManager("U0VP") || n.IsManager("U0CSM") || n.IsManager("") {
		t.Errorf("settings: %+v", n)
	}
	// Friday 17:00 Berlin + 1h of business time = Monday 09:30.
	berlin, _ := time.LoadLocation("Europe/Berlin")
	got := n.Calendar().Add(time.Date(2027, 3, 5, 17, 0, 0, 0, berlin), time.Hour)
	if want := time.Date(2027, 3, 8, 9, 30, 0, 0, berlin); !got.Equal(want) {
		t.Errorf("business calendar: %s, want %s", got, want)
	}
}

func TestNPSSettingsErrorsNameTheKey(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"nps:\n  cs_channel: general\n":                                                           "nps.cs_channel",
		"nps:\n  managers:\n    bob: U0MGR\n":                                                     "nps.managers",
		"nps:\n  managers:\n    U0CSM: alice\n":                                                   "nps.managers.U0CSM",
		"nps:\n  executive: ceo\n":                                                                "nps.executive",
		"nps:\n  escalation_arr: -1\n":                                                            "nps.escalation_arr",
		"nps:\n  steps:\n    contact: 10s\n":                                                      "nps.steps.contact",
		"nps:\n  steps:\n    contact: 72h\n    root_cause: 48h\n":                                 "nps.steps",
		"nps:\n  business_hours:\n    start: \"9am\"\n    end: \"17:00\"":                         "nps.business_hours",
		"nps:\n  business_hours:\n    start: \"09:00\"\n    end: \"17:00\"\n    days: [funday]\n": "nps.business_hours",
		"nps:\n  cadence:\n    spec: \"every day\"\n":                                             "nps.cadence.spec",
		"nps:\n  cadence:\n    catch_up: 1h\n":                                                    "nps.cadence.catch_up",
		"nps:\n  survey_webhook:\n    url: ftp://x\n":                                             "nps.survey_webhook.url",
		"nps:\n  digest:\n    spec: \"nope\"\n":                                                   "nps.digest.spec",
		"nps:\n  unknown_key: 1\n":                                                                "unknown_key",
	}
	for yaml, key := range cases {
		if _, err := ParseSettings([]byte(yaml)); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%q: error %v, want one naming %s", yaml, err, key)
		}
	}
}

func TestSurveyWebhookNeedsSecret(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, []byte("nps:\n  survey_webhook:\n    url: https://surveys.example/hook\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"HOLDFAST_CONFIG": path}
	if _, err := Load(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "HOLDFAST_SURVEY_WEBHOOK_SECRET") {
		t.Errorf("no secret: %v", err)
	}
	env["HOLDFAST_SURVEY_WEBHOOK_SECRET"] = "0123456789abcdef0123"
	c, err := Load(func(k string) string { return env[k] })
	if err != nil || c.SurveyWebhookSecret != env["HOLDFAST_SURVEY_WEBHOOK_SECRET"] {
		t.Errorf("with secret: %v", err)
	}
}
