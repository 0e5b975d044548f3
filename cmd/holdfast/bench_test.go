package main

// Benchmarks of the whole system against real Postgres, Redis and the fake
// Slack: `make bench` (or BENCH=Ingest etc.). Each runs a fixed workload
// once and reports its figures as custom metrics; they are measurements,
// never pass/fail thresholds.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/holdfast/holdfast/bot/slacktest"
	"github.com/holdfast/holdfast/internal/ingest"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// benchTexts mix the kinds of text tickets and emails carry.
var benchTexts = []string{
	"Export has been broken for a week. Still waiting on a fix, third time asking.",
	"Thanks for the quick fix, everything is working again!",
	"Can you send over the invoice for Q3?",
	"We are evaluating other options ahead of our renewal in March.",
	"The Salesforce integration keeps failing overnight and our admins are frustrated.",
}

func benchSignals(accounts, n, offset int, now time.Time) []ingest.SignalIn {
	out := make([]ingest.SignalIn, n)
	for i := range out {
		k := offset + i
		acct := fmt.Sprintf("bench-%05d", k%accounts)
		at := now.Add(-time.Duration(k%(27*24)) * time.Hour)
		switch k % 4 {
		case 0, 1, 2:
			v := float64(50 + k%50)
			out[i] = ingest.SignalIn{Account: acct, Kind: "usage", Source: "product", Value: &v, OccurredAt: at,
				IdempotencyKey: fmt.Sprintf("u-%d", k)}
		default:
			out[i] = ingest.SignalIn{Account: acct, Kind: "ticket", Source: "zendesk", Severity: "normal", OccurredAt: at,
				IdempotencyKey: fmt.Sprintf("t-%d", k), Text: benchTexts[k%len(benchTexts)]}
		}
	}
	return out
}

func benchAccounts(b *testing.B, r *replica, n int, channelFor func(int) string) {
	for start := 0; start < n; start += 1000 {
		var batch []ingest.AccountIn
		for i := start; i < min(n, start+1000); i++ {
			a := ingest.AccountIn{ExternalID: fmt.Sprintf("bench-%05d", i), Name: fmt.Sprintf("Bench Account %05d", i),
				ARR: float64(1000 + i), OwnerCSM: "U0CSM"}
			if channelFor != nil {
				a.Channel = channelFor(i)
			}
			batch = append(batch, a)
		}
		var res map[string]any
		if code := r.post("/v1/accounts", map[string]any{"accounts": batch}, &res); code != http.StatusOK {
			b.Fatalf("accounts: %d %v", code, res)
		}
	}
}

