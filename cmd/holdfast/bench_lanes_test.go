package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/store"
)

// BenchmarkLaneIsolation measures what a backlog in one channel costs the
// alerts of other channels: signal-to-alert latency at the fake Slack for
// alerts in their own channels, first with an empty outbox, then with 500
// messages queued for one busy channel (paced by Slack at about one a
// second, so it stays backlogged throughout). Reports both p99s and the
// difference. HOLDFAST_BENCH_LANE_ALERTS (200) alerts per phase.
func BenchmarkLaneIsolation(b *testing.B) {
	d := newDeployment(b)
	r := d.start() // real per-channel pacing
	n := envInt("HOLDFAST_BENCH_LANE_ALERTS", 200)
	const backlog = 500
	benchAccounts(b, r, 2*n, func(i int) string { return fmt.Sprintf("C0L%05d", i) })

	phase := func(offset int) []time.Duration {
		latencies := make([]time.Duration, n)
		sem := make(chan struct{}, 4)
		var wg sync.WaitGroup
		for i := range n {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				k := offset + i
				latencies[i] = alertLatency(b, d, r, fmt.Sprintf("bench-%05d", k), fmt.Sprintf("C0L%05d", k), "lane-"+strconv.Itoa(k), 60*time.Second)
			})
		}
		wg.Wait()
		return latencies
	}

	b.ResetTimer()
	quiet := phase(0)
	ctx := context.Background()
	if err := d.store.InTx(ctx, func(tx store.Tx) error {
		for i := range backlog {
			if err := tx.Enqueue(ctx, store.OutboxItem{Op: store.OpPost, ChannelID: "C0BUSY",
				Message: blocks.Message{Text: "backlog " + strconv.Itoa(i)}}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	busy := phase(n)
	b.StopTimer()
	if got := len(d.fake.Messages("C0BUSY")); got >= backlog {
		b.Errorf("the busy channel drained (%d posts): the second phase measured no backlog", got)
	}
	reportLatencies(b, "quiet", slices.Clone(quiet))
	reportLatencies(b, "backlog", slices.Clone(busy))
	p99 := func(l []time.Duration) time.Duration {
		slices.Sort(l)
		return l[min(len(l)-1, int(0.99*float64(len(l))))]
	}
	added := p99(busy) - p99(quiet)
	b.ReportMetric(float64(added.Microseconds())/1000, "added_p99_ms")
	slowest := func(l []time.Duration) []time.Duration { return l[max(0, len(l)-5):] }
	b.Logf("slowest quiet %v, slowest with the backlog %v", slowest(quiet), slowest(busy))
	b.Logf("500 messages queued for one channel add %s to other channels' alert p99 (%s -> %s)", added, p99(quiet), p99(busy))
}
