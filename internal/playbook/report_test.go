package playbook

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks/blockstest"
	"github.com/holdfast/holdfast/handlers"
	"github.com/holdfast/holdfast/internal/digest"
	"github.com/holdfast/holdfast/store"
	"github.com/holdfast/holdfast/store/storetest"
)

// fixturePlaybook is one account with one playbook, as rows.
type fixturePlaybook struct {
	owner, tier, segment string
	arr                  float64
	opened, slaFrom      time.Time // slaFrom zero: the alert was due when it opened
	claimedBy            string
	claimAfter           time.Duration // after slaFrom; 0: unclaimed
	contactAfter         time.Duration // after slaFrom; 0: no contact
	state                string
	resolved             time.Time
	scoreOpen            int
	scoreResolved        *int
	recoveredFrom        time.Time
}

func nov(day, hour int) time.Time {
	return time.Date(2026, time.November, day, hour, 0, 0, 0, time.UTC)
}

// insertFixture stores each playbook with its account and opening alert,
// straight as rows (claim deadline 4h after the alert was due).
func insertFixture(t testing.TB, st *store.Store, pbs []fixturePlaybook) {
	t.Helper()
	ctx := context.Background()
	opt := func(base time.Time, d time.Duration) *time.Time {
		if d == 0 {
			return nil
		}
		v := base.Add(d)
		return &v
	}
	optT := func(v time.Time) *time.Time {
		if v.IsZero() {
			return nil
		}
		return &v
	}
	for i, p := range pbs {
		var acct, alert int64
		if err := st.Pool().QueryRow(ctx, `INSERT INTO accounts (external_id, name, tier, arr, segment, owner_csm)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, "acct-"+strconv.Itoa(i+1), "Account "+strconv.Itoa(i+1), p.tier, p.arr, p.segment, p.owner).Scan(&acct); err != nil {
			t.Fatal(err)
		}
		if err := st.Pool().QueryRow(ctx, `INSERT INTO alerts (account_id, kinds, critical, score, band, view, channel_id, created_at)
			VALUES ($1, '{health}', false, $2, 'at_risk', '{}', 'C0ALERTS', $3) RETURNING id`, acct, p.scoreOpen, p.opened).Scan(&alert); err != nil {
			t.Fatal(err)
		}
		sla := p.slaFrom
		if sla.IsZero() {
			sla = p.opened
		}
		claimedBy := &p.claimedBy
		if p.claimAfter == 0 {
			claimedBy = nil
		}
		state := p.state
		if state == "" {
			state = StateOpen
		}
		if _, err := st.Pool().Exec(ctx, `INSERT INTO playbooks (account_id, alert_id, channel_id, thread_key, critical, owner_csm,
				segment, arr, score_at_open, band_at_open, opened_at, sla_from, nudge_at, claim_due_at, claimed_by, claimed_at,
				contacted_at, state, resolved_at, score_at_resolution, recovered_from)
			VALUES ($1, $2, 'C0ALERTS', $3, false, $4, $5, $6, $7, 'at_risk', $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
			acct, alert, "alert:"+strconv.Itoa(int(alert)), p.owner, p.segment, p.arr, p.scoreOpen, p.opened, sla,
			sla.Add(2*time.Hour), sla.Add(4*time.Hour), claimedBy, opt(sla, p.claimAfter), opt(sla, p.contactAfter), state,
			optT(p.resolved), p.scoreResolved, optT(p.recoveredFrom)); err != nil {
			t.Fatalf("playbook %d: %v", i+1, err)
		}
	}
}

// twelveAccounts: UA owns accounts 1–6, UB 7–12. The comments say which
// of November 2026's cohorts each playbook belongs to.
func twelveAccounts() []fixturePlaybook {
	h := time.Hour
	return []fixturePlaybook{
		// 1: opened Nov 2, claimed 1h (in SLA), contact 5h; recovered Nov 20, back above the line after 4d; 40 → 72.
		{owner: "UA", tier: "Gold", segment: "Enterprise", arr: 100_000, opened: nov(2, 9), claimedBy: "UA", claimAfter: h, contactAfter: 5 * h,
			state: StateRecovered, resolved: nov(20, 9), scoreOpen: 40, scoreResolved: ptr(72), recoveredFrom: nov(6, 9)},
		// 2: opened Nov 3, claimed 3h (in SLA), contact 20h; churned Nov 25; 35 → 20.
		{owner: "UA", tier: "Gold", segment: "Enterprise", arr: 200_000, opened: nov(3, 9), claimedBy: "UA", claimAfter: 3 * h, contactAfter: 20 * h,
			state: StateChurned, resolved: nov(25, 9), scoreOpen: 35, scoreResolved: ptr(20)},
		// 3: opened Nov 5, claimed by UB after 6h (missed), contact 8h; recovered Nov 28 after 10d; 45 → 70.
		{owner: "UA", tier: "Gold", segment: "Mid-Market", arr: 50_000, opened: nov(5, 9), claimedBy: "UB", claimAfter: 6 * h, contactAfter: 8 * h,
			state: StateRecovered, resolved: nov(28, 9), scoreOpen: 45, scoreResolved: ptr(70), recoveredFrom: nov(15, 9)},
		// 4: opened Nov 10, never claimed (missed: its deadline passed), still open.
		{owner: "UA", segment: "SMB", arr: 10_000, opened: nov(10, 9), scoreOpen: 30},
		// 5: opened Nov 12, claimed 2h (in SLA), contact 10h; dismissed Nov 14; 50 → 55.
		{owner: "UA", segment: "SMB", arr: 20_000, opened: nov(12, 9), claimedBy: "UA", claimAfter: 2 * h, contactAfter: 10 * h,
			state: StateDismissed, resolved: nov(14, 9), scoreOpen: 50, scoreResolved: ptr(55)},
		// 6: opened Oct 20 (not in the SLA figures), recovered Nov 8 after 5d; 30 → 65.
		{owner: "UA", segment: "Enterprise", arr: 300_000, opened: time.Date(2026, 10, 20, 9, 0, 0, 0, time.UTC), claimedBy: "UA", claimAfter: h,
			contactAfter: 2 * h, state: StateRecovered, resolved: nov(8, 9), scoreOpen: 30, scoreResolved: ptr(65),
			recoveredFrom: time.Date(2026, 10, 25, 9, 0, 0, 0, time.UTC)},
		// 7: opened Nov 14 22:00 in quiet hours, due in Slack Nov 15 08:00: claimed 2h after that (in SLA), contact 24h; still open.
		{owner: "UB", segment: "Mid-Market", arr: 80_000, opened: nov(14, 22), slaFrom: nov(15, 8), claimedBy: "UB", claimAfter: 2 * h,
			contactAfter: 24 * h, scoreOpen: 38},
		// 8: opened Nov 20, dismissed 2h later, unclaimed before its deadline (no SLA verdict); 48 → 60.
		{owner: "UB", segment: "SMB", arr: 5_000, opened: nov(20, 9), state: StateDismissed, resolved: nov(20, 11), scoreOpen: 48, scoreResolved: ptr(60)},
		// 9: opened Dec 2: after the period.
		{owner: "UB", segment: "Enterprise", arr: 150_000, opened: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC), claimedBy: "UB", claimAfter: h, scoreOpen: 33},
		// 10: opened Sep 10, churned Oct 15: before the period.
		{owner: "UB", segment: "Mid-Market", arr: 60_000, opened: time.Date(2026, 9, 10, 9, 0, 0, 0, time.UTC), claimedBy: "UB", claimAfter: h,
			state: StateChurned, resolved: time.Date(2026, 10, 15, 9, 0, 0, 0, time.UTC), scoreOpen: 30, scoreResolved: ptr(10)},
		// 11: opened Nov 25, claimed 5h (missed), contact 6h; recovered Dec 3, so open at the period's end.
		{owner: "UB", segment: "Enterprise", arr: 120_000, opened: nov(25, 9), claimedBy: "UB", claimAfter: 5 * h, contactAfter: 6 * h,
			state: StateRecovered, resolved: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC), scoreOpen: 42, scoreResolved: ptr(71),
			recoveredFrom: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)},
		// 12: opened Oct 1, still open.
		{owner: "UB", segment: "SMB", arr: 40_000, opened: time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC), claimedBy: "UB", claimAfter: 2 * h,
			contactAfter: 3 * h, scoreOpen: 44},
	}
}

