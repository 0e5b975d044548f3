package config

import (
	"strings"
	"testing"
	"time"
)

func TestOffersSection(t *testing.T) {
	t.Parallel()
	s, err := ParseSettings([]byte(`
offers:
  approvals_channel: C0APPROVALS
  approvers:
    csm_manager: {users: [U0MGR]}
    finance: {users: [U0FIN], backup: U0CFO}
    revops: {group: S0REVOPS}
    executive: {users: [U0EXEC]}
    legal: {users: [U0LEGAL]}
  guidelines:
    tiers:
      growth: {max_discount_pct: 20}
`))
	if err != nil {
		t.Fatal(err)
	}
	o := s.Offers
	if !o.Enabled() || o.Approvers["finance"].Backup != "U0CFO" || len(o.Routing) != 2 {
		t.Fatalf("offers = %+v", o)
	}
	// Defaults fill what the file leaves out; a tier entry overrides field by field.
	if g := o.Guidelines.For("growth"); g.MaxDiscountPct != 20 || g.MaxCredit != 25_000 || g.JustificationAbovePct != 15 {
		t.Errorf("growth guideline %+v", g)
	}
	if o.Routing[0].Steps[0].EscalateAfter.Duration != 48*time.Hour {
		t.Errorf("escalate_after default = %s", o.Routing[0].Steps[0].EscalateAfter.Duration)
	}

	// Off by default, and valid.
	if d := DefaultSettings(); d.Offers.Enabled() {
		t.Error("offers on by default")
	}
}

func TestOffersSectionErrorsNameTheKey(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"offers:\n  approvals_channel: approvals\n":                                       "offers.approvals_channel:",
		"offers:\n  approvals_channel: C0APPROVALS\n":                                     "offers.approvers.csm_manager: names no approvers",
		"offers:\n  approvers:\n    finance: {users: [bob]}\n":                            "offers.approvers.finance.users[0]:",
		"offers:\n  routing:\n    - name: x\n      steps: [{role: nope, sla: 1h}]\n":      `offers.routing[0].steps[0].role: no role "nope"`,
		"offers:\n  routing:\n    - name: x\n      steps: [{role: finance, sla: soon}]\n": `invalid duration`,
		"offers:\n  guidelines:\n    default: {max_discount_pct: 120}\n":                  "offers.guidelines.default.max_discount_pct:",
		"offers:\n  aprovals_channel: C1\n":                                               "aprovals_channel",
	}
	for yaml, want := range cases {
		_, err := ParseSettings([]byte(yaml))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", yaml, err, want)
		}
	}
}
