package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/holdfast/holdfast/churn"
)

// ErrAlreadyChurned: the account is churned already (another record, or a
// second submit of a different form).
var ErrAlreadyChurned = errors.New("account already churned")

// ChurnRecord is a stored churn with its three levels of why.
type ChurnRecord struct {
	churn.Record
	StatedReason      string
	Diagnosis         string
	DealBehaviour     string
	SalesAttributable bool
	Tier              string
	CreatedAt         time.Time
}

const churnColumns = `c.id, c.account_id, a.name, c.churned_on, c.cause, c.arr::float8, c.recorded_by, c.owner_csm, c.ae,
	c.sales_manager, c.company_size_band, c.industry, c.deal_source, c.champion_tenure_months,
	c.stated_reason, c.diagnosis, c.deal_behaviour, c.sales_attributable, c.tier, c.created_at`

// scanChurn scans churnColumns, then extra (columns selected after them).
func scanChurn(row pgx.Row, extra ...any) (ChurnRecord, error) {
	var r ChurnRecord
	var cause string
	err := row.Scan(append([]any{&r.ID, &r.AccountID, &r.AccountName, &r.ChurnedOn, &cause, &r.ARR, &r.RecordedBy, &r.OwnerCSM, &r.AE,
		&r.SalesManager, &r.Profile.SizeBand, &r.Profile.Industry, &r.Profile.DealSource, &r.Profile.ChampionTenureMonths,
		&r.StatedReason, &r.Diagnosis, &r.DealBehaviour, &r.SalesAttributable, &r.Tier, &r.CreatedAt}, extra...)...)
	r.Cause = churn.Cause(cause)
	return r, err
}

// ChurnContext is what the notifications of a new churn are built from,
// read in the transaction that records it.
type ChurnContext struct {
	Record  ChurnRecord
	Account Account
	// Candidates are active accounts in the AE's book (every active account
	// when there is no AE) that share at least the minimum traits with the
	// churned account, best first.
	Candidates []churn.Candidate
	// SameCauseAE / SameCauseTeam count churns with this cause in the 365
	// days up to this one (this one included), in the AE's book / overall.
	SameCauseAE   int
	SameCauseTeam int
}

// ChurnInput records one churn.
type ChurnInput struct {
	AccountID     int64
	SubmissionKey string // the modal's view id
	Submission    churn.Submission
	RecordedBy    string
	At            time.Time
	MinMatch      int // lookalike traits
	Lookalikes    int // how many candidates to load
}

// RecordChurn marks the account churned, stores the root-cause record, its
// timeline entry and (sales-attributable causes) a pending debrief, and
// enqueues what render returns, all in one transaction. A replay of the same
// submission returns the stored record with created=false and enqueues
// nothing; a different submission for an account that is already churned
// gets ErrAlreadyChurned.
// render also returns what the debrief DM showed (stored to re-render it).
func (s *Store) RecordChurn(ctx context.Context, in ChurnInput, render func(ChurnContext) ([]OutboxItem, any, error)) (rec ChurnRecord, created bool, err error) {
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		acct, err := accountTx(ctx, tx, in.AccountID, true)
		if err != nil {
			return err
		}
		// The account row lock orders concurrent submits; a replay finds the first.
		existing, err := scanChurn(tx.QueryRow(ctx, `SELECT `+churnColumns+` FROM churn_records c
			JOIN accounts a ON a.id = c.account_id WHERE c.submission_key = $1`, in.SubmissionKey))
		if err == nil {
			rec = existing
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("find churn submission: %w", err)
		}
		tag, err := tx.Exec(ctx, `UPDATE accounts SET status = 'churned', updated_at = now() WHERE id = $1 AND status = 'active'`, acct.ID)
		if err != nil {
			return fmt.Errorf("mark account churned: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return ErrAlreadyChurned
		}
		sub := in.Submission
		rec, err = scanChurn(tx.QueryRow(ctx, `WITH c AS (
				INSERT INTO churn_records (account_id, submission_key, churned_on, cause, sales_attributable,
					stated_reason, diagnosis, deal_behaviour, recorded_by, arr, tier, owner_csm, ae, sales_manager,
					company_size_band, industry, deal_source, champion_tenure_months, created_at)
				SELECT a.id, $2, $3, $4, $5, $6, $7, $8, $9, a.arr, a.tier, a.owner_csm, a.ae, a.sales_manager,
					coalesce(p.company_size_band, ''), coalesce(p.industry, ''), coalesce(p.deal_source, ''),
					p.champion_tenure_months, $10
				FROM accounts a LEFT JOIN account_profiles p ON p.account_id = a.id WHERE a.id = $1
				RETURNING *)
			SELECT `+churnColumns+` FROM c JOIN accounts a ON a.id = c.account_id`, acct.ID, in.SubmissionKey, sub.ChurnedOn,
			string(sub.Cause), sub.Cause.SalesAttributable(), sub.StatedReason, sub.Diagnosis, sub.DealBehaviour, in.RecordedBy, in.At))
		if err != nil {
			return fmt.Errorf("insert churn record: %w", err)
		}
		created = true
		summary := "churned: " + sub.Cause.Label()
		if err := addTimeline(ctx, tx, acct.ID, TimelineEntry{At: in.At, Kind: "churn.recorded", Summary: summary, Actor: in.RecordedBy}, rec.ID); err != nil {
			return err
		}
		acct.Status = "churned"
		cc := ChurnContext{Record: rec, Account: acct}
		if rec.SalesAttributable {
			if cc.Candidates, err = lookalikeCandidates(ctx, tx, []churn.Profile{rec.Profile}, rec.AE, in.MinMatch, in.Lookalikes); err != nil {
				return err
			}
			if err := tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE $3 <> '' AND ae = $3), count(*) FROM churn_records
				WHERE cause = $1 AND churned_on > $2::date - 365 AND churned_on <= $2::date`,
				string(rec.Cause), rec.ChurnedOn, rec.AE).Scan(&cc.SameCauseAE, &cc.SameCauseTeam); err != nil {
				return fmt.Errorf("count same-cause churn: %w", err)
			}
		}
		items, view, err := render(cc)
		if err != nil {
			return err
		}
		if rec.SalesAttributable {
			raw, err := json.Marshal(view)
			if err != nil {
				return fmt.Errorf("encode debrief view: %w", err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO churn_debriefs (churn_id, view) VALUES ($1, $2)`, rec.ID, raw); err != nil {
				return fmt.Errorf("insert debrief: %w", err)
			}
		}
		for _, it := range items {
			if err := enqueue(ctx, tx, it); err != nil {
				return err
			}
		}
		return nil
	})
	return rec, created, err
}

