// Package text reads customer-success text (tickets, call notes, emails,
// Slack messages) offline: sentiment in -1..+1 with a three-way label,
// whether the text states an intent to leave, and which configured
// competitors it mentions, each with a context snippet.
//
// Sentiment is VADER (Hutto & Gilbert 2014) as implemented by
// github.com/jonreiter/govader, extended for the way customers complain:
// in neutral words ("still waiting on the export fix, third week now",
// "we are evaluating other options"), with sarcasm ("oh great, down
// again 🙄") and with politeness that VADER reads as praise ("please send
// the cancellation terms"). The extension is a small lexicon of product
// words VADER lacks (outage, unusable, …) and a list of word patterns
// (domain.go), each adding valence on VADER's own scale before the score is
// normalised. eval_test.go measures both on the VADER authors' human-rated
// sets and on customer texts, and fails if general-text quality drops.
//
// Everything is pure: an Analyzer holds read-only tables built by
// NewAnalyzer and per-call scratch space from a pool, so one Analyzer
// serves any number of goroutines.
package text

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/jonreiter/govader"
)

// Label is the three-way sentiment class.
type Label string

const (
	Positive Label = "positive"
	Neutral  Label = "neutral"
	Negative Label = "negative"
)

// labelThreshold is VADER's published cut-off between neutral and polar.
const labelThreshold = 0.05

// LabelOf classifies a compound score the way VADER's authors do.
func LabelOf(compound float64) Label {
	switch {
	case compound > labelThreshold:
		return Positive
	case compound < -labelThreshold:
		return Negative
	}
	return Neutral
}

// Result is what Analyze finds in one text.
type Result struct {
	// Sentiment is the trained model's P(positive) - P(negative), kept
	// inside its label's band so LabelOf(Sentiment) == Label.
	Sentiment    float64
	Label        Label     // the model's most likely class
	Lexicon      float64   // the VADER + customer-success score the model reads (-1..+1)
	ChurnIntent  bool      // Intent.High: a statement of intent to leave, confident enough to act on
	IntentPhrase string    // Intent.Quote when ChurnIntent; "" otherwise
	Intent       Intent    // the most confident statement of intent; Category "" when none is shown
	Intents      []Intent  // every statement at IntentShownConfidence or above, in text order
	Competitors  []Mention // in order of position, at most MaxMentions
	// MentionsOmitted counts mentions beyond MaxMentions.
	MentionsOmitted int
	Cues            []string // domain cues that moved the score ("waiting", "sarcasm"), for explanations
}

// Analyzer is built once and is safe for concurrent use.
type Analyzer struct {
	vader       *govader.SentimentIntensityAnalyzer // lexicon extended; read-only after construction
	words       map[string]*wordInfo
	rules       []rule
	startRules  []int32               // rules that begin with #start
	classRules  map[slotClass][]int32 // rules that begin with a class
	aliases     []alias
	names       []string   // competitor names by index
	excludes    [][]string // per competitor, lower case
	hasExcludes bool
	vaderNeg    map[string]bool // VADER's negation words
	ownNames    []string        // lower case, longest first
	emoji       map[rune]float32
	models      models
	pool        sync.Pool
	fpool       sync.Pool
}

// Option configures an Analyzer.
type Option func(*Analyzer)

// withModels uses the given models instead of the embedded ones (the
// trainer's analyzer, before there are any).
func withModels(m models) Option { return func(a *Analyzer) { a.models = m } }

// WithOwnNames sets our company and product names and support handles:
// they carry no sentiment and are never competitors.
func WithOwnNames(names []string) Option {
	return func(a *Analyzer) { a.ownNames = compileOwnNames(names) }
}

// wordInfo is what the tables know about one lower-case word, so a token
// costs one map lookup however many rules look at it.
type wordInfo struct {
	lex    float64 // VADER valence (extended lexicon), when inLex
	inLex  bool
	neg    bool
	starts []int32 // rules whose first slot lists this word
}

