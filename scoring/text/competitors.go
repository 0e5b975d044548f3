package text

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Competitor is a rival product and the names customers use for it.
//
// Matching rules, so a mention is a mention and nothing else is:
//   - Whole words only: "Totango" is not found in "Totangoish", nor in a
//     URL ("https://totango.com/x", "www.totango.com"), an e-mail address
//     ("jo@totango.com"), a file or domain name ("totango.csv") or a path.
//   - Possessives and the name's own plurals count: "Gainsight's",
//     "Gainsights", "Boxes" (es only after s, x, z, o, ch, sh), and only with
//     the name's capitals as configured, so "cities" is not Citi and
//     "spirits" not Spirit. The span covers a plural but not the
//     possessive "'s". A version number may follow: "iPad2".
//   - Slash-joined names count ("iPad/iPhone"), paths and URLs do not.
//   - A competitor's Exclude phrases around a name make it no mention.
//   - A space or hyphen inside an alias is optional in the text, and the
//     text may split an alias where it changes case: "ChurnZero" also
//     finds "Churn Zero", "churn-zero" and "churnzero".
//   - Case is ignored, except for aliases that are acronyms written in
//     capitals ("GS") and for a competitor marked CaseSensitive, whose
//     aliases must be written as configured or in all capitals. Mark
//     competitors whose names are ordinary words ("Vitally", "Catalyst")
//     CaseSensitive. Such a name at the start of a sentence, where a capital
//     says nothing, is not taken when a comma or an -ly adverb or a
//     predicate adjective follows ("Vitally, we…", "Vitally important").
//
// Case folding is ASCII: letters outside ASCII must match as written.
type Competitor struct {
	Name          string   `yaml:"name" json:"name"`
	Aliases       []string `yaml:"aliases" json:"aliases,omitempty"` // product names, short names; Name is always one
	CaseSensitive bool     `yaml:"case_sensitive" json:"case_sensitive,omitempty"`
	// Exclude lists phrases in which the name is something else: "Amazon
	// river", "Virgin Islands", "apple pie" (case ignored, whole words).
	Exclude []string `yaml:"exclude" json:"exclude,omitempty"`
}

// MaxMentions caps the mentions reported for one text; a text naming a
// rival more often than this says nothing more by it.
const MaxMentions = 50

// Mention is one competitor reference in a text. Start and End are byte
// offsets into the analysed text (UTF-8).
type Mention struct {
	Competitor string `json:"competitor"` // Competitor.Name
	Alias      string `json:"alias"`      // the configured alias that matched
	Text       string `json:"text"`       // the words as written
	Start      int    `json:"start"`
	End        int    `json:"end"`
	Snippet    string `json:"snippet"` // the sentence-sized context, "…" where cut
}

type alias struct {
	competitor    int
	hasUpper      bool // the configured alias has capitals
	configured    string
	lower         []string // parts, lower case ("churn", "zero")
	exact         []string // parts as configured, for case-sensitive matching
	caseSensitive bool
}

// ValidateCompetitors checks a competitor list the way NewAnalyzer does;
// errors name the list position ("[2].aliases[0]: …").
func ValidateCompetitors(list []Competitor) error {
	_, err := compileAliases(list)
	return err
}

func compileAliases(list []Competitor) ([]alias, error) {
	var out []alias
	seen := map[string]string{}
	for i, c := range list {
		name := strings.TrimSpace(c.Name)
		if name == "" {
			return nil, fmt.Errorf("[%d].name: must not be empty", i)
		}
		for j, x := range c.Exclude {
			if strings.TrimSpace(x) == "" {
				return nil, fmt.Errorf("[%d].exclude[%d]: must not be empty", i, j)
			}
		}
		names := append([]string{name}, c.Aliases...)
		for j, n := range names {
			where := fmt.Sprintf("[%d].name", i)
			if j > 0 {
				where = fmt.Sprintf("[%d].aliases[%d]", i, j-1)
			}
			a, err := compileAlias(i, strings.TrimSpace(n), c.CaseSensitive)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			key := strings.Join(a.lower, "")
			if other, dup := seen[key]; dup {
				if other == name {
					continue // the same name listed twice for one competitor
				}
				return nil, fmt.Errorf("%s: %q is also a name of %q; a mention must name one competitor", where, n, other)
			}
			seen[key] = name
			out = append(out, a)
		}
	}
	// Longer aliases first so "Churn Zero Pro" wins over "Churn Zero".
	slices.SortStableFunc(out, func(x, y alias) int { return len(strings.Join(y.lower, "")) - len(strings.Join(x.lower, "")) })
	return out, nil
}

