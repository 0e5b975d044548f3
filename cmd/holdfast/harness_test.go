package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/bot/slacktest"
	"github.com/holdfast/holdfast/config"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/internal/testenv"
	"github.com/holdfast/holdfast/store"
	"github.com/holdfast/holdfast/store/storetest"
)

const (
	testToken    = "test-ingest-token-0123456789"
	alertChannel = "C0ALERTS"
)

// deployment is one Holdfast installation: a database schema, a Redis
// prefix and a fake Slack workspace, which one or more replicas share.
type deployment struct {
	t      testing.TB
	fake   *slacktest.Server
	env    map[string]string
	store  *store.Store // a direct view of the same schema, for assertions
	schema storetest.Schema
}

type deploymentOption func(*deployment)

func withYAML(yaml string) deploymentOption {
	return func(d *deployment) {
		path := filepath.Join(d.t.TempDir(), "holdfast.yaml")
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			d.t.Fatal(err)
		}
		d.env["HOLDFAST_CONFIG"] = path
	}
}

// appendYAML adds keys to the deployment's YAML file (which already
// names the alert channel and the test's Redis prefix).
func appendYAML(extra string) deploymentOption {
	return func(d *deployment) {
		path := d.env["HOLDFAST_CONFIG"]
		raw, err := os.ReadFile(path)
		if err != nil {
			d.t.Fatal(err)
		}
		if err := os.WriteFile(path, append(raw, []byte(extra)...), 0o600); err != nil {
			d.t.Fatal(err)
		}
	}
}

func newDeployment(t testing.TB, opts ...deploymentOption) *deployment {
	t.Helper()
	schema := storetest.NewSchema(t)
	_, prefix := testenv.Redis(t)
	fake, err := slacktest.New(slacktest.Options{PingInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Close() })
	d := &deployment{t: t, fake: fake, schema: schema, env: map[string]string{
		"SLACK_BOT_TOKEN":       "xoxb-test",
		"SLACK_APP_TOKEN":       "xapp-test",
		"SLACK_API_URL":         fake.APIURL(),
		"DATABASE_URL":          schema.DatabaseURL,
		"REDIS_URL":             testenv.RedisURL(),
		"HOLDFAST_HTTP_ADDR":    "127.0.0.1:0",
		"HOLDFAST_INGEST_TOKEN": testToken,
	}}
	withYAML(fmt.Sprintf("alerts:\n  default_channel: %s\nredis:\n  key_prefix: %q\n", alertChannel, prefix))(d)
	for _, o := range opts {
		o(d)
	}
	st, err := store.Open(context.Background(), schema.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	d.store = st
	return d
}

// replica is one running Holdfast process (the real wiring, in-process).
type replica struct {
	d      *deployment
	app    *app
	base   string
	cancel context.CancelFunc
	done   chan error
}

type replicaOption func(*appOptions)

func unpaced() replicaOption {
	return func(o *appOptions) {
		// Tests post many alerts to one channel; Slack's pace is tested separately.
		l := redis_rate.PerSecond(10000)
		o.channelLimit = &l
	}
}

func (d *deployment) start(opts ...replicaOption) *replica {
	d.t.Helper()
	cfg, err := config.Load(func(k string) string { return d.env[k] })
	if err != nil {
		d.t.Fatalf("config: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		d.t.Fatal(err)
	}
	o := appOptions{listener: ln}
	for _, f := range opts {
		f(&o)
	}
	log := slog.New(slog.NewTextHandler(testWriter{d.t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := newApp(context.Background(), cfg, log, o)
	if err != nil {
		d.t.Fatalf("new app: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &replica{d: d, app: a, base: "http://" + a.Addr(), cancel: cancel, done: make(chan error, 1)}
	connected := d.fake.Connections()
	go func() { r.done <- a.serve(ctx) }()
	d.t.Cleanup(r.stop)
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := d.fake.WaitConnected(wctx, connected+1); err != nil {
		d.t.Fatalf("bot did not connect: %v", err)
	}
	return r
}

// stop shuts the replica down gracefully, as SIGTERM would.
func (r *replica) stop() {
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		if err != nil {
			r.d.t.Errorf("serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		r.d.t.Error("replica did not shut down within 30 s")
	}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// post sends a JSON body with the ingest token and decodes the answer.
func (r *replica) post(path string, body any, out any) int {
	r.d.t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		r.d.t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, r.base+path, bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.d.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			r.d.t.Fatalf("%s answered %d with %q: %v", path, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode
}

func (r *replica) mustPost(path string, body any, out any) {
	r.d.t.Helper()
	if code := r.post(path, body, out); code != http.StatusOK {
		r.d.t.Fatalf("POST %s: status %d (%+v)", path, code, out)
	}
}

func (r *replica) accounts(accts ...ingest.AccountIn) {
	r.d.t.Helper()
	var res map[string]any
	r.mustPost("/v1/accounts", map[string]any{"accounts": accts}, &res)
}

func (r *replica) signals(sigs ...ingest.SignalIn) ingest.SignalsResult {
	r.d.t.Helper()
	var res ingest.SignalsResult
	r.mustPost("/v1/signals", map[string]any{"signals": sigs}, &res)
	return res
}

// usageHistory is 28 days of daily usage: `before` a day for the older 14
// days, `after` a day for the last 14.
func usageHistory(account string, now time.Time, before, after float64) []ingest.SignalIn {
	var out []ingest.SignalIn
	for day := 28; day >= 1; day-- {
		v := before
		if day <= 14 {
			v = after
		}
		out = append(out, ingest.SignalIn{Account: account, Kind: "usage", Source: "product", Value: &v,
			OccurredAt: now.AddDate(0, 0, -day), IdempotencyKey: fmt.Sprintf("usage-%s-%d", account, day)})
	}
	return out
}

func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// settle waits until the outbox has nothing left to deliver, so a test can
// assert that something was NOT posted.
func (d *deployment) settle() {
	d.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		n, err := d.store.OutboxPending(context.Background())
		if err != nil {
			d.t.Fatal(err)
		}
		if n == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	d.t.Fatal("outbox did not drain in 15 s")
}

func (d *deployment) count(query string, args ...any) int {
	d.t.Helper()
	var n int
	if err := d.store.Pool().QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		d.t.Fatal(err)
	}
	return n
}

// posts are the successful chat.postMessage calls to channel.
func (d *deployment) posts(channel string) []slacktest.Message {
	var out []slacktest.Message
	for _, m := range d.fake.Messages(channel) {
		if m.Method == "chat.postMessage" {
			out = append(out, m)
		}
	}
	return out
}

func plain(m slacktest.Message) string {
	return blocks.PlainText(blocks.Message{Text: m.Text, Blocks: m.Blocks})
}

// ackReply decodes a slash command's ack payload.
func ackReply(t testing.TB, ack slacktest.Ack) (string, []slack.Block) {
	t.Helper()
	var r struct {
		ResponseType string       `json:"response_type"`
		Text         string       `json:"text"`
		Blocks       slack.Blocks `json:"blocks"`
	}
	if err := json.Unmarshal(ack.Payload, &r); err != nil {
		t.Fatalf("ack payload %s: %v", ack.Payload, err)
	}
	return blocks.PlainText(blocks.Message{Text: r.Text, Blocks: r.Blocks.BlockSet}), r.Blocks.BlockSet
}

// waitFor polls cond until it holds, failing the test after 20 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// responseURL is a fresh response_url on the fake for a simulated click.
func (d *deployment) responseURL() string {
	return strings.TrimSuffix(d.fake.APIURL(), "api/") + "response/" + strconv.FormatInt(time.Now().UnixNano(), 36)
}
