package offers

import (
	"slices"
	"sort"
	"time"
)

// StatRow is one request as /offers stats sees it (its current version).
type StatRow struct {
	Type          Type
	EquivalentPct float64
	Status        string // pending, revision_requested, approved, rejected
	Answer        string // accepted, declined, countered, ""
	Outcome       string // renewed, churned, ""
	SubmittedAt   time.Time
	DecidedAt     *time.Time // approved or rejected
	Steps         []StepTime // decided steps of every version
}

// StepTime is how long one approval step took from activation to decision.
type StepTime struct {
	Name string
	Took time.Duration
}

// Group is the tally for one offer type and discount band (or all).
type Group struct {
	Type     Type
	Band     string
	Requests int
	Approved int
	Rejected int
	Answered int // approved offers the customer answered
	Accepted int
	Tracked  int // accepted offers whose renewal outcome is known
	Renewed  int
}

// AcceptanceRate is accepted / answered, ok false without answers.
func (g Group) AcceptanceRate() (float64, bool) { return ratio(g.Accepted, g.Answered) }

// SaveRate is renewed / tracked: of the accepted offers whose renewal is
// decided, the share where the customer stayed. ok false without any.
func (g Group) SaveRate() (float64, bool) { return ratio(g.Renewed, g.Tracked) }

func ratio(n, d int) (float64, bool) {
	if d == 0 {
		return 0, false
	}
	return float64(n) / float64(d), true
}

// Stats are the figures /offers stats shows.
type Stats struct {
	Groups []Group // by type (form order), then band (ascending)
	Total  Group
	// MedianApproval is submission of the first version to approval, over
	// approved requests (ok false without any).
	MedianApproval   time.Duration
	ApprovedRequests int
	Steps            []StepMedian // by step name
}

// StepMedian is the median time to decision of one named step.
type StepMedian struct {
	Name   string
	Median time.Duration
	N      int
}

// ComputeStats tallies rows by offer type and discount band.
func ComputeStats(rows []StatRow, bands []float64) Stats {
	type key struct {
		t    Type
		band int
	}
	groups := map[key]*Group{}
	var st Stats
	var approvals []time.Duration
	stepTimes := map[string][]time.Duration{}
	for _, r := range rows {
		k := key{r.Type, bandIndex(r.EquivalentPct, bands)}
		g := groups[k]
		if g == nil {
			g = &Group{Type: r.Type, Band: BandLabel(r.EquivalentPct, bands)}
			groups[k] = g
		}
		for _, g := range []*Group{g, &st.Total} {
			g.Requests++
			switch r.Status {
			case "approved":
				g.Approved++
				if r.Answer != "" {
					g.Answered++
				}
				if r.Answer == "accepted" {
					g.Accepted++
					if r.Outcome != "" {
						g.Tracked++
					}
					if r.Outcome == "renewed" {
						g.Renewed++
					}
				}
			case "rejected":
				g.Rejected++
			}
		}
		if r.Status == "approved" && r.DecidedAt != nil {
			approvals = append(approvals, r.DecidedAt.Sub(r.SubmittedAt))
		}
		for _, s := range r.Steps {
			stepTimes[s.Name] = append(stepTimes[s.Name], s.Took)
		}
	}
	keys := make([]key, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		ti, tj := slices.Index(Types, keys[i].t), slices.Index(Types, keys[j].t)
		if ti != tj {
			return ti < tj
		}
		return keys[i].band < keys[j].band
	})
	for _, k := range keys {
		st.Groups = append(st.Groups, *groups[k])
	}
	st.Total.Band = "all"
	st.ApprovedRequests = len(approvals)
	st.MedianApproval = Median(approvals)
	names := make([]string, 0, len(stepTimes))
	for n := range stepTimes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		st.Steps = append(st.Steps, StepMedian{Name: n, Median: Median(stepTimes[n]), N: len(stepTimes[n])})
	}
	return st
}

// Median of ds (0 for none); the mean of the middle two for an even count.
func Median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}
