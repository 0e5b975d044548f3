package playbook

import (
	"github.com/holdfast/holdfast/handlers"
)

// Register puts /atrisk, the alert's Claim and the playbook's steps on r.
func (m *Module) Register(r *handlers.Router) {
	m.router = r
	r.HandleCommand("/atrisk", m.command)
}
