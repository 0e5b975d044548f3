package main

// Adapters that give today's packages the feature face; each goes away
// when its concept moves into a module of its own under internal/.

import (
	"context"
	"time"

	"github.com/holdfast/holdfast/api"
	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/dunning"
	"github.com/holdfast/holdfast/handlers"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/npsflow"
	"github.com/holdfast/holdfast/schedule"
	"github.com/holdfast/holdfast/textai"
)

type ingestFeature struct{ *ingest.Pipeline }

func (ingestFeature) Name() string { return "ingest" }

type accountsFeature struct{ *handlers.Handlers }

func (accountsFeature) Name() string { return "accounts" }

func newAccounts(in infra) accountsFeature {
	return accountsFeature{handlers.New(in.store, in.sender, in.now, in.log)}
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
