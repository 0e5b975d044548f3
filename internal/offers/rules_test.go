package offers

import (
	"slices"
	"testing"
	"time"
)

func TestStepDeciders(t *testing.T) {
	t.Parallel()
	at := now
	step := ApprovalStep{Approvers: []string{"UFIN", "UFIN2"}, Backup: "UCFO"}
	escalated := step
	escalated.EscalatedAt = &at
	cases := []struct {
		name string
		step ApprovalStep
		user string
		want bool
	}{
		{"approver", step, "UFIN2", true},
		{"stranger", step, "USTRANGER", false},
		{"nobody", step, "", false},
		{"backup before escalation", step, "UCFO", false},
		{"backup after escalation", escalated, "UCFO", true},
	}
	for _, c := range cases {
		if got := c.step.CanDecide(c.user); got != c.want {
			t.Errorf("%s: CanDecide(%q) = %v, want %v", c.name, c.user, got, c.want)
		}
	}
	if got := step.Deciders(); !slices.Equal(got, []string{"UFIN", "UFIN2"}) {
		t.Errorf("deciders before escalation %v", got)
	}
	if got := escalated.Deciders(); !slices.Equal(got, []string{"UFIN", "UFIN2", "UCFO"}) {
		t.Errorf("deciders after escalation %v", got)
	}
	escalated.Approvers = []string{"UCFO"}
	if got := escalated.Deciders(); !slices.Equal(got, []string{"UCFO"}) {
		t.Errorf("a backup who is an approver is named once: %v", got)
	}
}

