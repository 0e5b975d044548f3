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

// NPSHandler serves POST /v1/nps from n: a batch of answers
// {"answers": [{account, respondent, score, comment, survey_kind,
// answered_at, survey_id?, idempotency_key?}]}. 200 only after commit; a
// rejected batch stores nothing (422 with per-row errors); a replayed
// answer is reported as a duplicate and changes nothing. Mount it with
// MountAuthed.
func (s *Server) NPSHandler(n NPSIntake) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Answers []nps.AnswerIn `json:"answers"`
		}
		if !decode(w, r, &body) {
			return
		}
		res, err := n.Ingest(r.Context(), body.Answers)
		if s.failed(w, r, err) {
			return
		}
		writeJSON(w, http.StatusOK, res)
	}
}
