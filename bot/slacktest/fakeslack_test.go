package slacktest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

func newServer(t *testing.T, opts Options) *Server {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newAPI(s *Server) *slack.Client {
	return slack.New("xoxb-test", slack.OptionAPIURL(s.APIURL()), slack.OptionAppLevelToken("xapp-test"))
}

// startBot runs a real slack-go Socket Mode client against s; handle is
// called for every envelope-carrying event, in order.
func startBot(t *testing.T, s *Server, handle func(*socketmode.Client, socketmode.Event)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	client := socketmode.New(newAPI(s))
	var wg sync.WaitGroup
	wg.Go(func() { _ = client.RunContext(ctx) })
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case evt := <-client.Events:
				if evt.Request != nil && evt.Request.EnvelopeID != "" {
					handle(client, evt)
				}
			}
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// ackWith acks every envelope with its retry fields and a tag, so tests can
// see what the client received.
func ackWith(tag string) func(*socketmode.Client, socketmode.Event) {
	return func(c *socketmode.Client, evt socketmode.Event) {
		_ = c.Ack(*evt.Request, map[string]any{"tag": tag, "type": string(evt.Type),
			"retry_attempt": evt.Request.RetryAttempt, "retry_reason": evt.Request.RetryReason})
	}
}

func decode[T any](t *testing.T, raw []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return v
}

func TestSocketModeEndToEnd(t *testing.T) {
	t.Parallel()
	var onCall sync.Map
	s := newServer(t, Options{OnCall: func(c Call) { onCall.Store(c.Method, true) }})
	ctx := testCtx(t)
	botDone := make(chan struct{})
	startBot(t, s, func(c *socketmode.Client, evt socketmode.Event) {
		cmd, ok := evt.Data.(slack.SlashCommand)
		if !ok {
			return
		}
		defer close(botDone)
		_ = c.Ack(*evt.Request, map[string]any{"text": "ack " + cmd.Text})
		section := slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*hi*", false, false), nil, nil)
		if _, _, err := c.PostMessageContext(ctx, cmd.ChannelID, slack.MsgOptionText("hi", false), slack.MsgOptionBlocks(section)); err != nil {
			t.Errorf("post message: %v", err)
		}
		if _, _, err := c.PostMessageContext(ctx, "", slack.MsgOptionResponseURL(cmd.ResponseURL, slack.ResponseTypeEphemeral), slack.MsgOptionText("only you", false)); err != nil {
			t.Errorf("post to response_url: %v", err)
		}
		home := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: []slack.Block{section}}}
		if _, err := c.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: cmd.UserID, View: home}); err != nil {
			t.Errorf("publish view: %v", err)
		}
	})
	if err := s.WaitConnected(ctx, 1); err != nil {
		t.Fatal(err)
	}

	ack, err := s.SendSlashCommand(ctx, SlashCommand{Command: "/holdfast", Text: "status acme", ChannelID: "C42", UserID: "U7"})
	if err != nil {
		t.Fatal(err)
	}
	if got := decode[map[string]string](t, ack.Payload)["text"]; got != "ack status acme" {
		t.Errorf("ack text = %q", got)
	}
	if ack.EnvelopeID == "" || ack.Latency <= 0 {
		t.Errorf("ack = %+v, want envelope id and latency", ack)
	}

	posts, err := s.WaitCalls(ctx, "chat.postMessage", 1)
	if err != nil {
		t.Fatal(err)
	}
	p := posts[0]
	if p.Token != "xoxb-test" || p.Params["channel"] != "C42" || p.Params["text"] != "hi" || p.Params["token"] != "" {
		t.Errorf("chat.postMessage call = %+v", p)
	}
	if blocks := decode[[]map[string]any](t, []byte(p.Params["blocks"])); len(blocks) != 1 || blocks[0]["type"] != "section" {
		t.Errorf("blocks param = %s", p.Params["blocks"])
	}

	select {
	case <-botDone:
	case <-ctx.Done():
		t.Fatal("bot did not finish handling the command")
	}
	views := s.Calls("views.publish")
	if len(views) != 1 {
		t.Fatalf("views.publish calls = %+v", views)
	}
	v := views[0]
	if v.Token != "xoxb-test" || v.Params["user_id"] != "U7" || decode[map[string]any](t, []byte(v.Params["view"]))["type"] != "home" {
		t.Errorf("views.publish call = %+v", v)
	}
	if rp := s.ResponseURLPosts(); len(rp) != 1 || rp[0].Params["text"] != "only you" || rp[0].Params["response_type"] != "ephemeral" {
		t.Errorf("response_url posts = %+v", rp)
	}

	msgs := s.Messages("C42")
	if len(msgs) != 1 || msgs[0].TS == "" || msgs[0].User != BotUser || len(msgs[0].Blocks) != 1 {
		t.Fatalf("messages = %+v", msgs)
	}
	if _, ok := msgs[0].Blocks[0].(*slack.SectionBlock); !ok {
		t.Errorf("block = %T, want *slack.SectionBlock", msgs[0].Blocks[0])
	}
	if open := s.Calls("apps.connections.open"); len(open) != 1 || open[0].Token != "xapp-test" {
		t.Errorf("apps.connections.open calls = %+v", open)
	}
	for _, m := range []string{"apps.connections.open", "chat.postMessage", "views.publish", "response_url"} {
		if _, ok := onCall.Load(m); !ok {
			t.Errorf("OnCall not called for %s", m)
		}
	}
}

