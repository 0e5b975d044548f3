package churn

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// CauseLine is one root cause's share of a period's churn.
type CauseLine struct {
	Cause             Cause
	Label             string
	SalesAttributable bool
	Accounts          int
	ARR               float64
	ARRShare          float64 // of the period's churned ARR, 0..1
}

// Repeat is a cause that keeps coming back quarter over quarter.
type Repeat struct {
	Cause  Cause
	Label  string
	Counts []int // churned accounts per quarter, oldest first (Report.Quarters)
	Streak int   // consecutive quarters, ending with the latest, with at least one
}

// CohortGroup counts accounts that share all four traits: the store
// aggregates accounts into groups, and CohortRates slices them per trait.
type CohortGroup struct {
	Profile
	Accounts int // customers at the period's start (not churned before it)
	Churned  int // of those, churned during the period
}

// CohortRate is the churn rate of one value of one trait.
type CohortRate struct {
	Value    string // "" = not recorded
	Accounts int
	Churned  int
	Rate     float64 // Churned / Accounts
}

// CohortDimension is one trait with the rate of each of its values, highest first.
type CohortDimension struct {
	Name  string
	Rates []CohortRate
}

// Cohort dimension names, in report order.
const (
	DimSize     = "Company size"
	DimIndustry = "Industry"
	DimSource   = "Deal source"
	DimTenure   = "Champion tenure at close"
)

// CohortRates slices the groups by each trait.
func CohortRates(groups []CohortGroup) []CohortDimension {
	dims := []struct {
		name string
		key  func(Profile) string
	}{
		{DimSize, func(p Profile) string { return p.SizeBand }},
		{DimIndustry, func(p Profile) string { return p.Industry }},
		{DimSource, func(p Profile) string { return p.DealSource }},
		{DimTenure, func(p Profile) string { return TenureLabel(p.ChampionTenureMonths) }},
	}
	out := make([]CohortDimension, 0, len(dims))
	for _, d := range dims {
		by := map[string]*CohortRate{}
		var order []string
		for _, g := range groups {
			k := strings.TrimSpace(d.key(g.Profile))
			r := by[k]
			if r == nil {
				r = &CohortRate{Value: k}
				by[k] = r
				order = append(order, k)
			}
			r.Accounts += g.Accounts
			r.Churned += g.Churned
		}
		dim := CohortDimension{Name: d.name}
		for _, k := range order {
			r := *by[k]
			if r.Accounts > 0 {
				r.Rate = float64(r.Churned) / float64(r.Accounts)
			}
			dim.Rates = append(dim.Rates, r)
		}
		slices.SortStableFunc(dim.Rates, func(a, b CohortRate) int {
			// Unrecorded values go last: they say nothing about a cohort.
			if (a.Value == "") != (b.Value == "") {
				if a.Value == "" {
					return 1
				}
				return -1
			}
			return cmp.Or(cmp.Compare(b.Rate, a.Rate), cmp.Compare(b.Accounts, a.Accounts), strings.Compare(a.Value, b.Value))
		})
		out = append(out, dim)
	}
	return out
}

// Quarters are the four quarters ending with the one that contains the
// last day of p, oldest first.
func Quarters(p Period) []Period {
	q := QuarterOf(p.End.AddDate(0, 0, -1))
	out := []Period{q}
	for len(out) < 4 {
		q = q.Prev()
		out = append([]Period{q}, out...)
	}
	return out
}

// RepeatingCauses counts each cause per quarter and keeps the causes seen
// in both of the last two quarters, longest streak first. Records after
// the last quarter's end are ignored.
func RepeatingCauses(records []Record, quarters []Period) []Repeat {
	counts := map[Cause][]int{}
	for _, r := range records {
		for i, q := range quarters {
			if q.Contains(r.ChurnedOn) {
				if counts[r.Cause] == nil {
					counts[r.Cause] = make([]int, len(quarters))
				}
				counts[r.Cause][i]++
			}
		}
	}
	var out []Repeat
	n := len(quarters)
	for _, info := range Causes {
		c := counts[info.Cause]
		if n < 2 || c == nil || c[n-1] == 0 || c[n-2] == 0 {
			continue
		}
		streak := 0
		for i := n - 1; i >= 0 && c[i] > 0; i-- {
			streak++
		}
		out = append(out, Repeat{Cause: info.Cause, Label: info.Label, Counts: c, Streak: streak})
	}
	slices.SortStableFunc(out, func(a, b Repeat) int {
		return cmp.Or(cmp.Compare(b.Streak, a.Streak), cmp.Compare(b.Counts[n-1], a.Counts[n-1]))
	})
	return out
}

