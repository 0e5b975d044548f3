package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/bot"
)

// CommandFunc answers one slash command. The reply goes back in the ack
// when it is ready within Slack's deadline, else to response_url.
type CommandFunc func(ctx context.Context, cmd slack.SlashCommand) (bot.Reply, error)

// ActionFunc handles one clicked element of a block_actions payload, after
// the click was acked.
type ActionFunc func(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error

// ViewFunc handles a view_submission; what it returns is the ack payload
// (nil closes the modal, a response_action map shows errors or a new view).
type ViewFunc func(ctx context.Context, cb slack.InteractionCallback) (ack any, err error)

// EventFunc handles one Events API callback, after it was acked.
type EventFunc func(ctx context.Context, ev slackevents.EventsAPIEvent) error

// ShortcutFunc handles a global or message shortcut, after it was acked.
type ShortcutFunc func(ctx context.Context, cb slack.InteractionCallback) error

// Responder tells a user something about their click (ephemeral).
type Responder interface {
	Respond(ctx context.Context, responseURL string, m blocks.Message, replaceOriginal bool) error
}

type prefixRoute[F any] struct {
	prefix string
	fn     F
}

// Router hands each Slack request to the feature that registered for it:
// slash commands by name, actions by action_id prefix, modal submissions by
// callback_id prefix, events by inner event type, shortcuts by callback_id.
// Features register in main's wiring; the Router itself knows none of them.
type Router struct {
	commands  map[string]CommandFunc
	actions   []prefixRoute[ActionFunc]
	views     []prefixRoute[ViewFunc]
	events    map[string][]EventFunc
	shortcuts map[string]ShortcutFunc
	respond   Responder
	gate      Gate
	log       *slog.Logger
}

// Gate screens every command and interaction before a feature sees it
// (who may ask, and where an answer may be shown).
type Gate interface {
	// Command answers cmd itself or hands it to next.
	Command(ctx context.Context, cmd slack.SlashCommand, next CommandFunc) (bot.Reply, error)
	// Interaction returns the context to handle cb in (who is asking), or
	// a refusal to show instead of handling it.
	Interaction(ctx context.Context, cb slack.InteractionCallback) (context.Context, *blocks.Message, error)
}

// SetGate puts g in front of every command and interaction.
func (r *Router) SetGate(g Gate) { r.gate = g }

// NewRouter builds an empty router.
func NewRouter(respond Responder, log *slog.Logger) *Router {
	return &Router{commands: map[string]CommandFunc{}, events: map[string][]EventFunc{},
		shortcuts: map[string]ShortcutFunc{}, respond: respond, log: log}
}

// HandleCommand registers a slash command ("/health").
func (r *Router) HandleCommand(name string, fn CommandFunc) {
	if _, dup := r.commands[name]; dup {
		panic("handlers: command registered twice: " + name)
	}
	r.commands[name] = fn
}

// HandleAction registers every action whose action_id starts with prefix.
// The longest matching prefix wins, so "offer_" and "offer_outcome_" can
// belong to different handlers.
func (r *Router) HandleAction(prefix string, fn ActionFunc) {
	r.actions = addRoute(r.actions, prefix, fn)
}

// HandleView registers modal submissions whose callback_id starts with prefix.
func (r *Router) HandleView(prefix string, fn ViewFunc) {
	r.views = addRoute(r.views, prefix, fn)
}

// HandleEvent registers an Events API inner event type ("message",
// "app_home_opened"); several handlers may share one type.
func (r *Router) HandleEvent(eventType string, fn EventFunc) {
	r.events[eventType] = append(r.events[eventType], fn)
}

// HandleShortcut registers a global or message shortcut by callback_id.
func (r *Router) HandleShortcut(callbackID string, fn ShortcutFunc) {
	r.shortcuts[callbackID] = fn
}

func addRoute[F any](routes []prefixRoute[F], prefix string, fn F) []prefixRoute[F] {
	for _, rt := range routes {
		if rt.prefix == prefix {
			panic("handlers: route registered twice: " + prefix)
		}
	}
	routes = append(routes, prefixRoute[F]{prefix, fn})
	sort.SliceStable(routes, func(i, j int) bool { return len(routes[i].prefix) > len(routes[j].prefix) })
	return routes
}

func match[F any](routes []prefixRoute[F], id string) (F, bool) {
	for _, rt := range routes {
		if strings.HasPrefix(id, rt.prefix) {
			return rt.fn, true
		}
	}
	var zero F
	return zero, false
}

// Commands lists the registered slash commands, sorted (for help text).
func (r *Router) Commands() []string {
	out := make([]string, 0, len(r.commands))
	for c := range r.commands {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// Command answers a slash command.
func (r *Router) Command(ctx context.Context, cmd slack.SlashCommand) (bot.Reply, error) {
	if r.gate != nil {
		return r.gate.Command(ctx, cmd, r.command)
	}
	return r.command(ctx, cmd)
}

func (r *Router) command(ctx context.Context, cmd slack.SlashCommand) (bot.Reply, error) {
	if fn, ok := r.commands[cmd.Command]; ok {
		return fn(ctx, cmd)
	}
	return reply(blocks.Problem("I don't know the command %s. I answer: %s.", cmd.Command, strings.Join(r.Commands(), ", "))), nil
}

// Interaction routes clicks, modal submissions and shortcuts.
func (r *Router) Interaction(ctx context.Context, cb slack.InteractionCallback) (any, error) {
	if r.gate != nil {
		var refusal *blocks.Message
		var err error
		ctx, refusal, err = r.gate.Interaction(ctx, cb)
		if err != nil {
			return nil, err
		}
		if refusal != nil {
			r.Tell(ctx, cb, *refusal)
			return nil, nil
		}
	}
	switch cb.Type {
	case slack.InteractionTypeBlockActions:
		for _, act := range cb.ActionCallback.BlockActions {
			fn, ok := match(r.actions, act.ActionID)
			if !ok {
				r.log.Warn("unknown action", "action_id", act.ActionID)
				continue
			}
			if err := fn(ctx, cb, act); err != nil {
				r.Tell(ctx, cb, blocks.Problem("Sorry, that did not work; nothing was changed. Please try again."))
				return nil, fmt.Errorf("action %s: %w", act.ActionID, err)
			}
		}
	case slack.InteractionTypeViewSubmission:
		if cb.View.State == nil {
			// A modal without inputs comes without state; handlers read
			// their fields from it and find them empty.
			cb.View.State = &slack.ViewState{}
		}
		fn, ok := match(r.views, cb.View.CallbackID)
		if !ok {
			r.log.Warn("unknown view submission", "callback_id", cb.View.CallbackID)
			return nil, nil
		}
		return fn(ctx, cb)
	case slack.InteractionTypeShortcut, slack.InteractionTypeMessageAction:
		fn, ok := r.shortcuts[cb.CallbackID]
		if !ok {
			r.log.Warn("unknown shortcut", "callback_id", cb.CallbackID)
			return nil, nil
		}
		return nil, fn(ctx, cb)
	}
	return nil, nil
}

// Event routes an Events API callback by its inner event type.
func (r *Router) Event(ctx context.Context, ev slackevents.EventsAPIEvent) error {
	var errs []error
	for _, fn := range r.events[ev.InnerEvent.Type] {
		if err := fn(ctx, ev); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("event %s: %v", ev.InnerEvent.Type, errs)
	}
	return nil
}

// Tell answers the user who clicked, ephemerally, when Slack gave a
// response_url (messages do; modals and App Home do not).
func (r *Router) Tell(ctx context.Context, cb slack.InteractionCallback, m blocks.Message) {
	if cb.ResponseURL == "" {
		return
	}
	if err := r.respond.Respond(ctx, cb.ResponseURL, m, false); err != nil {
		r.log.Warn("respond to interaction", "err", err)
	}
}
