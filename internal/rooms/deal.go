package rooms

// What a won deal must tell Customer Success (the handoff card's fields
// and which are missing) and the promises Sales made. Everything here is
// pure: no I/O, no clock.

import (
	"strconv"
	"strings"
	"time"

	"github.com/holdfast/holdfast/blocks"
)

// Stages the handoff cares about; other stages are stored as sent.
const (
	StageClosedWon  = "closed_won"
	StageClosedLost = "closed_lost"
)

// NormalizeStage maps the spellings CRMs use ("Closed Won", "closed-won",
// "ClosedWon") to one form: lower case, words joined by "_".
func NormalizeStage(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.NewReplacer("-", " ", "_", " ").Replace(s)
	s = strings.Join(strings.Fields(s), "_")
	switch s {
	case "closedwon", "won":
		return StageClosedWon
	case "closedlost", "lost":
		return StageClosedLost
	}
	return s
}

// PromiseKind is what Sales promised: a feature, a date, an integration.
type PromiseKind string

// Promise kinds; the root-cause flow links "feature overpromise" churn to
// feature promises.
const (
	PromiseFeature     PromiseKind = "feature"
	PromiseTimeline    PromiseKind = "timeline"
	PromiseIntegration PromiseKind = "integration"
)

// PromiseKinds lists the kinds in display order.
var PromiseKinds = []PromiseKind{PromiseFeature, PromiseTimeline, PromiseIntegration}

// Valid reports whether k is a known kind.
func (k PromiseKind) Valid() bool {
	for _, v := range PromiseKinds {
		if k == v {
			return true
		}
	}
	return false
}

// Label is the kind as a person reads it.
func (k PromiseKind) Label() string {
	switch k {
	case PromiseFeature:
		return "Feature"
	case PromiseTimeline:
		return "Timeline"
	case PromiseIntegration:
		return "Integration"
	}
	return string(k)
}

// Promise is one thing Sales committed to during the sale.
type Promise struct {
	Kind PromiseKind `json:"kind"`
	Text string      `json:"text"`
	Due  *time.Time  `json:"due,omitempty"` // a date
}

// Deal is a deal as Holdfast keeps it: the CRM's fields plus what the AE
// added in the won deal review. The *Known flags tell "nobody said" from
// "confirmed none" for the list fields.
type Deal struct {
	ID                int64
	ExternalID        string // CRM opportunity id
	AccountID         int64
	Name              string
	Stage             string
	ClosedAt          *time.Time
	AE                string // Slack user id
	OwnerCSM          string // Slack user id
	DecisionMaker     string
	Champion          string
	ChampionTitle     string
	ChampionRoleSince *time.Time
	CloseReason       string
	ProductConcerns   string
	ConcernsKnown     bool
	Competitors       []string
	CompetitorsKnown  bool
	Promises          []Promise
	PromisesKnown     bool
	ARR               *float64
	TermMonths        int
	RenewalDate       *time.Time
	Segment           string
	ReviewedBy        string
	ReviewedAt        *time.Time
}

// Field is one handoff field that can be missing.
type Field string

// The handoff card's fields, in the order the card and the review show them.
const (
	FieldDecisionMaker     Field = "decision_maker"
	FieldChampion          Field = "champion"
	FieldChampionRoleSince Field = "champion_role_since"
	FieldCloseReason       Field = "close_reason"
	FieldPromises          Field = "promises"
	FieldProductConcerns   Field = "product_concerns"
	FieldCompetitors       Field = "competitors"
	FieldARR               Field = "arr"
	FieldTerm              Field = "term_months"
	FieldRenewalDate       Field = "renewal_date"
	FieldSegment           Field = "segment"
)

// Fields lists every handoff field in display order.
var Fields = []Field{FieldDecisionMaker, FieldChampion, FieldChampionRoleSince, FieldCloseReason,
	FieldPromises, FieldProductConcerns, FieldCompetitors, FieldARR, FieldTerm, FieldRenewalDate, FieldSegment}

// Label is the field as the card names it.
func (f Field) Label() string {
	switch f {
	case FieldDecisionMaker:
		return "Decision maker"
	case FieldChampion:
		return "Champion"
	case FieldChampionRoleSince:
		return "Champion's time in role"
	case FieldCloseReason:
		return "Why they bought"
	case FieldPromises:
		return "Promises made"
	case FieldProductConcerns:
		return "Product concerns"
	case FieldCompetitors:
		return "Competitors evaluated"
	case FieldARR:
		return "ARR"
	case FieldTerm:
		return "Term"
	case FieldRenewalDate:
		return "Renewal date"
	case FieldSegment:
		return "Segment"
	}
	return string(f)
}

