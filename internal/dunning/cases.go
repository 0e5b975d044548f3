package dunning

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/store"
)

// Meta is the metadata a payment_failed or payment_recovered signal carries
// (the ingest API contract; the Stripe webhook fills it the same way).
type Meta struct {
	DeclineCode        string     `json:"decline_code,omitempty"`
	Invoice            string     `json:"invoice,omitempty"`
	Charge             string     `json:"charge,omitempty"`
	Currency           string     `json:"currency,omitempty"`
	NextPaymentAttempt *time.Time `json:"next_payment_attempt,omitempty"`
	StripeEvent        string     `json:"stripe_event,omitempty"`
}

type payment struct {
	index   int
	account store.Account
	meta    Meta
}

// hook runs in the transaction that stores the signals: every
// payment_failed signal opens or extends a dunning case with its alert,
// every payment_recovered signal closes its case in the same thread. The
// most valuable accounts are handled (and so posted) first.
func (m *Module) hook(ctx context.Context, tx store.Tx, in *ingest.Batch) error {
	var pays []payment
	for i, sig := range in.Inputs {
		if sig.Kind != scoring.KindPaymentFailed && sig.Kind != scoring.KindPaymentRecovered {
			continue
		}
		var m Meta
		if len(sig.Metadata) > 0 {
			// Validated as an object upstream; fields of the wrong type are ignored.
			_ = json.Unmarshal(sig.Metadata, &m)
		}
		if in.SignalIDs[i] == 0 && (sig.Kind == scoring.KindPaymentRecovered || Classify(m.DeclineCode) == Unknown) {
			continue // a replay with no decline reason to add: nothing to do, no account to load
		}
		acct, ok := in.Accounts[in.AccountIDs[i]]
		if !ok {
			var err error
			if acct, err = tx.Account(ctx, in.AccountIDs[i]); err != nil {
				return err
			}
		}
		pays = append(pays, payment{index: i, account: acct, meta: m})
	}
	ByValue(pays, func(p payment) float64 { return p.account.ARR })
	more := &followUps{byCase: map[int64]*followUp{}}
	for _, p := range pays {
		var err error
		if in.Inputs[p.index].Kind == scoring.KindPaymentFailed {
			err = m.failed(ctx, tx, in, p, more)
		} else {
			err = m.recovered(ctx, tx, in, p)
		}
		if err != nil {
			return err
		}
	}
	return m.postFollowUps(ctx, tx, more)
}

// groupWindow: a payment failure without an invoice joins the account's
// open invoice-less case opened within this window (one thread, its alert
// updated) instead of opening a case, and a post, of its own.
const groupWindow = 7 * 24 * time.Hour

// followUps gathers the further failed attempts of cases in one batch, so
// a burst of failures (100 signals for one account) becomes one note in
// the case's thread and one update of its alert, not one post each.
type followUps struct {
	byCase map[int64]*followUp
	order  []int64
}

type followUp struct {
	c         Case
	highValue bool
	first     int // the first attempt number of the batch
	code      string
	classLbl  string
	path      string
	alert     blocks.Message
}

func (f *followUps) add(c Case, highValue bool, code, classLabel, path string, alert blocks.Message) {
	u, ok := f.byCase[c.ID]
	if !ok {
		u = &followUp{first: c.Attempts}
		f.byCase[c.ID] = u
		f.order = append(f.order, c.ID)
	}
	u.c, u.highValue, u.code, u.classLbl, u.path, u.alert = c, u.highValue || highValue, code, classLabel, path, alert
}

func (m *Module) postFollowUps(ctx context.Context, tx store.Tx, f *followUps) error {
	for _, id := range f.order {
		u := f.byCase[id]
		text := attemptText(u.c.Attempts, u.code, u.classLbl, u.path)
		if n := u.c.Attempts - u.first + 1; n > 1 {
			text = attemptsText(u.first, u.c.Attempts, u.code, u.classLbl, u.path)
		}
		if err := m.post(ctx, tx, u.c, u.highValue, text, u.alert); err != nil {
			return err
		}
	}
	return nil
}

func (m *Module) plan(p payment, sig store.SignalInput, code string) Plan {
	amount := 0.0
	if sig.Value != nil {
		amount = *sig.Value
	}
	return PlanFor(PlanInput{Code: code, AccountName: p.account.Name, Champion: p.account.Champion, Amount: amount,
		Currency: p.meta.Currency, FailedAt: sig.OccurredAt, NextRetry: p.meta.NextPaymentAttempt,
		SoftRetryDays: m.opts.Settings.SoftRetryDays, UpdateCardURL: m.opts.Settings.UpdateCardURL, ARR: p.account.ARR, EscalateARR: m.opts.Settings.EscalateARR})
}

