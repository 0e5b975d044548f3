package blocks

import (
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/scoring"
)

func TestHome(t *testing.T) {
	var accounts []HomeAccount
	for i := range 20 {
		accounts = append(accounts, HomeAccount{AccountID: int64(i + 1), Name: "Account <!here> " + Itoa(i), Score: ptr(30 + i), Band: scoring.BandCritical,
			ARR: 1000 * float64(i), Driver: "usage -40% over 14 days: -20 points"})
	}
	v := HomeView{UserID: "U1", Accounts: accounts, Total: 23, Now: fixedNow(),
		Claimed: []HomeAlert{{AccountID: 1, AccountName: "Acme", What: "Gainsight mentioned", ClaimedAt: fixedNow().AddDate(0, 0, -2)}}}
	extra := []HomeSection{{Title: "Pending approvals", Blocks: []slack.Block{Section("offers_pending", "2 offers wait for you")}}}
	home := Home(v, extra)
	if home.Type != slack.VTHomeTab {
		t.Fatalf("type %q", home.Type)
	}
	checkBlocks(t, "home", home.Blocks.BlockSet, 100)
	all := allText(t, home.Blocks.BlockSet)
	wantContains(t, "home", all, "Your accounts", "Account &lt;!here&gt; 0* · score 30", "…and 8 more", "Alerts you claimed",
		"*Acme*: Gainsight mentioned · claimed 2 days ago", "Pending approvals", "2 offers wait for you")
	if b := findButton(t, home.Blocks.BlockSet, ActionHistory+"_0"); b == nil || b.Value != "1" {
		t.Error("rows have a history button")
	}

	// A section that would overflow 100 blocks is left out, with a note.
	var many []slack.Block
	for i := range 90 {
		many = append(many, Section("nps_"+Itoa(i), "loop"))
	}
	over := Home(v, []HomeSection{{Title: "Open NPS loops", Blocks: many}, extra[0]})
	checkBlocks(t, "overflow home", over.Blocks.BlockSet, 100)
	all = allText(t, over.Blocks.BlockSet)
	wantContains(t, "overflow home", all, "1 section did not fit", "Pending approvals")
	wantNotContains(t, "overflow home", all, "Open NPS loops")

	empty := Home(HomeView{UserID: "U2", Now: fixedNow()}, nil)
	checkBlocks(t, "empty home", empty.Blocks.BlockSet, 100)
	wantContains(t, "empty home", allText(t, empty.Blocks.BlockSet), "You own no active accounts", "None in the last 30 days.")
}

func TestHomeWorstCase(t *testing.T) {
	hostile := " <!channel> & <!here> <https://evil|x> <@U1|spoof> &amp; 😀 *_~`\n"
	huge := strings.Repeat(hostile, 10_000/len(hostile)+1)
	var accounts []HomeAccount
	var claimed []HomeAlert
	for i := range 300 {
		accounts = append(accounts, HomeAccount{AccountID: int64(i), Name: huge, Driver: huge, ARR: 1e300})
		claimed = append(claimed, HomeAlert{AccountName: huge, What: huge, ClaimedAt: fixedNow()})
	}
	home := Home(HomeView{Accounts: accounts, Total: 1 << 40, Claimed: claimed, Now: fixedNow()}, []HomeSection{{Title: huge, Blocks: []slack.Block{Section("x_1", UserText(huge, 2000))}}})
	checkBlocks(t, "home", home.Blocks.BlockSet, 100)
}
