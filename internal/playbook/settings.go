package playbook

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/holdfast/holdfast/schedule"
	"github.com/holdfast/holdfast/slackid"
)

// Settings is the `playbook:` section: the response SLA after a churn-risk
// alert, the intervention steps a team records in the alert's thread, and
// when an account counts as recovered.
type Settings struct {
	// NudgeAfter: an at-risk or critical alert still unclaimed this long
	// after it was due in Slack nudges the account's owner in its thread.
	NudgeAfter schedule.Duration `yaml:"nudge_after"`
	// ClaimWithin is the response SLA: still unclaimed, the owner's manager
	// is mentioned. Both count business time when business_hours is set.
	ClaimWithin schedule.Duration `yaml:"claim_within"`
	// RecoveredAfter: health at or above the at-risk line this long in a
	// row closes the playbook as recovered.
	RecoveredAfter schedule.Duration `yaml:"recovered_after"`
	// CheckinEvery is how often a claimed playbook's thread is reminded of
	// its check-in, with the score's move since the last one.
	CheckinEvery  schedule.Duration              `yaml:"checkin_every"`
	BusinessHours schedule.BusinessHoursSettings `yaml:"business_hours"`
	// EscalateTo is mentioned instead of a manager when roles name none
	// for the owner (roles.managers); "" = nobody.
	EscalateTo string `yaml:"escalate_to"`
	// Steps are the intervention, in the order the thread lists them.
	Steps []Step `yaml:"steps"`
	// Jobs is the cron spec of the watcher: nudges, escalations,
	// overdue steps, check-ins and recoveries. "off" disables it.
	Jobs string `yaml:"jobs"`
	// Chart is when the monthly at-risk ARR chart goes to the weekly
	// digest channels ("off" disables); the weekly figures are the
	// digest's Saves section.
	Chart string `yaml:"chart"`

	calendar schedule.BusinessHours
}

// A Step is one thing the intervention records: a click or a form.
type Step struct {
	Key   string `yaml:"key"`
	Label string `yaml:"label"`
	// Due is the deadline after the claim; 0 = none. An overdue step
	// reminds the owner in the thread once.
	Due schedule.Duration `yaml:"due"`
	// Form is what recording asks for: none (a click), notes, discovery
	// (root cause from the churn taxonomy and notes), plan (actions with
	// owners and due dates, resources asked for) or checkin (notes).
	Form string `yaml:"form"`
	// Contact: recording this step is the first contact with the customer.
	Contact bool `yaml:"contact"`
	// Who may record it: owner (the claimant or the account's CSM),
	// manager (theirs, from roles.managers) and leadership. Default all three.
	Who []string `yaml:"who"`
}

// Step forms.
const (
	FormNone      = "none"
	FormNotes     = "notes"
	FormDiscovery = "discovery"
	FormPlan      = "plan"
	FormCheckin   = "checkin"
)

// Who may record a step.
const (
	WhoOwner      = "owner"
	WhoManager    = "manager"
	WhoLeadership = "leadership"
)

var forms = []string{FormNone, FormNotes, FormDiscovery, FormPlan, FormCheckin}

// Resources a plan may ask for; a discount opens /offer prefilled.
var Resources = []struct{ Key, Label string }{
	{"exec_sponsor", "Executive sponsor"},
	{"support_engineer", "Support engineer"},
	{"discount", "Discount (opens an offer)"},
}

// DefaultSettings follow the procedures: a response within 4 hours
// (nudged at 2), contact within 48 hours, discovery and a plan within the
// week, weekly check-ins, recovered after 14 days above the line.
func DefaultSettings() Settings {
	all := []string{WhoOwner, WhoManager, WhoLeadership}
	return Settings{
		NudgeAfter:     schedule.Duration{Duration: 2 * time.Hour},
		ClaimWithin:    schedule.Duration{Duration: 4 * time.Hour},
		RecoveredAfter: schedule.Duration{Duration: 14 * 24 * time.Hour},
		CheckinEvery:   schedule.Duration{Duration: 7 * 24 * time.Hour},
		Steps: []Step{
			{Key: "contacted", Label: "Contacted", Due: schedule.Duration{Duration: 48 * time.Hour}, Form: FormNone, Contact: true, Who: all},
			{Key: "discovery", Label: "Discovery", Due: schedule.Duration{Duration: 5 * 24 * time.Hour}, Form: FormDiscovery, Who: all},
			{Key: "plan", Label: "Plan", Due: schedule.Duration{Duration: 7 * 24 * time.Hour}, Form: FormPlan, Who: all},
			{Key: "checkin", Label: "Weekly check-in", Form: FormCheckin, Who: all},
		},
		Jobs:  "*/5 * * * *",
		Chart: "0 9 1 * *",
	}
}

