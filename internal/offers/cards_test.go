package offers

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/blocks/blockstest"
)

// The cards' clock, and customer text that must never become a broadcast
// or a link.
var (
	cardNow    = time.Date(2027, time.February, 8, 15, 30, 0, 0, time.UTC)
	evilTicket = "<!channel> please <https://evil.example|click>"
)

func sampleView() requestView {
	at := cardNow.Add(-3 * time.Hour)
	decided := cardNow.Add(-time.Hour)
	o := Offer{Type: Discount, Value: 30, DurationMonths: 12, Justification: evilTicket, Competitor: "<!here> Rival"}
	renewal := time.Date(2027, 3, 3, 0, 0, 0, 0, time.UTC)
	return requestView{
		RequestID: 12, Version: 2, Status: "pending", AccountID: 42, AccountName: "Acme <Corp>",
		RenewalDate: &renewal, RequestedBy: "U0CSM", Offer: o,
		Impact: ComputeImpact(o, 240_000, nil, cardNow, 12),
		Steps: []stepView{
			{ID: 7, Stage: 0, StageName: "Review", Name: "Finance", Approvers: []string{"U0FIN"}, Status: "approved", DecidedBy: "U0FIN",
				DecidedAt: &decided, ActivatedAt: &at, SLA: 24 * time.Hour},
			{ID: 8, Stage: 0, StageName: "Review", Name: "RevOps", Approvers: []string{"U0R1", "U0R2"}, Status: "pending", ActivatedAt: &at, SLA: 2 * time.Hour},
			{ID: 9, Stage: 1, StageName: "Executive", Name: "Executive", Approvers: []string{"U0EXEC"}, Backup: "U0CEO", Status: "waiting", SLA: time.Hour},
		},
		Trail: []trailEntry{
			{At: at, Version: 1, Step: "Finance", Actor: "U0FIN", Action: "revise", Guidance: evilTicket},
			{At: decided, Version: 2, Step: "Finance", Actor: "U0FIN", Action: "approve"},
		},
		ApprovalsChannel: "C0APPROVALS", SubmittedAt: at, Now: cardNow,
	}
}

// stripChannelMentions drops the bot's own <#C…> links, which are safe, so
// assertSafeMrkdwn can check the rest.
func stripChannelMentions(m blocks.Message) blocks.Message {
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
	t.Parallel()
	v := sampleView()
	m := requestCard(v)
	blockstest.CheckMessage(t, "card", m, 50)
	all := blockstest.AllText(t, m.Blocks)
	blockstest.WantContains(t, "card", all,
		"⏳ *Waiting for RevOps* · v2 (stage 1 of 2)",
		"*Offer cost*\n$72k (30% of ARR)",
		"*Revenue retained*\n$240k ($240k ARR × 12 mo), no renewal date",
		"*Justification:* &lt;!channel&gt; please &lt;https://evil.example|click&gt;",
		"*Competitor:* &lt;!here&gt; Rival",
		"✅ *Finance* approved by <@U0FIN> in 2h",
		"⏳ *RevOps* · <@U0R1>, <@U0R2> · waiting 3h (SLA 2h passed)",
		"◻️ *Executive* · <@U0EXEC>",
	)
	if b := blockstest.FindButton(t, m.Blocks, blocks.ActionOfferApprovePrefix+"8"); b == nil || b.Value != "8" || b.Text.Text != "Approve" {
		t.Errorf("approve button %+v", b)
	}
	if blockstest.FindButton(t, m.Blocks, blocks.ActionOfferApprovePrefix+"7") != nil || blockstest.FindButton(t, m.Blocks, blocks.ActionOfferApprovePrefix+"9") != nil {
		t.Error("buttons for steps that are not waiting")
	}
	if !strings.Contains(m.Text, "Offer #12 for Acme &lt;Corp&gt;") {
		t.Errorf("text %q", m.Text)
	}
	// Two parallel steps: each gets labelled buttons with unique action ids.
	v.Steps[0].Status = "pending"
	m = requestCard(v)
	blockstest.CheckMessage(t, "card parallel", m, 50)
	if b := blockstest.FindButton(t, m.Blocks, blocks.ActionOfferApprovePrefix+"7"); b == nil || b.Text.Text != "Approve as Finance" {
		t.Errorf("labelled approve %+v", b)
	}
	// Decided requests carry no buttons.
	for _, status := range []string{"approved", "rejected", "revision_requested"} {
		v.Status = status
		m = requestCard(v)
		blockstest.CheckMessage(t, "card "+status, m, 50)
		if _, buttons := blockstest.Walk(t, m.Blocks); len(buttons) != 0 {
			t.Errorf("%s card has buttons", status)
		}
	}
}

