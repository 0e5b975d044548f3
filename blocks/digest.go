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
	blocks := []slack.Block{header("digest_header", title), contextBlock("digest_span", span)}
	var text []string

	if d.Risk {
		head := "*ARR at risk: " + Money(d.AtRiskARR) + "* across " + plural(d.AtRiskCount, "account", "accounts")
		if d.EnteredCount > 0 {
			head += " · " + plural(d.EnteredCount, "account", "accounts") + " (" + Money(d.EnteredARR) + ") entered at risk"
		}
		text = append(text, "ARR at risk "+Money(d.AtRiskARR))
		blocks = append(blocks, section("digest_risk", head))
		if len(d.EnteredAtRisk) > 0 {
			lines := make([]string, 0, len(d.EnteredAtRisk))
			for _, m := range d.EnteredAtRisk {
				lines = append(lines, moveLine(m, false))
			}
			title := "*Entered at risk*"
			if more := d.EnteredCount - len(d.EnteredAtRisk); more > 0 {
				lines = append(lines, "…and "+itoa(more)+" more")
			}
			blocks = append(blocks, section("digest_entered", bulletList(title, lines, maxSectionText)))
		}
		if len(d.Drops) > 0 {
			lines := make([]string, 0, len(d.Drops))
			for _, m := range d.Drops {
				lines = append(lines, moveLine(m, true))
			}
			blocks = append(blocks, section("digest_drops", bulletList("*Biggest score drops*", lines, maxSectionText)))
		}
	}

	if d.Comp && len(d.Competitors) > 0 {
		lines := make([]string, 0, len(d.Competitors))
		total := 0
		for _, c := range d.Competitors {
			total += c.Mentions
			lines = append(lines, competitorLine(c, d.Frequency))
		}
		text = append(text, plural(total, "competitor mention", "competitor mentions"))
		blocks = append(blocks, section("digest_competitors", bulletList("*Competitor mentions*", lines, maxSectionText)))
	}

	if d.Sent && len(d.Movers) > 0 {
		lines := make([]string, 0, len(d.Movers))
		for _, m := range d.Movers {
			lines = append(lines, truncateMrkdwn("*"+userText(accountName(m.Name, m.AccountID), maxNameLen)+"* "+
				signedFloat(m.From)+" → "+signedFloat(m.To)+" ("+plural(m.Texts, "text", "texts")+") · "+Money(m.ARR)+" ARR", maxDigestLine))
		}
		text = append(text, plural(len(d.Movers), "sentiment drop", "sentiment drops"))
		blocks = append(blocks, section("digest_sentiment", bulletList("*Sentiment movers*", lines, maxSectionText)))
	}

	if d.Quiet() {
		blocks = append(blocks, section("digest_quiet", "Nothing new in this period. 🌤"))
	}
	var scope []string
	if f.MinARR > 0 {
		scope = append(scope, "accounts from "+Money(f.MinARR)+" ARR")
	}
	if t := strings.TrimSpace(f.Tier); t != "" {
		scope = append(scope, "tier "+userText(t, maxIDLen))
	}
	footer := "Change or stop it with `/digest`."
	if len(scope) > 0 {
		footer = "Covers " + strings.Join(scope, ", ") + ". " + footer
	}
	blocks = append(blocks, contextBlock("digest_footer", footer))
	summary := period + " digest"
	if len(text) > 0 {
		summary += ": " + strings.Join(text, ", ")
	}
	return finish(summary, blocks, maxMessageBlocks)
}

// moveLine: "🔴 *Globex* 55 → 35 · $300k · <@U1>\n↳ usage -45% over 14 days: -18 points".
func moveLine(m digest.Move, withDrop bool) string {
	line := bandEmoji(m.ToBand) + " *" + userText(accountName(m.Name, m.AccountID), maxNameLen) + "* "
	if m.From != nil {
		line += itoa(*m.From) + " → " + itoa(m.To)
		if withDrop {
			line += " (▼" + itoa(m.Drop()) + ")"
		}
	} else {
		line += "first scored " + itoa(m.To)
	}
	line += " · " + Money(m.ARR) + " · " + userRef(m.Owner, "no owner")
	if len(m.Drivers) > 0 {
		line += "\n↳ " + userText(DriverText(m.Drivers[0]), maxDetailLen)
	}
	return truncateMrkdwn(line, maxDigestLine)
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
		trend = "▲" + itoa(t) + " vs " + before
	case t < 0:
		trend = "▼" + itoa(-t) + " vs " + before
	}
	line := "*" + userText(c.Competitor, maxCompetitor) + "* " + plural(c.Mentions, "mention", "mentions") + " at " +
		plural(c.Accounts, "account", "accounts") + ", " + trend
	if c.Intent > 0 {
		line += " · ⚠️ " + itoa(c.Intent) + " with churn intent"
	}
	for _, e := range c.Examples {
		line += "\n   _" + userText(accountName(e.AccountName, e.AccountID), maxNameLen) + " (" + userText(strings.ReplaceAll(e.Kind, "_", " "), 30) +
			")_: “" + userText(e.Snippet, 160) + "”"
	}
	return truncateMrkdwn(line, maxDigestLine+400)
}
