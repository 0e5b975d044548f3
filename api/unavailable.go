package api

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/redis/go-redis/v9"
)

// RetryAfterSeconds is the Retry-After of a 503: long enough for a
// Postgres restart or failover to finish, short enough for clients that
// queue behind it.
const RetryAfterSeconds = "5"

// Unavailable reports whether err means a backing service (Postgres or
// Redis) could not be reached or dropped the connection, rather than a bug
// or bad input: the same call will work once the service is back.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "57P01", "57P02", "57P03", // admin / crash shutdown, cannot connect now
			"53300",          // too many connections
			"40001", "40P01": // serialization failure, deadlock: retry the whole call
			return true
		}
		return strings.HasPrefix(pgErr.Code, "08") // connection exception
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &connectErr), errors.As(err, &netErr),
		pgconn.Timeout(err), pgconn.SafeToRetry(err),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, net.ErrClosed), errors.Is(err, redis.ErrClosed), errors.Is(err, redis.ErrPoolTimeout):
		return true
	}
	// pgx reports a connection that died under a statement as plain text.
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "connection refused") ||
		strings.Contains(msg, "unexpected EOF") || strings.Contains(msg, "LOADING Redis")
}

// Unstorable reports whether Postgres refused err's input as text it can
// never store (a NUL character, a byte sequence invalid in UTF-8): the
// client's data, not a reason to retry.
func Unstorable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "22P05", // untranslatable character (\u0000 in jsonb)
			"22021": // character not in repertoire (NUL in text)
			return true
		}
	}
	return false
}
