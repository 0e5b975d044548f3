package text

import (
	"unicode"
	"unicode/utf8"
)

// tokFlag describes one word token.
type tokFlag uint16

const (
	fSentEnd    tokFlag = 1 << iota // a sentence (or clause ending in : or ;) ends after this token
	fSentStart                      // first token of a sentence
	fComma                          // a comma follows the word
	fQuoteOpen                      // the raw token opens a quotation: "fixed
	fQuoteClose                     // the raw token closes one: fixed"
	fNumber                         // digits: 3, 10, 2,000, 20%
	fOrdinal                        // 3rd, 4th
	fMention                        // inside a competitor mention
	fNegForm                        // a "n't" form: don't, won't, haven't
	fUpper                          // written in capitals: PO, ASAP
)

// token is one whitespace-delimited word of the text with its surrounding
// punctuation stripped. Offsets are bytes: raw and word into the text,
// lo:hi into the scratch's lower-cased buffer.
type token struct {
	start, end int32 // raw token, punctuation included
	ws, we     int32 // the word without surrounding punctuation
	lo, hi     int32
	mention    int16 // index into scratch.mentions when fMention
	flags      tokFlag
	info       *wordInfo
}

func (t *token) has(f tokFlag) bool { return t.flags&f != 0 }

// isEdgePunct reports whether r is punctuation to strip from a word's
// edges; inner marks stay ("don't", "e-mail", "2,000", "v2.1").
func isEdgePunct(r rune) bool {
	if r < utf8.RuneSelf {
		c := byte(r)
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80)
	}
	switch r {
	case '“', '”', '‘', '’', '…', '–', '—', '«', '»', '¿', '¡':
		return true
	}
	return unicode.IsPunct(r) || unicode.IsSymbol(r)
}

// tokenize splits text into word tokens, lower-casing each word into
// sc.low and looking it up once in the analyzer's word table.
func (a *Analyzer) tokenize(sc *scratch, text string) {
	n := len(text)
	i := 0
	sentStart := true
	for i < n {
		// skip white space, remembering line breaks: a line ends a sentence
		newline := false
		for i < n {
			c := text[i]
			if c < utf8.RuneSelf {
				if c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\v' && c != '\f' {
					break
				}
				if c == '\n' {
					newline = true
				}
				i++
				continue
			}
			r, size := utf8.DecodeRuneInString(text[i:])
			if !unicode.IsSpace(r) {
				break
			}
			i += size
		}
		if newline && len(sc.toks) > 0 {
			sc.toks[len(sc.toks)-1].flags |= fSentEnd
			sentStart = true
		}
		if i >= n {
			break
		}
		start := i
		for i < n {
			c := text[i]
			if c < utf8.RuneSelf {
				if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' {
					break
				}
				i++
				continue
			}
			r, size := utf8.DecodeRuneInString(text[i:])
			if unicode.IsSpace(r) {
				break
			}
			i += size
		}
		if a.addToken(sc, text, start, i, sentStart) {
			sentStart = sc.toks[len(sc.toks)-1].has(fSentEnd)
		}
	}
	if k := len(sc.toks); k > 0 {
		sc.toks[k-1].flags |= fSentEnd
	}
	sc.capDiff = sc.capDifferential()
}

// addToken adds text[s:e] unless it is punctuation only (an emoji, a
// dash), in which case it may still end a sentence.
func (a *Analyzer) addToken(sc *scratch, text string, s, e int, sentStart bool) bool {
	ws, we := s, e
	lead, trail := "", ""
	for ws < we {
		r, size := utf8.DecodeRuneInString(text[ws:we])
		if !isEdgePunct(r) {
			break
		}
		ws += size
	}
	for we > ws {
		r, size := utf8.DecodeLastRuneInString(text[ws:we])
		if !isEdgePunct(r) {
			break
		}
		we -= size
	}
	lead, trail = text[s:ws], text[we:e]
	if ws == we {
		// No word; a "…" or "!!!" on its own still ends the sentence.
		if k := len(sc.toks); k > 0 && endsSentence(lead) {
			sc.toks[k-1].flags |= fSentEnd
		}
		return false
	}
	t := token{start: int32(s), end: int32(e), ws: int32(ws), we: int32(we), lo: int32(len(sc.low))}
	digits, letters, lowers, ordinal := 0, 0, 0, false
	for j := ws; j < we; {
		c := text[j]
		if c < utf8.RuneSelf {
			switch {
			case c >= 'A' && c <= 'Z':
				c += 'a' - 'A'
				letters++
			case c >= 'a' && c <= 'z':
				letters++
				lowers++
			case c >= '0' && c <= '9':
				digits++
			}
			sc.low = append(sc.low, c)
			j++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[j:])
		switch r {
		case '’', '‘', 'ʼ':
			sc.low = append(sc.low, '\'')
		default:
			sc.low = utf8.AppendRune(sc.low, unicode.ToLower(r))
			if unicode.IsLetter(r) {
				letters++
				if !unicode.IsUpper(r) {
					lowers++
				}
			}
		}
		j += size
	}
	t.hi = int32(len(sc.low))
	word := sc.low[t.lo:t.hi]
	if digits > 0 {
		if letters == 0 {
			t.flags |= fNumber
		} else if l := len(word); l >= 3 && letters == 2 && digits == l-2 {
			suf := string(word[l-2:])
			// "1st" counts nothing again; "3rd time" does.
			ordinal = (suf == "st" || suf == "nd" || suf == "rd" || suf == "th") && string(word[:l-2]) != "1"
		}
	}
	if ordinal {
		t.flags |= fOrdinal
	}
	if l := len(word); l >= 3 && word[l-1] == 't' && word[l-2] == '\'' && word[l-3] == 'n' {
		t.flags |= fNegForm
	}
	if sentStart {
		t.flags |= fSentStart
	}
	if letters > 0 && lowers == 0 {
		t.flags |= fUpper
	}
	if endsSentence(trail) {
		t.flags |= fSentEnd
	}
	if containsByte(trail, ',') {
		t.flags |= fComma
	}
	if isQuote(lead) {
		t.flags |= fQuoteOpen
	}
	if isQuote(trail) {
		t.flags |= fQuoteClose
	}
	t.info = a.words[string(word)]
	sc.toks = append(sc.toks, t)
	return true
}

func containsByte(s string, b byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			return true
		}
	}
	return false
}

func endsSentence(punct string) bool {
	for _, r := range punct {
		switch r {
		case '.', '!', '?', ';', ':', '…':
			return true
		}
	}
	return false
}

func isQuote(punct string) bool {
	for _, r := range punct {
		switch r {
		case '"', '“', '”', '\'', '‘', '’':
			return true
		}
	}
	return false
}
