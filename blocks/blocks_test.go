package blocks_test

import (
	"testing"
	"time"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/blocks/blockstest"
)

func TestEscape(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                    "",
		"plain":               "plain",
		"a & b":               "a &amp; b",
		"<!channel>":          "&lt;!channel&gt;",
		"&lt;":                "&amp;lt;",
		blockstest.EvilTicket: "&lt;!channel&gt; please &lt;https://evil.example|click&gt;",
		"café <b> 😀":          "café &lt;b&gt; 😀",
		"*bold* _it_ ~s~ `":   "*bold* _it_ ~s~ `",
	} {
		if got := blocks.Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMoney(t *testing.T) {
	t.Parallel()
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
		if got := blocks.Money(tc.in); got != tc.want {
			t.Errorf("Money(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSparkline(t *testing.T) {
	t.Parallel()
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
		if got := blocks.Sparkline(tc.in); got != tc.want {
			t.Errorf("Sparkline(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDates(t *testing.T) {
	t.Parallel()
	renew := time.Date(2027, time.March, 3, 0, 0, 0, 0, time.UTC)
	if got := blocks.Date(renew); got != "Mar 3, 2027" {
		t.Errorf("Date = %q", got)
	}
	for _, tc := range []struct {
		date time.Time
		now  time.Time
		want string
	}{
		{renew, blockstest.FixedNow(), "in 23 days"},
		{renew, time.Date(2027, 3, 3, 23, 59, 0, 0, time.UTC), "today"},
		{renew, time.Date(2027, 3, 2, 23, 0, 0, 0, time.UTC), "tomorrow"},
		{renew, time.Date(2027, 3, 4, 1, 0, 0, 0, time.UTC), "yesterday"},
		{renew, time.Date(2027, 3, 13, 0, 0, 0, 0, time.UTC), "10 days ago"},
		// Now is read in the renewal date's location: 23:30 on Mar 1 in
		// New York is already Mar 2 in UTC.
		{renew, time.Date(2027, 3, 1, 23, 30, 0, 0, mustLoc(t, "America/New_York")), "tomorrow"},
		{renew, time.Time{}, ""},
	} {
		if got := blocks.Relative(tc.date, tc.now); got != tc.want {
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
	t.Parallel()
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
		if got := blocks.Truncate(tc.in, tc.max); got != tc.want {
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
		if got := blocks.TruncateMrkdwn(tc.in, tc.max); got != tc.want {
			t.Errorf("truncateMrkdwn(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

func TestProblem(t *testing.T) {
	t.Parallel()
	m := blocks.Problem("Couldn't load *%s* from %s.", "<!here> Acme", "a & b")
	blockstest.CheckMessage(t, "problem", m, 50)
	want := "Couldn't load *&lt;!here&gt; Acme* from a &amp; b."
	if m.Text != want {
		t.Errorf("Text = %q, want %q", m.Text, want)
	}
	blockstest.WantContains(t, "problem", blockstest.AllText(t, m.Blocks), "⚠️ "+want)
	// Even the format cannot carry markup: it is ours, but a placeholder
	// like <name> must not become a link.
	blockstest.WantContains(t, "problem format", blocks.Problem("Usage: /health <name>").Text, "/health &lt;name&gt;")
}

func TestPlainText(t *testing.T) {
	t.Parallel()
	if got := blocks.PlainText(blocks.Message{Text: "a &amp; b"}); got != "a & b\n" {
		t.Errorf("text-only PlainText = %q", got)
	}
	if got := blocks.DisplayText("<https://x.example|site> <!here> &lt;@U1&gt;"); got != "site (https://x.example) @here <@U1>" {
		t.Errorf("displayText = %q", got)
	}
}

// TestLimitsWorstCase feeds Problem the most hostile input we can think of
// and checks every Slack limit and the escaping invariant. Each feature's
// cards have their own worst case beside them.
func TestLimitsWorstCase(t *testing.T) {
	t.Parallel()
	huge := blockstest.Huge
	blockstest.CheckMessage(t, "problem", blocks.Problem(huge+"%s%s%s", huge, huge, huge), 50)
}