func compileAlias(competitor int, s string, caseSensitive bool) (alias, error) {
	a := alias{competitor: competitor, configured: s, caseSensitive: caseSensitive, hasUpper: strings.ToLower(s) != s}
	if s == "" {
		return a, errors.New("must not be empty")
	}
	// Split at spaces, hyphens and dots, and where the case changes from
	// lower to upper ("ChurnZero" -> "Churn", "Zero").
	var part []rune
	flush := func() {
		if len(part) > 0 {
			a.exact = append(a.exact, string(part))
			a.lower = append(a.lower, asciiLower(string(part)))
			part = part[:0]
		}
	}
	var prev rune
	for _, r := range s {
		switch {
		case r == ' ' || r == '-' || r == '.' || r == '_':
			flush()
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '&' || r == '+' || r == '\'':
			if unicode.IsUpper(r) && unicode.IsLower(prev) {
				flush()
			}
			part = append(part, r)
		default:
			return a, fmt.Errorf("%q: only letters, digits, spaces, hyphens, dots, &, + and ' are allowed", s)
		}
		prev = r
	}
	flush()
	letters := 0
	allUpper := true
	for _, r := range s {
		if unicode.IsLetter(r) {
			letters++
			if !unicode.IsUpper(r) {
				allUpper = false
			}
		}
	}
	if utf8.RuneCountInString(strings.Join(a.lower, "")) < 2 {
		return a, fmt.Errorf("%q is too short to match safely", s)
	}
	// "GS" in capitals is an acronym; "gs" in running text is something else.
	if allUpper && letters > 0 && letters <= 5 {
		a.caseSensitive = true
	}
	return a, nil
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// findMentions appends every mention in text to sc.mentions, in order of
// position, without overlaps.
func (a *Analyzer) findMentions(sc *scratch, text string) {
	if len(a.aliases) == 0 {
		return
	}
	// ASCII-folded copy: same length, so offsets carry over.
	sc.fold = sc.fold[:0]
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		sc.fold = append(sc.fold, c)
	}
	fold := string(sc.fold) // one copy, so strings.Index can be used
	for ai := range a.aliases {
		al := &a.aliases[ai]
		first := al.lower[0]
		// sc.mentions[:prior] (longer aliases) is sorted; this alias's
		// matches are appended in order of position after it.
		prior := len(sc.mentions)
		for from := 0; from < len(fold); {
			k := strings.Index(fold[from:], first)
			if k < 0 {
				break
			}
			pos := from + k
			from = pos + 1
			if end, wordEnd, ok := al.matchAt(text, fold, pos); ok {
				if overlaps(sc.mentions[:prior], pos, end) || (len(sc.mentions) > prior && int(sc.mentions[len(sc.mentions)-1].end) > pos) {
					continue
				}
				sc.mentions = append(sc.mentions, rawMention{alias: int32(ai), start: int32(pos), end: int32(end), wordEnd: int32(wordEnd)})
			}
		}
		if prior > 0 && len(sc.mentions) > prior {
			slices.SortFunc(sc.mentions, func(x, y rawMention) int { return int(x.start - y.start) })
		}
	}
	if a.hasExcludes && len(sc.mentions) > 0 {
		kept := sc.mentions[:0]
		for _, m := range sc.mentions {
			if !a.excluded(fold, m) {
				kept = append(kept, m)
			}
		}
		sc.mentions = kept
	}
}

// excluded: one of the competitor's Exclude phrases, as whole words,
// covers the mention ("Amazon river", "the Virgin Islands").
func (a *Analyzer) excluded(fold string, m rawMention) bool {
	for _, x := range a.excludes[a.aliases[m.alias].competitor] {
		from := max(0, int(m.end)-len(x))
		limit := min(len(fold), int(m.start)+len(x))
		for from < limit {
			k := strings.Index(fold[from:min(len(fold), limit+len(x))], x)
			if k < 0 {
				break
			}
			st := from + k
			en := st + len(x)
			from = st + 1
			if st <= int(m.start) && en >= int(m.end) && !wordRuneBefore(fold, st) && !wordRuneAt(fold, en) {
				return true
			}
		}
	}
	return false
}

type rawMention struct {
	alias               int32
	start, end, wordEnd int32
}