// NewAnalyzer builds the tables and checks the competitor list.
func NewAnalyzer(competitors []Competitor, opts ...Option) (*Analyzer, error) {
	aliases, err := compileAliases(competitors)
	if err != nil {
		return nil, fmt.Errorf("competitors%w", err)
	}
	a := &Analyzer{vader: govader.NewSentimentIntensityAnalyzer(), aliases: aliases,
		words: map[string]*wordInfo{}, classRules: map[slotClass][]int32{}}
	for _, o := range opts {
		o(a)
	}
	if a.emoji, err = loadEmojiValence(); err != nil {
		return nil, err
	}
	if a.models.sentiment == nil {
		if a.models, err = loadModels(); err != nil {
			return nil, err
		}
	}
	for _, c := range competitors {
		a.names = append(a.names, strings.TrimSpace(c.Name))
		var xs []string
		for _, x := range c.Exclude {
			xs = append(xs, asciiLower(strings.Join(strings.Fields(x), " ")))
		}
		a.excludes = append(a.excludes, xs)
		a.hasExcludes = a.hasExcludes || len(xs) > 0
	}
	if len(a.vader.Lexicon) == 0 {
		return nil, fmt.Errorf("govader lexicon is empty")
	}
	for w, v := range domainLexicon {
		a.vader.Lexicon[w] = v
	}
	get := func(w string) *wordInfo {
		wi := a.words[w]
		if wi == nil {
			wi = &wordInfo{}
			if v, ok := a.vader.Lexicon[w]; ok {
				wi.lex, wi.inLex = v, true
			}
			a.words[w] = wi
		}
		return wi
	}
	for _, w := range negWords {
		get(w).neg = true
	}
	a.vaderNeg = map[string]bool{}
	for _, w := range a.vader.Constants.NegateList {
		a.vaderNeg[w] = true
	}
	for _, w := range []string{"but"} {
		get(w)
	}
	for _, spec := range domainRules {
		r, err := parseRule(spec)
		if err != nil {
			return nil, fmt.Errorf("domain rule %q: %w", spec.pattern, err)
		}
		for _, w := range r.neutral {
			if _, ok := a.vader.Lexicon[w]; !ok {
				return nil, fmt.Errorf("domain rule %q: %q is not in the lexicon", spec.pattern, w)
			}
			get(w) // tokens need its valence to take it out
		}
		idx := int32(len(a.rules))
		first := r.slots[0]
		switch {
		case first.zero == zwStart:
			a.startRules = append(a.startRules, idx)
		default:
			for w := range first.words {
				wi := get(w)
				wi.starts = append(wi.starts, idx)
			}
			for _, c := range []slotClass{clsNeg, clsNum, clsOrdinal, clsCompetitor} {
				if first.classes&c != 0 {
					a.classRules[c] = append(a.classRules[c], idx)
				}
			}
		}
		a.rules = append(a.rules, r)
	}
	a.pool.New = func() any { return new(scratch) }
	a.fpool.New = func() any { return new(featScratch) }
	return a, nil
}

// scratch is one call's working memory; pooling it keeps Analyze to a
// handful of allocations.
type scratch struct {
	low      []byte
	fold     []byte
	toks     []token
	hits     []hit
	ruleEnd  []int32
	mentions []rawMention
	neutral  []bool // per token: its valence was already taken out
	norm     []byte
	capDiff  bool // VADER's cap differential for the whole text, set by tokenize
}

func (sc *scratch) reset() {
	sc.low, sc.fold, sc.toks, sc.hits, sc.mentions, sc.norm = sc.low[:0], sc.fold[:0], sc.toks[:0], sc.hits[:0], sc.mentions[:0], sc.norm[:0]
	sc.neutral = sc.neutral[:0]
	sc.capDiff = false
}

// maxPooled bounds what a pooled scratch keeps after one huge text.
const maxPooled = 1 << 16

func (sc *scratch) shrink() {
	if cap(sc.low) > maxPooled || cap(sc.fold) > maxPooled || cap(sc.norm) > maxPooled {
		*sc = scratch{}
	}
}

// Domain valence for stated churn intent, on VADER's word scale.
const intentValence = -2.0

