package offers

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/holdfast/holdfast/schedule"
	"github.com/holdfast/holdfast/slackid"
)

// Settings is the offers: section of the YAML file. The routing policy is
// data: ordered stages, each with conditions, whose steps run in parallel.
type Settings struct {
	// ApprovalsChannel is where each request gets its thread. Empty turns
	// the feature off (/offer says how to turn it on).
	ApprovalsChannel string `yaml:"approvals_channel"`
	// Approvers are the people behind each role the routing names.
	Approvers map[string]Role `yaml:"approvers"`
	// Routing is the ordered list of approval stages.
	Routing []Stage `yaml:"routing"`
	// Guidelines bound what a CSM may propose, per account tier.
	Guidelines Guidelines `yaml:"guidelines"`
	// MinTermMonths is the least revenue an offer is weighed against:
	// revenue retained is ARR × max(months to renewal, this) / 12, because a
	// customer lost at renewal takes at least a term's revenue along.
	MinTermMonths int `yaml:"min_term_months"`
	// DiscountBands split /offers stats by discount %: [10, 25] gives
	// "up to 10%", "10–25%", "over 25%".
	DiscountBands []float64 `yaml:"discount_bands"`
	// SummaryTimeout bounds how long the language model may take to write
	// the approvers' summary; the template summary is posted at once and
	// replaced only if the model answers in time.
	SummaryTimeout schedule.Duration `yaml:"summary_timeout"`
}

// Role is who may act on the steps that name it.
type Role struct {
	Users  []string `yaml:"users"`  // Slack user ids (U…, W…)
	Group  string   `yaml:"group"`  // a Slack user group id (S…), expanded when a request is submitted
	Backup string   `yaml:"backup"` // the user a step escalates to when its SLA runs out
}

// Stage is one sequential step of the route. It applies when any of When
// matches (empty When: always), and holds steps that run in parallel.
type Stage struct {
	Name  string      `yaml:"name"`
	When  []Condition `yaml:"when"`
	Steps []Step      `yaml:"steps"`
}

// Step is one approval within a stage. Users, Group and Backup, when set,
// replace the role's.
type Step struct {
	Name   string      `yaml:"name"`
	Role   string      `yaml:"role"`
	Users  []string    `yaml:"users"`
	Group  string      `yaml:"group"`
	Backup string      `yaml:"backup"`
	When   []Condition `yaml:"when"` // any of these; empty: always
	// SLA is how long the step may wait before its approvers are nudged.
	SLA schedule.Duration `yaml:"sla"`
	// EscalateAfter is when the backup is brought in (default 2 × SLA).
	EscalateAfter schedule.Duration `yaml:"escalate_after"`
}

// Condition holds when every field it sets holds.
type Condition struct {
	// DiscountPct is the discount percentage; for credits, free months and
	// contract changes it is their cost as a percentage of ARR.
	DiscountPct *Range `yaml:"discount_pct"`
	// Value is the offer's cost in USD.
	Value *Range   `yaml:"value"`
	ARR   *Range   `yaml:"arr"`
	Tiers []string `yaml:"tiers"` // account tiers, case-insensitive
	Types []Type   `yaml:"types"`
}

// Range is a half-open interval: above < x <= at_most; either end optional.
type Range struct {
	Above  *float64 `yaml:"above"`
	AtMost *float64 `yaml:"at_most"`
}

// Contains reports whether x is in the range.
func (r *Range) Contains(x float64) bool {
	if r == nil {
		return true
	}
	if r.Above != nil && !(x > *r.Above) {
		return false
	}
	if r.AtMost != nil && !(x <= *r.AtMost) {
		return false
	}
	return true
}

// Guidelines are the limits per account tier; Tiers override Default field
// by field (a tier that sets only max_discount_pct keeps the default credit
// limit).
type Guidelines struct {
	Default Guideline            `yaml:"default"`
	Tiers   map[string]TierLimit `yaml:"tiers"`
}

