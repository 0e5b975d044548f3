// Package blockstest checks built Block Kit the way Slack would: every
// limit, every text escaped, every id unique, and a JSON round trip. Each
// feature's card tests use it.
package blockstest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/slackid"
)

// EvilTicket is customer text trying to broadcast and to link.
const EvilTicket = "<!channel> please <https://evil.example|click>"

// Hostile is every markup trick customer text can hold, on one line:
// broadcasts, a link, a spoofed mention, an entity, emoji and formatting.
const Hostile = " <!channel> & <!here> <https://evil|x> <@U1|spoof> &amp; 😀 *_~`\n"

// Huge is Hostile repeated past 10k characters, more than any block holds.
var Huge = strings.Repeat(Hostile, 10_000/len(Hostile)+1)

// FixedNow is the clock card tests read.
func FixedNow() time.Time { return time.Date(2027, time.February, 8, 15, 30, 0, 0, time.UTC) }

// TextObj is one text object found in a message, with where it was.
type TextObj struct {
	Where string
	Obj   *slack.TextBlockObject
	Limit int
}

type FoundButton struct {
	BlockID string
	B       *slack.ButtonBlockElement
}

// Walk lists every text object and button in blocks, failing on block
// types this package is not expected to emit (so a new type cannot slip
// past the limits test).
func Walk(t testing.TB, blocks []slack.Block) (texts []TextObj, buttons []FoundButton) {
	t.Helper()
	for i, blk := range blocks {
		where := fmt.Sprintf("block %d", i)
		switch blk := blk.(type) {
		case *slack.HeaderBlock:
			texts = append(texts, TextObj{where + " header", blk.Text, 150})
		case *slack.SectionBlock:
			if blk.Text != nil {
				texts = append(texts, TextObj{where + " section", blk.Text, 3000})
			}
			if len(blk.Fields) > 10 {
				t.Errorf("%s: %d fields", where, len(blk.Fields))
			}
			for _, f := range blk.Fields {
				texts = append(texts, TextObj{where + " field", f, 2000})
			}
			if blk.Text == nil && len(blk.Fields) == 0 {
				t.Errorf("%s: section without text or fields", where)
			}
			if blk.Accessory != nil && blk.Accessory.ButtonElement != nil {
				b := blk.Accessory.ButtonElement
				texts = append(texts, TextObj{where + " accessory", b.Text, 75})
				buttons = append(buttons, FoundButton{blk.BlockID, b})
			}
		case *slack.ContextBlock:
			els := blk.ContextElements.Elements
			if len(els) == 0 || len(els) > 10 {
				t.Errorf("%s: %d context elements", where, len(els))
			}
			for _, el := range els {
				to, ok := el.(*slack.TextBlockObject)
				if !ok {
					t.Fatalf("%s: unexpected context element %T", where, el)
				}
				texts = append(texts, TextObj{where + " context", to, 3000})
			}
		case *slack.ActionBlock:
			if blk.BlockID == "" {
				t.Errorf("%s: actions block without block_id", where)
			}
			if len(blk.Elements.ElementSet) == 0 || len(blk.Elements.ElementSet) > 25 {
				t.Errorf("%s: %d action elements", where, len(blk.Elements.ElementSet))
			}
			for _, el := range blk.Elements.ElementSet {
				b, ok := el.(*slack.ButtonBlockElement)
				if !ok {
					t.Fatalf("%s: unexpected element %T", where, el)
				}
				texts = append(texts, TextObj{where + " button", b.Text, 75})
				buttons = append(buttons, FoundButton{blk.BlockID, b})
			}
		case *slack.DividerBlock:
		default:
			t.Fatalf("%s: unexpected block type %T", where, blk)
		}
	}
	return texts, buttons
}

// UTF16Len counts what the strictest reading of Slack's limits counts.
func UTF16Len(s string) int { return len(utf16.Encode([]rune(s))) }

