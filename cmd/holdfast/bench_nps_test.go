package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/internal/nps"
)

// BenchmarkNPSIngest measures NPS answers per second through POST /v1/nps
// (validated, analysed, stored as signals, scored, answers and detractor
// loops written with their outbox cards), in batches of 500 over 1,000
// accounts, one in five a detractor; side by side with the same answers
// sent as plain nps signals through POST /v1/signals.
func BenchmarkNPSIngest(b *testing.B) {
	for _, path := range []string{"nps", "signals"} {
		b.Run(path, func(b *testing.B) {
			d := newDeployment(b, appendYAML(npsYAML("")))
			clock := &testClock{t: time.Date(2027, time.March, 1, 9, 0, 0, 0, time.UTC)}
			r := d.start(unpaced(), withTestClock(clock))
			var accts []ingest.AccountIn
			for i := range 1000 {
				accts = append(accts, ingest.AccountIn{ExternalID: fmt.Sprintf("a%04d", i), Name: fmt.Sprintf("Account %d", i), OwnerCSM: npsCSM})
			}
			r.accounts(accts...)
			const batch, batches = 500, 20
			b.ResetTimer()
			start := time.Now()
			total := 0
			for range b.N {
				for j := range batches {
					answers := make([]nps.AnswerIn, batch)
					signals := make([]ingest.SignalIn, batch)
					for k := range answers {
						n := total + j*batch + k
						s := float64(7 + n%4) // 7..10
						if n%5 == 0 {
							s = float64(n % 7) // detractor
						}
						answers[k] = nps.AnswerIn{Account: fmt.Sprintf("a%04d", n%1000), Respondent: fmt.Sprintf("p%d@x.test", n),
							Score: &s, Comment: "The export is slow but support was helpful", AnsweredAt: clock.Now().Add(-time.Duration(n) * time.Second)}
						signals[k] = ingest.SignalIn{Account: answers[k].Account, Kind: "nps", Source: "survey", Value: &s,
							Text: answers[k].Comment, OccurredAt: answers[k].AnsweredAt, IdempotencyKey: answers[k].Respondent,
							Metadata: []byte(`{}`)}
					}
					if path == "nps" {
						r.npsAnswers(answers...)
					} else {
						r.signals(signals...)
					}
				}
				total += batch * batches
			}
			b.ReportMetric(float64(total)/time.Since(start).Seconds(), "answers/s")
		})
	}
}

// BenchmarkNPSCadence measures the daily survey selection over 100,000
// active accounts (activation dates spread over three years, renewals
// over a year), with every selected survey and the due list written.
func BenchmarkNPSCadence(b *testing.B) {
	d := newDeployment(b, appendYAML(npsYAML("")))
	today := time.Date(2027, time.June, 14, 8, 0, 0, 0, time.UTC)
	clock := &testClock{t: today}
	r := d.start(unpaced(), withTestClock(clock))
	const n = 100_000
	rows := make([][]any, n)
	for i := range n {
		act := today.AddDate(0, 0, -(i % 1095))
		renew := today.AddDate(0, 0, i%365)
		rows[i] = []any{fmt.Sprintf("c%06d", i), fmt.Sprintf("Customer %d", i), npsCSM, act, renew}
	}
	if _, err := d.store.Pool().CopyFrom(context.Background(), pgx.Identifier{"accounts"},
		[]string{"external_id", "name", "owner_csm", "activation_date", "renewal_date"}, pgx.CopyFromRows(rows)); err != nil {
		b.Fatal(err)
	}
	if _, err := d.store.Pool().Exec(context.Background(), "ANALYZE accounts"); err != nil {
		b.Fatal(err)
	}
	// The first run on a fresh install selects every account past 90 days
	// of tenure (nobody was surveyed yet); later days select the few whose
	// windows open that day.
	start := time.Now()
	if err := r.app.scheduler.RunNow(context.Background(), nps.JobCadence, today); err != nil {
		b.Fatal(err)
	}
	cold := time.Since(start)
	coldSurveys := d.count(`SELECT count(*) FROM nps_surveys`)
	b.ResetTimer()
	var took time.Duration
	for i := range b.N {
		at := today.AddDate(0, 0, i+1)
		start := time.Now()
		if err := r.app.scheduler.RunNow(context.Background(), nps.JobCadence, at); err != nil {
			b.Fatal(err)
		}
		took += time.Since(start)
	}
	b.StopTimer()
	b.ReportMetric(cold.Seconds(), "cold_s")
	b.ReportMetric(float64(coldSurveys), "cold_surveys")
	b.ReportMetric(took.Seconds()/float64(b.N), "daily_s")
	b.ReportMetric(float64(d.count(`SELECT count(*) FROM nps_surveys`)-coldSurveys)/float64(b.N), "daily_surveys")
}
