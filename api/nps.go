package api

import (
	"context"
	"net/http"

	"github.com/holdfast/holdfast/nps"
	"github.com/holdfast/holdfast/npsflow"
)

// NPSIntake records NPS survey answers.
type NPSIntake interface {
	Ingest(ctx context.Context, in []nps.AnswerIn) (npsflow.Result, error)
}

// WithNPS serves POST /v1/nps from n.
func (s *Server) WithNPS(n NPSIntake) *Server {
	s.nps = n
	return s
}

// postNPS takes a batch of answers: {"answers": [{account, respondent,
// score, comment, survey_kind, answered_at, survey_id?, idempotency_key?}]}.
// 200 only after commit; a rejected batch stores nothing (422 with per-row
// errors); a replayed answer is reported as a duplicate and changes
// nothing.
func (s *Server) postNPS(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Answers []nps.AnswerIn `json:"answers"`
	}
	if !decode(w, r, &body) {
		return
	}
	res, err := s.nps.Ingest(r.Context(), body.Answers)
	if s.failed(w, r, err) {
		return
	}
	writeJSON(w, http.StatusOK, res)
}
