package nps

import (
	"fmt"
	"net/url"
	"time"

	"github.com/holdfast/holdfast/schedule"
	"github.com/holdfast/holdfast/slackid"
)

// Settings configure NPS intake, detractor loops and the survey cadence
// (YAML key nps).
type Settings struct {
	// CSChannel gets detractor threads of accounts without a channel, the
	// due-survey list and the weekly digest; default alerts.default_channel.
	CSChannel string `yaml:"cs_channel"`
	// Managers maps a CSM's Slack id to their manager's: mentioned when a
	// loop step stays overdue, and allowed to record steps.
	Managers map[string]string `yaml:"managers"`
	// DefaultManager is mentioned for CSMs missing from Managers.
	DefaultManager string `yaml:"default_manager"`
	// Executive is who an escalation (step 4) mentions.
	Executive string `yaml:"executive"`
	// EscalationARR: at or above this ARR a detractor loop proposes
	// escalating to the executive. 0 = never proposed.
	EscalationARR float64                        `yaml:"escalation_arr"`
	Steps         Steps                          `yaml:"steps"`
	BusinessHours schedule.BusinessHoursSettings `yaml:"business_hours"`
	Cadence       Cadence                        `yaml:"cadence"`
	Webhook       SurveyWebhook                  `yaml:"survey_webhook"`
	Digest        DigestSettings                 `yaml:"digest"`
	Jobs          JobSpecs                       `yaml:"jobs"`

	calendar schedule.BusinessHours
}

// Steps are the detractor loop's deadlines, counted from the answer's
// arrival in business time when business hours are configured.
type Steps struct {
	Contact       schedule.Duration `yaml:"contact"`        // step 1
	RootCause     schedule.Duration `yaml:"root_cause"`     // step 2
	ActionPlan    schedule.Duration `yaml:"action_plan"`    // step 3
	EscalateAfter schedule.Duration `yaml:"escalate_after"` // overdue by this much more: the manager is mentioned
	FollowUp      schedule.Duration `yaml:"follow_up"`      // step 5: after the plan is recorded (calendar time)
}

// Cadence is the daily survey selection.
type Cadence struct {
	Spec          string            `yaml:"spec"`           // cron spec in schedule.timezone; "" or "off" disables
	QuietPeriod   schedule.Duration `yaml:"quiet_period"`   // nobody is surveyed twice inside it
	CatchUp       schedule.Duration `yaml:"catch_up"`       // how long a day-30 / pre-renewal / post-ticket survey stays due
	ReminderAfter schedule.Duration `yaml:"reminder_after"` // sent and unanswered this long: one reminder to the CSM
}

// SurveyWebhook is the external survey tool that sends the surveys. The
// signing secret comes from HOLDFAST_SURVEY_WEBHOOK_SECRET.
type SurveyWebhook struct {
	URL string `yaml:"url"`
}

// DigestSettings is the weekly promoter/passive digest.
type DigestSettings struct {
	Spec string `yaml:"spec"` // cron spec; "off" disables
}

// JobSpecs tunes how often the loop watcher and the webhook
// sender run.
type JobSpecs struct {
	Loops   string `yaml:"loops"`   // overdue steps, follow-ups, reminders
	Webhook string `yaml:"webhook"` // pending survey-tool POSTs
}

// Calendar is the business-hours calendar (every hour counts when none is
// configured).
func (n Settings) Calendar() schedule.BusinessHours { return n.calendar }

// ManagerOf is the manager to mention for a CSM, or "".
func (n Settings) ManagerOf(csm string) string {
	if m := n.Managers[csm]; m != "" {
		return m
	}
	return n.DefaultManager
}

// IsManager reports whether user is a configured manager.
func (n Settings) IsManager(user string) bool {
	if user == "" {
		return false
	}
	if user == n.DefaultManager {
		return true
	}
	for _, m := range n.Managers {
		if m == user {
			return true
		}
	}
	return false
}

