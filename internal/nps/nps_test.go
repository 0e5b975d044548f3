package nps

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/holdfast/holdfast/internal/churn"
	"github.com/holdfast/holdfast/schedule"
)

var now = time.Date(2027, time.March, 10, 14, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestCategoryOf(t *testing.T) {
	t.Parallel()
	want := map[int]Category{0: Detractor, 3: Detractor, 6: Detractor, 7: Passive, 8: Passive, 9: Promoter, 10: Promoter}
	for score, c := range want {
		if got := CategoryOf(score); got != c {
			t.Errorf("CategoryOf(%d) = %s, want %s", score, got, c)
		}
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	good := AnswerIn{Account: "acme", Respondent: "jo@acme.test", Score: ptr(3.0), Comment: "slow", AnsweredAt: now.Add(-time.Hour)}
	with := func(f func(*AnswerIn)) AnswerIn { a := good; f(&a); return a }
	cases := []struct {
		name  string
		in    []AnswerIn
		field string // "" = valid
	}{
		{"valid", []AnswerIn{good}, ""},
		{"empty batch", nil, "answers"},
		{"missing account", []AnswerIn{with(func(a *AnswerIn) { a.Account = " " })}, "account"},
		{"missing respondent", []AnswerIn{with(func(a *AnswerIn) { a.Respondent = "" })}, "respondent"},
		{"missing score", []AnswerIn{with(func(a *AnswerIn) { a.Score = nil })}, "score"},
		{"score 11", []AnswerIn{with(func(a *AnswerIn) { a.Score = ptr(11.0) })}, "score"},
		{"score -1", []AnswerIn{with(func(a *AnswerIn) { a.Score = ptr(-1.0) })}, "score"},
		{"fractional score", []AnswerIn{with(func(a *AnswerIn) { a.Score = ptr(7.5) })}, "score"},
		{"unknown kind", []AnswerIn{with(func(a *AnswerIn) { a.SurveyKind = "weekly" })}, "survey_kind"},
		{"future", []AnswerIn{with(func(a *AnswerIn) { a.AnsweredAt = now.Add(time.Hour) })}, "answered_at"},
		{"missing time", []AnswerIn{with(func(a *AnswerIn) { a.AnsweredAt = time.Time{} })}, "answered_at"},
		{"NUL in comment", []AnswerIn{with(func(a *AnswerIn) { a.Comment = "a\x00b" })}, "comment"},
		{"same answer twice", []AnswerIn{good, with(func(a *AnswerIn) { a.Respondent = "JO@acme.test"; a.Score = ptr(9.0) })}, "idempotency_key"},
		{"negative survey id", []AnswerIn{with(func(a *AnswerIn) { a.SurveyID = -3 })}, "survey_id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errs := Validate(c.in, now, MaxBatch)
			if c.field == "" {
				if len(errs) > 0 {
					t.Fatalf("errors: %+v", errs)
				}
				if out[0].Kind != KindAdhoc || out[0].Category != Detractor || out[0].Score != 3 || !strings.HasPrefix(out[0].Key, "nps:") {
					t.Errorf("answer = %+v", out[0])
				}
				return
			}
			if out != nil || len(errs) == 0 || errs[len(errs)-1].Field != c.field {
				t.Errorf("errors = %+v, want one on %s and no rows", errs, c.field)
			}
		})
	}
	if _, errs := Validate(make([]AnswerIn, 3), now, 2); len(errs) != 1 || errs[0].Index != -1 {
		t.Errorf("over the cap: %+v", errs)
	}
}

func TestDerivedKeyNamesTheAnswer(t *testing.T) {
	t.Parallel()
	a := Answer{Account: "acme", Respondent: "jo@acme.test", AnsweredAt: now, Score: 3}
	b := a
	b.Score, b.Comment, b.Account, b.Respondent = 4, "edited", "ACME", "Jo@Acme.test"
	if DerivedKey(a) != DerivedKey(b) {
		t.Error("a replay with a corrected score or other case is a different key")
	}
	b.AnsweredAt = now.Add(time.Second)
	if DerivedKey(a) == DerivedKey(b) {
		t.Error("a later answer has the same key")
	}
}

var policy = Policy{Contact: 24 * time.Hour, RootCause: 48 * time.Hour, ActionPlan: 72 * time.Hour,
	EscalateAfter: 24 * time.Hour, FollowUp: 30 * 24 * time.Hour, EscalationARR: 100_000}

func TestDeadlines(t *testing.T) {
	t.Parallel()
	opened := time.Date(2027, 3, 5, 16, 0, 0, 0, time.UTC) // a Friday
	d := policy.DeadlinesFrom(opened)
	if !d.Contact.Equal(opened.Add(24*time.Hour)) || !d.ActionPlan.Equal(opened.Add(72*time.Hour)) {
		t.Errorf("calendar deadlines = %+v", d)
	}
	cal, err := schedule.NewBusinessHours(time.UTC, "09:00", "17:00", []string{"mon", "tue", "wed", "thu", "fri"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	biz := policy
	biz.Calendar = cal
	biz.Contact = 8 * time.Hour
	d = biz.DeadlinesFrom(opened)
	if want := time.Date(2027, 3, 8, 16, 0, 0, 0, time.UTC); !d.Contact.Equal(want) {
		t.Errorf("business contact deadline = %s, want Monday 16:00 (%s)", d.Contact, want)
	}
	if !policy.ProposeEscalation(100_000) || policy.ProposeEscalation(99_999) || (Policy{}).ProposeEscalation(1e9) {
		t.Error("escalation proposal threshold")
	}
}

func TestNudges(t *testing.T) {
	t.Parallel()
	opened := time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC)
	base := Loop{OpenedAt: opened, Due: policy.DeadlinesFrom(opened)}
	contacted := base
	contacted.ContactedAt = ptr(opened.Add(time.Hour))
	closed := base
	closed.ClosedAt = ptr(opened)
	h := func(n int) time.Time { return opened.Add(time.Duration(n) * time.Hour) }
	type n struct {
		step  Step
		level int
	}
	cases := []struct {
		name string
		loop Loop
		sent map[NudgeKey]bool
		at   time.Time
		want []n
	}{
		{"nothing due yet", base, nil, h(23), nil},
		{"contact overdue", base, nil, h(24), []n{{StepContact, 1}}},
		{"already nudged", base, map[NudgeKey]bool{{StepContact, 1}: true}, h(30), nil},
		{"manager after a further day", base, map[NudgeKey]bool{{StepContact, 1}: true}, h(48),
			[]n{{StepContact, 2}, {StepRootCause, 1}}},
		{"late run catches up both levels", base, nil, h(49), []n{{StepContact, 1}, {StepContact, 2}, {StepRootCause, 1}}},
		{"a recorded step needs no nudge", contacted, nil, h(47), nil},
		{"closed loop needs none", closed, nil, h(200), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []n
			for _, x := range policy.Nudges(c.loop, c.sent, c.at) {
				got = append(got, n{x.Step, x.Level})
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("nudges = %v, want %v", got, c.want)
			}
		})
	}
}

func TestNextCheck(t *testing.T) {
	t.Parallel()
	opened := time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC)
	l := Loop{OpenedAt: opened, Due: policy.DeadlinesFrom(opened)}
	h := func(n int) time.Time { return opened.Add(time.Duration(n) * time.Hour) }
	check := func(name string, l Loop, sent map[NudgeKey]bool, created bool, want *time.Time) {
		t.Helper()
		got := policy.NextCheck(l, sent, created)
		if (got == nil) != (want == nil) || (got != nil && !got.Equal(*want)) {
			t.Errorf("%s: next check %v, want %v", name, got, want)
		}
	}
	check("new loop: the contact deadline", l, nil, false, ptr(h(24)))
	check("contact nudged: the root cause deadline", l, map[NudgeKey]bool{{StepContact, 1}: true}, false, ptr(h(48)))
	contacted := l
	contacted.ContactedAt = ptr(h(1))
	check("contact recorded", contacted, map[NudgeKey]bool{{StepContact, 1}: true}, false, ptr(h(48)))
	all := map[NudgeKey]bool{}
	for _, s := range DeadlineSteps {
		all[NudgeKey{s, 1}], all[NudgeKey{s, 2}] = true, true
	}
	check("every nudge sent", l, all, false, nil)
	planned := l
	if err := planned.RecordPlan(policy, "p", "U0CSM", day("2027-03-05"), "U0CSM", h(2), time.UTC); err != nil {
		t.Fatal(err)
	}
	planned.RootCauseAt = ptr(h(2))
	check("waiting for the follow-up", planned, nil, false, ptr(h(2).Add(30*24*time.Hour)))
	check("follow-up created", planned, nil, true, nil)
	closed := l
	closed.ClosedAt = ptr(h(3))
	check("closed", closed, nil, false, nil)
}

