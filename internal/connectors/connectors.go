// Package connectors takes in the webhooks of the tools a Customer
// Success team already uses (Zendesk, Intercom, HubSpot, Salesforce
// Outbound Messages, Segment, Gong), each in its own documented payload
// and verified by its own signature scheme. One framework does the rest
// for all of them:
//
//	verify (401, nothing stored) -> parse into Events -> drop redeliveries
//	(the tool's event id) -> resolve the account by the configured key
//	-> one transaction: event ids, signals through the ingest pipeline
//	   (so scoring, alerts and hooks work as for /v1/signals), deals
//	   through the rooms intake, traits, usage; or the quarantine when no
//	   account matches, replayed once its key is mapped.
//
// Each tool is one file: its verification and its mapping from payload to
// Events.
package connectors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/holdfast/holdfast/api"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/internal/rooms"
	"github.com/holdfast/holdfast/schedule"
	"github.com/holdfast/holdfast/store"
)

// Tool names: the connector label in URLs, metrics, signal sources and the
// tables.
const (
	Zendesk    = "zendesk"
	Intercom   = "intercom"
	HubSpot    = "hubspot"
	Salesforce = "salesforce"
	Segment    = "segment"
	Gong       = "gong"
)

// Tools lists the connectors in the order the README and status show them.
var Tools = []string{Zendesk, Intercom, HubSpot, Salesforce, Segment, Gong}

// maxBody bounds one webhook delivery; the largest are Salesforce's 100
// notifications and Gong calls with their brief.
const maxBody = 4 << 20

// A Key is one way a tool's record names an account.
type Key struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// A Link is a relation a tool reports between its own keys (a HubSpot
// deal's company, a Segment user's group), kept so later events resolve.
type Link struct {
	From Key `json:"from"`
	To   Key `json:"to"`
}

// Event is one tool event as Holdfast keeps it: what it names the account
// by and what it becomes. It is stored as JSON while quarantined.
type Event struct {
	ID   string `json:"id"` // the tool's own event id: redeliveries are duplicates
	Keys []Key  `json:"keys,omitempty"`
	// Signals go through the ingest pipeline; Account is filled in when
	// the account is resolved.
	Signals []ingest.SignalIn `json:"signals,omitempty"`
	Deal    *rooms.DealIn     `json:"deal,omitempty"`
	Traits  map[string]string `json:"traits,omitempty"`
	Usage   *Usage            `json:"usage,omitempty"`
	Links   []Link            `json:"links,omitempty"`
}

// needsAccount reports whether the event stores anything an account owns.
func (e Event) needsAccount() bool {
	return len(e.Signals) > 0 || e.Deal != nil || len(e.Traits) > 0 || e.Usage != nil
}

// Usage is one usage data point: value added to the account's day.
type Usage struct {
	Day   string  `json:"day"` // YYYY-MM-DD, UTC
	Value float64 `json:"value"`
}

// A connector is one tool: how its requests are verified and what its
// payloads become.
type connector interface {
	name() string
	// enabled is false while the tool's secret is unset: its URL answers 404.
	enabled() bool
	// verify checks the request's signature and age; an error is a 401.
	verify(r *http.Request, body []byte, now time.Time) error
	// parse turns a verified payload into events; an error is a 400.
	parse(body []byte, now time.Time) ([]Event, error)
}

// responder is a connector that answers in its own format (Salesforce's
// SOAP acknowledgement).
type responder interface {
	respond(w http.ResponseWriter, res Result)
}

// Result is what one delivery did.
type Result struct {
	Received    int `json:"received"`
	Stored      int `json:"stored"`
	Duplicates  int `json:"duplicates"`
	Quarantined int `json:"quarantined"`
	Ignored     int `json:"ignored"`
}

// Options configure the connectors.
type Options struct {
	Settings Settings
	Secrets  Secrets
	// Deals records won deals (internal/rooms' intake); nil leaves deals
	// out.
	Deals *rooms.Deals
	// IsAdmin says who else (the admin role) sees the quarantine besides
	// connectors.admins; nil: nobody else.
	IsAdmin func(user string) bool
}

// Module is the connectors as a feature of the bot.
type Module struct {
	isAdmin  func(user string) bool
	st       *store.Store
	ingest   *ingest.Pipeline
	deals    *rooms.Deals
	settings Settings
	tools    map[string]connector
	usage    *usageWriter
	metrics  *prometheus.CounterVec
	now      func() time.Time
	log      *slog.Logger

	cacheMu sync.Mutex
	cache   map[Key]cachedAccount // the firehose's resolved keys
}

// New wires the connectors. reg may be nil (tests without metrics).
func New(st *store.Store, pipeline *ingest.Pipeline, opts Options, reg prometheus.Registerer, now func() time.Time, log *slog.Logger) *Module {
	m := &Module{st: st, ingest: pipeline, deals: opts.Deals, settings: opts.Settings, now: now, log: log.With("feature", "connectors"),
		metrics: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "holdfast_connector_events_total",
			Help: "Connector events by tool and outcome: received, stored, duplicate, rejected, quarantined, ignored.",
		}, []string{"connector", "outcome"})}
	if reg != nil {
		reg.MustRegister(m.metrics)
	}
	m.isAdmin = func(user string) bool {
		return slices.Contains(opts.Settings.Admins, user) || (opts.IsAdmin != nil && opts.IsAdmin(user))
	}
	m.tools = newTools(opts.Settings, opts.Secrets)
	m.usage = newUsageWriter(st, m, log)
	return m
}

