package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/bot/slacktest"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/internal/playbook"
)

// playbookYAML: roles name the owner's manager and leadership; the watcher
// and the rescoring run only when a test says (RunNow with the test clock).
const playbookYAML = `roles:
  csm:
    users: [U0CSM]
  managers:
    - users: [U0MGR]
      team:
        users: [U0CSM]
  leadership:
    users: [U0LEAD]
playbook:
  jobs: ` + never + `
scoring:
  rescore: ` + never + `
`

// pbField is one input of a playbook modal, as Slack submits it.
func pbField(block string, a slack.BlockAction) map[string]map[string]slack.BlockAction {
	return map[string]map[string]slack.BlockAction{block: {"pb_input": a}}
}

// watch runs the playbook watcher on every replica at once, as two
// replicas' cron ticks would.
func watch(t *testing.T, at time.Time, rs ...*replica) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(rs))
	for i, r := range rs {
		wg.Go(func() { errs[i] = r.app.scheduler.RunNow(context.Background(), playbook.JobWatch, at) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// postsContaining counts the posts (roots and replies) in channel whose
// text holds want.
func (d *deployment) postsContaining(channel, want string) int {
	n := 0
	for _, m := range d.posts(channel) {
		if strings.Contains(plain(m), want) {
			n++
		}
	}
	return n
}

// criticalAcme raises a critical alert for acme at now: trouble plus a
// stated cancellation.
func criticalAcme(r *replica, now time.Time) ingest.SignalsResult {
	r.accounts(acme())
	r.signals(usageHistory("acme", now, 100, 100)...)
	sigs := append(trouble(now), ingest.SignalIn{Account: "acme", Kind: "cancellation_intent", Source: "billing", IdempotencyKey: "C-1",
		OccurredAt: now.Add(-10 * time.Minute), Text: "Please cancel our subscription at renewal."})
	return r.signals(sigs...)
}

func TestPlaybookUnclaimedCriticalAlertNudgesThenEscalatesOnce(t *testing.T) {
	t.Parallel()
	d := newDeployment(t, appendYAML(playbookYAML))
	start := time.Date(2027, time.March, 1, 10, 0, 0, 0, time.UTC)
	clock := newClock(start)
	r1 := d.start(unpaced(), withTestClock(clock))
	r2 := d.start(unpaced(), withTestClock(clock))

	res := criticalAcme(r1, start)
	if len(res.Alerts) != 1 {
		t.Fatalf("want one alert, got %+v", res)
	}
	if n := d.count(`SELECT count(*) FROM alerts WHERE critical`); n != 1 {
		t.Fatalf("%d critical alerts, want 1", n)
	}
	if n := d.count(`SELECT count(*) FROM playbooks WHERE state = 'open' AND critical AND alert_id = $1`, res.Alerts[0]); n != 1 {
		t.Fatalf("%d open critical playbooks for the alert, want 1", n)
	}
	d.settle()
	const nudge, escalation = "without a claim", "response SLA (owner"

	watch(t, start.Add(2*time.Hour-time.Minute), r1, r2)
	d.settle()
	if n := d.postsContaining(alertChannel, nudge); n != 0 {
		t.Fatalf("nudged %d times before 2h", n)
	}
	watch(t, start.Add(2*time.Hour), r1, r2)
	watch(t, start.Add(3*time.Hour), r1, r2)
	d.settle()
	if n := d.postsContaining(alertChannel, nudge); n != 1 {
		t.Fatalf("%d nudges at 2h-3h, want exactly 1", n)
	}
	if n := d.postsContaining(alertChannel, escalation); n != 0 {
		t.Fatalf("escalated before 4h")
	}
	// A replica restarts between the nudge and the escalation: the SLA
	// clock lives in Postgres, not in a process.
	r2.stop()
	r3 := d.start(unpaced(), withTestClock(clock))
	watch(t, start.Add(4*time.Hour), r1, r3)
	watch(t, start.Add(5*time.Hour), r1, r3)
	d.settle()
	if n := d.postsContaining(alertChannel, escalation); n != 1 {
		t.Fatalf("%d escalations, want exactly 1", n)
	}
	if n := d.postsContaining(alertChannel, nudge); n != 1 {
		t.Fatalf("%d nudges after the escalation, want still 1", n)
	}
	for _, m := range d.posts(alertChannel) {
		text := plain(m)
		if strings.Contains(text, nudge) && !strings.Contains(text, "@U0CSM") {
			t.Errorf("the nudge does not mention the owner: %s", text)
		}
		if strings.Contains(text, escalation) && !strings.Contains(text, "@U0MGR") {
			t.Errorf("the escalation does not mention the manager: %s", text)
		}
		if (strings.Contains(text, nudge) || strings.Contains(text, escalation)) && m.ThreadTS == "" {
			t.Errorf("a reminder went outside the alert's thread: %s", text)
		}
	}
	// A claim after the SLA is recorded as such, and nothing more is sent.
	clock.Set(start.Add(5 * time.Hour))
	d.click("U0CSM", alertChannel, blocks.ActionClaim, strconv.FormatInt(res.Alerts[0], 10))
	waitFor(t, "claim", func() bool { return d.count(`SELECT count(*) FROM playbooks WHERE claimed_by = 'U0CSM'`) == 1 })
	watch(t, start.Add(6*time.Hour), r1, r3)
	d.settle()
	if n := d.postsContaining(alertChannel, "SLA 4h missed"); n != 1 {
		t.Errorf("the steps card does not say the SLA was missed (%d)", n)
	}
	if n := d.postsContaining(alertChannel, nudge) + d.postsContaining(alertChannel, escalation); n != 2 {
		t.Errorf("%d reminders in all, want the nudge and the escalation only", n)
	}
	// Nothing recorded 48h after the claim: Contacted is overdue, said once.
	watch(t, start.Add(53*time.Hour-time.Minute), r1, r3)
	d.settle()
	if n := d.postsContaining(alertChannel, "*Contacted* was due"); n != 0 {
		t.Fatalf("Contacted reminded before its deadline")
	}
	watch(t, start.Add(53*time.Hour), r1, r3)
	watch(t, start.Add(54*time.Hour), r1, r3)
	d.settle()
	if n := d.postsContaining(alertChannel, "*Contacted* was due"); n != 1 {
		t.Errorf("%d overdue reminders for Contacted, want 1", n)
	}
	if n := d.postsContaining(alertChannel, "was due"); n != 1 {
		t.Errorf("%d overdue reminders in all, want only Contacted's", n)
	}
}

func TestPlaybookRunsToRecoveredThenASlipReopensIt(t *testing.T) {
	t.Parallel()
	d := newDeployment(t, appendYAML(playbookYAML))
	start := time.Date(2027, time.March, 1, 10, 0, 0, 0, time.UTC)
	clock := newClock(start)
	r := d.start(unpaced(), withTestClock(clock))
	r2 := d.start(unpaced(), withTestClock(clock))

	res := atRiskAcme(r, start)
	if len(res.Alerts) != 1 {
		t.Fatalf("want one alert, got %+v", res)
	}
	alertID := strconv.FormatInt(res.Alerts[0], 10)
	var pbID int64
	if err := d.store.DB().QueryRow(context.Background(), `SELECT id FROM playbooks WHERE alert_id = $1`, res.Alerts[0]).Scan(&pbID); err != nil {
		t.Fatalf("no playbook for the alert: %v", err)
	}
	id := strconv.FormatInt(pbID, 10)
	d.settle()

	// Before a claim no step can be recorded.
	d.click("U0CSM", alertChannel, playbook.ActionStep+"contacted", id)
	d.told("Claim the alert first")

	// A stranger cannot claim (not their book), the owner can.
	clock.Set(start.Add(time.Hour))
	d.click("U0NOBODY", alertChannel, blocks.ActionClaim, alertID)
	d.told("isn't in your book")
	d.click("U0CSM", alertChannel, blocks.ActionClaim, alertID)
	waitFor(t, "claim", func() bool { return d.count(`SELECT count(*) FROM playbooks WHERE claimed_by = 'U0CSM'`) == 1 })
	d.settle()
	var card slacktest.Message
	for _, m := range d.posts(alertChannel) {
		if strings.Contains(plain(m), "At-risk playbook: Acme Corp") {
			card = m
		}
	}
	if card.TS == "" || card.ThreadTS == "" {
		t.Fatalf("no steps card in the alert's thread")
	}
	for _, want := range []string{"Owner @U0CSM", "within SLA", "Contacted", "Discovery", "Plan", "Weekly check-in", "Dismiss as false alarm"} {
		if !strings.Contains(plain(card), want) {
			t.Errorf("steps card lacks %q:\n%s", want, plain(card))
		}
	}

	// Strangers are refused and nothing is recorded.
	d.click("U0NOBODY", alertChannel, playbook.ActionStep+"contacted", id)
	d.told("Only the playbook's owner, their manager or leadership")
	if n := d.count(`SELECT count(*) FROM playbook_steps`); n != 0 {
		t.Fatalf("a stranger recorded %d steps", n)
	}

	// Contacted (one click), then again: told who did it.
	clock.Set(start.Add(5 * time.Hour))
	d.click("U0CSM", alertChannel, playbook.ActionStep+"contacted", id)
	waitFor(t, "contact", func() bool { return d.count(`SELECT count(*) FROM playbooks WHERE contacted_at IS NOT NULL`) == 1 })
	d.click("U0CSM", alertChannel, playbook.ActionStep+"contacted", id)
	d.told("Already recorded by")

	// Discovery by the manager: a modal, refused without a root cause, then saved.
	d.click("U0MGR", alertChannel, playbook.ActionStep+"discovery", id)
	v := d.lastView(playbook.ViewStep + "discovery")
	_, body := d.submit("U0MGR", v, pbField(playbook.BlockNotes, typed("Champion left; the new VP doubts the value")))
	if body["response_action"] != "errors" {
		t.Fatalf("discovery without a root cause was accepted: %v", body)
	}
	_, body = d.submit("U0MGR", v, merge(pbField(playbook.BlockRootCause, option("phantom_champion")),
		pbField(playbook.BlockNotes, typed("Champion left; the new VP doubts the <b>value</b>"))))
	if len(body) != 0 {
		t.Fatalf("discovery refused: %v", body)
	}

	// The plan, by leadership, asking for a discount: the thread offers the offer.
	d.click("U0LEAD", alertChannel, playbook.ActionStep+"plan", id)
	v = d.lastView(playbook.ViewStep + "plan")
	_, body = d.submit("U0LEAD", v, merge(
		pbField(playbook.BlockAction+"0", typed("Exec call with the new VP")),
		pbField(playbook.BlockActionOwner+"0", slack.BlockAction{SelectedUser: "U0CSM"}),
		pbField(playbook.BlockActionDue+"0", slack.BlockAction{SelectedDate: "2027-03-08"}),
		pbField(playbook.BlockResources, slack.BlockAction{SelectedOptions: []slack.OptionBlockObject{{Value: "exec_sponsor"}, {Value: "discount"}}}),
	))
	if len(body) != 0 {
		t.Fatalf("plan refused: %v", body)
	}
	if n := d.count(`SELECT count(*) FROM playbook_steps`); n != 3 {
		t.Fatalf("%d steps recorded, want 3", n)
	}
	d.settle()
	if _, v := findAction(d.posts(alertChannel), blocks.ActionProposeOffer); v == "" {
		t.Errorf("no Propose offer button after a plan asking for a discount")
	}

	// Weekly check-in: the reminder comes once a week with the score's move.
	watch(t, start.Add(7*24*time.Hour+2*time.Hour), r, r2)
	d.settle()
	if n := d.postsContaining(alertChannel, "weekly check-in"); n != 1 {
		t.Errorf("%d check-in reminders after a week, want 1", n)
	}

	// Time heals: the ticket leaves the window, a rescore lifts the account
	// above the line, and 14 days later the playbook closes as recovered.
	healed := start.Add(30 * 24 * time.Hour)
	clock.Set(healed)
	if err := r.app.scheduler.RunNow(context.Background(), "rescore", healed); err != nil {
		t.Fatal(err)
	}
	band := ""
	_ = d.store.DB().QueryRow(context.Background(), `SELECT health_band FROM accounts WHERE external_id = 'acme'`).Scan(&band)
	if band == "at_risk" || band == "critical" {
		t.Fatalf("acme still %s after 30 days", band)
	}
	watch(t, healed.Add(14*24*time.Hour-time.Hour), r, r2)
	if n := d.count(`SELECT count(*) FROM playbooks WHERE state = 'recovered'`); n != 0 {
		t.Fatalf("recovered before 14 days above the line")
	}
	watch(t, healed.Add(14*24*time.Hour), r, r2)
	if n := d.count(`SELECT count(*) FROM playbooks WHERE state = 'recovered' AND recovered_from IS NOT NULL AND score_at_resolution >= 70`); n != 1 {
		t.Fatalf("not recovered after 14 days above the line")
	}
	d.settle()
	recovered := ""
	for _, m := range d.posts(alertChannel) {
		if strings.Contains(plain(m), "Recovered: Acme Corp") {
			recovered = plain(m)
		}
	}
	for _, want := range []string{"Health " + fmt.Sprint(d.count(`SELECT score_at_open FROM playbooks`)) + " → ", "Contacted", "Phantom champion", "Plan"} {
		if !strings.Contains(recovered, want) {
			t.Errorf("recovered message lacks %q:\n%s", want, recovered)
		}
	}
	for _, m := range d.posts(alertChannel) {
		if raw := m.Raw.Params["blocks"]; strings.Contains(plain(m), "Recovered: Acme Corp") &&
			!strings.Contains(strings.Join(mrkdwnTexts(t, []byte(raw)), "\n"), "&lt;b&gt;value&lt;/b&gt;") {
			t.Errorf("customer notes reached Slack unescaped: %s", raw)
		}
	}

	// It slips again: a new playbook, linked to the old one, in a new thread.
	slip := healed.Add(15 * 24 * time.Hour)
	clock.Set(slip)
	zero := 0.0
	var sigs []ingest.SignalIn
	for i := range 4 {
		sigs = append(sigs, ingest.SignalIn{Account: "acme", Kind: "ticket", Source: "zendesk", IdempotencyKey: fmt.Sprintf("T-slip-%d", i),
			Severity: "urgent", OccurredAt: slip.Add(-time.Hour), Text: "Broken again. Terrible, we are very unhappy."})
	}
	sigs = append(sigs, ingest.SignalIn{Account: "acme", Kind: "nps", Source: "delighted", IdempotencyKey: "N-slip", Value: &zero,
		OccurredAt: slip.Add(-time.Hour), Text: "Awful."})
	again := r.signals(sigs...)
	if len(again.Alerts) != 1 {
		t.Fatalf("the slip raised no alert: %+v (score %d)", again, d.count(`SELECT health_score FROM accounts`))
	}
	if n := d.count(`SELECT count(*) FROM playbooks WHERE state = 'open' AND previous_id = $1`, pbID); n != 1 {
		t.Fatalf("no new playbook linked to the recovered one")
	}
	if n := d.count(`SELECT count(DISTINCT thread_key) FROM playbooks`); n != 2 {
		t.Errorf("the new playbook shares the old thread")
	}
	d.settle()
	if n := d.postsContaining(alertChannel, "slipped again"); n != 1 {
		t.Errorf("%d slip notes, want 1", n)
	}
}

func TestPlaybookDismissedAsFalseAlarmKeepsALabel(t *testing.T) {
	t.Parallel()
	d := newDeployment(t, appendYAML(playbookYAML))
	start := time.Date(2027, time.March, 1, 10, 0, 0, 0, time.UTC)
	clock := newClock(start)
	r := d.start(unpaced(), withTestClock(clock))
	res := atRiskAcme(r, start)
	if len(res.Alerts) != 1 {
		t.Fatalf("want one alert, got %+v", res)
	}
	d.click("U0CSM", alertChannel, blocks.ActionClaim, strconv.FormatInt(res.Alerts[0], 10))
	waitFor(t, "claim", func() bool { return d.count(`SELECT count(*) FROM playbooks WHERE claimed_by = 'U0CSM'`) == 1 })
	id := strconv.Itoa(d.count(`SELECT id FROM playbooks`))

	d.click("U0NOBODY", alertChannel, playbook.ActionDismiss, id)
	d.told("Only the playbook's owner")
	d.click("U0CSM", alertChannel, playbook.ActionDismiss, id)
	v := d.lastView(playbook.ViewDismiss)
	_, body := d.submit("U0CSM", v, pbField(playbook.BlockReason, typed("meh")))
	if body["response_action"] != "errors" {
		t.Fatalf("a three-letter reason was accepted: %v", body)
	}
	_, body = d.submit("U0CSM", v, pbField(playbook.BlockReason, typed("The ticket was a test from their sandbox team")))
	if len(body) != 0 {
		t.Fatalf("dismissal refused: %v", body)
	}
	if n := d.count(`SELECT count(*) FROM playbooks WHERE state = 'dismissed' AND resolution_note LIKE 'The ticket was a test%'`); n != 1 {
		t.Fatalf("playbook not dismissed")
	}
	if n := d.count(`SELECT count(*) FROM risk_labels WHERE label = 'false_alarm' AND labelled_by = 'U0CSM' AND score IS NOT NULL
		AND jsonb_array_length(components) > 0`); n != 1 {
		t.Fatalf("no labelled example with the health that raised the alert")
	}
	// The second submission of the same form (a redelivery) changes nothing.
	_, body = d.submit("U0CSM", v, pbField(playbook.BlockReason, typed("The ticket was a test from their sandbox team")))
	if len(body) != 0 || d.count(`SELECT count(*) FROM risk_labels`) != 1 {
		t.Fatalf("redelivered dismissal: %v, %d labels", body, d.count(`SELECT count(*) FROM risk_labels`))
	}
	d.settle()
	if n := d.postsContaining(alertChannel, "Dismissed as a false alarm by @U0CSM"); n != 1 {
		t.Errorf("%d dismissal notes, want 1", n)
	}
}

func TestLiveLeadershipAlertOnceAndFromMinARR(t *testing.T) {
	t.Parallel()
	const leadership = "C0LEADS"
	d := newDeployment(t, appendYAML(playbookYAML))
	start := time.Date(2027, time.March, 1, 10, 0, 0, 0, time.UTC)
	clock := newClock(start)
	r1 := d.start(unpaced(), withTestClock(clock))
	r2 := d.start(unpaced(), withTestClock(clock))
	if got := d.commandIn("U0LEAD", leadership, "/digest", "subscribe live risk min_arr=250000"); !strings.Contains(got, "live churn-risk alerts") {
		t.Fatalf("subscribe live: %q", got)
	}
	big := acme()
	big.ExternalID, big.Name, big.ARR = "bigco", "BigCo", 400000
	r1.accounts(big)

	// acme ($240k) goes critical: below min_arr, nothing live.
	criticalAcme(r1, start)
	// BigCo ($400k) goes critical on both replicas at once: one live post.
	critical := func(key string) []ingest.SignalIn {
		var sigs []ingest.SignalIn
		for i := range 3 {
			sigs = append(sigs, ingest.SignalIn{Account: "bigco", Kind: "ticket", Source: "zendesk", Severity: "urgent",
				IdempotencyKey: fmt.Sprintf("%s-t%d", key, i), OccurredAt: start.Add(-time.Hour), Text: "Down again. Terrible."})
		}
		return append(sigs, ingest.SignalIn{Account: "bigco", Kind: "cancellation_intent", Source: "billing",
			IdempotencyKey: key + "-c", OccurredAt: start.Add(-time.Minute), Text: "We will cancel at renewal."})
	}
	var wg sync.WaitGroup
	wg.Go(func() { r1.signals(critical("a")...) })
	wg.Go(func() { r2.signals(critical("b")...) })
	wg.Wait()
	if n := d.count(`SELECT count(*) FROM alerts a JOIN accounts c ON c.id = a.account_id WHERE c.external_id = 'bigco' AND a.critical`); n < 1 {
		t.Fatalf("BigCo raised no critical alert")
	}
	// Another critical alert inside the cooldown: still one.
	clock.Set(start.Add(2 * time.Hour))
	r2.signals(critical("c")...)
	d.settle()
	posts := d.posts(leadership)
	var live []string
	for _, m := range posts {
		if m.Method == "chat.postMessage" {
			live = append(live, plain(m))
		}
	}
	if len(live) != 1 || !strings.Contains(live[0], "BigCo") {
		t.Fatalf("live posts to leadership: %q, want one about BigCo", live)
	}
	if strings.Contains(strings.Join(live, "\n"), "Acme") {
		t.Errorf("an account below min_arr went live")
	}
}