// AssertSafeMrkdwn fails unless every '<' in s opens a well-formed user
// mention and every '&' opens one of the three entities: then no customer
// text can be a link, a broadcast or a mention.
func AssertSafeMrkdwn(t testing.TB, where, s string) {
	t.Helper()
	for _, bad := range []string{"<!channel>", "<!here>", "<https://evil", "<!everyone>"} {
		if strings.Contains(s, bad) {
			t.Errorf("%s: unescaped %q in %.120q", where, bad, s)
		}
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '<':
			end := strings.IndexByte(s[i:], '>')
			// The bot's own channel links (<#C123>) are allowed too.
			channelLink := end > 0 && strings.HasPrefix(s[i:], "<#") && slackid.Channel(s[i+2:i+end])
			if end < 0 || (!channelLink && (!strings.HasPrefix(s[i:], "<@") || !slackid.User(s[i+2:i+end]))) {
				t.Errorf("%s: raw '<' at %d: %.60q", where, i, s[i:])
				return
			}
		case '&':
			if !strings.HasPrefix(s[i:], "&amp;") && !strings.HasPrefix(s[i:], "&lt;") && !strings.HasPrefix(s[i:], "&gt;") {
				t.Errorf("%s: raw '&' at %d: %.60q", where, i, s[i:])
				return
			}
		}
	}
}

// CheckMessage asserts every limit and safety rule this package promises.
func CheckMessage(t testing.TB, name string, m blocks.Message, maxBlocks int) {
	t.Helper()
	if m.Text == "" {
		t.Errorf("%s: empty fallback Text", name)
	}
	if UTF16Len(m.Text) > 3000 {
		t.Errorf("%s: Text is %d long", name, UTF16Len(m.Text))
	}
	AssertSafeMrkdwn(t, name+" Text", m.Text)
	CheckBlocks(t, name, m.Blocks, maxBlocks)
	if maxBlocks == 50 {
		// Slack rejects a message whose blocks hold more than ~12k text
		// characters in all (msg_blocks_too_long), whatever each block holds.
		total := 0
		texts, _ := Walk(t, m.Blocks)
		for _, tx := range texts {
			total += UTF16Len(tx.Obj.Text)
		}
		if total > 11000 {
			t.Errorf("%s: %d characters of block text, want <= 11000", name, total)
		}
	}
}

func CheckBlocks(t testing.TB, name string, blocks []slack.Block, maxBlocks int) {
	t.Helper()
	if len(blocks) == 0 || len(blocks) > maxBlocks {
		t.Errorf("%s: %d blocks, want 1..%d", name, len(blocks), maxBlocks)
	}
	blockIDs := map[string]bool{}
	for _, blk := range blocks {
		id := blk.ID()
		if id == "" {
			continue
		}
		if blockIDs[id] || len(id) > 255 {
			t.Errorf("%s: block_id %q duplicated or too long", name, id)
		}
		blockIDs[id] = true
	}
	texts, buttons := Walk(t, blocks)
	for _, tx := range texts {
		where := name + " " + tx.Where
		if tx.Obj == nil || tx.Obj.Text == "" {
			t.Errorf("%s: empty text object", where)
			continue
		}
		if n := UTF16Len(tx.Obj.Text); n > tx.Limit {
			t.Errorf("%s: %d characters, limit %d", where, n, tx.Limit)
		}
		switch tx.Obj.Type {
		case slack.MarkdownType:
			AssertSafeMrkdwn(t, where, tx.Obj.Text)
			if !tx.Obj.Verbatim {
				t.Errorf("%s: mrkdwn without verbatim", where)
			}
		case slack.PlainTextType:
		default:
			t.Errorf("%s: text type %q", where, tx.Obj.Type)
		}
	}
	actionIDs := map[string]bool{}
	for _, b := range buttons {
		if b.B.ActionID == "" || actionIDs[b.B.ActionID] || len(b.B.ActionID) > 255 {
			t.Errorf("%s: action_id %q empty, duplicated or too long", name, b.B.ActionID)
		}
		actionIDs[b.B.ActionID] = true
		if len(b.B.Value) > 2000 {
			t.Errorf("%s: button value %d long", name, len(b.B.Value))
		}
	}
	// Whatever we build must serialize and parse back as the same blocks.
	raw, err := json.Marshal(slack.Blocks{BlockSet: blocks})
	if err != nil {
		t.Fatalf("%s: marshal: %v", name, err)
	}
	var back slack.Blocks
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatalf("%s: unmarshal: %v", name, err)
	}
	if len(back.BlockSet) != len(blocks) {
		t.Errorf("%s: %d blocks after JSON round trip, want %d", name, len(back.BlockSet), len(blocks))
	}
}

