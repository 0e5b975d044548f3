package offers

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/holdfast/holdfast/store"
	"github.com/holdfast/holdfast/store/storetest"
)

// BenchmarkOfferLifecycle: submit an offer, then Finance, RevOps and the
// executive approve it (four transactions, each with its outbox rows).
func BenchmarkOfferLifecycle(b *testing.B) {
	st := storetest.New(b)
	ctx := context.Background()
	acct := offerAccount(b, st)
	r := &recorder{}
	in := newOffer(b, st, acct)
	for b.Loop() {
		s0, err := r.create(ctx, st, in)
		if err != nil {
			b.Fatal(err)
		}
		ids := map[string]int64{}
		for _, s := range s0.Steps {
			ids[s.Name] = s.ID
		}
		for _, d := range []struct {
			step  string
			actor string
		}{{"Finance", "UFIN"}, {"RevOps", "UREV1"}, {"Executive", "UEXEC"}} {
			res, err := r.decideStep(ctx, st, StepDecision{StepID: ids[d.step], Actor: d.actor, Action: ActionApprove, At: offerT0})
			if err != nil || !res.Recorded {
				b.Fatalf("%s: %+v %v", d.step, res.Refusal, err)
			}
		}
		r.events = r.events[:0]
	}
}

// BenchmarkOfferRefusedClick: a stranger's click, checked and recorded.
func BenchmarkOfferRefusedClick(b *testing.B) {
	st := storetest.New(b)
	ctx := context.Background()
	s0, err := noPosts.create(ctx, st, newOffer(b, st, offerAccount(b, st)))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		res, err := noPosts.decideStep(ctx, st, StepDecision{StepID: s0.Steps[0].ID, Actor: "USTRANGER", Action: ActionApprove, At: time.Now()})
		if err != nil || res.Recorded {
			b.Fatal(res, err)
		}
	}
}

// BenchmarkOpenOffers15: /offers pending's list of 15 open requests, each
// loaded whole (request, account, versions, steps, trail).
func BenchmarkOpenOffers15(b *testing.B) {
	st := storetest.New(b)
	ctx := context.Background()
	in := make([]store.AccountInput, 15)
	for i := range in {
		in[i] = store.AccountInput{ExternalID: fmt.Sprintf("acct-%d", i), Name: fmt.Sprintf("Account %d", i), ARR: 100_000}
	}
	res, err := upsert(ctx, st, in)
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range res {
		s0, err := noPosts.create(ctx, st, newOffer(b, st, r.ID))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := noPosts.decideStep(ctx, st, StepDecision{StepID: s0.Steps[0].ID, Actor: "UFIN", Action: ActionApprove, At: offerT0}); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		list, total, err := service{st}.open(ctx, 15)
		if err != nil || len(list) != 15 || total != 15 {
			b.Fatal(len(list), total, err)
		}
	}
}
