package churn

// The statements of the weekly win-back list: candidates, offers and the
// attempts started from them.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/holdfast/holdfast/store"
)

// winbackCandidate is an account the weekly win-back list may offer.
type winbackCandidate struct {
	AccountID int64
	Name      string
	ARR       float64
	Owner     string
	Kind      string // KindDormant or KindChurned
	ChurnID   int64
	Cause     Cause
	ChurnedOn time.Time
	LastUsage *time.Time
}

// dormantAccounts lists active accounts whose last usage signal is before
// cutoff and that nobody tried to win back since then, most ARR first.
// Accounts that never sent usage are not dormant: usage is not tracked for them.
func dormantAccounts(ctx context.Context, db store.DB, cutoff time.Time, limit int) ([]winbackCandidate, error) {
	rows, err := db.Query(ctx, `SELECT a.id, a.name, a.arr::float8, a.owner_csm, u.last
		FROM accounts a
		CROSS JOIN LATERAL (SELECT max(occurred_at) AS last FROM signals s WHERE s.account_id = a.id AND s.kind = 'usage') u
		WHERE a.status = 'active' AND u.last < $1
		  AND NOT EXISTS (SELECT 1 FROM winback_attempts w WHERE w.account_id = a.id AND w.started_at >= $1)
		ORDER BY a.arr DESC, a.id LIMIT $2`, cutoff, limit)
	if err != nil {
		return nil, fmt.Errorf("dormant accounts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (winbackCandidate, error) {
		c := winbackCandidate{Kind: KindDormant}
		err := r.Scan(&c.AccountID, &c.Name, &c.ARR, &c.Owner, &c.LastUsage)
		return c, err
	})
	return out, wrap("dormant accounts", err)
}

// churnedForWinback lists churned accounts with their latest churn record
// that nobody tried to win back since that churn. Windows are applied by
// the caller (WinbackWindow).
func churnedForWinback(ctx context.Context, db store.DB, churnedBefore time.Time) ([]winbackCandidate, error) {
	rows, err := db.Query(ctx, `SELECT a.id, a.name, r.arr::float8, coalesce(nullif(a.owner_csm, ''), r.owner_csm),
			r.id, r.cause, r.churned_on
		FROM accounts a
		JOIN LATERAL (SELECT * FROM churn_records c WHERE c.account_id = a.id ORDER BY c.churned_on DESC, c.id DESC LIMIT 1) r ON true
		WHERE a.status = 'churned' AND r.churned_on < $1
		  AND NOT EXISTS (SELECT 1 FROM winback_attempts w WHERE w.churn_id = r.id)
		ORDER BY r.arr DESC, a.id`, churnedBefore)
	if err != nil {
		return nil, fmt.Errorf("churned accounts for win-back: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (winbackCandidate, error) {
		c := winbackCandidate{Kind: KindChurned}
		var cause string
		err := r.Scan(&c.AccountID, &c.Name, &c.ARR, &c.Owner, &c.ChurnID, &cause, &c.ChurnedOn)
		c.Cause = Cause(cause)
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
	Cause      Cause
	Owner      string
	Week       time.Time
	MessageRef string
	ChannelID  string // where the list message went
	Detail     string // why it is on the list ("no usage since …", "churned …")
	Attempt    *OfferAttempt
}

// OfferAttempt is a win-back started from an offer.
type OfferAttempt struct {
	ID        int64
	StartedBy string
	StartedAt time.Time
	Outcome   Outcome
	OutcomeBy string
	OutcomeAt *time.Time
}

// insertOffer records one offer for an owner and week; fresh=false when
// the account was offered this week already (a re-run of the job).
func insertOffer(ctx context.Context, db store.DB, c winbackCandidate, owner string, week, now time.Time, detail string) (id int64, fresh bool, _ error) {
	err := db.QueryRow(ctx, `INSERT INTO winback_offers (account_id, kind, churn_id, cause, owner, week, message_ref, offered_at, detail)
		VALUES ($1, $2, $3, $4, $5, $6, '', $7, $8) ON CONFLICT (account_id, kind, week) DO NOTHING RETURNING id`,
		c.AccountID, c.Kind, nullID(c.ChurnID), string(c.Cause), owner, week, now, detail).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("insert win-back offer: %w", err)
	}
	return id, true, nil
}

// nameOfferMessage records which message lists the offers.
func nameOfferMessage(ctx context.Context, db store.DB, ids []int64, ref string) error {
	if _, err := db.Exec(ctx, `UPDATE winback_offers SET message_ref = $2 WHERE id = ANY($1)`, ids, ref); err != nil {
		return fmt.Errorf("name win-back message: %w", err)
	}
	return nil
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
	o.Cause = Cause(cause)
	if attemptID != nil {
		o.Attempt = &OfferAttempt{ID: *attemptID, StartedBy: deref(startedBy), StartedAt: *startedAt,
			Outcome: Outcome(deref(outcome)), OutcomeBy: deref(outcomeBy), OutcomeAt: outcomeAt}
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return o, store.ErrNotFound
	}
	return o, err
}

// offerByID reads one offer with its attempt; store.ErrNotFound if none.
func offerByID(ctx context.Context, db store.DB, id int64) (WinbackOffer, error) {
	o, err := scanOffer(db.QueryRow(ctx, `SELECT `+offerColumns+offerFrom+`WHERE o.id = $1`, id))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		err = fmt.Errorf("win-back offer: %w", err)
	}
	return o, err
}

