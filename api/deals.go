package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/holdfast/holdfast/ingest"
	"github.com/holdfast/holdfast/rooms"
	"github.com/holdfast/holdfast/store"
)

// Deals is the domain behind POST /v1/deals and the CRM webhook.
type Deals interface {
	RecordDeals(ctx context.Context, in []rooms.DealIn, source string) ([]store.DealResult, error)
}

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

// DealsHandlers serve POST /v1/deals (mount with MountAuthed) and POST
// /webhooks/crm (mount with Mount: it checks its HMAC signature, and
// answers 404 when webhookSecret is empty).
func (s *Server) DealsHandlers(d Deals, webhookSecret string) (deals, crmWebhook http.HandlerFunc) {
	deals = func(w http.ResponseWriter, r *http.Request) {
		if raw, ok := readBody(w, r, maxDealsBody); ok {
			s.recordDeals(w, r, d, raw, "api")
		}
	}
	crmWebhook = func(w http.ResponseWriter, r *http.Request) {
		if webhookSecret == "" {
			writeError(w, http.StatusNotFound, "not_configured", "the CRM webhook is off: set HOLDFAST_CRM_WEBHOOK_SECRET", nil)
			return
		}
		raw, ok := readBody(w, r, maxDealsBody)
		if !ok {
			return
		}
		if err := verifyWebhook(webhookSecret, r.Header, raw, time.Now()); err != nil {
			writeError(w, http.StatusUnauthorized, "bad_signature", err.Error(), nil)
			return
		}
		s.recordDeals(w, r, d, raw, "crm_webhook")
	}
	return deals, crmWebhook
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

func (s *Server) recordDeals(w http.ResponseWriter, r *http.Request, d Deals, raw []byte, source string) {
	var body struct {
		Deals []rooms.DealIn `json:"deals"`
	}
	if !decodeJSON(w, raw, &body) {
		return
	}
	res, err := d.RecordDeals(r.Context(), body.Deals, source)
	var ve *rooms.ValidationError
	var re *store.DealRowsError
	switch {
	case errors.As(err, &ve):
		writeError(w, http.StatusUnprocessableEntity, "invalid_rows", "the batch was rejected; nothing was stored", rowErrors(ve.Rows))
		return
	case errors.As(err, &re):
		writeError(w, http.StatusUnprocessableEntity, "invalid_rows", "the batch was rejected; nothing was stored", rowErrors(re.Rows))
		return
	}
	if s.failed(w, r, err) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"deals": res})
}

func rowErrors(in []rooms.RowError) []ingest.RowError {
	out := make([]ingest.RowError, len(in))
	for i, e := range in {
		out[i] = ingest.RowError(e)
	}
	return out
}
