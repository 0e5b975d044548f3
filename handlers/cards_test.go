package handlers

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/blocks/blockstest"
	"github.com/holdfast/holdfast/scoring"
)

func ptr[T any](v T) *T { return &v }

// hostileTimeline is 500 entries, a minute apart, of hostile text.
func hostileTimeline() []blocks.TimelineEntry {
	big := strings.Repeat(blockstest.Hostile, 60)
	var timeline []blocks.TimelineEntry
	for i := 0; i < 500; i++ {
		timeline = append(timeline, blocks.TimelineEntry{At: blockstest.FixedNow().Add(-time.Duration(i) * time.Minute), Kind: big, Summary: blockstest.Huge})
	}
	return timeline
}

func sampleHealth() healthView {
	return healthView{
		AccountID: 42, AccountName: "Acme Corp", ExternalID: "acme-001", Tier: "Enterprise", Segment: "Mid-market",
		Score: ptr(64), Band: scoring.BandAtRisk,
		Components: []scoring.Component{
			{Key: "usage", Label: "Product usage", Weight: 25, Points: -22.4, Detail: "usage -38% over 14 days"},
			{Key: "nps", Label: "NPS", Weight: 10, Points: 0, Detail: ""},
			{Key: "champion", Label: "Champion", Weight: 7.5, Points: -3, Detail: "champion <Jane & Co> left"},
		},
		Weekly: []int{100, 70, 40, 0},
		Timeline: []blocks.TimelineEntry{
			{At: time.Date(2027, 2, 7, 9, 0, 0, 0, time.UTC), Kind: "ticket", Summary: blockstest.EvilTicket},
			{At: time.Date(2027, 2, 6, 9, 0, 0, 0, time.UTC), Kind: "call_note", Summary: strings.Repeat("x", 400)},
		},
		ARR: 9500, RenewalDate: ptr(time.Date(2027, time.March, 3, 0, 0, 0, 0, time.UTC)), OwnerSlackID: "W042",
		Now: blockstest.FixedNow(),
	}
}

func TestHealthCard(t *testing.T) {
	t.Parallel()
	m := healthCard(sampleHealth())
	blockstest.CheckMessage(t, "health", m, 50)
	if want := "Acme Corp: 64/100, At risk"; m.Text != want {
		t.Errorf("Text = %q, want %q", m.Text, want)
	}
	all := blockstest.AllText(t, m.Blocks)
	blockstest.WantContains(t, "health", all,
		"🟠 Acme Corp — At risk",
		"*Health score: 64/100* · At risk",
		"Last 4 weeks: █▆▄▁ (100 → 0)",
		"acme-001 · Enterprise · Mid-market",
		"• Product usage *-22* of 25 — usage -38% over 14 days",
		"• NPS *0* of 10 — no data",
		"• Champion *-3* of 7.5 — champion &lt;Jane &amp; Co&gt; left",
		"*ARR*\n$9,500",
		"*Renewal*\nMar 3, 2027 (in 23 days)",
		"*Owner*\n<@W042>",
		"• Feb 7, 2027 · ticket · &lt;!channel&gt; please &lt;https://evil.example|click&gt;",
		"• Feb 6, 2027 · call note · "+strings.Repeat("x", 149)+"…",
	)
	blockstest.WantNotContains(t, "health", all, strings.Repeat("x", 150))
	if b := blockstest.FindButton(t, m.Blocks, "alert_history"); b == nil || b.Value != "42" {
		t.Errorf("history button = %+v", b)
	}
}

func TestHealthCardStates(t *testing.T) {
	t.Parallel()
	v := sampleHealth()
	v.Score, v.Weekly, v.Timeline, v.Components = nil, nil, nil, nil
	m := healthCard(v)
	blockstest.CheckMessage(t, "unscored", m, 50)
	blockstest.WantContains(t, "unscored", blockstest.AllText(t, m.Blocks), "⚪ Acme Corp — Not scored yet", "*Not scored yet*", "Nothing recorded yet.")

	v = sampleHealth()
	v.Churned = true
	m = healthCard(v)
	blockstest.CheckMessage(t, "churned", m, 50)
	blockstest.WantContains(t, "churned", blockstest.AllText(t, m.Blocks), "⚫ Acme Corp — Churned", "*Churned* · last score 64/100")
	if m.Text != "Acme Corp: Churned" {
		t.Errorf("Text = %q", m.Text)
	}

	v = sampleHealth()
	v.Weekly = []int{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}
	// Only the last 8: 30..100 -> levels 2.1 2.8 3.5 4.2 4.9 5.6 6.3 7.0 -> 2 3 4 4 5 6 6 7.
	blockstest.WantContains(t, "long weekly", blockstest.AllText(t, healthCard(v).Blocks), "Last 8 weeks: ▃▄▅▅▆▇▇█ (30 → 100)")

	v = sampleHealth()
	v.Timeline = make([]blocks.TimelineEntry, 9)
	for i := range v.Timeline {
		v.Timeline[i] = blocks.TimelineEntry{At: blockstest.FixedNow(), Kind: "email", Summary: fmt.Sprintf("entry-%d", i)}
	}
	all := blockstest.AllText(t, healthCard(v).Blocks)
	blockstest.WantContains(t, "timeline", all, "entry-4")
	blockstest.WantNotContains(t, "timeline", all, "entry-5")
}

