package main

// Adapters that give today's packages the feature face; each goes away
// when its concept moves into a module of its own under internal/.

import (
	"github.com/holdfast/holdfast/api"
	"github.com/holdfast/holdfast/bot"
	"github.com/holdfast/holdfast/crm"
	"github.com/holdfast/holdfast/crm/salesforce"
	"github.com/holdfast/holdfast/handlers"
	"github.com/holdfast/holdfast/handoff"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/internal/offers"
	"github.com/holdfast/holdfast/notes"
	"github.com/holdfast/holdfast/schedule"
	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/store"
	"github.com/holdfast/holdfast/textai"
)

type ingestFeature struct{ *ingest.Pipeline }

func (ingestFeature) Name() string { return "ingest" }

type accountsFeature struct{ *handlers.Handlers }

func (accountsFeature) Name() string { return "accounts" }

func newAccounts(in infra) accountsFeature {
	return accountsFeature{handlers.New(in.store, in.sender, in.now, in.log)}
}

// roomsFeature: won deals -> handoff rooms, notes with summaries, CRM write-back.
type roomsFeature struct {
	rooms   *handlers.Rooms
	deals   *handoff.Deals
	workers []store.Worker
	hooks   []ingest.Hook
}

func (roomsFeature) Name() string                  { return "rooms" }
func (f roomsFeature) Register(r *handlers.Router) { f.rooms.Register(r) }
func (f roomsFeature) Routes() []api.Route         { return f.deals.Routes() }
func (f roomsFeature) Workers() []store.Worker     { return f.workers }
func (f roomsFeature) IngestHooks() []ingest.Hook  { return f.hooks }

func newRooms(in infra) roomsFeature {
	cfg, set := in.cfg, in.cfg.Settings
	channels := bot.NewChannels(in.sender)
	f := roomsFeature{deals: handoff.NewDeals(in.store, cfg.CRM.WebhookSecret, in.now, in.log)}
	f.workers = append(f.workers, handoff.New(in.store, channels, handoff.Settings{Pattern: set.Rooms.ChannelPattern,
		Private: set.Rooms.Private, Invite: set.Rooms.Invite, NotRooms: []string{set.Alerts.DefaultChannel}}, in.now, in.log))
	var m notes.Model // a nil interface, not a nil *llm.Client, when no model is configured
	if in.model != nil {
		m = in.model
	}
	crmOn := cfg.CRM.Enabled()
	kinds := map[string]bool{}
	for _, k := range set.CRM.WriteBack {
		kinds[k] = true
	}
	f.workers = append(f.workers, notes.NewWorker(in.store, notes.NewSummarizer(m, in.log),
		notes.CRMPolicy{Enabled: crmOn, NoteObject: set.CRM.NoteObject, Kinds: kinds}, in.log))
	if crmOn {
		sf := salesforce.New(salesforce.Config{InstanceURL: cfg.CRM.InstanceURL, TokenURL: cfg.CRM.TokenURL,
			ClientID: cfg.CRM.ClientID, ClientSecret: cfg.CRM.ClientSecret, AccessToken: cfg.CRM.AccessToken,
			APIVersion: set.CRM.Salesforce.APIVersion, ExternalIDField: set.CRM.Salesforce.ExternalIDField,
			CaseOrigin: set.CRM.Salesforce.CaseOrigin})
		f.workers = append(f.workers, crm.NewWriter(in.store, sf, in.log))
		in.log.Info("crm write-back on", "crm", cfg.CRM.String())
	}
	var summarize []scoring.Kind
	for _, k := range set.Rooms.Summarize {
		summarize = append(summarize, scoring.Kind(k))
	}
	f.hooks = append(f.hooks, notes.Hook(summarize...))
	f.rooms = handlers.NewRooms(in.store, roomSlack{in.sender, channels}, handlers.RoomsSettings{Admins: set.Rooms.Admins, CRMEnabled: crmOn},
		in.now, in.log)
	return f
}

// roomSlack is what the room handlers call on Slack.
type roomSlack struct {
	*bot.Sender
	*bot.Channels
}

// textFeature: customer messages in account channels become signals;
// competitor and sentiment alerts are raised at ingest and can be claimed.
type textFeature struct {
	messages *handlers.SlackMessages
	alerts   *handlers.TextAlerts
	hook     *ingest.TextAlerts
}

func (textFeature) Name() string { return "text" }
func (f textFeature) Register(r *handlers.Router) {
	f.messages.Register(r)
	f.alerts.Register(r)
}
func (f textFeature) IngestHooks() []ingest.Hook { return []ingest.Hook{f.hook} }

func newTextSignals(in infra) textFeature {
	set := in.cfg.Settings
	var insight ingest.Insighter
	if analyst := textai.New(in.model, in.cfg.LLM.Model, set.Text.Competitors, in.store, in.log); analyst != nil {
		insight = analyst // summaries in competitor alerts
	}
	return textFeature{
		messages: handlers.NewSlackMessages(in.store, in.ingest, set.Text.SlackAuthors, in.now, in.log),
		alerts:   handlers.NewTextAlerts(in.store, in.now),
		hook:     ingest.NewTextAlerts(set.Text, set.Alerts, insight, in.log),
	}
}

type digestFeature struct{ *handlers.Digests }

func (digestFeature) Name() string { return "digest" }
func (f digestFeature) Jobs() []schedule.Job {
	return []schedule.Job{{Name: "digest", Spec: handlers.DigestJobSpec, Run: f.Run}}
}

func newDigests(in infra) digestFeature {
	return digestFeature{handlers.NewDigests(in.store, in.cfg.Settings.Digest, in.now, in.log)}
}

// newOffers builds retention offers on their settings: a nil interface,
// not a nil *llm.Client, when no model is configured (the template summary
// then stands).
func newOffers(in infra) *offers.Module {
	var model offers.Summarizer
	if in.model != nil {
		model = in.model
	}
	return offers.New(in.store, in.sender, model, in.cfg.Settings.Offers, in.now, in.log)
}