// BenchmarkIngest sends signals through the HTTP API (validated, analysed,
// stored, every touched account rescored, all committed before the 200) and
// copies the same rows into an identical table with pgx CopyFrom, the
// fastest way Postgres takes rows; the ratio is what the pipeline costs.
func BenchmarkIngest(b *testing.B) {
	d := newDeployment(b)
	r := d.start(unpaced())
	const accounts = 2000
	total := envInt("HOLDFAST_BENCH_SIGNALS", 40000)
	const batch, clients = 1000, 4
	benchAccounts(b, r, accounts, nil)
	now := time.Now()
	batches := make(chan []ingest.SignalIn, total/batch)
	for off := 0; off < total; off += batch {
		batches <- benchSignals(accounts, batch, off, now)
	}
	close(batches)

	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for sigs := range batches {
				raw, _ := json.Marshal(map[string]any{"signals": sigs})
				req, _ := http.NewRequest(http.MethodPost, r.base+"/v1/signals", bytes.NewReader(raw))
				req.Header.Set("Authorization", "Bearer "+testToken)
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("signals: status %d", resp.StatusCode)
				}
			}
		})
	}
	wg.Wait()
	apiTook := time.Since(start)
	b.StopTimer()
	if n := d.count(`SELECT count(*) FROM signals`); n != total {
		b.Fatalf("%d signals stored, want %d", n, total)
	}

	// The same rows, raw, into a copy of the table.
	ctx := context.Background()
	pool := d.store.Pool()
	if _, err := pool.Exec(ctx, `CREATE TABLE signals_copy (LIKE signals INCLUDING ALL)`); err != nil {
		b.Fatal(err)
	}
	ids := map[string]int64{}
	rows, _ := pool.Query(ctx, `SELECT external_id, id FROM accounts`)
	var ext string
	var id int64
	_, _ = pgx.ForEachRow(rows, []any{&ext, &id}, func() error { ids[ext] = id; return nil })
	var src [][]any
	for off := 0; off < total; off += batch {
		for _, s := range benchSignals(accounts, batch, off, now) {
			src = append(src, []any{ids[s.Account], s.Kind, s.Source, s.IdempotencyKey, s.OccurredAt, s.Text, s.Value, s.Severity, []byte("{}")})
		}
	}
	start = time.Now()
	n, err := pool.CopyFrom(ctx, pgx.Identifier{"signals_copy"},
		[]string{"account_id", "kind", "source", "idempotency_key", "occurred_at", "text", "value", "severity", "metadata"},
		pgx.CopyFromRows(src))
	copyTook := time.Since(start)
	if err != nil || int(n) != total {
		b.Fatalf("copy: %d %v", n, err)
	}
	apiRate := float64(total) / apiTook.Seconds()
	copyRate := float64(total) / copyTook.Seconds()
	b.ReportMetric(apiRate, "api_signals/s")
	b.ReportMetric(copyRate, "copyfrom_rows/s")
	b.ReportMetric(copyRate/apiRate, "copy/api_ratio")
	b.Logf("%d signals over %d accounts: API %.0f/s (%s), CopyFrom %.0f/s (%s), API is %.1fx slower",
		total, accounts, apiRate, apiTook.Round(time.Millisecond), copyRate, copyTook.Round(time.Millisecond), copyRate/apiRate)
}

// BenchmarkSignalToAlert measures from the HTTP call that carries a
// critical signal to the moment the fake Slack receives the alert's
// chat.postMessage: validation, scoring, commit, outbox wake-up, pacing
// and the Web API call. Each account has its own channel so Slack's
// per-channel pace does not dominate.
func BenchmarkSignalToAlert(b *testing.B) {
	d := newDeployment(b)
	r := d.start() // real per-channel pacing
	n := envInt("HOLDFAST_BENCH_ALERTS", 300)
	const inFlight = 8
	benchAccounts(b, r, n, func(i int) string { return fmt.Sprintf("C0B%05d", i) })
	latencies := make([]time.Duration, n)
	sem := make(chan struct{}, inFlight)
	var wg sync.WaitGroup
	b.ResetTimer()
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			latencies[i] = alertLatency(b, d, r, fmt.Sprintf("bench-%05d", i), fmt.Sprintf("C0B%05d", i), "c-"+strconv.Itoa(i), 30*time.Second)
		})
	}
	wg.Wait()
	b.StopTimer()
	reportLatencies(b, "alert", latencies)
}

