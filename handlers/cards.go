package handlers

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/store"
)

// The account surface's cards: the /health card, the /atrisk list, the
// history modal and the App Home tab.

// maxSummaryLen caps a timeline summary on the card.
const maxSummaryLen = 150

// healthView is everything the /health card shows.
type healthView struct {
	AccountID    int64
	AccountName  string
	ExternalID   string
	Tier         string
	Segment      string
	Score        *int // nil = not scored yet
	Band         scoring.Band
	Churned      bool
	Components   []scoring.Component
	Weekly       []int                  // up to the last 8 weekly scores, oldest first
	Timeline     []blocks.TimelineEntry // newest first; the card shows the first 5
	ARR          float64
	RenewalDate  *time.Time
	OwnerSlackID string
	Now          time.Time
	// ScoringLine names the weights that score ("weights fitted … backtest AUC 0.84").
	ScoringLine string
}

// healthCard builds the /health answer for one account.
func healthCard(v healthView) blocks.Message {
	name := blocks.AccountLabel(v.AccountName, v.AccountID)

	var emoji, status, scoreLine string
	switch {
	case v.Churned:
		emoji, status = "⚫", "Churned"
		scoreLine = "*Churned*"
		if v.Score != nil {
			scoreLine += " · last score " + blocks.Itoa(*v.Score) + "/100"
		}
	case v.Score == nil:
		emoji, status = "⚪", "Not scored yet"
		scoreLine = "*Not scored yet* — no signals have been scored for this account."
	default:
		emoji, status = blocks.BandEmoji(v.Band), blocks.BandLabel(v.Band)
		scoreLine = "*Health score: " + blocks.Itoa(*v.Score) + "/100* · " + status
	}
	if len(v.Weekly) > 0 {
		weekly := v.Weekly
		if len(weekly) > 8 {
			weekly = weekly[len(weekly)-8:]
		}
		trend := blocks.Itoa(weekly[0])
		if len(weekly) > 1 {
			trend += " → " + blocks.Itoa(weekly[len(weekly)-1])
		}
		scoreLine += "\n" + weeksLabel(len(weekly)) + ": " + blocks.Sparkline(weekly) + " (" + trend + ")"
	} else if v.Score != nil {
		scoreLine += "\nNo weekly history yet."
	}

	bs := []slack.Block{
		blocks.Header("health_header", emoji+" "+blocks.Truncate(blocks.OneLine(name), blocks.MaxNameLen)+" — "+status),
		blocks.Section("health_score", scoreLine),
	}
	var meta []string
	for _, s := range []string{v.ExternalID, v.Tier, v.Segment} {
		if strings.TrimSpace(s) != "" {
			meta = append(meta, blocks.UserText(s, blocks.MaxIDLen))
		}
	}
	if len(meta) > 0 {
		bs = append(bs, blocks.ContextBlock("health_meta", strings.Join(meta, " · ")))
	}
	if v.ScoringLine != "" {
		bs = append(bs, blocks.ContextBlock("health_model", "Scored with "+blocks.Escape(v.ScoringLine)))
	}
	if len(v.Components) > 0 {
		lines := make([]string, 0, len(v.Components))
		for _, c := range v.Components {
			lines = append(lines, componentLine(c))
		}
		bs = append(bs, blocks.Section("health_components", blocks.BulletList("*Score breakdown*", lines, blocks.MaxSectionText)))
	}
	bs = append(bs, blocks.FieldsSection("health_facts",
		[2]string{"ARR", blocks.Money(v.ARR)},
		[2]string{"Renewal", blocks.Renewal(v.RenewalDate, v.Now)},
		[2]string{"Owner", blocks.UserRef(v.OwnerSlackID, "No owner")},
	))
	timeline := v.Timeline
	if len(timeline) > blocks.MaxCardTimeline {
		timeline = timeline[:blocks.MaxCardTimeline]
	}
	if len(timeline) > 0 {
		lines := make([]string, 0, len(timeline))
		for _, e := range timeline {
			lines = append(lines, blocks.Date(e.At)+" · "+blocks.EntryText(e, maxSummaryLen))
		}
		bs = append(bs, blocks.Section("health_timeline", blocks.BulletList("*Recent activity*", lines, blocks.MaxSectionText)))
	} else {
		bs = append(bs, blocks.Section("health_timeline", "*Recent activity*\nNothing recorded yet."))
	}
	bs = append(bs, blocks.Actions("health_actions",
		blocks.Button(blocks.ActionHistory, strconv.FormatInt(v.AccountID, 10), "View history")))

	text := blocks.UserText(name, blocks.MaxNameLen) + ": " + status
	if v.Score != nil && !v.Churned {
		text = blocks.UserText(name, blocks.MaxNameLen) + ": " + blocks.Itoa(*v.Score) + "/100, " + status
	}
	return blocks.Finish(text, bs, blocks.MaxMessageBlocks)
}

