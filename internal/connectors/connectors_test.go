package connectors_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/holdfast/holdfast/api"
	"github.com/holdfast/holdfast/internal/connectors"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/internal/rooms"
	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/scoring/text"
	"github.com/holdfast/holdfast/store"
	"github.com/holdfast/holdfast/store/storetest"
)

// t0 is shortly after the fixtures' events (2026-11-25 09:30 UTC).
var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

const (
	zendeskSecret  = "zd-signing-secret-0123"
	intercomSecret = "ic-client-secret-0123"
	hubspotSecret  = "hs-client-secret-0123"
	segmentSecret  = "sg-shared-secret-0123"
	sfToken        = "sf-outbound-token-0123"
	sfOrg          = "00D000000000062EAA"
)

type env struct {
	t       testing.TB
	st      *store.Store
	m       *connectors.Module
	srv     *httptest.Server
	clock   atomic.Int64
	gongKey *rsa.PrivateKey
}

func (e *env) now() time.Time { return time.Unix(0, e.clock.Load()).UTC() }

var gongKey = func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}()

func gongPEM(k *rsa.PrivateKey) string {
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func secretsEnv(k string) string {
	return map[string]string{
		"ZENDESK_WEBHOOK_SECRET": zendeskSecret, "INTERCOM_CLIENT_SECRET": intercomSecret,
		"HUBSPOT_CLIENT_SECRET": hubspotSecret, "SEGMENT_WEBHOOK_SECRET": segmentSecret,
		"SALESFORCE_OUTBOUND_TOKEN": sfToken, "GONG_WEBHOOK_PUBLIC_KEY": gongPEM(gongKey),
	}[k]
}

// newEnv runs the connectors on a store of their own, behind the real API
// server. st may be shared with another env (a second replica).
func newEnv(t testing.TB, st *store.Store, tweak ...func(*connectors.Settings)) *env {
	t.Helper()
	if st == nil {
		st = storetest.New(t)
	}
	e := &env{t: t, st: st, gongKey: gongKey}
	e.clock.Store(t0.UnixNano())
	log := slog.New(slog.DiscardHandler)
	analyzer, err := text.NewAnalyzer(nil)
	if err != nil {
		t.Fatal(err)
	}
	pipeline := ingest.New(st, analyzer,
		ingest.Settings{Alerts: ingest.DefaultAlertSettings(), Scoring: scoring.DefaultConfig()}, e.now, log, nil)
	settings := connectors.DefaultSettings()
	settings.Salesforce.OrganizationID = sfOrg
	for _, f := range tweak {
		f(&settings)
	}
	if err := settings.Validate(); err != nil {
		t.Fatal(err)
	}
	secrets, err := connectors.LoadSecrets(secretsEnv, settings.Salesforce.OrganizationID)
	if err != nil {
		t.Fatal(err)
	}
	e.m = connectors.New(st, pipeline, connectors.Options{Settings: settings, Secrets: secrets,
		Deals: rooms.NewDeals(st, "", e.now, log), IsAdmin: func(u string) bool { return u == "U0ROLEADMIN" }},
		prometheus.NewRegistry(), e.now, log)
	server := api.New("", nil, prometheus.NewRegistry(), log)
	server.Mount(e.m.Routes()...)
	server.Mount(pipeline.Routes()...)
	e.srv = httptest.NewServer(server.Handler())
	t.Cleanup(func() { e.srv.Close(); e.m.Close() })
	return e
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// how a request is signed in a case.
type signing int

const (
	signed signing = iota
	unsigned
	forged
)

// request builds a tool's webhook request for body, signed as the tool
// would sign it at `at`.
func (e *env) request(tool string, body []byte, how signing, at time.Time) *http.Request {
	e.t.Helper()
	url := e.srv.URL + "/webhooks/" + tool
	if tool == connectors.Salesforce {
		token := sfToken
		if how == unsigned {
			token = ""
		}
		url += "?token=" + token
	}
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if how == unsigned {
		return req
	}
	secret := func(s string) string {
		if how == forged {
			return s + "-forged"
		}
		return s
	}
	switch tool {
	case connectors.Zendesk:
		ts := at.Format(time.RFC3339)
		req.Header.Set("X-Zendesk-Webhook-Signature-Timestamp", ts)
		req.Header.Set("X-Zendesk-Webhook-Signature", connectors.SignZendesk(secret(zendeskSecret), ts, body))
	case connectors.Intercom:
		req.Header.Set("X-Hub-Signature", connectors.SignIntercom(secret(intercomSecret), body))
	case connectors.HubSpot:
		ts := strconv.FormatInt(at.UnixMilli(), 10)
		req.Header.Set("X-HubSpot-Request-Timestamp", ts)
		req.Header.Set("X-HubSpot-Signature-v3", connectors.SignHubSpot(secret(hubspotSecret), http.MethodPost, url, body, ts))
	case connectors.Segment:
		req.Header.Set("X-Signature", connectors.SignSegment(secret(segmentSecret), body))
	case connectors.Gong:
		key := e.gongKey
		if how == forged {
			other, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				e.t.Fatal(err)
			}
			key = other
		}
		jwt, err := connectors.SignGongJWT(key, url, body, at.Add(5*time.Minute))
		if err != nil {
			e.t.Fatal(err)
		}
		req.Header.Set("Authorization", jwt)
	case connectors.Salesforce:
		req.Header.Set("Content-Type", "text/xml; charset=utf-8")
		if how == forged {
			req.Body = io.NopCloser(bytes.NewReader(bytes.ReplaceAll(body, []byte(sfOrg), []byte("00D000000000099XYZ"))))
		}
	}
	return req
}

func (e *env) send(req *http.Request) (int, string) {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

func (e *env) deliver(tool, name string) (int, string) {
	e.t.Helper()
	return e.send(e.request(tool, fixture(e.t, name), signed, e.now()))
}

func (e *env) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.st.Pool().QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// stored counts every row a connector event can leave behind.
func (e *env) stored() int {
	return e.count(`SELECT (SELECT count(*) FROM signals) + (SELECT count(*) FROM deals) + (SELECT count(*) FROM handoffs)
		+ (SELECT coalesce(sum(events), 0) FROM connector_usage) + (SELECT count(*) FROM connector_traits)
		+ (SELECT count(*) FROM connector_quarantine) + (SELECT count(*) FROM connector_events)`)
}

func (e *env) account(externalID, crmID string) int64 {
	e.t.Helper()
	var id int64
	err := e.st.Pool().QueryRow(context.Background(), `INSERT INTO accounts (external_id, name, crm_id) VALUES ($1, $2, $3) RETURNING id`,
		externalID, strings.ToUpper(externalID[:1])+externalID[1:], crmID).Scan(&id)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *env) mapKey(tool, kind, key, account string) connectors.MapResult {
	e.t.Helper()
	res, err := e.m.Map(context.Background(), connectors.MappingIn{Connector: tool, KeyKind: kind, Key: key, Account: account})
	if err != nil {
		e.t.Fatalf("map %s %s %s: %v", tool, kind, key, err)
	}
	return res
}

// knownAccounts sets up the account each fixture names.
func (e *env) knownAccounts() {
	e.account("acme", "")
	e.mapKey(connectors.Zendesk, connectors.KeyOrganization, "8447346621566", "acme")
	e.account("globex", "")
	e.mapKey(connectors.Intercom, connectors.KeyEmailDomain, "globex.example", "globex")
	e.account("initech", "001A000001XyZwVIAV")
	e.account("hubspot-co", "5174483541")
	e.account("umbrella", "")
	e.mapKey(connectors.Segment, connectors.KeyGroupID, "grp_umbrella", "umbrella")
	e.account("hooli", "0011630000vmLBaEEN")
}

var fixtures = []struct {
	tool, file string
	// what the fixture must leave, beyond its event id
	check string
	want  int
}{
	{connectors.Zendesk, "zendesk_ticket_created.json", `SELECT count(*) FROM signals WHERE kind = 'ticket' AND source = 'zendesk' AND severity = 'urgent'`, 1},
	{connectors.Intercom, "intercom_conversation_created.json", `SELECT count(*) FROM signals WHERE kind = 'ticket' AND source = 'intercom' AND severity = 'high'`, 1},
	{connectors.HubSpot, "hubspot_deal_won.json", `SELECT count(*) FROM handoffs h JOIN deals d ON d.id = h.deal_id WHERE d.external_id = 'hubspot-9876543210'`, 1},
	{connectors.Salesforce, "salesforce_opportunity_won.xml", `SELECT count(*) FROM deals WHERE external_id = '006A000001AbCdEIAV' AND stage = 'closed_won'`, 1},
	{connectors.Segment, "segment_track.json", `SELECT coalesce(sum(events), 0)::int FROM connector_usage`, 1},
	{connectors.Gong, "gong_call.json", `SELECT count(*) FROM signals WHERE kind = 'call_note' AND source = 'gong' AND text LIKE '%renewal is at risk%'`, 1},
}

// Each tool's documented payload, signed as the tool signs it, is stored
// once: a redelivery is a duplicate; unsigned, forged and stale requests
// get 401 and store nothing.
func TestFixturesSignedUnsignedForgedStaleReplayed(t *testing.T) {
	t.Parallel()
	for _, f := range fixtures {
		t.Run(f.tool, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			e.knownAccounts()
			body := fixture(t, f.file)
			before := e.stored()
			for _, c := range []struct {
				name string
				how  signing
				skew time.Duration // the clock when the request arrives, after it was signed
			}{{"unsigned", unsigned, 0}, {"forged", forged, 0}, {"stale", signed, 48 * time.Hour}} {
				if f.tool == connectors.Salesforce && c.name == "stale" {
					continue // Outbound Messages carry no time to be stale by
				}
				req := e.request(f.tool, body, c.how, t0)
				e.clock.Store(t0.Add(c.skew).UnixNano())
				code, answer := e.send(req)
				e.clock.Store(t0.UnixNano())
				if code != http.StatusUnauthorized || !strings.Contains(answer, `"error":"bad_signature"`) {
					t.Errorf("%s: %d %s, want 401 bad_signature", c.name, code, answer)
				}
				if n := e.stored(); n != before {
					t.Errorf("%s: %d rows stored, want none", c.name, n-before)
				}
			}
			code, answer := e.send(e.request(f.tool, body, signed, t0))
			if code != http.StatusOK {
				t.Fatalf("signed: %d %s", code, answer)
			}
			if f.tool == connectors.Salesforce && !strings.Contains(answer, "<Ack>true</Ack>") {
				t.Errorf("salesforce answer %s, want the SOAP acknowledgement", answer)
			}
			if n := e.count(f.check); n != f.want {
				t.Errorf("after the signed delivery: %s = %d, want %d (answer %s)", f.check, n, f.want, answer)
			}
			after := e.stored()
			code, answer = e.send(e.request(f.tool, body, signed, t0.Add(time.Minute)))
			if code != http.StatusOK {
				t.Fatalf("replayed: %d %s", code, answer)
			}
			if f.tool != connectors.Salesforce && !strings.Contains(answer, `"duplicates":`) || strings.Contains(answer, `"duplicates":0`) {
				t.Errorf("replayed: answer %s, want duplicates", answer)
			}
			if n := e.stored(); n != after {
				t.Errorf("replayed: %d more rows stored, want none", n-after)
			}
			if n := e.count(f.check); n != f.want {
				t.Errorf("after the replay: %s = %d, want %d", f.check, n, f.want)
			}
		})
	}
}

// A tool whose secret is unset is off: its URL answers 404, not 401, so a
// misconfiguration is told apart from an attack.
func TestConnectorWithoutSecretIsOff(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	log := slog.New(slog.DiscardHandler)
	m := connectors.New(st, nil, connectors.Options{Settings: connectors.DefaultSettings()}, nil, time.Now, log)
	t.Cleanup(m.Close)
	server := api.New("", nil, prometheus.NewRegistry(), log)
	server.Mount(m.Routes()...)
	srv := httptest.NewServer(server.Handler())
	t.Cleanup(srv.Close)
	for _, tool := range connectors.Tools {
		resp, err := http.Post(srv.URL+"/webhooks/"+tool, "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404 while its secret is unset", tool, resp.StatusCode)
		}
	}
}

