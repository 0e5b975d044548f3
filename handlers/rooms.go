package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/bot"
	"github.com/holdfast/holdfast/rooms"
	"github.com/holdfast/holdfast/store"
)

// RoomsStore is what the account-room handlers read and write.
type RoomsStore interface {
	FindAccounts(ctx context.Context, query string, limit int) (matches, suggestions []store.Account, err error)
	Account(ctx context.Context, id int64) (store.Account, error)
	AccountByChannel(ctx context.Context, channel string) (store.Account, error)
	Room(ctx context.Context, accountID int64) (store.Room, error)
	LinkRoom(ctx context.Context, r store.Room, at time.Time) error
	HandoffsForAccount(ctx context.Context, accountID int64) ([]store.HandoffStatus, error)
	Deal(ctx context.Context, id int64) (rooms.Deal, error)
	MayReview(ctx context.Context, dealID int64, user string) (bool, error)
	CompleteReview(ctx context.Context, r store.Review) error
	AddNote(ctx context.Context, n store.NoteInput) (id int64, created bool, err error)
	Enqueue(ctx context.Context, it store.OutboxItem) error
}

// RoomsSlack is the part of Slack the room handlers call directly.
type RoomsSlack interface {
	OpenView(ctx context.Context, triggerID string, view slack.ModalViewRequest) error
	Join(ctx context.Context, channel string) (string, error)
}

// RoomsSettings configure the room handlers.
type RoomsSettings struct {
	Admins     []string // may link any account's room
	CRMEnabled bool     // --case and the modal's case box do something
}

// Rooms answers /room, /note, the "Save to account" shortcut and the won
// deal review.
type Rooms struct {
	store    RoomsStore
	slack    RoomsSlack
	settings RoomsSettings
	router   *Router
	now      func() time.Time
	log      *slog.Logger
}

// NewRooms wires the room handlers.
func NewRooms(st RoomsStore, sl RoomsSlack, settings RoomsSettings, now func() time.Time, log *slog.Logger) *Rooms {
	return &Rooms{store: st, slack: sl, settings: settings, now: now, log: log}
}

// Register puts the room commands, shortcut, button and modals on r.
func (h *Rooms) Register(r *Router) {
	h.router = r
	r.HandleCommand("/room", h.room)
	r.HandleCommand("/note", h.note)
	r.HandleShortcut(blocks.CallbackSaveNote, h.saveShortcut)
	r.HandleView(blocks.CallbackSaveNote, h.saveSubmitted)
	r.HandleAction(blocks.ActionReviewOpen, h.openReview)
	r.HandleView(blocks.CallbackReview, h.reviewSubmitted)
}

const roomUsage = "Usage: `/room <account>` shows an account's room; `/room link <account>` (in a channel) makes that channel the account's room."

func (h *Rooms) room(ctx context.Context, cmd slack.SlashCommand) (bot.Reply, error) {
	text := strings.TrimSpace(cmd.Text)
	verb, rest, _ := strings.Cut(text, " ")
	switch {
	case text == "" || strings.EqualFold(text, "help"):
		if a, err := h.store.AccountByChannel(ctx, cmd.ChannelID); err == nil {
			return h.status(ctx, a)
		}
		return reply(blocks.Info(blocks.Escape(roomUsage))), nil
	case strings.EqualFold(verb, "link"):
		return h.link(ctx, cmd, strings.TrimSpace(rest))
	}
	a, r, err := h.resolve(ctx, text)
	if a == nil {
		return r, err
	}
	return h.status(ctx, *a)
}

// resolve finds the one account a person meant, or the reply that says
// why not (ambiguous, unknown).
func (h *Rooms) resolve(ctx context.Context, query string) (*store.Account, bot.Reply, error) {
	a, ask, err := NewPicker(h.store).Find(ctx, query, PickPrompt{Usage: roomUsage})
	if err != nil || ask != nil {
		r, err := replyOrErr(ask, err)
		return nil, r, err
	}
	return a, bot.Reply{}, nil
}

