package ingest_test

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/scoring/text"
	"github.com/holdfast/holdfast/store"
	"github.com/holdfast/holdfast/store/storetest"
)

// countingAnalyzer reads every text as neutral and counts the reads.
type countingAnalyzer struct{ n atomic.Int32 }

func (c *countingAnalyzer) Analyze(string) text.Result {
	c.n.Add(1)
	return text.Result{Label: text.Neutral}
}

// A caller that already read a text (an NPS comment) hands its reading in;
// the pipeline stores that reading and does not read the text again.
func TestPipelineUsesTheCallersAnalysis(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	settings := ingest.Settings{Alerts: ingest.DefaultAlertSettings(), Scoring: scoring.DefaultConfig()}
	analyzer := &countingAnalyzer{}
	p := ingest.New(st, analyzer, settings, time.Now, slog.New(slog.DiscardHandler), nil)
	ctx := context.Background()
	if _, err := p.UpsertAccounts(ctx, []ingest.AccountIn{{ExternalID: "acme", Name: "Acme"}}); err != nil {
		t.Fatal(err)
	}
	read := text.Result{Sentiment: -0.8, Label: text.Negative, ChurnIntent: true}
	now := time.Now()
	if _, err := p.IngestSignals(ctx, []ingest.SignalIn{
		{Account: "acme", Kind: "email", Source: "a", IdempotencyKey: "1", OccurredAt: now, Text: "fine", Analysis: &read},
		{Account: "acme", Kind: "email", Source: "a", IdempotencyKey: "2", OccurredAt: now, Text: "also fine"},
	}); err != nil {
		t.Fatal(err)
	}
	if n := analyzer.n.Load(); n != 1 {
		t.Errorf("analyser read %d texts, want 1 (the one without a reading)", n)
	}
	var sentiment float64
	var intent bool
	if err := st.Pool().QueryRow(ctx, `SELECT sentiment, churn_intent FROM signals WHERE idempotency_key = '1'`).Scan(&sentiment, &intent); err != nil {
		t.Fatal(err)
	}
	if sentiment != -0.8 || !intent {
		t.Errorf("stored sentiment %v intent %v, want the caller's -0.8 and true", sentiment, intent)
	}
}

// A process killed after taking an alert's cooldown but before its commit
// leaves nothing behind: the client's retry stores the signals and raises
// the alert. The pipeline has no Redis at all, so ingest alerts with Redis
// down too.
func TestCrashBeforeCommitLeavesNoCooldown(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	settings := ingest.Settings{Alerts: ingest.DefaultAlertSettings(), Scoring: scoring.DefaultConfig()}
	settings.Alerts.DefaultChannel = "C0ALERTS"
	p := ingest.New(st, &countingAnalyzer{}, settings, time.Now, slog.New(slog.DiscardHandler), nil)
	ctx := context.Background()
	if _, err := p.UpsertAccounts(ctx, []ingest.AccountIn{{ExternalID: "acme", Name: "Acme"}}); err != nil {
		t.Fatal(err)
	}
	batch := []ingest.SignalIn{{Account: "acme", Kind: "cancellation_intent", Source: "crm", IdempotencyKey: "c1",
		OccurredAt: time.Now(), Text: "We will cancel at renewal."}}

	// The first attempt decides its alert, then dies before committing.
	b, err := p.Prepare(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	crash := errors.New("killed before commit")
	if err := st.InTx(ctx, func(tx store.Tx) error {
		if err := p.Apply(ctx, tx, b); err != nil {
			return err
		}
		if len(b.Alerts) == 0 {
			t.Fatal("the batch raised no alert to lose")
		}
		return crash
	}); !errors.Is(err, crash) {
		t.Fatalf("apply: %v", err)
	}

	res, err := p.IngestSignals(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stored != 1 || len(res.Alerts) != 1 {
		t.Fatalf("retry stored %d signals and raised alerts %v, want 1 signal and 1 alert", res.Stored, res.Alerts)
	}
	// And the committed cooldown holds: more trouble raises nothing.
	res, err = p.IngestSignals(ctx, []ingest.SignalIn{{Account: "acme", Kind: "ticket", Source: "zd", IdempotencyKey: "t1",
		Severity: "urgent", OccurredAt: time.Now(), Text: "Still broken"}})
	if err != nil {
		t.Fatal(err)
	}
	var queued int
	if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM outbox WHERE alert_id IS NOT NULL`).Scan(&queued); err != nil {
		t.Fatal(err)
	}
	if queued != 1 {
		t.Errorf("%d alert posts queued, want 1", queued)
	}
}
