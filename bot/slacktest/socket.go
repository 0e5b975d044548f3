package slacktest

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

const writeTimeout = 10 * time.Second

// disconnectGrace is how long Disconnect leaves a connection open after the
// disconnect message.
const disconnectGrace = 500 * time.Millisecond

// envelope is a Socket Mode request as Slack sends it.
type envelope struct {
	EnvelopeID             string          `json:"envelope_id"`
	Type                   string          `json:"type"`
	Payload                json.RawMessage `json:"payload"`
	AcceptsResponsePayload bool            `json:"accepts_response_payload"`
	RetryAttempt           int             `json:"retry_attempt"`
	RetryReason            string          `json:"retry_reason"`
}

type sentEnvelope struct {
	env    envelope
	sentAt time.Time
}

// wsConn is one live Socket Mode connection. gorilla allows one concurrent
// writer, and pings, acks-driven sends and disconnects come from different
// goroutines, hence wmu.
type wsConn struct {
	ws  *websocket.Conn
	wmu sync.Mutex
}

func (c *wsConn) writeJSON(v any) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	return c.ws.WriteJSON(v)
}

// close sends a close frame first so the client sees a clean close, not a reset.
func (c *wsConn) close(code int, text string) {
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
	_ = c.ws.Close()
}

func (s *Server) serveLink(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	s.mu.Lock()
	valid := s.tickets[ticket]
	delete(s.tickets, ticket) // single use, like Slack's
	s.mu.Unlock()
	if !valid {
		http.Error(w, "invalid ticket", http.StatusUnauthorized)
		return
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.log.Warn("slacktest: websocket upgrade", "err", err)
		return
	}
	c := &wsConn{ws: ws}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.close(websocket.CloseGoingAway, "server closed")
		return
	}
	n := len(s.conns) + 1
	s.wg.Add(1) // under mu and before closed is set, so Close waits for us
	s.mu.Unlock()
	defer s.wg.Done()

	// hello goes out before the connection is visible to senders, as on Slack.
	hello := obj{"type": "hello", "num_connections": n,
		"debug_info":      obj{"host": "fake", "approximate_connection_time": 18060},
		"connection_info": obj{"app_id": AppID}}
	if err := c.writeJSON(hello); err != nil {
		s.log.Warn("slacktest: write hello", "err", err)
		_ = ws.Close()
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.close(websocket.CloseGoingAway, "server closed")
		return
	}
	s.conns[c] = struct{}{}
	s.notifyLocked()
	s.mu.Unlock()
	s.log.Info("slacktest: socket connected", "remote", r.RemoteAddr, "num_connections", n)

	done := make(chan struct{})
	var pinger sync.WaitGroup
	pinger.Go(func() { c.pingLoop(s.pingIvl, done) })
	s.readLoop(c)
	close(done)
	pinger.Wait()
}

// pingLoop pings right away and then every ivl: slack-go reconnects when it
// sees no ping for 30 s.
func (c *wsConn) pingLoop(ivl time.Duration, done <-chan struct{}) {
	t := time.NewTicker(ivl)
	defer t.Stop()
	for {
		// WriteControl may run concurrently with other writes.
		if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeTimeout)); err != nil {
			return
		}
		select {
		case <-done:
			return
		case <-t.C:
		}
	}
}

func (s *Server) readLoop(c *wsConn) {
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.notifyLocked()
		s.mu.Unlock()
		_ = c.ws.Close()
	}()
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			if !websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway) {
				s.log.Debug("slacktest: socket read ended", "err", err)
			}
			s.log.Info("slacktest: socket disconnected")
			return
		}
		var ack struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if err := json.Unmarshal(data, &ack); err != nil || ack.EnvelopeID == "" {
			s.log.Warn("slacktest: unexpected socket message", "msg", string(data))
			continue
		}
		if string(ack.Payload) == "null" {
			ack.Payload = nil
		}
		s.mu.Lock()
		a := Ack{EnvelopeID: ack.EnvelopeID, Payload: ack.Payload}
		if e := s.sent[ack.EnvelopeID]; e != nil {
			a.Latency = time.Since(e.sentAt)
		} else {
			s.log.Warn("slacktest: ack for unknown envelope", "envelope_id", ack.EnvelopeID)
		}
		s.acks = append(s.acks, a)
		s.notifyLocked()
		s.mu.Unlock()
	}
}

