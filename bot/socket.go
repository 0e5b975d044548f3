package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/holdfast/holdfast/blocks"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// Reply is a handler's answer to a slash command or button.
type Reply struct {
	blocks.Message
	InChannel       bool // visible to the channel instead of only the user
	ReplaceOriginal bool // response_url only: replace the message the button was on
}

// App is what the bot hands Slack's requests to.
type App interface {
	Command(ctx context.Context, cmd slack.SlashCommand) (Reply, error)
	// Interaction handles clicks after they were acked, except view
	// submissions whose returned value is the ack payload (response_action).
	Interaction(ctx context.Context, cb slack.InteractionCallback) (ack any, err error)
	Event(ctx context.Context, ev slackevents.EventsAPIEvent) error
}

// Socket runs the Socket Mode link.
type Socket struct {
	client *socketmode.Client
	// crowdedWait is how long to stay away after too_many_websockets.
	crowdedWait time.Duration

	mu               sync.Mutex
	cancelAttempt    context.CancelFunc // ends the current connection attempt
	disconnectReason string             // why Slack ended it, if it said
	app              App
	sender           *Sender
	dedup            *redis.Client
	prefix           string
	log              *slog.Logger
	inflight         sync.WaitGroup
	// answerWithin is how long a slash command may compute its answer and
	// still return it in the ack; Slack gives 3 s for the ack.
	answerWithin time.Duration
	envelopes    *prometheus.CounterVec
	ackLatency   prometheus.Histogram
}

// NewSocket wires the Socket Mode side. dedup holds envelope ids across
// replicas so a redelivered envelope is handled once.
func NewSocket(api *slack.Client, app App, sender *Sender, dedup *redis.Client, prefix string, log *slog.Logger, reg prometheus.Registerer) *Socket {
	watcher := &disconnectWatcher{}
	s := &Socket{
		// slack-go reconnects on every disconnect message without saying
		// why; its debug log is the only place the reason appears.
		client:      socketmode.New(api, socketmode.OptionDebug(true), socketmode.OptionLog(watcher)),
		crowdedWait: 30 * time.Second,
		app:         app, sender: sender, dedup: dedup, prefix: prefix, log: log,
		answerWithin: 2 * time.Second,
		envelopes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "holdfast_slack_envelopes_total", Help: "Socket Mode envelopes by type and outcome.",
		}, []string{"type", "outcome"}),
		ackLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "holdfast_slack_ack_seconds", Help: "Time from receiving an envelope to acking it.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 10),
		})}
	watcher.onDisconnect = s.disconnected
	reg.MustRegister(s.envelopes, s.ackLatency)
	return s
}

// SetCrowdedWait changes the pause after too_many_websockets (tests).
func (s *Socket) SetCrowdedWait(d time.Duration) { s.crowdedWait = d }

// ErrLinkDisabled means Slack turned Socket Mode off for this app; no
// reconnect can help until an admin turns it back on.
var ErrLinkDisabled = errors.New("slack disabled socket mode for this app (link_disabled)")

// Run keeps the link up until ctx ends, then waits for handlers in flight.
// slack-go reconnects by itself on Slack's disconnect requests; RunContext
// returns when it cannot connect at all, so this loop backs off and retries,
// except on auth errors, which no retry fixes. Of the disconnect reasons,
// warning and refresh_requested are routine (slack-go reconnects at once),
// too_many_websockets means other replicas hold all ten connections (stay
// away a while), and link_disabled is fatal.
func (s *Socket) Run(ctx context.Context) error {
	go s.dispatch(ctx)
	defer s.inflight.Wait()
	backoff := time.Second
	for {
		attempt, cancel := context.WithCancel(ctx)
		s.mu.Lock()
		s.cancelAttempt, s.disconnectReason = cancel, ""
		s.mu.Unlock()
		err := s.client.RunContext(attempt)
		cancel()
		s.mu.Lock()
		reason := s.disconnectReason
		s.mu.Unlock()
		switch {
		case ctx.Err() != nil:
			return nil
		case reason == "link_disabled":
			return ErrLinkDisabled
		case reason == "too_many_websockets":
			s.log.Warn("slack: too many socket mode connections for this app; waiting before reconnecting", "wait", s.crowdedWait)
			if sleep(ctx, s.crowdedWait) != nil {
				return nil
			}
			continue
		case fatal(err):
			return err
		}
		s.log.Warn("socket mode connection lost; reconnecting", "err", err, "in", backoff)
		if sleep(ctx, backoff) != nil {
			return nil
		}
		// apps.connections.open is Tier 1: never reconnect in a tight loop.
		backoff = min(backoff*2, time.Minute)
	}
}