// DefaultSettings are the nps defaults.
func DefaultSettings() Settings {
	return Settings{
		EscalationARR: 100_000,
		Steps: Steps{
			Contact:       schedule.Duration{Duration: 24 * time.Hour},
			RootCause:     schedule.Duration{Duration: 48 * time.Hour},
			ActionPlan:    schedule.Duration{Duration: 72 * time.Hour},
			EscalateAfter: schedule.Duration{Duration: 24 * time.Hour},
			FollowUp:      schedule.Duration{Duration: 30 * 24 * time.Hour},
		},
		Cadence: Cadence{
			Spec:          "0 8 * * *",
			QuietPeriod:   schedule.Duration{Duration: 60 * 24 * time.Hour},
			CatchUp:       schedule.Duration{Duration: 7 * 24 * time.Hour},
			ReminderAfter: schedule.Duration{Duration: 7 * 24 * time.Hour},
		},
		Digest: DigestSettings{Spec: "0 9 * * 1"},
		Jobs:   JobSpecs{Loops: "*/15 * * * *", Webhook: "* * * * *"},
	}
}

// Validate checks the section; business hours count in loc
// (schedule.timezone). An error names the key at fault.
func (n *Settings) Validate(loc *time.Location) error {
	if n.CSChannel != "" && !slackid.Conversation(n.CSChannel) {
		return fmt.Errorf("nps.cs_channel: %q is not a Slack channel id (like C0123ABCD)", n.CSChannel)
	}
	for csm, mgr := range n.Managers {
		if !slackid.User(csm) {
			return fmt.Errorf("nps.managers: key %q is not a Slack user id (like U0123ABCD)", csm)
		}
		if !slackid.User(mgr) {
			return fmt.Errorf("nps.managers.%s: %q is not a Slack user id (like U0123ABCD)", csm, mgr)
		}
	}
	for key, v := range map[string]string{"default_manager": n.DefaultManager, "executive": n.Executive} {
		if v != "" && !slackid.User(v) {
			return fmt.Errorf("nps.%s: %q is not a Slack user id (like U0123ABCD)", key, v)
		}
	}
	if n.EscalationARR < 0 {
		return fmt.Errorf("nps.escalation_arr: must be 0 or more (got %v)", n.EscalationARR)
	}
	s := n.Steps
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"contact", s.Contact.Duration}, {"root_cause", s.RootCause.Duration}, {"action_plan", s.ActionPlan.Duration},
		{"escalate_after", s.EscalateAfter.Duration}, {"follow_up", s.FollowUp.Duration}} {
		if d.v < time.Minute {
			return fmt.Errorf("nps.steps.%s: must be at least 1m (got %s)", d.key, d.v)
		}
	}
	if s.RootCause.Duration < s.Contact.Duration || s.ActionPlan.Duration < s.RootCause.Duration {
		return fmt.Errorf("nps.steps: deadlines must not shrink from step to step (contact %s, root_cause %s, action_plan %s)",
			s.Contact.Duration, s.RootCause.Duration, s.ActionPlan.Duration)
	}
	cal, err := n.BusinessHours.Calendar(loc)
	if err != nil {
		return fmt.Errorf("nps.business_hours: %w", err)
	}
	n.calendar = cal
	c := n.Cadence
	if err := schedule.Validate(c.Spec); err != nil {
		return fmt.Errorf("nps.cadence.spec: %q: %w", c.Spec, err)
	}
	for _, d := range []struct {
		key string
		v   time.Duration
		min time.Duration
	}{{"quiet_period", c.QuietPeriod.Duration, 0}, {"catch_up", c.CatchUp.Duration, 24 * time.Hour},
		{"reminder_after", c.ReminderAfter.Duration, time.Hour}} {
		if d.v < d.min {
			return fmt.Errorf("nps.cadence.%s: must be at least %s (got %s)", d.key, d.min, d.v)
		}
	}
	for _, k := range []struct{ key, spec string }{
		{"digest.spec", n.Digest.Spec}, {"jobs.loops", n.Jobs.Loops}, {"jobs.webhook", n.Jobs.Webhook},
	} {
		if err := schedule.Validate(k.spec); err != nil {
			return fmt.Errorf("nps.%s: %q: %w", k.key, k.spec, err)
		}
	}
	if u := n.Webhook.URL; u != "" {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return fmt.Errorf("nps.survey_webhook.url: not an http(s) URL: %q", u)
		}
	}
	return nil
}
