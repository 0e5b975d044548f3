package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/bot/slacktest"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/internal/offers"
	"github.com/holdfast/holdfast/llm/llmtest"
)

// The people of the offers tests' workspace.
const (
	offerChannel         = "C0APPROVALS"
	offerCSM             = "U0CSM"
	offerFinance         = "U0FIN"
	offerCFO             = "U0CFO" // Finance's backup
	offerRev1, offerRev2 = "U0REV1", "U0REV2"
	offerExec            = "U0EXEC"
	offerStranger        = "U0STRANGER"
)

// offerYAML turns offer approvals on with the default routing.
const offerYAML = `
offers:
  approvals_channel: C0APPROVALS
  summary_timeout: 1s
  approvers:
    csm_manager: {users: [U0MGR]}
    finance: {users: [U0FIN], backup: U0CFO}
    revops: {group: S0REVOPS}
    executive: {users: [U0EXEC], backup: U0CEO}
    legal: {users: [U0LEGAL]}
`

// offersHarness is a deployment with the offers tests' helpers.
type offersHarness struct{ *deployment }

func newOffersDeployment(t testing.TB, opts ...deploymentOption) *offersHarness {
	t.Helper()
	d := newDeployment(t, append([]deploymentOption{appendYAML(offerYAML)}, opts...)...)
	d.fake.SetUserGroup("S0REVOPS", offerRev1, offerRev2)
	return &offersHarness{d}
}

// offerAckText is a slash command's ack as plain text.
func offerAckText(tb testing.TB, ack slacktest.Ack) string {
	tb.Helper()
	var r struct {
		Text   string       `json:"text"`
		Blocks slack.Blocks `json:"blocks"`
	}
	if err := json.Unmarshal(ack.Payload, &r); err != nil {
		tb.Fatalf("ack payload %s: %v", ack.Payload, err)
	}
	return blocks.PlainText(blocks.Message{Text: r.Text, Blocks: r.Blocks.BlockSet})
}

// offerBigAccount is an enterprise account above the executive ARR threshold.
func offerBigAccount(r *replica, now time.Time) {
	r.accounts(ingest.AccountIn{ExternalID: "acme", Name: "Acme Corp", Tier: "enterprise", ARR: 800_000,
		RenewalDate: now.AddDate(0, 2, 0).Format(time.DateOnly), OwnerCSM: offerCSM})
}

var offerSeq struct {
	sync.Mutex
	n int
}

func offerNextID(prefix string) string {
	offerSeq.Lock()
	defer offerSeq.Unlock()
	offerSeq.n++
	return fmt.Sprintf("%s%d", prefix, offerSeq.n)
}

// responseURL is a fresh response_url on the fake.
func (d *offersHarness) responseURL() string {
	return strings.TrimSuffix(d.fake.APIURL(), "api/") + "response/" + offerNextID("r")
}

// click sends a block_actions envelope as Slack would for a button.
func (d *offersHarness) click(user, actionID, value string) {
	d.t.Helper()
	cb := d.clickPayload(user, actionID, value)
	if _, err := d.fake.SendInteraction(ctxTimeout(d.t, 10*time.Second), cb); err != nil {
		d.t.Fatal(err)
	}
}

func (d *offersHarness) clickPayload(user, actionID, value string) *slack.InteractionCallback {
	return &slack.InteractionCallback{Type: slack.InteractionTypeBlockActions, User: slack.User{ID: user},
		TriggerID: offerNextID("trigger-"), ResponseURL: d.responseURL(),
		ActionCallback: slack.ActionCallbacks{BlockActions: []*slack.BlockAction{{ActionID: actionID, BlockID: "offer_block", Value: value}}}}
}

// submit sends a view_submission and returns what the bot acked with.
func (d *offersHarness) submit(user, callbackID, meta string, values map[string]string) map[string]any {
	d.t.Helper()
	state := &slack.ViewState{Values: map[string]map[string]slack.BlockAction{}}
	for block, v := range values {
		a := slack.BlockAction{Type: "plain_text_input", Value: v}
		if block == blocks.OfferBlockType {
			a = slack.BlockAction{Type: "static_select", SelectedOption: slack.OptionBlockObject{Value: v}}
		}
		state.Values[block] = map[string]slack.BlockAction{"input": a}
	}
	cb := &slack.InteractionCallback{Type: slack.InteractionTypeViewSubmission, User: slack.User{ID: user},
		View: slack.View{ID: offerNextID("V"), CallbackID: callbackID, PrivateMetadata: meta, State: state}}
	ack, err := d.fake.SendInteraction(ctxTimeout(d.t, 10*time.Second), cb)
	if err != nil {
		d.t.Fatal(err)
	}
	if len(ack.Payload) == 0 {
		return nil
	}
	var out map[string]any
	if err := json.Unmarshal(ack.Payload, &out); err != nil {
		d.t.Fatalf("view ack %s: %v", ack.Payload, err)
	}
	return out
}

// openedView waits for the nth views.open and returns the view.
func (d *offersHarness) openedView(n int) slack.ModalViewRequest {
	d.t.Helper()
	calls, err := d.fake.WaitCalls(ctxTimeout(d.t, 10*time.Second), "views.open", n)
	if err != nil {
		d.t.Fatal(err)
	}
	var v slack.ModalViewRequest
	if err := json.Unmarshal([]byte(calls[n-1].Params["view"]), &v); err != nil {
		d.t.Fatalf("views.open view: %v", err)
	}
	return v
}

// eventually polls cond until it holds (clicks are acked before they are handled).
func (d *offersHarness) eventually(what string, cond func() bool) {
	d.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	d.t.Fatalf("timed out waiting for %s", what)
}