// Connections returns the number of live Socket Mode connections.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// WaitConnected blocks until at least n Socket Mode connections are live.
func (s *Server) WaitConnected(ctx context.Context, n int) error {
	var got int
	if err := s.wait(ctx, func() bool { got = len(s.conns); return got >= n }); err != nil {
		return fmt.Errorf("wait for %d socket connections, have %d: %w", n, got, err)
	}
	return nil
}

// Disconnect sends {"type":"disconnect","reason":reason} to every live
// connection, closes them and says how many it dropped. They stop counting
// as live at once, so a following WaitConnected waits for the client to
// reconnect.
func (s *Server) Disconnect(reason string) (dropped int) {
	s.mu.Lock()
	conns := s.takeConnsLocked()
	s.notifyLocked()
	s.mu.Unlock()
	for _, c := range conns {
		if err := c.writeJSON(obj{"type": "disconnect", "reason": reason, "debug_info": obj{"host": "fake"}}); err != nil {
			s.log.Warn("slacktest: write disconnect", "err", err)
		}
		// Like Slack, give the client a moment to act on the message and
		// close by itself, then close from this side.
		s.wg.Go(func() {
			time.Sleep(disconnectGrace)
			_ = c.ws.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseNormalClosure, reason), time.Now().Add(time.Second))
			// The read loop drops the connection when the client answers the
			// close, or at this deadline if it never does.
			_ = c.ws.SetReadDeadline(time.Now().Add(time.Second))
		})
	}
	s.log.Info("slacktest: disconnected sockets", "reason", reason, "count", len(conns))
	return len(conns)
}

