package digest

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/store"
)

// Subscription is one channel's /digest subscription.
type Subscription struct {
	ID        int64
	ChannelID string
	Frequency string   // daily, weekly, live
	Topics    []string // risk, competitors, sentiment; live: risk
	MinARR    float64
	Tier      string
	Timezone  string // IANA name; "" for live
	SendAt    string // HH:MM; "" for live
	CreatedBy string
	CreatedAt time.Time
}

const subscriptionColumns = `id, channel_id, frequency, topics, min_arr::float8, tier, timezone, send_at, created_by, created_at`

func collectSubscriptions(rows pgx.Rows) ([]Subscription, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Subscription, error) {
		var d Subscription
		err := r.Scan(&d.ID, &d.ChannelID, &d.Frequency, &d.Topics, &d.MinARR, &d.Tier, &d.Timezone, &d.SendAt, &d.CreatedBy, &d.CreatedAt)
		return d, err
	})
}

// subscribe creates the channel's subscription of that frequency or
// replaces its settings; created says which.
func subscribe(ctx context.Context, db store.DB, d Subscription) (Subscription, bool, error) {
	var created bool
	if d.Topics == nil {
		d.Topics = []string{} // no topics picked: all of them
	}
	err := db.QueryRow(ctx, `INSERT INTO digest_subscriptions (channel_id, frequency, topics, min_arr, tier, timezone, send_at, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (channel_id, frequency) DO UPDATE SET topics = EXCLUDED.topics, min_arr = EXCLUDED.min_arr,
			tier = EXCLUDED.tier, timezone = EXCLUDED.timezone, send_at = EXCLUDED.send_at, updated_at = now()
		RETURNING id, created_at, (xmax = 0)`,
		d.ChannelID, d.Frequency, d.Topics, d.MinARR, d.Tier, d.Timezone, d.SendAt, d.CreatedBy).Scan(&d.ID, &d.CreatedAt, &created)
	if err != nil {
		return d, false, fmt.Errorf("subscribe digest: %w", err)
	}
	return d, created, nil
}

// subscriptions lists a channel's subscriptions, or every one when channel
// is "".
func subscriptions(ctx context.Context, db store.DB, channel string) ([]Subscription, error) {
	rows, err := db.Query(ctx, `SELECT `+subscriptionColumns+` FROM digest_subscriptions
		WHERE $1 = '' OR channel_id = $1 ORDER BY channel_id, frequency`, channel)
	if err != nil {
		return nil, fmt.Errorf("digest subscriptions: %w", err)
	}
	subs, err := collectSubscriptions(rows)
	if err != nil {
		return nil, fmt.Errorf("digest subscriptions: %w", err)
	}
	return subs, nil
}

