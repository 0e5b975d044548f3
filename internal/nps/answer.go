package nps

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/holdfast/holdfast/api"
	"github.com/holdfast/holdfast/scoring"
)

// Category is the NPS class of a score.
type Category string

const (
	Promoter  Category = scoring.NPSPromoter  // 9-10
	Passive   Category = scoring.NPSPassive   // 7-8
	Detractor Category = scoring.NPSDetractor // 0-6
)

// CategoryOf classifies a 0..10 score.
func CategoryOf(score int) Category { return Category(scoring.NPSCategory(score)) }

// SurveyKind is why a survey was sent.
type SurveyKind string

const (
	KindQuarterly  SurveyKind = "quarterly"   // tenure > 90 days, every 90 days
	KindOnboarding SurveyKind = "onboarding"  // 30 days after activation
	KindPreRenewal SurveyKind = "pre_renewal" // 60 days before renewal
	KindPostTicket SurveyKind = "post_ticket" // after a critical ticket is resolved
	KindFollowUp   SurveyKind = "follow_up"   // 30 days after a detractor loop's action plan
	KindAdhoc      SurveyKind = "adhoc"       // anything else (the default)
)

// SurveyKinds lists the kinds an answer may name.
var SurveyKinds = []SurveyKind{KindQuarterly, KindOnboarding, KindPreRenewal, KindPostTicket, KindFollowUp, KindAdhoc}

// Label is how people read the kind.
func (k SurveyKind) Label() string {
	switch k {
	case KindQuarterly:
		return "quarterly"
	case KindOnboarding:
		return "day 30"
	case KindPreRenewal:
		return "pre-renewal"
	case KindPostTicket:
		return "post-ticket"
	case KindFollowUp:
		return "follow-up"
	}
	return "ad hoc"
}

func validKind(k SurveyKind) bool {
	for _, v := range SurveyKinds {
		if v == k {
			return true
		}
	}
	return false
}

// MaxBatch is the most answers one API call may carry (as for signals).
const MaxBatch = 1000

// Field limits, the same as the signals API's.
const (
	maxIDLen      = 200
	maxCommentLen = 20000
)

// AnswerIn is one NPS answer as a client sends it (POST /v1/nps, CSV).
type AnswerIn struct {
	Account        string    `json:"account"`    // external id
	Respondent     string    `json:"respondent"` // email or id of who answered
	Score          *float64  `json:"score"`      // 0..10, whole
	Comment        string    `json:"comment"`
	SurveyKind     string    `json:"survey_kind"` // one of SurveyKinds; "" = adhoc
	AnsweredAt     time.Time `json:"answered_at"`
	SurveyID       int64     `json:"survey_id,omitempty"`       // the survey answered, as sent to the survey tool
	IdempotencyKey string    `json:"idempotency_key,omitempty"` // default: account + respondent + answered_at
}

// Answer is a validated answer.
type Answer struct {
	Account    string
	Respondent string
	Score      int
	Category   Category
	Comment    string
	Kind       SurveyKind
	AnsweredAt time.Time // UTC
	SurveyID   int64
	Key        string // idempotency key of its signal
}

// Validate checks every row and converts them; any error means none may be
// stored. maxRows caps the batch (0 = no cap, for CSV imports).
func Validate(in []AnswerIn, now time.Time, maxRows int) ([]Answer, []api.RowError) {
	if len(in) == 0 {
		return nil, []api.RowError{{Index: -1, Field: "answers", Message: "is empty"}}
	}
	if maxRows > 0 && len(in) > maxRows {
		return nil, []api.RowError{{Index: -1, Field: "answers", Message: fmt.Sprintf("has %d rows; at most %d per call", len(in), maxRows)}}
	}
	var errs []api.RowError
	out := make([]Answer, len(in))
	keys := map[string]int{}
	for i, a := range in {
		fail := func(field, format string, args ...any) {
			errs = append(errs, api.RowError{Index: i, Field: field, Message: fmt.Sprintf(format, args...)})
		}
		text := func(field, v string, required bool, max int) {
			switch {
			case required && strings.TrimSpace(v) == "":
				fail(field, "is required")
			case !utf8.ValidString(v):
				fail(field, "is not valid UTF-8")
			case len(v) > max:
				fail(field, "is longer than %d bytes", max)
			case strings.ContainsRune(v, 0):
				fail(field, "contains a NUL byte")
			}
		}
		text("account", a.Account, true, maxIDLen)
		text("respondent", a.Respondent, true, maxIDLen)
		text("comment", a.Comment, false, maxCommentLen)
		text("idempotency_key", a.IdempotencyKey, false, maxIDLen)
		score := 0
		switch {
		case a.Score == nil:
			fail("score", "is required (a whole number from 0 to 10)")
		case math.IsNaN(*a.Score) || *a.Score < 0 || *a.Score > 10 || *a.Score != math.Trunc(*a.Score):
			fail("score", "must be a whole number from 0 to 10 (got %v)", *a.Score)
		default:
			score = int(*a.Score)
		}
		kind := SurveyKind(strings.ToLower(strings.TrimSpace(a.SurveyKind)))
		if kind == "" {
			kind = KindAdhoc
		}
		if !validKind(kind) {
			fail("survey_kind", "unknown kind %q (want one of %s)", a.SurveyKind, kindList())
		}
		switch {
		case a.AnsweredAt.IsZero():
			fail("answered_at", "is required (RFC 3339, e.g. 2026-11-25T09:30:00Z)")
		case a.AnsweredAt.After(now.Add(10 * time.Minute)):
			fail("answered_at", "is in the future")
		case a.AnsweredAt.Before(now.AddDate(-5, 0, 0)):
			fail("answered_at", "is more than 5 years ago")
		}
		if a.SurveyID < 0 {
			fail("survey_id", "must be a positive survey id")
		}
		ans := Answer{
			Account: strings.TrimSpace(a.Account), Respondent: strings.TrimSpace(a.Respondent), Score: score,
			Category: CategoryOf(score), Comment: a.Comment, Kind: kind, AnsweredAt: a.AnsweredAt.UTC(),
			SurveyID: a.SurveyID, Key: a.IdempotencyKey,
		}
		if ans.Key == "" {
			ans.Key = DerivedKey(ans)
		}
		// Two rows with one key would be one answer stored and one silently
		// dropped as a duplicate: say so instead.
		if j, dup := keys[ans.Key]; dup {
			fail("idempotency_key", "row %d is the same answer (same key, or same account, respondent and answered_at)", j)
		}
		keys[ans.Key] = i
		out[i] = ans
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// DerivedKey makes a replay of an answer a duplicate: one respondent
// answers once at one instant, so account, respondent and answered_at name
// the answer (a corrected score replayed with the same instant is still
// the same answer).
func DerivedKey(a Answer) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s", strings.ToLower(a.Account), strings.ToLower(a.Respondent),
		a.AnsweredAt.UTC().Format(time.RFC3339Nano))
	return "nps:" + hex.EncodeToString(h.Sum(nil))
}

func kindList() string {
	names := make([]string, len(SurveyKinds))
	for i, k := range SurveyKinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}
