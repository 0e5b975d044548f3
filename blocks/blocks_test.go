package blocks

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/holdfast/holdfast/slackid"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/scoring"
)

const evilTicket = "<!channel> please <https://evil.example|click>"

// fixedNow is the clock every test reads.
func fixedNow() time.Time { return time.Date(2027, time.February, 8, 15, 30, 0, 0, time.UTC) }

func ptr[T any](v T) *T { return &v }

// ---- helpers that inspect built blocks ----

// textObj is one text object found in a message, with where it was.
type textObj struct {
	where string
	obj   *slack.TextBlockObject
	limit int
}

type foundButton struct {
	blockID string
	b       *slack.ButtonBlockElement
}

// walk lists every text object and button in blocks, failing on block
// types this package is not expected to emit (so a new type cannot slip
// past the limits test).
func walk(t *testing.T, blocks []slack.Block) (texts []textObj, buttons []foundButton) {
	t.Helper()
	for i, blk := range blocks {
		where := fmt.Sprintf("block %d", i)
		switch blk := blk.(type) {
		case *slack.HeaderBlock:
			texts = append(texts, textObj{where + " header", blk.Text, 150})
		case *slack.SectionBlock:
			if blk.Text != nil {
				texts = append(texts, textObj{where + " section", blk.Text, 3000})
			}
			if len(blk.Fields) > 10 {
				t.Errorf("%s: %d fields", where, len(blk.Fields))
			}
			for _, f := range blk.Fields {
				texts = append(texts, textObj{where + " field", f, 2000})
			}
			if blk.Text == nil && len(blk.Fields) == 0 {
				t.Errorf("%s: section without text or fields", where)
			}
			if blk.Accessory != nil && blk.Accessory.ButtonElement != nil {
				b := blk.Accessory.ButtonElement
				texts = append(texts, textObj{where + " accessory", b.Text, 75})
				buttons = append(buttons, foundButton{blk.BlockID, b})
			}
		case *slack.ContextBlock:
			els := blk.ContextElements.Elements
			if len(els) == 0 || len(els) > 10 {
				t.Errorf("%s: %d context elements", where, len(els))
			}
			for _, el := range els {
				to, ok := el.(*slack.TextBlockObject)
				if !ok {
					t.Fatalf("%s: unexpected context element %T", where, el)
				}
				texts = append(texts, textObj{where + " context", to, 3000})
			}
		case *slack.ActionBlock:
			if blk.BlockID == "" {
				t.Errorf("%s: actions block without block_id", where)
			}
			if len(blk.Elements.ElementSet) == 0 || len(blk.Elements.ElementSet) > 25 {
				t.Errorf("%s: %d action elements", where, len(blk.Elements.ElementSet))
			}
			for _, el := range blk.Elements.ElementSet {
				b, ok := el.(*slack.ButtonBlockElement)
				if !ok {
					t.Fatalf("%s: unexpected element %T", where, el)
				}
				texts = append(texts, textObj{where + " button", b.Text, 75})
				buttons = append(buttons, foundButton{blk.BlockID, b})
			}
		case *slack.DividerBlock:
		default:
			t.Fatalf("%s: unexpected block type %T", where, blk)
		}
	}
	return texts, buttons
}

// utf16Len counts what the strictest reading of Slack's limits counts.
func utf16Len(s string) int { return len(utf16.Encode([]rune(s))) }

// assertSafeMrkdwn fails unless every '<' in s opens a well-formed user
// mention and every '&' opens one of the three entities: then no customer
// text can be a link, a broadcast or a mention.
func assertSafeMrkdwn(t *testing.T, where, s string) {
	t.Helper()
	for _, bad := range []string{"<!channel>", "<!here>", "<https://evil", "<!everyone>"} {
		if strings.Contains(s, bad) {
			t.Errorf("%s: unescaped %q in %.120q", where, bad, s)
		}
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '<':
			end := strings.IndexByte(s[i:], '>')
			// The bot's own channel links (<#C123>) are allowed too.
			channelLink := end > 0 && strings.HasPrefix(s[i:], "<#") && slackid.Channel(s[i+2:i+end])
			if end < 0 || (!channelLink && (!strings.HasPrefix(s[i:], "<@") || !slackid.User(s[i+2:i+end]))) {
				t.Errorf("%s: raw '<' at %d: %.60q", where, i, s[i:])
				return
			}
		case '&':
			if !strings.HasPrefix(s[i:], "&amp;") && !strings.HasPrefix(s[i:], "&lt;") && !strings.HasPrefix(s[i:], "&gt;") {
				t.Errorf("%s: raw '&' at %d: %.60q", where, i, s[i:])
				return
			}
		}
	}
}

