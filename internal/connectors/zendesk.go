package connectors

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/scoring"
)

// Zendesk signs every webhook request: base64(HMAC-SHA256(secret,
// timestamp + body)) with the timestamp in its own header.
const (
	zendeskSignature = "X-Zendesk-Webhook-Signature"
	zendeskTimestamp = "X-Zendesk-Webhook-Signature-Timestamp"
	// webhookTolerance is how far a signed timestamp may be from now, so a
	// captured request cannot be replayed later.
	webhookTolerance = 5 * time.Minute
)

type zendesk struct {
	secret   string
	settings ToolSettings
}

func (*zendesk) name() string    { return Zendesk }
func (z *zendesk) enabled() bool { return z.secret != "" }

// SignZendesk is the X-Zendesk-Webhook-Signature of body at ts, as Zendesk
// computes it (tests and `holdfast connectors test`).
func SignZendesk(secret, ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func (z *zendesk) verify(r *http.Request, body []byte, now time.Time) error {
	sig, ts := r.Header.Get(zendeskSignature), r.Header.Get(zendeskTimestamp)
	if sig == "" || ts == "" {
		return fmt.Errorf("unsigned: %s and %s are required", zendeskSignature, zendeskTimestamp)
	}
	at, err := time.Parse(time.RFC3339, ts)
	if err != nil {
		return fmt.Errorf("%s is not an RFC 3339 time", zendeskTimestamp)
	}
	if !within(at, now, webhookTolerance) {
		return fmt.Errorf("stale: %s is more than %s from now", zendeskTimestamp, webhookTolerance)
	}
	if !equalMAC(sig, SignZendesk(z.secret, ts, body)) {
		return fmt.Errorf("%s does not match the body", zendeskSignature)
	}
	return nil
}

// zendeskEvent is Zendesk's event webhook payload (ticket events), as
// documented: type, id, time, subject, detail (the ticket), event (what
// changed).
type zendeskEvent struct {
	Type   string    `json:"type"`
	ID     string    `json:"id"`
	Time   time.Time `json:"time"`
	Detail struct {
		ID             idString `json:"id"`
		Subject        string   `json:"subject"`
		Description    string   `json:"description"`
		Priority       string   `json:"priority"`
		Status         string   `json:"status"`
		OrganizationID idString `json:"organization_id"`
		RequesterID    idString `json:"requester_id"`
	} `json:"detail"`
	Event struct {
		Current  any `json:"current"`
		Previous any `json:"previous"`
		Comment  *struct {
			ID       idString `json:"id"`
			Body     string   `json:"body"`
			IsPublic bool     `json:"is_public"`
			Author   struct {
				ID      idString `json:"id"`
				IsStaff bool     `json:"is_staff"`
			} `json:"author"`
		} `json:"comment"`
	} `json:"event"`

	// A trigger's JSON body (the satisfaction rating template in the
	// README) uses Zendesk placeholders instead.
	TicketID               idString `json:"ticket_id"`
	OrgID                  idString `json:"organization_id"`
	OrganizationExternalID string   `json:"organization_external_id"`
	RequesterEmail         string   `json:"requester_email"`
	Satisfaction           string   `json:"satisfaction"`
	SatisfactionComment    string   `json:"satisfaction_comment"`
	TicketPriority         string   `json:"priority"`
	UpdatedAt              string   `json:"updated_at"`
}

func (z *zendesk) parse(body []byte, now time.Time) ([]Event, error) {
	var p zendeskEvent
	if err := decodeJSON(body, &p); err != nil {
		return nil, err
	}
	if p.Satisfaction != "" {
		ev, err := z.rating(p, now)
		if err != nil {
			return nil, err
		}
		return []Event{ev}, nil
	}
	if p.ID == "" || !strings.HasPrefix(p.Type, "zen:event-type:") {
		return nil, errors.New("not a Zendesk event (want type zen:event-type:… and id) nor the satisfaction trigger body")
	}
	ev := Event{ID: p.ID, Keys: orderKeys(z.settings.MapBy, Key{KeyOrganization, zeroless(p.Detail.OrganizationID)})}
	at := p.Time
	if at.IsZero() {
		at = now
	}
	ticket := string(p.Detail.ID)
	status := strings.ToLower(p.Detail.Status)
	signal := func(text string) ingest.SignalIn {
		return ingest.SignalIn{Kind: string(scoring.KindTicket), Source: Zendesk, IdempotencyKey: p.ID, OccurredAt: at,
			Severity: severity(p.Detail.Priority), Text: text,
			Metadata: metadata(map[string]any{"ticket_id": ticket, "status": status, "event": strings.TrimPrefix(p.Type, "zen:event-type:"),
				"priority": strings.ToLower(p.Detail.Priority), "subject": p.Detail.Subject})}
	}
	switch strings.TrimPrefix(p.Type, "zen:event-type:") {
	case "ticket.created":
		ev.Signals = append(ev.Signals, signal(joinText(p.Detail.Subject, p.Detail.Description)))
	case "ticket.comment_added":
		// Internal notes are the team's words, not the customer's.
		if c := p.Event.Comment; c != nil && c.IsPublic {
			s := signal(joinText(c.Body))
			s.Unanalysed = c.Author.IsStaff
			ev.Signals = append(ev.Signals, s)
		}
	case "ticket.status_changed":
		if cur, ok := p.Event.Current.(string); ok {
			status = strings.ToLower(cur)
		}
		ev.Signals = append(ev.Signals, signal(""))
	case "ticket.priority_changed":
		if cur, ok := p.Event.Current.(string); ok {
			p.Detail.Priority = cur
		}
		ev.Signals = append(ev.Signals, signal(""))
	}
	// Other ticket, user and organisation events are acknowledged and
	// recorded by id, and store nothing.
	return []Event{ev}, nil
}

// zeroless drops Zendesk's "0" for "no organisation".
func zeroless(id idString) string {
	if id == "0" {
		return ""
	}
	return string(id)
}

// rating reads the satisfaction trigger body: "good"/"bad" ratings (the
// classic survey) or 1-5 (the newer CSAT survey).
func (z *zendesk) rating(p zendeskEvent, now time.Time) (Event, error) {
	ticket := string(p.TicketID)
	if ticket == "" {
		return Event{}, errors.New("satisfaction body without ticket_id")
	}
	r := strings.ToLower(strings.TrimSpace(p.Satisfaction))
	var v float64
	switch {
	case strings.HasPrefix(r, "good"):
		v = 5
	case strings.HasPrefix(r, "bad"):
		v = 1
	default:
		n, err := strconv.ParseFloat(r, 64)
		if err != nil || n < 1 || n > 5 {
			// "offered" and "unoffered" are not ratings yet.
			return Event{ID: "csat:" + ticket + ":" + r}, nil
		}
		v = n
	}
	at := now
	if t, err := time.Parse(time.RFC3339, p.UpdatedAt); err == nil && !t.After(now) {
		at = t
	}
	id := "csat:" + ticket + ":" + r
	return Event{ID: id,
		Keys: orderKeys(z.settings.MapBy, Key{KeyOrganization, zeroless(p.OrgID)}, Key{KeyExternalID, p.OrganizationExternalID},
			Key{KeyEmailDomain, emailDomain(p.RequesterEmail)}),
		Signals: []ingest.SignalIn{{Kind: string(scoring.KindCSAT), Source: Zendesk, IdempotencyKey: id, OccurredAt: at, Value: &v,
			Text: joinText(p.SatisfactionComment), Metadata: metadata(map[string]any{"ticket_id": ticket, "rating": r})}},
	}, nil
}
