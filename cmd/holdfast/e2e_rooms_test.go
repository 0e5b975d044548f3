package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/api"
	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/bot/slacktest"
	"github.com/holdfast/holdfast/internal/crm"
	"github.com/holdfast/holdfast/internal/crm/salesforce/sftest"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/internal/rooms"
	"github.com/holdfast/holdfast/llm/llmtest"
)

const (
	roomAE      = "U0AE"
	roomCSM     = "U0CSM"
	roomManager = "U0MGR"
	crmAccount  = "001000000000ACMEAA"
	webhookKey  = "whsec-test-0123456789abcdef"
)

// noMeta works around a nil json.RawMessage encoding as null, which the
// signal validator rejects ("metadata must be a JSON object").
var noMeta = json.RawMessage(`{}`)

// wonDeal is a closed-won deal with three handoff fields missing
// (champion's time in role, close reason, product concerns).
func wonDeal(id, account, name string) rooms.DealIn {
	arr, term := 120000.0, 12
	promises := []rooms.PromiseIn{{Kind: "feature", Text: "SSO with Okta <!channel>", Due: "2027-03-01"}}
	competitors := []string{"Gainsight"}
	return rooms.DealIn{ID: id, Account: account, AccountName: name, CRMAccountID: crmAccount, Name: name + " – New Business",
		Stage: "Closed Won", AE: roomAE, OwnerCSM: roomCSM, DecisionMaker: "Dana Lee, VP Operations",
		Champion: &rooms.ChampionIn{Name: "Sam Ortiz", Title: "Ops Manager"}, Promises: &promises, Competitors: &competitors,
		ARR: &arr, TermMonths: &term, RenewalDate: "2027-11-20", Segment: "mid-market"}
}

type dealsAnswer struct {
	Deals   []rooms.DealResult `json:"deals"`
	Error   string             `json:"error"`
	Message string             `json:"message"`
	Rows    []api.RowError     `json:"rows"`
}

func (r *replica) deals(ds ...rooms.DealIn) dealsAnswer {
	r.d.t.Helper()
	var out dealsAnswer
	r.mustPost("/v1/deals", map[string]any{"deals": ds}, &out)
	return out
}