// offersByRef reads the offers one list message shows.
func offersByRef(ctx context.Context, db store.DB, ref string) ([]WinbackOffer, error) {
	rows, err := db.Query(ctx, `SELECT `+offerColumns+offerFrom+`WHERE o.message_ref = $1 ORDER BY a.arr DESC, o.id`, ref)
	if err != nil {
		return nil, fmt.Errorf("win-back offers: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (WinbackOffer, error) { return scanOffer(r) })
	return out, wrap("win-back offers", err)
}

// lockOffer locks the offer, then reads it with its attempt in a new
// statement: read committed re-reads only the locked row after a wait,
// and the attempt a concurrent click just inserted must be seen.
func lockOffer(ctx context.Context, db store.DB, id int64) (WinbackOffer, error) {
	if _, err := db.Exec(ctx, `SELECT 1 FROM winback_offers WHERE id = $1 FOR UPDATE`, id); err != nil {
		return WinbackOffer{}, fmt.Errorf("lock win-back offer: %w", err)
	}
	return scanOffer(db.QueryRow(ctx, `SELECT `+offerColumns+offerFrom+`WHERE o.id = $1`, id))
}

// errWinbackOpen: the account already has an open win-back attempt.
var errWinbackOpen = errors.New("a win-back attempt is already open for this account")

// insertAttempt starts the win-back of an offer; errWinbackOpen when the
// account has another one open.
func insertAttempt(ctx context.Context, db store.DB, offer WinbackOffer, user string, now time.Time) (int64, error) {
	var id int64
	err := db.QueryRow(ctx, `INSERT INTO winback_attempts (offer_id, account_id, kind, churn_id, cause, started_by, started_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		offer.ID, offer.AccountID, offer.Kind, nullID(offer.ChurnID), string(offer.Cause), user, now).Scan(&id)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "winback_attempts_open" {
		return 0, errWinbackOpen
	}
	if err != nil {
		return 0, fmt.Errorf("start win-back: %w", err)
	}
	return id, nil
}

// recordAttemptOutcome records the answer of an attempt still open.
func recordAttemptOutcome(ctx context.Context, db store.DB, attemptID int64, outcome Outcome, user string, now time.Time) error {
	if _, err := db.Exec(ctx, `UPDATE winback_attempts SET outcome = $2, outcome_by = $3, outcome_at = $4
		WHERE id = $1 AND outcome IS NULL`, attemptID, string(outcome), user, now); err != nil {
		return fmt.Errorf("record win-back outcome: %w", err)
	}
	return nil
}

// winbackAttempts lists the attempts started in [from, to).
func winbackAttempts(ctx context.Context, db store.DB, from, to time.Time) ([]WinbackAttempt, error) {
	rows, err := db.Query(ctx, `SELECT kind, cause, coalesce(outcome, '') FROM winback_attempts
		WHERE started_at >= $1 AND started_at < $2 ORDER BY id`, from, to)
	if err != nil {
		return nil, fmt.Errorf("win-back attempts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (WinbackAttempt, error) {
		var a WinbackAttempt
		var cause, outcome string
		err := r.Scan(&a.Kind, &cause, &outcome)
		a.Cause, a.Outcome = Cause(cause), Outcome(outcome)
		return a, err
	})
	return out, wrap("win-back attempts", err)
}
