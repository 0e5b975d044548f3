package connectors

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/store"
)

// usageRow is one account-day's addition.
type usageRow struct {
	accountID int64
	day       string
	value     float64
	events    int64
}

// addUsage adds rows to the daily totals, locking them in one order so
// replicas flushing at once cannot deadlock.
func addUsage(ctx context.Context, tx store.Tx, rows []usageRow) error {
	if len(rows) == 0 {
		return nil
	}
	slices.SortFunc(rows, func(a, b usageRow) int {
		return cmp.Or(cmp.Compare(a.accountID, b.accountID), cmp.Compare(a.day, b.day))
	})
	ids, days, values, events := make([]int64, len(rows)), make([]string, len(rows)), make([]float64, len(rows)), make([]int64, len(rows))
	for i, r := range rows {
		ids[i], days[i], values[i], events[i] = r.accountID, r.day, r.value, r.events
	}
	_, err := tx.Exec(ctx, `INSERT INTO connector_usage (account_id, day, value, events)
		SELECT * FROM unnest($1::bigint[], $2::date[], $3::float8[], $4::bigint[])
		ON CONFLICT (account_id, day) DO UPDATE SET value = connector_usage.value + excluded.value,
			events = connector_usage.events + excluded.events, updated_at = now()`, ids, days, values, events)
	return wrap("add usage", err)
}

// DailyUsage is an account's summed usage of one day.
func (m *Module) DailyUsage(ctx context.Context, accountID int64, day string) (value float64, events int64, err error) {
	err = m.st.DB().QueryRow(ctx, `SELECT value, events FROM connector_usage WHERE account_id = $1 AND day = $2`, accountID, day).Scan(&value, &events)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, nil
	}
	return value, events, wrap("daily usage", err)
}

// usageDays is how many finished days EmitUsageSignals (re)sends: late
// events of the last days still reach the score, as the signal's
// idempotency key carries the day's total.
const usageDays = 3

// EmitUsageSignals turns the last finished days of summed usage into
// usage signals (value = the day's total), through the ingest pipeline so
// the usage component scores them. A day whose total did not change is a
// duplicate and stores nothing.
func (m *Module) EmitUsageSignals(ctx context.Context, now time.Time) (int, error) {
	today := now.UTC().Truncate(24 * time.Hour)
	rows, err := m.st.DB().Query(ctx, `SELECT a.external_id, u.day, u.value FROM connector_usage u JOIN accounts a ON a.id = u.account_id
		WHERE u.day < $1::date AND u.day >= $1::date - $2::int ORDER BY u.day, a.id`, today, usageDays)
	if err != nil {
		return 0, fmt.Errorf("usage days: %w", err)
	}
	var in []ingest.SignalIn
	var ext string
	var day time.Time
	var value float64
	if _, err := pgx.ForEachRow(rows, []any{&ext, &day, &value}, func() error {
		v := value
		key := fmt.Sprintf("usage:%s:%s:%s", ext, day.Format(time.DateOnly), strconv.FormatFloat(v, 'g', -1, 64))
		in = append(in, ingest.SignalIn{Account: ext, Kind: string(scoring.KindUsage), Source: Segment, Value: &v,
			OccurredAt: day, IdempotencyKey: key})
		return nil
	}); err != nil {
		return 0, fmt.Errorf("usage days: %w", err)
	}
	stored := 0
	for len(in) > 0 {
		n := min(len(in), ingest.MaxBatch)
		res, err := m.ingest.IngestSignals(ctx, in[:n])
		if err != nil {
			return stored, fmt.Errorf("usage signals: %w", err)
		}
		stored += res.Stored
		in = in[n:]
	}
	return stored, nil
}

