package bot

import (
	"context"
	"fmt"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/store"
)

// SlackUser is what users.info says about someone's organisation.
type SlackUser struct {
	ID           string
	TeamID       string
	EnterpriseID string // Enterprise Grid organisation, "" outside one
	Stranger     bool   // from an organisation the workspace shares a channel with
}

// UserInfo asks users.info (scope users:read) about user.
func (s *Sender) UserInfo(ctx context.Context, user string) (SlackUser, error) {
	var u *slack.User
	err := s.paced(ctx, "users.info", workspaceKey, func() error {
		var err error
		u, err = s.api.GetUserInfoContext(ctx, user)
		return err
	})
	if err != nil {
		return SlackUser{}, err
	}
	return SlackUser{ID: u.ID, TeamID: u.TeamID, EnterpriseID: u.Enterprise.EnterpriseID, Stranger: u.IsStranger}, nil
}

// UserByEmail finds the user with that e-mail address (users.lookupByEmail,
// scope users:read.email); "" when Slack has none.
func (s *Sender) UserByEmail(ctx context.Context, email string) (string, error) {
	var u *slack.User
	err := s.paced(ctx, "users.lookupByEmail", workspaceKey, func() error {
		var err error
		u, err = s.api.GetUserByEmailContext(ctx, email)
		return err
	})
	if SlackError(err) == "users_not_found" {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return u.ID, nil
}

// Workspace is where the bot is installed (auth.test): the team, and the
// Enterprise Grid organisation when there is one.
type Workspace struct {
	TeamID       string
	EnterpriseID string
}

// Workspace asks auth.test where the bot is installed.
func (s *Sender) Workspace(ctx context.Context) (Workspace, error) {
	var w Workspace
	err := s.paced(ctx, "auth.test", workspaceKey, func() error {
		r, err := s.api.AuthTestContext(ctx)
		if err == nil {
			w = Workspace{TeamID: r.TeamID, EnterpriseID: r.EnterpriseID}
		}
		return err
	})
	return w, err
}

// BotInChannel says whether the bot is a member of channel
// (conversations.info is_member); a private channel it was not invited to
// answers channel_not_found, which is "no".
func (s *Sender) BotInChannel(ctx context.Context, channel string) (bool, error) {
	var ch *slack.Channel
	err := s.paced(ctx, "conversations.info", channel, func() error {
		var err error
		ch, err = s.api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: channel})
		return err
	})
	if SlackError(err) == "channel_not_found" {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return ch.IsMember, nil
}

// People resolves e-mail addresses to Slack users through a Postgres cache
// of users.lookupByEmail answers; an address Slack does not know is asked
// again at most once per peopleRecheck.
type People struct {
	store  *store.Store
	sender *Sender
}

// peopleRecheck is how long "no such user" is believed.
const peopleRecheck = time.Hour

// NewPeople wires the resolver.
func NewPeople(st *store.Store, s *Sender) *People { return &People{store: st, sender: s} }

// Resolve returns the Slack user id for email, "" when Slack has none.
func (p *People) Resolve(ctx context.Context, email string) (string, error) {
	id, checked, err := p.store.SlackUserByEmailChecked(ctx, email)
	if err != nil {
		return "", err
	}
	if id != "" || (!checked.IsZero() && time.Since(checked) < peopleRecheck) {
		return id, nil
	}
	if id, err = p.sender.UserByEmail(ctx, email); err != nil {
		return "", fmt.Errorf("look up %s: %w", email, err)
	}
	return id, p.store.RememberSlackEmail(ctx, email, id)
}