func (s *Server) takeConnsLocked() []*wsConn {
	conns := make([]*wsConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	clear(s.conns)
	return conns
}

// SlashCommand is a slash command invocation. Empty fields get defaults.
type SlashCommand struct {
	Command, Text, UserID, UserName, ChannelID, TeamID, TriggerID string
}

// SendSlashCommand delivers a slash_commands envelope and waits for its ack.
// Its response_url points at this server (see ResponseURLPosts).
func (s *Server) SendSlashCommand(ctx context.Context, cmd SlashCommand) (Ack, error) {
	if !strings.HasPrefix(cmd.Command, "/") {
		return Ack{}, fmt.Errorf("slash command %q must start with /", cmd.Command)
	}
	channelID := cmp.Or(cmd.ChannelID, "C0001")
	userID := cmp.Or(cmd.UserID, "U0001")
	payload := map[string]string{
		"token": "fake-verification-token", "team_id": cmp.Or(cmd.TeamID, TeamID), "team_domain": teamName,
		"channel_id": channelID, "channel_name": strings.ToLower(channelID),
		"user_id": userID, "user_name": cmp.Or(cmd.UserName, strings.ToLower(userID)),
		"command": cmd.Command, "text": cmd.Text, "api_app_id": AppID,
		"response_url": s.base + "/response/" + randHex(12),
		"trigger_id":   cmp.Or(cmd.TriggerID, s.newTriggerID()),
	}
	return s.send(ctx, "slash_commands", payload, true)
}

// SendInteraction delivers payload (e.g. a slack.InteractionCallback or a map)
// as an interactive envelope and waits for its ack. slack-go drops, without
// acking, block_actions whose actions lack block_id.
func (s *Server) SendInteraction(ctx context.Context, payload any) (Ack, error) {
	return s.send(ctx, "interactive", payload, true)
}

// SendEvent wraps event in an event_callback and delivers it as an events_api
// envelope, then waits for its ack. slack-go drops, without acking, events
// whose type it does not know.
func (s *Server) SendEvent(ctx context.Context, event map[string]any) (Ack, error) {
	payload := obj{
		"token": "fake-verification-token", "team_id": TeamID, "api_app_id": AppID,
		"type": "event_callback", "event": event, "event_id": "Ev" + strings.ToUpper(randHex(5)),
		"event_time": time.Now().Unix(), "event_context": "4-fake",
		"authorizations": []obj{{"team_id": TeamID, "user_id": BotUser, "is_bot": true}},
	}
	return s.send(ctx, "events_api", payload, false)
}

// SendEnvelopeNoWait delivers an envelope of type typ without waiting for the
// ack; see WaitAck. It still waits for a live connection.
func (s *Server) SendEnvelopeNoWait(ctx context.Context, typ string, payload any) (envelopeID string, err error) {
	env, err := newEnvelope(typ, payload, typ != "events_api")
	if err != nil {
		return "", err
	}
	if _, err := s.write(ctx, env); err != nil {
		return "", err
	}
	return env.EnvelopeID, nil
}

// WaitAck returns the latest ack received for envelopeID, waiting for one if none arrived yet.
func (s *Server) WaitAck(ctx context.Context, envelopeID string) (Ack, error) {
	return s.waitAck(ctx, envelopeID, 0)
}

// Redeliver resends a sent envelope, as Slack does when an ack is late, and
// waits for a new ack.
func (s *Server) Redeliver(ctx context.Context, envelopeID string) (Ack, error) {
	s.mu.Lock()
	e := s.sent[envelopeID]
	s.mu.Unlock()
	if e == nil {
		return Ack{}, fmt.Errorf("redeliver %s: unknown envelope", envelopeID)
	}
	env := e.env
	env.RetryAttempt++
	env.RetryReason = "timeout"
	return s.deliver(ctx, env)
}

func (s *Server) send(ctx context.Context, typ string, payload any, acceptsResponse bool) (Ack, error) {
	env, err := newEnvelope(typ, payload, acceptsResponse)
	if err != nil {
		return Ack{}, err
	}
	return s.deliver(ctx, env)
}

func newEnvelope(typ string, payload any, acceptsResponse bool) (envelope, error) {
	raw, err := json.Marshal(payload)
	if err != nil {
		return envelope{}, fmt.Errorf("marshal %s payload: %w", typ, err)
	}
	id := randHex(16)
	id = id[:8] + "-" + id[8:12] + "-" + id[12:16] + "-" + id[16:20] + "-" + id[20:] // UUID-shaped, like Slack's
	return envelope{EnvelopeID: id, Type: typ, Payload: raw, AcceptsResponsePayload: acceptsResponse}, nil
}

func (s *Server) deliver(ctx context.Context, env envelope) (Ack, error) {
	from, err := s.write(ctx, env)
	if err != nil {
		return Ack{}, err
	}
	return s.waitAck(ctx, env.EnvelopeID, from)
}

// waitAck waits for an ack of envelopeID among the acks from index from on.
func (s *Server) waitAck(ctx context.Context, envelopeID string, from int) (Ack, error) {
	var ack Ack
	err := s.wait(ctx, func() bool {
		for i := len(s.acks) - 1; i >= from; i-- {
			if s.acks[i].EnvelopeID == envelopeID {
				ack = s.acks[i]
				return true
			}
		}
		return false
	})
	if err != nil {
		return Ack{}, fmt.Errorf("wait for ack of envelope %s: %w", envelopeID, err)
	}
	return ack, nil
}

// write sends env to one random live connection, as Slack does, waiting for
// one if there is none. It returns the number of acks received before the send.
func (s *Server) write(ctx context.Context, env envelope) (int, error) {
	for {
		var c *wsConn
		err := s.wait(ctx, func() bool {
			if len(s.conns) == 0 {
				return false
			}
			i := rand.IntN(len(s.conns))
			for conn := range s.conns {
				if i == 0 {
					c = conn
					break
				}
				i--
			}
			return true
		})
		if err != nil {
			return 0, fmt.Errorf("send %s envelope: wait for a socket connection: %w", env.Type, err)
		}
		s.mu.Lock()
		from := len(s.acks)
		s.sent[env.EnvelopeID] = &sentEnvelope{env: env, sentAt: time.Now()}
		s.mu.Unlock()
		err = c.writeJSON(env)
		if err == nil {
			s.log.Debug("slacktest: sent envelope", "type", env.Type, "envelope_id", env.EnvelopeID, "retry_attempt", env.RetryAttempt)
			return from, nil
		}
		// A dying connection (e.g. raced with Disconnect): try another, as
		// Slack would. Its read loop closes it.
		s.log.Warn("slacktest: write envelope", "err", err)
		s.mu.Lock()
		delete(s.conns, c)
		s.notifyLocked()
		s.mu.Unlock()
	}
}

func (s *Server) newTriggerID() string {
	return fmt.Sprintf("%d.%d.%s", time.Now().Unix(), time.Now().UnixNano()%1e10, randHex(16))
}