// LatestChurn is the account's most recent churn record, or ErrNotFound.
func (s *Store) LatestChurn(ctx context.Context, accountID int64) (ChurnRecord, error) {
	r, err := scanChurn(s.pool.QueryRow(ctx, `SELECT `+churnColumns+` FROM churn_records c
		JOIN accounts a ON a.id = c.account_id WHERE c.account_id = $1 ORDER BY c.churned_on DESC, c.id DESC LIMIT 1`, accountID))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, ErrNotFound
	}
	return r, wrap("latest churn", err)
}

// lookalikeCandidates loads active accounts sharing at least minMatch traits
// with one of the profiles (in ae's book when ae is set), most traits first,
// then by ARR. churn.MatchLookalikes makes the same comparison in Go (which
// traits, which churn); width_bucket over churn.TenureThresholds gives
// churn.TenureBucket.
func lookalikeCandidates(ctx context.Context, q querier, profiles []churn.Profile, ae string, minMatch, limit int) ([]churn.Candidate, error) {
	if len(profiles) == 0 || limit <= 0 {
		return nil, nil
	}
	sizes, industries, sources, tenures := make([]string, len(profiles)), make([]string, len(profiles)), make([]string, len(profiles)), make([]int, len(profiles))
	for i, p := range profiles {
		sizes[i], industries[i], sources[i] = strings.ToLower(strings.TrimSpace(p.SizeBand)), strings.ToLower(strings.TrimSpace(p.Industry)), strings.ToLower(strings.TrimSpace(p.DealSource))
		tenures[i] = churn.TenureBucket(p.ChampionTenureMonths)
	}
	// Each account's traits are lowered and bucketed once, scored against
	// every profile (plain equality), and only pairs at or above the
	// minimum survive to be ranked. MATERIALIZED keeps it once: inlined,
	// the planner recomputed the traits and rescanned unnest per pair
	// (about twice as slow over 90k accounts and 10 profiles).
	rows, err := q.Query(ctx, `WITH c AS MATERIALIZED (
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
		LIMIT $8`, sizes, industries, sources, tenures, ae, churn.TenureThresholds, minMatch, limit)
	if err != nil {
		return nil, fmt.Errorf("lookalike accounts: %w", err)
	}
	cands, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (churn.Candidate, error) {
		var c churn.Candidate
		err := r.Scan(&c.AccountID, &c.Name, &c.ARR, &c.OwnerCSM, &c.AE, &c.HealthScore, &c.Profile.SizeBand,
			&c.Profile.Industry, &c.Profile.DealSource, &c.Profile.ChampionTenureMonths)
		return c, err
	})
	return cands, wrap("lookalike accounts", err)
}

