package slacktest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

type obj = map[string]any

func ok(o obj) obj {
	o["ok"] = true
	return o
}

func fail(slackErr string) obj { return obj{"ok": false, "error": slackErr} }

// message is a stored channel message, kept so chat.update, chat.delete and
// conversations.replies behave like Slack.
type message struct {
	channel, ts, threadTS, text, blocks string
	metadata                            string // the post's metadata JSON, as Slack keeps it
}

func (m *message) json() obj {
	o := obj{"type": "message", "user": BotUser, "bot_id": BotID, "team": TeamID, "text": m.text, "ts": m.ts}
	if m.threadTS != "" {
		o["thread_ts"] = m.threadTS
	}
	if m.blocks != "" {
		o["blocks"] = json.RawMessage(m.blocks)
	}
	if m.metadata != "" {
		o["metadata"] = json.RawMessage(m.metadata)
	}
	return o
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	method := r.PathValue("method")
	params, token, err := readParams(r)
	call := Call{Method: method, Params: params, Token: token, At: time.Now()}
	status := http.StatusOK
	var body obj
	retryAfter, limited, injectedErr := s.injected(method)
	switch {
	case err != nil:
		s.log.Warn("slacktest: bad request", "method", method, "err", err)
		body = fail("invalid_form_data")
	case limited:
		call.RateLimited = true
		status = http.StatusTooManyRequests
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(retryAfter)))
		body = fail("ratelimited")
	case injectedErr != "":
		body = fail(injectedErr)
	default:
		body = s.handle(method, params, token)
	}
	call.Error, _ = body["error"].(string)
	raw, err := json.Marshal(body)
	if err != nil {
		s.log.Error("slacktest: encode response", "method", method, "err", err)
		raw = []byte(`{"ok":false,"error":"internal_error"}`)
		call.Error = "internal_error"
	}
	call.Response = raw
	// Record before answering, so a test that saw the response also sees the call.
	s.record(call)
	s.log.Debug("slacktest: api call", "method", method, "error", call.Error, "rate_limited", call.RateLimited)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(raw)
}

