package churn

// The statements of churn records, debriefs, check-ins and reports. Each
// runs on the store.DB it is given: the pool for reads, the service's
// store.Tx for a workflow.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/holdfast/holdfast/store"
)

// ErrAlreadyChurned: the account is churned already (another record, or a
// second submit of a different form).
var ErrAlreadyChurned = errors.New("account already churned")

// StoredRecord is a stored churn with its three levels of why.
type StoredRecord struct {
	Record
	StatedReason      string
	Diagnosis         string
	DealBehaviour     string
	SalesAttributable bool
	Tier              string
	CreatedAt         time.Time
}

const recordColumns = `c.id, c.account_id, a.name, c.churned_on, c.cause, c.arr::float8, c.recorded_by, c.owner_csm, c.ae,
	c.sales_manager, c.company_size_band, c.industry, c.deal_source, c.champion_tenure_months,
	c.stated_reason, c.diagnosis, c.deal_behaviour, c.sales_attributable, c.tier, c.created_at`

// scanRecord scans recordColumns, then extra (columns selected after them).
func scanRecord(row pgx.Row, extra ...any) (StoredRecord, error) {
	var r StoredRecord
	var cause string
	err := row.Scan(append([]any{&r.ID, &r.AccountID, &r.AccountName, &r.ChurnedOn, &cause, &r.ARR, &r.RecordedBy, &r.OwnerCSM, &r.AE,
		&r.SalesManager, &r.Profile.SizeBand, &r.Profile.Industry, &r.Profile.DealSource, &r.Profile.ChampionTenureMonths,
		&r.StatedReason, &r.Diagnosis, &r.DealBehaviour, &r.SalesAttributable, &r.Tier, &r.CreatedAt}, extra...)...)
	r.Cause = Cause(cause)
	return r, err
}

// recordBySubmission finds the record a submission stored (found=false
// when it stored none).
func recordBySubmission(ctx context.Context, db store.DB, key string) (_ StoredRecord, found bool, _ error) {
	r, err := scanRecord(db.QueryRow(ctx, `SELECT `+recordColumns+` FROM churn_records c
		JOIN accounts a ON a.id = c.account_id WHERE c.submission_key = $1`, key))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("find churn submission: %w", err)
	}
	return r, true, nil
}

