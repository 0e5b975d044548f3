package notes

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/holdfast/holdfast/internal/crm"
)

// CRMPolicy says which notes are written back to the CRM, and as what.
type CRMPolicy struct {
	Enabled    bool     // a CRM is configured
	NoteObject string   // crm.ObjectTask (default) or crm.ObjectNote
	WriteBack  []string // note kinds written back (note, call_note, email, meeting, ticket)
}

// writes are the CRM records a summarised note makes: an activity when its
// kind is written back, a Case when its author asked for one.
func (p CRMPolicy) writes(n pending, summary string) []crm.Write {
	if !p.Enabled {
		return nil
	}
	var out []crm.Write
	if slices.Contains(p.WriteBack, n.Kind) {
		out = append(out, crm.Write{Key: crmKey(n.ID, p.NoteObject), Object: p.NoteObject,
			Activity: CRMActivity(n.Kind, n.AccountName, n.Author, summary, n.Text, n.OccurredAt)})
	}
	if n.OpenCase {
		out = append(out, crm.Write{Key: crmKey(n.ID, crm.ObjectCase), Object: crm.ObjectCase,
			Activity: CRMCase(n.AccountName, n.Author, summary, n.Text)})
	}
	return out
}

// crmKey is the idempotency key of a note's write of one object.
func crmKey(noteID int64, object string) string {
	return "note:" + strconv.FormatInt(noteID, 10) + ":" + object
}

// CRMActivity is a note as the CRM keeps it: the summary first (what a
// salesperson reads), then the original.
func CRMActivity(kind, accountName, author, summary, text string, at time.Time) crm.Activity {
	label := cmp.Or(SummaryLabel(kind), "Note from Slack")
	var b strings.Builder
	b.WriteString(strings.TrimSpace(summary))
	if t := strings.TrimSpace(text); t != "" && t != strings.TrimSpace(summary) {
		b.WriteString("\n\n--- Original ---\n")
		b.WriteString(t)
	}
	b.WriteString("\n\n")
	if kind == "note" {
		b.WriteString("Written in Slack by user " + author + "; saved by Holdfast.")
	} else {
		b.WriteString("Source: " + author + "; summarised by Holdfast.")
	}
	return crm.Activity{Subject: clip(label+": "+accountName, crm.MaxSubject), Body: clip(b.String(), crm.MaxBody),
		Date: at.UTC().Format(time.DateOnly)}
}

// CRMCase is the Case a note asked for.
func CRMCase(accountName, author, summary, text string) crm.Activity {
	a := CRMActivity("note", accountName, author, summary, text, time.Time{})
	a.Subject = clip(firstLine(summary), crm.MaxSubject)
	a.Date = ""
	return a
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\n"); i >= 0 {
		s = s[:i]
	}
	return s
}

// clip cuts s to n runes, ending with "…" (anywhere, unlike cut: CRM
// fields have hard limits).
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
