package connectors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/holdfast/holdfast/api"
	"github.com/holdfast/holdfast/store"
)

// MappingIn maps a tool's key to an account.
type MappingIn struct {
	Connector string `json:"connector"`
	KeyKind   string `json:"key_kind"`
	Key       string `json:"key"`
	Account   string `json:"account"` // external id
}

// MapResult says what mapping a key did.
type MapResult struct {
	AccountID int64 `json:"account_id"`
	Replayed  int   `json:"replayed"`
	Waiting   int   `json:"waiting"` // still quarantined for this connector
}

// mappable are the key kinds a person maps by hand.
var mappable = []string{KeyExternalID, KeyCRMID, KeyEmailDomain, KeyOrganization, KeyCompany, KeyGroupID, keyDeal, keyUser}

// Map stores a mapping from a tool's key to an account and replays the
// events that waited for it.
func (m *Module) Map(ctx context.Context, in MappingIn) (MapResult, error) {
	var rows []api.RowError
	if !slices.Contains(Tools, in.Connector) {
		rows = append(rows, api.RowError{Index: -1, Field: "connector", Message: fmt.Sprintf("must be one of %s (got %q)", strings.Join(Tools, ", "), in.Connector)})
	}
	if !slices.Contains(mappable, in.KeyKind) {
		rows = append(rows, api.RowError{Index: -1, Field: "key_kind", Message: fmt.Sprintf("must be one of %s (got %q)", strings.Join(mappable, ", "), in.KeyKind)})
	}
	key := strings.TrimSpace(in.Key)
	if in.KeyKind == KeyEmailDomain {
		key = strings.ToLower(key)
	}
	if key == "" || len(key) > 300 {
		rows = append(rows, api.RowError{Index: -1, Field: "key", Message: "is required (at most 300 characters)"})
	}
	if len(rows) > 0 {
		return MapResult{}, &api.ValidationError{Rows: rows}
	}
	var res MapResult
	err := m.st.InTx(ctx, func(tx store.Tx) error {
		err := tx.QueryRow(ctx, `SELECT id FROM accounts WHERE external_id = $1`, in.Account).Scan(&res.AccountID)
		if errors.Is(err, pgx.ErrNoRows) {
			return &api.ValidationError{Rows: []api.RowError{{Index: -1, Field: "account", Message: fmt.Sprintf("no account with external id %q", in.Account)}}}
		}
		if err != nil {
			return fmt.Errorf("find account: %w", err)
		}
		_, err = tx.Exec(ctx, `INSERT INTO connector_mappings (connector, key_kind, key_value, account_id) VALUES ($1, $2, $3, $4)
			ON CONFLICT (connector, key_kind, key_value) DO UPDATE SET account_id = $4, created_at = now()`,
			in.Connector, in.KeyKind, key, res.AccountID)
		return wrap("save mapping", err)
	})
	if err != nil {
		return MapResult{}, err
	}
	res.Replayed, err = m.replay(ctx, in.Connector)
	if err != nil {
		return res, err
	}
	err = m.st.DB().QueryRow(ctx, `SELECT count(*) FROM connector_quarantine WHERE connector = $1`, in.Connector).Scan(&res.Waiting)
	return res, wrap("count quarantine", err)
}

// replayPage bounds how many quarantined events one replay step loads.
const replayPage = 500

// replay retries every quarantined event of a tool; those whose account
// now resolves are stored as if they had just arrived.
func (m *Module) replay(ctx context.Context, tool string) (int, error) {
	return m.replayWhere(ctx, tool, nil)
}

// replayWhere replays a tool's quarantined events, only those waiting
// under keys when keys is not nil.
func (m *Module) replayWhere(ctx context.Context, tool string, keys []Key) (int, error) {
	var after int64
	total := 0
	var kinds, values []string
	for _, k := range keys {
		kinds, values = append(kinds, k.Kind), append(values, k.Value)
	}
	for {
		rows, err := m.st.DB().Query(ctx, `SELECT q.id, q.event FROM connector_quarantine q
			WHERE q.connector = $1 AND q.id > $2
			  AND ($3::text[] IS NULL OR (q.key_kind, q.key_value) IN (SELECT * FROM unnest($3::text[], $4::text[])))
			ORDER BY q.id LIMIT $5`, tool, after, kinds, values, replayPage)
		if err != nil {
			return total, fmt.Errorf("load quarantine: %w", err)
		}
		var ids []int64
		var events []Event
		var id int64
		var raw []byte
		if _, err := pgx.ForEachRow(rows, []any{&id, &raw}, func() error {
			var ev Event
			if err := json.Unmarshal(raw, &ev); err != nil {
				return fmt.Errorf("quarantined event %d: %w", id, err)
			}
			ids, events = append(ids, id), append(events, ev)
			return nil
		}); err != nil {
			return total, fmt.Errorf("load quarantine: %w", err)
		}
		if len(ids) == 0 {
			return total, nil
		}
		after = ids[len(ids)-1]
		res, err := m.apply(ctx, tool, events, ids)
		if err != nil {
			return total, fmt.Errorf("replay %s: %w", tool, err)
		}
		total += res.Stored
		if len(ids) < replayPage {
			return total, nil
		}
	}
}