func TestLoopTransitions(t *testing.T) {
	t.Parallel()
	opened := now.Add(-time.Hour)
	l := Loop{OpenedAt: opened, Due: policy.DeadlinesFrom(opened)}
	if err := l.RecordRootCause("nonsense", "x", "U1", now); !isInput(err, "cause") {
		t.Errorf("unknown cause: %v", err)
	}
	if err := l.RecordRootCause(churn.SupportExperience, "  ", "U1", now); !isInput(err, "words") {
		t.Errorf("empty words: %v", err)
	}
	if err := l.RecordRootCause(churn.SupportExperience, "tickets sat for a week", "U1", now); err != nil {
		t.Fatal(err)
	}
	if l.ContactedAt == nil || l.ContactedBy != "U1" {
		t.Error("a root cause implies contact")
	}
	if err := l.RecordContact("U2", now); !errors.Is(err, ErrAlreadyDone) {
		t.Errorf("second contact: %v", err)
	}
	if err := l.RecordPlan(policy, "weekly call", "U0CSM", day("2027-03-09"), "U1", now, time.UTC); !isInput(err, "due") {
		t.Errorf("past due date: %v", err)
	}
	if err := l.RecordPlan(policy, "weekly call", "bob", day("2027-03-20"), "U1", now, time.UTC); !isInput(err, "owner") {
		t.Errorf("bad owner: %v", err)
	}
	if err := l.RecordPlan(policy, "weekly call", "U0CSM", day("2027-03-10"), "U1", now, time.UTC); err != nil {
		t.Fatalf("due today is fine: %v", err)
	}
	if !l.Complete() || !l.OnTime() || !l.FollowUpDue.Equal(now.Add(30*24*time.Hour)) {
		t.Errorf("after the plan: complete %v on time %v follow-up %v", l.Complete(), l.OnTime(), l.FollowUpDue)
	}
	first := *l.FollowUpDue
	if err := l.RecordPlan(policy, "revised", "U0CSM", day("2027-03-20"), "U1", now.Add(100*time.Hour), time.UTC); err != nil {
		t.Fatal(err)
	}
	if !l.FollowUpDue.Equal(first) || l.Plan != "revised" {
		t.Error("a revised plan moved the follow-up or was not kept")
	}
	if !l.OnTime() || !l.PlanAt.Equal(now) {
		t.Error("a revision moved the time the plan was first recorded")
	}
	if err := l.Escalate("U9", now); err != nil || l.Escalate("U9", now) == nil {
		t.Error("escalate once")
	}
	l.RecordFollowUp(8, now.Add(31*24*time.Hour))
	if l.Open() || l.RecordContact("U1", now) == nil {
		t.Error("a followed-up loop is closed")
	}
	if !CanAct("U1", "U1", false) || CanAct("U2", "U1", false) || !CanAct("U2", "U1", true) || CanAct("", "", false) {
		t.Error("CanAct")
	}
}

