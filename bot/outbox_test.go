package bot_test

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/bot"
	"github.com/holdfast/holdfast/bot/slacktest"
	"github.com/holdfast/holdfast/internal/testenv"
	"github.com/holdfast/holdfast/store"
	"github.com/holdfast/holdfast/store/storetest"
)

func newSender(t *testing.T, fake *slacktest.Server) *bot.Sender {
	t.Helper()
	rdb, prefix := testenv.Redis(t)
	api := slack.New("xoxb-test", slack.OptionAPIURL(fake.APIURL()))
	return bot.NewSender(api, http.DefaultClient, redis_rate.NewLimiter(rdb), prefix,
		redis_rate.Limit{Rate: 1000, Burst: 1000, Period: time.Second}, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
}

// A deliverer killed between Slack's answer and recording the delivery
// leaves a row whose lease runs out. The next delivery finds the post in
// the channel (or thread) by the outbox id in its metadata and records it:
// the message is in Slack once.
func TestCrashBetweenPostAndRecordIsNotReposted(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	fake, err := slacktest.New(slacktest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	sender := newSender(t, fake)
	d := bot.NewDeliverer(st, sender, 4, slog.New(slog.DiscardHandler))
	ctx := context.Background()
	enqueue := func(text string) {
		t.Helper()
		if err := st.InTx(ctx, func(tx store.Tx) error {
			return tx.Enqueue(ctx, store.OutboxItem{Op: store.OpPost, ChannelID: "C0ALERTS", ThreadKey: "acct:1",
				Message: blocks.Message{Text: text}})
		}); err != nil {
			t.Fatal(err)
		}
	}
	deliverAll := func() {
		t.Helper()
		for {
			n, err := d.Work(ctx)
			d.Drain()
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				return
			}
		}
	}
	// postAndDie is a replica that posts the next message and is killed
	// before recording it; its lease then runs out.
	postAndDie := func() {
		t.Helper()
		items, err := st.LeaseOutbox(ctx, 1, time.Minute)
		if err != nil || len(items) != 1 {
			t.Fatalf("lease: %d %v", len(items), err)
		}
		it := items[0]
		if _, _, err := sender.PostOutbox(ctx, it.ChannelID, it.ThreadTS, blocks.Message{Text: "posted"}, it.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Pool().Exec(ctx, `UPDATE outbox SET leased_until = now() - interval '1 second' WHERE id = $1`, it.ID); err != nil {
			t.Fatal(err)
		}
	}

	enqueue("root") // a thread's root: found in conversations.history
	postAndDie()
	deliverAll()
	enqueue("reply") // a reply: found in conversations.replies
	postAndDie()
	deliverAll()

	posts := fake.Calls("chat.postMessage")
	if len(posts) != 2 {
		t.Fatalf("%d posts, want 2 (no message twice)", len(posts))
	}
	var undelivered, withTS int
	if err := st.Pool().QueryRow(ctx, `SELECT count(*) FILTER (WHERE delivered_at IS NULL), count(*) FILTER (WHERE ts IS NOT NULL)
		FROM outbox`).Scan(&undelivered, &withTS); err != nil {
		t.Fatal(err)
	}
	if undelivered != 0 || withTS != 2 {
		t.Errorf("%d rows undelivered, %d with a ts; want all delivered with their ts", undelivered, withTS)
	}
	if len(fake.Calls("conversations.history")) == 0 || len(fake.Calls("conversations.replies")) == 0 {
		t.Error("the re-sends did not look in the channel and the thread")
	}
}
