package rooms

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/holdfast/holdfast/api"
)

// Webhook signature headers: the timestamp (Unix seconds) and
// "v1=" + hex(HMAC-SHA256(secret, "v1:" + timestamp + ":" + body)).
const (
	HeaderTimestamp = "X-Holdfast-Timestamp"
	HeaderSignature = "X-Holdfast-Signature"
	// webhookTolerance bounds how old a signed request may be, so a
	// captured request cannot be replayed later.
	webhookTolerance = 5 * time.Minute
	maxDealsBody     = 4 << 20
)

// SignWebhook computes the signature header value for body at ts; CRM-side
// senders (and tests) use it.
func SignWebhook(secret string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v1:%d:", ts)
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

// routes serve POST /v1/deals (behind the bearer token) and POST
// /webhooks/crm (which checks its HMAC signature, and answers 404 while
// HOLDFAST_CRM_WEBHOOK_SECRET is unset).
func (d *Deals) routes() []api.Route {
	return []api.Route{
		{Pattern: "POST /v1/deals", Name: "deals", Authed: true, Handler: func(w http.ResponseWriter, r *http.Request) {
			if raw, ok := api.ReadBody(w, r, maxDealsBody); ok {
				d.recordDeals(w, r, raw, "api")
			}
		}},
		{Pattern: "POST /webhooks/crm", Name: "crm_webhook", Handler: d.crmWebhook},
	}
}

func (d *Deals) crmWebhook(w http.ResponseWriter, r *http.Request) {
	if d.webhookSecret == "" {
		api.WriteError(w, http.StatusNotFound, "not_configured", "the CRM webhook is off: set HOLDFAST_CRM_WEBHOOK_SECRET", nil)
		return
	}
	raw, ok := api.ReadBody(w, r, maxDealsBody)
	if !ok {
		return
	}
	if err := verifyWebhook(d.webhookSecret, r.Header, raw, time.Now()); err != nil {
		api.WriteError(w, http.StatusUnauthorized, "bad_signature", err.Error(), nil)
		return
	}
	d.recordDeals(w, r, raw, "crm_webhook")
}

func verifyWebhook(secret string, h http.Header, body []byte, now time.Time) error {
	ts, err := strconv.ParseInt(h.Get(HeaderTimestamp), 10, 64)
	if err != nil {
		return fmt.Errorf("missing or bad %s header (Unix seconds)", HeaderTimestamp)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > webhookTolerance || d < -webhookTolerance {
		return fmt.Errorf("%s is more than %s away from now", HeaderTimestamp, webhookTolerance)
	}
	want := SignWebhook(secret, ts, body)
	if !hmac.Equal([]byte(h.Get(HeaderSignature)), []byte(want)) {
		return fmt.Errorf("%s does not match the body", HeaderSignature)
	}
	return nil
}

func (d *Deals) recordDeals(w http.ResponseWriter, r *http.Request, raw []byte, source string) {
	var body struct {
		Deals []DealIn `json:"deals"`
	}
	if !api.DecodeJSON(w, raw, &body) {
		return
	}
	res, err := d.RecordDeals(r.Context(), body.Deals, source)
	if api.Failed(d.log, w, r, err) {
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"deals": res})
}
