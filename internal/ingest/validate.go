package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/holdfast/holdfast/api"
	"github.com/holdfast/holdfast/slackid"

	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/scoring/text"
	"github.com/holdfast/holdfast/store"
)

// MaxBatch is the most rows one ingest call may carry.
const MaxBatch = 1000

// Field limits keep one bad row from bloating the database or a Slack message.
const (
	maxIDLen    = 200
	maxNameLen  = 300
	maxTextLen  = 20000
	maxMetaSize = 16 << 10
	// maxValue bounds a signal's value: larger is a client's bug (no usage
	// metric or amount is 10^15), and sums of such values lose all meaning.
	maxValue = 1e15
)

// SignalIn is one signal as a client sends it.
type SignalIn struct {
	Account        string          `json:"account"` // external id
	Kind           string          `json:"kind"`
	Source         string          `json:"source"`
	IdempotencyKey string          `json:"idempotency_key"`
	OccurredAt     time.Time       `json:"occurred_at"`
	Text           string          `json:"text"`
	Value          *float64        `json:"value"`
	Severity       string          `json:"severity"`
	Metadata       json.RawMessage `json:"metadata"`
	// Unanalysed keeps the text as history without reading sentiment,
	// intent or competitors from it (the team's own words in a customer
	// channel). Not settable through the API.
	Unanalysed bool `json:"-"`
	// Analysis is the caller's own reading of Text, when it needed one
	// before ingesting (an NPS comment); the pipeline uses it instead of
	// reading the text again. Not settable through the API.
	Analysis *text.Result `json:"-"`
}

// AccountIn is one account as a client sends it.
type AccountIn struct {
	ExternalID   string  `json:"external_id"`
	Name         string  `json:"name"`
	Tier         string  `json:"tier"`
	ARR          float64 `json:"arr"`
	Segment      string  `json:"segment"`
	RenewalDate  string  `json:"renewal_date"`  // YYYY-MM-DD or ""
	OwnerCSM     string  `json:"owner_csm"`     // Slack user id or e-mail address
	AE           string  `json:"ae"`            // Slack user id or e-mail address
	SalesManager string  `json:"sales_manager"` // Slack user id or e-mail address
	Champion     string  `json:"champion"`
	Channel      string  `json:"channel"` // Slack channel id
	// InternalChannel takes internal messages when Channel is shared with
	// the customer; "" keeps the stored one.
	InternalChannel string `json:"internal_channel"`
	Status          string `json:"status"` // active (default) or churned

	// Cohort traits and billing link. Omitted fields keep what is
	// stored; "" clears a text field.
	CompanySizeBand      *string `json:"company_size_band,omitempty"`      // e.g. "51-200"
	Industry             *string `json:"industry,omitempty"`               // e.g. "Retail"
	DealSource           *string `json:"deal_source,omitempty"`            // e.g. "Outbound", "Partner"
	ChampionTenureMonths *int    `json:"champion_tenure_months,omitempty"` // the champion's tenure in role at close
	StripeCustomerID     *string `json:"stripe_customer_id,omitempty"`     // cus_…

	// ActivationDate (YYYY-MM-DD) starts the tenure the NPS cadence counts.
	ActivationDate string `json:"activation_date,omitempty"`

	// Traits are any further facts the team keeps (plan, seats, contract
	// term, payment method, CRM fields): a number, a bool, a YYYY-MM-DD
	// date or any other string (a category); null removes one. A key's
	// type is fixed the first time it is stored; TraitTypes may declare it
	// (number, category, date, bool) instead of letting the value decide.
	Traits     map[string]any    `json:"traits,omitempty"`
	TraitTypes map[string]string `json:"trait_types,omitempty"`
}

var (
	severities = map[string]bool{"": true, "low": true, "normal": true, "high": true, "urgent": true}
)

type rowChecker struct {
	errs []api.RowError
	i    int
}

func (c *rowChecker) fail(field, format string, args ...any) {
	c.errs = append(c.errs, api.RowError{Index: c.i, Field: field, Message: fmt.Sprintf(format, args...)})
}

func (c *rowChecker) text(field, v string, required bool, max int) {
	switch {
	case required && strings.TrimSpace(v) == "":
		c.fail(field, "is required")
	case !utf8.ValidString(v):
		c.fail(field, "is not valid UTF-8")
	case len(v) > max:
		c.fail(field, "is longer than %d bytes", max)
	case strings.ContainsRune(v, 0):
		c.fail(field, "contains a NUL byte")
	}
}

func (c *rowChecker) slackID(field, v string, valid func(string) bool, what string) {
	if v != "" && !valid(v) {
		c.fail(field, "%q is not a Slack %s id", v, what)
	}
}

// emailAddress is loose on purpose: Slack's users.lookupByEmail is the
// real check, and an address it does not know is reported then.
var emailAddress = regexp.MustCompile(`^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$`)

