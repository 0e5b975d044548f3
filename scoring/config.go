package scoring

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// DefaultConfig is the model shipped to every workspace. Each value is
// chosen so that a CSM can predict the score from what they know of the
// account; the reasons are kept next to the numbers so a tuning change has
// to argue with them.
func DefaultConfig() Config {
	return Config{
		Weights: Weights{
			// A sustained fall in product use is the earliest and most
			// reliable churn signal we see, so it can cost the most.
			Usage: 20,
			// Ticket load, NPS and billing trouble are each strong but noisy
			// on their own; at 15 one of them maxed out leaves 85, so it
			// takes a second problem to reach at risk.
			Support:  15,
			NPS:      15,
			Payments: 15,
			// An approaching renewal is a reason to look, not a problem: at
			// 5 it leaves an otherwise perfect account at 95.
			Renewal: 5,
			// Silence and a lost champion corroborate the heavier
			// components rather than stand alone. Stated intent gets its own
			// critical alert, so its weight need not carry that urgency.
			Engagement: 10,
			Champion:   10,
			Intent:     10,
			// Satisfaction ratings say how support went, which ticket
			// counts alone cannot; a workspace that collects them moves
			// points from support (support: 10, csat: 5). Off by default
			// so adding the component changes no existing score.
			CSAT: 0,
		},

		// No single component can reach at risk alone (the largest weight
		// is 20); it takes two clear problems. Critical means more than 60
		// points lost, so at least four components are bad at once.
		AtRiskBelow:   70,
		CriticalBelow: 40,

		// Two weeks smooths weekly cycles (weekends, sprint rhythms) while
		// still reacting within a month.
		UsageWindowDays: 14,
		// Losing half the usage already means the account is winding
		// down; a steeper drop tells the CSM nothing more.
		UsageFullDrop: 0.5,

		// A ticket is mostly forgotten by the customer after a couple of
		// weeks if it was handled; two weeks halves its weight.
		TicketHalfLife: 14,
		// Six fresh normal tickets (or two urgent ones) is well past a
		// healthy account's load; more adds no information.
		TicketsFull: 6,

		// NPS is asked quarterly; an answer stays meaningful for about
		// that long and is half as telling by the next survey.
		NPSHalfLife: 90,

		// Payment retries (dunning) usually run for about a month; a failure
		// that old and still open is half as telling, as finance is on it
		// or the account shows it in every other component by then.
		PaymentHalfLife: 30,
		// Two open failures means it is not a card that expired once.
		PaymentsFull: 2,

		// A quarter ahead is when renewal conversations start.
		RenewalWindow: 90,

		// A week without any contact is normal for a self-serve customer.
		DormancyGrace: 7,
		// A month of silence is as bad as silence gets.
		DormancyFull: 30,

		// A new champion takes about two months to own the relationship.
		ChampionHalfLife: 60,
		// Stated intent to cancel is urgent for a month, then either it was
		// handled or it became a cancellation.
		IntentHalfLife: 30,

		// A fall bigger than any 15-weight component can cause alone means
		// several things went wrong at once: worth a message even without
		// a band change. Smaller moves are noise between recomputes.
		DropPoints: 15,

		// Silence and an approaching renewal move a score by the day; an
		// hour is fresh enough for an alert and cheap at 100k accounts.
		Rescore: "@hourly",

		// Said out loud, intent to cancel is a fact until someone resolves
		// it; at risk keeps it listed without paging like a critical.
		IntentBand: BandAtRisk,
	}
}

// weightSumTolerance absorbs float noise from YAML decimals like 12.5+7.5.
const weightSumTolerance = 1e-6

