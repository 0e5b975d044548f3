package digest

import (
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
)

// Filters describe who a digest covers, for its footer.
type Filters struct {
	MinARR  float64
	Tier    string
	Preview bool // shown to one person now, not the scheduled post
}

const (
	maxDigestLine = 400
	maxCompetitor = 60 // as in the competitor alert (internal/textsignals)
)

// Card builds a channel digest: headline numbers, then a section per
// topic that has something to say.
func Card(d Digest, f Filters) blocks.Message {
	loc := d.Location
	if loc == nil {
		loc = time.UTC
	}
	period := "Daily"
	if d.Frequency == Weekly {
		period = "Weekly"
	}
	span := d.Start.In(loc).Format("Jan 2 15:04") + " – " + d.End.In(loc).Format("Jan 2 15:04 MST")
	title := "📊 " + period + " account digest"
	if f.Preview {
		title += " (preview)"
	}
	bs := []slack.Block{blocks.Header("digest_header", title), blocks.ContextBlock("digest_span", span)}
	var text []string

	if d.Risk {
		head := "*ARR at risk: " + blocks.Money(d.AtRiskARR) + "* across " + blocks.Plural(d.AtRiskCount, "account", "accounts")
		if d.EnteredCount > 0 {
			head += " · " + blocks.Plural(d.EnteredCount, "account", "accounts") + " (" + blocks.Money(d.EnteredARR) + ") entered at risk"
		}
		text = append(text, "ARR at risk "+blocks.Money(d.AtRiskARR))
		bs = append(bs, blocks.Section("digest_risk", head))
		if len(d.EnteredAtRisk) > 0 {
			lines := make([]string, 0, len(d.EnteredAtRisk))
			for _, m := range d.EnteredAtRisk {
				lines = append(lines, moveLine(m, false))
			}
			title := "*Entered at risk*"
			if more := d.EnteredCount - len(d.EnteredAtRisk); more > 0 {
				lines = append(lines, "…and "+blocks.Itoa(more)+" more")
			}
			bs = append(bs, blocks.Section("digest_entered", blocks.BulletList(title, lines, blocks.MaxSectionText)))
		}
		if len(d.Drops) > 0 {
			lines := make([]string, 0, len(d.Drops))
			for _, m := range d.Drops {
				lines = append(lines, moveLine(m, true))
			}
			bs = append(bs, blocks.Section("digest_drops", blocks.BulletList("*Biggest score drops*", lines, blocks.MaxSectionText)))
		}
		if d.Saves != nil {
			text = append(text, blocks.Itoa(d.Saves.Recovered)+" saved ("+blocks.Money(d.Saves.ARRSaved)+")")
			bs = append(bs, blocks.Section("digest_saves", savesText(*d.Saves)))
		}
	}

	if d.Comp && len(d.Competitors) > 0 {
		lines := make([]string, 0, len(d.Competitors))
		total := 0
		for _, c := range d.Competitors {
			total += c.Mentions
			lines = append(lines, competitorLine(c, d.Frequency))
		}
		text = append(text, blocks.Plural(total, "competitor mention", "competitor mentions"))
		bs = append(bs, blocks.Section("digest_competitors", blocks.BulletList("*Competitor mentions*", lines, blocks.MaxSectionText)))
	}

	if d.Sent && len(d.Movers) > 0 {
		lines := make([]string, 0, len(d.Movers))
		for _, m := range d.Movers {
			lines = append(lines, blocks.TruncateMrkdwn("*"+blocks.UserText(blocks.AccountLabel(m.Name, m.AccountID), blocks.MaxNameLen)+"* "+
				blocks.SignedFloat(m.From)+" → "+blocks.SignedFloat(m.To)+" ("+blocks.Plural(m.Texts, "text", "texts")+") · "+blocks.Money(m.ARR)+" ARR", maxDigestLine))
		}
		text = append(text, blocks.Plural(len(d.Movers), "sentiment drop", "sentiment drops"))
		bs = append(bs, blocks.Section("digest_sentiment", blocks.BulletList("*Sentiment movers*", lines, blocks.MaxSectionText)))
	}

	if d.Quiet() {
		bs = append(bs, blocks.Section("digest_quiet", "Nothing new in this period. 🌤"))
	}
	var scope []string
	if f.MinARR > 0 {
		scope = append(scope, "accounts from "+blocks.Money(f.MinARR)+" ARR")
	}
	if t := strings.TrimSpace(f.Tier); t != "" {
		scope = append(scope, "tier "+blocks.UserText(t, blocks.MaxIDLen))
	}
	footer := "Change or stop it with `/digest`."
	if len(scope) > 0 {
		footer = "Covers " + strings.Join(scope, ", ") + ". " + footer
	}
	bs = append(bs, blocks.ContextBlock("digest_footer", footer))
	summary := period + " digest"
	if len(text) > 0 {
		summary += ": " + strings.Join(text, ", ")
	}
	return blocks.Finish(summary, bs, blocks.MaxMessageBlocks)
}

// moveLine: "🔴 *Globex* 55 → 35 · $300k · <@U1>\n↳ usage -45% over 14 days: -18 points".
func moveLine(m Move, withDrop bool) string {
	line := blocks.BandEmoji(m.ToBand) + " *" + blocks.UserText(blocks.AccountLabel(m.Name, m.AccountID), blocks.MaxNameLen) + "* "
	if m.From != nil {
		line += blocks.Itoa(*m.From) + " → " + blocks.Itoa(m.To)
		if withDrop {
			line += " (▼" + blocks.Itoa(m.Drop()) + ")"
		}
	} else {
		line += "first scored " + blocks.Itoa(m.To)
	}
	line += " · " + blocks.Money(m.ARR) + " · " + blocks.UserRef(m.Owner, "no owner")
	if len(m.Drivers) > 0 {
		line += "\n↳ " + blocks.UserText(blocks.DriverText(m.Drivers[0]), blocks.MaxDetailLen)
	}
	return blocks.TruncateMrkdwn(line, maxDigestLine)
}

// competitorLine: "*Gainsight* 4 mentions at 3 accounts, ▲3 vs the day
// before · 1 with churn intent" and up to two quotes.
func competitorLine(c CompetitorLine, frequency string) string {
	before := "the day before"
	if frequency == Weekly {
		before = "the week before"
	}
	trend := "same as " + before
	switch t := c.Trend(); {
	case c.Before == 0:
		trend = "new"
	case t > 0:
		trend = "▲" + blocks.Itoa(t) + " vs " + before
	case t < 0:
		trend = "▼" + blocks.Itoa(-t) + " vs " + before
	}
	line := "*" + blocks.UserText(c.Competitor, maxCompetitor) + "* " + blocks.Plural(c.Mentions, "mention", "mentions") + " at " +
		blocks.Plural(c.Accounts, "account", "accounts") + ", " + trend
	if c.Intent > 0 {
		line += " · ⚠️ " + blocks.Itoa(c.Intent) + " with churn intent"
	}
	for _, e := range c.Examples {
		line += "\n   _" + blocks.UserText(blocks.AccountLabel(e.AccountName, e.AccountID), blocks.MaxNameLen) + " (" + blocks.UserText(strings.ReplaceAll(e.Kind, "_", " "), 30) +
			")_: “" + blocks.UserText(e.Snippet, 160) + "”"
	}
	return blocks.TruncateMrkdwn(line, maxDigestLine+400)
}
