package blocks

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/rooms"
)

var channelMention = regexp.MustCompile(`<#[CG][A-Z0-9]+>`)

// checkRoomMessage is checkMessage for messages that may also mention a
// channel (<#C123>), the one more control sequence this file emits.
func checkRoomMessage(t *testing.T, name string, m Message) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(slack.Blocks{BlockSet: m.Blocks}); err != nil {
		t.Fatal(err)
	}
	var back slack.Blocks
	// slack-go's block marshalling escapes < and > as \u003c and \u003e.
	escaped := regexp.MustCompile(`\\u003c#[CG][A-Z0-9]+\\u003e`)
	fixed := escaped.ReplaceAllString(channelMention.ReplaceAllString(buf.String(), "#chan"), "#chan")
	if err := json.Unmarshal([]byte(fixed), &back); err != nil {
		t.Fatal(err)
	}
	checkMessage(t, name, Message{Text: channelMention.ReplaceAllString(m.Text, "#chan"), Blocks: back.BlockSet}, 50)
}

func handoffDeal() rooms.Deal {
	arr := 120000.0
	closed := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	since := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	renew := time.Date(2027, 11, 20, 0, 0, 0, 0, time.UTC)
	due := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	return rooms.Deal{ID: 7, ExternalID: "006ACME", AccountID: 3, Name: "Acme – New Business", ClosedAt: &closed, AE: "U0AE",
		OwnerCSM: "U0CSM", DecisionMaker: "Dana Lee, VP Ops", Champion: "Sam Ortiz", ChampionTitle: "Ops Manager",
		ChampionRoleSince: &since, CloseReason: evilTicket, ProductConcerns: "Reporting is thin", ConcernsKnown: true,
		Competitors: []string{"Gainsight", "<!here>"}, CompetitorsKnown: true,
		Promises:      []rooms.Promise{{Kind: rooms.PromiseFeature, Text: "SSO with Okta", Due: &due}, {Kind: rooms.PromiseIntegration, Text: "Jira"}},
		PromisesKnown: true, ARR: &arr, TermMonths: 12, RenewalDate: &renew, Segment: "mid-market"}
}

func TestHandoffCard(t *testing.T) {
	d := handoffDeal()
	m := HandoffCard(HandoffView{AccountName: "Acme Corp", ExternalID: "acme", Deal: d, Now: fixedNow()})
	checkRoomMessage(t, "card", m)
	all := allText(t, m.Blocks)
	wantContains(t, "card", all, "Handoff: Acme Corp", "*Acme – New Business* closed-won on Nov 20, 2026 by <@U0AE>",
		"<@U0CSM>", "*ARR*\n$120k", "*Term*\n12 months", "Nov 20, 2027", "*Segment*\nmid-market",
		"Sam Ortiz, Ops Manager\n3 months in role at close ⚠️ new in role", "&lt;!channel&gt;", "*Feature:* SSO with Okta — due Mar 1, 2027",
		"*Integration:* Jira", "Reporting is thin", "Gainsight, &lt;!here&gt;", "✅ Handoff complete", "CRM deal 006ACME")
	wantNotContains(t, "card", all, "Still missing", "not known yet")
	if m.Text != "Handoff: Acme Corp" {
		t.Errorf("Text = %q", m.Text)
	}

	// A bare deal says what is missing, everywhere it is missing.
	bare := rooms.Deal{ID: 8, AccountID: 3, AE: "U0AE"}
	m = HandoffCard(HandoffView{AccountName: "Acme Corp", Deal: bare, Now: fixedNow()})
	checkRoomMessage(t, "bare card", m)
	all = allText(t, m.Blocks)
	wantContains(t, "bare card", all, "_not known yet_", "⚠️ *Still missing:* Decision maker, Champion, Champion's time in role",
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
		huge.Promises = append(huge.Promises, rooms.Promise{Kind: rooms.PromiseFeature, Text: strings.Repeat("p", 2000)})
	}
	for range 30 {
		huge.Competitors = append(huge.Competitors, strings.Repeat("c", 300))
	}
	m = HandoffCard(HandoffView{AccountName: strings.Repeat("A", 500), Deal: huge, Now: fixedNow()})
	checkRoomMessage(t, "huge card", m)
	wantContains(t, "huge card", allText(t, m.Blocks), "…and 20 more")
}

