package rooms

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/holdfast/holdfast/api"
	"github.com/holdfast/holdfast/store"
)

// DealResult says what one deal of a batch did.
type DealResult struct {
	ID        string `json:"id"` // the CRM's deal id, as sent
	DealID    int64  `json:"deal_id"`
	AccountID int64  `json:"account_id"`
	Status    string `json:"status"`  // created | updated | unchanged
	Handoff   string `json:"handoff"` // started | exists | none
}

// upsertDeal records one deal of a batch. A deal seen for the first time
// at closed-won, or moving to it, claims its handoff (one per deal, by
// primary key), so a replayed or concurrent delivery of the same win
// starts one handoff. An exact replay changes nothing; a changed won deal
// marks its card for a refresh. Fields a message leaves out keep their
// stored value. A problem only the database can see (the account is
// unknown, the deal is another account's) comes back as a RowError.
func upsertDeal(ctx context.Context, tx store.Tx, in DealInput, now time.Time) (DealResult, *api.RowError, error) {
	d := in.Deal
	res := DealResult{ID: d.ExternalID, Handoff: "none"}
	accountID, problem, err := dealAccount(ctx, tx, in)
	if err != nil || problem != nil {
		return res, problem, err
	}
	res.AccountID = accountID
	if len(in.Traits) > 0 {
		err := tx.MergeTraits(ctx, []int64{accountID}, []map[string]store.TraitValue{in.Traits})
		if te, ok := errors.AsType[*store.TraitTypeError](err); ok {
			return res, &api.RowError{Field: "account_" + te.Rows[0].Field, Message: te.Rows[0].Message}, nil
		}
		if err != nil {
			return res, nil, err
		}
	}

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
		if prevStage == StageClosedWon {
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
	if d.Stage != StageClosedWon {
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
		return res, nil, markCardChanged(ctx, tx, dealID)
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
	return res, nil, tx.AddTimeline(ctx, accountID, store.TimelineEntry{At: at, Kind: "deal.won", Summary: WonSummary(stored),
		Actor: stored.AE}, dealID)
}

// dealAccount finds the deal's account, creating it from the deal when it
// is new and named.
func dealAccount(ctx context.Context, tx store.Tx, in DealInput) (int64, *api.RowError, error) {
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
func fillAccountFromDeal(ctx context.Context, tx store.Tx, accountID int64, d Deal) error {
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

func replacePromises(ctx context.Context, tx store.Tx, dealID, accountID int64, ps []Promise) error {
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

func dealByID(ctx context.Context, db store.DB, id int64) (Deal, error) {
	var d Deal
	err := scanDeal(db.QueryRow(ctx, `SELECT `+dealColumns+` FROM deals WHERE id = $1`, id), &d)
	if errors.Is(err, pgx.ErrNoRows) {
		return d, store.ErrNotFound
	}
	if err != nil {
		return d, fmt.Errorf("read deal %d: %w", id, err)
	}
	rows, err := db.Query(ctx, `SELECT kind, text, due_date FROM deal_promises WHERE deal_id = $1 ORDER BY position`, id)
	if err != nil {
		return d, fmt.Errorf("read promises: %w", err)
	}
	var kind string
	var p Promise
	_, err = pgx.ForEachRow(rows, []any{&kind, &p.Text, &p.Due}, func() error {
		p.Kind = PromiseKind(kind)
		d.Promises = append(d.Promises, p)
		p = Promise{}
		return nil
	})
	return d, wrap("read promises", err)
}

// scanDeal reads dealColumns (then extra) into d, without its promises.
func scanDeal(row pgx.Row, d *Deal, extra ...any) error {
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

// AccountPromise is a promise with the deal it was made in.
type AccountPromise struct {
	Promise
	DealID     int64
	DealName   string
	ClosedAt   *time.Time
	PromisedAt time.Time
}

// PromisesForAccount lists every promise made to an account, newest deal
// first: the root-cause flow links "feature overpromise" churn to these.
func PromisesForAccount(ctx context.Context, db store.DB, accountID int64) ([]AccountPromise, error) {
	rows, err := db.Query(ctx, `SELECT p.kind, p.text, p.due_date, d.id, d.name, d.closed_at, p.created_at
		FROM deal_promises p JOIN deals d ON d.id = p.deal_id
		WHERE p.account_id = $1 ORDER BY d.closed_at DESC NULLS LAST, d.id DESC, p.position`, accountID)
	if err != nil {
		return nil, fmt.Errorf("account promises: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (AccountPromise, error) {
		var p AccountPromise
		var kind string
		err := r.Scan(&kind, &p.Text, &p.Due, &p.DealID, &p.DealName, &p.ClosedAt, &p.PromisedAt)
		p.Kind = PromiseKind(kind)
		return p, err
	})
}

// mayReviewSQL is true when user $2 may review deal d of account a.
const mayReviewSQL = `$2 <> '' AND $2 IN (d.ae, a.ae, a.sales_manager, d.owner_csm, a.owner_csm)`

// mayReview reports whether user may fill in a deal's review: its AE or
// CSM, or the account's AE, sales manager or CSM (the review request goes
// to the CSM when nobody from Sales is known). store.ErrNotFound when the
// deal does not exist.
func mayReview(ctx context.Context, db store.DB, dealID int64, user string) (bool, error) {
	var ok bool
	err := db.QueryRow(ctx, `SELECT `+mayReviewSQL+`
		FROM deals d JOIN accounts a ON a.id = d.account_id WHERE d.id = $1`, dealID, user).Scan(&ok)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, store.ErrNotFound
	}
	return ok, wrap("may review", err)
}

// lockForReview locks a deal for its review and says whose account it is
// and whether user may review it; store.ErrNotFound when it does not
// exist.
func lockForReview(ctx context.Context, tx store.Tx, dealID int64, user string) (accountID int64, allowed bool, err error) {
	err = tx.QueryRow(ctx, `SELECT d.account_id, `+mayReviewSQL+`
		FROM deals d JOIN accounts a ON a.id = d.account_id WHERE d.id = $1 FOR UPDATE OF d`, dealID, user).
		Scan(&accountID, &allowed)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, store.ErrNotFound
	}
	return accountID, allowed, wrap("read deal for review", err)
}

// storeReview replaces every handoff field the review shows; the lists
// count as confirmed.
func storeReview(ctx context.Context, tx store.Tx, dealID, accountID int64, d Deal, user string, at time.Time) error {
	if _, err := tx.Exec(ctx, `UPDATE deals SET decision_maker = $2, champion = $3, champion_title = $4,
			champion_role_since = $5, close_reason = $6, product_concerns = $7, competitors = $8,
			promises_known = true, arr = $9, term_months = nullif($10, 0), renewal_date = $11, segment = $12,
			reviewed_by = $13, reviewed_at = $14, updated_at = now()
		WHERE id = $1`, dealID, d.DecisionMaker, d.Champion, d.ChampionTitle, d.ChampionRoleSince, d.CloseReason,
		d.ProductConcerns, knownList(d.Competitors, true), d.ARR, d.TermMonths, d.RenewalDate, d.Segment,
		user, at); err != nil {
		return fmt.Errorf("store review: %w", err)
	}
	return replacePromises(ctx, tx, dealID, accountID, d.Promises)
}

// markCardChanged has the handoff worker refresh the deal's card now.
func markCardChanged(ctx context.Context, tx store.Tx, dealID int64) error {
	_, err := tx.Exec(ctx, `UPDATE handoffs SET card_stale = true, next_at = now(), updated_at = now() WHERE deal_id = $1`, dealID)
	return wrap("mark handoff card stale", err)
}
