// Package notes turns what is said about an account (call notes, ticket
// threads, emails, notes typed in Slack with /note or the Save to account
// shortcut) into a short written summary on the account's timeline, in its
// room and, when a CRM is configured, in the CRM. The summary comes from
// the language model when one is configured and from Extractive otherwise;
// a worker writes it after the note is stored, never inside the
// transaction that stored it.
package notes

import (
	"regexp"
	"strings"
)

// NoteTarget is one reading of "/note <account> <text>": which words name
// the account and which are the note.
type NoteTarget struct {
	Account string
	Text    string
}

// SummaryLabel names the summary of an ingested conversation of kind
// ("Call summary"), for the timeline, the room and the CRM alike; "" for a
// note typed in Slack and for other kinds.
func SummaryLabel(kind string) string {
	switch kind {
	case "call_note":
		return "Call summary"
	case "email":
		return "Email summary"
	case "ticket":
		return "Ticket summary"
	case "meeting":
		return "Meeting summary"
	}
	return ""
}

// maxAccountWords bounds how many leading words may name an account.
const maxAccountWords = 5

var caseFlag = regexp.MustCompile(`(^|\s)--case(\s|$)`)

// ParseNote reads a /note command's text. A quoted account name ("Acme
// Corp" or “Acme Corp”) is the only reading; otherwise the first one to
// five words are tried as the account, longest first, so "acme corp
// called" finds "Acme Corp" before "Acme". openCase is set by a --case
// flag anywhere in the text (also open a CRM case). Readings without note
// text are left out.
func ParseNote(s string) (targets []NoteTarget, openCase bool) {
	s, openCase = StripCaseFlag(s)
	if s == "" {
		return nil, openCase
	}
	for _, q := range [][2]string{{`"`, `"`}, {"“", "”"}, {"'", "'"}} {
		if rest, ok := strings.CutPrefix(s, q[0]); ok {
			if name, text, ok := strings.Cut(rest, q[1]); ok {
				name, text = strings.TrimSpace(name), strings.TrimSpace(text)
				if name != "" && text != "" {
					return []NoteTarget{{Account: name, Text: text}}, openCase
				}
				return nil, openCase
			}
		}
	}
	words := wordSpans(s)
	for n := min(maxAccountWords, len(words)-1); n >= 1; n-- {
		account := s[:words[n-1][1]]
		if strings.ContainsAny(account, "\n\r") {
			continue // an account name does not span lines
		}
		text := strings.TrimSpace(s[words[n][0]:])
		targets = append(targets, NoteTarget{Account: account, Text: text})
	}
	return targets, openCase
}

// StripCaseFlag takes the --case flag out of a /note text, keeping the
// note's own line breaks; openCase says whether it was there.
func StripCaseFlag(s string) (text string, openCase bool) {
	if caseFlag.MatchString(s) {
		openCase = true
		s = caseFlag.ReplaceAllString(s, "$1")
	}
	return strings.TrimSpace(s), openCase
}

// wordSpans returns the [start, end) byte offsets of each
// whitespace-separated word, so the note keeps its own line breaks.
func wordSpans(s string) [][2]int {
	var spans [][2]int
	start := -1
	for i, r := range s {
		space := r == ' ' || r == '\t' || r == '\n' || r == '\r'
		switch {
		case !space && start < 0:
			start = i
		case space && start >= 0:
			spans = append(spans, [2]int{start, i})
			start = -1
		}
	}
	if start >= 0 {
		spans = append(spans, [2]int{start, len(s)})
	}
	return spans
}
