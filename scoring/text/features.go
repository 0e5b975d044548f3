package text

import (
	"math"
	"unicode"
	"unicode/utf8"

	"github.com/holdfast/holdfast/scoring/text/internal/linear"
)

// The trained models read hashed features of the text: lower-cased words
// (digits folded to 0, letters repeated more than twice cut to two,
// "NOT_" inside a negation's clause), word pairs, character 3- to 5-grams
// of each word (which carry across inflections and languages), emoji and
// emoticons. Each namespace hashes apart so a word and a pair never share
// a bucket by design.

const (
	nsSentiment uint64 = 0x51
	nsIntent    uint64 = 0x1a
)

var featNegations = map[string]bool{"not": true, "no": true, "never": true, "cannot": true, "cant": true,
	"dont": true, "doesnt": true, "didnt": true, "isnt": true, "wont": true, "wouldnt": true, "nothing": true,
	"nobody": true, "none": true, "neither": true, "nor": true, "without": true, "havent": true, "hasnt": true,
	"arent": true, "wasnt": true, "werent": true, "couldnt": true, "shouldnt": true, "aint": true}

type fword struct {
	lo, hi int32 // into featScratch.buf
	pos    int32 // byte offset of the word in the text
	neg    bool
	word   bool // letters or digits (char n-grams apply)
}

type featScratch struct {
	buf   []byte
	words []fword
	base  []baseFeat
	feats []linear.Feature
	probs [8]float64
}

// baseFeat is a feature's hash before its model's namespace is mixed in,
// and where its word starts, so one hashing of the text serves the
// sentiment model (all of it) and the intent model (each statement).
type baseFeat struct {
	h   uint64
	pos int32
}

// selectFeatures fills fs.feats with the features of words starting in
// [from, to), hashed into namespace ns, each weighing 1/sqrt(count).
func (fs *featScratch) selectFeatures(ns uint64, from, to int) []linear.Feature {
	fs.feats = fs.feats[:0]
	salt := ns * 0x9e3779b97f4a7c15
	for _, b := range fs.base {
		if int(b.pos) >= from && int(b.pos) < to {
			fs.feats = append(fs.feats, linear.Feature{Bucket: mix(b.h ^ salt)})
		}
	}
	if n := len(fs.feats); n > 0 {
		v := float32(1 / math.Sqrt(float64(n)))
		for i := range fs.feats {
			fs.feats[i].Value = v
		}
	}
	return fs.feats
}

func fnvAdd(h uint64, b []byte) uint64 {
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

const fnvBasis = 14695981039346656037

func mix(h uint64) uint32 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return uint32(h)
}

