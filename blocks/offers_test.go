package blocks

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/offers"
)

func offerView() OfferView {
	at := fixedNow().Add(-3 * time.Hour)
	decided := fixedNow().Add(-time.Hour)
	o := offers.Offer{Type: offers.Discount, Value: 30, DurationMonths: 12, Justification: evilTicket, Competitor: "<!here> Rival"}
	return OfferView{
		RequestID: 12, Version: 2, Status: "pending", AccountID: 42, AccountName: "Acme <Corp>",
		RenewalDate: ptr(time.Date(2027, 3, 3, 0, 0, 0, 0, time.UTC)), RequestedBy: "U0CSM", Offer: o,
		Impact: offers.ComputeImpact(o, 240_000, nil, fixedNow(), 12),
		Steps: []OfferStepView{
			{ID: 7, Stage: 0, StageName: "Review", Name: "Finance", Approvers: []string{"U0FIN"}, Status: "approved", DecidedBy: "U0FIN",
				DecidedAt: &decided, ActivatedAt: &at, SLA: 24 * time.Hour},
			{ID: 8, Stage: 0, StageName: "Review", Name: "RevOps", Approvers: []string{"U0R1", "U0R2"}, Status: "pending", ActivatedAt: &at, SLA: 2 * time.Hour},
			{ID: 9, Stage: 1, StageName: "Executive", Name: "Executive", Approvers: []string{"U0EXEC"}, Backup: "U0CEO", Status: "waiting", SLA: time.Hour},
		},
		Trail: []OfferTrailEntry{
			{At: at, Version: 1, Step: "Finance", Actor: "U0FIN", Action: "revise", Guidance: evilTicket},
			{At: decided, Version: 2, Step: "Finance", Actor: "U0FIN", Action: "approve"},
		},
		ApprovalsChannel: "C0APPROVALS", SubmittedAt: at, Now: fixedNow(),
	}
}

// stripChannelMentions drops the bot's own <#C…> links, which are safe, so
// assertSafeMrkdwn can check the rest.
func stripChannelMentions(m Message) Message {
	for _, b := range m.Blocks {
		if c, ok := b.(*slack.ContextBlock); ok {
			for _, el := range c.ContextElements.Elements {
				if t, ok := el.(*slack.TextBlockObject); ok {
					t.Text = strings.ReplaceAll(t.Text, "<#C0APPROVALS>", "#approvals")
				}
			}
		}
	}
	return m
}

func TestOfferCard(t *testing.T) {
	v := offerView()
	m := OfferCard(v)
	checkMessage(t, "card", m, 50)
	all := allText(t, m.Blocks)
	wantContains(t, "card", all,
		"⏳ *Waiting for RevOps* · v2 (stage 1 of 2)",
		"*Offer cost*\n$72k (30% of ARR)",
		"*Revenue retained*\n$240k ($240k ARR × 12 mo), no renewal date",
		"*Justification:* &lt;!channel&gt; please &lt;https://evil.example|click&gt;",
		"*Competitor:* &lt;!here&gt; Rival",
		"✅ *Finance* approved by <@U0FIN> in 2h",
		"⏳ *RevOps* · <@U0R1>, <@U0R2> · waiting 3h (SLA 2h passed)",
		"◻️ *Executive* · <@U0EXEC>",
	)
	if b := findButton(t, m.Blocks, ActionOfferApprovePrefix+"8"); b == nil || b.Value != "8" || b.Text.Text != "Approve" {
		t.Errorf("approve button %+v", b)
	}
	if findButton(t, m.Blocks, ActionOfferApprovePrefix+"7") != nil || findButton(t, m.Blocks, ActionOfferApprovePrefix+"9") != nil {
		t.Error("buttons for steps that are not waiting")
	}
	if !strings.Contains(m.Text, "Offer #12 for Acme &lt;Corp&gt;") {
		t.Errorf("text %q", m.Text)
	}
	// Two parallel steps: each gets labelled buttons with unique action ids.
	v.Steps[0].Status = "pending"
	m = OfferCard(v)
	checkMessage(t, "card parallel", m, 50)
	if b := findButton(t, m.Blocks, ActionOfferApprovePrefix+"7"); b == nil || b.Text.Text != "Approve as Finance" {
		t.Errorf("labelled approve %+v", b)
	}
	// Decided requests carry no buttons.
	for _, status := range []string{"approved", "rejected", "revision_requested"} {
		v.Status = status
		m = OfferCard(v)
		checkMessage(t, "card "+status, m, 50)
		if _, buttons := walk(t, m.Blocks); len(buttons) != 0 {
			t.Errorf("%s card has buttons", status)
		}
	}
}