// checkMessage asserts every limit and safety rule this package promises.
func checkMessage(t *testing.T, name string, m Message, maxBlocks int) {
	t.Helper()
	if m.Text == "" {
		t.Errorf("%s: empty fallback Text", name)
	}
	if utf16Len(m.Text) > 3000 {
		t.Errorf("%s: Text is %d long", name, utf16Len(m.Text))
	}
	assertSafeMrkdwn(t, name+" Text", m.Text)
	checkBlocks(t, name, m.Blocks, maxBlocks)
	if maxBlocks == 50 {
		// Slack rejects a message whose blocks hold more than ~12k text
		// characters in all (msg_blocks_too_long), whatever each block holds.
		total := 0
		texts, _ := walk(t, m.Blocks)
		for _, tx := range texts {
			total += utf16Len(tx.obj.Text)
		}
		if total > 11000 {
			t.Errorf("%s: %d characters of block text, want <= 11000", name, total)
		}
	}
}

func checkBlocks(t *testing.T, name string, blocks []slack.Block, maxBlocks int) {
	t.Helper()
	if len(blocks) == 0 || len(blocks) > maxBlocks {
		t.Errorf("%s: %d blocks, want 1..%d", name, len(blocks), maxBlocks)
	}
	blockIDs := map[string]bool{}
	for _, blk := range blocks {
		id := blk.ID()
		if id == "" {
			continue
		}
		if blockIDs[id] || len(id) > 255 {
			t.Errorf("%s: block_id %q duplicated or too long", name, id)
		}
		blockIDs[id] = true
	}
	texts, buttons := walk(t, blocks)
	for _, tx := range texts {
		where := name + " " + tx.where
		if tx.obj == nil || tx.obj.Text == "" {
			t.Errorf("%s: empty text object", where)
			continue
		}
		if n := utf16Len(tx.obj.Text); n > tx.limit {
			t.Errorf("%s: %d characters, limit %d", where, n, tx.limit)
		}
		switch tx.obj.Type {
		case slack.MarkdownType:
			assertSafeMrkdwn(t, where, tx.obj.Text)
			if !tx.obj.Verbatim {
				t.Errorf("%s: mrkdwn without verbatim", where)
			}
		case slack.PlainTextType:
		default:
			t.Errorf("%s: text type %q", where, tx.obj.Type)
		}
	}
	actionIDs := map[string]bool{}
	for _, b := range buttons {
		if b.b.ActionID == "" || actionIDs[b.b.ActionID] || len(b.b.ActionID) > 255 {
			t.Errorf("%s: action_id %q empty, duplicated or too long", name, b.b.ActionID)
		}
		actionIDs[b.b.ActionID] = true
		if len(b.b.Value) > 2000 {
			t.Errorf("%s: button value %d long", name, len(b.b.Value))
		}
	}
	// Whatever we build must serialize and parse back as the same blocks.
	raw, err := json.Marshal(slack.Blocks{BlockSet: blocks})
	if err != nil {
		t.Fatalf("%s: marshal: %v", name, err)
	}
	var back slack.Blocks
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatalf("%s: unmarshal: %v", name, err)
	}
	if len(back.BlockSet) != len(blocks) {
		t.Errorf("%s: %d blocks after JSON round trip, want %d", name, len(back.BlockSet), len(blocks))
	}
}

func findButton(t *testing.T, blocks []slack.Block, actionID string) *slack.ButtonBlockElement {
	t.Helper()
	_, buttons := walk(t, blocks)
	for _, b := range buttons {
		if b.b.ActionID == actionID {
			return b.b
		}
	}
	return nil
}

func blockByID(blocks []slack.Block, id string) slack.Block {
	for _, b := range blocks {
		if b.ID() == id {
			return b
		}
	}
	return nil
}