// markChurned marks an active account churned; false when it was not active.
func markChurned(ctx context.Context, db store.DB, accountID int64) (bool, error) {
	tag, err := db.Exec(ctx, `UPDATE accounts SET status = 'churned', updated_at = now() WHERE id = $1 AND status = 'active'`, accountID)
	if err != nil {
		return false, fmt.Errorf("mark account churned: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// insertRecord stores the churn with what the account looked like (ARR,
// tier, people, cohort traits) when it churned.
func insertRecord(ctx context.Context, db store.DB, accountID int64, in RecordInput) (StoredRecord, error) {
	sub := in.Submission
	rec, err := scanRecord(db.QueryRow(ctx, `WITH c AS (
			INSERT INTO churn_records (account_id, submission_key, churned_on, cause, sales_attributable,
				stated_reason, diagnosis, deal_behaviour, recorded_by, arr, tier, owner_csm, ae, sales_manager,
				company_size_band, industry, deal_source, champion_tenure_months, created_at)
			SELECT a.id, $2, $3, $4, $5, $6, $7, $8, $9, a.arr, a.tier, a.owner_csm, a.ae, a.sales_manager,
				coalesce(p.company_size_band, ''), coalesce(p.industry, ''), coalesce(p.deal_source, ''),
				p.champion_tenure_months, $10
			FROM accounts a LEFT JOIN account_profiles p ON p.account_id = a.id WHERE a.id = $1
			RETURNING *)
		SELECT `+recordColumns+` FROM c JOIN accounts a ON a.id = c.account_id`, accountID, in.SubmissionKey, sub.ChurnedOn,
		string(sub.Cause), sub.Cause.SalesAttributable(), sub.StatedReason, sub.Diagnosis, sub.DealBehaviour, in.RecordedBy, in.At))
	if err != nil {
		return rec, fmt.Errorf("insert churn record: %w", err)
	}
	return rec, nil
}

// sameCauseCounts counts churns with rec's cause in the 365 days up to it
// (it included), in its AE's book and overall.
func sameCauseCounts(ctx context.Context, db store.DB, rec StoredRecord) (ae, team int, err error) {
	if err := db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE $3 <> '' AND ae = $3), count(*) FROM churn_records
		WHERE cause = $1 AND churned_on > $2::date - 365 AND churned_on <= $2::date`,
		string(rec.Cause), rec.ChurnedOn, rec.AE).Scan(&ae, &team); err != nil {
		return 0, 0, fmt.Errorf("count same-cause churn: %w", err)
	}
	return ae, team, nil
}

// insertDebrief opens the debrief of a sales-attributable churn with what
// its DM showed (view), so the DM can be re-rendered as the debrief moves.
func insertDebrief(ctx context.Context, db store.DB, churnID int64, view any) error {
	raw, err := json.Marshal(view)
	if err != nil {
		return fmt.Errorf("encode debrief view: %w", err)
	}
	if _, err := db.Exec(ctx, `INSERT INTO churn_debriefs (churn_id, view) VALUES ($1, $2)`, churnID, raw); err != nil {
		return fmt.Errorf("insert debrief: %w", err)
	}
	return nil
}

// latestRecord is the account's most recent churn record, or store.ErrNotFound.
func latestRecord(ctx context.Context, db store.DB, accountID int64) (StoredRecord, error) {
	r, err := scanRecord(db.QueryRow(ctx, `SELECT `+recordColumns+` FROM churn_records c
		JOIN accounts a ON a.id = c.account_id WHERE c.account_id = $1 ORDER BY c.churned_on DESC, c.id DESC LIMIT 1`, accountID))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, store.ErrNotFound
	}
	return r, wrap("latest churn", err)
}

// lookalikeCandidates loads active accounts sharing at least minMatch traits
// with one of the profiles (in ae's book when ae is set), most traits first,
// then by ARR. MatchLookalikes makes the same comparison in Go (which
// traits, which churn); width_bucket over TenureThresholds gives
// TenureBucket.
func lookalikeCandidates(ctx context.Context, db store.DB, profiles []Profile, ae string, minMatch, limit int) ([]Candidate, error) {
	if len(profiles) == 0 || limit <= 0 {
		return nil, nil
	}
	sizes, industries, sources, tenures := make([]string, len(profiles)), make([]string, len(profiles)), make([]string, len(profiles)), make([]int, len(profiles))
	for i, p := range profiles {
		sizes[i], industries[i], sources[i] = strings.ToLower(strings.TrimSpace(p.SizeBand)), strings.ToLower(strings.TrimSpace(p.Industry)), strings.ToLower(strings.TrimSpace(p.DealSource))
		tenures[i] = TenureBucket(p.ChampionTenureMonths)
	}
	// Each account's traits are lowered and bucketed once, scored against
	// every profile (plain equality), and only pairs at or above the
	// minimum survive to be ranked. MATERIALIZED keeps it once: inlined,
	// the planner recomputed the traits and rescanned unnest per pair
	// (about twice as slow over 90k accounts and 10 profiles).
	rows, err := db.Query(ctx, `WITH c AS MATERIALIZED (
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[]) AS c(size, industry, source, tenure)),
		acc AS MATERIALIZED (
			SELECT a.id, a.name, a.arr::float8 AS arr, a.owner_csm, a.ae, a.health_score, p.company_size_band, p.industry,
				p.deal_source, p.champion_tenure_months, lower(p.company_size_band) AS ls, lower(p.industry) AS li,
				lower(p.deal_source) AS lsrc, coalesce(width_bucket(p.champion_tenure_months, $6::int[]), -2) AS tb
			FROM accounts a JOIN account_profiles p ON p.account_id = a.id
			WHERE a.status = 'active' AND ($5 = '' OR a.ae = $5)),
		pairs AS (
			SELECT acc.*, (c.size <> '' AND acc.ls = c.size)::int + (c.industry <> '' AND acc.li = c.industry)::int
				+ (c.source <> '' AND acc.lsrc = c.source)::int + (acc.tb = c.tenure)::int AS score
			FROM acc CROSS JOIN c),
		scored AS (
			SELECT DISTINCT ON (id) * FROM pairs WHERE score >= $7 ORDER BY id, score DESC)
		SELECT id, name, arr, owner_csm, ae, health_score, company_size_band, industry, deal_source, champion_tenure_months
		FROM scored ORDER BY score DESC, arr DESC, id
		LIMIT $8`, sizes, industries, sources, tenures, ae, TenureThresholds, minMatch, limit)
	if err != nil {
		return nil, fmt.Errorf("lookalike accounts: %w", err)
	}
	cands, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Candidate, error) {
		var c Candidate
		err := r.Scan(&c.AccountID, &c.Name, &c.ARR, &c.OwnerCSM, &c.AE, &c.HealthScore, &c.Profile.SizeBand,
			&c.Profile.Industry, &c.Profile.DealSource, &c.Profile.ChampionTenureMonths)
		return c, err
	})
	return cands, wrap("lookalike accounts", err)
}

// churnRecords returns the records churned on dates in [from, to), oldest first.
func churnRecords(ctx context.Context, db store.DB, from, to time.Time) ([]StoredRecord, error) {
	rows, err := db.Query(ctx, `SELECT `+recordColumns+` FROM churn_records c JOIN accounts a ON a.id = c.account_id
		WHERE c.churned_on >= $1 AND c.churned_on < $2 ORDER BY c.churned_on, c.id`, from, to)
	if err != nil {
		return nil, fmt.Errorf("churn records: %w", err)
	}
	recs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (StoredRecord, error) { return scanRecord(r) })
	return recs, wrap("churn records", err)
}

// cohortGroups counts, per combination of cohort traits, the accounts that
// were customers when the period started and how many of them churned in
// it. A customer at the start is an account whose latest churn record is
// not before the start, and that is active or has such a record (an
// account marked churned without a record has no date to judge by).
// Churned accounts are counted with the traits recorded at churn.
func cohortGroups(ctx context.Context, db store.DB, p Period) ([]CohortGroup, error) {
	// The latest record per churned account (a small set) joined by hash,
	// rather than a lookup per account.
	rows, err := db.Query(ctx, `WITH latest AS (
			SELECT DISTINCT ON (account_id) * FROM churn_records ORDER BY account_id, churned_on DESC, id DESC),
		base AS (
			SELECT CASE WHEN r.id IS NULL THEN coalesce(pr.company_size_band, '') ELSE r.company_size_band END AS size,
				CASE WHEN r.id IS NULL THEN coalesce(pr.industry, '') ELSE r.industry END AS industry,
				CASE WHEN r.id IS NULL THEN coalesce(pr.deal_source, '') ELSE r.deal_source END AS source,
				CASE WHEN r.id IS NULL THEN pr.champion_tenure_months ELSE r.champion_tenure_months END AS tenure,
				coalesce(r.churned_on >= $1 AND r.churned_on < $2, false) AS churned
			FROM accounts a
			LEFT JOIN account_profiles pr ON pr.account_id = a.id
			LEFT JOIN latest r ON r.account_id = a.id
			WHERE (r.id IS NULL AND a.status = 'active') OR r.churned_on >= $1)
		SELECT size, industry, source, tenure, count(*), count(*) FILTER (WHERE churned)
		FROM base GROUP BY size, industry, source, tenure ORDER BY 1, 2, 3, 4`, p.Start, p.End)
	if err != nil {
		return nil, fmt.Errorf("cohort groups: %w", err)
	}
	groups, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CohortGroup, error) {
		var g CohortGroup
		err := r.Scan(&g.SizeBand, &g.Industry, &g.DealSource, &g.ChampionTenureMonths, &g.Accounts, &g.Churned)
		return g, err
	})
	return groups, wrap("cohort groups", err)
}

// Debrief is the state of a sales-attributable churn's debrief.
type Debrief struct {
	ChurnID       int64
	ScheduledFor  *time.Time
	ScheduledBy   string
	HeldAt        *time.Time
	Outcome       string
	RecordedBy    string
	ProcessChange string
	ChangeOwner   string
	CheckinDue    *time.Time
	CheckinSentAt *time.Time
	View          json.RawMessage // what the debrief DM showed
}

// DebriefInfo is a debrief with its churn record.
type DebriefInfo struct {
	Record  StoredRecord
	Debrief Debrief
}

const debriefColumns = `d.churn_id, d.scheduled_for, coalesce(d.scheduled_by, ''), d.held_at, coalesce(d.outcome, ''),
	coalesce(d.recorded_by, ''), coalesce(d.process_change, ''), coalesce(d.change_owner, ''), d.checkin_due, d.checkin_sent_at, d.view`

// debriefSelect reads debriefs with their records (scanDebriefInfo).
const debriefSelect = `SELECT ` + recordColumns + `, ` + debriefColumns + `
	FROM churn_debriefs d JOIN churn_records c ON c.id = d.churn_id JOIN accounts a ON a.id = c.account_id `

func scanDebriefInfo(row pgx.Row) (DebriefInfo, error) {
	var info DebriefInfo
	d := &info.Debrief
	var err error
	info.Record, err = scanRecord(row, &d.ChurnID, &d.ScheduledFor, &d.ScheduledBy, &d.HeldAt, &d.Outcome, &d.RecordedBy,
		&d.ProcessChange, &d.ChangeOwner, &d.CheckinDue, &d.CheckinSentAt, &d.View)
	if errors.Is(err, pgx.ErrNoRows) {
		return info, store.ErrNotFound
	}
	return info, err
}

// debriefFor reads a debrief and its record; store.ErrNotFound when the
// churn has none.
func debriefFor(ctx context.Context, db store.DB, churnID int64) (DebriefInfo, error) {
	info, err := scanDebriefInfo(db.QueryRow(ctx, debriefSelect+`WHERE d.churn_id = $1`, churnID))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		err = fmt.Errorf("debrief: %w", err)
	}
	return info, err
}

// scheduleDebrief records when the debrief takes place; false once it was
// held (rescheduling is allowed until then).
func scheduleDebrief(ctx context.Context, db store.DB, churnID int64, at time.Time, by string) (bool, error) {
	tag, err := db.Exec(ctx, `UPDATE churn_debriefs SET scheduled_for = $2, scheduled_by = $3
		WHERE churn_id = $1 AND held_at IS NULL`, churnID, at, by)
	if err != nil {
		return false, fmt.Errorf("schedule debrief: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// DebriefOutcome is what a held debrief concluded.
type DebriefOutcome struct {
	Outcome       string
	ProcessChange string // the one process change agreed, "" if none
	ChangeOwner   string
	CheckinDue    *time.Time
	By            string
	At            time.Time
}

// recordDebriefOutcome stores the outcome once: false when it was recorded
// before (the first submission wins).
func recordDebriefOutcome(ctx context.Context, db store.DB, churnID int64, o DebriefOutcome) (bool, error) {
	tag, err := db.Exec(ctx, `UPDATE churn_debriefs SET held_at = $2, outcome = $3, recorded_by = $4,
			process_change = nullif($5, ''), change_owner = nullif($6, ''), checkin_due = $7
		WHERE churn_id = $1 AND held_at IS NULL`, churnID, o.At, o.Outcome, o.By, o.ProcessChange, o.ChangeOwner, o.CheckinDue)
	if err != nil {
		return false, fmt.Errorf("record debrief outcome: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// dueCheckins claims up to 500 agreed process changes whose check-in is
// due by today (the job's date in the team's time zone) and not sent; they
// are enqueued and marked sent in the same transaction.
func dueCheckins(ctx context.Context, tx store.Tx, today time.Time) ([]DebriefInfo, error) {
	rows, err := store.Claim(ctx, tx, debriefSelect+`
		WHERE d.checkin_due <= $1 AND d.checkin_sent_at IS NULL AND d.process_change IS NOT NULL
		ORDER BY d.checkin_due, d.churn_id LIMIT 500`, "d", today)
	if err != nil {
		return nil, fmt.Errorf("due check-ins: %w", err)
	}
	due, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DebriefInfo, error) { return scanDebriefInfo(r) })
	if err != nil {
		return nil, fmt.Errorf("due check-ins: %w", err)
	}
	return due, nil
}

func markCheckinSent(ctx context.Context, db store.DB, churnID int64) error {
	if _, err := db.Exec(ctx, `UPDATE churn_debriefs SET checkin_sent_at = now() WHERE churn_id = $1`, churnID); err != nil {
		return fmt.Errorf("mark check-in sent: %w", err)
	}
	return nil
}

// processChanges lists the process changes agreed in debriefs held in [from, to).
func processChanges(ctx context.Context, db store.DB, from, to time.Time) ([]ProcessChange, error) {
	rows, err := db.Query(ctx, `SELECT c.id, a.name, c.cause, d.process_change, coalesce(d.change_owner, ''), d.held_at,
			coalesce(d.checkin_due, d.held_at::date)
		FROM churn_debriefs d JOIN churn_records c ON c.id = d.churn_id JOIN accounts a ON a.id = c.account_id
		WHERE d.process_change IS NOT NULL AND d.held_at >= $1 AND d.held_at < $2 ORDER BY d.held_at, c.id`, from, to)
	if err != nil {
		return nil, fmt.Errorf("process changes: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ProcessChange, error) {
		var p ProcessChange
		var cause string
		err := r.Scan(&p.ChurnID, &p.AccountName, &cause, &p.Change, &p.Owner, &p.HeldAt, &p.CheckinDue)
		p.Cause = Cause(cause)
		return p, err
	})
	return out, wrap("process changes", err)
}

// recordPost records that a post of this kind was made for the period;
// false when one was made before (by another replica, or an earlier run).
func recordPost(ctx context.Context, db store.DB, kind, period string, at time.Time) (bool, error) {
	tag, err := db.Exec(ctx, `INSERT INTO loop_posts (kind, period, posted_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, kind, period, at)
	if err != nil {
		return false, fmt.Errorf("record post: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// posted reports whether a post of this kind was made for the period.
func posted(ctx context.Context, db store.DB, kind, period string) (bool, error) {
	var ok bool
	err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM loop_posts WHERE kind = $1 AND period = $2)`, kind, period).Scan(&ok)
	return ok, wrap("posted", err)
}

// accountProfile is an account's stored cohort traits ({} when none are
// known) and its Stripe customer.
func accountProfile(ctx context.Context, db store.DB, accountID int64) (Profile, string, error) {
	var p Profile
	var stripe *string
	err := db.QueryRow(ctx, `SELECT company_size_band, industry, deal_source, champion_tenure_months, stripe_customer_id
		FROM account_profiles WHERE account_id = $1`, accountID).Scan(&p.SizeBand, &p.Industry, &p.DealSource,
		&p.ChampionTenureMonths, &stripe)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, "", nil
	}
	return p, deref(stripe), wrap("account profile", err)
}

func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}
