package offers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/holdfast/holdfast/store"
	"github.com/holdfast/holdfast/store/storetest"
)

var offerT0 = time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)

// twoStageRoute: Finance and RevOps in parallel, then Executive (whose
// backup is UBACKUP).
func twoStageRoute() Route {
	return Route{Stages: []RouteStage{
		{Name: "Review", Steps: []RouteStep{
			{Name: "Finance", Users: []string{"UFIN"}, SLA: 4 * time.Hour, EscalateAfter: 8 * time.Hour, Backup: "UCFO"},
			{Name: "RevOps", Group: "SREVOPS", SLA: 4 * time.Hour, EscalateAfter: 8 * time.Hour},
		}},
		{Name: "Executive", Steps: []RouteStep{
			{Name: "Executive", Users: []string{"UEXEC"}, SLA: time.Hour, EscalateAfter: 2 * time.Hour, Backup: "UBACKUP"},
		}},
	}}
}

func newOffer(t testing.TB, st *store.Store, accountID int64) Submission {
	t.Helper()
	o := Offer{Type: Discount, Value: 30, DurationMonths: 12, Justification: "competitor"}
	im := ComputeImpact(o, 600_000, nil, offerT0, 12)
	return Submission{AccountID: accountID, Actor: "UCSM", ChannelID: "C0APPROVALS", Offer: o, Impact: im, Route: twoStageRoute(),
		Groups: map[string][]string{"SREVOPS": {"UREV1", "UREV2"}},
		Brief:  Brief{AccountName: "Acme", Tier: "enterprise", ARR: 600_000}, Summary: "template", At: offerT0}
}

// recorder stands in for what a change posts: it records every event and
// queues one post per event. The changes run through it as the services
// run them, in one transaction each; a nil recorder posts nothing.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

// run runs a change in a transaction, posting its event through r.
func (r *recorder) run(ctx context.Context, st *store.Store, change func(tx store.Tx) (State, Event, error)) error {
	return st.InTx(ctx, func(tx store.Tx) error {
		s, ev, err := change(tx)
		if err != nil || ev.Kind == "" || r == nil {
			return err
		}
		r.mu.Lock()
		r.events = append(r.events, ev)
		r.mu.Unlock()
		return tx.Enqueue(ctx, store.OutboxItem{Op: store.OpPost, ChannelID: "C0APPROVALS", ThreadKey: threadKey(s.Request.ID),
			Message: map[string]string{"text": string(ev.Kind)}})
	})
}

func (r *recorder) create(ctx context.Context, st *store.Store, in Submission) (s State, err error) {
	err = r.run(ctx, st, func(tx store.Tx) (State, Event, error) {
		var ev Event
		s, ev, err = create(ctx, tx, in)
		return s, ev, err
	})
	return s, err
}

func (r *recorder) revise(ctx context.Context, st *store.Store, id int64, seen int, in Submission) (s State, refusal string, err error) {
	err = r.run(ctx, st, func(tx store.Tx) (State, Event, error) {
		var ev Event
		s, ev, refusal, err = reviseRequest(ctx, tx, id, seen, in)
		return s, ev, err
	})
	return s, refusal, err
}

func (r *recorder) decideStep(ctx context.Context, st *store.Store, d StepDecision) (res DecideResult, err error) {
	err = r.run(ctx, st, func(tx store.Tx) (State, Event, error) {
		var ev Event
		res, ev, err = decideStep(ctx, tx, d)
		return res.State, ev, err
	})
	return res, err
}

func (r *recorder) answer(ctx context.Context, st *store.Store, id int64, actor, answer, note string, at time.Time) (res AnswerResult, err error) {
	err = r.run(ctx, st, func(tx store.Tx) (State, Event, error) {
		var ev Event
		res, ev, err = answerRequest(ctx, tx, id, actor, answer, note, at)
		return res.State, ev, err
	})
	return res, err
}

func (r *recorder) summarize(ctx context.Context, st *store.Store, id int64, version int, summary string) (changed bool, err error) {
	err = r.run(ctx, st, func(tx store.Tx) (State, Event, error) {
		s, ev, err := summarize(ctx, tx, id, version, summary)
		changed = ev.Kind != ""
		return s, ev, err
	})
	return changed, err
}

