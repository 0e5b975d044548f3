package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/holdfast/holdfast/store"
	"github.com/holdfast/holdfast/store/storetest"
)

func TestSendDigestOnceUnderConcurrency(t *testing.T) {
	st := storetest.New(t)
	ctx := context.Background()
	sub, created, err := st.SubscribeDigest(ctx, store.DigestSubscription{ChannelID: "C1", Frequency: "daily", Topics: []string{"risk"},
		Timezone: "UTC", SendAt: "09:00", CreatedBy: "U1"})
	if err != nil || !created {
		t.Fatalf("subscribe: %v %v", created, err)
	}
	again, created, err := st.SubscribeDigest(ctx, store.DigestSubscription{ChannelID: "C1", Frequency: "daily", MinARR: 5000,
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
			ok, err := st.SendDigestOnce(ctx, sub.ID, "2027-02-08", start, end, store.OutboxItem{Op: store.OpPost, ChannelID: "C1", Message: map[string]string{"text": "digest"}})
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
	if sent != 1 || countRows(t, st, "outbox") != 1 || countRows(t, st, "digest_runs") != 1 {
		t.Errorf("sent %d times, %d outbox rows: want exactly one", sent, countRows(t, st, "outbox"))
	}
	if n, err := st.UnsubscribeDigest(ctx, "C1", ""); err != nil || n != 1 {
		t.Fatalf("unsubscribe: %d %v", n, err)
	}
	if ok, err := st.SendDigestOnce(ctx, sub.ID, "2027-02-09", start, end, store.OutboxItem{Op: store.OpPost, ChannelID: "C1", Message: "x"}); err != nil || ok {
		t.Errorf("a removed subscription must not send: %v %v", ok, err)
	}
}

func TestAlertChannelsFilters(t *testing.T) {
	st := storetest.New(t)
	ctx := context.Background()
	for _, s := range []store.DigestSubscription{
		{ChannelID: "CALL", Frequency: "weekly"},
		{ChannelID: "CCOMP", Frequency: "daily", Topics: []string{"competitors"}, MinARR: 100000},
		{ChannelID: "CENT", Frequency: "weekly", Topics: []string{"competitors", "risk"}, Tier: "Enterprise"},
		{ChannelID: "CRISK", Frequency: "weekly", Topics: []string{"risk"}},
	} {
		s.Timezone, s.SendAt, s.CreatedBy = "UTC", "09:00", "U1"
		if _, _, err := st.SubscribeDigest(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	channels := func(topic string, arr float64, tier string) string {
		var out []string
		err := pgx.BeginFunc(ctx, st.Pool(), func(tx pgx.Tx) error {
			var err error
			out, err = store.AlertChannelsTx(ctx, tx, topic, arr, tier)
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

func TestClaimTextAlertOnceAndUpdatesChannelCopies(t *testing.T) {
	st := storetest.New(t)
	ctx := context.Background()
	seedAccounts(t, st, "a1")
	var id int64
	err := pgx.BeginFunc(ctx, st.Pool(), func(tx pgx.Tx) error {
		var err error
		id, err = store.InsertTextAlertTx(ctx, tx, store.NewTextAlert{AccountID: 1, Kind: store.TextAlertCompetitor, Competitor: "Gainsight",
			At: time.Now(), Recipients: []string{"U0OWNER", "C0LEAD"}, Summary: "Gainsight mentioned",
			Render: func(id int64) (any, any, error) {
				return map[string]any{"alert_id": id}, map[string]string{"text": "alert"}, nil
			}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, st, "outbox"); n != 2 {
		t.Fatalf("%d posts queued, want one per recipient", n)
	}
	render := func(view json.RawMessage, by string) (any, error) {
		return map[string]string{"text": "claimed by " + by + " " + string(view)}, nil
	}
	var wg sync.WaitGroup
	results := make(chan store.TextAlertClaim, 2)
	for _, u := range []string{"U1", "U2"} {
		wg.Go(func() {
			r, err := st.ClaimTextAlert(ctx, id, u, time.Now(), render)
			if err != nil {
				t.Error(err)
			}
			results <- r
		})
	}
	wg.Wait()
	close(results)
	wins := 0
	var winner string
	for r := range results {
		if r.Claimed {
			wins++
			winner = r.Alert.ClaimedBy
		}
	}
	if wins != 1 || winner == "" {
		t.Fatalf("%d claims took, want exactly 1", wins)
	}
	var updates int
	if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM outbox WHERE op = 'update' AND channel_id = 'C0LEAD'
		AND target_ref = $1`, store.TextAlertRef(id, "C0LEAD")).Scan(&updates); err != nil || updates != 1 {
		t.Errorf("channel copy updates: %d %v", updates, err)
	}
	if n := countRows(t, st, "outbox"); n != 4 {
		t.Errorf("%d outbox rows, want 2 posts + 2 updates (the channel and the DM copy)", n)
	}
	if _, err := st.ClaimTextAlert(ctx, 999, "U1", time.Now(), render); err != store.ErrNotFound {
		t.Errorf("unknown alert: %v", err)
	}
}

func TestOwnedAccountsRiskiestFirst(t *testing.T) {
	st := storetest.New(t)
	ctx := context.Background()
	in := []store.AccountInput{
		{ExternalID: "healthy", Name: "Healthy", OwnerCSM: "U1", ARR: 900},
		{ExternalID: "risk-small", Name: "Risk small", OwnerCSM: "U1", ARR: 100},
		{ExternalID: "critical", Name: "Critical", OwnerCSM: "U1", ARR: 50},
		{ExternalID: "unscored", Name: "Unscored", OwnerCSM: "U1", ARR: 5000},
		{ExternalID: "risk-big", Name: "Risk big", OwnerCSM: "U1", ARR: 1000},
		{ExternalID: "theirs", Name: "Theirs", OwnerCSM: "U2", ARR: 1e6},
		{ExternalID: "gone", Name: "Gone", OwnerCSM: "U1", Status: "churned"},
	}
	if _, err := upsert(ctx, st, in); err != nil {
		t.Fatal(err)
	}
	for ext, sb := range map[string][2]any{"healthy": {90, "healthy"}, "risk-small": {60, "at_risk"}, "risk-big": {60, "at_risk"}, "critical": {20, "critical"}} {
		if _, err := st.Pool().Exec(ctx, `UPDATE accounts SET health_score = $2, health_band = $3 WHERE external_id = $1`, ext, sb[0], sb[1]); err != nil {
			t.Fatal(err)
		}
	}
	accounts, total, err := st.OwnedAccounts(ctx, "U1", 4)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range accounts {
		names = append(names, a.Name)
	}
	if got := strings.Join(names, ","); got != "Critical,Risk big,Risk small,Healthy" || total != 5 {
		t.Errorf("owned accounts %q (total %d), want critical, at risk by ARR, healthy; unscored last; 5 active in all", got, total)
	}
}

// Accounts whose texts all fall in the window have no fall to measure and
// must not crowd the real movers out of the limit.
func TestSentimentChangesNeedsTextsBefore(t *testing.T) {
	st := storetest.New(t)
	ctx := context.Background()
	seedAccounts(t, st, "old", "new1", "new2")
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
	if _, err := ingest(ctx, st, in, now.AddDate(0, 0, -30), noAlert); err != nil {
		t.Fatal(err)
	}
	got, err := st.SentimentChanges(ctx, store.DigestQuery{Start: now.AddDate(0, 0, -7), End: now, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != "Name old" || got[0].Before == nil || *got[0].Before != 0.6 || got[0].RecentN != 1 {
		t.Errorf("sentiment changes %+v: want only the account with texts in both windows", got)
	}
}

// Every mention is stored; the account's timeline gets one entry per
// signal and competitor, not one per mention.
func TestInsertMentionsOneTimelineEntryPerSignalAndCompetitor(t *testing.T) {
	st := storetest.New(t)
	ctx := context.Background()
	seedAccounts(t, st, "a1")
	res, err := ingest(ctx, st, []store.SignalInput{signal("a1", "k1")}, time.Now().AddDate(0, 0, -1), noAlert)
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.AccountByExternalID(ctx, "a1")
	if err != nil {
		t.Fatal(err)
	}
	// As the text hook does, in a transaction after the signal is stored.
	err = st.InTx(ctx, func(tx store.Tx) error {
		id, acct, now := res.SignalIDs[0], a.ID, time.Now()
		var rows []store.MentionRow
		for i, c := range []string{"Gainsight", "Totango", "Gainsight", "Gainsight"} {
			rows = append(rows, store.MentionRow{SignalID: id, AccountID: acct, Competitor: c, Alias: c, Mention: c, Snippet: "s" + fmt.Sprint(i),
				Start: 10 * i, End: 10*i + 5, Kind: "ticket", Source: "zendesk", OccurredAt: now})
		}
		return store.InsertMentionsTx(ctx, tx, rows)
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, st, "competitor_mentions"); n != 4 {
		t.Errorf("%d mentions stored, want 4", n)
	}
	var summaries []string
	rows, err := st.Pool().Query(ctx, `SELECT summary FROM timeline WHERE kind = 'competitor.mention' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	if summaries, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		t.Fatal(err)
	}
	if len(summaries) != 2 || !strings.HasSuffix(summaries[0], "“s0”") || !strings.HasPrefix(summaries[1], "Totango mentioned in ticket from zendesk") {
		t.Errorf("timeline %q: want one entry per competitor, quoting its first mention", summaries)
	}
}
