package rooms

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/holdfast/holdfast/api"
	"github.com/holdfast/holdfast/internal/crm"
	"github.com/holdfast/holdfast/slackid"
	"github.com/holdfast/holdfast/store"
)

// MaxDeals is the most deals one API call or webhook may carry.
const MaxDeals = 100

// DealIn is a deal as the ingest API and the CRM webhook receive it.
// Absent fields mean "not said": an update never erases what an earlier
// message or the AE's review filled in. For the list fields, an empty list
// (or "" for product_concerns) means "confirmed none".
type DealIn struct {
	ID              string       `json:"id"`      // CRM opportunity id
	Account         string       `json:"account"` // account external id
	AccountName     string       `json:"account_name,omitempty"`
	CRMAccountID    string       `json:"crm_account_id,omitempty"` // e.g. Salesforce Account Id
	Name            string       `json:"name,omitempty"`
	Stage           string       `json:"stage"`
	ClosedAt        *time.Time   `json:"closed_at,omitempty"`
	AE              string       `json:"ae,omitempty"`        // Slack user id
	OwnerCSM        string       `json:"owner_csm,omitempty"` // Slack user id
	DecisionMaker   string       `json:"decision_maker,omitempty"`
	Champion        *ChampionIn  `json:"champion,omitempty"`
	CloseReason     string       `json:"close_reason,omitempty"`
	Promises        *[]PromiseIn `json:"promises,omitempty"`
	ProductConcerns *string      `json:"product_concerns,omitempty"`
	Competitors     *[]string    `json:"competitors,omitempty"`
	ARR             *float64     `json:"arr,omitempty"`
	TermMonths      *int         `json:"term_months,omitempty"`
	RenewalDate     string       `json:"renewal_date,omitempty"` // YYYY-MM-DD
	Segment         string       `json:"segment,omitempty"`
	// AccountTraits are CRM fields kept on the account (plan, seats,
	// payment method...), typed and merged as /v1/accounts traits are.
	AccountTraits     map[string]any    `json:"account_traits,omitempty"`
	AccountTraitTypes map[string]string `json:"account_trait_types,omitempty"`
}

// ChampionIn is the customer's champion at close.
type ChampionIn struct {
	Name        string `json:"name"`
	Title       string `json:"title,omitempty"`
	InRoleSince string `json:"in_role_since,omitempty"` // YYYY-MM-DD
}

// PromiseIn is one promise as sent.
type PromiseIn struct {
	Kind string `json:"kind"` // feature, timeline or integration
	Text string `json:"text"`
	Due  string `json:"due,omitempty"` // YYYY-MM-DD
}

// DealInput is a validated deal, ready to store: Deal holds only the
// fields that were sent (its Known flags say which lists were).
type DealInput struct {
	Deal              Deal
	AccountExternalID string
	AccountName       string // creates the account when it does not exist yet
	CRMAccountID      string
	Source            string // api | crm_webhook
	PayloadHash       string
	Traits            map[string]store.TraitValue // merged into the account's
}

// Field limits keep one bad deal from bloating the card or the database.
const (
	maxID         = 200
	maxName       = 300
	maxLongText   = 5000
	maxPromises   = 20
	maxPromise    = 1000
	maxCompetitor = 100
	maxListItems  = 20
	maxTermMonths = 120
)

type checker struct {
	errs []api.RowError
	i    int
}

func (c *checker) fail(field, format string, args ...any) {
	c.errs = append(c.errs, api.RowError{Index: c.i, Field: field, Message: fmt.Sprintf(format, args...)})
}

func (c *checker) text(field, v string, required bool, max int) string {
	v = strings.TrimSpace(v)
	switch {
	case required && v == "":
		c.fail(field, "is required")
	case !utf8.ValidString(v):
		c.fail(field, "is not valid UTF-8")
	case len(v) > max:
		c.fail(field, "is longer than %d bytes", max)
	case strings.ContainsRune(v, 0):
		c.fail(field, "contains a NUL byte")
	}
	return v
}

func (c *checker) date(field, v string) *time.Time {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	d, err := time.Parse(time.DateOnly, strings.TrimSpace(v))
	if err != nil {
		c.fail(field, "want YYYY-MM-DD (got %q)", v)
		return nil
	}
	return &d
}

func (c *checker) user(field, v string) string {
	v = strings.TrimSpace(v)
	if v != "" && !slackid.User(v) {
		c.fail(field, "%q is not a Slack user id", v)
	}
	return v
}

// ValidateDeals checks a batch and converts it; any problem rejects the
// whole batch. now stands in for a missing closed_at of a won deal.
func ValidateDeals(in []DealIn, source string, now time.Time) ([]DealInput, error) {
	switch {
	case len(in) == 0:
		return nil, &api.ValidationError{Rows: []api.RowError{{Index: -1, Field: "deals", Message: "is empty"}}}
	case len(in) > MaxDeals:
		return nil, &api.ValidationError{Rows: []api.RowError{{Index: -1, Field: "deals",
			Message: fmt.Sprintf("has %d deals; at most %d per call", len(in), MaxDeals)}}}
	}
	c := &checker{}
	out := make([]DealInput, len(in))
	seen := map[string]int{}
	for i, d := range in {
		c.i = i
		out[i] = c.deal(d, source, now)
		if j, dup := seen[out[i].Deal.ExternalID]; dup && out[i].Deal.ExternalID != "" {
			c.fail("id", "%q repeats deal %d", d.ID, j)
		}
		seen[out[i].Deal.ExternalID] = i
	}
	if len(c.errs) > 0 {
		return nil, &api.ValidationError{Rows: c.errs}
	}
	return out, nil
}

