package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/holdfast/holdfast/blocks"
	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/bot/slacktest"
	"github.com/holdfast/holdfast/store"
	"github.com/holdfast/holdfast/store/storetest"
)

func runCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestCLIVersionHelpAndUnknown(t *testing.T) {
	t.Parallel()
	if code, out, _ := runCLI(t, nil, "version"); code != 0 || !strings.HasPrefix(out, "holdfast ") {
		t.Errorf("version: %d %q", code, out)
	}
	if code, out, _ := runCLI(t, nil, "help"); code != 0 || !strings.Contains(out, "migrate") {
		t.Errorf("help: %d %q", code, out)
	}
	if code, _, errOut := runCLI(t, nil, "frobnicate"); code != exitUsage || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Errorf("unknown: %d %q", code, errOut)
	}
}

func TestCLIBadConfigurationStopsWithOneLine(t *testing.T) {
	t.Parallel()
	code, _, errOut := runCLI(t, map[string]string{"SLACK_BOT_TOKEN": "xoxb-1"}, "run")
	if code != exitUsage || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "SLACK_APP_TOKEN") {
		t.Errorf("half-configured Slack: %d %q", code, errOut)
	}
	code, _, errOut = runCLI(t, map[string]string{"DATABASE_URL": "postgres://nobody@127.0.0.1:1/x?connect_timeout=2"}, "migrate")
	if code != 1 || !strings.Contains(errOut, "holdfast:") {
		t.Errorf("unreachable database: %d %q", code, errOut)
	}
}

func TestCLIMigrateAndImport(t *testing.T) {
	t.Parallel()
	schema := storetest.NewSchema(t)
	env := map[string]string{"DATABASE_URL": schema.DatabaseURL}
	if code, out, errOut := runCLI(t, env, "migrate"); code != 0 || !strings.Contains(out, "schema at version") {
		t.Fatalf("migrate: %d %q %q", code, out, errOut)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "accounts.csv")
	os.WriteFile(good, []byte("\ufeffexternal_id,name,tier,arr,renewal_date,owner_csm,channel\n"+
		"acme,Acme Corp,enterprise,\"$240,000\",2027-03-01,U0CSM,C0ACME\n"+
		"globex,Globex,growth,58000,,,\n"), 0o600)
	code, out, errOut := runCLI(t, env, "import", good)
	if code != 0 || !strings.Contains(out, "imported 2 accounts (2 new, 0 updated)") {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}
	code, out, _ = runCLI(t, env, "import", good)
	if code != 0 || !strings.Contains(out, "(0 new, 2 updated)") {
		t.Errorf("re-import: %d %q", code, out)
	}

	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("external_id,name,arr,owner_csm\nnew1,New One,10,U1\nnew2,,lots,bob\n"), 0o600)
	code, _, errOut = runCLI(t, env, "import", bad)
	if code != 1 || !strings.Contains(errOut, `line 3: arr: "lots" is not a number`) || !strings.Contains(errOut, "nothing was imported") {
		t.Errorf("bad import: %d %q", code, errOut)
	}
	bad2 := filepath.Join(dir, "bad2.csv")
	os.WriteFile(bad2, []byte("external_id,name,owner_csm\nnew1,New One,U1\nnew2,,bob\n"), 0o600)
	code, _, errOut = runCLI(t, env, "import", bad2)
	if code != 1 || !strings.Contains(errOut, "line 3: name: is required") || !strings.Contains(errOut, "line 3: owner_csm") {
		t.Errorf("invalid rows: %d %q", code, errOut)
	}
	if code, _, errOut := runCLI(t, env, "import", filepath.Join(dir, "missing.csv")); code != 1 || !strings.Contains(errOut, "no such file") {
		t.Errorf("missing file: %d %q", code, errOut)
	}
	if code, _, _ := runCLI(t, env, "import"); code != exitUsage {
		t.Errorf("import without a file: %d", code)
	}
	var n int
	if err := openCount(t, schema.DatabaseURL, `SELECT count(*) FROM accounts`, &n); err != nil || n != 2 {
		t.Errorf("accounts after imports: %d %v (want the 2 good ones only)", n, err)
	}
}

func TestBotReconnectsAfterSlackAsksItTo(t *testing.T) {
	t.Parallel()
	d := newDeployment(t)
	d.start(unpaced())
	ctx := ctxTimeout(t, 30*time.Second)
	for _, reason := range []string{"refresh_requested", "warning"} {
		d.fake.Disconnect(reason)
		if err := d.fake.WaitConnected(ctx, 1); err != nil {
			t.Fatalf("after %s: %v", reason, err)
		}
		ack, err := d.fake.SendSlashCommand(ctx, slacktest.SlashCommand{Command: "/atrisk"})
		if err != nil {
			t.Fatal(err)
		}
		if text, _ := ackReply(t, ack); !strings.Contains(text, "No accounts at risk") {
			t.Errorf("after %s: %s", reason, text)
		}
	}
	if n := len(d.fake.Calls("apps.connections.open")); n != 3 {
		t.Errorf("%d connections opened, want 3", n)
	}
}

func openCount(t *testing.T, url, query string, n *int) error {
	t.Helper()
	st, err := store.Open(context.Background(), url)
	if err != nil {
		return err
	}
	defer st.Close()
	return st.Pool().QueryRow(context.Background(), query).Scan(n)
}

func TestTooManyWebsocketsBacksOffAndLinkDisabledStops(t *testing.T) {
	t.Parallel()
	d := newDeployment(t)
	r := d.start(unpaced())
	r.app.socket.SetCrowdedWait(time.Second)
	ctx := ctxTimeout(t, 30*time.Second)

	// slack-go may reopen a connection before it hands over the disconnect
	// message; the bot must then drop it and stay away for the wait.
	d.fake.Disconnect("too_many_websockets")
	gone := time.Now()
	time.Sleep(400 * time.Millisecond)
	if n := d.fake.Connections(); n != 0 {
		t.Errorf("%d connections 400 ms after too_many_websockets, want none (backing off)", n)
	}
	if err := d.fake.WaitConnected(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(gone); waited < 900*time.Millisecond {
		t.Errorf("back after %s, want about the 1 s wait", waited)
	}

	d.fake.Disconnect("link_disabled")
	select {
	case err := <-r.done:
		if err == nil || !strings.Contains(err.Error(), "link_disabled") {
			t.Errorf("serve ended with %v, want the link_disabled error", err)
		}
		r.cancel = nil // already stopped
	case <-ctx.Done():
		t.Fatal("bot kept running after link_disabled")
	}
}

// A payload no handler expected (a modal submission without its state)
// must not take the bot down: the submission gets an answer and the bot
// keeps serving.
func TestHandlerPanicIsContained(t *testing.T) {
	t.Parallel()
	d := newDeployment(t)
	d.start(unpaced())
	ctx := ctxTimeout(t, 20*time.Second)
	cb := slack.InteractionCallback{Type: slack.InteractionTypeViewSubmission, User: slack.User{ID: "U0CSM"},
		View: slack.View{CallbackID: blocks.ViewNPSRootCause, PrivateMetadata: "1"}}
	if _, err := d.fake.SendInteraction(ctx, cb); err != nil {
		t.Fatalf("the submission was not acked: %v", err)
	}
	ack, err := d.fake.SendSlashCommand(ctx, slacktest.SlashCommand{Command: "/atrisk"})
	if err != nil {
		t.Fatal(err)
	}
	if text, _ := ackReply(t, ack); !strings.Contains(text, "No accounts at risk") {
		t.Errorf("after the bad submission: %s", text)
	}
}
