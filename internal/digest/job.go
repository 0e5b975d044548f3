package digest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/store"
)

// Run is the digest job: every subscription whose period is due gets its
// digest, once. A period stays due for Grace after its send time, so most
// runs find only periods sent already: one query answers that before any
// digest is built. Claiming the period and queueing the post happen in one
// transaction (send), so replicas racing here, or a run repeated after a
// crash, send it once.
func (m *Module) Run(ctx context.Context, now time.Time) error {
	subs, err := subscriptions(ctx, m.store.DB(), "")
	if err != nil {
		return err
	}
	type dueDigest struct {
		sub    Subscription
		loc    *time.Location
		period Period
	}
	var due []dueDigest
	var keys []run
	var errs []error
	locs := map[string]*time.Location{} // LoadLocation reads the zone file every time
	for _, sub := range subs {
		if sub.Frequency == Live {
			continue // posted as alerts happen (internal/playbook), never on a schedule
		}
		loc, ok := locs[sub.Timezone]
		if !ok {
			loc = location(sub.Timezone)
			locs[sub.Timezone] = loc
		}
		p, isDue, err := Due(Schedule{Frequency: sub.Frequency, Location: loc, SendAt: sub.SendAt,
			Weekday: m.settings.Weekday()}, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("subscription %d: %w", sub.ID, err))
			continue
		}
		if isDue {
			due = append(due, dueDigest{sub, loc, p})
			keys = append(keys, run{SubscriptionID: sub.ID, Period: p.Key})
		}
	}
	sent, err := sentAlready(ctx, m.store.DB(), keys)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, dd := range due {
		sub, p := dd.sub, dd.period
		if sent[run{SubscriptionID: sub.ID, Period: p.Key}] {
			continue
		}
		msg, err := m.build(ctx, sub, dd.loc, p.Start, p.End, false)
		if err != nil {
			errs = append(errs, fmt.Errorf("subscription %d: %w", sub.ID, err))
			continue
		}
		queued, err := m.send(ctx, sub, p, msg)
		if err != nil {
			errs = append(errs, fmt.Errorf("subscription %d: %w", sub.ID, err))
			continue
		}
		if queued {
			m.log.Info("digest queued", "channel", sub.ChannelID, "frequency", sub.Frequency, "period", p.Key)
		}
	}
	return errors.Join(errs...)
}

// send claims the subscription's period and queues its post in one
// transaction. It is false when the period was claimed before (by this or
// another replica); then nothing is queued.
func (m *Module) send(ctx context.Context, sub Subscription, p Period, msg blocks.Message) (queued bool, err error) {
	err = m.store.InTx(ctx, func(tx store.Tx) error {
		if queued, err = claimPeriod(ctx, tx, sub.ID, p); err != nil || !queued {
			return err
		}
		return tx.Enqueue(ctx, store.OutboxItem{Op: store.OpPost, ChannelID: sub.ChannelID, Message: msg, Priority: store.PriorityBulk})
	})
	return queued, err
}

// build loads and renders one subscription's digest of [start, end).
func (m *Module) build(ctx context.Context, sub Subscription, loc *time.Location, start, end time.Time, preview bool) (blocks.Message, error) {
	in, err := m.gather(ctx, m.store.DB(), query{Start: start, End: end, MinARR: sub.MinARR, Tier: sub.Tier}, sub.Topics)
	if err != nil {
		return blocks.Message{}, err
	}
	in.Frequency, in.Start, in.End, in.Location = sub.Frequency, start, end, loc
	// Saves are a week's news: a day rarely resolves a playbook.
	if m.saves != nil && sub.Frequency == Weekly && (len(sub.Topics) == 0 || slices.Contains(sub.Topics, TopicRisk)) {
		s, err := m.saves.Saves(ctx, SavesQuery{Start: start, End: end, MinARR: sub.MinARR, Tier: sub.Tier})
		if err != nil {
			return blocks.Message{}, fmt.Errorf("saves: %w", err)
		}
		in.Saves = &s
	}
	return Card(Build(in), Filters{MinARR: sub.MinARR, Tier: sub.Tier, Preview: preview}), nil
}

// gather loads what a digest of topics (none: all) says about q.
func gather(ctx context.Context, db store.DB, q query, topics []string) (Input, error) {
	in := Input{Topics: topics}
	topic := func(t string) bool { return len(topics) == 0 || slices.Contains(topics, t) }
	var err error
	if topic(TopicRisk) {
		if in.Worsened, err = healthWorsened(ctx, db, q); err != nil {
			return Input{}, err
		}
		if in.AtRiskCount, in.AtRiskARR, err = arrAtRisk(ctx, db, q); err != nil {
			return Input{}, err
		}
	}
	if topic(TopicCompetitors) {
		if in.Competitors, in.Examples, err = competitorMentions(ctx, db, q, MaxExamples); err != nil {
			return Input{}, err
		}
	}
	if topic(TopicSentiment) {
		if in.Sentiment, err = sentimentChanges(ctx, db, q); err != nil {
			return Input{}, err
		}
	}
	return in, nil
}

func location(tz string) *time.Location {
	if loc, err := time.LoadLocation(tz); err == nil {
		return loc
	}
	return time.UTC
}
