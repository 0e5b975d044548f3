package dunning

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/holdfast/holdfast/api"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/store"
)

// StripeTolerance is how old (or how far ahead) a signed timestamp may be:
// Stripe's libraries default to 5 minutes, which bounds replays of a
// captured request.
const StripeTolerance = 5 * time.Minute

// maxStripeBody bounds a webhook body; Stripe events are a few KB.
const maxStripeBody = 1 << 20

// Errors of Stripe signature verification.
var (
	ErrNoSignature  = errors.New("no Stripe-Signature with a timestamp and a v1 signature")
	ErrStaleSig     = errors.New("signature timestamp outside the tolerance")
	ErrBadSignature = errors.New("no v1 signature matches the payload")
)

// VerifyStripeSignature checks a Stripe-Signature header ("t=…,v1=…[,v1=…]")
// against payload: HMAC-SHA256 with secret over "t.payload", compared in
// constant time, with the timestamp within tolerance of now.
func VerifyStripeSignature(payload []byte, header, secret string, now time.Time, tolerance time.Duration) error {
	var ts int64
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return ErrNoSignature
			}
			ts = n
		case "v1":
			if b, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	if ts == 0 || len(sigs) == 0 {
		return ErrNoSignature
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return ErrStaleSig
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(ts, 10)))
	mac.Write([]byte("."))
	mac.Write(payload)
	want := mac.Sum(nil)
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return nil
		}
	}
	return ErrBadSignature
}

// SignStripePayload builds a Stripe-Signature header for payload (tests,
// and operators replaying an event by hand).
func SignStripePayload(payload []byte, secret string, at time.Time) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%d.", at.Unix())
	mac.Write(payload)
	return fmt.Sprintf("t=%d,v1=%s", at.Unix(), hex.EncodeToString(mac.Sum(nil)))
}

// Stripe event types the webhook acts on.
const (
	EventInvoicePaymentFailed = "invoice.payment_failed"
	EventInvoicePaid          = "invoice.paid"
	EventChargeFailed         = "charge.failed"
)

type stripeEvent struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Created int64  `json:"created"`
	Data    struct {
		Object json.RawMessage `json:"object"`
	} `json:"data"`
}

// expandable is a Stripe field that is an id or, when expanded, an object.
type expandable struct {
	ID  string
	Obj *stripeObject
}

func (e *expandable) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		return nil
	case b[0] == '"':
		return json.Unmarshal(b, &e.ID)
	case b[0] == '{':
		e.Obj = &stripeObject{}
		if err := json.Unmarshal(b, e.Obj); err != nil {
			return err
		}
		e.ID = e.Obj.ID
	}
	return nil
}

type stripeObject struct {
	ID                 string            `json:"id"`
	Object             string            `json:"object"`
	Customer           expandable        `json:"customer"`
	Metadata           map[string]string `json:"metadata"`
	Currency           string            `json:"currency"`
	AmountDue          *int64            `json:"amount_due"`
	AmountPaid         *int64            `json:"amount_paid"`
	Amount             *int64            `json:"amount"`
	NextPaymentAttempt *int64            `json:"next_payment_attempt"`
	Charge             expandable        `json:"charge"`
	PaymentIntent      expandable        `json:"payment_intent"`
	Invoice            expandable        `json:"invoice"`
	FailureCode        string            `json:"failure_code"`
	Outcome            *struct {
		Reason string `json:"reason"`
	} `json:"outcome"`
	LastPaymentError *struct {
		DeclineCode string `json:"decline_code"`
		Code        string `json:"code"`
	} `json:"last_payment_error"`
}

// DeclineCode finds the decline reason in a charge, payment intent or
// invoice (with its charge or payment intent expanded): the most specific
// code that classifies, else the first one present.
func (o *stripeObject) DeclineCode() string {
	if o == nil {
		return ""
	}
	var found []string
	if o.Outcome != nil {
		found = append(found, o.Outcome.Reason)
	}
	if o.LastPaymentError != nil {
		found = append(found, o.LastPaymentError.DeclineCode, o.LastPaymentError.Code)
	}
	found = append(found, o.FailureCode, o.Charge.Obj.DeclineCode(), o.PaymentIntent.Obj.DeclineCode(), o.Metadata["decline_code"])
	for _, c := range found {
		if Classify(c) != Unknown {
			return NormalizeCode(c)
		}
	}
	for _, c := range found {
		if c != "" {
			return NormalizeCode(c)
		}
	}
	return ""
}