func (h *Rooms) status(ctx context.Context, a store.Account) (bot.Reply, error) {
	v := blocks.RoomStatusView{AccountName: a.Name}
	room, err := h.store.Room(ctx, a.ID)
	switch {
	case err == nil:
		v.RoomID, v.RoomName, v.Origin = room.ChannelID, room.ChannelName, room.Origin
	case !errors.Is(err, store.ErrNotFound):
		return bot.Reply{}, err
	}
	list, err := h.store.HandoffsForAccount(ctx, a.ID)
	if err != nil {
		return bot.Reply{}, err
	}
	for _, ho := range list {
		v.Handoffs = append(v.Handoffs, blocks.HandoffLine{DealName: ho.DealName, Step: ho.Step, Failed: ho.Failed,
			Error: ho.LastError, Missing: ho.Missing})
	}
	return reply(blocks.RoomStatus(v)), nil
}

// mayManage: the account's owners and the configured admins may change
// where its room is.
func (h *Rooms) mayManage(a store.Account, user string) bool {
	return user != "" && (user == a.OwnerCSM || user == a.AE || user == a.SalesManager || slices.Contains(h.settings.Admins, user))
}

func (h *Rooms) link(ctx context.Context, cmd slack.SlashCommand, query string) (bot.Reply, error) {
	if query == "" {
		return reply(blocks.Info(blocks.Escape(roomUsage))), nil
	}
	if !strings.HasPrefix(cmd.ChannelID, "C") && !strings.HasPrefix(cmd.ChannelID, "G") {
		return reply(blocks.Problem("Run /room link in the channel that should become the room (not in a direct message).")), nil
	}
	a, r, err := h.resolve(ctx, query)
	if a == nil {
		return r, err
	}
	if !h.mayManage(*a, cmd.UserID) {
		return reply(blocks.Problem("Only %s's CSM, AE or sales manager (or a rooms admin) can link its room.", a.Name)), nil
	}
	name, err := h.slack.Join(ctx, cmd.ChannelID)
	if errors.Is(err, bot.ErrPrivateNotMember) {
		return reply(blocks.Problem("I can't see this channel. Invite me (/invite @Holdfast) and run the command again.")), nil
	}
	if err != nil {
		return bot.Reply{}, fmt.Errorf("join channel: %w", err)
	}
	err = h.store.LinkRoom(ctx, store.Room{AccountID: a.ID, ChannelID: cmd.ChannelID, ChannelName: name, Origin: "linked",
		LinkedBy: cmd.UserID}, h.now())
	var taken *store.ChannelTakenError
	if errors.As(err, &taken) {
		other := "another account"
		if o, err := h.store.Account(ctx, taken.AccountID); err == nil {
			other = o.Name
		}
		return reply(blocks.Problem("This channel is already %s's room.", other)), nil
	}
	if err != nil {
		return bot.Reply{}, err
	}
	m := blocks.Info("🔗 This channel is now *" + blocks.Escape(a.Name) + "*'s room (linked by <@" + cmd.UserID +
		">). Its alerts, approvals, NPS follow-ups and notes will be posted here.")
	return bot.Reply{Message: m, InChannel: true}, nil
}

const noteUsage = "Usage: `/note <account> <text>` (quote names with spaces if needed: `/note \"Acme Corp\" …`). " +
	"In an account's room, `/note <text>` is enough. Add `--case` to also open a CRM case."

