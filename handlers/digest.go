package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/holdfast/holdfast/slackid"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/bot"
	"github.com/holdfast/holdfast/digest"
	"github.com/holdfast/holdfast/store"
)

// DigestStore is what /digest and the digest job read and write.
type DigestStore interface {
	SubscribeDigest(ctx context.Context, d store.DigestSubscription) (store.DigestSubscription, bool, error)
	DigestSubscriptions(ctx context.Context, channel string) ([]store.DigestSubscription, error)
	UnsubscribeDigest(ctx context.Context, channel, frequency string) (int, error)
	SendDigestOnce(ctx context.Context, subscriptionID int64, period string, start, end time.Time, post store.OutboxItem) (bool, error)
	DigestsSent(ctx context.Context, periods []store.DigestPeriod) (map[store.DigestPeriod]bool, error)
	HealthWorsened(ctx context.Context, q store.DigestQuery) ([]store.ScoreChange, error)
	ARRAtRisk(ctx context.Context, q store.DigestQuery) (int, float64, error)
	CompetitorMentions(ctx context.Context, q store.DigestQuery, perCompetitor int) ([]store.CompetitorCount, []store.MentionExample, error)
	SentimentChanges(ctx context.Context, q store.DigestQuery) ([]store.SentimentChange, error)
}

// Digests answers /digest and sends the scheduled digests.
type Digests struct {
	store    DigestStore
	settings digest.Settings
	now      func() time.Time
	log      *slog.Logger
}

// NewDigests wires /digest; settings are the digest: defaults.
func NewDigests(st DigestStore, settings digest.Settings, now func() time.Time, log *slog.Logger) *Digests {
	return &Digests{store: st, settings: settings, now: now, log: log}
}

// DigestJobSpec is how often the job looks for due digests; each goes out
// at its own time, within this much of it.
const DigestJobSpec = "*/5 * * * *"

// Register adds /digest.
func (d *Digests) Register(r *Router) { r.HandleCommand("/digest", d.command) }

func (d *Digests) command(ctx context.Context, cmd slack.SlashCommand) (bot.Reply, error) {
	c, err := digest.ParseCommand(cmd.Text)
	if err != nil {
		return reply(blocks.Problem("%s. Try `/digest help`.", err.Error())), nil
	}
	if c.Action == "help" {
		return bot.Reply{Message: blocks.Message{Text: digest.Usage}}, nil
	}
	if !slackid.Channel(cmd.ChannelID) {
		return reply(blocks.Problem("Run /digest in the channel that should get the digest (not in a direct message).")), nil
	}
	switch c.Action {
	case "subscribe":
		return d.subscribe(ctx, cmd, c)
	case "list":
		return d.list(ctx, cmd.ChannelID)
	case "unsubscribe":
		n, err := d.store.UnsubscribeDigest(ctx, cmd.ChannelID, c.Frequency)
		if err != nil {
			return bot.Reply{}, err
		}
		if n == 0 {
			if c.Frequency != "" {
				return reply(blocks.Problem("This channel has no %s digest subscription.", c.Frequency)), nil
			}
			return reply(blocks.Problem("This channel has no digest subscription.")), nil
		}
		what := "digest subscriptions"
		if c.Frequency != "" {
			what = c.Frequency + " digest"
		}
		return bot.Reply{InChannel: true, Message: blocks.Message{Text: fmt.Sprintf("<@%s> unsubscribed this channel from the %s.", cmd.UserID, what)}}, nil
	case "preview":
		return d.preview(ctx, cmd.ChannelID, c.Frequency)
	}
	return reply(blocks.Problem("I don't know that /digest command. Try `/digest help`.")), nil
}

func (d *Digests) subscribe(ctx context.Context, cmd slack.SlashCommand, c digest.Command) (bot.Reply, error) {
	tz := c.Timezone
	if tz == "" {
		tz = d.settings.Timezone
	}
	loc, err := time.LoadLocation(tz)
	if err != nil || tz == "" || tz == "Local" { // "Local" is the bot server's zone, not the channel's
		return reply(blocks.Problem("tz=%s is not a time zone I know. Use an IANA name like Europe/Berlin or America/New_York.", tz)), nil
	}
	sendAt := c.SendAt
	if sendAt == "" {
		sendAt = d.settings.SendAt
	}
	sub, created, err := d.store.SubscribeDigest(ctx, store.DigestSubscription{ChannelID: cmd.ChannelID, Frequency: c.Frequency,
		Topics: c.Topics, MinARR: c.MinARR, Tier: c.Tier, Timezone: loc.String(), SendAt: sendAt, CreatedBy: cmd.UserID})
	if err != nil {
		return bot.Reply{}, err
	}
	verb := "subscribed this channel to"
	if !created {
		verb = "changed this channel's subscription to"
	}
	text := fmt.Sprintf("<@%s> %s the %s.", cmd.UserID, verb, d.describe(sub))
	if live := liveTopics(sub.Topics); live != "" {
		text += " " + live + " alerts will also be posted here as they happen."
	}
	return bot.Reply{InChannel: true, Message: blocks.Message{Text: text}}, nil
}

