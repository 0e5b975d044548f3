// Package llmtest is a fake OpenAI-compatible chat completions server on
// 127.0.0.1 for tests: it answers with whatever the test's function returns
// and records every request.
package llmtest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Request is one chat completion the fake received.
type Request struct {
	Model    string
	System   string
	User     string
	JSONMode bool
}

// Answer is what the fake replies: Content as the assistant message, or
// Status (non-200) as an error, after Delay.
type Answer struct {
	Content string
	Status  int
	Delay   time.Duration
}

// Server is a running fake.
type Server struct {
	URL string // base URL to use as OPENAI_BASE_URL (ends in /v1)

	mu       sync.Mutex
	requests []Request
}

// New starts a fake that answers with reply; it is closed when the test ends.
func New(t testing.TB, reply func(Request) Answer) *Server {
	s, stop := Start(reply)
	t.Cleanup(stop)
	return s
}

// Start starts a fake outside a test (the chaos suite); stop closes it.
func Start(reply func(Request) Answer) (s *Server, stop func()) {
	s = &Server{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" {
			http.NotFound(w, r)
			return
		}
		var body struct {
			Model    string `json:"model"`
			Messages []struct {
				Role    string `json:"role"`
				Content string `json:"content"`
			} `json:"messages"`
			ResponseFormat *struct {
				Type string `json:"type"`
			} `json:"response_format"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req := Request{Model: body.Model, JSONMode: body.ResponseFormat != nil && body.ResponseFormat.Type == "json_object"}
		for _, m := range body.Messages {
			switch m.Role {
			case "system":
				req.System = m.Content
			case "user":
				req.User = m.Content
			}
		}
		s.mu.Lock()
		s.requests = append(s.requests, req)
		s.mu.Unlock()
		a := reply(req)
		if a.Delay > 0 {
			select {
			case <-time.After(a.Delay):
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		if a.Status != 0 && a.Status != http.StatusOK {
			w.WriteHeader(a.Status)
			_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": "fake error", "type": "server_error"}})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": "chatcmpl-fake", "object": "chat.completion", "created": time.Now().Unix(), "model": body.Model,
			"choices": []map[string]any{{"index": 0, "finish_reason": "stop",
				"message": map[string]any{"role": "assistant", "content": a.Content}}},
		})
	}))
	s.URL = srv.URL + "/v1"
	return s, srv.Close
}

// Requests returns what the fake received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}
