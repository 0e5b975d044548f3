package playbook

import (
	"bytes"
	"context"
	"image/png"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/bot/slacktest"
	"github.com/holdfast/holdfast/store/storetest"
)

// The daily at-risk ARR, worked out by hand from the twelve accounts.
func TestChartData(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	insertFixture(t, st, twelveAccounts())
	c, err := loadChart(context.Background(), st.DB(), time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Days) != 183 || len(c.Months) != 6 { // Jun 30 + Jul 31 + Aug 31 + Sep 30 + Oct 31 + Nov 30
		t.Fatalf("%d days, %d months", len(c.Days), len(c.Months))
	}
	day := map[string]float64{}
	for _, d := range c.Days {
		day[d.Day.Format(time.DateOnly)] = d.ARR
	}
	for date, want := range map[string]float64{
		"2026-09-09": 0,
		"2026-09-10": 60_000,                                        // 10 opens
		"2026-10-15": 100_000,                                       // 10 (churned that day) + 12
		"2026-10-16": 40_000,                                        // 12
		"2026-11-01": 340_000,                                       // 6 + 12
		"2026-11-08": 300_000 + 100_000 + 200_000 + 50_000 + 40_000, // 6 (recovered that day), 1, 2, 3, 12
		"2026-11-09": 390_000,                                       // 6 gone
		"2026-11-30": 10_000 + 80_000 + 120_000 + 40_000,            // 4, 7, 11, 12
	} {
		if day[date] != want {
			t.Errorf("%s: %v, want %v", date, day[date], want)
		}
	}
	// Saved in November: 1, 3, 6; lost: 2 in November, 10 in October.
	if m := c.Months[5]; m.Saved != 450_000 || m.Lost != 200_000 {
		t.Errorf("November %+v", m)
	}
	if m := c.Months[4]; m.Saved != 0 || m.Lost != 60_000 {
		t.Errorf("October %+v", m)
	}
}

// The chart goes to each channel once per month however many replicas run
// the job, and a failed upload is retried by the next run.
func TestMonthlyChartPostsOncePerMonth(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	insertFixture(t, st, twelveAccounts())
	fake, err := slacktest.New(slacktest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Close() })
	api := slack.New("xoxb-test", slack.OptionAPIURL(fake.APIURL()))
	ctx := context.Background()
	// Two replicas, each running the job twice.
	var wg sync.WaitGroup
	for range 2 {
		m := reportModule(t, st, api)
		wg.Go(func() {
			for range 2 {
				if err := m.MonthlyChart(ctx, fixtureNow); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	done := func() []slacktest.File {
		var out []slacktest.File
		for _, f := range fake.Files() {
			if f.Complete {
				out = append(out, f)
			}
		}
		return out
	}
	files := done()
	if len(files) != 1 || files[0].Channel != "C0ALERTS" {
		t.Fatalf("no weekly digest: want one chart in alerts.default_channel, got %+v", files)
	}
	if _, err := png.Decode(bytes.NewReader(files[0].Content)); err != nil {
		t.Errorf("not a PNG: %v", err)
	}
	if want := "*At-risk ARR, Jun 2026 – November 2026*: $450k saved (recovered), $260k lost (churned)."; !strings.Contains(files[0].Comment, want) {
		t.Errorf("comment %q, want %q", files[0].Comment, want)
	}
	// A weekly risk digest channel now exists: it gets the chart, the
	// default channel no more; the first upload fails and the next run retries.
	if _, err := st.Pool().Exec(ctx, `INSERT INTO digest_subscriptions (channel_id, frequency, topics, timezone, send_at, created_by)
		VALUES ('C0WEEKLY', 'weekly', '{risk}', 'UTC', '09:00', 'U1'), ('C0DAILY', 'daily', '{}', 'UTC', '09:00', 'U1'),
		       ('C0COMP', 'weekly', '{competitors}', 'UTC', '09:00', 'U1')`); err != nil {
		t.Fatal(err)
	}
	m := reportModule(t, st, api)
	fake.Fail("files.completeUploadExternal", 1, "internal_error")
	if err := m.MonthlyChart(ctx, fixtureNow); err == nil {
		t.Fatal("a failed upload must fail the run")
	}
	if n := storetest.Count(t, st, "playbook_chart_posts"); n != 1 {
		t.Fatalf("%d claims after a failed upload, want the first one only", n)
	}
	if err := m.MonthlyChart(ctx, fixtureNow.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := m.MonthlyChart(ctx, fixtureNow.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	files = done()
	if len(files) != 2 || files[1].Channel != "C0WEEKLY" {
		t.Fatalf("files %+v: want the retried chart in C0WEEKLY", files)
	}
	// Next month, next chart.
	if err := m.MonthlyChart(ctx, time.Date(2027, 1, 1, 9, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if files = done(); len(files) != 3 || !strings.Contains(files[2].Comment, "Jul 2026 – December 2026") {
		t.Errorf("January's run: %+v", files)
	}
}