// querier is a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// LookalikeCandidates is lookalikeCandidates outside a transaction (reports).
func (s *Store) LookalikeCandidates(ctx context.Context, profiles []churn.Profile, ae string, minMatch, limit int) ([]churn.Candidate, error) {
	return lookalikeCandidates(ctx, s.pool, profiles, ae, minMatch, limit)
}

// ChurnRecords returns the records churned on dates in [from, to), oldest first.
func (s *Store) ChurnRecords(ctx context.Context, from, to time.Time) ([]ChurnRecord, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+churnColumns+` FROM churn_records c JOIN accounts a ON a.id = c.account_id
		WHERE c.churned_on >= $1 AND c.churned_on < $2 ORDER BY c.churned_on, c.id`, from, to)
	if err != nil {
		return nil, fmt.Errorf("churn records: %w", err)
	}
	recs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ChurnRecord, error) { return scanChurn(r) })
	return recs, wrap("churn records", err)
}

// CohortGroups counts, per combination of cohort traits, the accounts that
// were customers when the period started and how many of them churned in
// it. A customer at the start is an account whose latest churn record is
// not before the start, and that is active or has such a record (an
// account marked churned without a record has no date to judge by).
// Churned accounts are counted with the traits recorded at churn.
func (s *Store) CohortGroups(ctx context.Context, p churn.Period) ([]churn.CohortGroup, error) {
	// The latest record per churned account (a small set) joined by hash,
	// rather than a lookup per account.
	rows, err := s.pool.Query(ctx, `WITH latest AS (
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
	groups, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (churn.CohortGroup, error) {
		var g churn.CohortGroup
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
	Record  ChurnRecord
	Debrief Debrief
}

const debriefColumns = `d.churn_id, d.scheduled_for, coalesce(d.scheduled_by, ''), d.held_at, coalesce(d.outcome, ''),
	coalesce(d.recorded_by, ''), coalesce(d.process_change, ''), coalesce(d.change_owner, ''), d.checkin_due, d.checkin_sent_at, d.view`

// debriefSelect reads debriefs with their records (scanDebriefInfo).
const debriefSelect = `SELECT ` + churnColumns + `, ` + debriefColumns + `
	FROM churn_debriefs d JOIN churn_records c ON c.id = d.churn_id JOIN accounts a ON a.id = c.account_id `

func scanDebriefInfo(row pgx.Row) (DebriefInfo, error) {
	var info DebriefInfo
	d := &info.Debrief
	var err error
	info.Record, err = scanChurn(row, &d.ChurnID, &d.ScheduledFor, &d.ScheduledBy, &d.HeldAt, &d.Outcome, &d.RecordedBy,
		&d.ProcessChange, &d.ChangeOwner, &d.CheckinDue, &d.CheckinSentAt, &d.View)
	if errors.Is(err, pgx.ErrNoRows) {
		return info, ErrNotFound
	}
	return info, err
}

// DebriefFor reads a debrief and its record; ErrNotFound when the churn has none.
func (s *Store) DebriefFor(ctx context.Context, churnID int64) (DebriefInfo, error) {
	info, err := scanDebriefInfo(s.pool.QueryRow(ctx, debriefSelect+`WHERE d.churn_id = $1`, churnID))
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("debrief: %w", err)
	}
	return info, err
}

// ScheduleDebrief records when the debrief takes place (rescheduling
// allowed until it is held) and enqueues what render returns.
func (s *Store) ScheduleDebrief(ctx context.Context, churnID int64, at time.Time, by string, now time.Time, render func(DebriefInfo) ([]OutboxItem, error)) (DebriefInfo, bool, error) {
	var info DebriefInfo
	var ok bool
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE churn_debriefs SET scheduled_for = $2, scheduled_by = $3
			WHERE churn_id = $1 AND held_at IS NULL`, churnID, at, by)
		if err != nil {
			return fmt.Errorf("schedule debrief: %w", err)
		}
		ok = tag.RowsAffected() == 1
		if info, err = scanDebriefInfo(tx.QueryRow(ctx, debriefSelect+`WHERE d.churn_id = $1`, churnID)); err != nil {
			return err
		}
		if !ok {
			return nil
		}
		if err := addTimeline(ctx, tx, info.Record.AccountID, TimelineEntry{At: now, Kind: "churn.debrief_scheduled",
			Summary: "sales debrief scheduled for " + at.UTC().Format("Jan 2 15:04 MST"), Actor: by}, churnID); err != nil {
			return err
		}
		return enqueueAll(ctx, tx, info, render)
	})
	return info, ok, err
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