// overlaps reports whether [start, end) overlaps one of ms, which are
// sorted and do not overlap each other (so their ends are sorted too): a
// binary search, as a text may hold thousands of mentions.
func overlaps(ms []rawMention, start, end int) bool {
	i, _ := slices.BinarySearchFunc(ms, start, func(m rawMention, start int) int {
		if int(m.end) <= start {
			return -1
		}
		return 1
	})
	return i < len(ms) && int(ms[i].start) < end
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return isWordByte(byte(r))
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// wordRuneAt reports whether a letter, digit or _ starts at text[i].
func wordRuneAt(text string, i int) bool {
	if i >= len(text) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(text[i:])
	return isWordRune(r)
}

// wordRuneBefore reports whether a letter, digit or _ ends at text[i].
func wordRuneBefore(text string, i int) bool {
	if i <= 0 {
		return false
	}
	r, _ := utf8.DecodeLastRuneInString(text[:i])
	return isWordRune(r)
}

// possessive: rest starts with 's, ’s, ' or ’ and the word ends there.
func possessive(rest string) bool {
	for _, p := range []string{"'s", "’s", "'", "’"} {
		if strings.HasPrefix(rest, p) && !wordRuneAt(rest, len(p)) {
			return true
		}
	}
	return false
}

func isLetterByte(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// matchAt checks a candidate at pos, where fold has the alias's first
// part. It returns the end of the mention (a plural included) and of the
// name itself.
func (al *alias) matchAt(text, fold string, pos int) (end, nameEnd int, ok bool) {
	if pos > 0 {
		c := text[pos-1]
		if wordRuneBefore(text, pos) || c == '.' || c == '@' || c == '\\' || c == '/' && !slashJoined(text, pos) {
			return 0, 0, false
		}
	}
	j := pos
	for pi, p := range al.lower {
		if pi > 0 && !strings.HasPrefix(fold[j:], p) {
			if j < len(fold) && (fold[j] == ' ' || fold[j] == '-' || fold[j] == '.') && strings.HasPrefix(fold[j+1:], p) {
				j++
			} else {
				return 0, 0, false
			}
		}
		if al.caseSensitive {
			seg := text[j : j+len(p)]
			if seg != al.exact[pi] && seg != strings.ToUpper(al.exact[pi]) {
				return 0, 0, false
			}
		}
		j += len(p)
	}
	nameEnd, end = j, j
	// Possessive ("Gainsight's", "Gainsight’s"), the name's own plural
	// ("Totangos", written with its capitals) or a version ("iPad2");
	// never a longer word.
	switch rest := text[j:]; {
	case possessive(rest):
	case wordRuneAt(text, j):
		last := fold[j-1]
		switch {
		case text[j] == 's' && !wordRuneAt(text, j+1) && al.pluralCase(text, pos, j):
			end = j + 1
		case text[j] == 'e' && j+1 < len(text) && text[j+1] == 's' && !wordRuneAt(text, j+2) &&
			(last == 's' || last == 'x' || last == 'z' || last == 'o' || last == 'h' && j >= 2 && (fold[j-2] == 'c' || fold[j-2] == 's')) &&
			al.pluralCase(text, pos, j):
			end = j + 2
		case text[j] >= '0' && text[j] <= '9':
			k := j
			for k < len(text) && text[k] >= '0' && text[k] <= '9' {
				k++
			}
			if wordRuneAt(text, k) {
				return 0, 0, false
			}
			end = k
		default:
			return 0, 0, false
		}
	}
	// Domains, file names, e-mail addresses and paths are not mentions.
	if end < len(text) {
		c := text[end]
		if (c == '.' || c == '\\' || c == '/' && !slashJoined(text, end+1)) && end+1 < len(text) && isWordByte(text[end+1]) {
			return 0, 0, false
		}
		if c == '@' {
			return 0, 0, false
		}
	}
	if inURLOrAddress(text, pos, end) {
		return 0, 0, false
	}
	if al.caseSensitive && !isAcronym(al) && sentenceInitial(text, pos) && readsAsWord(text, end) {
		return 0, 0, false
	}
	return end, nameEnd, true
}

// pluralCase: a plural counts only when the name is written with capitals
// where the configured alias has them ("Totangos", not "cities" for Citi).
func (al *alias) pluralCase(text string, pos, nameEnd int) bool {
	if !al.hasUpper {
		return true
	}
	for i := pos; i < nameEnd; i++ {
		if text[i] >= 'A' && text[i] <= 'Z' {
			return true
		}
	}
	return false
}

// slashJoined: the slash before text[at] joins names ("iPad/iPhone")
// rather than parts of a path or URL: the white-space-delimited token has
// no dot, colon or backslash and does not start with a slash.
func slashJoined(text string, at int) bool {
	ts := at
	for ts > 0 && !isSpaceByte(text[ts-1]) {
		ts--
	}
	te := at
	for te < len(text) && !isSpaceByte(text[te]) {
		te++
	}
	tok := strings.TrimRight(text[ts:te], ".,;:!?)]\"'")
	tok = strings.TrimLeft(tok, "([\"'")
	return tok != "" && tok[0] != '/' && tok[0] != '~' && !strings.ContainsAny(tok, ".:\\@")
}

func isAcronym(al *alias) bool {
	for _, r := range al.configured {
		if unicode.IsLower(r) {
			return false
		}
	}
	return true
}

// inURLOrAddress reports whether the whitespace-delimited token around
// [start, end) is a URL, a domain or an e-mail address.
func inURLOrAddress(text string, start, end int) bool {
	ts := start
	for ts > 0 && !isSpaceByte(text[ts-1]) && text[ts-1] != '(' {
		ts--
	}
	te := end
	for te < len(text) && !isSpaceByte(text[te]) && text[te] != ')' {
		te++
	}
	tok := text[ts:te]
	return strings.Contains(tok, "://") || strings.Contains(tok, "www.") || strings.Contains(tok, "@")
}

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// sentenceInitial: only spaces, quotes or brackets between the start of
// the text or the end of the previous sentence and pos.
func sentenceInitial(text string, pos int) bool {
	for i := pos - 1; i >= 0; i-- {
		switch c := text[i]; c {
		case ' ', '\t', '\r', '"', '\'', '(', '[', '*', '_', '>':
			continue
		case '\n', '.', '!', '?', ':', ';':
			return true
		default:
			if c >= 0x80 { // curly quotes and bullets
				continue
			}
			return false
		}
	}
	return true
}

var predicateWords = map[string]bool{"important": true, "necessary": true, "needed": true, "essential": true,
	"crucial": true, "critical": true, "required": true, "relevant": true, "interested": true, "concerned": true}

// readsAsWord: after a sentence-initial capitalised name, a comma or an
// adverb/adjective means the word is the ordinary word ("Vitally, we…").
func readsAsWord(text string, end int) bool {
	i := end
	for i < len(text) && text[i] == ' ' {
		i++
	}
	if i < len(text) && text[i] == ',' {
		return true
	}
	if i == end { // not followed by a space: a possessive or punctuation
		return false
	}
	j := i
	for j < len(text) && isLetterByte(text[j]) {
		j++
	}
	next := text[i:j]
	if next == "" || next[0] < 'a' || next[0] > 'z' {
		return false
	}
	return strings.HasSuffix(next, "ly") || predicateWords[next]
}

// snippetAround returns about maxSnippet bytes of text around [start, end)
// cut at word boundaries, with white space flattened and "…" where cut.
func snippetAround(text string, start, end int) string {
	const side = 70
	from := max(0, start-side)
	to := min(len(text), end+side)
	// Prefer the sentence: stop at a sentence end before the mention.
	for i := start - 1; i > from; i-- {
		if sentenceEndAt(text, i) && i+1 < start {
			from = i + 1
			break
		}
	}
	for i := end; i < to; i++ {
		if sentenceEndAt(text, i) {
			to = i + 1
			break
		}
	}
	cutLeft, cutRight := from > 0 && !atBoundary(text, from), to < len(text) && !atBoundary(text, to)
	if cutLeft {
		for from < start && !isSpaceByte(text[from]) {
			from++
		}
	}
	if cutRight {
		for to > end && !isSpaceByte(text[to-1]) {
			to--
		}
	}
	for from < len(text) && !utf8.RuneStart(text[from]) {
		from++
	}
	for to < len(text) && to > from && !utf8.RuneStart(text[to]) {
		to--
	}
	s := strings.Join(strings.Fields(text[from:to]), " ")
	if cutLeft || (from > 0 && !sentenceStartsAt(text, from)) {
		s = "…" + s
	}
	if cutRight || (to < len(text) && !endsAt(text, to)) {
		s += "…"
	}
	return s
}

// sentenceEndAt: a line break, or . ! ? followed by white space or the
// end ("v2.1" and "<!channel>" do not end a sentence).
func sentenceEndAt(text string, i int) bool {
	switch text[i] {
	case '\n':
		return true
	case '.', '!', '?':
		return i+1 == len(text) || isSpaceByte(text[i+1])
	}
	return false
}

func atBoundary(text string, i int) bool {
	return i <= 0 || i >= len(text) || isSpaceByte(text[i]) || isSpaceByte(text[i-1])
}

func sentenceStartsAt(text string, i int) bool {
	for j := i - 1; j >= 0; j-- {
		switch text[j] {
		case ' ', '\t', '\r':
			continue
		case '.', '!', '?', '\n':
			return true
		}
		return false
	}
	return true
}

func endsAt(text string, i int) bool {
	c := text[i-1]
	return c == '.' || c == '!' || c == '?' || c == '\n'
}
