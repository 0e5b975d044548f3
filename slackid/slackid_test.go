package slackid

import "testing"

func TestShapes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		id                           string
		user, channel, convo, usrgrp bool
	}{
		{"U0123ABCD", true, false, false, false},
		{"W0123ABCD", true, false, false, false},
		{"C0123ABCD", false, true, true, false},
		{"G0123ABCD", false, true, true, false},
		{"D0123ABCD", false, false, true, false},
		{"S0123ABCD", false, false, false, true},
		{"U1", true, false, false, false},
		{"U", false, false, false, false},         // too short
		{"u0123abcd", false, false, false, false}, // lower case
		{"U0123 ABC", false, false, false, false}, // space
		{"<@U0123>", false, false, false, false},  // markup
		{"dana", false, false, false, false},
		{"", false, false, false, false},
		{"U" + "0123456789012345678901234567890", true, false, false, false}, // 32
		{"U" + "01234567890123456789012345678901", false, false, false, false},
	}
	for _, c := range cases {
		if User(c.id) != c.user || Channel(c.id) != c.channel || Conversation(c.id) != c.convo || UserGroup(c.id) != c.usrgrp {
			t.Errorf("%q: user %v channel %v conversation %v group %v, want %v %v %v %v", c.id, User(c.id), Channel(c.id),
				Conversation(c.id), UserGroup(c.id), c.user, c.channel, c.convo, c.usrgrp)
		}
	}
}