// Guideline is the effective set of limits for one account.
type Guideline struct {
	MaxDiscountPct        float64 `yaml:"max_discount_pct"`
	JustificationAbovePct float64 `yaml:"justification_above_pct"` // a reason is required above this (equivalent) discount
	MaxCredit             float64 `yaml:"max_credit"`              // USD
	MaxFreeMonths         int     `yaml:"max_free_months"`
	MaxDurationMonths     int     `yaml:"max_duration_months"` // how long a discount may run

	// keys say which YAML key set each limit, so a refusal can name it.
	keys map[string]string
}

// TierLimit is a tier's overrides; unset fields keep the default's.
type TierLimit struct {
	MaxDiscountPct        *float64 `yaml:"max_discount_pct"`
	JustificationAbovePct *float64 `yaml:"justification_above_pct"`
	MaxCredit             *float64 `yaml:"max_credit"`
	MaxFreeMonths         *int     `yaml:"max_free_months"`
	MaxDurationMonths     *int     `yaml:"max_duration_months"`
}

func f(v float64) *float64 { return &v }

// DefaultSettings routes like most CS teams start: small discounts to the
// CSM manager; more than 10% to finance and RevOps together; more than 25%,
// or an account over $500k ARR, then to an executive; any contract change to
// legal as well. The roles are empty: naming the people is the operator's
// part (offers.approvers), and the feature stays off until
// offers.approvals_channel is set.
func DefaultSettings() Settings {
	upTo10 := []Condition{{DiscountPct: &Range{AtMost: f(10)}}}
	over10 := []Condition{{DiscountPct: &Range{Above: f(10)}}}
	day := schedule.Duration{Duration: 24 * time.Hour}
	return Settings{
		Approvers: map[string]Role{
			"csm_manager": {}, "finance": {}, "revops": {}, "executive": {}, "legal": {},
		},
		Routing: []Stage{
			{Name: "Review", Steps: []Step{
				{Name: "CSM manager", Role: "csm_manager", When: upTo10, SLA: day},
				{Name: "Finance", Role: "finance", When: over10, SLA: day},
				{Name: "RevOps", Role: "revops", When: over10, SLA: day},
				{Name: "Legal", Role: "legal", When: []Condition{{Types: []Type{ContractModification}}}, SLA: schedule.Duration{Duration: 48 * time.Hour}},
			}},
			{Name: "Executive", When: []Condition{{DiscountPct: &Range{Above: f(25)}}, {ARR: &Range{Above: f(500_000)}}},
				Steps: []Step{{Name: "Executive", Role: "executive", SLA: day}}},
		},
		Guidelines: Guidelines{
			Default: Guideline{MaxDiscountPct: 30, JustificationAbovePct: 15, MaxCredit: 25_000, MaxFreeMonths: 3, MaxDurationMonths: 12},
			Tiers: map[string]TierLimit{
				"enterprise": {MaxDiscountPct: f(40), MaxCredit: f(100_000), MaxDurationMonths: ip(24)},
				"growth":     {MaxDiscountPct: f(25), MaxCredit: f(15_000), MaxFreeMonths: ip(2)},
				"starter":    {MaxDiscountPct: f(15), JustificationAbovePct: f(10), MaxCredit: f(2_000), MaxFreeMonths: ip(1)},
			},
		},
		MinTermMonths:  12,
		DiscountBands:  []float64{10, 25},
		SummaryTimeout: schedule.Duration{Duration: 20 * time.Second},
	}
}

func ip(v int) *int { return &v }

// Enabled reports whether offer approvals are switched on.
func (c Settings) Enabled() bool { return c.ApprovalsChannel != "" }