// BenchmarkHealthCommand answers /health over the real Socket Mode path
// with HOLDFAST_BENCH_ACCOUNTS accounts (default 100,000) in the table:
// exact ids, name prefixes and typos (the trigram fallback), measured as
// the time from sending the envelope to receiving its ack with the card.
func BenchmarkHealthCommand(b *testing.B) {
	d := newDeployment(b)
	d.start(unpaced())
	accounts := envInt("HOLDFAST_BENCH_ACCOUNTS", 100000)
	ctx := context.Background()
	pool := d.store.Pool()
	words := []string{"Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne", "Wonka", "Soylent"}
	var rows [][]any
	now := time.Now()
	for i := range accounts {
		name := fmt.Sprintf("%s %s %d", words[i%len(words)], words[(i/len(words))%len(words)], i)
		score := 30 + i%70
		band := "healthy"
		if score < 40 {
			band = "critical"
		} else if score < 70 {
			band = "at_risk"
		}
		rows = append(rows, []any{fmt.Sprintf("acct-%07d", i), name, float64(i % 500000), "U0CSM", score, band, now})
	}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"accounts"},
		[]string{"external_id", "name", "arr", "owner_csm", "health_score", "health_band", "health_at"}, pgx.CopyFromRows(rows)); err != nil {
		b.Fatal(err)
	}
	// Every account has a history: snapshots over 8 weeks and timeline entries.
	if _, err := pool.Exec(ctx, `INSERT INTO health_snapshots (account_id, score, band, components, computed_at)
		SELECT a.id, a.health_score, a.health_band, '[]', now() - (w * interval '7 days')
		FROM accounts a, generate_series(0, 7) w`); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO timeline (account_id, at, kind, summary)
		SELECT a.id, now() - (k * interval '1 day'), 'signal.ticket', 'ticket ' || k
		FROM accounts a, generate_series(1, 10) k`); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	queries := []string{}
	for i := 0; i < 100; i++ {
		k := (i * 7919) % accounts
		switch i % 4 {
		case 0:
			queries = append(queries, fmt.Sprintf("acct-%07d", k)) // exact id
		case 1:
			queries = append(queries, fmt.Sprintf("%s %s %d", words[k%len(words)], words[(k/len(words))%len(words)], k)) // exact name
		case 2:
			queries = append(queries, fmt.Sprintf("%s %s %d", words[k%len(words)], words[(k/len(words))%len(words)], k)[:12]) // ambiguous prefix
		default:
			queries = append(queries, strings.Replace(fmt.Sprintf("%s %s %d", words[k%len(words)], words[(k/len(words))%len(words)], k), "a", "e", 1)) // typo
		}
	}
	latencies := make([]time.Duration, 0, len(queries))
	b.ResetTimer()
	for _, q := range queries {
		ack, err := d.fake.SendSlashCommand(ctx, slacktest.SlashCommand{Command: "/health", Text: q})
		if err != nil {
			b.Fatal(err)
		}
		if len(ack.Payload) == 0 {
			b.Fatalf("/health %s: empty answer", q)
		}
		latencies = append(latencies, ack.Latency)
	}
	b.StopTimer()
	b.ReportMetric(float64(accounts), "accounts")
	reportLatencies(b, "health", latencies)
}

func reportLatencies(b *testing.B, name string, l []time.Duration) {
	slices.Sort(l)
	p := func(q float64) time.Duration { return l[min(len(l)-1, int(q*float64(len(l))))] }
	b.ReportMetric(float64(p(0.5).Microseconds())/1000, name+"_p50_ms")
	b.ReportMetric(float64(p(0.99).Microseconds())/1000, name+"_p99_ms")
	b.ReportMetric(float64(l[len(l)-1].Microseconds())/1000, name+"_max_ms")
	b.Logf("%s latency over %d: p50 %s, p99 %s, max %s", name, len(l), p(0.5), p(0.99), l[len(l)-1])
}

// alertLatency sends a stated intent to cancel for account and waits for
// its alert in channel: the time from the call to the fake's receipt.
func alertLatency(b *testing.B, d *deployment, r *replica, account, channel, key string, wait time.Duration) time.Duration {
	sent := time.Now()
	r.signals(ingest.SignalIn{Account: account, Kind: "cancellation_intent", Source: "crm", IdempotencyKey: key, OccurredAt: sent})
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for {
		if msgs := d.fake.Messages(channel); len(msgs) > 0 {
			return msgs[0].Raw.At.Sub(sent)
		}
		select {
		case <-ctx.Done():
			b.Errorf("no alert in %s", channel)
			return 0
		case <-time.After(time.Millisecond):
		}
	}
}
