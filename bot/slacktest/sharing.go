package slacktest

import (
	"context"
	"slices"
	"strings"
)

// ShareChannel makes channel a Slack Connect channel shared with team
// (conversations.info then answers is_ext_shared and is_shared, and
// connected_team_ids), adding the channel (with the bot in it) if the fake
// did not know it. pending leaves it an invitation not yet accepted
// (is_pending_ext_shared, pending_shared).
func (s *Server) ShareChannel(channel, team string, pending bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.channels[channel]
	if !ok {
		c = s.addChannelLocked(channel, strings.ToLower(channel), BotUser, false)
	}
	if pending {
		c.PendingTeams = append(c.PendingTeams, team)
	} else {
		c.SharedTeams = append(c.SharedTeams, team)
	}
	s.notifyLocked()
}

// EmitChannelShared sends the channel_shared event Slack sends when a
// channel is shared with team, after sharing it (ShareChannel).
func (s *Server) EmitChannelShared(ctx context.Context, channel, team string) (Ack, error) {
	s.ShareChannel(channel, team, false)
	return s.SendEvent(ctx, map[string]any{"type": "channel_shared", "channel": channel,
		"connected_team_id": team, "event_ts": "1700000000.000100"})
}

// AddExternalUser makes users.info describe user as a member of another
// organisation's team (team_id team, is_stranger true).
func (s *Server) AddExternalUser(user, team string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.external[user] = team
}

// SetUserEmail makes users.lookupByEmail find user by email; other
// addresses answer users_not_found.
func (s *Server) SetUserEmail(email, user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.emails[strings.ToLower(email)] = user
}

// RemoveMember takes user (the bot: BotUser) out of a known channel.
func (s *Server) RemoveMember(channel, user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.channels[channel]; ok {
		c.Members = slices.DeleteFunc(c.Members, func(m string) bool { return m == user })
		s.notifyLocked()
	}
}

// RemoveUser makes users.info answer user_not_found for user, as for an id
// that never existed or a deleted account.
func (s *Server) RemoveUser(user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.external[user] = removedUser
}

// removedUser marks a RemoveUser'd id in the external map.
const removedUser = "-"

func (s *Server) userInfo(u string) obj {
	s.mu.Lock()
	team, external := s.external[u]
	s.mu.Unlock()
	if team == removedUser {
		return fail("user_not_found")
	}
	name := strings.ToLower(u)
	user := obj{"id": u, "team_id": TeamID, "name": name, "real_name": "User " + u,
		"tz": "America/New_York", "tz_label": "Eastern Standard Time", "tz_offset": -18000,
		"profile": obj{"real_name": "User " + u, "display_name": name, "email": name + "@example.com"}}
	if external {
		user["team_id"], user["is_stranger"] = team, true
	}
	return ok(obj{"user": user})
}

func (s *Server) lookupByEmail(email string) obj {
	s.mu.Lock()
	u, found := s.emails[strings.ToLower(email)]
	s.mu.Unlock()
	if !found {
		return fail("users_not_found")
	}
	return ok(obj{"user": obj{"id": u, "team_id": TeamID, "name": strings.ToLower(u),
		"profile": obj{"email": email}}})
}