func (s *Server) serveResponseURL(w http.ResponseWriter, r *http.Request) {
	params, _, err := readParams(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	resp := []byte(`{"ok":true}`)
	s.record(Call{Method: "response_url", Params: params, At: time.Now(), Response: resp})
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(resp)
}

// readParams accepts the encodings slack-go uses: forms with the token in the
// body (chat.*, users.*, conversations.*), JSON with a Bearer token (views.*,
// apps.connections.open) and GET queries.
func readParams(r *http.Request) (map[string]string, string, error) {
	params := map[string]string{}
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		for k, v := range r.URL.Query() {
			params[k] = v[0]
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
		if err != nil {
			return nil, "", fmt.Errorf("read body: %w", err)
		}
		if len(bytes.TrimSpace(body)) == 0 || string(bytes.TrimSpace(body)) == "null" {
			break
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(body, &fields); err != nil {
			return nil, "", fmt.Errorf("decode json body: %w", err)
		}
		for k, v := range fields {
			var str string
			if json.Unmarshal(v, &str) == nil {
				params[k] = str
				continue
			}
			var buf bytes.Buffer
			if json.Compact(&buf, v) != nil {
				return nil, "", fmt.Errorf("compact field %q", k)
			}
			params[k] = buf.String()
		}
	case "multipart/form-data":
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			return nil, "", fmt.Errorf("parse multipart form: %w", err)
		}
	default:
		if err := r.ParseForm(); err != nil {
			return nil, "", fmt.Errorf("parse form: %w", err)
		}
	}
	for k, v := range r.Form {
		params[k] = v[0]
	}
	if token == "" {
		token = params["token"]
	}
	delete(params, "token")
	return params, token, nil
}

func (s *Server) handle(method string, p map[string]string, token string) obj {
	prefix := "xoxb-"
	if method == "apps.connections.open" {
		prefix = "xapp-"
	}
	if !strings.HasPrefix(token, prefix) {
		return fail("invalid_auth")
	}
	if o, known := s.channelMethod(method, p); known {
		return o
	}
	if o, known := s.fileMethod(method, p); known {
		return o
	}
	switch method {
	case "apps.connections.open":
		ticket := randHex(16)
		s.mu.Lock()
		s.tickets[ticket] = true
		s.mu.Unlock()
		return ok(obj{"url": "ws" + strings.TrimPrefix(s.base, "http") + "/link?ticket=" + ticket})
	case "auth.test":
		return ok(obj{"url": "https://" + teamName + ".slack.com/", "team": "Fake Workspace", "user": "holdfast",
			"team_id": TeamID, "user_id": BotUser, "bot_id": BotID})
	case "chat.postMessage", "chat.update", "chat.delete", "conversations.replies", "conversations.history":
		return s.messageMethod(method, p)
	case "chat.postEphemeral":
		if p["channel"] == "" {
			return fail("channel_not_found")
		}
		if p["user"] == "" {
			return fail("user_not_in_channel")
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		return ok(obj{"message_ts": s.nextTSLocked()})
	case "views.open", "views.push", "views.update", "views.publish":
		return s.view(method, p)
	case "users.info":
		if p["user"] == "" {
			return fail("user_not_found")
		}
		return s.userInfo(p["user"])
	case "users.lookupByEmail":
		return s.lookupByEmail(p["email"])
	case "conversations.info", "conversations.join", "conversations.invite":
		if p["channel"] == "" {
			return fail("channel_not_found")
		}
		return ok(obj{"channel": channel(p["channel"], strings.ToLower(p["channel"]))})
	case "conversations.members":
		if p["channel"] == "" {
			return fail("channel_not_found")
		}
		return ok(obj{"members": []string{BotUser}, "response_metadata": obj{"next_cursor": ""}})
	case "conversations.create":
		if p["name"] == "" {
			return fail("invalid_name_required")
		}
		return ok(obj{"channel": channel(s.nextID("C"), p["name"])})
	case "conversations.open":
		if p["users"] == "" && p["channel"] == "" {
			return fail("users_list_not_supplied")
		}
		return ok(obj{"channel": obj{"id": cmp.Or(p["channel"], "D"+strings.Split(p["users"], ",")[0])}})
	case "usergroups.users.list":
		s.mu.Lock()
		members, found := s.usergroups[p["usergroup"]]
		s.mu.Unlock()
		if !found {
			return fail("no_such_subteam")
		}
		return ok(obj{"users": append([]string{}, members...)})
	case "pins.add":
		if p["channel"] == "" {
			return fail("channel_not_found")
		}
		return ok(obj{})
	}
	return fail("unknown_method")
}

// dmChannel is the fake's DM channel id for a user id (U…, W…), "" for
// anything else.
func dmChannel(id string) string {
	if len(id) > 1 && (id[0] == 'U' || id[0] == 'W') {
		return "D" + id[1:]
	}
	return ""
}

func channel(id, name string) obj {
	return obj{"id": id, "name": name, "is_channel": true, "is_member": true, "context_team_id": TeamID,
		"created": time.Now().Unix()}
}

// nextTSLocked returns a strictly increasing message ts like
// "1765000000.000100": the wall clock, as Slack's are, so a client reading
// conversations.history from a few minutes back finds recent posts.
func (s *Server) nextTSLocked() string {
	s.lastTS = max(s.lastTS+100, time.Now().UnixMicro())
	return fmt.Sprintf("%d.%06d", s.lastTS/1e6, s.lastTS%1e6)
}

func (s *Server) messageMethod(method string, p map[string]string) obj {
	ch := p["channel"]
	if ch == "" {
		return fail("channel_not_found")
	}
	if b := p["blocks"]; b != "" && !json.Valid([]byte(b)) {
		return fail("invalid_blocks")
	}
	if md := p["metadata"]; md != "" && !json.Valid([]byte(md)) {
		return fail("invalid_metadata_format")
	}
	// Like Slack, a post to a user id lands in the app's DM with that user,
	// whose channel id (D…) the answer carries; chat.update should use it.
	// The fake also finds a DM message by the user id, leniently.
	if dm := dmChannel(ch); dm != "" && method == "chat.postMessage" {
		ch = dm
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	find := func(ts string) int {
		for i, m := range s.messages {
			if (m.channel == ch || m.channel == dmChannel(ch)) && m.ts == ts {
				return i
			}
		}
		return -1
	}
	switch method {
	case "chat.postMessage":
		if p["text"] == "" && p["blocks"] == "" && p["attachments"] == "" {
			return fail("no_text")
		}
		m := &message{channel: ch, ts: s.nextTSLocked(), threadTS: p["thread_ts"], text: p["text"], blocks: p["blocks"],
			metadata: p["metadata"]}
		s.messages = append(s.messages, m)
		return ok(obj{"channel": ch, "ts": m.ts, "message": m.json()})
	case "chat.update":
		i := find(p["ts"])
		if i < 0 {
			return fail("message_not_found")
		}
		m := s.messages[i]
		m.text = p["text"]
		if p["blocks"] != "" {
			m.blocks = p["blocks"]
		}
		return ok(obj{"channel": ch, "ts": m.ts, "text": m.text, "message": m.json()})
	case "chat.delete":
		i := find(p["ts"])
		if i < 0 {
			return fail("message_not_found")
		}
		s.messages = append(s.messages[:i], s.messages[i+1:]...)
		return ok(obj{"channel": ch, "ts": p["ts"]})
	case "conversations.history":
		// Like Slack: the channel's top-level messages, newest first, from
		// oldest on; metadata only when include_all_metadata asks for it.
		var history []obj
		for i := len(s.messages) - 1; i >= 0; i-- {
			m := s.messages[i]
			if m.channel == ch && (m.threadTS == "" || m.threadTS == m.ts) && tsAtLeast(m.ts, p["oldest"]) {
				history = append(history, withoutMetadata(m.json(), p["include_all_metadata"]))
			}
		}
		return ok(obj{"messages": history, "has_more": false})
	default: // conversations.replies
		var thread []obj
		for _, m := range s.messages {
			if m.channel == ch && (m.ts == p["ts"] || (m.threadTS == p["ts"] && tsAtLeast(m.ts, p["oldest"]))) {
				thread = append(thread, withoutMetadata(m.json(), p["include_all_metadata"]))
			}
		}
		if len(thread) == 0 {
			return fail("thread_not_found")
		}
		return ok(obj{"messages": thread, "has_more": false})
	}
}

// tsAtLeast compares Slack timestamps ("1700000000.000100"); an empty
// bound admits everything.
func tsAtLeast(ts, bound string) bool {
	if bound == "" {
		return true
	}
	a, errA := strconv.ParseFloat(ts, 64)
	b, errB := strconv.ParseFloat(bound, 64)
	return errA != nil || errB != nil || a >= b
}

func withoutMetadata(o obj, include string) obj {
	if include != "1" && include != "true" {
		delete(o, "metadata")
	}
	return o
}

func (s *Server) view(method string, p map[string]string) obj {
	switch {
	case (method == "views.open" || method == "views.push") && p["trigger_id"] == "":
		return fail("invalid_arguments")
	case method == "views.publish" && p["user_id"] == "":
		return fail("invalid_arguments")
	case method == "views.update" && p["view_id"] == "" && p["external_id"] == "":
		return fail("invalid_arguments")
	}
	var v obj
	if err := json.Unmarshal([]byte(p["view"]), &v); err != nil || v == nil {
		return fail("invalid_arguments")
	}
	v["id"] = cmp.Or(p["view_id"], s.nextID("V"))
	v["team_id"], v["app_id"], v["bot_id"] = TeamID, AppID, BotID
	v["hash"] = fmt.Sprintf("%d.%s", time.Now().Unix(), randHex(4))
	if _, has := v["state"]; !has {
		v["state"] = obj{"values": obj{}}
	}
	return ok(obj{"view": v})
}
