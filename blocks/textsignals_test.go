package blocks

import (
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/digest"
	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/store"
)

func competitorAlertView() TextAlertView {
	return TextAlertView{
		AlertID: 7, Kind: KindCompetitorMention, AccountID: 42, AccountName: "Acme <!channel> Corp", ExternalID: "acme",
		Competitor: "Gainsight", Snippets: []string{"We're evaluating Gainsight & <https://evil.example|Totango> for next year."},
		Source: "ticket from zendesk", ChurnIntent: true, IntentPhrase: "evaluating Gainsight", Sentiment: ptr(-0.42),
		AISummary: "Customer is frustrated with <!here> exports.",
		ARR:       240000, Score: ptr(57), Band: scoring.BandAtRisk, RenewalDate: ptr(time.Date(2027, 3, 3, 0, 0, 0, 0, time.UTC)),
		OwnerSlackID: "U123ABC", Now: fixedNow(),
	}
}

func TestTextAlertCompetitor(t *testing.T) {
	m := TextAlert(competitorAlertView())
	checkMessage(t, "competitor alert", m, 50)
	all := allText(t, m.Blocks)
	wantContains(t, "competitor alert", all,
		"Gainsight mentioned: Acme <!channel> Corp", // header is plain_text, never parsed
		"came up in a ticket from zendesk",
		"&lt;https://evil.example|Totango&gt;",
		"Stated intent to leave*: “evaluating Gainsight”",
		"$240k", "57 · At risk", "Mar 3, 2027 (in 23 days)", "<@U123ABC>", "negative (-0.42)",
		"🤖 Customer is frustrated with &lt;!here&gt; exports.")
	wantContains(t, "fallback", m.Text, "Gainsight mentioned by Acme &lt;!channel&gt; Corp with intent to leave")
	if b := findButton(t, m.Blocks, ActionTextAlertClaim); b == nil || b.Value != "7" {
		t.Errorf("claim button %+v", b)
	}
	if b := findButton(t, m.Blocks, ActionHistory); b == nil || b.Value != "42" {
		t.Errorf("history button %+v", b)
	}

	v := competitorAlertView()
	v.ClaimedBy = "U999"
	v.SourceChannel = "C0ACME"
	v.Source = "Slack message"
	claimed := TextAlert(v)
	checkMessage(t, "claimed", claimed, 50)
	wantContains(t, "claimed", allText(t, claimed.Blocks), "Claimed by <@U999>", "in a Slack message in <#C0ACME>")
	if findButton(t, claimed.Blocks, ActionTextAlertClaim) != nil {
		t.Error("a claimed alert has no claim button")
	}
	v.SourceChannel = "<!channel>"
	wantNotContains(t, "bad channel id", allText(t, TextAlert(v).Blocks), "<#")
}

func TestTextAlertSentimentDrop(t *testing.T) {
	m := TextAlert(TextAlertView{AlertID: 9, Kind: KindSentimentDrop, AccountID: 1, AccountName: "Globex",
		From: 0.41, To: -0.33, WindowDays: 14, Texts: 5, Worst: "This is the <!here> worst release.",
		ARR: 90000, OwnerSlackID: "U1", Now: fixedNow()})
	checkMessage(t, "sentiment alert", m, 50)
	wantContains(t, "sentiment alert", allText(t, m.Blocks), "Sentiment drop: Globex", "*Mean sentiment +0.41 → -0.33* over the last 14 days (5 texts)",
		"Most negative: “This is the &lt;!here&gt; worst release.”", "Not scored yet")
	wantContains(t, "fallback", m.Text, "Sentiment drop at Globex: +0.41 → -0.33")
}