func TestOfferApproverDM(t *testing.T) {
	v := offerView()
	step := v.Steps[1]
	v.Summary = "Acme is slipping " + evilTicket
	m := stripChannelMentions(OfferApproverDM(v, step, false))
	checkMessage(t, "dm", m, 50)
	wantContains(t, "dm", allText(t, m.Blocks), "Your decision is needed as *RevOps* (stage 1 of 2). SLA 2h.", "the offer's thread in #approvals",
		"*Account summary*\nAcme is slipping &lt;!channel&gt;")
	if findButton(t, m.Blocks, ActionOfferRejectPrefix+"8") == nil {
		t.Error("no reject button")
	}
	if !strings.Contains(allText(t, OfferApproverDM(v, step, true).Blocks), "Escalated to you as backup for *RevOps*") {
		t.Error("escalation intro")
	}
	for _, c := range []struct {
		status, reqStatus, want string
	}{
		{"approved", "pending", "approved by"},
		{"superseded", "pending", "Replaced by version 2"},
		{"closed", "revision_requested", "Sent back for revision"},
		{"closed", "rejected", "Rejected"},
	} {
		s := step
		s.Status, s.DecidedBy = c.status, "U0R1"
		v.Status = c.reqStatus
		m := stripChannelMentions(OfferApproverDM(v, s, false))
		checkMessage(t, "dm "+c.status, m, 50)
		if _, buttons := walk(t, m.Blocks); len(buttons) != 0 {
			t.Errorf("%s/%s DM keeps its buttons", c.status, c.reqStatus)
		}
		wantContains(t, "dm "+c.status, allText(t, m.Blocks), c.want, "Approval request for *RevOps*")
	}
}

func TestOfferThreadMessages(t *testing.T) {
	v := offerView()
	score, change := 38, -22
	brief := offers.Brief{AccountName: "Acme", ARR: 240_000, Score: &score, Band: "critical", ScoreChange: &change,
		Drivers:  []offers.Driver{{Text: "usage -38% over 14 days", Points: -22}},
		NPS:      &offers.NPS{Score: 3, At: fixedNow()},
		Timeline: []offers.Event{{At: fixedNow(), Kind: "signal.ticket", Summary: evilTicket}},
		PreviousOffers: []offers.PastOffer{{ID: 12, Offer: "self"}, {ID: 3, At: fixedNow(), Offer: "10% discount", Status: "approved",
			Answer: "accepted", Outcome: "renewed"}}}
	sv := v
	sv.Summary = "Model says <!channel>"
	sum := OfferSummary(OfferSummaryView{Offer: sv, Brief: brief, ByModel: true})
	checkMessage(t, "summary", sum, 50)
	all := allText(t, sum.Blocks)
	wantContains(t, "summary", all, "*Account summary* · version 2\nModel says &lt;!channel&gt;", "🔴 38/100 Critical (-22 in 30 days)",
		"#3 Feb 8, 2027 · 10% discount · approved, customer accepted, renewed", "written by a language model")
	wantNotContains(t, "summary", all, "self")

	step := v.Steps[0]
	step.Status, step.Guidance = "revision_requested", evilTicket
	note := OfferDecisionNote(v, step)
	checkMessage(t, "revise note", note, 50)
	if findButton(t, note.Blocks, ActionOfferEditPrefix+"12") == nil {
		t.Error("revise note has no Revise button")
	}
	wantContains(t, "revise note", allText(t, note.Blocks), "<@U0CSM>, please revise")
	for name, m := range map[string]Message{
		"approved note": OfferDecisionNote(v, v.Steps[0]),
		"stage":         OfferStageNote(v, v.Steps[2:]),
		"approved":      OfferApprovedNote(v),
		"revised":       OfferRevisedNote(v, offers.Offer{Type: offers.Discount, Value: 35, DurationMonths: 12}),
		"nudge":         OfferNudgeNote(v.Steps[1], 25*time.Hour),
		"escalation":    OfferEscalationNote(v.Steps[2], 49*time.Hour),
		"reminder":      OfferReminderDM(v, v.Steps[1], 3*time.Hour),
		"submitted":     OfferSubmittedDM(v),
		"terms":         OfferTermsDM(v),
		"closed":        OfferClosedDM(v, step),
		"answer":        OfferAnswerNote(OfferView{RequestID: 1, CustomerAnswer: "countered", AnswerNote: evilTicket}),
		"outcome":       OfferOutcomeNote(OfferView{RenewalOutcome: "renewed"}),
	} {
		checkMessage(t, name, m, 50)
	}
	wantContains(t, "approved", allText(t, OfferApprovedNote(v).Blocks), "v1 · Finance asked for a revision (<@U0FIN>): &lt;!channel&gt;")
	wantContains(t, "revised", allText(t, OfferRevisedNote(v, offers.Offer{Type: offers.Discount, Value: 35, DurationMonths: 12}).Blocks),
		"35% discount for 12 months → 30% discount for 12 months")
	wantContains(t, "submitted", allText(t, OfferSubmittedDM(v).Blocks), "Route: Finance + RevOps → Executive")
	terms := OfferTermsDM(v)
	for _, a := range []string{"accepted", "declined", "countered"} {
		if b := findButton(t, terms.Blocks, ActionOfferAnswerPrefix+a); b == nil || b.Value != "12" {
			t.Errorf("answer button %s = %+v", a, b)
		}
	}
	v.CustomerAnswer = "countered"
	if findButton(t, OfferTermsDM(v).Blocks, ActionOfferEditPrefix+"12") == nil {
		t.Error("countered offer cannot be revised from the terms DM")
	}
}

