package ingest

import (
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/blocks/blockstest"
	"github.com/holdfast/holdfast/scoring"
)

func ptr[T any](v T) *T { return &v }

// sampleAlert is an at-risk alert with two drivers and a hostile trigger.
func sampleAlert() alertView {
	return alertView{
		AlertID: 7, AccountID: 42, AccountName: "Acme Corp", ExternalID: "acme-001",
		Score: 57, PrevScore: ptr(75), Band: scoring.BandAtRisk,
		Reasons: []scoring.AlertReason{{Kind: scoring.AlertScoreDrop, Summary: "score dropped 18 points: 75 → 57"}},
		Drivers: []scoring.ComponentDelta{
			{Component: scoring.Component{Key: "usage", Label: "Product usage", Weight: 25, Points: -22.4, Detail: "usage -38% over 14 days"}, Delta: -15},
			{Component: scoring.Component{Key: "support", Label: "Support", Weight: 15, Points: -6, Detail: "3 open tickets"}, Delta: -6},
		},
		Trigger:      "ticket from zendesk: “" + blockstest.EvilTicket + "”",
		ARR:          240_000,
		RenewalDate:  ptr(time.Date(2027, time.March, 3, 0, 0, 0, 0, time.UTC)),
		OwnerSlackID: "U123ABC",
		Now:          blockstest.FixedNow(),
	}
}

func TestAlert(t *testing.T) {
	t.Parallel()
	m := alertCard(sampleAlert())
	blockstest.CheckMessage(t, "alert", m, 50)

	if want := "At risk: Acme Corp 57 (▼18) — usage -38% over 14 days: -22 points"; m.Text != want {
		t.Errorf("Text = %q, want %q", m.Text, want)
	}
	h, ok := m.Blocks[0].(*slack.HeaderBlock)
	if !ok || h.Text.Text != "🟠 At risk: Acme Corp" {
		t.Errorf("header = %#v", m.Blocks[0])
	}
	all := blockstest.AllText(t, m.Blocks)
	blockstest.WantContains(t, "alert", all,
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
	if blockstest.BlockByID(m.Blocks, "alert_trigger") == nil {
		t.Error("trigger is not in its context block")
	}
	if b := blockstest.FindButton(t, m.Blocks, "alert_history"); b == nil || b.Value != "42" || b.Text.Text != "View history" {
		t.Errorf("history button = %+v", b)
	}
	if b := blockstest.FindButton(t, m.Blocks, "alert_claim"); b == nil || b.Value != "7" || b.Style != slack.StylePrimary || b.Text.Text != "Claim" {
		t.Errorf("claim button = %+v", b)
	}
	if blockstest.BlockByID(m.Blocks, "alert_actions") == nil {
		t.Error("no alert_actions block")
	}
}

// The churn-risk alert leads to the offers form.
func TestAlertProposesOffer(t *testing.T) {
	t.Parallel()
	m := alertCard(sampleAlert())
	if b := blockstest.FindButton(t, m.Blocks, blocks.ActionProposeOffer); b == nil || b.Value != "42" || b.Text.Text != "Propose offer" {
		t.Errorf("propose button %+v", b)
	}
}

func TestAlertVariants(t *testing.T) {
	t.Parallel()
	t.Run("claimed", func(t *testing.T) {
		t.Parallel()
		v := sampleAlert()
		v.ClaimedBy = "U999"
		m := alertCard(v)
		blockstest.CheckMessage(t, "claimed", m, 50)
		if blockstest.FindButton(t, m.Blocks, "alert_claim") != nil {
			t.Error("claim button still shown after claim")
		}
		if blockstest.FindButton(t, m.Blocks, "alert_history") == nil {
			t.Error("history button gone after claim")
		}
		blockstest.WantContains(t, "claimed", blockstest.AllText(t, m.Blocks), "Claimed by <@U999>")
	})
	t.Run("bad ids are shown as text", func(t *testing.T) {
		t.Parallel()
		v := sampleAlert()
		v.OwnerSlackID = "bob <!here>"
		v.ClaimedBy = "u123"
		m := alertCard(v)
		blockstest.CheckMessage(t, "bad ids", m, 50)
		blockstest.WantContains(t, "bad ids", blockstest.AllText(t, m.Blocks), "*Owner*\nbob &lt;!here&gt;", "Claimed by u123")
	})
	t.Run("first score, critical, no drivers", func(t *testing.T) {
		t.Parallel()
		v := sampleAlert()
		v.PrevScore, v.Band, v.Drivers, v.Score = nil, scoring.BandCritical, nil, 30
		v.Reasons = []scoring.AlertReason{{Kind: scoring.AlertCancellation, Summary: "customer said they will not renew"}}
		v.RenewalDate, v.OwnerSlackID, v.Trigger = nil, "", ""
		m := alertCard(v)
		blockstest.CheckMessage(t, "critical", m, 50)
		if want := "Critical: Acme Corp 30 — customer said they will not renew"; m.Text != want {
			t.Errorf("Text = %q, want %q", m.Text, want)
		}
		all := blockstest.AllText(t, m.Blocks)
		blockstest.WantContains(t, "critical", all, "🔴 Critical: Acme Corp", "No renewal date", "No owner")
		blockstest.WantNotContains(t, "critical", all, "What changed", "Trigger:")
	})
	t.Run("score up", func(t *testing.T) {
		t.Parallel()
		v := sampleAlert()
		v.PrevScore = ptr(50)
		blockstest.WantContains(t, "up", blockstest.AllText(t, alertCard(v).Blocks), "(▲7 from 50)")
	})
}

// Local mode prints the alert as text: links, mentions and entities read
// as what they say.
func TestAlertPlainText(t *testing.T) {
	t.Parallel()
	out := blocks.PlainText(alertCard(sampleAlert()))
	blockstest.WantContains(t, "plain", out,
		"🟠 At risk: Acme Corp\n====",
		"*Health score: 57/100* (▼18 from 75)",
		"ARR: $240k",
		"Renewal: Mar 3, 2027 (in 23 days)",
		"Owner: @U123ABC",
		"Trigger: ticket from zendesk: “<!channel> please <https://evil.example|click>”",
		"[ View history ] [ Claim ]",
	)
	blockstest.WantNotContains(t, "plain", out, "&lt;", "&amp;", "<@U123ABC>")

	claimed := sampleAlert()
	claimed.ClaimedBy = "U999"
	blockstest.WantContains(t, "plain claimed", blocks.PlainText(alertCard(claimed)), "Claimed by @U999", "[ View history ] [ Propose offer ]\n")
}

// TestAlertWorstCase feeds the alert the most hostile input we can think
// of and checks every Slack limit and the escaping invariant.
func TestAlertWorstCase(t *testing.T) {
	t.Parallel()
	huge := blockstest.Huge
	var drivers []scoring.ComponentDelta
	for i := 0; i < 200; i++ {
		c := scoring.Component{Key: huge, Label: huge, Weight: 1e300, Points: -1e300, Detail: huge}
		drivers = append(drivers, scoring.ComponentDelta{Component: c, Delta: 1e300})
	}
	var reasons []scoring.AlertReason
	for i := 0; i < 100; i++ {
		reasons = append(reasons, scoring.AlertReason{Kind: scoring.AlertScoreDrop, Summary: huge})
	}
	renew := ptr(time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC))

	for _, claimed := range []string{"", huge, "U" + strings.Repeat("A", 40)} {
		blockstest.CheckMessage(t, "alert", alertCard(alertView{
			AlertID: -1, AccountID: 1 << 62, AccountName: huge, ExternalID: huge,
			Score: 1 << 40, PrevScore: ptr(-1 << 40), Band: scoring.Band(huge),
			Reasons: reasons, Drivers: drivers, Trigger: huge, ARR: -1e300,
			RenewalDate: renew, OwnerSlackID: huge, ClaimedBy: claimed, Now: blockstest.FixedNow(),
		}), 50)
	}
}

