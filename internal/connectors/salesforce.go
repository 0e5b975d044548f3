package connectors

import (
	"bytes"
	"crypto/subtle"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/holdfast/holdfast/internal/rooms"
)

// Salesforce Outbound Messages are SOAP notifications without a
// signature: the organisation id in the message must be the configured
// one (plus, optionally, a token in the endpoint URL and Salesforce's
// client certificate at the proxy), and the answer is the SOAP
// acknowledgement, without which Salesforce redelivers for 24 hours.
type salesforce struct {
	enabledFlag bool
	token       string
	settings    SalesforceSettings
}

func (*salesforce) name() string    { return Salesforce }
func (s *salesforce) enabled() bool { return s.enabledFlag }

type sfField struct {
	XMLName xml.Name
	Nil     string `xml:"http://www.w3.org/2001/XMLSchema-instance nil,attr"`
	Value   string `xml:",chardata"`
}

type sfNotifications struct {
	OrganizationID string `xml:"OrganizationId"`
	ActionID       string `xml:"ActionId"`
	Notification   []struct {
		ID      string `xml:"Id"`
		SObject struct {
			Type   string    `xml:"http://www.w3.org/2001/XMLSchema-instance type,attr"`
			Fields []sfField `xml:",any"`
		} `xml:"sObject"`
	} `xml:"Notification"`
}

type sfEnvelope struct {
	XMLName xml.Name `xml:"Envelope"`
	Body    struct {
		Notifications *sfNotifications `xml:"notifications"`
	} `xml:"Body"`
}

func decodeSalesforce(body []byte) (*sfNotifications, error) {
	var env sfEnvelope
	dec := xml.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&env); err != nil || env.Body.Notifications == nil {
		return nil, errors.New("not a Salesforce Outbound Message (SOAP notifications)")
	}
	return env.Body.Notifications, nil
}

// sameOrg compares 15- and 18-character ids: the 18-character form adds a
// case-safety suffix to the same 15.
func sameOrg(a, b string) bool {
	if len(a) < 15 || len(b) < 15 {
		return false
	}
	return a[:15] == b[:15]
}

func (s *salesforce) verify(r *http.Request, body []byte, _ time.Time) error {
	if s.token != "" && subtle.ConstantTimeCompare([]byte(r.URL.Query().Get("token")), []byte(s.token)) != 1 {
		return errors.New("the endpoint URL's token= does not match SALESFORCE_OUTBOUND_TOKEN")
	}
	n, err := decodeSalesforce(body)
	if err != nil {
		return err
	}
	if !sameOrg(n.OrganizationID, s.settings.OrganizationID) {
		return errors.New("OrganizationId is not connectors.salesforce.organization_id")
	}
	return nil
}

func (s *salesforce) parse(body []byte, now time.Time) ([]Event, error) {
	n, err := decodeSalesforce(body)
	if err != nil {
		return nil, err
	}
	if len(n.Notification) == 0 {
		return nil, errors.New("no Notification in the message")
	}
	var out []Event
	for i, note := range n.Notification {
		if note.ID == "" {
			return nil, fmt.Errorf("notification %d has no Id", i)
		}
		fields := map[string]string{}
		for _, f := range note.SObject.Fields {
			if f.Nil != "true" {
				fields[f.XMLName.Local] = strings.TrimSpace(f.Value)
			}
		}
		ev := Event{ID: note.ID}
		switch strings.TrimPrefix(note.SObject.Type, "sf:") {
		case "Opportunity":
			won := fields["IsWon"] == "true" || rooms.NormalizeStage(fields["StageName"]) == rooms.StageClosedWon
			if !won || fields["Id"] == "" {
				break // other stages: acknowledged, nothing stored
			}
			ev.Keys = orderKeys(s.settings.MapBy, Key{KeyCRMID, fields["AccountId"]})
			deal := &rooms.DealIn{ID: fields["Id"], Name: fields["Name"], Stage: rooms.StageClosedWon, CRMAccountID: fields["AccountId"]}
			if d, err := time.Parse(time.DateOnly, fields["CloseDate"]); err == nil && !d.After(now) {
				deal.ClosedAt = &d
			}
			if a, err := strconv.ParseFloat(fields["Amount"], 64); err == nil && a >= 0 {
				deal.ARR = &a
			}
			ev.Deal = deal
		case "Account":
			ev.Keys = orderKeys(s.settings.MapBy, Key{KeyCRMID, fields["Id"]})
			ev.Traits = map[string]string{}
			for k, v := range fields {
				if k != "Id" {
					ev.Traits[k] = v
				}
			}
			if len(ev.Traits) == 0 {
				ev.Traits = nil
			}
		}
		out = append(out, ev)
	}
	return out, nil
}

// sfAck is the acknowledgement Salesforce's outbound messaging WSDL
// defines; anything else is a failed delivery to Salesforce.
const sfAck = `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
  <soapenv:Body>
    <notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">
      <Ack>true</Ack>
    </notificationsResponse>
  </soapenv:Body>
</soapenv:Envelope>
`

func (*salesforce) respond(w http.ResponseWriter, _ Result) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(sfAck))
}
