package rooms

import (
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/blocks/blockstest"
)

// evilTicket is customer text trying to broadcast and to link.
const evilTicket = "<!channel> please <https://evil.example|click>"

// fixedNow is the clock the card tests read.
func fixedNow() time.Time { return time.Date(2027, time.February, 8, 15, 30, 0, 0, time.UTC) }

func handoffDeal() Deal {
	arr := 120000.0
	closed := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	since := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	renew := time.Date(2027, 11, 20, 0, 0, 0, 0, time.UTC)
	due := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	return Deal{ID: 7, ExternalID: "006ACME", AccountID: 3, Name: "Acme – New Business", ClosedAt: &closed, AE: "U0AE",
		OwnerCSM: "U0CSM", DecisionMaker: "Dana Lee, VP Ops", Champion: "Sam Ortiz", ChampionTitle: "Ops Manager",
		ChampionRoleSince: &since, CloseReason: evilTicket, ProductConcerns: "Reporting is thin", ConcernsKnown: true,
		Competitors: []string{"Gainsight", "<!here>"}, CompetitorsKnown: true,
		Promises:      []Promise{{Kind: PromiseFeature, Text: "SSO with Okta", Due: &due}, {Kind: PromiseIntegration, Text: "Jira"}},
		PromisesKnown: true, ARR: &arr, TermMonths: 12, RenewalDate: &renew, Segment: "mid-market"}
}

func TestHandoffCard(t *testing.T) {
	t.Parallel()
	d := handoffDeal()
	m := HandoffCard(HandoffView{AccountName: "Acme Corp", ExternalID: "acme", Deal: d, Now: fixedNow()})
	blockstest.CheckMessage(t, "card", m, blocks.MaxMessageBlocks)
	all := blockstest.AllText(t, m.Blocks)
	blockstest.WantContains(t, "card", all, "Handoff: Acme Corp", "*Acme – New Business* closed-won on Nov 20, 2026 by <@U0AE>",
		"<@U0CSM>", "*ARR*\n$120k", "*Term*\n12 months", "Nov 20, 2027", "*Segment*\nmid-market",
		"Sam Ortiz, Ops Manager\n3 months in role at close ⚠️ new in role", "&lt;!channel&gt;", "*Feature:* SSO with Okta — due Mar 1, 2027",
		"*Integration:* Jira", "Reporting is thin", "Gainsight, &lt;!here&gt;", "✅ Handoff complete", "CRM deal 006ACME")
	blockstest.WantNotContains(t, "card", all, "Still missing", "not known yet")
	if m.Text != "Handoff: Acme Corp" {
		t.Errorf("Text = %q", m.Text)
	}

	// A bare deal says what is missing, everywhere it is missing.
	bare := Deal{ID: 8, AccountID: 3, AE: "U0AE"}
	m = HandoffCard(HandoffView{AccountName: "Acme Corp", Deal: bare, Now: fixedNow()})
	blockstest.CheckMessage(t, "bare card", m, blocks.MaxMessageBlocks)
	all = blockstest.AllText(t, m.Blocks)
	blockstest.WantContains(t, "bare card", all, "_not known yet_", "⚠️ *Still missing:* Decision maker, Champion, Champion's time in role",
		"<@U0AE> has been asked", "_not assigned_")
	if !strings.Contains(m.Text, "11 fields missing") {
		t.Errorf("Text = %q", m.Text)
	}

	// Huge input stays within Slack's limits.
	huge := handoffDeal()
	huge.CloseReason = strings.Repeat("x", 20000)
	huge.ProductConcerns = strings.Repeat("<!channel> ", 2000)
	huge.Promises = nil
	for range 30 {
		huge.Promises = append(huge.Promises, Promise{Kind: PromiseFeature, Text: strings.Repeat("p", 2000)})
	}
	for range 30 {
		huge.Competitors = append(huge.Competitors, strings.Repeat("c", 300))
	}
	m = HandoffCard(HandoffView{AccountName: strings.Repeat("A", 500), Deal: huge, Now: fixedNow()})
	blockstest.CheckMessage(t, "huge card", m, blocks.MaxMessageBlocks)
	blockstest.WantContains(t, "huge card", blockstest.AllText(t, m.Blocks), "…and 20 more")
}

