package ingest

import (
	"net/http"

	"github.com/holdfast/holdfast/api"
)

// Routes are the ingest API: POST /v1/accounts and POST /v1/signals,
// behind the bearer token.
func (p *Pipeline) Routes() []api.Route {
	return []api.Route{
		{Pattern: "POST /v1/accounts", Name: "accounts", Handler: p.postAccounts, Authed: true},
		{Pattern: "POST /v1/signals", Name: "signals", Handler: p.postSignals, Authed: true},
	}
}

func (p *Pipeline) postAccounts(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Accounts []AccountIn `json:"accounts"`
	}
	if !api.Decode(w, r, &body) {
		return
	}
	res, unknown, err := p.upsertAccounts(r.Context(), body.Accounts)
	if api.Failed(p.log, w, r, err) {
		return
	}
	created := 0
	for _, u := range res {
		if u.Created {
			created++
		}
	}
	answer := map[string]any{"upserted": len(res), "created": created}
	if len(unknown) > 0 {
		// Stored as typed; the sender is told which addresses Slack lacks.
		answer["unknown_emails"] = unknown
	}
	api.WriteJSON(w, http.StatusOK, answer)
}

func (p *Pipeline) postSignals(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Signals []SignalIn `json:"signals"`
	}
	if !api.Decode(w, r, &body) {
		return
	}
	res, err := p.IngestSignals(r.Context(), body.Signals)
	if api.Failed(p.log, w, r, err) {
		return
	}
	api.WriteJSON(w, http.StatusOK, res)
}

// Name names the feature in the wiring.
func (p *Pipeline) Name() string { return "ingest" }
