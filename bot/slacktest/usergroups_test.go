package slacktest

import (
	"slices"
	"testing"

	"github.com/slack-go/slack"
)

func TestUserGroupMembers(t *testing.T) {
	t.Parallel()
	s := newServer(t, Options{})
	ctx := testCtx(t)
	api := newAPI(s)
	s.SetUserGroup("SFIN", "U1", "U2")
	got, err := api.GetUserGroupMembersContext(ctx, "SFIN")
	if err != nil || !slices.Equal(got, []string{"U1", "U2"}) {
		t.Fatalf("members = %v, %v", got, err)
	}
	if _, err := api.GetUserGroupMembersContext(ctx, "SNOPE"); err == nil || err.Error() != "no_such_subteam" {
		t.Fatalf("unknown group: err = %v, want no_such_subteam", err)
	}
	calls := s.Calls("usergroups.users.list")
	if len(calls) != 2 || calls[0].Params["usergroup"] != "SFIN" || calls[0].Token != "xoxb-test" {
		t.Errorf("calls = %+v", calls)
	}
}

func TestPostToUserLandsInDM(t *testing.T) {
	t.Parallel()
	s := newServer(t, Options{})
	ctx := testCtx(t)
	api := newAPI(s)
	ch, ts, err := api.PostMessageContext(ctx, "U0FIN", slack.MsgOptionText("approve?", false))
	if err != nil || ch != "D0FIN" {
		t.Fatalf("post to user: channel %q, %v; want the DM channel D0FIN", ch, err)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, ch, ts, slack.MsgOptionText("decided", false)); err != nil {
		t.Fatalf("update in DM: %v", err)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, "D0OTHER", ts, slack.MsgOptionText("x", false)); err == nil {
		t.Fatal("update in another DM succeeded")
	}
	ups := s.Calls("chat.update")
	if ups[0].Params["channel"] != "D0FIN" || ups[0].Error != "" {
		t.Errorf("update call %+v", ups[0])
	}
	// The DM reads as one conversation by user id or DM channel id.
	for _, ch := range []string{"U0FIN", "D0FIN"} {
		if msgs := s.Messages(ch); len(msgs) != 2 || msgs[0].Method != "chat.postMessage" || msgs[1].Text != "decided" {
			t.Errorf("Messages(%s) = %+v", ch, msgs)
		}
	}
}
