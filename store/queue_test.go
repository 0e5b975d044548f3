package store_test

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/holdfast/holdfast/store"
	"github.com/holdfast/holdfast/store/storetest"
)

func TestBackoff(t *testing.T) {
	for _, tt := range []struct {
		attempt int
		want    time.Duration
	}{{0, time.Second}, {1, time.Second}, {2, 2 * time.Second}, {5, 16 * time.Second}, {7, 30 * time.Second}, {1000, 30 * time.Second}} {
		if got := store.Backoff(tt.attempt, time.Second, 30*time.Second); got != tt.want {
			t.Errorf("Backoff(%d) = %s, want %s", tt.attempt, got, tt.want)
		}
	}
}

// countingWorker leases nothing from Postgres; it reports work for the
// first `full` passes.
type countingWorker struct {
	q     store.Queue
	works atomic.Int32
	full  atomic.Int32
}

func (w *countingWorker) Queue() store.Queue { return w.q }

func (w *countingWorker) Work(context.Context) (int, error) {
	w.works.Add(1)
	if w.full.Add(-1) >= 0 {
		return 4, nil
	}
	return 0, nil
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// A worker drains its queue pass after pass, then sleeps until woken:
// by Wake in the process, or by a NOTIFY from any transaction that enqueued.
func TestWorkersDrainThenSleepUntilWoken(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	w := &countingWorker{q: store.Queue{Name: "q", Table: "outbox", Due: "not_before", Waiting: "false"}}
	w.full.Store(3)
	ws := store.NewWorkers(st, slog.New(slog.DiscardHandler))
	ws.Poll = time.Hour
	if err := ws.Add(w); err != nil {
		t.Fatal(err)
	}
	if err := ws.Add(&countingWorker{q: store.Queue{Name: "q"}}); err == nil {
		t.Error("a second worker for one queue was accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ws.Run(ctx); close(done) }()
	waitFor(t, "three passes with work, then an empty one", func() bool { return w.works.Load() >= 4 })
	time.Sleep(20 * time.Millisecond)
	if n := w.works.Load(); n != 4 {
		t.Fatalf("%d passes before the hour-long poll, want 4", n)
	}
	ws.Wake("q")
	waitFor(t, "Wake to start a pass", func() bool { return w.works.Load() >= 5 })
	// A notification arrives over the LISTEN connection once it is up;
	// notify until it does.
	deadline := time.Now().Add(5 * time.Second)
	for w.works.Load() < 6 {
		if time.Now().After(deadline) {
			t.Fatal("a NOTIFY for the queue did not start a pass")
		}
		if err := st.InTx(ctx, func(tx store.Tx) error { return w.q.Notify(ctx, tx) }); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
}

// Lease hands each due row to one worker, counts attempts, leaves rows
// that are not due or not waiting, and gives a row back when its lease
// runs out.
func TestQueueLease(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	db := st.DB()
	if _, err := db.Exec(ctx, `CREATE TABLE work (id bigserial PRIMARY KEY, state text NOT NULL DEFAULT 'pending',
		next_at timestamptz NOT NULL DEFAULT now(), leased_until timestamptz, attempts int NOT NULL DEFAULT 0)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `INSERT INTO work (state, next_at) VALUES ('pending', now() - interval '1 minute'),
		('pending', now()), ('pending', now() + interval '1 hour'), ('done', now())`); err != nil {
		t.Fatal(err)
	}
	q := store.Queue{Name: "work", Table: "work", Waiting: "state = 'pending'", CountAttempts: true}
	lease := func(n int, d time.Duration) (ids []int64, attempts []int) {
		t.Helper()
		rows, err := q.Lease(ctx, db, n, d, `SELECT id, attempts FROM leased ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var a int
			if err := rows.Scan(&id, &a); err != nil {
				t.Fatal(err)
			}
			ids, attempts = append(ids, id), append(attempts, a)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return ids, attempts
	}
	if ids, att := lease(1, time.Minute); len(ids) != 1 || ids[0] != 1 || att[0] != 1 {
		t.Fatalf("first lease: ids %v attempts %v, want the oldest due row once", ids, att)
	}
	if ids, _ := lease(10, 50*time.Millisecond); len(ids) != 1 || ids[0] != 2 {
		t.Fatalf("second lease: %v, want only row 2 (1 is leased, 3 not due, 4 done)", ids)
	}
	next, err := q.NextDue(ctx, db)
	if err != nil || next.IsZero() {
		t.Fatalf("next due: %v %v", next, err)
	}
	time.Sleep(100 * time.Millisecond)
	if ids, att := lease(10, time.Minute); len(ids) != 1 || ids[0] != 2 || att[0] != 2 {
		t.Fatalf("after the short lease ran out: ids %v attempts %v, want row 2 again, second attempt", ids, att)
	}
}

// LeaseAt reads due rows and running leases on the caller's clock: a row
// due in an hour is leased by a clock an hour ahead, and its lease runs
// out on that clock too.
func TestQueueLeaseAt(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	db := st.DB()
	if _, err := db.Exec(ctx, `CREATE TABLE work (id bigserial PRIMARY KEY, done boolean NOT NULL DEFAULT false,
		due timestamptz NOT NULL, leased_until timestamptz, attempts int NOT NULL DEFAULT 0)`); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2031, time.May, 5, 9, 0, 0, 0, time.UTC) // far from the database's clock
	if _, err := db.Exec(ctx, `INSERT INTO work (due) VALUES ($1), ($1::timestamptz + interval '1 hour')`, at); err != nil {
		t.Fatal(err)
	}
	q := store.Queue{Name: "work", Table: "work", Due: "due", Waiting: "NOT done", CountAttempts: true}
	lease := func(now time.Time) (ids []int64) {
		t.Helper()
		rows, err := q.LeaseAt(ctx, db, now, 10, time.Minute, `SELECT id FROM leased WHERE attempts > $4 ORDER BY id`, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	if ids := lease(at.Add(-time.Second)); len(ids) != 0 {
		t.Fatalf("before anything is due: %v", ids)
	}
	if ids := lease(at); len(ids) != 1 || ids[0] != 1 {
		t.Fatalf("at the first due time: %v, want row 1", ids)
	}
	if ids := lease(at.Add(30 * time.Second)); len(ids) != 0 {
		t.Fatalf("while row 1 is leased: %v", ids)
	}
	if ids := lease(at.Add(time.Hour)); len(ids) != 2 {
		t.Fatalf("an hour on: %v, want row 1 (its lease ran out) and row 2", ids)
	}
}