func TestDigestMessage(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	d := digest.Build(digest.Input{
		Frequency: digest.Weekly, Location: berlin,
		Start: time.Date(2027, 2, 1, 8, 0, 0, 0, time.UTC), End: time.Date(2027, 2, 8, 8, 0, 0, 0, time.UTC),
		Worsened: []store.ScoreChange{
			{AccountID: 1, Name: "Acme & <!channel>", ARR: 120000, OwnerCSM: "U1", FromScore: ptr(82), FromBand: scoring.BandHealthy, ToScore: 61, ToBand: scoring.BandAtRisk,
				Components: []scoring.Component{{Key: "usage", Points: -18, Weight: 20, Detail: "usage -45% over 14 days"}}},
		},
		AtRiskCount: 7, AtRiskARR: 910000,
		Competitors: []store.CompetitorCount{{Competitor: "Gainsight", Mentions: 4, MentionsBefore: 1, Accounts: 3, WithChurnIntent: 1}},
		Examples:    []store.MentionExample{{Competitor: "Gainsight", AccountName: "Acme", Kind: "call_note", Snippet: "they <!here> demoed Gainsight"}},
		Sentiment:   []store.SentimentChange{{AccountID: 1, Name: "Acme", ARR: 120000, Recent: -0.5, RecentN: 3, Before: ptr(0.3), BeforeN: 4}},
	})
	m := Digest(d, DigestFilters{MinARR: 50000, Tier: "Enterprise"})
	checkMessage(t, "digest", m, 50)
	wantContains(t, "digest", allText(t, m.Blocks),
		"Weekly account digest", "Feb 1 09:00 – Feb 8 09:00 CET",
		"*ARR at risk: $910k* across 7 accounts · 1 account ($120k) entered at risk",
		"*Entered at risk*", "🟠 *Acme &amp; &lt;!channel&gt;* 82 → 61 · $120k · <@U1>", "↳ usage -45% over 14 days: -18 points",
		"*Biggest score drops*", "82 → 61 (▼21)",
		"*Gainsight* 4 mentions at 3 accounts, ▲3 vs the week before · ⚠️ 1 with churn intent", "_Acme (call note)_: “they &lt;!here&gt; demoed Gainsight”",
		"*Sentiment movers*", "*Acme* +0.30 → -0.50 (3 texts)",
		"Covers accounts from $50k ARR, tier Enterprise.")
	wantContains(t, "digest fallback", m.Text, "Weekly digest: ARR at risk $910k, 4 competitor mentions, 1 sentiment drop")

	quiet := Digest(digest.Build(digest.Input{Frequency: digest.Daily, Topics: []string{"competitors"}}), DigestFilters{Preview: true})
	checkMessage(t, "quiet digest", quiet, 50)
	wantContains(t, "quiet digest", allText(t, quiet.Blocks), "Daily account digest (preview)", "Nothing new in this period.")
	wantNotContains(t, "quiet digest", allText(t, quiet.Blocks), "ARR at risk")
}

func TestHome(t *testing.T) {
	var accounts []HomeAccount
	for i := range 20 {
		accounts = append(accounts, HomeAccount{AccountID: int64(i + 1), Name: "Account <!here> " + Itoa(i), Score: ptr(30 + i), Band: scoring.BandCritical,
			ARR: 1000 * float64(i), Driver: "usage -40% over 14 days: -20 points"})
	}
	v := HomeView{UserID: "U1", Accounts: accounts, Total: 23, Now: fixedNow(),
		Claimed: []HomeAlert{{AccountID: 1, AccountName: "Acme", What: "Gainsight mentioned", ClaimedAt: fixedNow().AddDate(0, 0, -2)}}}
	extra := []HomeSection{{Title: "Pending approvals", Blocks: []slack.Block{Section("offers_pending", "2 offers wait for you")}}}
	home := Home(v, extra)
	if home.Type != slack.VTHomeTab {
		t.Fatalf("type %q", home.Type)
	}
	checkBlocks(t, "home", home.Blocks.BlockSet, 100)
	all := allText(t, home.Blocks.BlockSet)
	wantContains(t, "home", all, "Your accounts", "Account &lt;!here&gt; 0* · score 30", "…and 8 more", "Alerts you claimed",
		"*Acme*: Gainsight mentioned · claimed 2 days ago", "Pending approvals", "2 offers wait for you")
	if b := findButton(t, home.Blocks.BlockSet, ActionHistory+"_0"); b == nil || b.Value != "1" {
		t.Error("rows have a history button")
	}

	// A section that would overflow 100 blocks is left out, with a note.
	var many []slack.Block
	for i := range 90 {
		many = append(many, Section("nps_"+Itoa(i), "loop"))
	}
	over := Home(v, []HomeSection{{Title: "Open NPS loops", Blocks: many}, extra[0]})
	checkBlocks(t, "overflow home", over.Blocks.BlockSet, 100)
	all = allText(t, over.Blocks.BlockSet)
	wantContains(t, "overflow home", all, "1 section did not fit", "Pending approvals")
	wantNotContains(t, "overflow home", all, "Open NPS loops")

	empty := Home(HomeView{UserID: "U2", Now: fixedNow()}, nil)
	checkBlocks(t, "empty home", empty.Blocks.BlockSet, 100)
	wantContains(t, "empty home", allText(t, empty.Blocks.BlockSet), "You own no active accounts", "None in the last 30 days.")
}

