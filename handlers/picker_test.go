package handlers

import (
	"fmt"
	"strings"
	"testing"

	"github.com/holdfast/holdfast/blocks"
	bt "github.com/holdfast/holdfast/blocks/blockstest"
	"github.com/holdfast/holdfast/store"
)

func accountsNamed(n int, name func(i int) (string, string)) []store.Account {
	out := make([]store.Account, n)
	for i := range out {
		nm, ext := name(i)
		out[i] = store.Account{ID: int64(100 + i), Name: nm, ExternalID: ext}
	}
	return out
}

func TestPickReplyOffersButtonsForSeveralMatches(t *testing.T) {
	t.Parallel()
	matches := accountsNamed(12, func(i int) (string, string) { return fmt.Sprintf("Acme %d", i), fmt.Sprintf("ext-%d", i) })
	m := PickReply("acme <!here>", healthPick, matches, nil)
	bt.CheckMessage(t, "choices", m, 50)
	bt.WantContains(t, "choices", bt.AllText(t, m.Blocks), "Several accounts match “acme &lt;!here&gt;”", "Which one did you mean?", "…and 2 more")
	_, buttons := bt.Walk(t, m.Blocks)
	if len(buttons) != 10 {
		t.Fatalf("%d buttons, want 10", len(buttons))
	}
	for i, b := range buttons {
		if b.B.ActionID != fmt.Sprintf("health_pick_%d", i) || b.B.Value != fmt.Sprint(100+i) || b.B.Text.Text != fmt.Sprintf("Acme %d (ext-%d)", i, i) {
			t.Errorf("button %d = %q %q %q", i, b.B.ActionID, b.B.Value, b.B.Text.Text)
		}
	}
	if !strings.HasPrefix(m.Text, "Several accounts match “acme &lt;!here&gt;”: Acme 0 (ext-0), Acme 1 (ext-1)") {
		t.Errorf("Text = %q", m.Text)
	}

	// A long name gives way so the external id stays visible.
	long := PickReply("x", healthPick, []store.Account{{ID: 1, Name: strings.Repeat("N", 200), ExternalID: "ext-9"}, {ID: 2, Name: "B"}}, nil)
	if b := bt.FindButton(t, long.Blocks, "health_pick_0"); b == nil || !strings.HasSuffix(b.Text.Text, "… (ext-9)") || bt.UTF16Len(b.Text.Text) > 75 {
		t.Errorf("long button = %+v", b)
	}

	// Each command asks its own question with its own buttons.
	churned := PickReply("acme", PickPrompt{ActionPrefix: blocks.ActionChurnPickPrefix, Question: "Which account churned?"}, matches[:2], nil)
	bt.WantContains(t, "churn", bt.AllText(t, churned.Blocks), "Which account churned?")
	if b := bt.FindButton(t, churned.Blocks, blocks.ActionChurnPickPrefix+"1"); b == nil || b.Value != "101" {
		t.Errorf("churn pick button = %+v", b)
	}
}

func TestPickReplyNotFound(t *testing.T) {
	t.Parallel()
	m := PickReply("acm <!channel>", healthPick, nil, nil)
	bt.CheckMessage(t, "notfound", m, 50)
	all := bt.AllText(t, m.Blocks)
	bt.WantContains(t, "notfound", all, "No account matches “acm &lt;!channel&gt;”.", "Usage: /health &lt;account name or id&gt;")
	bt.WantNotContains(t, "notfound", all, "Did you mean")
	if _, buttons := bt.Walk(t, m.Blocks); len(buttons) != 0 {
		t.Errorf("%d buttons without suggestions", len(buttons))
	}

	sugg := accountsNamed(8, func(i int) (string, string) { return fmt.Sprintf("Acme %d", i), "" })
	m = PickReply("acm", healthPick, nil, sugg)
	bt.CheckMessage(t, "suggest", m, 50)
	bt.WantContains(t, "suggest", bt.AllText(t, m.Blocks), "Did you mean")
	_, buttons := bt.Walk(t, m.Blocks)
	if len(buttons) != 5 || buttons[0].B.ActionID != "health_pick_0" || buttons[0].B.Value != "100" || buttons[0].B.Text.Text != "Acme 0" {
		t.Errorf("suggestion buttons = %+v", buttons)
	}

	// Hostile names stay inert; a long name keeps its external id visible.
	hostile := "<!channel> Acme & <https://evil|x>"
	bt.CheckMessage(t, "hostile", PickReply(hostile, PickPrompt{ActionPrefix: blocks.ActionChurnPickPrefix},
		[]store.Account{{ID: 1, Name: hostile}, {ID: 2, Name: "B"}}, nil), 50)
	long := PickReply("acme", PickPrompt{ActionPrefix: blocks.ActionChurnPickPrefix}, nil,
		[]store.Account{{ID: 1, Name: strings.Repeat("Acme ", 30), ExternalID: "acme-eu-001"}})
	bt.CheckMessage(t, "suggestions", long, 50)
	bt.WantContains(t, "suggestions", blocks.PlainTextBlocks(long.Blocks), "No account matches “acme”. Did you mean", "… (acme-eu-001)")
}

