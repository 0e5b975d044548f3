package main

import (
	"encoding/json"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/internal/ingest"
)

// A Slack message given up on is a dead letter, not a loss: /metrics
// counts it, an admin's App Home lists it with a Retry button (nobody
// else's does), a stranger's Retry is refused, and the admin's Retry
// delivers it.
func TestDeadLetterIsListedAndRetried(t *testing.T) {
	t.Parallel()
	d := newDeployment(t, func(d *deployment) {
		path := d.env["HOLDFAST_CONFIG"]
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		yaml := strings.Replace(string(raw), "alerts:\n", "alerts:\n  admins: [U0ADMIN]\n", 1)
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
	})
	r := d.start(unpaced())
	r.accounts(ingest.AccountIn{ExternalID: "acme", Name: "Acme", OwnerCSM: "U0CSM"})
	d.fake.Fail("chat.postMessage", 1, "channel_not_found") // permanent: given up at once
	res := r.signals(ingest.SignalIn{Account: "acme", Kind: "cancellation_intent", Source: "crm", IdempotencyKey: "c1",
		OccurredAt: time.Now(), Text: "We are cancelling."})
	if len(res.Alerts) != 1 {
		t.Fatalf("alerts %v, want 1", res.Alerts)
	}
	d.settle()
	if n := d.count(`SELECT count(*) FROM outbox WHERE failed_at IS NOT NULL`); n != 1 {
		t.Fatalf("%d dead letters, want 1", n)
	}
	resp, err := http.Get(r.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); !strings.Contains(body, `holdfast_dead_letters{kind="slack_message"} 1`) {
		t.Errorf("/metrics lacks the dead letter:\n%.2000s", body)
	}

	home := func(user string) string {
		t.Helper()
		before := len(d.fake.Calls("views.publish"))
		if _, err := d.fake.SendEvent(ctxTimeout(t, 10*time.Second), map[string]any{"type": "app_home_opened", "user": user, "tab": "home"}); err != nil {
			t.Fatal(err)
		}
		calls, err := d.fake.WaitCalls(ctxTimeout(t, 10*time.Second), "views.publish", before+1)
		if err != nil {
			t.Fatal(err)
		}
		var view slack.HomeTabViewRequest
		_ = json.Unmarshal([]byte(calls[len(calls)-1].Params["view"]), &view)
		return blocks.PlainTextBlocks(view.Blocks.BlockSet)
	}
	if text := home("U0CSM"); strings.Contains(text, "Given up on") {
		t.Errorf("a non-admin sees the dead letters:\n%s", text)
	}
	if text := home("U0ADMIN"); !strings.Contains(text, "Given up on") || !strings.Contains(text, "channel_not_found") || !strings.Contains(text, "[ Retry ]") {
		t.Errorf("the admin's Home lacks the dead letter:\n%s", text)
	}

	var id int64
	if err := d.store.Pool().QueryRow(ctxTimeout(t, 5*time.Second), `SELECT id FROM outbox WHERE failed_at IS NOT NULL`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	value := "slack_message:" + strconv.FormatInt(id, 10)
	d.click("U0CSM", "D0CSM", blocks.ActionDeadLetterRetry, value)
	d.told("Only Holdfast admins")
	d.click("U0ADMIN", "D0ADMIN", blocks.ActionDeadLetterRetry, value)
	d.told("Retrying Slack message")
	d.settle()
	if n := d.count(`SELECT count(*) FROM outbox WHERE id = $1 AND delivered_at IS NOT NULL`, id); n != 1 {
		t.Fatal("the retried message was not delivered")
	}
	if n := len(d.posts(alertChannel)); n != 1 {
		t.Errorf("%d posts in the alert channel, want the one retried alert", n)
	}
}

// The admin role of roles: sees and retries dead letters too, as the
// users of alerts.admins do: one notion of admin.
func TestAdminRoleSeesDeadLetters(t *testing.T) {
	t.Parallel()
	d := newDeployment(t, appendYAML("roles:\n  csm:\n    users: [U0CSM]\n  admin:\n    users: [U0ROLEADM]\n"))
	r := d.start(unpaced())
	r.accounts(ingest.AccountIn{ExternalID: "acme", Name: "Acme", OwnerCSM: "U0CSM"})
	d.fake.Fail("chat.postMessage", 1, "channel_not_found")
	r.signals(ingest.SignalIn{Account: "acme", Kind: "cancellation_intent", Source: "crm", IdempotencyKey: "c1",
		OccurredAt: time.Now(), Text: "We are cancelling."})
	d.settle()
	var id int64
	if err := d.store.Pool().QueryRow(ctxTimeout(t, 5*time.Second), `SELECT id FROM outbox WHERE failed_at IS NOT NULL`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	value := "slack_message:" + strconv.FormatInt(id, 10)
	d.click("U0CSM", "D0CSM", blocks.ActionDeadLetterRetry, value)
	d.told("Only Holdfast admins")
	d.click("U0ROLEADM", "D0ROLEADM", blocks.ActionDeadLetterRetry, value)
	d.told("Retrying Slack message")
}
