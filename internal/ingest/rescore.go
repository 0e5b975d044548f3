package ingest

import (
	"context"
	"fmt"
	"time"

	"github.com/holdfast/holdfast/schedule"
	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/store"
)

// Scorer computes the health of loaded accounts as of now; without one the
// hand-set weights (scoring.Compute) score. A learned model plugs in here,
// so signals and the clock score the same way.
type Scorer interface {
	Score(ctx context.Context, db store.DB, in map[int64]store.ScoringInput, now time.Time) (map[int64]scoring.Health, error)
}

// SetScorer makes s score every account from now on. Call it while wiring.
func (p *Pipeline) SetScorer(s Scorer) { p.scorer = s }

func (p *Pipeline) score(ctx context.Context, db store.DB, in map[int64]store.ScoringInput, now time.Time) (map[int64]scoring.Health, error) {
	if p.scorer == nil {
		return nil, nil
	}
	out, err := p.scorer.Score(ctx, db, in, now)
	if err != nil {
		return nil, fmt.Errorf("score: %w", err)
	}
	return out, nil
}

// rescoreChunk is how many accounts one rescoring transaction takes: big
// enough to amortise the round trips, small enough to hold few locks.
const rescoreChunk = 2000

// RescoreResult says what one time-driven rescoring did.
type RescoreResult struct {
	Accounts int     // active accounts looked at
	Moved    int     // whose score or band changed (snapshot written)
	Alerts   []int64 // churn-risk alerts raised
}

// RescoreAll rescores every active account as of now, whether or not a
// signal arrived: silence, an approaching renewal and fading trouble move
// scores on their own. Only moved scores are written; alerts go through
// the same decision, cooldowns, quiet hours and outbox as ingest's.
// Accounts an ingest holds locked right now are skipped: it scores them.
func (p *Pipeline) RescoreAll(ctx context.Context, now time.Time) (RescoreResult, error) {
	var res RescoreResult
	var after int64
	for {
		var ids []int64
		rows, err := p.store.DB().Query(ctx, `SELECT id FROM accounts WHERE status = 'active' AND id > $1 ORDER BY id LIMIT $2`, after, rescoreChunk)
		if err != nil {
			return res, fmt.Errorf("rescore: list accounts: %w", err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return res, err
			}
			ids = append(ids, id)
		}
		if err := rows.Err(); err != nil {
			return res, err
		}
		if len(ids) == 0 {
			return res, nil
		}
		after = ids[len(ids)-1]
		if err := p.rescoreChunk(ctx, now, ids, &res); err != nil {
			return res, err
		}
	}
}

// Rescore rescores the given accounts now, as the time-driven job does
// (after something outside signals changed them: an intent resolved).
func (p *Pipeline) Rescore(ctx context.Context, ids []int64) (RescoreResult, error) {
	var res RescoreResult
	return res, p.rescoreChunk(ctx, p.now(), ids, &res)
}

func (p *Pipeline) rescoreChunk(ctx context.Context, now time.Time, ids []int64, res *RescoreResult) error {
	b := &Batch{p: p, now: now, timeDriven: true, Accounts: map[int64]store.Account{}, Health: map[int64]scoring.Health{},
		History: map[int64][]scoring.Signal{}}
	err := p.store.InTx(ctx, func(tx store.Tx) error {
		locked, err := lockForRescore(ctx, tx, ids)
		if err != nil || len(locked) == 0 {
			return err
		}
		loaded, err := tx.LoadForScoring(ctx, locked, now.AddDate(0, 0, -historyDays))
		if err != nil {
			return err
		}
		if b.scored, err = p.score(ctx, tx, loaded, now); err != nil {
			return err
		}
		writes := &store.HealthWrites{}
		for _, id := range locked {
			in, ok := loaded[id]
			if !ok {
				continue
			}
			if err := p.assess(ctx, tx, b, in, nil, writes); err != nil {
				return fmt.Errorf("rescore account %d: %w", id, err)
			}
		}
		res.Accounts += len(locked)
		return tx.WriteHealth(ctx, writes)
	})
	if err != nil {
		return err
	}
	res.Moved += len(b.Health)
	res.Alerts = append(res.Alerts, b.Alerts...)
	p.metrics.observe(0, 0, len(b.Alerts))
	return nil
}

// lockForRescore locks the active accounts among ids, skipping those an
// ingest transaction holds (it is scoring them with its fresh signals).
func lockForRescore(ctx context.Context, tx store.Tx, ids []int64) ([]int64, error) {
	rows, err := tx.Query(ctx, `SELECT id FROM accounts WHERE id = ANY($1) AND status = 'active'
		ORDER BY id FOR NO KEY UPDATE SKIP LOCKED`, ids)
	if err != nil {
		return nil, fmt.Errorf("lock accounts: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// Jobs is the time-driven rescoring (scoring.rescore, hourly by default).
func (p *Pipeline) Jobs() []schedule.Job {
	return []schedule.Job{{Name: "rescore", Spec: p.settings.Scoring.Rescore, Timeout: 30 * time.Minute,
		Run: func(ctx context.Context, now time.Time) error {
			res, err := p.RescoreAll(ctx, now)
			if err != nil {
				return err
			}
			p.log.Info("rescored accounts", "accounts", res.Accounts, "moved", res.Moved, "alerts", len(res.Alerts))
			return nil
		}}}
}