// Validate checks the section; business hours count in loc
// (schedule.timezone). An error names the key at fault.
func (s *Settings) Validate(loc *time.Location) error {
	for _, d := range []struct {
		key string
		v   time.Duration
		min time.Duration
	}{{"nudge_after", s.NudgeAfter.Duration, time.Minute}, {"claim_within", s.ClaimWithin.Duration, time.Minute},
		{"recovered_after", s.RecoveredAfter.Duration, time.Hour}, {"checkin_every", s.CheckinEvery.Duration, time.Hour}} {
		if d.v < d.min {
			return fmt.Errorf("playbook.%s: must be at least %s (got %s)", d.key, d.min, d.v)
		}
	}
	if s.NudgeAfter.Duration >= s.ClaimWithin.Duration {
		return fmt.Errorf("playbook.nudge_after (%s) must be shorter than playbook.claim_within (%s)", s.NudgeAfter.Duration, s.ClaimWithin.Duration)
	}
	if s.EscalateTo != "" && !slackid.User(s.EscalateTo) {
		return fmt.Errorf("playbook.escalate_to: %q is not a Slack user id (like U0123ABCD)", s.EscalateTo)
	}
	if len(s.Steps) == 0 {
		return fmt.Errorf("playbook.steps: at least one step")
	}
	if len(s.Steps) > 8 {
		return fmt.Errorf("playbook.steps: at most 8 steps (a Slack message shows one button each)")
	}
	seen := map[string]bool{}
	for i := range s.Steps {
		st := &s.Steps[i]
		key := fmt.Sprintf("playbook.steps[%d]", i)
		st.Key = strings.TrimSpace(st.Key)
		switch {
		case st.Key == "" || len(st.Key) > 40 || strings.ContainsAny(st.Key, " :|"):
			return fmt.Errorf("%s.key: %q must be 1 to 40 characters without spaces, ':' or '|'", key, st.Key)
		case seen[st.Key]:
			return fmt.Errorf("%s.key: %q is used twice", key, st.Key)
		case strings.TrimSpace(st.Label) == "" || len(st.Label) > 60:
			return fmt.Errorf("%s.label: 1 to 60 characters", key)
		case st.Due.Duration < 0:
			return fmt.Errorf("%s.due: must not be negative", key)
		}
		seen[st.Key] = true
		if st.Form == "" {
			st.Form = FormNone
		}
		if !slices.Contains(forms, st.Form) {
			return fmt.Errorf("%s.form: %q is not one of %s", key, st.Form, strings.Join(forms, ", "))
		}
		if len(st.Who) == 0 {
			st.Who = []string{WhoOwner, WhoManager, WhoLeadership}
		}
		for _, w := range st.Who {
			if w != WhoOwner && w != WhoManager && w != WhoLeadership {
				return fmt.Errorf("%s.who: %q is not owner, manager or leadership", key, w)
			}
		}
	}
	cal, err := s.BusinessHours.Calendar(loc)
	if err != nil {
		return fmt.Errorf("playbook.business_hours: %w", err)
	}
	s.calendar = cal
	for _, k := range []struct{ key, spec string }{{"jobs", s.Jobs}, {"chart", s.Chart}} {
		if err := schedule.Validate(k.spec); err != nil {
			return fmt.Errorf("playbook.%s: %q: %w", k.key, k.spec, err)
		}
	}
	return nil
}

// Calendar is the business-hours calendar (every hour counts when none is
// configured).
func (s Settings) Calendar() schedule.BusinessHours { return s.calendar }

// Step returns the step named key.
func (s Settings) Step(key string) (Step, bool) {
	for _, st := range s.Steps {
		if st.Key == key {
			return st, true
		}
	}
	return Step{}, false
}