func TestOfferApproverDM(t *testing.T) {
	t.Parallel()
	v := sampleView()
	step := v.Steps[1]
	v.Summary = "Acme is slipping " + evilTicket
	m := stripChannelMentions(approverDM(v, step, false))
	blockstest.CheckMessage(t, "dm", m, 50)
	blockstest.WantContains(t, "dm", blockstest.AllText(t, m.Blocks), "Your decision is needed as *RevOps* (stage 1 of 2). SLA 2h.", "the offer's thread in #approvals",
		"*Account summary*\nAcme is slipping &lt;!channel&gt;")
	if blockstest.FindButton(t, m.Blocks, blocks.ActionOfferRejectPrefix+"8") == nil {
		t.Error("no reject button")
	}
	if !strings.Contains(blockstest.AllText(t, approverDM(v, step, true).Blocks), "Escalated to you as backup for *RevOps*") {
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
		m := stripChannelMentions(approverDM(v, s, false))
		blockstest.CheckMessage(t, "dm "+c.status, m, 50)
		if _, buttons := blockstest.Walk(t, m.Blocks); len(buttons) != 0 {
			t.Errorf("%s/%s DM keeps its buttons", c.status, c.reqStatus)
		}
		blockstest.WantContains(t, "dm "+c.status, blockstest.AllText(t, m.Blocks), c.want, "Approval request for *RevOps*")
	}
}

func TestOfferThreadMessages(t *testing.T) {
	t.Parallel()
	v := sampleView()
	score, change := 38, -22
	brief := Brief{AccountName: "Acme", ARR: 240_000, Score: &score, Band: "critical", ScoreChange: &change,
		Drivers:  []Driver{{Text: "usage -38% over 14 days", Points: -22}},
		NPS:      &NPS{Score: 3, At: cardNow},
		Timeline: []TimelineEvent{{At: cardNow, Kind: "signal.ticket", Summary: evilTicket}},
		PreviousOffers: []PastOffer{{ID: 12, Offer: "self"}, {ID: 3, At: cardNow, Offer: "10% discount", Status: "approved",
			Answer: "accepted", Outcome: "renewed"}}}
	sv := v
	sv.Summary = "Model says <!channel>"
	sum := summaryMessage(summaryView{Offer: sv, Brief: brief, ByModel: true})
	blockstest.CheckMessage(t, "summary", sum, 50)
	all := blockstest.AllText(t, sum.Blocks)
	blockstest.WantContains(t, "summary", all, "*Account summary* · version 2\nModel says &lt;!channel&gt;", "🔴 38/100 Critical (-22 in 30 days)",
		"#3 Feb 8, 2027 · 10% discount · approved, customer accepted, renewed", "written by a language model")
	blockstest.WantNotContains(t, "summary", all, "self")

	step := v.Steps[0]
	step.Status, step.Guidance = "revision_requested", evilTicket
	note := decisionNote(v, step)
	blockstest.CheckMessage(t, "revise note", note, 50)
	if blockstest.FindButton(t, note.Blocks, blocks.ActionOfferEditPrefix+"12") == nil {
		t.Error("revise note has no Revise button")
	}
	blockstest.WantContains(t, "revise note", blockstest.AllText(t, note.Blocks), "<@U0CSM>, please revise")
	for name, m := range map[string]blocks.Message{
		"approved note": decisionNote(v, v.Steps[0]),
		"stage":         stageNote(v, v.Steps[2:]),
		"approved":      approvedNote(v),
		"revised":       revisedNote(v, Offer{Type: Discount, Value: 35, DurationMonths: 12}),
		"nudge":         nudgeNote(v.Steps[1], 25*time.Hour),
		"escalation":    escalationNote(v.Steps[2], 49*time.Hour),
		"reminder":      reminderDM(v, v.Steps[1], 3*time.Hour),
		"submitted":     submittedDM(v),
		"terms":         termsDM(v),
		"closed":        closedDM(v, step),
		"answer":        answerNote(requestView{RequestID: 1, CustomerAnswer: "countered", AnswerNote: evilTicket}),
		"outcome":       outcomeNote(requestView{RenewalOutcome: "renewed"}),
	} {
		blockstest.CheckMessage(t, name, m, 50)
	}
	blockstest.WantContains(t, "approved", blockstest.AllText(t, approvedNote(v).Blocks), "v1 · Finance asked for a revision (<@U0FIN>): &lt;!channel&gt;")
	blockstest.WantContains(t, "revised", blockstest.AllText(t, revisedNote(v, Offer{Type: Discount, Value: 35, DurationMonths: 12}).Blocks),
		"35% discount for 12 months → 30% discount for 12 months")
	blockstest.WantContains(t, "submitted", blockstest.AllText(t, submittedDM(v).Blocks), "Route: Finance + RevOps → Executive")
	terms := termsDM(v)
	for _, a := range []string{"accepted", "declined", "countered"} {
		if b := blockstest.FindButton(t, terms.Blocks, blocks.ActionOfferAnswerPrefix+a); b == nil || b.Value != "12" {
			t.Errorf("answer button %s = %+v", a, b)
		}
	}
	v.CustomerAnswer = "countered"
	if blockstest.FindButton(t, termsDM(v).Blocks, blocks.ActionOfferEditPrefix+"12") == nil {
		t.Error("countered offer cannot be revised from the terms DM")
	}
}

