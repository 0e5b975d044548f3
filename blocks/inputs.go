package blocks

import "github.com/slack-go/slack"

// MaxInputText is Slack's cap on a plain_text_input's value.
const MaxInputText = 3000

// TextInput is a modal's plain-text input block id, whose element's action
// id is id + "_in", pre-filled with initial (cut to MaxInputText).
func TextInput(id, label, placeholder, initial string, multiline, required bool) *slack.InputBlock {
	el := slack.NewPlainTextInputBlockElement(Plain(placeholder, 150), id+"_in")
	el.Multiline = multiline
	el.MaxLength = MaxInputText
	el.InitialValue = Truncate(initial, MaxInputText)
	b := slack.NewInputBlock(id, Plain(label, 2000), nil, el)
	b.Optional = !required
	return b
}