func TestRedeliverSameEnvelope(t *testing.T) {
	t.Parallel()
	s := newServer(t, Options{})
	ctx := testCtx(t)
	startBot(t, s, ackWith("bot"))

	first, err := s.SendSlashCommand(ctx, SlashCommand{Command: "/holdfast"})
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.Redeliver(ctx, first.EnvelopeID)
	if err != nil {
		t.Fatal(err)
	}
	if again.EnvelopeID != first.EnvelopeID {
		t.Errorf("redelivered envelope id = %s, want %s", again.EnvelopeID, first.EnvelopeID)
	}
	got := decode[map[string]any](t, again.Payload)
	if got["retry_attempt"] != 1.0 || got["retry_reason"] != "timeout" || got["type"] != "slash_commands" {
		t.Errorf("client saw %v, want retry_attempt 1 reason timeout", got)
	}
	if _, err := s.Redeliver(ctx, "nope"); err == nil {
		t.Error("redeliver of unknown envelope succeeded")
	}
}

func TestDisconnectReconnects(t *testing.T) {
	t.Parallel()
	s := newServer(t, Options{})
	ctx := testCtx(t)
	startBot(t, s, ackWith("bot"))
	if err := s.WaitConnected(ctx, 1); err != nil {
		t.Fatal(err)
	}

	// The client may reconnect before Disconnect returns; what counts is
	// that the live connection was dropped.
	if n := s.Disconnect("refresh_requested"); n != 1 {
		t.Errorf("Disconnect dropped %d connections, want 1", n)
	}
	// Sent while the client reconnects: it must wait for the new connection.
	if _, err := s.SendSlashCommand(ctx, SlashCommand{Command: "/holdfast"}); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitConnected(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WaitCalls(ctx, "apps.connections.open", 2); err != nil {
		t.Fatal(err)
	}
}

func TestEnvelopesSplitAcrossConnections(t *testing.T) {
	t.Parallel()
	s := newServer(t, Options{})
	ctx := testCtx(t)
	startBot(t, s, ackWith("a"))
	startBot(t, s, ackWith("b"))
	if err := s.WaitConnected(ctx, 2); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for range 30 {
		ack, err := s.SendSlashCommand(ctx, SlashCommand{Command: "/holdfast"})
		if err != nil {
			t.Fatal(err)
		}
		seen[decode[map[string]any](t, ack.Payload)["tag"].(string)]++
	}
	if seen["a"] == 0 || seen["b"] == 0 {
		t.Errorf("envelopes per connection = %v, want both used", seen)
	}
}

func TestEventsAndInteractions(t *testing.T) {
	t.Parallel()
	s := newServer(t, Options{})
	ctx := testCtx(t)
	startBot(t, s, func(c *socketmode.Client, evt socketmode.Event) {
		var what string
		switch d := evt.Data.(type) {
		case slackevents.EventsAPIEvent:
			if m, ok := d.InnerEvent.Data.(*slackevents.AppMentionEvent); ok {
				what = "mention:" + m.Text + ":" + d.TeamID
			}
		case slack.InteractionCallback:
			what = "action:" + d.ActionCallback.BlockActions[0].ActionID
		}
		_ = c.Ack(*evt.Request, map[string]string{"what": what})
	})

	ack, err := s.SendEvent(ctx, map[string]any{"type": "app_mention", "user": "U1", "text": "hi", "channel": "C1", "ts": "1.2"})
	if err != nil {
		t.Fatal(err)
	}
	if got := decode[map[string]string](t, ack.Payload)["what"]; got != "mention:hi:"+TeamID {
		t.Errorf("event ack = %q", got)
	}

	cb := slack.InteractionCallback{Type: slack.InteractionTypeBlockActions, User: slack.User{ID: "U1"},
		ActionCallback: slack.ActionCallbacks{BlockActions: []*slack.BlockAction{{ActionID: "snooze", BlockID: "b1"}}}}
	ack, err = s.SendInteraction(ctx, cb)
	if err != nil {
		t.Fatal(err)
	}
	if got := decode[map[string]string](t, ack.Payload)["what"]; got != "action:snooze" {
		t.Errorf("interaction ack = %q", got)
	}
}

func TestRateLimitAndFail(t *testing.T) {
	t.Parallel()
	s := newServer(t, Options{})
	ctx := testCtx(t)
	api := newAPI(s)

	s.RateLimit("chat.postMessage", 1, 300*time.Millisecond)
	_, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("x", false))
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != time.Second {
		t.Fatalf("err = %v, want RateLimitedError with RetryAfter 1s", err)
	}
	_, ts1, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("x", false))
	if err != nil {
		t.Fatal(err)
	}
	_, ts2, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("y", false))
	if err != nil {
		t.Fatal(err)
	}
	if sec, _, _ := strings.Cut(ts1, "."); ts2 <= ts1 || sec < strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10) {
		t.Errorf("ts %q then %q, want strictly increasing, from the wall clock", ts1, ts2)
	}
	calls := s.Calls("chat.postMessage")
	if len(calls) != 3 || !calls[0].RateLimited || calls[0].Params["text"] != "x" || calls[1].RateLimited {
		t.Errorf("calls = %+v", calls)
	}
	if n := len(s.Messages("C1")); n != 2 {
		t.Errorf("messages = %d, want 2 (rate-limited call excluded)", n)
	}

	s.RateLimit("views.publish", 1, 1500*time.Millisecond)
	_, err = api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: "U1", View: slack.HomeTabViewRequest{Type: slack.VTHomeTab}})
	if !errors.As(err, &rl) || rl.RetryAfter != 2*time.Second {
		t.Errorf("err = %v, want RateLimitedError with RetryAfter 2s", err)
	}

	s.Fail("users.info", 1, "user_not_found")
	if _, err := api.GetUserInfoContext(ctx, "U1"); err == nil || err.Error() != "user_not_found" {
		t.Errorf("err = %v, want user_not_found", err)
	}
	u, err := api.GetUserInfoContext(ctx, "U1")
	if err != nil || u.TZ != "America/New_York" || u.ID != "U1" {
		t.Errorf("user = %+v, err = %v", u, err)
	}
}

