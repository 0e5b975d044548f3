package text

import (
	"fmt"
	"strconv"
	"strings"
)

// The domain layer is a list of word patterns over tokens. A pattern is
// slots separated by spaces:
//
//	still ~1 waiting|stuck     "still", up to one other word, then a listed word
//	no response|reply          alternatives
//	[our|the] contract         an optional slot
//	escalat*                   a prefix
//	#neg #num #ordinal         token classes (negation, number, 3rd)
//	#competitor                a configured competitor's name
//	@contract                  a named word list (see wordLists)
//	#end #start                the previous word ends / the next starts a sentence
//
// A match never crosses a sentence end, so "…fixed. Cancel the call" is
// two separate sentences to every rule.

type slotClass uint8

const (
	clsNeg slotClass = 1 << iota
	clsNum
	clsOrdinal
	clsCompetitor
)

type zeroWidth uint8

const (
	zwNone  zeroWidth = iota
	zwEnd             // the previous token ends a sentence (or there is none after)
	zwStart           // the next token starts a sentence
)

type slot struct {
	words    map[string]bool
	prefixes []string
	classes  slotClass
	optional bool
	gap      int // >0: skip 0..gap tokens
	zero     zeroWidth
}

// ruleKind says what a match means.
type ruleKind uint8

const (
	kindCue       ruleKind = iota // adds valence to the sentiment sum
	kindIntent                    // states churn intent
	kindDenial                    // denies churn intent ("not planning to cancel")
	kindSarcasm                   // turns surface praise negative, always
	kindSarcasmIf                 // turns surface praise negative when a complaint cue is present
	kindLaughIf                   // "lol" after a complaint is not amusement: its valence is taken out
)

type rule struct {
	pattern string
	kind    ruleKind
	val     float64
	cue     string // reported in Result.Cues
	slots   []slot
	// neutral words: in this context they carry no sentiment, so their
	// lexicon valence is taken back out of the sum (added to val at build).
	neutral []string
	// afterNeg false: a positive cue does not count right after a negation.
	blockAfterNeg bool
}

