package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/bot/slacktest"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/llm/llmtest"
)

// Text signals end to end: real wiring, Postgres, Redis and the fake Slack.

const (
	ownerCSM          = "U0OWNER"
	leadChannel       = "C0LEADERS"
	acmeSharedChannel = "C0ACMESHARED"
	customerOrg       = "T0CUSTOMER"
)

const competitorYAML = `text:
  competitors:
    - name: Gainsight
      aliases: [GS]
    - name: Vitally
      case_sensitive: true
`

func textAcme() ingest.AccountIn {
	return ingest.AccountIn{ExternalID: "acme", Name: "Acme Corp", Tier: "Enterprise", ARR: 240000, OwnerCSM: ownerCSM,
		Channel: acmeSharedChannel, RenewalDate: time.Now().AddDate(0, 2, 0).Format(time.DateOnly)}
}

func (d *deployment) slash(command, text, channel, user string) string {
	d.t.Helper()
	ack, err := d.fake.SendSlashCommand(ctxTimeout(d.t, 10*time.Second), slacktest.SlashCommand{Command: command, Text: text, ChannelID: channel, UserID: user})
	if err != nil {
		d.t.Fatal(err)
	}
	out, _ := ackReply(d.t, ack)
	return out
}

func TestCompetitorMentionAlertsOnce(t *testing.T) {
	t.Parallel()
	ai := llmtest.New(t, func(r llmtest.Request) llmtest.Answer {
		return llmtest.Answer{Content: `{"sentiment": -0.6, "label": "negative", "reason": "Export broken.", "churn_intent": false,
			"intent_quote": "", "competitors": ["Gainsight"], "summary": "Export bug for three weeks; they are looking at Gainsight."}`}
	})
	d := newDeployment(t, appendYAML(competitorYAML))
	d.env["OPENAI_BASE_URL"], d.env["OPENAI_API_KEY"] = ai.URL, "test-key"
	r := d.start(unpaced())
	r.accounts(textAcme())

	// Leadership subscribes its channel; competitor alerts then come here live.
	if got := d.slash("/digest", "subscribe weekly competitors sentiment min_arr=100k", leadChannel, "U0VP"); !strings.Contains(got, "subscribed this channel to the weekly digest (competitors, sentiment) for accounts from $100k ARR, Mondays at 09:00 UTC") ||
		!strings.Contains(got, "Competitor-mention and sentiment-drop alerts will also be posted here") {
		t.Fatalf("subscribe answer %q", got)
	}
	// A channel whose filter excludes Acme gets nothing.
	d.slash("/digest", "subscribe daily competitors min_arr=1M", "C0BIGONLY", "U0VP")

	now := time.Now()
	ticket := ingest.SignalIn{Account: "acme", Kind: "ticket", Source: "zendesk", IdempotencyKey: "t-1", OccurredAt: now.Add(-time.Hour),
		Text: "Third week waiting on the export fix. Honestly Gainsight's exporter looks better <!channel>."}
	res := r.signals(ticket)
	if len(res.TextAlerts) != 1 {
		t.Fatalf("text alerts %v, want one", res.TextAlerts)
	}
	d.settle()

	for _, ch := range []string{ownerCSM, leadChannel} {
		posts := d.posts(ch)
		if len(posts) != 1 {
			t.Fatalf("%s got %d posts, want 1", ch, len(posts))
		}
		out := plain(posts[0])
		for _, want := range []string{"Gainsight mentioned: Acme Corp", "came up in a ticket from zendesk", "Gainsight's exporter looks better <!channel>",
			"ARR: $240k", "Owner: @" + ownerCSM, "🤖 Export bug for three weeks; they are looking at Gainsight.", "[ Claim ]"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s alert lacks %q:\n%s", ch, want, out)
			}
		}
		if strings.Contains(posts[0].Raw.Params["blocks"], "<!channel>") {
			t.Errorf("%s: customer text reached Slack unescaped", ch)
		}
	}
	if n := len(d.posts("C0BIGONLY")); n != 0 {
		t.Errorf("a channel filtered to $1M+ accounts got %d alerts", n)
	}
	if n := len(d.posts(acmeSharedChannel)); n != 0 {
		t.Errorf("the customer's own (shared) channel got %d posts", n)
	}

	// Replayed batch and a second mention within the cooldown: stored, not re-alerted.
	r.signals(ticket)
	second := ingest.SignalIn{Account: "acme", Kind: "call_note", Source: "gong", IdempotencyKey: "c-1", OccurredAt: now,
		Text: "They demoed GS last week and liked the dashboards."}
	if res := r.signals(second); len(res.TextAlerts) != 0 {
		t.Errorf("second mention inside the cooldown raised %v", res.TextAlerts)
	}
	d.settle()
	if n := len(d.posts(ownerCSM)) + len(d.posts(leadChannel)); n != 2 {
		t.Errorf("%d alert posts after replay and a second mention, want still 2", n)
	}
	if n := d.count(`SELECT count(*) FROM competitor_mentions WHERE competitor = 'Gainsight'`); n != 2 {
		t.Errorf("%d mentions stored, want 2 (one per signal)", n)
	}
	if n := d.count(`SELECT count(*) FROM timeline WHERE kind = 'competitor.mention'`); n != 2 {
		t.Errorf("%d mention timeline entries, want 2", n)
	}
	if n := len(ai.Requests()); n != 2 {
		t.Errorf("%d model calls, want 2 (one per new text with a mention; the replay is cached)", n)
	}

	// Claiming in the leadership channel updates that copy and records who.
	post := d.posts(leadChannel)[0]
	claim := findButtonByAction(t, post.Blocks, blocks.ActionTextAlertClaim)
	cb := slack.InteractionCallback{Type: slack.InteractionTypeBlockActions, User: slack.User{ID: "U0VP"},
		Channel:        slack.Channel{GroupConversation: slack.GroupConversation{Conversation: slack.Conversation{ID: leadChannel}}},
		Container:      slack.Container{ChannelID: leadChannel, MessageTs: post.TS},
		ActionCallback: slack.ActionCallbacks{BlockActions: []*slack.BlockAction{{ActionID: claim.ActionID, BlockID: "text_alert_actions", Value: claim.Value}}}}
	if _, err := d.fake.SendInteraction(ctxTimeout(t, 10*time.Second), cb); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "claimed alert update", func() bool {
		for _, m := range d.fake.Messages(leadChannel) {
			if m.Method == "chat.update" && m.TS == post.TS && strings.Contains(plain(m), "Claimed by @U0VP") {
				return true
			}
		}
		return false
	})
	if n := d.count(`SELECT count(*) FROM text_alerts WHERE claimed_by = 'U0VP'`); n != 1 {
		t.Errorf("claim not recorded")
	}
	// The owner's DM copy loses its button too.
	waitFor(t, "the DM copy updated", func() bool {
		for _, m := range d.fake.Messages(ownerCSM) {
			if m.Method == "chat.update" && strings.HasPrefix(m.Channel, "D") && strings.Contains(plain(m), "Claimed by @U0VP") {
				return true
			}
		}
		return false
	})
}

