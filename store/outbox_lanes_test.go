package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/holdfast/holdfast/store"
	"github.com/holdfast/holdfast/store/storetest"
)

// A channel's backlog is its own lane: a lease takes one message per
// channel, none from a channel with a message in flight, and within a
// channel alerts go before bulk messages queued earlier.
func TestOutboxLanes(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	enqueue := func(channel string, priority int, text string) {
		t.Helper()
		if err := st.InTx(ctx, func(tx store.Tx) error {
			return tx.Enqueue(ctx, store.OutboxItem{Op: store.OpPost, ChannelID: channel, Priority: priority,
				Message: map[string]string{"text": text}})
		}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 50 {
		enqueue("C0BUSY", store.PriorityNormal, fmt.Sprint("busy ", i))
	}
	enqueue("C0MIXED", store.PriorityBulk, "digest")
	enqueue("C0MIXED", store.PriorityAlert, "alert")
	enqueue("C0QUIET", store.PriorityAlert, "quiet alert")

	first, err := st.LeaseOutbox(ctx, 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, it := range first {
		if _, dup := got[it.ChannelID]; dup {
			t.Errorf("two messages of %s in one lease", it.ChannelID)
		}
		got[it.ChannelID] = string(it.Raw)
	}
	want := map[string]string{"C0BUSY": `{"text": "busy 0"}`, "C0MIXED": `{"text": "alert"}`, "C0QUIET": `{"text": "quiet alert"}`}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("first lease = %v, want %v", got, want)
	}
	// Every lane is in flight: nothing more until one is done.
	if more, err := st.LeaseOutbox(ctx, 10, time.Minute); err != nil || len(more) != 0 {
		t.Fatalf("second lease = %d rows, %v; want none while every lane is busy", len(more), err)
	}
	for _, it := range first {
		if it.ChannelID == "C0MIXED" {
			if err := st.InTx(ctx, func(tx store.Tx) error { return tx.MarkDelivered(ctx, it, "1.0") }); err != nil {
				t.Fatal(err)
			}
		}
	}
	next, err := st.LeaseOutbox(ctx, 10, time.Minute)
	if err != nil || len(next) != 1 || string(next[0].Raw) != `{"text": "digest"}` {
		t.Fatalf("after the alert: %+v %v, want the digest alone", next, err)
	}
}

// Replicas leasing at the same moment never get the same message: the lane
// subquery reads a snapshot taken before another replica's lease commits,
// so the lease must re-check the row it locks.
func TestOutboxConcurrentLeasesNeverShareARow(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	const channels, each = 30, 3
	for c := range channels {
		for i := range each {
			if err := st.Enqueue(ctx, store.OutboxItem{Op: store.OpPost, ChannelID: fmt.Sprintf("C0L%03d", c),
				Priority: store.PriorityAlert, Message: map[string]string{"text": fmt.Sprint(i)}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	var mu sync.Mutex
	leased := map[int64]int{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				mu.Lock()
				done := len(leased) >= channels*each
				mu.Unlock()
				if done {
					return
				}
				items, err := st.LeaseOutbox(ctx, 4, time.Hour)
				if err != nil {
					t.Error(err)
					return
				}
				for _, it := range items {
					// Done at once, so the lane frees for the next lease.
					if err := st.InTx(ctx, func(tx store.Tx) error { return tx.MarkDelivered(ctx, it, "1.0") }); err != nil {
						t.Error(err)
						return
					}
				}
				mu.Lock()
				for _, it := range items {
					leased[it.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for id, n := range leased {
		if n > 1 {
			t.Errorf("outbox row %d leased %d times", id, n)
		}
	}
	if len(leased) != channels*each {
		t.Errorf("leased %d distinct rows, want %d", len(leased), channels*each)
	}
}
