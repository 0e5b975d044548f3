package store

// Durable work: besides cron ticks, Holdfast keeps work that must happen
// exactly once and survive restarts in Postgres rows: Slack messages (the
// outbox), room handoffs, notes to summarise, CRM writes, survey-tool
// deliveries. Every such table follows one shape, and Queue is its one
// implementation: a row waits until it is due, a worker leases it so a
// worker that dies gives it back when the lease ends, and one LISTEN
// connection wakes the right worker when a transaction that enqueued work
// commits.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// workChannel is the one LISTEN/NOTIFY channel of every queue, per schema
// (notifications are database-wide, and deployments or tests sharing a
// database in schemas of their own must not wake each other); the payload
// names the queue.
const workChannel = "holdfast_work:"

// Queue is durable work kept in one table's rows.
type Queue struct {
	Name  string // names the queue in notifications and logs
	Table string
	Key   string // the primary key column; default "id"
	Due   string // the column saying when a row is due; default "next_at"
	// Waiting is the SQL condition of rows still to be worked
	// ("state = 'pending'").
	Waiting string
	// Ready narrows the due rows further; it sees the candidate row as p
	// (the outbox's thread order). Optional.
	Ready string
	// CountAttempts adds one to the row's attempts column on every lease.
	CountAttempts bool
	// Lane, when set, is the column whose value is a row's lane (the
	// outbox's channel): a lease takes at most one row per lane and none
	// from a lane with a row still leased, so one lane's backlog never
	// holds up another's and each lane is worked in order.
	Lane string
	// Priority, when set, is the column ordering a lane's rows before
	// their due time (higher first).
	Priority string
}

func (q Queue) key() string {
	if q.Key == "" {
		return "id"
	}
	return q.Key
}

func (q Queue) due() string {
	if q.Due == "" {
		return "next_at"
	}
	return q.Due
}

// Lease claims up to n due rows for lease and reads them back with sel, a
// SELECT over the leased rows as the table "leased" (every column of the
// row after the lease). sel's parameters start at $3 (args); $1 and $2 are
// n and the lease. Rows locked by another worker are skipped, so replicas
// lease disjoint rows; a row whose lease ran out (its worker died) is due
// again.
func (q Queue) Lease(ctx context.Context, db DB, n int, lease time.Duration, sel string, args ...any) (pgx.Rows, error) {
	return q.lease(ctx, db, "now()", n, lease, sel, args...)
}

// LeaseAt is Lease on the caller's clock instead of the database's: rows
// due by now, leases running out at now. A cron job that works a queue on
// its tick uses it (tests set that clock). sel's parameters start at $4;
// $3 is now.
func (q Queue) LeaseAt(ctx context.Context, db DB, now time.Time, n int, lease time.Duration, sel string, args ...any) (pgx.Rows, error) {
	return q.lease(ctx, db, "$3::timestamptz", n, lease, sel, append([]any{now}, args...)...)
}