func (m *Module) view(c Case, p payment, in *ingest.Batch, plan Plan, code string, sig store.SignalInput) caseView {
	v := caseView{CaseID: c.ID, AccountID: p.account.ID, AccountName: p.account.Name, ExternalID: p.account.ExternalID,
		Tier: p.account.Tier, ARR: p.account.ARR, HealthScore: p.account.HealthScore, Band: scoring.Band(p.account.HealthBand),
		OwnerCSM: p.account.OwnerCSM, HighValue: plan.HighValue, Amount: AmountText(c.Amount, c.Currency),
		Invoice: p.meta.Invoice, Code: code, ClassLabel: plan.Class.Label(), Path: plan.Path, Steps: plan.Steps,
		CustomerNote: plan.CustomerNote, Retries: plan.Retries, Attempts: c.Attempts, FailedAt: sig.OccurredAt}
	if h, ok := in.Health[p.account.ID]; ok {
		score := h.Score
		v.HealthScore, v.Band = &score, h.Band
	}
	if plan.HighValue {
		v.EscalateTo = m.opts.Settings.EscalateTo
	}
	return v
}

func (m *Module) failed(ctx context.Context, tx store.Tx, in *ingest.Batch, p payment, more *followUps) error {
	sig := in.Inputs[p.index]
	attemptKey := sig.Source + ":" + sig.IdempotencyKey
	code := NormalizeCode(p.meta.DeclineCode)
	class := Classify(code)
	if in.SignalIDs[p.index] == 0 {
		return m.enrich(ctx, tx, in, p, attemptKey, code, class)
	}
	caseKey := "payment:" + attemptKey
	if p.meta.Invoice != "" {
		caseKey = "invoice:" + p.meta.Invoice
	}
	c, err := lockCase(ctx, tx, caseKey)
	if errors.Is(err, store.ErrNotFound) && p.meta.Invoice == "" {
		c, err = lockRecentPaymentCase(ctx, tx, p.account.ID, sig.OccurredAt.Add(-groupWindow))
	}
	if errors.Is(err, store.ErrNotFound) {
		return m.open(ctx, tx, in, p, caseKey, attemptKey, code, class)
	}
	if err != nil {
		return err
	}
	// Another failed attempt on a known invoice: same thread, alert updated.
	c.Attempts++
	if code != "" {
		c.DeclineCode, c.DeclineClass = code, string(class)
	}
	if c.Status != "open" {
		c.Status, c.RecoveredAt = "open", nil
	}
	if sig.Value != nil {
		c.Amount = *sig.Value
	}
	plan := m.plan(p, sig, c.DeclineCode)
	v := m.view(c, p, in, plan, c.DeclineCode, sig)
	if c.View, err = json.Marshal(v); err != nil {
		return fmt.Errorf("encode dunning view: %w", err)
	}
	if err := updateCase(ctx, tx, c); err != nil {
		return err
	}
	if err := insertAttempt(ctx, tx, c.ID, attemptKey, code, string(class), sig.OccurredAt, in.SignalIDs[p.index]); err != nil {
		return err
	}
	more.add(c, plan.HighValue, code, class.Label(), plan.Path, alertCard(v))
	return tx.AddTimeline(ctx, p.account.ID, store.TimelineEntry{At: sig.OccurredAt, Kind: "dunning.attempt_failed",
		Summary: "payment attempt " + strconv.Itoa(c.Attempts) + " failed: " + cmp.Or(code, "no decline code") + " (" + string(class) + ")"}, c.ID)
}

func (m *Module) open(ctx context.Context, tx store.Tx, in *ingest.Batch, p payment, caseKey, attemptKey, code string, class Class) error {
	sig := in.Inputs[p.index]
	channel := cmp.Or(m.opts.Settings.Channel, p.account.ChannelID, m.opts.DefaultChannel, p.account.OwnerCSM)
	if channel == "" {
		m.log.Warn("dunning alert has nowhere to go: set dunning.channel or alerts.default_channel", "account", p.account.ExternalID)
		return nil
	}
	c := Case{AccountID: p.account.ID, Key: caseKey, Status: "open", DeclineCode: code, DeclineClass: string(class),
		Currency: p.meta.Currency, Attempts: 1, ChannelID: channel, ThreadKey: "dunning:" + caseKey,
		RootRef: "dunning:" + caseKey + ":root", View: json.RawMessage(`{}`), OpenedAt: sig.OccurredAt, SignalID: in.SignalIDs[p.index]}
	if sig.Value != nil {
		c.Amount = *sig.Value
	}
	if err := insertCase(ctx, tx, &c); err != nil {
		return err
	}
	plan := m.plan(p, sig, code)
	v := m.view(c, p, in, plan, code, sig)
	var err error
	if c.View, err = json.Marshal(v); err != nil {
		return fmt.Errorf("encode dunning view: %w", err)
	}
	if err := updateCase(ctx, tx, c); err != nil {
		return err
	}
	if err := insertAttempt(ctx, tx, c.ID, attemptKey, code, string(class), sig.OccurredAt, in.SignalIDs[p.index]); err != nil {
		return err
	}
	if err := tx.Enqueue(ctx, store.OutboxItem{Op: store.OpPost, ChannelID: channel, ThreadKey: c.ThreadKey, Priority: store.PriorityAlert,
		Ref: c.RootRef, Message: alertCard(v), NotBefore: m.notBefore(plan.HighValue)}); err != nil {
		return err
	}
	return tx.AddTimeline(ctx, p.account.ID, store.TimelineEntry{At: sig.OccurredAt, Kind: "dunning.opened",
		Summary: "payment failed: " + cmp.Or(code, "no decline code") + " (" + string(class) + "), " + plan.Path}, c.ID)
}