func newTools(s Settings, secrets Secrets) map[string]connector {
	return map[string]connector{
		Zendesk:    &zendesk{secret: secrets.ZendeskSecret, settings: s.Zendesk},
		Intercom:   &intercom{secret: secrets.IntercomSecret, settings: s.Intercom},
		HubSpot:    &hubspot{secret: secrets.HubSpotSecret, settings: s.HubSpot, publicURL: s.PublicURL},
		Salesforce: &salesforce{enabledFlag: secrets.SalesforceEnabled, token: secrets.SalesforceToken, settings: s.Salesforce},
		Segment:    &segment{secret: secrets.SegmentSecret, settings: s.Segment},
		Gong:       &gong{key: secrets.GongPublicKey, settings: s.Gong, publicURL: s.PublicURL},
	}
}

// Enabled reports which tools are on for settings and secrets, as the
// running bot decides it (ReadStatus from the command line).
func Enabled(s Settings, secrets Secrets) func(tool string) bool {
	tools := newTools(s, secrets)
	return func(tool string) bool { c, ok := tools[tool]; return ok && c.enabled() }
}

// Name names the feature.
func (*Module) Name() string { return "connectors" }

// Close stops the usage writer after it has flushed what it holds.
func (m *Module) Close() { m.usage.close() }

// Routes are one webhook per tool, the mapping API and the quarantine.
func (m *Module) Routes() []api.Route {
	var routes []api.Route
	for _, name := range Tools {
		routes = append(routes, api.Route{Pattern: "POST /webhooks/" + name, Name: "connector_" + name, Handler: m.webhook(m.tools[name])})
	}
	return append(routes,
		api.Route{Pattern: "POST /v1/connectors/mappings", Name: "connector_mappings", Authed: true, Handler: m.postMapping},
		api.Route{Pattern: "GET /v1/connectors/quarantine", Name: "connector_quarantine", Authed: true, Handler: m.getQuarantine},
	)
}

// Jobs replay quarantined events whose account appeared, and turn
// finished days of usage into usage signals.
func (m *Module) Jobs() []schedule.Job {
	return []schedule.Job{
		{Name: "connectors-replay", Spec: m.settings.ReplaySpec, Run: func(ctx context.Context, _ time.Time) error {
			_, err := m.ReplayResolvable(ctx)
			return err
		}},
		{Name: "connectors-usage", Spec: m.settings.UsageSpec, Run: func(ctx context.Context, now time.Time) error {
			_, err := m.EmitUsageSignals(ctx, now)
			return err
		}},
	}
}

func (m *Module) count(tool, outcome string, n int) {
	if n > 0 {
		m.metrics.WithLabelValues(tool, outcome).Add(float64(n))
	}
}

// unauthorized answers a request whose signature does not hold.
func unauthorized(w http.ResponseWriter, msg string) {
	api.WriteError(w, http.StatusUnauthorized, "bad_signature", msg, nil)
}

func (m *Module) webhook(c connector) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !c.enabled() {
			api.WriteError(w, http.StatusNotFound, "not_configured", fmt.Sprintf("the %s connector is off: see the README's Connectors section", c.name()), nil)
			return
		}
		raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				api.WriteError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("body over %d bytes", maxBody), nil)
				return
			}
			api.WriteError(w, http.StatusBadRequest, "bad_body", "could not read the body", nil)
			return
		}
		now := m.now()
		if err := c.verify(r, raw, now); err != nil {
			m.count(c.name(), "rejected", 1)
			var bad badPayload
			if errors.As(err, &bad) {
				api.WriteError(w, http.StatusBadRequest, "bad_payload", err.Error(), nil)
				return
			}
			unauthorized(w, err.Error())
			return
		}
		events, err := c.parse(raw, now)
		if err != nil {
			m.count(c.name(), "rejected", 1)
			api.WriteError(w, http.StatusBadRequest, "bad_payload", err.Error(), nil)
			return
		}
		m.count(c.name(), "received", len(events))
		var res Result
		if c.name() == Segment {
			res, err = m.usage.add(r.Context(), events)
		} else {
			res, err = m.Process(r.Context(), c.name(), events)
		}
		if api.Failed(m.log, w, r, err) {
			return
		}
		if rs, ok := c.(responder); ok {
			rs.respond(w, res)
			return
		}
		api.WriteJSON(w, http.StatusOK, res)
	}
}

