package connectors

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/scoring"
)

// Intercom signs notifications with X-Hub-Signature: "sha1=" + hex
// HMAC-SHA1 of the body, keyed by the app's client secret. The signature
// carries no time, so the signed body's own first_sent_at bounds its age.
const (
	intercomSignature = "X-Hub-Signature"
	intercomTolerance = time.Hour
)

type intercom struct {
	secret   string
	settings ToolSettings
}

func (*intercom) name() string    { return Intercom }
func (c *intercom) enabled() bool { return c.secret != "" }

// SignIntercom is the X-Hub-Signature of body.
func SignIntercom(secret string, body []byte) string {
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write(body)
	return "sha1=" + hex.EncodeToString(mac.Sum(nil))
}

func (c *intercom) verify(r *http.Request, body []byte, now time.Time) error {
	sig := r.Header.Get(intercomSignature)
	if sig == "" {
		return fmt.Errorf("unsigned: %s is required", intercomSignature)
	}
	if !equalMAC(sig, SignIntercom(c.secret, body)) {
		return fmt.Errorf("%s does not match the body", intercomSignature)
	}
	var p struct {
		FirstSentAt int64 `json:"first_sent_at"`
		CreatedAt   int64 `json:"created_at"`
	}
	if err := decodeJSON(body, &p); err != nil {
		return badPayload{err}
	}
	sent := p.FirstSentAt
	if sent == 0 {
		sent = p.CreatedAt
	}
	if sent == 0 || !within(time.Unix(sent, 0), now, intercomTolerance) {
		return fmt.Errorf("stale: the notification was first sent more than %s ago", intercomTolerance)
	}
	return nil
}

type intercomAuthor struct {
	Type  string `json:"type"` // user, lead, admin, bot
	ID    string `json:"id"`
	Email string `json:"email"`
}

// intercomNotification is Intercom's webhook notification with a
// conversation as its item.
type intercomNotification struct {
	Type      string `json:"type"`
	ID        string `json:"id"`
	Topic     string `json:"topic"`
	CreatedAt int64  `json:"created_at"`
	Data      struct {
		Item struct {
			Type      string   `json:"type"`
			ID        idString `json:"id"`
			CreatedAt int64    `json:"created_at"`
			UpdatedAt int64    `json:"updated_at"`
			State     string   `json:"state"`
			Priority  string   `json:"priority"`
			Source    struct {
				Subject string         `json:"subject"`
				Body    string         `json:"body"`
				Author  intercomAuthor `json:"author"`
			} `json:"source"`
			Contacts struct {
				Contacts []struct {
					ID         string `json:"id"`
					ExternalID string `json:"external_id"`
				} `json:"contacts"`
			} `json:"contacts"`
			Company *struct {
				ID        string `json:"id"`
				CompanyID string `json:"company_id"`
			} `json:"company"`
			ConversationRating *struct {
				Rating    *float64 `json:"rating"`
				Remark    string   `json:"remark"`
				CreatedAt int64    `json:"created_at"`
			} `json:"conversation_rating"`
			ConversationParts struct {
				Parts []struct {
					ID        string         `json:"id"`
					PartType  string         `json:"part_type"`
					Body      string         `json:"body"`
					CreatedAt int64          `json:"created_at"`
					Author    intercomAuthor `json:"author"`
				} `json:"conversation_parts"`
			} `json:"conversation_parts"`
		} `json:"item"`
	} `json:"data"`
}

func (c *intercom) parse(body []byte, now time.Time) ([]Event, error) {
	var n intercomNotification
	if err := decodeJSON(body, &n); err != nil {
		return nil, err
	}
	if n.Type != "notification_event" || n.ID == "" {
		return nil, errors.New("not an Intercom notification (want type notification_event and id)")
	}
	ev := Event{ID: n.ID}
	it := n.Data.Item
	if it.Type != "conversation" {
		return []Event{ev}, nil // ping and other topics: acknowledged, nothing stored
	}
	var company, external string
	if it.Company != nil {
		company = it.Company.ID
	}
	if len(it.Contacts.Contacts) > 0 {
		external = it.Contacts.Contacts[0].ExternalID
	}
	ev.Keys = orderKeys(c.settings.MapBy, Key{KeyCompany, company}, Key{KeyExternalID, external},
		Key{KeyEmailDomain, emailDomain(it.Source.Author.Email)})
	at := time.Unix(n.CreatedAt, 0).UTC()
	if n.CreatedAt == 0 || at.After(now) {
		at = now
	}
	status := strings.ToLower(it.State)
	signal := func(text string, unanalysed bool) ingest.SignalIn {
		return ingest.SignalIn{Kind: string(scoring.KindTicket), Source: Intercom, IdempotencyKey: n.ID, OccurredAt: at,
			Severity: severity(it.Priority), Text: text, Unanalysed: unanalysed,
			Metadata: metadata(map[string]any{"ticket_id": string(it.ID), "status": status, "event": n.Topic})}
	}
	customer := func(a intercomAuthor) bool { return a.Type == "user" || a.Type == "lead" || a.Type == "contact" }
	switch n.Topic {
	case "conversation.user.created":
		ev.Signals = append(ev.Signals, signal(joinText(plainText(it.Source.Subject), plainText(it.Source.Body)), false))
	case "conversation.user.replied", "conversation.admin.replied":
		// The reply is the newest comment part; notes are internal.
		var text string
		var fromCustomer bool
		for _, p := range it.ConversationParts.Parts {
			if p.PartType == "comment" {
				text, fromCustomer = joinText(plainText(p.Body)), customer(p.Author)
			}
		}
		if text != "" {
			ev.Signals = append(ev.Signals, signal(text, !fromCustomer))
		}
	case "conversation.admin.closed":
		status = "closed"
		ev.Signals = append(ev.Signals, signal("", true))
	case "conversation.admin.opened":
		status = "open"
		ev.Signals = append(ev.Signals, signal("", true))
	case "conversation.rating.added":
		if r := it.ConversationRating; r != nil && r.Rating != nil && *r.Rating >= 1 && *r.Rating <= 5 {
			v := *r.Rating
			ev.Signals = append(ev.Signals, ingest.SignalIn{Kind: string(scoring.KindCSAT), Source: Intercom,
				IdempotencyKey: n.ID, OccurredAt: at, Value: &v, Text: joinText(r.Remark),
				Metadata: metadata(map[string]any{"ticket_id": string(it.ID), "rating": v})})
		}
	}
	return []Event{ev}, nil
}
