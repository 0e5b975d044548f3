// Package access decides who may see what, and where: people from other
// organisations get nothing internal, answers never show internal figures
// in a channel an outside organisation can read, a channel that becomes
// shared is treated as shared from then on, each person sees the accounts
// their role allows (roles), and sensitive reads and changes are audited.
package access

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/bot"
	"github.com/holdfast/holdfast/handlers"
	"github.com/holdfast/holdfast/slackid"
	"github.com/holdfast/holdfast/store"
)

// Slack is what access asks Slack.
type Slack interface {
	UserInfo(ctx context.Context, user string) (bot.SlackUser, error)
	Workspace(ctx context.Context) (bot.Workspace, error)
	BotInChannel(ctx context.Context, channel string) (bool, error)
}

// Sharing knows which channels another organisation can read.
type Sharing interface {
	Shared(ctx context.Context, channel string) (bool, error)
	Route(ctx context.Context, channel string) (string, error)
	Forget(channel string)
	// OnShared is called when a channel is first found shared by asking
	// Slack (no channel_shared event seen).
	OnShared(fn func(ctx context.Context, channel string) error)
}

// Module is the access feature: the Router's gate, the channel_shared
// event, roles, /help and the audit trail.
type Module struct {
	store   *store.Store
	slack   Slack
	sharing Sharing
	roles   *Roles
	router  *handlers.Router
	now     func() time.Time
	log     *slog.Logger

	mu       sync.Mutex
	home     bot.Workspace
	verdicts map[string]verdict // user id -> from another organisation?
}

type verdict struct {
	external bool
	until    time.Time
}

// userTTL is how long users.info's answer about someone's organisation is kept.
const userTTL = 10 * time.Minute

// New wires the access feature. roles may be nil (no roles configured:
// everyone sees everything, as before roles existed).
func New(st *store.Store, sl Slack, sharing Sharing, roles *Roles, now func() time.Time, log *slog.Logger) *Module {
	return &Module{store: st, slack: sl, sharing: sharing, roles: roles, now: now, log: log, verdicts: map[string]verdict{}}
}

// Name names the feature in the wiring.
func (m *Module) Name() string { return "access" }

// Register gates the router and takes the channel_shared event and /help.
func (m *Module) Register(r *handlers.Router) {
	m.router = r
	r.SetGate(m)
	m.sharing.OnShared(m.tellOwner)
	r.HandleEvent(string(slackevents.ChannelShared), m.channelShared)
	r.HandleCommand("/help", m.help)
}

// Neutral is all a person from another organisation is told.
var Neutral = blocks.Message{Text: "Sorry, this command isn't available here."}

// Elsewhere answers a command used in a shared channel; the answer itself
// went to the user's DM.
var Elsewhere = blocks.Message{Text: "This channel is shared with another organisation, so I don't show account details here. " +
	"I sent my answer to you in a direct message."}

