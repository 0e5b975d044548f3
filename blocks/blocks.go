// Package blocks builds the Block Kit messages and modals Holdfast posts.
//
// Every builder is pure: no I/O and no clock (callers pass `now`). Builders
// return values that slack-go can send as they are, and they guarantee the
// output is within Slack's Block Kit limits whatever the input, because a
// message over a limit is rejected outright (invalid_blocks,
// msg_blocks_too_long) and the alert is then lost rather than merely ugly.
//
// Safety rule: any text that did not come from this package's own templates
// (account names, ticket text, details, champion names, user queries) goes
// through Escape before it reaches a mrkdwn object or a message's top-level
// Text, since both are parsed for <!channel>, <!here> and <url|label>.
// Every mrkdwn object is also sent with verbatim=true so Slack does not
// auto-link or auto-parse mentions in customer words; the bot's own explicit
// <@U123> mentions still render. plain_text objects are never parsed, so
// they are truncated but not escaped.
package blocks

import (
	"encoding/json"
	"strings"
	"unicode"

	"github.com/holdfast/holdfast/slackid"

	"github.com/slack-go/slack"
)

// Message is what a builder returns, the outbox stores and Slack receives:
// blocks plus the top-level fallback text that notifications and screen
// readers use. Text is always set and is mrkdwn-safe (escaped), because
// Slack parses it like a mrkdwn object.
type Message struct {
	Text   string        `json:"text"`
	Blocks []slack.Block `json:"blocks"`
}

