package digest

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/holdfast/holdfast/store"
	"github.com/holdfast/holdfast/store/storetest"
)

// The job runs every five minutes and a period stays due for hours after
// its send time: once sent, later runs must not build it again.
func TestDigestJobBuildsEachPeriodOnce(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	if _, _, err := subscribe(ctx, st.DB(), Subscription{ChannelID: "C1", Frequency: "daily", Timezone: "UTC", SendAt: "09:00", CreatedBy: "U1"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := subscribe(ctx, st.DB(), Subscription{ChannelID: "C2", Frequency: "weekly", Timezone: "Europe/Berlin", SendAt: "09:00", CreatedBy: "U1"}); err != nil {
		t.Fatal(err)
	}
	job := New(st, DefaultSettings(), nil, time.Now, slog.New(slog.DiscardHandler))
	// The real queries, counted.
	var builds atomic.Int32
	job.gather = func(ctx context.Context, db store.DB, q query, topics []string) (Input, error) {
		builds.Add(1)
		return gather(ctx, db, q, topics)
	}
	outbox := func() int {
		var n int
		if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM outbox`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	sendTime := time.Date(2027, 2, 9, 9, 0, 0, 0, time.UTC) // a Tuesday: the weekly one (Mondays) is due too
	for _, c := range []struct {
		at             time.Time
		builds, posted int32
	}{
		{sendTime.Add(-time.Hour), 1, 1},        // the weekly digest of Monday (Berlin), still within its grace
		{sendTime.Add(-55 * time.Minute), 1, 1}, // nothing new
		{sendTime.Add(time.Minute), 2, 2},       // the daily one
		{sendTime.Add(6 * time.Minute), 2, 2},   // both sent: no digest is built
		{sendTime.Add(5 * time.Hour), 2, 2},
		{sendTime.Add(24 * time.Hour), 3, 3}, // the next day's
	} {
		if err := job.Run(ctx, c.at); err != nil {
			t.Fatal(err)
		}
		if got := builds.Load(); got != c.builds || int32(outbox()) != c.posted {
			t.Errorf("run at %v: %d digests built, %d posted; want %d and %d", c.at, got, outbox(), c.builds, c.posted)
		}
	}
}