func TestReviewRequestAndDone(t *testing.T) {
	m := ReviewRequest(ReviewRequestView{AccountName: "Acme <Corp>", DealID: 7, DealName: "Acme – New", RoomID: "C0ROOM",
		Missing: []rooms.Field{rooms.FieldChampionRoleSince, rooms.FieldCloseReason}})
	checkRoomMessage(t, "review request", m)
	wantContains(t, "review request", allText(t, m.Blocks), "<#C0ROOM>", "• Champion's time in role", "• Why they bought")
	if b := findButton(t, m.Blocks, ActionReviewOpen); b == nil || b.Value != "7" {
		t.Fatalf("button %+v", b)
	}
	if !strings.Contains(m.Text, "2 fields missing") || !strings.Contains(m.Text, "Acme &lt;Corp&gt;") {
		t.Errorf("Text = %q", m.Text)
	}
	done := ReviewDone("Acme", "C0ROOM")
	checkRoomMessage(t, "review done", done)
	if findButton(t, done.Blocks, ActionReviewOpen) != nil {
		t.Error("done message still has the button")
	}
}

// inputs indexes a modal's input blocks by block id.
func inputs(t *testing.T, v slack.ModalViewRequest) map[string]*slack.InputBlock {
	t.Helper()
	out := map[string]*slack.InputBlock{}
	for _, b := range v.Blocks.BlockSet {
		if in, ok := b.(*slack.InputBlock); ok {
			if out[in.BlockID] != nil {
				t.Fatalf("block id %s twice", in.BlockID)
			}
			out[in.BlockID] = in
		}
	}
	return out
}

func checkRoomModal(t *testing.T, v slack.ModalViewRequest) {
	t.Helper()
	if len(v.Blocks.BlockSet) > 100 || len(v.PrivateMetadata) > 3000 {
		t.Errorf("%d blocks, %d metadata", len(v.Blocks.BlockSet), len(v.PrivateMetadata))
	}
	for _, o := range []*slack.TextBlockObject{v.Title, v.Submit, v.Close} {
		if o == nil || utf16Len(o.Text) > 24 {
			t.Errorf("title/submit/close %+v", o)
		}
	}
	if _, err := json.Marshal(v); err != nil {
		t.Fatal(err)
	}
}