// noPosts runs changes without posting anything.
var noPosts *recorder

func (r *recorder) kinds() []EventKind {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []EventKind
	for _, e := range r.events {
		out = append(out, e.Kind)
	}
	return out
}

func upsert(ctx context.Context, st *store.Store, in []store.AccountInput) (res []store.UpsertResult, err error) {
	err = st.InTx(ctx, func(tx store.Tx) error {
		res, err = tx.UpsertAccounts(ctx, in)
		return err
	})
	return res, err
}

func offerAccount(t testing.TB, st *store.Store) int64 {
	t.Helper()
	renew := offerT0.AddDate(0, 2, 0)
	res, err := upsert(context.Background(), st, []store.AccountInput{{ExternalID: "acme", Name: "Acme", Tier: "enterprise",
		ARR: 600_000, OwnerCSM: "UOWNER", RenewalDate: &renew}})
	if err != nil {
		t.Fatal(err)
	}
	return res[0].ID
}

func stepByName(t *testing.T, st State, name string) ApprovalStep {
	t.Helper()
	for _, s := range st.Steps {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no step %q in %+v", name, st.Steps)
	return ApprovalStep{}
}

func decide(t *testing.T, st *store.Store, r *recorder, stepID int64, actor, action string, at time.Time) DecideResult {
	t.Helper()
	res, err := r.decideStep(context.Background(), st, StepDecision{StepID: stepID, Actor: actor, Action: action,
		Guidance: "guidance from " + actor, At: at})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestOfferApprovalFlow(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	svc := service{st}
	ctx := context.Background()
	acct := offerAccount(t, st)
	r := &recorder{}
	s0, err := r.create(ctx, st, newOffer(t, st, acct))
	if err != nil {
		t.Fatal(err)
	}
	if s0.Request.Status != RequestPending || s0.Request.Version != 1 || len(s0.Steps) != 3 {
		t.Fatalf("created %+v", s0)
	}
	fin, rev, exec := stepByName(t, s0, "Finance"), stepByName(t, s0, "RevOps"), stepByName(t, s0, "Executive")
	if fin.Status != StepPending || rev.Status != StepPending || exec.Status != StepWaiting {
		t.Fatalf("initial statuses %s %s %s", fin.Status, rev.Status, exec.Status)
	}
	if !slices.Equal(rev.Approvers, []string{"UREV1", "UREV2"}) || !slices.Equal(rev.DMUsers, rev.Approvers) || len(exec.DMUsers) != 0 {
		t.Fatalf("group not expanded into approvers / DMs: %+v %+v", rev, exec)
	}
	var tier string
	var arr float64
	if err := st.Pool().QueryRow(ctx, `SELECT tier, arr::float8 FROM offer_versions WHERE request_id = $1`, s0.Request.ID).
		Scan(&tier, &arr); err != nil || tier != "enterprise" || arr != 600_000 {
		t.Errorf("version tier %q arr %v (%v), want the brief's", tier, arr, err)
	}

	// A stranger, the requester and a later stage's approver are refused; nothing moves.
	for _, c := range []struct {
		step   int64
		actor  string
		reason string
	}{{fin.ID, "USTRANGER", RefuseNotApprover}, {exec.ID, "UEXEC", RefuseNotActive}} {
		res := decide(t, st, r, c.step, c.actor, ActionApprove, offerT0.Add(time.Minute))
		if res.Recorded || res.Refusal != c.reason {
			t.Errorf("%s on step %d: recorded=%v refusal=%q, want %q", c.actor, c.step, res.Recorded, res.Refusal, c.reason)
		}
	}

	res := decide(t, st, r, fin.ID, "UFIN", ActionApprove, offerT0.Add(time.Hour))
	if !res.Recorded || res.Step.Status != StepApproved || res.State.Request.Stage != 0 {
		t.Fatalf("finance approve: %+v", res)
	}
	again := decide(t, st, r, fin.ID, "UFIN", ActionApprove, offerT0.Add(time.Hour))
	if again.Recorded || again.Refusal != RefuseAlreadyDecided {
		t.Fatalf("second finance approve: %+v", again)
	}
	res = decide(t, st, r, rev.ID, "UREV2", ActionApprove, offerT0.Add(2*time.Hour))
	if !res.Recorded || res.State.Request.Stage != 1 {
		t.Fatalf("revops approve did not advance: %+v", res.State.Request)
	}
	if exec = stepByName(t, res.State, "Executive"); exec.Status != StepPending || exec.ActivatedAt == nil {
		t.Fatalf("executive not activated: %+v", exec)
	}
	res = decide(t, st, r, exec.ID, "UEXEC", ActionApprove, offerT0.Add(3*time.Hour))
	if res.State.Request.Status != RequestApproved || res.State.Request.DecidedAt == nil {
		t.Fatalf("not approved: %+v", res.State.Request)
	}
	if len(res.State.Trail) != 3 {
		t.Errorf("trail has %d recorded decisions, want 3", len(res.State.Trail))
	}
	all, err := svc.decisions(ctx, s0.Request.ID)
	if err != nil {
		t.Fatal(err)
	}
	var refused []string
	for _, d := range all {
		if d.Outcome == OutcomeRefused {
			refused = append(refused, d.Actor+":"+d.Refusal)
		}
	}
	if want := []string{"USTRANGER:not_approver", "UEXEC:not_active", "UFIN:already_decided"}; !slices.Equal(refused, want) {
		t.Errorf("refusals on record = %v, want %v", refused, want)
	}
	want := []EventKind{EventSubmitted, EventDecided, EventDecided, EventDecided}
	if got := r.kinds(); !slices.Equal(got, want) {
		t.Errorf("events %v, want %v (refusals emit nothing)", got, want)
	}
	var queued int
	if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM outbox`).Scan(&queued); err != nil || queued != 4 {
		t.Errorf("%d outbox rows (%v), want 4", queued, err)
	}

	// Customer answer: only the requester or owner; once.
	ans, err := r.answer(ctx, st, s0.Request.ID, "USTRANGER", AnswerAccepted, "", offerT0.Add(4*time.Hour))
	if err != nil || ans.Recorded || ans.Refusal != RefuseNotOwner {
		t.Fatalf("stranger answer: %+v %v", ans, err)
	}
	ans, err = r.answer(ctx, st, s0.Request.ID, "UOWNER", AnswerAccepted, "signed", offerT0.Add(4*time.Hour))
	if err != nil || !ans.Recorded || ans.State.Request.RenewalDate == nil {
		t.Fatalf("owner answer: %+v %v", ans, err)
	}
	ans, err = r.answer(ctx, st, s0.Request.ID, "UCSM", AnswerDeclined, "", offerT0.Add(5*time.Hour))
	if err != nil || ans.Recorded || ans.Refusal != RefuseAlreadyAnswered {
		t.Fatalf("second answer: %+v %v", ans, err)
	}

	// Tracked to the renewal: nothing before the date, renewed after it, once.
	if n, err := svc.resolveOutcomes(ctx, offerT0.AddDate(0, 1, 0)); err != nil || n != 0 {
		t.Fatalf("outcome before renewal: %d %v", n, err)
	}
	if n, err := svc.resolveOutcomes(ctx, offerT0.AddDate(0, 2, 2)); err != nil || n != 1 {
		t.Fatalf("outcome after renewal: %d %v", n, err)
	}
	if n, err := svc.resolveOutcomes(ctx, offerT0.AddDate(0, 2, 3)); err != nil || n != 0 {
		t.Fatalf("outcome twice: %d %v", n, err)
	}
	final, err := svc.state(ctx, s0.Request.ID)
	if err != nil || final.Request.RenewalOutcome != "renewed" {
		t.Fatalf("final: %+v %v", final.Request, err)
	}

	entries, err := st.Timeline(ctx, acct, 50)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range entries {
		kinds = append(kinds, e.Kind)
	}
	slices.Reverse(kinds)
	wantKinds := []string{"offer.submitted", "offer.step_approved", "offer.step_approved", "offer.approved", "offer.accepted", "offer.renewed"}
	if !slices.Equal(kinds, wantKinds) {
		t.Errorf("timeline %v, want %v", kinds, wantKinds)
	}

	rows, err := svc.statRows(ctx, offerT0.AddDate(-1, 0, 0))
	if err != nil || len(rows) != 1 || rows[0].Outcome != "renewed" || len(rows[0].Steps) != 3 || rows[0].EquivalentPct != 30 {
		t.Fatalf("stat rows %+v %v", rows, err)
	}
}

func TestOfferDecisionsAreAppendOnly(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	s0, err := noPosts.create(ctx, st, newOffer(t, st, offerAccount(t, st)))
	if err != nil {
		t.Fatal(err)
	}
	decide(t, st, &recorder{}, s0.Steps[0].ID, "UFIN", ActionApprove, offerT0)
	for _, q := range []string{`UPDATE offer_decisions SET actor = 'UOTHER'`, `DELETE FROM offer_decisions`} {
		_, err := st.Pool().Exec(ctx, q)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want append-only refusal", q, err)
		}
	}
}

func TestOfferConcurrentClicksDecideOnce(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	svc := service{st}
	ctx := context.Background()
	s0, err := noPosts.create(ctx, st, newOffer(t, st, offerAccount(t, st)))
	if err != nil {
		t.Fatal(err)
	}
	fin, rev := stepByName(t, s0, "Finance"), stepByName(t, s0, "RevOps")
	r := &recorder{}
	var wg sync.WaitGroup
	results := make([]DecideResult, 8)
	for i := range results {
		wg.Go(func() {
			// Half click Finance twice over, half complete the stage through RevOps.
			step, actor := fin.ID, "UFIN"
			if i%2 == 1 {
				step, actor = rev.ID, fmt.Sprintf("UREV%d", i%4/2+1)
			}
			res, err := r.decideStep(ctx, st, StepDecision{StepID: step, Actor: actor, Action: ActionApprove, At: offerT0})
			if err != nil {
				t.Error(err)
			}
			results[i] = res
		})
	}
	wg.Wait()
	recorded := 0
	for _, res := range results {
		if res.Recorded {
			recorded++
		} else if res.Refusal != RefuseAlreadyDecided {
			t.Errorf("refusal %q, want already_decided", res.Refusal)
		}
	}
	if recorded != 2 {
		t.Fatalf("%d decisions recorded, want 2 (one per step)", recorded)
	}
	final, err := svc.state(ctx, s0.Request.ID)
	if err != nil {
		t.Fatal(err)
	}
	if final.Request.Stage != 1 || stepByName(t, final, "Executive").Status != StepPending {
		t.Fatalf("stage did not advance exactly once: %+v", final.Request)
	}
	activations := 0
	for _, ev := range r.events {
		activations += len(ev.Activated)
	}
	if activations != 1 {
		t.Errorf("executive activated %d times", activations)
	}
}

func TestOfferRevisionStartsOver(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	acct := offerAccount(t, st)
	r := &recorder{}
	s0, err := r.create(ctx, st, newOffer(t, st, acct))
	if err != nil {
		t.Fatal(err)
	}
	fin, rev := stepByName(t, s0, "Finance"), stepByName(t, s0, "RevOps")
	decide(t, st, r, rev.ID, "UREV1", ActionApprove, offerT0.Add(time.Minute))
	res := decide(t, st, r, fin.ID, "UFIN", ActionRevise, offerT0.Add(2*time.Minute))
	if !res.Recorded || res.State.Request.Status != RequestRevisionRequested {
		t.Fatalf("revise: %+v", res)
	}
	if res.Step.Guidance != "guidance from UFIN" {
		t.Errorf("guidance %q", res.Step.Guidance)
	}

	in := newOffer(t, st, acct)
	in.Offer.Value, in.At = 20, offerT0.Add(time.Hour)
	if _, refusal, err := r.revise(ctx, st, s0.Request.ID, 1, func() Submission { x := in; x.Actor = "USTRANGER"; return x }()); err != nil || refusal != RefuseNotOwner {
		t.Fatalf("stranger revise: %q %v", refusal, err)
	}
	s1, refusal, err := r.revise(ctx, st, s0.Request.ID, 1, in)
	if err != nil || refusal != "" {
		t.Fatalf("revise: %q %v", refusal, err)
	}
	if s1.Request.ID != s0.Request.ID || s1.Request.Version != 2 || s1.Request.Status != RequestPending || s1.Previous == nil {
		t.Fatalf("v2 state %+v", s1.Request)
	}
	for _, s := range s1.Steps {
		if s.Version != 2 || (s.Stage == 0 && s.Status != StepPending) {
			t.Errorf("v2 step %+v: old approvals must not carry over", s)
		}
	}
	// The same submission again (double submit) is stale.
	if _, refusal, err := r.revise(ctx, st, s0.Request.ID, 1, in); err != nil || refusal != RefuseStale {
		t.Fatalf("stale revise: %q %v", refusal, err)
	}
	// v1's buttons are refused: RevOps' decided one and Finance's.
	old := decide(t, st, r, rev.ID, "UREV1", ActionApprove, offerT0.Add(2*time.Hour))
	if old.Recorded || old.Refusal != RefuseOldVersion {
		t.Errorf("old version click: %+v", old)
	}
	var revised []Event
	for _, ev := range r.events {
		if ev.Kind == EventRevised {
			revised = append(revised, ev)
		}
	}
	if len(revised) != 1 || len(revised[0].Closed) != 0 || len(revised[0].Activated) != 2 {
		t.Errorf("revised events %+v: want one, superseding nothing (the revise request closed every step) and starting v2's first stage", revised)
	}
}

// Revising while the request is still under review takes the open steps
// out of play (their DMs lose their buttons) and keeps what was decided.
func TestOfferRevisionWhilePending(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	acct := offerAccount(t, st)
	r := &recorder{}
	s0, err := r.create(ctx, st, newOffer(t, st, acct))
	if err != nil {
		t.Fatal(err)
	}
	fin, rev := stepByName(t, s0, "Finance"), stepByName(t, s0, "RevOps")
	decide(t, st, r, fin.ID, "UFIN", ActionApprove, offerT0.Add(time.Minute))

	in := newOffer(t, st, acct)
	in.Offer.Value, in.At = 25, offerT0.Add(time.Hour)
	s1, refusal, err := r.revise(ctx, st, s0.Request.ID, 1, in)
	if err != nil || refusal != "" {
		t.Fatalf("revise: %q %v", refusal, err)
	}
	ev := r.events[len(r.events)-1]
	if ev.Kind != EventRevised || len(ev.Closed) != 1 || ev.Closed[0].ID != rev.ID || ev.Closed[0].Status != StepSuperseded ||
		!slices.Equal(ev.Closed[0].DMUsers, []string{"UREV1", "UREV2"}) {
		t.Fatalf("revised event closed %+v, want RevOps' open step superseded with its DMs", ev.Closed)
	}
	if s1.Previous == nil || s1.Previous.Version != 1 || s1.Previous.Offer.Value != 30 || s1.Version.Offer.Value != 25 {
		t.Fatalf("versions: current %+v previous %+v", s1.Version, s1.Previous)
	}
	var v1 []string
	rows, err := st.Pool().Query(ctx, `SELECT name || ':' || status FROM offer_steps WHERE request_id = $1 AND version = 1 ORDER BY stage, position`, s0.Request.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var x string
		if err := rows.Scan(&x); err != nil {
			t.Fatal(err)
		}
		v1 = append(v1, x)
	}
	if want := []string{"Finance:approved", "RevOps:superseded", "Executive:superseded"}; !slices.Equal(v1, want) {
		t.Errorf("v1 steps %v, want %v", v1, want)
	}
}

// One open request per account: a second proposal is refused, even when
// both forms were opened before either was submitted.
func TestOfferOneOpenRequestPerAccount(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	svc := service{st}
	ctx := context.Background()
	acct := offerAccount(t, st)
	if _, ok, err := svc.openFor(ctx, acct); err != nil || ok {
		t.Fatalf("open offer before any: %v %v", ok, err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = noPosts.create(ctx, st, newOffer(t, st, acct))
		})
	}
	wg.Wait()
	created, refused := 0, 0
	for _, err := range errs {
		var open *OpenRequestError
		switch {
		case err == nil:
			created++
		case errors.As(err, &open) && open.Request.Status == RequestPending:
			refused++
		default:
			t.Errorf("create: %v", err)
		}
	}
	var stored int
	if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM offer_requests`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if created != 1 || refused != 3 || stored != 1 {
		t.Fatalf("%d created, %d refused, %d stored; want 1, 3, 1", created, refused, stored)
	}
	open, ok, err := svc.openFor(ctx, acct)
	if err != nil || !ok || open.Status != RequestPending {
		t.Fatalf("open offer %+v %v %v", open, ok, err)
	}

	// Once it is rejected, a new one may start.
	s0, err := svc.state(ctx, open.ID)
	if err != nil {
		t.Fatal(err)
	}
	decide(t, st, &recorder{}, stepByName(t, s0, "Finance").ID, "UFIN", ActionReject, offerT0)
	if _, ok, err := svc.openFor(ctx, acct); err != nil || ok {
		t.Fatalf("open offer after rejection: %v %v", ok, err)
	}
	s1, err := noPosts.create(ctx, st, newOffer(t, st, acct))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := noPosts.create(ctx, st, newOffer(t, st, 999_999)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("offer for a missing account: err = %v, want ErrNotFound", err)
	}

	// Lists load every request whole, each with its own steps and trail.
	list, err := svc.forAccount(ctx, acct, 10)
	if err != nil || len(list) != 2 || list[0].Request.ID != s1.Request.ID || list[1].Request.ID != s0.Request.ID {
		t.Fatalf("offers for account: %+v %v", list, err)
	}
	for _, o := range list {
		if len(o.Steps) != 3 || o.Account.ID != acct || o.Version.Version != 1 || o.Version.Offer.Type != Discount {
			t.Errorf("request %d loaded as %+v", o.Request.ID, o)
		}
		for _, s := range o.Steps {
			if s.RequestID != o.Request.ID {
				t.Errorf("request %d holds step %d of request %d", o.Request.ID, s.ID, s.RequestID)
			}
		}
	}
	if len(list[0].Trail) != 0 || len(list[1].Trail) != 1 || list[1].Trail[0].StepName != "Finance" {
		t.Errorf("trails %+v / %+v", list[0].Trail, list[1].Trail)
	}
	openList, total, err := svc.open(ctx, 10)
	if err != nil || total != 1 || len(openList) != 1 || openList[0].Request.ID != s1.Request.ID {
		t.Fatalf("open offers %+v %d %v", openList, total, err)
	}
}

func TestOfferSLAs(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	svc := service{st}
	ctx := context.Background()
	r := &recorder{}
	s0, err := r.create(ctx, st, newOffer(t, st, offerAccount(t, st)))
	if err != nil {
		t.Fatal(err)
	}
	run := func(at time.Duration) SLAResult {
		t.Helper()
		res, err := svc.runSLAs(ctx, offerT0.Add(at))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := run(4*time.Hour - time.Minute); res != (SLAResult{}) {
		t.Fatalf("before the SLA: %+v", res)
	}
	if res := run(4 * time.Hour); res.Nudged != 2 || res.Escalated != 0 {
		t.Fatalf("at the SLA: %+v", res)
	}
	if res := run(5 * time.Hour); res != (SLAResult{}) {
		t.Fatalf("nudged twice: %+v", res)
	}
	// Finance has a backup, RevOps none: only Finance escalates.
	if res := run(8 * time.Hour); res.Escalated != 1 || res.Nudged != 0 {
		t.Fatalf("at escalation: %+v", res)
	}
	if res := run(9 * time.Hour); res != (SLAResult{}) {
		t.Fatalf("escalated twice: %+v", res)
	}
	s, err := svc.state(ctx, s0.Request.ID)
	if err != nil {
		t.Fatal(err)
	}
	fin := stepByName(t, s, "Finance")
	if fin.EscalatedAt == nil || !slices.Contains(fin.DMUsers, "UCFO") || !fin.CanDecide("UCFO") {
		t.Fatalf("backup not brought in: %+v", fin)
	}
	pending, err := svc.pending(ctx, "UCFO", 10)
	if err != nil || len(pending) != 1 || pending[0].Step.ID != fin.ID || pending[0].AccountName != "Acme" {
		t.Fatalf("backup's pending approvals: %+v %v", pending, err)
	}
	res := decide(t, st, r, fin.ID, "UCFO", ActionApprove, offerT0.Add(10*time.Hour))
	if !res.Recorded {
		t.Fatalf("backup approve refused: %s", res.Refusal)
	}
	if pending, _ := svc.pending(ctx, "UREV1", 10); len(pending) != 1 || pending[0].Step.Name != "RevOps" {
		t.Errorf("UREV1 pending: %+v", pending)
	}
}

func TestOfferRequesterCannotApproveOwnOffer(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	in := newOffer(t, st, offerAccount(t, st))
	in.Route.Stages[0].Steps[0].Users = []string{"UFIN", "UCSM"} // the CSM is also in Finance
	s0, err := noPosts.create(ctx, st, in)
	if err != nil {
		t.Fatal(err)
	}
	fin := stepByName(t, s0, "Finance")
	if res := decide(t, st, &recorder{}, fin.ID, "UCSM", ActionApprove, offerT0); res.Recorded || res.Refusal != RefuseOwnRequest {
		t.Fatalf("self-approval: %+v", res)
	}
	if res := decide(t, st, &recorder{}, fin.ID, "UFIN", ActionReject, offerT0); !res.Recorded || res.State.Request.Status != RequestRejected {
		t.Fatalf("reject: %+v", res)
	}
	entries, err := st.Timeline(ctx, s0.Request.AccountID, 1)
	if err != nil || entries[0].Kind != "offer.rejected" || !strings.Contains(entries[0].Summary, "guidance from UFIN") {
		t.Fatalf("timeline %+v %v", entries, err)
	}
	// Refusal checks after a rejection: the other step is closed.
	if res := decide(t, st, &recorder{}, stepByName(t, s0, "RevOps").ID, "UREV1", ActionApprove, offerT0); res.Refusal != RefuseClosed {
		t.Fatalf("closed step: %+v", res)
	}
}

func TestOfferNotFound(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	_, err := noPosts.decideStep(context.Background(), st, StepDecision{StepID: 999, Actor: "U1", Action: ActionApprove})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

// The model's summary replaces a version's template once, whichever version
// is current by the time it arrives.
func TestOfferSummaryReplacedOnce(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	acct := offerAccount(t, st)
	r := &recorder{}
	s0, err := r.create(ctx, st, newOffer(t, st, acct))
	if err != nil {
		t.Fatal(err)
	}
	in := newOffer(t, st, acct)
	in.Offer.Value = 25
	if _, refusal, err := r.revise(ctx, st, s0.Request.ID, 1, in); err != nil || refusal != "" {
		t.Fatalf("revise: %q %v", refusal, err)
	}
	for _, v := range []int{1, 2} {
		changed, err := r.summarize(ctx, st, s0.Request.ID, v, fmt.Sprintf("model v%d", v))
		if err != nil || !changed {
			t.Fatalf("v%d: changed=%v %v", v, changed, err)
		}
		ev := r.events[len(r.events)-1]
		if ev.Kind != EventSummarized || ev.Version.Version != v || ev.Version.Summary != fmt.Sprintf("model v%d", v) ||
			ev.Version.SummarySource != "llm" || ev.Version.Offer.Value != []float64{30, 25}[v-1] {
			t.Errorf("v%d event version %+v", v, ev.Version)
		}
	}
	if changed, err := r.summarize(ctx, st, s0.Request.ID, 1, "again"); err != nil || changed {
		t.Errorf("second summary for v1: changed=%v %v", changed, err)
	}
}
