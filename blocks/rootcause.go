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
	blocks := []slack.Block{header("rc_header", title)}
	if r.Accounts == 0 {
		blocks = append(blocks, section("rc_summary", "No churn recorded in "+r.Period.Label()+"."))
	} else {
		summary := "*" + plural(r.Accounts, "account", "accounts") + " churned · " + Money(r.ARR) + " ARR*\n" +
			"Sales-attributable: " + plural(r.SalesAccounts, "account", "accounts") + ", " + Money(r.SalesARR)
		if r.ARR > 0 {
			summary += " (" + Percent(r.SalesARR/r.ARR) + " of churned ARR)"
		}
		blocks = append(blocks, section("rc_summary", summary))
		var lines []string
		for _, l := range r.ByCause {
			tag := ""
			if l.SalesAttributable {
				tag = " _(sales)_"
			}
			lines = append(lines, "*"+Escape(l.Label)+"*"+tag+": "+plural(l.Accounts, "account", "accounts")+" · "+Money(l.ARR)+" · "+Percent(l.ARRShare))
		}
		blocks = append(blocks, section("rc_by_cause", bulletList("*Churn by root cause* (accounts · ARR · share of ARR)", lines, maxSectionText)))
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
				counts[i] = itoa(c)
			}
			lines = append(lines, "*"+Escape(rp.Label)+"*: "+strings.Join(counts, " → ")+" ("+plural(rp.Streak, "quarter", "quarters")+" running)")
		}
		blocks = append(blocks, section("rc_repeating", bulletList("*Causes repeating quarter over quarter* ("+strings.Join(qLabels, " → ")+", latest to date)", lines, maxSectionText)))
	} else if len(qLabels) > 0 {
		blocks = append(blocks, section("rc_repeating", "*Causes repeating quarter over quarter*\nNo cause repeated from "+qLabels[len(qLabels)-2]+" to "+qLabels[len(qLabels)-1]+"."))
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
			vals = append(vals, userText(name, 40)+" "+Percent(c.Rate)+" ("+itoa(c.Churned)+"/"+itoa(c.Accounts)+")")
		}
		if len(vals) == 0 {
			continue
		}
		cohortLines = append(cohortLines, "*"+d.Name+"*: "+strings.Join(vals, " · "))
	}
	if len(cohortLines) > 0 {
		blocks = append(blocks, section("rc_cohorts", bulletList("*Churn rate by cohort* (churned / customers at the start of "+r.Period.Label()+")", cohortLines, maxSectionText)))
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
		blocks = append(blocks, section("rc_lookalikes", bulletList("*Current accounts matching recent sales-attributable churn*", looks, maxSectionText)))
	} else {
		blocks = append(blocks, section("rc_lookalikes", "*Current accounts matching recent sales-attributable churn*\nNone."))
	}

	w := r.Winback
	wb := "*Win-back* (" + r.Period.Label() + "): " + plural(w.Started, "attempt", "attempts") + " started"
	if w.Started > 0 {
		wb += " · " + itoa(w.ReEngaged) + " re-engaged · " + itoa(w.NoResponse) + " no response · " + itoa(w.Declined) +
			" declined · " + itoa(w.Open) + " open"
		if answered := w.ReEngaged + w.NoResponse + w.Declined; answered > 0 {
			wb += "\nWin-back rate: *" + Percent(w.Rate) + "* (" + itoa(w.ReEngaged) + " of " + itoa(answered) + " answered)"
		}
	}
	blocks = append(blocks, section("rc_winback", wb))

	if len(r.ProcessChanges) > 0 {
		var lines []string
		for _, p := range r.ProcessChanges {
			lines = append(lines, userText(p.Change, 300)+" · owner "+userRef(p.Owner, "unassigned")+" · check-in "+
				Date(p.CheckinDue)+" _(after "+userText(p.AccountName, maxNameLen)+", "+Escape(p.Cause.Label())+")_")
		}
		blocks = append(blocks, section("rc_changes", bulletList("*Process changes agreed*", lines, maxSectionText)))
	}
	text := title + ": " + plural(r.Accounts, "account", "accounts") + " churned, " + Money(r.ARR) + " ARR"
	return finish(text, blocks, maxMessageBlocks)
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
	blocks := []slack.Block{header("audit_header", title)}
	if len(v.Rows) == 0 {
		blocks = append(blocks, section("audit_empty", "No churn recorded in "+v.Period.Label()+"."))
		return finish(title+": no churn recorded", blocks, maxMessageBlocks)
	}
	blocks = append(blocks, section("audit_team", "*Team*: "+tagLine(v.Team)),
		contextBlock("audit_rule", "⚠️ marks a CSM whose most used cause covers more than "+Percent(v.Share)+" of their records: check it is not a catch-all."))
	flagged := 0
	for i, r := range v.Rows {
		if i == maxAuditRows {
			blocks = append(blocks, contextBlock("audit_more", "…and "+itoa(len(v.Rows)-i)+" more"))
			break
		}
		line := userRef(r.CSM, "unknown") + " · " + plural(r.Total, "record", "records")
		if r.CatchAll {
			flagged++
			line = "⚠️ " + line + " · leans on *" + Escape(r.Counts[0].Label) + "* (" + Percent(r.Counts[0].Share) + ")"
		}
		blocks = append(blocks, section("audit_row_"+itoa(i), line+"\n"+tagLine(r.Counts)))
	}
	text := title + ": " + plural(len(v.Rows), "CSM", "CSMs")
	if flagged > 0 {
		text += ", " + itoa(flagged) + " flagged"
	}
	return finish(text, blocks, maxMessageBlocks)
}

func tagLine(counts []churn.TagCount) string {
	parts := make([]string, len(counts))
	for i, c := range counts {
		parts[i] = Escape(c.Label) + " " + itoa(c.Count) + " (" + Percent(c.Share) + ")"
	}
	return strings.Join(parts, " · ")
}