func TestReviewModalPrefillAndRoundTrip(t *testing.T) {
	d := handoffDeal()
	v := ReviewModal(ReviewModalView{AccountName: "Acme Corp", Deal: d})
	checkRoomModal(t, v)
	if v.CallbackID != CallbackReview || v.PrivateMetadata != "7" {
		t.Fatalf("callback %q metadata %q", v.CallbackID, v.PrivateMetadata)
	}
	in := inputs(t, v)
	text := func(id string) string { return in[id].Element.(*slack.PlainTextInputBlockElement).InitialValue }
	if text(rvDecisionMaker) != "Dana Lee, VP Ops" || text(rvCompetitors) != "Gainsight, <!here>" || text("rv_p1_text") != "Jira" {
		t.Fatalf("prefill: %q %q %q", text(rvDecisionMaker), text(rvCompetitors), text("rv_p1_text"))
	}
	if k := in["rv_p0_kind"].Element.(*slack.SelectBlockElement).InitialOption; k == nil || k.Value != "feature" {
		t.Fatalf("promise kind prefill %+v", k)
	}
	if in["rv_p2_text"] == nil || in["rv_p3_text"] != nil {
		t.Fatal("want one empty promise row after the two promises (3 rows)")
	}
	if in[rvCloseReason].Optional || !in[rvConcerns].Optional || !in["rv_p0_kind"].Optional {
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
		got.Promises[0].Due == nil || got.Promises[1].Kind != rooms.PromiseIntegration || len(got.Competitors) != 2 ||
		!got.ChampionRoleSince.Equal(*d.ChampionRoleSince) || got.Segment != "mid-market" || !got.Complete() {
		t.Fatalf("round trip lost data: %+v", got)
	}

	// Problems come back per block.
	values[rvARR] = map[string]slack.BlockAction{rvARR + "_in": {Value: "lots"}}
	values[rvTerm] = map[string]slack.BlockAction{rvTerm + "_in": {Value: "500"}}
	values[rvChampion] = map[string]slack.BlockAction{rvChampion + "_in": {Value: " "}}
	values["rv_p2_text"] = map[string]slack.BlockAction{"rv_p2_text_in": {Value: "Dashboards"}}
	values["rv_p1_kind"] = map[string]slack.BlockAction{"rv_p1_kind_in": {}}
	values[rvCompetitors] = map[string]slack.BlockAction{rvCompetitors + "_in": {Value: strings.Repeat("Rival, ", 21)}}
	_, errs = ReviewFromState(values)
	for _, id := range []string{rvARR, rvTerm, rvChampion, "rv_p2_kind", "rv_p1_kind", rvCompetitors} {
		if errs[id] == "" {
			t.Errorf("no error for %s: %v", id, errs)
		}
	}

	values[rvCompetitors] = map[string]slack.BlockAction{rvCompetitors + "_in": {Value: "Gainsight, " + strings.Repeat("c", 101)}}
	if _, errs = ReviewFromState(values); errs[rvCompetitors] == "" {
		t.Error("a 101-character competitor name was accepted")
	}

	// A deal with many promises gets a row each, up to eight.
	many := handoffDeal()
	for range 10 {
		many.Promises = append(many.Promises, rooms.Promise{Kind: rooms.PromiseTimeline, Text: "x"})
	}
	if in := inputs(t, ReviewModal(ReviewModalView{Deal: many})); in["rv_p7_text"] == nil || in["rv_p8_text"] != nil {
		t.Fatal("promise rows not capped at eight")
	}
}

func TestNotePost(t *testing.T) {
	at := time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)
	m := NotePost(NotePostView{AccountName: "Acme", Kind: "call_note", Author: "gong", Text: "Line one " + evilTicket + "\nline two",
		By: "llm", At: at})
	checkRoomMessage(t, "call summary", m)
	all := allText(t, m.Blocks)
	wantContains(t, "call summary", all, "📞 *Call summary* from gong · Nov 20, 2026", "> Line one &lt;!channel&gt;", "\n> line two",
		"language model")
	m = NotePost(NotePostView{AccountName: "Acme", Kind: "note", Author: "U0CSM", Text: strings.Repeat("n", 5000), By: "verbatim", OpenCase: true})
	checkRoomMessage(t, "note", m)
	wantContains(t, "note", allText(t, m.Blocks), "📝 *Note* by <@U0CSM>", "CRM")
	m = NoteSaved("Acme", "C0ROOM", true)
	checkRoomMessage(t, "saved", m)
	wantContains(t, "saved", m.Text, "<#C0ROOM>", "CRM case")
}

func TestSaveNoteModal(t *testing.T) {
	v := SaveNoteModal(strings.Repeat("t", 5000), `{"c":"C1","ts":"1.2"}`)
	checkRoomModal(t, v)
	in := inputs(t, v)
	if got := in[snText].Element.(*slack.PlainTextInputBlockElement).InitialValue; len([]rune(got)) > 3000 {
		t.Fatalf("initial value %d long", len([]rune(got)))
	}
	account, text, openCase := SaveNoteFromState(map[string]map[string]slack.BlockAction{
		snAccount: {snAccount + "_in": {Value: " acme "}}, snText: {snText + "_in": {Value: "hello"}},
		snCase: {snCase + "_in": {SelectedOptions: []slack.OptionBlockObject{{Value: "case"}}}},
	})
	if account != "acme" || text != "hello" || !openCase {
		t.Fatalf("%q %q %v", account, text, openCase)
	}
}

func TestRoomStatusAndFailure(t *testing.T) {
	m := RoomStatus(RoomStatusView{AccountName: "Acme", RoomID: "C0ROOM", Origin: "created", Handoffs: []HandoffLine{
		{DealName: "New", Step: "done", Missing: []rooms.Field{rooms.FieldARR}},
		{DealName: "Expansion", Step: "channel", Failed: true, Error: "restricted_action <!here>"},
		{DealName: "Renewal", Step: "done"},
	}})
	checkRoomMessage(t, "status", m)
	wantContains(t, "status", allText(t, m.Blocks), "<#C0ROOM> (created at handoff)", "waiting for the won deal review (1 field missing)",
		"stopped at channel (restricted_action &lt;!here&gt;)", "✅ handoff complete")
	m = RoomStatus(RoomStatusView{AccountName: "Acme"})
	checkRoomMessage(t, "no room", m)
	wantContains(t, "no room", m.Text, "has no room yet")
	f := RoomFailed(RoomFailedView{AccountName: "Acme", Step: "channel", Error: "restricted_action"})
	checkRoomMessage(t, "failed", f)
	wantContains(t, "failed", f.Text, "/room link Acme")
}
