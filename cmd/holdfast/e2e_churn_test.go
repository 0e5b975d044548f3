package main

import (
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/internal/churn"
)

const debriefChannel = "C0DEBRIEF"

// A sales-attributable churn recorded through /churned notifies the AE and
// the sales manager exactly once, even when the submission is redelivered
// and submitted twice; the debrief is scheduled and its outcome recorded
// from the DM, and the process change gets its 30-day check-in once.
func TestChurnSalesAttributableNotifiesOnce(t *testing.T) {
	t.Parallel()
	now := time.Date(2027, 3, 10, 15, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	d := newDeployment(t, appendYAML(loopConfig))
	r := d.start(withClock(clock), unpaced())
	r.accounts(
		profiled("acme", "Acme <!channel> Corp", 120000, "U0CSM", "U0AE", "U0MGR", "51-200", "Retail", "Outbound", num(3)),
		profiled("bolt", "Bolt", 80000, "U0CSM2", "U0AE", "U0MGR", "51-200", "Retail", "Outbound", num(5)),   // all four traits
		profiled("crate", "Crate", 90000, "U0CSM2", "U0AE", "U0MGR", "51-200", "Fintech", "Inbound", num(3)), // two traits
		profiled("dune", "Dune", 99000, "U0CSM2", "U0OTHERAE", "U0MGR", "51-200", "Retail", "Outbound", num(3)),
	)

	// Only the owner (or an admin) may record the churn.
	if got := d.command("U0STRANGER", "/churned", "acme"); !strings.Contains(got, "Only the account's owner") {
		t.Fatalf("stranger got %q", got)
	}
	if n := d.countViews(blocks.ViewChurnRecord); n != 0 {
		t.Fatalf("a form opened for a stranger")
	}
	if got := d.command("U0CSM", "/churned", "acme"); !strings.Contains(got, "Opening the churn record") {
		t.Fatalf("/churned answered %q", got)
	}
	view := d.lastView(blocks.ViewChurnRecord)
	form := blocks.PlainTextBlocks(view.Blocks.BlockSet)
	for _, c := range churn.Causes {
		if !strings.Contains(form, c.Label) || !strings.Contains(form, c.Definition) {
			t.Errorf("form lacks %s and its definition", c.Label)
		}
	}

	values := merge(
		field(churn.FieldStatedReason, typed("The reporting module never did what we were shown")),
		field(churn.FieldCause, option(string(churn.FeatureOverpromise))),
		field(churn.FieldDiagnosis, typed("Demoed a roadmap feature as shipped")),
	)
	// Sales-attributable without the deal behaviour: a field error, nothing stored.
	_, body := d.submit("U0CSM", view, values)
	if body["response_action"] != "errors" || body["errors"].(map[string]any)[churn.FieldDealBehaviour] == nil {
		t.Fatalf("want a deal_behaviour error, got %v", body)
	}
	if n := d.count(`SELECT count(*) FROM churn_records`); n != 0 {
		t.Fatalf("%d records after a rejected submit", n)
	}

	values = merge(values, field(churn.FieldDealBehaviour, typed("Custom reports promised in the proposal")))
	ack, body := d.submit("U0CSM", view, values)
	if body["response_action"] != "update" {
		t.Fatalf("submit ack %v", body)
	}
	if _, err := d.fake.Redeliver(ctxTimeout(t, 10*time.Second), ack.EnvelopeID); err != nil {
		t.Fatal(err)
	}
	_, body = d.submit("U0CSM", view, values) // a double submit: a new envelope, the same form
	if body["response_action"] != "update" {
		t.Fatalf("second submit ack %v", body)
	}
	d.settle()

	if n := d.count(`SELECT count(*) FROM churn_records`); n != 1 {
		t.Fatalf("%d churn records, want 1", n)
	}
	if n := d.count(`SELECT count(*) FROM accounts WHERE external_id = 'acme' AND status = 'churned'`); n != 1 {
		t.Fatal("account not marked churned")
	}
	if n := d.count(`SELECT count(*) FROM timeline WHERE kind = 'churn.recorded'`); n != 1 {
		t.Fatalf("%d timeline entries", n)
	}
	for _, u := range []string{"U0AE", "U0MGR"} {
		posts := d.posts(u)
		if len(posts) != 1 {
			t.Fatalf("%s got %d DMs, want exactly 1", u, len(posts))
		}
		dm := plain(posts[0])
		for _, want := range []string{"Churn debrief", "Feature overpromise", "Custom reports promised in the proposal",
			"The reporting module never did what we were shown", "Bolt", "Schedule 20-min debrief", "Record debrief outcome"} {
			if !strings.Contains(dm, want) {
				t.Errorf("%s's DM lacks %q:\n%s", u, want, dm)
			}
		}
		for _, bad := range []string{"Crate", "Dune"} {
			if strings.Contains(dm, bad) {
				t.Errorf("%s's DM lists %s, which does not look the same or is not in the AE's book", u, bad)
			}
		}
		if got := mrkdwn(posts[0]); strings.Contains(got, "<!channel>") || !strings.Contains(got, "&lt;!channel&gt;") {
			t.Error("customer text unescaped in the DM")
		}
	}
	if len(d.posts("U0CSM")) != 0 || len(d.posts(debriefChannel)) != 0 {
		t.Error("the debrief went somewhere else too")
	}

	// /churned again: already churned, nothing opens.
	if got := d.command("U0CSM", "/churned", "acme"); !strings.Contains(got, "already churned") {
		t.Errorf("second /churned answered %q", got)
	}

	// The debrief: a stranger cannot schedule it; the AE can.
	_, churnID := findAction(d.posts("U0AE"), blocks.ActionDebriefSchedule)
	d.click("U0STRANGER", "U0AE", blocks.ActionDebriefSchedule, churnID)
	d.told("Only the AE, the sales manager or the CSM")
	d.click("U0AE", "U0AE", blocks.ActionDebriefSchedule, churnID)
	sched := d.lastView(blocks.ViewDebriefSchedule)
	when := now.Add(48 * time.Hour)
	if _, body := d.submit("U0AE", sched, field(blocks.FieldDebriefWhen, slack.BlockAction{SelectedDateTime: when.Unix()})); body != nil {
		t.Fatalf("schedule ack %v", body)
	}
	d.settle()
	aeMsgs := d.fake.Messages("U0AE")
	root := d.posts("U0AE")[0].TS
	if got := latest(aeMsgs, root); !strings.Contains(got, "Debrief scheduled") || !strings.Contains(got, "Reschedule debrief") {
		t.Errorf("DM not updated after scheduling:\n%s", got)
	}

	// The outcome with one process change and its owner.
	d.click("U0MGR", "U0MGR", blocks.ActionDebriefOutcome, churnID)
	out := d.lastView(blocks.ViewDebriefOutcome)
	change := merge(field(blocks.FieldDebriefOutcome, typed("We sold the roadmap")),
		field(blocks.FieldProcessChange, typed("Roadmap items need PM sign-off before a proposal")))
	if _, body := d.submit("U0MGR", out, change); body["response_action"] != "errors" {
		t.Fatalf("a change without an owner was accepted: %v", body)
	}
	change = merge(change, field(blocks.FieldProcessChangeOwner, slack.BlockAction{SelectedUser: "U0MGR"}))
	if _, body := d.submit("U0MGR", out, change); body != nil {
		t.Fatalf("outcome ack %v", body)
	}
	if _, body := d.submit("U0MGR", out, change); body["response_action"] != "errors" {
		t.Fatalf("a second outcome was accepted: %v", body)
	}
	d.settle()
	if got := latest(d.fake.Messages("U0MGR"), d.posts("U0MGR")[0].TS); !strings.Contains(got, "Process change agreed") || strings.Contains(got, "Record debrief outcome") {
		t.Errorf("DM after the outcome:\n%s", got)
	}

	// The 30-day check-in goes to the owner once, not before it is due.
	ctx := ctxTimeout(t, 10*time.Second)
	dmsBefore := len(d.posts("U0MGR"))
	if err := r.app.scheduler.RunNow(ctx, churn.JobDebriefCheckins, now.AddDate(0, 0, 29)); err != nil {
		t.Fatal(err)
	}
	d.settle()
	if n := len(d.posts("U0MGR")); n != dmsBefore {
		t.Fatalf("check-in sent early")
	}
	for range 2 {
		if err := r.app.scheduler.RunNow(ctx, churn.JobDebriefCheckins, now.AddDate(0, 0, 31)); err != nil {
			t.Fatal(err)
		}
	}
	d.settle()
	posts := d.posts("U0MGR")
	if len(posts) != dmsBefore+1 || !strings.Contains(plain(posts[len(posts)-1]), "30-day check-in") ||
		!strings.Contains(plain(posts[len(posts)-1]), "Roadmap items need PM sign-off") {
		t.Fatalf("check-in DMs: %d (before %d)", len(posts), dmsBefore)
	}
}

// A cause that is not sales-attributable notifies nobody in Sales.
func TestChurnNotSalesAttributable(t *testing.T) {
	t.Parallel()
	now := time.Date(2027, 3, 10, 15, 0, 0, 0, time.UTC)
	d := newDeployment(t, appendYAML(loopConfig))
	r := d.start(withClock(func() time.Time { return now }))
	r.accounts(profiled("acme", "Acme", 120000, "U0CSM", "U0AE", "U0MGR", "51-200", "Retail", "Outbound", num(3)))
	d.command("U0ADMIN", "/churned", "Acme") // an admin may record any account's churn
	view := d.lastView(blocks.ViewChurnRecord)
	_, body := d.submit("U0ADMIN", view, merge(
		field(churn.FieldStatedReason, typed("Budget cut")),
		field(churn.FieldCause, option(string(churn.BusinessChange))),
		field(churn.FieldDiagnosis, typed("Acquired; the parent uses a competitor")),
		field(churn.FieldChurnedOn, slack.BlockAction{SelectedDate: "2027-03-01"})))
	if body["response_action"] != "update" {
		t.Fatalf("ack %v", body)
	}
	d.settle()
	if len(d.posts("U0AE")) != 0 || len(d.posts("U0MGR")) != 0 || len(d.posts(debriefChannel)) != 0 {
		t.Error("Sales was notified about a business change")
	}
	if n := d.count(`SELECT count(*) FROM churn_records WHERE churned_on = '2027-03-01' AND recorded_by = 'U0ADMIN'`); n != 1 {
		t.Error("record not stored with its date")
	}
	if n := d.count(`SELECT count(*) FROM churn_debriefs`); n != 0 {
		t.Error("a debrief for a business change")
	}
	if got := plain(d.posts(alertChannel)[0]); !strings.Contains(got, "Marked churned") {
		t.Errorf("account thread note: %s", got)
	}
}