// allText is every text in the message joined, for "contains" assertions.
func allText(t *testing.T, blocks []slack.Block) string {
	t.Helper()
	texts, _ := walk(t, blocks)
	var b strings.Builder
	for _, tx := range texts {
		b.WriteString(tx.obj.Text + "\n")
	}
	return b.String()
}

func wantContains(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s: missing %q in:\n%s", what, w, got)
		}
	}
}

func wantNotContains(t *testing.T, what, got string, bad ...string) {
	t.Helper()
	for _, w := range bad {
		if strings.Contains(got, w) {
			t.Errorf("%s: unexpected %q in:\n%s", what, w, got)
		}
	}
}

// ---- formatting ----

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"":                  "",
		"plain":             "plain",
		"a & b":             "a &amp; b",
		"<!channel>":        "&lt;!channel&gt;",
		"&lt;":              "&amp;lt;",
		evilTicket:          "&lt;!channel&gt; please &lt;https://evil.example|click&gt;",
		"café <b> 😀":        "café &lt;b&gt; 😀",
		"*bold* _it_ ~s~ `": "*bold* _it_ ~s~ `",
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMoney(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{0, "$0"},
		{9.4, "$9"},
		{950, "$950"},
		{9500, "$9,500"},
		{9999.4, "$9,999"},
		{9999.6, "$10k"},
		{12_345, "$12.3k"},
		{50_000, "$50k"},
		{99_960, "$100k"},
		{240_000, "$240k"},
		{240_499, "$240k"},
		{999_499, "$999k"},
		{999_600, "$1M"},
		{1_200_000, "$1.2M"},
		{1_250_000, "$1.3M"},
		{2_000_000, "$2M"},
		{120_000_000, "$120M"},
		{3_400_000_000, "$3.4B"},
		{999_499_000_000, "$999B"},
		{2.5e12, "$2.5T"},
		{1e300, "$999T+"},
		{-9500, "-$9,500"},
	} {
		if got := Money(tc.in); got != tc.want {
			t.Errorf("Money(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSparkline(t *testing.T) {
	// Levels by hand: level = round(score*7/100), 0..7 -> ▁▂▃▄▅▆▇█.
	// 100 -> 7.0 █; 70 -> 4.9 ▆; 40 -> 2.8 ▄; 0 -> 0 ▁; 50 -> 3.5 ▅;
	// 7 -> 0.49 ▁; 8 -> 0.56 ▂; 93 -> 6.51 █; 92 -> 6.44 ▇.
	for _, tc := range []struct {
		in   []int
		want string
	}{
		{nil, ""},
		{[]int{100, 70, 40, 0}, "█▆▄▁"},
		{[]int{50}, "▅"},
		{[]int{7, 8}, "▁▂"},
		{[]int{92, 93}, "▇█"},
		{[]int{-20, 250}, "▁█"},
		// A flat healthy line stays high; a flat failing line stays low.
		{[]int{85, 85, 85}, "▇▇▇"},
		{[]int{20, 20}, "▂▂"},
	} {
		if got := Sparkline(tc.in); got != tc.want {
			t.Errorf("Sparkline(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDates(t *testing.T) {
	renew := time.Date(2027, time.March, 3, 0, 0, 0, 0, time.UTC)
	if got := Date(renew); got != "Mar 3, 2027" {
		t.Errorf("Date = %q", got)
	}
	for _, tc := range []struct {
		date time.Time
		now  time.Time
		want string
	}{
		{renew, fixedNow(), "in 23 days"},
		{renew, time.Date(2027, 3, 3, 23, 59, 0, 0, time.UTC), "today"},
		{renew, time.Date(2027, 3, 2, 23, 0, 0, 0, time.UTC), "tomorrow"},
		{renew, time.Date(2027, 3, 4, 1, 0, 0, 0, time.UTC), "yesterday"},
		{renew, time.Date(2027, 3, 13, 0, 0, 0, 0, time.UTC), "10 days ago"},
		// Now is read in the renewal date's location: 23:30 on Mar 1 in
		// New York is already Mar 2 in UTC.
		{renew, time.Date(2027, 3, 1, 23, 30, 0, 0, mustLoc(t, "America/New_York")), "tomorrow"},
		{renew, time.Time{}, ""},
	} {
		if got := Relative(tc.date, tc.now); got != tc.want {
			t.Errorf("Relative(%v, %v) = %q, want %q", tc.date, tc.now, got, tc.want)
		}
	}
}

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("no tzdata: %v", err)
	}
	return loc
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"hello", 5, "hello"},
		{"hello world", 6, "hello…"},
		{"hello world", 7, "hello…"}, // trailing space dropped before the ellipsis
		{"😀😀😀", 4, "😀…"},             // emoji count as two UTF-16 units
		{"abc", 0, ""},
	} {
		if got := Truncate(tc.in, tc.max); got != tc.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
	// A cut never leaves half an entity or half a mention behind.
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"ab &amp; cd", 6, "ab…"},
		{"ab &lt;x", 7, "ab…"},
		{"hi <@U123ABC> there", 10, "hi…"},
		{"hi <@U1> there", 10, "hi <@U1>…"},
	} {
		if got := TruncateMrkdwn(tc.in, tc.max); got != tc.want {
			t.Errorf("truncateMrkdwn(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

// ---- builders ----

func alertView() AlertView {
	return AlertView{
		AlertID: 7, AccountID: 42, AccountName: "Acme Corp", ExternalID: "acme-001",
		Score: 57, PrevScore: ptr(75), Band: scoring.BandAtRisk,
		Reasons: []scoring.AlertReason{{Kind: scoring.AlertScoreDrop, Summary: "score dropped 18 points: 75 → 57"}},
		Drivers: []scoring.ComponentDelta{
			{Component: scoring.Component{Key: "usage", Label: "Product usage", Weight: 25, Points: -22.4, Detail: "usage -38% over 14 days"}, Delta: -15},
			{Component: scoring.Component{Key: "support", Label: "Support", Weight: 15, Points: -6, Detail: "3 open tickets"}, Delta: -6},
		},
		Trigger:      "ticket from zendesk: “" + evilTicket + "”",
		ARR:          240_000,
		RenewalDate:  ptr(time.Date(2027, time.March, 3, 0, 0, 0, 0, time.UTC)),
		OwnerSlackID: "U123ABC",
		Now:          fixedNow(),
	}
}

func TestAlert(t *testing.T) {
	m := Alert(alertView())
	checkMessage(t, "alert", m, 50)

	if want := "At risk: Acme Corp 57 (▼18) — usage -38% over 14 days: -22 points"; m.Text != want {
		t.Errorf("Text = %q, want %q", m.Text, want)
	}
	h, ok := m.Blocks[0].(*slack.HeaderBlock)
	if !ok || h.Text.Text != "🟠 At risk: Acme Corp" {
		t.Errorf("header = %#v", m.Blocks[0])
	}
	all := allText(t, m.Blocks)
	wantContains(t, "alert", all,
		"*Health score: 57/100* (▼18 from 75)",
		"• score dropped 18 points: 75 → 57",
		"• usage -38% over 14 days: *-22 points* (-15 since last score)",
		"• 3 open tickets: *-6 points*\n", // delta equals points: no note
		"*ARR*\n$240k",
		"*Renewal*\nMar 3, 2027 (in 23 days)",
		"*Owner*\n<@U123ABC>",
		"*Account*\nacme-001",
		"Trigger: ticket from zendesk: “&lt;!channel&gt; please &lt;https://evil.example|click&gt;”",
	)
	if blockByID(m.Blocks, "alert_trigger") == nil {
		t.Error("trigger is not in its context block")
	}
	if b := findButton(t, m.Blocks, "alert_history"); b == nil || b.Value != "42" || b.Text.Text != "View history" {
		t.Errorf("history button = %+v", b)
	}
	if b := findButton(t, m.Blocks, "alert_claim"); b == nil || b.Value != "7" || b.Style != slack.StylePrimary || b.Text.Text != "Claim" {
		t.Errorf("claim button = %+v", b)
	}
	if blockByID(m.Blocks, "alert_actions") == nil {
		t.Error("no alert_actions block")
	}
}

// The churn-risk alert leads to the offers form.
func TestAlertProposesOffer(t *testing.T) {
	m := Alert(alertView())
	if b := findButton(t, m.Blocks, ActionProposeOffer); b == nil || b.Value != "42" || b.Text.Text != "Propose offer" {
		t.Errorf("propose button %+v", b)
	}
}

func TestAlertVariants(t *testing.T) {
	t.Run("claimed", func(t *testing.T) {
		v := alertView()
		v.ClaimedBy = "U999"
		m := Alert(v)
		checkMessage(t, "claimed", m, 50)
		if findButton(t, m.Blocks, "alert_claim") != nil {
			t.Error("claim button still shown after claim")
		}
		if findButton(t, m.Blocks, "alert_history") == nil {
			t.Error("history button gone after claim")
		}
		wantContains(t, "claimed", allText(t, m.Blocks), "Claimed by <@U999>")
	})
	t.Run("bad ids are shown as text", func(t *testing.T) {
		v := alertView()
		v.OwnerSlackID = "bob <!here>"
		v.ClaimedBy = "u123"
		m := Alert(v)
		checkMessage(t, "bad ids", m, 50)
		wantContains(t, "bad ids", allText(t, m.Blocks), "*Owner*\nbob &lt;!here&gt;", "Claimed by u123")
	})
	t.Run("first score, critical, no drivers", func(t *testing.T) {
		v := alertView()
		v.PrevScore, v.Band, v.Drivers, v.Score = nil, scoring.BandCritical, nil, 30
		v.Reasons = []scoring.AlertReason{{Kind: scoring.AlertCancellation, Summary: "customer said they will not renew"}}
		v.RenewalDate, v.OwnerSlackID, v.Trigger = nil, "", ""
		m := Alert(v)
		checkMessage(t, "critical", m, 50)
		if want := "Critical: Acme Corp 30 — customer said they will not renew"; m.Text != want {
			t.Errorf("Text = %q, want %q", m.Text, want)
		}
		all := allText(t, m.Blocks)
		wantContains(t, "critical", all, "🔴 Critical: Acme Corp", "No renewal date", "No owner")
		wantNotContains(t, "critical", all, "What changed", "Trigger:")
	})
	t.Run("score up", func(t *testing.T) {
		v := alertView()
		v.PrevScore = ptr(50)
		wantContains(t, "up", allText(t, Alert(v).Blocks), "(▲7 from 50)")
	})
}

func healthView() HealthView {
	return HealthView{
		AccountID: 42, AccountName: "Acme Corp", ExternalID: "acme-001", Tier: "Enterprise", Segment: "Mid-market",
		Score: ptr(64), Band: scoring.BandAtRisk,
		Components: []scoring.Component{
			{Key: "usage", Label: "Product usage", Weight: 25, Points: -22.4, Detail: "usage -38% over 14 days"},
			{Key: "nps", Label: "NPS", Weight: 10, Points: 0, Detail: ""},
			{Key: "champion", Label: "Champion", Weight: 7.5, Points: -3, Detail: "champion <Jane & Co> left"},
		},
		Weekly: []int{100, 70, 40, 0},
		Timeline: []TimelineEntry{
			{At: time.Date(2027, 2, 7, 9, 0, 0, 0, time.UTC), Kind: "ticket", Summary: evilTicket},
			{At: time.Date(2027, 2, 6, 9, 0, 0, 0, time.UTC), Kind: "call_note", Summary: strings.Repeat("x", 400)},
		},
		ARR: 9500, RenewalDate: ptr(time.Date(2027, time.March, 3, 0, 0, 0, 0, time.UTC)), OwnerSlackID: "W042",
		Now: fixedNow(),
	}
}

func TestHealthCard(t *testing.T) {
	m := HealthCard(healthView())
	checkMessage(t, "health", m, 50)
	if want := "Acme Corp: 64/100, At risk"; m.Text != want {
		t.Errorf("Text = %q, want %q", m.Text, want)
	}
	all := allText(t, m.Blocks)
	wantContains(t, "health", all,
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
	wantNotContains(t, "health", all, strings.Repeat("x", 150))
	if b := findButton(t, m.Blocks, "alert_history"); b == nil || b.Value != "42" {
		t.Errorf("history button = %+v", b)
	}
}

func TestHealthCardStates(t *testing.T) {
	v := healthView()
	v.Score, v.Weekly, v.Timeline, v.Components = nil, nil, nil, nil
	m := HealthCard(v)
	checkMessage(t, "unscored", m, 50)
	wantContains(t, "unscored", allText(t, m.Blocks), "⚪ Acme Corp — Not scored yet", "*Not scored yet*", "Nothing recorded yet.")

	v = healthView()
	v.Churned = true
	m = HealthCard(v)
	checkMessage(t, "churned", m, 50)
	wantContains(t, "churned", allText(t, m.Blocks), "⚫ Acme Corp — Churned", "*Churned* · last score 64/100")
	if m.Text != "Acme Corp: Churned" {
		t.Errorf("Text = %q", m.Text)
	}

	v = healthView()
	v.Weekly = []int{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}
	// Only the last 8: 30..100 -> levels 2.1 2.8 3.5 4.2 4.9 5.6 6.3 7.0 -> 2 3 4 4 5 6 6 7.
	wantContains(t, "long weekly", allText(t, HealthCard(v).Blocks), "Last 8 weeks: ▃▄▅▅▆▇▇█ (30 → 100)")

	v = healthView()
	v.Timeline = make([]TimelineEntry, 9)
	for i := range v.Timeline {
		v.Timeline[i] = TimelineEntry{At: fixedNow(), Kind: "email", Summary: fmt.Sprintf("entry-%d", i)}
	}
	all := allText(t, HealthCard(v).Blocks)
	wantContains(t, "timeline", all, "entry-4")
	wantNotContains(t, "timeline", all, "entry-5")
}

func TestAtRisk(t *testing.T) {
	t.Run("empty", func(t *testing.T) {
		for _, mine := range []bool{false, true} {
			m := AtRisk(AtRiskView{Mine: mine})
			checkMessage(t, "empty", m, 50)
			if m.Text != "No accounts at risk 🎉" {
				t.Errorf("Text = %q", m.Text)
			}
			wantContains(t, "empty", allText(t, m.Blocks), "No accounts at risk 🎉")
		}
	})
	t.Run("ranked and capped", func(t *testing.T) {
		rows := make([]AtRiskRow, 25)
		for i := range rows {
			rows[i] = AtRiskRow{AccountID: int64(i + 1), Name: fmt.Sprintf("Acct %02d", i), Score: 20 + i, Band: scoring.BandCritical, ARR: 50_000, OwnerSlackID: "U1", TopDriver: "usage -38% <b>"}
		}
		rows[0].RenewalDate = ptr(time.Date(2027, time.March, 3, 0, 0, 0, 0, time.UTC))
		rows[0].Name = "Acme & Sons"
		m := AtRisk(AtRiskView{Mine: true, Rows: rows, Total: 31, ARRAtRisk: 1_250_000, Now: fixedNow()})
		checkMessage(t, "atrisk", m, 50)
		if m.Text != "Yours: 31 accounts at risk, $1.3M ARR" {
			t.Errorf("Text = %q", m.Text)
		}
		all := allText(t, m.Blocks)
		wantContains(t, "atrisk", all,
			"Your accounts at risk",
			"*31 accounts* at risk · *$1.3M* ARR at risk",
			"🔴 *Acme &amp; Sons* · score 20 · $50k ARR · renews Mar 3, 2027 (in 23 days) · <@U1>\n↳ usage -38% &lt;b&gt;",
			"Acct 19",
			"…and 11 more",
		)
		wantNotContains(t, "atrisk", all, "Acct 20")
		for i := 0; i < 20; i++ {
			if blockByID(m.Blocks, fmt.Sprintf("atrisk_row_%d", i)) == nil {
				t.Errorf("row %d missing", i)
			}
		}
	})
}

func TestProblem(t *testing.T) {
	m := Problem("Couldn't load *%s* from %s.", "<!here> Acme", "a & b")
	checkMessage(t, "problem", m, 50)
	want := "Couldn't load *&lt;!here&gt; Acme* from a &amp; b."
	if m.Text != want {
		t.Errorf("Text = %q, want %q", m.Text, want)
	}
	wantContains(t, "problem", allText(t, m.Blocks), "⚠️ "+want)
	// Even the format cannot carry markup: it is ours, but a placeholder
	// like <name> must not become a link.
	wantContains(t, "problem format", Problem("Usage: /health <name>").Text, "/health &lt;name&gt;")
}

func TestHistoryModal(t *testing.T) {
	entries := make([]TimelineEntry, 500)
	for i := range entries {
		// Newest first, four entries a day.
		entries[i] = TimelineEntry{At: fixedNow().Add(-time.Duration(i) * 6 * time.Hour), Kind: "ticket", Summary: fmt.Sprintf("#%d %s", i, evilTicket)}
	}
	v := HistoryView{AccountName: "Acme Corp", Score: ptr(57), Band: scoring.BandAtRisk, Entries: entries, Total: 1200, Now: fixedNow()}
	mv := HistoryModal(v)
	checkModal(t, "history", mv)
	blocks := mv.Blocks.BlockSet
	all := allText(t, blocks)
	wantContains(t, "history", all, "🟠 Acme Corp", "Score 57/100 · At risk", "*Feb 8, 2027* · today\n• 15:30 · ticket · #0 &lt;!channel&gt;", "*Feb 7, 2027* · yesterday\n", "#1 ")
	last, ok := blocks[len(blocks)-1].(*slack.ContextBlock)
	if !ok || !strings.HasPrefix(last.ContextElements.Elements[0].(*slack.TextBlockObject).Text, "Showing the latest ") ||
		!strings.HasSuffix(last.ContextElements.Elements[0].(*slack.TextBlockObject).Text, " of 1,200") {
		t.Errorf("last block = %#v", blocks[len(blocks)-1])
	}

	// Everything fits: no footer.
	small := HistoryModal(HistoryView{AccountName: "Acme", Entries: entries[:3], Total: 3})
	checkModal(t, "small", small)
	wantNotContains(t, "small", allText(t, small.Blocks.BlockSet), "Showing the latest")
	wantContains(t, "small", allText(t, small.Blocks.BlockSet), "Not scored yet")

	empty := HistoryModal(HistoryView{AccountName: "Acme"})
	checkModal(t, "empty", empty)
	wantContains(t, "empty", allText(t, empty.Blocks.BlockSet), "No activity recorded yet.")
}

func checkModal(t *testing.T, name string, mv slack.ModalViewRequest) {
	t.Helper()
	if mv.Type != slack.VTModal {
		t.Errorf("%s: type %q", name, mv.Type)
	}
	if mv.Title == nil || mv.Title.Text != "Account history" || mv.Close == nil || mv.Close.Text != "Close" {
		t.Errorf("%s: title/close = %+v %+v", name, mv.Title, mv.Close)
	}
	for _, to := range []*slack.TextBlockObject{mv.Title, mv.Close, mv.Submit} {
		if to != nil && (to.Type != slack.PlainTextType || utf16Len(to.Text) > 24) {
			t.Errorf("%s: view text %+v", name, to)
		}
	}
	checkBlocks(t, name, mv.Blocks.BlockSet, 100)
	if _, err := json.Marshal(mv); err != nil {
		t.Errorf("%s: marshal view: %v", name, err)
	}
}

func TestPlainText(t *testing.T) {
	out := PlainText(Alert(alertView()))
	wantContains(t, "plain", out,
		"🟠 At risk: Acme Corp\n====",
		"*Health score: 57/100* (▼18 from 75)",
		"ARR: $240k",
		"Renewal: Mar 3, 2027 (in 23 days)",
		"Owner: @U123ABC",
		"Trigger: ticket from zendesk: “<!channel> please <https://evil.example|click>”",
		"[ View history ] [ Claim ]",
	)
	wantNotContains(t, "plain", out, "&lt;", "&amp;", "<@U123ABC>")

	claimed := alertView()
	claimed.ClaimedBy = "U999"
	wantContains(t, "plain claimed", PlainText(Alert(claimed)), "Claimed by @U999", "[ View history ] [ Propose offer ]\n")

	wantContains(t, "plain atrisk", PlainText(AtRisk(AtRiskView{Rows: []AtRiskRow{{Name: "A"}}, Total: 1})), strings.Repeat("─", 40))
	if got := PlainText(Message{Text: "a &amp; b"}); got != "a & b\n" {
		t.Errorf("text-only PlainText = %q", got)
	}
	if got := DisplayText("<https://x.example|site> <!here> &lt;@U1&gt;"); got != "site (https://x.example) @here <@U1>" {
		t.Errorf("displayText = %q", got)
	}
}

// TestLimitsWorstCase feeds every builder the most hostile input we can
// think of and checks every Slack limit and the escaping invariant.
func TestLimitsWorstCase(t *testing.T) {
	hostile := " <!channel> & <!here> <https://evil|x> <@U1|spoof> &amp; 😀 *_~`\n"
	huge := strings.Repeat(hostile, 10_000/len(hostile)+1) // > 10k chars
	big := strings.Repeat(hostile, 60)

	var drivers []scoring.ComponentDelta
	var comps []scoring.Component
	for i := 0; i < 200; i++ {
		c := scoring.Component{Key: huge, Label: huge, Weight: 1e300, Points: -1e300, Detail: huge}
		comps = append(comps, c)
		drivers = append(drivers, scoring.ComponentDelta{Component: c, Delta: 1e300})
	}
	var reasons []scoring.AlertReason
	for i := 0; i < 100; i++ {
		reasons = append(reasons, scoring.AlertReason{Kind: scoring.AlertScoreDrop, Summary: huge})
	}
	var timeline []TimelineEntry
	for i := 0; i < 500; i++ {
		timeline = append(timeline, TimelineEntry{At: fixedNow().Add(-time.Duration(i) * time.Minute), Kind: big, Summary: huge})
	}
	weekly := make([]int, 500)
	for i := range weekly {
		weekly[i] = i*37 - 5000
	}
	var rows []AtRiskRow
	for i := 0; i < 500; i++ {
		rows = append(rows, AtRiskRow{AccountID: int64(i), Name: huge, Score: -1 << 40, Band: scoring.BandCritical, ARR: 1e300,
			RenewalDate: ptr(time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)), OwnerSlackID: huge, TopDriver: huge})
	}
	renew := ptr(time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC))

	for _, claimed := range []string{"", huge, "U" + strings.Repeat("A", 40)} {
		checkMessage(t, "alert", Alert(AlertView{
			AlertID: -1, AccountID: 1 << 62, AccountName: huge, ExternalID: huge,
			Score: 1 << 40, PrevScore: ptr(-1 << 40), Band: scoring.Band(huge),
			Reasons: reasons, Drivers: drivers, Trigger: huge, ARR: -1e300,
			RenewalDate: renew, OwnerSlackID: huge, ClaimedBy: claimed, Now: fixedNow(),
		}), 50)
	}
	checkMessage(t, "health", HealthCard(HealthView{
		AccountID: 1, AccountName: huge, ExternalID: huge, Tier: huge, Segment: huge,
		Score: ptr(1000), Band: scoring.BandHealthy, Components: comps, Weekly: weekly, Timeline: timeline,
		ARR: 1e300, RenewalDate: renew, OwnerSlackID: huge, Now: fixedNow(),
	}), 50)
	checkMessage(t, "atrisk", AtRisk(AtRiskView{Mine: true, Rows: rows, Total: 1 << 40, ARRAtRisk: 1e300, Now: fixedNow()}), 50)
	checkMessage(t, "problem", Problem(huge+"%s%s%s", huge, huge, huge), 50)
	checkModal(t, "history", HistoryModal(HistoryView{AccountName: huge, Score: ptr(5), Band: scoring.BandCritical, Entries: timeline, Total: 1 << 40, Now: fixedNow()}))

	// Many small entries must still respect 100 blocks (one day each).
	var daily []TimelineEntry
	for i := 0; i < 500; i++ {
		daily = append(daily, TimelineEntry{At: fixedNow().AddDate(0, 0, -i), Kind: "email", Summary: "hi"})
	}
	mv := HistoryModal(HistoryView{AccountName: "Acme", Entries: daily})
	checkModal(t, "daily history", mv)
	if n := len(mv.Blocks.BlockSet); n != 100 {
		t.Errorf("daily history uses %d blocks, want all 100", n)
	}
}
