// Package sftest is a fake Salesforce org for tests: the OAuth token
// endpoint (client credentials), sObject create and upsert by external id,
// and the SOQL lookups the connector makes, on 127.0.0.1. Tests can take it
// down for a while (503), lose answers after committing, and expire tokens.
package sftest

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Credentials the fake accepts.
const (
	ClientID     = "fake-client-id"
	ClientSecret = "fake-client-secret-0123456789"
)

// Record is a stored sObject.
type Record struct {
	ID     string
	Object string
	Fields map[string]any
}

// Call is one request the fake answered.
type Call struct {
	Method string
	Path   string
	Status int
	At     time.Time
}

// Server is a running fake org.
type Server struct {
	URL string

	mu          sync.Mutex
	records     []Record
	calls       []Call
	tokens      map[string]bool
	tokenSeq    int
	idSeq       int
	outageUntil time.Time
	lose        int
}

// New starts a fake on 127.0.0.1, closed when the test ends.
func New(tb testing.TB) *Server {
	s := &Server{tokens: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /services/oauth2/token", s.token)
	mux.HandleFunc("POST /services/data/{version}/sobjects/{object}", s.create)
	mux.HandleFunc("PATCH /services/data/{version}/sobjects/{object}/{field}/{value}", s.upsert)
	mux.HandleFunc("GET /services/data/{version}/query", s.query)
	srv := httptest.NewServer(s.gate(mux))
	tb.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Outage makes every request answer 503 for d.
func (s *Server) Outage(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outageUntil = time.Now().Add(d)
}

// LoseAnswers makes the next n creates commit and then drop the
// connection without answering, as a network failure after the commit
// would.
func (s *Server) LoseAnswers(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lose = n
}

// ExpireTokens invalidates every issued token (the next call gets 401).
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

// Records returns the stored records of object ("" = all), in creation order.
func (s *Server) Records(object string) []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Record
	for _, r := range s.records {
		if object == "" || r.Object == object {
			r.Fields = maps.Clone(r.Fields) // an upsert updates the stored map in place
			out = append(out, r)
		}
	}
	return out
}

// Calls returns every request answered, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// gate answers 503 during an outage and checks the bearer token on the
// data API.
func (s *Server) gate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			s.mu.Lock()
			s.calls = append(s.calls, Call{Method: r.Method, Path: r.URL.Path, Status: rec.status, At: time.Now()})
			s.mu.Unlock()
		}()
		s.mu.Lock()
		down := time.Now().Before(s.outageUntil)
		s.mu.Unlock()
		if down {
			writeJSON(rec, http.StatusServiceUnavailable, []map[string]string{{"errorCode": "SERVER_UNAVAILABLE",
				"message": "Service temporarily unavailable"}})
			return
		}
		if strings.HasPrefix(r.URL.Path, "/services/data/") {
			token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			s.mu.Lock()
			ok := s.tokens[token]
			s.mu.Unlock()
			if !ok {
				writeJSON(rec, http.StatusUnauthorized, []map[string]string{{"errorCode": "INVALID_SESSION_ID",
					"message": "Session expired or invalid"}})
				return
			}
		}
		// Lost answers need the raw connection, which the recorder hides.
		if s.takeLose(r) {
			next.ServeHTTP(&discard{header: http.Header{}}, r)
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					conn.Close()
					rec.status = 0
					return
				}
			}
		}
		next.ServeHTTP(rec, r)
	})
}

func (s *Server) takeLose(r *http.Request) bool {
	if r.Method != http.MethodPost || !strings.Contains(r.URL.Path, "/sobjects/") {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lose > 0 {
		s.lose--
		return true
	}
	return false
}

// discard runs a handler for its effect only.
type discard struct{ header http.Header }

func (d *discard) Header() http.Header         { return d.header }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": err.Error()})
		return
	}
	if r.Form.Get("grant_type") != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type",
			"error_description": "grant type not supported"})
		return
	}
	if r.Form.Get("client_id") != ClientID || r.Form.Get("client_secret") != ClientSecret {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_client",
			"error_description": "invalid client credentials"})
		return
	}
	s.mu.Lock()
	s.tokenSeq++
	tok := fmt.Sprintf("00Dfake!token%04d", s.tokenSeq)
	s.tokens[tok] = true
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"access_token": tok, "instance_url": s.URL, "token_type": "Bearer",
		"id": s.URL + "/id/00Dfake/005fake", "issued_at": fmt.Sprint(time.Now().UnixMilli())})
}

