package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/holdfast/holdfast/churn"
)

// WinbackCandidate is an account the weekly win-back list may offer.
type WinbackCandidate struct {
	AccountID int64
	Name      string
	ARR       float64
	Owner     string
	Kind      string // churn.KindDormant or churn.KindChurned
	ChurnID   int64
	Cause     churn.Cause
	ChurnedOn time.Time
	LastUsage *time.Time
}

// DormantAccounts lists active accounts whose last usage signal is before
// cutoff and that nobody tried to win back since then, most ARR first.
// Accounts that never sent usage are not dormant: usage is not tracked for them.
func (s *Store) DormantAccounts(ctx context.Context, cutoff time.Time, limit int) ([]WinbackCandidate, error) {
	rows, err := s.pool.Query(ctx, `SELECT a.id, a.name, a.arr::float8, a.owner_csm, u.last
		FROM accounts a
		CROSS JOIN LATERAL (SELECT max(occurred_at) AS last FROM signals s WHERE s.account_id = a.id AND s.kind = 'usage') u
		WHERE a.status = 'active' AND u.last < $1
		  AND NOT EXISTS (SELECT 1 FROM winback_attempts w WHERE w.account_id = a.id AND w.started_at >= $1)
		ORDER BY a.arr DESC, a.id LIMIT $2`, cutoff, limit)
	if err != nil {
		return nil, fmt.Errorf("dormant accounts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (WinbackCandidate, error) {
		c := WinbackCandidate{Kind: churn.KindDormant}
		err := r.Scan(&c.AccountID, &c.Name, &c.ARR, &c.Owner, &c.LastUsage)
		return c, err
	})
	return out, wrap("dormant accounts", err)
}

// ChurnedForWinback lists churned accounts with their latest churn record
// that nobody tried to win back since that churn. Windows are applied by
// the caller (churn.WinbackWindow).
func (s *Store) ChurnedForWinback(ctx context.Context, churnedBefore time.Time) ([]WinbackCandidate, error) {
	rows, err := s.pool.Query(ctx, `SELECT a.id, a.name, r.arr::float8, coalesce(nullif(a.owner_csm, ''), r.owner_csm),
			r.id, r.cause, r.churned_on
		FROM accounts a
		JOIN LATERAL (SELECT * FROM churn_records c WHERE c.account_id = a.id ORDER BY c.churned_on DESC, c.id DESC LIMIT 1) r ON true
		WHERE a.status = 'churned' AND r.churned_on < $1
		  AND NOT EXISTS (SELECT 1 FROM winback_attempts w WHERE w.churn_id = r.id)
		ORDER BY r.arr DESC, a.id`, churnedBefore)
	if err != nil {
		return nil, fmt.Errorf("churned accounts for win-back: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (WinbackCandidate, error) {
		c := WinbackCandidate{Kind: churn.KindChurned}
		var cause string
		err := r.Scan(&c.AccountID, &c.Name, &c.ARR, &c.Owner, &c.ChurnID, &cause, &c.ChurnedOn)
		c.Cause = churn.Cause(cause)
		return c, err
	})
	return out, wrap("churned accounts for win-back", err)
}

// WinbackOffer is an offered account with its attempt, if started.
type WinbackOffer struct {
	ID         int64
	AccountID  int64
	Name       string
	ARR        float64
	Kind       string
	ChurnID    int64
	Cause      churn.Cause
	Owner      string
	Week       time.Time
	MessageRef string
	ChannelID  string // where the list message went
	Detail     string // why it is on the list ("no usage since …", "churned …")
	Attempt    *WinbackAttempt
}

// WinbackAttempt is a started win-back.
type WinbackAttempt struct {
	ID        int64
	StartedBy string
	StartedAt time.Time
	Outcome   churn.Outcome
	OutcomeBy string
	OutcomeAt *time.Time
}

// NewOffer is one account to put on an owner's list.
type NewOffer struct {
	Candidate WinbackCandidate
	Detail    string
}