// webhook posts a signed CRM webhook; ts 0 means now.
func (r *replica) webhook(body any, secret string, ts int64) (int, dealsAnswer) {
	r.d.t.Helper()
	raw, _ := json.Marshal(body)
	if ts == 0 {
		ts = time.Now().Unix()
	}
	req, _ := http.NewRequest(http.MethodPost, r.base+"/webhooks/crm", bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(rooms.HeaderTimestamp, strconv.FormatInt(ts, 10))
	if secret != "" {
		req.Header.Set(rooms.HeaderSignature, rooms.SignWebhook(secret, ts, raw))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.d.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out dealsAnswer
	data, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(data, &out)
	return resp.StatusCode, out
}

func (d *deployment) roomOf(externalID string) rooms.Room {
	d.t.Helper()
	var id int64
	if err := d.store.Pool().QueryRow(context.Background(), `SELECT id FROM accounts WHERE external_id = $1`, externalID).Scan(&id); err != nil {
		d.t.Fatal(err)
	}
	var room rooms.Room
	waitFor(d.t, "the room of "+externalID, func() bool {
		r, err := rooms.RoomOf(context.Background(), d.store.DB(), id)
		room = r
		return err == nil
	})
	return room
}

func (d *deployment) handoffStep(dealExternalID string) string {
	var step string
	_ = d.store.Pool().QueryRow(context.Background(), `SELECT h.step FROM handoffs h JOIN deals d ON d.id = h.deal_id
		WHERE d.external_id = $1`, dealExternalID).Scan(&step)
	return step
}

func (d *deployment) waitHandoffDone(dealExternalID string) {
	d.t.Helper()
	waitFor(d.t, "handoff "+dealExternalID+" done", func() bool { return d.handoffStep(dealExternalID) == rooms.StepDone })
	d.settle()
}

func fakeBase(f *slacktest.Server) string { return strings.TrimSuffix(f.APIURL(), "/api/") }

func textOf(m slacktest.Message) string { return plain(m) }

// sentText is a message's mrkdwn as Slack reads it: the blocks' texts and
// the top-level text. (The raw blocks JSON encodes < as \u003c, so a
// search of it for "<!channel>" could never find one.)
func sentText(t *testing.T, m slacktest.Message) string {
	t.Helper()
	return strings.Join(mrkdwnTexts(t, []byte(m.Raw.Params["blocks"])), "\n") + "\n" + m.Text
}

// TestRoomHandoffFromClosedWonDeal: a closed-won deal creates one room
// (replays through the API, the webhook and concurrent deliveries to two
// replicas included), invites the CSM and the AE, pins the handoff card, DMs the AE
// the won deal review, and the account's alerts go to the room from then on.
func TestRoomHandoffFromClosedWonDeal(t *testing.T) {
	t.Parallel()
	d := newDeployment(t, func(d *deployment) { d.env["HOLDFAST_CRM_WEBHOOK_SECRET"] = webhookKey })
	r := d.start(unpaced())
	r2 := d.start(unpaced()) // a second replica races for the same work

	deal := wonDeal("006ACME", "acme", "Acme Corp")
	got := r.deals(deal)
	if res := got.Deals[0]; res.Status != "created" || res.Handoff != "started" {
		t.Fatalf("first delivery: %+v", res)
	}
	// Replays: the API again, the signed webhook, five at once.
	if res := r.deals(deal).Deals[0]; res.Status != "unchanged" || res.Handoff != "exists" {
		t.Fatalf("replay: %+v", res)
	}
	if code, res := r2.webhook(map[string]any{"deals": []rooms.DealIn{deal}}, webhookKey, 0); code != http.StatusOK ||
		res.Deals[0].Handoff != "exists" {
		t.Fatalf("webhook replay: %d %+v", code, res)
	}
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() { []*replica{r, r2}[i%2].deals(deal) })
	}
	wg.Wait()

	room := d.roomOf("acme")
	d.waitHandoffDone("006ACME")
	if room.ChannelName != "acct-acme-corp" || room.Origin != "created" {
		t.Fatalf("room %+v", room)
	}
	if n := len(d.fake.Calls("conversations.create")); n != 1 {
		t.Fatalf("conversations.create called %d times", n)
	}
	if n := d.count(`SELECT count(*) FROM handoffs`); n != 1 {
		t.Fatalf("%d handoffs", n)
	}
	ch, ok := d.fake.ChannelInfo(room.ChannelID)
	if !ok {
		t.Fatalf("channel %s unknown to Slack", room.ChannelID)
	}
	for _, u := range []string{roomCSM, roomAE} {
		if !slices.Contains(ch.Members, u) {
			t.Errorf("%s not invited: members %v", u, ch.Members)
		}
	}
	cards := d.posts(room.ChannelID)
	if len(cards) != 1 {
		t.Fatalf("%d posts in the room, want the card only", len(cards))
	}
	card := textOf(cards[0])
	for _, want := range []string{"Handoff: Acme Corp", "Dana Lee, VP Operations", "Sam Ortiz, Ops Manager", "$120k",
		"12 months", "mid-market", "Gainsight", "SSO with Okta", "Still missing:* Champion's time in role, Why they bought, Product concerns"} {
		if !strings.Contains(card, want) {
			t.Errorf("card lacks %q:\n%s", want, card)
		}
	}
	if sent := sentText(t, cards[0]); strings.Contains(sent, "<!channel>") || !strings.Contains(sent, "SSO with Okta &lt;!channel&gt;") {
		t.Errorf("customer text not escaped in the card:\n%s", sent)
	}
	if len(ch.Pins) != 1 || ch.Pins[0] != cards[0].TS {
		t.Fatalf("pins %v, card ts %s", ch.Pins, cards[0].TS)
	}
	dm := d.posts("D" + roomAE)
	if len(dm) != 1 || !strings.Contains(textOf(dm[0]), "Won deal review") {
		t.Fatalf("AE DMs: %d", len(dm))
	}
	var steps []string
	rows, _ := d.store.Pool().Query(context.Background(), `SELECT step || ':' || outcome FROM handoff_steps ORDER BY id`)
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		steps = append(steps, s)
	}
	if want := "channel:ok invite:ok card:ok pin:ok"; strings.Join(steps, " ") != want {
		t.Errorf("steps %v, want %s", steps, want)
	}

	// From now on the account's alerts are threaded in its room.
	var sigErr map[string]any
	if code := r.post("/v1/signals", map[string]any{"signals": []ingest.SignalIn{{Account: "acme", Kind: "cancellation_intent",
		Source: "zendesk", IdempotencyKey: "t-1", OccurredAt: time.Now().Add(-time.Minute), Text: "We will not renew.", Metadata: noMeta}}}, &sigErr); code != 200 {
		t.Fatalf("signal: %d %v", code, sigErr)
	}
	d.settle()
	posts := d.posts(room.ChannelID)
	if len(posts) != 2 || !strings.Contains(textOf(posts[1]), "Acme Corp") || len(d.posts(alertChannel)) != 0 {
		t.Fatalf("alert not in the room: room has %d posts, alert channel %d", len(posts), len(d.posts(alertChannel)))
	}

	t.Run("won deal review updates the card", func(t *testing.T) { testWonDealReview(t, d, room, cards[0]) })

	// An expansion, delivered six times at once to two replicas while
	// new: one more handoff, in the same room, with its own pinned card.
	expansion := wonDeal("006ACME-X", "acme", "Acme Corp")
	expansion.Name = "Acme – Expansion"
	for i := range 6 {
		wg.Go(func() { []*replica{r, r2}[i%2].deals(expansion) })
	}
	wg.Wait()
	d.waitHandoffDone("006ACME-X")
	if n := d.count(`SELECT count(*) FROM handoffs`); n != 2 {
		t.Fatalf("%d handoffs after the expansion, want 2", n)
	}
	if n := len(d.fake.Calls("conversations.create")); n != 1 {
		t.Fatalf("the expansion created a channel (%d creates)", n)
	}
	ch, _ = d.fake.ChannelInfo(room.ChannelID)
	if len(ch.Pins) != 2 {
		t.Fatalf("%d pins in the room, want both cards", len(ch.Pins))
	}
}

