package blocks

import (
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/scoring"
)

const maxNoteLen = 1200

// DunningView is everything a payment-failure alert shows; it is stored
// with the case so the alert can be re-rendered when the case changes.
type DunningView struct {
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

// DunningAlert builds the payment-failure alert: the decline, its path,
// the ready customer note, and health, tier and ARR so a large account
// is never handled like a small one.
func DunningAlert(v DunningView) Message {
	name := Truncate(OneLine(AccountLabel(v.AccountName, v.AccountID)), MaxNameLen)
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
		health = Itoa(*v.HealthScore) + "/100 · " + BandLabel(v.Band)
	}
	tier := v.Tier
	if tier == "" {
		tier = "—"
	}
	facts := [][2]string{
		{"Amount", UserText(v.Amount, 40)},
		{"Decline", UserText(code, 60) + " · " + Escape(v.ClassLabel)},
		{"ARR", Money(v.ARR)},
		{"Tier", UserText(tier, MaxIDLen)},
		{"Health", health},
		{"Owner", UserRef(v.OwnerCSM, "No owner")},
	}
	if v.Attempts > 1 {
		facts = append(facts, [2]string{"Failed attempts", Itoa(v.Attempts)})
	}
	if v.Invoice != "" {
		facts = append(facts, [2]string{"Invoice", UserText(v.Invoice, MaxIDLen)})
	}
	blocks := []slack.Block{Header("dunning_header", head), FieldsSection("dunning_facts", facts...)}
	if v.RecoveredAt != nil {
		blocks = append(blocks, Section("dunning_recovered", "Paid on "+Date(*v.RecoveredAt)+" after "+Plural(v.Attempts, "failed attempt", "failed attempts")+". Case closed."))
	} else {
		steps := make([]string, len(v.Steps))
		for i, s := range v.Steps {
			steps[i] = Escape(s)
		}
		blocks = append(blocks, Section("dunning_path", BulletList("*Path: "+Escape(v.Path)+"*", steps, MaxSectionText)))
		if len(v.Retries) > 0 {
			dates := make([]string, len(v.Retries))
			for i, r := range v.Retries {
				dates[i] = Date(r)
			}
			blocks = append(blocks, ContextBlock("dunning_retries", "Retry schedule: "+strings.Join(dates, " · ")))
		}
		if strings.TrimSpace(v.CustomerNote) != "" {
			note := strings.ReplaceAll(Escape(Truncate(v.CustomerNote, maxNoteLen)), "```", "ʼʼʼ")
			blocks = append(blocks, Section("dunning_note", "*Ready customer note* (copy and send)\n```"+note+"```"))
		}
		who := []string{UserRef(v.OwnerCSM, "No owner: assign one")}
		for _, u := range v.EscalateTo {
			who = append(who, UserRef(u, ""))
		}
		prefix := "For "
		if v.HighValue {
			prefix = "Escalated to "
		}
		blocks = append(blocks, ContextBlock("dunning_who", prefix+strings.Join(who, " ")))
	}
	// head is plain_text in the header; the fallback text is mrkdwn.
	safeHead := prefix + Escape(name)
	text := safeHead + " (" + UserText(v.Amount, 40) + ", " + UserText(code, 60) + ": " + Escape(v.Path) + ")"
	if v.RecoveredAt != nil {
		text = safeHead + " (" + UserText(v.Amount, 40) + ")"
	}
	return Finish(text, blocks, MaxMessageBlocks)
}

// The Dunning…Text functions are the follow-ups in a case's thread (sent
// as a Note): a new failed attempt, a decline reason learned later, the
// recovery.

// DunningAttemptText: "Attempt 2 failed: insufficient_funds (Soft decline). Path: …".
func DunningAttemptText(attempt int, code, classLabel, path string) string {
	if code == "" {
		code = "no decline code"
	}
	return "❌ Attempt " + Itoa(attempt) + " failed: " + UserText(code, 60) + " (" + Escape(classLabel) + "). Path: *" + Escape(path) + "*."
}

// DunningReclassifiedText: the decline reason arrived after the alert.
func DunningReclassifiedText(code, classLabel, path string) string {
	return "ℹ️ Decline reason received: " + UserText(code, 60) + " (" + Escape(classLabel) + "). Path: *" + Escape(path) + "*; the alert above is updated."
}

// DunningRecoveredText closes the loop in the thread.
func DunningRecoveredText(amount string, attempts int, opened, paid time.Time) string {
	days := int(paid.Sub(opened).Hours() / 24)
	return "✅ Invoice paid: " + UserText(amount, 40) + " recovered after " + Plural(attempts, "failed attempt", "failed attempts") +
		" (" + Plural(days, "day", "days") + " after the first failure). Case closed."
}
