package offers

import (
	"errors"
	"slices"
	"strings"
	"time"
)

// Facts are what routing conditions read.
type Facts struct {
	Type        Type
	DiscountPct float64 // Impact.EquivalentPct
	Value       float64 // Impact.Cost, USD
	Tier        string
	ARR         float64
}

// FactsOf gathers the routing facts of an offer.
func FactsOf(o Offer, im Impact, tier string) Facts {
	return Facts{Type: o.Type, DiscountPct: im.EquivalentPct, Value: im.Cost, Tier: tier, ARR: im.ARR}
}

// Route is a policy evaluated for one offer: the stages that apply, in
// order, each with the steps that apply. It is stored with the request, so
// a config change does not move a request that is under way.
type Route struct {
	Stages []RouteStage `json:"stages"`
}

// RouteStage is one stage of a route; its steps run in parallel.
type RouteStage struct {
	Name  string      `json:"name"`
	Steps []RouteStep `json:"steps"`
}

// RouteStep is one approval: who may decide, how long it may wait, and
// who it escalates to.
type RouteStep struct {
	Name          string        `json:"name"`
	Role          string        `json:"role,omitempty"`
	Users         []string      `json:"users"`
	Group         string        `json:"group,omitempty"`
	Backup        string        `json:"backup,omitempty"`
	SLA           time.Duration `json:"sla"`
	EscalateAfter time.Duration `json:"escalate_after"`
}

// Approvers is who may decide the step: its users plus the members of its
// group (groups: user group id -> members), without duplicates, in order.
func (s RouteStep) Approvers(groups map[string][]string) []string {
	out := slices.Clone(s.Users)
	for _, u := range groups[s.Group] {
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

// ErrNoRoute means no stage of the policy applies to an offer.
var ErrNoRoute = errors.New("no approval route matches this offer (offers.routing)")

// Evaluate walks the policy for an offer: a stage applies when any of its
// conditions holds (or it has none) and at least one of its steps applies.
// c must have passed Validate, which fills step names and escalation times.
func Evaluate(c Settings, f Facts) (Route, error) {
	var r Route
	for _, st := range c.Routing {
		if !matchAny(st.When, f) {
			continue
		}
		rs := RouteStage{Name: st.Name}
		for _, s := range st.Steps {
			if !matchAny(s.When, f) {
				continue
			}
			users, group, backup := c.People(s)
			rs.Steps = append(rs.Steps, RouteStep{Name: s.Name, Role: s.Role, Users: users, Group: group, Backup: backup,
				SLA: s.SLA.Duration, EscalateAfter: s.EscalateAfter.Duration})
		}
		if len(rs.Steps) > 0 {
			r.Stages = append(r.Stages, rs)
		}
	}
	if len(r.Stages) == 0 {
		return r, ErrNoRoute
	}
	return r, nil
}

// Describe is the route in one line: "Finance + RevOps → Executive".
func (r Route) Describe() string {
	parts := make([]string, 0, len(r.Stages))
	for _, st := range r.Stages {
		names := make([]string, len(st.Steps))
		for i, s := range st.Steps {
			names[i] = s.Name
		}
		parts = append(parts, strings.Join(names, " + "))
	}
	return strings.Join(parts, " → ")
}

func matchAny(conds []Condition, f Facts) bool {
	if len(conds) == 0 {
		return true
	}
	for _, c := range conds {
		if matches(c, f) {
			return true
		}
	}
	return false
}

func matches(c Condition, f Facts) bool {
	if !c.DiscountPct.Contains(f.DiscountPct) || !c.Value.Contains(f.Value) || !c.ARR.Contains(f.ARR) {
		return false
	}
	if len(c.Types) > 0 && !slices.Contains(c.Types, f.Type) {
		return false
	}
	if len(c.Tiers) > 0 && !slices.ContainsFunc(c.Tiers, func(t string) bool { return strings.EqualFold(strings.TrimSpace(t), strings.TrimSpace(f.Tier)) }) {
		return false
	}
	return true
}