// TestHealthCardWorstCase feeds the card the most hostile input we can
// think of and checks every Slack limit and the escaping invariant.
func TestHealthCardWorstCase(t *testing.T) {
	t.Parallel()
	huge := blockstest.Huge
	var comps []scoring.Component
	for i := 0; i < 200; i++ {
		comps = append(comps, scoring.Component{Key: huge, Label: huge, Weight: 1e300, Points: -1e300, Detail: huge})
	}
	weekly := make([]int, 500)
	for i := range weekly {
		weekly[i] = i*37 - 5000
	}
	blockstest.CheckMessage(t, "health", healthCard(healthView{
		AccountID: 1, AccountName: huge, ExternalID: huge, Tier: huge, Segment: huge,
		Score: ptr(1000), Band: scoring.BandHealthy, Components: comps, Weekly: weekly, Timeline: hostileTimeline(),
		ARR: 1e300, RenewalDate: ptr(time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC)), OwnerSlackID: huge, Now: blockstest.FixedNow(),
	}), 50)
}

// checkHistoryModal checks the history modal's title and close button and
// every limit of a modal.
func checkHistoryModal(t *testing.T, name string, mv slack.ModalViewRequest) {
	t.Helper()
	if mv.Title == nil || mv.Title.Text != "Account history" || mv.Close == nil || mv.Close.Text != "Close" {
		t.Errorf("%s: title/close = %+v %+v", name, mv.Title, mv.Close)
	}
	blockstest.CheckModal(t, name, mv)
}

func TestHistoryModal(t *testing.T) {
	t.Parallel()
	entries := make([]blocks.TimelineEntry, 500)
	for i := range entries {
		// Newest first, four entries a day.
		entries[i] = blocks.TimelineEntry{At: blockstest.FixedNow().Add(-time.Duration(i) * 6 * time.Hour), Kind: "ticket", Summary: fmt.Sprintf("#%d %s", i, blockstest.EvilTicket)}
	}
	v := historyView{AccountName: "Acme Corp", Score: ptr(57), Band: scoring.BandAtRisk, Entries: entries, Total: 1200, Now: blockstest.FixedNow()}
	mv := historyModal(v)
	checkHistoryModal(t, "history", mv)
	bs := mv.Blocks.BlockSet
	all := blockstest.AllText(t, bs)
	blockstest.WantContains(t, "history", all, "🟠 Acme Corp", "Score 57/100 · At risk", "*Feb 8, 2027* · today\n• 15:30 · ticket · #0 &lt;!channel&gt;", "*Feb 7, 2027* · yesterday\n", "#1 ")
	last, ok := bs[len(bs)-1].(*slack.ContextBlock)
	if !ok || !strings.HasPrefix(last.ContextElements.Elements[0].(*slack.TextBlockObject).Text, "Showing the latest ") ||
		!strings.HasSuffix(last.ContextElements.Elements[0].(*slack.TextBlockObject).Text, " of 1,200") {
		t.Errorf("last block = %#v", bs[len(bs)-1])
	}

	// Everything fits: no footer.
	small := historyModal(historyView{AccountName: "Acme", Entries: entries[:3], Total: 3})
	checkHistoryModal(t, "small", small)
	blockstest.WantNotContains(t, "small", blockstest.AllText(t, small.Blocks.BlockSet), "Showing the latest")
	blockstest.WantContains(t, "small", blockstest.AllText(t, small.Blocks.BlockSet), "Not scored yet")

	empty := historyModal(historyView{AccountName: "Acme"})
	checkHistoryModal(t, "empty", empty)
	blockstest.WantContains(t, "empty", blockstest.AllText(t, empty.Blocks.BlockSet), "No activity recorded yet.")
}

