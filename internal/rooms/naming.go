package rooms

import (
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// MaxChannelName is Slack's limit on a channel name.
const MaxChannelName = 80

// NameVars are what a channel pattern can use.
type NameVars struct {
	Name       string // {name}
	ExternalID string // {external_id}
	Segment    string // {segment}
	Tier       string // {tier}
}

// ChannelName renders the pattern for an account and makes the result a
// valid Slack channel name: lower case, letters, digits, "-" and "_",
// accents folded ("Société" -> "societe"), at most 80 characters. try 0 is
// the plain name; after name_taken, try n gives "-<n+1>" ("acct-acme-2").
// A name that folds to nothing falls back to the external id.
func ChannelName(pattern string, v NameVars, try int) string {
	fill := func(p string, name string) string {
		return strings.NewReplacer("{name}", slug(name), "{external_id}", slug(v.ExternalID),
			"{segment}", slug(v.Segment), "{tier}", slug(v.Tier)).Replace(p)
	}
	base := tidy(fill(pattern, v.Name))
	if !hasAlnum(base) || (strings.Contains(pattern, "{name}") && slug(v.Name) == "") {
		base = tidy("acct-" + slug(v.ExternalID))
	}
	if !hasAlnum(base) {
		base = "acct"
	}
	suffix := ""
	if try > 0 {
		suffix = "-" + strconv.Itoa(try+1)
	}
	if len(base)+len(suffix) > MaxChannelName {
		base = strings.TrimRight(base[:MaxChannelName-len(suffix)], "-_")
	}
	return base + suffix
}

// slug folds s to channel-name characters, with runs of anything else
// turned into one "-".
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFKD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue // the accent of a folded letter
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
			dash = false
		case r >= 'A' && r <= 'Z':
			b.WriteRune(unicode.ToLower(r))
			dash = false
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
	}
	return strings.Trim(b.String(), "-")
}

// tidy collapses repeated separators the pattern and empty placeholders
// leave behind and trims them from the ends.
func tidy(s string) string {
	s = strings.ToLower(s)
	for strings.Contains(s, "--") {
		s = strings.ReplaceAll(s, "--", "-")
	}
	return strings.Trim(s, "-_")
}

func hasAlnum(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' }) >= 0
}
