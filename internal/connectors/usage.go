package connectors

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
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

// usageDays is how many finished days EmitUsageSignals looks back, so a
// missed run catches up.
const usageDays = 3

// usageGrace is how long after midnight (UTC) a day stays open for late
// events before its total becomes a signal.
const usageGrace = time.Hour

// EmitUsageSignals turns finished days of summed usage into usage signals
// (value = the day's total, one signal per account and day), through the
// ingest pipeline so the usage component scores them. A day is finished
// usageGrace after it ended; events arriving later still add to the
// stored total but not to the signal already sent.
func (m *Module) EmitUsageSignals(ctx context.Context, now time.Time) (int, error) {
	today := now.UTC().Add(-usageGrace).Truncate(24 * time.Hour)
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
		key := fmt.Sprintf("usage:%s:%s", ext, day.Format(time.DateOnly))
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

// flushers is how many groups commit at once: while one waits for its
// commit to reach the disk, the next gathers and sends its statement.
const flushers = 4

func newUsageWriter(st *store.Store, m *Module, log *slog.Logger) *usageWriter {
	w := &usageWriter{st: st, m: m, log: log, in: make(chan usageReq, 1024), stop: make(chan struct{})}
	for range flushers {
		w.done.Go(w.run)
	}
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

// processUsage stores a group of Segment deliveries: links from identify
// and group calls first (idempotent), then one statement (atomic on its
// own) that claims the event ids, adds the fresh events to the daily
// totals and quarantines the fresh events of unmapped groups. One round
// trip and one commit for the whole group is what lets the firehose
// through.
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
	accounts, err := m.resolveCached(ctx, keys, links)
	if err != nil {
		return nil, err
	}
	resolveItem := func(ev Event) (int64, Key) {
		for _, k := range ev.Keys {
			if id := accounts[k]; id != 0 {
				return id, k
			}
			if to, ok := links[k]; ok && accounts[to] != 0 {
				return accounts[to], to
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

	// Event ids in one order, so concurrent groups cannot deadlock.
	order := make([]int, len(items))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(items[a].ev.ID, items[b].ev.ID) })
	n := len(items)
	ids, days, kinds, values := make([]string, 0, n), make([]*string, 0, n), make([]string, 0, n), make([]string, 0, n)
	accts, amounts, quarantined := make([]*int64, 0, n), make([]*float64, 0, n), make([]*string, 0, n)
	firstOf := map[string]int{}
	status := make([]int, n) // per item: 0 stored, 1 quarantined, 2 ignored
	for _, i := range order {
		ev := items[i].ev
		if _, dup := firstOf[ev.ID]; dup {
			continue
		}
		firstOf[ev.ID] = i
		var acct *int64
		var day *string
		var amount *float64
		var q *string
		kind, value := "", ""
		switch {
		case !ev.needsAccount():
			status[i] = 2
		default:
			id, wait := resolveItem(ev)
			if id != 0 {
				acct, day, amount = &id, &ev.Usage.Day, &ev.Usage.Value
				break
			}
			status[i] = 1
			raw, err := json.Marshal(ev)
			if err != nil {
				return nil, fmt.Errorf("encode event: %w", err)
			}
			str := string(raw)
			q, kind, value = &str, wait.Kind, wait.Value
		}
		ids, accts, days, amounts = append(ids, ev.ID), append(accts, acct), append(days, day), append(amounts, amount)
		quarantined, kinds, values = append(quarantined, q), append(kinds, kind), append(values, value)
	}
	if len(carried) > 0 {
		slices.SortFunc(carried, func(a, b Link) int {
			return cmp.Or(cmp.Compare(a.From.Kind, b.From.Kind), cmp.Compare(a.From.Value, b.From.Value))
		})
		if err := m.st.InTx(ctx, func(tx store.Tx) error { return saveLinksBatch(ctx, tx, Segment, carried) }); err != nil {
			return nil, err
		}
	}
	rows, err := m.st.DB().Query(ctx, `WITH input AS (
			SELECT * FROM unnest($2::text[], $3::bigint[], $4::date[], $5::float8[], $6::jsonb[], $7::text[], $8::text[])
				WITH ORDINALITY AS t(event_id, account_id, day, value, event, key_kind, key_value, n)),
		fresh AS (
			INSERT INTO connector_events (connector, event_id, account_id)
			SELECT $1, event_id, account_id FROM input ORDER BY n
			ON CONFLICT DO NOTHING RETURNING event_id),
		sums AS (
			SELECT i.account_id, i.day, sum(i.value) AS value, count(*) AS events
			FROM input i JOIN fresh f USING (event_id)
			WHERE i.account_id IS NOT NULL GROUP BY i.account_id, i.day),
		added AS (
			INSERT INTO connector_usage (account_id, day, value, events)
			SELECT account_id, day, value, events FROM sums ORDER BY account_id, day
			ON CONFLICT (account_id, day) DO UPDATE SET value = connector_usage.value + excluded.value,
				events = connector_usage.events + excluded.events, updated_at = now()),
		held AS (
			INSERT INTO connector_quarantine (connector, event_id, key_kind, key_value, event)
			SELECT $1, i.event_id, i.key_kind, i.key_value, i.event FROM input i JOIN fresh f USING (event_id)
			WHERE i.event IS NOT NULL ON CONFLICT DO NOTHING)
		SELECT event_id FROM fresh`, Segment, ids, accts, days, amounts, quarantined, kinds, values)
	if err != nil {
		return nil, fmt.Errorf("store usage: %w", err)
	}
	fresh, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("store usage: %w", err)
	}
	isFresh := make(map[string]bool, len(fresh))
	for _, id := range fresh {
		isFresh[id] = true
	}
	var total Result
	for i, it := range items {
		r := &results[it.req]
		switch {
		case firstOf[it.ev.ID] != i || !isFresh[it.ev.ID]:
			r.Duplicates++
			total.Duplicates++
		case status[i] == 1:
			r.Quarantined++
			total.Quarantined++
		case status[i] == 2:
			r.Ignored++
			total.Ignored++
		default:
			r.Stored++
			total.Stored++
		}
	}
	m.count(Segment, "stored", total.Stored)
	m.count(Segment, "duplicate", total.Duplicates)
	m.count(Segment, "quarantined", total.Quarantined)
	m.count(Segment, "ignored", total.Ignored)
	return results, nil
}

// resolveTTL is how long a resolved key is trusted without asking the
// database again: a remapped group moves within this.
const resolveTTL = 30 * time.Second

type cachedAccount struct {
	id      int64
	expires time.Time
}

// resolveCached resolves the firehose's keys (and fills links with the
// stored links of keys it has not seen resolved), asking the database only
// for keys not resolved within resolveTTL. Only hits are cached: a key
// mapped a moment ago is found on the next group.
func (m *Module) resolveCached(ctx context.Context, keys []Key, links map[Key]Key) (map[Key]int64, error) {
	out := make(map[Key]int64, len(keys))
	now := time.Now()
	var missing []Key
	m.cacheMu.Lock()
	for _, k := range keys {
		if c, ok := m.cache[k]; ok && now.Before(c.expires) {
			out[k] = c.id
			continue
		}
		missing = append(missing, k)
	}
	m.cacheMu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	if err := loadLinks(ctx, m.st.DB(), Segment, missing, links); err != nil {
		return nil, err
	}
	ask := slices.Clone(missing)
	for _, k := range missing {
		if to, ok := links[k]; ok {
			ask = append(ask, to)
		}
	}
	found, err := lookupKeys(ctx, m.st.DB(), Segment, ask)
	if err != nil {
		return nil, err
	}
	m.cacheMu.Lock()
	defer m.cacheMu.Unlock()
	if m.cache == nil || len(m.cache) > 100000 {
		m.cache = map[Key]cachedAccount{}
	}
	for k, id := range found {
		out[k] = id
		// A user's resolution depends on its link, which a group call may
		// change at any time: only groups (and ids) are cached.
		if k.Kind != keyUser {
			m.cache[k] = cachedAccount{id: id, expires: now.Add(resolveTTL)}
		}
	}
	return out, nil
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
