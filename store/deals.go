package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/holdfast/holdfast/api"
	"github.com/holdfast/holdfast/rooms"
)

// The account-room feature's queues.
var (
	// Handoffs are won deals whose room is being made (channel, invite,
	// card, pin), or whose pinned card must be refreshed.
	Handoffs = Queue{Name: "handoffs", Table: "handoffs", Key: "deal_id",
		Waiting: "step NOT IN ('done', 'failed') OR card_stale"}
	// Notes wait for their summary.
	Notes = Queue{Name: "notes", Table: "account_notes", Waiting: "state = 'pending'", CountAttempts: true}
	// CRMWrites wait to be written to the CRM.
	CRMWrites = Queue{Name: "crm", Table: "crm_outbox", Waiting: "state = 'pending'", CountAttempts: true}
)

// Queue names, for wiring.
const (
	QueueHandoffs = "handoffs"
	QueueNotes    = "notes"
	QueueCRM      = "crm"
)

func notifyRooms(ctx context.Context, tx DB, queue string) error {
	_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, workChannel, queue)
	return wrap("notify "+queue, err)
}

// DealResult says what one deal of a batch did.
type DealResult struct {
	ID        string `json:"id"` // the CRM's deal id, as sent
	DealID    int64  `json:"deal_id"`
	AccountID int64  `json:"account_id"`
	Status    string `json:"status"`  // created | updated | unchanged
	Handoff   string `json:"handoff"` // started | exists | none
}

