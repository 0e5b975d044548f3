package connectors

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// Segment's webhook destinations sign with X-Signature: hex HMAC-SHA1 of
// the body with the destination's shared secret. The signature carries no
// time; the signed body's receivedAt (else sentAt) bounds its age.
const (
	segmentSignature = "X-Signature"
	segmentTolerance = 24 * time.Hour
)

type segment struct {
	secret   string
	settings SegmentSettings
}

func (*segment) name() string    { return Segment }
func (s *segment) enabled() bool { return s.secret != "" }

// SignSegment is the X-Signature of body.
func SignSegment(secret string, body []byte) string {
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// segmentMessage is a Segment spec message: track, identify or group.
type segmentMessage struct {
	Type        string         `json:"type"`
	MessageID   string         `json:"messageId"`
	Event       string         `json:"event"`
	UserID      idString       `json:"userId"`
	AnonymousID idString       `json:"anonymousId"`
	GroupID     idString       `json:"groupId"`
	Timestamp   time.Time      `json:"timestamp"`
	SentAt      time.Time      `json:"sentAt"`
	ReceivedAt  time.Time      `json:"receivedAt"`
	Properties  map[string]any `json:"properties"`
	Traits      map[string]any `json:"traits"`
	Context     struct {
		GroupID idString       `json:"groupId"`
		Traits  map[string]any `json:"traits"`
	} `json:"context"`
}

func (s *segment) verify(r *http.Request, body []byte, now time.Time) error {
	sig := r.Header.Get(segmentSignature)
	if sig == "" {
		return fmt.Errorf("unsigned: %s is required", segmentSignature)
	}
	if !equalMAC(sig, SignSegment(s.secret, body)) {
		return fmt.Errorf("%s does not match the body", segmentSignature)
	}
	msgs, err := decodeSegment(body)
	if err != nil {
		return badPayload{err}
	}
	for _, m := range msgs {
		sent := m.ReceivedAt
		if sent.IsZero() {
			sent = m.SentAt
		}
		if sent.IsZero() || !within(sent, now, segmentTolerance) {
			return fmt.Errorf("stale: a message was received by Segment more than %s ago", segmentTolerance)
		}
	}
	return nil
}

// maxSegmentBatch bounds a batched delivery (Webhooks (Actions) with
// batching on sends an array of messages).
const maxSegmentBatch = 1000

// decodeSegment reads one message, or the array a batching destination
// sends.
func decodeSegment(body []byte) ([]segmentMessage, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var msgs []segmentMessage
		if err := decodeJSON(trimmed, &msgs); err != nil {
			return nil, err
		}
		if len(msgs) == 0 || len(msgs) > maxSegmentBatch {
			return nil, fmt.Errorf("a batch must hold 1 to %d messages (got %d)", maxSegmentBatch, len(msgs))
		}
		return msgs, nil
	}
	var m segmentMessage
	if err := decodeJSON(trimmed, &m); err != nil {
		return nil, err
	}
	return []segmentMessage{m}, nil
}

func (s *segment) parse(body []byte, now time.Time) ([]Event, error) {
	msgs, err := decodeSegment(body)
	if err != nil {
		return nil, err
	}
	out := make([]Event, len(msgs))
	for i, m := range msgs {
		if m.MessageID == "" || m.Type == "" {
			return nil, fmt.Errorf("message %d is not a Segment message (want type and messageId)", i)
		}
		out[i] = s.event(m, now)
	}
	return out, nil
}

// event is what one message becomes: a usage data point (track), a link
// from a user to its group (group, identify), or nothing.
func (s *segment) event(m segmentMessage, now time.Time) Event {
	ev := Event{ID: m.MessageID}
	user := Key{keyUser, string(m.UserID)}
	if user.Value == "" {
		user.Value = string(m.AnonymousID)
	}
	group := func(id idString) Key { return Key{s.settings.MapBy, string(id)} }
	switch m.Type {
	case "group":
		if m.GroupID != "" && user.Value != "" {
			ev.Links = []Link{{From: user, To: group(m.GroupID)}}
		}
	case "identify":
		// A user's company, when the identify call names it, links the
		// user like a group call would.
		if c, ok := m.Traits["company"].(map[string]any); ok && user.Value != "" {
			if id, ok := c["id"].(string); ok && id != "" {
				ev.Links = []Link{{From: user, To: group(idString(id))}}
			}
		}
	case "track":
		if len(s.settings.Events) > 0 && !slices.Contains(s.settings.Events, m.Event) {
			break
		}
		value := 1.0
		if p := s.settings.SumProperty; p != "" {
			v, ok := parseFloat(m.Properties[p])
			if !ok || v < 0 || v != v || v > 1e12 {
				break // nothing to sum: counts nothing
			}
			value = v
		}
		at := m.Timestamp
		if at.IsZero() || at.After(now.Add(10*time.Minute)) {
			at = now
		}
		gid := m.Context.GroupID
		if gid == "" {
			if id, ok := m.Properties["groupId"].(string); ok {
				gid = idString(id)
			}
		}
		ev.Keys = []Key{group(gid), user}
		if gid == "" {
			ev.Keys = []Key{user}
		}
		ev.Usage = &Usage{Day: at.UTC().Format(time.DateOnly), Value: value}
	}
	return ev
}