func findButtonByAction(t *testing.T, bs []slack.Block, actionID string) *slack.ButtonBlockElement {
	t.Helper()
	for _, b := range bs {
		if a, ok := b.(*slack.ActionBlock); ok {
			for _, el := range a.Elements.ElementSet {
				if btn, ok := el.(*slack.ButtonBlockElement); ok && btn.ActionID == actionID {
					return btn
				}
			}
		}
	}
	t.Fatalf("no %s button", actionID)
	return nil
}

func TestSentimentDropAlert(t *testing.T) {
	t.Parallel()
	d := newDeployment(t)
	r := d.start(unpaced())
	r.accounts(textAcme())
	now := time.Now()
	var before []ingest.SignalIn
	for i, s := range []string{"Love the new dashboards, great work!", "Thanks, the team is really happy with the rollout.", "Smooth QBR, excited for next year."} {
		before = append(before, ingest.SignalIn{Account: "acme", Kind: "email", Source: "gmail", IdempotencyKey: fmt.Sprint("b", i),
			OccurredAt: now.AddDate(0, 0, -20+i), Text: s})
	}
	r.signals(before...)
	var after []ingest.SignalIn
	for i, s := range []string{"Still waiting on the export fix, third week now.", "The sync failed again and nobody has responded.",
		"Honestly disappointed, this is the worst release you've shipped."} {
		after = append(after, ingest.SignalIn{Account: "acme", Kind: "ticket", Source: "zendesk", IdempotencyKey: fmt.Sprint("a", i),
			OccurredAt: now.AddDate(0, 0, -3+i), Text: s})
	}
	res := r.signals(after...)
	if len(res.TextAlerts) != 1 {
		t.Fatalf("text alerts %v, want one sentiment drop", res.TextAlerts)
	}
	d.settle()
	posts := d.posts(ownerCSM)
	if len(posts) != 1 {
		t.Fatalf("owner got %d DMs", len(posts))
	}
	out := plain(posts[0])
	for _, want := range []string{"Sentiment drop: Acme Corp", "over the last 14 days (3 texts)", "Most negative: “"} {
		if !strings.Contains(out, want) {
			t.Errorf("sentiment alert lacks %q:\n%s", want, out)
		}
	}
	// One more angry ticket: the cooldown holds.
	if res := r.signals(ingest.SignalIn{Account: "acme", Kind: "ticket", Source: "zendesk", IdempotencyKey: "a9", OccurredAt: now,
		Text: "Another outage today. Unacceptable."}); len(res.TextAlerts) != 0 {
		t.Errorf("second drop inside the cooldown alerted: %v", res.TextAlerts)
	}
}

