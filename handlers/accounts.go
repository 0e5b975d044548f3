package handlers

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/store"
)

// AccountReader loads one account by id.
type AccountReader interface {
	Account(ctx context.Context, id int64) (store.Account, error)
}

// clickedAccount loads the account a button's value names. A deleted
// account gets a polite answer and ok=false with a nil error; a value that
// is not an id is an error (nobody but a forger sends one).
func clickedAccount(ctx context.Context, accounts AccountReader, r *Router, cb slack.InteractionCallback, value string) (_ store.Account, ok bool, _ error) {
	id, err := strconv.ParseInt(value, 10, 64)
	if err != nil {
		return store.Account{}, false, fmt.Errorf("bad account id %q", value)
	}
	return loadAccount(ctx, accounts, r, cb, id)
}

func loadAccount(ctx context.Context, accounts AccountReader, r *Router, cb slack.InteractionCallback, id int64) (store.Account, bool, error) {
	a, err := accounts.Account(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		r.Tell(ctx, cb, blocks.Problem("That account no longer exists."))
		return a, false, nil
	}
	return a, err == nil, err
}
