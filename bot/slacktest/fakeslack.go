// Package slacktest is a fake Slack workspace: it serves the Web API methods
// Holdfast uses and speaks real Socket Mode over a websocket on 127.0.0.1.
//
// End-to-end tests drive it (send slash commands, interactions and events,
// inject rate limits and failures, force disconnects) and inspect what the bot
// called. Local mode runs it in-process and prints the bot's messages via
// Options.OnCall.
package slacktest

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
)

// Identifiers of the fake workspace.
const (
	TeamID   = "T0001"
	AppID    = "A0001"
	BotUser  = "UBOT"
	BotID    = "BBOT"
	teamName = "fake"
)

var errClosed = errors.New("slacktest: server closed")

// Options configures a Server.
type Options struct {
	Logger       *slog.Logger  // nil = discard
	PingInterval time.Duration // websocket pings from the server; default 10s
	OnCall       func(Call)    // called for every recorded Web API call and response_url post; may be nil
}

// Call is one request the bot made to the fake.
type Call struct {
	Method string
	// Params holds form fields, or top-level JSON fields with non-string values
	// kept as their JSON text (e.g. "blocks", "view"). The token is not included.
	Params      map[string]string
	Token       string
	At          time.Time
	RateLimited bool            // answered with HTTP 429
	Error       string          // the Slack error answered, "" when ok
	Response    json.RawMessage // the JSON body answered
}

// Ack is a Socket Mode acknowledgement received from the bot.
type Ack struct {
	EnvelopeID string
	Payload    json.RawMessage // nil when the bot acked without a payload
	Latency    time.Duration   // from the (latest) send of the envelope to the ack
}

// Server is a fake Slack workspace. All methods are safe for concurrent use.
type Server struct {
	log      *slog.Logger
	onCall   func(Call)
	pingIvl  time.Duration
	base     string // http://127.0.0.1:PORT
	http     *http.Server
	upgrader websocket.Upgrader
	wg       sync.WaitGroup

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every state change, to wake waiters
	closed  bool
	seq     int64 // for generated IDs
	lastTS  int64 // microseconds of the last assigned message ts

	calls      []Call
	respPosts  []Call
	rateLimits map[string]rateLimit
	failures   map[string]failure
	messages   []*message
	channels   map[string]*fakeChannel // known channels (channels.go)
	tickets    map[string]bool
	usergroups map[string][]string // user group id -> member ids (SetUserGroup)
	external   map[string]string   // user id -> another organisation's team (AddExternalUser)
	emails     map[string]string   // lower-case e-mail -> user id (SetUserEmail)
	files      map[string]*File    // uploads by file id
	fileOrder  []string
	conns      map[*wsConn]struct{}
	sent       map[string]*sentEnvelope
	acks       []Ack
}

type rateLimit struct {
	times      int
	retryAfter time.Duration
}

type failure struct {
	times int
	err   string
}

// New starts a server on 127.0.0.1 on a free port; it serves until Close.
func New(opts Options) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	s := &Server{
		log:     opts.Logger,
		onCall:  opts.OnCall,
		pingIvl: opts.PingInterval,
		base:    "http://" + ln.Addr().String(),
		// Slack's SDKs send Origin https://api.slack.com, which gorilla's
		// same-origin default would reject.
		upgrader:   websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }},
		changed:    make(chan struct{}),
		lastTS:     1_700_000_000_000_000,
		rateLimits: map[string]rateLimit{},
		failures:   map[string]failure{},
		tickets:    map[string]bool{},
		usergroups: map[string][]string{},
		external:   map[string]string{},
		emails:     map[string]string{},
		conns:      map[*wsConn]struct{}{},
		sent:       map[string]*sentEnvelope{},
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.pingIvl <= 0 {
		s.pingIvl = 10 * time.Second
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/{method}", s.serveAPI)
	mux.HandleFunc("POST /response/{id}", s.serveResponseURL)
	mux.HandleFunc("GET /link", s.serveLink)
	mux.HandleFunc("POST /upload/{id}", s.serveUpload)
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	s.wg.Go(func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("slacktest: serve", "err", err)
		}
	})
	s.log.Info("slacktest: listening", "api_url", s.APIURL())
	return s, nil
}

// APIURL is the Web API base URL, ending in "/" as slack.OptionAPIURL requires.
func (s *Server) APIURL() string { return s.base + "/api/" }

// Close stops the server and drops all socket connections.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	conns := s.takeConnsLocked()
	s.notifyLocked()
	s.mu.Unlock()

	for _, c := range conns {
		c.close(websocket.CloseGoingAway, "server closed")
	}
	// Close does not touch hijacked connections; they were closed above.
	err := s.http.Close()
	s.wg.Wait()
	return err
}

