package blocks

import (
	"fmt"
	"strconv"

	"github.com/slack-go/slack"
)

// AccountChoice is one account a query could mean.
type AccountChoice struct {
	AccountID  int64
	Name       string
	ExternalID string
}

// PickButtons renders account choices as buttons whose value is the
// account id and whose action id is actionPrefix plus the position, which
// keeps action ids unique within the message; each command that asks
// "which account?" has its own prefix.
func PickButtons(blockID, actionPrefix string, choices []AccountChoice) *slack.ActionBlock {
	buttons := make([]*slack.ButtonBlockElement, 0, len(choices))
	for i, c := range choices {
		buttons = append(buttons, Button(actionPrefix+Itoa(i), strconv.FormatInt(c.AccountID, 10), ChoiceLabel(c)))
	}
	return Actions(blockID, buttons...)
}

// ChoiceLabel: "Acme Corp (acme-001)", shortening the name rather than the
// id so two similar long names stay distinguishable.
func ChoiceLabel(c AccountChoice) string {
	name := OneLine(AccountLabel(c.Name, c.AccountID))
	ext := OneLine(c.ExternalID)
	if ext == "" {
		return Truncate(name, MaxButtonText)
	}
	ext = " (" + Truncate(ext, 30) + ")"
	return Truncate(name, MaxButtonText-TextLen(ext)) + ext
}

// Problem builds a plain error reply. The format is this package's caller's
// own text and userArgs are anything a user or customer typed; both are
// escaped (format's *bold* still works, links and mentions cannot), so the
// caller never has to remember to escape.
//
//	blocks.Problem("Couldn't find %s in %s.", query, source)
func Problem(format string, userArgs ...string) Message {
	args := make([]any, len(userArgs))
	for i, a := range userArgs {
		args[i] = UserText(a, 500)
	}
	text := fmt.Sprintf(Escape(format), args...)
	return Finish(text, []slack.Block{Section("problem", "⚠️ "+text)}, MaxMessageBlocks)
}

// Info is a short reply written by the bot (mrkdwn-safe already).
func Info(text string) Message {
	return Finish(text, []slack.Block{Section("info", text)}, MaxMessageBlocks)
}

// AlreadyClaimed tells a second claimant who owns the follow-up. The owner
// is a mention, which Problem would escape.
func AlreadyClaimed(owner string) Message {
	text := UserRef(owner, "Someone") + " already claimed this alert."
	return Finish(text, []slack.Block{Section("problem", "⚠️ "+text)}, MaxMessageBlocks)
}