// Validate checks the section and fills the defaults that depend on other
// fields. Errors name the YAML key ("offers.routing[1].steps[0].sla: …").
func (c *Settings) Validate() error {
	if c.ApprovalsChannel != "" && !slackid.Channel(c.ApprovalsChannel) {
		return fmt.Errorf("offers.approvals_channel: %q is not a Slack channel id (like C0123ABCD)", c.ApprovalsChannel)
	}
	roles := make([]string, 0, len(c.Approvers))
	for name := range c.Approvers {
		roles = append(roles, name)
	}
	sort.Strings(roles)
	for _, name := range roles {
		r := c.Approvers[name]
		key := "offers.approvers." + name
		if err := checkPeople(key, r.Users, r.Group, r.Backup); err != nil {
			return err
		}
	}
	if len(c.Routing) == 0 {
		return errors.New("offers.routing: needs at least one stage")
	}
	stageNames := map[string]bool{}
	for i := range c.Routing {
		st := &c.Routing[i]
		key := fmt.Sprintf("offers.routing[%d]", i)
		if strings.TrimSpace(st.Name) == "" {
			return fmt.Errorf("%s.name: must not be empty", key)
		}
		if stageNames[strings.ToLower(st.Name)] {
			return fmt.Errorf("%s.name: %q is used by another stage", key, st.Name)
		}
		stageNames[strings.ToLower(st.Name)] = true
		if err := checkConditions(key+".when", st.When); err != nil {
			return err
		}
		if len(st.Steps) == 0 {
			return fmt.Errorf("%s.steps: needs at least one step", key)
		}
		stepNames := map[string]bool{}
		for j := range st.Steps {
			if err := c.checkStep(fmt.Sprintf("%s.steps[%d]", key, j), &st.Steps[j], stepNames); err != nil {
				return err
			}
		}
	}
	if err := c.Guidelines.validate(); err != nil {
		return err
	}
	if c.MinTermMonths < 1 || c.MinTermMonths > 60 {
		return fmt.Errorf("offers.min_term_months: want 1..60 (got %d)", c.MinTermMonths)
	}
	for i, b := range c.DiscountBands {
		if b <= 0 || b >= 100 || (i > 0 && b <= c.DiscountBands[i-1]) {
			return fmt.Errorf("offers.discount_bands[%d]: bands must rise strictly between 0 and 100 (got %v)", i, b)
		}
	}
	if c.SummaryTimeout.Duration < time.Second || c.SummaryTimeout.Duration > 5*time.Minute {
		return fmt.Errorf("offers.summary_timeout: want 1s..5m (got %s)", c.SummaryTimeout.Duration)
	}
	return nil
}

func (c *Settings) checkStep(key string, s *Step, names map[string]bool) error {
	if s.Role != "" {
		if _, ok := c.Approvers[s.Role]; !ok {
			return fmt.Errorf("%s.role: no role %q in offers.approvers", key, s.Role)
		}
	}
	if strings.TrimSpace(s.Name) == "" {
		if s.Role == "" {
			return fmt.Errorf("%s.name: must not be empty", key)
		}
		s.Name = roleTitle(s.Role)
	}
	if names[strings.ToLower(s.Name)] {
		return fmt.Errorf("%s.name: %q is used by another step of this stage", key, s.Name)
	}
	names[strings.ToLower(s.Name)] = true
	if err := checkPeople(key, s.Users, s.Group, s.Backup); err != nil {
		return err
	}
	if err := checkConditions(key+".when", s.When); err != nil {
		return err
	}
	if s.SLA.Duration < time.Minute {
		return fmt.Errorf("%s.sla: must be at least 1m (got %s)", key, s.SLA.Duration)
	}
	if s.EscalateAfter.Duration == 0 {
		s.EscalateAfter.Duration = 2 * s.SLA.Duration
	}
	if s.EscalateAfter.Duration <= s.SLA.Duration {
		return fmt.Errorf("%s.escalate_after: must be longer than the sla (%s), got %s", key, s.SLA.Duration, s.EscalateAfter.Duration)
	}
	if c.Enabled() {
		users, group, _ := c.People(*s)
		if len(users) == 0 && group == "" {
			where := key
			if s.Role != "" {
				where = "offers.approvers." + s.Role
			}
			return fmt.Errorf("%s: names no approvers: set users (Slack user ids) or a group (user group id) (step %q)", where, s.Name)
		}
	}
	return nil
}