// describe: "weekly digest (risk, competitors) for Enterprise accounts from
// $50k ARR, Mondays at 09:00 Europe/Berlin".
func (d *Digests) describe(s store.DigestSubscription) string {
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
	when := "daily at " + s.SendAt
	if s.Frequency == digest.Weekly {
		when = d.settings.Weekday().String() + "s at " + s.SendAt
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
	for _, t := range []string{store.TopicCompetitors, store.TopicSentiment} {
		if all || slices.Contains(topics, t) {
			live = append(live, map[string]string{store.TopicCompetitors: "Competitor-mention", store.TopicSentiment: "sentiment-drop"}[t])
		}
	}
	return strings.Join(live, " and ")
}

func (d *Digests) list(ctx context.Context, channel string) (bot.Reply, error) {
	subs, err := d.store.DigestSubscriptions(ctx, channel)
	if err != nil {
		return bot.Reply{}, err
	}
	if len(subs) == 0 {
		return bot.Reply{Message: blocks.Message{Text: "This channel has no digest subscription. Start one with `/digest subscribe weekly`."}}, nil
	}
	lines := []string{"This channel gets:"}
	for _, s := range subs {
		lines = append(lines, "• the "+d.describe(s)+" (set up by <@"+s.CreatedBy+">)")
	}
	return bot.Reply{Message: blocks.Message{Text: strings.Join(lines, "\n")}}, nil
}

// preview shows a subscription's digest as of now to the person asking.
func (d *Digests) preview(ctx context.Context, channel, frequency string) (bot.Reply, error) {
	subs, err := d.store.DigestSubscriptions(ctx, channel)
	if err != nil {
		return bot.Reply{}, err
	}
	sub := store.DigestSubscription{ChannelID: channel, Frequency: digest.Daily, Timezone: d.settings.Timezone, SendAt: d.settings.SendAt}
	for _, s := range subs {
		if frequency == "" || s.Frequency == frequency {
			sub = s
			break
		}
	}
	if frequency != "" {
		sub.Frequency = frequency
	}
	end := d.now()
	start := end.AddDate(0, 0, -1)
	if sub.Frequency == digest.Weekly {
		start = end.AddDate(0, 0, -7)
	}
	m, err := d.build(ctx, sub, location(sub.Timezone), start, end, true)
	if err != nil {
		return bot.Reply{}, err
	}
	return bot.Reply{Message: m}, nil
}

func (d *Digests) build(ctx context.Context, sub store.DigestSubscription, loc *time.Location, start, end time.Time, preview bool) (blocks.Message, error) {
	q := store.DigestQuery{Start: start, End: end, MinARR: sub.MinARR, Tier: sub.Tier}
	in := digest.Input{Frequency: sub.Frequency, Topics: sub.Topics, Start: start, End: end, Location: loc}
	topic := func(t string) bool { return len(sub.Topics) == 0 || slices.Contains(sub.Topics, t) }
	var err error
	if topic(store.TopicRisk) {
		if in.Worsened, err = d.store.HealthWorsened(ctx, q); err != nil {
			return blocks.Message{}, err
		}
		if in.AtRiskCount, in.AtRiskARR, err = d.store.ARRAtRisk(ctx, q); err != nil {
			return blocks.Message{}, err
		}
	}
	if topic(store.TopicCompetitors) {
		if in.Competitors, in.Examples, err = d.store.CompetitorMentions(ctx, q, digest.MaxExamples); err != nil {
			return blocks.Message{}, err
		}
	}
	if topic(store.TopicSentiment) {
		if in.Sentiment, err = d.store.SentimentChanges(ctx, q); err != nil {
			return blocks.Message{}, err
		}
	}
	return blocks.Digest(digest.Build(in), blocks.DigestFilters{MinARR: sub.MinARR, Tier: sub.Tier, Preview: preview}), nil
}

func location(tz string) *time.Location {
	if loc, err := time.LoadLocation(tz); err == nil {
		return loc
	}
	return time.UTC
}

// Run is the digest job: every subscription whose period is due gets its
// digest, once. A period stays due for digest.Grace after its send time,
// so most runs find only periods sent already: one query answers that
// before any digest is built. Claiming the period and queueing the post
// happen in one transaction (store.SendDigestOnce), so replicas racing
// here, or a run repeated after a crash, send it once.
func (d *Digests) Run(ctx context.Context, now time.Time) error {
	subs, err := d.store.DigestSubscriptions(ctx, "")
	if err != nil {
		return err
	}
	type dueDigest struct {
		sub    store.DigestSubscription
		loc    *time.Location
		period digest.Period
	}
	var due []dueDigest
	var keys []store.DigestPeriod
	var errs []error
	locs := map[string]*time.Location{} // LoadLocation reads the zone file every time
	for _, sub := range subs {
		loc, ok := locs[sub.Timezone]
		if !ok {
			loc = location(sub.Timezone)
			locs[sub.Timezone] = loc
		}
		p, isDue, err := digest.Due(digest.Schedule{Frequency: sub.Frequency, Location: loc, SendAt: sub.SendAt,
			Weekday: d.settings.Weekday()}, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("subscription %d: %w", sub.ID, err))
			continue
		}
		if isDue {
			due = append(due, dueDigest{sub, loc, p})
			keys = append(keys, store.DigestPeriod{SubscriptionID: sub.ID, Period: p.Key})
		}
	}
	sentAlready, err := d.store.DigestsSent(ctx, keys)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, dd := range due {
		sub, p := dd.sub, dd.period
		if sentAlready[store.DigestPeriod{SubscriptionID: sub.ID, Period: p.Key}] {
			continue
		}
		m, err := d.build(ctx, sub, dd.loc, p.Start, p.End, false)
		if err != nil {
			errs = append(errs, fmt.Errorf("subscription %d: %w", sub.ID, err))
			continue
		}
		sent, err := d.store.SendDigestOnce(ctx, sub.ID, p.Key, p.Start, p.End,
			store.OutboxItem{Op: store.OpPost, ChannelID: sub.ChannelID, Message: m})
		if err != nil {
			errs = append(errs, fmt.Errorf("subscription %d: %w", sub.ID, err))
			continue
		}
		if sent {
			d.log.Info("digest queued", "channel", sub.ChannelID, "frequency", sub.Frequency, "period", p.Key)
		}
	}
	return errors.Join(errs...)
}
