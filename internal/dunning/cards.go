package dunning

// The Block Kit of a dunning case: the alert and the notes in its thread.

import (
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/scoring"
)

const maxNoteLen = 1200

// caseView is everything a payment-failure alert shows; it is stored
// with the case so the alert can be re-rendered when the case changes.
type caseView struct {
	CaseID       int64        `json:"case_id"`
	AccountID    int64        `json:"account_id"`
	AccountName  string       `json:"account_name"`
	ExternalID   string       `json:"external_id"`
	Tier         string       `json:"tier"`
	ARR          float64      `json:"arr"`
	HealthScore  *int         `json:"health_score,omitempty"`
	Band         scoring.Band `json:"band"`
	OwnerCSM     string       `json:"owner_csm"`
	EscalateTo   []string     `json:"escalate_to,omitempty"`
	HighValue    bool         `json:"high_value"`
	Amount       string       `json:"amount"` // formatted
	Invoice      string       `json:"invoice"`
	Code         string       `json:"code"`
	ClassLabel   string       `json:"class_label"`
	Path         string       `json:"path"`
	Steps        []string     `json:"steps"`
	CustomerNote string       `json:"customer_note"`
	Retries      []time.Time  `json:"retries,omitempty"`
	Attempts     int          `json:"attempts"`
	FailedAt     time.Time    `json:"failed_at"`
	RecoveredAt  *time.Time   `json:"recovered_at,omitempty"`
}

// alertCard builds the payment-failure alert: the decline, its path,
// the ready customer note, and health, tier and ARR so a large account
// is never handled like a small one.
func alertCard(v caseView) blocks.Message {
	name := blocks.Truncate(blocks.OneLine(blocks.AccountLabel(v.AccountName, v.AccountID)), blocks.MaxNameLen)
	prefix := "💳 Payment failed: "
	if v.HighValue {
		prefix = "🚨 High-value payment failed: "
	}
	if v.RecoveredAt != nil {
		prefix = "✅ Payment recovered: "
	}
	head := prefix + name
	code := v.Code
	if code == "" {
		code = "no decline code"
	}
	health := "Not scored"
	if v.HealthScore != nil {
		health = blocks.Itoa(*v.HealthScore) + "/100 · " + blocks.BandLabel(v.Band)
	}
	tier := v.Tier
	if tier == "" {
		tier = "—"
	}
	facts := [][2]string{
		{"Amount", blocks.UserText(v.Amount, 40)},
		{"Decline", blocks.UserText(code, 60) + " · " + blocks.Escape(v.ClassLabel)},
		{"ARR", blocks.Money(v.ARR)},
		{"Tier", blocks.UserText(tier, blocks.MaxIDLen)},
		{"Health", health},
		{"Owner", blocks.UserRef(v.OwnerCSM, "No owner")},
	}
	if v.Attempts > 1 {
		facts = append(facts, [2]string{"Failed attempts", blocks.Itoa(v.Attempts)})
	}
	if v.Invoice != "" {
		facts = append(facts, [2]string{"Invoice", blocks.UserText(v.Invoice, blocks.MaxIDLen)})
	}
	bs := []slack.Block{blocks.Header("dunning_header", head), blocks.FieldsSection("dunning_facts", facts...)}
	if v.RecoveredAt != nil {
		bs = append(bs, blocks.Section("dunning_recovered", "Paid on "+blocks.Date(*v.RecoveredAt)+" after "+blocks.Plural(v.Attempts, "failed attempt", "failed attempts")+". Case closed."))
	} else {
		steps := make([]string, len(v.Steps))
		for i, s := range v.Steps {
			steps[i] = blocks.Escape(s)
		}
		bs = append(bs, blocks.Section("dunning_path", blocks.BulletList("*Path: "+blocks.Escape(v.Path)+"*", steps, blocks.MaxSectionText)))
		if len(v.Retries) > 0 {
			dates := make([]string, len(v.Retries))
			for i, r := range v.Retries {
				dates[i] = blocks.Date(r)
			}
			bs = append(bs, blocks.ContextBlock("dunning_retries", "Retry schedule: "+strings.Join(dates, " · ")))
		}
		if strings.TrimSpace(v.CustomerNote) != "" {
			note := strings.ReplaceAll(blocks.Escape(blocks.Truncate(v.CustomerNote, maxNoteLen)), "```", "ʼʼʼ")
			bs = append(bs, blocks.Section("dunning_note", "*Ready customer note* (copy and send)\n```"+note+"```"))
		}
		who := []string{blocks.UserRef(v.OwnerCSM, "No owner: assign one")}
		for _, u := range v.EscalateTo {
			who = append(who, blocks.UserRef(u, ""))
		}
		prefix := "For "
		if v.HighValue {
			prefix = "Escalated to "
		}
		bs = append(bs, blocks.ContextBlock("dunning_who", prefix+strings.Join(who, " ")))
	}
	// head is plain_text in the header; the fallback text is mrkdwn.
	safeHead := prefix + blocks.Escape(name)
	text := safeHead + " (" + blocks.UserText(v.Amount, 40) + ", " + blocks.UserText(code, 60) + ": " + blocks.Escape(v.Path) + ")"
	if v.RecoveredAt != nil {
		text = safeHead + " (" + blocks.UserText(v.Amount, 40) + ")"
	}
	return blocks.Finish(text, bs, blocks.MaxMessageBlocks)
}

// The …Text functions are the follow-ups in a case's thread (sent as a
// blocks.Note): a new failed attempt, a decline reason learned later, the
// recovery.

// attemptText: "Attempt 2 failed: insufficient_funds (Soft decline). Path: …".
func attemptText(attempt int, code, classLabel, path string) string {
	if code == "" {
		code = "no decline code"
	}
	return "❌ Attempt " + blocks.Itoa(attempt) + " failed: " + blocks.UserText(code, 60) + " (" + blocks.Escape(classLabel) + "). Path: *" + blocks.Escape(path) + "*."
}

// attemptsText: several attempts failed in one batch: "Attempts 2-5 failed; the latest: ...".
func attemptsText(first, last int, code, classLabel, path string) string {
	if code == "" {
		code = "no decline code"
	}
	return "❌ Attempts " + blocks.Itoa(first) + "–" + blocks.Itoa(last) + " failed; the latest: " + blocks.UserText(code, 60) +
		" (" + blocks.Escape(classLabel) + "). Path: *" + blocks.Escape(path) + "*."
}

// reclassifiedText: the decline reason arrived after the alert.
func reclassifiedText(code, classLabel, path string) string {
	return "ℹ️ Decline reason received: " + blocks.UserText(code, 60) + " (" + blocks.Escape(classLabel) + "). Path: *" + blocks.Escape(path) + "*; the alert above is updated."
}

// recoveredText closes the loop in the thread.
func recoveredText(amount string, attempts int, opened, paid time.Time) string {
	days := int(paid.Sub(opened).Hours() / 24)
	return "✅ Invoice paid: " + blocks.UserText(amount, 40) + " recovered after " + blocks.Plural(attempts, "failed attempt", "failed attempts") +
		" (" + blocks.Plural(days, "day", "days") + " after the first failure). Case closed."
}
