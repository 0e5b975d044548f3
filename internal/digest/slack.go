package digest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/bot"
	"github.com/holdfast/holdfast/slackid"
)

// /digest: subscribe, list, unsubscribe, preview.

func (m *Module) command(ctx context.Context, cmd slack.SlashCommand) (bot.Reply, error) {
	c, err := ParseCommand(cmd.Text)
	if err != nil {
		return reply(blocks.Problem("%s. Try `/digest help`.", err.Error())), nil
	}
	if c.Action == "help" {
		return bot.Reply{Message: blocks.Message{Text: Usage}}, nil
	}
	if !slackid.Channel(cmd.ChannelID) {
		return reply(blocks.Problem("Run /digest in the channel that should get the digest (not in a direct message).")), nil
	}
	switch c.Action {
	case "subscribe":
		return m.subscribe(ctx, cmd, c)
	case "list":
		return m.list(ctx, cmd.ChannelID)
	case "unsubscribe":
		n, err := unsubscribe(ctx, m.store.DB(), cmd.ChannelID, c.Frequency)
		if err != nil {
			return bot.Reply{}, err
		}
		if n == 0 {
			if c.Frequency == Live {
				return reply(blocks.Problem("This channel has no live subscription.")), nil
			}
			if c.Frequency != "" {
				return reply(blocks.Problem("This channel has no %s digest subscription.", c.Frequency)), nil
			}
			return reply(blocks.Problem("This channel has no digest subscription.")), nil
		}
		what := "digest subscriptions"
		switch c.Frequency {
		case "":
		case Live:
			what = "live churn-risk alerts"
		default:
			what = c.Frequency + " digest"
		}
		return bot.Reply{InChannel: true, Message: blocks.Message{Text: fmt.Sprintf("<@%s> unsubscribed this channel from the %s.", cmd.UserID, what)}}, nil
	case "preview":
		return m.preview(ctx, cmd.ChannelID, c.Frequency)
	}
	return reply(blocks.Problem("I don't know that /digest command. Try `/digest help`.")), nil
}

func (m *Module) subscribe(ctx context.Context, cmd slack.SlashCommand, c Command) (bot.Reply, error) {
	if c.Frequency == Live {
		return m.subscribeLive(ctx, cmd, c)
	}
	tz := c.Timezone
	if tz == "" {
		tz = m.settings.Timezone
	}
	loc, err := time.LoadLocation(tz)
	if err != nil || tz == "" || tz == "Local" { // "Local" is the bot server's zone, not the channel's
		return reply(blocks.Problem("tz=%s is not a time zone I know. Use an IANA name like Europe/Berlin or America/New_York.", tz)), nil
	}
	sendAt := c.SendAt
	if sendAt == "" {
		sendAt = m.settings.SendAt
	}
	sub, created, err := subscribe(ctx, m.store.DB(), Subscription{ChannelID: cmd.ChannelID, Frequency: c.Frequency,
		Topics: c.Topics, MinARR: c.MinARR, Tier: c.Tier, Timezone: loc.String(), SendAt: sendAt, CreatedBy: cmd.UserID})
	if err != nil {
		return bot.Reply{}, err
	}
	verb := "subscribed this channel to"
	if !created {
		verb = "changed this channel's subscription to"
	}
	text := fmt.Sprintf("<@%s> %s the %s.", cmd.UserID, verb, m.describe(sub))
	if live := liveTopics(sub.Topics); live != "" {
		text += " " + live + " alerts will also be posted here as they happen."
	}
	return bot.Reply{InChannel: true, Message: blocks.Message{Text: text}}, nil
}

