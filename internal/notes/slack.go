package notes

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/bot"
	"github.com/holdfast/holdfast/handlers"
	"github.com/holdfast/holdfast/store"
)

// Register puts /note, the Save to account shortcut and its modal on r.
func (m *Module) Register(r *handlers.Router) {
	m.router = r
	r.HandleCommand("/note", m.note)
	r.HandleShortcut(blocks.CallbackSaveNote, m.saveShortcut)
	r.HandleView(blocks.CallbackSaveNote, m.saveSubmitted)
}

const noteUsage = "Usage: `/note <account> <text>` (quote names with spaces if needed: `/note \"Acme Corp\" …`). " +
	"In an account's room, `/note <text>` is enough. Add `--case` to also open a CRM case."

func (m *Module) note(ctx context.Context, cmd slack.SlashCommand) (bot.Reply, error) {
	targets, openCase := ParseNote(cmd.Text)
	openCase = openCase && m.crmEnabled
	var account *store.Account
	var text string
	for _, t := range targets {
		matches, _, err := m.st.FindAccounts(ctx, t.Account, blocks.MaxChoices+1)
		if err != nil {
			return bot.Reply{}, err
		}
		var exact []store.Account
		for _, a := range matches {
			if strings.EqualFold(a.Name, t.Account) || strings.EqualFold(a.ExternalID, t.Account) {
				exact = append(exact, a)
			}
		}
		if len(exact) > 1 {
			return bot.Reply{Message: blocks.Problem("Several accounts are called %s: use the external id (%s).", t.Account,
				handlers.IDList(exact))}, nil
		}
		if len(exact) == 1 {
			account, text = &exact[0], t.Text
			break
		}
	}
	if account == nil {
		// In a room, the whole text is the note for the room's account.
		if whole, _ := StripCaseFlag(cmd.Text); whole != "" {
			if a, err := m.st.AccountByChannel(ctx, cmd.ChannelID); err == nil {
				account, text = &a, whole
			}
		}
	}
	if account == nil {
		if len(targets) == 0 {
			return bot.Reply{Message: blocks.Info(blocks.Escape(noteUsage))}, nil
		}
		first := strings.Fields(targets[len(targets)-1].Account)[0]
		_, suggestions, err := m.st.FindAccounts(ctx, first, blocks.MaxChoices)
		if err != nil {
			return bot.Reply{}, err
		}
		return bot.Reply{Message: handlers.PickReply(first, handlers.PickPrompt{Usage: noteUsage}, nil, suggestions)}, nil
	}
	key := "cmd:" + cmd.TriggerID
	if cmd.TriggerID == "" {
		key = "cmd:" + cmd.UserID + ":" + strconv.FormatInt(m.now().UnixNano(), 10)
	}
	if _, err := m.save(ctx, newNote{AccountID: account.ID, Kind: "note", Source: "slack_command", SourceKey: key,
		Author: cmd.UserID, Text: text, OccurredAt: m.now(), OriginChannel: cmd.ChannelID, OpenCase: openCase}); err != nil {
		return bot.Reply{}, err
	}
	return bot.Reply{Message: SavedReply(account.Name, m.roomElsewhere(ctx, account.ID, cmd.ChannelID), openCase)}, nil
}

// roomElsewhere is the account's room unless it is where the user already
// is.
func (m *Module) roomElsewhere(ctx context.Context, accountID int64, here string) string {
	room, err := roomChannel(ctx, m.st.DB(), accountID)
	if err != nil || room == here {
		return ""
	}
	return room
}

// saveMeta is the save-to-account modal's private_metadata.
type saveMeta struct {
	Channel string `json:"c"`
	TS      string `json:"ts"`
}

func (m *Module) saveShortcut(ctx context.Context, cb slack.InteractionCallback) error {
	// Slack sends message text as mrkdwn; keep what a person reads.
	text := strings.TrimSpace(blocks.PlainText(blocks.Message{Text: cb.Message.Text}))
	if text == "" {
		m.router.Tell(ctx, cb, blocks.Problem("That message has no text to save."))
		return nil
	}
	channel := cb.Channel.ID
	a, err := m.st.AccountByChannel(ctx, channel)
	switch {
	case err == nil:
		created, err := m.save(ctx, newNote{AccountID: a.ID, Kind: "note", Source: "slack_shortcut",
			SourceKey: "slack:" + channel + ":" + cb.Message.Timestamp, Author: cb.User.ID, Text: text,
			OccurredAt: m.now(), OriginChannel: channel})
		if err != nil {
			return err
		}
		if !created {
			m.router.Tell(ctx, cb, blocks.Info("This message is already saved to *"+blocks.Escape(a.Name)+"*."))
			return nil
		}
		m.router.Tell(ctx, cb, SavedReply(a.Name, "", false))
		return nil
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	meta, _ := json.Marshal(saveMeta{Channel: channel, TS: cb.Message.Timestamp})
	return m.views.OpenView(ctx, cb.TriggerID, SaveModal(text, string(meta)))
}

func (m *Module) saveSubmitted(ctx context.Context, cb slack.InteractionCallback) (any, error) {
	query, text, openCase := SaveFromState(cb.View.State.Values)
	openCase = openCase && m.crmEnabled
	if text == "" {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blocks.SaveNoteBlockText: "The note is empty."}), nil
	}
	matches, suggestions, err := m.st.FindAccounts(ctx, query, blocks.MaxChoices+1)
	if err != nil {
		return nil, err
	}
	if len(matches) != 1 {
		msg := "No account matches that."
		switch {
		case len(matches) > 1:
			msg = "Several match: " + handlers.IDList(matches) + ". Type the external id."
		case len(suggestions) > 0:
			msg += " Did you mean " + handlers.IDList(suggestions) + "?"
		}
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blocks.SaveNoteBlockAccount: msg}), nil
	}
	a := matches[0]
	var meta saveMeta
	_ = json.Unmarshal([]byte(cb.View.PrivateMetadata), &meta) // our own JSON; empty when absent
	key := "view:" + cb.View.ID
	if meta.Channel != "" && meta.TS != "" {
		key = "slack:" + meta.Channel + ":" + meta.TS
	}
	if _, err := m.save(ctx, newNote{AccountID: a.ID, Kind: "note", Source: "slack_shortcut", SourceKey: key,
		Author: cb.User.ID, Text: text, OccurredAt: m.now(), OriginChannel: meta.Channel, OpenCase: openCase}); err != nil {
		return nil, err
	}
	if meta.Channel != "" {
		saved := SavedReply(a.Name, m.roomElsewhere(ctx, a.ID, meta.Channel), openCase)
		if err := m.st.Enqueue(ctx, store.OutboxItem{Op: store.OpEphemeral, ChannelID: meta.Channel, UserID: cb.User.ID,
			Message: saved}); err != nil {
			m.log.Warn("confirm saved note", "err", err)
		}
	}
	return nil, nil
}
