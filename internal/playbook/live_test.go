package playbook

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/holdfast/holdfast/store"
	"github.com/holdfast/holdfast/store/storetest"
)

// testModule is a Module on st with nothing else wired: enough for the
// playbook's own SQL.
func testModule(t *testing.T, st *store.Store, opts Options) (*Module, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	return New(st, nil, nil, nil, opts, NewMetrics(reg), time.Now, slog.New(slog.DiscardHandler)), reg
}

func counterValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return 0
}

// A live alert goes to the channels subscribed live whose min_arr and tier
// the account passes, once per kind, account and channel per cooldown.
func TestPostLiveOncePerCooldown(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	for _, s := range []struct {
		channel, frequency string
		topics             []string
		minARR             float64
		tier               string
	}{
		{"C0LEAD", "live", []string{"risk"}, 250_000, "Enterprise"},
		{"C0WEEKLY", "weekly", []string{}, 0, ""}, // a digest, not live: gets none of these
	} {
		if _, err := st.Pool().Exec(ctx, `INSERT INTO digest_subscriptions (channel_id, frequency, topics, min_arr, tier, timezone, send_at, created_by)
			VALUES ($1, $2, $3, $4, $5, 'UTC', '09:00', 'U0VP')`, s.channel, s.frequency, s.topics, s.minARR, s.tier); err != nil {
			t.Fatal(err)
		}
	}
	m, reg := testModule(t, st, Options{Cooldown: 24 * time.Hour})
	t0 := time.Date(2027, 2, 8, 10, 0, 0, 0, time.UTC)
	big := store.Account{ID: 1, Name: "Acme", Tier: "enterprise", ARR: 300_000, OwnerCSM: "U0CSM"}
	small := store.Account{ID: 2, Name: "Small Co", Tier: "Enterprise", ARR: 249_999}
	smb := store.Account{ID: 3, Name: "Big SMB", Tier: "SMB", ARR: 5_000_000}

	type posted struct{ channel, text string }
	outbox := func() []posted {
		t.Helper()
		rows, err := st.Pool().Query(ctx, `SELECT channel_id, message->>'text' FROM outbox WHERE op = 'post' AND priority = $1 ORDER BY id`, store.PriorityAlert)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []posted
		for rows.Next() {
			var p posted
			if err := rows.Scan(&p.channel, &p.text); err != nil {
				t.Fatal(err)
			}
			out = append(out, p)
		}
		return out
	}
	for i, c := range []struct {
		what  string
		ev    liveEvent
		posts int    // outbox rows after the step
		text  string // the newest row's text
	}{
		{"critical, large enterprise account", liveEvent{Kind: liveCritical, Account: big, Score: 34, Driver: "usage -58%", At: t0}, 1, "Critical: Acme, score 34, $300k ARR"},
		{"again within the cooldown", liveEvent{Kind: liveCritical, Account: big, Score: 30, At: t0.Add(time.Hour)}, 1, ""},
		{"below min_arr", liveEvent{Kind: liveCritical, Account: small, Score: 20, At: t0}, 1, ""},
		{"tier mismatch", liveEvent{Kind: liveCritical, Account: smb, Score: 20, At: t0}, 1, ""},
		{"never the account's own channel", liveEvent{Kind: liveCritical, Account: store.Account{ID: 5, Tier: "Enterprise", ARR: 1e6, ChannelID: "C0LEAD"}, At: t0}, 1, ""},
		{"a recovery is its own kind", liveEvent{Kind: liveRecovered, Account: big, Score: 75, Before: ptr(34), At: t0.Add(2 * time.Hour)}, 2,
			"Recovered: Acme, score 34 → 75 (▲41), $300k ARR"},
		{"critical after the cooldown", liveEvent{Kind: liveCritical, Account: big, Score: 28, At: t0.Add(24 * time.Hour)}, 3, "Critical: Acme, score 28, $300k ARR"},
	} {
		if err := st.InTx(ctx, func(tx store.Tx) error { return m.postLive(ctx, tx, c.ev) }); err != nil {
			t.Fatalf("%d %s: %v", i, c.what, err)
		}
		got := outbox()
		if len(got) != c.posts {
			t.Fatalf("%d %s: %d live posts queued, want %d: %+v", i, c.what, len(got), c.posts, got)
		}
		if last := got[len(got)-1]; last.channel != "C0LEAD" || (c.text != "" && last.text != c.text) {
			t.Errorf("%d %s: newest post %+v, want %q in C0LEAD", i, c.what, last, c.text)
		}
	}
	if n := storetest.Count(t, st, "outbox"); n != 3 {
		t.Errorf("%d outbox rows, want 3 (nothing to the weekly digest channel)", n)
	}
	if v := counterValue(t, reg, "holdfast_live_risk_alerts_total"); v != 3 {
		t.Errorf("live alert metric %v, want 3", v)
	}
	// A rolled-back transaction leaves no cooldown behind: the retry posts.
	boom := store.Account{ID: 4, Name: "Rollback Inc", Tier: "Enterprise", ARR: 1e6}
	_ = st.InTx(ctx, func(tx store.Tx) error {
		if err := m.postLive(ctx, tx, liveEvent{Kind: liveCritical, Account: boom, Score: 10, At: t0}); err != nil {
			return err
		}
		return context.Canceled
	})
	if err := st.InTx(ctx, func(tx store.Tx) error {
		return m.postLive(ctx, tx, liveEvent{Kind: liveCritical, Account: boom, Score: 10, At: t0})
	}); err != nil {
		t.Fatal(err)
	}
	if got := outbox(); len(got) != 4 || !strings.HasPrefix(got[3].text, "Critical: Rollback Inc") {
		t.Errorf("after a rollback and retry: %+v", got)
	}
	if err := st.InTx(ctx, func(tx store.Tx) error { return m.postLive(ctx, tx, liveEvent{Kind: "hmm", Account: big}) }); err == nil {
		t.Error("an unknown kind was accepted")
	}
}
