package digest

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/holdfast/holdfast/blocks"
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