// subscribeLive stores a live churn-risk subscription: no time zone or
// send time, since nothing is scheduled.
func (m *Module) subscribeLive(ctx context.Context, cmd slack.SlashCommand, c Command) (bot.Reply, error) {
	sub, created, err := subscribe(ctx, m.store.DB(), Subscription{ChannelID: cmd.ChannelID, Frequency: Live,
		Topics: []string{TopicRisk}, MinARR: c.MinARR, Tier: c.Tier, CreatedBy: cmd.UserID})
	if err != nil {
		return bot.Reply{}, err
	}
	verb := "subscribed this channel to"
	if !created {
		verb = "changed this channel's subscription to"
	}
	text := fmt.Sprintf("<@%s> %s %s: new critical alerts and recoveries will be posted here as they happen.", cmd.UserID, verb, m.describe(sub))
	return bot.Reply{InChannel: true, Message: blocks.Message{Text: text}}, nil
}

// describe: "weekly digest (risk, competitors) for Enterprise accounts from
// $50k ARR, Mondays at 09:00 Europe/Berlin"; "live churn-risk alerts for
// accounts from $250k ARR".
func (m *Module) describe(s Subscription) string {
	topics := "risk, competitors, sentiment"
	if len(s.Topics) > 0 {
		topics = strings.Join(s.Topics, ", ")
	}
	var scope []string
	if s.Tier != "" || s.MinARR > 0 {
		scope = append(scope, strings.TrimSpace(blocks.Escape(s.Tier)+" accounts"))
	}
	if s.MinARR > 0 {
		scope = append(scope, "from "+blocks.Money(s.MinARR)+" ARR")
	}
	if s.Frequency == Live {
		out := "live churn-risk alerts"
		if len(scope) > 0 {
			out += " for " + strings.Join(scope, " ")
		}
		return out
	}
	when := "daily at " + s.SendAt
	if s.Frequency == Weekly {
		when = m.settings.Weekday().String() + "s at " + s.SendAt
	}
	out := s.Frequency + " digest (" + topics + ")"
	if len(scope) > 0 {
		out += " for " + strings.Join(scope, " ")
	}
	return out + ", " + when + " " + s.Timezone
}

func liveTopics(topics []string) string {
	var live []string
	all := len(topics) == 0
	for _, t := range []string{TopicCompetitors, TopicSentiment} {
		if all || slices.Contains(topics, t) {
			live = append(live, map[string]string{TopicCompetitors: "Competitor-mention", TopicSentiment: "sentiment-drop"}[t])
		}
	}
	return strings.Join(live, " and ")
}

func (m *Module) list(ctx context.Context, channel string) (bot.Reply, error) {
	subs, err := subscriptions(ctx, m.store.DB(), channel)
	if err != nil {
		return bot.Reply{}, err
	}
	if len(subs) == 0 {
		return bot.Reply{Message: blocks.Message{Text: "This channel has no digest subscription. Start one with `/digest subscribe weekly`."}}, nil
	}
	lines := []string{"This channel gets:"}
	for _, s := range subs {
		lines = append(lines, "• the "+m.describe(s)+" (set up by <@"+s.CreatedBy+">)")
	}
	return bot.Reply{Message: blocks.Message{Text: strings.Join(lines, "\n")}}, nil
}

// preview shows a subscription's digest as of now to the person asking.
func (m *Module) preview(ctx context.Context, channel, frequency string) (bot.Reply, error) {
	subs, err := subscriptions(ctx, m.store.DB(), channel)
	if err != nil {
		return bot.Reply{}, err
	}
	sub := Subscription{ChannelID: channel, Frequency: Daily, Timezone: m.settings.Timezone, SendAt: m.settings.SendAt}
	for _, s := range subs {
		if s.Frequency == Live {
			continue // no digest: its alerts go out as they happen
		}
		if frequency == "" || s.Frequency == frequency {
			sub = s
			break
		}
	}
	if frequency != "" {
		sub.Frequency = frequency
	}
	end := m.now()
	start := end.AddDate(0, 0, -1)
	if sub.Frequency == Weekly {
		start = end.AddDate(0, 0, -7)
	}
	msg, err := m.build(ctx, sub, location(sub.Timezone), start, end, true)
	if err != nil {
		return bot.Reply{}, err
	}
	return bot.Reply{Message: msg}, nil
}

// reply answers only the person who typed the command.
func reply(m blocks.Message) bot.Reply { return bot.Reply{Message: m} }