func (c *checker) deal(d DealIn, source string, now time.Time) DealInput {
	var v Deal
	v.ExternalID = c.text("id", d.ID, true, maxID)
	account := c.text("account", d.Account, true, maxID)
	accountName := c.text("account_name", d.AccountName, false, maxName)
	crmID := strings.TrimSpace(d.CRMAccountID)
	if crmID != "" && !crm.IDPattern.MatchString(crmID) {
		c.fail("crm_account_id", "%q is not a CRM record id (15 or 18 letters and digits)", crmID)
	}
	v.Name = c.text("name", d.Name, false, maxName)
	v.Stage = NormalizeStage(c.text("stage", d.Stage, true, 100))
	if d.ClosedAt != nil {
		t := d.ClosedAt.UTC()
		if t.After(now.Add(24 * time.Hour)) {
			c.fail("closed_at", "is in the future")
		}
		v.ClosedAt = &t
	} else if v.Stage == StageClosedWon {
		t := now.UTC()
		v.ClosedAt = &t
	}
	v.AE = c.user("ae", d.AE)
	v.OwnerCSM = c.user("owner_csm", d.OwnerCSM)
	v.DecisionMaker = c.text("decision_maker", d.DecisionMaker, false, maxName)
	if ch := d.Champion; ch != nil {
		v.Champion = c.text("champion.name", ch.Name, false, maxName)
		v.ChampionTitle = c.text("champion.title", ch.Title, false, maxName)
		v.ChampionRoleSince = c.date("champion.in_role_since", ch.InRoleSince)
		if v.ChampionRoleSince != nil && v.ChampionRoleSince.After(now) {
			c.fail("champion.in_role_since", "is in the future")
		}
	}
	v.CloseReason = c.text("close_reason", d.CloseReason, false, maxLongText)
	if d.ProductConcerns != nil {
		v.ProductConcerns = c.text("product_concerns", *d.ProductConcerns, false, maxLongText)
		v.ConcernsKnown = true
	}
	if d.Competitors != nil {
		v.CompetitorsKnown = true
		v.Competitors = []string{}
		if len(*d.Competitors) > maxListItems {
			c.fail("competitors", "has %d names; at most %d", len(*d.Competitors), maxListItems)
		}
		for j, name := range *d.Competitors {
			if n := c.text(fmt.Sprintf("competitors[%d]", j), name, true, maxCompetitor); n != "" {
				v.Competitors = append(v.Competitors, n)
			}
		}
	}
	if d.Promises != nil {
		v.PromisesKnown = true
		v.Promises = []Promise{}
		if len(*d.Promises) > maxPromises {
			c.fail("promises", "has %d promises; at most %d", len(*d.Promises), maxPromises)
		}
		for j, p := range *d.Promises {
			field := fmt.Sprintf("promises[%d]", j)
			kind := PromiseKind(strings.ToLower(strings.TrimSpace(p.Kind)))
			if !kind.Valid() {
				c.fail(field+".kind", "must be feature, timeline or integration (got %q)", p.Kind)
			}
			text := c.text(field+".text", p.Text, true, maxPromise)
			v.Promises = append(v.Promises, Promise{Kind: kind, Text: text, Due: c.date(field+".due", p.Due)})
		}
	}
	if d.ARR != nil {
		if a := *d.ARR; a < 0 || math.IsNaN(a) || math.IsInf(a, 0) || a >= 1e12 {
			c.fail("arr", "must be a number from 0 to 999,999,999,999")
		} else {
			v.ARR = &a
		}
	}
	if d.TermMonths != nil {
		if t := *d.TermMonths; t < 1 || t > maxTermMonths {
			c.fail("term_months", "must be 1 to %d", maxTermMonths)
		} else {
			v.TermMonths = t
		}
	}
	v.RenewalDate = c.date("renewal_date", d.RenewalDate)
	v.Segment = c.text("segment", d.Segment, false, 100)
	traits, problems := store.CheckTraits(d.AccountTraits, d.AccountTraitTypes)
	for _, p := range problems {
		c.fail("account_"+p.Field, "%s", p.Message)
	}
	return DealInput{Deal: v, AccountExternalID: account, AccountName: accountName, CRMAccountID: crmID,
		Source: source, PayloadHash: payloadHash(d), Traits: traits}
}

// payloadHash identifies a message's content, so an exact replay is
// recognised and changes nothing.
func payloadHash(d DealIn) string {
	raw, _ := json.Marshal(d) // plain data: cannot fail
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}
