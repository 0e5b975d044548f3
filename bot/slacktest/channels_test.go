package slacktest

import (
	"errors"
	"slices"
	"testing"

	"github.com/slack-go/slack"
)

func slackErr(err error) string {
	var resp slack.SlackErrorResponse
	if errors.As(err, &resp) {
		return resp.Err
	}
	return ""
}

func TestChannelLifecycle(t *testing.T) {
	t.Parallel()
	s := newServer(t, Options{})
	api := newAPI(s)
	ctx := testCtx(t)

	taken := s.CreateChannel("acct-acme", "UPERSON", false)
	if _, err := api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: "acct-acme"}); slackErr(err) != "name_taken" {
		t.Fatalf("duplicate name: %v", err)
	}
	if _, err := api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: "Bad Name"}); slackErr(err) != "invalid_name_specials" {
		t.Fatalf("bad name: %v", err)
	}
	ch, err := api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: "acct-acme-2"})
	if err != nil || ch.ID == "" || ch.Name != "acct-acme-2" || ch.Creator != BotUser {
		t.Fatalf("create: %+v %v", ch, err)
	}

	if _, err := api.InviteUsersToConversationContext(ctx, ch.ID, "U0CSM"); err != nil {
		t.Fatal(err)
	}
	if _, err := api.InviteUsersToConversationContext(ctx, ch.ID, "U0CSM"); slackErr(err) != "already_in_channel" {
		t.Fatalf("second invite: %v", err)
	}
	if _, err := api.InviteUsersToConversationContext(ctx, taken, "U0CSM"); slackErr(err) != "not_in_channel" {
		t.Fatalf("invite where the bot is not a member: %v", err)
	}

	_, ts, err := api.PostMessageContext(ctx, ch.ID, slack.MsgOptionText("card", false))
	if err != nil {
		t.Fatal(err)
	}
	if err := api.AddPinContext(ctx, ch.ID, slack.NewRefToMessage(ch.ID, ts)); err != nil {
		t.Fatal(err)
	}
	if err := api.AddPinContext(ctx, ch.ID, slack.NewRefToMessage(ch.ID, ts)); slackErr(err) != "already_pinned" {
		t.Fatalf("second pin: %v", err)
	}
	if err := api.AddPinContext(ctx, ch.ID, slack.NewRefToMessage(ch.ID, "1.000001")); slackErr(err) != "message_not_found" {
		t.Fatalf("pin of a missing message: %v", err)
	}
	info, ok := s.ChannelInfo(ch.ID)
	if !ok || !slices.Equal(info.Members, []string{BotUser, "U0CSM"}) || !slices.Equal(info.Pins, []string{ts}) {
		t.Fatalf("channel state: %+v", info)
	}

	// conversations.list pages and reports creators.
	var all []slack.Channel
	cursor := ""
	for {
		page, next, err := api.GetConversationsContext(ctx, &slack.GetConversationsParameters{Cursor: cursor, Limit: 1,
			Types: []string{"public_channel"}, ExcludeArchived: true})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if next == "" {
			break
		}
		cursor = next
	}
	if len(all) != 2 || all[0].ID != taken || all[0].Creator != "UPERSON" || all[1].Creator != BotUser {
		t.Fatalf("list: %+v", all)
	}

	// A public channel the bot is not in can be joined; a private one cannot.
	got, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: taken})
	if err != nil || got.IsMember {
		t.Fatalf("info before join: %+v %v", got, err)
	}
	if _, _, _, err := api.JoinConversationContext(ctx, taken); err != nil {
		t.Fatal(err)
	}
	if got, _ := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: taken}); !got.IsMember {
		t.Fatal("not a member after join")
	}
	secret := s.CreateChannel("secret", "UPERSON", true)
	if _, _, _, err := api.JoinConversationContext(ctx, secret); slackErr(err) != "method_not_supported_for_channel_type" {
		t.Fatalf("join private: %v", err)
	}
	// Unknown channels keep the permissive default.
	if _, err := api.InviteUsersToConversationContext(ctx, "C0UNKNOWN", "U1"); err != nil {
		t.Fatalf("unknown channel: %v", err)
	}
}