// Analyze reads one text.
func (a *Analyzer) Analyze(s string) Result {
	var r Result
	if strings.TrimSpace(s) == "" {
		r.Label = Neutral
		return r
	}
	sc := a.pool.Get().(*scratch)
	defer func() { sc.shrink(); a.pool.Put(sc) }()
	fs := a.fpool.Get().(*featScratch)
	defer func() { fs.shrink(); a.fpool.Put(fs) }()
	sc.reset()

	masked, ruleIntent := a.read(sc, s)
	lexicon, cues := a.sentiment(sc, masked, ruleIntent)
	r.Lexicon = lexicon
	emoji := a.hashText(fs, masked)
	a.readIntent(sc, fs, s, masked, lexicon, &r)
	r.ChurnIntent = r.Intent.High
	if r.ChurnIntent {
		r.IntentPhrase = r.Intent.Quote
		if !ruleIntent {
			cues = append(cues, "churn_intent")
		}
	}
	r.Cues = cues
	r.Sentiment, r.Label = a.readSentiment(sc, fs, masked, emoji, lexicon, r.Intent.Confidence)

	if len(sc.mentions) > 0 {
		ms := sc.mentions
		if len(ms) > MaxMentions {
			r.MentionsOmitted = len(ms) - MaxMentions
			ms = ms[:MaxMentions]
		}
		r.Competitors = make([]Mention, len(ms))
		for i, m := range ms {
			al := &a.aliases[m.alias]
			r.Competitors[i] = Mention{Competitor: a.names[al.competitor], Alias: al.configured,
				Text: s[m.start:m.end], Start: int(m.start), End: int(m.end), Snippet: snippetAround(s, int(m.start), int(m.end))}
		}
	}
	return r
}

// dropMentionsIn removes mentions inside our own names' spans.
func (sc *scratch) dropMentionsIn(spans [][2]int) {
	if len(spans) == 0 || len(sc.mentions) == 0 {
		return
	}
	kept := sc.mentions[:0]
	for _, m := range sc.mentions {
		inside := false
		for _, sp := range spans {
			if int(m.start) < sp[1] && sp[0] < int(m.end) {
				inside = true
				break
			}
		}
		if !inside {
			kept = append(kept, m)
		}
	}
	sc.mentions = kept
}

func (a *Analyzer) markMentions(sc *scratch) {
	if len(sc.mentions) == 0 {
		return
	}
	mi := 0
	for i := range sc.toks {
		t := &sc.toks[i]
		for mi < len(sc.mentions) && int(sc.mentions[mi].end) <= int(t.ws) {
			mi++
		}
		if mi < len(sc.mentions) && int(sc.mentions[mi].start) < int(t.we) {
			t.flags |= fMention
			t.mention = int16(min(mi, math.MaxInt16))
		}
	}
}

// denied: a denial pattern ("not planning to cancel") overlaps h.
func (sc *scratch) denied(a *Analyzer, h hit) bool {
	for _, d := range sc.hits {
		if a.rules[d.rule].kind == kindDenial && d.from < h.to && h.from < d.to {
			return true
		}
	}
	return false
}

