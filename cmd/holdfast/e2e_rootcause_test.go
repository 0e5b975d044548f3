package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/holdfast/holdfast/internal/churn"
	"github.com/holdfast/holdfast/internal/ingest"
)

// seedChurn records a past churn through the churn module, stored as the
// /churned form stores it, without its notifications.
func (d *deployment) seedChurn(external string, on string, cause churn.Cause, by string) churn.StoredRecord {
	d.t.Helper()
	ctx := context.Background()
	a, err := d.store.AccountByExternalID(ctx, external)
	if err != nil {
		d.t.Fatal(err)
	}
	day, _ := time.Parse(time.DateOnly, on)
	m := churn.New(d.store, nil, churn.Options{Settings: churn.DefaultSettings()}, time.Now, slog.New(slog.DiscardHandler))
	rec, created, err := m.RecordPastChurn(ctx, churn.RecordInput{AccountID: a.ID, SubmissionKey: "seed:" + external + ":" + on,
		Submission: churn.Submission{StatedReason: "said so", Cause: cause, Diagnosis: "diagnosed", DealBehaviour: "deal", ChurnedOn: day},
		RecordedBy: by, At: day.Add(10 * time.Hour)})
	if err != nil || !created {
		d.t.Fatalf("seed churn %s: %v", external, err)
	}
	return rec
}

// The monthly root-cause post, on the first business day, matches numbers
// computed by hand for this fixture, goes out once, and /rootcause shows
// the same report; the tag audit flags a catch-all tagger.
//
// Fixture (February 2027; the post is due Monday March 1, 2027):
//
//	acct  ARR   size      industry source    tenure  churned
//	a1    100k  51-200    Retail   Outbound  3       2027-02-05 feature overpromise (sales)
//	a2    50k   51-200    Retail   Inbound   30      2027-02-10 pricing
//	a3    30k   1-50      Fintech  Outbound  8       2027-02-20 feature overpromise (sales)
//	a4    20k   1-50      Fintech  Inbound   15      2027-01-15 pricing (before February)
//	a5    40k   201-1000  Retail   Outbound  40      2026-11-10 pricing (Q4 2026)
//	a6    80k   51-200    Retail   Outbound  4       active
//	a7    10k   51-200    Retail   Outbound  30      active
//	a8    60k   1-50      Retail   Partner   2       active
//	a9    5k    1-50      Fintech  Outbound  9       active
//	a10   25k   (no profile)                         active
//
// By hand: February churn = a1, a2, a3: 3 accounts, $180k; sales-attributable
// a1 + a3 = 2 accounts, $130k = 72% of churned ARR. Feature overpromise
// $130k (72%), pricing $50k (28%). Pricing repeats: Q4 2026 one (a5), Q1
// 2027 two (a4, a2): 0 → 0 → 1 → 2, two quarters running.
// Customers on Feb 1 (not churned before): a1, a2, a3, a6–a10 = 8.
// Size: 51-200 2/4 = 50%, 1-50 1/3 = 33%, not recorded 0/1.
// Industry: Fintech 1/2 = 50%, Retail 2/5 = 40%.
// Source: Inbound 1/1 = 100%, Outbound 2/5 = 40%, Partner 0/1.
// Tenure: 2+ years 1/2 = 50% (a2, a7), 6–12 months 1/2 = 50% (a3, a9),
// under 6 months 1/3 = 33% (a1, a6, a8).
// Lookalikes of a1 / a3 (at least 3 traits): a6 (4, $80k), a9 (4, $5k, like
// a3), a7 (3, $10k); not a8 (2 traits with a1).
func TestRootCauseMonthlyReport(t *testing.T) {
	t.Parallel()
	due := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	d := newDeployment(t, appendYAML(loopConfig))
	r := d.start(withClock(func() time.Time { return due }))
	r.accounts(
		profiled("a1", "Alpha", 100000, "U0CSM1", "U0AE", "U0MGR", "51-200", "Retail", "Outbound", num(3)),
		profiled("a2", "Bravo", 50000, "U0CSM1", "U0AE", "U0MGR", "51-200", "Retail", "Inbound", num(30)),
		profiled("a3", "Charlie", 30000, "U0CSM2", "U0AE", "U0MGR", "1-50", "Fintech", "Outbound", num(8)),
		profiled("a4", "Delta", 20000, "U0CSM2", "U0AE", "U0MGR", "1-50", "Fintech", "Inbound", num(15)),
		profiled("a5", "Echo", 40000, "U0CSM1", "U0AE", "U0MGR", "201-1000", "Retail", "Outbound", num(40)),
		profiled("a6", "Foxtrot", 80000, "U0CSM1", "U0AE", "U0MGR", "51-200", "Retail", "Outbound", num(4)),
		profiled("a7", "Golf", 10000, "U0CSM1", "U0AE", "U0MGR", "51-200", "Retail", "Outbound", num(30)),
		profiled("a8", "Hotel", 60000, "U0CSM1", "U0AE", "U0MGR", "1-50", "Retail", "Partner", num(2)),
		profiled("a9", "India", 5000, "U0CSM2", "U0AE", "U0MGR", "1-50", "Fintech", "Outbound", num(9)),
		ingest.AccountIn{ExternalID: "a10", Name: "Juliet", ARR: 25000},
	)
	d.seedChurn("a1", "2027-02-05", churn.FeatureOverpromise, "U0CSM1")
	d.seedChurn("a2", "2027-02-10", churn.Pricing, "U0CSM1")
	d.seedChurn("a3", "2027-02-20", churn.FeatureOverpromise, "U0CSM2")
	d.seedChurn("a4", "2027-01-15", churn.Pricing, "U0CSM2")
	d.seedChurn("a5", "2026-11-10", churn.Pricing, "U0CSM1")

	ctx := ctxTimeout(t, 20*time.Second)
	// The day before (Sunday Feb 28) the report due is January's: February's must not go out yet.
	if err := r.app.scheduler.RunNow(ctx, churn.JobRootCauseMonthly, due.Add(-25*time.Hour)); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second run (a catch-up, or another replica) posts nothing
		if err := r.app.scheduler.RunNow(ctx, churn.JobRootCauseMonthly, due); err != nil {
			t.Fatal(err)
		}
	}
	d.settle()
	posts := d.posts(debriefChannel)
	var reports []string
	for _, p := range posts {
		if strings.Contains(plain(p), "Root-cause report: February 2027") {
			reports = append(reports, plain(p))
		}
	}
	if len(reports) != 1 {
		for _, p := range posts {
			t.Log(plain(p))
		}
		t.Fatalf("%d February reports posted, want 1", len(reports))
	}
	want := []string{
		"3 accounts churned · $180k ARR",
		"Sales-attributable: 2 accounts, $130k (72% of churned ARR)",
		"• *Feature overpromise* _(sales)_: 2 accounts · $130k · 72%",
		"• *Pricing*: 1 account · $50k · 28%",
		"(Q2 2026 → Q3 2026 → Q4 2026 → Q1 2027, latest to date)",
		"• *Pricing*: 0 → 0 → 1 → 2 (2 quarters running)",
		"*Company size*: 51-200 50% (2/4) · 1-50 33% (1/3) · not recorded 0% (0/1)",
		"*Industry*: Fintech 50% (1/2) · Retail 40% (2/5) · not recorded 0% (0/1)",
		"*Deal source*: Inbound 100% (1/1) · Outbound 40% (2/5) · Partner 0% (0/1) · not recorded 0% (0/1)",
		"*Champion tenure at close*: 2+ years 50% (1/2) · 6–12 months 50% (1/2) · under 6 months 33% (1/3) · not recorded 0% (0/1)",
		"• *Foxtrot* · $80k · @U0CSM1 · like Alpha (Feature overpromise)",
		"• *India* · $5,000 · @U0CSM2 · like Charlie (Feature overpromise)",
		"• *Golf* · $10k · @U0CSM1 · like Alpha (Feature overpromise)",
		"*Win-back* (February 2027): 0 attempts started",
	}
	report := reports[0]
	for _, w := range want {
		if !strings.Contains(report, w) {
			t.Errorf("report lacks %q", w)
		}
	}
	if strings.Contains(report, "Hotel") || strings.Contains(report, "Feature overpromise*: 0") {
		t.Errorf("report lists a non-lookalike or a non-repeating cause:\n%s", report)
	}
	if i, j, k := strings.Index(report, "Foxtrot"), strings.Index(report, "India"), strings.Index(report, "Golf"); !(i < j && j < k) {
		t.Errorf("lookalikes out of order (most traits, then ARR):\n%s", report)
	}
	if t.Failed() || testing.Verbose() {
		t.Log(report)
	}
	// The tag audit rides in the report's thread.
	audit := ""
	for _, p := range posts {
		if strings.Contains(plain(p), "Root-cause tag audit: Q1 2027") {
			audit = plain(p)
			if p.ThreadTS == "" {
				t.Error("the audit is not in the report's thread")
			}
		}
	}
	if !strings.Contains(audit, "Feature overpromise 2 (50%) · Pricing 2 (50%)") {
		t.Errorf("audit:\n%s", audit)
	}

	// /rootcause shows the same numbers on demand.
	got := d.command("U0ANYONE", "/rootcause", "report 2027-02")
	for _, w := range want[:4] {
		if !strings.Contains(got, w) {
			t.Errorf("/rootcause lacks %q", w)
		}
	}
	if got := d.command("U0ANYONE", "/rootcause", "report 2031-01"); !strings.Contains(got, "has not started yet") {
		t.Errorf("future period: %q", got)
	}
}