// person is a Slack user id or, as most CRMs hold them, an e-mail address.
func (c *rowChecker) person(field, v string) {
	if v != "" && !slackid.User(v) && !emailAddress.MatchString(v) {
		c.fail(field, "%q is neither a Slack user id nor an e-mail address", v)
	}
}

func checkBatchSize(n int) error {
	if n == 0 {
		return &api.ValidationError{Rows: []api.RowError{{Index: -1, Field: "batch", Message: "is empty"}}}
	}
	if n > MaxBatch {
		return &api.ValidationError{Rows: []api.RowError{{Index: -1, Field: "batch", Message: fmt.Sprintf("has %d rows; at most %d per call", n, MaxBatch)}}}
	}
	return nil
}

// ValidateAccounts checks every row and converts them; any error means none
// of them may be stored. It does not limit the count (CSV import has no cap).
func ValidateAccounts(in []AccountIn) ([]store.AccountInput, error) {
	c := &rowChecker{}
	out := make([]store.AccountInput, len(in))
	seen := map[string]int{}
	seenStripe := map[string]int{}
	for i, a := range in {
		c.i = i
		c.text("external_id", a.ExternalID, true, maxIDLen)
		// Compared as stored (trimmed): "acme" and "acme " are one account,
		// and the second row would silently overwrite the first.
		id := strings.TrimSpace(a.ExternalID)
		if j, dup := seen[id]; dup && id != "" {
			c.fail("external_id", "%q repeats row %d", a.ExternalID, j)
		}
		seen[id] = i
		c.text("name", a.Name, true, maxNameLen)
		c.text("tier", a.Tier, false, 50)
		c.text("segment", a.Segment, false, 100)
		c.text("champion", a.Champion, false, maxNameLen)
		if a.ARR < 0 || math.IsNaN(a.ARR) || math.IsInf(a.ARR, 0) || a.ARR >= 1e12 {
			c.fail("arr", "must be a number from 0 to 999,999,999,999")
		}
		var renewal *time.Time
		if a.RenewalDate != "" {
			d, err := time.Parse(time.DateOnly, a.RenewalDate)
			if err != nil {
				c.fail("renewal_date", "want YYYY-MM-DD (got %q)", a.RenewalDate)
			} else {
				renewal = &d
			}
		}
		var activation *time.Time
		if a.ActivationDate != "" {
			d, err := time.Parse(time.DateOnly, a.ActivationDate)
			if err != nil {
				c.fail("activation_date", "want YYYY-MM-DD (got %q)", a.ActivationDate)
			} else {
				activation = &d
			}
		}
		c.person("owner_csm", a.OwnerCSM)
		c.person("ae", a.AE)
		c.person("sales_manager", a.SalesManager)
		c.slackID("channel", a.Channel, slackid.Conversation, "channel")
		c.slackID("internal_channel", a.InternalChannel, slackid.Channel, "channel")
		if a.Status != "" && a.Status != "active" && a.Status != "churned" {
			c.fail("status", "must be active or churned (got %q)", a.Status)
		}
		out[i] = store.AccountInput{
			ExternalID: strings.TrimSpace(a.ExternalID), Name: strings.TrimSpace(a.Name), Tier: a.Tier, ARR: a.ARR,
			Segment: a.Segment, RenewalDate: renewal, OwnerCSM: a.OwnerCSM, AE: a.AE, SalesManager: a.SalesManager,
			Champion: a.Champion, ChannelID: a.Channel, InternalChannel: a.InternalChannel, Status: a.Status,
			ActivationDate: activation, Profile: c.profile(a, seenStripe), Traits: c.traits(a.Traits, a.TraitTypes),
		}
	}
	if len(c.errs) > 0 {
		return nil, &api.ValidationError{Rows: c.errs}
	}
	return out, nil
}

// traits checks one row's traits and declared types; nil when none is set.
func (c *rowChecker) traits(values map[string]any, types map[string]string) map[string]store.TraitValue {
	out, problems := store.CheckTraits(values, types)
	for _, p := range problems {
		c.fail(p.Field, "%s", p.Message)
	}
	return out
}

var stripeCustomerID = regexp.MustCompile(`^cus_[A-Za-z0-9]{1,250}$`)

// profile checks the cohort traits of one account row; nil when none is set.
func (c *rowChecker) profile(a AccountIn, seenStripe map[string]int) *store.ProfileInput {
	if a.CompanySizeBand == nil && a.Industry == nil && a.DealSource == nil && a.ChampionTenureMonths == nil && a.StripeCustomerID == nil {
		return nil
	}
	p := &store.ProfileInput{ChampionTenureMonths: a.ChampionTenureMonths}
	trim := func(field string, v *string) *string {
		if v == nil {
			return nil
		}
		c.text(field, *v, false, 100)
		t := strings.TrimSpace(*v)
		return &t
	}
	p.SizeBand = trim("company_size_band", a.CompanySizeBand)
	p.Industry = trim("industry", a.Industry)
	p.DealSource = trim("deal_source", a.DealSource)
	if m := a.ChampionTenureMonths; m != nil && (*m < 0 || *m > 600) {
		c.fail("champion_tenure_months", "must be a number of months from 0 to 600 (got %d)", *m)
	}
	if id := a.StripeCustomerID; id != nil {
		v := strings.TrimSpace(*id)
		if v != "" && !stripeCustomerID.MatchString(v) {
			c.fail("stripe_customer_id", "%q is not a Stripe customer id (cus_…)", v)
		}
		if j, dup := seenStripe[v]; dup && v != "" {
			c.fail("stripe_customer_id", "%q repeats row %d", v, j)
		}
		seenStripe[v] = c.i
		p.StripeCustomerID = &v
	}
	return p
}