// waitDecisions waits until n clicks or answers are on record, then for delivery.
func (d *offersHarness) waitDecisions(n int) {
	d.t.Helper()
	d.eventually(fmt.Sprintf("%d offer decisions", n), func() bool { return d.count(`SELECT count(*) FROM offer_decisions`) >= n })
	d.settle()
}

// dms are the messages the bot sent to a user's DM, posts and updates.
func (d *offersHarness) dms(user string) []slacktest.Message {
	var out []slacktest.Message
	for _, m := range d.fake.Messages("") {
		if m.Channel == user || m.Channel == "D"+user[1:] {
			out = append(out, m)
		}
	}
	return out
}

// offerCurrent is the latest version of every message, in the order first posted.
func offerCurrent(msgs []slacktest.Message) []slacktest.Message {
	var order []string
	latest := map[string]slacktest.Message{}
	for _, m := range msgs {
		if m.Method == "chat.postEphemeral" {
			continue
		}
		if _, seen := latest[m.TS]; !seen {
			order = append(order, m.TS)
		}
		latest[m.TS] = m
	}
	out := make([]slacktest.Message, len(order))
	for i, ts := range order {
		out[i] = latest[ts]
	}
	return out
}

// offerButton finds a button whose action id starts with prefix in the messages.
func offerButton(msgs []slacktest.Message, prefix string) (actionID, value string, ok bool) {
	for _, m := range msgs {
		for _, b := range m.Blocks {
			ab, isActions := b.(*slack.ActionBlock)
			if !isActions {
				continue
			}
			for _, el := range ab.Elements.ElementSet {
				if btn, isBtn := el.(*slack.ButtonBlockElement); isBtn && strings.HasPrefix(btn.ActionID, prefix) {
					return btn.ActionID, btn.Value, true
				}
			}
		}
	}
	return "", "", false
}

func offerMustButton(t testing.TB, msgs []slacktest.Message, prefix string) (string, string) {
	t.Helper()
	a, v, ok := offerButton(msgs, prefix)
	if !ok {
		var texts []string
		for _, m := range msgs {
			texts = append(texts, plain(m))
		}
		t.Fatalf("no %s button in:\n%s", prefix, strings.Join(texts, "\n---\n"))
	}
	return a, v
}

// offerFlat is a message as a reader sees it, without mrkdwn's bold markers.
func offerFlat(m slacktest.Message) string { return strings.ReplaceAll(plain(m), "*", "") }

func offerAllPlain(msgs []slacktest.Message) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString(offerFlat(m) + "\n---\n")
	}
	return b.String()
}

// channelNow is the latest version of every message in a channel.
func (d *offersHarness) channelNow(channel string) []slacktest.Message {
	return offerCurrent(d.fake.Messages(channel))
}

// offerWant checks got contains every want, reading past bold markers.
func offerWant(t testing.TB, what, got string, wants ...string) {
	t.Helper()
	got = strings.ReplaceAll(got, "*", "")
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s: missing %q in:\n%s", what, w, got)
		}
	}
}

// responses are the ephemeral answers to clicks, without bold markers.
func (d *offersHarness) responses() string {
	return strings.ReplaceAll(d.deployment.responses(), "*", "")
}

// proposeOffer runs /offer acme as the CSM and submits the form.
func (d *offersHarness) proposeOffer(n int, values map[string]string) (meta string, ack map[string]any) {
	d.t.Helper()
	a, err := d.fake.SendSlashCommand(ctxTimeout(d.t, 10*time.Second), slacktest.SlashCommand{Command: "/offer", Text: "acme", UserID: offerCSM})
	if err != nil {
		d.t.Fatal(err)
	}
	offerWant(d.t, "/offer reply", offerAckText(d.t, a), "Offer form for Acme Corp opened")
	form := d.openedView(n)
	if form.CallbackID != blocks.CallbackOfferForm {
		d.t.Fatalf("opened view %q", form.CallbackID)
	}
	return form.PrivateMetadata, d.submit(offerCSM, blocks.CallbackOfferForm, form.PrivateMetadata, values)
}

func offerDiscount(pct, months, why string) map[string]string {
	return map[string]string{blocks.OfferBlockType: "discount", blocks.OfferBlockValue: pct, blocks.OfferBlockDuration: months,
		blocks.OfferBlockJustification: why}
}

func offerStepIDs(t testing.TB, d *offersHarness, version int) map[string]int64 {
	t.Helper()
	rows, err := d.store.Pool().Query(context.Background(), `SELECT name, id FROM offer_steps WHERE version = $1`, version)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var name string
		var id int64
		if err := rows.Scan(&name, &id); err != nil {
			t.Fatal(err)
		}
		out[name] = id
	}
	return out
}

func offerID(n int64) string { return strconv.FormatInt(n, 10) }

