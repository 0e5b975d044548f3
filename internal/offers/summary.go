package offers

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/holdfast/holdfast/scoring"
)

// Brief is what approvers are told about the account, gathered when the
// offer is submitted and kept with its version.
type Brief struct {
	AccountName string     `json:"account_name"`
	ExternalID  string     `json:"external_id,omitempty"`
	Tier        string     `json:"tier,omitempty"`
	ARR         float64    `json:"arr"`
	RenewalDate *time.Time `json:"renewal_date,omitempty"`
	Owner       string     `json:"owner,omitempty"` // Slack user id
	Score       *int       `json:"score,omitempty"`
	Band        string     `json:"band,omitempty"`
	// ScoreChange is the score now minus the score 30 days ago (nil
	// without an older score).
	ScoreChange    *int            `json:"score_change,omitempty"`
	Drivers        []Driver        `json:"drivers,omitempty"`
	NPS            *NPS            `json:"nps,omitempty"`
	Tickets30d     int             `json:"tickets_30d"`
	Timeline       []TimelineEvent `json:"timeline,omitempty"`
	PreviousOffers []PastOffer     `json:"previous_offers,omitempty"`
}

// Driver is one health component holding the score down.
type Driver struct {
	Text   string  `json:"text"` // "usage -38% over 14 days"
	Points float64 `json:"points"`
}

// NPS is the account's latest answer.
type NPS struct {
	Score float64   `json:"score"`
	At    time.Time `json:"at"`
}

// TimelineEvent is one recent timeline entry.
type TimelineEvent struct {
	At      time.Time `json:"at"`
	Kind    string    `json:"kind"`
	Summary string    `json:"summary"`
}

// PastOffer is an earlier offer to the same account and how it ended.
type PastOffer struct {
	ID      int64     `json:"id"`
	At      time.Time `json:"at"`
	Offer   string    `json:"offer"`   // Describe()
	Status  string    `json:"status"`  // pending, revision_requested, approved, rejected
	Answer  string    `json:"answer"`  // accepted, declined, countered, ""
	Outcome string    `json:"outcome"` // renewed, churned, ""
}

// Result is how the past offer ended, in words: "approved, accepted, renewed".
func (p PastOffer) Result() string {
	parts := []string{strings.ReplaceAll(p.Status, "_", " ")}
	if p.Answer != "" {
		parts = append(parts, "customer "+p.Answer)
	}
	if p.Outcome != "" {
		parts = append(parts, p.Outcome)
	}
	return strings.Join(parts, ", ")
}

func bandWords(b string) string {
	switch b {
	case "at_risk":
		return "at risk"
	case "":
		return "not scored"
	}
	return b
}

// TemplateSummary is the approvers' summary written without a language
// model: the same facts, in fixed sentences. Plain text, not escaped.
func TemplateSummary(b Brief, o Offer, im Impact, now time.Time) string {
	var s []string
	name := b.AccountName
	if name == "" {
		name = "The account"
	}
	if b.Score != nil {
		line := fmt.Sprintf("%s is %s at %d/100", name, bandWords(b.Band), *b.Score)
		if b.ScoreChange != nil && *b.ScoreChange != 0 {
			dir := "down"
			if *b.ScoreChange > 0 {
				dir = "up"
			}
			line += fmt.Sprintf(", %s %d points in 30 days", dir, abs(*b.ScoreChange))
		}
		if len(b.Drivers) > 0 {
			d := make([]string, 0, min(len(b.Drivers), 2))
			for _, dr := range b.Drivers[:min(len(b.Drivers), 2)] {
				d = append(d, dr.Text)
			}
			line += "; mainly " + strings.Join(d, " and ")
		}
		s = append(s, line+".")
	} else {
		s = append(s, name+" has no health score yet.")
	}
	line := "ARR " + USD(b.ARR)
	if b.RenewalDate != nil {
		line += ", renewal " + b.RenewalDate.Format("Jan 2, 2006") + " (" + daysFrom(*b.RenewalDate, now) + ")"
	} else {
		line += ", no renewal date on record"
	}
	s = append(s, line+".")
	if b.NPS != nil {
		s = append(s, fmt.Sprintf("Last NPS %s (%s) on %s.", trimFloat(b.NPS.Score), scoring.NPSCategory(int(b.NPS.Score)), b.NPS.At.Format("Jan 2")))
	} else {
		s = append(s, "No NPS answer on record.")
	}
	s = append(s, plural(b.Tickets30d, "support ticket", "support tickets")+" in the last 30 days.")
	if n := len(b.PreviousOffers); n > 0 {
		p := b.PreviousOffers[0]
		s = append(s, fmt.Sprintf("%s before; the latest: %s (%s).", plural(n, "offer", "offers"), p.Offer, p.Result()))
	} else {
		s = append(s, "No previous offers.")
	}
	if o.Competitor != "" {
		s = append(s, "Competitor involved: "+clip(oneLine(o.Competitor), MaxCompetitorLen)+".")
	}
	s = append(s, fmt.Sprintf("This offer (%s) costs %s, %s of ARR, to keep %s over %s months.",
		o.Describe(), USD(im.Cost), Pct(im.CostPctOfARR), USD(im.RevenueRetained), trimFloat(im.RemainingMonths)))
	return strings.Join(s, " ")
}