func TestHistoryModalWorstCase(t *testing.T) {
	t.Parallel()
	checkHistoryModal(t, "history", historyModal(historyView{AccountName: blockstest.Huge, Score: ptr(5), Band: scoring.BandCritical, Entries: hostileTimeline(), Total: 1 << 40, Now: blockstest.FixedNow()}))

	// Many small entries must still respect 100 blocks (one day each).
	var daily []blocks.TimelineEntry
	for i := 0; i < 500; i++ {
		daily = append(daily, blocks.TimelineEntry{At: blockstest.FixedNow().AddDate(0, 0, -i), Kind: "email", Summary: "hi"})
	}
	mv := historyModal(historyView{AccountName: "Acme", Entries: daily})
	checkHistoryModal(t, "daily history", mv)
	if n := len(mv.Blocks.BlockSet); n != 100 {
		t.Errorf("daily history uses %d blocks, want all 100", n)
	}
}

func TestHome(t *testing.T) {
	t.Parallel()
	var accounts []homeAccount
	for i := range 20 {
		accounts = append(accounts, homeAccount{AccountID: int64(i + 1), Name: "Account <!here> " + blocks.Itoa(i), Score: ptr(30 + i), Band: scoring.BandCritical,
			ARR: 1000 * float64(i), Driver: "usage -40% over 14 days: -20 points"})
	}
	v := homeView{UserID: "U1", Accounts: accounts, Total: 23, Now: blockstest.FixedNow(),
		Claimed: []homeAlert{{AccountID: 1, AccountName: "Acme", What: "Gainsight mentioned", ClaimedAt: blockstest.FixedNow().AddDate(0, 0, -2)}}}
	extra := []blocks.HomeSection{{Title: "Pending approvals", Blocks: []slack.Block{blocks.Section("offers_pending", "2 offers wait for you")}}}
	home := homeTab(v, extra)
	if home.Type != slack.VTHomeTab {
		t.Fatalf("type %q", home.Type)
	}
	blockstest.CheckBlocks(t, "home", home.Blocks.BlockSet, 100)
	all := blockstest.AllText(t, home.Blocks.BlockSet)
	blockstest.WantContains(t, "home", all, "Your accounts", "Account &lt;!here&gt; 0* · score 30", "…and 8 more", "Alerts you claimed",
		"*Acme*: Gainsight mentioned · claimed 2 days ago", "Pending approvals", "2 offers wait for you")
	if b := blockstest.FindButton(t, home.Blocks.BlockSet, blocks.ActionHistory+"_0"); b == nil || b.Value != "1" {
		t.Error("rows have a history button")
	}

	// A section that would overflow 100 blocks is left out, with a note.
	var many []slack.Block
	for i := range 90 {
		many = append(many, blocks.Section("nps_"+blocks.Itoa(i), "loop"))
	}
	over := homeTab(v, []blocks.HomeSection{{Title: "Open NPS loops", Blocks: many}, extra[0]})
	blockstest.CheckBlocks(t, "overflow home", over.Blocks.BlockSet, 100)
	all = blockstest.AllText(t, over.Blocks.BlockSet)
	blockstest.WantContains(t, "overflow home", all, "1 section did not fit", "Pending approvals")
	blockstest.WantNotContains(t, "overflow home", all, "Open NPS loops")

	empty := homeTab(homeView{UserID: "U2", Now: blockstest.FixedNow()}, nil)
	blockstest.CheckBlocks(t, "empty home", empty.Blocks.BlockSet, 100)
	blockstest.WantContains(t, "empty home", blockstest.AllText(t, empty.Blocks.BlockSet), "You own no active accounts", "None in the last 30 days.")
}

func TestHomeWorstCase(t *testing.T) {
	t.Parallel()
	huge := blockstest.Huge
	var accounts []homeAccount
	var claimed []homeAlert
	for i := range 300 {
		accounts = append(accounts, homeAccount{AccountID: int64(i), Name: huge, Driver: huge, ARR: 1e300})
		claimed = append(claimed, homeAlert{AccountName: huge, What: huge, ClaimedAt: blockstest.FixedNow()})
	}
	home := homeTab(homeView{Accounts: accounts, Total: 1 << 40, Claimed: claimed, Now: blockstest.FixedNow()}, []blocks.HomeSection{{Title: huge, Blocks: []slack.Block{blocks.Section("x_1", blocks.UserText(huge, 2000))}}})
	blockstest.CheckBlocks(t, "home", home.Blocks.BlockSet, 100)
}
