package ingest_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/holdfast/holdfast/api"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/store/storetest"
)

// Traits are typed on first sight and keep their type; a batch with a
// value that does not fit stores nothing and names the row.
func TestAccountTraitsAreTypedOnIngest(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	p := ingest.New(st, &countingAnalyzer{},
		ingest.Settings{Alerts: ingest.DefaultAlertSettings(), Scoring: scoring.DefaultConfig()}, time.Now, slog.New(slog.DiscardHandler), nil)
	ctx := context.Background()
	if _, err := p.UpsertAccounts(ctx, []ingest.AccountIn{{ExternalID: "a", Name: "A", Traits: map[string]any{
		"plan": "pro", "seats": 12.0, "sso": true, "contract_start": "2026-01-15", "term": "12"},
		TraitTypes: map[string]string{"term": "number"}}}); err != nil {
		t.Fatal(err)
	}
	types, err := st.TraitKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"plan": "category", "seats": "number", "sso": "bool", "contract_start": "date", "term": "number"}
	for k, v := range want {
		if types[k] != v {
			t.Errorf("%s typed %q, want %q", k, types[k], v)
		}
	}
	traits, err := st.AccountTraits(ctx, []int64{1})
	if err != nil || traits[1]["term"] != 12.0 || traits[1]["plan"] != "pro" {
		t.Fatalf("stored traits %v (%v)", traits, err)
	}
	_, err = p.UpsertAccounts(ctx, []ingest.AccountIn{
		{ExternalID: "b", Name: "B", Traits: map[string]any{"seats": 3.0}},
		{ExternalID: "c", Name: "C", Traits: map[string]any{"seats": "lots", "sso": "maybe"}},
		{ExternalID: "d", Name: "D", Traits: map[string]any{"x": 1.0}, TraitTypes: map[string]string{"x": "colour"}},
	})
	var ve *api.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want a validation error", err)
	}
	var got []string
	for _, r := range ve.Rows {
		got = append(got, r.Field+": "+r.Message)
	}
	joined := strings.Join(got, "\n")
	for _, w := range []string{"trait_types.x: unknown trait type \"colour\""} {
		if !strings.Contains(joined, w) {
			t.Errorf("errors lack %q:\n%s", w, joined)
		}
	}
	// Without the unknown type, the stored types reject row 1 per field.
	_, err = p.UpsertAccounts(ctx, []ingest.AccountIn{
		{ExternalID: "b", Name: "B", Traits: map[string]any{"seats": 3.0}},
		{ExternalID: "c", Name: "C", Traits: map[string]any{"seats": "lots", "sso": "maybe"}},
	})
	if !errors.As(err, &ve) || len(ve.Rows) != 2 || ve.Rows[0].Index != 1 || !strings.Contains(ve.Rows[0].Message, "not a number") {
		t.Fatalf("err = %v %+v", err, ve)
	}
	if n := storetest.Count(t, st, "accounts"); n != 1 {
		t.Errorf("%d accounts stored, want 1: a rejected batch stores nothing", n)
	}
}
