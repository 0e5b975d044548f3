package ingest_test

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/internal/testenv"
	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/scoring/text"
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
	rdb, prefix := testenv.Redis(t)
	settings := ingest.Settings{Alerts: ingest.DefaultAlertSettings(), Scoring: scoring.DefaultConfig()}
	analyzer := &countingAnalyzer{}
	p := ingest.New(st, analyzer, ingest.NewCooldowns(rdb, prefix), settings, time.Now, slog.New(slog.DiscardHandler), nil)
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
