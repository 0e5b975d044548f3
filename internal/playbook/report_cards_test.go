package playbook

import (
	"strings"
	"testing"
	"time"

	"github.com/holdfast/holdfast/blocks/blockstest"
)

func TestReportCard(t *testing.T) {
	t.Parallel()
	nov := reportPeriod{Label: "November 2026", Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	full := figures{Opened: 8, ClaimMedian: dur(150 * time.Minute), ClaimP90: dur(330 * time.Minute), ContactMedian: dur(9 * time.Hour),
		ContactP90: dur(22 * time.Hour), SLAMet: 4, SLADue: 7, Recovered: 3, Churned: 1, Dismissed: 2, RecoveryMedian: dur(5 * 24 * time.Hour),
		ScoreChange: ptr(18.5), ARRSaved: 450_000, ARRLost: 200_000, StillOpen: 4}
	for _, c := range []struct {
		name      string
		view      reportView
		text      string
		wants     []string
		notWanted []string
	}{
		{
			name: "empty period",
			view: reportView{Period: nov},
			text: "At-risk playbooks: November 2026: no playbooks",
			wants: []string{"No at-risk playbook was opened, resolved or open in this period.", "All accounts",
				"Nov 1, 2026 00:00 – Dec 1, 2026 00:00 UTC", "Outcomes, recovery rate"},
			notWanted: []string{"*By CSM*", "$"},
		},
		{
			name: "figures",
			view: reportView{Period: nov, Book: true, Figures: reportFigures{figures: full,
				ByCSM: []group{{Key: "UA", figures: figures{Opened: 4, SLAMet: 3, SLADue: 4, ClaimMedian: dur(2 * time.Hour), Recovered: 2, Churned: 1, ARRSaved: 400_000, ARRLost: 200_000, StillOpen: 1}},
					{Key: "", figures: figures{StillOpen: 1}},
					{Key: "not an id <!channel>", figures: figures{Opened: 9}}},
				BySegment: []group{{Key: "Enterprise & <b>", figures: figures{Opened: 3, Recovered: 2}}, {Key: "", figures: figures{Opened: 1}}}}},
			text: "At-risk playbooks: November 2026: 3 recovered ($450k saved), 1 churned ($200k lost), 57% (4 of 7) claimed within SLA",
			wants: []string{"Accounts in your book", "*Opened*\n8", "*Claimed within SLA*\n57% (4 of 7)", "*Time to claim*\nmedian 2h 30m · p90 5h 30m",
				"*Time to first contact*\nmedian 9h · p90 22h", "3 recovered · 1 churned · 2 dismissed · 4 still open",
				"*Recovery rate*\n75% · median 5d to recover", "$450k saved · $200k lost", "median +18.5 points",
				// ranked by what went through them: the stray id first, escaped
				"*By CSM*\n• not an id &lt;!channel&gt; · 9 opened",
				"• <@UA> · 4 opened · SLA 75% · claim 2h · 2 recovered / 1 churned · $400k saved · $200k lost · 1 open",
				"• _no owner_ · 0 opened", "*By segment*\n• *Enterprise &amp; &lt;b&gt;* · 3 opened", "• _no segment_ · 1 opened",
				"Still open: open at the period's end."},
		},
		{
			name: "nothing to measure",
			view: reportView{Period: nov, Figures: reportFigures{figures: figures{StillOpen: 2}}},
			wants: []string{"*Claimed within SLA*\nnone due yet", "*Time to claim*\nnone claimed", "*Time to first contact*\nnone contacted",
				"*Recovery rate*\nnone recovered or churned", "none resolved with a score"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			m := reportCard(c.view)
			blockstest.CheckMessage(t, c.name, m, 50)
			if c.text != "" && m.Text != c.text {
				t.Errorf("Text = %q, want %q", m.Text, c.text)
			}
			all := blockstest.AllText(t, m.Blocks)
			blockstest.WantContains(t, c.name, all, c.wants...)
			blockstest.WantNotContains(t, c.name, all, c.notWanted...)
		})
	}
}

func TestReportCardWorstCase(t *testing.T) {
	t.Parallel()
	huge := blockstest.Huge
	big := figures{Opened: 1 << 40, ClaimMedian: dur(1 << 62), ClaimP90: dur(-1 << 62), ContactMedian: dur(1 << 62), ContactP90: dur(1 << 62),
		SLAMet: 1 << 40, SLADue: 1 << 40, Recovered: 1 << 40, Churned: 1 << 40, Dismissed: 1 << 40, RecoveryMedian: dur(1 << 62),
		ScoreChange: ptr(-1e300), ARRSaved: 1e300, ARRLost: 1e300, StillOpen: 1 << 40}
	var csms, segs []group
	for i := range 500 {
		csms = append(csms, group{Key: huge + strings.Repeat("x", i), figures: big})
		segs = append(segs, group{Key: huge + strings.Repeat("y", i), figures: big})
	}
	m := reportCard(reportView{Period: reportPeriod{Label: huge, Start: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), End: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)},
		Book: true, Figures: reportFigures{figures: big, ByCSM: csms, BySegment: segs}})
	blockstest.CheckMessage(t, "report worst case", m, 50)
	blockstest.WantContains(t, "report worst case", blockstest.AllText(t, m.Blocks), "more")
}

func TestParseReportPeriod(t *testing.T) {
	t.Parallel()
	berlin, _ := time.LoadLocation("Europe/Berlin")
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC) // a Sunday
	for _, c := range []struct {
		arg, label string
		start, end time.Time
	}{
		{"", "last 30 days", now.AddDate(0, 0, -30), now},
		{"7d", "last 7 days", now.AddDate(0, 0, -7), now},
		{"90D", "last 90 days", now.AddDate(0, 0, -90), now},
		{"week", "week of Nov 23, 2026", time.Date(2026, 11, 23, 0, 0, 0, 0, berlin), time.Date(2026, 11, 30, 0, 0, 0, 0, berlin)},
		{"month", "November 2026", time.Date(2026, 11, 1, 0, 0, 0, 0, berlin), time.Date(2026, 12, 1, 0, 0, 0, 0, berlin)},
		{"quarter", "Q3 2026", time.Date(2026, 7, 1, 0, 0, 0, 0, berlin), time.Date(2026, 10, 1, 0, 0, 0, 0, berlin)},
		{"2026-11", "November 2026", time.Date(2026, 11, 1, 0, 0, 0, 0, berlin), time.Date(2026, 12, 1, 0, 0, 0, 0, berlin)},
		{"2026-q4", "Q4 2026 so far", time.Date(2026, 10, 1, 0, 0, 0, 0, berlin), now},
		{"2026-12", "December 2026 so far", time.Date(2026, 12, 1, 0, 0, 0, 0, berlin), now},
	} {
		p, err := parseReportPeriod(c.arg, now, berlin)
		if err != nil {
			t.Errorf("%q: %v", c.arg, err)
			continue
		}
		if p.Label != c.label || !p.Start.Equal(c.start) || !p.End.Equal(c.end) {
			t.Errorf("%q = %q %v – %v, want %q %v – %v", c.arg, p.Label, p.Start, p.End, c.label, c.start, c.end)
		}
	}
	for _, bad := range []string{"0d", "367d", "xd", "fortnight", "2027-01", "2026-Q5", "2026-13"} {
		if _, err := parseReportPeriod(bad, now, berlin); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
