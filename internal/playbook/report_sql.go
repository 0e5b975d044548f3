package playbook

import (
	"context"
	"fmt"
	"time"

	"github.com/holdfast/holdfast/store"
)

// reportQuery selects what a playbook report covers.
type reportQuery struct {
	Start, End time.Time
	// AsOf is when the report is built: claims and contacts up to then
	// count, and an SLA deadline passed by then unclaimed is a miss.
	AsOf time.Time
	// Owners: nil covers every account; else playbooks of accounts whose
	// CSM, when the alert fired, is one of them (a manager's book).
	Owners []string
	MinARR float64 // the playbook's ARR at open
	Tier   string  // the account's tier; "" = every tier
}

// figures are one report's numbers, for everyone or one group. Durations
// and the score change are nil when nothing was there to measure.
type figures struct {
	// Playbooks opened in the period.
	Opened                    int
	ClaimMedian, ClaimP90     *time.Duration // claimed_at − sla_from
	ContactMedian, ContactP90 *time.Duration // contacted_at − sla_from
	SLAMet, SLADue            int            // claimed by claim_due_at, of those whose deadline came
	// Playbooks resolved in the period.
	Recovered, Churned, Dismissed int
	RecoveryMedian                *time.Duration // recovered_from − opened_at
	ScoreChange                   *float64       // median score_at_resolution − score_at_open
	ARRSaved, ARRLost             float64
	// Open at the period's end.
	StillOpen int
}

// RecoveryRate is recovered ÷ (recovered + churned); nil without either.
func (f figures) RecoveryRate() *float64 {
	if f.Recovered+f.Churned == 0 {
		return nil
	}
	r := float64(f.Recovered) / float64(f.Recovered+f.Churned)
	return &r
}

// empty: no playbook opened, resolved or open in the period.
func (f figures) empty() bool {
	return f.Opened == 0 && f.Recovered == 0 && f.Churned == 0 && f.Dismissed == 0 && f.StillOpen == 0
}

// group is one CSM's or segment's figures.
type group struct {
	Key string // CSM: Slack user id ("" = no owner); segment ("" = none)
	figures
}

// reportFigures are the totals and the breakdowns.
type reportFigures struct {
	figures
	ByCSM, BySegment []group
}

// Grouping sets of reportSQL, as grouping(csm, segment) numbers them.
const (
	groupedByCSM     = 1
	groupedBySegment = 2
	groupedTotal     = 3
)

