package playbook

import (
	"strings"
	"testing"
	"time"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/blocks/blockstest"
	"github.com/holdfast/holdfast/schedule"
)

func testSettings(t *testing.T) Settings {
	t.Helper()
	s := DefaultSettings()
	if err := s.Validate(time.UTC); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStepsCard(t *testing.T) {
	t.Parallel()
	now := blockstest.FixedNow()
	claimed := now.Add(-3 * time.Hour)
	next := claimed.Add(7 * 24 * time.Hour)
	open := Playbook{ID: 7, SLAFrom: claimed.Add(-5 * time.Hour), ClaimDueAt: claimed.Add(-time.Hour), ClaimedBy: "U1",
		ClaimedAt: &claimed, NextCheckinAt: &next, State: StateOpen}
	done := []StepRecord{{Step: "contacted", RecordedBy: "U1", RecordedAt: claimed.Add(time.Hour)},
		{Step: "discovery", RecordedBy: "U2", RecordedAt: claimed.Add(2 * time.Hour),
			Details: StepDetails{RootCause: "pricing", Notes: "They think <!here> it is *too* expensive"}}}
	resolved := now
	for _, c := range []struct {
		name       string
		p          Playbook
		want, not  []string
		wantButton bool
	}{
		{"open, SLA missed", open, []string{"At-risk playbook: Acme & Co", "Owner <@U1> · claimed 5h after the alert (⚠️ SLA 4h missed)",
			"✅ *Contacted*: <@U1>", "root cause: Pricing", "&lt;!here&gt;", "⬜ *Plan*: due Feb 15 12:30", "🔁 *Weekly check-in*: next Feb 15 12:30"},
			[]string{"<!here>", "Closed"}, true},
		{"recovered", func() Playbook { p := open; p.State, p.ResolvedAt = StateRecovered, &resolved; return p }(),
			[]string{"✅ Closed: recovered on Feb 8 15:30"}, []string{"Dismiss"}, false},
		{"dismissed", func() Playbook {
			p := open
			p.State, p.ResolvedAt, p.ResolvedBy = StateDismissed, &resolved, "U3"
			return p
		}(),
			[]string{"dismissed as a false alarm on Feb 8 15:30 by <@U3>"}, nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			m := stepsCard(stepsView{P: c.p, Account: "Acme & Co", Steps: testSettings(t).Steps, Done: done, Now: now, Loc: time.UTC,
				Within: 4 * time.Hour})
			blockstest.CheckMessage(t, c.name, m, 50)
			all := blockstest.AllText(t, m.Blocks)
			blockstest.WantContains(t, c.name, all, c.want...)
			blockstest.WantNotContains(t, c.name, all, c.not...)
			if got := blockstest.BlockByID(m.Blocks, "pb_actions") != nil; got != c.wantButton {
				t.Errorf("step buttons shown = %v, want %v", got, c.wantButton)
			}
		})
	}
}

func TestStepsCardWorstCase(t *testing.T) {
	t.Parallel()
	huge := blockstest.Huge
	now := blockstest.FixedNow()
	var done []StepRecord
	var actions []PlanAction
	for range 50 {
		actions = append(actions, PlanAction{What: huge, Owner: huge, Due: now})
	}
	s := testSettings(t)
	for range 200 {
		for _, st := range s.Steps {
			done = append(done, StepRecord{Step: st.Key, RecordedBy: huge, RecordedAt: now,
				Details: StepDetails{RootCause: huge, Notes: huge, Actions: actions, Resources: []string{"discount", huge}}})
		}
	}
	p := Playbook{ID: 1, ClaimedBy: huge, ClaimedAt: &now, State: StateOpen}
	blockstest.CheckMessage(t, "steps", stepsCard(stepsView{P: p, Account: huge, Steps: s.Steps, Done: done, Now: now}), 50)
	blockstest.CheckMessage(t, "recovered", recoveredNote(p, huge, 99, now, s.Steps, done, nil), 50)
	blockstest.CheckMessage(t, "slip", slipNote(huge, 1, p, done, s), 50)
	blockstest.CheckMessage(t, "step note", stepNote(s.Steps[2], huge, done[2].Details, 1, nil), 50)
	blockstest.CheckMessage(t, "dismissed", dismissedNote(huge, huge), 50)
	blockstest.CheckMessage(t, "checkin", checkinNote(huge, s.Steps[3], 1, nil, nil, now, nil), 50)
	for _, st := range s.Steps {
		blockstest.CheckFormModal(t, stepModal(p, huge, st, now))
	}
	blockstest.CheckFormModal(t, dismissModal(p, huge))
}

