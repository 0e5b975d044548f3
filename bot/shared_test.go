package bot_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
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

type sharingRig struct {
	st      *store.Store
	fake    *slacktest.Server
	sender  *bot.Sender
	sharing *bot.Sharing
}

func newSharingRig(t *testing.T) sharingRig {
	t.Helper()
	st := storetest.New(t)
	rdb, prefix := testenv.Redis(t)
	fake, err := slacktest.New(slacktest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Close() })
	log := slog.New(slog.DiscardHandler)
	sender := bot.NewSender(slack.New("xoxb-test", slack.OptionAPIURL(fake.APIURL())), http.DefaultClient,
		redis_rate.NewLimiter(rdb), prefix, redis_rate.PerSecond(100000), log, prometheus.NewRegistry())
	return sharingRig{st: st, fake: fake, sender: sender, sharing: bot.NewSharing(st, sender, "C0DEFAULT", time.Now, log)}
}

func (r sharingRig) account(t *testing.T, channel, internal, owner string) {
	t.Helper()
	err := r.st.InTx(context.Background(), func(tx store.Tx) error {
		_, err := tx.UpsertAccounts(context.Background(), []store.AccountInput{{ExternalID: "x-" + channel, Name: "X",
			ChannelID: channel, InternalChannel: internal, OwnerCSM: owner}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSharingSeesEveryKindOfShare(t *testing.T) {
	t.Parallel()
	r := newSharingRig(t)
	ctx := context.Background()
	r.fake.ShareChannel("C0EXT", "T0OTHER", false)
	r.fake.ShareChannel("C0PENDING", "T0OTHER", true)
	for ch, want := range map[string]bool{"C0EXT": true, "C0PENDING": true, "C0PLAIN": false, "U0USER": false, "D0DM": false} {
		got, err := r.sharing.Shared(ctx, ch)
		if err != nil || got != want {
			t.Errorf("Shared(%s) = %v, %v; want %v", ch, got, err, want)
		}
	}
	if shared, _ := r.st.ChannelShared(ctx, "C0PENDING"); !shared {
		t.Error("a shared answer is not persisted")
	}
	// "Not shared" is cached; a channel_shared event (Forget) ends that.
	r.fake.ShareChannel("C0PLAIN", "T0OTHER", false)
	if got, _ := r.sharing.Shared(ctx, "C0PLAIN"); got {
		t.Error("the cached answer was not used")
	}
	r.sharing.Forget("C0PLAIN")
	if got, _ := r.sharing.Shared(ctx, "C0PLAIN"); !got {
		t.Error("after Forget the channel is still seen as not shared")
	}
	// Another replica's event (the stored flag) counts before any cache.
	other := bot.NewSharing(r.st, r.sender, "", time.Now, slog.New(slog.DiscardHandler))
	if got, _ := other.Shared(ctx, "C0LATE"); got {
		t.Fatal("C0LATE shared before it is")
	}
	if _, err := r.st.MarkChannelShared(ctx, "C0LATE", "event"); err != nil {
		t.Fatal(err)
	}
	if got, _ := other.Shared(ctx, "C0LATE"); !got {
		t.Error("a stored shared flag was hidden by a cached answer")
	}
}

func TestSharingRoutesInternalMessagesInOrder(t *testing.T) {
	t.Parallel()
	r := newSharingRig(t)
	ctx := context.Background()
	for _, c := range []string{"C0A", "C0B", "C0C", "C0D", "C0DINT"} {
		r.fake.ShareChannel(c, "T0OTHER", false)
	}
	r.account(t, "C0A", "C0AINT", "U0OWNER")
	r.account(t, "C0B", "", "U0OWNER")
	r.account(t, "C0C", "", "")
	r.account(t, "C0D", "C0DINT", "U0DOWNER") // its internal channel is shared too
	for from, want := range map[string]string{"C0A": "C0AINT", "C0B": "U0OWNER", "C0C": "C0DEFAULT", "C0D": "U0DOWNER", "C0NOTSHARED": "C0NOTSHARED"} {
		if got, err := r.sharing.Route(ctx, from); err != nil || got != want {
			t.Errorf("Route(%s) = %q, %v; want %q", from, got, err, want)
		}
	}
	r.fake.ShareChannel("C0DEFAULT", "T0OTHER", false)
	r.sharing.Forget("C0DEFAULT")
	if _, err := r.sharing.Route(ctx, "C0C"); !errors.Is(err, bot.ErrNoInternalRoute) {
		t.Errorf("every route shared: err %v, want ErrNoInternalRoute", err)
	}
}

func TestDelivererKeepsInternalMessagesOutOfSharedChannels(t *testing.T) {
	t.Parallel()
	r := newSharingRig(t)
	ctx := context.Background()
	r.fake.ShareChannel("C0S", "T0OTHER", false)
	r.account(t, "C0S", "C0SINT", "U0OWNER")
	msg := blocks.Message{Text: "ARR $240k"}
	for _, it := range []store.OutboxItem{
		{Op: store.OpPost, ChannelID: "C0S", Message: msg},
		{Op: store.OpEphemeral, ChannelID: "C0S", UserID: "U0ASKER", Message: msg},
		{Op: store.OpUpdate, ChannelID: "C0S", TargetTS: "1700000000.000100", Message: msg},
		{Op: store.OpPost, ChannelID: "C0S", Message: blocks.Message{Text: "Thanks for your feedback!"}, Audience: store.AudienceCustomer},
	} {
		if err := r.st.Enqueue(ctx, it); err != nil {
			t.Fatal(err)
		}
	}
	d := bot.NewDeliverer(r.st, r.sender, 1, slog.New(slog.DiscardHandler))
	d.KeepInternal(r.sharing)
	// One message per channel lane is in flight at a time: work until the
	// queue is empty.
	delivered := 0
	for {
		n, err := d.Work(ctx)
		d.Drain()
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		delivered += n
	}
	if delivered != 4 {
		t.Fatalf("delivered %d messages, want 4", delivered)
	}
	shared := r.fake.Messages("C0S")
	if len(shared) != 1 || shared[0].Text != "Thanks for your feedback!" {
		t.Errorf("shared channel got %d messages, want only the customer-facing one", len(shared))
	}
	if n := len(r.fake.Messages("C0SINT")); n != 2 {
		t.Errorf("internal channel got %d messages, want the post and the update (as a new post)", n)
	}
	if n := len(r.fake.Messages("U0ASKER")); n != 1 {
		t.Errorf("the ephemeral went to the asker's DM %d times, want 1", n)
	}
}

func TestDelivererDeadLettersAnInternalMessageWithNoRoute(t *testing.T) {
	t.Parallel()
	r := newSharingRig(t)
	ctx := context.Background()
	for _, c := range []string{"C0S", "C0SINT", "C0DEFAULT"} {
		r.fake.ShareChannel(c, "T0OTHER", false)
	}
	r.account(t, "C0S", "C0SINT", "")
	if err := r.st.Enqueue(ctx, store.OutboxItem{Op: store.OpPost, ChannelID: "C0S", Message: blocks.Message{Text: "ARR $240k"}}); err != nil {
		t.Fatal(err)
	}
	d := bot.NewDeliverer(r.st, r.sender, 1, slog.New(slog.DiscardHandler))
	d.KeepInternal(r.sharing)
	if _, err := d.Work(ctx); err != nil {
		t.Fatal(err)
	}
	d.Drain()
	for _, c := range []string{"C0S", "C0SINT", "C0DEFAULT"} {
		if n := len(r.fake.Messages(c)); n != 0 {
			t.Errorf("%s got %d messages, want none", c, n)
		}
	}
	// Given up at once, and visible: a dead letter naming what was tried.
	dead, err := r.st.DeadLetters(ctx, []store.DeadLetterQueue{store.OutboxDeadLetters}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || !strings.Contains(dead[0].Error, "C0SINT") || !strings.Contains(dead[0].Error, "C0DEFAULT") {
		t.Fatalf("dead letters %+v, want one naming C0SINT and C0DEFAULT", dead)
	}
}
