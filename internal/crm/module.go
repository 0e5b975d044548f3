package crm

import (
	"log/slog"

	"github.com/holdfast/holdfast/store"
)

// Module is CRM write-back as a feature of the bot: the outbox's writer,
// when a CRM is configured.
type Module struct{ writer *Writer }

// New wires write-back through conn; a nil conn (no CRM configured) leaves
// it off: writes are not queued and nothing is delivered.
func New(st *store.Store, conn Connector, log *slog.Logger) *Module {
	if conn == nil {
		return &Module{}
	}
	return &Module{writer: NewWriter(st, conn, log)}
}

// Name names the feature.
func (*Module) Name() string { return "crm" }

// Enabled reports whether a CRM is configured.
func (m *Module) Enabled() bool { return m.writer != nil }

// Workers is the writer of the CRM outbox, when write-back is on.
func (m *Module) Workers() []store.Worker {
	if m.writer == nil {
		return nil
	}
	return []store.Worker{m.writer}
}
