package nps

import (
	"regexp"
	"strings"
)

// Competitors finds configured competitor names in a comment: whole words,
// any case, with possessives and plurals ("Gainsight's", "Totangos"), never
// inside another word ("mygainsightapp" is not a mention).
type Competitors struct {
	names []string
	res   []*regexp.Regexp
}

// NewCompetitors compiles the names once.
func NewCompetitors(names []string) *Competitors {
	c := &Competitors{}
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		words := strings.Fields(regexp.QuoteMeta(n))
		re := regexp.MustCompile(`(?i)(?:^|[^\pL\pN_])(` + strings.Join(words, `\s+`) + `)(?:'s|’s|s|es)?(?:$|[^\pL\pN_])`)
		c.names = append(c.names, n)
		c.res = append(c.res, re)
	}
	return c
}

// Find returns the configured names mentioned in text, in config order,
// each once.
func (c *Competitors) Find(text string) []string {
	if c == nil || text == "" {
		return nil
	}
	var out []string
	for i, re := range c.res {
		if re.MatchString(text) {
			out = append(out, c.names[i])
		}
	}
	return out
}
