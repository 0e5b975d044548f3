package healthmodel_test

// System benchmarks against real Postgres and Redis (`make bench
// BENCH=Rescore|ImportHistory`): each runs its fixed workload once and
// reports figures as custom metrics, never pass/fail thresholds.

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/holdfast/holdfast/internal/healthmodel"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/store/storetest"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// benchHistory is n accounts with perAccount daily usage signals each,
// the last one at last.
func benchHistory(n, perAccount int, last time.Time) ([]healthmodel.HistoryAccount, []healthmodel.HistorySignal) {
	accounts := make([]healthmodel.HistoryAccount, n)
	signals := make([]healthmodel.HistorySignal, 0, n*perAccount)
	for i := range accounts {
		ext := fmt.Sprintf("bench-%06d", i)
		accounts[i] = healthmodel.HistoryAccount{AccountIn: ingest.AccountIn{ExternalID: ext, Name: ext,
			Traits: map[string]any{"plan": []string{"starter", "pro", "enterprise"}[i%3], "seats": float64(1 + i%200)}}, Line: i + 2}
		for k := range perAccount {
			v := float64(100 - k%30)
			signals = append(signals, healthmodel.HistorySignal{SignalIn: ingest.SignalIn{Account: ext, Kind: "usage", Source: "bench",
				IdempotencyKey: ext + "-" + strconv.Itoa(k), OccurredAt: last.Add(-time.Duration(perAccount-1-k) * 24 * time.Hour), Value: &v},
				Line: len(signals) + 2})
		}
	}
	return accounts, signals
}

// BenchmarkImportHistory: holdfast import history's path with
// HOLDFAST_BENCH_HISTORY_SIGNALS signals (default 1,000,000) over 10,000
// accounts: validated and stored by COPY in one transaction.
func BenchmarkImportHistory(b *testing.B) {
	n := envInt("HOLDFAST_BENCH_HISTORY_SIGNALS", 1_000_000)
	st := storetest.New(b)
	ctx := context.Background()
	now := time.Now().UTC()
	accounts, signals := benchHistory(10_000, n/10_000, now.AddDate(0, 0, -1))
	b.ResetTimer()
	start := time.Now()
	res, err := healthmodel.ImportHistory(ctx, st, neutral{}, accounts, signals, now)
	took := time.Since(start)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(took.Seconds(), "s")
	b.ReportMetric(float64(res.Signals)/took.Seconds(), "signals/s")
}

// BenchmarkRescore: time-driven rescoring of HOLDFAST_BENCH_ACCOUNTS active
// accounts (default 100,000), each with 14 days of usage, 30 days after
// they went silent, so every score moves (every account written and
// snapshotted). HOLDFAST_BENCH_RESCORE_ALERTS=1 weighs silence so that
// every account also crosses into at risk and alerts (the worst case,
// dominated by the per-alert writes).
func BenchmarkRescore(b *testing.B) {
	n := envInt("HOLDFAST_BENCH_ACCOUNTS", 100_000)
	st := storetest.New(b)
	ctx := context.Background()
	now := time.Now().UTC()
	accounts, signals := benchHistory(n, 14, now.AddDate(0, 0, -1))
	if _, err := healthmodel.ImportHistory(ctx, st, neutral{}, accounts, signals, now); err != nil {
		b.Fatal(err)
	}
	alerts := ingest.DefaultAlertSettings()
	alerts.DefaultChannel = "C0ALERTS"
	cfg := scoring.DefaultConfig()
	if os.Getenv("HOLDFAST_BENCH_RESCORE_ALERTS") == "1" {
		cfg = silenceHeavy()
	}
	p := ingest.New(st, neutral{}, ingest.Settings{Alerts: alerts, Scoring: cfg},
		time.Now, slog.New(slog.DiscardHandler), nil)
	p.SetScorer(healthmodel.NewScorer(cfg))
	if _, err := p.RescoreAll(ctx, now); err != nil { // first scores
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	res, err := p.RescoreAll(ctx, now.AddDate(0, 0, 30))
	took := time.Since(start)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(took.Seconds(), "s")
	b.ReportMetric(float64(res.Accounts), "accounts")
	b.ReportMetric(float64(res.Moved), "moved")
	b.ReportMetric(float64(len(res.Alerts)), "alerts")
}