// The tag audit makes "product deficiency" as a catch-all visible.
func TestRootCauseTagAudit(t *testing.T) {
	t.Parallel()
	now := time.Date(2027, 4, 2, 9, 0, 0, 0, time.UTC)
	d := newDeployment(t, appendYAML(loopConfig))
	r := d.start(withClock(func() time.Time { return now }))
	var accts []ingest.AccountIn
	for _, id := range []string{"p1", "p2", "p3", "p4", "p5", "b1", "b2", "b3", "b4"} {
		accts = append(accts, ingest.AccountIn{ExternalID: id, Name: "Acct " + id, ARR: 1000})
	}
	r.accounts(accts...)
	for i, id := range []string{"p1", "p2", "p3", "p4"} {
		d.seedChurn(id, "2027-02-0"+string(rune('1'+i)), churn.ProductDeficiency, "U0GAP")
	}
	d.seedChurn("p5", "2027-03-01", churn.Pricing, "U0GAP")
	for i, c := range []churn.Cause{churn.ProductDeficiency, churn.CompetitiveLoss, churn.Pricing, churn.BusinessChange} {
		d.seedChurn([]string{"b1", "b2", "b3", "b4"}[i], "2027-03-1"+string(rune('0'+i)), c, "U0CAREFUL")
	}
	got := d.command("U0LEAD", "/rootcause", "audit")
	for _, w := range []string{"Root-cause tag audit: Q1 2027", "⚠️ @U0GAP · 5 records · leans on *Product deficiency* (80%)",
		"Product deficiency 4 (80%) · Pricing 1 (20%)", "@U0CAREFUL · 4 records"} {
		if !strings.Contains(got, w) {
			t.Errorf("audit lacks %q:\n%s", w, got)
		}
	}
	if strings.Contains(got, "⚠️ @U0CAREFUL") {
		t.Error("a balanced tagger was flagged")
	}
}