func daysFrom(t, now time.Time) string {
	day := func(x time.Time) int64 {
		return time.Date(x.Year(), x.Month(), x.Day(), 0, 0, 0, 0, time.UTC).Unix() / 86400
	}
	n := day(t) - day(now.In(t.Location()))
	switch {
	case n == 0:
		return "today"
	case n > 0:
		return "in " + plural(int(n), "day", "days")
	}
	return plural(int(-n), "day", "days") + " ago"
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// MaxSummaryLen bounds what the model may write (runes).
const MaxSummaryLen = 1200

// SummaryPrompt asks a language model for the approvers' summary. The facts
// go in as JSON; customer words inside them are data, and whatever comes
// back is only ever shown (escaped), never acted on.
func SummaryPrompt(b Brief, o Offer, im Impact, now time.Time) (system, user string) {
	system = `You write short briefings for people approving a retention offer for a B2B SaaS customer.
Use only the facts in the JSON you are given; never invent numbers. Say in 3 to 5 sentences:
how healthy the account is and why, what is at stake (ARR, renewal), what the customer has said (NPS,
tickets, recent events), how earlier offers went, and what this offer costs against the revenue it keeps.
Do not recommend approving or rejecting. Plain text, no markdown, no links, no mentions.
Answer with JSON: {"summary": "..."}`
	facts := struct {
		Today  string `json:"today"`
		Brief  Brief  `json:"account"`
		Offer  Offer  `json:"offer"`
		Impact Impact `json:"financial_impact"`
	}{now.Format("2006-01-02"), b, o, im}
	raw, _ := json.Marshal(facts) // plain data: cannot fail
	return system, string(raw)
}

// ModelSummary is the model's answer.
type ModelSummary struct {
	Summary string `json:"summary"`
}

// Validate rejects answers the approvers should not see.
func (m *ModelSummary) Validate() error {
	m.Summary = strings.TrimSpace(m.Summary)
	switch {
	case m.Summary == "":
		return errors.New("empty summary")
	case utf8.RuneCountInString(m.Summary) > MaxSummaryLen:
		return fmt.Errorf("summary is %d characters, want at most %d", utf8.RuneCountInString(m.Summary), MaxSummaryLen)
	}
	return nil
}

// BandLabel names the discount band of pct: with bands [10, 25],
// "up to 10%", "10–25%", "over 25%".
func BandLabel(pct float64, bands []float64) string {
	for i, b := range bands {
		if pct <= b {
			if i == 0 {
				return "up to " + trimFloat(b) + "%"
			}
			return trimFloat(bands[i-1]) + "–" + trimFloat(b) + "%"
		}
	}
	if len(bands) == 0 {
		return "all"
	}
	return "over " + trimFloat(bands[len(bands)-1]) + "%"
}

// bandIndex orders bands for display.
func bandIndex(pct float64, bands []float64) int {
	for i, b := range bands {
		if pct <= b {
			return i
		}
	}
	return len(bands)
}