// ReplayResolvable replays the quarantined events whose key now names an
// account (an account created since with that external or CRM id, a
// mapping or link added by another replica).
func (m *Module) ReplayResolvable(ctx context.Context) (int, error) {
	rows, err := m.st.DB().Query(ctx, `SELECT DISTINCT connector, key_kind, key_value FROM connector_quarantine ORDER BY 1, 2, 3 LIMIT 10000`)
	if err != nil {
		return 0, fmt.Errorf("quarantined keys: %w", err)
	}
	waiting := map[string][]Key{}
	var tool string
	var k Key
	if _, err := pgx.ForEachRow(rows, []any{&tool, &k.Kind, &k.Value}, func() error {
		if k.Value != "" {
			waiting[tool] = append(waiting[tool], k)
		}
		return nil
	}); err != nil {
		return 0, fmt.Errorf("quarantined keys: %w", err)
	}
	// Every waiting key of a tool is resolved in a few set queries (as
	// resolve would one by one: a mapping or the account's own id, else
	// its stored link's), not several round trips per key on each run.
	ready := map[string][]Key{}
	for tool, keys := range waiting {
		links := map[Key]Key{}
		if err := loadLinks(ctx, m.st.DB(), tool, keys, links); err != nil {
			return 0, err
		}
		ask := slices.Clone(keys)
		for _, k := range keys {
			if to, ok := links[k]; ok {
				ask = append(ask, to)
			}
		}
		found, err := lookupKeys(ctx, m.st.DB(), tool, ask)
		if err != nil {
			return 0, err
		}
		for _, k := range keys {
			if to, ok := links[k]; found[k] != 0 || ok && found[to] != 0 {
				ready[tool] = append(ready[tool], k)
			}
		}
	}
	total := 0
	for _, tool := range Tools {
		if len(ready[tool]) == 0 {
			continue
		}
		n, err := m.replayWhere(ctx, tool, ready[tool])
		total += n
		if err != nil {
			return total, err
		}
	}
	if total > 0 {
		m.log.Info("replayed quarantined connector events", "events", total)
	}
	return total, nil
}

// QuarantineKey is one key events wait under.
type QuarantineKey struct {
	Connector string    `json:"connector"`
	KeyKind   string    `json:"key_kind"`
	Key       string    `json:"key"`
	Events    int       `json:"events"`
	Oldest    time.Time `json:"oldest"`
}

// Status is the connectors at a glance: which are on, what each stored,
// and what waits in the quarantine.
type Status struct {
	Connectors []ConnectorStatus `json:"connectors"`
	Quarantine []QuarantineKey   `json:"quarantine"`
}

// ConnectorStatus is one tool's line.
type ConnectorStatus struct {
	Name        string     `json:"name"`
	Enabled     bool       `json:"enabled"`
	Events      int        `json:"events"`      // every event id handled, stored, ignored or waiting
	Quarantined int        `json:"quarantined"` // waiting for an account now
	Last        *time.Time `json:"last,omitempty"`
}

// Status reads the connectors' state from Postgres (so it is the same on
// every replica).
func (m *Module) Status(ctx context.Context) (Status, error) {
	return ReadStatus(ctx, m.st.DB(), func(name string) bool { return m.tools[name].enabled() })
}

// ReadStatus is Status for the command line, which has no running module.
func ReadStatus(ctx context.Context, db store.DB, enabled func(string) bool) (Status, error) {
	var s Status
	for _, name := range Tools {
		cs := ConnectorStatus{Name: name, Enabled: enabled(name)}
		err := db.QueryRow(ctx, `SELECT count(*), (SELECT count(*) FROM connector_quarantine WHERE connector = $1), max(received_at)
			FROM connector_events WHERE connector = $1`, name).Scan(&cs.Events, &cs.Quarantined, &cs.Last)
		if err != nil {
			return s, fmt.Errorf("connector status: %w", err)
		}
		s.Connectors = append(s.Connectors, cs)
	}
	rows, err := db.Query(ctx, `SELECT connector, key_kind, key_value, count(*), min(received_at) FROM connector_quarantine
		GROUP BY 1, 2, 3 ORDER BY count(*) DESC, 1, 2, 3 LIMIT 100`)
	if err != nil {
		return s, fmt.Errorf("quarantine: %w", err)
	}
	var q QuarantineKey
	_, err = pgx.ForEachRow(rows, []any{&q.Connector, &q.KeyKind, &q.Key, &q.Events, &q.Oldest}, func() error {
		s.Quarantine = append(s.Quarantine, q)
		return nil
	})
	return s, wrap("quarantine", err)
}

func (m *Module) postMapping(w http.ResponseWriter, r *http.Request) {
	var in MappingIn
	if !api.Decode(w, r, &in) {
		return
	}
	res, err := m.Map(r.Context(), in)
	if api.Failed(m.log, w, r, err) {
		return
	}
	api.WriteJSON(w, http.StatusOK, res)
}

func (m *Module) getQuarantine(w http.ResponseWriter, r *http.Request) {
	s, err := m.Status(r.Context())
	if api.Failed(m.log, w, r, err) {
		return
	}
	api.WriteJSON(w, http.StatusOK, s)
}
