package notes

import (
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/slackid"
)

// maxSummaryShown caps the summary quoted in the room's post.
const maxSummaryShown = 1500

// RoomPostView is a note or summary as the room shows it.
type RoomPostView struct {
	AccountName string
	Kind        string // note | call_note | ticket | email | meeting
	Author      string // Slack user id for notes, the source system otherwise
	Text        string // the summary (or the note itself)
	By          string // llm | extractive | verbatim
	At          time.Time
	OpenCase    bool
}

// RoomPost builds the room's post for a note or an ingested conversation's
// summary.
func RoomPost(v RoomPostView) blocks.Message {
	what, emoji := kindText(v.Kind)
	who := ""
	switch {
	case v.Kind == "note" && v.Author != "":
		who = " by " + blocks.UserRef(v.Author, "")
	case v.Author != "":
		who = " from " + blocks.UserText(v.Author, 80)
	}
	title := emoji + " *" + what + "*" + who
	if !v.At.IsZero() {
		title += " · " + blocks.Date(v.At.UTC())
	}
	body := strings.TrimSpace(v.Text)
	quoted := "> " + strings.ReplaceAll(blocks.Escape(blocks.Truncate(body, maxSummaryShown)), "\n", "\n> ")
	bs := []slack.Block{blocks.Section("note_body", title+"\n"+quoted)}
	var foot []string
	switch v.By {
	case "llm":
		foot = append(foot, "Summary written by the language model; check the source before acting on it.")
	case "extractive":
		foot = append(foot, "Summary: the key sentences of the original.")
	}
	if v.OpenCase {
		foot = append(foot, "A case is being opened in the CRM.")
	}
	if len(foot) > 0 {
		bs = append(bs, blocks.ContextBlock("note_meta", foot...))
	}
	text := what + " for " + blocks.UserText(blocks.Truncate(blocks.OneLine(v.AccountName), blocks.MaxNameLen), blocks.MaxNameLen) + ": " +
		blocks.UserText(body, 200)
	return blocks.Finish(text, bs, blocks.MaxMessageBlocks)
}

func kindText(kind string) (label, emoji string) {
	label = SummaryLabel(kind)
	switch kind {
	case "call_note":
		return label, "📞"
	case "email":
		return label, "✉️"
	case "ticket":
		return label, "🎫"
	case "meeting":
		return label, "📅"
	}
	return "Note", "📝"
}

// SavedReply confirms a note to the person who wrote it.
func SavedReply(accountName, roomID string, openCase bool) blocks.Message {
	s := "📝 Saved to *" + blocks.UserText(blocks.Truncate(blocks.OneLine(accountName), blocks.MaxNameLen), blocks.MaxNameLen) + "*'s timeline"
	if slackid.Channel(roomID) {
		s += " and room " + blocks.ChannelRef(roomID, "")
	}
	if openCase {
		s += "; a CRM case will be opened"
	}
	return blocks.Finish(s+".", []slack.Block{blocks.Section("note_saved", s+".")}, blocks.MaxMessageBlocks)
}

// SaveModal asks which account a saved message belongs to. metadata is
// opaque to the builder (the handler's own JSON).
func SaveModal(text, metadata string) slack.ModalViewRequest {
	caseBox := slack.NewCheckboxGroupsBlockElement(blocks.SaveNoteBlockCase+"_in",
		slack.NewOptionBlockObject("case", blocks.Plain("Also open a case in the CRM", 75), nil))
	caseBlock := slack.NewInputBlock(blocks.SaveNoteBlockCase, blocks.Plain("CRM", 2000), nil, caseBox)
	caseBlock.Optional = true
	bs := []slack.Block{
		blocks.TextInput(blocks.SaveNoteBlockAccount, "Account", "Account name or external id", "", false, true),
		blocks.TextInput(blocks.SaveNoteBlockText, "Note", "", text, true, true),
		caseBlock,
	}
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      blocks.CallbackSaveNote,
		PrivateMetadata: metadata,
		Title:           blocks.Plain("Save to account", blocks.MaxViewTitle),
		Submit:          blocks.Plain("Save", blocks.MaxViewTitle),
		Close:           blocks.Plain("Cancel", blocks.MaxViewTitle),
		Blocks:          slack.Blocks{BlockSet: bs},
	}
}

// SaveFromState reads the save-to-account modal.
func SaveFromState(values map[string]map[string]slack.BlockAction) (account, text string, openCase bool) {
	input := func(id string) slack.BlockAction { return values[id][id+"_in"] }
	account = strings.TrimSpace(input(blocks.SaveNoteBlockAccount).Value)
	text = strings.TrimSpace(input(blocks.SaveNoteBlockText).Value)
	for _, o := range input(blocks.SaveNoteBlockCase).SelectedOptions {
		openCase = openCase || o.Value == "case"
	}
	return account, text, openCase
}