// unsubscribe removes a channel's subscription of one frequency, or all of
// them when frequency is "", and says how many went.
func unsubscribe(ctx context.Context, db store.DB, channel, frequency string) (int, error) {
	tag, err := db.Exec(ctx, `DELETE FROM digest_subscriptions WHERE channel_id = $1 AND ($2 = '' OR frequency = $2)`, channel, frequency)
	if err != nil {
		return 0, fmt.Errorf("unsubscribe digest: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// AlertChannels lists the channels subscribed to topic (a subscription
// without topics has all of them) whose filters an account with arr and
// tier passes: where live alerts of that topic go besides the owner. Live
// subscriptions are left out: they carry churn risk to leadership
// (LiveRiskChannels), not the text alerts.
func AlertChannels(ctx context.Context, db store.DB, topic string, arr float64, tier string) ([]string, error) {
	return channelsFor(ctx, db, false, topic, arr, tier)
}

// LiveRiskChannels lists the channels subscribed live to churn risk whose
// filters an account with arr and tier passes: where its new critical
// alerts and recoveries go as they happen.
func LiveRiskChannels(ctx context.Context, db store.DB, arr float64, tier string) ([]string, error) {
	return channelsFor(ctx, db, true, TopicRisk, arr, tier)
}

// channelsFor lists the channels of the live (or the scheduled)
// subscriptions to topic whose min_arr and tier an account passes.
func channelsFor(ctx context.Context, db store.DB, live bool, topic string, arr float64, tier string) ([]string, error) {
	rows, err := db.Query(ctx, `SELECT DISTINCT channel_id FROM digest_subscriptions
		WHERE (frequency = 'live') = $1
		  AND (topics @> ARRAY[$2::text] OR cardinality(topics) = 0) AND min_arr <= $3 AND (tier = '' OR lower(tier) = lower($4))
		ORDER BY channel_id`, live, topic, arr, tier)
	if err != nil {
		return nil, fmt.Errorf("alert channels: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("alert channels: %w", err)
	}
	return out, nil
}

// claimPeriod records that the subscription's period is sent, in the
// transaction that queues its post. It is false when the period was
// claimed before (by this or another replica) or the subscription is gone.
func claimPeriod(ctx context.Context, tx store.Tx, subscriptionID int64, p Period) (bool, error) {
	tag, err := tx.Exec(ctx, `INSERT INTO digest_runs (subscription_id, period, window_start, window_end)
		SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM digest_subscriptions WHERE id = $1)
		ON CONFLICT (subscription_id, period) DO NOTHING`, subscriptionID, p.Key, p.Start, p.End)
	if err != nil {
		return false, fmt.Errorf("claim digest period: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// run names one digest of one subscription.
type run struct {
	SubscriptionID int64
	Period         string
}

// sentAlready returns which of runs went out already, so the job builds
// only the ones still to send (claimPeriod still decides).
func sentAlready(ctx context.Context, db store.DB, runs []run) (map[run]bool, error) {
	sent := map[run]bool{}
	if len(runs) == 0 {
		return sent, nil
	}
	ids, keys := make([]int64, len(runs)), make([]string, len(runs))
	for i, p := range runs {
		ids[i], keys[i] = p.SubscriptionID, p.Period
	}
	rows, err := db.Query(ctx, `SELECT r.subscription_id, r.period FROM digest_runs r
		JOIN unnest($1::bigint[], $2::text[]) AS p(id, period) ON r.subscription_id = p.id AND r.period = p.period`, ids, keys)
	if err != nil {
		return nil, fmt.Errorf("digests sent: %w", err)
	}
	done, err := pgx.CollectRows(rows, pgx.RowToStructByPos[run])
	if err != nil {
		return nil, fmt.Errorf("digests sent: %w", err)
	}
	for _, p := range done {
		sent[p] = true
	}
	return sent, nil
}

// query selects what a digest covers: [Start, End) against the window of
// the same length before it, for accounts with at least MinARR and, when
// Tier is set, that tier.
type query struct {
	Start, End time.Time
	MinARR     float64
	Tier       string
	Limit      int // rows per list; default 200
}

func (q query) prevStart() time.Time { return q.Start.Add(-q.End.Sub(q.Start)) }

func (q query) limit() int {
	if q.Limit <= 0 {
		return 200
	}
	return q.Limit
}

// ScoreChange is an account whose health got worse in the window.
type ScoreChange struct {
	AccountID  int64
	Name       string
	ARR        float64
	OwnerCSM   string
	FromScore  *int // nil: first scored in the window
	FromBand   scoring.Band
	ToScore    int
	ToBand     scoring.Band
	Components []scoring.Component
}

// healthWorsened lists accounts whose score fell or band worsened from the
// window's start to its end, biggest fall first.
func healthWorsened(ctx context.Context, db store.DB, q query) ([]ScoreChange, error) {
	rows, err := db.Query(ctx, `WITH touched AS (
			SELECT DISTINCT account_id FROM health_snapshots WHERE computed_at >= $1 AND computed_at < $2),
		before AS (
			SELECT DISTINCT ON (h.account_id) h.account_id, h.score, h.band FROM health_snapshots h
			JOIN touched t ON t.account_id = h.account_id WHERE h.computed_at < $1
			ORDER BY h.account_id, h.computed_at DESC, h.id DESC),
		after AS (
			SELECT DISTINCT ON (h.account_id) h.account_id, h.score, h.band, h.components FROM health_snapshots h
			JOIN touched t ON t.account_id = h.account_id WHERE h.computed_at < $2
			ORDER BY h.account_id, h.computed_at DESC, h.id DESC)
		SELECT a.id, a.name, a.arr::float8, a.owner_csm, b.score, coalesce(b.band, ''), af.score, af.band, af.components
		FROM after af JOIN accounts a ON a.id = af.account_id LEFT JOIN before b ON b.account_id = af.account_id
		WHERE a.status = 'active' AND a.arr >= $3 AND ($4 = '' OR lower(a.tier) = lower($4))
		  AND (b.score IS NULL OR af.score < b.score
		       OR (CASE af.band WHEN 'critical' THEN 2 WHEN 'at_risk' THEN 1 ELSE 0 END) >
		          (CASE b.band WHEN 'critical' THEN 2 WHEN 'at_risk' THEN 1 ELSE 0 END))
		  AND (b.score IS NOT NULL OR af.band <> 'healthy')
		ORDER BY coalesce(b.score, 100) - af.score DESC, a.arr DESC, a.id
		LIMIT $5`, q.Start, q.End, q.MinARR, q.Tier, q.limit())
	if err != nil {
		return nil, fmt.Errorf("health worsened: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ScoreChange, error) {
		var c ScoreChange
		var from, to string
		err := r.Scan(&c.AccountID, &c.Name, &c.ARR, &c.OwnerCSM, &c.FromScore, &from, &c.ToScore, &to, &c.Components)
		c.FromBand, c.ToBand = scoring.Band(from), scoring.Band(to)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("health worsened: %w", err)
	}
	return out, nil
}

// arrAtRisk totals active at-risk and critical accounts passing the
// filters, now.
func arrAtRisk(ctx context.Context, db store.DB, q query) (count int, arr float64, err error) {
	err = db.QueryRow(ctx, `SELECT count(*), coalesce(sum(arr), 0)::float8 FROM accounts
		WHERE status = 'active' AND health_band IN ('at_risk', 'critical') AND arr >= $1 AND ($2 = '' OR lower(tier) = lower($2))`,
		q.MinARR, q.Tier).Scan(&count, &arr)
	if err != nil {
		return 0, 0, fmt.Errorf("arr at risk: %w", err)
	}
	return count, arr, nil
}

// CompetitorCount is one competitor's mentions in the window and the one before.
type CompetitorCount struct {
	Competitor      string
	Mentions        int
	Accounts        int
	MentionsBefore  int
	WithChurnIntent int
}

// MentionExample is one mention to quote in a digest.
type MentionExample struct {
	Competitor  string
	AccountID   int64
	AccountName string
	ARR         float64
	Kind        string
	Snippet     string
	ChurnIntent bool
	OccurredAt  time.Time
}

// competitorMentions counts mentions by competitor and returns up to
// perCompetitor recent examples of each, from the largest accounts. The
// mentions are the text-signal module's (internal/textsignals records
// them as signals are ingested); the digest only reads them.
func competitorMentions(ctx context.Context, db store.DB, q query, perCompetitor int) ([]CompetitorCount, []MentionExample, error) {
	rows, err := db.Query(ctx, `SELECT m.competitor,
			count(*) FILTER (WHERE m.occurred_at >= $1),
			count(DISTINCT m.account_id) FILTER (WHERE m.occurred_at >= $1),
			count(*) FILTER (WHERE m.occurred_at < $1),
			count(*) FILTER (WHERE m.occurred_at >= $1 AND m.churn_intent)
		FROM competitor_mentions m JOIN accounts a ON a.id = m.account_id
		WHERE m.occurred_at >= $2 AND m.occurred_at < $3 AND a.arr >= $4 AND ($5 = '' OR lower(a.tier) = lower($5))
		GROUP BY m.competitor
		HAVING count(*) FILTER (WHERE m.occurred_at >= $1) > 0
		ORDER BY 2 DESC, 1`, q.Start, q.prevStart(), q.End, q.MinARR, q.Tier)
	if err != nil {
		return nil, nil, fmt.Errorf("competitor counts: %w", err)
	}
	counts, err := pgx.CollectRows(rows, pgx.RowToStructByPos[CompetitorCount])
	if err != nil {
		return nil, nil, fmt.Errorf("competitor counts: %w", err)
	}
	rows, err = db.Query(ctx, `SELECT competitor, account_id, name, arr, kind, snippet, churn_intent, occurred_at FROM (
			SELECT m.competitor, m.account_id, a.name, a.arr::float8 AS arr, m.kind, m.snippet, m.churn_intent, m.occurred_at,
				row_number() OVER (PARTITION BY m.competitor ORDER BY m.churn_intent DESC, a.arr DESC, m.occurred_at DESC) AS n
			FROM competitor_mentions m JOIN accounts a ON a.id = m.account_id
			WHERE m.occurred_at >= $1 AND m.occurred_at < $2 AND a.arr >= $3 AND ($4 = '' OR lower(a.tier) = lower($4))) x
		WHERE n <= $5 ORDER BY competitor, n`, q.Start, q.End, q.MinARR, q.Tier, perCompetitor)
	if err != nil {
		return nil, nil, fmt.Errorf("mention examples: %w", err)
	}
	examples, err := pgx.CollectRows(rows, pgx.RowToStructByPos[MentionExample])
	if err != nil {
		return nil, nil, fmt.Errorf("mention examples: %w", err)
	}
	return counts, examples, nil
}

// SentimentChange is one account's mean text sentiment in the window and
// the one before.
type SentimentChange struct {
	AccountID int64
	Name      string
	ARR       float64
	Recent    float64
	RecentN   int
	Before    *float64 // never nil from sentimentChanges
	BeforeN   int
}

// sentimentChanges lists accounts with texts in the window and in the one
// before, biggest fall first. Accounts without earlier texts have no fall
// to measure; left in, they would fill the limit ahead of real ones.
func sentimentChanges(ctx context.Context, db store.DB, q query) ([]SentimentChange, error) {
	rows, err := db.Query(ctx, `SELECT a.id, a.name, a.arr::float8,
			avg(s.sentiment) FILTER (WHERE s.occurred_at >= $1),
			count(*) FILTER (WHERE s.occurred_at >= $1),
			avg(s.sentiment) FILTER (WHERE s.occurred_at < $1),
			count(*) FILTER (WHERE s.occurred_at < $1)
		FROM signals s JOIN accounts a ON a.id = s.account_id
		WHERE s.sentiment IS NOT NULL AND s.occurred_at >= $2 AND s.occurred_at < $3
		  AND a.status = 'active' AND a.arr >= $4 AND ($5 = '' OR lower(a.tier) = lower($5))
		GROUP BY a.id
		HAVING count(*) FILTER (WHERE s.occurred_at >= $1) > 0 AND count(*) FILTER (WHERE s.occurred_at < $1) > 0
		ORDER BY avg(s.sentiment) FILTER (WHERE s.occurred_at < $1) - avg(s.sentiment) FILTER (WHERE s.occurred_at >= $1) DESC, a.arr DESC, a.id
		LIMIT $6`, q.Start, q.prevStart(), q.End, q.MinARR, q.Tier, q.limit())
	if err != nil {
		return nil, fmt.Errorf("sentiment changes: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[SentimentChange])
	if err != nil {
		return nil, fmt.Errorf("sentiment changes: %w", err)
	}
	return out, nil
}

// SubscribedChannels lists the channels with a subscription of frequency
// that covers topic (no topics: all of them): where posts that go with a
// digest, like the monthly at-risk ARR chart, go.
func SubscribedChannels(ctx context.Context, db store.DB, frequency, topic string) ([]string, error) {
	rows, err := db.Query(ctx, `SELECT DISTINCT channel_id FROM digest_subscriptions
		WHERE frequency = $1 AND (topics @> ARRAY[$2::text] OR cardinality(topics) = 0) ORDER BY channel_id`, frequency, topic)
	if err != nil {
		return nil, fmt.Errorf("subscribed channels: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("subscribed channels: %w", err)
	}
	return out, nil
}