// UnmarshalJSON reads a stored message back: Block Kit blocks are an
// interface, and slack.Blocks knows their concrete types.
func (m *Message) UnmarshalJSON(raw []byte) error {
	var v struct {
		Text   string       `json:"text"`
		Blocks slack.Blocks `json:"blocks"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return err
	}
	m.Text, m.Blocks = v.Text, v.Blocks.BlockSet
	return nil
}

// Block Kit limits (Slack's documentation; see /work/shared/SLACK_NOTES.md).
const (
	maxSectionText     = 3000
	maxFieldText       = 2000
	maxFields          = 10
	maxHeaderText      = 150
	maxButtonText      = 75
	maxButtonValue     = 2000
	maxContextElements = 10
	maxActionElements  = 25
	maxMessageBlocks   = 50
	maxModalBlocks     = 100
	maxViewTitle       = 24 // modal title, submit and close
	maxFallbackText    = 3000
)

// ellipsis marks every cut so a reader knows text is missing.
const ellipsis = "…"

// Escape makes customer- or user-supplied text inert inside mrkdwn: Slack
// only treats &, < and > as control characters, and escaping them stops
// <!channel>, <!here>, <@U…> and <https://evil|label> from being parsed.
func Escape(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// textLen measures text against Slack's limits. Slack does not say whether
// it counts runes or UTF-16 units; UTF-16 units are never fewer than runes,
// so a text that fits by this measure fits by either.
func textLen(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

func runeWidth(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}

// truncate cuts s to at most max units (textLen), ending with "…" when it
// had to cut. Use it for plain_text and for raw text before escaping.
func truncate(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if textLen(s) <= max {
		return s
	}
	if max <= 0 {
		return ""
	}
	return strings.TrimRightFunc(cutAt(s, max-textLen(ellipsis)), unicode.IsSpace) + ellipsis
}

// cutAt returns the longest prefix of s that is at most budget units long.
func cutAt(s string, budget int) string {
	n := 0
	for i, r := range s {
		w := runeWidth(r)
		if n+w > budget {
			return s[:i]
		}
		n += w
	}
	return s
}

// truncateMrkdwn is truncate for text that is already mrkdwn. A plain cut
// could split "&amp;" into "&am" or a mention "<@U123>" into "<@U1", which
// Slack would show as garbage, so the cut backs up to before either.
func truncateMrkdwn(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if textLen(s) <= max {
		return s
	}
	if max <= 0 {
		return ""
	}
	head := cutAt(s, max-textLen(ellipsis))
	if i := strings.LastIndexByte(head, '<'); i >= 0 && !strings.Contains(head[i:], ">") {
		head = head[:i]
	}
	if i := strings.LastIndexByte(head, '&'); i >= 0 && !strings.Contains(head[i:], ";") {
		head = head[:i]
	}
	return strings.TrimRightFunc(head, unicode.IsSpace) + ellipsis
}

// oneLine flattens whitespace runs (newlines, tabs) to single spaces: a
// ticket body pasted into a bullet list must not break the list apart or
// start a block quote.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// userText prepares customer text for mrkdwn: flattened, capped at max
// units before escaping (so the cap is on what the reader sees), escaped.
func userText(s string, max int) string {
	return Escape(truncate(oneLine(s), max))
}

// mrkdwn builds a mrkdwn text object capped at max. verbatim=true keeps
// Slack from auto-parsing mentions and links in the text.
func mrkdwn(s string, max int) *slack.TextBlockObject {
	s = truncateMrkdwn(s, max)
	if strings.TrimSpace(s) == "" {
		s = "—" // Slack rejects empty text objects
	}
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, true)
}

// plain builds a plain_text object capped at max.
func plain(s string, max int) *slack.TextBlockObject {
	s = truncate(oneLine(s), max)
	if s == "" {
		s = "—" // Slack rejects empty text objects
	}
	return slack.NewTextBlockObject(slack.PlainTextType, s, true, false)
}

func header(id, text string) *slack.HeaderBlock {
	return slack.NewHeaderBlock(plain(text, maxHeaderText), slack.HeaderBlockOptionBlockID(id))
}

func section(id, text string) *slack.SectionBlock {
	return slack.NewSectionBlock(mrkdwn(text, maxSectionText), nil, nil, slack.SectionBlockOptionBlockID(id))
}

// fieldsSection lays out label/value pairs; each field is "*label*\nvalue"
// so PlainText can render it back as "label: value".
func fieldsSection(id string, pairs ...[2]string) *slack.SectionBlock {
	if len(pairs) > maxFields {
		pairs = pairs[:maxFields]
	}
	fields := make([]*slack.TextBlockObject, 0, len(pairs))
	for _, p := range pairs {
		fields = append(fields, mrkdwn("*"+p[0]+"*\n"+p[1], maxFieldText))
	}
	return slack.NewSectionBlock(nil, fields, nil, slack.SectionBlockOptionBlockID(id))
}

// contextBlock is a context with one mrkdwn element per text, at most ten.
func contextBlock(id string, texts ...string) *slack.ContextBlock {
	if len(texts) > maxContextElements {
		texts = texts[:maxContextElements]
	}
	els := make([]slack.MixedElement, 0, len(texts))
	for _, t := range texts {
		els = append(els, mrkdwn(t, maxSectionText))
	}
	return slack.NewContextBlock(id, els...)
}

// button builds a button; text is plain (no escaping needed) and both text
// and value are capped.
func button(actionID, value, text string) *slack.ButtonBlockElement {
	return slack.NewButtonBlockElement(actionID, truncate(value, maxButtonValue), plain(text, maxButtonText))
}

// actions wraps buttons in an actions block. The block_id is required in
// practice: slack-go misparses block_actions payloads without one.
func actions(id string, buttons ...*slack.ButtonBlockElement) *slack.ActionBlock {
	if len(buttons) > maxActionElements {
		buttons = buttons[:maxActionElements]
	}
	els := make([]slack.BlockElement, 0, len(buttons))
	for _, b := range buttons {
		els = append(els, b)
	}
	return slack.NewActionBlock(id, els...)
}

// bulletList joins lines under a title, stopping before the text would
// exceed max and saying how many lines were left out instead of cutting a
// line in half. Lines must already be mrkdwn-safe.
func bulletList(title string, lines []string, max int) string {
	var b strings.Builder
	b.WriteString(title)
	used := textLen(title)
	// Room for the "…and N more" note, sized for the largest possible N.
	noteRoom := textLen("\n…and " + itoa(len(lines)) + " more")
	for i, line := range lines {
		entry := "\n• " + line
		reserve := noteRoom
		if i == len(lines)-1 {
			reserve = 0 // the last line needs no note after it
		}
		if used+textLen(entry)+reserve > max {
			b.WriteString("\n…and " + itoa(len(lines)-i) + " more")
			return b.String()
		}
		b.WriteString(entry)
		used += textLen(entry)
	}
	return b.String()
}

// finish caps the block count and the fallback text: the last resort that
// keeps a message sendable if a builder ever produces too much.
func finish(text string, blocks []slack.Block, maxBlocks int) Message {
	if len(blocks) > maxBlocks {
		blocks = blocks[:maxBlocks]
	}
	text = truncateMrkdwn(oneLine(text), maxFallbackText)
	if text == "" {
		text = "Holdfast"
	}
	return Message{Text: text, Blocks: blocks}
}

// userRef renders a Slack user as a mention when the id is well formed and
// as escaped text otherwise, so a bad id from a CRM import can never smuggle
// markup into the message. empty is shown when there is no user.
func userRef(id, empty string) string {
	id = strings.TrimSpace(id)
	switch {
	case id == "":
		return empty
	case slackid.User(id):
		return "<@" + id + ">"
	default:
		return userText(id, 80)
	}
}

// itoa avoids strconv noise at call sites that only format small ints.
func itoa(n int) string {
	return formatInt(int64(n))
}
