// Package scoring turns an account's recent signals into an explainable
// health score and decides which alerts a change of score deserves. Every
// function here is pure: callers pass the clock and the data in.
package scoring

import "time"

// Kind is the type of a customer signal.
type Kind string

const (
	KindUsage            Kind = "usage"             // Value: product usage metric for the day (active users, sessions…)
	KindTicket           Kind = "ticket"            // support ticket opened; Severity, Sentiment from its text
	KindCallNote         Kind = "call_note"         // notes from a customer call
	KindEmail            Kind = "email"             // email from/to the customer
	KindMeeting          Kind = "meeting"           // meeting held with the customer
	KindSlackMessage     Kind = "slack_message"     // customer message in a linked Slack channel
	KindNPS              Kind = "nps"               // Value: NPS answer 0..10
	KindPaymentFailed    Kind = "payment_failed"    // a failed charge / invoice
	KindPaymentRecovered Kind = "payment_recovered" // a previously failed invoice was paid
	KindChampionChange   Kind = "champion_change"   // the customer's champion left or changed role
	KindCancellation     Kind = "cancellation_intent"
	KindCSAT             Kind = "csat" // Value: a satisfaction rating, 1 (bad) to 5 (good)
)

// NPS answer classes: how an answer of 0..10 is read, by the health
// score, the NPS feature and the offer brief alike.
const (
	NPSPromoter  = "promoter"  // 9-10
	NPSPassive   = "passive"   // 7-8
	NPSDetractor = "detractor" // 0-6
)

// NPSCategory classifies a 0..10 NPS answer.
func NPSCategory(score int) string {
	switch {
	case score >= 9:
		return NPSPromoter
	case score >= 7:
		return NPSPassive
	}
	return NPSDetractor
}

// Kinds lists every kind the ingest API accepts.
var Kinds = []Kind{
	KindUsage, KindTicket, KindCallNote, KindEmail, KindMeeting, KindSlackMessage,
	KindNPS, KindPaymentFailed, KindPaymentRecovered, KindChampionChange, KindCancellation, KindCSAT,
}

// Valid reports whether k is a kind the product knows.
func (k Kind) Valid() bool {
	for _, known := range Kinds {
		if k == known {
			return true
		}
	}
	return false
}

// Signal is what scoring needs to know about one stored signal.
type Signal struct {
	ID          int64
	Kind        Kind
	Source      string
	OccurredAt  time.Time
	Value       *float64 // usage metric or NPS score; nil when the kind carries none
	Sentiment   *float64 // -1..+1 from the signal's text; nil when it had no text
	ChurnIntent bool     // the text states an intent to cancel, not renew or switch
	Severity    string   // tickets: low, normal, high, urgent ("" = normal)
	Text        string   // the customer's words, unescaped; only used to describe a trigger
	// Thread is the ticket a ticket signal belongs to (metadata ticket_id);
	// a ticket's later updates count with it as one ticket, not as more.
	Thread string
}

// Account is what scoring needs to know about an account.
type Account struct {
	RenewalDate *time.Time
	Status      string // active, churned
}

// Account statuses scoring treats differently.
const (
	StatusActive  = "active"
	StatusChurned = "churned" // nothing left to save: scored 0 with Health.Churned set, never alerts
)

// Band is a coarse health class.
type Band string

const (
	BandHealthy  Band = "healthy"
	BandAtRisk   Band = "at_risk"
	BandCritical Band = "critical"
)

// Severity orders bands: healthy 0, at risk 1, critical 2.
func (b Band) Severity() int {
	switch b {
	case BandAtRisk:
		return 1
	case BandCritical:
		return 2
	}
	return 0
}

// Label is the band as a person reads it.
func (b Band) Label() string {
	switch b {
	case BandAtRisk:
		return "At risk"
	case BandCritical:
		return "Critical"
	}
	return "Healthy"
}

// Component is one weighted part of a health score. Points is what the
// component takes off the score (0 or negative, never below -Weight).
type Component struct {
	Key    string  `json:"key"`    // usage, support, nps, payments, renewal, engagement, champion, intent, csat
	Label  string  `json:"label"`  // "Product usage"
	Weight float64 `json:"weight"` // the most it can take off
	Points float64 `json:"points"` // e.g. -22.4
	Detail string  `json:"detail"` // "usage -38% over 14 days"; "" when the component has no data
}

