package main

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/holdfast/holdfast/internal/playbook"
)

// /atrisk report is for people with report rights; a manager's covers
// their book, finance's and leadership's every account.
func TestAtRiskReportRights(t *testing.T) {
	t.Parallel()
	d := newDeployment(t, appendYAML(rolesYAML))
	d.fake.SetUserGroup("S0TEAM", "U0CSM")
	d.fake.SetUserGroup("S0ADMINS", "U0ADM")
	r := d.start(unpaced())
	r.accounts(account("acme", "U0CSM", "", ""))
	for _, c := range []struct {
		user, want string
	}{
		{"U0CSM", "report is for leadership"},
		{"U0NOBODY", "report is for leadership"},
		{"U0MGR", "Accounts in your book"},
		{"U0FIN", "All accounts"},
		{"U0LEAD", "All accounts"},
	} {
		got := d.command(c.user, "/atrisk", "report month")
		if !strings.Contains(got, c.want) {
			t.Errorf("%s: /atrisk report answered %q, want %q", c.user, got, c.want)
		}
		if strings.Contains(c.want, "leadership") && (strings.Contains(got, "$") || strings.Contains(got, "At-risk playbooks")) {
			t.Errorf("%s: the refusal reveals figures: %q", c.user, got)
		}
	}
	if got := d.command("U0CSM", "/help", ""); strings.Contains(got, "/atrisk report") {
		t.Errorf("/help offers a CSM the report: %q", got)
	}
	if got := d.command("U0LEAD", "/help", ""); !strings.Contains(got, "/atrisk report") {
		t.Errorf("/help for leadership lacks the report: %q", got)
	}
}

// Two replicas running the chart job, twice each, post one chart.
func TestMonthlyChartOnceAcrossReplicas(t *testing.T) {
	t.Parallel()
	d := newDeployment(t)
	a, b := d.start(unpaced()), d.start(unpaced())
	if _, err := d.store.Pool().Exec(context.Background(), `INSERT INTO digest_subscriptions (channel_id, frequency, topics, timezone, send_at, created_by)
		VALUES ('C0LEADERS', 'weekly', '{}', 'UTC', '09:00', 'U0LEAD')`); err != nil {
		t.Fatal(err)
	}
	first := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for _, r := range []*replica{a, b, a, b} {
		wg.Go(func() {
			if err := r.app.scheduler.RunNow(context.Background(), playbook.JobChart, first); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	var posted []string
	for _, f := range d.fake.Files() {
		if f.Complete {
			posted = append(posted, f.Channel)
		}
	}
	if len(posted) != 1 || posted[0] != "C0LEADERS" {
		t.Errorf("charts posted to %v, want one to C0LEADERS", posted)
	}
	if n := d.count(`SELECT count(*) FROM playbook_chart_posts WHERE month = '2026-11'`); n != 1 {
		t.Errorf("%d chart claims for November", n)
	}
}
