package blocks

import (
	"strings"

	"github.com/slack-go/slack"
)

// PlainText renders a message for a terminal (local mode prints what the
// bot would have posted). Falls back to Text when there are no blocks.
func PlainText(m Message) string {
	if len(m.Blocks) == 0 {
		return DisplayText(m.Text) + "\n"
	}
	return PlainTextBlocks(m.Blocks)
}

// PlainTextBlocks renders blocks as readable text: the header as a title
// line, sections and their fields ("label: value"), context lines indented,
// buttons as "[ View history ] [ Claim ]", dividers as a rule. mrkdwn is
// unescaped and <@U123> shown as @U123.
func PlainTextBlocks(blocks []slack.Block) string {
	var b strings.Builder
	for _, blk := range blocks {
		switch blk := blk.(type) {
		case *slack.HeaderBlock:
			t := textOf(blk.Text)
			b.WriteString(t + "\n" + strings.Repeat("=", min(TextLen(t), 60)) + "\n")
		case *slack.SectionBlock:
			if blk.Text != nil {
				b.WriteString(textOf(blk.Text) + "\n")
			}
			for _, f := range blk.Fields {
				b.WriteString(fieldText(f) + "\n")
			}
			if blk.Accessory != nil && blk.Accessory.ButtonElement != nil {
				b.WriteString(buttonText(blk.Accessory.ButtonElement) + "\n")
			}
		case *slack.ContextBlock:
			var parts []string
			for _, el := range blk.ContextElements.Elements {
				if t, ok := el.(*slack.TextBlockObject); ok {
					parts = append(parts, textOf(t))
				}
			}
			b.WriteString("  " + strings.Join(parts, "  ") + "\n")
		case *slack.ActionBlock:
			var parts []string
			if blk.Elements != nil {
				for _, el := range blk.Elements.ElementSet {
					if btn, ok := el.(*slack.ButtonBlockElement); ok {
						parts = append(parts, buttonText(btn))
					}
				}
			}
			b.WriteString(strings.Join(parts, " ") + "\n")
		case *slack.DividerBlock:
			b.WriteString(strings.Repeat("─", 40) + "\n")
		default:
			b.WriteString("[" + string(blk.BlockType()) + " block]\n")
		}
	}
	return b.String()
}

func buttonText(btn *slack.ButtonBlockElement) string {
	return "[ " + textOf(btn.Text) + " ]"
}

// fieldText turns our "*label*\nvalue" fields into "label: value".
func fieldText(t *slack.TextBlockObject) string {
	s := textOf(t)
	label, value, ok := strings.Cut(s, "\n")
	if !ok {
		return s
	}
	if len(label) > 2 && strings.HasPrefix(label, "*") && strings.HasSuffix(label, "*") {
		label = label[1 : len(label)-1]
	}
	return label + ": " + strings.ReplaceAll(value, "\n", " ")
}

func textOf(t *slack.TextBlockObject) string {
	if t == nil {
		return ""
	}
	if t.Type == slack.PlainTextType {
		return t.Text
	}
	return DisplayText(t.Text)
}

// DisplayText undoes mrkdwn's control syntax for reading: <@U1> becomes
// @U1, <!here> @here, <url|label> "label (url)", and entities are decoded
// last so escaped customer text cannot turn into markup on the way.
func DisplayText(s string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			break
		}
		b.WriteString(unescape(s[:i]))
		b.WriteString(unescape(renderToken(s[i+1 : i+j])))
		s = s[i+j+1:]
	}
	b.WriteString(unescape(s))
	return b.String()
}

// renderToken renders the inside of one <…> token.
func renderToken(tok string) string {
	target, label, hasLabel := strings.Cut(tok, "|")
	switch {
	case strings.HasPrefix(target, "@"), strings.HasPrefix(target, "#"):
		if hasLabel {
			return target[:1] + label
		}
		return target
	case strings.HasPrefix(target, "!"):
		if hasLabel {
			return label
		}
		return "@" + target[1:]
	case hasLabel:
		return label + " (" + target + ")"
	}
	return target
}

func unescape(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}
