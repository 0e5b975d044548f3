package nps

import (
	"fmt"
	"strings"
	"time"
)

// Survey is a survey Holdfast selected (and maybe sent).
type Survey struct {
	ID         int64
	AccountID  int64
	Contact    string
	Kind       SurveyKind
	Cycle      string
	Reason     string
	LoopID     int64
	CreatedAt  time.Time
	SentAt     *time.Time
	AnsweredAt *time.Time
}

// surveyClaim is an answer looking for the survey it answers.
type surveyClaim struct {
	AccountID  int64
	SurveyID   int64 // named by the answer; 0 = find it
	Respondent string
	Kind       SurveyKind
	AnsweredAt time.Time
	ResponseID int64
}

// surveyAnswered is a survey an answer of the batch claimed.
type surveyAnswered struct {
	SurveyID, ResponseID int64
	At                   time.Time
}

// surveyMismatchError: claim Index names a survey that does not exist or
// belongs to another account.
type surveyMismatchError struct{ Index int }

func (e *surveyMismatchError) Error() string {
	return fmt.Sprintf("answer %d names a survey of another account or none", e.Index)
}

// matchSurveys finds, per answer, the survey it answers among cands (the
// surveys the answers name and the recent unanswered ones of their
// accounts, by id): the one it names, else the newest unanswered survey of
// its account sent to the respondent (or to the account as a whole) in the
// 90 days before the answer, of the answer's kind unless that is ad hoc.
// One survey is claimed by one answer; answered lists those claimed now,
// which are marked answered in cands. The result is per claim; nil = none.
func matchSurveys(claims []surveyClaim, cands []Survey) (out []*Survey, answered []surveyAnswered, err error) {
	out = make([]*Survey, len(claims))
	byID := map[int64]*Survey{}
	byAccount := map[int64][]*Survey{}
	for i := range cands {
		v := &cands[i]
		byID[v.ID] = v
		byAccount[v.AccountID] = append(byAccount[v.AccountID], v)
	}
	claimed := map[int64]bool{}
	for i, c := range claims {
		var best *Survey
		if c.SurveyID != 0 {
			if best = byID[c.SurveyID]; best == nil || best.AccountID != c.AccountID {
				return nil, nil, &surveyMismatchError{Index: i}
			}
		} else {
			for _, v := range byAccount[c.AccountID] {
				contact := strings.EqualFold(v.Contact, c.Respondent)
				switch {
				case v.AnsweredAt != nil || claimed[v.ID]:
				case !contact && v.Contact != "":
				case c.Kind != KindAdhoc && v.Kind != c.Kind:
				case v.CreatedAt.After(c.AnsweredAt.Add(24*time.Hour)) || !v.CreatedAt.After(c.AnsweredAt.Add(-90*24*time.Hour)):
				case best == nil, contact && best.Contact == "",
					(contact || best.Contact == "") && v.CreatedAt.After(best.CreatedAt):
					best = v
				}
			}
		}
		if best == nil {
			continue
		}
		out[i] = best
		if best.AnsweredAt == nil && !claimed[best.ID] {
			claimed[best.ID] = true
			answered = append(answered, surveyAnswered{SurveyID: best.ID, ResponseID: c.ResponseID, At: c.AnsweredAt})
		}
	}
	for _, a := range answered {
		byID[a.SurveyID].AnsweredAt = &a.At
	}
	return out, answered, nil
}