func TestOfferRefusals(t *testing.T) {
	step := OfferStepView{Name: "Finance", Approvers: []string{"U0FIN"}, Status: "approved", DecidedBy: "U0FIN"}
	for _, reason := range []string{"not_approver", "own_request", "already_decided", "old_version", "not_active", "closed",
		"not_owner", "not_approved", "already_answered", "stale", "weird"} {
		m := OfferRefusal(reason, step, 3)
		checkMessage(t, reason, m, 50)
		if !strings.Contains(m.Text, "change") {
			t.Errorf("%s: %q does not say nothing changed", reason, m.Text)
		}
	}
	wantContains(t, "old", OfferRefusal("old_version", step, 3).Text, "now version 3")
	wantContains(t, "stranger", OfferRefusal("not_approver", step, 3).Text, "(<@U0FIN>)")
}

func TestOfferForm(t *testing.T) {
	g := offers.DefaultConfig().Guidelines.For("enterprise")
	pre := offers.Offer{Type: offers.Discount, Value: 30, DurationMonths: 12, Justification: "why", Competitor: "Rival"}
	mv := OfferForm(OfferFormView{Meta: OfferFormMeta{AccountID: 42, RequestID: 12, Version: 2}, AccountName: "Acme <Corp>", Tier: "enterprise",
		ARR: 240_000, Guideline: g, Prefill: &pre, GuidanceBy: "U0FIN", GuidanceStep: "Finance", Guidance: evilTicket, Now: fixedNow()})
	if mv.CallbackID != CallbackOfferForm || mv.Title.Text != "Revise offer #12" || mv.Submit.Text != "Resubmit" {
		t.Errorf("view %q %q %q", mv.CallbackID, mv.Title.Text, mv.Submit.Text)
	}
	var meta OfferFormMeta
	if err := json.Unmarshal([]byte(mv.PrivateMetadata), &meta); err != nil || meta != (OfferFormMeta{42, 12, 2}) {
		t.Errorf("metadata %q", mv.PrivateMetadata)
	}
	raw, err := json.Marshal(mv)
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	for _, want := range []string{`"initial_value":"30"`, `"initial_value":"12"`, `"initial_value":"Rival"`, `"block_id":"offer_value"`,
		`"initial_option":{"text":{"type":"plain_text","text":"Discount"`, "Acme \\u0026lt;Corp\\u0026gt;", "discounts up to 40% for up to 24 months",
		"asked for a revision", "\\u0026lt;!channel\\u0026gt;"} {
		if !strings.Contains(s, want) {
			t.Errorf("form misses %s", want)
		}
	}
	if n := len(mv.Blocks.BlockSet); n > 100 {
		t.Errorf("%d blocks", n)
	}
	// The submitted state reads back by block.
	state := &slack.ViewState{Values: map[string]map[string]slack.BlockAction{
		OfferBlockType:  {"input": {SelectedOption: slack.OptionBlockObject{Value: "free_months"}}},
		OfferBlockValue: {"input": {Value: "2"}},
	}}
	if f := OfferFormValues(state); f.Type != "free_months" || f.Value != "2" || f.Terms != "" {
		t.Errorf("form values %+v", f)
	}
	for _, m := range []slack.ModalViewRequest{
		OfferGuidanceModal(OfferGuidanceMeta{StepID: 8, Action: "reject"}, "Acme", "30% discount", "Finance"),
		OfferCounterModal(12, "Acme"),
	} {
		for _, to := range []*slack.TextBlockObject{m.Title, m.Submit, m.Close} {
			if utf16Len(to.Text) > 24 {
				t.Errorf("%s: %q too long", m.CallbackID, to.Text)
			}
		}
	}
}

