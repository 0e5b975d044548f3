package digest

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/blocks/blockstest"
	"github.com/holdfast/holdfast/store"
	"github.com/holdfast/holdfast/store/storetest"
)

func TestSendOnceUnderConcurrency(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	m := New(st, DefaultSettings(), nil, time.Now, slog.New(slog.DiscardHandler))
	sub, created, err := subscribe(ctx, st.DB(), Subscription{ChannelID: "C1", Frequency: "daily", Topics: []string{"risk"},
		Timezone: "UTC", SendAt: "09:00", CreatedBy: "U1"})
	if err != nil || !created {
		t.Fatalf("subscribe: %v %v", created, err)
	}
	again, created, err := subscribe(ctx, st.DB(), Subscription{ChannelID: "C1", Frequency: "daily", MinARR: 5000,
		Timezone: "Europe/Berlin", SendAt: "08:00", CreatedBy: "U2"})
	if err != nil || created || again.ID != sub.ID {
		t.Fatalf("resubscribe should update in place: %+v %v %v", again, created, err)
	}
	start, end := time.Now().Add(-24*time.Hour), time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	sent := 0
	for range 6 {
		wg.Go(func() {
			ok, err := m.send(ctx, sub, Period{Key: "2027-02-08", Start: start, End: end}, blocks.Message{Text: "digest"})
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				sent++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if sent != 1 || storetest.Count(t, st, "outbox") != 1 || storetest.Count(t, st, "digest_runs") != 1 {
		t.Errorf("sent %d times, %d outbox rows: want exactly one", sent, storetest.Count(t, st, "outbox"))
	}
	if n, err := unsubscribe(ctx, st.DB(), "C1", ""); err != nil || n != 1 {
		t.Fatalf("unsubscribe: %d %v", n, err)
	}
	if ok, err := m.send(ctx, sub, Period{Key: "2027-02-09", Start: start, End: end}, blocks.Message{Text: "x"}); err != nil || ok {
		t.Errorf("a removed subscription must not send: %v %v", ok, err)
	}
}

func TestAlertChannelsFilters(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	for _, s := range []Subscription{
		{ChannelID: "CALL", Frequency: "weekly"},
		{ChannelID: "CCOMP", Frequency: "daily", Topics: []string{"competitors"}, MinARR: 100000},
		{ChannelID: "CENT", Frequency: "weekly", Topics: []string{"competitors", "risk"}, Tier: "Enterprise"},
		{ChannelID: "CRISK", Frequency: "weekly", Topics: []string{"risk"}},
	} {
		s.Timezone, s.SendAt, s.CreatedBy = "UTC", "09:00", "U1"
		if _, _, err := subscribe(ctx, st.DB(), s); err != nil {
			t.Fatal(err)
		}
	}
	channels := func(topic string, arr float64, tier string) string {
		var out []string
		err := st.InTx(ctx, func(tx store.Tx) error {
			var err error
			out, err = AlertChannels(ctx, tx, topic, arr, tier)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(out, ",")
	}
	// An empty topic list means every topic.
	if got := channels("competitors", 50000, "enterprise"); got != "CALL,CENT" {
		t.Errorf("small enterprise account: %q", got)
	}
	if got := channels("competitors", 250000, "SMB"); got != "CALL,CCOMP" {
		t.Errorf("large SMB account: %q", got)
	}
	if got := channels("sentiment", 250000, ""); got != "CALL" {
		t.Errorf("sentiment: %q", got)
	}
}

// Accounts whose texts all fall in the window have no fall to measure and
// must not crowd the real movers out of the limit.
func TestSentimentChangesNeedsTextsBefore(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	now := time.Now()
	var in []store.SignalInput
	add := func(acct string, daysAgo int, v float64) {
		in = append(in, store.SignalInput{AccountExternalID: acct, Kind: "ticket", Source: "zendesk", IdempotencyKey: acct + fmt.Sprint(len(in)),
			OccurredAt: now.AddDate(0, 0, -daysAgo), Text: "t", Sentiment: &v})
	}
	add("old", 10, 0.6)
	add("old", 2, -0.1)
	add("new1", 2, -0.9)
	add("new2", 1, -0.8)
	var accounts []store.AccountInput
	for i, id := range []string{"old", "new1", "new2"} {
		accounts = append(accounts, store.AccountInput{ExternalID: id, Name: "Name " + id, ARR: float64(1000 * (i + 1))})
	}
	storetest.Seed(t, st, accounts, in)
	got, err := sentimentChanges(ctx, st.DB(), query{Start: now.AddDate(0, 0, -7), End: now, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != "Name old" || got[0].Before == nil || *got[0].Before != 0.6 || got[0].RecentN != 1 {
		t.Errorf("sentiment changes %+v: want only the account with texts in both windows", got)
	}
}

// A live subscription is stored and listed beside the scheduled ones,
// routes only live churn risk, and is never sent as a digest.
func TestLiveSubscription(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	m := New(st, Settings{SendAt: "09:00", WeeklyDay: "monday", Timezone: "UTC"}, nil, time.Now, slog.New(slog.DiscardHandler))
	slash := func(text string) string {
		t.Helper()
		r, err := m.command(ctx, slack.SlashCommand{Command: "/digest", Text: text, ChannelID: "C0LEAD", UserID: "U0VP"})
		if err != nil {
			t.Fatalf("/digest %s: %v", text, err)
		}
		return blocks.PlainText(r.Message)
	}
	if got := slash("subscribe live risk min_arr=250000"); !strings.Contains(got,
		"@U0VP subscribed this channel to live churn-risk alerts for accounts from $250k ARR: new critical alerts and recoveries will be posted here as they happen.") {
		t.Errorf("subscribe live: %q", got)
	}
	if got := slash("subscribe live tier=Enterprise min_arr=100k"); !strings.Contains(got, "changed this channel's subscription to live churn-risk alerts for Enterprise accounts from $100k ARR") {
		t.Errorf("resubscribe live: %q", got)
	}
	if got := slash("subscribe live competitors"); !strings.Contains(got, "live subscriptions carry churn risk only") {
		t.Errorf("live competitors: %q", got)
	}
	slash("subscribe weekly competitors")
	subs, err := subscriptions(ctx, st.DB(), "C0LEAD")
	if err != nil || len(subs) != 2 {
		t.Fatalf("subscriptions %+v %v", subs, err)
	}
	if live := subs[0]; live.Frequency != Live || strings.Join(live.Topics, ",") != "risk" || live.MinARR != 100000 || live.Tier != "Enterprise" ||
		live.Timezone != "" || live.SendAt != "" {
		t.Errorf("live subscription stored as %+v", live)
	}
	list := slash("list")
	blockstest.WantContains(t, "list", list, "• the live churn-risk alerts for Enterprise accounts from $100k ARR (set up by @U0VP)",
		"• the weekly digest (competitors), Mondays at 09:00 UTC")

	// Text alerts follow the weekly subscription only; live risk follows the live one.
	got, err := AlertChannels(ctx, st.DB(), TopicCompetitors, 1e6, "Enterprise")
	if err != nil || strings.Join(got, ",") != "C0LEAD" {
		t.Errorf("competitor alert channels %v %v", got, err)
	}
	if got, err := AlertChannels(ctx, st.DB(), TopicRisk, 1e6, "Enterprise"); err != nil || len(got) != 0 {
		t.Errorf("a live subscription picked up as a risk alert channel: %v %v", got, err)
	}
	for _, c := range []struct {
		arr  float64
		tier string
		want string
	}{{100000, "enterprise", "C0LEAD"}, {99999, "Enterprise", ""}, {1e6, "SMB", ""}} {
		got, err := LiveRiskChannels(ctx, st.DB(), c.arr, c.tier)
		if err != nil || strings.Join(got, ",") != c.want {
			t.Errorf("LiveRiskChannels(%v, %q) = %v %v, want %q", c.arr, c.tier, got, err, c.want)
		}
	}

	// The job sends the weekly digest and nothing for the live subscription;
	// a preview shows the weekly one, not the live one.
	var built []string
	m.gather = func(ctx context.Context, db store.DB, q query, topics []string) (Input, error) {
		built = append(built, strings.Join(topics, ","))
		return gather(ctx, db, q, topics)
	}
	if err := m.Run(ctx, time.Date(2027, 2, 8, 9, 1, 0, 0, time.UTC)); err != nil { // a Monday
		t.Fatal(err)
	}
	if storetest.Count(t, st, "outbox") != 1 || storetest.Count(t, st, "digest_runs") != 1 || strings.Join(built, "|") != "competitors" {
		t.Errorf("job built %q and queued %d posts: want only the weekly digest", built, storetest.Count(t, st, "outbox"))
	}
	if got := slash("preview"); !strings.Contains(got, "Weekly account digest (preview)") {
		t.Errorf("preview: %q", got)
	}

	if got := slash("unsubscribe live"); !strings.Contains(got, "unsubscribed this channel from the live churn-risk alerts") {
		t.Errorf("unsubscribe live: %q", got)
	}
	if got := slash("unsubscribe live"); !strings.Contains(got, "This channel has no live subscription") {
		t.Errorf("second unsubscribe live: %q", got)
	}
	if subs, _ := subscriptions(ctx, st.DB(), "C0LEAD"); len(subs) != 1 || subs[0].Frequency != Weekly {
		t.Errorf("after unsubscribe live: %+v", subs)
	}
}
