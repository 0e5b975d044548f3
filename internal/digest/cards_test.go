package digest

import (
	"strings"
	"testing"
	"time"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/blocks/blockstest"
	"github.com/holdfast/holdfast/scoring"
)

func TestCard(t *testing.T) {
	t.Parallel()
	berlin, _ := time.LoadLocation("Europe/Berlin")
	d := Build(Input{
		Frequency: Weekly, Location: berlin,
		Start: time.Date(2027, 2, 1, 8, 0, 0, 0, time.UTC), End: time.Date(2027, 2, 8, 8, 0, 0, 0, time.UTC),
		Worsened: []ScoreChange{
			{AccountID: 1, Name: "Acme & <!channel>", ARR: 120000, OwnerCSM: "U1", FromScore: ptr(82), FromBand: scoring.BandHealthy, ToScore: 61, ToBand: scoring.BandAtRisk,
				Components: []scoring.Component{{Key: "usage", Points: -18, Weight: 20, Detail: "usage -45% over 14 days"}}},
		},
		AtRiskCount: 7, AtRiskARR: 910000,
		Competitors: []CompetitorCount{{Competitor: "Gainsight", Mentions: 4, MentionsBefore: 1, Accounts: 3, WithChurnIntent: 1}},
		Examples:    []MentionExample{{Competitor: "Gainsight", AccountName: "Acme", Kind: "call_note", Snippet: "they <!here> demoed Gainsight"}},
		Sentiment:   []SentimentChange{{AccountID: 1, Name: "Acme", ARR: 120000, Recent: -0.5, RecentN: 3, Before: ptr(0.3), BeforeN: 4}},
		Saves: &Saves{Opened: 5, SLAMet: 3, SLADue: 4, MedianClaim: ptr(95 * time.Minute), Recovered: 2, Churned: 1, Dismissed: 1,
			StillOpen: 6, ARRSaved: 340_000, ARRLost: 90_000, RecoveryRate: ptr(2.0 / 3)},
	})
	m := Card(d, Filters{MinARR: 50000, Tier: "Enterprise"})
	blockstest.CheckMessage(t, "digest", m, 50)
	blockstest.WantContains(t, "digest", blockstest.AllText(t, m.Blocks),
		"Weekly account digest", "Feb 1 09:00 – Feb 8 09:00 CET",
		"*ARR at risk: $910k* across 7 accounts · 1 account ($120k) entered at risk",
		"*Entered at risk*", "🟠 *Acme &amp; &lt;!channel&gt;* 82 → 61 · $120k · <@U1>", "↳ usage -45% over 14 days: -18 points",
		"*Biggest score drops*", "82 → 61 (▼21)",
		"*Gainsight* 4 mentions at 3 accounts, ▲3 vs the week before · ⚠️ 1 with churn intent", "_Acme (call note)_: “they &lt;!here&gt; demoed Gainsight”",
		"*Sentiment movers*", "*Acme* +0.30 → -0.50 (3 texts)",
		"*Saves:* 2 recovered ($340k ARR saved) · 1 churned ($90k ARR lost) · 1 dismissed · recovery rate 67%\n"+
			"5 playbooks opened · 75% claimed within SLA (3 of 4) · median claim 1h 35m · 6 still open",
		"Covers accounts from $50k ARR, tier Enterprise.")
	blockstest.WantContains(t, "digest fallback", m.Text, "Weekly digest: ARR at risk $910k, 2 saved ($340k), 4 competitor mentions, 1 sentiment drop")
	// Nothing happened to a playbook: no section, and the digest stays quiet.
	idle := Card(Build(Input{Frequency: Weekly, Saves: &Saves{}}), Filters{})
	blockstest.WantNotContains(t, "idle saves", blockstest.AllText(t, idle.Blocks), "Saves")
	blockstest.WantContains(t, "idle saves", blockstest.AllText(t, idle.Blocks), "Nothing new in this period.")

	quiet := Card(Build(Input{Frequency: Daily, Topics: []string{"competitors"}}), Filters{Preview: true})
	blockstest.CheckMessage(t, "quiet digest", quiet, 50)
	blockstest.WantContains(t, "quiet digest", blockstest.AllText(t, quiet.Blocks), "Daily account digest (preview)", "Nothing new in this period.")
	blockstest.WantNotContains(t, "quiet digest", blockstest.AllText(t, quiet.Blocks), "ARR at risk")
}

func TestCardWorstCase(t *testing.T) {
	t.Parallel()
	hostile := " <!channel> & <!here> <https://evil|x> <@U1|spoof> &amp; 😀 *_~`\n"
	huge := strings.Repeat(hostile, 10_000/len(hostile)+1)
	var worsened []ScoreChange
	var counts []CompetitorCount
	var examples []MentionExample
	var movers []SentimentChange
	for i := range 300 {
		worsened = append(worsened, ScoreChange{AccountID: int64(i), Name: huge, ARR: 1e300, OwnerCSM: huge, FromScore: ptr(100), ToScore: -5,
			ToBand: scoring.BandCritical, Components: []scoring.Component{{Key: huge, Detail: huge, Points: -1e300}}})
		counts = append(counts, CompetitorCount{Competitor: huge + blocks.Itoa(i), Mentions: 1 << 30, Accounts: 5})
		examples = append(examples, MentionExample{Competitor: huge + blocks.Itoa(i), AccountName: huge, Kind: huge, Snippet: huge})
		movers = append(movers, SentimentChange{Name: huge, Recent: -1, RecentN: 5, Before: ptr(1.0)})
	}
	big := 1 << 40
	d := Build(Input{Frequency: Weekly, Worsened: worsened, Competitors: counts, Examples: examples, Sentiment: movers, AtRiskARR: 1e300, AtRiskCount: 1 << 40,
		Saves: &Saves{Opened: big, SLAMet: big, SLADue: big, MedianClaim: ptr(time.Duration(1 << 62)), Recovered: big, Churned: big, Dismissed: big,
			StillOpen: big, ARRSaved: 1e300, ARRLost: 1e300, RecoveryRate: ptr(1e300)}})
	blockstest.CheckMessage(t, "digest", Card(d, Filters{MinARR: 1e300, Tier: huge}), 50)
}