func TestAuthAndMethods(t *testing.T) {
	t.Parallel()
	s := newServer(t, Options{})
	ctx := testCtx(t)
	api := newAPI(s)

	if _, err := slack.New("bad", slack.OptionAPIURL(s.APIURL())).AuthTestContext(ctx); err == nil || err.Error() != "invalid_auth" {
		t.Errorf("auth.test with bad token: %v", err)
	}
	if _, _, err := slack.New("xoxb-test", slack.OptionAPIURL(s.APIURL()), slack.OptionAppLevelToken("xoxb-test")).StartSocketModeContext(ctx); err == nil || err.Error() != "invalid_auth" {
		t.Errorf("apps.connections.open with bot token: %v", err)
	}
	auth, err := api.AuthTestContext(ctx)
	if err != nil || auth.UserID != BotUser || auth.TeamID != TeamID || auth.BotID != BotID {
		t.Errorf("auth.test = %+v, %v", auth, err)
	}

	if _, _, err := api.PostMessageContext(ctx, "", slack.MsgOptionText("x", false)); err == nil || err.Error() != "channel_not_found" {
		t.Errorf("post without channel: %v", err)
	}
	_, parent, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("parent", false))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("reply", false), slack.MsgOptionTS(parent)); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, "C1", parent, slack.MsgOptionText("edited", false)); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, "C1", "1.1", slack.MsgOptionText("x", false)); err == nil || err.Error() != "message_not_found" {
		t.Errorf("update unknown ts: %v", err)
	}
	thread, _, _, err := api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{ChannelID: "C1", Timestamp: parent})
	if err != nil || len(thread) != 2 || thread[0].Text != "edited" || thread[1].ThreadTimestamp != parent {
		t.Errorf("replies = %+v, %v", thread, err)
	}
	if _, err := api.PostEphemeralContext(ctx, "C1", "U1", slack.MsgOptionText("psst", false)); err != nil {
		t.Fatal(err)
	}
	msgs := s.Messages("")
	if len(msgs) != 4 || msgs[2].Method != "chat.update" || msgs[2].TS != parent || msgs[3].User != "U1" || msgs[3].TS == "" {
		t.Errorf("messages = %+v", msgs)
	}

	modal := slack.ModalViewRequest{Type: slack.VTModal, Title: slack.NewTextBlockObject(slack.PlainTextType, "t", false, false)}
	// slack-go refuses an empty trigger_id itself, so post JSON by hand.
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.APIURL()+"views.push", strings.NewReader(`{"view":{"type":"modal"}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer xoxb-test")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if c := s.Calls("views.push"); len(c) != 1 || c[0].Error != "invalid_arguments" || c[0].Token != "xoxb-test" || c[0].Params["view"] != `{"type":"modal"}` {
		t.Errorf("views.push without trigger_id = %+v", c)
	}
	vr, err := api.OpenViewContext(ctx, "1.2.abc", modal)
	if err != nil || !strings.HasPrefix(vr.View.ID, "V") || vr.View.Title.Text != "t" {
		t.Errorf("views.open = %+v, %v", vr, err)
	}
	if ch, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: "C9"}); err != nil || ch.ID != "C9" {
		t.Errorf("conversations.info = %+v, %v", ch, err)
	}
	if ch, err := api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: "acme-renewal"}); err != nil || ch.Name != "acme-renewal" {
		t.Errorf("conversations.create = %+v, %v", ch, err)
	}

	// Unknown methods are answered and still recorded.
	resp, err = http.Post(s.APIURL()+"nope.nothing", "application/x-www-form-urlencoded", strings.NewReader("token=xoxb-x&a=1"))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if c := s.Calls("nope.nothing"); len(c) != 1 || c[0].Error != "unknown_method" || c[0].Params["a"] != "1" {
		t.Errorf("unknown method calls = %+v", c)
	}

	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = s.WaitCalls(short, "chat.delete", 1)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "chat.postMessage x3") {
		t.Errorf("WaitCalls timeout error = %v", err)
	}
}

// TestRawProtocol checks the wire format with a bare websocket client.
func TestRawProtocol(t *testing.T) {
	t.Parallel()
	s := newServer(t, Options{PingInterval: 20 * time.Millisecond})
	ctx := testCtx(t)
	_, wsURL, err := newAPI(s).StartSocketModeContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hdr := http.Header{"Origin": {"https://api.slack.com"}}
	ws, _, err := websocket.DefaultDialer.DialContext(ctx, wsURL, hdr)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if _, resp, err := websocket.DefaultDialer.DialContext(ctx, wsURL, hdr); err == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("reused ticket: err %v, want 401", err)
	}

	pinged := make(chan struct{}, 1)
	ws.SetPingHandler(func(string) error {
		select {
		case pinged <- struct{}{}:
		default:
		}
		return nil
	})
	msgs := make(chan map[string]any, 4)
	go func() {
		defer close(msgs)
		for {
			var m map[string]any
			if err := ws.ReadJSON(&m); err != nil {
				return
			}
			msgs <- m
		}
	}()
	next := func() map[string]any {
		t.Helper()
		select {
		case m := <-msgs:
			return m
		case <-ctx.Done():
			t.Fatal("no message from server")
			return nil
		}
	}

	hello := next()
	if hello["type"] != "hello" || hello["num_connections"] != 1.0 || hello["connection_info"].(map[string]any)["app_id"] != AppID {
		t.Errorf("hello = %v", hello)
	}
	select {
	case <-pinged:
	case <-ctx.Done():
		t.Fatal("no websocket ping")
	}

	id, err := s.SendEnvelopeNoWait(ctx, "slash_commands", map[string]string{"command": "/x"})
	if err != nil {
		t.Fatal(err)
	}
	env := next()
	if env["envelope_id"] != id || env["type"] != "slash_commands" || env["accepts_response_payload"] != true ||
		env["retry_attempt"] != 0.0 || env["payload"].(map[string]any)["command"] != "/x" {
		t.Errorf("envelope = %v", env)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := s.WaitAck(short, id); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitAck before ack: %v", err)
	}
	if err := ws.WriteJSON(map[string]string{"envelope_id": id}); err != nil {
		t.Fatal(err)
	}
	ack, err := s.WaitAck(ctx, id)
	if err != nil || ack.Payload != nil {
		t.Errorf("ack = %+v, %v", ack, err)
	}

	s.Disconnect("link_disabled")
	if d := next(); d["type"] != "disconnect" || d["reason"] != "link_disabled" {
		t.Errorf("disconnect = %v", d)
	}
	if _, ok := <-msgs; ok {
		t.Error("connection still open after disconnect")
	}
}

// Metadata posted with a message comes back in conversations.history and
// conversations.replies when include_all_metadata asks for it, as in Slack.
func TestHistoryKeepsMetadata(t *testing.T) {
	t.Parallel()
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	api := slack.New("xoxb-test", slack.OptionAPIURL(s.APIURL()))
	ctx := context.Background()
	before := strconv.FormatInt(time.Now().Add(-time.Minute).Unix(), 10)
	md := slack.SlackMetadata{EventType: "holdfast_outbox", EventPayload: map[string]any{"outbox_id": 42}}
	_, root, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("root", false), slack.MsgOptionMetadata(md))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("reply", false), slack.MsgOptionTS(root),
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: "holdfast_outbox", EventPayload: map[string]any{"outbox_id": 43}})); err != nil {
		t.Fatal(err)
	}
	h, err := api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: "C1", Oldest: before, IncludeAllMetadata: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Messages) != 1 || h.Messages[0].Metadata.EventType != "holdfast_outbox" || h.Messages[0].Metadata.EventPayload["outbox_id"] != float64(42) {
		t.Fatalf("history = %+v, want the root with its metadata", h.Messages)
	}
	replies, _, _, err := api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{ChannelID: "C1", Timestamp: root, IncludeAllMetadata: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(replies) != 2 || replies[1].Metadata.EventPayload["outbox_id"] != float64(43) {
		t.Fatalf("replies = %+v, want root and reply with metadata", replies)
	}
	h, err = api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: "C1"})
	if err != nil || len(h.Messages) != 1 || h.Messages[0].Metadata.EventType != "" {
		t.Fatalf("history without include_all_metadata = %+v %v, want no metadata", h, err)
	}
}
