package dunning

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestVerifyStripeSignature(t *testing.T) {
	t.Parallel()
	secret := "whsec_test_secret_0123456789"
	now := time.Unix(1_800_000_000, 0)
	payload := []byte(`{"id":"evt_1","type":"invoice.paid"}`)
	good := SignStripePayload(payload, secret, now)
	ts := strings.Split(strings.Split(good, ",")[0], "=")[1]
	sig := strings.Split(good, "v1=")[1]
	for _, tc := range []struct {
		name    string
		header  string
		payload []byte
		now     time.Time
		want    error
	}{
		{"valid", good, payload, now, nil},
		{"valid, 4m59s old", good, payload, now.Add(299 * time.Second), nil},
		{"a rotated secret's signature first", "t=" + ts + ",v1=" + strings.Repeat("ab", 32) + ",v1=" + sig, payload, now, nil},
		{"stale: 5m01s old", good, payload, now.Add(301 * time.Second), ErrStaleSig},
		{"from the future", good, payload, now.Add(-6 * time.Minute), ErrStaleSig},
		{"payload changed", good, []byte(`{"id":"evt_2","type":"invoice.paid"}`), now, ErrBadSignature},
		{"other secret", SignStripePayload(payload, "whsec_other_secret_012345", now), payload, now, ErrBadSignature},
		{"timestamp changed", "t=" + "1800000001" + ",v1=" + sig, payload, now, ErrBadSignature},
		{"only v0", "t=" + ts + ",v0=" + sig, payload, now, ErrNoSignature},
		{"no timestamp", "v1=" + sig, payload, now, ErrNoSignature},
		{"empty", "", payload, now, ErrNoSignature},
		{"garbage", "t=abc,v1=zz", payload, now, ErrNoSignature},
	} {
		if err := VerifyStripeSignature(tc.payload, tc.header, secret, tc.now, StripeTolerance); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestStripeDeclineCode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, object, want string
	}{
		{"charge outcome reason", `{"object":"charge","failure_code":"card_declined","outcome":{"reason":"insufficient_funds"}}`, "insufficient_funds"},
		{"charge failure code", `{"object":"charge","failure_code":"expired_card","outcome":{"reason":null}}`, "expired_card"},
		{"risk outcome falls back to the failure code", `{"object":"charge","failure_code":"card_declined","outcome":{"reason":"highest_risk_level"}}`, "card_declined"},
		{"invoice with expanded charge", `{"object":"invoice","charge":{"id":"ch_1","outcome":{"reason":"stolen_card"}}}`, "stolen_card"},
		{"invoice with expanded payment intent", `{"object":"invoice","charge":"ch_1","payment_intent":{"id":"pi_1","last_payment_error":{"code":"card_declined","decline_code":"do_not_honor"}}}`, "do_not_honor"},
		{"invoice without detail", `{"object":"invoice","charge":"ch_1"}`, ""},
		{"unknown code kept", `{"object":"charge","failure_code":"something_new"}`, "something_new"},
	} {
		var o stripeObject
		if err := json.Unmarshal([]byte(tc.object), &o); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := o.DeclineCode(); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestStripeWebhookDisabled(t *testing.T) {
	t.Parallel()
	m := New(nil, nil, Options{}, time.Now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	rec := httptest.NewRecorder()
	m.stripeWebhook(rec, httptest.NewRequest(http.MethodPost, "/webhooks/stripe", strings.NewReader(`{}`)))
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "STRIPE_WEBHOOK_SECRET") {
		t.Errorf("disabled webhook answered %d %s", rec.Code, rec.Body)
	}
}

func BenchmarkVerifyStripeSignature(b *testing.B) {
	payload := []byte(strings.Repeat(`{"id":"evt_1","type":"invoice.payment_failed"}`, 60)) // ~3 KB, a typical event
	now := time.Unix(1_800_000_000, 0)
	header := SignStripePayload(payload, "whsec_test_secret_0123456789", now)
	for b.Loop() {
		if err := VerifyStripeSignature(payload, header, "whsec_test_secret_0123456789", now, StripeTolerance); err != nil {
			b.Fatal(err)
		}
	}
}