func checkPeople(key string, users []string, group, backup string) error {
	for i, u := range users {
		if !slackid.User(u) {
			return fmt.Errorf("%s.users[%d]: %q is not a Slack user id (like U0123ABCD)", key, i, u)
		}
	}
	if group != "" && !slackid.UserGroup(group) {
		return fmt.Errorf("%s.group: %q is not a Slack user group id (like S0123ABCD)", key, group)
	}
	if backup != "" && !slackid.User(backup) {
		return fmt.Errorf("%s.backup: %q is not a Slack user id (like U0123ABCD)", key, backup)
	}
	return nil
}

func checkConditions(key string, conds []Condition) error {
	for i, c := range conds {
		k := fmt.Sprintf("%s[%d]", key, i)
		if c.DiscountPct == nil && c.Value == nil && c.ARR == nil && len(c.Tiers) == 0 && len(c.Types) == 0 {
			return fmt.Errorf("%s: an empty condition always matches; set discount_pct, value, arr, tiers or types, or drop when", k)
		}
		for name, r := range map[string]*Range{"discount_pct": c.DiscountPct, "value": c.Value, "arr": c.ARR} {
			if r == nil {
				continue
			}
			if r.Above == nil && r.AtMost == nil {
				return fmt.Errorf("%s.%s: set above and/or at_most", k, name)
			}
			for _, v := range []*float64{r.Above, r.AtMost} {
				if v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0) || *v < 0) {
					return fmt.Errorf("%s.%s: bounds must be numbers >= 0", k, name)
				}
			}
			if r.Above != nil && r.AtMost != nil && *r.AtMost <= *r.Above {
				return fmt.Errorf("%s.%s: at_most (%v) must be greater than above (%v)", k, name, *r.AtMost, *r.Above)
			}
		}
		for j, t := range c.Types {
			if !t.Valid() {
				return fmt.Errorf("%s.types[%d]: unknown offer type %q (want one of %s)", k, j, t, strings.Join(typeNames(), ", "))
			}
		}
		for j, t := range c.Tiers {
			if strings.TrimSpace(t) == "" {
				return fmt.Errorf("%s.tiers[%d]: must not be empty", k, j)
			}
		}
	}
	return nil
}

func (g *Guidelines) validate() error {
	if err := checkGuideline("offers.guidelines.default", g.Default); err != nil {
		return err
	}
	tiers := make([]string, 0, len(g.Tiers))
	for t := range g.Tiers {
		tiers = append(tiers, t)
	}
	sort.Strings(tiers)
	lower := map[string]bool{}
	for _, t := range tiers {
		if lower[strings.ToLower(t)] {
			return fmt.Errorf("offers.guidelines.tiers.%s: tiers are matched case-insensitively and this one is listed twice", t)
		}
		lower[strings.ToLower(t)] = true
		if err := checkGuideline("offers.guidelines.tiers."+t, g.For(t)); err != nil {
			return err
		}
	}
	return nil
}

func checkGuideline(key string, g Guideline) error {
	switch {
	case !(g.MaxDiscountPct > 0 && g.MaxDiscountPct <= 100):
		return fmt.Errorf("%s.max_discount_pct: want more than 0 and at most 100 (got %v)", key, g.MaxDiscountPct)
	case g.JustificationAbovePct < 0 || g.JustificationAbovePct > g.MaxDiscountPct:
		return fmt.Errorf("%s.justification_above_pct: want 0..max_discount_pct (%v), got %v", key, g.MaxDiscountPct, g.JustificationAbovePct)
	case g.MaxCredit < 0 || math.IsNaN(g.MaxCredit) || math.IsInf(g.MaxCredit, 0):
		return fmt.Errorf("%s.max_credit: must be 0 or more (got %v)", key, g.MaxCredit)
	case g.MaxFreeMonths < 0 || g.MaxFreeMonths > 24:
		return fmt.Errorf("%s.max_free_months: want 0..24 (got %d)", key, g.MaxFreeMonths)
	case g.MaxDurationMonths < 1 || g.MaxDurationMonths > 60:
		return fmt.Errorf("%s.max_duration_months: want 1..60 (got %d)", key, g.MaxDurationMonths)
	}
	return nil
}

