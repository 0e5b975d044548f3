package connectors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/holdfast/holdfast/store"
)

// unseen drops the events whose id was handled before (stored or
// quarantined): a tool's redelivery changes nothing.
func (m *Module) unseen(ctx context.Context, tool string, events []Event) ([]Event, error) {
	ids := make([]string, len(events))
	for i, e := range events {
		ids[i] = e.ID
	}
	rows, err := m.st.DB().Query(ctx, `SELECT event_id FROM connector_events WHERE connector = $1 AND event_id = ANY($2)`, tool, ids)
	if err != nil {
		return nil, fmt.Errorf("seen events: %w", err)
	}
	// One set for stored and in-delivery ids: a HubSpot batch against its
	// own redelivery is then linear, not events × seen.
	seen := map[string]bool{}
	var id string
	if _, err := pgx.ForEachRow(rows, []any{&id}, func() error { seen[id] = true; return nil }); err != nil {
		return nil, fmt.Errorf("seen events: %w", err)
	}
	var out []Event
	for _, e := range events {
		if seen[e.ID] {
			continue
		}
		seen[e.ID] = true
		out = append(out, e)
	}
	return out, nil
}

type resolved struct {
	id         int64
	externalID string
}

// lookupKey finds the account a key names: a mapping made by hand first,
// then the account's own external or CRM id.
func lookupKey(ctx context.Context, db store.DB, tool string, k Key) (resolved, error) {
	var r resolved
	if k.Value == "" {
		return r, nil
	}
	err := db.QueryRow(ctx, `SELECT a.id, a.external_id FROM connector_mappings m JOIN accounts a ON a.id = m.account_id
		WHERE m.connector = $1 AND m.key_kind = $2 AND m.key_value = $3`, tool, k.Kind, k.Value).Scan(&r.id, &r.externalID)
	if err == nil || !errors.Is(err, pgx.ErrNoRows) {
		return r, wrap("look up mapping", err)
	}
	switch k.Kind {
	case KeyExternalID:
		err = db.QueryRow(ctx, `SELECT id, external_id FROM accounts WHERE external_id = $1`, k.Value).Scan(&r.id, &r.externalID)
	case KeyCRMID:
		err = db.QueryRow(ctx, `SELECT id, external_id FROM accounts WHERE crm_id = $1 ORDER BY id LIMIT 1`, k.Value).Scan(&r.id, &r.externalID)
	default:
		return r, nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return resolved{}, nil
	}
	return r, wrap("look up account", err)
}

// resolve finds the event's account from its keys, in order, following a
// key's link (stored, or carried by the event) one step. Unresolved, it
// names the key the event waits under: the first.
func resolve(ctx context.Context, db store.DB, tool string, keys []Key, links []Link) (resolved, Key, error) {
	wait := Key{Kind: "none"}
	if len(keys) > 0 {
		wait = keys[0]
	}
	for _, k := range keys {
		r, err := lookupKey(ctx, db, tool, k)
		if err != nil || r.id != 0 {
			return r, k, err
		}
		to, ok := linkOf(links, k)
		if !ok {
			err := db.QueryRow(ctx, `SELECT to_kind, to_value FROM connector_links WHERE connector = $1 AND key_kind = $2 AND key_value = $3`,
				tool, k.Kind, k.Value).Scan(&to.Kind, &to.Value)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return r, wait, wrap("look up link", err)
			}
			ok = err == nil
		}
		if ok {
			if r, err := lookupKey(ctx, db, tool, to); err != nil || r.id != 0 {
				return r, to, err
			}
			if k == wait {
				// Mapping the linked key (the deal's company) is what
				// the person fixing this will do.
				wait = to
			}
		}
	}
	return resolved{}, wait, nil
}

func linkOf(links []Link, k Key) (Key, bool) {
	for _, l := range links {
		if l.From == k {
			return l.To, true
		}
	}
	return Key{}, false
}

type eventOutcome int

const (
	outcomeStored eventOutcome = iota
	outcomeDuplicate
	outcomeQuarantined
)