func isInput(err error, field string) bool {
	var ie *InputError
	return errors.As(err, &ie) && ie.Field == field
}

// TestCadenceEdges is the fixture: tenure 89/90/91 days and
// renewal in 59/60/61 days, plus the other rules and the quiet period.
func TestCadenceEdges(t *testing.T) {
	t.Parallel()
	p := CadencePolicy{QuietPeriod: 60 * 24 * time.Hour, CatchUp: 7 * 24 * time.Hour, Location: time.UTC}
	today := Today(now, time.UTC)
	activated := func(daysAgo int) time.Time { return today.AddDate(0, 0, -daysAgo) }
	renews := func(in int) *time.Time { d := today.AddDate(0, 0, in); return &d }
	touched := func(daysAgo int) *time.Time { return ptr(now.AddDate(0, 0, -daysAgo)) }
	// Surveyed 85 days ago: past the quiet period, not due a quarterly yet.
	recent := touched(85)
	cases := []struct {
		name string
		acct CadenceAccount
		want SurveyKind // "" = none due
		defr int        // deferred count
	}{
		{"tenure 89", CadenceAccount{Activation: activated(89)}, "", 0},
		{"tenure 90", CadenceAccount{Activation: activated(90)}, "", 0},
		{"tenure 91", CadenceAccount{Activation: activated(91)}, KindQuarterly, 0},
		{"renewal in 61", CadenceAccount{Activation: activated(300), Renewal: renews(61), LastTouch: recent}, "", 0},
		{"renewal in 60", CadenceAccount{Activation: activated(300), Renewal: renews(60), LastTouch: recent}, KindPreRenewal, 0},
		{"renewal in 59, missed yesterday", CadenceAccount{Activation: activated(300), Renewal: renews(59), LastTouch: recent}, KindPreRenewal, 0},
		{"renewal in 59, surveyed yesterday", CadenceAccount{Activation: activated(300), Renewal: renews(59), LastTouch: touched(1),
			Taken: map[string]bool{SurveyKey(KindPreRenewal, renews(59).Format(time.DateOnly)): true}}, "", 0},
		{"renewal in 53: window passed", CadenceAccount{Activation: activated(300), Renewal: renews(53), LastTouch: recent}, "", 0},
		{"renewal already passed", CadenceAccount{Activation: activated(50), Renewal: renews(-1)}, "", 0},
		{"day 30", CadenceAccount{Activation: activated(30)}, KindOnboarding, 0},
		{"day 29", CadenceAccount{Activation: activated(29)}, "", 0},
		{"day 37: window passed", CadenceAccount{Activation: activated(37)}, "", 0},
		{"day 31, taken", CadenceAccount{Activation: activated(31), Taken: map[string]bool{SurveyKey(KindOnboarding, "day30"): true}}, "", 0},
		{"quarterly again 90 days later", CadenceAccount{Activation: activated(200), LastTouch: touched(90)}, KindQuarterly, 0},
		{"quarterly waits for 90 days", CadenceAccount{Activation: activated(200), LastTouch: touched(89)}, "", 0},
		{"ticket resolved yesterday", CadenceAccount{Activation: activated(50), Tickets: []Ticket{{"T-1", now.Add(-24 * time.Hour)}}}, KindPostTicket, 0},
		{"ticket resolved 8 days ago", CadenceAccount{Activation: activated(50), Tickets: []Ticket{{"T-1", now.AddDate(0, 0, -8)}}}, "", 0},
		{"quiet period holds back", CadenceAccount{Activation: activated(50), Tickets: []Ticket{{"T-1", now.Add(-time.Hour)}},
			LastTouch: touched(59)}, "", 1},
		{"one survey a day", CadenceAccount{Activation: activated(91), Renewal: renews(60)}, KindPreRenewal, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			due, deferred := p.Due(c.acct, now)
			var kind SurveyKind
			if due != nil {
				kind = due.Kind
			}
			if kind != c.want || len(deferred) != c.defr {
				t.Errorf("due %q deferred %d (%+v), want %q and %d", kind, len(deferred), deferred, c.want, c.defr)
			}
		})
	}
	due, _ := p.Due(CadenceAccount{ID: 7, Activation: activated(91)}, now)
	if due == nil || due.Cycle != "q1" || due.AccountID != 7 || due.Reason != "quarterly (tenure 91 days)" {
		t.Errorf("due = %+v", due)
	}
	due, _ = p.Due(CadenceAccount{Activation: activated(181), LastTouch: touched(90)}, now)
	if due == nil || due.Cycle != "q2" {
		t.Errorf("second quarter cycle = %+v", due)
	}
	_, deferred := p.Due(CadenceAccount{Activation: activated(50), Tickets: []Ticket{{"T-1", now.Add(-time.Hour)}}, LastTouch: touched(59)}, now)
	if want := now.AddDate(0, 0, -59).Add(60 * 24 * time.Hour); len(deferred) != 1 || !deferred[0].Until.Equal(want) {
		t.Errorf("deferred until %+v, want %s", deferred, want)
	}
}

