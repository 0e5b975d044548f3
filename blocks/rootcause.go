package blocks

import (
	"math"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/churn"
)

const (
	maxCohortValues = 6
	maxReportLooks  = 10
)

// Percent renders a 0..1 share as a whole percent ("33%"), or one decimal
// below 10% so small rates do not all read "0%" ("2.5%").
func Percent(share float64) string {
	p := share * 100
	if p > 0 && p < 10 {
		r := math.Round(p*10) / 10
		if r != math.Trunc(r) {
			return strconv.FormatFloat(r, 'f', 1, 64) + "%"
		}
	}
	return strconv.FormatFloat(math.Round(p), 'f', 0, 64) + "%"
}

// RootCauseReport renders the root-cause report (the /rootcause answer and
// the monthly debrief post).
func RootCauseReport(r churn.Report) Message {
	title := "Root-cause report: " + r.Period.Label()
	blocks := []slack.Block{Header("rc_header", title)}
	if r.Accounts == 0 {
		blocks = append(blocks, Section("rc_summary", "No churn recorded in "+r.Period.Label()+"."))
	} else {
		summary := "*" + Plural(r.Accounts, "account", "accounts") + " churned · " + Money(r.ARR) + " ARR*\n" +
			"Sales-attributable: " + Plural(r.SalesAccounts, "account", "accounts") + ", " + Money(r.SalesARR)
		if r.ARR > 0 {
			summary += " (" + Percent(r.SalesARR/r.ARR) + " of churned ARR)"
		}
		blocks = append(blocks, Section("rc_summary", summary))
		var lines []string
		for _, l := range r.ByCause {
			tag := ""
			if l.SalesAttributable {
				tag = " _(sales)_"
			}
			lines = append(lines, "*"+Escape(l.Label)+"*"+tag+": "+Plural(l.Accounts, "account", "accounts")+" · "+Money(l.ARR)+" · "+Percent(l.ARRShare))
		}
		blocks = append(blocks, Section("rc_by_cause", BulletList("*Churn by root cause* (accounts · ARR · share of ARR)", lines, MaxSectionText)))
	}

	qLabels := make([]string, len(r.Quarters))
	for i, q := range r.Quarters {
		qLabels[i] = q.Label()
	}
	if len(r.Repeating) > 0 {
		var lines []string
		for _, rp := range r.Repeating {
			counts := make([]string, len(rp.Counts))
			for i, c := range rp.Counts {
				counts[i] = Itoa(c)
			}
			lines = append(lines, "*"+Escape(rp.Label)+"*: "+strings.Join(counts, " → ")+" ("+Plural(rp.Streak, "quarter", "quarters")+" running)")
		}
		blocks = append(blocks, Section("rc_repeating", BulletList("*Causes repeating quarter over quarter* ("+strings.Join(qLabels, " → ")+", latest to date)", lines, MaxSectionText)))
	} else if len(qLabels) > 0 {
		blocks = append(blocks, Section("rc_repeating", "*Causes repeating quarter over quarter*\nNo cause repeated from "+qLabels[len(qLabels)-2]+" to "+qLabels[len(qLabels)-1]+"."))
	}

	var cohortLines []string
	for _, d := range r.Cohorts {
		var vals []string
		for i, c := range d.Rates {
			if i == maxCohortValues {
				vals = append(vals, "…")
				break
			}
			name := c.Value
			if name == "" {
				name = "not recorded"
			}
			vals = append(vals, UserText(name, 40)+" "+Percent(c.Rate)+" ("+Itoa(c.Churned)+"/"+Itoa(c.Accounts)+")")
		}
		if len(vals) == 0 {
			continue
		}
		cohortLines = append(cohortLines, "*"+d.Name+"*: "+strings.Join(vals, " · "))
	}
	if len(cohortLines) > 0 {
		blocks = append(blocks, Section("rc_cohorts", BulletList("*Churn rate by cohort* (churned / customers at the start of "+r.Period.Label()+")", cohortLines, MaxSectionText)))
	}

	var looks []string
	for i, l := range r.Lookalikes {
		if i == maxReportLooks {
			break
		}
		looks = append(looks, lookalikeLine(LookalikeRow{Name: l.Name, ARR: l.ARR, HealthScore: l.HealthScore, OwnerCSM: l.OwnerCSM,
			Traits: l.Traits, Like: l.Like.AccountName, LikeCause: l.Like.Cause}, true))
	}
	if len(looks) > 0 {
		blocks = append(blocks, Section("rc_lookalikes", BulletList("*Current accounts matching recent sales-attributable churn*", looks, MaxSectionText)))
	} else {
		blocks = append(blocks, Section("rc_lookalikes", "*Current accounts matching recent sales-attributable churn*\nNone."))
	}

	w := r.Winback
	wb := "*Win-back* (" + r.Period.Label() + "): " + Plural(w.Started, "attempt", "attempts") + " started"
	if w.Started > 0 {
		wb += " · " + Itoa(w.ReEngaged) + " re-engaged · " + Itoa(w.NoResponse) + " no response · " + Itoa(w.Declined) +
			" declined · " + Itoa(w.Open) + " open"
		if answered := w.ReEngaged + w.NoResponse + w.Declined; answered > 0 {
			wb += "\nWin-back rate: *" + Percent(w.Rate) + "* (" + Itoa(w.ReEngaged) + " of " + Itoa(answered) + " answered)"
		}
	}
	blocks = append(blocks, Section("rc_winback", wb))

	if len(r.ProcessChanges) > 0 {
		var lines []string
		for _, p := range r.ProcessChanges {
			lines = append(lines, UserText(p.Change, 300)+" · owner "+UserRef(p.Owner, "unassigned")+" · check-in "+
				Date(p.CheckinDue)+" _(after "+UserText(p.AccountName, MaxNameLen)+", "+Escape(p.Cause.Label())+")_")
		}
		blocks = append(blocks, Section("rc_changes", BulletList("*Process changes agreed*", lines, MaxSectionText)))
	}
	text := title + ": " + Plural(r.Accounts, "account", "accounts") + " churned, " + Money(r.ARR) + " ARR"
	return Finish(text, blocks, MaxMessageBlocks)
}