// AddToken makes tok a valid static access token.
func (s *Server) AddToken(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[tok] = true
}

var prefixes = map[string]string{"Task": "00T", "Note": "002", "Case": "500"}

func (s *Server) newIDLocked(object string) string {
	s.idSeq++
	return fmt.Sprintf("%s%012dAAA", prefixes[object], s.idSeq)
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	object := r.PathValue("object")
	fields, ok := s.fields(w, r, object)
	if !ok {
		return
	}
	s.mu.Lock()
	id := s.newIDLocked(object)
	s.records = append(s.records, Record{ID: id, Object: object, Fields: fields})
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"id": id, "success": true, "errors": []any{}})
}

func (s *Server) upsert(w http.ResponseWriter, r *http.Request) {
	object, field, value := r.PathValue("object"), r.PathValue("field"), r.PathValue("value")
	fields, ok := s.fields(w, r, object)
	if !ok {
		return
	}
	fields[field] = value
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, rec := range s.records {
		if rec.Object == object && rec.Fields[field] == value {
			for k, v := range fields {
				s.records[i].Fields[k] = v
			}
			writeJSON(w, http.StatusOK, map[string]any{"id": rec.ID, "success": true, "created": false, "errors": []any{}})
			return
		}
	}
	id := s.newIDLocked(object)
	s.records = append(s.records, Record{ID: id, Object: object, Fields: fields})
	writeJSON(w, http.StatusCreated, map[string]any{"id": id, "success": true, "created": true, "errors": []any{}})
}

// fields decodes and checks a body the way Salesforce would for the fields
// the connector sends.
func (s *Server) fields(w http.ResponseWriter, r *http.Request, object string) (map[string]any, bool) {
	if _, known := prefixes[object]; !known {
		writeJSON(w, http.StatusNotFound, []map[string]string{{"errorCode": "NOT_FOUND",
			"message": "The requested resource does not exist"}})
		return nil, false
	}
	var fields map[string]any
	if err := json.NewDecoder(r.Body).Decode(&fields); err != nil {
		writeJSON(w, http.StatusBadRequest, []map[string]string{{"errorCode": "JSON_PARSER_ERROR", "message": err.Error()}})
		return nil, false
	}
	limits := map[string]int{"Subject": 255, "Title": 80}
	for f, n := range limits {
		if v, ok := fields[f].(string); ok && len([]rune(v)) > n {
			writeJSON(w, http.StatusBadRequest, []map[string]string{{"errorCode": "STRING_TOO_LONG",
				"message": f + ": data value too large"}})
			return nil, false
		}
	}
	return fields, true
}

var soql = regexp.MustCompile(`^SELECT Id FROM (\w+) WHERE (\w+) = '((?:[^'\\]|\\.)*)' AND (\w+) LIKE '%((?:[^'\\]|\\.)*)' LIMIT 1$`)

func (s *Server) query(w http.ResponseWriter, r *http.Request) {
	m := soql.FindStringSubmatch(r.URL.Query().Get("q"))
	if m == nil {
		writeJSON(w, http.StatusBadRequest, []map[string]string{{"errorCode": "MALFORMED_QUERY",
			"message": "the fake understands only the connector's lookup"}})
		return
	}
	unescape := strings.NewReplacer(`\\`, `\`, `\'`, `'`, `\%`, `%`, `\_`, `_`)
	object, parentField, parent, subjectField, suffix := m[1], m[2], unescape.Replace(m[3]), m[4], unescape.Replace(m[5])
	var found []map[string]any
	for _, rec := range s.Records(object) {
		subject, _ := rec.Fields[subjectField].(string)
		if rec.Fields[parentField] == parent && strings.HasSuffix(subject, suffix) {
			found = append(found, map[string]any{"attributes": map[string]string{"type": object}, "Id": rec.ID})
			break
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"totalSize": len(found), "done": true, "records": found})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