// Process stores a verified delivery's events: redeliveries are
// duplicates, events of unknown accounts are quarantined, the rest are
// stored in one transaction with their event ids.
func (m *Module) Process(ctx context.Context, tool string, events []Event) (Result, error) {
	res := Result{Received: len(events)}
	fresh, err := m.unseen(ctx, tool, events)
	if err != nil {
		return res, err
	}
	res.Duplicates = len(events) - len(fresh)
	res2, err := m.apply(ctx, tool, fresh, nil)
	res2.Received, res2.Duplicates = res.Received, res.Duplicates+res2.Duplicates
	return res2, err
}

// planned is one event with its account resolved (0 = quarantined under
// key).
type planned struct {
	ev         Event
	accountID  int64
	externalID string
	key        Key
	// quarantineID is set when the event is being replayed from the
	// quarantine.
	quarantineID int64
}

// apply resolves and stores events that were not seen before. quarantined
// holds the quarantine row id of each event when they are replayed (nil
// for a delivery).
func (m *Module) apply(ctx context.Context, tool string, events []Event, quarantined []int64) (Result, error) {
	var res Result
	if len(events) == 0 {
		return res, nil
	}
	plans := make([]planned, len(events))
	// Links an event carries count for the others of its delivery (HubSpot
	// sends a deal's company association with its stage change).
	var links []Link
	for _, ev := range events {
		links = append(links, ev.Links...)
	}
	var signals []ingest.SignalIn
	var sigEvent []int
	for i, ev := range events {
		p := planned{ev: ev}
		if quarantined != nil {
			p.quarantineID = quarantined[i]
		}
		if ev.needsAccount() {
			acct, key, err := resolve(ctx, m.st.DB(), tool, ev.Keys, links)
			if err != nil {
				return res, err
			}
			p.accountID, p.externalID, p.key = acct.id, acct.externalID, key
		}
		if p.accountID != 0 {
			for j := range p.ev.Signals {
				p.ev.Signals[j].Account = p.externalID
				signals = append(signals, p.ev.Signals[j])
				sigEvent = append(sigEvent, i)
			}
			if p.ev.Deal != nil {
				p.ev.Deal.Account = p.externalID
			}
		}
		plans[i] = p
	}
	var batch *ingest.Batch
	if len(signals) > 0 {
		b, err := m.ingest.Prepare(ctx, signals)
		if err != nil {
			// A tool's payload that maps to an invalid signal is the
			// tool's data, not a transient failure: say which.
			var ve *api.ValidationError
			if errors.As(err, &ve) {
				for k := range ve.Rows {
					if ve.Rows[k].Index >= 0 {
						ve.Rows[k].Message = fmt.Sprintf("event %q: %s", plans[sigEvent[ve.Rows[k].Index]].ev.ID, ve.Rows[k].Message)
					}
				}
			}
			return res, err
		}
		batch = b
	}
	err := m.st.InTx(ctx, func(tx store.Tx) error {
		res = Result{}
		var deals []rooms.DealIn
		for _, p := range plans {
			outcome, err := recordEvent(ctx, tx, tool, p)
			if err != nil {
				return err
			}
			switch outcome {
			case outcomeDuplicate:
				res.Duplicates++
				continue
			case outcomeQuarantined:
				res.Quarantined++
				continue
			}
			if err := saveLinks(ctx, tx, tool, p.ev.Links); err != nil {
				return err
			}
			if !p.ev.needsAccount() {
				res.Ignored++
				continue
			}
			res.Stored++
			if p.ev.Deal != nil {
				deals = append(deals, *p.ev.Deal)
			}
			if err := saveTraits(ctx, tx, tool, p.accountID, p.ev.Traits); err != nil {
				return err
			}
			if u := p.ev.Usage; u != nil {
				if err := addUsage(ctx, tx, []usageRow{{accountID: p.accountID, day: u.Day, value: u.Value, events: 1}}); err != nil {
					return err
				}
			}
		}
		if batch != nil {
			// Signals of an event that turned out to be a concurrent
			// duplicate are duplicates to the pipeline too (same keys).
			if err := m.ingest.Apply(ctx, tx, batch); err != nil {
				return err
			}
		}
		if len(deals) > 0 {
			if m.deals == nil {
				return errors.New("deals arrived but the rooms intake is not wired")
			}
			if _, err := m.deals.RecordDealsTx(ctx, tx, deals, tool); err != nil {
				return err
			}
		}
		return nil
	})
	if batch != nil {
		_, err = batch.Finish(err)
	}
	if err != nil {
		return Result{}, err
	}
	m.count(tool, "stored", res.Stored)
	m.count(tool, "duplicate", res.Duplicates)
	m.count(tool, "quarantined", res.Quarantined)
	m.count(tool, "ignored", res.Ignored)
	return res, nil
}

// badPayload is a verify error about a body whose signature held but
// which cannot be read for its signed time: the tool's data (400), not a
// forgery (401), so nobody chases a secret that is right.
type badPayload struct{ error }

func (b badPayload) Unwrap() error { return b.error }

// decodeJSON reads JSON into v; vendors add fields over time, so unknown
// fields are fine, but the shape must hold.
func decodeJSON(raw []byte, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("payload is not the documented JSON: %w", err)
	}
	return nil
}