// disconnected runs on slack-go's read goroutine before it acts on a
// disconnect message, so cancelling here stops its immediate reconnect.
func (s *Socket) disconnected(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch reason {
	case "link_disabled", "too_many_websockets":
		s.disconnectReason = reason
		if s.cancelAttempt != nil {
			s.cancelAttempt()
		}
	default:
		s.log.Info("slack asked to reconnect", "reason", reason)
	}
}

// disconnectWatcher is slack-go's debug logger: it reads the disconnect
// messages out of the "Received WebSocket message" lines and drops every
// line, so envelope payloads (customer text) never reach a log.
type disconnectWatcher struct{ onDisconnect func(reason string) }

func (w *disconnectWatcher) Output(_ int, line string) error {
	const prefix = "Received WebSocket message: "
	i := strings.Index(line, prefix)
	if i < 0 || !strings.Contains(line, `"disconnect"`) {
		return nil
	}
	var msg struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	}
	if json.Unmarshal([]byte(strings.TrimSpace(line[i+len(prefix):])), &msg) == nil && msg.Type == "disconnect" {
		w.onDisconnect(msg.Reason)
	}
	return nil
}

func fatal(err error) bool {
	var status slack.StatusCodeError
	if errors.As(err, &status) {
		return status.Code == 401 || status.Code == 403 || status.Code == 404
	}
	if err == nil {
		return false
	}
	switch err.Error() {
	case "invalid_auth", "account_inactive", "not_authed", "token_revoked", "link_disabled":
		return true
	}
	return false
}

func (s *Socket) dispatch(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case evt, ok := <-s.client.Events:
			if !ok {
				return
			}
			s.handle(ctx, evt)
		}
	}
}

func (s *Socket) handle(ctx context.Context, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnected:
		s.log.Info("connected to slack over socket mode")
	case socketmode.EventTypeConnectionError:
		if e, ok := evt.Data.(*slack.ConnectionErrorEvent); ok {
			s.log.Warn("socket mode connection error", "attempt", e.Attempt, "backoff", e.Backoff, "err", e.ErrorObj)
		}
	case socketmode.EventTypeInvalidAuth:
		s.log.Error("slack rejected the app token (SLACK_APP_TOKEN)")
	case socketmode.EventTypeErrorBadMessage:
		s.log.Warn("unparseable socket mode message", "data", evt.Data)
	case socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive, socketmode.EventTypeEventsAPI:
		if evt.Request == nil {
			return
		}
		received := time.Now()
		s.inflight.Add(1)
		go func() {
			defer s.inflight.Done()
			// Handlers finish their work even while the process shuts down.
			hctx := context.WithoutCancel(ctx)
			s.envelope(hctx, evt, received)
		}()
	}
}

// envelope acks one request and runs its handler exactly once across
// redeliveries and replicas.
func (s *Socket) envelope(ctx context.Context, evt socketmode.Event, received time.Time) {
	req := *evt.Request
	kind := string(evt.Type)
	first, err := s.claim(ctx, dedupKey(evt))
	if err != nil {
		// Without Redis we cannot tell a redelivery; handling twice is
		// safer than never for reads, and writes are idempotent in the store.
		s.log.Warn("envelope de-duplication unavailable", "err", err)
		first = true
	}
	if !first {
		s.envelopes.WithLabelValues(kind, "duplicate").Inc()
		s.ack(req, nil, received)
		return
	}
	switch evt.Type {
	case socketmode.EventTypeSlashCommand:
		cmd, _ := evt.Data.(slack.SlashCommand)
		s.command(ctx, req, cmd, received)
	case socketmode.EventTypeInteractive:
		cb, _ := evt.Data.(slack.InteractionCallback)
		interact := func() (any, error) { return s.app.Interaction(ctx, cb) }
		if cb.Type == slack.InteractionTypeViewSubmission {
			ack, err := recovered(interact)
			s.logErr("view submission", err)
			s.ack(req, ack, received)
			break
		}
		s.ack(req, nil, received)
		_, err := recovered(interact)
		s.logErr("interaction", err)
	case socketmode.EventTypeEventsAPI:
		s.ack(req, nil, received)
		ev, _ := evt.Data.(slackevents.EventsAPIEvent)
		_, err := recovered(func() (any, error) { return nil, s.app.Event(ctx, ev) })
		s.logErr("event", err)
	}
	s.envelopes.WithLabelValues(kind, "handled").Inc()
}

