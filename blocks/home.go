package blocks

import (
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/scoring"
)

// HomeView is one user's App Home: their accounts riskiest first and the
// alerts they claimed. Other features add sections (HomeSection).
type HomeView struct {
	UserID   string
	Accounts []HomeAccount
	Total    int // accounts owned in all
	Claimed  []HomeAlert
	Now      time.Time
}

// HomeAccount is one owned account.
type HomeAccount struct {
	AccountID   int64
	Name        string
	Score       *int
	Band        scoring.Band
	ARR         float64
	RenewalDate *time.Time
	Driver      string
}

// HomeAlert is one claimed alert.
type HomeAlert struct {
	AccountID   int64
	AccountName string
	What        string // "entered at risk, score drop", "Gainsight mentioned"
	ClaimedAt   time.Time
}

// HomeSection is a titled block list another feature contributes. Its
// block ids must be unique within the Home tab: prefix them with the
// feature's name.
type HomeSection struct {
	Title  string
	Blocks []slack.Block
}

const (
	maxHomeAccounts = 15
	maxHomeAlerts   = 10
	maxHomeRow      = 600
)

// Home builds the App Home tab. Extra sections come after the built-in
// ones in the order given; a section that would overflow the 100-block
// limit is left out with a note.
func Home(v HomeView, extra []HomeSection) slack.HomeTabViewRequest {
	blocks := []slack.Block{Header("home_accounts_header", "Your accounts")}
	total := max(v.Total, len(v.Accounts))
	if total == 0 {
		blocks = append(blocks, Section("home_accounts_empty", "You own no active accounts. Accounts list you as owner through the CRM import (owner_csm)."))
	}
	rows := v.Accounts[:min(len(v.Accounts), maxHomeAccounts)]
	for i, a := range rows {
		s := slack.NewSectionBlock(Mrkdwn(homeAccountRow(a, v.Now), maxHomeRow), nil,
			// Unique action ids per view; the history handler matches the prefix.
			slack.NewAccessory(Button(ActionHistory+"_"+Itoa(i), strconv.FormatInt(a.AccountID, 10), "History")),
			slack.SectionBlockOptionBlockID("home_account_"+Itoa(i)))
		blocks = append(blocks, s)
	}
	if more := total - len(rows); more > 0 {
		blocks = append(blocks, ContextBlock("home_accounts_more", "…and "+Itoa(more)+" more; `/atrisk mine` lists the ones at risk."))
	}

	blocks = append(blocks, slack.NewDividerBlock(), Header("home_alerts_header", "Alerts you claimed"))
	if len(v.Claimed) == 0 {
		blocks = append(blocks, Section("home_alerts_empty", "None in the last 30 days."))
	} else {
		lines := make([]string, 0, len(v.Claimed))
		for _, c := range v.Claimed[:min(len(v.Claimed), maxHomeAlerts)] {
			line := "*" + UserText(AccountLabel(c.AccountName, c.AccountID), MaxNameLen) + "*: " + UserText(c.What, 200)
			if !c.ClaimedAt.IsZero() {
				line += " · claimed " + Relative(c.ClaimedAt, v.Now.In(c.ClaimedAt.Location()))
			}
			lines = append(lines, line)
		}
		blocks = append(blocks, Section("home_alerts", strings.TrimPrefix(BulletList("", lines, MaxSectionText), "\n")))
	}

	skipped := 0
	for i, s := range extra {
		need := len(s.Blocks) + 2 // divider and header
		if len(blocks)+need > MaxModalBlocks-1 {
			skipped++
			continue
		}
		blocks = append(blocks, slack.NewDividerBlock(), Header("home_extra_"+Itoa(i), s.Title))
		blocks = append(blocks, s.Blocks...)
	}
	if skipped > 0 {
		blocks = append(blocks, ContextBlock("home_skipped", Plural(skipped, "section", "sections")+" did not fit and were left out."))
	}
	if len(blocks) > MaxModalBlocks {
		blocks = blocks[:MaxModalBlocks]
	}
	return slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: blocks}, CallbackID: "home"}
}

// homeAccountRow: "🟠 *Acme* · 61 · $120k ARR · renews Mar 3 (in 23 days)\n↳ driver".
func homeAccountRow(a HomeAccount, now time.Time) string {
	score := "not scored"
	if a.Score != nil {
		score = "score " + Itoa(*a.Score)
	}
	parts := []string{BandEmoji(a.Band) + " *" + UserText(AccountLabel(a.Name, a.AccountID), MaxNameLen) + "*", score, Money(a.ARR) + " ARR"}
	if a.RenewalDate != nil && !a.RenewalDate.IsZero() {
		parts = append(parts, "renews "+Renewal(a.RenewalDate, now))
	}
	line := strings.Join(parts, " · ")
	if d := strings.TrimSpace(a.Driver); d != "" {
		line += "\n↳ " + UserText(d, MaxDetailLen)
	}
	return line
}