// An event whose account is not known waits in the quarantine; mapping
// its key replays it as if it had just arrived, once.
func TestUnknownAccountQuarantinedThenReplayedAfterMapping(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.account("acme", "")
	for _, f := range []string{"zendesk_ticket_created.json", "zendesk_comment_added.json", "zendesk_status_solved.json"} {
		if code, answer := e.deliver(connectors.Zendesk, f); code != http.StatusOK || !strings.Contains(answer, `"quarantined":1`) {
			t.Fatalf("%s: %d %s, want 200 and quarantined", f, code, answer)
		}
	}
	if n := e.count(`SELECT count(*) FROM signals`); n != 0 {
		t.Fatalf("%d signals stored for an unknown account", n)
	}
	status, err := e.m.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(status.Quarantine) != 1 || status.Quarantine[0].Key != "8447346621566" || status.Quarantine[0].Events != 3 {
		t.Fatalf("quarantine %+v, want 3 events under organization 8447346621566", status.Quarantine)
	}
	// A redelivery while quarantined is a duplicate, not a second copy.
	if code, answer := e.deliver(connectors.Zendesk, "zendesk_ticket_created.json"); code != http.StatusOK || !strings.Contains(answer, `"duplicates":1`) {
		t.Fatalf("redelivery: %d %s", code, answer)
	}

	res := e.mapKey(connectors.Zendesk, connectors.KeyOrganization, "8447346621566", "acme")
	if res.Replayed != 3 || res.Waiting != 0 {
		t.Fatalf("mapping replayed %d (waiting %d), want 3 and 0", res.Replayed, res.Waiting)
	}
	if n := e.count(`SELECT count(*) FROM signals s JOIN accounts a ON a.id = s.account_id WHERE a.external_id = 'acme' AND s.source = 'zendesk'`); n != 3 {
		t.Errorf("%d zendesk signals on acme after the replay, want 3", n)
	}
	// The solved ticket is what the NPS cadence's "after a resolved
	// critical ticket" rule reads.
	if n := e.count(`SELECT count(*) FROM signals WHERE kind = 'ticket' AND severity = 'urgent'
		AND metadata->>'status' = 'solved' AND metadata->>'ticket_id' = '35436'`); n != 1 {
		t.Errorf("%d solved urgent ticket signals, want 1", n)
	}
	// Replaying again finds nothing left.
	if res := e.mapKey(connectors.Zendesk, connectors.KeyOrganization, "8447346621566", "acme"); res.Replayed != 0 {
		t.Errorf("second mapping replayed %d, want 0", res.Replayed)
	}
	if n := e.count(`SELECT count(*) FROM connector_events WHERE account_id IS NULL`); n != 0 {
		t.Errorf("%d events still without an account", n)
	}
}

