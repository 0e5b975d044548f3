// Package slackid tells Slack identifiers apart by their shape: config
// files, CRM imports and button values name users and channels, and only a
// well-formed id may be put inside <@…> or <#…> or handed to the Web API.
package slackid

// User reports whether id looks like a Slack user id: U… or W… (Enterprise
// Grid), then upper-case letters and digits.
func User(id string) bool { return shaped(id, "UW") }

// Channel reports whether id looks like a channel id: C… (public, and
// newer private ones) or G… (older private ones). A DM is not a channel.
func Channel(id string) bool { return shaped(id, "CG") }

// Conversation reports whether id looks like any conversation Holdfast
// may post to: a channel or a DM (D…).
func Conversation(id string) bool { return shaped(id, "CGD") }

// UserGroup reports whether id looks like a user group id (S…).
func UserGroup(id string) bool { return shaped(id, "S") }

// shaped: one of the leading letters, then 1 to 31 of [A-Z0-9]. Real ids
// are about 9 to 11 characters; the bounds only stop absurd input.
func shaped(id, first string) bool {
	if len(id) < 2 || len(id) > 32 {
		return false
	}
	ok := false
	for i := 0; i < len(first); i++ {
		ok = ok || id[0] == first[i]
	}
	if !ok {
		return false
	}
	for i := 1; i < len(id); i++ {
		if c := id[i]; !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