// validateSignals checks every row; it does not analyse text.
func validateSignals(in []SignalIn, now time.Time) ([]store.SignalInput, error) {
	c := &rowChecker{}
	out := make([]store.SignalInput, len(in))
	for i, s := range in {
		c.i = i
		c.text("account", s.Account, true, maxIDLen)
		kind := scoring.Kind(s.Kind)
		if !kind.Valid() {
			c.fail("kind", "unknown kind %q (want one of %s)", s.Kind, kindList())
		}
		c.text("source", s.Source, true, 100)
		c.text("idempotency_key", s.IdempotencyKey, false, maxIDLen)
		c.text("text", s.Text, false, maxTextLen)
		switch {
		case s.OccurredAt.IsZero():
			c.fail("occurred_at", "is required (RFC 3339, e.g. 2026-11-25T09:30:00Z)")
		case s.OccurredAt.After(now.Add(10 * time.Minute)):
			c.fail("occurred_at", "is in the future")
		case s.OccurredAt.Before(now.AddDate(-5, 0, 0)):
			c.fail("occurred_at", "is more than 5 years ago")
		}
		if s.Value != nil && (math.IsNaN(*s.Value) || math.IsInf(*s.Value, 0) || math.Abs(*s.Value) > maxValue) {
			c.fail("value", "must be a number from -10^15 to 10^15")
		}
		switch kind {
		case scoring.KindUsage:
			if s.Value == nil || *s.Value < 0 {
				c.fail("value", "usage needs a value >= 0")
			}
		case scoring.KindNPS:
			if s.Value == nil || *s.Value < 0 || *s.Value > 10 || *s.Value != math.Trunc(*s.Value) {
				c.fail("value", "nps needs a whole score from 0 to 10")
			}
		}
		if !severities[s.Severity] {
			c.fail("severity", "must be low, normal, high or urgent (got %q)", s.Severity)
		}
		if strings.TrimSpace(string(s.Metadata)) == "null" {
			s.Metadata = nil // "metadata": null is an absent field, as Go clients send it
		}
		if len(s.Metadata) > 0 {
			var obj map[string]any
			if len(s.Metadata) > maxMetaSize {
				c.fail("metadata", "is larger than %d bytes", maxMetaSize)
			} else if err := json.Unmarshal(s.Metadata, &obj); err != nil || obj == nil {
				c.fail("metadata", "must be a JSON object")
			} else if hasNUL(obj) {
				// Postgres cannot store \u0000 in jsonb: retrying can never help.
				c.fail("metadata", "contains a NUL character (\\u0000) in a key or value")
			}
		}
		key := s.IdempotencyKey
		if key == "" {
			key = derivedKey(s)
		}
		out[i] = store.SignalInput{
			AccountExternalID: strings.TrimSpace(s.Account), Kind: kind, Source: s.Source, IdempotencyKey: key,
			OccurredAt: s.OccurredAt.UTC(), Text: s.Text, Value: s.Value, Severity: s.Severity, Metadata: s.Metadata,
		}
	}
	if len(c.errs) > 0 {
		return nil, &api.ValidationError{Rows: c.errs}
	}
	return out, nil
}

// hasNUL reports whether a decoded JSON value holds a NUL in any string,
// key or value, at any depth.
func hasNUL(v any) bool {
	switch v := v.(type) {
	case string:
		return strings.ContainsRune(v, 0)
	case map[string]any:
		for k, e := range v {
			if strings.ContainsRune(k, 0) || hasNUL(e) {
				return true
			}
		}
	case []any:
		for _, e := range v {
			if hasNUL(e) {
				return true
			}
		}
	}
	return false
}

// derivedKey makes a replay of a signal sent without a key a duplicate too.
func derivedKey(s SignalIn) string {
	h := sha256.New()
	v := "nil"
	if s.Value != nil {
		v = fmt.Sprint(*s.Value)
	}
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s\x00%s", s.Account, s.Kind, s.OccurredAt.UTC().Format(time.RFC3339Nano), v, s.Severity, s.Text)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

func kindList() string {
	names := make([]string, len(scoring.Kinds))
	for i, k := range scoring.Kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// ValidateSignals checks a batch of any size without analysing its text,
// for imports that store signals their own way (history).
func ValidateSignals(in []SignalIn, now time.Time) ([]store.SignalInput, error) {
	return validateSignals(in, now)
}
