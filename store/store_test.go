package store_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/store"
	"github.com/holdfast/holdfast/store/storetest"
)

func seedAccounts(t *testing.T, st *store.Store, ids ...string) {
	t.Helper()
	in := make([]store.AccountInput, len(ids))
	for i, id := range ids {
		in[i] = store.AccountInput{ExternalID: id, Name: "Name " + id, ARR: float64(1000 * (i + 1))}
	}
	if _, err := upsert(context.Background(), st, in); err != nil {
		t.Fatal(err)
	}
}

// upsert stores accounts all or nothing, as the ingest service does.
func upsert(ctx context.Context, st *store.Store, in []store.AccountInput) (res []store.UpsertResult, err error) {
	err = st.InTx(ctx, func(tx store.Tx) error {
		res, err = tx.UpsertAccounts(ctx, in)
		return err
	})
	return res, err
}

// change is what rescoring one account sees in the ingest workflow below.
type change struct {
	store.ScoringInput
	New []scoring.Signal // the signals this call stored for the account
}

type evaluator func(ctx context.Context, c change) (scoring.Health, error)

// noAlert scores everything 80.
func noAlert(_ context.Context, c change) (scoring.Health, error) {
	return scoring.Health{Score: 80, Band: scoring.BandHealthy, ComputedAt: time.Now()}, nil
}

type ingestResult struct {
	SignalIDs  []int64
	Duplicates int
}

// ingest runs the store's part of the ingest workflow the way the ingest
// service does, in one transaction: resolve and lock the accounts, insert
// the signals, put them on the timeline, load what rescoring needs, and
// write the new health eval gives each account that got a new signal.
func ingest(ctx context.Context, st *store.Store, in []store.SignalInput, since time.Time, eval evaluator) (ingestResult, error) {
	var res ingestResult
	err := st.InTx(ctx, func(tx store.Tx) error {
		ids, err := tx.ResolveAccounts(ctx, in)
		if err != nil {
			return err
		}
		stored, err := tx.InsertSignals(ctx, in, ids)
		if err != nil {
			return err
		}
		res.SignalIDs = stored
		fresh := map[int64][]scoring.Signal{}
		var accounts []int64
		for i, id := range stored {
			if id == 0 {
				res.Duplicates++
				continue
			}
			if fresh[ids[i]] == nil {
				accounts = append(accounts, ids[i])
			}
			fresh[ids[i]] = append(fresh[ids[i]], store.ScoringSignal(id, in[i]))
		}
		if len(accounts) == 0 {
			return nil
		}
		if err := tx.AppendSignalTimeline(ctx, in, ids, stored); err != nil {
			return err
		}
		slices.Sort(accounts)
		loaded, err := tx.LoadForScoring(ctx, accounts, since)
		if err != nil {
			return err
		}
		w := &store.HealthWrites{}
		for _, id := range accounts {
			h, err := eval(ctx, change{loaded[id], fresh[id]})
			if err != nil {
				return err
			}
			if err := w.Add(id, h, "", true, fresh[id][len(fresh[id])-1].ID); err != nil {
				return err
			}
		}
		return tx.WriteHealth(ctx, w)
	})
	return res, err
}

func countRows(t *testing.T, st *store.Store, table string) int {
	t.Helper()
	var n int
	if err := st.Pool().QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	from, to, err := st.Migrate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if from != to || to < 1 {
		t.Fatalf("second migrate moved %d -> %d", from, to)
	}
}

func TestUpsertAccountsCreatesThenUpdates(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	res, err := upsert(ctx, st, []store.AccountInput{{ExternalID: "a1", Name: "Acme"}})
	if err != nil || !res[0].Created {
		t.Fatalf("first upsert: %+v %v", res, err)
	}
	res2, err := upsert(ctx, st, []store.AccountInput{{ExternalID: "a1", Name: "Acme Corp", ARR: 5}})
	if err != nil || res2[0].Created || res2[0].ID != res[0].ID {
		t.Fatalf("second upsert: %+v %v", res2, err)
	}
	a, err := st.Account(ctx, res[0].ID)
	if err != nil || a.Name != "Acme Corp" || a.ARR != 5 || a.Status != "active" {
		t.Fatalf("account after update: %+v %v", a, err)
	}
}

func TestUpsertAccountsAllOrNothing(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	// The second row breaks a database constraint (negative ARR): the first must not stay.
	_, err := upsert(context.Background(), st, []store.AccountInput{
		{ExternalID: "ok", Name: "Fine"}, {ExternalID: "bad", Name: "Broken", ARR: -1},
	})
	if err == nil {
		t.Fatal("want an error for negative ARR")
	}
	if n := countRows(t, st, "accounts"); n != 0 {
		t.Fatalf("%d accounts stored from a failed batch", n)
	}
}