func TestOfferRefusals(t *testing.T) {
	t.Parallel()
	step := stepView{Name: "Finance", Approvers: []string{"U0FIN"}, Status: "approved", DecidedBy: "U0FIN"}
	for _, reason := range []string{"not_approver", "own_request", "already_decided", "old_version", "not_active", "closed",
		"not_owner", "not_approved", "already_answered", "stale", "weird"} {
		m := refusalMessage(reason, step, 3)
		blockstest.CheckMessage(t, reason, m, 50)
		if !strings.Contains(m.Text, "change") {
			t.Errorf("%s: %q does not say nothing changed", reason, m.Text)
		}
	}
	blockstest.WantContains(t, "old", refusalMessage("old_version", step, 3).Text, "now version 3")
	blockstest.WantContains(t, "stranger", refusalMessage("not_approver", step, 3).Text, "(<@U0FIN>)")
}

func TestOfferForm(t *testing.T) {
	t.Parallel()
	g := DefaultSettings().Guidelines.For("enterprise")
	pre := Offer{Type: Discount, Value: 30, DurationMonths: 12, Justification: "why", Competitor: "Rival"}
	mv := formModal(formView{Meta: FormMeta{AccountID: 42, RequestID: 12, Version: 2}, AccountName: "Acme <Corp>", Tier: "enterprise",
		ARR: 240_000, Guideline: g, Prefill: &pre, GuidanceBy: "U0FIN", GuidanceStep: "Finance", Guidance: evilTicket, Now: cardNow})
	if mv.CallbackID != blocks.CallbackOfferForm || mv.Title.Text != "Revise offer #12" || mv.Submit.Text != "Resubmit" {
		t.Errorf("view %q %q %q", mv.CallbackID, mv.Title.Text, mv.Submit.Text)
	}
	var meta FormMeta
	if err := json.Unmarshal([]byte(mv.PrivateMetadata), &meta); err != nil || meta != (FormMeta{42, 12, 2}) {
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
		blocks.OfferBlockType:  {"input": {SelectedOption: slack.OptionBlockObject{Value: "free_months"}}},
		blocks.OfferBlockValue: {"input": {Value: "2"}},
	}}
	if f := formValues(state); f.Type != "free_months" || f.Value != "2" || f.Terms != "" {
		t.Errorf("form values %+v", f)
	}
	for _, m := range []slack.ModalViewRequest{
		guidanceModal(guidanceMeta{StepID: 8, Action: "reject"}, "Acme", "30% discount", "Finance"),
		counterModal(12, "Acme"),
	} {
		for _, to := range []*slack.TextBlockObject{m.Title, m.Submit, m.Close} {
			if blockstest.UTF16Len(to.Text) > 24 {
				t.Errorf("%s: %q too long", m.CallbackID, to.Text)
			}
		}
	}
}