// hashText fills fs.base with the hashed features of s and returns the
// emoji and emoticon valence it found.
func (a *Analyzer) hashText(fs *featScratch, s string) (emoji float32) {
	fs.buf, fs.words, fs.base = fs.buf[:0], fs.words[:0], fs.base[:0]
	neg := false
	start := -1 // start of the current word in buf
	wordNeg := false
	wordPos := int32(0)
	at := 0 // byte offset in s of what is being read
	flush := func() {
		if start < 0 {
			return
		}
		w := fs.buf[start:]
		lo := int32(start)
		start = -1
		isNeg := featNegations[string(w)] || (len(w) > 3 && string(w[len(w)-3:]) == "n't")
		fs.words = append(fs.words, fword{lo: lo, hi: int32(len(fs.buf)), pos: wordPos, neg: wordNeg, word: true})
		if isNeg {
			neg = true
		}
	}
	token := func(t string, clauseEnd bool) {
		flush()
		lo := int32(len(fs.buf))
		fs.buf = append(fs.buf, t...)
		fs.words = append(fs.words, fword{lo: lo, hi: int32(len(fs.buf)), pos: int32(at)})
		if clauseEnd {
			neg = false
		}
	}
	for i := 0; i < len(s); {
		// a whitespace-delimited chunk
		for i < len(s) && isSpaceByte(s[i]) {
			i++
		}
		j := i
		for j < len(s) && !isSpaceByte(s[j]) {
			j++
		}
		chunk := s[i:j]
		if chunk == "" {
			break
		}
		at = i
		if v, ok := emoticons[chunk]; ok {
			emoji += v
			token(emoticonToken(v), false)
			i = j
			continue
		}
		end := len(chunk)
		// A face typed onto a word: "thanks:)".
		for _, n := range []int{3, 2} {
			if len(chunk) > n && (chunk[len(chunk)-n] == ':' || chunk[len(chunk)-n] == ';') {
				if v, ok := emoticons[chunk[len(chunk)-n:]]; ok {
					emoji += v
					end = len(chunk) - n
					break
				}
			}
		}
		switch {
		case hasPrefixFold(chunk, "http://") || hasPrefixFold(chunk, "https://") || hasPrefixFold(chunk, "www."):
			token("<url>", false)
			i = j
			continue
		case chunk[0] == '@' && len(chunk) > 1:
			token("<user>", false)
			i = j
			continue
		}
		prev := rune(-1)
		reps := 0
		for k := 0; k < end; {
			r, size := utf8.DecodeRuneInString(chunk[k:])
			at = i + k
			k += size
			switch {
			case r == '\'' || r == '’':
				if start >= 0 {
					fs.buf = append(fs.buf, '\'')
				}
				continue
			case r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') || r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)):
				if start < 0 {
					start = len(fs.buf)
					wordNeg = neg
					wordPos = int32(at)
					prev, reps = -1, 0
				}
				r = unicode.ToLower(r)
				if r >= '0' && r <= '9' {
					r = '0'
				}
				if r == prev {
					reps++
					if reps >= 2 {
						continue
					}
				} else {
					prev, reps = r, 0
				}
				fs.buf = utf8.AppendRune(fs.buf, r)
			case r == '!' || r == '?':
				var b [4]byte
				token(string(b[:utf8.EncodeRune(b[:], r)]), true)
			case r == '.' || r == ',' || r == ';' || r == ':' || r == '…':
				flush()
				neg = false
			default:
				flush()
				if v, ok := a.emoji[r]; ok {
					emoji += v
					var b [4]byte
					token(string(b[:utf8.EncodeRune(b[:], r)]), false)
				}
			}
		}
		flush()
		if end < len(chunk) {
			at = i + end
			v := emoticons[chunk[end:]]
			token(emoticonToken(v), false)
		}
		i = j
	}
	flush()

	// unigrams, pairs, character n-grams
	prevH := fnvAdd(fnvBasis, []byte("<s>"))
	for _, w := range fs.words {
		b := fs.buf[w.lo:w.hi]
		h := fnvAdd(fnvBasis, b)
		if w.neg {
			fs.base = append(fs.base, baseFeat{h: h ^ 0x6e6f74, pos: w.pos})
		} else {
			fs.base = append(fs.base, baseFeat{h: h, pos: w.pos})
		}
		fs.base = append(fs.base, baseFeat{h: prevH*31 + h + 0x9e37, pos: w.pos})
		prevH = h
		if w.word && len(b) >= 3 {
			fs.charGrams(b, w.pos)
		}
	}
	return emoji
}

// charGrams adds the 3- to 5-grams of "<word>" (bytes; a cut rune is
// still a consistent feature).
func (fs *featScratch) charGrams(w []byte, pos int32) {
	var tmp [64]byte
	if len(w) > len(tmp)-2 {
		w = w[:len(tmp)-2]
	}
	tmp[0] = '<'
	copy(tmp[1:], w)
	tmp[len(w)+1] = '>'
	b := tmp[:len(w)+2]
	for n := 3; n <= 5; n++ {
		basis := fnvBasis ^ uint64(n)*0x100
		for i := 0; i+n <= len(b); i++ {
			fs.base = append(fs.base, baseFeat{h: fnvAdd(basis, b[i:i+n]), pos: pos})
		}
	}
}

func emoticonToken(v float32) string {
	if v >= 0 {
		return "<emoticon+>"
	}
	return "<emoticon->"
}

func hasPrefixFold(s, p string) bool {
	if len(s) < len(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != p[i] {
			return false
		}
	}
	return true
}