// Health is a computed score with everything that explains it.
type Health struct {
	Score      int         `json:"score"` // 0..100
	Band       Band        `json:"band"`
	Components []Component `json:"components"` // in a fixed order, one per weight
	ComputedAt time.Time   `json:"computed_at"`
	// Churned marks a score of an account that already left, so the UI can
	// say "not applicable" instead of showing a 0 as if it were a warning.
	Churned bool `json:"churned,omitempty"`
}

// OpenIntentDetail starts the intent component's detail while a statement
// of intent to cancel is open (unresolved), however it was scored.
const OpenIntentDetail = "open intent to cancel"

// Weights are the most points each component can take off a perfect 100.
// They must add up to 100.
type Weights struct {
	Usage      float64 `yaml:"usage"`
	Support    float64 `yaml:"support"`
	NPS        float64 `yaml:"nps"`
	Payments   float64 `yaml:"payments"`
	Renewal    float64 `yaml:"renewal"`
	Engagement float64 `yaml:"engagement"`
	Champion   float64 `yaml:"champion"`
	Intent     float64 `yaml:"intent"`
	CSAT       float64 `yaml:"csat"`
}

// Config holds every tunable of the model. Zero values are not meaningful:
// start from DefaultConfig and override.
type Config struct {
	Weights Weights `yaml:"weights"`

	AtRiskBelow   int `yaml:"at_risk_below"`  // score < this is at risk (default 70)
	CriticalBelow int `yaml:"critical_below"` // score < this is critical (default 40)

	UsageWindowDays  int     `yaml:"usage_window_days"` // compare the last N days with the N before (14)
	UsageFullDrop    float64 `yaml:"usage_full_drop"`   // a drop of this fraction takes the whole weight (0.5)
	TicketHalfLife   int     `yaml:"ticket_half_life_days"`
	TicketsFull      float64 `yaml:"tickets_full"`       // decayed, severity-weighted tickets that take the whole weight (6)
	NPSHalfLife      int     `yaml:"nps_half_life_days"` // (90)
	PaymentHalfLife  int     `yaml:"payment_half_life_days"`
	PaymentsFull     float64 `yaml:"payments_full"`       // open failures that take the whole weight (2)
	RenewalWindow    int     `yaml:"renewal_window_days"` // renewal closer than this starts to count (90)
	DormancyGrace    int     `yaml:"dormancy_grace_days"` // silence shorter than this costs nothing (7)
	DormancyFull     int     `yaml:"dormancy_full_days"`  // silence this long takes the whole weight (30)
	ChampionHalfLife int     `yaml:"champion_half_life_days"`
	IntentHalfLife   int     `yaml:"intent_half_life_days"`

	DropPoints int `yaml:"drop_points"` // a fall of more than this many points alerts (default 15)

	// Rescore is the cron spec of time-driven rescoring of every active
	// account (default "@hourly"; "off" turns it off).
	Rescore string `yaml:"rescore"`

	// IntentBand is the least an account with an open statement of intent
	// to cancel is: at_risk (default) or critical.
	IntentBand Band `yaml:"intent_band"`
}

// AlertKind says why an alert fired. Cooldowns are kept per account and kind.
type AlertKind string

const (
	AlertEnteredAtRisk   AlertKind = "entered_at_risk"
	AlertEnteredCritical AlertKind = "entered_critical"
	AlertScoreDrop       AlertKind = "score_drop"
	AlertCancellation    AlertKind = "cancellation_intent"
)

// AlertReason is one decision to alert.
type AlertReason struct {
	Kind     AlertKind `json:"kind"`
	Critical bool      `json:"critical"` // critical alerts ignore quiet hours
	Summary  string    `json:"summary"`  // "entered at risk: 82 → 64"
}

// ComponentDelta is how much one component moved between two scores.
type ComponentDelta struct {
	Component
	Delta float64 `json:"delta"` // new Points - old Points; negative means it got worse
}
