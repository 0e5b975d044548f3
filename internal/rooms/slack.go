package rooms

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/bot"
	"github.com/holdfast/holdfast/handlers"
	"github.com/holdfast/holdfast/store"
)

// Register puts /room, the review button and the review modal on r.
func (m *Module) Register(r *handlers.Router) {
	m.router = r
	r.HandleCommand("/room", m.room)
	r.HandleAction(blocks.ActionReviewOpen, m.openReview)
	r.HandleView(blocks.CallbackReview, m.reviewSubmitted)
}

const roomUsage = "Usage: `/room <account>` shows an account's room; `/room link <account>` (in a channel) makes that channel the account's room."

func (m *Module) room(ctx context.Context, cmd slack.SlashCommand) (bot.Reply, error) {
	text := strings.TrimSpace(cmd.Text)
	verb, rest, _ := strings.Cut(text, " ")
	switch {
	case text == "" || strings.EqualFold(text, "help"):
		if a, err := m.st.AccountByChannel(ctx, cmd.ChannelID); err == nil {
			return m.status(ctx, a)
		}
		return bot.Reply{Message: blocks.Info(blocks.Escape(roomUsage))}, nil
	case strings.EqualFold(verb, "link"):
		return m.link(ctx, cmd, strings.TrimSpace(rest))
	}
	a, r, err := m.resolve(ctx, text)
	if a == nil {
		return r, err
	}
	return m.status(ctx, *a)
}

// resolve finds the one account a person meant, or the reply that says
// why not (ambiguous, unknown).
func (m *Module) resolve(ctx context.Context, query string) (*store.Account, bot.Reply, error) {
	a, ask, err := handlers.NewPicker(m.st).Find(ctx, query, handlers.PickPrompt{Usage: roomUsage})
	if err != nil {
		return nil, bot.Reply{}, err
	}
	if ask != nil {
		return nil, bot.Reply{Message: *ask}, nil
	}
	return a, bot.Reply{}, nil
}

func (m *Module) status(ctx context.Context, a store.Account) (bot.Reply, error) {
	v := RoomStatusView{AccountName: a.Name}
	room, err := RoomOf(ctx, m.st.DB(), a.ID)
	switch {
	case err == nil:
		v.RoomID, v.RoomName, v.Origin = room.ChannelID, room.ChannelName, room.Origin
	case !errors.Is(err, store.ErrNotFound):
		return bot.Reply{}, err
	}
	list, err := handoffsOf(ctx, m.st.DB(), a.ID)
	if err != nil {
		return bot.Reply{}, err
	}
	for _, h := range list {
		v.Handoffs = append(v.Handoffs, HandoffLine{DealName: h.DealName, Step: h.Step, Failed: h.Failed,
			Error: h.LastError, Missing: h.Missing})
	}
	return bot.Reply{Message: RoomStatus(v)}, nil
}

// mayManage: the account's owners and the configured admins may change
// where its room is.
func (m *Module) mayManage(a store.Account, user string) bool {
	return user != "" && (user == a.OwnerCSM || user == a.AE || user == a.SalesManager || slices.Contains(m.settings.Admins, user))
}

func (m *Module) link(ctx context.Context, cmd slack.SlashCommand, query string) (bot.Reply, error) {
	if query == "" {
		return bot.Reply{Message: blocks.Info(blocks.Escape(roomUsage))}, nil
	}
	if !strings.HasPrefix(cmd.ChannelID, "C") && !strings.HasPrefix(cmd.ChannelID, "G") {
		return bot.Reply{Message: blocks.Problem("Run /room link in the channel that should become the room (not in a direct message).")}, nil
	}
	a, r, err := m.resolve(ctx, query)
	if a == nil {
		return r, err
	}
	if !m.mayManage(*a, cmd.UserID) {
		return bot.Reply{Message: blocks.Problem("Only %s's CSM, AE or sales manager (or a rooms admin) can link its room.", a.Name)}, nil
	}
	name, err := m.channels.Join(ctx, cmd.ChannelID)
	if errors.Is(err, bot.ErrPrivateNotMember) {
		return bot.Reply{Message: blocks.Problem("I can't see this channel. Invite me (/invite @Holdfast) and run the command again.")}, nil
	}
	if err != nil {
		return bot.Reply{}, fmt.Errorf("join channel: %w", err)
	}
	err = m.linkRoom(ctx, Room{AccountID: a.ID, ChannelID: cmd.ChannelID, ChannelName: name, Origin: "linked", LinkedBy: cmd.UserID})
	var taken *ChannelTakenError
	if errors.As(err, &taken) {
		other := "another account"
		if o, err := m.st.Account(ctx, taken.AccountID); err == nil {
			other = o.Name
		}
		return bot.Reply{Message: blocks.Problem("This channel is already %s's room.", other)}, nil
	}
	if err != nil {
		return bot.Reply{}, err
	}
	msg := blocks.Info("🔗 This channel is now *" + blocks.Escape(a.Name) + "*'s room (linked by <@" + cmd.UserID +
		">). Its alerts, approvals, NPS follow-ups and notes will be posted here.")
	return bot.Reply{Message: msg, InChannel: true}, nil
}

func (m *Module) openReview(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
	id, err := strconv.ParseInt(act.Value, 10, 64)
	if err != nil {
		return fmt.Errorf("bad deal id %q", act.Value)
	}
	ok, err := mayReview(ctx, m.st.DB(), id, cb.User.ID)
	if errors.Is(err, store.ErrNotFound) {
		m.router.Tell(ctx, cb, blocks.Problem("That deal no longer exists."))
		return nil
	}
	if err != nil {
		return err
	}
	if !ok {
		m.router.Tell(ctx, cb, blocks.Problem("Only the deal's AE, the account's sales manager or its CSM can fill in its review."))
		return nil
	}
	d, err := dealByID(ctx, m.st.DB(), id)
	if err != nil {
		return err
	}
	a, ok, err := handlers.PickedAccount(ctx, m.st, m.router, cb, strconv.FormatInt(d.AccountID, 10))
	if !ok {
		return err
	}
	return m.views.OpenView(ctx, cb.TriggerID, ReviewModal(ReviewModalView{AccountName: a.Name, Deal: d}))
}

func (m *Module) reviewSubmitted(ctx context.Context, cb slack.InteractionCallback) (any, error) {
	id, err := strconv.ParseInt(cb.View.PrivateMetadata, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("bad review metadata %q", cb.View.PrivateMetadata)
	}
	d, errs := ReviewFromState(cb.View.State.Values)
	if errs != nil {
		return slack.NewErrorsViewSubmissionResponse(errs), nil
	}
	err = m.completeReview(ctx, id, d, cb.User.ID)
	if errors.Is(err, errNotAllowed) {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blocks.ReviewBlockDecisionMaker: "Only the deal's AE, the account's sales manager or its CSM can save this review."}), nil
	}
	return nil, err
}