// wordLists are the named lists patterns refer to with @name.
var wordLists = map[string][]string{
	"contract": {"contract", "contracts", "subscription", "subscriptions", "account", "agreement", "agreements",
		"license", "licenses", "licence", "licences", "seats", "service", "services", "membership", "renewal",
		"plan", "relationship", "partnership", "msa", "sow", "order"},
	"det": {"the", "our", "my", "this", "that", "your", "all", "these", "those", "its", "their"},
	"people": {"users", "reps", "team", "people", "agents", "admins", "staff", "employees", "csms", "customers",
		"managers", "members", "colleagues"},
	"unit":  {"hour", "hours", "day", "days", "week", "weeks"},
	"units": {"hours", "days", "weeks", "months"},
	"day": {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "yesterday",
		"mon", "tue", "tues", "wed", "thu", "thurs", "fri", "january", "february", "march", "april", "june",
		"july", "august", "september", "october", "november", "december", "jan", "feb", "mar", "apr",
		"jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "last"},
	"ordinal": {"second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "umpteenth", "nth"},
	"numword": {"two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
		"several", "multiple", "many", "countless", "few", "couple"},
	"exec": {"vp", "ceo", "cfo", "coo", "cto", "cio", "cro", "execs", "executives", "exec", "leadership", "board",
		"director", "svp", "evp", "founder", "founders", "president", "management"},
	"leave": {"cancel", "cancelling", "canceling", "switch", "switching", "leave", "leaving", "churn", "churning",
		"move", "moving", "terminate", "terminating", "replace", "replacing", "evaluate", "evaluating", "migrate",
		"migrating", "end", "ending", "drop", "dropping", "stop", "stopping", "downgrade", "downgrading"},
	"blockverb": {"log", "login", "access", "export", "see", "use", "open", "sign", "load", "find", "save", "sync",
		"import", "connect", "rely", "trust", "depend", "reach", "download", "upload", "run", "complete", "finish",
		"send", "edit", "view", "work", "onboard", "launch", "proceed", "get", "create", "submit", "process", "even"},
	"vendorword": {"vendor", "vendors", "tool", "tools", "provider", "providers", "platform", "platforms",
		"solution", "solutions", "system", "systems", "product", "products", "competitor", "competitors",
		"option", "options", "alternative", "alternatives", "software", "partner"},
}

// negWords are negations beyond the "n't" forms (VADER's list, lower case).
var negWords = []string{"not", "no", "never", "none", "nobody", "nothing", "nowhere", "neither", "nor",
	"cannot", "cant", "dont", "doesnt", "didnt", "isnt", "arent", "wasnt", "werent", "wont", "wouldnt",
	"hasnt", "havent", "hadnt", "shouldnt", "couldnt", "without", "nope", "noone"}

func parseRule(r rule) (rule, error) {
	for _, part := range strings.Fields(r.pattern) {
		var s slot
		switch {
		case strings.HasPrefix(part, "~"):
			n, err := strconv.Atoi(part[1:])
			if err != nil || n < 1 || n > 5 {
				return r, fmt.Errorf("bad gap %q", part)
			}
			s.gap = n
			r.slots = append(r.slots, s)
			continue
		case part == "#end":
			s.zero = zwEnd
			r.slots = append(r.slots, s)
			continue
		case part == "#start":
			s.zero = zwStart
			r.slots = append(r.slots, s)
			continue
		case strings.HasPrefix(part, "[") && strings.HasSuffix(part, "]"):
			s.optional = true
			part = part[1 : len(part)-1]
		}
		s.words = map[string]bool{}
		for _, alt := range strings.Split(part, "|") {
			switch {
			case alt == "":
				return r, fmt.Errorf("empty alternative in %q", part)
			case alt == "#neg":
				s.classes |= clsNeg
			case alt == "#num":
				s.classes |= clsNum
			case alt == "#ordinal":
				s.classes |= clsOrdinal
			case alt == "#competitor":
				s.classes |= clsCompetitor
			case strings.HasPrefix(alt, "#"):
				return r, fmt.Errorf("unknown class %q", alt)
			case strings.HasPrefix(alt, "@"):
				list, ok := wordLists[alt[1:]]
				if !ok {
					return r, fmt.Errorf("unknown word list %q", alt)
				}
				for _, w := range list {
					s.words[w] = true
				}
			case strings.HasSuffix(alt, "*"):
				s.prefixes = append(s.prefixes, strings.TrimSuffix(alt, "*"))
			default:
				s.words[alt] = true
			}
		}
		r.slots = append(r.slots, s)
	}
	if len(r.slots) == 0 {
		return r, fmt.Errorf("empty pattern")
	}
	first := r.slots[0]
	if first.optional || first.gap > 0 || len(first.prefixes) > 0 {
		return r, fmt.Errorf("a pattern must start with words, a class or #start")
	}
	if last := r.slots[len(r.slots)-1]; last.gap > 0 || last.zero == zwStart {
		return r, fmt.Errorf("a pattern cannot end with a gap or #start")
	}
	return r, nil
}

// slotMatches reports whether token t fills slot s.
func (sc *scratch) slotMatches(s *slot, t *token) bool {
	if s.classes != 0 {
		if s.classes&clsNeg != 0 && t.isNeg() {
			return true
		}
		if s.classes&clsNum != 0 && t.has(fNumber) {
			return true
		}
		if s.classes&clsOrdinal != 0 && t.has(fOrdinal) {
			return true
		}
		if s.classes&clsCompetitor != 0 && t.has(fMention) {
			return true
		}
	}
	w := sc.low[t.lo:t.hi]
	if len(s.words) > 0 && s.words[string(w)] {
		return true
	}
	for _, p := range s.prefixes {
		if len(w) >= len(p) && string(w[:len(p)]) == p {
			return true
		}
	}
	return false
}

func (t *token) isNeg() bool {
	if t.info != nil && t.info.neg {
		return true
	}
	return t.has(fNegForm)
}

// match tries rule r's slots from slot k at token i; it returns the index
// after the last consumed token, or -1. started says a token was consumed
// already (so the next one must be in the same sentence).
func (sc *scratch) match(r *rule, k, i int, started bool) int {
	toks := sc.toks
	// sameSentence: token x may follow what was consumed so far.
	sameSentence := func(x int) bool { return !started || x == 0 || !toks[x-1].has(fSentEnd) }
	for ; k < len(r.slots); k++ {
		s := &r.slots[k]
		switch {
		case s.zero == zwEnd:
			if i > 0 && i < len(toks) && !toks[i-1].has(fSentEnd) {
				return -1
			}
			continue
		case s.zero == zwStart:
			if i >= len(toks) || (i > 0 && !toks[i-1].has(fSentEnd)) {
				return -1
			}
			continue
		case s.gap > 0:
			// Shortest gap first; skipped words stay in the sentence.
			for g := 0; g <= s.gap && i+g <= len(toks); g++ {
				if g > 0 && (toks[i+g-1].has(fSentEnd) || !sameSentence(i)) {
					break
				}
				if end := sc.match(r, k+1, i+g, started); end >= 0 {
					return end
				}
			}
			return -1
		case s.optional:
			if i < len(toks) && sameSentence(i) && sc.slotMatches(s, &toks[i]) {
				if end := sc.match(r, k+1, i+1, true); end >= 0 {
					return end
				}
			}
			continue
		}
		if i >= len(toks) || !sameSentence(i) || !sc.slotMatches(s, &toks[i]) {
			return -1
		}
		i++
		started = true
	}
	return i
}

// hit is one rule match over tokens [from, to).
type hit struct {
	rule     int32
	from, to int32
}

// findHits runs every rule that can start at each token.
func (a *Analyzer) findHits(sc *scratch) {
	toks := sc.toks
	last := sc.ruleEnd[:0]
	for range a.rules {
		last = append(last, -1)
	}
	sc.ruleEnd = last
	try := func(ri int32, i int) {
		if int(sc.ruleEnd[ri]) > i {
			return // a match of this rule already covers this token
		}
		r := &a.rules[ri]
		if end := sc.match(r, 0, i, false); end > i {
			if r.blockAfterNeg && sc.negatedBefore(i) {
				return
			}
			sc.hits = append(sc.hits, hit{rule: ri, from: int32(i), to: int32(end)})
			sc.ruleEnd[ri] = int32(end)
		}
	}
	for i := range toks {
		t := &toks[i]
		if t.info != nil {
			for _, ri := range t.info.starts {
				try(ri, i)
			}
		}
		if t.has(fSentStart) {
			for _, ri := range a.startRules {
				try(ri, i)
			}
		}
		if t.isNeg() {
			for _, ri := range a.classRules[clsNeg] {
				try(ri, i)
			}
		}
		if t.has(fNumber) {
			for _, ri := range a.classRules[clsNum] {
				try(ri, i)
			}
		}
		if t.has(fOrdinal) {
			for _, ri := range a.classRules[clsOrdinal] {
				try(ri, i)
			}
		}
		if t.has(fMention) {
			for _, ri := range a.classRules[clsCompetitor] {
				try(ri, i)
			}
		}
	}
}

// negatedBefore reports a negation among the two words before token i in
// the same sentence.
func (sc *scratch) negatedBefore(i int) bool {
	for j := i - 1; j >= 0 && j >= i-2; j-- {
		if sc.toks[j].has(fSentEnd) {
			return false
		}
		if sc.toks[j].isNeg() {
			return true
		}
	}
	return false
}
