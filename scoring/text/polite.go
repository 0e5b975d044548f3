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

// maskPolite returns s with polite words blanked to spaces (same length).
func maskPolite(s string) string {
	var b []byte
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
