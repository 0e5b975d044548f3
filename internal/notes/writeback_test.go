package notes

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/holdfast/holdfast/internal/crm"
)

func TestCRMActivity(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 20, 23, 30, 0, 0, time.FixedZone("PST", -8*3600))
	a := CRMActivity("call_note", "Acme Corp", "gong", "SSO before March.", "Long call transcript.", at)
	if a.Subject != "Call summary: Acme Corp" || a.Date != "2026-11-21" {
		t.Fatalf("activity %+v", a)
	}
	if !strings.HasPrefix(a.Body, "SSO before March.\n\n--- Original ---\nLong call transcript.") ||
		!strings.HasSuffix(a.Body, "Source: gong; summarised by Holdfast.") {
		t.Fatalf("body %q", a.Body)
	}
	n := CRMActivity("note", strings.Repeat("Ä", 200), "U0CSM", "Renewal is safe.", "Renewal is safe.", at)
	if !strings.HasPrefix(n.Subject, "Note from Slack: ") || utf8.RuneCountInString(n.Subject) != crm.MaxSubject ||
		strings.Contains(n.Body, "Original") || !strings.Contains(n.Body, "by user U0CSM") {
		t.Fatalf("note activity %+v", n)
	}
	if big := CRMActivity("email", "Acme", "zendesk", "s", strings.Repeat("x", 2*crm.MaxBody), at); utf8.RuneCountInString(big.Body) != crm.MaxBody {
		t.Fatalf("body of %d runes", utf8.RuneCountInString(big.Body))
	}
	c := CRMCase("Acme", "U0CSM", "Export broken\nsince Monday", "Export broken since Monday, finance blocked.")
	if c.Subject != "Export broken" || c.Date != "" || !strings.Contains(c.Body, "finance blocked") {
		t.Fatalf("case %+v", c)
	}
}
