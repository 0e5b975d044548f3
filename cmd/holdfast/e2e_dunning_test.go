package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/holdfast/holdfast/bot/slacktest"
	"github.com/holdfast/holdfast/internal/dunning"
	"github.com/holdfast/holdfast/internal/ingest"
)

const stripeSecret = "whsec_e2e_test_secret_0123456789"

// stripe posts a Stripe event signed with secret at `at`; header overrides the signature when not "".
func (r *replica) stripe(event map[string]any, secret string, at time.Time, header string) (int, map[string]any) {
	r.d.t.Helper()
	raw, err := json.Marshal(event)
	if err != nil {
		r.d.t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, r.base+"/webhooks/stripe", bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	if header == "" {
		header = dunning.SignStripePayload(raw, secret, at)
	}
	if header != "-" {
		req.Header.Set("Stripe-Signature", header)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.d.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if err := json.Unmarshal(data, &body); err != nil {
		r.d.t.Fatalf("webhook answered %d with non-JSON %q", resp.StatusCode, data)
	}
	return resp.StatusCode, body
}

func stripeEvent(id, typ string, created time.Time, object map[string]any) map[string]any {
	return map[string]any{"id": id, "object": "event", "type": typ, "created": created.Unix(), "livemode": false,
		"data": map[string]any{"object": object}}
}

// root finds the unthreaded post in channel whose text contains want.
func (d *deployment) root(channel, want string) slacktest.Message {
	d.t.Helper()
	for _, m := range d.posts(channel) {
		if m.ThreadTS == "" && strings.Contains(plain(m), want) {
			return m
		}
	}
	d.t.Fatalf("no post in %s contains %q", channel, want)
	return slacktest.Message{}
}

func (d *deployment) rootsContaining(channel, want string) int {
	n := 0
	for _, m := range d.posts(channel) {
		if m.ThreadTS == "" && strings.Contains(plain(m), want) {
			n++
		}
	}
	return n
}

// A forged Stripe webhook is rejected and stores nothing; each decline
// class takes its own path; a high-value failure is escalated and handled
// first; a recovery closes the loop in the same thread; replays and
// Stripe's double events are handled once.
func TestDunningByDeclineReason(t *testing.T) {
	t.Parallel()
	now := time.Date(2027, 3, 10, 15, 0, 0, 0, time.UTC)
	d := newDeployment(t, withEnv("STRIPE_WEBHOOK_SECRET", stripeSecret), appendYAML(
		"dunning:\n  escalate_arr: 100000\n  escalate_to: [U0LEAD]\n  update_card_url: https://billing.example.com/card\n"))
	clock := newClock(now)
	r := d.start(withClock(clock.Now), unpaced())
	acct := func(id, name string, arr float64, tier, champion, cus string) ingest.AccountIn {
		a := ingest.AccountIn{ExternalID: id, Name: name, ARR: arr, Tier: tier, OwnerCSM: "U0CSM", Champion: champion}
		if cus != "" {
			a.StripeCustomerID = str(cus)
		}
		return a
	}
	r.accounts(acct("techco", "Techco", 2000, "starter", "", "cus_TECH"), acct("softco", "Softco", 30000, "growth", "Dana Smith", "cus_SOFT"),
		acct("hardco", "Hardco", 200000, "enterprise", "", ""), acct("smallco", "Smallco", 2000, "starter", "", ""),
		acct("bigco", "Bigco", 250000, "enterprise", "", ""))

	charge := map[string]any{"id": "ch_T1", "object": "charge", "customer": "cus_TECH", "amount": 19900, "currency": "usd",
		"invoice": "in_T1", "failure_code": "expired_card", "outcome": map[string]any{"reason": "expired_card", "type": "issuer_declined"}}
	chargeFailed := stripeEvent("evt_T1", dunning.EventChargeFailed, now, charge)

	// Forged, stale, unsigned: 400 with a JSON error, nothing stored.
	for _, f := range []struct {
		name, secret string
		at           time.Time
		header       string
	}{
		{"wrong secret", "whsec_someone_else_0000000", now, ""},
		{"stale", stripeSecret, now.Add(-6 * time.Minute), ""},
		{"unsigned", stripeSecret, now, "-"},
	} {
		code, body := r.stripe(chargeFailed, f.secret, f.at, f.header)
		if code != http.StatusBadRequest || body["error"] != "bad_signature" {
			t.Errorf("%s: %d %v", f.name, code, body)
		}
	}
	for _, table := range []string{"stripe_events", "signals", "dunning_cases", "outbox", "timeline"} {
		if n := d.count(`SELECT count(*) FROM ` + table); n != 0 {
			t.Fatalf("a forged webhook stored %d rows in %s", n, table)
		}
	}

	// Technical: charge.failed, then Stripe's invoice.payment_failed about
	// the same charge, then a replay: one case, one alert.
	if code, body := r.stripe(chargeFailed, stripeSecret, now, ""); code != http.StatusOK || body["status"] != "processed" {
		t.Fatalf("charge.failed: %d %v", code, body)
	}
	invFailed := stripeEvent("evt_T2", dunning.EventInvoicePaymentFailed, now, map[string]any{"id": "in_T1", "object": "invoice",
		"customer": "cus_TECH", "amount_due": 19900, "currency": "usd", "charge": "ch_T1", "attempt_count": 1})
	if code, body := r.stripe(invFailed, stripeSecret, now, ""); code != http.StatusOK || body["status"] != "processed" {
		t.Fatalf("invoice.payment_failed: %d %v", code, body)
	}
	if code, body := r.stripe(chargeFailed, stripeSecret, now, ""); code != http.StatusOK || body["status"] != "duplicate" {
		t.Fatalf("replay: %d %v", code, body)
	}
	// Soft: invoice.payment_failed with the charge expanded, Stripe's next retry known.
	soft := stripeEvent("evt_S1", dunning.EventInvoicePaymentFailed, now, map[string]any{"id": "in_S1", "object": "invoice",
		"customer": "cus_SOFT", "amount_due": 250000, "currency": "usd", "next_payment_attempt": now.AddDate(0, 0, 3).Unix(),
		"charge": map[string]any{"id": "ch_S1", "object": "charge", "outcome": map[string]any{"reason": "insufficient_funds"}}})
	if code, body := r.stripe(soft, stripeSecret, now, ""); code != http.StatusOK || body["status"] != "processed" {
		t.Fatalf("soft: %d %v", code, body)
	}
	// Hard, through the ingest API, on a $200k account.
	v := 5000.0
	r.signals(ingest.SignalIn{Account: "hardco", Kind: "payment_failed", Source: "billing", IdempotencyKey: "hard-1", OccurredAt: now,
		Value: &v, Metadata: json.RawMessage(`{"decline_code":"stolen_card","invoice":"in_H1"}`)})
	// Unknown customers and invoices without a case are acknowledged, not stored.
	if code, body := r.stripe(stripeEvent("evt_U1", dunning.EventChargeFailed, now, map[string]any{"id": "ch_U1", "object": "charge",
		"customer": "cus_NOBODY", "amount": 100, "currency": "usd"}), stripeSecret, now, ""); code != http.StatusOK || body["status"] != "ignored" {
		t.Fatalf("unknown customer: %d %v", code, body)
	}
	if code, body := r.stripe(stripeEvent("evt_P0", dunning.EventInvoicePaid, now, map[string]any{"id": "in_NEVERFAILED", "object": "invoice",
		"customer": "cus_TECH", "amount_paid": 100, "currency": "usd"}), stripeSecret, now, ""); code != http.StatusOK || body["status"] != "ignored" {
		t.Fatalf("paid without a case: %d %v", code, body)
	}
	d.settle()

	if n := d.count(`SELECT count(*) FROM dunning_cases`); n != 3 {
		t.Fatalf("%d dunning cases, want 3", n)
	}
	if n := d.count(`SELECT count(*) FROM stripe_events`); n != 3 {
		t.Fatalf("%d stripe events stored, want 3", n)
	}
	if n := d.count(`SELECT count(*) FROM signals WHERE kind = 'payment_failed'`); n != 3 {
		t.Fatalf("%d payment_failed signals, want 3", n)
	}
	if n := d.rootsContaining(alertChannel, "Payment failed: Techco"); n != 1 {
		t.Fatalf("%d Techco alerts, want 1", n)
	}

	tech := plain(d.root(alertChannel, "Payment failed: Techco"))
	softMsg := plain(d.root(alertChannel, "Payment failed: Softco"))
	hard := d.root(alertChannel, "payment failed: Hardco")
	hardText := plain(hard)
	for _, c := range []struct {
		name, got string
		want, not []string
	}{
		{"technical", tech, []string{"Path: Card update", "Ready customer note", "the card on file has expired",
			"https://billing.example.com/card", "expired_card · Technical decline", "ARR: $2,000", "Tier: starter", "Health: ", "$199.00"},
			[]string{"High-value", "Retry schedule:"}},
		{"soft", softMsg, []string{"Path: Retry schedule and soft outreach", "Retry schedule: Mar 13, 2027", "Hi Dana,",
			"insufficient_funds · Soft decline", "ARR: $30k", "Tier: growth"}, []string{"High-value", "Path: Card update"}},
		{"hard", hardText, []string{"High-value payment failed: Hardco", "Path: No automatic retry: CSM conversation",
			"Do not retry this card", "stolen_card · Hard decline", "ARR: $200k", "Tier: enterprise", "@U0LEAD"},
			[]string{"Ready customer note", "Retry schedule:"}},
	} {
		for _, w := range c.want {
			if !strings.Contains(c.got, w) {
				t.Errorf("%s alert lacks %q:\n%s", c.name, w, c.got)
			}
		}
		for _, w := range c.not {
			if strings.Contains(c.got, w) {
				t.Errorf("%s alert has %q:\n%s", c.name, w, c.got)
			}
		}
	}
	if got := mrkdwn(hard); !strings.Contains(got, "<@U0LEAD>") || !strings.Contains(got, "<@U0CSM>") {
		t.Error("the high-value alert does not mention the CSM and the escalation")
	}

	// Recovery closes the loop in the same thread.
	techRoot := d.root(alertChannel, "Payment failed: Techco")
	later := now.Add(48 * time.Hour)
	clock.Set(later)
	paid := stripeEvent("evt_T3", dunning.EventInvoicePaid, later, map[string]any{"id": "in_T1", "object": "invoice",
		"customer": "cus_TECH", "amount_paid": 19900, "currency": "usd"})
	if code, body := r.stripe(paid, stripeSecret, later, ""); code != http.StatusOK || body["status"] != "processed" {
		t.Fatalf("invoice.paid: %d %v", code, body)
	}
	d.settle()
	var recovered bool
	for _, m := range d.posts(alertChannel) {
		if m.ThreadTS == techRoot.TS && strings.Contains(plain(m), "Invoice paid: $199.00 recovered") {
			recovered = true
		}
	}
	if !recovered {
		for _, m := range d.posts(alertChannel) {
			t.Log(m.ThreadTS, plain(m))
		}
		t.Error("no recovery post in the Techco thread")
	}
	if got := latest(d.fake.Messages(alertChannel), techRoot.TS); !strings.Contains(got, "Payment recovered: Techco") {
		t.Errorf("the alert was not updated on recovery:\n%s", got)
	}
	if n := d.count(`SELECT count(*) FROM dunning_cases WHERE case_key = 'invoice:in_T1' AND status = 'recovered'`); n != 1 {
		t.Error("case not recovered")
	}
	if n := d.count(`SELECT count(*) FROM signals WHERE kind = 'payment_recovered'`); n != 1 {
		t.Error("recovery not ingested as a payment_recovered signal")
	}

	// Several failures in one batch: the most valuable account is posted first.
	r.signals(
		ingest.SignalIn{Account: "smallco", Kind: "payment_failed", Source: "billing", IdempotencyKey: "small-1", OccurredAt: now,
			Metadata: json.RawMessage(`{"decline_code":"generic_decline","invoice":"in_SM"}`)},
		ingest.SignalIn{Account: "bigco", Kind: "payment_failed", Source: "billing", IdempotencyKey: "big-1", OccurredAt: now,
			Metadata: json.RawMessage(`{"decline_code":"lost_card","invoice":"in_BG"}`)},
	)
	d.settle()
	// The outbox is written in value order (its deliveries then run in
	// parallel, so Slack's order is not asserted); the escalation is the
	// real difference.
	bigID := d.count(`SELECT min(o.id)::int FROM outbox o JOIN dunning_cases c ON c.root_ref = o.ref WHERE c.case_key = 'invoice:in_BG'`)
	smallID := d.count(`SELECT min(o.id)::int FROM outbox o JOIN dunning_cases c ON c.root_ref = o.ref WHERE c.case_key = 'invoice:in_SM'`)
	if bigID == 0 || smallID == 0 || bigID > smallID {
		t.Errorf("Bigco's alert queued as %d, Smallco's as %d: the $250k account must be handled first", bigID, smallID)
	}
	if got := mrkdwn(d.root(alertChannel, "High-value payment failed: Bigco")); !strings.Contains(got, "Escalated to <@U0CSM> <@U0LEAD>") {
		t.Errorf("Bigco not escalated:\n%s", got)
	}
	if got := mrkdwn(d.root(alertChannel, "Payment failed: Smallco")); strings.Contains(got, "U0LEAD") || strings.Contains(got, "High-value") {
		t.Errorf("Smallco handled like a high-value account:\n%s", got)
	}
}

// A failure reported first without a decline reason takes its path when
// Stripe's other event about the same charge brings the reason; a second
// failed attempt on the invoice goes to the same thread; replays change
// nothing.
func TestDunningEnrichAndRetry(t *testing.T) {
	t.Parallel()
	now := time.Date(2027, 3, 10, 15, 0, 0, 0, time.UTC)
	d := newDeployment(t, withEnv("STRIPE_WEBHOOK_SECRET", stripeSecret))
	r := d.start(withClock(func() time.Time { return now }), unpaced())
	r.accounts(ingest.AccountIn{ExternalID: "enco", Name: "Enco", ARR: 20000, OwnerCSM: "U0CSM", StripeCustomerID: str("cus_EN")})
	send := func(evt map[string]any, want string) {
		t.Helper()
		if code, body := r.stripe(evt, stripeSecret, now, ""); code != http.StatusOK || body["status"] != want {
			t.Fatalf("%s: %d %v, want %s", evt["id"], code, body, want)
		}
	}

	// invoice.payment_failed with the charge unexpanded: no decline reason yet.
	send(stripeEvent("evt_E1", dunning.EventInvoicePaymentFailed, now, map[string]any{"id": "in_E1", "object": "invoice",
		"customer": "cus_EN", "amount_due": 50000, "currency": "usd", "charge": "ch_E1"}), "processed")
	d.settle()
	root := d.root(alertChannel, "Payment failed: Enco")
	if got := plain(root); !strings.Contains(got, "no decline code · Unclassified decline") || !strings.Contains(got, "Path: Retry schedule") {
		t.Fatalf("alert without a decline reason:\n%s", got)
	}

	// charge.failed about the same charge brings expired_card: the case
	// takes the card-update path, said in the thread.
	chargeFailed := stripeEvent("evt_E2", dunning.EventChargeFailed, now, map[string]any{"id": "ch_E1", "object": "charge",
		"customer": "cus_EN", "amount": 50000, "currency": "usd", "invoice": "in_E1", "failure_code": "expired_card"})
	send(chargeFailed, "processed")
	send(chargeFailed, "duplicate")
	d.settle()
	if got := latest(d.fake.Messages(alertChannel), root.TS); !strings.Contains(got, "expired_card · Technical decline") || !strings.Contains(got, "Path: Card update") {
		t.Fatalf("alert not reclassified:\n%s", got)
	}

	// A second failed attempt on the invoice: the same case and thread.
	send(stripeEvent("evt_E3", dunning.EventInvoicePaymentFailed, now, map[string]any{"id": "in_E1", "object": "invoice",
		"customer": "cus_EN", "amount_due": 50000, "currency": "usd",
		"charge": map[string]any{"id": "ch_E2", "object": "charge", "outcome": map[string]any{"reason": "insufficient_funds"}}}), "processed")
	d.settle()
	var notes []string
	for _, m := range d.posts(alertChannel) {
		if m.ThreadTS == root.TS {
			notes = append(notes, plain(m))
		}
	}
	if len(notes) != 2 || !strings.Contains(notes[0], "Decline reason received: expired_card") || !strings.Contains(notes[1], "Attempt 2 failed: insufficient_funds") {
		t.Fatalf("thread notes %q", notes)
	}
	if got := latest(d.fake.Messages(alertChannel), root.TS); !strings.Contains(got, "Failed attempts: 2") || !strings.Contains(got, "Soft decline") {
		t.Errorf("alert after the second attempt:\n%s", got)
	}
	if n := d.count(`SELECT count(*) FROM dunning_cases`); n != 1 {
		t.Errorf("%d cases, want 1", n)
	}
	if n := d.count(`SELECT count(*) FROM dunning_attempts WHERE decline_class <> 'unknown'`); n != 2 {
		t.Errorf("%d classified attempts, want 2", n)
	}
	if n := d.rootsContaining(alertChannel, "Enco"); n != 1 {
		t.Errorf("%d alerts for Enco, want 1", n)
	}
}

// A burst of payment failures for one account, without invoices or
// amounts, is one case: one alert in the channel and one note in its
// thread per batch, not a post per signal; and with no amount it says
// "amount unknown" and is not called high-value.
func TestDunningBurstIsOneThread(t *testing.T) {
	t.Parallel()
	now := time.Date(2027, 3, 10, 15, 0, 0, 0, time.UTC)
	d := newDeployment(t, appendYAML("dunning:\n  escalate_arr: 100000\n"))
	r := d.start(withClock(newClock(now).Now), unpaced())
	r.accounts(ingest.AccountIn{ExternalID: "burstco", Name: "Burstco", ARR: 20000, OwnerCSM: "U0CSM"})
	var burst []ingest.SignalIn
	for i := range 30 {
		burst = append(burst, ingest.SignalIn{Account: "burstco", Kind: "payment_failed", Source: "billing",
			IdempotencyKey: "burst-" + strconv.Itoa(i), OccurredAt: now.Add(-time.Duration(30-i) * time.Minute),
			Metadata: json.RawMessage(`{"decline_code":"insufficient_funds"}`)})
	}
	r.signals(burst...)
	r.signals(ingest.SignalIn{Account: "burstco", Kind: "payment_failed", Source: "billing", IdempotencyKey: "burst-late",
		OccurredAt: now, Metadata: json.RawMessage(`{"decline_code":"insufficient_funds"}`)})
	d.settle()

	if n := d.count(`SELECT count(*) FROM dunning_cases`); n != 1 {
		t.Errorf("%d dunning cases, want 1", n)
	}
	if n := d.count(`SELECT count(*) FROM dunning_attempts`); n != 31 {
		t.Errorf("%d attempts recorded, want 31", n)
	}
	root := d.root(alertChannel, "Payment failed: Burstco")
	var thread []string
	for _, m := range d.posts(alertChannel) {
		switch {
		case m.ThreadTS == "" && m.TS != root.TS:
			t.Errorf("another top-level post: %s", plain(m))
		case m.ThreadTS == root.TS:
			thread = append(thread, plain(m))
		}
	}
	if len(thread) != 2 || !strings.Contains(thread[0], "Attempts 2–30 failed") || !strings.Contains(thread[1], "Attempt 31 failed") {
		t.Errorf("thread notes: %q, want one for attempts 2–30 and one for attempt 31", thread)
	}
	text := plain(root)
	for _, w := range []string{"amount unknown"} {
		if !strings.Contains(text, w) {
			t.Errorf("alert lacks %q:\n%s", w, text)
		}
	}
	for _, w := range []string{"High-value", "$0.00"} {
		if strings.Contains(text, w) {
			t.Errorf("alert has %q:\n%s", w, text)
		}
	}
}