func signal(acct, key string) store.SignalInput {
	return store.SignalInput{AccountExternalID: acct, Kind: scoring.KindTicket, Source: "zendesk", IdempotencyKey: key,
		OccurredAt: time.Now().Add(-time.Hour), Text: "help"}
}

func TestIngestDeduplicatesAcrossAndWithinBatches(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	seedAccounts(t, st, "a1", "a2")
	ctx := context.Background()
	since := time.Now().AddDate(0, 0, -180)
	evaluated := 0
	eval := func(ctx context.Context, c change) (scoring.Health, error) {
		evaluated++
		return noAlert(ctx, c)
	}
	res, err := ingest(ctx, st, []store.SignalInput{signal("a1", "k1"), signal("a2", "k2"), signal("a1", "k1")}, since, eval)
	if err != nil {
		t.Fatal(err)
	}
	if res.Duplicates != 1 || res.SignalIDs[0] == 0 || res.SignalIDs[1] == 0 || res.SignalIDs[2] != 0 {
		t.Fatalf("first batch: %+v", res)
	}
	if evaluated != 2 {
		t.Fatalf("evaluated %d accounts, want 2", evaluated)
	}
	res, err = ingest(ctx, st, []store.SignalInput{signal("a1", "k1"), signal("a2", "k2")}, since, eval)
	if err != nil {
		t.Fatal(err)
	}
	if res.Duplicates != 2 || evaluated != 2 {
		t.Fatalf("replay stored or evaluated something: %+v, evaluated %d", res, evaluated)
	}
	if n := countRows(t, st, "signals"); n != 2 {
		t.Fatalf("%d signals stored, want 2", n)
	}
	if n := countRows(t, st, "timeline"); n != 2 {
		t.Fatalf("%d timeline rows, want 2", n)
	}
}

func TestIngestUnknownAccountStoresNothing(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	seedAccounts(t, st, "a1")
	_, err := ingest(context.Background(), st, []store.SignalInput{signal("a1", "k1"), signal("nope", "k2")},
		time.Now().AddDate(0, 0, -1), noAlert)
	var unknown *store.UnknownAccountsError
	if !errors.As(err, &unknown) || len(unknown.Indexes) != 1 || unknown.Indexes[0] != 1 {
		t.Fatalf("want unknown account at row 1, got %v", err)
	}
	if n := countRows(t, st, "signals"); n != 0 {
		t.Fatalf("%d signals stored from a rejected batch", n)
	}
}

