package notes

import (
	"math"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Extractive summarises text by picking its most informative sentences,
// in their original order, within max runes (at most three sentences).
// A text that fits is returned cleaned but whole. Email noise (quoted
// replies, "On … wrote:", signatures, greetings) is dropped first.
// Informative means: made of the words the text repeats most, or naming
// something CS acts on (cancellation, renewal, pricing, outage, deadline…).
func Extractive(text string, limit int) string {
	clean := cleanText(text)
	if clean == "" || limit <= 0 {
		return ""
	}
	flat := strings.Join(strings.Fields(clean), " ")
	if utf8.RuneCountInString(flat) <= limit {
		return flat
	}
	sents := sentences(clean)
	if len(sents) == 0 {
		return cut(flat, limit)
	}
	freq := map[string]int{}
	for _, s := range sents {
		for _, w := range s.words {
			freq[w]++
		}
	}
	top := 1
	for _, n := range freq {
		top = max(top, n)
	}
	for i := range sents {
		s := &sents[i]
		if len(s.words) == 0 {
			continue
		}
		sum := 0.0
		seen := map[string]bool{}
		for _, w := range s.words {
			if !seen[w] {
				seen[w] = true
				sum += float64(freq[w]) / float64(top)
			}
		}
		// Dividing by sqrt(length) favours dense sentences without making
		// one-word fragments win.
		s.score = sum / math.Sqrt(float64(len(s.words)))
		s.score += min(cueWeight(s.text), 2.4)
		if i == 0 {
			s.score += 0.3 // openings tend to say what the conversation was about
		}
	}
	order := make([]int, len(sents))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case sents[a].score > sents[b].score:
			return -1
		case sents[a].score < sents[b].score:
			return 1
		}
		return a - b
	})
	var picked []int
	used := 0
	for _, i := range order {
		n := utf8.RuneCountInString(sents[i].text)
		sep := 0
		if len(picked) > 0 {
			sep = 1
		}
		if used+sep+n > limit {
			continue
		}
		picked = append(picked, i)
		used += sep + n
		if len(picked) == maxSentences {
			break
		}
	}
	if len(picked) == 0 {
		return cut(sents[order[0]].text, limit)
	}
	slices.Sort(picked)
	parts := make([]string, len(picked))
	for j, i := range picked {
		parts[j] = sents[i].text
	}
	return strings.Join(parts, " ")
}

const maxSentences = 3

type sentence struct {
	text  string
	words []string
	score float64
}

var (
	wroteLine   = regexp.MustCompile(`(?i)^on .{3,200} wrote:$`)
	headerLine  = regexp.MustCompile(`(?i)^(from|to|cc|sent|date|subject):\s`)
	greeting    = regexp.MustCompile(`(?i)^(hi|hello|hey|dear|good (morning|afternoon|evening))\b[^.!?]{0,40}[,!]?$`)
	signoff     = regexp.MustCompile(`(?i)^(thanks|thank you|many thanks|thanks again|best|best regards|regards|kind regards|warm regards|cheers|sincerely)[,!.]?$`)
	sentFromMy  = regexp.MustCompile(`(?i)^sent from my `)
	sentenceEnd = regexp.MustCompile(`([.!?…])\s+`)
	bullet      = regexp.MustCompile(`^\s*([-*•]|\d+[.)])\s+`)
)

// cleanText drops the parts of a conversation nobody wants summarised: a
// quoted earlier message, mail headers, greetings, sign-offs, signatures.
func cleanText(s string) string {
	var keep []string
	for _, line := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		t := strings.TrimSpace(line)
		switch {
		case t == "--" || strings.HasPrefix(line, "-- ") || sentFromMy.MatchString(t) || signoff.MatchString(t):
			return strings.TrimSpace(strings.Join(keep, "\n")) // a sign-off or signature: the rest is not the message
		case wroteLine.MatchString(t):
			return strings.TrimSpace(strings.Join(keep, "\n")) // a quoted earlier message follows
		case strings.HasPrefix(t, ">"), headerLine.MatchString(t), greeting.MatchString(t):
			continue
		}
		keep = append(keep, bullet.ReplaceAllString(line, ""))
	}
	return strings.TrimSpace(strings.Join(keep, "\n"))
}

// sentences splits on sentence ends and on line breaks (notes are often
// one point per line), keeping sentences with at least three words.
func sentences(s string) []sentence {
	var out []sentence
	seen := map[string]bool{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		marked := sentenceEnd.ReplaceAllString(line, "$1\x00")
		for _, part := range strings.Split(marked, "\x00") {
			part = strings.Join(strings.Fields(part), " ")
			if len(strings.Fields(part)) < 3 {
				continue
			}
			if !strings.ContainsAny(part[len(part)-1:], ".!?…") {
				part += "."
			}
			key := strings.ToLower(part)
			if seen[key] {
				continue // a repeated line (a pasted template, a forwarded copy) says nothing new
			}
			seen[key] = true
			out = append(out, sentence{text: part, words: contentWords(part)})
		}
	}
	return out
}

func contentWords(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if utf8.RuneCountInString(w) >= 3 && !stopwords[w] {
			out = append(out, w)
		}
	}
	return out
}

// riskCues signal churn risk, the first thing a CSM must know; cues are
// other things a CSM acts on. A sentence naming either is worth keeping.
var (
	riskCues = []string{"cancel", "churn", "competitor", "switch", "not renew", "outage", "escalat", "legal", "terminate"}
	cues     = []string{"renew", "contract", "price", "pricing", "discount", "budget", "invoice", "bug", "broken",
		"urgent", "blocker", "blocked", "deadline", "by friday", "next week", "integration", "sso", "migrat", "launch",
		"expand", "upgrade", "seats", "risk", "promise", "action item", "next step", "follow up", "follow-up",
		"decision", "security"}
)

func cueWeight(s string) float64 {
	s = strings.ToLower(s)
	w := 0.0
	for _, c := range riskCues {
		if strings.Contains(s, c) {
			w += 1.2
		}
	}
	for _, c := range cues {
		if strings.Contains(s, c) {
			w += 0.6
		}
	}
	return w
}

var stopwords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`the and for are but not you your yours our ours they them their theirs this that these those
		with from have has had was were will would could should can cannot can't don't didn't doesn't isn't it's its into onto
		about above after again against all also any because been before being below between both did does doing down during
		each few further here how just more most other out over own same she her his him some such than then there what when
		where which while who whom why yes yet very too only off once per via let lets let's we're they're i'm i've we've
		get got getting going gone one two said say says like well really think know maybe still even much many`) {
		m[w] = true
	}
	return m
}()

// cut shortens s to max runes at a word boundary, ending with "…".
func cut(s string, max int) string {
	r := []rune(s)
	if len(r) <= max {
		return s
	}
	if max <= 1 {
		return "…"
	}
	head := string(r[:max-1])
	if i := strings.LastIndexByte(head, ' '); i > len(head)/2 {
		head = head[:i]
	}
	return strings.TrimRightFunc(head, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) }) + "…"
}
