package handlers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/store"
)

// Every command that takes an account (/health, /offer, /nps, /churned,
// /room, /note…) resolves what the person typed the same way: one match is
// the account; several get "which one?" buttons; none gets "did you mean"
// buttons for similar names. A click on a button comes back to the
// command's own handler with the account id as the value (PickedAccount).

// AccountFinder looks accounts up by what a person typed.
type AccountFinder interface {
	FindAccounts(ctx context.Context, query string, limit int) (matches, suggestions []store.Account, err error)
}

// Picker resolves a typed account.
type Picker struct{ accounts AccountFinder }

// NewPicker builds a picker on accounts.
func NewPicker(accounts AccountFinder) Picker { return Picker{accounts: accounts} }

// PickPrompt is how one command asks "which account?".
type PickPrompt struct {
	// ActionPrefix is the buttons' action id prefix (one per command, see
	// blocks/actions.go); the command registers PickedAccount on it. Empty:
	// no buttons, the accounts are named in the text instead (a modal's
	// error line, a command with nothing to do on a click).
	ActionPrefix string
	// Question follows "Several accounts match “q”."; default "Which one
	// did you mean?".
	Question string
	// Usage is shown when nothing matches ("Usage: /health <account name
	// or id>"); it is escaped.
	Usage string
}

// Find returns the one account query names; otherwise the reply that asks
// which one (several match) or says none does, with suggestions.
func (p Picker) Find(ctx context.Context, query string, prompt PickPrompt) (*store.Account, *blocks.Message, error) {
	matches, suggestions, err := p.accounts.FindAccounts(ctx, query, blocks.MaxChoices+1)
	if err != nil {
		return nil, nil, err
	}
	// Accounts outside the person's book are as if they did not exist.
	matches, suggestions = readable(ctx, matches), readable(ctx, suggestions)
	if len(matches) == 1 {
		return &matches[0], nil, nil
	}
	if ViewerFrom(ctx) != nil && len(matches) == 0 && len(suggestions) == 0 {
		m := blocks.Problem(NotInBook)
		return nil, &m, nil
	}
	m := PickReply(query, prompt, matches, suggestions)
	return nil, &m, nil
}

// PickReply is the answer to a query that matched several accounts
// (matches) or none (suggestions, perhaps empty).
func PickReply(query string, prompt PickPrompt, matches, suggestions []store.Account) blocks.Message {
	q := blocks.UserText(query, blocks.MaxQueryLen)
	question := prompt.Question
	if question == "" {
		question = "Which one did you mean?"
	}
	var bs []slack.Block
	if len(matches) > 0 {
		shown := matches[:min(len(matches), blocks.MaxChoices)]
		text := "Several accounts match “" + q + "”. " + question
		if prompt.ActionPrefix == "" {
			text += " Type the external id: " + blocks.UserText(IDList(shown), blocks.MaxSectionText/2) + "."
		}
		bs = append(bs, blocks.Section("pick_choices_prompt", text))
		if prompt.ActionPrefix != "" {
			bs = append(bs, blocks.PickButtons("pick_choices", prompt.ActionPrefix, accountChoices(shown)))
		}
		if more := len(matches) - len(shown); more > 0 {
			bs = append(bs, blocks.ContextBlock("pick_choices_more", "…and "+blocks.Itoa(more)+" more. Try a longer name or the account id."))
		}
		names := make([]string, 0, len(shown))
		for _, c := range accountChoices(shown) {
			names = append(names, blocks.UserText(blocks.ChoiceLabel(c), blocks.MaxButtonText))
		}
		return blocks.Finish("Several accounts match “"+q+"”: "+strings.Join(names, ", "), bs, blocks.MaxMessageBlocks)
	}
	text := "No account matches “" + q + "”."
	shown := suggestions[:min(len(suggestions), blocks.MaxSuggestions)]
	switch {
	case len(shown) > 0 && prompt.ActionPrefix == "":
		text += " Did you mean " + blocks.UserText(IDList(shown), blocks.MaxSectionText/2) + "?"
	case len(shown) > 0:
		text += " Did you mean…"
	}
	bs = append(bs, blocks.Section("pick_notfound", text))
	if len(shown) > 0 && prompt.ActionPrefix != "" {
		bs = append(bs, blocks.PickButtons("pick_suggestions", prompt.ActionPrefix, accountChoices(shown)))
	}
	fallback := text
	if prompt.Usage != "" {
		bs = append(bs, blocks.ContextBlock("pick_usage", blocks.Escape(prompt.Usage)))
		fallback += " " + blocks.Escape(prompt.Usage)
	}
	return blocks.Finish(fallback, bs, blocks.MaxMessageBlocks)
}

// IDList names accounts for typing: "Acme Corp = acme, Acme Labs = labs".
func IDList(accts []store.Account) string {
	ids := make([]string, 0, len(accts))
	for _, a := range accts {
		ids = append(ids, a.Name+" = "+a.ExternalID)
	}
	return strings.Join(ids, ", ")
}

func accountChoices(accounts []store.Account) []blocks.AccountChoice {
	out := make([]blocks.AccountChoice, len(accounts))
	for i, a := range accounts {
		out[i] = blocks.AccountChoice{AccountID: a.ID, Name: a.Name, ExternalID: a.ExternalID}
	}
	return out
}

// AccountReader loads one account by id.
type AccountReader interface {
	Account(ctx context.Context, id int64) (store.Account, error)
}

// PickedAccount loads the account a pick button's value names. A deleted
// account gets a polite answer and ok=false with a nil error; a value that
// is not an id is an error (nobody but a forger sends one).
func PickedAccount(ctx context.Context, accounts AccountReader, r *Router, cb slack.InteractionCallback, value string) (_ store.Account, ok bool, _ error) {
	id, err := strconv.ParseInt(value, 10, 64)
	if err != nil {
		return store.Account{}, false, fmt.Errorf("bad account id %q", value)
	}
	a, err := accounts.Account(ctx, id)
	if (err == nil && !MayRead(ctx, a)) || (errors.Is(err, store.ErrNotFound) && ViewerFrom(ctx) != nil) {
		r.Tell(ctx, cb, blocks.Problem(NotInBook))
		return store.Account{}, false, nil
	}
	if errors.Is(err, store.ErrNotFound) {
		r.Tell(ctx, cb, blocks.Problem("That account no longer exists."))
		return a, false, nil
	}
	return a, err == nil, err
}
