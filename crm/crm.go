// Package crm writes what Customer Success learns back to the CRM: notes
// and call summaries as activities (Task or Note) and, when asked, a Case,
// on the account's CRM record. Writes are queued in Postgres in the same
// transaction as the note that caused them and delivered by a Writer with
// retries and backoff, once per idempotency key, with a log of every
// attempt. The connector (Salesforce today) is an interface defined here,
// where it is used.
package crm

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/holdfast/holdfast/rooms"
	"github.com/holdfast/holdfast/store"
)

// Objects a connector writes.
const (
	ObjectTask = "task" // an activity: "Call summary", "Note from Slack"
	ObjectNote = "note"
	ObjectCase = "case"
)

// Activity is the content of one write, as queued.
type Activity struct {
	Subject string `json:"subject"`
	Body    string `json:"body"`
	Date    string `json:"date"` // YYYY-MM-DD, the day it happened
}

// Record is one write as a connector sees it.
type Record struct {
	Key       string // idempotency key: the same key must never make two records
	Object    string // task | note | case
	AccountID string // the account's id in the CRM
	Activity
	// Retry is set when an earlier attempt may have reached the CRM (its
	// answer was lost, or the process died before recording it): the
	// connector must find that record rather than make another.
	Retry bool
}

// Result is what the CRM made.
type Result struct {
	ID      string // the CRM's record id
	Outcome string // created | upserted | found
}

// Error is a failed write; Permanent ones are not retried.
type Error struct {
	Err       error
	Permanent bool
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Permanent marks err as one retrying cannot fix (a bad account id, a
// rejected field).
func Permanent(err error) error { return &Error{Err: err, Permanent: true} }

// IsPermanent reports whether err was marked Permanent.
func IsPermanent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Permanent
}

// Subject and body limits that fit every supported object (a Salesforce
// Note's Title is 80 characters; Task and Case subjects 255; bodies 32k).
const (
	MaxSubject = 80
	MaxBody    = 30000
)

// ActivityFor builds the CRM write for a note: the summary first (what a
// salesperson reads), then the original.
func ActivityFor(kind, accountName, author, summary, text string, at time.Time) Activity {
	label := cmp.Or(rooms.SummaryLabel(kind), "Note from Slack")
	var b strings.Builder
	b.WriteString(strings.TrimSpace(summary))
	if t := strings.TrimSpace(text); t != "" && t != strings.TrimSpace(summary) {
		b.WriteString("\n\n--- Original ---\n")
		b.WriteString(t)
	}
	b.WriteString("\n\n")
	if kind == "note" {
		b.WriteString("Written in Slack by user " + author + "; saved by Holdfast.")
	} else {
		b.WriteString("Source: " + author + "; summarised by Holdfast.")
	}
	return Activity{Subject: clip(label+": "+accountName, MaxSubject), Body: clip(b.String(), MaxBody),
		Date: at.UTC().Format(time.DateOnly)}
}

// CaseFor builds the Case a note asked for.
func CaseFor(accountName, author, summary, text string) Activity {
	a := ActivityFor("note", accountName, author, summary, text, time.Time{})
	a.Subject = clip(firstLine(summary), MaxSubject)
	a.Date = ""
	return a
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\n"); i >= 0 {
		s = s[:i]
	}
	return s
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// Key is the idempotency key of a note's write of one object.
func Key(noteID int64, object string) string {
	return "note:" + strconv.FormatInt(noteID, 10) + ":" + object
}

// Connector writes records to one CRM.
type Connector interface {
	Name() string
	Write(ctx context.Context, r Record) (Result, error)
}

// Store is the CRM outbox.
type Store interface {
	LeaseCRM(ctx context.Context, n int, lease time.Duration) ([]store.CRMItem, error)
	CRMWritten(ctx context.Context, id int64, a store.CRMAttempt) error
	CRMRetry(ctx context.Context, id int64, a store.CRMAttempt, retryAt time.Time, permanent bool) error
}

// Writer delivers the CRM outbox through a connector; it is a
// store.Worker.
type Writer struct {
	store Store
	conn  Connector
	log   *slog.Logger
	// Base and Limit shape the backoff between attempts; MaxAttempts
	// bounds them (with the defaults, about a day of CRM outage).
	Base, Limit time.Duration
	MaxAttempts int
}

// Batch is how many writes one pass leases.
const Batch = 16

// NewWriter wires a writer with default backoff (1 s doubling to 30 min,
// 60 attempts).
func NewWriter(st Store, conn Connector, log *slog.Logger) *Writer {
	return &Writer{store: st, conn: conn, log: log, Base: time.Second, Limit: 30 * time.Minute, MaxAttempts: 60}
}

// Queue is the CRM writes queue.
func (w *Writer) Queue() store.Queue { return store.CRMWrites }

// noCRMIDWait is how long a write waits for its account's CRM id to appear.
const noCRMIDWait = time.Hour

// Work delivers one batch.
func (w *Writer) Work(ctx context.Context) (int, error) {
	items, err := w.store.LeaseCRM(ctx, Batch, 2*time.Minute)
	if err != nil {
		return 0, err
	}
	for _, it := range items {
		if err := w.deliver(ctx, it); err != nil {
			w.log.Error("record crm write", "crm_outbox_id", it.ID, "err", err)
		}
	}
	return len(items), nil
}

func (w *Writer) deliver(ctx context.Context, it store.CRMItem) error {
	attempt := store.CRMAttempt{Connector: w.conn.Name(), Object: it.Object}
	if it.CRMID == "" {
		attempt.Outcome, attempt.Detail = "retry", "the account has no CRM id yet (send crm_account_id with a deal)"
		return w.store.CRMRetry(ctx, it.ID, attempt, time.Now().Add(noCRMIDWait), it.Attempts >= w.MaxAttempts)
	}
	var a Activity
	if err := json.Unmarshal(it.Payload, &a); err != nil {
		attempt.Outcome, attempt.Detail = "failed", "unreadable payload: "+err.Error()
		return w.store.CRMRetry(ctx, it.ID, attempt, time.Now(), true)
	}
	res, err := w.conn.Write(ctx, Record{Key: it.Key, Object: it.Object, AccountID: it.CRMID, Activity: a, Retry: it.Attempts > 1})
	if err == nil {
		attempt.Outcome, attempt.RecordID = res.Outcome, res.ID
		w.log.Info("crm record written", "key", it.Key, "object", it.Object, "id", res.ID, "outcome", res.Outcome)
		return w.store.CRMWritten(ctx, it.ID, attempt)
	}
	perm := IsPermanent(err) || it.Attempts >= w.MaxAttempts
	wait := store.Backoff(it.Attempts, w.Base, w.Limit)
	attempt.Outcome, attempt.Detail = "retry", err.Error()
	if perm {
		attempt.Outcome = "failed"
		w.log.Error("crm write given up", "key", it.Key, "attempts", it.Attempts, "err", err)
	} else {
		w.log.Warn("crm write will be retried", "key", it.Key, "attempt", it.Attempts, "in", wait, "err", err)
	}
	return w.store.CRMRetry(ctx, it.ID, attempt, time.Now().Add(wait), perm)
}