// sentiment is VADER's compound for the text with the domain cues added
// to VADER's raw sum, so they weigh like words of the same valence.
func (a *Analyzer) sentiment(sc *scratch, s string, intent bool) (float64, []string) {
	// VADER splits on single spaces only; Python's VADER splits on any
	// white space, which is what e-mails and Slack messages need.
	norm := normalizeSpace(sc, s)
	compound := a.vader.PolarityScores(norm).Compound

	butAt := -1
	for i := range sc.toks {
		if string(sc.low[sc.toks[i].lo:sc.toks[i].hi]) == "but" {
			butAt = i
			break
		}
	}
	var extra, laugh float64
	var cues []string
	strong, weak, complaint, bitter := false, false, false, false
	addCue := func(name string) {
		for _, c := range cues {
			if c == name {
				return
			}
		}
		cues = append(cues, name)
	}
	butScale := func(v float64, from, to int) float64 {
		switch {
		case butAt < 0:
		case to <= butAt:
			v *= 0.5
		case from > butAt:
			v *= 1.5
		}
		return v
	}
	for _, h := range sc.hits {
		r := &a.rules[h.rule]
		switch r.kind {
		case kindCue:
			extra += butScale(r.val, int(h.from), int(h.to))
			if len(r.neutral) > 0 {
				extra -= a.neutralize(sc, r, h, butScale)
			}
			if r.val < 0 && r.cue != "request" {
				complaint = true
				// Counting and dates alone ("third time today") do not
				// make a laugh bitter.
				bitter = bitter || (r.cue != "repeat" && r.cue != "duration")
			}
			if r.cue != "" {
				addCue(r.cue)
			}
		case kindSarcasm:
			strong = true
			extra += r.val
		case kindSarcasmIf:
			weak = true
		case kindLaughIf:
			laugh -= a.neutralize(sc, r, h, butScale)
		case kindDenial:
			extra -= a.neutralize(sc, r, h, butScale)
		}
	}
	if bitter {
		extra += laugh
	}
	// A competitor's name is a name: "Vitally" is not an adverb here.
	for i := range sc.toks {
		t := &sc.toks[i]
		if !t.has(fMention) {
			continue
		}
		if lex, ok := a.vader.Lexicon[string(sc.low[t.lo:t.hi])]; ok {
			extra -= butScale(a.vaderValence(sc, i, lex), i, i+1)
		}
	}
	if !strong && hasEyeRoll(s) {
		strong = true
	}
	if !weak && sc.scareQuoted() {
		weak = true
	}
	raw := inverseNormalize(compound)
	amp := punctuationEmphasis(norm)
	if raw > 0 {
		raw -= amp
	} else if raw < 0 {
		raw += amp
	}
	if strong || (weak && complaint) {
		addCue("sarcasm")
		// The praise is the complaint: "great, another outage".
		if raw > 0 {
			raw = -raw
		}
		extra -= 0.5
	}
	if intent {
		extra += intentValence
		addCue("churn_intent")
	}
	sum := raw + extra
	if sum == 0 {
		return 0, cues
	}
	if sum > 0 {
		sum += amp
	} else {
		sum -= amp
	}
	return normalize(sum), cues
}

// normalize is VADER's: score / sqrt(score² + 15).
func normalize(score float64) float64 {
	n := score / math.Sqrt(score*score+15)
	return max(-1, min(1, n))
}

// inverseNormalize recovers VADER's raw sum from its compound score.
func inverseNormalize(c float64) float64 {
	if c >= 1 || c <= -1 {
		return math.Copysign(60, c) // beyond any sum VADER produces in practice
	}
	return c * math.Sqrt(15) / math.Sqrt(1-c*c)
}

// punctuationEmphasis is VADER's: up to four "!" and more than one "?".
func punctuationEmphasis(s string) float64 {
	ep := min(strings.Count(s, "!"), 4)
	amp := float64(ep) * 0.292
	if qm := strings.Count(s, "?"); qm > 1 {
		if qm <= 3 {
			amp += float64(qm) * 0.18
		} else {
			amp += 0.96
		}
	}
	return amp
}

// normalizeSpace turns every run of white space into one space, returning
// s itself when it has none to change.
func normalizeSpace(sc *scratch, s string) string {
	clean := true
	prevSpace := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || (c == ' ' && prevSpace) || c >= 0x80 && isUnicodeSpaceAt(s, i) {
			clean = false
			break
		}
		prevSpace = c == ' '
	}
	if clean {
		return s
	}
	sc.norm = sc.norm[:0]
	for i, f := range strings.Fields(s) {
		if i > 0 {
			sc.norm = append(sc.norm, ' ')
		}
		sc.norm = append(sc.norm, f...)
	}
	return string(sc.norm)
}

func isUnicodeSpaceAt(s string, i int) bool {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsSpace(r)
}

// hasEyeRoll: 🙄 says sarcasm on its own.
func hasEyeRoll(s string) bool {
	return strings.Contains(s, "🙄") || strings.Contains(s, "/s ") || strings.HasSuffix(s, "/s")
}

// scareWords are what customers put in scare quotes: thanks for the "fix".
var scareWords = map[string]bool{"fix": true, "fixed": true, "fixes": true, "resolved": true, "solution": true,
	"support": true, "help": true, "helpful": true, "quick": true, "update": true, "upgrade": true,
	"improvement": true, "improved": true, "working": true, "priority": true, "urgent": true, "soon": true,
	"done": true, "solved": true, "feature": true, "stable": true, "fast": true, "premium": true,
	"enterprise": true, "service": true, "sorted": true, "answer": true, "response": true}