func TestTextBuildersWorstCase(t *testing.T) {
	hostile := " <!channel> & <!here> <https://evil|x> <@U1|spoof> &amp; 😀 *_~`\n"
	huge := strings.Repeat(hostile, 10_000/len(hostile)+1)
	var snippets []string
	for range 50 {
		snippets = append(snippets, huge)
	}
	for _, kind := range []string{KindCompetitorMention, KindSentimentDrop, huge} {
		checkMessage(t, "text alert "+kind[:min(len(kind), 20)], TextAlert(TextAlertView{AlertID: 1, Kind: kind, AccountID: 2, AccountName: huge, Competitor: huge,
			Snippets: snippets, Source: huge, SourceChannel: huge, ChurnIntent: true, IntentPhrase: huge, Sentiment: ptr(-1e300),
			From: 1e300, To: -1e300, WindowDays: 1 << 40, Texts: -5, Worst: huge, AISummary: huge, ARR: 1e300, Score: ptr(-1), Band: scoring.Band(huge),
			OwnerSlackID: huge, ClaimedBy: huge, Now: fixedNow()}), 50)
	}
	var worsened []store.ScoreChange
	var counts []store.CompetitorCount
	var examples []store.MentionExample
	var movers []store.SentimentChange
	for i := range 300 {
		worsened = append(worsened, store.ScoreChange{AccountID: int64(i), Name: huge, ARR: 1e300, OwnerCSM: huge, FromScore: ptr(100), ToScore: -5,
			ToBand: scoring.BandCritical, Components: []scoring.Component{{Key: huge, Detail: huge, Points: -1e300}}})
		counts = append(counts, store.CompetitorCount{Competitor: huge + Itoa(i), Mentions: 1 << 30, Accounts: 5})
		examples = append(examples, store.MentionExample{Competitor: huge + Itoa(i), AccountName: huge, Kind: huge, Snippet: huge})
		movers = append(movers, store.SentimentChange{Name: huge, Recent: -1, RecentN: 5, Before: ptr(1.0)})
	}
	d := digest.Build(digest.Input{Frequency: digest.Daily, Worsened: worsened, Competitors: counts, Examples: examples, Sentiment: movers, AtRiskARR: 1e300, AtRiskCount: 1 << 40})
	checkMessage(t, "digest", Digest(d, DigestFilters{MinARR: 1e300, Tier: huge}), 50)
	var accounts []HomeAccount
	var claimed []HomeAlert
	for i := range 300 {
		accounts = append(accounts, HomeAccount{AccountID: int64(i), Name: huge, Driver: huge, ARR: 1e300})
		claimed = append(claimed, HomeAlert{AccountName: huge, What: huge, ClaimedAt: fixedNow()})
	}
	home := Home(HomeView{Accounts: accounts, Total: 1 << 40, Claimed: claimed, Now: fixedNow()}, []HomeSection{{Title: huge, Blocks: []slack.Block{Section("x_1", UserText(huge, 2000))}}})
	checkBlocks(t, "home", home.Blocks.BlockSet, 100)
}