func TestOfferLists(t *testing.T) {
	v := offerView()
	rows := make([]PendingApprovalRow, 20)
	for i := range rows {
		rows[i] = PendingApprovalRow{StepID: int64(i + 1), StepName: "Finance", RequestID: 12, AccountName: "Acme", RequestedBy: "U0CSM",
			Offer: v.Offer, Impact: v.Impact, WaitingFor: 30 * time.Hour, SLA: 24 * time.Hour, Escalated: i == 0}
	}
	home := PendingApprovals(rows)
	checkBlocks(t, "home", home, 100)
	wantContains(t, "home", allText(t, home), "(escalated to you)", "⚠️ past SLA 1d", "More are waiting for you: /offers pending")
	if len(home) > 50 {
		t.Errorf("pending approvals use %d blocks; keep room in the Home tab", len(home))
	}
	checkBlocks(t, "home empty", PendingApprovals(nil), 100)

	list := OffersList(OffersListView{Mine: rows, Open: []OfferView{v, v}, Total: 40})
	checkMessage(t, "list", list, 50)
	wantContains(t, "list", allText(t, list.Blocks), "Open offers (40)", "…and 38 more", "More are waiting for you: the App Home")
	if n := strings.Count(allText(t, list.Blocks), "(escalated to you)"); n != 1 {
		t.Errorf("list shows %d of the escalated row, want it once among the first five", n)
	}
	few := OffersList(OffersListView{Mine: rows[:3], Open: []OfferView{v}, Total: 1})
	checkMessage(t, "list few", few, 50)
	wantNotContains(t, "list few", allText(t, few.Blocks), "More are waiting")
	checkMessage(t, "list empty", OffersList(OffersListView{}), 50)

	hist := OfferAccountHistory("Acme", 42, []OfferView{v})
	checkMessage(t, "history", hist, 50)
	wantContains(t, "history", allText(t, hist.Blocks), "*#12*", "v2 · Finance approved")
	wantNotContains(t, "history", allText(t, hist.Blocks), "Showing the latest")
	short := v
	short.Trail = nil
	many := make([]OfferView, MaxOfferHistory+1)
	for i := range many {
		many[i] = short
	}
	wantContains(t, "history capped", allText(t, OfferAccountHistory("Acme", 42, many).Blocks), "Showing the latest 10; older offers are not listed.")

	at := fixedNow()
	st := offers.ComputeStats([]offers.StatRow{{Type: offers.Discount, EquivalentPct: 30, Status: "approved", Answer: "accepted",
		Outcome: "renewed", SubmittedAt: at.Add(-5 * time.Hour), DecidedAt: &at, Steps: []offers.StepTime{{Name: "Finance", Took: time.Hour}}}},
		[]float64{10, 25})
	stats := OfferStats(st, at.AddDate(-1, 0, 0))
	checkMessage(t, "stats", stats, 50)
	wantContains(t, "stats", allText(t, stats.Blocks), "*Discount · over 25%* — 1 request, 1 approved · acceptance 100% (1) · save 100% (1)",
		"*Median time to approval*\n5h over 1 approval", "Finance: median 1h over 1 decision")
	checkMessage(t, "stats empty", OfferStats(offers.Stats{}, at), 50)
}

func TestAlertProposesOffer(t *testing.T) {
	m := Alert(alertView())
	if b := findButton(t, m.Blocks, ActionProposeOffer); b == nil || b.Value != "42" || b.Text.Text != "Propose offer" {
		t.Errorf("propose button %+v", b)
	}
}