// An alert whose trigger has words asks for feedback on their reading;
// "Not churn intent" only when they were read as intent.
func TestAlertFeedbackButtons(t *testing.T) {
	t.Parallel()
	ids := func(v alertView) []string {
		var out []string
		for _, b := range alertCard(v).Blocks {
			if a, ok := b.(*slack.ActionBlock); ok {
				for _, el := range a.Elements.ElementSet {
					if btn, ok := el.(*slack.ButtonBlockElement); ok {
						out = append(out, btn.ActionID+"="+btn.Value)
					}
				}
			}
		}
		return out
	}
	v := sampleAlert()
	if got := strings.Join(ids(v), " "); strings.Contains(got, "text_label") {
		t.Errorf("no text signal, yet feedback buttons: %s", got)
	}
	v.TriggerSignalID, v.TriggerIntent = 99, true
	got := strings.Join(ids(v), " ")
	for _, want := range []string{blocks.ActionTextLabelNotIntent + "=99", blocks.ActionTextLabelWrongSentiment + "=99"} {
		if !strings.Contains(got, want) {
			t.Errorf("buttons %s lack %s", got, want)
		}
	}
	v.TriggerIntent, v.ClaimedBy = false, "U9"
	got = strings.Join(ids(v), " ")
	if strings.Contains(got, blocks.ActionTextLabelNotIntent) || !strings.Contains(got, blocks.ActionTextLabelWrongSentiment+"=99") {
		t.Errorf("claimed alert without intent: %s", got)
	}
	blockstest.CheckMessage(t, "alert with feedback", alertCard(v), 50)
}
