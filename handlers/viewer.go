package handlers

import (
	"context"

	"github.com/holdfast/holdfast/store"
)

// Viewer is the person a request comes from, as far as what they may see:
// set on the request's context by the Router's gate when roles are
// configured. Without one, everyone sees every account.
type Viewer interface {
	// MayRead says whether the account is in the person's book.
	MayRead(a store.Account) bool
	// Book is the owners whose accounts the person may see; all is true
	// when that is every account.
	Book() (all bool, owners []string)
}

type viewerKey struct{}

// WithViewer scopes ctx to what v may see.
func WithViewer(ctx context.Context, v Viewer) context.Context {
	return context.WithValue(ctx, viewerKey{}, v)
}

// ViewerFrom is the request's viewer, nil when nothing is restricted.
func ViewerFrom(ctx context.Context) Viewer {
	v, _ := ctx.Value(viewerKey{}).(Viewer)
	return v
}

// MayRead says whether the request's viewer may see account a.
func MayRead(ctx context.Context, a store.Account) bool {
	v := ViewerFrom(ctx)
	return v == nil || v.MayRead(a)
}

// NotInBook is the one answer to an account the person may not see, the
// same whether it exists or not.
const NotInBook = "That account isn't in your book. If you think it should be, ask your Holdfast admin."

func readable(ctx context.Context, list []store.Account) []store.Account {
	v := ViewerFrom(ctx)
	if v == nil {
		return list
	}
	out := list[:0:0]
	for _, a := range list {
		if v.MayRead(a) {
			out = append(out, a)
		}
	}
	return out
}

type requestKey struct{}

// WithRequest names the Slack request being handled (its trigger id), so
// what it records (audit rows) is recorded once even if Slack redelivers it.
func WithRequest(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, requestKey{}, key)
}

// RequestKey is the request's name, "" when unknown.
func RequestKey(ctx context.Context) string {
	k, _ := ctx.Value(requestKey{}).(string)
	return k
}

// Auditor appends to the audit trail.
type Auditor interface {
	Audit(ctx context.Context, e store.AuditEntry) error
}

// Audit records that actor did action (on account, 0 for none), once per
// request and action.
func Audit(ctx context.Context, db Auditor, actor, action string, accountID int64, subject string) error {
	key := RequestKey(ctx)
	if key != "" {
		key += ":" + action + ":" + subject
	}
	return db.Audit(ctx, store.AuditEntry{Actor: actor, Action: action, AccountID: accountID, Subject: subject, DedupeKey: key})
}