func sendMessage(t *testing.T, d *deployment, ev map[string]any) {
	t.Helper()
	ev["type"] = "message"
	if _, err := d.fake.SendEvent(ctxTimeout(t, 10*time.Second), ev); err != nil {
		t.Fatal(err)
	}
}

func TestSlackMessagesInLinkedChannels(t *testing.T) {
	t.Parallel()
	d := newDeployment(t, appendYAML(competitorYAML))
	r := d.start(unpaced())
	r.accounts(textAcme(), ingest.AccountIn{ExternalID: "globex", Name: "Globex", ARR: 5000})

	// A customer (another workspace, Slack Connect) in Acme's channel.
	sendMessage(t, d, map[string]any{"channel": acmeSharedChannel, "channel_type": "channel", "user": "U0CUST", "user_team": customerOrg,
		"ts": "1760000000.000100", "text": "We're evaluating Gainsight, the export has been broken for a week &amp; nobody replied."})
	waitFor(t, "the customer's message stored", func() bool {
		return d.count(`SELECT count(*) FROM signals WHERE kind = 'slack_message'`) == 1
	})
	var sentiment float64
	var intent bool
	var text, meta string
	if err := d.store.Pool().QueryRow(context.Background(), `SELECT sentiment, churn_intent, text, metadata::text FROM signals
		WHERE kind = 'slack_message' AND idempotency_key = $1`, acmeSharedChannel+":1760000000.000100").Scan(&sentiment, &intent, &text, &meta); err != nil {
		t.Fatal(err)
	}
	if sentiment >= -0.05 || !intent || !strings.Contains(text, "broken for a week & nobody") || !strings.Contains(meta, `"author": "customer"`) {
		t.Errorf("stored message: sentiment %.2f intent %v text %q meta %s", sentiment, intent, text, meta)
	}
	d.settle()
	if posts := d.posts(ownerCSM); len(posts) != 1 || !strings.Contains(plain(posts[0]), "came up in a Slack message in #"+acmeSharedChannel) {
		t.Errorf("owner DMs %d: %v", len(posts), posts)
	}

	// Slack redelivers the same message: stored once.
	sendMessage(t, d, map[string]any{"channel": acmeSharedChannel, "user": "U0CUST", "user_team": customerOrg,
		"ts": "1760000000.000100", "text": "We're evaluating Gainsight, the export has been broken for a week &amp; nobody replied."})
	// Our own team's reply: history, not the customer's mood.
	sendMessage(t, d, map[string]any{"channel": acmeSharedChannel, "user": "U0CSM", "user_team": slacktest.TeamID,
		"ts": "1760000001.000100", "text": "Sorry about that! Looking at it now, the export is broken."})
	// Not for us: bots, edits, joins, an unlinked channel, a DM.
	sendMessage(t, d, map[string]any{"channel": acmeSharedChannel, "bot_id": "B0OTHER", "user": "U0BOT", "ts": "1760000002.000100", "text": "Deploy finished"})
	sendMessage(t, d, map[string]any{"channel": acmeSharedChannel, "subtype": "message_changed", "ts": "1760000003.000100", "text": ""})
	sendMessage(t, d, map[string]any{"channel": acmeSharedChannel, "subtype": "channel_join", "user": "U0NEW", "ts": "1760000004.000100", "text": "<@U0NEW> has joined"})
	sendMessage(t, d, map[string]any{"channel": "C0RANDOM", "user": "U0CUST", "user_team": customerOrg, "ts": "1760000005.000100", "text": "Gainsight is great and you are terrible"})
	sendMessage(t, d, map[string]any{"channel": "D0DM", "channel_type": "im", "user": "U0CUST", "ts": "1760000006.000100", "text": "hello"})

	waitFor(t, "the team's reply stored", func() bool {
		return d.count(`SELECT count(*) FROM signals WHERE kind = 'slack_message'`) == 2
	})
	time.Sleep(300 * time.Millisecond) // the ignored events had their chance to (wrongly) land
	if n := d.count(`SELECT count(*) FROM signals WHERE kind = 'slack_message'`); n != 2 {
		t.Errorf("%d slack messages stored, want 2 (customer + team reply)", n)
	}
	if n := d.count(`SELECT count(*) FROM signals WHERE kind = 'slack_message' AND sentiment IS NULL AND metadata->>'author' = 'team'`); n != 1 {
		t.Errorf("the team's reply should be stored unanalysed")
	}
	if n := d.count(`SELECT count(*) FROM competitor_mentions`); n != 1 {
		t.Errorf("%d mentions, want 1 (the unlinked channel's message is not read)", n)
	}
}