func TestEvaluatorErrorRollsBackEverything(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	seedAccounts(t, st, "a1")
	boom := errors.New("boom")
	_, err := ingest(context.Background(), st, []store.SignalInput{signal("a1", "k1")}, time.Now().AddDate(0, 0, -1),
		func(context.Context, change) (scoring.Health, error) { return scoring.Health{}, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("want boom, got %v", err)
	}
	for _, table := range []string{"signals", "timeline", "health_snapshots"} {
		if n := countRows(t, st, table); n != 0 {
			t.Fatalf("%d rows in %s after a failed evaluation", n, table)
		}
	}
}

func TestEvaluatorSeesPreviousSnapshotAndHistory(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	seedAccounts(t, st, "a1")
	ctx := context.Background()
	since := time.Now().AddDate(0, 0, -1)
	if _, err := ingest(ctx, st, []store.SignalInput{signal("a1", "k1")}, since, noAlert); err != nil {
		t.Fatal(err)
	}
	var seen change
	_, err := ingest(ctx, st, []store.SignalInput{signal("a1", "k2")}, since, func(ctx context.Context, c change) (scoring.Health, error) {
		seen = c
		return noAlert(ctx, c)
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen.Prev == nil || seen.Prev.Score != 80 {
		t.Fatalf("previous snapshot not passed: %+v", seen.Prev)
	}
	if len(seen.History) != 2 || len(seen.New) != 1 {
		t.Fatalf("history %d (want 2), new %d (want 1)", len(seen.History), len(seen.New))
	}
	if seen.Account.HealthScore == nil || *seen.Account.HealthScore != 80 {
		t.Fatalf("account health not updated: %+v", seen.Account.HealthScore)
	}
}

func TestConcurrentIngestForOneAccountSerialises(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	seedAccounts(t, st, "a1")
	ctx := context.Background()
	var mu sync.Mutex
	var histories []int
	eval := func(ctx context.Context, c change) (scoring.Health, error) {
		mu.Lock()
		histories = append(histories, len(c.History))
		mu.Unlock()
		return noAlert(ctx, c)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if _, err := ingest(ctx, st, []store.SignalInput{signal("a1", string(rune('a'+i)))}, time.Now().AddDate(0, 0, -1), eval); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// With the account row locked, each evaluation sees every earlier commit:
	// the history lengths are exactly 1..8 in some order.
	seen := map[int]bool{}
	for _, n := range histories {
		seen[n] = true
	}
	for n := 1; n <= 8; n++ {
		if !seen[n] {
			t.Fatalf("history lengths %v: evaluations overlapped", histories)
		}
	}
}

func TestFindAccounts(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	if _, err := upsert(ctx, st, []store.AccountInput{
		{ExternalID: "acme", Name: "Acme Corp"}, {ExternalID: "acme-labs", Name: "Acme Labs"},
		{ExternalID: "glob", Name: "Globex"}, {ExternalID: "pct", Name: "100% Juice"},
	}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		query             string
		matches, suggests []string
	}{
		{"ACME", []string{"acme"}, nil},             // external id, case-insensitive
		{"acme corp", []string{"acme"}, nil},        // whole name
		{"acm", []string{"acme", "acme-labs"}, nil}, // prefix: ambiguous
		{"globx", nil, []string{"glob"}},            // typo: suggestion
		{"%", nil, nil},                             // LIKE wildcards are literal
		{"100%", []string{"pct"}, nil},              // ...and still match literally
		{"zzzzzz", nil, nil},                        // nothing
	}
	for _, c := range cases {
		m, s, err := st.FindAccounts(ctx, c.query, 5)
		if err != nil {
			t.Fatal(err)
		}
		if got := externalIDs(m); !sameSet(got, c.matches) {
			t.Errorf("%q matches %v, want %v", c.query, got, c.matches)
		}
		if got := externalIDs(s); !sameSet(got, c.suggests) {
			t.Errorf("%q suggestions %v, want %v", c.query, got, c.suggests)
		}
	}
}

func externalIDs(as []store.Account) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.ExternalID)
	}
	return out
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		m[s]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}

func TestOutboxKeepsThreadOrderAndRecordsRoot(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	for _, text := range []string{"first", "second"} {
		if err := st.Enqueue(ctx, store.OutboxItem{Op: store.OpPost, ChannelID: "C1", ThreadKey: "alerts:1", Message: map[string]string{"text": text}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Enqueue(ctx, store.OutboxItem{Op: store.OpPost, ChannelID: "C2", ThreadKey: "alerts:2", Message: map[string]string{"text": "other"}}); err != nil {
		t.Fatal(err)
	}
	items, err := st.LeaseOutbox(ctx, 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// Only the head of each thread is eligible.
	if len(items) != 2 || items[0].ThreadTS != "" {
		t.Fatalf("leased %+v, want the two thread heads", items)
	}
	if again, _ := st.LeaseOutbox(ctx, 10, time.Minute); len(again) != 0 {
		t.Fatalf("leased rows leased again: %+v", again)
	}
	head := items[0]
	if head.ChannelID != "C1" {
		head = items[1]
	}
	if err := st.MarkDelivered(ctx, head, "111.000"); err != nil {
		t.Fatal(err)
	}
	next, err := st.LeaseOutbox(ctx, 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(next) != 1 || next[0].ThreadTS != "111.000" || string(next[0].Raw) != `{"text": "second"}` {
		t.Fatalf("second message of thread: %+v (raw %s)", next, next[0].Raw)
	}
}

func TestOutboxExpiredLeaseIsRetried(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	if err := st.Enqueue(ctx, store.OutboxItem{Op: store.OpPost, ChannelID: "C1", Message: map[string]string{"text": "x"}}); err != nil {
		t.Fatal(err)
	}
	items, err := st.LeaseOutbox(ctx, 1, time.Millisecond)
	if err != nil || len(items) != 1 {
		t.Fatalf("lease: %v %v", items, err)
	}
	time.Sleep(5 * time.Millisecond) // let the 1 ms lease lapse, as if the worker died
	again, err := st.LeaseOutbox(ctx, 1, time.Minute)
	if err != nil || len(again) != 1 || again[0].Attempts != 2 {
		t.Fatalf("expired lease not re-leased: %+v %v", again, err)
	}
}

// A similar-name search that would take too long gives no suggestions
// rather than a late answer or an error.
func TestFindAccountsGivesUpSuggestingInTime(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	if _, err := st.Pool().Exec(ctx, `INSERT INTO accounts (external_id, name)
		SELECT 'a' || i, 'Globex Initech Hooli ' || i FROM generate_series(1, 100000) i`); err != nil {
		t.Fatal(err)
	}
	st.SetSuggestTimeout(time.Minute)
	start := time.Now()
	_, suggestions, err := st.FindAccounts(ctx, "globx initech", 5)
	t.Logf("similar-name search over 100k look-alike names took %s", time.Since(start))
	if err != nil || len(suggestions) == 0 {
		t.Fatalf("with time to search: %d suggestions, %v", len(suggestions), err)
	}
	st.SetSuggestTimeout(time.Millisecond)
	matches, suggestions, err := st.FindAccounts(ctx, "globx initech", 5)
	if err != nil || len(matches)+len(suggestions) != 0 {
		t.Fatalf("out of time: %d matches, %d suggestions, %v; want none and no error", len(matches), len(suggestions), err)
	}
}
