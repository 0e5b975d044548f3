package text

import (
	"fmt"
	"strings"
)

// Own names are our company and product names and support handles
// (text.own_names). Customers write them in complaints and thanks alike,
// so they carry no sentiment ("Delta", "Clear", "Zendesk Joy" are also
// ordinary words), and they are never a competitor mention.

// ValidateOwnNames checks a text.own_names list; errors name the position.
func ValidateOwnNames(names []string) error {
	for i, n := range names {
		n = strings.TrimPrefix(strings.TrimSpace(n), "@")
		if len(n) < 2 {
			return fmt.Errorf("[%d]: %q is too short to match safely", i, names[i])
		}
	}
	return nil
}

func compileOwnNames(names []string) []string {
	var out []string
	for _, n := range names {
		n = asciiLower(strings.TrimPrefix(strings.TrimSpace(n), "@"))
		if len(n) >= 2 && !containsString(out, n) {
			out = append(out, n)
		}
	}
	// Longer first, so "acme cloud" is taken whole before "acme".
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && len(out[j]) > len(out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// maskOwnNames returns s with every own name (with a leading @ and a
// trailing possessive) blanked to spaces, and the blanked spans; s itself
// when there is none. Lengths are kept, so offsets carry over.
func (a *Analyzer) maskOwnNames(s string) (string, [][2]int) {
	if len(a.ownNames) == 0 {
		return s, nil
	}
	fold := asciiLower(s)
	var spans [][2]int
	for _, n := range a.ownNames {
		for from := 0; from < len(fold); {
			k := strings.Index(fold[from:], n)
			if k < 0 {
				break
			}
			start, end := from+k, from+k+len(n)
			from = start + 1
			if wordRuneBefore(s, start) || wordRuneAt(s, end) {
				continue
			}
			if start > 0 && s[start-1] == '@' {
				start--
			}
			for _, p := range []string{"'s", "’s", "'", "’"} {
				if strings.HasPrefix(s[end:], p) && !wordRuneAt(s, end+len(p)) {
					end += len(p)
					break
				}
			}
			overlap := false
			for _, sp := range spans {
				if start < sp[1] && sp[0] < end {
					overlap = true
					break
				}
			}
			if !overlap {
				spans = append(spans, [2]int{start, end})
			}
		}
	}
	if len(spans) == 0 {
		return s, nil
	}
	b := []byte(s)
	for _, sp := range spans {
		for i := sp[0]; i < sp[1]; i++ {
			b[i] = ' '
		}
	}
	return string(b), spans
}
