package dunning

// The rules, pure: which class a decline code is, and the plan for it (the
// path, its steps, the retry dates and the customer note).

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Class is a decline's family; each has its own path.
type Class string

const (
	// Technical: the card details need updating (card update path).
	Technical Class = "technical"
	// Soft: the bank may accept a retry (retry schedule, soft outreach).
	Soft Class = "soft"
	// Hard: lost, stolen, fraudulent or unsupported card: never retry
	// automatically; the CSM talks to the customer.
	Hard Class = "hard"
	// Unknown: no decline code, or one we do not know. Handled like a soft
	// decline, and said so.
	Unknown Class = "unknown"
)

var classes = map[string]Class{
	// Technical: the list plus Stripe's close siblings.
	"expired_card": Technical, "incorrect_number": Technical, "incorrect_cvc": Technical,
	"authentication_required": Technical, "processing_error": Technical,
	"invalid_number": Technical, "invalid_cvc": Technical, "invalid_expiry_month": Technical,
	"invalid_expiry_year": Technical, "incorrect_zip": Technical,
	// Soft.
	"insufficient_funds": Soft, "do_not_honor": Soft, "try_again_later": Soft, "generic_decline": Soft,
	"card_declined": Soft, "issuer_not_available": Soft, "reenter_transaction": Soft,
	"approve_with_id": Soft, "card_velocity_exceeded": Soft, "withdrawal_count_limit_exceeded": Soft,
	// Hard / fraud.
	"lost_card": Hard, "stolen_card": Hard, "fraudulent": Hard, "card_not_supported": Hard,
	"pickup_card": Hard, "restricted_card": Hard, "merchant_blacklist": Hard, "security_violation": Hard,
	"revocation_of_authorization": Hard, "revocation_of_all_authorizations": Hard,
	"stop_payment_order": Hard, "do_not_try_again": Hard, "currency_not_supported": Hard,
}

// NormalizeCode lower-cases and trims a decline code.
func NormalizeCode(code string) string { return strings.ToLower(strings.TrimSpace(code)) }

// Classify maps a Stripe decline code to its class.
func Classify(code string) Class {
	if c, ok := classes[NormalizeCode(code)]; ok {
		return c
	}
	return Unknown
}

// Label is the class as people read it.
func (c Class) Label() string {
	switch c {
	case Technical:
		return "Technical decline"
	case Soft:
		return "Soft decline"
	case Hard:
		return "Hard decline"
	}
	return "Unclassified decline"
}

// PlanInput is what a plan is made from.
type PlanInput struct {
	Code          string
	AccountName   string
	Champion      string // the customer contact the note greets; "" = "there"
	Amount        float64
	Currency      string
	FailedAt      time.Time
	NextRetry     *time.Time // when Stripe says it retries, if it does
	SoftRetryDays []int      // the retry schedule otherwise
	UpdateCardURL string
	ARR           float64
	EscalateARR   float64
}

// Plan is what to do about one failed payment.
type Plan struct {
	Class     Class
	Path      string // the path's name
	AutoRetry bool   // whether retries should run
	Retries   []time.Time
	Steps     []string // what the CSM does, in order
	// CustomerNote is a ready-to-send note for the customer (plain text;
	// escape before showing it in Slack). Empty for hard declines, which
	// start with a conversation, not a note.
	CustomerNote string
	// HighValue accounts (ARR at or above the escalation threshold) are
	// escalated: handled first, people mentioned, no quiet hours.
	HighValue bool
}

// reasons say, in a customer's terms, what went wrong with a technical decline.
var reasons = map[string]string{
	"expired_card":            "the card on file has expired",
	"incorrect_number":        "the card number on file was not accepted",
	"invalid_number":          "the card number on file was not accepted",
	"incorrect_cvc":           "the card's security code did not match",
	"invalid_cvc":             "the card's security code did not match",
	"invalid_expiry_month":    "the card's expiry date did not match",
	"invalid_expiry_year":     "the card's expiry date did not match",
	"incorrect_zip":           "the billing postcode did not match",
	"authentication_required": "your bank asked for an extra authentication step",
	"processing_error":        "the card processor had an error",
}