// command answers in the ack when the answer is ready in time, else acks
// with a holding line and sends the answer to response_url.
func (s *Socket) command(ctx context.Context, req socketmode.Request, cmd slack.SlashCommand, received time.Time) {
	type result struct {
		reply Reply
		err   error
	}
	done := make(chan result, 1)
	go func() {
		r, err := recovered(func() (Reply, error) { return s.app.Command(ctx, cmd) })
		done <- result{r, err}
	}()
	timer := time.NewTimer(s.answerWithin - time.Since(received))
	defer timer.Stop()
	select {
	case r := <-done:
		s.logErr("command "+cmd.Command, r.err)
		s.ack(req, commandPayload(r.reply, r.err), received)
	case <-timer.C:
		s.ack(req, commandPayload(Reply{Message: blocks.Message{Text: "⏳ Working on it…"}}, nil), received)
		r := <-done
		s.logErr("command "+cmd.Command, r.err)
		reply := r.reply
		if r.err != nil {
			reply = errorReply()
		}
		if err := s.sender.Respond(ctx, cmd.ResponseURL, reply.Message, true); err != nil {
			s.log.Error("late command answer lost", "command", cmd.Command, "err", err)
		}
	}
}

// recovered runs a handler and turns a panic (a bug, or a payload no
// handler expected) into an error, so one bad request gets the error reply
// and is logged instead of taking the process, and every request in
// flight, down with it.
func recovered[T any](fn func() (T, error)) (out T, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v\n%s", p, debug.Stack())
		}
	}()
	return fn()
}

func commandPayload(r Reply, err error) map[string]any {
	if err != nil {
		r = errorReply()
	}
	kind := slack.ResponseTypeEphemeral
	if r.InChannel {
		kind = slack.ResponseTypeInChannel
	}
	p := map[string]any{"response_type": kind, "text": r.Text}
	if len(r.Blocks) > 0 {
		p["blocks"] = r.Blocks
	}
	return p
}

func errorReply() Reply {
	return Reply{Message: blocks.Message{Text: "⚠️ Something went wrong on our side; nothing was changed. Please try again."}}
}

func (s *Socket) ack(req socketmode.Request, payload any, received time.Time) {
	if err := s.client.Ack(req, payload); err != nil {
		s.log.Error("ack failed", "envelope", req.EnvelopeID, "err", err)
		return
	}
	s.ackLatency.Observe(time.Since(received).Seconds())
}

func (s *Socket) logErr(what string, err error) {
	if err != nil {
		s.log.Error(what+" failed", "err", err)
	}
}

// claim is true for the first sight of key within a day.
func (s *Socket) claim(ctx context.Context, key string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	return s.dedup.SetNX(ctx, s.prefix+"envelope:"+key, "1", 24*time.Hour).Result()
}

// dedupKey identifies a request across redeliveries: Events API callbacks
// carry an event_id that stays the same; other envelopes keep their id.
func dedupKey(evt socketmode.Event) string {
	if evt.Type == socketmode.EventTypeEventsAPI {
		var p struct {
			EventID string `json:"event_id"`
		}
		if json.Unmarshal(evt.Request.Payload, &p) == nil && p.EventID != "" {
			return "event:" + p.EventID
		}
	}
	return "envelope:" + evt.Request.EnvelopeID
}