func TestRefusal(t *testing.T) {
	t.Parallel()
	req := Request{RequestedBy: "UCSM", Status: RequestPending, Version: 2}
	step := ApprovalStep{Version: 2, Status: StepPending, Approvers: []string{"UFIN", "UCSM"}}
	with := func(edit func(r *Request, s *ApprovalStep)) (Request, ApprovalStep) {
		r, s := req, step
		edit(&r, &s)
		return r, s
	}
	cases := []struct {
		name  string
		edit  func(r *Request, s *ApprovalStep)
		actor string
		want  string
	}{
		{"approver of a waiting step", func(*Request, *ApprovalStep) {}, "UFIN", ""},
		{"stranger", func(*Request, *ApprovalStep) {}, "USTRANGER", RefuseNotApprover},
		// Authorization first: a stranger learns nothing about the request.
		{"stranger on a closed request", func(r *Request, _ *ApprovalStep) { r.Status = RequestRejected }, "USTRANGER", RefuseNotApprover},
		{"own request", func(*Request, *ApprovalStep) {}, "UCSM", RefuseOwnRequest},
		{"old version", func(_ *Request, s *ApprovalStep) { s.Version = 1 }, "UFIN", RefuseOldVersion},
		{"approved", func(_ *Request, s *ApprovalStep) { s.Status = StepApproved }, "UFIN", RefuseAlreadyDecided},
		{"rejected", func(_ *Request, s *ApprovalStep) { s.Status = StepRejected }, "UFIN", RefuseAlreadyDecided},
		{"sent back", func(_ *Request, s *ApprovalStep) { s.Status = StepRevision }, "UFIN", RefuseAlreadyDecided},
		{"later stage", func(_ *Request, s *ApprovalStep) { s.Status = StepWaiting }, "UFIN", RefuseNotActive},
		{"closed step", func(_ *Request, s *ApprovalStep) { s.Status = StepClosed }, "UFIN", RefuseClosed},
		{"request sent back", func(r *Request, _ *ApprovalStep) { r.Status = RequestRevisionRequested }, "UFIN", RefuseClosed},
	}
	for _, c := range cases {
		r, s := with(c.edit)
		if got := refusal(r, s, c.actor); got != c.want {
			t.Errorf("%s: refusal = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestReviseAndAnswerRefusals(t *testing.T) {
	t.Parallel()
	pending := Request{RequestedBy: "UCSM", Status: RequestPending, Version: 2}
	approved := Request{RequestedBy: "UCSM", Status: RequestApproved, Version: 2}
	countered := approved
	countered.CustomerAnswer = AnswerCountered
	rejected := Request{RequestedBy: "UCSM", Status: RequestRejected, Version: 2}
	revise := []struct {
		name      string
		req       Request
		actor     string
		seen      int
		want      string
		revisable bool
	}{
		{"requester", pending, "UCSM", 2, "", true},
		{"owner", pending, "UOWNER", 2, "", true},
		{"stranger", pending, "USTRANGER", 2, RefuseNotOwner, true},
		{"stale", pending, "UCSM", 1, RefuseStale, true},
		{"sent back", Request{RequestedBy: "UCSM", Status: RequestRevisionRequested, Version: 2}, "UCSM", 2, "", true},
		{"countered", countered, "UCSM", 2, "", true},
		{"approved", approved, "UCSM", 2, RefuseClosed, false},
		{"rejected", rejected, "UOWNER", 2, RefuseClosed, false},
	}
	for _, c := range revise {
		if got := reviseRefusal(c.req, "UOWNER", c.actor, c.seen); got != c.want {
			t.Errorf("revise %s: %q, want %q", c.name, got, c.want)
		}
		if got := Revisable(c.req); got != c.revisable {
			t.Errorf("Revisable %s = %v", c.name, got)
		}
	}
	answer := []struct {
		name  string
		req   Request
		actor string
		want  string
	}{
		{"requester", approved, "UCSM", ""},
		{"owner", approved, "UOWNER", ""},
		{"stranger", approved, "USTRANGER", RefuseNotOwner},
		{"not approved", pending, "UCSM", RefuseNotApproved},
		{"answered", countered, "UCSM", RefuseAlreadyAnswered},
	}
	for _, c := range answer {
		if got := answerRefusal(c.req, "UOWNER", c.actor); got != c.want {
			t.Errorf("answer %s: %q, want %q", c.name, got, c.want)
		}
	}
	for a, want := range map[string]bool{AnswerAccepted: true, AnswerDeclined: true, AnswerCountered: true, "maybe": false, "": false} {
		if validAnswer(a) != want {
			t.Errorf("validAnswer(%q) = %v", a, !want)
		}
	}
}

func TestNewStepsStartTheFirstStage(t *testing.T) {
	t.Parallel()
	in := Submission{At: now, Groups: map[string][]string{"SREV": {"UREV1", "UFIN"}}, Route: Route{Stages: []RouteStage{
		{Name: "Review", Steps: []RouteStep{{Name: "Finance", Users: []string{"UFIN"}}, {Name: "RevOps", Group: "SREV", Backup: "UB"}}},
		{Name: "Executive", Steps: []RouteStep{{Name: "Executive", Users: []string{"UEXEC"}, SLA: time.Hour}}},
	}}}
	steps := newSteps(in, 7, 2)
	if len(steps) != 3 {
		t.Fatalf("%d steps", len(steps))
	}
	rev, exec := steps[1], steps[2]
	if rev.RequestID != 7 || rev.Version != 2 || rev.Stage != 0 || rev.Position != 1 || rev.GroupID != "SREV" || rev.Backup != "UB" {
		t.Errorf("revops step %+v", rev)
	}
	if rev.Status != StepPending || rev.ActivatedAt == nil || !rev.ActivatedAt.Equal(now) ||
		!slices.Equal(rev.Approvers, []string{"UREV1", "UFIN"}) || !slices.Equal(rev.DMUsers, rev.Approvers) {
		t.Errorf("first stage not waiting for its approvers: %+v", rev)
	}
	if exec.Status != StepWaiting || exec.ActivatedAt != nil || len(exec.DMUsers) != 0 || exec.DMUsers == nil || exec.Stage != 1 {
		t.Errorf("later stage %+v", exec)
	}
}

func TestSLADue(t *testing.T) {
	t.Parallel()
	activated := now.Add(-5 * time.Hour)
	earlier := now.Add(-time.Hour)
	req := Request{Status: RequestPending, Version: 1}
	step := ApprovalStep{Version: 1, Status: StepPending, ActivatedAt: &activated, SLA: 4 * time.Hour, EscalateAfter: 8 * time.Hour, Backup: "UB"}
	cases := []struct {
		name string
		edit func(r *Request, s *ApprovalStep)
		at   time.Duration // after now
		want EventKind
	}{
		{"before the SLA", func(*Request, *ApprovalStep) {}, -2 * time.Hour, ""},
		{"at the SLA", func(*Request, *ApprovalStep) {}, -time.Hour, EventNudged},
		{"past the SLA", func(*Request, *ApprovalStep) {}, 0, EventNudged},
		{"nudged", func(_ *Request, s *ApprovalStep) { s.NudgedAt = &earlier }, 0, ""},
		{"past escalation", func(*Request, *ApprovalStep) {}, 3 * time.Hour, EventEscalated},
		{"past escalation, nudged", func(_ *Request, s *ApprovalStep) { s.NudgedAt = &earlier }, 3 * time.Hour, EventEscalated},
		{"escalated", func(_ *Request, s *ApprovalStep) { s.NudgedAt, s.EscalatedAt = &earlier, &earlier }, 3 * time.Hour, ""},
		{"no backup", func(_ *Request, s *ApprovalStep) { s.Backup = "" }, 3 * time.Hour, EventNudged},
		{"decided", func(_ *Request, s *ApprovalStep) { s.Status = StepApproved }, 0, ""},
		{"request closed", func(r *Request, _ *ApprovalStep) { r.Status = RequestRejected }, 0, ""},
		{"old version", func(r *Request, _ *ApprovalStep) { r.Version = 2 }, 0, ""},
		{"never activated", func(_ *Request, s *ApprovalStep) { s.ActivatedAt = nil }, 0, ""},
	}
	for _, c := range cases {
		r, s := req, step
		c.edit(&r, &s)
		if got := slaDue(r, s, now.Add(c.at)); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestRenewalOutcome(t *testing.T) {
	t.Parallel()
	renewal := time.Date(2027, 3, 10, 0, 0, 0, 0, time.UTC)
	accepted := Request{CustomerAnswer: AnswerAccepted, RenewalDate: &renewal}
	cases := []struct {
		name   string
		req    Request
		status string
		at     time.Time
		want   string
	}{
		{"before the renewal", accepted, "active", renewal.Add(-time.Hour), ""},
		{"on the renewal day", accepted, "active", renewal.Add(23 * time.Hour), ""},
		{"the day after", accepted, "active", renewal.AddDate(0, 0, 1), "renewed"},
		{"churned before the renewal", accepted, "churned", renewal.AddDate(0, 0, -20), "churned"},
		{"no renewal date", Request{CustomerAnswer: AnswerAccepted}, "active", renewal.AddDate(1, 0, 0), ""},
		{"declined", Request{CustomerAnswer: AnswerDeclined, RenewalDate: &renewal}, "churned", renewal.AddDate(0, 0, 1), ""},
		{"decided", Request{CustomerAnswer: AnswerAccepted, RenewalDate: &renewal, RenewalOutcome: "renewed"}, "churned", renewal, ""},
	}
	for _, c := range cases {
		if got := renewalOutcome(c.req, c.status, c.at); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
