// Package api is Holdfast's HTTP layer: the server every feature mounts its
// routes on (bearer token, metrics, health and readiness), and the shapes
// every endpoint shares: strict JSON bodies, JSON errors, and the 422 that
// lists a rejected batch's rows.
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
)

// MaxBody bounds a request: 1,000 signals of 20 KB text each, plus JSON.
const MaxBody = 24 << 20

// Route is one endpoint a feature serves.
type Route struct {
	Pattern string // "POST /v1/signals"
	Name    string // the metrics label
	Handler http.HandlerFunc
	// Authed puts the route behind the ingest API's bearer token; a
	// webhook that verifies its own signature leaves it off.
	Authed bool
}

// Check is one readiness probe (Postgres, Redis).
type Check struct {
	Name string
	Ping func(context.Context) error
}

// Server holds the API's dependencies.
type Server struct {
	token    string
	checks   []Check
	gatherer prometheus.Gatherer
	log      *slog.Logger
	requests *prometheus.HistogramVec
	routes   []Route
}

// Mount adds features' endpoints, instrumented under their names. Call
// before Handler.
func (s *Server) Mount(routes ...Route) {
	s.routes = append(s.routes, routes...)
}

// New builds the API. An empty token leaves the write endpoints open, which
// config allows only in local mode.
func New(token string, checks []Check, reg *prometheus.Registry, log *slog.Logger) *Server {
	s := &Server{token: token, checks: checks, gatherer: reg, log: log,
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
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{}))
	for _, rt := range s.routes {
		h := rt.Handler
		if rt.Authed {
			h = s.auth(h)
		}
		mux.Handle(rt.Pattern, s.instrument(rt.Name, h))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path), nil)
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
			WriteError(w, http.StatusUnauthorized, "unauthorized", "missing or wrong bearer token", nil)
			return
		}
		next(w, r)
	}
}

// Failed answers an error, if any, and reports whether there was one: row
// problems are the client's (422), as is text Postgres can never store; a
// service that is down is 503 with Retry-After; anything else is ours
// (500) and is logged, not echoed.
func Failed(log *slog.Logger, w http.ResponseWriter, r *http.Request, err error) bool {
	if err == nil {
		return false
	}
	var ve *ValidationError
	if errors.As(err, &ve) {
		WriteError(w, http.StatusUnprocessableEntity, "invalid_rows", "the batch was rejected; nothing was stored", ve.Rows)
		return true
	}
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return true // the client hung up; nobody hears an answer
	}
	if Unstorable(err) {
		WriteError(w, http.StatusUnprocessableEntity, "unstorable", "the batch holds text that cannot be stored "+
			"(a NUL character or invalid UTF-8); nothing was stored; remove it, retrying as is never works",
			[]RowError{{Index: -1, Field: "batch", Message: "contains a NUL character or invalid UTF-8"}})
		return true
	}
	if Unavailable(err) {
		log.Warn("request failed: a backing service is unavailable", "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", RetryAfterSeconds)
		WriteError(w, http.StatusServiceUnavailable, "unavailable",
			"the database or Redis is unavailable; nothing was stored; retry after "+RetryAfterSeconds+" s", nil)
		return true
	}
	log.Error("request failed", "path", r.URL.Path, "err", err)
	WriteError(w, http.StatusInternalServerError, "internal", "the batch was not stored; retry it", nil)
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
	WriteJSON(w, code, status)
}

// Decode reads a JSON body of at most MaxBody bytes strictly, answering the
// client itself when it cannot; false means it did.
func Decode(w http.ResponseWriter, r *http.Request, v any) bool {
	raw, ok := ReadBody(w, r, MaxBody)
	return ok && DecodeJSON(w, raw, v)
}

// ReadBody reads a JSON request body of at most limit bytes, answering the
// client itself when it cannot (wrong type, too large). Webhooks need the
// raw bytes to check their signature before decoding.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, bool) {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		WriteError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "send Content-Type: application/json", nil)
		return nil, false
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			WriteError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("body over %d bytes", limit), nil)
			return nil, false
		}
		WriteError(w, http.StatusBadRequest, "bad_body", "could not read the body", nil)
		return nil, false
	}
	return raw, true
}

// DecodeJSON decodes strictly: unknown fields are typos the client must
// hear about, not data to drop; so is anything after the object.
func DecodeJSON(w http.ResponseWriter, raw []byte, v any) bool {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		WriteError(w, http.StatusBadRequest, "bad_json", "body is not valid JSON for this endpoint: "+err.Error(), nil)
		return false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		WriteError(w, http.StatusBadRequest, "bad_json", "body has data after the JSON object", nil)
		return false
	}
	return true
}

type errorBody struct {
	Error   string     `json:"error"`
	Message string     `json:"message"`
	Rows    []RowError `json:"rows,omitempty"`
}

// WriteError answers with the JSON error body every endpoint shares.
func WriteError(w http.ResponseWriter, status int, code, msg string, rows []RowError) {
	WriteJSON(w, status, errorBody{Error: code, Message: msg, Rows: rows})
}

// WriteJSON answers with v as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
