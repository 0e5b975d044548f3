package config

import (
	"strings"
	"testing"
	"time"

	"github.com/holdfast/holdfast/internal/churn"
)

func TestLoopSettings(t *testing.T) {
	t.Parallel()
	s, err := ParseSettings([]byte(`
churn:
  admins: [U0ADMIN]
  debrief_channel: C0DEBRIEF
  checkin_after: 14d
dunning:
  escalate_arr: 100000
  escalate_to: [U0LEAD]
  soft_retry_days: [2, 4]
  update_card_url: https://billing.example.com/card
winback:
  dormant_after: 45d
  windows:
    pricing: 60d
    competitive_loss: never
`))
	if err != nil {
		t.Fatal(err)
	}
	if s.Churn.CheckinAfter.Duration != 14*24*time.Hour || s.Dunning.EscalateARR != 100000 || s.Winback.DormantAfter.Duration != 45*24*time.Hour {
		t.Errorf("settings %+v", s)
	}
	days := s.Winback.WinbackDays()
	// Overrides merge into the defaults: business change keeps its 180 days.
	if days[churn.Pricing] != 60 || days[churn.CompetitiveLoss] != -1 || days[churn.BusinessChange] != 180 || days[churn.ICPMiss] != -1 {
		t.Errorf("windows %v", days)
	}
	if s.Churn.LookalikeMinMatch != 3 || s.Churn.Audit.MinRecords != 4 {
		t.Errorf("defaults lost: %+v", s.Churn)
	}

	for _, tc := range []struct{ yaml, want string }{
		{"churn:\n  admins: [alice]\n", "churn.admins[0]"},
		{"churn:\n  debrief_channel: general\n", "churn.debrief_channel"},
		{"churn:\n  checkin_after: 36h\n", "churn.checkin_after"},
		{"churn:\n  lookalike_min_match: 5\n", "churn.lookalike_min_match"},
		{"churn:\n  audit:\n    catch_all_share: 1.5\n", "churn.audit.catch_all_share"},
		{"dunning:\n  escalate_arr: -1\n", "dunning.escalate_arr"},
		{"dunning:\n  escalate_to: [lead]\n", "dunning.escalate_to[0]"},
		{"dunning:\n  soft_retry_days: [5, 3]\n", "dunning.soft_retry_days[1]"},
		{"dunning:\n  update_card_url: http://insecure.example\n", "dunning.update_card_url"},
		{"winback:\n  windows:\n    icp_miss: 30d\n", "winback.windows.icp_miss: must be never"},
		{"winback:\n  windows:\n    vibes: 30d\n", "winback.windows.vibes: not a churn root cause"},
		{"winback:\n  windows:\n    pricing: soon\n", "want a number of days"},
		{"winback:\n  windows:\n    pricing: 12h\n", "winback.windows.pricing"},
		{"winback:\n  dormant_after: 0d\n", "winback.dormant_after"},
	} {
		_, err := ParseSettings([]byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one naming %q", tc.yaml, err, tc.want)
		}
	}
}

func TestStripeSecret(t *testing.T) {
	t.Parallel()
	env := map[string]string{"STRIPE_WEBHOOK_SECRET": "short"}
	if _, err := Load(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "STRIPE_WEBHOOK_SECRET") {
		t.Errorf("short secret: %v", err)
	}
	env["STRIPE_WEBHOOK_SECRET"] = "whsec_0123456789abcdef"
	c, err := Load(func(k string) string { return env[k] })
	if err != nil || c.StripeWebhookSecret != "whsec_0123456789abcdef" {
		t.Errorf("good secret: %v", err)
	}
}