// TagAuditView is the root-cause tag audit.
type TagAuditView struct {
	Period churn.Period
	Rows   []churn.CSMTags
	Team   []churn.TagCount
	Share  float64 // the catch-all threshold, for the explanation
}

const maxAuditRows = 30

// TagAudit renders each CSM's root-cause tag distribution, catch-all
// users first.
func TagAudit(v TagAuditView) Message {
	title := "Root-cause tag audit: " + v.Period.Label()
	blocks := []slack.Block{Header("audit_header", title)}
	if len(v.Rows) == 0 {
		blocks = append(blocks, Section("audit_empty", "No churn recorded in "+v.Period.Label()+"."))
		return Finish(title+": no churn recorded", blocks, MaxMessageBlocks)
	}
	blocks = append(blocks, Section("audit_team", "*Team*: "+tagLine(v.Team)),
		ContextBlock("audit_rule", "⚠️ marks a CSM whose most used cause covers more than "+Percent(v.Share)+" of their records: check it is not a catch-all."))
	flagged := 0
	for i, r := range v.Rows {
		if i == maxAuditRows {
			blocks = append(blocks, ContextBlock("audit_more", "…and "+Itoa(len(v.Rows)-i)+" more"))
			break
		}
		line := UserRef(r.CSM, "unknown") + " · " + Plural(r.Total, "record", "records")
		if r.CatchAll {
			flagged++
			line = "⚠️ " + line + " · leans on *" + Escape(r.Counts[0].Label) + "* (" + Percent(r.Counts[0].Share) + ")"
		}
		blocks = append(blocks, Section("audit_row_"+Itoa(i), line+"\n"+tagLine(r.Counts)))
	}
	text := title + ": " + Plural(len(v.Rows), "CSM", "CSMs")
	if flagged > 0 {
		text += ", " + Itoa(flagged) + " flagged"
	}
	return Finish(text, blocks, MaxMessageBlocks)
}

func tagLine(counts []churn.TagCount) string {
	parts := make([]string, len(counts))
	for i, c := range counts {
		parts[i] = Escape(c.Label) + " " + Itoa(c.Count) + " (" + Percent(c.Share) + ")"
	}
	return strings.Join(parts, " · ")
}