// Without an action prefix the accounts are named for typing, not offered
// as buttons.
func TestPickReplyWithoutButtons(t *testing.T) {
	t.Parallel()
	two := []store.Account{{ID: 1, Name: "Acme Corp", ExternalID: "acme"}, {ID: 2, Name: "Acme Labs", ExternalID: "labs"}}
	m := PickReply("acme", PickPrompt{Usage: "Usage: `/room <account>`"}, two, nil)
	bt.CheckMessage(t, "several", m, 50)
	bt.WantContains(t, "several", bt.AllText(t, m.Blocks), "Type the external id: Acme Corp = acme, Acme Labs = labs.")
	m = PickReply("acme corpp", PickPrompt{Usage: "Usage: `/room <account>`"}, nil, two[:1])
	bt.WantContains(t, "none", m.Text, "Did you mean Acme Corp = acme?", "Usage: `/room &lt;account&gt;`")
	if _, buttons := bt.Walk(t, m.Blocks); len(buttons) != 0 {
		t.Errorf("%d buttons without an action prefix", len(buttons))
	}
}

// The offer and NPS pickers: their own buttons, within Slack's limits
// whatever the names.
func TestPickReplyPerCommand(t *testing.T) {
	t.Parallel()
	offer := PickPrompt{ActionPrefix: blocks.ActionOfferPickPrefix, Question: "Which one is the offer for?"}
	choices := PickReply("acme", offer, []store.Account{{ID: 1, Name: "Acme"}, {ID: 2, Name: "Acme Labs"}}, nil)
	bt.CheckMessage(t, "choices", choices, 50)
	if b := bt.FindButton(t, choices.Blocks, blocks.ActionOfferPickPrefix+"1"); b == nil || b.Value != "2" || b.Text.Text != "Acme Labs" {
		t.Errorf("second choice %+v", b)
	}
	notFound := PickReply("<!here>", offer, nil, []store.Account{{ID: 1, Name: "Acme"}})
	bt.CheckMessage(t, "not found", notFound, 50)
	if b := bt.FindButton(t, notFound.Blocks, blocks.ActionOfferPickPrefix+"0"); b == nil || b.Value != "1" {
		t.Errorf("suggestion %+v", b)
	}
	longEvil := strings.Repeat("<!channel> & <https://evil|x> ", 200)
	nps := PickPrompt{ActionPrefix: blocks.ActionNPSPick, Usage: "Usage: /nps <account name or id> · /nps report"}
	bt.CheckMessage(t, "nps not found", PickReply(longEvil, nps, nil, []store.Account{{ID: 1, Name: longEvil, ExternalID: "x"}}), 50)
	bt.CheckMessage(t, "nps choices", PickReply(longEvil, nps, make([]store.Account, 15), nil), 50)
}

// However huge every name and the query, the reply stays within Slack's
// limits.
func TestPickReplyHuge(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("<!here> & <https://evil|x> é ", 500)
	var many []store.Account
	for i := range 40 {
		many = append(many, store.Account{ID: int64(i), Name: huge, ExternalID: huge})
	}
	bt.CheckMessage(t, "choices", PickReply(huge, healthPick, many, nil), 50)
	bt.CheckMessage(t, "notfound", PickReply(huge, healthPick, nil, many), 50)
}