// componentLine: "Product usage *-22* of 25 — usage -38% over 14 days".
func componentLine(c scoring.Component) string {
	label := c.Label
	if strings.TrimSpace(label) == "" {
		label = c.Key
	}
	detail := "no data"
	if strings.TrimSpace(c.Detail) != "" {
		detail = blocks.UserText(c.Detail, blocks.MaxDetailLen)
	}
	line := blocks.UserText(label, blocks.MaxIDLen) + " *" + blocks.Signed(blocks.RoundInt(c.Points)) + "*"
	// A fitted model's columns have no fixed weight: points are all there is.
	if c.Weight > 0 {
		line += " of " + strconv.FormatFloat(c.Weight, 'f', -1, 64)
	}
	return line + " — " + detail
}

func weeksLabel(n int) string {
	if n == 1 {
		return "Last week"
	}
	return "Last " + blocks.Itoa(n) + " weeks"
}

const (
	// Slack documents no size limit for a whole view, but large views fail
	// to open or update; cap the entry text at about two messages' worth.
	modalTextBudget   = 24000
	maxHistorySummary = 300
)

// historyView is an account's history for the modal. Entries arrive newest
// first and are shown in their own time zone (At's location); Total is how
// many exist in all (0 = len(Entries)), so the modal can say how many it
// left out. Now (optional) labels days "today", "3 days ago".
type historyView struct {
	AccountName string
	Score       *int
	Band        scoring.Band
	Entries     []blocks.TimelineEntry
	Total       int
	Now         time.Time
}

// historyModal builds the "Account history" modal: a header, the score,
// then entries grouped by day, ending with "Showing the latest N of M" when
// not everything fit (100 blocks or the text budget).
func historyModal(v historyView) slack.ModalViewRequest {
	name := v.AccountName
	if name == "" {
		name = "Account"
	}
	status := "Not scored yet"
	if v.Score != nil {
		status = "Score " + blocks.Itoa(*v.Score) + "/100 · " + blocks.BandLabel(v.Band)
	}
	bs := []slack.Block{
		blocks.Header("history_header", blocks.BandEmoji(v.Band)+" "+blocks.Truncate(blocks.OneLine(name), blocks.MaxNameLen)),
		blocks.ContextBlock("history_score", status),
	}
	total := max(v.Total, len(v.Entries))
	if len(v.Entries) == 0 {
		bs = append(bs, blocks.Section("history_empty", "No activity recorded yet."))
	}

	// One section per day, split when a day outgrows a section. One block
	// stays in reserve for the footer.
	shown, used := 0, 0
	var day, body string
	flush := func() {
		if body != "" {
			bs = append(bs, blocks.Section("history_"+blocks.Itoa(len(bs)), body))
		}
		body = ""
	}
	for _, e := range v.Entries {
		line := "\n• " + e.At.Format("15:04") + " · " + blocks.EntryText(e, maxHistorySummary)
		d := blocks.Date(e.At)
		title := "*" + d + "*"
		if rel := blocks.Relative(e.At, v.Now); rel != "" {
			title += " · " + rel
		}
		if d == day && body != "" && blocks.TextLen(body)+blocks.TextLen(line) > blocks.MaxSectionText {
			flush()
			title = "*" + d + " (continued)*"
		}
		if d != day {
			flush()
		}
		if body == "" {
			// Starting a block: is there one left, and budget for it?
			if len(bs) >= blocks.MaxModalBlocks-1 || used+blocks.TextLen(title)+blocks.TextLen(line) > modalTextBudget {
				break
			}
			body = title
			used += blocks.TextLen(title)
		} else if used+blocks.TextLen(line) > modalTextBudget {
			break
		}
		day = d
		body += line
		used += blocks.TextLen(line)
		shown++
	}
	flush()
	if shown < total {
		bs = append(bs, blocks.ContextBlock("history_more",
			"Showing the latest "+blocks.FormatInt(int64(shown))+" of "+blocks.FormatInt(int64(total))))
	}
	if len(bs) > blocks.MaxModalBlocks {
		bs = bs[:blocks.MaxModalBlocks]
	}
	return slack.ModalViewRequest{
		Type:   slack.VTModal,
		Title:  blocks.Plain("Account history", blocks.MaxViewTitle),
		Close:  blocks.Plain("Close", blocks.MaxViewTitle),
		Blocks: slack.Blocks{BlockSet: bs},
	}
}

// homeView is one user's App Home: their accounts riskiest first and the
// alerts they claimed. Other features add sections (blocks.HomeSection).
type homeView struct {
	UserID   string
	Accounts []homeAccount
	Total    int // accounts owned in all
	Claimed  []homeAlert
	Now      time.Time
}

// homeAccount is one owned account.
type homeAccount struct {
	AccountID   int64
	Name        string
	Score       *int
	Band        scoring.Band
	ARR         float64
	RenewalDate *time.Time
	Driver      string
}

// homeAlert is one claimed alert.
type homeAlert struct {
	AccountID   int64
	AccountName string
	What        string // "entered at risk, score drop", "Gainsight mentioned"
	ClaimedAt   time.Time
}

