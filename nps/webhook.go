package nps

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
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
