package churn

// The Block Kit of root-cause reports: the report and the tag audit.

import (
	"math"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
)

const (
	maxCohortValues = 6
	maxReportLooks  = 10
)

// percent renders a 0..1 share as a whole percent ("33%"), or one decimal
// below 10% so small rates do not all read "0%" ("2.5%").
func percent(share float64) string {
	p := share * 100
	if p > 0 && p < 10 {
		r := math.Round(p*10) / 10
		if r != math.Trunc(r) {
			return strconv.FormatFloat(r, 'f', 1, 64) + "%"
		}
	}
	return strconv.FormatFloat(math.Round(p), 'f', 0, 64) + "%"
}

// reportCard renders the root-cause report (the /rootcause answer and
// the monthly debrief post).
func reportCard(r Report) blocks.Message {
	title := "Root-cause report: " + r.Period.Label()
	bs := []slack.Block{blocks.Header("rc_header", title)}
	if r.Accounts == 0 {
		bs = append(bs, blocks.Section("rc_summary", "No churn recorded in "+r.Period.Label()+"."))
	} else {
		summary := "*" + blocks.Plural(r.Accounts, "account", "accounts") + " churned · " + blocks.Money(r.ARR) + " ARR*\n" +
			"Sales-attributable: " + blocks.Plural(r.SalesAccounts, "account", "accounts") + ", " + blocks.Money(r.SalesARR)
		if r.ARR > 0 {
			summary += " (" + percent(r.SalesARR/r.ARR) + " of churned ARR)"
		}
		bs = append(bs, blocks.Section("rc_summary", summary))
		var lines []string
		for _, l := range r.ByCause {
			tag := ""
			if l.SalesAttributable {
				tag = " _(sales)_"
			}
			lines = append(lines, "*"+blocks.Escape(l.Label)+"*"+tag+": "+blocks.Plural(l.Accounts, "account", "accounts")+" · "+blocks.Money(l.ARR)+" · "+percent(l.ARRShare))
		}
		bs = append(bs, blocks.Section("rc_by_cause", blocks.BulletList("*Churn by root cause* (accounts · ARR · share of ARR)", lines, blocks.MaxSectionText)))
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
				counts[i] = blocks.Itoa(c)
			}
			lines = append(lines, "*"+blocks.Escape(rp.Label)+"*: "+strings.Join(counts, " → ")+" ("+blocks.Plural(rp.Streak, "quarter", "quarters")+" running)")
		}
		bs = append(bs, blocks.Section("rc_repeating", blocks.BulletList("*Causes repeating quarter over quarter* ("+strings.Join(qLabels, " → ")+", latest to date)", lines, blocks.MaxSectionText)))
	} else if len(qLabels) > 0 {
		bs = append(bs, blocks.Section("rc_repeating", "*Causes repeating quarter over quarter*\nNo cause repeated from "+qLabels[len(qLabels)-2]+" to "+qLabels[len(qLabels)-1]+"."))
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
			vals = append(vals, blocks.UserText(name, 40)+" "+percent(c.Rate)+" ("+blocks.Itoa(c.Churned)+"/"+blocks.Itoa(c.Accounts)+")")
		}
		if len(vals) == 0 {
			continue
		}
		cohortLines = append(cohortLines, "*"+d.Name+"*: "+strings.Join(vals, " · "))
	}
	if len(cohortLines) > 0 {
		bs = append(bs, blocks.Section("rc_cohorts", blocks.BulletList("*Churn rate by cohort* (churned / customers at the start of "+r.Period.Label()+")", cohortLines, blocks.MaxSectionText)))
	}

	var looks []string
	for i, l := range r.Lookalikes {
		if i == maxReportLooks {
			break
		}
		looks = append(looks, lookalikeLine(lookalikeRow{Name: l.Name, ARR: l.ARR, HealthScore: l.HealthScore, OwnerCSM: l.OwnerCSM,
			Traits: l.Traits, Like: l.Like.AccountName, LikeCause: l.Like.Cause}, true))
	}
	if len(looks) > 0 {
		bs = append(bs, blocks.Section("rc_lookalikes", blocks.BulletList("*Current accounts matching recent sales-attributable churn*", looks, blocks.MaxSectionText)))
	} else {
		bs = append(bs, blocks.Section("rc_lookalikes", "*Current accounts matching recent sales-attributable churn*\nNone."))
	}

	w := r.Winback
	wb := "*Win-back* (" + r.Period.Label() + "): " + blocks.Plural(w.Started, "attempt", "attempts") + " started"
	if w.Started > 0 {
		wb += " · " + blocks.Itoa(w.ReEngaged) + " re-engaged · " + blocks.Itoa(w.NoResponse) + " no response · " + blocks.Itoa(w.Declined) +
			" declined · " + blocks.Itoa(w.Open) + " open"
		if answered := w.ReEngaged + w.NoResponse + w.Declined; answered > 0 {
			wb += "\nWin-back rate: *" + percent(w.Rate) + "* (" + blocks.Itoa(w.ReEngaged) + " of " + blocks.Itoa(answered) + " answered)"
		}
	}
	bs = append(bs, blocks.Section("rc_winback", wb))

	if len(r.ProcessChanges) > 0 {
		var lines []string
		for _, p := range r.ProcessChanges {
			lines = append(lines, blocks.UserText(p.Change, 300)+" · owner "+blocks.UserRef(p.Owner, "unassigned")+" · check-in "+
				blocks.Date(p.CheckinDue)+" _(after "+blocks.UserText(p.AccountName, blocks.MaxNameLen)+", "+blocks.Escape(p.Cause.Label())+")_")
		}
		bs = append(bs, blocks.Section("rc_changes", blocks.BulletList("*Process changes agreed*", lines, blocks.MaxSectionText)))
	}
	text := title + ": " + blocks.Plural(r.Accounts, "account", "accounts") + " churned, " + blocks.Money(r.ARR) + " ARR"
	return blocks.Finish(text, bs, blocks.MaxMessageBlocks)
}