// OfferWinbacks records the offers for one owner and week and enqueues the
// message render builds from the offers that are new; offers already made
// this week are skipped, so a re-run of the weekly job posts nothing twice.
// channel is where the message goes (the owner's DM).
func (s *Store) OfferWinbacks(ctx context.Context, owner, channel string, week, now time.Time, offers []NewOffer,
	render func(ref string, offers []WinbackOffer) (OutboxItem, error)) (int, error) {
	n := 0
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var fresh []WinbackOffer
		for _, o := range offers {
			c := o.Candidate
			var id int64
			err := tx.QueryRow(ctx, `INSERT INTO winback_offers (account_id, kind, churn_id, cause, owner, week, message_ref, offered_at, detail)
				VALUES ($1, $2, $3, $4, $5, $6, '', $7, $8) ON CONFLICT (account_id, kind, week) DO NOTHING RETURNING id`,
				c.AccountID, c.Kind, nullID(c.ChurnID), string(c.Cause), owner, week, now, o.Detail).Scan(&id)
			if errors.Is(err, pgx.ErrNoRows) {
				continue
			}
			if err != nil {
				return fmt.Errorf("insert win-back offer: %w", err)
			}
			fresh = append(fresh, WinbackOffer{ID: id, AccountID: c.AccountID, Name: c.Name, ARR: c.ARR, Kind: c.Kind,
				ChurnID: c.ChurnID, Cause: c.Cause, Owner: owner, Week: week, ChannelID: channel, Detail: o.Detail})
		}
		if len(fresh) == 0 {
			return nil
		}
		ref := "winback:" + week.Format(time.DateOnly) + ":" + owner + ":" + strconv.FormatInt(fresh[0].ID, 10)
		ids := make([]int64, len(fresh))
		for i := range fresh {
			fresh[i].MessageRef = ref
			ids[i] = fresh[i].ID
		}
		if _, err := tx.Exec(ctx, `UPDATE winback_offers SET message_ref = $2 WHERE id = ANY($1)`, ids, ref); err != nil {
			return fmt.Errorf("name win-back message: %w", err)
		}
		it, err := render(ref, fresh)
		if err != nil {
			return err
		}
		it.Ref = ref
		n = len(fresh)
		return enqueue(ctx, tx, it)
	})
	return n, err
}

const offerColumns = `o.id, o.account_id, a.name, a.arr::float8, o.kind, coalesce(o.churn_id, 0), o.cause, o.owner, o.week,
	o.message_ref, coalesce(m.channel_id, ''), o.detail, w.id, w.started_by, w.started_at, w.outcome, w.outcome_by, w.outcome_at`

const offerFrom = ` FROM winback_offers o JOIN accounts a ON a.id = o.account_id
	LEFT JOIN winback_attempts w ON w.offer_id = o.id
	LEFT JOIN outbox m ON m.ref = o.message_ref `

func scanOffer(row pgx.Row) (WinbackOffer, error) {
	var o WinbackOffer
	var cause string
	var attemptID *int64
	var startedBy, outcome, outcomeBy *string
	var startedAt, outcomeAt *time.Time
	err := row.Scan(&o.ID, &o.AccountID, &o.Name, &o.ARR, &o.Kind, &o.ChurnID, &cause, &o.Owner, &o.Week, &o.MessageRef,
		&o.ChannelID, &o.Detail, &attemptID, &startedBy, &startedAt, &outcome, &outcomeBy, &outcomeAt)
	o.Cause = churn.Cause(cause)
	if attemptID != nil {
		o.Attempt = &WinbackAttempt{ID: *attemptID, StartedBy: deref(startedBy), StartedAt: *startedAt,
			Outcome: churn.Outcome(deref(outcome)), OutcomeBy: deref(outcomeBy), OutcomeAt: outcomeAt}
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return o, ErrNotFound
	}
	return o, err
}