// Missing lists the handoff fields nobody has filled in, in display
// order. A complete handoff has none; until then the room says what is
// missing and the AE is asked for it.
func (d Deal) Missing() []Field {
	var out []Field
	add := func(f Field, missing bool) {
		if missing {
			out = append(out, f)
		}
	}
	add(FieldDecisionMaker, strings.TrimSpace(d.DecisionMaker) == "")
	add(FieldChampion, strings.TrimSpace(d.Champion) == "")
	add(FieldChampionRoleSince, d.ChampionRoleSince == nil)
	add(FieldCloseReason, strings.TrimSpace(d.CloseReason) == "")
	add(FieldPromises, !d.PromisesKnown)
	add(FieldProductConcerns, !d.ConcernsKnown)
	add(FieldCompetitors, !d.CompetitorsKnown)
	add(FieldARR, d.ARR == nil)
	add(FieldTerm, d.TermMonths <= 0)
	add(FieldRenewalDate, d.RenewalDate == nil)
	add(FieldSegment, strings.TrimSpace(d.Segment) == "")
	return out
}

// Complete reports whether nothing is missing.
func (d Deal) Complete() bool { return len(d.Missing()) == 0 }

// ChampionTenureMonths is how long the champion had been in their role
// when the deal closed, in whole months; ok is false when either date is
// unknown or the role started after the close. A champion new in the role
// is a risk CS should know about.
func (d Deal) ChampionTenureMonths() (months int, ok bool) {
	if d.ChampionRoleSince == nil || d.ClosedAt == nil {
		return 0, false
	}
	return MonthsBetween(*d.ChampionRoleSince, *d.ClosedAt)
}

// MonthsBetween counts whole calendar months from a to b (a day-of-month
// not yet reached does not count); ok is false when b is before a.
func MonthsBetween(a, b time.Time) (int, bool) {
	a, b = a.UTC(), b.UTC()
	if b.Before(a) && !sameDay(a, b) {
		return 0, false
	}
	m := (b.Year()-a.Year())*12 + int(b.Month()) - int(a.Month())
	if b.Day() < a.Day() {
		m--
	}
	return max(m, 0), true
}

func sameDay(a, b time.Time) bool {
	return a.Year() == b.Year() && a.YearDay() == b.YearDay()
}

// TenureText renders a tenure: "3 months", "1 year 2 months", "under a month".
func TenureText(months int) string {
	y, m := months/12, months%12
	plural := func(n int, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return strconv.Itoa(n) + " " + unit + "s"
	}
	switch {
	case months <= 0:
		return "under a month"
	case y == 0:
		return plural(m, "month")
	case m == 0:
		return plural(y, "year")
	}
	return plural(y, "year") + " " + plural(m, "month")
}

// NewInRole is the tenure below which a champion counts as new: a champion
// under six months in the role has not yet proven they can carry a renewal.
const NewInRole = 6

// WonSummary is the timeline line for a won deal: "Closed-won: Acme –
// New Business · $120,000 ARR · 12 months · 2 promises".
func WonSummary(d Deal) string {
	parts := []string{"Closed-won"}
	if d.Name != "" {
		parts[0] += ": " + d.Name
	}
	if d.ARR != nil {
		parts = append(parts, "$"+blocks.FormatInt(int64(*d.ARR+0.5))+" ARR")
	}
	if d.TermMonths > 0 {
		parts = append(parts, TermText(d.TermMonths))
	}
	switch n := len(d.Promises); {
	case n == 1:
		parts = append(parts, "1 promise")
	case n > 1:
		parts = append(parts, strconv.Itoa(n)+" promises")
	}
	return strings.Join(parts, " · ")
}

// TermText renders a contract term: "12 months", "1 month".
func TermText(months int) string {
	if months == 1 {
		return "1 month"
	}
	return strconv.Itoa(months) + " months"
}

// CardRef names a deal's handoff card in the outbox, so later changes
// update it in place.
func CardRef(dealID int64) string { return "handoff:" + strconv.FormatInt(dealID, 10) + ":card" }

// ReviewRef names the AE's won deal review request in the outbox.
func ReviewRef(dealID int64) string { return "handoff:" + strconv.FormatInt(dealID, 10) + ":review" }