// An account created later with the key's external id (here a Segment
// groupId that is the account's external id) picks its waiting events up
// without anyone mapping anything.
func TestQuarantineReplaysWhenTheAccountAppears(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, func(s *connectors.Settings) { s.Segment.MapBy = connectors.KeyExternalID })
	body := fixture(t, "segment_track.json")
	body = bytes.ReplaceAll(body, []byte("grp_umbrella"), []byte("umbrella"))
	if code, answer := e.send(e.request(connectors.Segment, body, signed, t0)); code != http.StatusOK || !strings.Contains(answer, `"quarantined":1`) {
		t.Fatalf("%d %s", code, answer)
	}
	if n, err := e.m.ReplayResolvable(context.Background()); err != nil || n != 0 {
		t.Fatalf("replay before the account exists: %d, %v", n, err)
	}
	// The account arrives the ordinary way.
	var out map[string]any
	postJSON(t, e.srv.URL+"/v1/accounts", map[string]any{"accounts": []ingest.AccountIn{{ExternalID: "umbrella", Name: "Umbrella"}}}, &out)
	if n, err := e.m.ReplayResolvable(context.Background()); err != nil || n != 1 {
		t.Fatalf("replay after the account exists: %d, %v", n, err)
	}
	if n := e.count(`SELECT coalesce(sum(u.events), 0)::int FROM connector_usage u JOIN accounts a ON a.id = u.account_id WHERE a.external_id = 'umbrella'`); n != 1 {
		t.Errorf("usage events on umbrella %d, want 1", n)
	}
}