// stripeWebhook receives Stripe's invoice.payment_failed, charge.failed
// and invoice.paid events and feeds them through the ingest pipeline as
// payment signals; the hook does the rest in the same transaction. An
// empty secret disables it (404): an unverifiable webhook must not accept
// anything.
func (m *Module) stripeWebhook(w http.ResponseWriter, r *http.Request) {
	if m.opts.StripeWebhookSecret == "" {
		api.WriteError(w, http.StatusNotFound, "disabled", "the Stripe webhook is disabled: set STRIPE_WEBHOOK_SECRET", nil)
		return
	}
	payload, ok := api.ReadBody(w, r, maxStripeBody)
	if !ok {
		return
	}
	// Verify before parsing anything: a forged request learns nothing and stores nothing.
	if err := VerifyStripeSignature(payload, r.Header.Get("Stripe-Signature"), m.opts.StripeWebhookSecret, m.now(), StripeTolerance); err != nil {
		m.log.Warn("stripe webhook rejected", "reason", err, "remote", r.RemoteAddr)
		api.WriteError(w, http.StatusBadRequest, "bad_signature", "Stripe-Signature verification failed: "+err.Error(), nil)
		return
	}
	var evt stripeEvent
	var obj stripeObject
	if err := json.Unmarshal(payload, &evt); err != nil || evt.ID == "" || evt.Type == "" {
		api.WriteError(w, http.StatusBadRequest, "bad_json", "body is not a Stripe event", nil)
		return
	}
	switch evt.Type {
	case EventInvoicePaymentFailed, EventInvoicePaid, EventChargeFailed:
	default:
		api.WriteJSON(w, http.StatusOK, map[string]string{"status": "ignored", "reason": "event type " + evt.Type + " is not handled"})
		return
	}
	if err := json.Unmarshal(evt.Data.Object, &obj); err != nil {
		api.WriteError(w, http.StatusBadRequest, "bad_json", "data.object is not a Stripe "+strings.SplitN(evt.Type, ".", 2)[0]+": "+err.Error(), nil)
		return
	}
	ctx := r.Context()
	if seen, err := stripeEventSeen(ctx, m.store.DB(), evt.ID); err != nil {
		m.internal(w, evt, err)
		return
	} else if seen {
		api.WriteJSON(w, http.StatusOK, map[string]string{"status": "duplicate", "event": evt.ID})
		return
	}
	acct, err := m.account(ctx, &obj)
	if errors.Is(err, store.ErrNotFound) {
		// Stripe retries non-2xx for days; a customer Holdfast does not
		// track will not appear by then. Said in the answer and the log.
		m.log.Info("stripe event for an unknown customer", "event", evt.ID, "customer", obj.Customer.ID)
		api.WriteJSON(w, http.StatusOK, map[string]string{"status": "ignored", "reason": "no account for customer " + obj.Customer.ID})
		return
	}
	if err != nil {
		m.internal(w, evt, err)
		return
	}
	sig, ok, err := m.signal(ctx, evt, &obj, acct)
	if err != nil {
		m.internal(w, evt, err)
		return
	}
	if !ok {
		api.WriteJSON(w, http.StatusOK, map[string]string{"status": "ignored", "reason": "invoice " + obj.ID + " has no open dunning case"})
		return
	}
	b, err := m.ingest.Prepare(ctx, []ingest.SignalIn{sig})
	var res ingest.SignalsResult
	if err == nil {
		// The event is recorded with its signal: a replay finds it seen, a
		// rolled-back one is retried by Stripe.
		res, err = b.Finish(m.store.InTx(ctx, func(tx store.Tx) error {
			if err := m.ingest.Apply(ctx, tx, b); err != nil {
				return err
			}
			return recordStripeEvent(ctx, tx, evt.ID, evt.Type, acct.ID)
		}))
	}
	if errors.Is(err, errStripeEventSeen) {
		api.WriteJSON(w, http.StatusOK, map[string]string{"status": "duplicate", "event": evt.ID})
		return
	}
	var ve *api.ValidationError
	if errors.As(err, &ve) {
		api.WriteError(w, http.StatusUnprocessableEntity, "invalid_event", "the event could not be stored as a signal; nothing was stored", ve.Rows)
		return
	}
	if err != nil {
		m.internal(w, evt, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"status": "processed", "event": evt.ID, "account": acct.ExternalID,
		"signal_ids": res.SignalIDs})
}