// For returns the limits that apply to an account tier: the default
// overridden by the tier's entry (tiers match case-insensitively).
func (g Guidelines) For(tier string) Guideline {
	out := g.Default
	out.keys = map[string]string{}
	for _, k := range []string{"max_discount_pct", "justification_above_pct", "max_credit", "max_free_months", "max_duration_months"} {
		out.keys[k] = "offers.guidelines.default." + k
	}
	name, t, ok := g.tier(tier)
	if !ok {
		return out
	}
	set := func(k string) { out.keys[k] = "offers.guidelines.tiers." + name + "." + k }
	if t.MaxDiscountPct != nil {
		out.MaxDiscountPct = *t.MaxDiscountPct
		set("max_discount_pct")
	}
	if t.JustificationAbovePct != nil {
		out.JustificationAbovePct = *t.JustificationAbovePct
		set("justification_above_pct")
	}
	if t.MaxCredit != nil {
		out.MaxCredit = *t.MaxCredit
		set("max_credit")
	}
	if t.MaxFreeMonths != nil {
		out.MaxFreeMonths = *t.MaxFreeMonths
		set("max_free_months")
	}
	if t.MaxDurationMonths != nil {
		out.MaxDurationMonths = *t.MaxDurationMonths
		set("max_duration_months")
	}
	return out
}

func (g Guidelines) tier(tier string) (string, TierLimit, bool) {
	tier = strings.TrimSpace(tier)
	if tier == "" {
		return "", TierLimit{}, false
	}
	if t, ok := g.Tiers[tier]; ok {
		return tier, t, true
	}
	names := make([]string, 0, len(g.Tiers))
	for n := range g.Tiers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if strings.EqualFold(n, tier) {
			return n, g.Tiers[n], true
		}
	}
	return "", TierLimit{}, false
}

// Key is the YAML key that set a limit ("offers.guidelines.tiers.enterprise.max_discount_pct").
func (g Guideline) Key(field string) string {
	if k, ok := g.keys[field]; ok {
		return k
	}
	return "offers.guidelines.default." + field
}

// People resolves a step's approvers: the step's own fields win over its role's.
func (c Settings) People(s Step) (users []string, group, backup string) {
	r := c.Approvers[s.Role]
	users, group, backup = r.Users, r.Group, r.Backup
	if len(s.Users) > 0 {
		users = s.Users
	}
	if s.Group != "" {
		group = s.Group
	}
	if s.Backup != "" {
		backup = s.Backup
	}
	return slices.Clone(users), group, backup
}

func roleTitle(role string) string {
	words := strings.FieldsFunc(role, func(r rune) bool { return r == '_' || r == '-' || r == ' ' })
	for i, w := range words {
		switch strings.ToLower(w) {
		case "csm", "ceo", "cfo", "cro", "vp":
			words[i] = strings.ToUpper(w)
		default:
			r, size := utf8.DecodeRuneInString(w) // not w[:1]: a role may start with "é"
			words[i] = string(unicode.ToUpper(r)) + w[size:]
		}
	}
	return strings.Join(words, " ")
}

// Type is the kind of an offer.
type Type string

const (
	Discount             Type = "discount"              // Value: percent off, for DurationMonths
	ServiceCredit        Type = "service_credit"        // Value: USD credited
	FreeMonths           Type = "free_months"           // Value: months at no charge
	ContractModification Type = "contract_modification" // Terms: what changes; Value: estimated cost in USD (may be 0)
)

// Types lists the offer types in the order the form shows them.
var Types = []Type{Discount, ServiceCredit, FreeMonths, ContractModification}

// Valid reports whether t is a known type.
func (t Type) Valid() bool {
	for _, k := range Types {
		if t == k {
			return true
		}
	}
	return false
}

// Label is the type as a person reads it.
func (t Type) Label() string {
	switch t {
	case Discount:
		return "Discount"
	case ServiceCredit:
		return "Service credit"
	case FreeMonths:
		return "Free months"
	case ContractModification:
		return "Contract modification"
	}
	return string(t)
}

func typeNames() []string {
	out := make([]string, len(Types))
	for i, t := range Types {
		out[i] = string(t)
	}
	return out
}