// scareQuoted: a quotation of at most three words holds one of scareWords.
func (sc *scratch) scareQuoted() bool {
	for i := range sc.toks {
		if !sc.toks[i].has(fQuoteOpen) {
			continue
		}
		for j := i; j < len(sc.toks) && j < i+3; j++ {
			t := &sc.toks[j]
			if scareWords[string(sc.low[t.lo:t.hi])] {
				for k := j; k < len(sc.toks) && k < i+3; k++ {
					if sc.toks[k].has(fQuoteClose) {
						return true
					}
				}
			}
			if t.has(fQuoteClose) {
				break
			}
		}
	}
	return false
}

// neutralize returns the valence VADER gave the rule's neutral words
// inside the hit, each token at most once, so the caller can take it back
// out: "please" in "please send the invoice" is not praise.
func (a *Analyzer) neutralize(sc *scratch, r *rule, h hit, butScale func(float64, int, int) float64) float64 {
	if len(r.neutral) == 0 {
		return 0
	}
	if n := len(sc.toks); len(sc.neutral) != n {
		if cap(sc.neutral) < n {
			sc.neutral = make([]bool, n)
		} else {
			sc.neutral = sc.neutral[:n]
			clear(sc.neutral)
		}
	}
	var sum float64
	for i := int(h.from); i < int(h.to); i++ {
		t := &sc.toks[i]
		if sc.neutral[i] || t.info == nil || !t.info.inLex || !slices.Contains(r.neutral, string(sc.low[t.lo:t.hi])) {
			continue
		}
		sc.neutral[i] = true
		sum += butScale(a.vaderValence(sc, i, t.info.lex), i, i+1)
	}
	return sum
}

// vaderValence approximates the valence VADER gives token i, with its
// rules for capitals, boosters and negation in the three words before.
// (govader only returns the total.)
func (a *Analyzer) vaderValence(sc *scratch, i int, lex float64) float64 {
	word := func(j int) string { return string(sc.low[sc.toks[j].lo:sc.toks[j].hi]) }
	t := &sc.toks[i]
	v := lex
	capDiff := sc.capDiff
	if t.has(fUpper) && capDiff {
		v += math.Copysign(0.733, v)
	}
	for k := 1; k <= 3 && i-k >= 0; k++ {
		j := i - k
		w := word(j)
		if _, inLex := a.vader.Lexicon[w]; inLex {
			continue
		}
		if b, ok := a.vader.Constants.BoosterDict[w]; ok {
			if v < 0 {
				b = -b
			}
			if sc.toks[j].has(fUpper) && capDiff {
				b += math.Copysign(0.733, v)
			}
			v += b * [...]float64{1, 0.95, 0.9}[k-1]
		}
		if a.vaderNeg[w] || sc.toks[j].has(fNegForm) {
			v *= -0.74
		}
	}
	// "no" one or two words before negates the lexicon value outright.
	if (i > 0 && word(i-1) == "no") || (i > 1 && word(i-2) == "no") {
		v = lex * -0.74
	}
	return v
}

// capDifferential is VADER's: some words, but not all, are in capitals.
// It is a property of the whole text, so tokenize computes it once rather
// than once per word vaderValence looks at.
func (sc *scratch) capDifferential() bool {
	upper := 0
	for i := range sc.toks {
		if sc.toks[i].has(fUpper) {
			upper++
		}
	}
	return upper > 0 && upper < len(sc.toks)
}

// read tokenizes s into sc, finds its competitor mentions and rule hits,
// and says whether a rule reads intent to leave. Our own names and polite
// words are read as if absent (masked); offsets stay those of s.
func (a *Analyzer) read(sc *scratch, s string) (masked string, ruleIntent bool) {
	masked, own := a.maskOwnNames(s)
	masked = maskPolite(masked)
	a.tokenize(sc, masked)
	a.findMentions(sc, s)
	sc.dropMentionsIn(own)
	a.markMentions(sc)
	a.findHits(sc)
	for _, h := range sc.hits {
		if a.rules[h.rule].kind == kindIntent && !sc.denied(a, h) {
			return masked, true
		}
	}
	return masked, false
}