// PlanFor decides the path for a failure.
func PlanFor(in PlanInput) Plan {
	code := NormalizeCode(in.Code)
	// High value only on what is known: the account's ARR, or the failed
	// amount itself. An unknown amount (0) never makes a failure high value.
	p := Plan{Class: Classify(code), HighValue: in.EscalateARR > 0 && (in.ARR >= in.EscalateARR || in.Amount >= in.EscalateARR)}
	hello := "Hi " + cmp.Or(firstName(in.Champion), "there") + ","
	amount := "the payment of " + FormatAmount(in.Amount, in.Currency)
	if in.Amount <= 0 {
		amount = "the latest payment"
	}
	switch p.Class {
	case Technical:
		p.Path = "Card update"
		p.Steps = []string{
			"Send the customer the note below so they update the card.",
			"Retrying the same card will fail again until it is updated.",
		}
		where := "in your billing settings"
		if in.UpdateCardURL != "" {
			where = "here: " + in.UpdateCardURL
		}
		p.CustomerNote = hello + " a quick heads-up: " + amount + " for " + in.AccountName +
			" didn't go through because " + cmp.Or(reasons[code], "the card details need updating") +
			". Could you update the card " + where + "? Once it's updated we'll take care of the rest."
	case Hard:
		p.Path = "No automatic retry: CSM conversation"
		p.Steps = []string{
			"Do not retry this card: turn off automatic retries for this invoice in Stripe.",
			"Call or meet the customer to set up a new payment method; do not mention the decline reason in writing.",
		}
	default: // Soft and Unknown
		p.Path = "Retry schedule and soft outreach"
		p.AutoRetry = true
		if in.NextRetry != nil && in.NextRetry.After(in.FailedAt) {
			p.Retries = []time.Time{*in.NextRetry}
		} else {
			for _, d := range in.SoftRetryDays {
				p.Retries = append(p.Retries, in.FailedAt.AddDate(0, 0, d))
			}
		}
		p.Steps = []string{"Payment retries run on the schedule below; no card change is needed yet."}
		if p.Class == Unknown {
			p.Steps = append(p.Steps, "The processor gave no decline reason we know; check the payment in Stripe.")
		}
		retry := "in the next few days"
		if len(p.Retries) > 0 {
			retry = "on " + p.Retries[0].Format("Jan 2")
		}
		p.CustomerNote = hello + " just a friendly note: " + amount + " for " + in.AccountName +
			" didn't go through on the first try, which usually means a temporary hold at the bank. We'll retry " +
			retry + "; nothing is needed from you unless you'd prefer to use a different card."
	}
	if p.HighValue {
		p.Steps = append([]string{"High-value account: handle today and confirm in this thread."}, p.Steps...)
	}
	return p
}

func firstName(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// zeroDecimal currencies have no minor unit (Stripe amounts are whole units).
var zeroDecimal = map[string]bool{"bif": true, "clp": true, "djf": true, "gnf": true, "jpy": true, "kmf": true,
	"krw": true, "mga": true, "pyg": true, "rwf": true, "ugx": true, "vnd": true, "vuv": true, "xaf": true,
	"xof": true, "xpf": true}

// FromMinor converts a Stripe amount (minor units) to major units.
func FromMinor(amount int64, currency string) float64 {
	if zeroDecimal[strings.ToLower(currency)] {
		return float64(amount)
	}
	return float64(amount) / 100
}

// AmountText is FormatAmount, or "amount unknown" when the failure came
// without one (0): never a made-up "$0.00".
func AmountText(amount float64, currency string) string {
	if amount <= 0 {
		return "amount unknown"
	}
	return FormatAmount(amount, currency)
}

// FormatAmount renders "USD 1,250.00" (or "$1,250.00" for USD).
func FormatAmount(amount float64, currency string) string {
	cur := strings.ToUpper(strings.TrimSpace(currency))
	decimals := 2
	if zeroDecimal[strings.ToLower(cur)] {
		decimals = 0
	}
	sign := ""
	if amount < 0 {
		sign, amount = "-", -amount
	}
	whole, frac, _ := strings.Cut(strconv.FormatFloat(amount, 'f', decimals, 64), ".")
	s := sign + group(whole)
	if frac != "" {
		s += "." + frac
	}
	if cur == "USD" || cur == "" {
		return "$" + s
	}
	return cur + " " + s
}

// group inserts thousands separators into a string of digits.
func group(d string) string {
	var out []byte
	for i := range len(d) {
		if i > 0 && (len(d)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, d[i])
	}
	return string(out)
}

// ByValue orders items so the highest ARR comes first: when several
// failures arrive together, the most valuable account is handled first.
func ByValue[T any](items []T, arr func(T) float64) {
	slices.SortStableFunc(items, func(a, b T) int { return cmp.Compare(arr(b), arr(a)) })
}