// ByCause groups a period's churn by root cause, most ARR first.
func ByCause(records []Record, p Period) (lines []CauseLine, accounts int, arr float64) {
	by := map[Cause]*CauseLine{}
	for _, r := range records {
		if !p.Contains(r.ChurnedOn) {
			continue
		}
		l := by[r.Cause]
		if l == nil {
			l = &CauseLine{Cause: r.Cause, Label: r.Cause.Label(), SalesAttributable: r.Cause.SalesAttributable()}
			by[r.Cause] = l
		}
		l.Accounts++
		l.ARR += r.ARR
		accounts++
		arr += r.ARR
	}
	for _, l := range by {
		if arr > 0 {
			l.ARRShare = l.ARR / arr
		}
		lines = append(lines, *l)
	}
	slices.SortFunc(lines, func(a, b CauseLine) int {
		return cmp.Or(cmp.Compare(b.ARR, a.ARR), cmp.Compare(b.Accounts, a.Accounts), strings.Compare(string(a.Cause), string(b.Cause)))
	})
	return lines, accounts, arr
}

// ProcessChange is a change agreed in a churn debrief.
type ProcessChange struct {
	ChurnID     int64
	AccountName string
	Cause       Cause
	Change      string
	Owner       string
	HeldAt      time.Time
	CheckinDue  time.Time
}

// ReportInput is everything a root-cause report is computed from.
type ReportInput struct {
	Period Period
	// Records cover at least Quarters(Period) (for repeats) and Period.
	Records        []Record
	Cohorts        []CohortGroup
	Lookalikes     []Lookalike
	Winback        []WinbackAttempt // attempts started in the period
	ProcessChanges []ProcessChange  // agreed in the period
}

// Report is the root-cause report for a period.
type Report struct {
	Period         Period
	Accounts       int
	ARR            float64
	SalesAccounts  int
	SalesARR       float64
	ByCause        []CauseLine
	Quarters       []Period
	Repeating      []Repeat
	Cohorts        []CohortDimension
	Lookalikes     []Lookalike
	Winback        WinbackStats
	ProcessChanges []ProcessChange
}

// BuildReport computes the report. Pure: the same input gives the same report.
func BuildReport(in ReportInput) Report {
	r := Report{Period: in.Period, Quarters: Quarters(in.Period), Lookalikes: in.Lookalikes,
		ProcessChanges: in.ProcessChanges, Winback: WinbackRate(in.Winback)}
	r.ByCause, r.Accounts, r.ARR = ByCause(in.Records, in.Period)
	for _, l := range r.ByCause {
		if l.SalesAttributable {
			r.SalesAccounts += l.Accounts
			r.SalesARR += l.ARR
		}
	}
	// The quarter-to-date counts stop at the period's end: a report for
	// February read in March must not change when March churn is recorded.
	var upTo []Record
	for _, rec := range in.Records {
		if rec.ChurnedOn.Before(in.Period.End) {
			upTo = append(upTo, rec)
		}
	}
	r.Repeating = RepeatingCauses(upTo, r.Quarters)
	r.Cohorts = CohortRates(in.Cohorts)
	return r
}

// TagCount is how often one cause was used.
type TagCount struct {
	Cause Cause
	Label string
	Count int
	Share float64
}

// CSMTags is one CSM's root-cause tag distribution.
type CSMTags struct {
	CSM      string
	Total    int
	Counts   []TagCount // most used first
	CatchAll bool       // one cause dominates enough records to look like a default
}

// TagAudit shows each CSM's distribution of root-cause tags, and the team's.
// A CSM with at least minRecords records whose most used cause has more
// than share of them is flagged: "product deficiency" used as a catch-all
// shows up this way.
func TagAudit(records []Record, minRecords int, share float64) (rows []CSMTags, team []TagCount) {
	byCSM := map[string]map[Cause]int{}
	teamCounts := map[Cause]int{}
	for _, r := range records {
		if byCSM[r.RecordedBy] == nil {
			byCSM[r.RecordedBy] = map[Cause]int{}
		}
		byCSM[r.RecordedBy][r.Cause]++
		teamCounts[r.Cause]++
	}
	for csm, counts := range byCSM {
		row := CSMTags{CSM: csm, Counts: tagCounts(counts)}
		for _, c := range row.Counts {
			row.Total += c.Count
		}
		row.CatchAll = row.Total >= minRecords && row.Counts[0].Share > share
		rows = append(rows, row)
	}
	slices.SortFunc(rows, func(a, b CSMTags) int {
		if a.CatchAll != b.CatchAll {
			if a.CatchAll {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(b.Total, a.Total), strings.Compare(a.CSM, b.CSM))
	})
	return rows, tagCounts(teamCounts)
}

func tagCounts(counts map[Cause]int) []TagCount {
	total := 0
	for _, n := range counts {
		total += n
	}
	out := make([]TagCount, 0, len(counts))
	for c, n := range counts {
		out = append(out, TagCount{Cause: c, Label: c.Label(), Count: n, Share: float64(n) / float64(total)})
	}
	slices.SortFunc(out, func(a, b TagCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(string(a.Cause), string(b.Cause)))
	})
	return out
}
