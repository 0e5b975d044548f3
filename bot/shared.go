package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/store"
)

// SharingTTL is how long a "not shared" answer from conversations.info is
// believed. "Shared" is stored in Postgres and believed for good.
const SharingTTL = time.Minute

// ErrNoInternalRoute: every place an internal message could go instead of
// a shared channel is itself shared (or unset).
var ErrNoInternalRoute = errors.New("channel is shared with another organisation and no internal channel, owner or default channel can take the message")

// Sharing knows which channels an outside organisation can read, and where
// an account's internal messages go instead: the account's
// internal_channel, else its owner's DM, else the default channel.
type Sharing struct {
	store    *store.Store
	sender   *Sender
	fallback string
	ttl      time.Duration
	now      func() time.Time
	log      *slog.Logger

	mu       sync.Mutex
	clear    map[string]time.Time // channel -> not shared, until
	shared   map[string]bool      // channels known shared: never un-shared, so no query again
	onShared func(ctx context.Context, channel string) error
}

// OnShared makes fn run when Slack first says a channel is shared (no
// channel_shared event was seen for it): the account's owner is told.
func (g *Sharing) OnShared(fn func(ctx context.Context, channel string) error) {
	g.mu.Lock()
	g.onShared = fn
	g.mu.Unlock()
}

// NewSharing wires the sharing check. fallback is alerts.default_channel.
func NewSharing(st *store.Store, s *Sender, fallback string, now func() time.Time, log *slog.Logger) *Sharing {
	return &Sharing{store: st, sender: s, fallback: fallback, ttl: SharingTTL, now: now, log: log,
		clear: map[string]time.Time{}, shared: map[string]bool{}}
}

// Shared says whether people outside the workspace's organisation can read
// channel (or may soon: a pending invitation counts). DMs and user ids are
// never shared.
func (g *Sharing) Shared(ctx context.Context, channel string) (bool, error) {
	if channel == "" || (channel[0] != 'C' && channel[0] != 'G') {
		return false, nil
	}
	g.mu.Lock()
	known := g.shared[channel]
	g.mu.Unlock()
	if known {
		return true, nil
	}
	// The stored flag next: a channel_shared event seen by any replica
	// counts at once everywhere.
	shared, err := g.store.ChannelShared(ctx, channel)
	if err != nil {
		return false, err
	}
	if shared {
		g.remember(channel)
		return true, nil
	}
	g.mu.Lock()
	until, ok := g.clear[channel]
	g.mu.Unlock()
	if ok && g.now().Before(until) {
		return false, nil
	}
	var ch *slack.Channel
	err = g.sender.paced(ctx, "conversations.info", channel, func() error {
		var err error
		ch, err = g.sender.api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: channel})
		return err
	})
	if err != nil {
		return false, fmt.Errorf("check whether %s is shared: %w", channel, err)
	}
	if ch.IsExtShared || ch.IsShared || ch.IsOrgShared || ch.IsPendingExtShared || len(ch.PendingShared) > 0 ||
		len(ch.ConnectedTeamIDs) > 0 {
		first, err := g.store.MarkChannelShared(ctx, channel, "conversations.info")
		if err != nil {
			return true, err
		}
		g.remember(channel)
		g.mu.Lock()
		fn := g.onShared
		g.mu.Unlock()
		if first && fn != nil {
			if err := fn(ctx, channel); err != nil {
				g.log.Warn("tell the owner a channel is shared", "channel", channel, "err", err)
			}
		}
		return true, nil
	}
	g.mu.Lock()
	g.clear[channel] = g.now().Add(g.ttl)
	g.mu.Unlock()
	return false, nil
}

// remember keeps channel as shared for good: "shared" is never undone.
func (g *Sharing) remember(channel string) {
	g.mu.Lock()
	g.shared[channel] = true
	delete(g.clear, channel)
	g.mu.Unlock()
}

// Forget drops what is cached about channel (a channel_shared event).
func (g *Sharing) Forget(channel string) {
	g.mu.Lock()
	delete(g.clear, channel)
	g.mu.Unlock()
}

// Route is where an internal message addressed to channel may go: channel
// itself when it is not shared, else the first of the account's
// internal_channel, its owner (a DM) and the default channel that is not
// shared.
func (g *Sharing) Route(ctx context.Context, channel string) (string, error) {
	shared, err := g.Shared(ctx, channel)
	if err != nil || !shared {
		return channel, err
	}
	return g.internalRoute(ctx, channel)
}

// internalRoute is Route for a channel already known to be shared.
func (g *Sharing) internalRoute(ctx context.Context, channel string) (string, error) {
	var candidates []string
	a, err := g.store.AccountByChannel(ctx, channel)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return "", err
	default:
		owner, err := g.store.SlackUser(ctx, a.OwnerCSM)
		if err != nil {
			return "", err
		}
		candidates = append(candidates, a.InternalChannel, owner)
	}
	var tried []string
	for _, c := range append(candidates, g.fallback) {
		if c == "" || c == channel {
			continue
		}
		shared, err := g.Shared(ctx, c)
		if err != nil {
			return "", err
		}
		if !shared {
			return c, nil
		}
		tried = append(tried, c)
	}
	// The dead letter and its log line say what was tried, so an admin
	// knows which setting to fix.
	if len(tried) == 0 {
		return "", fmt.Errorf("%w (%s: no internal_channel, owner or default channel is set)", ErrNoInternalRoute, channel)
	}
	return "", fmt.Errorf("%w (%s; shared too: %s)", ErrNoInternalRoute, channel, strings.Join(tried, ", "))
}

// address makes the final check before an internal message leaves: one
// bound for a shared channel goes to the channel's internal route instead
// (posts and updates as a new post there, ephemerals to the user's DM).
func (g *Sharing) address(ctx context.Context, it *store.OutboxItem) error {
	if it.Audience == store.AudienceCustomer {
		return nil
	}
	shared, err := g.Shared(ctx, it.ChannelID)
	if err != nil || !shared {
		return err
	}
	to := it.UserID
	if it.Op != store.OpEphemeral || to == "" {
		if to, err = g.internalRoute(ctx, it.ChannelID); err != nil {
			return err
		}
	}
	g.log.Info("internal message kept out of a shared channel", "outbox_id", it.ID, "shared_channel", it.ChannelID, "to", to)
	it.ReroutedFrom, it.ChannelID = it.ChannelID, to
	// A thread or message in the shared channel cannot be continued elsewhere.
	it.Op, it.ThreadTS, it.TargetTS = store.OpPost, "", ""
	return nil
}
