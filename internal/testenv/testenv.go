// Package testenv is where tests find Postgres and Redis: the servers
// (HOLDFAST_TEST_DATABASE_URL and HOLDFAST_TEST_REDIS_URL override the
// local ones) and a private Redis key prefix per test, so tests run in
// parallel against the same servers without seeing each other's keys.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// DatabaseURL is the test database; HOLDFAST_TEST_DATABASE_URL overrides it.
func DatabaseURL() string {
	if u := os.Getenv("HOLDFAST_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/holdfast_test?sslmode=disable"
}

// RedisURL is the test Redis; HOLDFAST_TEST_REDIS_URL overrides it.
func RedisURL() string {
	if u := os.Getenv("HOLDFAST_TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// Redis returns a client and a key prefix unique to this test; the test's
// keys are deleted when it ends.
func Redis(tb testing.TB) (*redis.Client, string) {
	tb.Helper()
	opts, err := redis.ParseURL(RedisURL())
	if err != nil {
		tb.Fatalf("redis url: %v", err)
	}
	rdb := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		tb.Fatalf("redis at %s: %v", RedisURL(), err)
	}
	prefix := "holdfast-test:" + RandomHex(6) + ":"
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
		rdb.Close()
	})
	return rdb, prefix
}

// RandomHex is n random bytes in hex, for names no other test uses.
func RandomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