func postJSON(t testing.TB, url string, body, out any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	resp, err := http.Post(url, "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %d %s", url, resp.StatusCode, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatal(err)
	}
}

// A HubSpot closed-won deal opens its account's room once, however often
// HubSpot delivers the stage change, and whether the deal's company was
// known before or after.
func TestHubSpotClosedWonOpensOneRoom(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.account("hubspot-co", "5174483541")
	code, answer := e.deliver(connectors.HubSpot, "hubspot_deal_won.json")
	if code != http.StatusOK || !strings.Contains(answer, `"stored":1`) {
		t.Fatalf("%d %s", code, answer)
	}
	// HubSpot retries, and a second stage change to closedwon arrives as a
	// new event for the same deal.
	e.deliver(connectors.HubSpot, "hubspot_deal_won.json")
	again := bytes.ReplaceAll(fixture(t, "hubspot_deal_won.json"), []byte(`"eventId": 1002`), []byte(`"eventId": 1099`))
	if code, answer := e.send(e.request(connectors.HubSpot, again, signed, t0)); code != http.StatusOK {
		t.Fatalf("second win event: %d %s", code, answer)
	}
	if n := e.count(`SELECT count(*) FROM handoffs h JOIN deals d ON d.id = h.deal_id JOIN accounts a ON a.id = d.account_id
		WHERE a.external_id = 'hubspot-co'`); n != 1 {
		t.Errorf("%d handoffs, want exactly 1", n)
	}
	if code, answer := e.deliver(connectors.HubSpot, "hubspot_company_changed.json"); code != http.StatusOK {
		t.Fatalf("company: %d %s", code, answer)
	}
	traits, err := e.m.Traits(context.Background(), e.idOf("hubspot-co"))
	if err != nil {
		t.Fatal(err)
	}
	if traits[connectors.HubSpot]["industry"] != "COMPUTER_SOFTWARE" {
		t.Errorf("traits %v, want hubspot industry", traits)
	}
	if n := e.count(`SELECT count(*) FROM account_profiles p JOIN accounts a ON a.id = p.account_id
		WHERE a.external_id = 'hubspot-co' AND p.industry = 'COMPUTER_SOFTWARE'`); n != 1 {
		t.Errorf("the account profile's industry was not filled from the CRM")
	}
}