// notifyLocked wakes every waiter so it re-checks its condition.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// wait blocks until cond, evaluated under s.mu, holds.
func (s *Server) wait(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		if cond() {
			s.mu.Unlock()
			return nil
		}
		closed, ch := s.closed, s.changed
		s.mu.Unlock()
		if closed {
			return errClosed
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	if c.Method == "response_url" {
		s.respPosts = append(s.respPosts, c)
	} else {
		s.calls = append(s.calls, c)
	}
	s.notifyLocked()
	s.mu.Unlock()
	if s.onCall != nil {
		s.onCall(c)
	}
}

// Calls returns the recorded Web API calls of method ("" = all), in order.
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.callsLocked(method)
}

func (s *Server) callsLocked(method string) []Call {
	var out []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// WaitCalls blocks until at least n calls of method ("" = any) were recorded.
func (s *Server) WaitCalls(ctx context.Context, method string, n int) ([]Call, error) {
	var got []Call
	err := s.wait(ctx, func() bool {
		got = s.callsLocked(method)
		return len(got) >= n
	})
	if err != nil {
		return got, fmt.Errorf("wait for %d %q calls, got %d (recorded: %s): %w", n, method, len(got), s.summary(), err)
	}
	return got, nil
}

// summary lists recorded methods with counts, for failure messages.
func (s *Server) summary() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	counts := map[string]int{}
	var order []string
	for _, c := range s.calls {
		if counts[c.Method] == 0 {
			order = append(order, c.Method)
		}
		counts[c.Method]++
	}
	if len(order) == 0 {
		return "none"
	}
	parts := make([]string, len(order))
	for i, m := range order {
		parts[i] = fmt.Sprintf("%s x%d", m, counts[m])
	}
	return strings.Join(parts, ", ")
}

// ResponseURLPosts returns the bodies posted to generated response_url
// endpoints, as Calls with Method "response_url".
func (s *Server) ResponseURLPosts() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.respPosts)
}

// RateLimit makes the next `times` calls of method answer HTTP 429 with a
// Retry-After of retryAfter in whole seconds (at least 1).
func (s *Server) RateLimit(method string, times int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateLimits[method] = rateLimit{times: times, retryAfter: retryAfter}
}

// Fail makes the next `times` calls of method answer {"ok":false,"error":slackError}.
func (s *Server) Fail(method string, times int, slackError string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[method] = failure{times: times, err: slackError}
}

// injected consumes one pending rate limit or failure for method, if any.
func (s *Server) injected(method string) (retryAfter time.Duration, limited bool, slackErr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rl := s.rateLimits[method]; rl.times > 0 {
		rl.times--
		s.rateLimits[method] = rl
		return rl.retryAfter, true, ""
	}
	if f := s.failures[method]; f.times > 0 {
		f.times--
		s.failures[method] = f
		return 0, false, f.err
	}
	return 0, false, ""
}

func retryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// Message is a message the bot posted, updated or posted ephemerally.
type Message struct {
	Method   string // chat.postMessage, chat.update or chat.postEphemeral
	Channel  string
	Text     string
	ThreadTS string
	TS       string // the assigned ts (message_ts for ephemeral messages)
	User     string // recipient of an ephemeral message, else the bot user
	Blocks   []slack.Block
	Raw      Call
}

// Messages returns the messages the bot successfully sent to channel ("" = all), in order.
// A user id (U…) stands for the bot's DM with that user: posts addressed to
// the user and edits made in the DM channel (D…) both belong to it.
func (s *Server) Messages(channel string) []Message {
	var out []Message
	for _, c := range s.Calls("") {
		switch c.Method {
		case "chat.postMessage", "chat.update", "chat.postEphemeral":
		default:
			continue
		}
		if c.Error != "" || c.RateLimited || (channel != "" && !sameConversation(c.Params["channel"], channel)) {
			continue
		}
		m := Message{
			Method: c.Method, Channel: c.Params["channel"], Text: c.Params["text"],
			ThreadTS: c.Params["thread_ts"], User: c.Params["user"], Raw: c,
		}
		if m.User == "" {
			m.User = BotUser
		}
		var resp struct {
			TS        string `json:"ts"`
			MessageTS string `json:"message_ts"`
		}
		_ = json.Unmarshal(c.Response, &resp) // our own output: always valid
		m.TS = cmp.Or(resp.TS, resp.MessageTS)
		if b := c.Params["blocks"]; b != "" {
			var blocks slack.Blocks
			if err := json.Unmarshal([]byte(b), &blocks); err == nil {
				m.Blocks = blocks.BlockSet
			}
		}
		out = append(out, m)
	}
	return out
}

// SetUserGroup defines a user group (S…) and its members, served by
// usergroups.users.list.
func (s *Server) SetUserGroup(id string, members ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.usergroups[id] = slices.Clone(members)
}

// nextID returns prefix plus a short unique upper-case suffix, like Slack IDs.
func (s *Server) nextID(prefix string) string {
	s.mu.Lock()
	s.seq++
	n := s.seq
	s.mu.Unlock()
	return fmt.Sprintf("%s%08X", prefix, n)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// sameConversation: a user id and the fake's DM channel for that user
// name one conversation.
func sameConversation(a, b string) bool {
	return a == b || (dmChannel(a) != "" && dmChannel(a) == b) || (dmChannel(b) != "" && dmChannel(b) == a)
}