// auditView is the root-cause tag audit.
type auditView struct {
	Period Period
	Rows   []CSMTags
	Team   []TagCount
	Share  float64 // the catch-all threshold, for the explanation
}

const maxAuditRows = 30

// auditCard renders each CSM's root-cause tag distribution, catch-all
// users first.
func auditCard(v auditView) blocks.Message {
	title := "Root-cause tag audit: " + v.Period.Label()
	bs := []slack.Block{blocks.Header("audit_header", title)}
	if len(v.Rows) == 0 {
		bs = append(bs, blocks.Section("audit_empty", "No churn recorded in "+v.Period.Label()+"."))
		return blocks.Finish(title+": no churn recorded", bs, blocks.MaxMessageBlocks)
	}
	bs = append(bs, blocks.Section("audit_team", "*Team*: "+tagLine(v.Team)),
		blocks.ContextBlock("audit_rule", "⚠️ marks a CSM whose most used cause covers more than "+percent(v.Share)+" of their records: check it is not a catch-all."))
	flagged := 0
	for i, r := range v.Rows {
		if i == maxAuditRows {
			bs = append(bs, blocks.ContextBlock("audit_more", "…and "+blocks.Itoa(len(v.Rows)-i)+" more"))
			break
		}
		line := blocks.UserRef(r.CSM, "unknown") + " · " + blocks.Plural(r.Total, "record", "records")
		if r.CatchAll {
			flagged++
			line = "⚠️ " + line + " · leans on *" + blocks.Escape(r.Counts[0].Label) + "* (" + percent(r.Counts[0].Share) + ")"
		}
		bs = append(bs, blocks.Section("audit_row_"+blocks.Itoa(i), line+"\n"+tagLine(r.Counts)))
	}
	text := title + ": " + blocks.Plural(len(v.Rows), "CSM", "CSMs")
	if flagged > 0 {
		text += ", " + blocks.Itoa(flagged) + " flagged"
	}
	return blocks.Finish(text, bs, blocks.MaxMessageBlocks)
}

func tagLine(counts []TagCount) string {
	parts := make([]string, len(counts))
	for i, c := range counts {
		parts[i] = blocks.Escape(c.Label) + " " + blocks.Itoa(c.Count) + " (" + percent(c.Share) + ")"
	}
	return strings.Join(parts, " · ")
}