var fixtureNow = time.Date(2026, time.December, 6, 12, 0, 0, 0, time.UTC)

func reportModule(t testing.TB, st *store.Store, files FileUploader) *Module {
	return New(st, nil, nil, nil, Options{Settings: DefaultSettings(), Location: time.UTC, DefaultChannel: "C0ALERTS", Files: files},
		nil, func() time.Time { return fixtureNow }, slog.New(slog.DiscardHandler))
}

func dur(d time.Duration) *time.Duration { return &d }

// The report's figures for November 2026, worked out by hand.
func TestReportFiguresTwelveAccounts(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	insertFixture(t, st, twelveAccounts())
	ctx := context.Background()
	got, err := loadReport(ctx, st.DB(), reportQuery{Start: nov(1, 0), End: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), AsOf: fixtureNow})
	if err != nil {
		t.Fatal(err)
	}
	want := figures{
		// Opened in November: 1, 2, 3, 4, 5, 7, 8, 11.
		Opened: 8,
		// Claims (hours after due): 1, 2 (5), 2 (7), 3, 5 (11), 6 (3): median (2+3)/2 = 2.5h;
		// p90 at 0.9 × 5 = 4.5 between 5h and 6h = 5.5h.
		ClaimMedian: dur(150 * time.Minute), ClaimP90: dur(330 * time.Minute),
		// Contacts: 5 (1), 6 (11), 8 (3), 10 (5), 20 (2), 24 (7): median (8+10)/2 = 9h; p90 (20+24)/2 = 22h.
		ContactMedian: dur(9 * time.Hour), ContactP90: dur(22 * time.Hour),
		// Met: 1, 2, 5, 7; missed: 3 (6h), 4 (unclaimed past its deadline), 11 (5h); 8 closed before its deadline.
		SLAMet: 4, SLADue: 7,
		// Resolved in November: recovered 1, 3, 6; churned 2; dismissed 5, 8.
		Recovered: 3, Churned: 1, Dismissed: 2,
		// Back above the line after 4d (1), 10d (3), 5d (6): median 5d.
		RecoveryMedian: dur(5 * 24 * time.Hour),
		// Score changes +32, -15, +25, +5, +35, +12 → -15 5 12 25 32 35: median (12+25)/2 = 18.5.
		ScoreChange: ptr(18.5),
		// Saved 100k + 50k + 300k; lost 200k.
		ARRSaved: 450_000, ARRLost: 200_000,
		// Open on Dec 1: 4, 7, 12 and 11 (resolved Dec 3).
		StillOpen: 4,
	}
	checkFigures(t, "total", got.figures, want)
	if r := got.RecoveryRate(); r == nil || *r != 0.75 { // 3 ÷ (3 + 1)
		t.Errorf("recovery rate %v, want 0.75", r)
	}
	byKey := func(gs []group) map[string]figures {
		out := map[string]figures{}
		for _, g := range gs {
			out[g.Key] = g.figures
		}
		return out
	}
	csm := byKey(got.ByCSM)
	if len(csm) != 2 {
		t.Fatalf("by CSM: %+v", got.ByCSM)
	}
	// UA (claimant, else owner): 1, 2, 4, 5, 6. Claims 1h, 3h, 2h: median 2h, p90 at 1.8 = 2h + 0.8h = 2h48m.
	// Contacts 5h, 20h, 10h: median 10h, p90 10h + 0.8 × 10h = 18h. SLA met 1, 2, 5 of 1, 2, 4, 5.
	// Recovered 1, 6 after 4d, 5d: median 4.5d. Score changes +32, -15, +5, +35: median (5+32)/2 = 18.5.
	checkFigures(t, "UA", csm["UA"], figures{Opened: 4, ClaimMedian: dur(2 * time.Hour), ClaimP90: dur(168 * time.Minute),
		ContactMedian: dur(10 * time.Hour), ContactP90: dur(18 * time.Hour), SLAMet: 3, SLADue: 4,
		Recovered: 2, Churned: 1, Dismissed: 1, RecoveryMedian: dur(108 * time.Hour), ScoreChange: ptr(18.5),
		ARRSaved: 400_000, ARRLost: 200_000, StillOpen: 1})
	// UB: 3 (claimed by UB), 7, 8, 11, 12. Claims 6h, 2h, 5h: median 5h, p90 at 1.8 = 5h + 0.8h = 5h48m.
	// Contacts 8h, 24h, 6h: median 8h, p90 8h + 0.8 × 16h = 20h48m. SLA met 7 of 3, 7, 11.
	// Recovered 3 after 10d; dismissed 8. Score changes +25, +12: median 18.5. Open: 7, 11, 12.
	checkFigures(t, "UB", csm["UB"], figures{Opened: 4, ClaimMedian: dur(5 * time.Hour), ClaimP90: dur(348 * time.Minute),
		ContactMedian: dur(8 * time.Hour), ContactP90: dur(1248 * time.Minute), SLAMet: 1, SLADue: 3,
		Recovered: 1, Dismissed: 1, RecoveryMedian: dur(240 * time.Hour), ScoreChange: ptr(18.5),
		ARRSaved: 50_000, StillOpen: 3})
	seg := byKey(got.BySegment)
	for name, w := range map[string]struct{ opened, met, due, rec, churned, dismissed, open int }{
		"Enterprise": {3, 2, 3, 2, 1, 0, 1}, // opened 1, 2, 11 (1, 2 met); recovered 1, 6; churned 2; open 11
		"Mid-Market": {2, 1, 2, 1, 0, 0, 1}, // opened 3, 7 (7 met); recovered 3; open 7
		"SMB":        {3, 1, 2, 0, 0, 2, 2}, // opened 4, 5, 8 (5 met, 8 no verdict); dismissed 5, 8; open 4, 12
	} {
		g := seg[name]
		if g.Opened != w.opened || g.SLAMet != w.met || g.SLADue != w.due || g.Recovered != w.rec || g.Churned != w.churned ||
			g.Dismissed != w.dismissed || g.StillOpen != w.open {
			t.Errorf("segment %s: %+v, want %+v", name, g, w)
		}
	}
	if len(seg) != 3 || seg["Enterprise"].ARRSaved != 400_000 || seg["Enterprise"].ARRLost != 200_000 || seg["Mid-Market"].ARRSaved != 50_000 {
		t.Errorf("segments %+v", got.BySegment)
	}

	// A manager's book: UB's accounts (7–12): opened 7, 8, 11; dismissed 8; open 7, 11, 12.
	book, err := loadReport(ctx, st.DB(), reportQuery{Start: nov(1, 0), End: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), AsOf: fixtureNow, Owners: []string{"UB"}})
	if err != nil {
		t.Fatal(err)
	}
	if f := book.figures; f.Opened != 3 || f.Dismissed != 1 || f.Recovered != 0 || f.StillOpen != 3 || f.SLAMet != 1 || f.SLADue != 2 {
		t.Errorf("UB's book: %+v", f)
	}

	// The digest's filters: tier Gold is accounts 1–3 (opened 1, 2, 3; recovered 1, 3; churned 2);
	// min ARR 100k is 1, 2, 6, 9, 11 (opened 1, 2, 11; recovered 1, 6; churned 2; open 11).
	m := reportModule(t, st, nil)
	week := digest.SavesQuery{Start: nov(1, 0), End: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	gold := week
	gold.Tier = "gold"
	s, err := m.Saves(ctx, gold)
	if err != nil {
		t.Fatal(err)
	}
	if s.Opened != 3 || s.Recovered != 2 || s.Churned != 1 || s.ARRSaved != 150_000 || s.ARRLost != 200_000 || s.StillOpen != 0 ||
		s.RecoveryRate == nil || *s.RecoveryRate != 2.0/3 || s.SLAMet != 2 || s.SLADue != 3 {
		t.Errorf("tier gold: %+v", s)
	}
	big := week
	big.MinARR = 100_000
	if s, err = m.Saves(ctx, big); err != nil {
		t.Fatal(err)
	}
	if s.Opened != 3 || s.Recovered != 2 || s.Churned != 1 || s.ARRSaved != 400_000 || s.ARRLost != 200_000 || s.StillOpen != 1 {
		t.Errorf("from $100k: %+v", s)
	}
}

