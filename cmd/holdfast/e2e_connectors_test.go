package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/holdfast/holdfast/internal/connectors"
)

const zendeskTestSecret = "zendesk-e2e-secret-0123"

// A Zendesk urgent, angry ticket, delivered as Zendesk sends it, takes an
// account whose usage already fell into at risk; the alert's driver names
// the ticket, and Zendesk's retry of the same event alerts nothing more.
func TestZendeskAngryTicketRaisesAtRiskAlert(t *testing.T) {
	t.Parallel()
	d := newDeployment(t)
	d.env["ZENDESK_WEBHOOK_SECRET"] = zendeskTestSecret
	r := d.start(unpaced())
	now := time.Now().UTC()
	r.accounts(acme())
	r.signals(droppingUsage(now)...)
	var mapped connectors.MapResult
	r.mustPost("/v1/connectors/mappings", connectors.MappingIn{Connector: "zendesk", KeyKind: "organization",
		Key: "8447346621566", Account: "acme"}, &mapped)

	raw, err := os.ReadFile("../../internal/connectors/testdata/zendesk_ticket_created.json")
	if err != nil {
		t.Fatal(err)
	}
	// The documented payload, as if Zendesk sent it a minute ago.
	raw = bytes.ReplaceAll(raw, []byte("2026-11-25T09:30:00Z"), []byte(now.Add(-time.Minute).Format(time.RFC3339)))
	deliver := func() (int, string) {
		ts := time.Now().UTC().Format(time.RFC3339)
		req, _ := http.NewRequest(http.MethodPost, r.base+"/webhooks/zendesk", bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Zendesk-Webhook-Signature-Timestamp", ts)
		req.Header.Set("X-Zendesk-Webhook-Signature", connectors.SignZendesk(zendeskTestSecret, ts, raw))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := deliver(); code != http.StatusOK || !strings.Contains(body, `"stored":1`) {
		t.Fatalf("zendesk delivery: %d %s", code, body)
	}
	if code, body := deliver(); code != http.StatusOK || !strings.Contains(body, `"duplicates":1`) {
		t.Fatalf("zendesk retry: %d %s", code, body)
	}
	d.settle()
	posts := d.posts(alertChannel)
	if len(posts) != 1 {
		t.Fatalf("%d alert posts, want 1", len(posts))
	}
	text := plain(posts[0])
	for _, want := range []string{
		"At risk: Acme Corp",
		"1 ticket in 28 days, 1 urgent, tone negative, worst: zendesk #35436",
		"ticket from zendesk",
		"Export broken again",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("alert lacks %q:\n%s", want, text)
		}
	}
	if n := d.count(`SELECT count(*) FROM alerts`); n != 1 {
		t.Errorf("%d alerts, want 1", n)
	}
}

// `holdfast connectors test TOOL` sends the tool's signed example to the
// running bot; `holdfast connectors status` then shows it waiting for an
// account, and a tool without its secret is refused with exit code 2.
func TestConnectorsTestAndStatusCommands(t *testing.T) {
	t.Parallel()
	d := newDeployment(t)
	d.env["ZENDESK_WEBHOOK_SECRET"] = zendeskTestSecret
	r := d.start(unpaced())
	code, out, errOut := runCLI(t, d.env, "connectors", "test", "zendesk", r.base)
	if code != 0 || !strings.Contains(out, "-> 200") || !strings.Contains(out, `"quarantined":1`) {
		t.Fatalf("connectors test zendesk: %d %q %q", code, out, errOut)
	}
	code, out, errOut = runCLI(t, d.env, "connectors", "status")
	if code != 0 {
		t.Fatalf("connectors status: %d %q", code, errOut)
	}
	for _, want := range []string{"zendesk     on", "intercom    off", "zendesk    organization  8447346621566  1"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	if code, _, errOut := runCLI(t, d.env, "connectors", "test", "intercom", r.base); code != exitUsage || !strings.Contains(errOut, "INTERCOM_CLIENT_SECRET is not set") {
		t.Errorf("test without a secret: %d %q", code, errOut)
	}
	if code, _, errOut := runCLI(t, d.env, "connectors", "frob"); code != exitUsage || !strings.Contains(errOut, "usage: holdfast connectors") {
		t.Errorf("bad subcommand: %d %q", code, errOut)
	}
}
