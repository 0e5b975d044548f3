package ingest

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/holdfast/holdfast/api"
)

func TestValidateSignals(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	v := func(f float64) *float64 { return &f }
	ok := SignalIn{Account: "acme", Kind: "usage", Source: "product", OccurredAt: now, Value: v(3)}
	cases := []struct {
		name  string
		edit  func(*SignalIn)
		field string
	}{
		{"no account", func(s *SignalIn) { s.Account = " " }, "account"},
		{"unknown kind", func(s *SignalIn) { s.Kind = "vibes" }, "kind"},
		{"no source", func(s *SignalIn) { s.Source = "" }, "source"},
		{"no time", func(s *SignalIn) { s.OccurredAt = time.Time{} }, "occurred_at"},
		{"future", func(s *SignalIn) { s.OccurredAt = now.Add(time.Hour) }, "occurred_at"},
		{"ancient", func(s *SignalIn) { s.OccurredAt = now.AddDate(-6, 0, 0) }, "occurred_at"},
		{"usage without value", func(s *SignalIn) { s.Value = nil }, "value"},
		{"negative usage", func(s *SignalIn) { s.Value = v(-1) }, "value"},
		{"nps out of range", func(s *SignalIn) { s.Kind, s.Value = "nps", v(11) }, "value"},
		{"nps fraction", func(s *SignalIn) { s.Kind, s.Value = "nps", v(7.5) }, "value"},
		{"severity", func(s *SignalIn) { s.Kind, s.Severity = "ticket", "meh" }, "severity"},
		{"metadata array", func(s *SignalIn) { s.Metadata = json.RawMessage(`[1]`) }, "metadata"},
		{"bad utf8", func(s *SignalIn) { s.Kind, s.Text = "email", "\xff" }, "text"},
		{"NUL", func(s *SignalIn) { s.Kind, s.Text = "email", "a\x00b" }, "text"},
		{"NUL in the key", func(s *SignalIn) { s.IdempotencyKey = "k\x00" }, "idempotency_key"},
		{"NUL in a metadata value", func(s *SignalIn) { s.Metadata = json.RawMessage(`{"a":{"b":["x\u0000"]}}`) }, "metadata"},
		{"NUL in a metadata key", func(s *SignalIn) { s.Metadata = json.RawMessage(`{"a\u0000":1}`) }, "metadata"},
		{"absurd usage", func(s *SignalIn) { s.Value = v(1.7e308) }, "value"},
		{"absurd negative value", func(s *SignalIn) { s.Kind, s.Value = "payment_failed", v(-1e300) }, "value"},
		{"huge text", func(s *SignalIn) { s.Kind, s.Text = "email", strings.Repeat("x", maxTextLen+1) }, "text"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := ok
			c.edit(&s)
			_, err := validateSignals([]SignalIn{ok, s}, now)
			ve, isVE := err.(*api.ValidationError)
			if !isVE || len(ve.Rows) == 0 || ve.Rows[0].Index != 1 || ve.Rows[0].Field != c.field {
				t.Fatalf("err = %v, want row 1 field %s", err, c.field)
			}
		})
	}
	out, err := validateSignals([]SignalIn{ok, {Account: "acme", Kind: "email", Source: "gmail", OccurredAt: now,
		Metadata: json.RawMessage(`null`)}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if out[0].IdempotencyKey == "" || out[0].IdempotencyKey == out[1].IdempotencyKey || !strings.HasPrefix(out[0].IdempotencyKey, "sha256:") {
		t.Errorf("derived keys %q %q", out[0].IdempotencyKey, out[1].IdempotencyKey)
	}
	again, _ := validateSignals([]SignalIn{ok}, now)
	if again[0].IdempotencyKey != out[0].IdempotencyKey {
		t.Error("the same signal derived a different key")
	}
	// The batch cap is IngestSignals' (CSV imports take more in one go).
	if err := checkBatchSize(0); err == nil {
		t.Error("empty batch accepted")
	}
	if err := checkBatchSize(MaxBatch + 1); err == nil || !strings.Contains(err.Error(), "at most 1000") {
		t.Errorf("oversized batch: %v", err)
	}
}

func TestValidateAccounts(t *testing.T) {
	t.Parallel()
	good := AccountIn{ExternalID: "acme", Name: "Acme", ARR: 10, RenewalDate: "2027-01-31", OwnerCSM: "U0123", Channel: "C0123"}
	cases := []struct {
		name  string
		edit  func(*AccountIn)
		field string
	}{
		{"no id", func(a *AccountIn) { a.ExternalID = "" }, "external_id"},
		{"duplicate id", func(a *AccountIn) {}, "external_id"},
		{"duplicate id after trimming", func(a *AccountIn) { a.ExternalID = "acme  " }, "external_id"},
		{"NUL in a name", func(a *AccountIn) { a.ExternalID, a.Name = "b", "Ac\x00me" }, "name"},
		{"no name", func(a *AccountIn) { a.ExternalID, a.Name = "b", "" }, "name"},
		{"negative arr", func(a *AccountIn) { a.ExternalID, a.ARR = "b", -1 }, "arr"},
		{"bad date", func(a *AccountIn) { a.ExternalID, a.RenewalDate = "b", "31/01/2027" }, "renewal_date"},
		{"owner not a user id", func(a *AccountIn) { a.ExternalID, a.OwnerCSM = "b", "dana" }, "owner_csm"},
		{"channel not a channel id", func(a *AccountIn) { a.ExternalID, a.Channel = "b", "#general" }, "channel"},
		{"status", func(a *AccountIn) { a.ExternalID, a.Status = "b", "paused" }, "status"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := good
			c.edit(&a)
			_, err := ValidateAccounts([]AccountIn{good, a})
			ve, isVE := err.(*api.ValidationError)
			if !isVE || ve.Rows[0].Index != 1 || ve.Rows[0].Field != c.field {
				t.Fatalf("err = %v, want row 1 field %s", err, c.field)
			}
		})
	}
	out, err := ValidateAccounts([]AccountIn{good})
	if err != nil || out[0].RenewalDate == nil || out[0].RenewalDate.Format(time.DateOnly) != "2027-01-31" {
		t.Fatalf("good account: %+v %v", out, err)
	}
}
