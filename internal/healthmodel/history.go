// Package healthmodel is the learned health model as a feature: the
// team's history in (accounts with outcomes and their signals), the
// examples a fit learns from (components as of cut-off dates, traits,
// churn within the horizon), fitted versions in Postgres, the backtest and
// its plot, and the scoring of live accounts with the active version. The
// math lives in scoring/model.
package healthmodel

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/holdfast/holdfast/api"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/store"
)

// HistoryAccount is one row of a history import's accounts file.
type HistoryAccount struct {
	ingest.AccountIn
	ChurnedAt string // YYYY-MM-DD or RFC 3339; "" while the account stayed
	RenewedAt string
	Line      int
}

// HistorySignal is one row of a history import's signals file.
type HistorySignal struct {
	ingest.SignalIn
	Line int
}

// Problem is one bad row of a history import, located in its file.
type Problem struct {
	File    string // "accounts" or "signals"
	Line    int    // 0 for the file as a whole
	Field   string
	Message string
}

func (p Problem) String() string {
	loc := p.File
	if p.Line > 0 {
		loc += fmt.Sprintf(" line %d", p.Line)
	}
	return loc + ": " + p.Field + ": " + p.Message
}

// ProblemsError is an import rejected with every problem found; nothing
// was stored.
type ProblemsError struct{ Problems []Problem }

func (e *ProblemsError) Error() string {
	return fmt.Sprintf("%d problem(s); nothing was imported", len(e.Problems))
}

// HistoryResult says what an import stored.
type HistoryResult struct {
	Accounts   int
	Churned    int
	Signals    int64 // new signals (replays of stored ones are skipped)
	Duplicates int64
}