// Validate checks every rule of the model and reports all the problems at
// once, each naming the key as written under the scoring: section of the
// config file, so a user can fix the file in one pass.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("scoring.%s: %s", key, fmt.Sprintf(format, args...)))
	}

	weights := []struct {
		key string
		v   float64
	}{
		{"usage", c.Weights.Usage},
		{"support", c.Weights.Support},
		{"nps", c.Weights.NPS},
		{"payments", c.Weights.Payments},
		{"renewal", c.Weights.Renewal},
		{"engagement", c.Weights.Engagement},
		{"champion", c.Weights.Champion},
		{"intent", c.Weights.Intent},
		{"csat", c.Weights.CSAT},
	}
	sum, sumKnown := 0.0, true
	for _, w := range weights {
		if !isFinite(w.v) || w.v < 0 {
			bad("weights."+w.key, "must be >= 0 (got %s)", num(w.v))
			sumKnown = false
			continue
		}
		sum += w.v
	}
	// A sum over a negative or non-finite weight would only repeat that
	// error in a more confusing form.
	if sumKnown && math.Abs(sum-100) > weightSumTolerance {
		bad("weights", "must add up to 100 (got %s)", num(sum))
	}

	atRiskOK := c.AtRiskBelow >= 1 && c.AtRiskBelow <= 100
	if !atRiskOK {
		bad("at_risk_below", "must be between 1 and 100 (got %d)", c.AtRiskBelow)
	}
	// Comparing with a broken at_risk_below would blame critical_below for
	// the other key's mistake.
	if c.CriticalBelow < 0 {
		bad("critical_below", "must be >= 0 (got %d)", c.CriticalBelow)
	} else if atRiskOK && c.CriticalBelow >= c.AtRiskBelow {
		bad("critical_below", "must be below at_risk_below (got %d, at_risk_below is %d)", c.CriticalBelow, c.AtRiskBelow)
	}

	if c.UsageWindowDays < 1 {
		bad("usage_window_days", "must be at least 1 (got %d)", c.UsageWindowDays)
	}
	if !isFinite(c.UsageFullDrop) || c.UsageFullDrop <= 0 || c.UsageFullDrop > 1 {
		bad("usage_full_drop", "must be above 0 and at most 1, a fraction of usage lost (got %s)", num(c.UsageFullDrop))
	}

	halfLives := []struct {
		key string
		v   int
	}{
		{"ticket_half_life_days", c.TicketHalfLife},
		{"nps_half_life_days", c.NPSHalfLife},
		{"payment_half_life_days", c.PaymentHalfLife},
		{"champion_half_life_days", c.ChampionHalfLife},
		{"intent_half_life_days", c.IntentHalfLife},
	}
	for _, h := range halfLives {
		if h.v <= 0 {
			bad(h.key, "must be > 0 days (got %d)", h.v)
		}
	}

	if !isFinite(c.TicketsFull) || c.TicketsFull <= 0 {
		bad("tickets_full", "must be > 0 (got %s)", num(c.TicketsFull))
	}
	if !isFinite(c.PaymentsFull) || c.PaymentsFull <= 0 {
		bad("payments_full", "must be > 0 (got %s)", num(c.PaymentsFull))
	}
	if c.RenewalWindow <= 0 {
		bad("renewal_window_days", "must be > 0 days (got %d)", c.RenewalWindow)
	}

	if c.DormancyGrace < 0 {
		bad("dormancy_grace_days", "must be >= 0 (got %d)", c.DormancyGrace)
	}
	if c.DormancyFull <= c.DormancyGrace {
		bad("dormancy_full_days", "must be above dormancy_grace_days (got %d, dormancy_grace_days is %d)", c.DormancyFull, c.DormancyGrace)
	}

	if c.IntentBand != BandAtRisk && c.IntentBand != BandCritical {
		bad("intent_band", "must be at_risk or critical (got %q)", c.IntentBand)
	}
	if strings.TrimSpace(c.Rescore) == "" {
		bad("rescore", `must be a cron spec like "@hourly" or "off"`)
	}

	if c.DropPoints < 1 || c.DropPoints > 100 {
		bad("drop_points", "must be between 1 and 100 (got %d)", c.DropPoints)
	}

	return errors.Join(errs...)
}

// BandFor classifies a score. The thresholds are exclusive upper bounds, so
// a score equal to AtRiskBelow is still healthy.
func (c Config) BandFor(score int) Band {
	switch {
	case score < c.CriticalBelow:
		return BandCritical
	case score < c.AtRiskBelow:
		return BandAtRisk
	}
	return BandHealthy
}

func isFinite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// num prints a config number the way the user would have typed it: 95, not
// 95.000000 or 9.5e+01, and without float noise from summing decimals.
func num(f float64) string {
	if isFinite(f) {
		f = math.Round(f*1e6) / 1e6
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