// Command turns away people from other organisations and keeps answers
// out of shared channels.
func (m *Module) Command(ctx context.Context, cmd slack.SlashCommand, next handlers.CommandFunc) (bot.Reply, error) {
	external, err := m.external(ctx, cmd.UserID, cmd.TeamID, cmd.EnterpriseID)
	if err != nil {
		return bot.Reply{}, err
	}
	if external {
		m.log.Info("command from another organisation refused", "command", cmd.Command, "user", cmd.UserID, "team", cmd.TeamID)
		return bot.Reply{Message: Neutral}, nil
	}
	ctx = handlers.WithRequest(ctx, cmd.TriggerID)
	p := m.roles.Current(ctx, cmd.UserID)
	if p.Restricted() {
		ctx = handlers.WithViewer(ctx, p)
	}
	if refusal := refuse(p, cmd); refusal != nil {
		return bot.Reply{Message: *refusal}, nil
	}
	verb := firstWord(cmd.Text)
	if cmd.Command == "/digest" && (verb == "subscribe" || verb == "unsubscribe") && slackid.Channel(cmd.ChannelID) {
		if in, err := m.slack.BotInChannel(ctx, cmd.ChannelID); err != nil || !in {
			return bot.Reply{Message: notInChannel}, err
		}
	}
	shared, err := m.sharing.Shared(ctx, cmd.ChannelID)
	if err != nil {
		return bot.Reply{}, err
	}
	if shared && cmd.Command == "/digest" && verb == "subscribe" {
		return bot.Reply{Message: sharedDigest}, nil
	}
	r, err := next(ctx, cmd)
	if err == nil && cmd.Command == "/digest" && (verb == "subscribe" || verb == "unsubscribe") && r.InChannel {
		// Only a change is answered in the channel.
		err = handlers.Audit(ctx, m.store, cmd.UserID, "digest."+verb, 0, cmd.ChannelID)
	}
	if err != nil || !shared || (r.Text == "" && len(r.Blocks) == 0) {
		return r, err
	}
	// The answer may hold ARR, scores or notes: it goes to the asker's DM,
	// and the shared channel only learns where it went.
	if err := m.store.Enqueue(ctx, store.OutboxItem{Op: store.OpPost, ChannelID: cmd.UserID, Message: r.Message}); err != nil {
		return bot.Reply{}, err
	}
	return bot.Reply{Message: Elsewhere}, nil
}

// Interaction turns away clicks and submissions from other organisations
// and scopes the rest to what the person's role allows.
func (m *Module) Interaction(ctx context.Context, cb slack.InteractionCallback) (context.Context, *blocks.Message, error) {
	team := cb.User.TeamID
	if team == "" {
		team = cb.Team.ID
	}
	external, err := m.external(ctx, cb.User.ID, team, cb.Enterprise.ID)
	if err != nil {
		return ctx, nil, err
	}
	if external {
		m.log.Info("interaction from another organisation refused", "user", cb.User.ID, "team", team)
		return ctx, &Neutral, nil
	}
	key := cb.TriggerID
	if key == "" && len(cb.ActionCallback.BlockActions) > 0 {
		key = cb.ActionCallback.BlockActions[0].ActionTs
	}
	ctx = handlers.WithRequest(ctx, key)
	if p := m.roles.Current(ctx, cb.User.ID); p.Restricted() {
		ctx = handlers.WithViewer(ctx, p)
	}
	return ctx, nil, nil
}

// notInChannel: a digest the bot cannot post would fail every time.
var notInChannel = blocks.Message{Text: "I'm not a member of this channel, so I couldn't post a digest here. " +
	"Invite me first (type `/invite @Holdfast` here, or open the channel's details › Integrations › Add apps), then run the command again."}

// sharedDigest: a digest holds ARR and scores of many accounts.
var sharedDigest = blocks.Message{Text: "This channel is shared with another organisation, and digests hold internal figures. " +
	"Subscribe an internal channel instead."}

// reportsOnly answers commands whose figures span every account.
var reportsOnly = blocks.Message{Text: "Sorry, that report is for leadership, managers and finance. " +
	"`/health` and `/atrisk` show the accounts in your book."}

// digestsOnly answers a subscription change by someone else.
var digestsOnly = blocks.Message{Text: "Sorry, only leadership and Holdfast admins can change digest subscriptions. " +
	"Ask one of them to run the command in this channel."}

// refuse is the answer to a command p's role does not allow, nil when it
// does (or when reads are decided per account by the picker).
func refuse(p Person, cmd slack.SlashCommand) *blocks.Message {
	if !p.Restricted() {
		return nil
	}
	verb := firstWord(cmd.Text)
	switch cmd.Command {
	case "/digest":
		switch verb {
		case "subscribe", "unsubscribe":
			if !p.MayManageDigests() {
				return &digestsOnly
			}
		case "preview":
			if !p.MaySeeReports() {
				return &reportsOnly
			}
		}
	case "/offers":
		if verb == "stats" && !p.MaySeeReports() {
			return &reportsOnly
		}
	case "/nps", "/atrisk":
		if verb == "report" && !p.MaySeeReports() {
			return &reportsOnly
		}
	case "/rootcause":
		if !p.MaySeeReports() {
			return &reportsOnly
		}
	}
	return nil
}