func FindButton(t testing.TB, blocks []slack.Block, actionID string) *slack.ButtonBlockElement {
	t.Helper()
	_, buttons := Walk(t, blocks)
	for _, b := range buttons {
		if b.B.ActionID == actionID {
			return b.B
		}
	}
	return nil
}

func BlockByID(blocks []slack.Block, id string) slack.Block {
	for _, b := range blocks {
		if b.ID() == id {
			return b
		}
	}
	return nil
}

// AllText is every text in the message joined, for "contains" assertions.
func AllText(t testing.TB, blocks []slack.Block) string {
	t.Helper()
	texts, _ := Walk(t, blocks)
	var b strings.Builder
	for _, tx := range texts {
		b.WriteString(tx.Obj.Text + "\n")
	}
	return b.String()
}

func WantContains(t testing.TB, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s: missing %q in:\n%s", what, w, got)
		}
	}
}

func WantNotContains(t testing.TB, what, got string, bad ...string) {
	t.Helper()
	for _, w := range bad {
		if strings.Contains(got, w) {
			t.Errorf("%s: unexpected %q in:\n%s", what, w, got)
		}
	}
}

// CheckModal asserts a modal's own limits (title, submit and close are
// short plain text) and its blocks'.
func CheckModal(t testing.TB, name string, mv slack.ModalViewRequest) {
	t.Helper()
	if mv.Type != slack.VTModal {
		t.Errorf("%s: type %q", name, mv.Type)
	}
	for _, to := range []*slack.TextBlockObject{mv.Title, mv.Close, mv.Submit} {
		if to != nil && (to.Type != slack.PlainTextType || UTF16Len(to.Text) > 24) {
			t.Errorf("%s: view text %+v", name, to)
		}
	}
	CheckBlocks(t, name, mv.Blocks.BlockSet, 100)
	if _, err := json.Marshal(mv); err != nil {
		t.Errorf("%s: marshal view: %v", name, err)
	}
}

// Inputs indexes a modal's input blocks by block id (the key its values
// come back under), failing on a block id used twice.
func Inputs(t testing.TB, mv slack.ModalViewRequest) map[string]*slack.InputBlock {
	t.Helper()
	out := map[string]*slack.InputBlock{}
	for _, b := range mv.Blocks.BlockSet {
		if in, ok := b.(*slack.InputBlock); ok {
			if out[in.BlockID] != nil {
				t.Fatalf("block id %s twice", in.BlockID)
			}
			out[in.BlockID] = in
		}
	}
	return out
}

// CheckFormModal asserts the limits of a modal with inputs: at most 100
// blocks and 3,000 bytes of private_metadata, a title, submit and close of
// at most 24 characters, and that it encodes.
func CheckFormModal(t testing.TB, mv slack.ModalViewRequest) {
	t.Helper()
	if len(mv.Blocks.BlockSet) > 100 || len(mv.PrivateMetadata) > 3000 {
		t.Errorf("%d blocks, %d metadata", len(mv.Blocks.BlockSet), len(mv.PrivateMetadata))
	}
	for _, o := range []*slack.TextBlockObject{mv.Title, mv.Submit, mv.Close} {
		if o == nil || UTF16Len(o.Text) > 24 {
			t.Errorf("title/submit/close %+v", o)
		}
	}
	if _, err := json.Marshal(mv); err != nil {
		t.Fatal(err)
	}
}