func TestQuarters(t *testing.T) {
	t.Parallel()
	ny, _ := time.LoadLocation("America/New_York")
	// 03:00 UTC on April 1 is still March 31 in New York.
	q := QuarterOf(time.Date(2027, 4, 1, 3, 0, 0, 0, time.UTC), ny)
	if q.Label() != "Q1 2027" || q.Prev().Label() != "Q4 2026" || !q.Contains(time.Date(2027, 1, 1, 5, 0, 0, 0, time.UTC)) {
		t.Errorf("quarter = %s (%s..%s), prev %s", q.Label(), q.Start, q.End, q.Prev().Label())
	}
}

func TestCompute(t *testing.T) {
	t.Parallel()
	a := func(acct int64, who string, score int, daysAgo int) ScoredAnswer {
		return ScoredAnswer{AccountID: acct, Respondent: who, Score: score, At: now.AddDate(0, 0, -daysAgo)}
	}
	s := Compute([]ScoredAnswer{a(1, "x", 10, 1), a(1, "y", 9, 1), a(2, "x", 7, 1), a(3, "z", 2, 5), a(3, "Z", 9, 1)})
	// z's latest answer (9) counts: 3 promoters, 1 passive, 0 detractors.
	if s.N != 4 || s.Promoters != 3 || s.Passives != 1 || s.Detractors != 0 || s.NPS != 75 {
		t.Errorf("score = %+v", s)
	}
	if s := Compute([]ScoredAnswer{a(1, "x", 0, 1), a(2, "x", 10, 1), a(3, "x", 8, 1)}); s.NPS != 0 {
		t.Errorf("balanced = %+v", s)
	}
	if (Compute(nil) != Score{}) {
		t.Error("empty")
	}
	by := By([]ScoredAnswer{{Segment: "ent", Score: 10, Respondent: "a"}, {Segment: "smb", Score: 0, Respondent: "b"},
		{Segment: "ent", Score: 0, Respondent: "c", AccountID: 2}}, []ScoredAnswer{{Segment: "mid", Score: 9}},
		func(a ScoredAnswer) string { return a.Segment })
	if len(by) != 3 || by[0].Key != "ent" || by[0].Cur.N != 2 || by[2].Key != "mid" || by[2].Prev.NPS != 100 {
		t.Errorf("by = %+v", by)
	}
}

