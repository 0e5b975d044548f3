package text

// Politeness is not praise: "please", "kindly", "help" in a request and
// "would appreciate" carry no sentiment in customer text, where VADER (and
// tweets) read them as warm. They are blanked before any sentiment is read.
// "No help at all" and "really appreciate it" keep their meaning.

var politeAlways = map[string]bool{"please": true, "pls": true, "plz": true, "plse": true, "kindly": true, "pleeease": true}

var helpNegators = map[string]bool{"no": true, "zero": true, "any": true, "little": true, "not": true, "without": true,
	"of": true, "much": true, "great": true, "big": true, "huge": true, "real": true, "more": true, "less": true}

var wouldForms = map[string]bool{"would": true, "we'd": true, "i'd": true,
	"we’d": true, "i’d": true}

// maskPolite returns s with polite words and @handles blanked to spaces
// (same length). A handle is a name, whatever word it spells ("@united",
// "@JoyHelp"), so it carries no sentiment either.
func maskPolite(s string) string {
	var b []byte
	for i := 0; i+1 < len(s); i++ {
		if s[i] != '@' || (i > 0 && !isSpaceByte(s[i-1]) && s[i-1] != '(' && s[i-1] != '.') || !isWordByte(s[i+1]) {
			continue
		}
		j := i + 1
		for j < len(s) && (isWordByte(s[j]) || s[j] == '.' && j+1 < len(s) && isWordByte(s[j+1])) {
			j++
		}
		if b == nil {
			b = []byte(s)
		}
		for k := i; k < j; k++ {
			b[k] = ' '
		}
		i = j
	}
	if b != nil {
		s = string(b)
		b = nil
	}
	var prev, prev2 string
	for i := 0; i < len(s); {
		if !isLetterByte(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && (isLetterByte(s[j]) || s[j] == '\'') {
			j++
		}
		if j < len(s) && s[j] >= 0x80 || i > 0 && s[i-1] >= 0x80 {
			// part of a non-ASCII word
			prev2, prev = prev, ""
			i = j
			continue
		}
		w := asciiLower(s[i:j])
		blank := false
		switch {
		case politeAlways[w]:
			blank = true
		case w == "help":
			blank = !helpNegators[prev]
		case w == "appreciate" || w == "appreciated":
			blank = wouldForms[prev] || wouldForms[prev2]
		}
		if blank {
			if b == nil {
				b = []byte(s)
			}
			for k := i; k < j; k++ {
				b[k] = ' '
			}
		} else {
			prev2, prev = prev, w
		}
		i = j
	}
	if b == nil {
		return s
	}
	return string(b)
}
