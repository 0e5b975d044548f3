package churn

import (
	"cmp"
	"slices"
	"strings"
)

// Candidate is a current account that might share a churned account's profile.
type Candidate struct {
	AccountID   int64
	Name        string
	ARR         float64
	OwnerCSM    string
	AE          string
	HealthScore *int
	Profile     Profile
}

// Lookalike is a current account that matches the profile of a recent
// sales-attributable churn.
type Lookalike struct {
	Candidate
	Traits []string // the matching traits, e.g. "Industry: Retail"
	Like   Record   // the churn it resembles most
}

// Matches lists the traits a and b share, as "Trait: value". Empty values
// never match: an unknown trait says nothing about likeness.
func Matches(a, b Profile) []string {
	var out []string
	eq := func(x, y string) bool {
		return strings.TrimSpace(x) != "" && strings.EqualFold(strings.TrimSpace(x), strings.TrimSpace(y))
	}
	if eq(a.SizeBand, b.SizeBand) {
		out = append(out, DimSize+": "+a.SizeBand)
	}
	if eq(a.Industry, b.Industry) {
		out = append(out, DimIndustry+": "+a.Industry)
	}
	if eq(a.DealSource, b.DealSource) {
		out = append(out, DimSource+": "+a.DealSource)
	}
	if ta, tb := TenureBucket(a.ChampionTenureMonths), TenureBucket(b.ChampionTenureMonths); ta >= 0 && ta == tb {
		out = append(out, DimTenure+": "+tenureLabels[ta])
	}
	return out
}

// MatchLookalikes finds candidates that share at least minMatch traits with
// one of the churned records (sales-attributable ones only), best match
// first, then by ARR, at most limit. Each candidate is paired with the
// churn it resembles most (more traits, then the more recent churn).
func MatchLookalikes(churned []Record, cands []Candidate, minMatch, limit int) []Lookalike {
	churnedIDs := map[int64]bool{}
	for _, r := range churned {
		churnedIDs[r.AccountID] = true
	}
	var out []Lookalike
	for _, c := range cands {
		if churnedIDs[c.AccountID] {
			continue
		}
		var best *Lookalike
		for _, r := range churned {
			if !r.Cause.SalesAttributable() {
				continue
			}
			m := Matches(c.Profile, r.Profile)
			if len(m) < minMatch {
				continue
			}
			if best == nil || len(m) > len(best.Traits) || (len(m) == len(best.Traits) && r.ChurnedOn.After(best.Like.ChurnedOn)) {
				best = &Lookalike{Candidate: c, Traits: m, Like: r}
			}
		}
		if best != nil {
			out = append(out, *best)
		}
	}
	slices.SortFunc(out, func(a, b Lookalike) int {
		return cmp.Or(cmp.Compare(len(b.Traits), len(a.Traits)), cmp.Compare(b.ARR, a.ARR), cmp.Compare(a.AccountID, b.AccountID))
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}
