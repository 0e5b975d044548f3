package connectors

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/holdfast/holdfast/internal/rooms"
)

// HubSpot's v3 signature: base64(HMAC-SHA256(client secret, method + URI +
// body + timestamp)), timestamp in milliseconds, at most 5 minutes old.
const (
	hubspotSignature = "X-HubSpot-Signature-v3"
	hubspotTimestamp = "X-HubSpot-Request-Timestamp"
)

type hubspot struct {
	secret    string
	settings  HubSpotSettings
	publicURL string
}

func (*hubspot) name() string    { return HubSpot }
func (h *hubspot) enabled() bool { return h.secret != "" }

// SignHubSpot is the X-HubSpot-Signature-v3 of a request.
func SignHubSpot(secret, method, uri string, body []byte, ts string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(method + uri))
	mac.Write(body)
	mac.Write([]byte(ts))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func (h *hubspot) verify(r *http.Request, body []byte, now time.Time) error {
	sig, ts := r.Header.Get(hubspotSignature), r.Header.Get(hubspotTimestamp)
	if sig == "" || ts == "" {
		return fmt.Errorf("unsigned: %s and %s are required", hubspotSignature, hubspotTimestamp)
	}
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%s is not milliseconds since the epoch", hubspotTimestamp)
	}
	if !within(time.UnixMilli(ms), now, webhookTolerance) {
		return fmt.Errorf("stale: %s is more than %s from now", hubspotTimestamp, webhookTolerance)
	}
	uri := requestURL(r, h.publicURL)
	// HubSpot signs the URI with its percent-encoded characters decoded.
	decoded, err := url.PathUnescape(uri)
	if err != nil {
		decoded = uri
	}
	for _, u := range []string{decoded, uri} {
		if equalMAC(sig, SignHubSpot(h.secret, r.Method, u, body, ts)) {
			return nil
		}
	}
	return fmt.Errorf("%s does not match the request (is connectors.public_url the URL set in HubSpot?)", hubspotSignature)
}

// hubspotEvent is one element of HubSpot's webhook batch: legacy
// subscription types (deal.propertyChange) and generic ones
// (object.propertyChange with objectTypeId) alike.
type hubspotEvent struct {
	EventID          int64   `json:"eventId"`
	SubscriptionID   int64   `json:"subscriptionId"`
	PortalID         int64   `json:"portalId"`
	OccurredAt       int64   `json:"occurredAt"`
	SubscriptionType string  `json:"subscriptionType"`
	ObjectTypeID     string  `json:"objectTypeId"`
	ObjectID         int64   `json:"objectId"`
	PropertyName     string  `json:"propertyName"`
	PropertyValue    *string `json:"propertyValue"`
	// associationChange
	AssociationType    string `json:"associationType"`
	FromObjectID       int64  `json:"fromObjectId"`
	ToObjectID         int64  `json:"toObjectId"`
	AssociationRemoved bool   `json:"associationRemoved"`
}

// object is the CRM object an event is about: deal or company.
func (e hubspotEvent) object() (kind, action string) {
	kind, action, _ = strings.Cut(e.SubscriptionType, ".")
	if kind == "object" {
		switch e.ObjectTypeID {
		case "0-3":
			kind = "deal"
		case "0-2":
			kind = "company"
		}
	}
	return kind, action
}

func (h *hubspot) parse(body []byte, now time.Time) ([]Event, error) {
	var batch []hubspotEvent
	if err := decodeJSON(body, &batch); err != nil {
		return nil, err
	}
	if len(batch) == 0 {
		return nil, errors.New("empty HubSpot batch")
	}
	out := make([]Event, 0, len(batch))
	for i, e := range batch {
		if e.EventID == 0 || e.SubscriptionType == "" {
			return nil, fmt.Errorf("event %d: not a HubSpot webhook event (want eventId and subscriptionType)", i)
		}
		// HubSpot says eventId alone is not guaranteed unique; with the
		// subscription and object it identifies a delivery's event.
		ev := Event{ID: fmt.Sprintf("%d-%d-%d", e.SubscriptionID, e.EventID, e.ObjectID)}
		at := time.UnixMilli(e.OccurredAt).UTC()
		if e.OccurredAt == 0 || at.After(now) {
			at = now
		}
		kind, action := e.object()
		value := ""
		if e.PropertyValue != nil {
			value = *e.PropertyValue
		}
		company := func(id int64) Key { return Key{h.settings.MapBy, strconv.FormatInt(id, 10)} }
		switch {
		case kind == "deal" && action == "associationChange":
			if strings.HasPrefix(e.AssociationType, "DEAL_TO_COMPANY") && !e.AssociationRemoved {
				ev.Links = []Link{{From: Key{keyDeal, strconv.FormatInt(e.FromObjectID, 10)}, To: company(e.ToObjectID)}}
			}
		case kind == "company" && action == "associationChange":
			if strings.HasPrefix(e.AssociationType, "COMPANY_TO_DEAL") && !e.AssociationRemoved {
				ev.Links = []Link{{From: Key{keyDeal, strconv.FormatInt(e.ToObjectID, 10)}, To: company(e.FromObjectID)}}
			}
		case kind == "deal" && action == "propertyChange" && e.PropertyName == "dealstage" && slices.Contains(h.settings.WonStages, value):
			id := strconv.FormatInt(e.ObjectID, 10)
			ev.Keys = []Key{{keyDeal, id}}
			closed := at
			ev.Deal = &rooms.DealIn{ID: "hubspot-" + id, Stage: rooms.StageClosedWon, ClosedAt: &closed}
		case kind == "company" && action == "propertyChange" && e.PropertyName != "":
			ev.Keys = []Key{company(e.ObjectID)}
			ev.Traits = map[string]string{e.PropertyName: value}
		}
		out = append(out, ev)
	}
	return out, nil
}
