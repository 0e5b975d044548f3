package nps

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/holdfast/holdfast/store"
)

// Survey webhook headers. The signature covers the timestamp and the body
// ("<unix seconds>.<body>"), so a captured request cannot be replayed later
// with a fresh timestamp, and the receiver can reject old ones.
const (
	HeaderTimestamp = "X-Holdfast-Timestamp"
	HeaderSignature = "X-Holdfast-Signature" // "v1=<hex HMAC-SHA256>"
	HeaderDelivery  = "X-Holdfast-Delivery"  // the same on every retry: receivers de-duplicate by it
)

// Sign returns the X-Holdfast-Signature value for body sent at ts.
func Sign(secret []byte, ts time.Time, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(strconv.FormatInt(ts.Unix(), 10)))
	mac.Write([]byte("."))
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Errors Verify returns.
var (
	ErrBadSignature = errors.New("signature does not match")
	ErrStale        = errors.New("timestamp outside the tolerance")
)

// Verify checks a request as a receiver should: timestamp within tolerance
// of now, signature equal in constant time.
func Verify(secret []byte, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrStale
	}
	ts := time.Unix(sec, 0)
	if d := now.Sub(ts); d > tolerance || d < -tolerance {
		return ErrStale
	}
	want := Sign(secret, ts, body)
	if !strings.HasPrefix(signature, "v1=") || !hmac.Equal([]byte(want), []byte(signature)) {
		return ErrBadSignature
	}
	return nil
}

// Sending to the survey tool: one POST per delivery, leased from the
// deliveries queue by the webhook job.
const (
	deliveriesPerRun = 20
	postTimeout      = 10 * time.Second // one POST to the survey tool
	// deliveryLease outlasts a run of slow POSTs, so a later tick (on any
	// replica) does not take a delivery this run has yet to send.
	deliveryLease = deliveriesPerRun*postTimeout + time.Minute
	warnAfter     = 5 // failed attempts before the CS channel hears
	// A failed POST is retried after 1, 2, 4… minutes, then hourly.
	retryBase  = time.Minute
	retryLimit = time.Hour
)

// payloadType is the type of every survey-tool payload.
const payloadType = "nps.surveys_due"

// SurveyPayload is what the survey tool receives (POST, JSON, signed).
type SurveyPayload struct {
	Type        string          `json:"type"` // "nps.surveys_due"
	GeneratedAt time.Time       `json:"generated_at"`
	Surveys     []SurveyRequest `json:"surveys"`
}

// SurveyRequest is one survey to send. The tool echoes survey_id back in
// the answer (POST /v1/nps) so it is matched exactly.
type SurveyRequest struct {
	SurveyID    int64      `json:"survey_id"`
	Account     string     `json:"account"` // external id
	AccountName string     `json:"account_name"`
	Kind        SurveyKind `json:"kind"`
	Reason      string     `json:"reason"`
	// Contact is who to survey; "" = the account's contacts as the tool
	// knows them. KnownRespondents are who answered in the last year.
	Contact          string   `json:"contact"`
	KnownRespondents []string `json:"known_respondents,omitempty"`
	OwnerCSM         string   `json:"owner_csm,omitempty"`
}

func (m *Module) webhookOn() bool { return m.cfg.Webhook.URL != "" }

// Webhook POSTs pending survey batches to the survey tool. A failure is
// retried with backoff (1, 2, 4… minutes, then hourly) until the tool
// answers 2xx; the CS channel hears once when it keeps failing.
func (m *Module) Webhook(ctx context.Context, now time.Time) error {
	if !m.webhookOn() {
		return nil
	}
	list, err := leaseDeliveries(ctx, m.store.DB(), now, deliveriesPerRun, deliveryLease)
	if err != nil {
		return err
	}
	var errs []error
	for _, d := range list {
		if err := m.deliver(ctx, d, now); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// deliver POSTs one delivery and records how it went.
func (m *Module) deliver(ctx context.Context, d delivery, now time.Time) error {
	sendErr := m.post(ctx, d, now)
	if sendErr == nil {
		return m.store.InTx(ctx, func(tx store.Tx) error { return deliveryDone(ctx, tx, d.ID, now) })
	}
	m.log.Warn("survey tool POST failed; will retry", "delivery", d.ID, "attempt", d.Attempts, "err", sendErr)
	return m.store.InTx(ctx, func(tx store.Tx) error {
		next := now.Add(store.Backoff(d.Attempts, retryBase, retryLimit))
		if err := deliveryFailed(ctx, tx, d.ID, next, sendErr.Error()); err != nil {
			return err
		}
		if d.Attempts < warnAfter || m.channel == "" {
			return nil
		}
		if first, err := warnOnce(ctx, tx, d.ID, now); err != nil || !first {
			return err
		}
		var p SurveyPayload
		_ = json.Unmarshal(d.Payload, &p) // our own JSON
		return tx.Enqueue(ctx, store.OutboxItem{Op: store.OpPost, ChannelID: m.channel,
			Message: webhookFailing(len(p.Surveys), d.Attempts, sendErr.Error())})
	})
}

// post sends one delivery, signed; the secret is never logged.
func (m *Module) post(ctx context.Context, d delivery, now time.Time) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.cfg.Webhook.URL, bytes.NewReader(d.Payload))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Holdfast")
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(HeaderSignature, Sign(m.secret, now, d.Payload))
	req.Header.Set(HeaderDelivery, strconv.FormatInt(d.ID, 10))
	resp, err := m.http.Do(req)
	if err != nil {
		return fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("survey tool answered %s", resp.Status)
	}
	return nil
}
