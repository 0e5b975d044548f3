package textsignals

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/store"
	"github.com/holdfast/holdfast/store/storetest"
)

func TestClaimOnceAndUpdatesChannelCopies(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	accounts, _ := storetest.Seed(t, st, []store.AccountInput{{ExternalID: "a1", Name: "Name a1", ARR: 1000}}, nil)
	account := accounts[0]
	m := New(st, nil, nil, Options{}, time.Now, slog.New(slog.DiscardHandler))
	var id int64
	err := st.InTx(ctx, func(tx store.Tx) error {
		var err error
		id, err = record(ctx, tx, alertRow{AccountID: account, Kind: store.TextAlertCompetitor, Competitor: "Gainsight",
			At: time.Now(), Recipients: []string{"U0OWNER", "C0LEAD"}},
			AlertView{Kind: store.TextAlertCompetitor, AccountID: account, AccountName: "Name a1", Competitor: "Gainsight", Now: time.Now()},
			time.Time{}, "Gainsight mentioned")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := storetest.Count(t, st, "outbox"); n != 2 {
		t.Fatalf("%d posts queued, want one per recipient", n)
	}
	var wg sync.WaitGroup
	type result struct {
		a       recordedAlert
		claimed bool
	}
	results := make(chan result, 2)
	for _, u := range []string{"U1", "U2"} {
		wg.Go(func() {
			a, claimed, err := m.claim(ctx, id, u, time.Now())
			if err != nil {
				t.Error(err)
			}
			results <- result{a, claimed}
		})
	}
	wg.Wait()
	close(results)
	wins := 0
	var winner string
	for r := range results {
		if r.claimed {
			wins++
			winner = r.a.ClaimedBy
		}
	}
	if wins != 1 || winner == "" {
		t.Fatalf("%d claims took, want exactly 1", wins)
	}
	var updates int
	if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM outbox WHERE op = 'update' AND channel_id = 'C0LEAD'
		AND target_ref = $1`, alertRef(id, "C0LEAD")).Scan(&updates); err != nil || updates != 1 {
		t.Errorf("channel copy updates: %d %v", updates, err)
	}
	if n := storetest.Count(t, st, "outbox"); n != 4 {
		t.Errorf("%d outbox rows, want 2 posts + 2 updates (the channel and the DM copy)", n)
	}
	if _, _, err := m.claim(ctx, 999, "U1", time.Now()); err != store.ErrNotFound {
		t.Errorf("unknown alert: %v", err)
	}
}

// Every mention is stored; the account's timeline gets one entry per
// signal and competitor, not one per mention.
func TestInsertMentionsOneTimelineEntryPerSignalAndCompetitor(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	accounts, signals := storetest.Seed(t, st, []store.AccountInput{{ExternalID: "a1", Name: "Name a1", ARR: 1000}},
		[]store.SignalInput{{AccountExternalID: "a1", Kind: scoring.KindTicket, Source: "zendesk", IdempotencyKey: "k1",
			OccurredAt: time.Now().Add(-time.Hour), Text: "help"}})
	acct := accounts[0]
	// As the ingest hook does, in a transaction after the signal is stored.
	err := st.InTx(ctx, func(tx store.Tx) error {
		id, now := signals[0], time.Now()
		var rows []mention
		for i, c := range []string{"Gainsight", "Totango", "Gainsight", "Gainsight"} {
			rows = append(rows, mention{SignalID: id, AccountID: acct, Competitor: c, Alias: c, Mention: c, Snippet: "s" + fmt.Sprint(i),
				Start: 10 * i, End: 10*i + 5, Kind: "ticket", Source: "zendesk", OccurredAt: now})
		}
		return insertMentions(ctx, tx, rows)
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := storetest.Count(t, st, "competitor_mentions"); n != 4 {
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