// enrich handles a second report of a payment already recorded (Stripe
// sends charge.failed and invoice.payment_failed for one failure): if it
// brings the decline reason the first lacked, the case takes its path.
func (m *Module) enrich(ctx context.Context, tx store.Tx, in *ingest.Batch, p payment, attemptKey, code string, class Class) error {
	attemptID, caseID, oldClass, err := attemptByKey(ctx, tx, attemptKey)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (Class(oldClass) != Unknown || class == Unknown)) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := updateAttempt(ctx, tx, attemptID, code, string(class)); err != nil {
		return err
	}
	c, err := lockCaseByID(ctx, tx, caseID)
	if err != nil || c.Status != "open" {
		return err
	}
	sig := in.Inputs[p.index]
	c.DeclineCode, c.DeclineClass = code, string(class)
	var v caseView
	if err := json.Unmarshal(c.View, &v); err != nil {
		return fmt.Errorf("decode dunning view: %w", err)
	}
	sig.OccurredAt = v.FailedAt
	plan := m.plan(p, sig, code)
	v.Code, v.ClassLabel, v.Path, v.Steps, v.CustomerNote, v.Retries = code, plan.Class.Label(), plan.Path, plan.Steps, plan.CustomerNote, plan.Retries
	if c.View, err = json.Marshal(v); err != nil {
		return fmt.Errorf("encode dunning view: %w", err)
	}
	if err := updateCase(ctx, tx, c); err != nil {
		return err
	}
	return m.post(ctx, tx, c, plan.HighValue,
		reclassifiedText(code, class.Label(), plan.Path), alertCard(v))
}

func (m *Module) recovered(ctx context.Context, tx store.Tx, in *ingest.Batch, p payment) error {
	if in.SignalIDs[p.index] == 0 || p.meta.Invoice == "" {
		return nil
	}
	c, err := lockCase(ctx, tx, "invoice:"+p.meta.Invoice)
	if errors.Is(err, store.ErrNotFound) {
		return nil // a normal payment: nothing was being chased
	}
	if err != nil || c.Status != "open" {
		return err
	}
	sig := in.Inputs[p.index]
	var v caseView
	if err := json.Unmarshal(c.View, &v); err != nil {
		return fmt.Errorf("decode dunning view: %w", err)
	}
	paid := sig.OccurredAt
	c.Status, c.RecoveredAt, v.RecoveredAt = "recovered", &paid, &paid
	if h, ok := in.Health[p.account.ID]; ok {
		score := h.Score
		v.HealthScore, v.Band = &score, h.Band
	}
	if c.View, err = json.Marshal(v); err != nil {
		return fmt.Errorf("encode dunning view: %w", err)
	}
	if err := updateCase(ctx, tx, c); err != nil {
		return err
	}
	if err := m.post(ctx, tx, c, true,
		recoveredText(v.Amount, c.Attempts, c.OpenedAt, paid), alertCard(v)); err != nil {
		return err
	}
	return tx.AddTimeline(ctx, p.account.ID, store.TimelineEntry{At: paid, Kind: "dunning.recovered",
		Summary: "failed payment recovered: " + v.Amount}, c.ID)
}

// post adds a note (bot-built mrkdwn) to the case's thread and re-renders its alert.
func (m *Module) post(ctx context.Context, tx store.Tx, c Case, urgent bool, noteText string, alert blocks.Message) error {
	note := blocks.Note("dunning_note", noteText)
	if err := tx.Enqueue(ctx, store.OutboxItem{Op: store.OpPost, ChannelID: c.ChannelID, ThreadKey: c.ThreadKey,
		Message: note, NotBefore: m.notBefore(urgent)}); err != nil {
		return err
	}
	return tx.Enqueue(ctx, store.OutboxItem{Op: store.OpUpdate, ChannelID: c.ChannelID, TargetRef: c.RootRef,
		Message: alert})
}

// notBefore holds a standard account's alert until quiet hours end; a
// high-value account's goes out now.
func (m *Module) notBefore(highValue bool) time.Time {
	if highValue {
		return time.Time{}
	}
	return m.opts.QuietHours.Until(m.now())
}
