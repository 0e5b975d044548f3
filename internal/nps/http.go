package nps

import (
	"net/http"

	"github.com/holdfast/holdfast/api"
)

// Routes serve POST /v1/nps: a batch of answers {"answers": [{account,
// respondent, score, comment, survey_kind, answered_at, survey_id?,
// idempotency_key?}]}, behind the bearer token. 200 only after commit; a
// rejected batch stores nothing (422 with per-row errors); a replayed
// answer is reported as a duplicate and changes nothing.
func (m *Module) Routes() []api.Route {
	return []api.Route{{Pattern: "POST /v1/nps", Name: "nps", Authed: true, Handler: m.postAnswers}}
}

func (m *Module) postAnswers(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Answers []AnswerIn `json:"answers"`
	}
	if !api.Decode(w, r, &body) {
		return
	}
	res, err := m.Ingest(r.Context(), body.Answers)
	if api.Failed(m.log, w, r, err) {
		return
	}
	api.WriteJSON(w, http.StatusOK, res)
}
