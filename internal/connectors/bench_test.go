package connectors_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/holdfast/holdfast/internal/connectors"
)

// BenchmarkSegmentUsage measures Segment's firehose end to end: signed
// track calls over HTTP with keep-alive, verified, de-duplicated by
// messageId, mapped by groupId and summed into daily usage, each request
// answered only after its group commit. "single" is the Webhooks
// destination's one message per request from 128 concurrent deliveries;
// "batched" is Webhooks (Actions) with batching on, 100 messages per
// request from 8. HOLDFAST_BENCH_SEGMENT_EVENTS (default 60,000).
func BenchmarkSegmentUsage(b *testing.B) {
	b.Run("single", func(b *testing.B) { benchSegment(b, 1, 128) })
	b.Run("batched", func(b *testing.B) { benchSegment(b, 100, 8) })
}

func benchSegment(b *testing.B, perRequest, senders int) {
	total := 60000
	if v, err := strconv.Atoi(os.Getenv("HOLDFAST_BENCH_SEGMENT_EVENTS")); err == nil && v > 0 {
		total = v
	}
	const accounts = 200
	e := newEnv(b, nil)
	for i := range accounts {
		ext := fmt.Sprintf("acct-%03d", i)
		e.account(ext, "")
		e.mapKey(connectors.Segment, connectors.KeyGroupID, "grp-"+ext, ext)
	}
	base := fixture(b, "segment_track.json")
	total -= total % perRequest
	requests := total / perRequest
	bodies := make([][]byte, requests)
	sigs := make([]string, requests)
	for r := range requests {
		var msgs [][]byte
		for j := range perRequest {
			i := r*perRequest + j
			body := bytes.ReplaceAll(base, []byte("ajs-next-f8c3b1a2c8e4d7b1a9e2"), []byte("bench-"+strconv.Itoa(i)))
			msgs = append(msgs, bytes.ReplaceAll(body, []byte("grp_umbrella"), []byte(fmt.Sprintf("grp-acct-%03d", i%accounts))))
		}
		body := msgs[0]
		if perRequest > 1 {
			body = append(append([]byte("["), bytes.Join(msgs, []byte(","))...), ']')
		}
		bodies[r], sigs[r] = body, connectors.SignSegment(segmentSecret, body)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: senders, MaxConnsPerHost: senders}, Timeout: time.Minute}
	url := e.srv.URL + "/webhooks/segment"
	var next atomic.Int64
	var failed atomic.Int64
	b.ResetTimer()
	cpu0 := processCPU()
	start := time.Now()
	var wg sync.WaitGroup
	for range senders {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= requests {
					return
				}
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(bodies[i]))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Signature", sigs[i])
				resp, err := client.Do(req)
				if err != nil || resp.StatusCode != http.StatusOK {
					failed.Add(1)
				}
				if resp != nil {
					// Read to the end so the connection is kept alive.
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := processCPU() - cpu0
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d requests failed", n)
	}
	var events int64
	if err := e.st.Pool().QueryRow(context.Background(), `SELECT sum(events) FROM connector_usage`).Scan(&events); err != nil {
		b.Fatal(err)
	}
	if events != int64(total) {
		b.Fatalf("%d events summed, want %d", events, total)
	}
	rate := float64(total) / elapsed.Seconds()
	b.ReportMetric(rate, "events/s")
	// The process's CPU (HTTP client and server, verification, grouping;
	// Postgres not included) tells the cost apart from the wait on a
	// machine other work shares.
	perEvent := cpu / time.Duration(total)
	b.ReportMetric(float64(perEvent.Microseconds()), "cpu-µs/event")
	b.Logf("segment track calls, %d a request from %d senders: %d in %s = %.0f events/s; process CPU %s (%s an event)",
		perRequest, senders, total, elapsed.Round(time.Millisecond), rate, cpu.Round(time.Millisecond), perEvent)
}

// processCPU is the user and system CPU this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
