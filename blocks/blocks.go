// Package blocks is what every Block Kit card Holdfast posts is built from:
// the building blocks, escaping, Slack's limits, formatting, every
// interaction id (actions.go) and plain-text rendering. The cards
// themselves live with their features.
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
	"strconv"
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
	MaxSectionText     = 3000
	MaxFieldText       = 2000
	MaxFields          = 10
	MaxHeaderText      = 150
	MaxButtonText      = 75
	MaxButtonValue     = 2000
	MaxContextElements = 10
	MaxActionElements  = 25
	MaxMessageBlocks   = 50
	MaxModalBlocks     = 100
	MaxViewTitle       = 24 // modal title, submit and close
	MaxFallbackText    = 3000
)

// Ellipsis marks every cut so a reader knows text is missing.
const Ellipsis = "…"

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

// TextLen measures text against Slack's limits. Slack does not say whether
// it counts runes or UTF-16 units; UTF-16 units are never fewer than runes,
// so a text that fits by this measure fits by either.
func TextLen(s string) int {
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

// Truncate cuts s to at most max units (textLen), ending with "…" when it
// had to cut. Use it for plain_text and for raw text before escaping.
func Truncate(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if TextLen(s) <= max {
		return s
	}
	if max <= 0 {
		return ""
	}
	return strings.TrimRightFunc(cutAt(s, max-TextLen(Ellipsis)), unicode.IsSpace) + Ellipsis
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

// TruncateMrkdwn is truncate for text that is already mrkdwn. A plain cut
// could split "&amp;" into "&am" or a mention "<@U123>" into "<@U1", which
// Slack would show as garbage, so the cut backs up to before either.
func TruncateMrkdwn(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if TextLen(s) <= max {
		return s
	}
	if max <= 0 {
		return ""
	}
	head := cutAt(s, max-TextLen(Ellipsis))
	if i := strings.LastIndexByte(head, '<'); i >= 0 && !strings.Contains(head[i:], ">") {
		head = head[:i]
	}
	if i := strings.LastIndexByte(head, '&'); i >= 0 && !strings.Contains(head[i:], ";") {
		head = head[:i]
	}
	return strings.TrimRightFunc(head, unicode.IsSpace) + Ellipsis
}

// OneLine flattens whitespace runs (newlines, tabs) to single spaces: a
// ticket body pasted into a bullet list must not break the list apart or
// start a block quote.
func OneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// UserText prepares customer text for mrkdwn: flattened, capped at max
// units before escaping (so the cap is on what the reader sees), escaped.
func UserText(s string, max int) string {
	return Escape(Truncate(OneLine(s), max))
}

// Mrkdwn builds a Mrkdwn text object capped at max. verbatim=true keeps
// Slack from auto-parsing mentions and links in the text.
func Mrkdwn(s string, max int) *slack.TextBlockObject {
	s = TruncateMrkdwn(s, max)
	if strings.TrimSpace(s) == "" {
		s = "—" // Slack rejects empty text objects
	}
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, true)
}

// Plain builds a plain_text object capped at max.
func Plain(s string, max int) *slack.TextBlockObject {
	s = Truncate(OneLine(s), max)
	if s == "" {
		s = "—" // Slack rejects empty text objects
	}
	return slack.NewTextBlockObject(slack.PlainTextType, s, true, false)
}

func Header(id, text string) *slack.HeaderBlock {
	return slack.NewHeaderBlock(Plain(text, MaxHeaderText), slack.HeaderBlockOptionBlockID(id))
}

func Section(id, text string) *slack.SectionBlock {
	return slack.NewSectionBlock(Mrkdwn(text, MaxSectionText), nil, nil, slack.SectionBlockOptionBlockID(id))
}

// FieldsSection lays out label/value pairs; each field is "*label*\nvalue"
// so PlainText can render it back as "label: value".
func FieldsSection(id string, pairs ...[2]string) *slack.SectionBlock {
	if len(pairs) > MaxFields {
		pairs = pairs[:MaxFields]
	}
	fields := make([]*slack.TextBlockObject, 0, len(pairs))
	for _, p := range pairs {
		fields = append(fields, Mrkdwn("*"+p[0]+"*\n"+p[1], MaxFieldText))
	}
	return slack.NewSectionBlock(nil, fields, nil, slack.SectionBlockOptionBlockID(id))
}

// ContextBlock is a context with one mrkdwn element per text, at most ten.
func ContextBlock(id string, texts ...string) *slack.ContextBlock {
	if len(texts) > MaxContextElements {
		texts = texts[:MaxContextElements]
	}
	els := make([]slack.MixedElement, 0, len(texts))
	for _, t := range texts {
		els = append(els, Mrkdwn(t, MaxSectionText))
	}
	return slack.NewContextBlock(id, els...)
}

// Button builds a Button; text is plain (no escaping needed) and both text
// and value are capped.
func Button(actionID, value, text string) *slack.ButtonBlockElement {
	return slack.NewButtonBlockElement(actionID, Truncate(value, MaxButtonValue), Plain(text, MaxButtonText))
}

// Actions wraps buttons in an Actions block. The block_id is required in
// practice: slack-go misparses block_actions payloads without one.
func Actions(id string, buttons ...*slack.ButtonBlockElement) *slack.ActionBlock {
	if len(buttons) > MaxActionElements {
		buttons = buttons[:MaxActionElements]
	}
	els := make([]slack.BlockElement, 0, len(buttons))
	for _, b := range buttons {
		els = append(els, b)
	}
	return slack.NewActionBlock(id, els...)
}

// BulletList joins lines under a title, stopping before the text would
// exceed max and saying how many lines were left out instead of cutting a
// line in half. Lines must already be mrkdwn-safe.
func BulletList(title string, lines []string, max int) string {
	var b strings.Builder
	b.WriteString(title)
	used := TextLen(title)
	// Room for the "…and N more" note, sized for the largest possible N.
	noteRoom := TextLen("\n…and " + Itoa(len(lines)) + " more")
	for i, line := range lines {
		entry := "\n• " + line
		reserve := noteRoom
		if i == len(lines)-1 {
			reserve = 0 // the last line needs no note after it
		}
		if used+TextLen(entry)+reserve > max {
			b.WriteString("\n…and " + Itoa(len(lines)-i) + " more")
			return b.String()
		}
		b.WriteString(entry)
		used += TextLen(entry)
	}
	return b.String()
}

// Finish caps the block count and the fallback text: the last resort that
// keeps a message sendable if a builder ever produces too much.
func Finish(text string, blocks []slack.Block, maxBlocks int) Message {
	if len(blocks) > maxBlocks {
		blocks = blocks[:maxBlocks]
	}
	text = TruncateMrkdwn(OneLine(text), MaxFallbackText)
	if text == "" {
		text = "Holdfast"
	}
	return Message{Text: text, Blocks: blocks}
}

// Note is a one-section message of bot-built mrkdwn (callers escape any
// user text in it, e.g. with UserRef and Escape).
func Note(blockID, text string) Message {
	return Finish(text, []slack.Block{Section(blockID, text)}, MaxMessageBlocks)
}

// UserRef renders a Slack user as a mention when the id is well formed and
// as escaped text otherwise, so a bad id from a CRM import can never smuggle
// markup into the message. empty is shown when there is no user.
func UserRef(id, empty string) string {
	id = strings.TrimSpace(id)
	switch {
	case id == "":
		return empty
	case slackid.User(id):
		return "<@" + id + ">"
	default:
		return UserText(id, 80)
	}
}

// ChannelRef renders a channel as a link when the id is well formed, as
// its escaped name otherwise, and as "its channel" when neither is known.
func ChannelRef(id, name string) string {
	if slackid.Channel(id) {
		return "<#" + id + ">"
	}
	if name != "" {
		return "#" + UserText(name, 80)
	}
	return "its channel"
}

// Itoa avoids strconv noise at call sites that only format small ints.
func Itoa(n int) string {
	return FormatInt(int64(n))
}

// Caps on customer text inside otherwise small blocks, chosen so the
// largest possible message stays well under Slack's cumulative ~12k
// characters of block text (msg_blocks_too_long), not only each block's own
// limit.
const (
	MaxNameLen    = 100 // account names
	MaxDetailLen  = 200 // a driver's or component's detail
	MaxReasonLen  = 300
	MaxTriggerLen = 500
	MaxIDLen      = 80 // external ids, tiers, segments
)

// How many accounts a "which one?" answer offers, and how much of the
// query it repeats.
const (
	MaxChoices     = 10
	MaxSuggestions = 5
	MaxQueryLen    = 100
)

// TextLabelButtons are the feedback buttons of a card driven by a
// signal's text: "Not churn intent" where the card says intent, and
// "Wrong sentiment". None without a signal.
func TextLabelButtons(signalID int64, intent bool) []*slack.ButtonBlockElement {
	if signalID <= 0 {
		return nil
	}
	v := strconv.FormatInt(signalID, 10)
	var out []*slack.ButtonBlockElement
	if intent {
		out = append(out, Button(ActionTextLabelNotIntent, v, "Not churn intent"))
	}
	return append(out, Button(ActionTextLabelWrongSentiment, v, "Wrong sentiment"))
}
