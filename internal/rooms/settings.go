package rooms

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/holdfast/holdfast/slackid"
)

// Settings configure account rooms (YAML "rooms").
type Settings struct {
	// ChannelPattern names a new room: {name}, {external_id}, {segment},
	// {tier}; the result is folded to Slack's channel-name rules.
	ChannelPattern string   `yaml:"channel_pattern"`
	Private        bool     `yaml:"private"` // create private channels
	Invite         []string `yaml:"invite"`  // Slack user ids invited to every room
	Admins         []string `yaml:"admins"`  // may /room link any account
	// Summarize lists the signal kinds whose text becomes a note with a
	// summary on the timeline and in the room.
	Summarize []string `yaml:"summarize"`
}

// NoteKinds are the kinds a note can have: typed in Slack, or ingested
// conversation.
var NoteKinds = []string{"note", "call_note", "ticket", "email", "meeting", "slack_message"}

// DefaultSettings are the rooms defaults.
func DefaultSettings() Settings {
	return Settings{ChannelPattern: DefaultChannelPattern, Summarize: []string{"call_note", "ticket", "email", "meeting"}}
}

// Validate checks the section; an error names the key at fault.
func (r *Settings) Validate() error {
	if err := ValidatePattern(r.ChannelPattern); err != nil {
		return fmt.Errorf("rooms.channel_pattern: %w", err)
	}
	// In YAML order, so the same file always names the same first problem.
	for _, l := range []struct {
		key  string
		list []string
	}{{"invite", r.Invite}, {"admins", r.Admins}} {
		for i, u := range l.list {
			if !slackid.User(u) {
				return fmt.Errorf("rooms.%s[%d]: %q is not a Slack user id (like U0123ABCD)", l.key, i, u)
			}
		}
	}
	for i, k := range r.Summarize {
		if k == "note" || !slices.Contains(NoteKinds, k) {
			return fmt.Errorf("rooms.summarize[%d]: %q is not a signal kind with text (call_note, ticket, email, meeting, slack_message)", i, k)
		}
	}
	return nil
}

// DefaultChannelPattern names a room after the account.
const DefaultChannelPattern = "acct-{name}"

var placeholder = regexp.MustCompile(`\{[a-z_]*\}`)

// ValidatePattern checks a channel pattern: known placeholders only, at
// least one of {name} or {external_id} (else every room would collide),
// and fixed text that survives Slack's naming rules.
func ValidatePattern(p string) error {
	if strings.TrimSpace(p) == "" {
		return errors.New("must not be empty")
	}
	if strings.Count(p, "{") != strings.Count(p, "}") {
		return errors.New("has an unclosed { or }")
	}
	for _, ph := range placeholder.FindAllString(p, -1) {
		switch ph {
		case "{name}", "{external_id}", "{segment}", "{tier}":
		default:
			return fmt.Errorf("unknown placeholder %s (use {name}, {external_id}, {segment}, {tier})", ph)
		}
	}
	if !strings.Contains(p, "{name}") && !strings.Contains(p, "{external_id}") {
		return errors.New("needs {name} or {external_id}, or every account's room would have one name")
	}
	fixed := placeholder.ReplaceAllString(p, "")
	if strings.ContainsAny(fixed, "{}") {
		return errors.New("has an unclosed { or }")
	}
	for _, r := range strings.ToLower(fixed) {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return fmt.Errorf("fixed text %q has characters Slack does not allow in channel names (use a-z, 0-9, - and _)", fixed)
		}
	}
	return nil
}