func nextSendTime(now time.Time, hh int) time.Time {
	t := time.Date(now.Year(), now.Month(), now.Day(), hh, 0, 0, 0, time.UTC)
	if !t.After(now) {
		t = t.AddDate(0, 0, 1)
	}
	return t
}

func TestDigestOncePerPeriodWithTwoReplicas(t *testing.T) {
	t.Parallel()
	d := newDeployment(t, appendYAML(competitorYAML))
	r1 := d.start(unpaced())
	r2 := d.start(unpaced())
	r1.accounts(textAcme(), ingest.AccountIn{ExternalID: "globex", Name: "Globex", ARR: 90000, OwnerCSM: "U0OTHER"})
	now := time.Now()
	r1.signals(usageHistory("globex", now, 100, 30)...) // a healthy first score
	r1.signals(
		ingest.SignalIn{Account: "globex", Kind: "payment_failed", Source: "stripe", IdempotencyKey: "p1", OccurredAt: now.Add(-2 * time.Minute)},
		ingest.SignalIn{Account: "globex", Kind: "payment_failed", Source: "stripe", IdempotencyKey: "p2", OccurredAt: now.Add(-time.Minute)},
		ingest.SignalIn{Account: "acme", Kind: "ticket", Source: "zendesk", IdempotencyKey: "t1", OccurredAt: now.Add(-time.Minute),
			Text: "We're evaluating Gainsight for next year."})

	// Errors are the person's, ephemeral.
	if got := d.slash("/digest", "subscribe hourly", "C0DIGEST", "U0VP"); !strings.Contains(got, `"hourly" is not daily, weekly or live`) {
		t.Errorf("bad frequency answer %q", got)
	}
	if got := d.slash("/digest", "subscribe daily tz=Mars/Olympus", "C0DIGEST", "U0VP"); !strings.Contains(got, "tz=Mars/Olympus is not a time zone") {
		t.Errorf("bad tz answer %q", got)
	}
	if got := d.slash("/digest", "subscribe daily tz=Local", "C0DIGEST", "U0VP"); !strings.Contains(got, "tz=Local is not a time zone") {
		t.Errorf("tz=Local answer %q", got)
	}
	if got := d.slash("/digest", "subscribe daily", "D0DM", "U0VP"); !strings.Contains(got, "Run /digest in the channel") {
		t.Errorf("DM answer %q", got)
	}
	if got := d.slash("/digest", "subscribe daily risk competitors tz=UTC at=09:00", "C0DIGEST", "U0VP"); !strings.Contains(got, "daily digest (risk, competitors), daily at 09:00 UTC") {
		t.Fatalf("subscribe answer %q", got)
	}
	// A live subscription beside it: listed, never sent as a digest. Its
	// min_arr keeps this test's accounts from alerting it.
	if got := d.slash("/digest", "subscribe live min_arr=500M", "C0DIGEST", "U0VP"); !strings.Contains(got, "live churn-risk alerts for accounts from $500M ARR") {
		t.Errorf("subscribe live answer %q", got)
	}
	if got := d.slash("/digest", "subscribe live sentiment", "C0DIGEST", "U0VP"); !strings.Contains(got, "live subscriptions carry churn risk only") {
		t.Errorf("subscribe live sentiment answer %q", got)
	}
	if got := d.slash("/digest", "list", "C0DIGEST", "U0VP"); !strings.Contains(got, "daily digest (risk, competitors)") || !strings.Contains(got, "live churn-risk alerts") {
		t.Errorf("list answer %q", got)
	}
	preview := d.slash("/digest", "preview", "C0DIGEST", "U0VP")
	for _, want := range []string{"Daily account digest (preview)", "Gainsight* 1 mention at 1 account, new", "Globex"} {
		if !strings.Contains(preview, want) {
			t.Errorf("preview lacks %q:\n%s", want, preview)
		}
	}
	if n := len(d.posts("C0DIGEST")); n != 0 {
		t.Fatalf("preview posted %d messages to the channel", n)
	}

	// Both replicas run the job for the same tick, and once more a little later.
	send := nextSendTime(now, 9).Add(time.Minute)
	var wg sync.WaitGroup
	for _, r := range []*replica{r1, r2} {
		wg.Go(func() {
			if err := r.app.scheduler.RunNow(context.Background(), "digest", send); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := r2.app.scheduler.RunNow(context.Background(), "digest", send.Add(20*time.Minute)); err != nil {
		t.Fatal(err)
	}
	d.settle()
	posts := d.posts("C0DIGEST")
	if len(posts) != 1 {
		t.Fatalf("%d digests posted for one period by two replicas, want exactly 1", len(posts))
	}
	out := plain(posts[0])
	for _, want := range []string{"Daily account digest", "Gainsight* 1 mention at 1 account", "Entered at risk", "Globex"} {
		if !strings.Contains(out, want) {
			t.Errorf("digest lacks %q:\n%s", want, out)
		}
	}
	// Before the send time nothing goes; the next period sends again.
	if err := r1.app.scheduler.RunNow(context.Background(), "digest", send.Add(22*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := r1.app.scheduler.RunNow(context.Background(), "digest", send.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	d.settle()
	if n := len(d.posts("C0DIGEST")); n != 2 {
		t.Errorf("%d digests after the next period, want 2", n)
	}
	if n := d.count(`SELECT count(*) FROM digest_runs`); n != 2 {
		t.Errorf("%d digest runs recorded, want 2", n)
	}

	if got := d.slash("/digest", "unsubscribe", "C0DIGEST", "U0VP"); !strings.Contains(got, "unsubscribed this channel from the digest subscriptions") {
		t.Errorf("unsubscribe answer %q", got)
	}
	if got := d.slash("/digest", "unsubscribe weekly", "C0DIGEST", "U0VP"); !strings.Contains(got, "no weekly digest subscription") {
		t.Errorf("second unsubscribe answer %q", got)
	}
}

func TestAppHomePublishedOnOpen(t *testing.T) {
	t.Parallel()
	d := newDeployment(t)
	r := d.start(unpaced())
	r.accounts(
		ingest.AccountIn{ExternalID: "calm", Name: "Calm Co", ARR: 50000, OwnerCSM: "U0CSM"},
		ingest.AccountIn{ExternalID: "risky", Name: "Risky <!here> Inc", ARR: 80000, OwnerCSM: "U0CSM"},
		ingest.AccountIn{ExternalID: "other", Name: "Not Mine", ARR: 900000, OwnerCSM: "U0ELSE"},
	)
	now := time.Now()
	r.signals(append(usageHistory("risky", now, 100, 20), usageHistory("calm", now, 100, 100)...)...)
	r.signals(ingest.SignalIn{Account: "risky", Kind: "cancellation_intent", Source: "crm", IdempotencyKey: "x", OccurredAt: now})
	d.settle()
	var alertID int64
	if err := d.store.Pool().QueryRow(context.Background(), `SELECT min(id) FROM alerts`).Scan(&alertID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.store.ClaimAlert(context.Background(), alertID, "U0CSM", now); err != nil {
		t.Fatal(err)
	}

	if _, err := d.fake.SendEvent(ctxTimeout(t, 10*time.Second), map[string]any{"type": "app_home_opened", "user": "U0CSM", "channel": "D0CSM", "tab": "home"}); err != nil {
		t.Fatal(err)
	}
	calls, err := d.fake.WaitCalls(ctxTimeout(t, 10*time.Second), "views.publish", 1)
	if err != nil {
		t.Fatal(err)
	}
	if calls[0].Params["user_id"] != "U0CSM" || calls[0].Error != "" {
		t.Fatalf("views.publish %+v", calls[0])
	}
	var view slack.View
	if err := json.Unmarshal([]byte(calls[0].Params["view"]), &view); err != nil {
		t.Fatal(err)
	}
	out := blocks.PlainTextBlocks(view.Blocks.BlockSet)
	risky, calm := strings.Index(out, "Risky"), strings.Index(out, "Calm Co")
	if view.Type != slack.VTHomeTab || risky < 0 || calm < 0 || risky > calm {
		t.Errorf("home %q: want the user's accounts, riskiest first:\n%s", view.Type, out)
	}
	for _, want := range []string{"Alerts you claimed", "Risky <!here> Inc*: "} {
		if !strings.Contains(out, want) {
			t.Errorf("home lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Not Mine") || strings.Contains(calls[0].Params["view"], "<!here>") {
		t.Errorf("home shows another owner's account or unescaped text:\n%s", out)
	}
	// The messages tab is not the Home.
	if _, err := d.fake.SendEvent(ctxTimeout(t, 10*time.Second), map[string]any{"type": "app_home_opened", "user": "U0CSM", "tab": "messages"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(d.fake.Calls("views.publish")); n != 1 {
		t.Errorf("%d publishes, want 1", n)
	}
}

// Feedback on a text reading: each click stores one labelled example with
// who and when, a redelivered click stores nothing more, and `holdfast
// export labels` writes them out.
func TestTextFeedbackLabels(t *testing.T) {
	t.Parallel()
	d := newDeployment(t, appendYAML(competitorYAML))
	r := d.start(unpaced())
	r.accounts(textAcme())
	ticket := ingest.SignalIn{Account: "acme", Kind: "ticket", Source: "zendesk", IdempotencyKey: "fb-1", OccurredAt: time.Now().Add(-time.Hour),
		Text: "We are planning to cancel and switch to Gainsight, support has been useless."}
	if res := r.signals(ticket); len(res.TextAlerts) != 1 {
		t.Fatalf("text alerts %v, want one", res.TextAlerts)
	}
	d.settle()
	post := d.posts(ownerCSM)[0] // the owner's DM: no channel subscribed
	out := plain(post)
	for _, want := range []string{"Stated intent to leave* (competitor switch, 0.9", "[ Not churn intent ]", "[ Wrong sentiment ]"} {
		if !strings.Contains(out, want) {
			t.Errorf("card lacks %q:\n%s", want, out)
		}
	}
	click := func(user, actionID string) slacktest.Ack {
		btn := findButtonByAction(t, post.Blocks, actionID)
		cb := slack.InteractionCallback{Type: slack.InteractionTypeBlockActions, User: slack.User{ID: user},
			Channel:        slack.Channel{GroupConversation: slack.GroupConversation{Conversation: slack.Conversation{ID: post.Channel}}},
			Container:      slack.Container{ChannelID: post.Channel, MessageTs: post.TS},
			ActionCallback: slack.ActionCallbacks{BlockActions: []*slack.BlockAction{{ActionID: btn.ActionID, BlockID: "text_alert_actions", Value: btn.Value}}}}
		ack, err := d.fake.SendInteraction(ctxTimeout(t, 10*time.Second), cb)
		if err != nil {
			t.Fatal(err)
		}
		return ack
	}
	ack := click("U0VP", blocks.ActionTextLabelNotIntent)
	if _, err := d.fake.Redeliver(ctxTimeout(t, 10*time.Second), ack.EnvelopeID); err != nil {
		t.Fatal(err)
	}
	click("U0VP", blocks.ActionTextLabelNotIntent) // a second click of the same person
	click("U0CSM2", blocks.ActionTextLabelWrongSentiment)
	waitFor(t, "two labels", func() bool { return d.count(`SELECT count(*) FROM text_labels`) >= 2 })
	d.settle()
	if n := d.count(`SELECT count(*) FROM text_labels WHERE label = 'not_churn_intent' AND labelled_by = 'U0VP' AND churn_intent
		AND text LIKE 'We are planning to cancel%' AND labelled_at > now() - interval '1 hour'`); n != 1 {
		t.Errorf("%d not-intent labels by U0VP, want exactly 1", n)
	}
	if n := d.count(`SELECT count(*) FROM text_labels`); n != 2 {
		t.Errorf("%d labels, want 2", n)
	}

	code, csvOut, errOut := runCLI(t, d.env, "export", "labels", "-format", "csv")
	if code != 0 || !strings.HasPrefix(csvOut, "id,signal_id,label,labelled_by,labelled_at,text,sentiment,churn_intent,model_version\n") ||
		strings.Count(csvOut, "\n") != 3 || !strings.Contains(csvOut, "not_churn_intent,U0VP,") || !strings.Contains(errOut, "2 labels exported") {
		t.Errorf("export csv: %d %q %q", code, csvOut, errOut)
	}
	code, jsonOut, _ := runCLI(t, d.env, "export", "labels")
	if code != 0 || strings.Count(jsonOut, "\n") != 2 || !strings.Contains(jsonOut, `"label":"wrong_sentiment","labelled_by":"U0CSM2"`) {
		t.Errorf("export jsonl: %d %q", code, jsonOut)
	}
	if code, _, errOut := runCLI(t, d.env, "export", "labels", "-format", "xml"); code != exitUsage || !strings.Contains(errOut, "usage: holdfast export labels") {
		t.Errorf("bad format: %d %q", code, errOut)
	}
}