func (m *Module) internal(w http.ResponseWriter, evt stripeEvent, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	m.log.Error("stripe webhook failed", "event", evt.ID, "type", evt.Type, "err", err)
	api.WriteError(w, http.StatusInternalServerError, "internal", "the event was not stored; Stripe will retry it", nil)
}

// account maps the event's customer to an account: metadata
// holdfast_account (on the object, then on an expanded customer) names the
// external id; otherwise the customer id stored on the account's profile.
func (m *Module) account(ctx context.Context, obj *stripeObject) (store.Account, error) {
	ext := obj.Metadata["holdfast_account"]
	if ext == "" && obj.Customer.Obj != nil {
		ext = obj.Customer.Obj.Metadata["holdfast_account"]
	}
	if ext != "" {
		return m.store.AccountByExternalID(ctx, ext)
	}
	if obj.Customer.ID == "" {
		return store.Account{}, store.ErrNotFound
	}
	return m.store.AccountByStripeCustomer(ctx, obj.Customer.ID)
}

// signal translates the event into a payment signal; ok=false when there
// is nothing to record (an invoice paid without a failure before it).
func (m *Module) signal(ctx context.Context, evt stripeEvent, obj *stripeObject, acct store.Account) (ingest.SignalIn, bool, error) {
	at := time.Unix(evt.Created, 0).UTC()
	if evt.Created == 0 {
		at = m.now().UTC()
	}
	meta := Meta{Currency: obj.Currency, StripeEvent: evt.ID}
	sig := ingest.SignalIn{Account: acct.ExternalID, Source: "stripe", OccurredAt: at}
	amount := func(minor *int64) {
		if minor != nil {
			v := FromMinor(*minor, obj.Currency)
			sig.Value = &v
		}
	}
	switch evt.Type {
	case EventInvoicePaid:
		open, err := caseOpen(ctx, m.store.DB(), "invoice:"+obj.ID)
		if err != nil || !open {
			return sig, false, err
		}
		sig.Kind, sig.IdempotencyKey = "payment_recovered", "invoice_paid:"+obj.ID
		meta.Invoice = obj.ID
		amount(obj.AmountPaid)
	case EventInvoicePaymentFailed:
		sig.Kind = "payment_failed"
		meta.Invoice, meta.Charge, meta.DeclineCode = obj.ID, obj.Charge.ID, obj.DeclineCode()
		if obj.NextPaymentAttempt != nil && *obj.NextPaymentAttempt > 0 {
			t := time.Unix(*obj.NextPaymentAttempt, 0).UTC()
			meta.NextPaymentAttempt = &t
		}
		amount(obj.AmountDue)
	case EventChargeFailed:
		sig.Kind = "payment_failed"
		meta.Invoice, meta.Charge, meta.DeclineCode = obj.Invoice.ID, obj.ID, obj.DeclineCode()
		amount(obj.Amount)
	}
	if sig.Kind == "payment_failed" {
		// One failed charge is one signal, whichever of Stripe's two
		// events about it arrives first; the second can only enrich it.
		sig.IdempotencyKey = "charge:" + meta.Charge
		if meta.Charge == "" {
			sig.IdempotencyKey = "event:" + evt.ID
		}
	}
	raw, err := json.Marshal(meta)
	if err != nil {
		return sig, false, fmt.Errorf("encode signal metadata: %w", err)
	}
	sig.Metadata = raw
	return sig, true, nil
}