// The scenario: a 30% discount on a high-ARR account routes to
// Finance and RevOps in parallel, then the executive; a stranger's click is
// refused; Finance asks for a revision; the CSM resubmits; both approve;
// the executive approves; the CSM is told and records the answer.
func TestOfferApprovalEndToEnd(t *testing.T) {
	t.Parallel()
	d := newOffersDeployment(t)
	r := d.start(unpaced())
	now := time.Now()
	offerBigAccount(r, now)
	nps := 3.0
	r.signals(
		ingest.SignalIn{Account: "acme", Kind: "nps", Source: "survey", Value: &nps, OccurredAt: now.Add(-48 * time.Hour),
			IdempotencyKey: "nps-1", Text: "support is slow", Metadata: json.RawMessage(`{}`)},
		ingest.SignalIn{Account: "acme", Kind: "ticket", Source: "zendesk", OccurredAt: now.Add(-24 * time.Hour),
			IdempotencyKey: "t-1", Text: "<!channel> export broken again", Metadata: json.RawMessage(`{}`)},
	)

	// Guidelines are checked before anything is stored, naming the rule.
	_, ack := d.proposeOffer(1, offerDiscount("45", "12", "they asked"))
	errs, _ := ack["errors"].(map[string]any)
	if ack["response_action"] != "errors" || !strings.Contains(fmt.Sprint(errs[blocks.OfferBlockValue]), "offers.guidelines.tiers.enterprise.max_discount_pct") {
		t.Fatalf("45%% discount ack = %v, want the enterprise maximum named", ack)
	}
	_, ack = d.proposeOffer(2, offerDiscount("30", "12", ""))
	errs, _ = ack["errors"].(map[string]any)
	if !strings.Contains(fmt.Sprint(errs[blocks.OfferBlockJustification]), "need a justification") {
		t.Fatalf("30%% without reason ack = %v", ack)
	}
	if n := d.count(`SELECT count(*) FROM offer_requests`); n != 0 {
		t.Fatalf("%d requests stored from refused forms", n)
	}

	// A valid 30% offer: Finance + RevOps now, Executive after.
	values := offerDiscount("30", "12", "Rival offered 35% off; champion wants to stay")
	values[blocks.OfferBlockCompetitor] = "<!here> Rival Inc"
	if _, ack = d.proposeOffer(3, values); ack != nil {
		t.Fatalf("valid offer ack = %v", ack)
	}
	d.settle()
	v1 := offerStepIDs(t, d, 1)
	if len(v1) != 3 || v1["Finance"] == 0 || v1["RevOps"] == 0 || v1["Executive"] == 0 {
		t.Fatalf("route = %v, want Finance, RevOps, Executive", v1)
	}
	thread := d.posts(offerChannel)
	if len(thread) != 2 || thread[1].ThreadTS != thread[0].TS {
		t.Fatalf("approvals channel has %d posts (want root + summary in its thread)", len(thread))
	}
	offerWant(t, "root card", offerFlat(thread[0]), "Offer #1 · Acme Corp", "30% discount for 12 months", "Waiting for Finance + RevOps",
		"Offer cost: $240k (30% of ARR)", "Revenue retained:", "@U0FIN", "@U0REV1", "@U0REV2", "Executive")
	offerWant(t, "summary", offerFlat(thread[1]), "Account summary", "NPS 3 (detractor)", "1 support ticket", "Previous offers",
		"Financial impact", "Summary from a template")
	for _, m := range thread {
		for _, bad := range []string{"<!here>", "<!channel>"} {
			if strings.Contains(m.Raw.Params["blocks"], bad) || strings.Contains(m.Text, bad) {
				t.Errorf("unescaped %s in %s", bad, m.Raw.Params["blocks"])
			}
		}
	}
	for _, u := range []string{offerFinance, offerRev1, offerRev2} {
		if _, _, ok := offerButton(d.dms(u), blocks.ActionOfferApprovePrefix); !ok {
			t.Errorf("%s has no approval DM with buttons", u)
		}
	}
	if len(d.dms(offerExec)) != 0 {
		t.Errorf("executive was asked before the first stage finished")
	}
	offerWant(t, "CSM confirmation", offerAllPlain(d.dms(offerCSM)), "Submitted", "Finance + RevOps → Executive")

	// A stranger clicks Approve on the channel card: refused, recorded, nothing moves.
	approveFin := blocks.ActionOfferApprovePrefix + offerID(v1["Finance"])
	d.click(offerStranger, approveFin, offerID(v1["Finance"]))
	d.waitDecisions(1)
	d.eventually("refusal", func() bool { return strings.Contains(d.responses(), "Only the approvers named for Finance") })
	if n := d.count(`SELECT count(*) FROM offer_decisions WHERE actor = $1 AND outcome = 'refused' AND refusal = 'not_approver'`, offerStranger); n != 1 {
		t.Errorf("stranger's refused click on record %d times", n)
	}
	if n := d.count(`SELECT count(*) FROM offer_steps WHERE status = 'pending'`); n != 2 {
		t.Errorf("%d pending steps after a refused click, want 2", n)
	}

	// RevOps approves v1; Finance asks for a revision with guidance.
	d.click(offerRev1, blocks.ActionOfferApprovePrefix+offerID(v1["RevOps"]), offerID(v1["RevOps"]))
	d.waitDecisions(2)
	d.click(offerFinance, blocks.ActionOfferRevisePrefix+offerID(v1["Finance"]), offerID(v1["Finance"]))
	guidanceForm := d.openedView(4)
	if guidanceForm.CallbackID != blocks.CallbackOfferGuidance {
		t.Fatalf("guidance modal = %q", guidanceForm.CallbackID)
	}
	if ack := d.submit(offerFinance, blocks.CallbackOfferGuidance, guidanceForm.PrivateMetadata,
		map[string]string{blocks.OfferBlockGuidance: "Cap it at 12 months and get a 2-year renewal"}); ack != nil {
		t.Fatalf("guidance ack %v", ack)
	}
	d.settle()
	if n := d.count(`SELECT count(*) FROM offer_requests WHERE status = 'revision_requested'`); n != 1 {
		t.Fatal("request not sent back for revision")
	}
	offerWant(t, "thread after revision request", offerAllPlain(d.posts(offerChannel)),
		"Finance asks for a revision", "Cap it at 12 months and get a 2-year renewal", "@U0CSM, please revise")
	csmDMs := offerCurrent(d.dms(offerCSM))
	offerWant(t, "CSM revision DM", offerAllPlain(csmDMs), "asks you to revise", "Cap it at 12 months")
	// Buttons of the closed version are gone from the approvers' DMs, edited in the DM channel.
	if _, _, ok := offerButton(offerCurrent(d.dms(offerRev2)), blocks.ActionOfferApprovePrefix); ok {
		t.Error("RevOps DM still offers buttons after the revision request")
	}
	for _, m := range d.dms(offerRev2) {
		if m.Method == "chat.update" && m.Channel != "D0REV2" {
			t.Errorf("DM updated in channel %q, want the DM channel D0REV2", m.Channel)
		}
	}

	// The CSM revises in the pre-filled form: same request, version 2.
	editAction, editValue := offerMustButton(t, csmDMs, blocks.ActionOfferEditPrefix)
	d.click(offerCSM, editAction, editValue)
	revForm := d.openedView(5)
	var meta offers.FormMeta
	if err := json.Unmarshal([]byte(revForm.PrivateMetadata), &meta); err != nil || meta.RequestID != 1 || meta.Version != 1 {
		t.Fatalf("revision form metadata %q: %v", revForm.PrivateMetadata, err)
	}
	if raw, _ := json.Marshal(revForm); !strings.Contains(string(raw), `"initial_value":"30"`) ||
		!strings.Contains(string(raw), "Cap it at 12 months") {
		t.Errorf("revision form is not pre-filled with v1 and the guidance: %s", raw)
	}
	if ack := d.submit(offerCSM, blocks.CallbackOfferForm, revForm.PrivateMetadata,
		offerDiscount("28", "12", "Rival offered 35%; customer agrees to a 2-year renewal")); ack != nil {
		t.Fatalf("resubmit ack %v", ack)
	}
	d.settle()
	if n := d.count(`SELECT count(*) FROM offer_requests`); n != 1 {
		t.Fatalf("%d requests after a revision, want the same one", n)
	}
	v2 := offerStepIDs(t, d, 2)
	if d.count(`SELECT count(*) FROM offer_steps WHERE version = 2 AND stage = 0 AND status = 'pending'`) != 2 {
		t.Fatal("v2's first stage does not start fresh: earlier approvals carried over")
	}
	offerWant(t, "thread after resubmission", offerAllPlain(d.posts(offerChannel)), "Version 2", "30% discount for 12 months → 28% discount for 12 months",
		"Account summary · version 2")

	// v1's buttons are refused politely.
	before := d.count(`SELECT count(*) FROM offer_decisions`)
	d.click(offerFinance, approveFin, offerID(v1["Finance"]))
	d.waitDecisions(before + 1)
	d.eventually("old-version refusal", func() bool { return strings.Contains(d.responses(), "has been revised (now version 2)") })

	// Both approve v2, then the executive is asked, then approves.
	d.click(offerFinance, blocks.ActionOfferApprovePrefix+offerID(v2["Finance"]), offerID(v2["Finance"]))
	d.click(offerRev2, blocks.ActionOfferApprovePrefix+offerID(v2["RevOps"]), offerID(v2["RevOps"]))
	d.waitDecisions(before + 3)
	if n := d.count(`SELECT count(*) FROM offer_steps WHERE version = 2 AND name = 'Executive' AND status = 'pending'`); n != 1 {
		t.Fatal("executive stage did not start after both approvals")
	}
	execAction, execValue := offerMustButton(t, offerCurrent(d.dms(offerExec)), blocks.ActionOfferApprovePrefix)
	offerWant(t, "executive DM", offerAllPlain(d.dms(offerExec)), "28% discount for 12 months", "stage 2 of 2")
	d.click(offerExec, execAction, execValue)
	d.waitDecisions(before + 4)
	if n := d.count(`SELECT count(*) FROM offer_requests WHERE status = 'approved' AND version = 2`); n != 1 {
		t.Fatal("request not approved")
	}

	// The CSM has the authorized terms and records the customer's answer.
	csmDMs = offerCurrent(d.dms(offerCSM))
	offerWant(t, "CSM terms", offerAllPlain(csmDMs), "is approved", "Authorized terms: 28% discount for 12 months")
	ansAction, ansValue := offerMustButton(t, csmDMs, blocks.ActionOfferAnswerPrefix+"accepted")
	d.click(offerCSM, ansAction, ansValue)
	d.waitDecisions(before + 5)
	if _, _, ok := offerButton(offerCurrent(d.dms(offerCSM)), blocks.ActionOfferAnswerPrefix); ok {
		t.Error("answer buttons still shown after the answer")
	}
	trail := offerAllPlain(d.posts(offerChannel))
	offerWant(t, "decision trail", trail, "Approved: 28% discount", "Decision trail", "v1 · RevOps approved", "v1 · Finance asked for a revision",
		"v2 · Finance approved", "v2 · RevOps approved", "v2 · Executive approved", "Customer accepted")
	root := d.channelNow(offerChannel)[0]
	offerWant(t, "root card at the end", offerFlat(root), "Approved · v2 · 🤝 customer accepted", "Executive approved by @U0EXEC")

	// Everything is on the account's timeline.
	var kinds []string
	rows, err := d.store.Pool().Query(context.Background(), `SELECT kind FROM timeline WHERE kind LIKE 'offer.%' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		_ = rows.Scan(&k)
		kinds = append(kinds, k)
	}
	rows.Close()
	want := []string{"offer.submitted", "offer.step_approved", "offer.revision_requested", "offer.revised",
		"offer.step_approved", "offer.step_approved", "offer.approved", "offer.accepted"}
	if !slices.Equal(kinds, want) {
		t.Errorf("timeline %v, want %v", kinds, want)
	}
	// /offers acme shows the request with its trail.
	a, err := d.fake.SendSlashCommand(ctxTimeout(t, 10*time.Second), slacktest.SlashCommand{Command: "/offers", Text: "acme", UserID: offerCSM})
	if err != nil {
		t.Fatal(err)
	}
	text, _ := ackReply(t, a)
	offerWant(t, "/offers acme", text, "Offers for Acme Corp", "#1", "28% discount", "Executive approved")
}

// Two replicas receive the same approver's two clicks at once: one decision.
func TestOfferDoubleClickTwoReplicasDecideOnce(t *testing.T) {
	t.Parallel()
	d := newOffersDeployment(t)
	r := d.start(unpaced())
	d.start(unpaced())
	offerBigAccount(r, time.Now())
	if _, ack := d.proposeOffer(1, offerDiscount("20", "6", "price pressure")); ack != nil {
		t.Fatalf("ack %v", ack)
	}
	d.settle()
	fin := offerStepIDs(t, d, 1)["Finance"]
	ctx := ctxTimeout(t, 15*time.Second)
	var envs []string
	for range 2 {
		env, err := d.fake.SendEnvelopeNoWait(ctx, "interactive", d.clickPayload(offerFinance, blocks.ActionOfferApprovePrefix+offerID(fin), offerID(fin)))
		if err != nil {
			t.Fatal(err)
		}
		envs = append(envs, env)
	}
	for _, e := range envs {
		if _, err := d.fake.WaitAck(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	d.waitDecisions(2)
	if n := d.count(`SELECT count(*) FROM offer_decisions WHERE step_id = $1 AND outcome = 'recorded'`, fin); n != 1 {
		t.Fatalf("%d decisions recorded for one step, want 1", n)
	}
	if n := d.count(`SELECT count(*) FROM offer_decisions WHERE step_id = $1 AND refusal = 'already_decided'`, fin); n != 1 {
		t.Fatalf("%d already-decided refusals, want 1", n)
	}
	d.eventually("polite refusal", func() bool { return strings.Contains(d.responses(), "This step was already decided") })
	// One "Finance approved" note in the thread, not two.
	if n := strings.Count(offerAllPlain(d.posts(offerChannel)), "Finance approved"); n != 1 {
		t.Errorf("%d approval notes in the thread", n)
	}
}

// An approval step waiting past its SLA nudges its approvers (test clock,
// no sleeping), once; past the escalation time its backup is brought in
// and can decide.
func TestOfferSLANudgeAndEscalation(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	clock := newClock(t0)
	d := newOffersDeployment(t)
	r := d.start(unpaced(), withClock(clock.Now))
	offerBigAccount(r, t0)
	if _, ack := d.proposeOffer(1, offerDiscount("20", "6", "price pressure")); ack != nil {
		t.Fatalf("ack %v", ack)
	}
	d.settle()
	ctx := ctxTimeout(t, 30*time.Second)
	reminders := func(user string) int {
		return strings.Count(offerAllPlain(d.dms(user)), "Reminder:")
	}
	run := func(at time.Time) {
		t.Helper()
		clock.Set(at)
		if err := r.app.scheduler.RunNow(ctx, "offers-sla", at); err != nil {
			t.Fatal(err)
		}
		d.settle()
	}
	run(t0.Add(24*time.Hour - time.Minute)) // default SLA 24h
	if reminders(offerFinance) != 0 {
		t.Fatal("nudged before the SLA")
	}
	run(t0.Add(24*time.Hour + time.Minute))
	if reminders(offerFinance) != 1 || reminders(offerRev1) != 1 || reminders(offerRev2) != 1 {
		t.Fatalf("reminders finance=%d revops=%d/%d, want 1 each", reminders(offerFinance), reminders(offerRev1), reminders(offerRev2))
	}
	offerWant(t, "thread", offerAllPlain(d.posts(offerChannel)), "Finance has waited 1d", "reminded @U0FIN")
	run(t0.Add(30 * time.Hour))
	if reminders(offerFinance) != 1 {
		t.Fatal("nudged twice")
	}
	if len(d.dms(offerCFO)) != 0 {
		t.Fatal("backup involved before escalation time")
	}
	run(t0.Add(48*time.Hour + time.Minute)) // escalate_after defaults to 2 × SLA
	offerWant(t, "thread", offerAllPlain(d.posts(offerChannel)), "escalated to @U0CFO")
	action, value := offerMustButton(t, offerCurrent(d.dms(offerCFO)), blocks.ActionOfferApprovePrefix)
	offerWant(t, "backup DM", offerAllPlain(d.dms(offerCFO)), "Escalated to you as backup for Finance")
	d.click(offerCFO, action, value)
	d.waitDecisions(1)
	if n := d.count(`SELECT count(*) FROM offer_steps WHERE name = 'Finance' AND status = 'approved' AND decided_by = $1`, offerCFO); n != 1 {
		t.Fatal("backup's approval not recorded")
	}
	// RevOps has no backup: it was nudged but never escalated.
	if n := d.count(`SELECT count(*) FROM offer_steps WHERE name = 'RevOps' AND escalated_at IS NULL AND nudged_at IS NOT NULL`); n != 1 {
		t.Fatal("RevOps escalated without a backup")
	}
	// Time to decision is measured per step: /offers stats shows it.
	a, err := d.fake.SendSlashCommand(ctx, slacktest.SlashCommand{Command: "/offers", Text: "stats", UserID: offerCSM})
	if err != nil {
		t.Fatal(err)
	}
	text, _ := ackReply(t, a)
	offerWant(t, "/offers stats", text, "Requests: 1", "Discount · 10–25%", "Finance: median 2d")
}

// The churn-risk alert's "Propose offer" opens the form for its account.
func TestOfferFromAlert(t *testing.T) {
	t.Parallel()
	d := newOffersDeployment(t)
	r := d.start(unpaced())
	now := time.Now()
	offerBigAccount(r, now)
	r.signals(ingest.SignalIn{Account: "acme", Kind: "cancellation_intent", Source: "email", OccurredAt: now.Add(-time.Hour),
		IdempotencyKey: "cancel-1", Text: "We will not renew", Metadata: json.RawMessage(`{}`)})
	d.settle()
	alerts := d.posts(alertChannel)
	if len(alerts) == 0 {
		t.Fatal("no alert posted")
	}
	action, value := offerMustButton(t, alerts, blocks.ActionProposeOffer)
	d.click(offerCSM, action, value)
	form := d.openedView(1)
	var meta offers.FormMeta
	if err := json.Unmarshal([]byte(form.PrivateMetadata), &meta); err != nil || strconv.FormatInt(meta.AccountID, 10) != value {
		t.Fatalf("form for account %q, metadata %q", value, form.PrivateMetadata)
	}
	// A second form opened before the first is submitted cannot start a
	// second request.
	d.click(offerCSM, action, value)
	second := d.openedView(2)
	if ack := d.submit(offerCSM, blocks.CallbackOfferForm, form.PrivateMetadata, offerDiscount("10", "3", "")); ack != nil {
		t.Fatalf("ack %v", ack)
	}
	ack := d.submit(offerCSM, blocks.CallbackOfferForm, second.PrivateMetadata, offerDiscount("12", "3", ""))
	errs, _ := ack["errors"].(map[string]any)
	if !strings.Contains(fmt.Sprint(errs[blocks.OfferBlockType]), "Offer #1 for this account is already open (pending)") {
		t.Fatalf("second form's ack = %v, want the open offer named", ack)
	}
	if n := d.count(`SELECT count(*) FROM offer_requests`); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
	// A second proposal while one is open is pointed at the open one.
	d.click(offerCSM, action, value)
	d.eventually("open-offer notice", func() bool { return strings.Contains(d.responses(), "Offer #1 for Acme Corp is still open") })
	// /offers pending lists it, and what waits for the manager.
	a, err := d.fake.SendSlashCommand(ctxTimeout(t, 10*time.Second), slacktest.SlashCommand{Command: "/offers", UserID: "U0MGR"})
	if err != nil {
		t.Fatal(err)
	}
	text, _ := ackReply(t, a)
	offerWant(t, "/offers", text, "Offers waiting for your approval", "As CSM manager", "Open offers (1)", "10% discount for 3 months")

	// The App Home section: the manager's pending step with its buttons; nothing for the CSM.
	title, home, ok, err := r.app.feature("offers").(*offers.Module).PendingForHome(ctxTimeout(t, 5*time.Second), "U0MGR", time.Now())
	if err != nil || !ok || title != offers.PendingApprovalsTitle {
		t.Fatalf("home section: %q %v %v", title, ok, err)
	}
	if _, _, found := offerButton([]slacktest.Message{{Blocks: home}}, blocks.ActionOfferApprovePrefix); !found {
		t.Error("home section has no Approve button")
	}
	if _, _, ok, err := r.app.feature("offers").(*offers.Module).PendingForHome(ctxTimeout(t, 5*time.Second), offerCSM, time.Now()); ok || err != nil {
		t.Errorf("the requester has a pending approval: %v %v", ok, err)
	}
	// Opening the App Home shows it there.
	if _, err := d.fake.SendEvent(ctxTimeout(t, 10*time.Second), map[string]any{"type": "app_home_opened", "user": "U0MGR", "channel": "D0MGR", "tab": "home"}); err != nil {
		t.Fatal(err)
	}
	calls, err := d.fake.WaitCalls(ctxTimeout(t, 10*time.Second), "views.publish", 1)
	if err != nil {
		t.Fatal(err)
	}
	var view slack.HomeTabViewRequest
	_ = json.Unmarshal([]byte(calls[0].Params["view"]), &view)
	if text := blocks.PlainTextBlocks(view.Blocks.BlockSet); !strings.Contains(text, offers.PendingApprovalsTitle) ||
		!strings.Contains(text, "Acme Corp") {
		t.Errorf("App Home:\n%s", text)
	}
}

// The language model writes the approvers' summary when it answers in
// time; the template is posted first and stays when the model is slow.
func TestOfferSummaryByModel(t *testing.T) {
	t.Parallel()
	slow := false
	var mu sync.Mutex
	fake := llmtest.New(t, func(req llmtest.Request) llmtest.Answer {
		mu.Lock()
		defer mu.Unlock()
		if slow {
			return llmtest.Answer{Content: `{"summary":"too late"}`, Delay: 3 * time.Second}
		}
		return llmtest.Answer{Content: `{"summary":"Acme is slipping: usage fell and the champion is unhappy. <!channel>"}`}
	})
	d := newOffersDeployment(t, func(d *deployment) {
		d.env["OPENAI_BASE_URL"] = fake.URL
		d.env["OPENAI_API_KEY"] = "test-key"
	})
	r := d.start(unpaced())
	offerBigAccount(r, time.Now())
	if _, ack := d.proposeOffer(1, offerDiscount("10", "3", "")); ack != nil {
		t.Fatalf("ack %v", ack)
	}
	d.eventually("model summary", func() bool {
		return d.count(`SELECT count(*) FROM offer_versions WHERE summary_source = 'llm'`) == 1
	})
	d.settle()
	summary := d.channelNow(offerChannel)[1]
	offerWant(t, "summary", offerFlat(summary), "Acme is slipping", "written by a language model")
	if strings.Contains(summary.Raw.Params["blocks"], "<!channel>") {
		t.Error("model output not escaped")
	}
	// The open approval DMs show the model's summary too.
	offerWant(t, "manager DM", offerAllPlain(offerCurrent(d.dms("U0MGR"))), "Account summary", "Acme is slipping")
	if reqs := fake.Requests(); len(reqs) != 1 || !reqs[0].JSONMode || !strings.Contains(reqs[0].User, `"account_name":"Acme Corp"`) {
		t.Errorf("model requests %+v", reqs)
	}

	// A slow model: the template stays (summary_timeout is 1s).
	mu.Lock()
	slow = true
	mu.Unlock()
	r.accounts(ingest.AccountIn{ExternalID: "globex", Name: "Globex", Tier: "growth", ARR: 90_000, OwnerCSM: offerCSM})
	a, err := d.fake.SendSlashCommand(ctxTimeout(t, 10*time.Second), slacktest.SlashCommand{Command: "/offer", Text: "globex", UserID: offerCSM})
	if err != nil {
		t.Fatal(err)
	}
	ackReply(t, a)
	form := d.openedView(2)
	start := time.Now()
	if ack := d.submit(offerCSM, blocks.CallbackOfferForm, form.PrivateMetadata, offerDiscount("5", "3", "")); ack != nil {
		t.Fatalf("ack %v", ack)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("submission waited %s for the model", took)
	}
	d.settle()
	time.Sleep(1500 * time.Millisecond) // past summary_timeout
	d.settle()
	if n := d.count(`SELECT count(*) FROM offer_versions v JOIN offer_requests r ON r.id = v.request_id
		JOIN accounts a ON a.id = r.account_id WHERE a.external_id = 'globex' AND v.summary_source = 'template'`); n != 1 {
		t.Fatal("slow model replaced the template")
	}
}

// Offers are off until configured, and say how to turn them on.
func TestOfferNotConfigured(t *testing.T) {
	t.Parallel()
	d := newDeployment(t)
	r := d.start(unpaced())
	offerBigAccount(r, time.Now())
	a, err := d.fake.SendSlashCommand(ctxTimeout(t, 10*time.Second), slacktest.SlashCommand{Command: "/offer", Text: "acme", UserID: offerCSM})
	if err != nil {
		t.Fatal(err)
	}
	text, _ := ackReply(t, a)
	offerWant(t, "/offer", text, "offers.approvals_channel")
	if n := len(d.fake.Calls("views.open")); n != 0 {
		t.Errorf("form opened %d times", n)
	}
}

// Reject closes a request; a new offer is approved, the customer counters,
// the CSM revises from the counter, it is approved and accepted, and the
// accepted offer is tracked to the renewal.
func TestOfferRejectCounterAndRenewal(t *testing.T) {
	t.Parallel()
	d := newOffersDeployment(t)
	r := d.start(unpaced())
	now := time.Now()
	r.accounts(ingest.AccountIn{ExternalID: "globex", Name: "Globex", Tier: "growth", ARR: 90_000,
		RenewalDate: now.AddDate(0, 0, 10).Format(time.DateOnly), OwnerCSM: offerCSM})
	propose := func(n int, values map[string]string) {
		t.Helper()
		a, err := d.fake.SendSlashCommand(ctxTimeout(t, 10*time.Second), slacktest.SlashCommand{Command: "/offer", Text: "globex", UserID: offerCSM})
		if err != nil {
			t.Fatal(err)
		}
		ackReply(t, a)
		form := d.openedView(n)
		if ack := d.submit(offerCSM, blocks.CallbackOfferForm, form.PrivateMetadata, values); ack != nil {
			t.Fatalf("ack %v", ack)
		}
		d.settle()
	}

	// 20% goes to Finance + RevOps; RevOps rejects with a reason.
	propose(1, offerDiscount("20", "6", "competitive pressure"))
	steps := offerStepIDs(t, d, 1)
	d.click(offerRev1, blocks.ActionOfferRejectPrefix+offerID(steps["RevOps"]), offerID(steps["RevOps"]))
	form := d.openedView(2)
	if ack := d.submit(offerRev1, blocks.CallbackOfferGuidance, form.PrivateMetadata,
		map[string]string{blocks.OfferBlockGuidance: "Too deep for a growth account"}); ack != nil {
		t.Fatalf("reject ack %v", ack)
	}
	d.settle()
	if n := d.count(`SELECT count(*) FROM offer_requests WHERE status = 'rejected' AND decided_at IS NOT NULL`); n != 1 {
		t.Fatal("not rejected")
	}
	offerWant(t, "CSM", offerAllPlain(d.dms(offerCSM)), "was rejected by RevOps", "Too deep for a growth account")
	if _, _, ok := offerButton(offerCurrent(d.dms(offerFinance)), blocks.ActionOfferApprovePrefix); ok {
		t.Error("Finance can still click on a rejected offer")
	}
	d.click(offerFinance, blocks.ActionOfferApprovePrefix+offerID(steps["Finance"]), offerID(steps["Finance"]))
	d.waitDecisions(2)
	d.eventually("closed refusal", func() bool { return strings.Contains(d.responses(), "not waiting for a decision any more") })

	// A smaller offer goes to the CSM manager alone; approved; the customer counters.
	propose(3, offerDiscount("10", "3", ""))
	mgr := d.count(`SELECT id FROM offer_steps WHERE request_id = 2 AND name = 'CSM manager'`)
	d.click("U0MGR", blocks.ActionOfferApprovePrefix+strconv.Itoa(mgr), strconv.Itoa(mgr))
	d.waitDecisions(3)
	counter, value := offerMustButton(t, offerCurrent(d.dms(offerCSM)), blocks.ActionOfferAnswerPrefix+"countered")
	notOwner := func() int { return strings.Count(d.responses(), "Only the CSM who proposed the offer") }
	d.click(offerStranger, counter, value)
	d.eventually("stranger's counter refused", func() bool { return notOwner() == 1 })
	if n := len(d.fake.Calls("views.open")); n != 3 {
		t.Fatalf("%d modals opened, want 3: a stranger got the counter form", n)
	}
	d.click(offerCSM, counter, value)
	form = d.openedView(4)
	if form.CallbackID != blocks.CallbackOfferCounter {
		t.Fatalf("counter modal %q", form.CallbackID)
	}
	if ack := d.submit(offerCSM, blocks.CallbackOfferCounter, form.PrivateMetadata, map[string]string{blocks.OfferBlockCounter: "They want 15% for 3 months"}); ack != nil {
		t.Fatalf("counter ack %v", ack)
	}
	d.settle()
	offerWant(t, "thread", offerAllPlain(d.posts(offerChannel)), "Customer countered (recorded by @U0CSM): They want 15% for 3 months")

	// Only the requester or owner may revise; the CSM revises from the counter.
	edit, req := offerMustButton(t, offerCurrent(d.dms(offerCSM)), blocks.ActionOfferEditPrefix)
	d.click(offerStranger, edit, req)
	d.eventually("owner refusal", func() bool { return notOwner() == 2 })
	d.click(offerCSM, edit, req)
	form = d.openedView(5)
	if raw, _ := json.Marshal(form); !strings.Contains(string(raw), "They want 15%") {
		t.Errorf("revision form does not show the counter: %s", raw)
	}
	if ack := d.submit(offerCSM, blocks.CallbackOfferForm, form.PrivateMetadata, offerDiscount("15", "3", "")); ack != nil {
		t.Fatalf("revise ack %v", ack)
	}
	d.settle()
	v2 := d.count(`SELECT count(*) FROM offer_requests WHERE id = 2 AND version = 2 AND status = 'pending' AND customer_answer IS NULL`)
	if v2 != 1 {
		t.Fatal("countered offer not revised into a pending version 2")
	}
	for name, user := range map[string]string{"Finance": offerFinance, "RevOps": offerRev2} {
		step := d.count(`SELECT id FROM offer_steps WHERE request_id = 2 AND version = 2 AND name = $1`, name)
		d.click(user, blocks.ActionOfferApprovePrefix+strconv.Itoa(step), strconv.Itoa(step))
	}
	d.waitDecisions(6) // reject, refused click, manager, counter, finance, revops
	accept, value := offerMustButton(t, offerCurrent(d.dms(offerCSM)), blocks.ActionOfferAnswerPrefix+"accepted")
	d.click(offerCSM, accept, value)
	d.waitDecisions(7)
	if n := d.count(`SELECT count(*) FROM offer_requests WHERE id = 2 AND customer_answer = 'accepted' AND renewal_date IS NOT NULL`); n != 1 {
		t.Fatal("acceptance not recorded against the renewal")
	}

	// Tracked to the renewal: nothing before it, renewed after it.
	ctx := ctxTimeout(t, 10*time.Second)
	if err := r.app.scheduler.RunNow(ctx, "offers-outcomes", now.AddDate(0, 0, 5)); err != nil {
		t.Fatal(err)
	}
	if err := r.app.scheduler.RunNow(ctx, "offers-outcomes", now.AddDate(0, 0, 12)); err != nil {
		t.Fatal(err)
	}
	d.settle()
	if n := d.count(`SELECT count(*) FROM offer_requests WHERE renewal_outcome = 'renewed'`); n != 1 {
		t.Fatal("renewal outcome not recorded")
	}
	offerWant(t, "thread", offerAllPlain(d.posts(offerChannel)), "Renewal outcome: renewed")
	a, err := d.fake.SendSlashCommand(ctx, slacktest.SlashCommand{Command: "/offers", Text: "stats", UserID: offerCSM})
	if err != nil {
		t.Fatal(err)
	}
	text, _ := ackReply(t, a)
	offerWant(t, "stats", text, "Requests: 2", "Approved / rejected: 1 / 1", "Acceptance rate: 100% (1)", "Save rate: 100% (1)",
		"Discount · 10–25% — 2 requests")
}

// A request whose only possible approver is its requester is refused at
// submission: nobody could ever approve it.
func TestOfferNeedsAnotherApprover(t *testing.T) {
	t.Parallel()
	d := newOffersDeployment(t)
	r := d.start(unpaced())
	r.accounts(ingest.AccountIn{ExternalID: "initech", Name: "Initech", Tier: "growth", ARR: 50_000, OwnerCSM: "U0MGR"})
	a, err := d.fake.SendSlashCommand(ctxTimeout(t, 10*time.Second), slacktest.SlashCommand{Command: "/offer", Text: "initech", UserID: "U0MGR"})
	if err != nil {
		t.Fatal(err)
	}
	offerAckText(t, a)
	form := d.openedView(1)
	ack := d.submit("U0MGR", blocks.CallbackOfferForm, form.PrivateMetadata, offerDiscount("5", "3", ""))
	errs, _ := ack["errors"].(map[string]any)
	if !strings.Contains(fmt.Sprint(errs[blocks.OfferBlockType]), "nobody but you to approve it") {
		t.Fatalf("ack %v", ack)
	}
	if n := d.count(`SELECT count(*) FROM offer_requests`); n != 0 {
		t.Fatalf("%d requests stored", n)
	}
}