func TestStatsOf(t *testing.T) {
	t.Parallel()
	q := QuarterOf(now, time.UTC)
	opened := now.AddDate(0, 0, -40)
	due := policy.DeadlinesFrom(opened)
	complete := Loop{ID: 1, AccountID: 1, Score: 3, OpenedAt: opened, Due: due,
		ContactedAt: ptr(opened.Add(2 * time.Hour)), RootCauseAt: ptr(opened.Add(20 * time.Hour)), PlanAt: ptr(opened.Add(30 * time.Hour)),
		FollowUpScore: ptr(9), FollowUpAt: ptr(now.AddDate(0, 0, -2))}
	late := Loop{ID: 2, AccountID: 2, Score: 5, OpenedAt: opened, Due: due,
		ContactedAt: ptr(opened.Add(30 * time.Hour)), RootCauseAt: ptr(opened.Add(31 * time.Hour)), PlanAt: ptr(opened.Add(90 * time.Hour)),
		FollowUpScore: ptr(4), FollowUpAt: ptr(now.AddDate(0, 0, -1))}
	open := Loop{ID: 3, AccountID: 3, Score: 0, OpenedAt: opened, Due: due, ContactedAt: ptr(opened.Add(10 * time.Hour))}
	lastQuarter := Loop{ID: 4, AccountID: 4, Score: 0, OpenedAt: q.Start.Add(-time.Hour), Due: due}
	s := StatsOf([]Loop{complete, late, open, lastQuarter}, q)
	if s.Opened != 3 || s.Completed != 2 || s.OnTime != 1 || s.Contacted != 3 || s.MedianContact != 10*time.Hour {
		t.Errorf("stats = %+v", s)
	}
	if s.FollowUps != 2 || s.AvgChange != 2.5 || s.Improved != 1 || s.Worse != 1 || s.Before.NPS != -100 || s.After.NPS != 0 {
		t.Errorf("follow-ups = %+v", s)
	}
	if r := s.CompletionRate(); r < 0.66 || r > 0.67 {
		t.Errorf("completion = %v", r)
	}
	if (LoopStats{}).CompletionRate() != 0 || median([]time.Duration{1, 3}) != 2 {
		t.Error("empty stats")
	}
}