func (h *Rooms) note(ctx context.Context, cmd slack.SlashCommand) (bot.Reply, error) {
	targets, openCase := rooms.ParseNote(cmd.Text)
	var account *store.Account
	var text string
	for _, t := range targets {
		matches, _, err := h.store.FindAccounts(ctx, t.Account, blocks.MaxChoices+1)
		if err != nil {
			return bot.Reply{}, err
		}
		var exact []store.Account
		for _, m := range matches {
			if strings.EqualFold(m.Name, t.Account) || strings.EqualFold(m.ExternalID, t.Account) {
				exact = append(exact, m)
			}
		}
		if len(exact) > 1 {
			return reply(blocks.Problem("Several accounts are called %s: use the external id (%s).", t.Account, idList(exact))), nil
		}
		if len(exact) == 1 {
			account, text = &exact[0], t.Text
			break
		}
	}
	if account == nil {
		// In a room, the whole text is the note for the room's account.
		if whole, _ := rooms.StripCaseFlag(cmd.Text); whole != "" {
			if a, err := h.store.AccountByChannel(ctx, cmd.ChannelID); err == nil {
				account, text = &a, whole
			}
		}
	}
	if account == nil {
		if len(targets) == 0 {
			return reply(blocks.Info(blocks.Escape(noteUsage))), nil
		}
		first := strings.Fields(targets[len(targets)-1].Account)[0]
		_, suggestions, err := h.store.FindAccounts(ctx, first, blocks.MaxChoices)
		if err != nil {
			return bot.Reply{}, err
		}
		return reply(PickReply(first, PickPrompt{Usage: noteUsage}, nil, suggestions)), nil
	}
	key := "cmd:" + cmd.TriggerID
	if cmd.TriggerID == "" {
		key = "cmd:" + cmd.UserID + ":" + strconv.FormatInt(h.now().UnixNano(), 10)
	}
	if _, _, err := h.store.AddNote(ctx, store.NoteInput{AccountID: account.ID, Kind: "note", Source: "slack_command",
		SourceKey: key, Author: cmd.UserID, Text: text, OccurredAt: h.now(), OriginChannel: cmd.ChannelID,
		OpenCase: openCase && h.settings.CRMEnabled}); err != nil {
		return bot.Reply{}, err
	}
	return reply(blocks.NoteSaved(account.Name, h.roomOf(ctx, account.ID, cmd.ChannelID), openCase && h.settings.CRMEnabled)), nil
}

// roomOf is the account's room unless it is where the user already is.
func (h *Rooms) roomOf(ctx context.Context, accountID int64, here string) string {
	r, err := h.store.Room(ctx, accountID)
	if err != nil || r.ChannelID == here {
		return ""
	}
	return r.ChannelID
}

// saveMeta is the save-to-account modal's private_metadata.
type saveMeta struct {
	Channel string `json:"c"`
	TS      string `json:"ts"`
}

func (h *Rooms) saveShortcut(ctx context.Context, cb slack.InteractionCallback) error {
	// Slack sends message text as mrkdwn; keep what a person reads.
	text := strings.TrimSpace(blocks.PlainText(blocks.Message{Text: cb.Message.Text}))
	if text == "" {
		h.router.Tell(ctx, cb, blocks.Problem("That message has no text to save."))
		return nil
	}
	channel := cb.Channel.ID
	a, err := h.store.AccountByChannel(ctx, channel)
	switch {
	case err == nil:
		_, created, err := h.store.AddNote(ctx, store.NoteInput{AccountID: a.ID, Kind: "note", Source: "slack_shortcut",
			SourceKey: "slack:" + channel + ":" + cb.Message.Timestamp, Author: cb.User.ID, Text: text,
			OccurredAt: h.now(), OriginChannel: channel})
		if err != nil {
			return err
		}
		if !created {
			h.router.Tell(ctx, cb, blocks.Info("This message is already saved to *"+blocks.Escape(a.Name)+"*."))
			return nil
		}
		h.router.Tell(ctx, cb, blocks.NoteSaved(a.Name, "", false))
		return nil
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	meta, _ := json.Marshal(saveMeta{Channel: channel, TS: cb.Message.Timestamp})
	return h.slack.OpenView(ctx, cb.TriggerID, blocks.SaveNoteModal(text, string(meta)))
}

func (h *Rooms) saveSubmitted(ctx context.Context, cb slack.InteractionCallback) (any, error) {
	query, text, openCase := blocks.SaveNoteFromState(cb.View.State.Values)
	if text == "" {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blocks.SaveNoteTextBlock: "The note is empty."}), nil
	}
	matches, suggestions, err := h.store.FindAccounts(ctx, query, blocks.MaxChoices+1)
	if err != nil {
		return nil, err
	}
	if len(matches) != 1 {
		msg := "No account matches that."
		switch {
		case len(matches) > 1:
			msg = "Several match: " + idList(matches) + ". Type the external id."
		case len(suggestions) > 0:
			msg += " Did you mean " + idList(suggestions) + "?"
		}
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blocks.SaveNoteAccountBlock: msg}), nil
	}
	a := matches[0]
	var meta saveMeta
	_ = json.Unmarshal([]byte(cb.View.PrivateMetadata), &meta) // our own JSON; empty when absent
	key := "view:" + cb.View.ID
	if meta.Channel != "" && meta.TS != "" {
		key = "slack:" + meta.Channel + ":" + meta.TS
	}
	_, _, err = h.store.AddNote(ctx, store.NoteInput{AccountID: a.ID, Kind: "note", Source: "slack_shortcut", SourceKey: key,
		Author: cb.User.ID, Text: text, OccurredAt: h.now(), OriginChannel: meta.Channel,
		OpenCase: openCase && h.settings.CRMEnabled})
	if err != nil {
		return nil, err
	}
	if meta.Channel != "" {
		m := blocks.NoteSaved(a.Name, h.roomOf(ctx, a.ID, meta.Channel), openCase && h.settings.CRMEnabled)
		if err := h.store.Enqueue(ctx, store.OutboxItem{Op: store.OpEphemeral, ChannelID: meta.Channel, UserID: cb.User.ID,
			Message: m}); err != nil {
			h.log.Warn("confirm saved note", "err", err)
		}
	}
	return nil, nil
}