func checkFigures(t *testing.T, name string, got, want figures) {
	t.Helper()
	d := func(p *time.Duration) string {
		if p == nil {
			return "nil"
		}
		return p.Round(time.Second).String()
	}
	f := func(p *float64) string {
		if p == nil {
			return "nil"
		}
		return strconv.FormatFloat(*p, 'f', -1, 64)
	}
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"opened", got.Opened, want.Opened},
		{"claim median", d(got.ClaimMedian), d(want.ClaimMedian)}, {"claim p90", d(got.ClaimP90), d(want.ClaimP90)},
		{"contact median", d(got.ContactMedian), d(want.ContactMedian)}, {"contact p90", d(got.ContactP90), d(want.ContactP90)},
		{"SLA met", got.SLAMet, want.SLAMet}, {"SLA due", got.SLADue, want.SLADue},
		{"recovered", got.Recovered, want.Recovered}, {"churned", got.Churned, want.Churned}, {"dismissed", got.Dismissed, want.Dismissed},
		{"recovery median", d(got.RecoveryMedian), d(want.RecoveryMedian)}, {"score change", f(got.ScoreChange), f(want.ScoreChange)},
		{"ARR saved", got.ARRSaved, want.ARRSaved}, {"ARR lost", got.ARRLost, want.ARRLost}, {"still open", got.StillOpen, want.StillOpen},
	} {
		if c.got != c.want {
			t.Errorf("%s %s = %v, want %v", name, c.what, c.got, c.want)
		}
	}
}