const (
	maxHomeAccounts = 15
	maxHomeAlerts   = 10
	maxHomeRow      = 600
)

// homeTab builds the App Home tab. Extra sections come after the built-in
// ones in the order given; a section that would overflow the 100-block
// limit is left out with a note.
func homeTab(v homeView, extra []blocks.HomeSection) slack.HomeTabViewRequest {
	bs := []slack.Block{blocks.Header("home_accounts_header", "Your accounts")}
	total := max(v.Total, len(v.Accounts))
	if total == 0 {
		bs = append(bs, blocks.Section("home_accounts_empty", "You own no active accounts. Accounts list you as owner through the CRM import (owner_csm)."))
	}
	rows := v.Accounts[:min(len(v.Accounts), maxHomeAccounts)]
	for i, a := range rows {
		s := slack.NewSectionBlock(blocks.Mrkdwn(homeAccountRow(a, v.Now), maxHomeRow), nil,
			// Unique action ids per view; the history handler matches the prefix.
			slack.NewAccessory(blocks.Button(blocks.ActionHistory+"_"+blocks.Itoa(i), strconv.FormatInt(a.AccountID, 10), "History")),
			slack.SectionBlockOptionBlockID("home_account_"+blocks.Itoa(i)))
		bs = append(bs, s)
	}
	if more := total - len(rows); more > 0 {
		bs = append(bs, blocks.ContextBlock("home_accounts_more", "…and "+blocks.Itoa(more)+" more; `/atrisk mine` lists the ones at risk."))
	}

	bs = append(bs, slack.NewDividerBlock(), blocks.Header("home_alerts_header", "Alerts you claimed"))
	if len(v.Claimed) == 0 {
		bs = append(bs, blocks.Section("home_alerts_empty", "None in the last 30 days."))
	} else {
		lines := make([]string, 0, len(v.Claimed))
		for _, c := range v.Claimed[:min(len(v.Claimed), maxHomeAlerts)] {
			line := "*" + blocks.UserText(blocks.AccountLabel(c.AccountName, c.AccountID), blocks.MaxNameLen) + "*: " + blocks.UserText(c.What, 200)
			if !c.ClaimedAt.IsZero() {
				line += " · claimed " + blocks.Relative(c.ClaimedAt, v.Now.In(c.ClaimedAt.Location()))
			}
			lines = append(lines, line)
		}
		bs = append(bs, blocks.Section("home_alerts", strings.TrimPrefix(blocks.BulletList("", lines, blocks.MaxSectionText), "\n")))
	}

	skipped := 0
	for i, s := range extra {
		need := len(s.Blocks) + 2 // divider and header
		if len(bs)+need > blocks.MaxModalBlocks-1 {
			skipped++
			continue
		}
		bs = append(bs, slack.NewDividerBlock(), blocks.Header("home_extra_"+blocks.Itoa(i), s.Title))
		bs = append(bs, s.Blocks...)
	}
	if skipped > 0 {
		bs = append(bs, blocks.ContextBlock("home_skipped", blocks.Plural(skipped, "section", "sections")+" did not fit and were left out."))
	}
	if len(bs) > blocks.MaxModalBlocks {
		bs = bs[:blocks.MaxModalBlocks]
	}
	return slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: bs}, CallbackID: "home"}
}

// homeAccountRow: "🟠 *Acme* · 61 · $120k ARR · renews Mar 3 (in 23 days)\n↳ driver".
func homeAccountRow(a homeAccount, now time.Time) string {
	score := "not scored"
	if a.Score != nil {
		score = "score " + blocks.Itoa(*a.Score)
	}
	parts := []string{blocks.BandEmoji(a.Band) + " *" + blocks.UserText(blocks.AccountLabel(a.Name, a.AccountID), blocks.MaxNameLen) + "*", score, blocks.Money(a.ARR) + " ARR"}
	if a.RenewalDate != nil && !a.RenewalDate.IsZero() {
		parts = append(parts, "renews "+blocks.Renewal(a.RenewalDate, now))
	}
	line := strings.Join(parts, " · ")
	if d := strings.TrimSpace(a.Driver); d != "" {
		line += "\n↳ " + blocks.UserText(d, blocks.MaxDetailLen)
	}
	return line
}

// handSetLine is ScoringLine while no fitted model is active.
const handSetLine = "hand-set weights (no model fitted; see holdfast model fit)"

// ScoringLine is how /health and App Home name the weights that score, in
// one line: "weights fitted 2026-12-01 on 7,043 accounts; backtest AUC 0.84".
func ScoringLine(m store.ActiveModel, ok bool) string {
	if !ok {
		return handSetLine
	}
	auc := "n/a"
	if m.AUC != nil {
		auc = fmt.Sprintf("%.2f", *m.AUC)
	}
	return fmt.Sprintf("weights fitted %s on %s accounts; backtest AUC %s",
		m.FittedAt.UTC().Format(time.DateOnly), blocks.FormatInt(int64(m.Accounts)), auc)
}