func (e *env) idOf(externalID string) int64 {
	e.t.Helper()
	var id int64
	if err := e.st.Pool().QueryRow(context.Background(), `SELECT id FROM accounts WHERE external_id = $1`, externalID).Scan(&id); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// Segment's events, spread over two replicas that share the database and
// each receive some of the same messages, sum to the right daily usage.
func TestSegmentUsageAcrossTwoReplicas(t *testing.T) {
	t.Parallel()
	sum := func(s *connectors.Settings) {
		s.Segment.Events = []string{"Report Built"}
		s.Segment.SumProperty = "minutes"
	}
	a := newEnv(t, nil, sum)
	b := newEnv(t, a.st, sum)
	a.account("umbrella", "")
	a.mapKey(connectors.Segment, connectors.KeyGroupID, "grp_umbrella", "umbrella")
	base := fixture(t, "segment_track.json")
	const n = 200
	done := make(chan error, 2*n)
	for i := range n {
		// Message i carries i%5 minutes; each is sent to one replica and
		// every third one to the other too (a retry through another node).
		body := bytes.ReplaceAll(base, []byte("ajs-next-f8c3b1a2c8e4d7b1a9e2"), []byte(fmt.Sprintf("msg-%d", i)))
		body = bytes.ReplaceAll(body, []byte(`"minutes": 12`), []byte(fmt.Sprintf(`"minutes": %d`, i%5)))
		if i%7 == 0 {
			body = bytes.ReplaceAll(body, []byte(`"Report Built"`), []byte(`"Page Viewed"`))
		}
		targets := []*env{a}
		if i%2 == 1 {
			targets[0] = b
		}
		if i%3 == 0 {
			targets = append(targets, a, b)
		}
		for _, e := range targets {
			req := e.request(connectors.Segment, body, signed, t0)
			go func() {
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				done <- err
			}()
		}
	}
	want, events := 0.0, 0
	sent := 0
	for i := range n {
		sent++
		if i%3 == 0 {
			sent += 2
		}
		if i%7 != 0 {
			want += float64(i % 5)
			events++
		}
	}
	for range sent {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	value, got, err := a.m.DailyUsage(context.Background(), a.idOf("umbrella"), "2026-11-25")
	if err != nil {
		t.Fatal(err)
	}
	if value != want || int(got) != events {
		t.Errorf("daily usage %v over %d events, want %v over %d", value, got, want, events)
	}
	// A day still open (or within the hour after) is not a signal yet.
	if n, err := a.m.EmitUsageSignals(context.Background(), time.Date(2026, 11, 26, 0, 30, 0, 0, time.UTC)); err != nil || n != 0 {
		t.Fatalf("open day emitted %d signals (%v), want 0", n, err)
	}
	// The finished day becomes one usage signal for scoring.
	if _, err := a.m.EmitUsageSignals(context.Background(), t0.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if c := a.count(`SELECT count(*) FROM signals WHERE kind = 'usage' AND source = 'segment' AND value = $1`, want); c != 1 {
		t.Errorf("%d usage signals with the day's total, want 1", c)
	}
	if _, err := b.m.EmitUsageSignals(context.Background(), t0.Add(25*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if c := a.count(`SELECT count(*) FROM signals WHERE kind = 'usage'`); c != 1 {
		t.Errorf("%d usage signals after a second run on the other replica, want still 1", c)
	}
}

// Segment group calls link a user to a group, so track calls that carry
// only the user still land on the group's account.
func TestSegmentGroupLinksUsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.account("umbrella", "")
	e.mapKey(connectors.Segment, connectors.KeyGroupID, "grp_umbrella", "umbrella")
	if code, answer := e.deliver(connectors.Segment, "segment_group.json"); code != http.StatusOK || !strings.Contains(answer, `"ignored":1`) {
		t.Fatalf("group: %d %s", code, answer)
	}
	body := bytes.ReplaceAll(fixture(t, "segment_track.json"), []byte(`"groupId": "grp_umbrella",`), nil)
	if code, answer := e.send(e.request(connectors.Segment, body, signed, t0)); code != http.StatusOK || !strings.Contains(answer, `"stored":1`) {
		t.Fatalf("track without group: %d %s", code, answer)
	}
}

// Zendesk's satisfaction trigger and Intercom's rating become CSAT
// signals; Salesforce Account changes become traits.
func TestRatingsAndTraits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.knownAccounts()
	for _, d := range []struct{ tool, file string }{
		{connectors.Zendesk, "zendesk_satisfaction.json"}, {connectors.Intercom, "intercom_rating_added.json"},
		{connectors.Salesforce, "salesforce_account_changed.xml"},
	} {
		if code, answer := e.deliver(d.tool, d.file); code != http.StatusOK {
			t.Fatalf("%s: %d %s", d.file, code, answer)
		}
	}
	if n := e.count(`SELECT count(*) FROM signals WHERE kind = 'csat' AND source = 'zendesk' AND value = 1`); n != 1 {
		t.Errorf("zendesk bad rating: %d csat signals of 1, want 1", n)
	}
	if n := e.count(`SELECT count(*) FROM signals WHERE kind = 'csat' AND source = 'intercom' AND value = 2`); n != 1 {
		t.Errorf("intercom rating 2: %d csat signals, want 1", n)
	}
	traits, err := e.m.Traits(context.Background(), e.idOf("initech"))
	if err != nil {
		t.Fatal(err)
	}
	if got := traits[connectors.Salesforce]; got["Industry"] != "Manufacturing" || got["NumberOfEmployees"] != "420" || len(got) != 2 {
		t.Errorf("salesforce traits %v, want Industry and NumberOfEmployees (nil Website left out)", got)
	}
}

// The mapping API refuses what it cannot use, naming the field.
func TestMappingValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.account("acme", "")
	for _, c := range []struct {
		in    connectors.MappingIn
		field string
	}{
		{connectors.MappingIn{Connector: "jira", KeyKind: "organization", Key: "1", Account: "acme"}, "connector"},
		{connectors.MappingIn{Connector: "zendesk", KeyKind: "colour", Key: "1", Account: "acme"}, "key_kind"},
		{connectors.MappingIn{Connector: "zendesk", KeyKind: "organization", Key: " ", Account: "acme"}, "key"},
		{connectors.MappingIn{Connector: "zendesk", KeyKind: "organization", Key: "1", Account: "nobody"}, "account"},
	} {
		_, err := e.m.Map(context.Background(), c.in)
		var ve *api.ValidationError
		if !asValidation(err, &ve) || len(ve.Rows) == 0 || ve.Rows[0].Field != c.field {
			t.Errorf("%+v: %v, want a validation error on %s", c.in, err, c.field)
		}
	}
	if n := e.count(`SELECT count(*) FROM connector_mappings`); n != 0 {
		t.Errorf("%d mappings stored from bad input", n)
	}
}

// A batching Segment destination sends an array of messages: each counts
// once, and one already seen is a duplicate.
func TestSegmentBatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.account("umbrella", "")
	e.mapKey(connectors.Segment, connectors.KeyGroupID, "grp_umbrella", "umbrella")
	if code, answer := e.deliver(connectors.Segment, "segment_track.json"); code != http.StatusOK {
		t.Fatalf("%d %s", code, answer)
	}
	one := fixture(t, "segment_track.json")
	batch := [][]byte{one}
	for i := range 2 {
		batch = append(batch, bytes.ReplaceAll(one, []byte("ajs-next-f8c3b1a2c8e4d7b1a9e2"), []byte(fmt.Sprintf("batch-%d", i))))
	}
	body := append(append([]byte("["), bytes.Join(batch, []byte(","))...), ']')
	code, answer := e.send(e.request(connectors.Segment, body, signed, t0))
	if code != http.StatusOK || !strings.Contains(answer, `"stored":2`) || !strings.Contains(answer, `"duplicates":1`) {
		t.Fatalf("batch: %d %s, want 2 stored and 1 duplicate", code, answer)
	}
	if _, events, _ := e.m.DailyUsage(context.Background(), e.idOf("umbrella"), "2026-11-25"); events != 3 {
		t.Errorf("%d events summed, want 3", events)
	}
}

// connectors.admins (and the admin role) see what waits in the quarantine
// in their App Home; nobody else does.
func TestHomeSectionShowsTheQuarantineToAdmins(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, func(s *connectors.Settings) { s.Admins = []string{"U0ADMIN"} })
	if code, answer := e.deliver(connectors.Zendesk, "zendesk_ticket_created.json"); code != http.StatusOK {
		t.Fatalf("%d %s", code, answer)
	}
	section := e.m.HomeSections()[0]
	if _, ok, err := section.Render(context.Background(), "U0SOMEONE", t0); ok || err != nil {
		t.Errorf("a non-admin sees the quarantine (ok %v, err %v)", ok, err)
	}
	if _, ok, err := section.Render(context.Background(), "U0ROLEADMIN", t0); !ok || err != nil {
		t.Errorf("the admin role does not see the quarantine (ok %v, err %v)", ok, err)
	}
	got, ok, err := section.Render(context.Background(), "U0ADMIN", t0)
	if err != nil || !ok {
		t.Fatalf("admin: ok %v, err %v", ok, err)
	}
	raw, _ := json.Marshal(got.Blocks)
	if !strings.Contains(string(raw), "zendesk organization `8447346621566`: 1 events") {
		t.Errorf("section lacks the waiting key: %s", raw)
	}
}

