package main

// Adapters that give today's packages the feature face; each goes away
// when its concept moves into a module of its own under internal/.

import (
	"github.com/holdfast/holdfast/handlers"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/internal/offers"
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
