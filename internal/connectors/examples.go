package connectors

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// The vendors' documented example payloads, kept as test fixtures, double
// as what `holdfast connectors test` sends.
//
//go:embed testdata/zendesk_ticket_created.json testdata/intercom_conversation_created.json testdata/hubspot_deal_won.json testdata/salesforce_opportunity_won.xml testdata/segment_track.json
var examples embed.FS

// ExampleRequest is a tool's example payload, made fresh (its ids and
// times now) and signed with the configured secret, for base (the running
// bot, e.g. http://127.0.0.1:8080).
func ExampleRequest(tool, base string, settings Settings, secrets Secrets, now time.Time) (*http.Request, error) {
	stamp := strconv.FormatInt(now.UnixNano(), 36)
	read := func(name string) []byte {
		raw, _ := examples.ReadFile("testdata/" + name) // embedded: cannot fail
		return raw
	}
	swap := func(b []byte, pairs ...string) []byte {
		for i := 0; i+1 < len(pairs); i += 2 {
			b = bytes.ReplaceAll(b, []byte(pairs[i]), []byte(pairs[i+1]))
		}
		return b
	}
	target := base + "/webhooks/" + tool
	utc := now.UTC()
	var body []byte
	header := http.Header{"Content-Type": {"application/json"}}
	switch tool {
	case Zendesk:
		if secrets.ZendeskSecret == "" {
			return nil, errors.New("ZENDESK_WEBHOOK_SECRET is not set")
		}
		body = swap(read("zendesk_ticket_created.json"), "cbe4028c-7239-495d-b020-f22348516046", "holdfast-test-"+stamp,
			"2026-11-25T09:30:00Z", utc.Format(time.RFC3339))
		ts := utc.Format(time.RFC3339)
		header.Set(zendeskTimestamp, ts)
		header.Set(zendeskSignature, SignZendesk(secrets.ZendeskSecret, ts, body))
	case Intercom:
		if secrets.IntercomSecret == "" {
			return nil, errors.New("INTERCOM_CLIENT_SECRET is not set")
		}
		body = swap(read("intercom_conversation_created.json"), "notif_ccd8a4d2-3a81-4b5b-8d8a-0c2d6c9d1f11", "notif_holdfast_test_"+stamp,
			"1795599000", strconv.FormatInt(utc.Unix(), 10))
		header.Set(intercomSignature, SignIntercom(secrets.IntercomSecret, body))
	case HubSpot:
		if secrets.HubSpotSecret == "" {
			return nil, errors.New("HUBSPOT_CLIENT_SECRET is not set")
		}
		ms := strconv.FormatInt(utc.UnixMilli(), 10)
		body = swap(read("hubspot_deal_won.json"), `"eventId": 1001`, `"eventId": `+ms, `"eventId": 1002`, `"eventId": `+ms+`1`,
			"1795598000000", ms, "1795599000000", ms)
		signed := target
		if settings.PublicURL != "" {
			signed = settings.PublicURL + "/webhooks/" + tool
		}
		header.Set(hubspotTimestamp, ms)
		header.Set(hubspotSignature, SignHubSpot(secrets.HubSpotSecret, http.MethodPost, signed, body, ms))
	case Segment:
		if secrets.SegmentSecret == "" {
			return nil, errors.New("SEGMENT_WEBHOOK_SECRET is not set")
		}
		iso := utc.Format("2006-01-02T15:04:05.000Z")
		body = swap(read("segment_track.json"), "ajs-next-f8c3b1a2c8e4d7b1a9e2", "holdfast-test-"+stamp,
			"2026-11-25T09:30:01.250Z", iso, "2026-11-25T09:30:00.900Z", iso, "2026-11-25T09:30:00.000Z", iso)
		header.Set(segmentSignature, SignSegment(secrets.SegmentSecret, body))
	case Salesforce:
		if settings.Salesforce.OrganizationID == "" {
			return nil, errors.New("connectors.salesforce.organization_id is not set")
		}
		body = swap(read("salesforce_opportunity_won.xml"), "00D000000000062EAA", settings.Salesforce.OrganizationID,
			"04l0800002nrC5BAAU", "04lTEST"+stamp)
		header.Set("Content-Type", "text/xml; charset=utf-8")
		if secrets.SalesforceToken != "" {
			target += "?token=" + url.QueryEscape(secrets.SalesforceToken)
		}
	case Gong:
		return nil, errors.New("Gong signs with its own private key, which Holdfast never has: use the Test button of the automation rule in Gong")
	default:
		return nil, fmt.Errorf("unknown connector %q (want one of zendesk, intercom, hubspot, salesforce, segment, gong)", tool)
	}
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = header
	return req, nil
}
