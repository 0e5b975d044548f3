package blocks

import (
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/digest"
)

// DigestFilters describe who a digest covers, for its footer.
type DigestFilters struct {
	MinARR  float64
	Tier    string
	Preview bool // shown to one person now, not the scheduled post
}

const maxDigestLine = 400

// Digest builds a channel digest: headline numbers, then a section per
// topic that has something to say.
func Digest(d digest.Digest, f DigestFilters) Message {
	loc := d.Location
	if loc == nil {
		loc = time.UTC
	}
	period := "Daily"
	if d.Frequency == digest.Weekly {
		period = "Weekly"
	}
	span := d.Start.In(loc).Format("Jan 2 15:04") + " – " + d.End.In(loc).Format("Jan 2 15:04 MST")
	title := "📊 " + period + " account digest"
	if f.Preview {
		title += " (preview)"
	}
	blocks := []slack.Block{Header("digest_header", title), ContextBlock("digest_span", span)}
	var text []string

	if d.Risk {
		head := "*ARR at risk: " + Money(d.AtRiskARR) + "* across " + Plural(d.AtRiskCount, "account", "accounts")
		if d.EnteredCount > 0 {
			head += " · " + Plural(d.EnteredCount, "account", "accounts") + " (" + Money(d.EnteredARR) + ") entered at risk"
		}
		text = append(text, "ARR at risk "+Money(d.AtRiskARR))
		blocks = append(blocks, Section("digest_risk", head))
		if len(d.EnteredAtRisk) > 0 {
			lines := make([]string, 0, len(d.EnteredAtRisk))
			for _, m := range d.EnteredAtRisk {
				lines = append(lines, moveLine(m, false))
			}
			title := "*Entered at risk*"
			if more := d.EnteredCount - len(d.EnteredAtRisk); more > 0 {
				lines = append(lines, "…and "+Itoa(more)+" more")
			}
			blocks = append(blocks, Section("digest_entered", BulletList(title, lines, MaxSectionText)))
		}
		if len(d.Drops) > 0 {
			lines := make([]string, 0, len(d.Drops))
			for _, m := range d.Drops {
				lines = append(lines, moveLine(m, true))
			}
			blocks = append(blocks, Section("digest_drops", BulletList("*Biggest score drops*", lines, MaxSectionText)))
		}
	}

	if d.Comp && len(d.Competitors) > 0 {
		lines := make([]string, 0, len(d.Competitors))
		total := 0
		for _, c := range d.Competitors {
			total += c.Mentions
			lines = append(lines, competitorLine(c, d.Frequency))
		}
		text = append(text, Plural(total, "competitor mention", "competitor mentions"))
		blocks = append(blocks, Section("digest_competitors", BulletList("*Competitor mentions*", lines, MaxSectionText)))
	}

	if d.Sent && len(d.Movers) > 0 {
		lines := make([]string, 0, len(d.Movers))
		for _, m := range d.Movers {
			lines = append(lines, TruncateMrkdwn("*"+UserText(AccountLabel(m.Name, m.AccountID), MaxNameLen)+"* "+
				SignedFloat(m.From)+" → "+SignedFloat(m.To)+" ("+Plural(m.Texts, "text", "texts")+") · "+Money(m.ARR)+" ARR", maxDigestLine))
		}
		text = append(text, Plural(len(d.Movers), "sentiment drop", "sentiment drops"))
		blocks = append(blocks, Section("digest_sentiment", BulletList("*Sentiment movers*", lines, MaxSectionText)))
	}

	if d.Quiet() {
		blocks = append(blocks, Section("digest_quiet", "Nothing new in this period. 🌤"))
	}
	var scope []string
	if f.MinARR > 0 {
		scope = append(scope, "accounts from "+Money(f.MinARR)+" ARR")
	}
	if t := strings.TrimSpace(f.Tier); t != "" {
		scope = append(scope, "tier "+UserText(t, MaxIDLen))
	}
	footer := "Change or stop it with `/digest`."
	if len(scope) > 0 {
		footer = "Covers " + strings.Join(scope, ", ") + ". " + footer
	}
	blocks = append(blocks, ContextBlock("digest_footer", footer))
	summary := period + " digest"
	if len(text) > 0 {
		summary += ": " + strings.Join(text, ", ")
	}
	return Finish(summary, blocks, MaxMessageBlocks)
}

// moveLine: "🔴 *Globex* 55 → 35 · $300k · <@U1>\n↳ usage -45% over 14 days: -18 points".
func moveLine(m digest.Move, withDrop bool) string {
	line := BandEmoji(m.ToBand) + " *" + UserText(AccountLabel(m.Name, m.AccountID), MaxNameLen) + "* "
	if m.From != nil {
		line += Itoa(*m.From) + " → " + Itoa(m.To)
		if withDrop {
			line += " (▼" + Itoa(m.Drop()) + ")"
		}
	} else {
		line += "first scored " + Itoa(m.To)
	}
	line += " · " + Money(m.ARR) + " · " + UserRef(m.Owner, "no owner")
	if len(m.Drivers) > 0 {
		line += "\n↳ " + UserText(DriverText(m.Drivers[0]), MaxDetailLen)
	}
	return TruncateMrkdwn(line, maxDigestLine)
}

// competitorLine: "*Gainsight* 4 mentions at 3 accounts, ▲3 vs the day
// before · 1 with churn intent" and up to two quotes.
func competitorLine(c digest.CompetitorLine, frequency string) string {
	before := "the day before"
	if frequency == digest.Weekly {
		before = "the week before"
	}
	trend := "same as " + before
	switch t := c.Trend(); {
	case c.Before == 0:
		trend = "new"
	case t > 0:
		trend = "▲" + Itoa(t) + " vs " + before
	case t < 0:
		trend = "▼" + Itoa(-t) + " vs " + before
	}
	line := "*" + UserText(c.Competitor, maxCompetitor) + "* " + Plural(c.Mentions, "mention", "mentions") + " at " +
		Plural(c.Accounts, "account", "accounts") + ", " + trend
	if c.Intent > 0 {
		line += " · ⚠️ " + Itoa(c.Intent) + " with churn intent"
	}
	for _, e := range c.Examples {
		line += "\n   _" + UserText(AccountLabel(e.AccountName, e.AccountID), MaxNameLen) + " (" + UserText(strings.ReplaceAll(e.Kind, "_", " "), 30) +
			")_: “" + UserText(e.Snippet, 160) + "”"
	}
	return TruncateMrkdwn(line, maxDigestLine+400)
}
