package textsignals

import (
	"strings"
	"testing"
	"time"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/blocks/blockstest"
	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/store"
)

func fixedNow() time.Time { return time.Date(2027, time.February, 8, 15, 30, 0, 0, time.UTC) }

func ptr[T any](v T) *T { return &v }

func competitorAlertView() AlertView {
	return AlertView{
		AlertID: 7, Kind: store.TextAlertCompetitor, AccountID: 42, AccountName: "Acme <!channel> Corp", ExternalID: "acme",
		Competitor: "Gainsight", Snippets: []string{"We're evaluating Gainsight & <https://evil.example|Totango> for next year."},
		Source: "ticket from zendesk", ChurnIntent: true, IntentPhrase: "evaluating Gainsight", Sentiment: ptr(-0.42),
		AISummary: "Customer is frustrated with <!here> exports.",
		ARR:       240000, Score: ptr(57), Band: scoring.BandAtRisk, RenewalDate: ptr(time.Date(2027, 3, 3, 0, 0, 0, 0, time.UTC)),
		OwnerSlackID: "U123ABC", Now: fixedNow(),
	}
}

func TestAlertCardCompetitor(t *testing.T) {
	t.Parallel()
	m := AlertCard(competitorAlertView())
	blockstest.CheckMessage(t, "competitor alert", m, 50)
	all := blockstest.AllText(t, m.Blocks)
	blockstest.WantContains(t, "competitor alert", all,
		"Gainsight mentioned: Acme <!channel> Corp", // header is plain_text, never parsed
		"came up in a ticket from zendesk",
		"&lt;https://evil.example|Totango&gt;",
		"Stated intent to leave*: “evaluating Gainsight”",
		"$240k", "57 · At risk", "Mar 3, 2027 (in 23 days)", "<@U123ABC>", "negative (-0.42)",
		"🤖 Customer is frustrated with &lt;!here&gt; exports.")
	blockstest.WantContains(t, "fallback", m.Text, "Gainsight mentioned by Acme &lt;!channel&gt; Corp with intent to leave")
	if b := blockstest.FindButton(t, m.Blocks, blocks.ActionTextAlertClaim); b == nil || b.Value != "7" {
		t.Errorf("claim button %+v", b)
	}
	if b := blockstest.FindButton(t, m.Blocks, blocks.ActionHistory); b == nil || b.Value != "42" {
		t.Errorf("history button %+v", b)
	}

	v := competitorAlertView()
	v.ClaimedBy = "U999"
	v.SourceChannel = "C0ACME"
	v.Source = "Slack message"
	claimed := AlertCard(v)
	blockstest.CheckMessage(t, "claimed", claimed, 50)
	blockstest.WantContains(t, "claimed", blockstest.AllText(t, claimed.Blocks), "Claimed by <@U999>", "in a Slack message in <#C0ACME>")
	if blockstest.FindButton(t, claimed.Blocks, blocks.ActionTextAlertClaim) != nil {
		t.Error("a claimed alert has no claim button")
	}
	v.SourceChannel = "<!channel>"
	blockstest.WantNotContains(t, "bad channel id", blockstest.AllText(t, AlertCard(v).Blocks), "<#")
}

func TestAlertCardSentimentDrop(t *testing.T) {
	t.Parallel()
	m := AlertCard(AlertView{AlertID: 9, Kind: store.TextAlertSentiment, AccountID: 1, AccountName: "Globex",
		From: 0.41, To: -0.33, WindowDays: 14, Texts: 5, Worst: "This is the <!here> worst release.",
		ARR: 90000, OwnerSlackID: "U1", Now: fixedNow()})
	blockstest.CheckMessage(t, "sentiment alert", m, 50)
	blockstest.WantContains(t, "sentiment alert", blockstest.AllText(t, m.Blocks), "Sentiment drop: Globex", "*Mean sentiment +0.41 → -0.33* over the last 14 days (5 texts)",
		"Most negative: “This is the &lt;!here&gt; worst release.”", "Not scored yet")
	blockstest.WantContains(t, "fallback", m.Text, "Sentiment drop at Globex: +0.41 → -0.33")
}

func TestAlertCardWorstCase(t *testing.T) {
	t.Parallel()
	hostile := " <!channel> & <!here> <https://evil|x> <@U1|spoof> &amp; 😀 *_~`\n"
	huge := strings.Repeat(hostile, 10_000/len(hostile)+1)
	var snippets []string
	for range 50 {
		snippets = append(snippets, huge)
	}
	for _, kind := range []string{store.TextAlertCompetitor, store.TextAlertSentiment, huge} {
		blockstest.CheckMessage(t, "text alert "+kind[:min(len(kind), 20)], AlertCard(AlertView{AlertID: 1, Kind: kind, AccountID: 2, AccountName: huge, Competitor: huge,
			Snippets: snippets, Source: huge, SourceChannel: huge, ChurnIntent: true, IntentPhrase: huge, Sentiment: ptr(-1e300),
			From: 1e300, To: -1e300, WindowDays: 1 << 40, Texts: -5, Worst: huge, AISummary: huge, ARR: 1e300, Score: ptr(-1), Band: scoring.Band(huge),
			OwnerSlackID: huge, ClaimedBy: huge, Now: fixedNow()}), 50)
	}
}

// Intent below the acting confidence is shown as possible, not stated;
// the feedback buttons point at the signal.
func TestAlertCardPossibleIntentAndFeedback(t *testing.T) {
	t.Parallel()
	v := competitorAlertView()
	v.ChurnIntent, v.IntentPhrase = false, ""
	v.PossibleIntent, v.IntentCategory, v.IntentConfidence, v.SignalID = "We might look at <!here> Gainsight.", "evaluating_alternatives", 0.42, 31
	m := AlertCard(v)
	blockstest.CheckMessage(t, "possible intent", m, 50)
	all := blockstest.AllText(t, m.Blocks)
	blockstest.WantContains(t, "possible intent", all, "Possible intent to leave (evaluating alternatives, 0.42), not alerted: “We might look at &lt;!here&gt; Gainsight.”")
	if strings.Contains(all, "Stated intent") || strings.Contains(m.Text, "with intent to leave") {
		t.Errorf("possible intent read as stated:\n%s", all)
	}
	for _, id := range []string{blocks.ActionTextLabelNotIntent, blocks.ActionTextLabelWrongSentiment} {
		if b := blockstest.FindButton(t, m.Blocks, id); b == nil || b.Value != "31" {
			t.Errorf("%s button %+v", id, b)
		}
	}
}
