package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/bot/slacktest"
	"github.com/holdfast/holdfast/internal/churn"
	"github.com/holdfast/holdfast/internal/ingest"
)

// The weekly win-back list respects each root cause's window (pricing 90
// days, business change 180, never for ICP miss) and dormancy; Start
// win-back records one attempt, the answer is tracked, and the win-back
// rate shows in the report.
func TestWinbackWindows(t *testing.T) {
	t.Parallel()
	now := time.Date(2027, 6, 7, 9, 0, 0, 0, time.UTC) // a Monday
	clock := newClock(now)
	d := newDeployment(t, appendYAML(loopConfig))
	r := d.start(withClock(clock.Now), unpaced())
	acct := func(id, owner string) ingest.AccountIn {
		return ingest.AccountIn{ExternalID: id, Name: "Acct " + id, ARR: 10000, OwnerCSM: owner}
	}
	r.accounts(acct("pr_open", "U0CSM"), acct("pr_early", "U0CSM"), acct("pr_closed", "U0CSM"), acct("bc_early", "U0CSM"),
		acct("bc_open", "U0CSM"), acct("icp", "U0CSM"), acct("dormant", "U0CSM"), acct("lively", "U0CSM"), acct("pr_open2", "U0CSM2"))
	d.seedChurn("pr_open", "2027-03-01", churn.Pricing, "U0CSM")         // day 98: open (day 90 to 179)
	d.seedChurn("pr_early", "2027-04-01", churn.Pricing, "U0CSM")        // day 67: not yet
	d.seedChurn("pr_closed", "2026-11-01", churn.Pricing, "U0CSM")       // day 218: closed
	d.seedChurn("bc_early", "2027-03-01", churn.BusinessChange, "U0CSM") // day 98 of 180: not yet
	d.seedChurn("bc_open", "2026-11-15", churn.BusinessChange, "U0CSM")  // day 204: open
	d.seedChurn("icp", "2026-06-01", churn.ICPMiss, "U0CSM")             // never
	d.seedChurn("pr_open2", "2027-03-01", churn.Pricing, "U0CSM")        // another owner's list
	usage := func(account string, daysAgo int) ingest.SignalIn {
		v := 5.0
		return ingest.SignalIn{Account: account, Kind: "usage", Source: "product", Value: &v,
			OccurredAt: now.AddDate(0, 0, -daysAgo), IdempotencyKey: fmt.Sprintf("u-%s-%d", account, daysAgo)}
	}
	r.signals(usage("dormant", 40), usage("lively", 40), usage("lively", 2))

	ctx := ctxTimeout(t, 20*time.Second)
	for range 2 { // a re-run in the same week offers nothing twice
		if err := r.app.scheduler.RunNow(ctx, churn.JobWinbackWeekly, now); err != nil {
			t.Fatal(err)
		}
	}
	d.settle()
	lists := d.posts("U0CSM")
	if len(lists) != 1 {
		t.Fatalf("%d win-back lists for U0CSM, want 1", len(lists))
	}
	list := plain(lists[0])
	for _, want := range []string{"Acct pr_open", "Acct bc_open", "Acct dormant", "window open until Aug 27, 2027", "no usage signal since Apr 28, 2027"} {
		if !strings.Contains(list, want) {
			t.Errorf("list lacks %q:\n%s", want, list)
		}
	}
	for _, not := range []string{"pr_early", "pr_closed", "bc_early", "Acct icp", "lively", "pr_open2"} {
		if strings.Contains(list, not) {
			t.Errorf("list offers %s:\n%s", not, list)
		}
	}
	if other := d.posts("U0CSM2"); len(other) != 1 || !strings.Contains(plain(other[0]), "pr_open2") {
		t.Errorf("U0CSM2's list: %d", len(other))
	}

	// Start win-back on pr_open: only its owner, once.
	startID, offer := findStart(t, lists[0], "Acct pr_open")
	d.click("U0STRANGER", "U0CSM", startID, offer)
	d.told("Only the account's owner")
	d.click("U0CSM", "U0CSM", startID, offer)
	d.click("U0CSM", "U0CSM", startID, offer)
	d.told("already started")
	waitFor(t, "the list update", func() bool { return strings.Contains(latest(d.fake.Messages("U0CSM"), lists[0].TS), "Started by") })
	if n := d.count(`SELECT count(*) FROM winback_attempts`); n != 1 {
		t.Fatalf("%d attempts, want 1", n)
	}
	if n := d.count(`SELECT count(*) FROM timeline WHERE kind = 'winback.started'`); n != 1 {
		t.Fatal("no timeline entry for the attempt")
	}
	updated := latest(d.fake.Messages("U0CSM"), lists[0].TS)
	if !strings.Contains(updated, "Started by @U0CSM") || !strings.Contains(updated, "[ Re-engaged ]") {
		t.Fatalf("list not updated after the start:\n%s", updated)
	}

	// The answer.
	d.click("U0CSM", "U0CSM", blocks.ActionWinbackOutcome+offer+"_re_engaged", offer+":re_engaged")
	waitFor(t, "the answer", func() bool { return d.count(`SELECT count(*) FROM winback_attempts WHERE outcome IS NOT NULL`) == 1 })
	d.click("U0CSM", "U0CSM", blocks.ActionWinbackOutcome+offer+"_declined", offer+":declined")
	d.told("already recorded")
	d.settle()
	if n := d.count(`SELECT count(*) FROM winback_attempts WHERE outcome = 're_engaged' AND outcome_by = 'U0CSM'`); n != 1 {
		t.Fatal("answer not recorded once")
	}
	if got := latest(d.fake.Messages("U0CSM"), lists[0].TS); !strings.Contains(got, "✅ Re-engaged · recorded by @U0CSM") {
		t.Errorf("list after the answer:\n%s", got)
	}
	if got := d.command("U0LEAD", "/rootcause", "report 2027-06"); !strings.Contains(got, "1 attempt started · 1 re-engaged") ||
		!strings.Contains(got, "Win-back rate: *100%* (1 of 1 answered)") {
		t.Errorf("report win-back:\n%s", got)
	}

	// Next week: the attempted account is not offered again; the others are.
	next := now.AddDate(0, 0, 7)
	clock.Set(next)
	if err := r.app.scheduler.RunNow(ctx, churn.JobWinbackWeekly, next); err != nil {
		t.Fatal(err)
	}
	d.settle()
	lists = d.posts("U0CSM")
	if len(lists) != 2 {
		t.Fatalf("%d lists after the second week", len(lists))
	}
	if week2 := plain(lists[1]); strings.Contains(week2, "Acct pr_open") || !strings.Contains(week2, "Acct bc_open") {
		t.Errorf("second week's list:\n%s", week2)
	}
}

// findStart finds the Start win-back button of the row naming account.
func findStart(t *testing.T, m slacktest.Message, account string) (actionID, value string) {
	t.Helper()
	for i, b := range m.Blocks {
		sec, ok := b.(*slack.SectionBlock)
		if !ok || sec.Text == nil || !strings.Contains(sec.Text.Text, account+"*") || i+1 >= len(m.Blocks) {
			continue
		}
		if ab, ok := m.Blocks[i+1].(*slack.ActionBlock); ok {
			btn := ab.Elements.ElementSet[0].(*slack.ButtonBlockElement)
			if strings.HasPrefix(btn.ActionID, blocks.ActionWinbackStart) {
				return btn.ActionID, btn.Value
			}
		}
	}
	t.Fatalf("no Start win-back button for %s", account)
	return "", ""
}