// reportSQL computes every figure in one pass over the playbooks the
// period touches: opened in it, resolved in it, or open at its end. The
// WHERE is the union of those three written so each arm can use an index
// (playbooks_opened, playbooks_resolved, the open ones).
const reportSQL = `WITH p AS (
	SELECT coalesce(nullif(pb.claimed_by, ''), pb.owner_csm) AS csm, pb.segment, pb.arr, pb.state,
		pb.opened_at >= $1 AND pb.opened_at < $2 AS opened_in,
		coalesce(pb.resolved_at >= $1 AND pb.resolved_at < $2, false) AS resolved_in,
		pb.opened_at < $2 AND (pb.resolved_at IS NULL OR pb.resolved_at >= $2) AS open_at_end,
		extract(epoch FROM pb.claimed_at - pb.sla_from)::float8 AS claim_s,
		extract(epoch FROM pb.contacted_at - pb.sla_from)::float8 AS contact_s,
		CASE WHEN pb.claimed_at IS NOT NULL THEN pb.claimed_at <= pb.claim_due_at
		     -- unclaimed: a miss once the deadline passed with the playbook still open
		     WHEN pb.claim_due_at <= $3 AND (pb.resolved_at IS NULL OR pb.resolved_at > pb.claim_due_at) THEN false
		END AS sla_met, -- null: not due yet, or closed unclaimed before its deadline
		extract(epoch FROM pb.recovered_from - pb.opened_at)::float8 AS recovery_s,
		(pb.score_at_resolution - pb.score_at_open)::float8 AS score_change
	FROM playbooks pb
	WHERE ((pb.opened_at >= $1 AND pb.opened_at < $2)
	       OR (pb.resolved_at >= $1 AND pb.opened_at < $2)
	       OR (pb.state = 'open' AND pb.opened_at < $2))
	  AND ($4::text[] IS NULL OR pb.owner_csm = ANY($4::text[]))
	  AND pb.arr >= $5
	  -- The tier is the account's now (playbooks keep no tier); without a
	  -- tier filter the accounts are not read at all.
	  AND ($6 = '' OR EXISTS (SELECT 1 FROM accounts a WHERE a.id = pb.account_id AND lower(a.tier) = lower($6))))
SELECT grouping(csm, segment), coalesce(csm, ''), coalesce(segment, ''),
	count(*) FILTER (WHERE opened_in),
	percentile_cont(0.5) WITHIN GROUP (ORDER BY claim_s) FILTER (WHERE opened_in),
	percentile_cont(0.9) WITHIN GROUP (ORDER BY claim_s) FILTER (WHERE opened_in),
	percentile_cont(0.5) WITHIN GROUP (ORDER BY contact_s) FILTER (WHERE opened_in),
	percentile_cont(0.9) WITHIN GROUP (ORDER BY contact_s) FILTER (WHERE opened_in),
	count(*) FILTER (WHERE opened_in AND sla_met),
	count(sla_met) FILTER (WHERE opened_in),
	count(*) FILTER (WHERE resolved_in AND state = 'recovered'),
	count(*) FILTER (WHERE resolved_in AND state = 'churned'),
	count(*) FILTER (WHERE resolved_in AND state = 'dismissed'),
	percentile_cont(0.5) WITHIN GROUP (ORDER BY recovery_s) FILTER (WHERE resolved_in AND state = 'recovered'),
	percentile_cont(0.5) WITHIN GROUP (ORDER BY score_change) FILTER (WHERE resolved_in),
	coalesce(sum(arr) FILTER (WHERE resolved_in AND state = 'recovered'), 0)::float8,
	coalesce(sum(arr) FILTER (WHERE resolved_in AND state = 'churned'), 0)::float8,
	count(*) FILTER (WHERE open_at_end)
FROM p
GROUP BY GROUPING SETS ((), (csm), (segment))`

// loadReport computes q's figures, by CSM (the claimant, else the account's
// owner when the alert fired) and by segment (at the alert).
func loadReport(ctx context.Context, db store.DB, q reportQuery) (reportFigures, error) {
	var owners []string // a nil slice is SQL NULL: every account
	if q.Owners != nil {
		owners = append([]string{}, q.Owners...)
	}
	rows, err := db.Query(ctx, reportSQL, q.Start, q.End, q.AsOf, owners, q.MinARR, q.Tier)
	if err != nil {
		return reportFigures{}, fmt.Errorf("playbook report: %w", err)
	}
	defer rows.Close()
	var out reportFigures
	for rows.Next() {
		var set int
		var csm, segment string
		var g group
		var claimMed, claimP90, contactMed, contactP90, recovery *float64
		if err := rows.Scan(&set, &csm, &segment, &g.Opened, &claimMed, &claimP90, &contactMed, &contactP90,
			&g.SLAMet, &g.SLADue, &g.Recovered, &g.Churned, &g.Dismissed, &recovery, &g.ScoreChange,
			&g.ARRSaved, &g.ARRLost, &g.StillOpen); err != nil {
			return reportFigures{}, fmt.Errorf("playbook report: %w", err)
		}
		g.ClaimMedian, g.ClaimP90 = seconds(claimMed), seconds(claimP90)
		g.ContactMedian, g.ContactP90 = seconds(contactMed), seconds(contactP90)
		g.RecoveryMedian = seconds(recovery)
		switch set {
		case groupedTotal:
			out.figures = g.figures
		case groupedByCSM:
			g.Key = csm
			out.ByCSM = append(out.ByCSM, g)
		case groupedBySegment:
			g.Key = segment
			out.BySegment = append(out.BySegment, g)
		}
	}
	if err := rows.Err(); err != nil {
		return reportFigures{}, fmt.Errorf("playbook report: %w", err)
	}
	return out, nil
}

func seconds(s *float64) *time.Duration {
	if s == nil {
		return nil
	}
	d := time.Duration(*s * float64(time.Second))
	return &d
}
