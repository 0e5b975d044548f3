package notes

import (
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/blocks/blockstest"
)

// evilTicket is customer text trying to broadcast and to link.
const evilTicket = "<!channel> please <https://evil.example|click>"

func TestRoomPost(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)
	m := RoomPost(RoomPostView{AccountName: "Acme", Kind: "call_note", Author: "gong", Text: "Line one " + evilTicket + "\nline two",
		By: "llm", At: at})
	blockstest.CheckMessage(t, "call summary", m, blocks.MaxMessageBlocks)
	all := blockstest.AllText(t, m.Blocks)
	blockstest.WantContains(t, "call summary", all, "📞 *Call summary* from gong · Nov 20, 2026", "> Line one &lt;!channel&gt;", "\n> line two",
		"language model")
	m = RoomPost(RoomPostView{AccountName: "Acme", Kind: "note", Author: "U0CSM", Text: strings.Repeat("n", 5000), By: "verbatim", OpenCase: true})
	blockstest.CheckMessage(t, "note", m, blocks.MaxMessageBlocks)
	blockstest.WantContains(t, "note", blockstest.AllText(t, m.Blocks), "📝 *Note* by <@U0CSM>", "CRM")
	m = SavedReply("Acme", "C0ROOM", true)
	blockstest.CheckMessage(t, "saved", m, blocks.MaxMessageBlocks)
	blockstest.WantContains(t, "saved", m.Text, "<#C0ROOM>", "CRM case")
}

func TestSaveModal(t *testing.T) {
	t.Parallel()
	v := SaveModal(strings.Repeat("t", 5000), `{"c":"C1","ts":"1.2"}`)
	blockstest.CheckFormModal(t, v)
	in := blockstest.Inputs(t, v)
	if got := in[blocks.SaveNoteBlockText].Element.(*slack.PlainTextInputBlockElement).InitialValue; len([]rune(got)) > 3000 {
		t.Fatalf("initial value %d long", len([]rune(got)))
	}
	account, text, openCase := SaveFromState(map[string]map[string]slack.BlockAction{
		blocks.SaveNoteBlockAccount: {blocks.SaveNoteBlockAccount + "_in": {Value: " acme "}}, blocks.SaveNoteBlockText: {blocks.SaveNoteBlockText + "_in": {Value: "hello"}},
		blocks.SaveNoteBlockCase: {blocks.SaveNoteBlockCase + "_in": {SelectedOptions: []slack.OptionBlockObject{{Value: "case"}}}},
	})
	if account != "acme" || text != "hello" || !openCase {
		t.Fatalf("%q %q %v", account, text, openCase)
	}
}