// UpsertDeals records a batch of deals in one transaction. A deal seen for
// the first time at closed-won, or moving to it, claims its handoff (one
// per deal, by primary key) in the same transaction, so a replayed or
// concurrent delivery of the same win starts one handoff. An exact replay
// changes nothing; a changed won deal marks its card for a refresh. Fields
// a message leaves out keep their stored value.
func (s *Store) UpsertDeals(ctx context.Context, in []rooms.DealInput, now time.Time) ([]DealResult, error) {
	out := make([]DealResult, len(in))
	// Lock deals in one order so two batches cannot deadlock.
	order := make([]int, len(in))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(in[a].Deal.ExternalID, in[b].Deal.ExternalID) })
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var problems []api.RowError
		wake := false
		for _, i := range order {
			res, problem, err := upsertDeal(ctx, tx, in[i], now)
			if err != nil {
				return fmt.Errorf("deal %q: %w", in[i].Deal.ExternalID, err)
			}
			if problem != nil {
				problem.Index = i
				problems = append(problems, *problem)
				continue
			}
			out[i] = res
			wake = wake || res.Handoff == "started" || (res.Handoff == "exists" && res.Status == "updated")
		}
		if len(problems) > 0 {
			slices.SortFunc(problems, func(a, b api.RowError) int { return a.Index - b.Index })
			return &api.ValidationError{Rows: problems} // problems only the database can see
		}
		if wake {
			return notifyRooms(ctx, tx, QueueHandoffs)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func upsertDeal(ctx context.Context, tx DB, in rooms.DealInput, now time.Time) (DealResult, *api.RowError, error) {
	d := in.Deal
	res := DealResult{ID: d.ExternalID, Handoff: "none"}
	accountID, problem, err := dealAccount(ctx, tx, in)
	if err != nil || problem != nil {
		return res, problem, err
	}
	res.AccountID = accountID

	var (
		dealID    int64
		owner     int64
		prevHash  string
		prevStage string
	)
	read := func() error {
		return tx.QueryRow(ctx, `SELECT id, account_id, payload_hash, stage FROM deals WHERE external_id = $1 FOR UPDATE`,
			d.ExternalID).Scan(&dealID, &owner, &prevHash, &prevStage)
	}
	err = read()
	inserted := false
	if errors.Is(err, pgx.ErrNoRows) {
		// ON CONFLICT: a concurrent delivery of the same new deal inserts
		// it first; this one then waits for it and takes the update path.
		err = tx.QueryRow(ctx, `INSERT INTO deals (external_id, account_id, source, name, stage, closed_at, ae, owner_csm,
				decision_maker, champion, champion_title, champion_role_since, close_reason, product_concerns,
				competitors, promises_known, arr, term_months, renewal_date, segment, payload_hash)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, nullif($18, 0), $19, $20, $21)
			ON CONFLICT (external_id) DO NOTHING RETURNING id`,
			d.ExternalID, accountID, in.Source, d.Name, d.Stage, d.ClosedAt, d.AE, d.OwnerCSM,
			d.DecisionMaker, d.Champion, d.ChampionTitle, d.ChampionRoleSince, d.CloseReason, knownText(d.ProductConcerns, d.ConcernsKnown),
			knownList(d.Competitors, d.CompetitorsKnown), d.PromisesKnown, d.ARR, d.TermMonths, d.RenewalDate, d.Segment,
			in.PayloadHash).Scan(&dealID)
		switch {
		case err == nil:
			inserted = true
		case errors.Is(err, pgx.ErrNoRows):
			err = read()
		default:
			return res, nil, fmt.Errorf("insert deal: %w", err)
		}
	}
	switch {
	case inserted:
		res.Status = "created"
	case err != nil:
		return res, nil, fmt.Errorf("read deal: %w", err)
	case owner != accountID:
		return res, &api.RowError{Field: "account", Message: fmt.Sprintf("deal %q belongs to another account", d.ExternalID)}, nil
	case prevHash == in.PayloadHash:
		res.DealID, res.Status = dealID, "unchanged"
		if prevStage == rooms.StageClosedWon {
			res.Handoff = "exists"
		}
		return res, nil, nil
	default:
		// Merge: what this message says wins; what it leaves out stays.
		_, err = tx.Exec(ctx, `UPDATE deals SET
				source = $2, name = coalesce(nullif($3, ''), name), stage = $4,
				closed_at = coalesce(closed_at, $5), ae = coalesce(nullif($6, ''), ae),
				owner_csm = coalesce(nullif($7, ''), owner_csm),
				decision_maker = coalesce(nullif($8, ''), decision_maker), champion = coalesce(nullif($9, ''), champion),
				champion_title = coalesce(nullif($10, ''), champion_title),
				champion_role_since = coalesce($11, champion_role_since),
				close_reason = coalesce(nullif($12, ''), close_reason),
				product_concerns = CASE WHEN $13 THEN $14 ELSE product_concerns END,
				competitors = CASE WHEN $15 THEN $16 ELSE competitors END,
				promises_known = promises_known OR $17,
				arr = coalesce($18, arr), term_months = coalesce(nullif($19, 0), term_months),
				renewal_date = coalesce($20, renewal_date), segment = coalesce(nullif($21, ''), segment),
				payload_hash = $22, updated_at = now()
			WHERE id = $1`,
			dealID, in.Source, d.Name, d.Stage, d.ClosedAt, d.AE, d.OwnerCSM, d.DecisionMaker, d.Champion, d.ChampionTitle,
			d.ChampionRoleSince, d.CloseReason, d.ConcernsKnown, d.ProductConcerns, d.CompetitorsKnown, d.Competitors,
			d.PromisesKnown, d.ARR, d.TermMonths, d.RenewalDate, d.Segment, in.PayloadHash)
		if err != nil {
			return res, nil, fmt.Errorf("update deal: %w", err)
		}
		res.Status = "updated"
	}
	res.DealID = dealID
	if d.PromisesKnown {
		if err := replacePromises(ctx, tx, dealID, accountID, d.Promises); err != nil {
			return res, nil, err
		}
	}
	if d.Stage != rooms.StageClosedWon {
		return res, nil, nil
	}
	if err := fillAccountFromDeal(ctx, tx, accountID, d); err != nil {
		return res, nil, err
	}
	tag, err := tx.Exec(ctx, `INSERT INTO handoffs (deal_id, account_id) VALUES ($1, $2) ON CONFLICT (deal_id) DO NOTHING`,
		dealID, accountID)
	if err != nil {
		return res, nil, fmt.Errorf("claim handoff: %w", err)
	}
	if tag.RowsAffected() == 0 {
		res.Handoff = "exists"
		_, err = tx.Exec(ctx, `UPDATE handoffs SET card_stale = true, next_at = now(), updated_at = now() WHERE deal_id = $1`, dealID)
		return res, nil, wrap("mark handoff card stale", err)
	}
	res.Handoff = "started"
	stored, err := dealByID(ctx, tx, dealID)
	if err != nil {
		return res, nil, err
	}
	at := now
	if stored.ClosedAt != nil {
		at = *stored.ClosedAt
	}
	return res, nil, addTimeline(ctx, tx, accountID, TimelineEntry{At: at, Kind: "deal.won", Summary: rooms.WonSummary(stored),
		Actor: stored.AE}, dealID)
}

// dealAccount finds the deal's account, creating it from the deal when it
// is new and named.
func dealAccount(ctx context.Context, tx DB, in rooms.DealInput) (int64, *api.RowError, error) {
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM accounts WHERE external_id = $1 FOR NO KEY UPDATE`, in.AccountExternalID).Scan(&id)
	if err == nil {
		if in.CRMAccountID != "" {
			_, err = tx.Exec(ctx, `UPDATE accounts SET crm_id = $2, updated_at = now() WHERE id = $1 AND crm_id <> $2`, id, in.CRMAccountID)
		}
		return id, nil, wrap("set account crm id", err)
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, nil, fmt.Errorf("find deal account: %w", err)
	}
	if in.AccountName == "" {
		return 0, &api.RowError{Field: "account", Message: fmt.Sprintf(
			"no account with external id %q; send account_name to create it", in.AccountExternalID)}, nil
	}
	err = tx.QueryRow(ctx, `INSERT INTO accounts (external_id, name, crm_id) VALUES ($1, $2, $3)
		ON CONFLICT (external_id) DO UPDATE SET updated_at = now() RETURNING id`,
		in.AccountExternalID, in.AccountName, in.CRMAccountID).Scan(&id)
	return id, nil, wrap("create deal account", err)
}

// fillAccountFromDeal copies what a won deal knows into the account where
// the account has nothing yet: a new logo gets its ARR, renewal and owners
// from the deal, and an expansion never overwrites what CS maintains.
func fillAccountFromDeal(ctx context.Context, tx DB, accountID int64, d rooms.Deal) error {
	_, err := tx.Exec(ctx, `UPDATE accounts SET
			arr = CASE WHEN arr = 0 AND $2::numeric IS NOT NULL THEN $2 ELSE arr END,
			segment = CASE WHEN segment = '' THEN $3 ELSE segment END,
			renewal_date = coalesce(renewal_date, $4),
			owner_csm = CASE WHEN owner_csm = '' THEN $5 ELSE owner_csm END,
			ae = CASE WHEN ae = '' THEN $6 ELSE ae END,
			champion = CASE WHEN champion = '' THEN $7 ELSE champion END,
			updated_at = now()
		WHERE id = $1`, accountID, d.ARR, d.Segment, d.RenewalDate, d.OwnerCSM, d.AE, d.Champion)
	return wrap("fill account from deal", err)
}

func replacePromises(ctx context.Context, tx DB, dealID, accountID int64, ps []rooms.Promise) error {
	if _, err := tx.Exec(ctx, `DELETE FROM deal_promises WHERE deal_id = $1`, dealID); err != nil {
		return fmt.Errorf("clear promises: %w", err)
	}
	for i, p := range ps {
		if _, err := tx.Exec(ctx, `INSERT INTO deal_promises (deal_id, account_id, position, kind, text, due_date)
			VALUES ($1, $2, $3, $4, $5, $6)`, dealID, accountID, i, string(p.Kind), p.Text, p.Due); err != nil {
			return fmt.Errorf("insert promise: %w", err)
		}
	}
	return nil
}

func knownText(s string, known bool) *string {
	if !known {
		return nil
	}
	return &s
}

func knownList(l []string, known bool) []string {
	if !known {
		return nil
	}
	if l == nil {
		return []string{}
	}
	return l
}

const dealColumns = `id, external_id, account_id, name, stage, closed_at, ae, owner_csm, decision_maker, champion,
	champion_title, champion_role_since, close_reason, product_concerns, competitors, promises_known, arr::float8,
	coalesce(term_months, 0), renewal_date, segment, reviewed_by, reviewed_at`

type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func dealByID(ctx context.Context, q rowQuerier, id int64) (rooms.Deal, error) {
	var d rooms.Deal
	err := scanDeal(q.QueryRow(ctx, `SELECT `+dealColumns+` FROM deals WHERE id = $1`, id), &d)
	if errors.Is(err, pgx.ErrNoRows) {
		return d, ErrNotFound
	}
	if err != nil {
		return d, fmt.Errorf("read deal %d: %w", id, err)
	}
	rows, err := q.Query(ctx, `SELECT kind, text, due_date FROM deal_promises WHERE deal_id = $1 ORDER BY position`, id)
	if err != nil {
		return d, fmt.Errorf("read promises: %w", err)
	}
	var kind string
	var p rooms.Promise
	_, err = pgx.ForEachRow(rows, []any{&kind, &p.Text, &p.Due}, func() error {
		p.Kind = rooms.PromiseKind(kind)
		d.Promises = append(d.Promises, p)
		p = rooms.Promise{}
		return nil
	})
	return d, wrap("read promises", err)
}

// scanDeal reads dealColumns (then extra) into d, without its promises.
func scanDeal(row pgx.Row, d *rooms.Deal, extra ...any) error {
	var concerns *string
	var competitors []string
	dest := append([]any{&d.ID, &d.ExternalID, &d.AccountID, &d.Name, &d.Stage, &d.ClosedAt, &d.AE, &d.OwnerCSM,
		&d.DecisionMaker, &d.Champion, &d.ChampionTitle, &d.ChampionRoleSince, &d.CloseReason, &concerns, &competitors,
		&d.PromisesKnown, &d.ARR, &d.TermMonths, &d.RenewalDate, &d.Segment, &d.ReviewedBy, &d.ReviewedAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return err
	}
	if concerns != nil {
		d.ProductConcerns, d.ConcernsKnown = *concerns, true
	}
	if competitors != nil {
		d.Competitors, d.CompetitorsKnown = competitors, true
	}
	return nil
}

// Deal returns one deal with its promises.
func (s *Store) Deal(ctx context.Context, id int64) (rooms.Deal, error) {
	return dealByID(ctx, s.pool, id)
}

// AccountPromise is a promise with the deal it was made in.
type AccountPromise struct {
	rooms.Promise
	DealID     int64
	DealName   string
	ClosedAt   *time.Time
	PromisedAt time.Time
}

// PromisesForAccount lists every promise made to an account, newest deal
// first: the root-cause flow links "feature overpromise" churn to these.
func (s *Store) PromisesForAccount(ctx context.Context, accountID int64) ([]AccountPromise, error) {
	rows, err := s.pool.Query(ctx, `SELECT p.kind, p.text, p.due_date, d.id, d.name, d.closed_at, p.created_at
		FROM deal_promises p JOIN deals d ON d.id = p.deal_id
		WHERE p.account_id = $1 ORDER BY d.closed_at DESC NULLS LAST, d.id DESC, p.position`, accountID)
	if err != nil {
		return nil, fmt.Errorf("account promises: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (AccountPromise, error) {
		var p AccountPromise
		var kind string
		err := r.Scan(&kind, &p.Text, &p.Due, &p.DealID, &p.DealName, &p.ClosedAt, &p.PromisedAt)
		p.Kind = rooms.PromiseKind(kind)
		return p, err
	})
}

// Review is what the AE submitted in the won deal review: it replaces
// every handoff field it shows.
type Review struct {
	DealID  int64
	Deal    rooms.Deal // the reviewed fields; lists count as confirmed
	User    string
	At      time.Time
	DMRef   string // the review request's outbox ref, updated to say thanks
	Thanks  any    // the DM's new content
	Summary string // timeline line
}

// ErrNotAllowed is returned when a user may not do what they asked.
var ErrNotAllowed = errors.New("not allowed")

// CompleteReview stores a won deal review, if user may review it (see
// MayReview); the card is refreshed by the handoff
// worker (card_stale), and the request DM updated, in the same
// transaction.
func (s *Store) CompleteReview(ctx context.Context, r Review) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var allowed bool
		var accountID int64
		err := tx.QueryRow(ctx, `SELECT d.account_id, `+mayReview+`
			FROM deals d JOIN accounts a ON a.id = d.account_id WHERE d.id = $1 FOR UPDATE OF d`, r.DealID, r.User).
			Scan(&accountID, &allowed)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("read deal for review: %w", err)
		}
		if !allowed {
			return ErrNotAllowed
		}
		d := r.Deal
		if _, err := tx.Exec(ctx, `UPDATE deals SET decision_maker = $2, champion = $3, champion_title = $4,
				champion_role_since = $5, close_reason = $6, product_concerns = $7, competitors = $8,
				promises_known = true, arr = $9, term_months = nullif($10, 0), renewal_date = $11, segment = $12,
				reviewed_by = $13, reviewed_at = $14, updated_at = now()
			WHERE id = $1`, r.DealID, d.DecisionMaker, d.Champion, d.ChampionTitle, d.ChampionRoleSince, d.CloseReason,
			d.ProductConcerns, knownList(d.Competitors, true), d.ARR, d.TermMonths, d.RenewalDate, d.Segment,
			r.User, r.At); err != nil {
			return fmt.Errorf("store review: %w", err)
		}
		if err := replacePromises(ctx, tx, r.DealID, accountID, d.Promises); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE handoffs SET card_stale = true, next_at = now(), updated_at = now()
			WHERE deal_id = $1`, r.DealID); err != nil {
			return fmt.Errorf("mark card stale: %w", err)
		}
		if err := addTimeline(ctx, tx, accountID, TimelineEntry{At: r.At, Kind: "handoff.reviewed", Summary: r.Summary,
			Actor: r.User}, r.DealID); err != nil {
			return err
		}
		if r.DMRef != "" && r.Thanks != nil {
			// Updates need the DM's conversation id, which the request was posted to.
			var channel string
			err := tx.QueryRow(ctx, `SELECT channel_id FROM outbox WHERE ref = $1`, r.DMRef).Scan(&channel)
			switch {
			case errors.Is(err, pgx.ErrNoRows):
			case err != nil:
				return fmt.Errorf("find review request: %w", err)
			default:
				if err := enqueue(ctx, tx, OutboxItem{Op: OpUpdate, ChannelID: channel, TargetRef: r.DMRef, Message: r.Thanks}); err != nil {
					return err
				}
			}
		}
		return notifyRooms(ctx, tx, QueueHandoffs)
	})
}

// mayReview is true when user $2 may review deal d of account a.
const mayReview = `$2 <> '' AND $2 IN (d.ae, a.ae, a.sales_manager, d.owner_csm, a.owner_csm)`

// MayReview reports whether user may fill in a deal's review: its AE or
// CSM, or the account's AE, sales manager or CSM (the review request goes
// to the CSM when nobody from Sales is known).
func (s *Store) MayReview(ctx context.Context, dealID int64, user string) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT `+mayReview+`
		FROM deals d JOIN accounts a ON a.id = d.account_id WHERE d.id = $1`, dealID, user).Scan(&ok)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, ErrNotFound
	}
	return ok, wrap("may review", err)
}
