package crm

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestActivityFor(t *testing.T) {
	at := time.Date(2026, 11, 20, 23, 30, 0, 0, time.FixedZone("PST", -8*3600))
	a := ActivityFor("call_note", "Acme Corp", "gong", "SSO before March.", "Long call transcript.", at)
	if a.Subject != "Call summary: Acme Corp" || a.Date != "2026-11-21" {
		t.Fatalf("activity %+v", a)
	}
	if !strings.HasPrefix(a.Body, "SSO before March.\n\n--- Original ---\nLong call transcript.") ||
		!strings.HasSuffix(a.Body, "Source: gong; summarised by Holdfast.") {
		t.Fatalf("body %q", a.Body)
	}
	n := ActivityFor("note", strings.Repeat("Ä", 200), "U0CSM", "Renewal is safe.", "Renewal is safe.", at)
	if !strings.HasPrefix(n.Subject, "Note from Slack: ") || utf8.RuneCountInString(n.Subject) != MaxSubject ||
		strings.Contains(n.Body, "Original") || !strings.Contains(n.Body, "by user U0CSM") {
		t.Fatalf("note activity %+v", n)
	}
	if big := ActivityFor("email", "Acme", "zendesk", "s", strings.Repeat("x", 2*MaxBody), at); utf8.RuneCountInString(big.Body) != MaxBody {
		t.Fatalf("body of %d runes", utf8.RuneCountInString(big.Body))
	}
	c := CaseFor("Acme", "U0CSM", "Export broken\nsince Monday", "Export broken since Monday, finance blocked.")
	if c.Subject != "Export broken" || c.Date != "" || !strings.Contains(c.Body, "finance blocked") {
		t.Fatalf("case %+v", c)
	}
}
