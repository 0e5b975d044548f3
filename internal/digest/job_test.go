package digest

import (
	"context"
	"log/slog"
	"strings"
	"sync"
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

// savesFake answers every window with the same figures and records the queries.
type savesFake struct {
	mu      sync.Mutex
	queries []SavesQuery
}

func (f *savesFake) Saves(ctx context.Context, q SavesQuery) (Saves, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, q)
	return Saves{Opened: 3, Recovered: 2, ARRSaved: 250_000, StillOpen: 1}, nil
}

// Weekly risk digests carry the playbooks' Saves for their window and
// filters; daily ones and digests without the risk topic do not ask.
func TestWeeklyDigestHasSaves(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	for _, s := range []Subscription{
		{ChannelID: "CWEEK", Frequency: Weekly, MinARR: 50_000, Tier: "Enterprise"},
		{ChannelID: "CDAY", Frequency: Daily},
		{ChannelID: "CCOMP", Frequency: Weekly, Topics: []string{TopicCompetitors}},
	} {
		s.Timezone, s.SendAt, s.CreatedBy = "UTC", "09:00", "U1"
		if _, _, err := subscribe(ctx, st.DB(), s); err != nil {
			t.Fatal(err)
		}
	}
	saves := &savesFake{}
	job := New(st, DefaultSettings(), saves, time.Now, slog.New(slog.DiscardHandler))
	monday := time.Date(2027, 2, 8, 9, 1, 0, 0, time.UTC)
	if err := job.Run(ctx, monday); err != nil {
		t.Fatal(err)
	}
	if len(saves.queries) != 1 {
		t.Fatalf("saves asked %d times: %+v", len(saves.queries), saves.queries)
	}
	q := saves.queries[0]
	if !q.Start.Equal(monday.Add(-time.Minute).AddDate(0, 0, -7)) || !q.End.Equal(monday.Add(-time.Minute)) || q.MinARR != 50_000 || q.Tier != "Enterprise" {
		t.Errorf("saves query %+v", q)
	}
	posts := map[string]string{}
	rows, err := st.Pool().Query(ctx, `SELECT channel_id, message::text FROM outbox`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var ch, msg string
		if err := rows.Scan(&ch, &msg); err != nil {
			t.Fatal(err)
		}
		posts[ch] = msg
	}
	if !strings.Contains(posts["CWEEK"], "*Saves:* 2 recovered ($250k ARR saved)") {
		t.Errorf("weekly digest without its Saves: %s", posts["CWEEK"])
	}
	for _, ch := range []string{"CDAY", "CCOMP"} {
		if posts[ch] == "" || strings.Contains(posts[ch], "Saves") {
			t.Errorf("%s: %q", ch, posts[ch])
		}
	}
}