// recordEvent claims the event id in the transaction that stores what the
// event becomes, or quarantines the event.
func recordEvent(ctx context.Context, tx store.Tx, tool string, p planned) (eventOutcome, error) {
	var account *int64
	if p.accountID != 0 {
		account = &p.accountID
	}
	if p.quarantineID != 0 {
		if p.accountID == 0 {
			return outcomeQuarantined, nil
		}
		tag, err := tx.Exec(ctx, `DELETE FROM connector_quarantine WHERE id = $1`, p.quarantineID)
		if err != nil {
			return 0, fmt.Errorf("release quarantined event: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return outcomeDuplicate, nil // another replica replayed it first
		}
		_, err = tx.Exec(ctx, `UPDATE connector_events SET account_id = $3 WHERE connector = $1 AND event_id = $2`, tool, p.ev.ID, p.accountID)
		return outcomeStored, wrap("record replayed event", err)
	}
	tag, err := tx.Exec(ctx, `INSERT INTO connector_events (connector, event_id, account_id) VALUES ($1, $2, $3)
		ON CONFLICT DO NOTHING`, tool, p.ev.ID, account)
	if err != nil {
		return 0, fmt.Errorf("record event: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return outcomeDuplicate, nil
	}
	if !p.ev.needsAccount() || p.accountID != 0 {
		return outcomeStored, nil
	}
	raw, err := json.Marshal(p.ev)
	if err != nil {
		return 0, fmt.Errorf("encode event: %w", err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO connector_quarantine (connector, event_id, key_kind, key_value, event)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, tool, p.ev.ID, p.key.Kind, p.key.Value, raw)
	return outcomeQuarantined, wrap("quarantine event", err)
}

func saveLinks(ctx context.Context, tx store.Tx, tool string, links []Link) error {
	for _, l := range links {
		if l.From.Value == "" || l.To.Value == "" {
			continue
		}
		if _, err := tx.Exec(ctx, `INSERT INTO connector_links (connector, key_kind, key_value, to_kind, to_value)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (connector, key_kind, key_value) DO UPDATE SET to_kind = $4, to_value = $5, updated_at = now()`,
			tool, l.From.Kind, l.From.Value, l.To.Kind, l.To.Value); err != nil {
			return fmt.Errorf("save link: %w", err)
		}
	}
	return nil
}

// profileTraits are CRM fields that fill the account's own profile, which
// cohorts and lookalikes read, besides being kept as sent.
var profileTraits = map[string]string{"industry": "industry", "Industry": "industry"}

func saveTraits(ctx context.Context, tx store.Tx, tool string, accountID int64, traits map[string]string) error {
	names := make([]string, 0, len(traits))
	for n := range traits {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		v := traits[n]
		if _, err := tx.Exec(ctx, `INSERT INTO connector_traits (account_id, connector, name, value) VALUES ($1, $2, $3, $4)
			ON CONFLICT (account_id, connector, name) DO UPDATE SET value = $4, updated_at = now()`, accountID, tool, n, v); err != nil {
			return fmt.Errorf("save trait %q: %w", n, err)
		}
		if col, ok := profileTraits[n]; ok && strings.TrimSpace(v) != "" {
			if _, err := tx.Exec(ctx, `INSERT INTO account_profiles (account_id, `+col+`) VALUES ($1, $2)
				ON CONFLICT (account_id) DO UPDATE SET `+col+` = $2, updated_at = now()`, accountID, strings.TrimSpace(v)); err != nil {
				return fmt.Errorf("save profile %s: %w", col, err)
			}
		}
	}
	return nil
}

// Traits are the CRM traits stored for an account, by connector and name.
func (m *Module) Traits(ctx context.Context, accountID int64) (map[string]map[string]string, error) {
	rows, err := m.st.DB().Query(ctx, `SELECT connector, name, value FROM connector_traits WHERE account_id = $1`, accountID)
	if err != nil {
		return nil, fmt.Errorf("traits: %w", err)
	}
	out := map[string]map[string]string{}
	var c, n, v string
	_, err = pgx.ForEachRow(rows, []any{&c, &n, &v}, func() error {
		if out[c] == nil {
			out[c] = map[string]string{}
		}
		out[c][n] = v
		return nil
	})
	return out, wrap("traits", err)
}

func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
