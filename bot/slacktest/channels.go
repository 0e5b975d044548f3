package slacktest

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Channel is a channel the fake workspace knows: created through
// conversations.create or by a test with CreateChannel. Channels the fake
// does not know are still accepted by the conversation methods (as any
// existing channel the bot is in), so tests need not declare them.
type Channel struct {
	ID       string
	Name     string
	Creator  string
	Private  bool
	Archived bool
	Members  []string
	Pins     []string // pinned message ts, in pin order
	// SharedTeams are the other organisations' teams the channel is shared
	// with; PendingTeams were invited and have not accepted yet.
	SharedTeams  []string
	PendingTeams []string
}

type fakeChannel struct {
	Channel
	created int64
}

var channelName = regexp.MustCompile(`^[a-z0-9_-]+$`)

// CreateChannel adds a channel as if a person (creator) had made it, so a
// test can provoke name_taken or link an existing channel. The bot is a
// member only if it is the creator.
func (s *Server) CreateChannel(name, creator string, private bool) string {
	id := s.nextID("C")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addChannelLocked(id, name, creator, private)
	return id
}

func (s *Server) addChannelLocked(id, name, creator string, private bool) *fakeChannel {
	if s.channels == nil {
		s.channels = map[string]*fakeChannel{}
	}
	c := &fakeChannel{Channel: Channel{ID: id, Name: name, Creator: creator, Private: private, Members: []string{creator}},
		created: time.Now().Unix()}
	s.channels[id] = c
	s.notifyLocked()
	return c
}

// Channels lists the channels the fake knows, in creation order.
func (s *Server) Channels() []Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Channel
	for _, c := range s.channels {
		out = append(out, c.snapshot())
	}
	slices.SortFunc(out, func(a, b Channel) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// ChannelInfo returns one known channel.
func (s *Server) ChannelInfo(id string) (Channel, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.channels[id]
	if !ok {
		return Channel{}, false
	}
	return c.snapshot(), true
}

func (c *fakeChannel) snapshot() Channel {
	out := c.Channel
	out.Members = slices.Clone(c.Members)
	out.Pins = slices.Clone(c.Pins)
	out.SharedTeams = slices.Clone(c.SharedTeams)
	out.PendingTeams = slices.Clone(c.PendingTeams)
	return out
}

func (c *fakeChannel) json() obj {
	return obj{"id": c.ID, "name": c.Name, "is_channel": !c.Private, "is_group": false, "is_private": c.Private,
		"is_archived": c.Archived, "is_member": slices.Contains(c.Members, BotUser), "creator": c.Creator,
		"context_team_id": TeamID, "created": c.created, "num_members": len(c.Members),
		"is_shared": len(c.SharedTeams) > 0, "is_ext_shared": len(c.SharedTeams) > 0,
		"connected_team_ids": c.SharedTeams, "is_pending_ext_shared": len(c.PendingTeams) > 0,
		"pending_shared": c.PendingTeams}
}

// channelMethod serves the conversation and pin methods for known
// channels; ok is false when the channel is unknown (the caller keeps its
// permissive default).
func (s *Server) channelMethod(method string, p map[string]string) (obj, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch method {
	case "conversations.create":
		name := p["name"]
		switch {
		case name == "":
			return fail("invalid_name_required"), true
		case len(name) > 80:
			return fail("invalid_name_maxlength"), true
		case !channelName.MatchString(name):
			return fail("invalid_name_specials"), true
		}
		for _, c := range s.channels {
			if c.Name == name {
				return fail("name_taken"), true
			}
		}
		s.seq++
		id := "C" + strings.ToUpper(strconv.FormatInt(1_000_000+s.seq, 36))
		c := s.addChannelLocked(id, name, BotUser, p["is_private"] == "true")
		return ok(obj{"channel": c.json()}), true
	case "conversations.list":
		return s.listChannelsLocked(p), true
	}
	c, known := s.channels[p["channel"]]
	if !known {
		return nil, false
	}
	member := slices.Contains(c.Members, BotUser)
	switch method {
	case "conversations.info":
		return ok(obj{"channel": c.json()}), true
	case "conversations.members":
		return ok(obj{"members": slices.Clone(c.Members), "response_metadata": obj{"next_cursor": ""}}), true
	case "conversations.join":
		if c.Private {
			return fail("method_not_supported_for_channel_type"), true
		}
		if !member {
			c.Members = append(c.Members, BotUser)
			s.notifyLocked()
		}
		return ok(obj{"channel": c.json()}), true
	case "conversations.invite":
		if !member {
			return fail("not_in_channel"), true
		}
		users := strings.Split(p["users"], ",")
		for _, u := range users {
			switch {
			case u == BotUser:
				return fail("cant_invite_self"), true
			case len(u) < 3 || (u[0] != 'U' && u[0] != 'W'):
				return fail("user_not_found"), true
			case slices.Contains(c.Members, u):
				return fail("already_in_channel"), true
			}
		}
		c.Members = append(c.Members, users...)
		s.notifyLocked()
		return ok(obj{"channel": c.json()}), true
	case "pins.add":
		if !member {
			return fail("not_in_channel"), true
		}
		ts := p["timestamp"]
		found := slices.ContainsFunc(s.messages, func(m *message) bool { return m.channel == c.ID && m.ts == ts })
		switch {
		case ts == "" || !found:
			return fail("message_not_found"), true
		case slices.Contains(c.Pins, ts):
			return fail("already_pinned"), true
		}
		c.Pins = append(c.Pins, ts)
		s.notifyLocked()
		return ok(obj{}), true
	}
	return nil, false
}

func (s *Server) listChannelsLocked(p map[string]string) obj {
	types := strings.Split(p["types"], ",")
	if p["types"] == "" {
		types = []string{"public_channel"}
	}
	var all []*fakeChannel
	for _, c := range s.channels {
		kind := "public_channel"
		if c.Private {
			kind = "private_channel"
		}
		if !slices.Contains(types, kind) || (c.Archived && p["exclude_archived"] == "true") {
			continue
		}
		all = append(all, c)
	}
	slices.SortFunc(all, func(a, b *fakeChannel) int { return strings.Compare(a.ID, b.ID) })
	limit, _ := strconv.Atoi(p["limit"])
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	start, _ := strconv.Atoi(p["cursor"])
	start = min(max(start, 0), len(all))
	end := min(start+limit, len(all))
	page := make([]obj, 0, end-start)
	for _, c := range all[start:end] {
		page = append(page, c.json())
	}
	next := ""
	if end < len(all) {
		next = strconv.Itoa(end)
	}
	return ok(obj{"channels": page, "response_metadata": obj{"next_cursor": next}})
}
