package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/holdfast/holdfast/api"
	"github.com/holdfast/holdfast/internal/testenv"
)

// closedPort is a local port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func answer(t *testing.T, err error) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/v1/signals", nil)
	if !api.Failed(slog.New(slog.DiscardHandler), w, r, fmt.Errorf("ingest signals: %w", err)) {
		t.Fatal("Failed reported no error")
	}
	return w
}

// A Postgres or Redis that cannot be reached is 503 with Retry-After: the
// client should come back, not give up and not hammer us.
func TestUnreachableServicesAre503(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	addr := closedPort(t)
	_, pgErr := pgx.Connect(ctx, "postgres://postgres@"+addr+"/holdfast?sslmode=disable&connect_timeout=2")
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer rdb.Close()
	redisErr := rdb.SetNX(ctx, "k", "1", time.Minute).Err()
	for name, err := range map[string]error{"postgres": pgErr, "redis": redisErr} {
		if err == nil {
			t.Fatalf("%s on a closed port answered", name)
		}
		w := answer(t, err)
		if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
			t.Errorf("%s down: %d Retry-After %q, want 503 with Retry-After", name, w.Code, w.Header().Get("Retry-After"))
		}
	}
}

// Text Postgres refuses (NUL in jsonb) is the client's: 422, never "retry".
func TestUnstorableTextIs422(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, testenv.DatabaseURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `SELECT $1::jsonb`, `{"a":"\u0000"}`)
	if err == nil {
		t.Fatal("postgres stored a NUL in jsonb")
	}
	w := answer(t, err)
	var body struct{ Error string }
	_ = json.Unmarshal(w.Body.Bytes(), &body)
	if w.Code != http.StatusUnprocessableEntity || body.Error != "unstorable" {
		t.Errorf("NUL in jsonb: %d %s, want 422 unstorable", w.Code, w.Body)
	}
	if w := answer(t, errors.New("a bug")); w.Code != http.StatusInternalServerError {
		t.Errorf("a bug answered %d, want 500", w.Code)
	}
}