func testWonDealReview(t *testing.T, d *deployment, room rooms.Room, card slacktest.Message) {
	ctx := ctxTimeout(t, 30*time.Second)
	var dealID int64
	if err := d.store.Pool().QueryRow(ctx, `SELECT id FROM deals WHERE external_id = '006ACME'`).Scan(&dealID); err != nil {
		t.Fatal(err)
	}
	click := func(user string) {
		t.Helper()
		_, err := d.fake.SendInteraction(ctx, map[string]any{
			"type": "block_actions", "user": map[string]string{"id": user}, "trigger_id": "trig-" + user,
			"response_url": fakeBase(d.fake) + "/response/" + user, "channel": map[string]string{"id": "D" + user},
			"container": map[string]any{"type": "message", "channel_id": "D" + user},
			"actions": []map[string]string{{"action_id": blocks.ActionReviewOpen, "block_id": "review_actions",
				"type": "button", "value": strconv.FormatInt(dealID, 10)}},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Someone else clicking the AE's button is refused.
	click("U0SOMEONE")
	waitFor(t, "the refusal", func() bool {
		for _, p := range d.fake.ResponseURLPosts() {
			if strings.Contains(p.Params["text"], "Only the deal's AE") {
				return true
			}
		}
		return false
	})
	if n := len(d.fake.Calls("views.open")); n != 0 {
		t.Fatalf("views.open for a stranger: %d", n)
	}
	click(roomAE)
	opened, err := d.fake.WaitCalls(ctx, "views.open", 1)
	if err != nil {
		t.Fatal(err)
	}
	var view slack.ModalViewRequest
	if err := json.Unmarshal([]byte(opened[0].Params["view"]), &view); err != nil {
		t.Fatal(err)
	}
	prefilled := map[string]string{}
	for _, b := range view.Blocks.BlockSet {
		if in, ok := b.(*slack.InputBlock); ok {
			switch el := in.Element.(type) {
			case *slack.PlainTextInputBlockElement:
				prefilled[in.BlockID] = el.InitialValue
			case *slack.NumberInputBlockElement:
				prefilled[in.BlockID] = el.InitialValue
			}
		}
	}
	if prefilled["rv_dm"] != "Dana Lee, VP Operations" || prefilled["rv_p0_text"] != "SSO with Okta <!channel>" ||
		prefilled["rv_arr"] != "120000" || prefilled["rv_close_reason"] != "" {
		t.Fatalf("review not pre-filled from the deal: %v", prefilled)
	}

	values := map[string]map[string]any{}
	text := func(id, v string) {
		values[id] = map[string]any{id + "_in": map[string]any{"type": "plain_text_input", "value": v}}
	}
	date := func(id, v string) {
		values[id] = map[string]any{id + "_in": map[string]any{"type": "datepicker", "selected_date": v}}
	}
	number := func(id, v string) {
		values[id] = map[string]any{id + "_in": map[string]any{"type": "number_input", "value": v}}
	}
	kind := func(id, v string) {
		values[id] = map[string]any{id + "_in": map[string]any{"type": "static_select", "selected_option": map[string]any{"value": v}}}
	}
	text("rv_dm", "Dana Lee, VP Operations")
	text("rv_champion", "Sam Ortiz")
	text("rv_champion_title", "Ops Manager")
	date("rv_champion_since", time.Now().AddDate(0, -3, 0).Format(time.DateOnly))
	text("rv_close_reason", "") // required: first submission must bounce
	kind("rv_p0_kind", "feature")
	text("rv_p0_text", "SSO with Okta")
	date("rv_p0_due", "2027-03-01")
	kind("rv_p1_kind", "integration")
	text("rv_p1_text", "Salesforce sync")
	text("rv_p2_text", "")
	text("rv_concerns", "")
	text("rv_competitors", "Gainsight, Totango")
	number("rv_arr", "120000")
	number("rv_term", "12")
	date("rv_renewal", "2027-11-20")
	text("rv_segment", "mid-market")
	submit := func() slacktest.Ack {
		t.Helper()
		ack, err := d.fake.SendInteraction(ctx, map[string]any{
			"type": "view_submission", "user": map[string]string{"id": roomAE},
			"view": map[string]any{"id": "VREVIEW", "callback_id": blocks.CallbackReview,
				"private_metadata": strconv.FormatInt(dealID, 10), "state": map[string]any{"values": values}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return ack
	}
	ack := submit()
	if !strings.Contains(string(ack.Payload), `"rv_close_reason"`) {
		t.Fatalf("missing close reason not flagged: %s", ack.Payload)
	}
	text("rv_close_reason", "Their ops team drowns in spreadsheets.")
	if ack := submit(); len(ack.Payload) != 0 && string(ack.Payload) != "null" && string(ack.Payload) != "{}" {
		t.Fatalf("valid review answered %s", ack.Payload)
	}

	waitFor(t, "the card update", func() bool {
		for _, m := range d.fake.Messages(room.ChannelID) {
			if m.Method == "chat.update" && m.TS == card.TS && strings.Contains(textOf(m), "Handoff complete") {
				return true
			}
		}
		return false
	})
	d.settle()
	var updated slacktest.Message
	for _, m := range d.fake.Messages(room.ChannelID) {
		if m.Method == "chat.update" && m.TS == card.TS {
			updated = m
		}
	}
	for _, want := range []string{"Their ops team drowns", "*Integration:* Salesforce sync", "3 months in role", "new in role",
		"Totango", "None raised", "reviewed by @U0AE"} {
		if !strings.Contains(textOf(updated), want) {
			t.Errorf("updated card lacks %q:\n%s", want, textOf(updated))
		}
	}
	if strings.Contains(textOf(updated), "Still missing") {
		t.Error("completed card still says something is missing")
	}
	var dmDone bool
	for _, m := range d.fake.Messages("D" + roomAE) {
		dmDone = dmDone || (m.Method == "chat.update" && strings.Contains(textOf(m), "complete"))
	}
	if !dmDone {
		t.Error("review DM not updated")
	}
	var kinds string
	if err := d.store.Pool().QueryRow(ctx, `SELECT string_agg(kind || ':' || text, '|' ORDER BY position) FROM deal_promises`).Scan(&kinds); err != nil {
		t.Fatal(err)
	}
	if kinds != "feature:SSO with Okta|integration:Salesforce sync" {
		t.Fatalf("promises stored as %q", kinds)
	}
	// What the root-cause flow reads to link "feature overpromise" churn.
	var accountID int64
	_ = d.store.Pool().QueryRow(ctx, `SELECT account_id FROM deals WHERE id = $1`, dealID).Scan(&accountID)
	promises, err := rooms.PromisesForAccount(ctx, d.store.DB(), accountID)
	if err != nil || len(promises) != 2 || promises[0].Kind != rooms.PromiseFeature || promises[0].DealID != dealID ||
		promises[0].Due == nil || promises[0].DealName != "Acme Corp – New Business" {
		t.Fatalf("account promises %+v %v", promises, err)
	}
	if n := d.count(`SELECT count(*) FROM timeline WHERE kind = 'handoff.reviewed'`); n != 1 {
		t.Fatalf("%d review timeline entries", n)
	}
}

// TestRoomNameTakenErrorsAndCrashResume: a taken name gets a suffix, a
// Slack error is retried at the step that failed, and a channel created
// by a run that died before recording it is adopted, not duplicated.
func TestRoomNameTakenErrorsAndCrashResume(t *testing.T) {
	t.Parallel()
	d := newDeployment(t)
	ctx := ctxTimeout(t, time.Minute)

	// A run that died right after conversations.create: the deal and its
	// handoff are claimed, the name was recorded, Slack has the channel.
	deals := rooms.NewDeals(d.store, "", time.Now, slog.New(slog.DiscardHandler))
	if _, err := deals.RecordDeals(ctx, []rooms.DealIn{wonDeal("006INIT", "initech", "Initech")}, "api"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.store.Pool().Exec(ctx, `UPDATE handoffs SET name_tried = 'acct-initech'`); err != nil {
		t.Fatal(err)
	}
	orphan := d.fake.CreateChannel("acct-initech", slacktest.BotUser, false)
	// Someone already has the name Globex's room would get.
	d.fake.CreateChannel("acct-globex", "UHUMAN", false)
	d.fake.Fail("pins.add", 1, "internal_error")

	r := d.start(unpaced())
	r.deals(wonDeal("006GLOBEX", "globex", "Globex"))

	initech := d.roomOf("initech")
	if initech.ChannelID != orphan {
		t.Fatalf("Initech's room is %s, want the orphaned channel %s", initech.ChannelID, orphan)
	}
	globex := d.roomOf("globex")
	if globex.ChannelName != "acct-globex-2" {
		t.Fatalf("Globex's room is %q", globex.ChannelName)
	}
	d.waitHandoffDone("006INIT")
	d.waitHandoffDone("006GLOBEX")
	for _, c := range d.fake.Channels() {
		if c.Name == "acct-initech-2" {
			t.Fatal("a second Initech channel was created")
		}
	}
	pinned := 0
	for _, id := range []string{initech.ChannelID, globex.ChannelID} {
		c, _ := d.fake.ChannelInfo(id)
		pinned += len(c.Pins)
	}
	if pinned != 2 {
		t.Fatalf("%d cards pinned, want 2 (one pins.add failed once and was retried)", pinned)
	}
	if n := d.count(`SELECT count(*) FROM handoff_steps WHERE step = 'pin' AND outcome = 'retry'`); n != 1 {
		t.Fatalf("%d pin retries recorded", n)
	}
	if n := d.count(`SELECT count(*) FROM handoff_steps WHERE outcome = 'ok' AND detail LIKE 'adopted channel%'`); n != 1 {
		t.Fatalf("adoption not recorded (%d)", n)
	}
}

// TestCallNoteSummarisedAndWrittenToCRMOnce: a call note ingested for an
// account is summarised by the model outside the ingest transaction, put
// on the timeline and in the room, and written to Salesforce exactly once
// although Salesforce is down for a few seconds and the batch is replayed.
func TestCallNoteSummarisedAndWrittenToCRMOnce(t *testing.T) {
	t.Parallel()
	sf := sftest.New(t)
	release := make(chan struct{})
	model := llmtest.New(t, func(req llmtest.Request) llmtest.Answer {
		select {
		case <-release:
		case <-time.After(20 * time.Second):
		}
		return llmtest.Answer{Content: `{"summary": "Dana wants SSO live before the March rollout <!here>; budget for 40 more seats is approved."}`}
	})
	d := newDeployment(t, func(d *deployment) {
		d.env["SALESFORCE_INSTANCE_URL"] = sf.URL
		d.env["SALESFORCE_CLIENT_ID"] = sftest.ClientID
		d.env["SALESFORCE_CLIENT_SECRET"] = sftest.ClientSecret
		d.env["OPENAI_BASE_URL"] = model.URL
		d.env["OPENAI_API_KEY"] = "sk-test"
	})
	r := d.start(unpaced())
	r.deals(wonDeal("006ACME", "acme", "Acme Corp"))
	room := d.roomOf("acme")
	d.waitHandoffDone("006ACME")

	note := strings.Repeat("We walked through the rollout plan with Dana and the ops leads. ", 3) +
		"Dana said SSO must be live before the March rollout or they cannot onboard the EU team. " +
		"Budget for 40 more seats is approved. Next step: send the SSO timeline by Friday."
	batch := ingest.SignalIn{Account: "acme", Kind: "call_note", Source: "gong", IdempotencyKey: "call-1",
		OccurredAt: time.Now().Add(-time.Hour), Text: note, Metadata: noMeta}
	sf.Outage(3 * time.Second)
	// The model is still blocked: ingest must not wait for it.
	if res := r.signals(batch); res.Stored != 1 {
		t.Fatalf("ingest: %+v", res)
	}
	if n := d.count(`SELECT count(*) FROM account_notes WHERE state = 'pending'`); n != 1 {
		t.Fatalf("%d notes pending while the model thinks", n)
	}
	close(release)

	waitFor(t, "the summary on the timeline", func() bool {
		return d.count(`SELECT count(*) FROM timeline WHERE kind = 'summary.call_note' AND summary LIKE 'Call summary: Dana wants SSO%'`) == 1
	})
	waitFor(t, "the summary in the room", func() bool {
		for _, m := range d.posts(room.ChannelID) {
			if strings.Contains(textOf(m), "Call summary") && strings.Contains(textOf(m), "budget for 40 more seats") {
				if sent := sentText(t, m); strings.Contains(sent, "<!here>") || !strings.Contains(sent, "&lt;!here&gt;") {
					t.Errorf("model output not escaped:\n%s", sent)
				}
				return true
			}
		}
		return false
	})
	waitFor(t, "the CRM task", func() bool { return len(sf.Records("Task")) == 1 })
	r.signals(batch) // replay
	d.settle()
	time.Sleep(300 * time.Millisecond) // give a wrong second write time to happen
	tasks := sf.Records("Task")
	if len(tasks) != 1 {
		t.Fatalf("%d tasks in Salesforce, want 1", len(tasks))
	}
	f := tasks[0].Fields
	if f["WhatId"] != crmAccount || !strings.HasPrefix(f["Subject"].(string), "Call summary: Acme Corp") ||
		!strings.Contains(f["Description"].(string), "Dana wants SSO") || !strings.Contains(f["Description"].(string), "Next step") {
		t.Fatalf("task fields %+v", f)
	}
	log, err := crm.Log(context.Background(), d.store.DB(), 20)
	if err != nil {
		t.Fatal(err)
	}
	outcomes := map[string]int{}
	for _, e := range log {
		outcomes[e.Outcome]++
		if strings.Contains(e.Detail, sftest.ClientSecret) {
			t.Fatal("the CRM log holds a secret")
		}
	}
	if outcomes["created"] != 1 || outcomes["retry"] < 1 {
		t.Fatalf("crm log outcomes %v, want one created after at least one retry (the outage)", outcomes)
	}
	if n := len(model.Requests()); n != 1 {
		t.Fatalf("model asked %d times", n)
	}
}

// TestNotesWithoutModelOrCRM: with no model and no CRM configured, a
// ticket thread gets an extractive summary, nothing is queued for a CRM,
// and nothing fails.
func TestNotesWithoutModelOrCRM(t *testing.T) {
	t.Parallel()
	d := newDeployment(t)
	r := d.start(unpaced())
	r.deals(wonDeal("006ACME", "acme", "Acme Corp"))
	room := d.roomOf("acme")
	d.waitHandoffDone("006ACME")

	thread := "Hi team,\nThe export job failed again last night and the finance team could not close the books. " +
		"This is the third outage this month and our CFO is asking whether we should switch to a competitor. " +
		"Please escalate and send a root cause by Friday.\nThanks,\nDana\n\nOn Mon, Nov 23, 2026 at 9:00 AM Support <support@example.com> wrote:\n> We are looking into it."
	r.signals(ingest.SignalIn{Account: "acme", Kind: "ticket", Source: "zendesk", IdempotencyKey: "tk-9",
		OccurredAt: time.Now().Add(-time.Hour), Text: thread, Metadata: noMeta})
	waitFor(t, "the extractive summary", func() bool {
		return d.count(`SELECT count(*) FROM account_notes WHERE state = 'done' AND summary_by = 'extractive'`) == 1
	})
	var summary string
	if err := d.store.Pool().QueryRow(context.Background(), `SELECT summary FROM account_notes`).Scan(&summary); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(summary, "switch to a competitor") || strings.Contains(summary, "We are looking into it") ||
		len([]rune(summary)) > 400 {
		t.Fatalf("summary %q", summary)
	}
	d.settle()
	found := false
	for _, m := range d.posts(room.ChannelID) {
		found = found || strings.Contains(textOf(m), "Ticket summary")
	}
	if !found {
		t.Fatal("summary not posted in the room")
	}
	if n := d.count(`SELECT count(*) FROM crm_outbox`); n != 0 {
		t.Fatalf("%d CRM writes queued with the CRM off", n)
	}
}

// TestNoteCommandShortcutAndRoomLink: /room link makes an existing channel
// the room, /note and the "Save to account" shortcut store notes (from the
// room directly, from elsewhere through a modal), each posted to the room
// and written to the CRM once.
func TestNoteCommandShortcutAndRoomLink(t *testing.T) {
	t.Parallel()
	sf := sftest.New(t)
	d := newDeployment(t, func(d *deployment) {
		d.env["SALESFORCE_INSTANCE_URL"] = sf.URL
		d.env["SALESFORCE_CLIENT_ID"] = sftest.ClientID
		d.env["SALESFORCE_CLIENT_SECRET"] = sftest.ClientSecret
	})
	r := d.start(unpaced())
	ctx := ctxTimeout(t, time.Minute)
	r.accounts(ingest.AccountIn{ExternalID: "acme", Name: "Acme Corp", OwnerCSM: roomCSM, AE: roomAE})
	// The CRM id arrives with a (still open) deal.
	r.deals(rooms.DealIn{ID: "006OPEN", Account: "acme", CRMAccountID: crmAccount, Stage: "Negotiation"})
	existing := d.fake.CreateChannel("cs-acme", roomCSM, false)

	command := func(user, channel, cmd, text string) string {
		t.Helper()
		ack, err := d.fake.SendSlashCommand(ctx, slacktest.SlashCommand{Command: cmd, Text: text, UserID: user, ChannelID: channel})
		if err != nil {
			t.Fatal(err)
		}
		out, _ := ackReply(t, ack)
		return out
	}
	if out := command("U0STRANGER", existing, "/room", "link acme"); !strings.Contains(out, "Only Acme Corp's CSM") {
		t.Fatalf("stranger linked a room: %s", out)
	}
	if out := command(roomCSM, existing, "/room", "link acme"); !strings.Contains(out, "now *Acme Corp*'s room") {
		t.Fatalf("link: %s", out)
	}
	if c, _ := d.fake.ChannelInfo(existing); !slices.Contains(c.Members, slacktest.BotUser) {
		t.Fatal("the bot did not join the linked channel")
	}
	var channelID string
	_ = d.store.Pool().QueryRow(ctx, `SELECT channel_id FROM accounts WHERE external_id = 'acme'`).Scan(&channelID)
	if channelID != existing {
		t.Fatalf("account channel %q, want the room %s", channelID, existing)
	}
	// An account sync that knows nothing of Slack must not unlink the room.
	r.accounts(ingest.AccountIn{ExternalID: "acme", Name: "Acme Corp", OwnerCSM: roomCSM, AE: roomAE})
	_ = d.store.Pool().QueryRow(ctx, `SELECT channel_id FROM accounts WHERE external_id = 'acme'`).Scan(&channelID)
	if channelID != existing {
		t.Fatalf("account sync unlinked the room: %q", channelID)
	}
	if out := command(roomCSM, existing, "/room", ""); !strings.Contains(out, "*Acme Corp*'s room is #"+existing+" (linked)") {
		t.Fatalf("/room in the room: %s", out)
	}

	// /note from another channel, with a CRM case.
	if out := command(roomCSM, "C0ELSEWHERE", "/note", "acme corp Dana confirmed the renewal budget <!channel> --case"); !strings.Contains(out, "Saved to *Acme Corp*") {
		t.Fatalf("/note: %s", out)
	}
	if out := command(roomCSM, "C0ELSEWHERE", "/note", "nobody here"); !strings.Contains(out, "Usage") {
		t.Fatalf("/note for an unknown account: %s", out)
	}
	if out := command(roomCSM, "C0ELSEWHERE", "/room", "acme corpp"); !strings.Contains(out, "Did you mean Acme Corp = acme?") ||
		!strings.Contains(out, "Usage: `/room <account>`") || strings.Contains(out, "/health") {
		t.Fatalf("/room for a misspelt account: %s", out)
	}
	waitFor(t, "the note in the room", func() bool {
		for _, m := range d.posts(existing) {
			if strings.Contains(textOf(m), "Dana confirmed the renewal budget") {
				sent := sentText(t, m)
				return !strings.Contains(sent, "<!channel>") && strings.Contains(sent, "&lt;!channel&gt;")
			}
		}
		return false
	})
	waitFor(t, "the task and the case", func() bool { return len(sf.Records("Task")) == 1 && len(sf.Records("Case")) == 1 })
	if c := sf.Records("Case")[0]; c.Fields["AccountId"] != crmAccount || !strings.Contains(c.Fields["Subject"].(string), "Dana confirmed") {
		t.Fatalf("case %+v", c.Fields)
	}

	// "Save to account" in the room saves at once; a second save of the same message is a no-op.
	shortcut := func(channel, ts, text string) {
		t.Helper()
		if _, err := d.fake.SendInteraction(ctx, map[string]any{
			"type": "message_action", "callback_id": blocks.CallbackSaveNote, "trigger_id": "trig-" + ts,
			"response_url": fakeBase(d.fake) + "/response/sc" + ts, "user": map[string]string{"id": roomCSM},
			"channel": map[string]string{"id": channel}, "message": map[string]string{"type": "message", "text": text, "ts": ts, "user": "U0CUST"},
		}); err != nil {
			t.Fatal(err)
		}
	}
	shortcut(existing, "1700000001.000100", "Customer: we &lt;really&gt; need the audit log export")
	shortcut(existing, "1700000001.000100", "Customer: we &lt;really&gt; need the audit log export")
	waitFor(t, "the shortcut replies", func() bool {
		saved, already := 0, 0
		for _, p := range d.fake.ResponseURLPosts() {
			switch {
			case strings.Contains(p.Params["text"], "already saved"):
				already++
			case strings.Contains(p.Params["text"], "Saved to"):
				saved++
			}
		}
		return saved == 1 && already == 1
	})
	var text string
	if err := d.store.Pool().QueryRow(ctx, `SELECT text FROM account_notes WHERE source = 'slack_shortcut'`).Scan(&text); err != nil {
		t.Fatal(err)
	}
	if text != "Customer: we <really> need the audit log export" {
		t.Fatalf("saved text %q", text)
	}
	// From a channel that is no account's room, a modal asks which account.
	shortcut("C0RANDOM", "1700000002.000200", "They asked about SOC 2 again")
	opened, err := d.fake.WaitCalls(ctx, "views.open", 1)
	if err != nil {
		t.Fatal(err)
	}
	var modal slack.ModalViewRequest
	_ = json.Unmarshal([]byte(opened[0].Params["view"]), &modal)
	submit := func(account string) slacktest.Ack {
		ack, err := d.fake.SendInteraction(ctx, map[string]any{
			"type": "view_submission", "user": map[string]string{"id": roomCSM},
			"view": map[string]any{"id": "VSAVE", "callback_id": blocks.CallbackSaveNote, "private_metadata": modal.PrivateMetadata,
				"state": map[string]any{"values": map[string]any{
					"sn_account": map[string]any{"sn_account_in": map[string]any{"type": "plain_text_input", "value": account}},
					"sn_text":    map[string]any{"sn_text_in": map[string]any{"type": "plain_text_input", "value": "They asked about SOC 2 again"}},
				}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return ack
	}
	if ack := submit("zzz-no-such"); !strings.Contains(string(ack.Payload), "sn_account") {
		t.Fatalf("unknown account accepted: %s", ack.Payload)
	}
	submit("Acme Corp")
	waitFor(t, "the modal note in the room", func() bool {
		for _, m := range d.posts(existing) {
			if strings.Contains(textOf(m), "SOC 2") {
				return true
			}
		}
		return false
	})
	waitFor(t, "the CRM tasks", func() bool { return len(sf.Records("Task")) == 3 })
	d.settle()
	if n := d.count(`SELECT count(*) FROM account_notes`); n != 3 {
		t.Fatalf("%d notes, want 3", n)
	}
	// The note saved in the room itself is not echoed back into it.
	echo := 0
	for _, m := range d.posts(existing) {
		if strings.Contains(textOf(m), "audit log export") {
			echo++
		}
	}
	if echo != 0 {
		t.Fatalf("the room's own message was echoed %d times", echo)
	}
}

// TestDealAPIRejectsBadInputAndUnsignedWebhooks: bad deals are rejected
// with per-row errors and nothing stored; the webhook needs a fresh, valid
// signature.
func TestDealAPIRejectsBadInputAndUnsignedWebhooks(t *testing.T) {
	t.Parallel()
	d := newDeployment(t, func(d *deployment) { d.env["HOLDFAST_CRM_WEBHOOK_SECRET"] = webhookKey })
	r := d.start(unpaced())
	bad := wonDeal("006BAD", "acme", "Acme Corp")
	bad.AE = "not-a-user"
	bad.Promises = &[]rooms.PromiseIn{{Kind: "vibes", Text: ""}}
	unknown := rooms.DealIn{ID: "006NEW", Account: "nobody", Stage: "closed_won"}
	var out dealsAnswer
	if code := r.post("/v1/deals", map[string]any{"deals": []rooms.DealIn{bad}}, &out); code != http.StatusUnprocessableEntity {
		t.Fatalf("bad deal: %d", code)
	}
	fields := map[string]bool{}
	for _, e := range out.Rows {
		fields[e.Field] = true
	}
	if !fields["ae"] || !fields["promises[0].kind"] || !fields["promises[0].text"] {
		t.Fatalf("row errors %+v", out.Rows)
	}
	if code := r.post("/v1/deals", map[string]any{"deals": []rooms.DealIn{wonDeal("006OK", "acme", "Acme Corp"), unknown}}, &out); code != http.StatusUnprocessableEntity ||
		len(out.Rows) != 1 || out.Rows[0].Index != 1 {
		t.Fatalf("unknown account: %d %+v", code, out)
	}
	if n := d.count(`SELECT count(*) FROM deals`); n != 0 {
		t.Fatalf("%d deals stored from rejected batches", n)
	}
	body := map[string]any{"deals": []rooms.DealIn{wonDeal("006OK", "acme", "Acme Corp")}}
	for name, c := range map[string]struct {
		secret string
		ts     int64
	}{"unsigned": {"", 0}, "wrong key": {"another-secret-0123456789", 0}, "stale": {webhookKey, time.Now().Add(-time.Hour).Unix()}} {
		if code, _ := r.webhook(body, c.secret, c.ts); code != http.StatusUnauthorized {
			t.Errorf("%s webhook: %d", name, code)
		}
	}
	if code, res := r.webhook(body, webhookKey, 0); code != http.StatusOK || res.Deals[0].Handoff != "started" {
		t.Fatalf("signed webhook: %d %+v", code, res)
	}
	d.waitHandoffDone("006OK")
}

// TestRoomFailureIsToldAndLinkResumes: when Slack refuses to create the
// room, the CSM is told and /room link in an existing channel resumes the
// handoff there; an account imported with a channel of its own gets that
// channel as its room.
func TestRoomFailureIsToldAndLinkResumes(t *testing.T) {
	t.Parallel()
	d := newDeployment(t)
	r := d.start(unpaced())
	ctx := ctxTimeout(t, time.Minute)

	d.fake.Fail("conversations.create", 1, "restricted_action")
	r.deals(wonDeal("006ACME", "acme", "Acme Corp"))
	waitFor(t, "the handoff to fail", func() bool { return d.handoffStep("006ACME") == rooms.StepFailed })
	d.settle()
	told := d.posts(roomCSM)
	if len(told) != 1 || !strings.Contains(textOf(told[0]), "restricted_action") || !strings.Contains(textOf(told[0]), "/room link Acme Corp") {
		t.Fatalf("CSM not told: %d messages", len(told))
	}
	ack, err := d.fake.SendSlashCommand(ctx, slacktest.SlashCommand{Command: "/room", Text: "acme", UserID: roomCSM, ChannelID: "C0ELSEWHERE"})
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := ackReply(t, ack); !strings.Contains(out, "has no room yet") || !strings.Contains(out, "stopped at channel") {
		t.Fatalf("/room status: %s", out)
	}

	existing := d.fake.CreateChannel("acme-success", roomCSM, false)
	ack, err = d.fake.SendSlashCommand(ctx, slacktest.SlashCommand{Command: "/room", Text: "link Acme Corp", UserID: roomAE, ChannelID: existing})
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := ackReply(t, ack); !strings.Contains(out, "now *Acme Corp*'s room") {
		t.Fatalf("link: %s", out)
	}
	d.waitHandoffDone("006ACME")
	ch, _ := d.fake.ChannelInfo(existing)
	if len(ch.Pins) != 1 || !slices.Contains(ch.Members, roomAE) || len(d.fake.Calls("conversations.create")) != 1 {
		t.Fatalf("linked room: %+v, %d creates", ch, len(d.fake.Calls("conversations.create")))
	}
	if room := d.roomOf("acme"); room.Origin != "linked" || room.LinkedBy != roomAE {
		t.Fatalf("room %+v", room)
	}
	ack, err = d.fake.SendSlashCommand(ctx, slacktest.SlashCommand{Command: "/room", Text: "acme", UserID: roomCSM, ChannelID: "C0ELSEWHERE"})
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := ackReply(t, ack); !strings.Contains(out, "(linked)") || !strings.Contains(out, "waiting for the won deal review (3 fields missing)") {
		t.Fatalf("/room status after the link: %s", out)
	}

	// An account that came with its own channel keeps it as the room.
	own := d.fake.CreateChannel("globex-team", "UHUMAN", false)
	r.accounts(ingest.AccountIn{ExternalID: "globex", Name: "Globex", OwnerCSM: roomCSM, Channel: own})
	r.deals(wonDeal("006GLOBEX", "globex", "Globex"))
	d.waitHandoffDone("006GLOBEX")
	if room := d.roomOf("globex"); room.ChannelID != own || room.Origin != "existing" {
		t.Fatalf("globex room %+v", room)
	}
	if c, _ := d.fake.ChannelInfo(own); !slices.Contains(c.Members, slacktest.BotUser) || len(c.Pins) != 1 {
		t.Fatalf("the bot did not join and pin in the account's channel: %+v", c)
	}
}