func (h *Rooms) openReview(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
	id, err := strconv.ParseInt(act.Value, 10, 64)
	if err != nil {
		return fmt.Errorf("bad deal id %q", act.Value)
	}
	ok, err := h.store.MayReview(ctx, id, cb.User.ID)
	if errors.Is(err, store.ErrNotFound) {
		h.router.Tell(ctx, cb, blocks.Problem("That deal no longer exists."))
		return nil
	}
	if err != nil {
		return err
	}
	if !ok {
		h.router.Tell(ctx, cb, blocks.Problem("Only the deal's AE, the account's sales manager or its CSM can fill in its review."))
		return nil
	}
	d, err := h.store.Deal(ctx, id)
	if err != nil {
		return err
	}
	a, ok, err := PickedAccount(ctx, h.store, h.router, cb, strconv.FormatInt(d.AccountID, 10))
	if !ok {
		return err
	}
	return h.slack.OpenView(ctx, cb.TriggerID, blocks.ReviewModal(blocks.ReviewModalView{AccountName: a.Name, Deal: d}))
}

func (h *Rooms) reviewSubmitted(ctx context.Context, cb slack.InteractionCallback) (any, error) {
	id, err := strconv.ParseInt(cb.View.PrivateMetadata, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("bad review metadata %q", cb.View.PrivateMetadata)
	}
	d, errs := blocks.ReviewFromState(cb.View.State.Values)
	if errs != nil {
		return slack.NewErrorsViewSubmissionResponse(errs), nil
	}
	old, err := h.store.Deal(ctx, id)
	if err != nil {
		return nil, err
	}
	a, err := h.store.Account(ctx, old.AccountID)
	if err != nil {
		return nil, err
	}
	room := ""
	if r, err := h.store.Room(ctx, a.ID); err == nil {
		room = r.ChannelID
	}
	thanks := blocks.ReviewDone(a.Name, room)
	summary := fmt.Sprintf("Won deal review completed: %d promises recorded", len(d.Promises))
	if len(d.Promises) == 1 {
		summary = "Won deal review completed: 1 promise recorded"
	}
	err = h.store.CompleteReview(ctx, store.Review{DealID: id, Deal: d, User: cb.User.ID, At: h.now(),
		DMRef: rooms.ReviewRef(id), Thanks: thanks, Summary: summary})
	if errors.Is(err, store.ErrNotAllowed) {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{"rv_dm": "Only the deal's AE, the account's sales manager or its CSM can save this review."}), nil
	}
	return nil, err
}