// A body whose signature holds but that is not the tool's JSON is the
// tool's data (400 bad_payload), not a forgery (401): nothing is stored
// either way.
func TestSignedUnreadableBodyIsBadPayloadNotBadSignature(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	before := e.stored()
	over := "[" + strings.Repeat(`{"type":"track","messageId":"m"},`, 1000) + `{"type":"track","messageId":"m"}]`
	for _, c := range []struct{ tool, body string }{
		{connectors.Intercom, `not json`},
		{connectors.Segment, `{"type": 7}`},
		{connectors.Segment, over},
	} {
		code, answer := e.send(e.request(c.tool, []byte(c.body), signed, t0))
		if code != http.StatusBadRequest || !strings.Contains(answer, `"error":"bad_payload"`) {
			t.Errorf("%s %.40s: %d %s, want 400 bad_payload", c.tool, c.body, code, answer)
		}
	}
	if n := e.stored(); n != before {
		t.Errorf("%d rows stored from unreadable bodies", n-before)
	}
}

// A deal won before HubSpot told which company it belongs to waits under
// the deal; the association arriving later (a stored link) is what the
// replay job follows to the company's account.
func TestQuarantineReplaysThroughALinkLearnedLater(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.account("hubspot-co", "5174483541")
	var parts []json.RawMessage
	if err := json.Unmarshal(fixture(t, "hubspot_deal_won.json"), &parts); err != nil {
		t.Fatal(err)
	}
	association, won := parts[0], parts[1]
	one := func(p json.RawMessage) []byte { return append(append([]byte("["), p...), ']') }
	if code, answer := e.send(e.request(connectors.HubSpot, one(won), signed, t0)); code != http.StatusOK || !strings.Contains(answer, `"quarantined":1`) {
		t.Fatalf("won alone: %d %s, want quarantined", code, answer)
	}
	if n, err := e.m.ReplayResolvable(context.Background()); err != nil || n != 0 {
		t.Fatalf("replay before the association: %d, %v", n, err)
	}
	if code, answer := e.send(e.request(connectors.HubSpot, one(association), signed, t0)); code != http.StatusOK || !strings.Contains(answer, `"ignored":1`) {
		t.Fatalf("association: %d %s", code, answer)
	}
	if n, err := e.m.ReplayResolvable(context.Background()); err != nil || n != 1 {
		t.Fatalf("replay after the association: %d, %v, want 1", n, err)
	}
	if n := e.count(`SELECT count(*) FROM deals d JOIN accounts a ON a.id = d.account_id
		WHERE a.external_id = 'hubspot-co' AND d.external_id = 'hubspot-9876543210'`); n != 1 {
		t.Errorf("%d won deals on hubspot-co after the replay, want 1", n)
	}
}