// usageWriter commits Segment's firehose in groups: every request waits
// for the transaction that holds its events (2xx only after commit), and
// while one transaction runs the next requests gather for the following
// one, so the database sees a few large statements instead of thousands
// of small ones.
type usageWriter struct {
	st   *store.Store
	m    *Module
	log  *slog.Logger
	in   chan usageReq
	stop chan struct{}
	done sync.WaitGroup
	once sync.Once
}

type usageReq struct {
	ctx    context.Context
	events []Event
	reply  chan usageReply
}

type usageReply struct {
	res Result
	err error
}

// maxGroup bounds one group commit's events.
const maxGroup = 5000

func newUsageWriter(st *store.Store, m *Module, log *slog.Logger) *usageWriter {
	w := &usageWriter{st: st, m: m, log: log, in: make(chan usageReq, 1024), stop: make(chan struct{})}
	w.done.Go(w.run)
	return w
}

var errClosed = errors.New("connectors: shutting down")

func (w *usageWriter) add(ctx context.Context, events []Event) (Result, error) {
	req := usageReq{ctx: ctx, events: events, reply: make(chan usageReply, 1)}
	select {
	case w.in <- req:
	case <-w.stop:
		return Result{}, errClosed
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	select {
	case r := <-req.reply:
		return r.res, r.err
	case <-ctx.Done():
		// The group may still commit; the tool's retry is then a duplicate.
		return Result{}, ctx.Err()
	}
}

func (w *usageWriter) close() {
	w.once.Do(func() { close(w.stop) })
	w.done.Wait()
}

func (w *usageWriter) run() {
	for {
		var group []usageReq
		select {
		case req := <-w.in:
			group = append(group, req)
		case <-w.stop:
			w.drain()
			return
		}
		n := len(group[0].events)
	gather:
		for n < maxGroup {
			select {
			case req := <-w.in:
				group = append(group, req)
				n += len(req.events)
			default:
				break gather
			}
		}
		w.commit(group)
	}
}

// drain answers what is queued at shutdown by committing it.
func (w *usageWriter) drain() {
	for {
		select {
		case req := <-w.in:
			w.commit([]usageReq{req})
		default:
			return
		}
	}
}

func (w *usageWriter) commit(group []usageReq) {
	// Requests whose caller gave up are still committed: the tool's retry
	// is then a duplicate rather than a loss.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	results, err := w.m.processUsage(ctx, group)
	for i, req := range group {
		if err != nil {
			req.reply <- usageReply{err: err}
			continue
		}
		req.reply <- usageReply{res: results[i]}
	}
}

// processUsage stores a group of Segment deliveries in one transaction:
// links from identify and group calls, event ids, summed usage per
// account-day, and the quarantine for groups not mapped yet.
func (m *Module) processUsage(ctx context.Context, group []usageReq) ([]Result, error) {
	type item struct {
		req int
		ev  Event
	}
	var items []item
	results := make([]Result, len(group))
	links := map[Key]Key{}
	var carried []Link
	var keys []Key
	seenKey := map[Key]bool{}
	addKey := func(k Key) {
		if k.Value != "" && !seenKey[k] {
			seenKey[k] = true
			keys = append(keys, k)
		}
	}
	for i, req := range group {
		results[i].Received = len(req.events)
		for _, ev := range req.events {
			items = append(items, item{req: i, ev: ev})
			for _, l := range ev.Links {
				links[l.From] = l.To
				carried = append(carried, l)
			}
			for _, k := range ev.Keys {
				addKey(k)
			}
		}
	}
	if err := loadLinks(ctx, m.st.DB(), Segment, keys, links); err != nil {
		return nil, err
	}
	for _, k := range keys {
		if to, ok := links[k]; ok {
			addKey(to)
		}
	}
	accounts, err := lookupKeys(ctx, m.st.DB(), Segment, keys)
	if err != nil {
		return nil, err
	}
	resolveItem := func(ev Event) (int64, Key) {
		for _, k := range ev.Keys {
			if id := accounts[k]; id != 0 {
				return id, k
			}
			if id := accounts[links[k]]; id != 0 {
				return id, links[k]
			}
		}
		if len(ev.Keys) == 0 {
			return 0, Key{Kind: "none"}
		}
		if to, ok := links[ev.Keys[0]]; ok {
			return 0, to
		}
		return 0, ev.Keys[0]
	}

	// Event ids in one order, so two replicas' groups cannot deadlock.
	order := make([]int, len(items))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(items[a].ev.ID, items[b].ev.ID) })
	ids := make([]string, 0, len(items))
	acct := make([]*int64, 0, len(items))
	resolvedID := make([]int64, len(items))
	waitKey := make([]Key, len(items))
	firstOf := map[string]int{}
	for _, i := range order {
		ev := items[i].ev
		if _, dup := firstOf[ev.ID]; dup {
			continue
		}
		firstOf[ev.ID] = i
		var a *int64
		if ev.needsAccount() {
			resolvedID[i], waitKey[i] = resolveItem(ev)
			if resolvedID[i] != 0 {
				a = &resolvedID[i]
			}
		}
		ids, acct = append(ids, ev.ID), append(acct, a)
	}
	err = m.st.InTx(ctx, func(tx store.Tx) error {
		for i := range results {
			results[i] = Result{Received: len(group[i].events)}
		}
		all := slices.Clone(carried)
		slices.SortFunc(all, func(a, b Link) int {
			return cmp.Or(cmp.Compare(a.From.Kind, b.From.Kind), cmp.Compare(a.From.Value, b.From.Value))
		})
		if err := saveLinksBatch(ctx, tx, Segment, all); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `INSERT INTO connector_events (connector, event_id, account_id)
			SELECT $1, * FROM unnest($2::text[], $3::bigint[]) ON CONFLICT DO NOTHING RETURNING event_id`, Segment, ids, acct)
		if err != nil {
			return fmt.Errorf("record events: %w", err)
		}
		fresh, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("record events: %w", err)
		}
		isFresh := make(map[string]bool, len(fresh))
		for _, id := range fresh {
			isFresh[id] = true
		}
		sums := map[[2]any]*usageRow{}
		var qIDs, qKinds, qValues []string
		var qEvents [][]byte
		for i, it := range items {
			r := &results[it.req]
			if firstOf[it.ev.ID] != i || !isFresh[it.ev.ID] {
				r.Duplicates++
				continue
			}
			switch {
			case !it.ev.needsAccount():
				r.Ignored++
			case resolvedID[i] == 0:
				raw, err := json.Marshal(it.ev)
				if err != nil {
					return fmt.Errorf("encode event: %w", err)
				}
				qIDs, qKinds, qValues, qEvents = append(qIDs, it.ev.ID), append(qKinds, waitKey[i].Kind), append(qValues, waitKey[i].Value), append(qEvents, raw)
				r.Quarantined++
			default:
				u := it.ev.Usage
				k := [2]any{resolvedID[i], u.Day}
				s := sums[k]
				if s == nil {
					s = &usageRow{accountID: resolvedID[i], day: u.Day}
					sums[k] = s
				}
				s.value += u.Value
				s.events++
				r.Stored++
			}
		}
		var add []usageRow
		for _, s := range sums {
			add = append(add, *s)
		}
		if err := addUsage(ctx, tx, add); err != nil {
			return err
		}
		if len(qIDs) > 0 {
			_, err := tx.Exec(ctx, `INSERT INTO connector_quarantine (connector, event_id, key_kind, key_value, event)
				SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::jsonb[]) ON CONFLICT DO NOTHING`,
				Segment, qIDs, qKinds, qValues, qEvents)
			if err != nil {
				return fmt.Errorf("quarantine events: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var total Result
	for _, r := range results {
		total.Stored += r.Stored
		total.Duplicates += r.Duplicates
		total.Quarantined += r.Quarantined
		total.Ignored += r.Ignored
	}
	m.count(Segment, "stored", total.Stored)
	m.count(Segment, "duplicate", total.Duplicates)
	m.count(Segment, "quarantined", total.Quarantined)
	m.count(Segment, "ignored", total.Ignored)
	return results, nil
}

// loadLinks adds the stored links of keys to links (what an event carries
// wins over what was stored).
func loadLinks(ctx context.Context, db store.DB, tool string, keys []Key, links map[Key]Key) error {
	if len(keys) == 0 {
		return nil
	}
	kinds, values := make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		kinds[i], values[i] = k.Kind, k.Value
	}
	rows, err := db.Query(ctx, `SELECT key_kind, key_value, to_kind, to_value FROM connector_links
		WHERE connector = $1 AND (key_kind, key_value) IN (SELECT * FROM unnest($2::text[], $3::text[]))`, tool, kinds, values)
	if err != nil {
		return fmt.Errorf("load links: %w", err)
	}
	var from, to Key
	_, err = pgx.ForEachRow(rows, []any{&from.Kind, &from.Value, &to.Kind, &to.Value}, func() error {
		if _, ok := links[from]; !ok {
			links[from] = to
		}
		return nil
	})
	return wrap("load links", err)
}

// lookupKeys resolves many keys at once: mappings, then external ids.
func lookupKeys(ctx context.Context, db store.DB, tool string, keys []Key) (map[Key]int64, error) {
	out := map[Key]int64{}
	if len(keys) == 0 {
		return out, nil
	}
	kinds, values := make([]string, len(keys)), make([]string, len(keys))
	var ext, crm []string
	for i, k := range keys {
		kinds[i], values[i] = k.Kind, k.Value
		switch k.Kind {
		case KeyExternalID:
			ext = append(ext, k.Value)
		case KeyCRMID:
			crm = append(crm, k.Value)
		}
	}
	collect := func(sql string, args ...any) error {
		rows, err := db.Query(ctx, sql, args...)
		if err != nil {
			return fmt.Errorf("look up accounts: %w", err)
		}
		var k Key
		var id int64
		_, err = pgx.ForEachRow(rows, []any{&k.Kind, &k.Value, &id}, func() error {
			if out[k] == 0 {
				out[k] = id
			}
			return nil
		})
		return wrap("look up accounts", err)
	}
	if err := collect(`SELECT key_kind, key_value, account_id FROM connector_mappings
		WHERE connector = $1 AND (key_kind, key_value) IN (SELECT * FROM unnest($2::text[], $3::text[]))`, tool, kinds, values); err != nil {
		return nil, err
	}
	if len(ext) > 0 {
		if err := collect(`SELECT 'external_id', external_id, id FROM accounts WHERE external_id = ANY($1)`, ext); err != nil {
			return nil, err
		}
	}
	if len(crm) > 0 {
		if err := collect(`SELECT DISTINCT ON (crm_id) 'crm_id', crm_id, id FROM accounts WHERE crm_id = ANY($1) ORDER BY crm_id, id`, crm); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func saveLinksBatch(ctx context.Context, tx store.Tx, tool string, links []Link) error {
	var fk, fv, tk, tv []string
	for _, l := range links {
		if l.From.Value == "" || l.To.Value == "" {
			continue
		}
		fk, fv, tk, tv = append(fk, l.From.Kind), append(fv, l.From.Value), append(tk, l.To.Kind), append(tv, l.To.Value)
	}
	if len(fk) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO connector_links (connector, key_kind, key_value, to_kind, to_value)
		SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[])
		ON CONFLICT (connector, key_kind, key_value) DO UPDATE SET to_kind = excluded.to_kind, to_value = excluded.to_value, updated_at = now()
		WHERE (connector_links.to_kind, connector_links.to_value) IS DISTINCT FROM (excluded.to_kind, excluded.to_value)`,
		tool, fk, fv, tk, tv)
	return wrap("save links", err)
}