// ImportHistory validates both files completely, then stores accounts
// (with traits and outcomes) and signals in one transaction, the signals
// by COPY. Any problem rejects the whole import.
func ImportHistory(ctx context.Context, st *store.Store, analyzer ingest.Analyzer, accounts []HistoryAccount, signals []HistorySignal, now time.Time) (HistoryResult, error) {
	var problems []Problem
	fail := func(file string, line int, field, format string, args ...any) {
		problems = append(problems, Problem{File: file, Line: line, Field: field, Message: fmt.Sprintf(format, args...)})
	}
	in := make([]ingest.AccountIn, len(accounts))
	badType := map[string]bool{} // reported once per column, not per row
	for i, a := range accounts {
		in[i] = a.AccountIn
		for k, t := range a.TraitTypes {
			if !validTraitType(t) && !badType[k] {
				badType[k] = true
				fail("accounts", 1, "trait:"+k, "unknown trait type %q (want one of %s)", t, strings.Join(store.TraitTypes, ", "))
			}
		}
	}
	if len(problems) > 0 {
		return HistoryResult{}, &ProblemsError{problems}
	}
	rows, err := ingest.ValidateAccounts(in)
	if ve, ok := errors.AsType[*api.ValidationError](err); ok {
		for _, r := range ve.Rows {
			fail("accounts", accounts[r.Index].Line, r.Field, "%s", r.Message)
		}
	} else if err != nil {
		return HistoryResult{}, err
	}

	outcomes := make([]store.Outcome, len(accounts))
	churnedAt := map[string]time.Time{}
	for i, a := range accounts {
		churned, ok1 := outcomeDate(a.ChurnedAt)
		renewed, ok2 := outcomeDate(a.RenewedAt)
		if !ok1 {
			fail("accounts", a.Line, "churned_at", "want YYYY-MM-DD (got %q)", a.ChurnedAt)
		}
		if !ok2 {
			fail("accounts", a.Line, "renewed_at", "want YYYY-MM-DD (got %q)", a.RenewedAt)
		}
		for _, o := range []struct {
			field string
			at    *time.Time
		}{{"churned_at", churned}, {"renewed_at", renewed}} {
			if o.at != nil && o.at.After(now) {
				fail("accounts", a.Line, o.field, "%s is in the future: history is what already happened", o.at.Format(time.DateOnly))
			}
		}
		if act, err := time.Parse(time.DateOnly, a.ActivationDate); err == nil && churned != nil && churned.Before(act) {
			fail("accounts", a.Line, "churned_at", "%s is before the activation date %s", churned.Format(time.DateOnly), a.ActivationDate)
		}
		if churned != nil {
			churnedAt[a.ExternalID] = *churned
			if rows != nil {
				rows[i].Status = "churned"
			}
		}
		outcomes[i] = store.Outcome{ChurnedAt: churned, RenewedAt: renewed}
	}

	sigIn := make([]ingest.SignalIn, len(signals))
	for i, s := range signals {
		sigIn[i] = s.SignalIn
	}
	var sigRows []store.SignalInput
	if len(signals) > 0 {
		sigRows, err = ingest.ValidateSignals(sigIn, now)
		if ve, ok := errors.AsType[*api.ValidationError](err); ok {
			for _, r := range ve.Rows {
				fail("signals", signals[r.Index].Line, r.Field, "%s", r.Message)
			}
		} else if err != nil {
			return HistoryResult{}, err
		}
	}
	seenKey := map[[2]string]int{}
	for i, s := range sigRows {
		// A churn date without a time covers that whole day.
		if c, ok := churnedAt[s.AccountExternalID]; ok && !s.OccurredAt.Before(c.Add(24*time.Hour)) {
			fail("signals", signals[i].Line, "occurred_at", "%s is after the account churned (%s)", s.OccurredAt.Format(time.RFC3339), c.Format(time.DateOnly))
		}
		k := [2]string{s.Source, s.IdempotencyKey}
		if j, dup := seenKey[k]; dup {
			fail("signals", signals[i].Line, "idempotency_key", "repeats line %d", signals[j].Line)
		}
		seenKey[k] = i
	}
	if len(problems) > 0 {
		return HistoryResult{}, &ProblemsError{problems}
	}

	// Text is read the way live ingest reads it, so a model fitted on
	// history sees the same sentiment and intent it will see live.
	for i := range sigRows {
		if strings.TrimSpace(sigRows[i].Text) == "" {
			continue
		}
		r := analyzer.Analyze(sigRows[i].Text)
		s := r.Sentiment
		sigRows[i].Sentiment = &s
		sigRows[i].ChurnIntent = r.ChurnIntent
	}
	for i := range sigRows {
		if sigRows[i].Kind == "cancellation_intent" {
			sigRows[i].ChurnIntent = true
		}
	}

	var res HistoryResult
	err = st.InTx(ctx, func(tx store.Tx) error {
		up, err := tx.UpsertAccounts(ctx, rows)
		if err != nil {
			return err
		}
		for i := range outcomes {
			outcomes[i].AccountID = up[i].ID
			if outcomes[i].ChurnedAt != nil {
				res.Churned++
			}
		}
		if err := tx.SetOutcomes(ctx, outcomes); err != nil {
			return err
		}
		res.Accounts = len(up)
		if len(sigRows) == 0 {
			return nil
		}
		exts := make([]string, 0, len(sigRows))
		seen := map[string]bool{}
		for _, s := range sigRows {
			if !seen[s.AccountExternalID] {
				seen[s.AccountExternalID] = true
				exts = append(exts, s.AccountExternalID)
			}
		}
		ids, err := tx.AccountIDsByExternalID(ctx, exts)
		if err != nil {
			return err
		}
		accountIDs := make([]int64, len(sigRows))
		for i, s := range sigRows {
			id, ok := ids[s.AccountExternalID]
			if !ok {
				fail("signals", signals[i].Line, "account", "no account with external id %q in the accounts file or stored", s.AccountExternalID)
				continue
			}
			accountIDs[i] = id
		}
		if len(problems) > 0 {
			return &ProblemsError{problems}
		}
		n, err := tx.CopySignals(ctx, sigRows, accountIDs)
		res.Signals, res.Duplicates = n, int64(len(sigRows))-n
		return err
	})
	if te, ok := errors.AsType[*store.TraitTypeError](err); ok {
		for _, r := range te.Rows {
			problems = append(problems, Problem{File: "accounts", Line: accounts[r.Index].Line, Field: r.Field, Message: r.Message})
		}
		return HistoryResult{}, &ProblemsError{problems}
	}
	if err != nil {
		return HistoryResult{}, err
	}
	return res, nil
}

func validTraitType(t string) bool {
	for _, k := range store.TraitTypes {
		if k == t {
			return true
		}
	}
	return false
}

// outcomeDate reads a date or timestamp; ok is false for anything else.
func outcomeDate(s string) (*time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, true
	}
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		return &d, true
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		t = t.UTC()
		return &t, true
	}
	return nil, false
}