// A ticket whose text ingest could not take as sent (a NUL, a subject far
// over the metadata limit) is made storable when it arrives: quarantined,
// it replays once mapped instead of failing every replay after it.
func TestOversizedTicketReplaysOnceMapped(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.account("acme", "")
	body := fixture(t, "zendesk_ticket_created.json")
	body = bytes.ReplaceAll(body, []byte(`"Export broken again"`), []byte(`"`+strings.Repeat(`Export\u0000 broken again `, 1500)+`"`))
	if code, answer := e.send(e.request(connectors.Zendesk, body, signed, t0)); code != http.StatusOK || !strings.Contains(answer, `"quarantined":1`) {
		t.Fatalf("%d %s, want quarantined", code, answer)
	}
	res, err := e.m.Map(context.Background(), connectors.MappingIn{Connector: connectors.Zendesk, KeyKind: connectors.KeyOrganization, Key: "8447346621566", Account: "acme"})
	if err != nil || res.Replayed != 1 || res.Waiting != 0 {
		t.Fatalf("mapping: %+v, %v, want 1 replayed and none waiting", res, err)
	}
	if n := e.count(`SELECT count(*) FROM signals WHERE source = 'zendesk' AND text LIKE 'Export broken again Export%' AND length(metadata->>'subject') <= 1000`); n != 1 {
		t.Errorf("%d stored tickets with the NUL dropped and the subject bounded, want 1", n)
	}
}
