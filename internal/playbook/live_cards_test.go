package playbook

import (
	"testing"
	"time"

	"github.com/holdfast/holdfast/blocks/blockstest"
)

func TestLiveCard(t *testing.T) {
	t.Parallel()
	renews := ptr(time.Date(2027, time.March, 3, 0, 0, 0, 0, time.UTC))
	for _, c := range []struct {
		name     string
		v        liveView
		text     string
		want     []string
		notWant  []string
		sections []string // block ids
	}{
		{
			name: "critical",
			v: liveView{Kind: liveCritical, AccountID: 7, Name: "Acme & <!channel>", Score: 34, Driver: "usage -58% over 14 days: -20 points <b>",
				ARR: 240_000, RenewalDate: renews, OwnerSlackID: "U0CSM", Now: blockstest.FixedNow()},
			text: "Critical: Acme &amp; &lt;!channel&gt;, score 34, $240k ARR",
			want: []string{"🔴 *Acme &amp; &lt;!channel&gt;* is critical · score 34\n↳ usage -58% over 14 days: -20 points &lt;b&gt;",
				"*ARR*\n$240k", "*Renews*\nMar 3, 2027 (in 23 days)", "*Owner*\n<@U0CSM>", "stop with `/digest unsubscribe live`"},
			sections: []string{"live_critical", "live_facts", "live_footer"},
		},
		{
			name:    "critical without driver, renewal or owner",
			v:       liveView{Kind: liveCritical, AccountID: 9, Score: 12, ARR: 9_500},
			text:    "Critical: Account #9, score 12, $9,500 ARR",
			want:    []string{"🔴 *Account #9* is critical · score 12", "*Renews*\nNo renewal date", "*Owner*\nno owner"},
			notWant: []string{"↳"},
		},
		{
			name:     "recovered",
			v:        liveView{Kind: liveRecovered, AccountID: 7, Name: "Acme", Score: 75, Before: ptr(41), ARR: 240_000, OwnerSlackID: "U0CSM"},
			text:     "Recovered: Acme, score 41 → 75 (▲34), $240k ARR",
			want:     []string{"🟢 *Acme* recovered · score 41 → 75 (▲34) · $240k ARR kept", "stop with `/digest unsubscribe live`"},
			notWant:  []string{"U0CSM", "Renews"},
			sections: []string{"live_recovered", "live_footer"},
		},
		{
			name: "recovered without the score at open",
			v:    liveView{Kind: liveRecovered, AccountID: 7, Name: "Acme", Score: 75, ARR: 240_000},
			text: "Recovered: Acme, score 75, $240k ARR",
			want: []string{"🟢 *Acme* recovered · score 75 · $240k ARR kept"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			m := liveCard(c.v)
			blockstest.CheckMessage(t, c.name, m, 50)
			if m.Text != c.text {
				t.Errorf("Text = %q, want %q", m.Text, c.text)
			}
			all := blockstest.AllText(t, m.Blocks)
			blockstest.WantContains(t, c.name, all, c.want...)
			blockstest.WantNotContains(t, c.name, all, c.notWant...)
			for _, id := range c.sections {
				if blockstest.BlockByID(m.Blocks, id) == nil {
					t.Errorf("block %s missing", id)
				}
			}
		})
	}
}

func TestLiveCardWorstCase(t *testing.T) {
	t.Parallel()
	huge := blockstest.Huge
	for _, kind := range []string{liveCritical, liveRecovered} {
		v := liveView{Kind: kind, AccountID: -1 << 62, Name: huge, Score: -1 << 40, Before: ptr(1 << 40), Driver: huge, ARR: 1e300,
			RenewalDate: ptr(time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)), OwnerSlackID: huge, Now: blockstest.FixedNow()}
		blockstest.CheckMessage(t, kind, liveCard(v), 50)
	}
}