func TestReviewRequestAndDone(t *testing.T) {
	t.Parallel()
	m := ReviewRequest(ReviewRequestView{AccountName: "Acme <Corp>", DealID: 7, DealName: "Acme – New", RoomID: "C0ROOM",
		Missing: []Field{FieldChampionRoleSince, FieldCloseReason}})
	blockstest.CheckMessage(t, "review request", m, blocks.MaxMessageBlocks)
	blockstest.WantContains(t, "review request", blockstest.AllText(t, m.Blocks), "<#C0ROOM>", "• Champion's time in role", "• Why they bought")
	if b := blockstest.FindButton(t, m.Blocks, blocks.ActionReviewOpen); b == nil || b.Value != "7" {
		t.Fatalf("button %+v", b)
	}
	if !strings.Contains(m.Text, "2 fields missing") || !strings.Contains(m.Text, "Acme &lt;Corp&gt;") {
		t.Errorf("Text = %q", m.Text)
	}
	done := ReviewDone("Acme", "C0ROOM")
	blockstest.CheckMessage(t, "review done", done, blocks.MaxMessageBlocks)
	if blockstest.FindButton(t, done.Blocks, blocks.ActionReviewOpen) != nil {
		t.Error("done message still has the button")
	}
}

func TestReviewModalPrefillAndRoundTrip(t *testing.T) {
	t.Parallel()
	d := handoffDeal()
	v := ReviewModal(ReviewModalView{AccountName: "Acme Corp", Deal: d})
	blockstest.CheckFormModal(t, v)
	if v.CallbackID != blocks.CallbackReview || v.PrivateMetadata != "7" {
		t.Fatalf("callback %q metadata %q", v.CallbackID, v.PrivateMetadata)
	}
	in := blockstest.Inputs(t, v)
	text := func(id string) string { return in[id].Element.(*slack.PlainTextInputBlockElement).InitialValue }
	if text(blocks.ReviewBlockDecisionMaker) != "Dana Lee, VP Ops" || text(blocks.ReviewBlockCompetitors) != "Gainsight, <!here>" || text("rv_p1_text") != "Jira" {
		t.Fatalf("prefill: %q %q %q", text(blocks.ReviewBlockDecisionMaker), text(blocks.ReviewBlockCompetitors), text("rv_p1_text"))
	}
	if k := in["rv_p0_kind"].Element.(*slack.SelectBlockElement).InitialOption; k == nil || k.Value != "feature" {
		t.Fatalf("promise kind prefill %+v", k)
	}
	if in["rv_p2_text"] == nil || in["rv_p3_text"] != nil {
		t.Fatal("want one empty promise row after the two promises (3 rows)")
	}
	if in[blocks.ReviewBlockCloseReason].Optional || !in[blocks.ReviewBlockConcerns].Optional || !in["rv_p0_kind"].Optional {
		t.Fatal("required/optional marks wrong")
	}

	// Submitting what was pre-filled gives the same deal back.
	values := map[string]map[string]slack.BlockAction{}
	for id, b := range in {
		var a slack.BlockAction
		switch el := b.Element.(type) {
		case *slack.PlainTextInputBlockElement:
			a.Value = el.InitialValue
		case *slack.NumberInputBlockElement:
			a.Value = el.InitialValue
		case *slack.DatePickerBlockElement:
			a.SelectedDate = el.InitialDate
		case *slack.SelectBlockElement:
			if el.InitialOption != nil {
				a.SelectedOption = *el.InitialOption
			}
		}
		values[id] = map[string]slack.BlockAction{id + "_in": a}
	}
	got, errs := ReviewFromState(values)
	if errs != nil {
		t.Fatalf("errors %v", errs)
	}
	if got.CloseReason != d.CloseReason || *got.ARR != *d.ARR || got.TermMonths != 12 || len(got.Promises) != 2 ||
		got.Promises[0].Due == nil || got.Promises[1].Kind != PromiseIntegration || len(got.Competitors) != 2 ||
		!got.ChampionRoleSince.Equal(*d.ChampionRoleSince) || got.Segment != "mid-market" || !got.Complete() {
		t.Fatalf("round trip lost data: %+v", got)
	}

	// Problems come back per block.
	values[blocks.ReviewBlockARR] = map[string]slack.BlockAction{blocks.ReviewBlockARR + "_in": {Value: "lots"}}
	values[blocks.ReviewBlockTerm] = map[string]slack.BlockAction{blocks.ReviewBlockTerm + "_in": {Value: "500"}}
	values[blocks.ReviewBlockChampion] = map[string]slack.BlockAction{blocks.ReviewBlockChampion + "_in": {Value: " "}}
	values["rv_p2_text"] = map[string]slack.BlockAction{"rv_p2_text_in": {Value: "Dashboards"}}
	values["rv_p1_kind"] = map[string]slack.BlockAction{"rv_p1_kind_in": {}}
	values[blocks.ReviewBlockCompetitors] = map[string]slack.BlockAction{blocks.ReviewBlockCompetitors + "_in": {Value: strings.Repeat("Rival, ", 21)}}
	_, errs = ReviewFromState(values)
	for _, id := range []string{blocks.ReviewBlockARR, blocks.ReviewBlockTerm, blocks.ReviewBlockChampion, "rv_p2_kind", "rv_p1_kind", blocks.ReviewBlockCompetitors} {
		if errs[id] == "" {
			t.Errorf("no error for %s: %v", id, errs)
		}
	}

	values[blocks.ReviewBlockCompetitors] = map[string]slack.BlockAction{blocks.ReviewBlockCompetitors + "_in": {Value: "Gainsight, " + strings.Repeat("c", 101)}}
	if _, errs = ReviewFromState(values); errs[blocks.ReviewBlockCompetitors] == "" {
		t.Error("a 101-character competitor name was accepted")
	}

	// A deal with many promises gets a row each, up to eight.
	many := handoffDeal()
	for range 10 {
		many.Promises = append(many.Promises, Promise{Kind: PromiseTimeline, Text: "x"})
	}
	if in := blockstest.Inputs(t, ReviewModal(ReviewModalView{Deal: many})); in["rv_p7_text"] == nil || in["rv_p8_text"] != nil {
		t.Fatal("promise rows not capped at eight")
	}
}