func TestSignVerify(t *testing.T) {
	t.Parallel()
	secret := []byte("0123456789abcdef")
	body := []byte(`{"surveys":[]}`)
	sig := Sign(secret, now, body)
	ts := strconv.FormatInt(now.Unix(), 10)
	if err := Verify(secret, ts, sig, body, now.Add(time.Minute), 5*time.Minute); err != nil {
		t.Fatalf("verify: %v", err)
	}
	if err := Verify(secret, ts, sig, []byte(`{"surveys":[1]}`), now, 5*time.Minute); !errors.Is(err, ErrBadSignature) {
		t.Errorf("tampered body: %v", err)
	}
	if err := Verify([]byte("another-secret-xx"), ts, sig, body, now, 5*time.Minute); !errors.Is(err, ErrBadSignature) {
		t.Errorf("wrong secret: %v", err)
	}
	if err := Verify(secret, ts, sig, body, now.Add(10*time.Minute), 5*time.Minute); !errors.Is(err, ErrStale) {
		t.Errorf("replayed late: %v", err)
	}
}

// TestMatchSurveys: an answer claims the survey it names, else the newest
// fitting unanswered survey of its account, preferring one sent to its
// respondent; a survey is claimed once.
func TestMatchSurveys(t *testing.T) {
	t.Parallel()
	sent := func(daysAgo int) time.Time { return now.AddDate(0, 0, -daysAgo) }
	cands := func() []Survey {
		return []Survey{
			{ID: 1, AccountID: 1, Kind: KindQuarterly, CreatedAt: sent(10)},                      // to the account
			{ID: 2, AccountID: 1, Kind: KindQuarterly, Contact: "Jo@acme", CreatedAt: sent(20)},  // to jo
			{ID: 3, AccountID: 1, Kind: KindPreRenewal, CreatedAt: sent(5)},                      // another kind
			{ID: 4, AccountID: 1, Kind: KindQuarterly, CreatedAt: sent(100)},                     // too old
			{ID: 5, AccountID: 1, Kind: KindQuarterly, Contact: "al@acme", CreatedAt: sent(1)},   // to someone else
			{ID: 6, AccountID: 2, Kind: KindQuarterly, CreatedAt: sent(3), AnsweredAt: ptr(now)}, // answered already
		}
	}
	claim := func(account, survey int64, who string, kind SurveyKind) surveyClaim {
		return surveyClaim{AccountID: account, SurveyID: survey, Respondent: who, Kind: kind, AnsweredAt: now, ResponseID: 100 + survey}
	}
	cases := []struct {
		name   string
		claims []surveyClaim
		want   []int64 // survey per claim, 0 = none
		marked int
	}{
		{"the respondent's own survey first", []surveyClaim{claim(1, 0, "jo@acme", KindQuarterly)}, []int64{2}, 1},
		{"else the account's newest", []surveyClaim{claim(1, 0, "bo@acme", KindQuarterly)}, []int64{1}, 1},
		{"ad hoc takes any kind", []surveyClaim{claim(1, 0, "bo@acme", KindAdhoc)}, []int64{3}, 1},
		{"one survey, one answer", []surveyClaim{claim(1, 0, "jo@acme", KindQuarterly), claim(1, 0, "Jo@Acme", KindQuarterly),
			claim(1, 0, "jo@acme", KindQuarterly)}, []int64{2, 1, 0}, 2},
		{"named", []surveyClaim{claim(1, 4, "x", KindAdhoc)}, []int64{4}, 1},
		{"named and answered already", []surveyClaim{claim(2, 6, "x", KindAdhoc)}, []int64{6}, 0},
		{"nothing fits", []surveyClaim{claim(2, 0, "x", KindQuarterly)}, []int64{0}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, answered, err := matchSurveys(c.claims, cands())
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range got {
				var id int64
				if v != nil {
					id = v.ID
				}
				if id != c.want[i] {
					t.Errorf("claim %d: survey %d, want %d", i, id, c.want[i])
				}
			}
			if len(answered) != c.marked {
				t.Errorf("%d surveys marked answered, want %d: %+v", len(answered), c.marked, answered)
			}
			for _, a := range answered {
				if !a.At.Equal(now) {
					t.Errorf("survey %d answered at %s", a.SurveyID, a.At)
				}
			}
		})
	}
	var mismatch *surveyMismatchError
	if _, _, err := matchSurveys([]surveyClaim{claim(1, 0, "x", KindAdhoc), claim(2, 1, "x", KindAdhoc)}, cands()); !errors.As(err, &mismatch) || mismatch.Index != 1 {
		t.Errorf("a survey of another account: %v", err)
	}
	if _, _, err := matchSurveys([]surveyClaim{claim(1, 99, "x", KindAdhoc)}, cands()); !errors.As(err, &mismatch) || mismatch.Index != 0 {
		t.Errorf("no such survey: %v", err)
	}
}
