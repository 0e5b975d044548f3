package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/bot/slacktest"
	"github.com/holdfast/holdfast/internal/ingest"
)

// withClock runs the replica on a test clock.
func withClock(now func() time.Time) replicaOption {
	return func(o *appOptions) { o.now = now }
}

func withEnv(key, value string) deploymentOption {
	return func(d *deployment) { d.env[key] = value }
}

func str(s string) *string { return &s }
func num(n int) *int       { return &n }

// profiled is an account with cohort traits.
func profiled(id, name string, arr float64, owner, ae, mgr, size, industry, source string, tenure *int) ingest.AccountIn {
	return ingest.AccountIn{ExternalID: id, Name: name, ARR: arr, OwnerCSM: owner, AE: ae, SalesManager: mgr,
		CompanySizeBand: str(size), Industry: str(industry), DealSource: str(source), ChampionTenureMonths: tenure}
}

// command runs a slash command and returns its ack as plain text.
func (d *deployment) command(user, command, text string) string {
	d.t.Helper()
	ack, err := d.fake.SendSlashCommand(ctxTimeout(d.t, 10*time.Second), slacktest.SlashCommand{Command: command, Text: text, UserID: user, ChannelID: "C0CMD"})
	if err != nil {
		d.t.Fatal(err)
	}
	out, _ := ackReply(d.t, ack)
	return out
}

// lastView is the latest modal the bot opened with callback id.
func (d *deployment) lastView(callbackID string) slack.View {
	d.t.Helper()
	for i := 0; i < 200; i++ {
		calls := d.fake.Calls("views.open")
		for j := len(calls) - 1; j >= 0; j-- {
			var v slack.View
			if err := json.Unmarshal([]byte(calls[j].Params["view"]), &v); err != nil {
				d.t.Fatalf("views.open view: %v", err)
			}
			if v.CallbackID == callbackID {
				var resp struct {
					View struct {
						ID string `json:"id"`
					} `json:"view"`
				}
				_ = json.Unmarshal(calls[j].Response, &resp)
				v.ID = resp.View.ID
				return v
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	d.t.Fatalf("no modal %q was opened", callbackID)
	return slack.View{}
}

func (d *deployment) countViews(callbackID string) int {
	n := 0
	for _, c := range d.fake.Calls("views.open") {
		var v slack.View
		if json.Unmarshal([]byte(c.Params["view"]), &v) == nil && v.CallbackID == callbackID {
			n++
		}
	}
	return n
}

// submit sends a view_submission of v with state values and returns the ack payload.
func (d *deployment) submit(user string, v slack.View, values map[string]map[string]slack.BlockAction) (slacktest.Ack, map[string]any) {
	d.t.Helper()
	v.State = &slack.ViewState{Values: values}
	cb := slack.InteractionCallback{Type: slack.InteractionTypeViewSubmission, User: slack.User{ID: user},
		Team: slack.Team{ID: slacktest.TeamID}, View: v}
	ack, err := d.fake.SendInteraction(ctxTimeout(d.t, 10*time.Second), cb)
	if err != nil {
		d.t.Fatal(err)
	}
	var body map[string]any
	if len(ack.Payload) > 0 {
		_ = json.Unmarshal(ack.Payload, &body)
	}
	return ack, body
}

// click presses a button the bot posted.
func (d *deployment) click(user, channel, actionID, value string) {
	d.t.Helper()
	cb := slack.InteractionCallback{Type: slack.InteractionTypeBlockActions, User: slack.User{ID: user},
		Team: slack.Team{ID: slacktest.TeamID}, Channel: slack.Channel{GroupConversation: slack.GroupConversation{Conversation: slack.Conversation{ID: channel}}},
		TriggerID: fmt.Sprintf("trigger-%d", time.Now().UnixNano()), ResponseURL: d.responseURL(),
		ActionCallback: slack.ActionCallbacks{BlockActions: []*slack.BlockAction{{ActionID: actionID, BlockID: "b", Value: value}}}}
	if _, err := d.fake.SendInteraction(ctxTimeout(d.t, 10*time.Second), cb); err != nil {
		d.t.Fatal(err)
	}
}

// told waits for an ephemeral answer (response_url) containing want.
func (d *deployment) told(want string) {
	d.t.Helper()
	for i := 0; i < 200; i++ {
		for _, c := range d.fake.ResponseURLPosts() {
			if strings.Contains(c.Params["text"], want) || strings.Contains(c.Params["blocks"], want) {
				return
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	d.t.Fatalf("nobody was told %q", want)
}

func typed(v string) slack.BlockAction { return slack.BlockAction{Value: v} }

func option(v string) slack.BlockAction {
	return slack.BlockAction{SelectedOption: slack.OptionBlockObject{Value: v}}
}

func field(name string, a slack.BlockAction) map[string]map[string]slack.BlockAction {
	return map[string]map[string]slack.BlockAction{name: {name: a}}
}

func merge(ms ...map[string]map[string]slack.BlockAction) map[string]map[string]slack.BlockAction {
	out := map[string]map[string]slack.BlockAction{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// findAction returns the value of the first button whose action id starts with prefix.
func findAction(msgs []slacktest.Message, prefix string) (actionID, value string) {
	for i := len(msgs) - 1; i >= 0; i-- {
		for _, b := range msgs[i].Blocks {
			ab, ok := b.(*slack.ActionBlock)
			if !ok || ab.Elements == nil {
				continue
			}
			for _, el := range ab.Elements.ElementSet {
				if btn, ok := el.(*slack.ButtonBlockElement); ok && strings.HasPrefix(btn.ActionID, prefix) {
					return btn.ActionID, btn.Value
				}
			}
		}
	}
	return "", ""
}

// latest is the newest text (post or update) of the message with ts.
func latest(msgs []slacktest.Message, ts string) string {
	out := ""
	for _, m := range msgs {
		if m.TS == ts || m.Raw.Params["ts"] == ts {
			out = blocks.PlainText(blocks.Message{Text: m.Text, Blocks: m.Blocks})
		}
	}
	return out
}

const loopConfig = "churn:\n  debrief_channel: " + debriefChannel + "\n  admins: [U0ADMIN]\n"

// testClock is a settable clock the replica and the test share.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *testClock { return &testClock{t: t} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// mrkdwn is the top-level text and every mrkdwn text in a posted
// message's blocks as Slack receives them (escaped), for checks on
// escaping and mentions. plain_text is never parsed by Slack.
func mrkdwn(m slacktest.Message) string {
	var v any
	_ = json.Unmarshal([]byte(m.Raw.Params["blocks"]), &v)
	var b strings.Builder
	b.WriteString(m.Raw.Params["text"] + "\n")
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case map[string]any:
			if s, ok := x["text"].(string); ok && x["type"] == "mrkdwn" {
				b.WriteString(s + "\n")
			}
			for _, v := range x {
				walk(v)
			}
		case []any:
			for _, v := range x {
				walk(v)
			}
		}
	}
	walk(v)
	return b.String()
}
