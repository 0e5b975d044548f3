package bot

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/slack-go/slack"
)

// Channels makes and manages account rooms through the Web API: create,
// find, join, invite, pin, open a DM. Every call goes through the Sender's
// pacing and 429 handling; Slack's own errors come back as
// slack.SlackErrorResponse so callers can tell name_taken from an outage.
type Channels struct {
	s *Sender

	mu      sync.Mutex
	botUser string
}

// NewChannels wraps a Sender.
func NewChannels(s *Sender) *Channels { return &Channels{s: s} }

// workspaceKey paces calls that are limited per workspace, not per channel.
const workspaceKey = "workspace"

// SlackError is the error code of a Slack API error ("name_taken"), or "".
func SlackError(err error) string {
	var resp slack.SlackErrorResponse
	if errors.As(err, &resp) {
		return resp.Err
	}
	return ""
}

// CreateChannel creates a channel and returns its id.
func (c *Channels) CreateChannel(ctx context.Context, name string, private bool) (string, error) {
	var ch *slack.Channel
	err := c.s.paced(ctx, "conversations.create", workspaceKey, func() error {
		var err error
		ch, err = c.s.api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: name, IsPrivate: private})
		return err
	})
	if err != nil {
		return "", err
	}
	return ch.ID, nil
}

// maxListPages bounds a channel search (1,000 channels a page).
const maxListPages = 50

// FindChannel looks a channel up by name and says who created it; "" when
// there is none. It pages through conversations.list, so it is for the
// rare case where a name we tried ourselves is taken.
func (c *Channels) FindChannel(ctx context.Context, name string, private bool) (id, creator string, err error) {
	types := []string{"public_channel"}
	if private {
		types = []string{"private_channel"}
	}
	cursor := ""
	for range maxListPages {
		var list []slack.Channel
		var next string
		err := c.s.paced(ctx, "conversations.list", workspaceKey, func() error {
			var err error
			list, next, err = c.s.api.GetConversationsContext(ctx, &slack.GetConversationsParameters{
				Cursor: cursor, Limit: 1000, Types: types, ExcludeArchived: true})
			return err
		})
		if err != nil {
			return "", "", err
		}
		for _, ch := range list {
			if ch.Name == name {
				return ch.ID, ch.Creator, nil
			}
		}
		if next == "" {
			return "", "", nil
		}
		cursor = next
	}
	return "", "", fmt.Errorf("find channel %q: more than %d pages of channels", name, maxListPages)
}

// Invite adds one user to a channel. Someone already there is not an error.
func (c *Channels) Invite(ctx context.Context, channel, user string) error {
	err := c.s.paced(ctx, "conversations.invite", channel, func() error {
		_, err := c.s.api.InviteUsersToConversationContext(ctx, channel, user)
		return err
	})
	switch SlackError(err) {
	case "already_in_channel", "cant_invite_self":
		return nil
	}
	return err
}

// Pin pins a message. A message already pinned is not an error.
func (c *Channels) Pin(ctx context.Context, channel, ts string) error {
	err := c.s.paced(ctx, "pins.add", channel, func() error {
		return c.s.api.AddPinContext(ctx, channel, slack.NewRefToMessage(channel, ts))
	})
	if SlackError(err) == "already_pinned" {
		return nil
	}
	return err
}

// OpenDM returns the id of the bot's direct message conversation with
// user: messages must be posted there (not to the user id) to be editable.
func (c *Channels) OpenDM(ctx context.Context, user string) (string, error) {
	var id string
	err := c.s.paced(ctx, "conversations.open", workspaceKey, func() error {
		ch, _, _, err := c.s.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{user}})
		if err == nil {
			id = ch.ID
		}
		return err
	})
	return id, err
}

// ErrPrivateNotMember: the bot cannot join a private channel by itself.
var ErrPrivateNotMember = errors.New("private channel: invite the bot first")

// Join makes sure the bot is in a channel it is about to use as a room
// and returns the channel's name. Public channels are joined; private ones
// need a person to invite the bot.
func (c *Channels) Join(ctx context.Context, channel string) (string, error) {
	var ch *slack.Channel
	err := c.s.paced(ctx, "conversations.info", channel, func() error {
		var err error
		ch, err = c.s.api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: channel})
		return err
	})
	if err != nil {
		if SlackError(err) == "channel_not_found" {
			return "", ErrPrivateNotMember
		}
		return "", err
	}
	if ch.IsArchived {
		return "", errors.New("channel is archived")
	}
	if ch.IsMember {
		return ch.Name, nil
	}
	if ch.IsPrivate {
		return "", ErrPrivateNotMember
	}
	err = c.s.paced(ctx, "conversations.join", channel, func() error {
		_, _, _, err := c.s.api.JoinConversationContext(ctx, channel)
		return err
	})
	return ch.Name, err
}

// BotUserID is the bot's own user id (auth.test), asked once.
func (c *Channels) BotUserID(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.botUser != "" {
		return c.botUser, nil
	}
	err := c.s.paced(ctx, "auth.test", workspaceKey, func() error {
		r, err := c.s.api.AuthTestContext(ctx)
		if err == nil {
			c.botUser = r.UserID
		}
		return err
	})
	if err != nil {
		return "", err
	}
	return c.botUser, nil
}
