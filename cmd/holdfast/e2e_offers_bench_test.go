package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/bot/slacktest"
	"github.com/holdfast/holdfast/internal/ingest"
)

// BenchmarkOfferApprovals measures retention offers end to end, against the
// fake Slack over the real Socket Mode link with real Postgres and Redis:
// form submission -> the approver's DM delivered, and Approve click -> the
// request's root card edited to "Approved". A fixed workload
// (HOLDFAST_BENCH_OFFERS, default 100 offers) runs once; figures are
// reported as p50/p99 milliseconds, never asserted.
func BenchmarkOfferApprovals(b *testing.B) {
	n := 100
	if v, err := strconv.Atoi(os.Getenv("HOLDFAST_BENCH_OFFERS")); err == nil && v > 0 {
		n = v
	}
	for b.Loop() {
		d := newOffersDeployment(b)
		r := d.start(unpaced())
		accts := make([]ingest.AccountIn, n)
		for i := range accts {
			accts[i] = ingest.AccountIn{ExternalID: fmt.Sprintf("bench-%d", i), Name: fmt.Sprintf("Bench %d", i), Tier: "growth",
				ARR: 50_000, OwnerCSM: offerCSM}
		}
		for i := 0; i < n; i += 500 {
			r.accounts(accts[i:min(i+500, n)]...)
		}
		var submit, click []time.Duration
		for i := range n {
			if _, err := d.fake.SendSlashCommand(ctxTimeout(b, 10*time.Second), slacktest.SlashCommand{Command: "/offer",
				Text: accts[i].ExternalID, UserID: offerCSM}); err != nil {
				b.Fatal(err)
			}
			form := d.openedView(i + 1)
			before := len(d.posts("U0MGR"))
			posts := len(d.fake.Calls("chat.postMessage"))
			start := time.Now()
			if ack := d.submit(offerCSM, blocks.CallbackOfferForm, form.PrivateMetadata, offerDiscount("5", "3", "")); ack != nil {
				b.Fatalf("ack %v", ack)
			}
			waitCall(b, d, "chat.postMessage", posts, func(c slacktest.Call) bool { return c.Params["channel"] == "U0MGR" })
			submit = append(submit, time.Since(start))
			d.settle() // the root card and the rest, untimed
			action, value := offerMustButton(b, d.posts("U0MGR")[before:], blocks.ActionOfferApprovePrefix)
			var root string
			for _, m := range d.posts(offerChannel) {
				if m.ThreadTS == "" {
					root = m.TS
				}
			}
			updates := len(d.fake.Calls("chat.update"))
			start = time.Now()
			d.click("U0MGR", action, value)
			waitCall(b, d, "chat.update", updates, func(c slacktest.Call) bool {
				return c.Params["channel"] == offerChannel && c.Params["ts"] == root && strings.Contains(c.Params["text"], "Approved")
			})
			click = append(click, time.Since(start))
		}
		offerLatency(b, "submit_to_dm", submit)
		offerLatency(b, "click_to_card", click)
	}
}

// waitCall blocks until a call of method after the first `seen` matches,
// woken by the fake on every call rather than by polling.
func waitCall(b *testing.B, d *offersHarness, method string, seen int, match func(slacktest.Call) bool) {
	for {
		calls, err := d.fake.WaitCalls(ctxTimeout(b, 10*time.Second), method, seen+1)
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range calls[seen:] {
			if match(c) {
				return
			}
		}
		seen = len(calls)
	}
}

func offerLatency(b *testing.B, name string, lat []time.Duration) {
	slices.Sort(lat)
	at := func(p float64) float64 { return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / 1e6 }
	b.ReportMetric(at(0.5), name+"_p50_ms")
	b.ReportMetric(at(0.99), name+"_p99_ms")
}