func TestOfferLists(t *testing.T) {
	t.Parallel()
	v := sampleView()
	rows := make([]pendingRow, 20)
	for i := range rows {
		rows[i] = pendingRow{StepID: int64(i + 1), StepName: "Finance", RequestID: 12, AccountName: "Acme", RequestedBy: "U0CSM",
			Offer: v.Offer, Impact: v.Impact, WaitingFor: 30 * time.Hour, SLA: 24 * time.Hour, Escalated: i == 0}
	}
	home := pendingBlocks(rows)
	blockstest.CheckBlocks(t, "home", home, 100)
	blockstest.WantContains(t, "home", blockstest.AllText(t, home), "(escalated to you)", "⚠️ past SLA 1d", "More are waiting for you: /offers pending")
	if len(home) > 50 {
		t.Errorf("pending approvals use %d blocks; keep room in the Home tab", len(home))
	}
	blockstest.CheckBlocks(t, "home empty", pendingBlocks(nil), 100)

	list := listMessage(listView{Mine: rows, Open: []requestView{v, v}, Total: 40})
	blockstest.CheckMessage(t, "list", list, 50)
	blockstest.WantContains(t, "list", blockstest.AllText(t, list.Blocks), "Open offers (40)", "…and 38 more", "More are waiting for you: the App Home")
	if n := strings.Count(blockstest.AllText(t, list.Blocks), "(escalated to you)"); n != 1 {
		t.Errorf("list shows %d of the escalated row, want it once among the first five", n)
	}
	few := listMessage(listView{Mine: rows[:3], Open: []requestView{v}, Total: 1})
	blockstest.CheckMessage(t, "list few", few, 50)
	blockstest.WantNotContains(t, "list few", blockstest.AllText(t, few.Blocks), "More are waiting")
	blockstest.CheckMessage(t, "list empty", listMessage(listView{}), 50)

	hist := historyMessage("Acme", 42, []requestView{v})
	blockstest.CheckMessage(t, "history", hist, 50)
	blockstest.WantContains(t, "history", blockstest.AllText(t, hist.Blocks), "*#12*", "v2 · Finance approved")
	blockstest.WantNotContains(t, "history", blockstest.AllText(t, hist.Blocks), "Showing the latest")
	short := v
	short.Trail = nil
	many := make([]requestView, maxHistory+1)
	for i := range many {
		many[i] = short
	}
	blockstest.WantContains(t, "history capped", blockstest.AllText(t, historyMessage("Acme", 42, many).Blocks), "Showing the latest 10; older offers are not listed.")

	at := cardNow
	st := ComputeStats([]StatRow{{Type: Discount, EquivalentPct: 30, Status: "approved", Answer: "accepted",
		Outcome: "renewed", SubmittedAt: at.Add(-5 * time.Hour), DecidedAt: &at, Steps: []StepTime{{Name: "Finance", Took: time.Hour}}}},
		[]float64{10, 25})
	stats := statsMessage(st, at.AddDate(-1, 0, 0))
	blockstest.CheckMessage(t, "stats", stats, 50)
	blockstest.WantContains(t, "stats", blockstest.AllText(t, stats.Blocks), "*Discount · over 25%* — 1 request, 1 approved · acceptance 100% (1) · save 100% (1)",
		"*Median time to approval*\n5h over 1 approval", "Finance: median 1h over 1 decision")
	blockstest.CheckMessage(t, "stats empty", statsMessage(Stats{}, at), 50)
}

