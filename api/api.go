// Package api is Holdfast's HTTP ingest API: accounts and signals in, health
// and metrics out.
package api

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/holdfast/holdfast/ingest"
	"github.com/holdfast/holdfast/store"
)

// maxBody bounds a request: 1,000 signals of 20 KB text each, plus JSON.
const maxBody = 24 << 20

// Ingester is the domain the API feeds.
type Ingester interface {
	UpsertAccounts(ctx context.Context, in []ingest.AccountIn) ([]store.UpsertResult, error)
	IngestSignals(ctx context.Context, in []ingest.SignalIn, hooks ...store.TxHook) (ingest.SignalsResult, error)
}

// Check is one readiness probe (Postgres, Redis).
type Check struct {
	Name string
	Ping func(context.Context) error
}

// Server holds the API's dependencies.
type Server struct {
	ingest   Ingester
	token    string
	checks   []Check
	gatherer prometheus.Gatherer
	log      *slog.Logger
	requests *prometheus.HistogramVec
	mounts   []mount
}

type mount struct {
	pattern, route string
	h              http.HandlerFunc
	authed         bool
}

// Mount adds an endpoint that brings its own authentication (a webhook
// verified by signature), instrumented under route. Call before Handler.
func (s *Server) Mount(pattern, route string, h http.HandlerFunc) {
	s.mounts = append(s.mounts, mount{pattern, route, h, false})
}

// MountAuthed adds an endpoint behind the ingest API's bearer token, like
// /v1/signals. Call before Handler.
func (s *Server) MountAuthed(pattern, route string, h http.HandlerFunc) {
	s.mounts = append(s.mounts, mount{pattern, route, h, true})
}

// New builds the API. An empty token leaves the write endpoints open, which
// config allows only in local mode.
func New(ingest Ingester, token string, checks []Check, reg *prometheus.Registry, log *slog.Logger) *Server {
	s := &Server{ingest: ingest, token: token, checks: checks, gatherer: reg, log: log,
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "holdfast_http_request_seconds", Help: "Ingest API requests by route and status.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 10),
		}, []string{"route", "status"})}
	reg.MustRegister(s.requests)
	return s
}

// Handler routes every endpoint.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /v1/accounts", s.instrument("accounts", s.auth(s.postAccounts)))
	mux.Handle("POST /v1/signals", s.instrument("signals", s.auth(s.postSignals)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{}))
	for _, m := range s.mounts {
		h := m.h
		if m.authed {
			h = s.auth(h)
		}
		mux.Handle(m.pattern, s.instrument(m.route, h))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path), nil)
	})
	return mux
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (s *Server) instrument(route string, next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next(sw, r)
		s.requests.WithLabelValues(route, fmt.Sprint(sw.status)).Observe(time.Since(start).Seconds())
	})
}

func (s *Server) auth(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.token == "" {
			next(w, r)
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="holdfast"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "missing or wrong bearer token", nil)
			return
		}
		next(w, r)
	}
}

func (s *Server) postAccounts(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Accounts []ingest.AccountIn `json:"accounts"`
	}
	if !decode(w, r, &body) {
		return
	}
	res, err := s.ingest.UpsertAccounts(r.Context(), body.Accounts)
	if s.failed(w, r, err) {
		return
	}
	created := 0
	for _, u := range res {
		if u.Created {
			created++
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"upserted": len(res), "created": created})
}

func (s *Server) postSignals(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Signals []ingest.SignalIn `json:"signals"`
	}
	if !decode(w, r, &body) {
		return
	}
	res, err := s.ingest.IngestSignals(r.Context(), body.Signals)
	if s.failed(w, r, err) {
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// failed answers an error, if any: row problems are the client's (422),
// anything else is ours (500) and is logged, not echoed.
func (s *Server) failed(w http.ResponseWriter, r *http.Request, err error) bool {
	if err == nil {
		return false
	}
	var ve *ingest.ValidationError
	if errors.As(err, &ve) {
		writeError(w, http.StatusUnprocessableEntity, "invalid_rows", "the batch was rejected; nothing was stored", ve.Rows)
		return true
	}
	if errors.Is(err, context.Canceled) {
		return true
	}
	s.log.Error("ingest failed", "path", r.URL.Path, "err", err)
	writeError(w, http.StatusInternalServerError, "internal", "the batch was not stored; retry it", nil)
	return true
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	status, code := map[string]string{}, http.StatusOK
	for _, c := range s.checks {
		if err := c.Ping(ctx); err != nil {
			status[c.Name] = "unreachable"
			code = http.StatusServiceUnavailable
			s.log.Warn("readiness check failed", "check", c.Name, "err", err)
			continue
		}
		status[c.Name] = "ok"
	}
	writeJSON(w, code, status)
}

// decode reads a JSON body of at most maxBody bytes strictly.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	raw, ok := readBody(w, r, maxBody)
	return ok && decodeJSON(w, raw, v)
}

// readBody reads a JSON request body of at most limit bytes, answering the
// client itself when it cannot (wrong type, too large). Webhooks need the
// raw bytes to check their signature before decoding.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, bool) {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		writeError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "send Content-Type: application/json", nil)
		return nil, false
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("body over %d bytes", limit), nil)
			return nil, false
		}
		writeError(w, http.StatusBadRequest, "bad_body", "could not read the body", nil)
		return nil, false
	}
	return raw, true
}

// decodeJSON decodes strictly: unknown fields are typos the client must
// hear about, not data to drop; so is anything after the object.
func decodeJSON(w http.ResponseWriter, raw []byte, v any) bool {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "bad_json", "body is not valid JSON for this endpoint: "+err.Error(), nil)
		return false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		writeError(w, http.StatusBadRequest, "bad_json", "body has data after the JSON object", nil)
		return false
	}
	return true
}

type errorBody struct {
	Error   string            `json:"error"`
	Message string            `json:"message"`
	Rows    []ingest.RowError `json:"rows,omitempty"`
}

func writeError(w http.ResponseWriter, status int, code, msg string, rows []ingest.RowError) {
	writeJSON(w, status, errorBody{Error: code, Message: msg, Rows: rows})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