// WinbackOfferByID reads one offer with its attempt.
func (s *Store) WinbackOfferByID(ctx context.Context, id int64) (WinbackOffer, error) {
	o, err := scanOffer(s.pool.QueryRow(ctx, `SELECT `+offerColumns+offerFrom+`WHERE o.id = $1`, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("win-back offer: %w", err)
	}
	return o, err
}

func offersByRef(ctx context.Context, tx DB, ref string) ([]WinbackOffer, error) {
	rows, err := tx.Query(ctx, `SELECT `+offerColumns+offerFrom+`WHERE o.message_ref = $1 ORDER BY a.arr DESC, o.id`, ref)
	if err != nil {
		return nil, fmt.Errorf("win-back offers: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (WinbackOffer, error) { return scanOffer(r) })
	return out, wrap("win-back offers", err)
}

// lockOffer locks the offer, then reads it with its attempt in a new
// statement: read committed re-reads only the locked row after a wait,
// and the attempt a concurrent click just inserted must be seen.
func lockOffer(ctx context.Context, tx DB, id int64) (WinbackOffer, error) {
	if _, err := tx.Exec(ctx, `SELECT 1 FROM winback_offers WHERE id = $1 FOR UPDATE`, id); err != nil {
		return WinbackOffer{}, fmt.Errorf("lock win-back offer: %w", err)
	}
	return scanOffer(tx.QueryRow(ctx, `SELECT `+offerColumns+offerFrom+`WHERE o.id = $1`, id))
}

// ErrWinbackOpen: the account already has an open win-back attempt.
var ErrWinbackOpen = errors.New("a win-back attempt is already open for this account")

// StartWinback records the attempt for an offer once (a second click, or
// a second offer of the same account while one is open, starts nothing)
// and enqueues what render builds from the offers of the offer's message.
func (s *Store) StartWinback(ctx context.Context, offerID int64, user string, now time.Time,
	render func(offers []WinbackOffer) ([]OutboxItem, error)) (WinbackOffer, bool, error) {
	var offer WinbackOffer
	started := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if offer, err = lockOffer(ctx, tx, offerID); err != nil {
			return err
		}
		if offer.Attempt != nil {
			return nil
		}
		var id int64
		err = tx.QueryRow(ctx, `INSERT INTO winback_attempts (offer_id, account_id, kind, churn_id, cause, started_by, started_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			offer.ID, offer.AccountID, offer.Kind, nullID(offer.ChurnID), string(offer.Cause), user, now).Scan(&id)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "winback_attempts_open" {
			return ErrWinbackOpen
		}
		if err != nil {
			return fmt.Errorf("start win-back: %w", err)
		}
		offer.Attempt = &WinbackAttempt{ID: id, StartedBy: user, StartedAt: now}
		started = true
		if err := addTimeline(ctx, tx, offer.AccountID, TimelineEntry{At: now, Kind: "winback.started",
			Summary: "win-back started (" + offer.Kind + ")", Actor: user}, id); err != nil {
			return err
		}
		offers, err := offersByRef(ctx, tx, offer.MessageRef)
		if err != nil {
			return err
		}
		return enqueueAll(ctx, tx, offers, render)
	})
	return offer, started, err
}

// RecordWinbackOutcome records the answer of the offer's attempt once.
func (s *Store) RecordWinbackOutcome(ctx context.Context, offerID int64, outcome churn.Outcome, user string, now time.Time,
	render func(offers []WinbackOffer) ([]OutboxItem, error)) (WinbackOffer, bool, error) {
	var offer WinbackOffer
	ok := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if offer, err = lockOffer(ctx, tx, offerID); err != nil {
			return err
		}
		if offer.Attempt == nil || offer.Attempt.Outcome != "" {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE winback_attempts SET outcome = $2, outcome_by = $3, outcome_at = $4
			WHERE id = $1 AND outcome IS NULL`, offer.Attempt.ID, string(outcome), user, now); err != nil {
			return fmt.Errorf("record win-back outcome: %w", err)
		}
		offer.Attempt.Outcome, offer.Attempt.OutcomeBy, offer.Attempt.OutcomeAt = outcome, user, &now
		ok = true
		if err := addTimeline(ctx, tx, offer.AccountID, TimelineEntry{At: now, Kind: "winback.outcome",
			Summary: "win-back answer: " + outcome.Label(), Actor: user}, offer.Attempt.ID); err != nil {
			return err
		}
		offers, err := offersByRef(ctx, tx, offer.MessageRef)
		if err != nil {
			return err
		}
		return enqueueAll(ctx, tx, offers, render)
	})
	return offer, ok, err
}

// WinbackAttempts lists the attempts started in [from, to).
func (s *Store) WinbackAttempts(ctx context.Context, from, to time.Time) ([]churn.WinbackAttempt, error) {
	rows, err := s.pool.Query(ctx, `SELECT kind, cause, coalesce(outcome, '') FROM winback_attempts
		WHERE started_at >= $1 AND started_at < $2 ORDER BY id`, from, to)
	if err != nil {
		return nil, fmt.Errorf("win-back attempts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (churn.WinbackAttempt, error) {
		var a churn.WinbackAttempt
		var cause, outcome string
		err := r.Scan(&a.Kind, &cause, &outcome)
		a.Cause, a.Outcome = churn.Cause(cause), churn.Outcome(outcome)
		return a, err
	})
	return out, wrap("win-back attempts", err)
}