func TestOfferLimitsWorstCase(t *testing.T) {
	hostile := " <!channel> & <!here> <https://evil|x> <@U1|spoof> &amp; 😀 *_~`\n"
	huge := strings.Repeat(hostile, 10_000/len(hostile)+1)
	at := fixedNow()
	var steps []OfferStepView
	var trail []OfferTrailEntry
	for i := range 60 {
		steps = append(steps, OfferStepView{ID: int64(i), Stage: i / 3, StageName: huge, Name: huge, Approvers: []string{huge, "U1", "U2", "U3", "U4", "U5", "U6", "U7", "U8", "U9"},
			Backup: huge, Escalated: true, Status: []string{"pending", "approved", "waiting"}[i%3], DecidedBy: huge, DecidedAt: &at,
			Guidance: huge, ActivatedAt: &at, SLA: time.Hour})
		trail = append(trail, OfferTrailEntry{At: at, Version: i, Step: huge, Actor: huge, Action: "revise", Guidance: huge})
	}
	o := offers.Offer{Type: offers.ContractModification, Value: 1e300, Terms: huge, Justification: huge, Competitor: huge}
	v := OfferView{RequestID: 1 << 62, Version: 1 << 30, Status: "pending", AccountName: huge, RequestedBy: huge, Offer: o,
		Impact: offers.ComputeImpact(o, 1e300, nil, at, 12), Steps: steps, Trail: trail, CustomerAnswer: "countered", AnswerNote: huge, Summary: huge,
		RenewalOutcome: huge, ApprovalsChannel: huge, SubmittedAt: at, Now: at}
	brief := offers.Brief{AccountName: huge, ARR: 1e300, Owner: huge}
	for i := range 50 {
		brief.Drivers = append(brief.Drivers, offers.Driver{Text: huge, Points: -1e300})
		brief.Timeline = append(brief.Timeline, offers.Event{At: at, Kind: huge, Summary: huge})
		brief.PreviousOffers = append(brief.PreviousOffers, offers.PastOffer{ID: int64(i), Offer: huge, Status: huge, Answer: huge, Outcome: huge})
	}
	for name, m := range map[string]Message{
		"card":       OfferCard(v),
		"dm":         OfferApproverDM(v, steps[0], true),
		"summary":    OfferSummary(OfferSummaryView{Offer: v, Brief: brief}), // v.Summary is huge
		"decision":   OfferDecisionNote(v, OfferStepView{Name: huge, Status: "revision_requested", Guidance: huge, DecidedBy: huge}),
		"stage":      OfferStageNote(v, steps),
		"approved":   OfferApprovedNote(v),
		"revised":    OfferRevisedNote(v, offers.Offer{Type: offers.Discount, Value: 1, Justification: huge}),
		"nudge":      OfferNudgeNote(steps[0], 1<<62),
		"escalation": OfferEscalationNote(steps[0], -1),
		"reminder":   OfferReminderDM(v, steps[0], time.Hour),
		"submitted":  OfferSubmittedDM(v),
		"terms":      OfferTermsDM(v),
		"closed":     OfferClosedDM(v, steps[0]),
		"answer":     OfferAnswerNote(v),
		"outcome":    OfferOutcomeNote(v),
		"list":       OffersList(OffersListView{Open: []OfferView{v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v}, Total: 1 << 40}),
		"history":    OfferAccountHistory(huge, 1, []OfferView{v, v, v, v, v, v, v, v, v, v, v, v}),
		"refusal":    OfferRefusal("not_approver", steps[0], 1<<30),
	} {
		checkMessage(t, name, m, 50)
	}
	checkBlocks(t, "home", PendingApprovals([]PendingApprovalRow{{StepName: huge, AccountName: huge, RequestedBy: huge, Offer: o,
		WaitingFor: 1 << 62, SLA: 1}}), 100)
	mv := OfferForm(OfferFormView{AccountName: huge, Tier: huge, Guidance: huge, GuidanceBy: huge, GuidanceStep: huge, Prefill: &o,
		Guideline: offers.DefaultConfig().Guidelines.Default})
	if _, err := json.Marshal(mv); err != nil || mv.Title.Text == "" {
		t.Errorf("form: %v", err)
	}
	for _, blk := range mv.Blocks.BlockSet {
		if s, ok := blk.(*slack.SectionBlock); ok {
			if utf16Len(s.Text.Text) > 3000 {
				t.Errorf("form section %d long", utf16Len(s.Text.Text))
			}
			assertSafeMrkdwn(t, "form", s.Text.Text)
		}
	}
}

func TestDurationText(t *testing.T) {
	for d, want := range map[time.Duration]string{-time.Second: "0s", 45 * time.Second: "45s", 35 * time.Minute: "35m", 4 * time.Hour: "4h",
		4*time.Hour + 30*time.Minute: "4h 30m", 51 * time.Hour: "2d 3h", 48 * time.Hour: "2d"} {
		if got := DurationText(d); got != want {
			t.Errorf("DurationText(%s) = %q, want %q", d, got, want)
		}
	}
}