func TestRoomStatusAndFailure(t *testing.T) {
	t.Parallel()
	m := RoomStatus(RoomStatusView{AccountName: "Acme", RoomID: "C0ROOM", Origin: "created", Handoffs: []HandoffLine{
		{DealName: "New", Step: "done", Missing: []Field{FieldARR}},
		{DealName: "Expansion", Step: "channel", Failed: true, Error: "restricted_action <!here>"},
		{DealName: "Renewal", Step: "done"},
	}})
	blockstest.CheckMessage(t, "status", m, blocks.MaxMessageBlocks)
	blockstest.WantContains(t, "status", blockstest.AllText(t, m.Blocks), "<#C0ROOM> (created at handoff)", "waiting for the won deal review (1 field missing)",
		"stopped at channel (restricted_action &lt;!here&gt;)", "✅ handoff complete")
	m = RoomStatus(RoomStatusView{AccountName: "Acme"})
	blockstest.CheckMessage(t, "no room", m, blocks.MaxMessageBlocks)
	blockstest.WantContains(t, "no room", m.Text, "has no room yet")
	f := RoomFailed(RoomFailedView{AccountName: "Acme", Step: "channel", Error: "restricted_action"})
	blockstest.CheckMessage(t, "failed", f, blocks.MaxMessageBlocks)
	blockstest.WantContains(t, "failed", f.Text, "/room link Acme")
}