func TestOfferLimitsWorstCase(t *testing.T) {
	t.Parallel()
	hostile := " <!channel> & <!here> <https://evil|x> <@U1|spoof> &amp; 😀 *_~`\n"
	huge := strings.Repeat(hostile, 10_000/len(hostile)+1)
	at := cardNow
	var steps []stepView
	var trail []trailEntry
	for i := range 60 {
		steps = append(steps, stepView{ID: int64(i), Stage: i / 3, StageName: huge, Name: huge, Approvers: []string{huge, "U1", "U2", "U3", "U4", "U5", "U6", "U7", "U8", "U9"},
			Backup: huge, Escalated: true, Status: []string{"pending", "approved", "waiting"}[i%3], DecidedBy: huge, DecidedAt: &at,
			Guidance: huge, ActivatedAt: &at, SLA: time.Hour})
		trail = append(trail, trailEntry{At: at, Version: i, Step: huge, Actor: huge, Action: "revise", Guidance: huge})
	}
	o := Offer{Type: ContractModification, Value: 1e300, Terms: huge, Justification: huge, Competitor: huge}
	v := requestView{RequestID: 1 << 62, Version: 1 << 30, Status: "pending", AccountName: huge, RequestedBy: huge, Offer: o,
		Impact: ComputeImpact(o, 1e300, nil, at, 12), Steps: steps, Trail: trail, CustomerAnswer: "countered", AnswerNote: huge, Summary: huge,
		RenewalOutcome: huge, ApprovalsChannel: huge, SubmittedAt: at, Now: at}
	brief := Brief{AccountName: huge, ARR: 1e300, Owner: huge}
	for i := range 50 {
		brief.Drivers = append(brief.Drivers, Driver{Text: huge, Points: -1e300})
		brief.Timeline = append(brief.Timeline, TimelineEvent{At: at, Kind: huge, Summary: huge})
		brief.PreviousOffers = append(brief.PreviousOffers, PastOffer{ID: int64(i), Offer: huge, Status: huge, Answer: huge, Outcome: huge})
	}
	for name, m := range map[string]blocks.Message{
		"card":       requestCard(v),
		"dm":         approverDM(v, steps[0], true),
		"summary":    summaryMessage(summaryView{Offer: v, Brief: brief}), // v.Summary is huge
		"decision":   decisionNote(v, stepView{Name: huge, Status: "revision_requested", Guidance: huge, DecidedBy: huge}),
		"stage":      stageNote(v, steps),
		"approved":   approvedNote(v),
		"revised":    revisedNote(v, Offer{Type: Discount, Value: 1, Justification: huge}),
		"nudge":      nudgeNote(steps[0], 1<<62),
		"escalation": escalationNote(steps[0], -1),
		"reminder":   reminderDM(v, steps[0], time.Hour),
		"submitted":  submittedDM(v),
		"terms":      termsDM(v),
		"closed":     closedDM(v, steps[0]),
		"answer":     answerNote(v),
		"outcome":    outcomeNote(v),
		"list":       listMessage(listView{Open: []requestView{v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v}, Total: 1 << 40}),
		"history":    historyMessage(huge, 1, []requestView{v, v, v, v, v, v, v, v, v, v, v, v}),
		"refusal":    refusalMessage("not_approver", steps[0], 1<<30),
	} {
		blockstest.CheckMessage(t, name, m, 50)
	}
	blockstest.CheckBlocks(t, "home", pendingBlocks([]pendingRow{{StepName: huge, AccountName: huge, RequestedBy: huge, Offer: o,
		WaitingFor: 1 << 62, SLA: 1}}), 100)
	mv := formModal(formView{AccountName: huge, Tier: huge, Guidance: huge, GuidanceBy: huge, GuidanceStep: huge, Prefill: &o,
		Guideline: DefaultSettings().Guidelines.Default})
	if _, err := json.Marshal(mv); err != nil || mv.Title.Text == "" {
		t.Errorf("form: %v", err)
	}
	for _, blk := range mv.Blocks.BlockSet {
		if s, ok := blk.(*slack.SectionBlock); ok {
			if blockstest.UTF16Len(s.Text.Text) > 3000 {
				t.Errorf("form section %d long", blockstest.UTF16Len(s.Text.Text))
			}
			blockstest.AssertSafeMrkdwn(t, "form", s.Text.Text)
		}
	}
}

func TestDurationText(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{-time.Second: "0s", 45 * time.Second: "45s", 35 * time.Minute: "35m", 4 * time.Hour: "4h",
		4*time.Hour + 30*time.Minute: "4h 30m", 51 * time.Hour: "2d 3h", 48 * time.Hour: "2d"} {
		if got := durationText(d); got != want {
			t.Errorf("DurationText(%s) = %q, want %q", d, got, want)
		}
	}
}
