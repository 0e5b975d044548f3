package playbook

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
)

const (
	maxReportGroups = 15   // rows per breakdown
	maxReportList   = 2500 // mrkdwn units per breakdown: two stay far below ~12k per message
	maxReportLine   = 300
)

// reportView is /atrisk report's answer.
type reportView struct {
	Period   reportPeriod
	Location *time.Location
	Book     bool // figures cover the asker's book, not every account
	Figures  reportFigures
}

// reportCounts says which playbooks each figure counts, under every report.
const reportCounts = "Response times and the SLA count playbooks opened in the period (claims and contacts after it count too), " +
	"from when the alert was due in Slack; claimed within SLA means by its deadline, an unclaimed one counts as missed once " +
	"its deadline passes and not before. Outcomes, recovery rate (recovered ÷ recovered + churned), recovery time " +
	"(opened → back above the line), score change (alert → resolution) and ARR count playbooks resolved in the period, " +
	"at their ARR when the alert fired. Still open: open at the period's end. By CSM: who claimed it, else the account's " +
	"owner when the alert fired; segments as they were then."

// reportCard builds the report: response, outcomes, then by CSM and by
// segment, and what each figure counts.
func reportCard(v reportView) blocks.Message {
	loc := v.Location
	if loc == nil {
		loc = time.UTC
	}
	f := v.Figures
	title := "At-risk playbooks: " + v.Period.Label // plain text in the header
	summary := "At-risk playbooks: " + blocks.Escape(v.Period.Label)
	span := v.Period.Start.In(loc).Format("Jan 2, 2006 15:04") + " – " + v.Period.End.In(loc).Format("Jan 2, 2006 15:04 MST")
	scope := "All accounts"
	if v.Book {
		scope = "Accounts in your book"
	}
	bs := []slack.Block{
		blocks.Header("report_header", title),
		blocks.ContextBlock("report_span", span, scope),
	}
	if f.empty() {
		bs = append(bs, blocks.Section("report_empty", "No at-risk playbook was opened, resolved or open in this period."),
			blocks.ContextBlock("report_counts", reportCounts))
		return blocks.Finish(summary+": no playbooks", bs, blocks.MaxMessageBlocks)
	}
	bs = append(bs,
		blocks.FieldsSection("report_response",
			[2]string{"Opened", blocks.Itoa(f.Opened)},
			[2]string{"Claimed within SLA", slaText(f.figures)},
			[2]string{"Time to claim", spread(f.ClaimMedian, f.ClaimP90, "none claimed")},
			[2]string{"Time to first contact", spread(f.ContactMedian, f.ContactP90, "none contacted")},
		),
		blocks.FieldsSection("report_outcomes",
			[2]string{"Outcomes", blocks.Itoa(f.Recovered) + " recovered · " + blocks.Itoa(f.Churned) + " churned · " +
				blocks.Itoa(f.Dismissed) + " dismissed · " + blocks.Itoa(f.StillOpen) + " still open"},
			[2]string{"Recovery rate", recoveryText(f.figures)},
			[2]string{"ARR saved vs lost", blocks.Money(f.ARRSaved) + " saved · " + blocks.Money(f.ARRLost) + " lost"},
			[2]string{"Score change, alert → resolution", scoreChangeText(f.ScoreChange)},
		),
	)
	if len(f.ByCSM) > 0 {
		bs = append(bs, blocks.Section("report_by_csm", blocks.BulletList("*By CSM*", groupLines(f.ByCSM, csmLabel), maxReportList)))
	}
	if len(f.BySegment) > 0 {
		bs = append(bs, blocks.Section("report_by_segment", blocks.BulletList("*By segment*", groupLines(f.BySegment, segmentLabel), maxReportList)))
	}
	bs = append(bs, blocks.ContextBlock("report_counts", reportCounts))
	text := summary + ": " + blocks.Itoa(f.Recovered) + " recovered (" + blocks.Money(f.ARRSaved) + " saved), " +
		blocks.Itoa(f.Churned) + " churned (" + blocks.Money(f.ARRLost) + " lost), " + slaText(f.figures) + " claimed within SLA"
	return blocks.Finish(text, bs, blocks.MaxMessageBlocks)
}

// slaText: "83% (10 of 12)"; "none due yet".
func slaText(f figures) string {
	if f.SLADue == 0 {
		return "none due yet"
	}
	return blocks.Percent(f.SLAMet, f.SLADue) + " (" + blocks.Itoa(f.SLAMet) + " of " + blocks.Itoa(f.SLADue) + ")"
}

// spread: "median 1h 20m · p90 3h 50m".
func spread(median, p90 *time.Duration, none string) string {
	if median == nil {
		return none
	}
	out := "median " + blocks.ShortDuration(*median)
	if p90 != nil {
		out += " · p90 " + blocks.ShortDuration(*p90)
	}
	return out
}

// recoveryText: "75% · median 18d to recover".
func recoveryText(f figures) string {
	r := f.RecoveryRate()
	if r == nil {
		return "none recovered or churned"
	}
	out := strconv.Itoa(int(math.Round(*r*100))) + "%"
	if f.RecoveryMedian != nil {
		out += " · median " + blocks.ShortDuration(*f.RecoveryMedian) + " to recover"
	}
	return out
}

// scoreChangeText: "median +12 points".
func scoreChangeText(c *float64) string {
	if c == nil || math.IsNaN(*c) || math.IsInf(*c, 0) {
		return "none resolved with a score"
	}
	v := math.Round(*c*10) / 10
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if v > 0 {
		s = "+" + s
	}
	return "median " + s + " points"
}

func csmLabel(key string) string { return blocks.UserRef(key, "_no owner_") }

func segmentLabel(key string) string {
	if strings.TrimSpace(key) == "" {
		return "_no segment_"
	}
	return "*" + blocks.UserText(key, blocks.MaxNameLen) + "*"
}

// groupLines ranks groups by what went through them (opened plus
// resolved), then ARR at stake: "<@U1> · 5 opened · SLA 80% · 2 recovered /
// 1 churned · $120k saved · $40k lost · 2 open".
func groupLines(gs []group, label func(string) string) []string {
	gs = slices.Clone(gs)
	weight := func(g group) int { return g.Opened + g.Recovered + g.Churned + g.Dismissed + g.StillOpen }
	slices.SortStableFunc(gs, func(a, b group) int {
		if c := cmp.Compare(weight(b), weight(a)); c != 0 {
			return c
		}
		if c := cmp.Compare(b.ARRSaved+b.ARRLost, a.ARRSaved+a.ARRLost); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	lines := make([]string, 0, min(len(gs), maxReportGroups)+1)
	for i, g := range gs {
		if i == maxReportGroups {
			lines = append(lines, "…and "+blocks.Itoa(len(gs)-i)+" more")
			break
		}
		parts := []string{label(g.Key), blocks.Itoa(g.Opened) + " opened"}
		if g.SLADue > 0 {
			parts = append(parts, "SLA "+blocks.Percent(g.SLAMet, g.SLADue))
		}
		if g.ClaimMedian != nil {
			parts = append(parts, "claim "+blocks.ShortDuration(*g.ClaimMedian))
		}
		parts = append(parts, blocks.Itoa(g.Recovered)+" recovered / "+blocks.Itoa(g.Churned)+" churned",
			blocks.Money(g.ARRSaved)+" saved", blocks.Money(g.ARRLost)+" lost", blocks.Itoa(g.StillOpen)+" open")
		lines = append(lines, blocks.TruncateMrkdwn(strings.Join(parts, " · "), maxReportLine))
	}
	return lines
}
