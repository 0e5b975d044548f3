// Package crm writes what Customer Success learns back to the CRM: records
// (activities, notes, cases) on an account's CRM record. A feature queues a
// write with Enqueue in the same transaction as the change that caused it;
// the Writer delivers it through a Connector with retries and backoff, once
// per idempotency key, and logs every attempt. The connector (Salesforce
// today, in crm/salesforce) is an interface defined here, where it is used.
package crm

import (
	"context"
	"errors"
	"regexp"
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

// IDPattern is a CRM record id (Salesforce's: 15 or 18 letters and
// digits), as deals carry the account's and the connector checks it.
var IDPattern = regexp.MustCompile(`^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$`)

// Connector writes records to one CRM.
type Connector interface {
	Name() string
	Write(ctx context.Context, r Record) (Result, error)
}