func TestNotes(t *testing.T) {
	t.Parallel()
	now := blockstest.FixedNow()
	s := testSettings(t)
	prev, before := 48, 48
	for _, c := range []struct {
		name string
		msg  blocks.Message
		want []string
	}{
		{"nudge", nudgeNote("U1", 2*time.Hour+5*time.Minute, 4*time.Hour), []string{"<@U1>: this alert has waited 2h 5m without a claim", "SLA 4h"}},
		{"nudge without owner", nudgeNote("", 2*time.Hour, 4*time.Hour), []string{"Nobody owns this account"}},
		{"escalation", escalationNote("U1", []string{"U9", "U8"}, 4*time.Hour), []string{"past its 4h response SLA (owner <@U1>): <@U9> <@U8>"}},
		{"escalation, no manager", escalationNote("U1", nil, 4*time.Hour), []string{"No manager is configured"}},
		{"check-in up", checkinNote("U1", s.Steps[3], 3, new(55), &prev, now, time.UTC), []string{"Health 55 (▲7 from 48 since Feb 8 15:30)", "Record weekly check-in"}},
		{"check-in flat", checkinNote("U1", s.Steps[3], 3, new(48), &prev, now, time.UTC), []string{"Health 48 (unchanged from 48 since"}},
		{"recovered", recoveredNote(Playbook{ScoreAtOpen: before}, "Acme", 78, now, s.Steps,
			[]StepRecord{{Step: "plan", RecordedBy: "U1", RecordedAt: now, Details: StepDetails{Actions: []PlanAction{{What: "x"}}}}}, time.UTC),
			[]string{"Recovered: Acme*. Health 48 → 78 (▲30 from 48)", "since Feb 8 15:30", "Plan: <@U1>, Feb 8 15:30 · 1 action"}},
		{"recovered, nothing done", recoveredNote(Playbook{ScoreAtOpen: 50}, "Acme", 71, now, s.Steps, nil, time.UTC), []string{"no steps were recorded"}},
		{"plan with a discount", stepNote(s.Steps[2], "U1", StepDetails{Actions: []PlanAction{{What: "Call <b>", Owner: "U2", Due: now}},
			Resources: []string{"exec_sponsor", "discount"}}, 42, time.UTC), []string{"Call &lt;b&gt; — <@U2>, due Feb 8", "Asked for: executive sponsor, discount"}},
		{"slip", slipNote("Acme", 52, Playbook{ID: 4, State: StateRecovered, OpenedAt: now.AddDate(0, -1, 0), ScoreAtOpen: 40, ResolvedAt: &now}, nil, s),
			[]string{"Acme slipped again* (health 52). It recovered on Feb 8, 2027 (playbook 4, opened Jan 8, 2027 at health 40)", "no steps were recorded"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			blockstest.CheckMessage(t, c.name, c.msg, 50)
			blockstest.WantContains(t, c.name, blockstest.AllText(t, c.msg.Blocks), c.want...)
		})
	}
}

func TestPlanWithADiscountOffersAnOffer(t *testing.T) {
	t.Parallel()
	s := testSettings(t)
	with := stepNote(s.Steps[2], "U1", StepDetails{Resources: []string{"discount"}}, 42, nil)
	if b := blockstest.FindButton(t, with.Blocks, blocks.ActionProposeOffer); b.Value != "42" {
		t.Errorf("Propose offer carries %q, want the account id", b.Value)
	}
	without := stepNote(s.Steps[2], "U1", StepDetails{Resources: []string{"exec_sponsor"}}, 42, nil)
	if strings.Contains(blocks.PlainText(without), "Propose offer") {
		t.Error("an offer button without a discount asked for")
	}
}

func TestValidateStep(t *testing.T) {
	t.Parallel()
	s := testSettings(t)
	due := blockstest.FixedNow()
	discovery, _ := s.Step("discovery")
	plan, _ := s.Step("plan")
	checkin, _ := s.Step("checkin")
	contacted, _ := s.Step("contacted")
	for _, c := range []struct {
		name  string
		st    Step
		d     StepDetails
		block string // "" = valid
	}{
		{"click", contacted, StepDetails{}, ""},
		{"discovery ok", discovery, StepDetails{RootCause: "pricing", Notes: " too pricey "}, ""},
		{"discovery without cause", discovery, StepDetails{Notes: "x"}, BlockRootCause},
		{"discovery, not a churn cause", discovery, StepDetails{RootCause: "support_experience", Notes: "x"}, BlockRootCause},
		{"discovery without notes", discovery, StepDetails{RootCause: "pricing", Notes: "  "}, BlockNotes},
		{"plan ok", plan, StepDetails{Actions: []PlanAction{{What: "call", Owner: "U1", Due: due}, {}}}, ""},
		{"plan empty", plan, StepDetails{Actions: []PlanAction{{}, {}}}, BlockAction + "0"},
		{"plan row without owner", plan, StepDetails{Actions: []PlanAction{{What: "call", Owner: "U1", Due: due}, {What: "x"}}}, BlockActionOwner + "1"},
		{"plan row without date", plan, StepDetails{Actions: []PlanAction{{What: "call", Owner: "U1"}}}, BlockActionDue + "0"},
		{"plan row due yesterday", plan, StepDetails{Actions: []PlanAction{{What: "call", Owner: "U1", Due: due.AddDate(0, 0, -1)}}}, BlockActionDue + "0"},
		{"plan owner without action", plan, StepDetails{Actions: []PlanAction{{Owner: "U1", Due: due}}}, BlockAction + "0"},
		{"plan unknown resource", plan, StepDetails{Actions: []PlanAction{{What: "a", Owner: "U1", Due: due}}, Resources: []string{"pony"}}, BlockResources},
		{"check-in without notes", checkin, StepDetails{}, BlockNotes},
		{"notes too long", checkin, StepDetails{Notes: strings.Repeat("x", maxNotes+1)}, BlockNotes},
		{"NUL in notes", checkin, StepDetails{Notes: "a\x00b"}, BlockNotes},
	} {
		d := c.d
		err := validateStep(c.st, &d, due)
		var got string
		if ie, ok := err.(*InputError); ok {
			got = ie.Block
		} else if err != nil {
			t.Errorf("%s: unexpected error %v", c.name, err)
		}
		if got != c.block {
			t.Errorf("%s: error on %q, want %q (%v)", c.name, got, c.block, err)
		}
	}
}