// reportViewerFake is a restricted viewer with or without report rights.
type reportViewerFake struct {
	reports bool
	owners  []string
}

func (v reportViewerFake) MayRead(a store.Account) bool { return false }
func (v reportViewerFake) Book() (bool, []string)       { return false, v.owners }
func (v reportViewerFake) MaySeeReports() bool          { return v.reports }
func (v reportViewerFake) ReportBook() (bool, []string) { return false, v.owners }

// Someone without report rights is refused and sees no figure; a
// manager's report covers their book.
func TestReportCommandRights(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	insertFixture(t, st, twelveAccounts())
	m := reportModule(t, st, nil)
	cmd := slack.SlashCommand{Command: "/atrisk", Text: "report 2026-11", UserID: "UC"}
	csm := handlers.WithViewer(context.Background(), reportViewerFake{owners: []string{"UC"}})
	r, err := m.reportCommand(csm, cmd, []string{"2026-11"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Text != reportRefusal.Text || strings.Contains(r.Text, "$") || len(r.Blocks) != 0 {
		t.Errorf("a CSM got %q", r.Text)
	}
	mgr := handlers.WithViewer(context.Background(), reportViewerFake{reports: true, owners: []string{"UM", "UB"}})
	r, err = m.reportCommand(mgr, cmd, []string{"2026-11"})
	if err != nil {
		t.Fatal(err)
	}
	all := blockstest.AllText(t, r.Blocks)
	// UB's accounts only: nothing resolved but 8's dismissal, so no ARR saved.
	blockstest.WantContains(t, "manager's report", all, "At-risk playbooks: November 2026", "Accounts in your book",
		"0 recovered · 0 churned · 1 dismissed · 3 still open", "$0 saved · $0 lost", "50% (1 of 2)")
	blockstest.WantNotContains(t, "manager's report", all, "<@UA>")
	// No viewer (no roles configured): everything.
	r, err = m.reportCommand(context.Background(), cmd, []string{"2026-11"})
	if err != nil {
		t.Fatal(err)
	}
	blockstest.WantContains(t, "whole report", blockstest.AllText(t, r.Blocks), "All accounts", "$450k saved · $200k lost",
		"57% (4 of 7)", "median 2h 30m · p90 5h 30m", "median 9h · p90 22h", "75% · median 5d to recover", "median +18.5 points")
	// A bad period: the usage, to the asker only.
	r, err = m.reportCommand(context.Background(), cmd, []string{"fortnight"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Text, "Usage: /atrisk report") || r.InChannel {
		t.Errorf("bad period answered %q", r.Text)
	}
}