func firstWord(s string) string {
	f := strings.Fields(strings.ToLower(s))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// external says whether user belongs to another organisation: the request
// names another team (outside the installation's Enterprise Grid
// organisation, if any), or users.info calls them a stranger or puts them
// in such a team.
func (m *Module) external(ctx context.Context, user, team, enterprise string) (bool, error) {
	home, err := m.homeWorkspace(ctx)
	if err != nil {
		return false, err
	}
	foreign := func(team, enterprise string) bool {
		return team != "" && team != home.TeamID && (home.EnterpriseID == "" || enterprise != home.EnterpriseID)
	}
	if foreign(team, enterprise) || user == "" {
		return true, nil
	}
	m.mu.Lock()
	v, ok := m.verdicts[user]
	m.mu.Unlock()
	if ok && m.now().Before(v.until) {
		return v.external, nil
	}
	u, err := m.slack.UserInfo(ctx, user)
	if err != nil {
		return false, fmt.Errorf("who is %s: %w", user, err)
	}
	external := u.Stranger || foreign(u.TeamID, u.EnterpriseID)
	m.mu.Lock()
	m.verdicts[user] = verdict{external: external, until: m.now().Add(userTTL)}
	m.mu.Unlock()
	return external, nil
}

func (m *Module) homeWorkspace(ctx context.Context) (bot.Workspace, error) {
	m.mu.Lock()
	home := m.home
	m.mu.Unlock()
	if home.TeamID != "" {
		return home, nil
	}
	home, err := m.slack.Workspace(ctx)
	if err != nil {
		return home, fmt.Errorf("which workspace is this: %w", err)
	}
	m.mu.Lock()
	m.home = home
	m.mu.Unlock()
	return home, nil
}

// channelShared records that a channel became shared, so nothing internal
// goes there from now on, and tells the account's owner once.
func (m *Module) channelShared(ctx context.Context, ev slackevents.EventsAPIEvent) error {
	e, ok := ev.InnerEvent.Data.(*slackevents.ChannelSharedEvent)
	if !ok || e.Channel == "" {
		return nil
	}
	m.sharing.Forget(e.Channel)
	if _, err := m.store.MarkChannelShared(ctx, e.Channel, "event"); err != nil {
		return fmt.Errorf("channel %s shared: %w", e.Channel, err)
	}
	if err := m.tellOwner(ctx, e.Channel); err != nil {
		return fmt.Errorf("channel %s shared: %w", e.Channel, err)
	}
	m.log.Info("channel shared with another organisation", "channel", e.Channel, "team", e.ConnectedTeamID)
	return nil
}

// tellOwner tells the owner of the account whose channel became shared,
// once, where its internal messages go from now on.
func (m *Module) tellOwner(ctx context.Context, channel string) error {
	return m.store.InTx(ctx, func(tx store.Tx) error {
		a, err := tx.AccountByChannel(ctx, channel)
		if err != nil {
			return ignoreNotFound(err)
		}
		owner, err := tx.SlackUser(ctx, a.OwnerCSM)
		if err != nil || owner == "" {
			return err
		}
		first, err := tx.ClaimOwnerTold(ctx, channel)
		if err != nil || !first {
			return err
		}
		to := "your DM"
		if a.InternalChannel != "" {
			to = "<#" + a.InternalChannel + ">"
		}
		text := fmt.Sprintf("<#%s> is now shared with another organisation. From now on I send internal messages about *%s* "+
			"(alerts, scores, ARR, offers, NPS follow-ups) to %s instead.", channel, blocks.Escape(a.Name), to)
		if a.InternalChannel == "" {
			text += " To use a channel instead, set the account's `internal_channel`."
		}
		return tx.Enqueue(ctx, store.OutboxItem{Op: store.OpPost, ChannelID: owner, Message: blocks.Info(text)})
	})
}

func ignoreNotFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}