func (q Queue) lease(ctx context.Context, db DB, now string, n int, lease time.Duration, sel string, args ...any) (pgx.Rows, error) {
	set := "leased_until = " + now + " + $2::interval"
	if q.CountAttempts {
		set += ", attempts = attempts + 1"
	}
	ready := ""
	if q.Ready != "" {
		ready = "\n\t\t\t  AND (" + q.Ready + ")"
	}
	key, due := q.key(), q.due()
	order := ""
	if q.Priority != "" {
		order = q.Priority + " DESC, "
	}
	candidates := `SELECT p.` + key + ` FROM ` + q.Table + ` p
			WHERE (` + q.Waiting + `) AND p.` + due + ` <= ` + now + `
			  AND (p.leased_until IS NULL OR p.leased_until < ` + now + `)` + ready + `
			ORDER BY ` + order + `p.` + due + `, p.` + key + ` LIMIT $1
			FOR UPDATE SKIP LOCKED`
	heads := ""
	if q.Lane != "" {
		// The head of each free lane, then the most urgent heads first. The
		// heads are a materialized CTE, computed once whatever the plan: a
		// plan made before the table had statistics (a new install's first
		// burst) re-ran them for every row and held the queue for minutes.
		// The lease conditions are checked again on the locked row itself:
		// the heads read a snapshot taken before another replica's lease
		// committed, and only the locked row's own conditions are re-checked
		// then, so a row is never leased twice. heads exposes only head, so
		// the outer columns are c's.
		heads = `heads AS MATERIALIZED (
				SELECT DISTINCT ON (p.` + q.Lane + `) p.` + key + ` AS head FROM ` + q.Table + ` p
				WHERE (` + q.Waiting + `) AND p.` + due + ` <= ` + now + `
				  AND (p.leased_until IS NULL OR p.leased_until < ` + now + `)` + ready + `
				  AND NOT EXISTS (SELECT 1 FROM ` + q.Table + ` f WHERE f.` + q.Lane + ` = p.` + q.Lane + `
					AND f.leased_until >= ` + now + ` AND (` + q.Waiting + `))
				ORDER BY p.` + q.Lane + `, ` + order + `p.` + due + `, p.` + key + `),
		`
		candidates = `SELECT c.` + key + ` FROM heads h JOIN ` + q.Table + ` c ON c.` + key + ` = h.head
			WHERE (` + q.Waiting + `) AND (c.leased_until IS NULL OR c.leased_until < ` + now + `)
			ORDER BY ` + order + `c.` + due + `, c.` + key + ` LIMIT $1
			FOR UPDATE OF c SKIP LOCKED`
	}
	sql := `WITH ` + heads + `leased AS (
		UPDATE ` + q.Table + ` SET ` + set + `
		WHERE ` + key + ` IN (` + candidates + `)
		RETURNING *)
	` + sel
	rows, err := db.Query(ctx, sql, append([]any{n, lease.String()}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("lease %s: %w", q.Name, err)
	}
	return rows, nil
}

// Claim runs sel, a query of due rows a job run handles inside its own
// transaction, locking the rows of table alias lock and skipping the ones
// another run holds: replicas and reruns take disjoint rows, and the run
// marks what it handled in the same transaction (a crash rolls both back).
// Work that happens outside a transaction (a Slack post, an HTTP call) is
// leased instead (Lease), so a crashed worker's rows come back.
func Claim(ctx context.Context, tx Tx, sel, lock string, args ...any) (pgx.Rows, error) {
	return tx.Query(ctx, sel+" FOR UPDATE OF "+lock+" SKIP LOCKED", args...)
}

// NextDue is when the earliest waiting row becomes due (zero if none): its
// due time, or the end of its lease while a worker holds it.
func (q Queue) NextDue(ctx context.Context, db DB) (time.Time, error) {
	due := q.due()
	busy := ""
	if q.Lane != "" {
		// A row behind another one in flight in its lane waits for that one
		// (whose worker wakes the queue when done, or whose lease runs out).
		busy = ` AND NOT EXISTS (SELECT 1 FROM ` + q.Table + ` f WHERE f.` + q.Lane + ` = p.` + q.Lane + ` AND f.` + q.key() + ` <> p.` + q.key() + `
			AND f.leased_until >= now() AND (` + q.Waiting + `))`
	}
	var t *time.Time
	err := db.QueryRow(ctx, `SELECT min(greatest(`+due+`, coalesce(leased_until, `+due+`))) FROM `+q.Table+
		` p WHERE (`+q.Waiting+`)`+busy).Scan(&t)
	if err != nil || t == nil {
		return time.Time{}, wrap("next due "+q.Name, err)
	}
	return *t, nil
}

// Notify wakes the queue's workers when the transaction commits (a rolled
// back enqueue wakes nobody).
func (q Queue) Notify(ctx context.Context, db DB) error {
	_, err := db.Exec(ctx, `SELECT pg_notify($1 || current_schema(), $2)`, workChannel, q.Name)
	return wrap("notify "+q.Name, err)
}

// Backoff is the wait before retry number attempt (1-based): base doubling
// each time, capped at limit.
func Backoff(attempt int, base, limit time.Duration) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := base
	for i := 1; i < attempt && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// Worker works one queue.
type Worker interface {
	// Queue is the queue it works: its name routes notifications, its
	// NextDue decides how long the worker sleeps.
	Queue() Queue
	// Work does one batch of due rows and reports how many it leased. A
	// pass that leased anything is followed by another at once: its work
	// may have made more due (the next step of a state machine).
	Work(ctx context.Context) (leased int, err error)
}

// An AsyncWorker finishes leased rows on goroutines of its own after Work
// returns (the outbox: one delivery per Slack channel at a time, none
// waiting for another). Workers hands it wake, to call when a row is done
// and its lane free, and waits for Drain at shutdown.
type AsyncWorker interface {
	Worker
	SetWake(wake func())
	Drain()
}

// Workers runs every queue's worker in this process. Each sleeps until its
// next row is due, a notification for its queue arrives, or the poll
// interval passes (notifications are lost while the LISTEN connection is
// down; the poll is the backstop).
type Workers struct {
	store *Store
	log   *slog.Logger
	// Poll is the longest sleep; default 5 s.
	Poll  time.Duration
	loops map[string]*loop
	order []string
}

type loop struct {
	w    Worker
	wake chan struct{}
}

// NewWorkers makes an empty set of workers on st.
func NewWorkers(st *Store, log *slog.Logger) *Workers {
	return &Workers{store: st, log: log, Poll: 5 * time.Second, loops: map[string]*loop{}}
}

// Add registers w. Two workers for one queue is a wiring mistake.
func (ws *Workers) Add(w ...Worker) error {
	for _, w := range w {
		name := w.Queue().Name
		if name == "" {
			return errors.New("store: a worker's queue needs a name")
		}
		if _, dup := ws.loops[name]; dup {
			return fmt.Errorf("store: two workers for queue %q", name)
		}
		ws.loops[name] = &loop{w: w, wake: make(chan struct{}, 1)}
		ws.order = append(ws.order, name)
		if aw, ok := w.(AsyncWorker); ok {
			aw.SetWake(func() { ws.Wake(name) })
		}
	}
	return nil
}

// Names lists the queues in the order they were added.
func (ws *Workers) Names() []string { return append([]string(nil), ws.order...) }

// Wake makes the worker of the named queue look at it now.
func (ws *Workers) Wake(name string) {
	if l := ws.loops[name]; l != nil {
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
}

// Run works every queue until ctx ends. Work in progress finishes on its
// own clock, so a shutdown never leaves a step half done; what is left
// waits in Postgres for the next run.
func (ws *Workers) Run(ctx context.Context) {
	if len(ws.loops) == 0 {
		return
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for ctx.Err() == nil {
			if err := ws.store.Listen(ctx, ws.Wake); err != nil {
				ws.log.Warn("work notifications lost; polling until they are back", "err", err)
				sleep(ctx, nil, 2*time.Second)
			}
		}
	})
	for _, name := range ws.order {
		l := ws.loops[name]
		wg.Go(func() {
			ws.run(ctx, name, l)
			if aw, ok := l.w.(AsyncWorker); ok {
				aw.Drain()
			}
		})
	}
	wg.Wait()
}

func (ws *Workers) run(ctx context.Context, name string, l *loop) {
	q := l.w.Queue()
	for ctx.Err() == nil {
		n, err := l.w.Work(context.WithoutCancel(ctx))
		if err != nil {
			ws.log.Error("queue work failed", "queue", name, "err", err)
			sleep(ctx, l.wake, time.Second)
			continue
		}
		if n > 0 {
			continue
		}
		wait := ws.Poll
		if next, err := q.NextDue(ctx, ws.store.pool); err == nil && !next.IsZero() {
			wait = min(ws.Poll, max(10*time.Millisecond, time.Until(next)))
		}
		sleep(ctx, l.wake, wait)
	}
}

func sleep(ctx context.Context, wake <-chan struct{}, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-wake:
	case <-t.C:
	}
}

// Listen calls wake with the queue name of every notification until ctx
// ends (nil) or the connection fails (the error). It holds one connection.
func (s *Store) Listen(ctx context.Context, wake func(queue string)) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer conn.Release()
	var schema string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{workChannel + schema}.Sanitize()); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer func() {
		// The connection goes back to the pool: stop listening on a fresh context.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		if _, err := conn.Exec(ctx, "UNLISTEN *"); err != nil {
			conn.Conn().Close(ctx)
		}
	}()
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("wait for notification: %w", err)
		}
		wake(n.Payload)
	}
}
