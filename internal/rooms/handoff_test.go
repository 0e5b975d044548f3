package rooms_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/bot"
	"github.com/holdfast/holdfast/bot/slacktest"
	"github.com/holdfast/holdfast/internal/rooms"
	"github.com/holdfast/holdfast/internal/testenv"
	"github.com/holdfast/holdfast/store"
	"github.com/holdfast/holdfast/store/storetest"
)

// rig is the handoff machinery on its own: real Postgres and Redis, the
// fake Slack, the outbox deliverer and the runner's queue loop.
type rig struct {
	st    *store.Store
	fake  *slacktest.Server
	deals *rooms.Deals
}

func newRig(tb testing.TB) *rig {
	tb.Helper()
	st := storetest.New(tb)
	rdb, prefix := testenv.Redis(tb)
	fake, err := slacktest.New(slacktest.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { fake.Close() })
	log := slog.New(slog.DiscardHandler)
	api := slack.New("xoxb-test", slack.OptionAPIURL(fake.APIURL()))
	sender := bot.NewSender(api, http.DefaultClient, redis_rate.NewLimiter(rdb), prefix, redis_rate.PerSecond(100000), log,
		prometheus.NewRegistry())
	m := rooms.New(st, bot.NewChannels(sender), sender, rooms.Options{Settings: rooms.Settings{Invite: []string{"U0LEAD"}}},
		time.Now, log)
	workers := store.NewWorkers(st, log)
	if err := workers.Add(append([]store.Worker{bot.NewDeliverer(st, sender, 4, log)}, m.Workers()...)...); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { workers.Run(ctx) })
	tb.Cleanup(func() { cancel(); wg.Wait() })
	return &rig{st: st, fake: fake, deals: rooms.NewDeals(st, "", time.Now, log)}
}

func (r *rig) win(tb testing.TB, n int) {
	tb.Helper()
	arr := 1000.0
	if _, err := r.deals.RecordDeals(context.Background(), []rooms.DealIn{{ID: fmt.Sprintf("006-%d", n), Account: fmt.Sprintf("acct-%d", n),
		AccountName: fmt.Sprintf("Account %d", n), Stage: "closed_won", AE: "U0AE", OwnerCSM: "U0CSM", ARR: &arr}}, "api"); err != nil {
		tb.Fatal(err)
	}
}

func ctx(tb testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	tb.Cleanup(cancel)
	return c
}

// TestStepErrorsRetryTheirOwnStep: a Slack error at invite is retried at
// invite; nothing before it runs again.
func TestStepErrorsRetryTheirOwnStep(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.fake.Fail("conversations.invite", 1, "internal_error")
	r.win(t, 1)
	deadline := time.Now().Add(20 * time.Second)
	for {
		var step string
		_ = r.st.Pool().QueryRow(context.Background(), `SELECT step FROM handoffs`).Scan(&step)
		if step == rooms.StepDone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("handoff at %q", step)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(r.fake.Calls("conversations.create")); n != 1 {
		t.Fatalf("%d creates", n)
	}
	chans := r.fake.Channels()
	if len(chans) != 1 || !slices.Contains(chans[0].Members, "U0LEAD") || !slices.Contains(chans[0].Members, "U0AE") {
		t.Fatalf("channels %+v", chans)
	}
	var outcomes []string
	rows, err := r.st.Pool().Query(context.Background(), `SELECT step || ':' || outcome FROM handoff_steps ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		outcomes = append(outcomes, s)
	}
	if want := []string{"channel:ok", "invite:retry", "invite:ok", "card:ok", "pin:ok"}; !slices.Equal(outcomes, want) {
		t.Fatalf("steps %v, want %v", outcomes, want)
	}
}

// TestRateLimitedJoinIsRetried: a 429 while the account's own channel is
// looked up is waited out, not taken as "channel not usable" (which would
// make the account a second room).
func TestRateLimitedJoinIsRetried(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	own := r.fake.CreateChannel("acct-1-team", "UHUMAN", false)
	if _, err := r.st.Pool().Exec(ctx(t), `INSERT INTO accounts (external_id, name, channel_id) VALUES ('acct-1', 'Account 1', $1)`, own); err != nil {
		t.Fatal(err)
	}
	r.fake.RateLimit("conversations.info", 1, time.Second)
	r.win(t, 1)
	if _, err := r.fake.WaitCalls(ctx(t), "pins.add", 1); err != nil {
		t.Fatal(err)
	}
	var channel, origin string
	if err := r.st.Pool().QueryRow(ctx(t), `SELECT channel_id, origin FROM rooms`).Scan(&channel, &origin); err != nil {
		t.Fatal(err)
	}
	if channel != own || origin != "existing" || len(r.fake.Calls("conversations.create")) != 0 {
		t.Fatalf("room %s (%s), %d creates; want the account's own channel %s", channel, origin,
			len(r.fake.Calls("conversations.create")), own)
	}
}

// BenchmarkHandoff measures a won deal's way to a pinned card in its new
// room: commit of the win -> conversations.create -> invites -> card
// delivered through the outbox -> pins.add, one deal after another.
func BenchmarkHandoff(b *testing.B) {
	r := newRig(b)
	const deals = 50
	for b.Loop() {
		var lat []time.Duration
		base := len(r.fake.Calls("pins.add"))
		start := time.Now()
		for i := range deals {
			t0 := time.Now()
			r.win(b, base+i)
			if _, err := r.fake.WaitCalls(ctx(b), "pins.add", base+i+1); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
		elapsed := time.Since(start)
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
		b.ReportMetric(deals/elapsed.Seconds(), "handoffs/s")
	}
}