func TestSettingsValidate(t *testing.T) {
	t.Parallel()
	dur := func(d time.Duration) schedule.Duration { return schedule.Duration{Duration: d} }
	for _, c := range []struct {
		name string
		edit func(*Settings)
		want string // "" = valid
	}{
		{"defaults", func(*Settings) {}, ""},
		{"nudge after the SLA", func(s *Settings) { s.NudgeAfter = dur(5 * time.Hour) }, "playbook.nudge_after"},
		{"no steps", func(s *Settings) { s.Steps = nil }, "playbook.steps: at least one"},
		{"duplicate key", func(s *Settings) { s.Steps[1].Key = "contacted" }, `playbook.steps[1].key: "contacted" is used twice`},
		{"bad form", func(s *Settings) { s.Steps[0].Form = "survey" }, "playbook.steps[0].form"},
		{"bad who", func(s *Settings) { s.Steps[0].Who = []string{"anyone"} }, "playbook.steps[0].who"},
		{"bad escalate_to", func(s *Settings) { s.EscalateTo = "bob" }, "playbook.escalate_to"},
		{"bad business hours", func(s *Settings) { s.BusinessHours.Start = "9am" }, "playbook.business_hours"},
		{"bad cron", func(s *Settings) { s.Jobs = "every minute" }, "playbook.jobs"},
		{"a team's own step", func(s *Settings) {
			s.Steps = append(s.Steps, Step{Key: "qbr", Label: "Exec QBR", Form: FormNotes, Due: dur(21 * 24 * time.Hour), Who: []string{WhoLeadership}})
		}, ""},
	} {
		s := DefaultSettings()
		c.edit(&s)
		err := s.Validate(time.UTC)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}

func TestBusinessHoursSLA(t *testing.T) {
	t.Parallel()
	s := DefaultSettings()
	s.BusinessHours = schedule.BusinessHoursSettings{Start: "09:00", End: "17:00"}
	if err := s.Validate(time.UTC); err != nil {
		t.Fatal(err)
	}
	// Friday 16:00: 1h of Friday, then Monday from 09:00.
	fri := time.Date(2027, time.March, 5, 16, 0, 0, 0, time.UTC)
	if got := s.Calendar().Add(fri, s.ClaimWithin.Duration); !got.Equal(time.Date(2027, time.March, 8, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("claim due %s, want Monday 12:00", got)
	}
}

func TestHomeBlocks(t *testing.T) {
	t.Parallel()
	now := blockstest.FixedNow()
	score := 41
	next := now.Add(48 * time.Hour)
	rows := []homeRow{
		{ID: 1, AccountID: 1, Account: "Late <Co>", ARR: 300000, Score: &score, ClaimDueAt: now.Add(-90 * time.Minute)},
		{ID: 2, AccountID: 2, Account: "Fresh", ARR: 100000, ClaimDueAt: now.Add(time.Hour)},
		{ID: 3, AccountID: 3, Account: "Mine", ARR: 50000, ClaimedBy: "U1", NextCheckinAt: &next},
	}
	bs := homeBlocks(rows, now, time.UTC)
	blockstest.CheckBlocks(t, "home", bs, 50)
	blockstest.WantContains(t, "home", blockstest.AllText(t, bs), "*Late &lt;Co&gt;* · $300k ARR · health 41",
		"response SLA passed 1h 30m ago", "claim it by Feb 8 16:30", "Next check-in Feb 10 15:30")
	var many []homeRow
	for i := range 30 {
		many = append(many, homeRow{ID: int64(i), Account: blockstest.Huge, ClaimedBy: "U1", ClaimDueAt: now})
	}
	bs = homeBlocks(many, now, nil)
	blockstest.CheckBlocks(t, "home many", bs, 50)
	blockstest.WantContains(t, "home many", blockstest.AllText(t, bs), "…and more")
}
