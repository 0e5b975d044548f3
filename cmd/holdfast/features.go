package main

// Adapters that give today's packages the feature face; each goes away
// when its concept moves into a module of its own under internal/.

import (
	"context"
	"time"

	"github.com/holdfast/holdfast/api"
	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/bot"
	"github.com/holdfast/holdfast/crm"
	"github.com/holdfast/holdfast/crm/salesforce"
	"github.com/holdfast/holdfast/dunning"
	"github.com/holdfast/holdfast/handlers"
	"github.com/holdfast/holdfast/handoff"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/notes"
	"github.com/holdfast/holdfast/npsflow"
	"github.com/holdfast/holdfast/schedule"
	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/store"
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

// loopFeature: churn root causes back to Sales (/churned, debriefs,
// /rootcause, monthly post, check-ins) and the weekly win-back list.
type loopFeature struct{ *handlers.Loop }

func (loopFeature) Name() string { return "churn" }

func newLoop(in infra) loopFeature {
	return loopFeature{handlers.NewLoop(in.store, in.sender, in.cfg.Settings, in.now, in.log)}
}

// dunningFeature: payment failures by decline reason, from every ingested
// payment signal and the Stripe webhook.
type dunningFeature struct {
	svc    *dunning.Service
	stripe *dunning.StripeWebhook
}

func (dunningFeature) Name() string { return "dunning" }
func (f dunningFeature) IngestHooks() []ingest.Hook {
	return []ingest.Hook{ingest.HookFunc(f.svc.Hook)}
}
func (f dunningFeature) Routes() []api.Route {
	return []api.Route{{Pattern: "POST /webhooks/stripe", Name: "stripe_webhook", Handler: f.stripe.ServeHTTP}}
}

func newDunning(in infra) dunningFeature {
	return dunningFeature{svc: dunning.NewService(in.cfg.Settings.Dunning, in.cfg.Settings.Alerts, in.now, in.log),
		stripe: dunning.NewStripeWebhook(in.cfg.StripeWebhookSecret, in.ingest, in.store, in.now, in.log)}
}

// offersFeature: /offer, /offers, approvals in threads and DMs, revisions,
// SLA nudges and escalation, renewal outcome tracking.
type offersFeature struct{ *handlers.Offers }

func (offersFeature) Name() string { return "offers" }
func (f offersFeature) Jobs() []schedule.Job {
	return []schedule.Job{
		{Name: "offers-sla", Spec: "* * * * *", Run: f.RunSLAs},
		{Name: "offers-outcomes", Spec: "30 6 * * *", Run: f.ResolveOutcomes},
	}
}
func (f offersFeature) HomeSections() []handlers.HomeSection {
	return []handlers.HomeSection{{Name: "offers", Render: func(ctx context.Context, user string, now time.Time) (blocks.HomeSection, bool, error) {
		title, bs, ok, err := f.PendingForHome(ctx, user, now)
		return blocks.HomeSection{Title: title, Blocks: bs}, ok, err
	}}}
}

func newOffers(in infra) offersFeature {
	var summarizer handlers.Summarizer
	if in.model != nil {
		summarizer = in.model
	}
	return offersFeature{handlers.NewOffers(in.store, in.sender, summarizer, in.cfg.Settings.Offers, in.now, in.log)}
}

// npsFeature: answers in through the ingest pipeline (POST /v1/nps),
// detractor loops in threads, survey cadence, survey-tool webhook,
// reminders and the weekly digest.
type npsFeature struct {
	*npsflow.Service
	handlers *handlers.NPS
	jobs     []schedule.Job
}

func (npsFeature) Name() string                  { return "nps" }
func (f npsFeature) Register(r *handlers.Router) { f.handlers.Register(r) }
func (f npsFeature) Jobs() []schedule.Job        { return f.jobs }
func (f npsFeature) HomeSections() []handlers.HomeSection {
	return []handlers.HomeSection{{Name: "nps", Render: func(ctx context.Context, user string, now time.Time) (blocks.HomeSection, bool, error) {
		loops, err := f.OpenLoopsFor(ctx, user, 16)
		if err != nil || len(loops) == 0 {
			return blocks.HomeSection{}, false, err
		}
		return blocks.HomeSection{Title: "Your open detractor loops", Blocks: blocks.NPSHomeLoops(loops, now)}, true, nil
	}}}
}

func newNPS(in infra) npsFeature {
	set := in.cfg.Settings
	svc := npsflow.New(in.store, in.ingest, in.analyzer, npsflow.Options{
		Settings: set.NPS, DefaultChannel: set.Alerts.DefaultChannel,
		Location: set.Schedule.Location(), WebhookSecret: in.cfg.SurveyWebhookSecret,
	}, in.now, in.log)
	webhookSpec := set.NPS.Jobs.Webhook
	if set.NPS.Webhook.URL == "" {
		webhookSpec = schedule.Off // no survey tool to send to
	}
	return npsFeature{Service: svc, handlers: handlers.NewNPS(svc, in.store, in.sender), jobs: []schedule.Job{
		{Name: npsflow.JobCadence, Spec: set.NPS.Cadence.Spec, Run: svc.Cadence},
		{Name: npsflow.JobLoops, Spec: set.NPS.Jobs.Loops, Run: svc.Loops},
		{Name: npsflow.JobWebhook, Spec: webhookSpec, Run: svc.Webhook},
		{Name: npsflow.JobDigest, Spec: set.NPS.Digest.Spec, Run: svc.Digest},
	}}
}
