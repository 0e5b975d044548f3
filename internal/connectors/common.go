package connectors

import (
	"crypto/hmac"
	"encoding/json"
	"html"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// orderKeys puts the configured key first; the others follow as
// fallbacks, so a key the tool happens to send still finds the account.
func orderKeys(mapBy string, keys ...Key) []Key {
	var out []Key
	for _, k := range keys {
		if k.Value != "" && k.Kind == mapBy {
			out = append(out, k)
		}
	}
	for _, k := range keys {
		if k.Value != "" && k.Kind != mapBy {
			out = append(out, k)
		}
	}
	return out
}

// emailDomain is the lower-case domain of an e-mail address; "" for none.
func emailDomain(addr string) string {
	_, domain, ok := strings.Cut(strings.TrimSpace(addr), "@")
	if !ok || domain == "" || strings.ContainsAny(domain, " <>") {
		return ""
	}
	return strings.ToLower(strings.TrimSuffix(domain, ">"))
}

var (
	tags      = regexp.MustCompile(`(?s)<[^>]*>`)
	blockTags = regexp.MustCompile(`(?i)<\s*(br|/p|/div|/li)\s*/?>`)
	spaces    = regexp.MustCompile(`[ \t]+`)
	newlines  = regexp.MustCompile(`\n{3,}`)
)

// plainText turns the HTML bodies Intercom sends into text the analyser
// reads; paragraph breaks stay.
func plainText(s string) string {
	s = blockTags.ReplaceAllString(s, "\n")
	s = tags.ReplaceAllString(s, "")
	s = html.UnescapeString(s)
	s = spaces.ReplaceAllString(s, " ")
	s = newlines.ReplaceAllString(s, "\n\n")
	return strings.TrimSpace(s)
}

// joinText joins non-empty parts with blank lines, within the ingest
// limit on text and without the NUL it refuses: an event quarantined with
// text ingest cannot take would fail every replay of its page.
func joinText(parts ...string) string {
	var keep []string
	for _, p := range parts {
		if p = strings.TrimSpace(strings.ReplaceAll(p, "\x00", "")); p != "" {
			keep = append(keep, p)
		}
	}
	s := strings.Join(keep, "\n\n")
	const limit = 19000
	if len(s) > limit {
		s = strings.ToValidUTF8(s[:limit], "") // a cut inside a character drops it
	}
	return s
}

// severity maps a tool's priority onto the four ingest severities.
func severity(priority string) string {
	switch p := strings.ToLower(strings.TrimSpace(priority)); p {
	case "low", "normal", "high", "urgent":
		return p
	case "priority": // Intercom's flag
		return "high"
	}
	return "normal"
}

// maxMetaString bounds one metadata value: the few fields a connector
// keeps stay well under ingest's 16 KiB metadata limit.
const maxMetaString = 1000

func metadata(fields map[string]any) json.RawMessage {
	clean := map[string]any{}
	for k, v := range fields {
		if s, ok := v.(string); ok {
			if s = strings.ReplaceAll(s, "\x00", ""); s == "" {
				continue
			}
			// A tool's field (a ticket subject, a call title) is bounded
			// so the metadata stays within what ingest accepts.
			if len(s) > maxMetaString {
				s = strings.ToValidUTF8(s[:maxMetaString], "")
			}
			v = s
		}
		clean[k] = v
	}
	raw, _ := json.Marshal(clean) // plain data: cannot fail
	return raw
}

// within reports whether t is no further than tolerance from now.
func within(t, now time.Time, tolerance time.Duration) bool {
	d := now.Sub(t)
	return d <= tolerance && d >= -tolerance
}

func equalMAC(got, want string) bool { return hmac.Equal([]byte(got), []byte(want)) }

// requestURL is the URL the tool called: the configured public URL's
// scheme and host (the tool signs what it was given), else the request's.
func requestURL(r *http.Request, publicURL string) string {
	if publicURL != "" {
		return publicURL + r.URL.RequestURI()
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
		scheme = p
	}
	return scheme + "://" + r.Host + r.URL.RequestURI()
}

// idString reads a JSON id that tools send as a number or a string.
type idString string

func (s *idString) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*s = ""
		return nil
	}
	var str string
	if err := json.Unmarshal(b, &str); err == nil {
		*s = idString(str)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*s = idString(n.String())
	return nil
}

func parseFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}