// RecordDebriefOutcome stores the outcome once: the first submission wins
// (ok=false for later ones) and enqueues what render returns.
func (s *Store) RecordDebriefOutcome(ctx context.Context, churnID int64, o DebriefOutcome, render func(DebriefInfo) ([]OutboxItem, error)) (DebriefInfo, bool, error) {
	var info DebriefInfo
	var ok bool
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE churn_debriefs SET held_at = $2, outcome = $3, recorded_by = $4,
				process_change = nullif($5, ''), change_owner = nullif($6, ''), checkin_due = $7
			WHERE churn_id = $1 AND held_at IS NULL`, churnID, o.At, o.Outcome, o.By, o.ProcessChange, o.ChangeOwner, o.CheckinDue)
		if err != nil {
			return fmt.Errorf("record debrief outcome: %w", err)
		}
		ok = tag.RowsAffected() == 1
		if info, err = scanDebriefInfo(tx.QueryRow(ctx, debriefSelect+`WHERE d.churn_id = $1`, churnID)); err != nil {
			return err
		}
		if !ok {
			return nil
		}
		summary := "sales debrief held"
		if o.ProcessChange != "" {
			summary += "; process change agreed"
		}
		if err := addTimeline(ctx, tx, info.Record.AccountID, TimelineEntry{At: o.At, Kind: "churn.debrief_held", Summary: summary, Actor: o.By}, churnID); err != nil {
			return err
		}
		return enqueueAll(ctx, tx, info, render)
	})
	return info, ok, err
}

func enqueueAll[T any](ctx context.Context, tx DB, v T, render func(T) ([]OutboxItem, error)) error {
	items, err := render(v)
	if err != nil {
		return err
	}
	for _, it := range items {
		if err := enqueue(ctx, tx, it); err != nil {
			return err
		}
	}
	return nil
}

// SendDueCheckins enqueues the check-in reminder of every agreed process
// change due by today and marks it sent in the same transaction, so a
// missed day catches up and nothing is reminded twice.
func (s *Store) SendDueCheckins(ctx context.Context, today time.Time, render func(DebriefInfo) ([]OutboxItem, error)) (int, error) {
	n := 0
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, debriefSelect+`
			WHERE d.checkin_due <= $1 AND d.checkin_sent_at IS NULL AND d.process_change IS NOT NULL
			ORDER BY d.checkin_due, d.churn_id LIMIT 500 FOR UPDATE OF d SKIP LOCKED`, today)
		if err != nil {
			return fmt.Errorf("due check-ins: %w", err)
		}
		due, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DebriefInfo, error) { return scanDebriefInfo(r) })
		if err != nil {
			return fmt.Errorf("due check-ins: %w", err)
		}
		for _, info := range due {
			if err := enqueueAll(ctx, tx, info, render); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE churn_debriefs SET checkin_sent_at = now() WHERE churn_id = $1`, info.Debrief.ChurnID); err != nil {
				return fmt.Errorf("mark check-in sent: %w", err)
			}
			n++
		}
		return nil
	})
	return n, err
}

// ProcessChanges lists the process changes agreed in debriefs held in [from, to).
func (s *Store) ProcessChanges(ctx context.Context, from, to time.Time) ([]churn.ProcessChange, error) {
	rows, err := s.pool.Query(ctx, `SELECT c.id, a.name, c.cause, d.process_change, coalesce(d.change_owner, ''), d.held_at,
			coalesce(d.checkin_due, d.held_at::date)
		FROM churn_debriefs d JOIN churn_records c ON c.id = d.churn_id JOIN accounts a ON a.id = c.account_id
		WHERE d.process_change IS NOT NULL AND d.held_at >= $1 AND d.held_at < $2 ORDER BY d.held_at, c.id`, from, to)
	if err != nil {
		return nil, fmt.Errorf("process changes: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (churn.ProcessChange, error) {
		var p churn.ProcessChange
		var cause string
		err := r.Scan(&p.ChurnID, &p.AccountName, &cause, &p.Change, &p.Owner, &p.HeldAt, &p.CheckinDue)
		p.Cause = churn.Cause(cause)
		return p, err
	})
	return out, wrap("process changes", err)
}

// PostOnce enqueues items unless a post of this kind was already made for
// the period, and records it, in one transaction: a scheduled post goes out
// once however many replicas or catch-up runs try.
func (s *Store) PostOnce(ctx context.Context, kind, period string, at time.Time, items []OutboxItem) (bool, error) {
	posted := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO loop_posts (kind, period, posted_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, kind, period, at)
		if err != nil {
			return fmt.Errorf("record post: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		posted = true
		for _, it := range items {
			if err := enqueue(ctx, tx, it); err != nil {
				return err
			}
		}
		return nil
	})
	return posted, err
}

// Posted reports whether a post of this kind was made for the period.
func (s *Store) Posted(ctx context.Context, kind, period string) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM loop_posts WHERE kind = $1 AND period = $2)`, kind, period).Scan(&ok)
	return ok, wrap("posted", err)
}
