package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/holdfast/holdfast/api"
	"github.com/holdfast/holdfast/bot"
	"github.com/holdfast/holdfast/config"
	"github.com/holdfast/holdfast/crm"
	"github.com/holdfast/holdfast/crm/salesforce"
	"github.com/holdfast/holdfast/handlers"
	"github.com/holdfast/holdfast/handoff"
	"github.com/holdfast/holdfast/ingest"
	"github.com/holdfast/holdfast/llm"
	"github.com/holdfast/holdfast/notes"
	"github.com/holdfast/holdfast/schedule"
	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/store"
)

// roomWork is the account-room feature's background work: the handoff
// state machine, the note summariser and the CRM writer, each a durable
// queue in Postgres, woken by LISTEN/NOTIFY and polled as a backstop.
type roomWork struct {
	store *store.Store
	log   *slog.Logger
	loops map[string]*schedule.Loop

	deals   *handoff.Deals
	webhook string
	hooks   []store.TxHook
}

// newRoomWork wires the feature and registers its Slack handlers on router.
func newRoomWork(cfg config.Config, st *store.Store, sender *bot.Sender, router *handlers.Router, model *llm.Client,
	now func() time.Time, log *slog.Logger) *roomWork {
	set := cfg.Settings
	channels := bot.NewChannels(sender)
	w := &roomWork{store: st, log: log, loops: map[string]*schedule.Loop{},
		deals: handoff.NewDeals(st, now), webhook: cfg.CRM.WebhookSecret}

	runner := handoff.New(st, channels, handoff.Settings{Pattern: set.Rooms.ChannelPattern, Private: set.Rooms.Private,
		Invite: set.Rooms.Invite, NotRooms: []string{set.Alerts.DefaultChannel}}, now, log)
	w.add(store.QueueHandoffs, runner)

	var m notes.Model // a nil interface, not a nil *llm.Client, when no model is configured
	if model != nil {
		m = model
	}
	crmOn := cfg.CRM.Enabled()
	kinds := map[string]bool{}
	for _, k := range set.CRM.WriteBack {
		kinds[k] = true
	}
	w.add(store.QueueNotes, notes.NewWorker(st, notes.NewSummarizer(m, log),
		notes.CRMPolicy{Enabled: crmOn, NoteObject: set.CRM.NoteObject, Kinds: kinds}, log))
	if crmOn {
		sf := salesforce.New(salesforce.Config{InstanceURL: cfg.CRM.InstanceURL, TokenURL: cfg.CRM.TokenURL,
			ClientID: cfg.CRM.ClientID, ClientSecret: cfg.CRM.ClientSecret, AccessToken: cfg.CRM.AccessToken,
			APIVersion: set.CRM.Salesforce.APIVersion, ExternalIDField: set.CRM.Salesforce.ExternalIDField,
			CaseOrigin: set.CRM.Salesforce.CaseOrigin})
		w.add(store.QueueCRM, crm.NewWriter(st, sf, log))
		log.Info("crm write-back on", "crm", cfg.CRM.String())
	}

	var summarize []scoring.Kind
	for _, k := range set.Rooms.Summarize {
		summarize = append(summarize, scoring.Kind(k))
	}
	w.hooks = append(w.hooks, store.NotesHook(summarize...))

	handlers.NewRooms(st, roomSlack{sender, channels}, handlers.RoomsSettings{Admins: set.Rooms.Admins, CRMEnabled: crmOn},
		now, log).Register(router)
	return w
}

// roomSlack is what the room handlers call on Slack.
type roomSlack struct {
	*bot.Sender
	*bot.Channels
}

func (w *roomWork) add(name string, q schedule.Queue) {
	w.loops[name] = (&schedule.Loop{Name: name, Queue: q, Log: w.log}).Init()
}

// addHooks puts the feature's ingest hooks (notes to summarise) on the
// pipeline, so every way in runs them.
func (w *roomWork) addHooks(p *ingest.Pipeline) {
	for _, h := range w.hooks {
		p.AddHook(h)
	}
}

// mount puts POST /v1/deals and POST /webhooks/crm on the API.
func (w *roomWork) mount(server *api.Server) {
	deals, crmWebhook := server.DealsHandlers(w.deals, w.webhook)
	server.MountAuthed("POST /v1/deals", "deals", deals)
	server.Mount("POST /webhooks/crm", "crm_webhook", crmWebhook)
}

// Run works the queues until ctx ends.
func (w *roomWork) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() {
		for ctx.Err() == nil {
			err := w.store.ListenRooms(ctx, func(queue string) {
				if l := w.loops[queue]; l != nil {
					l.Wake()
				}
			})
			if err != nil {
				w.log.Warn("room notifications lost; polling until they are back", "err", err)
				select {
				case <-ctx.Done():
				case <-time.After(2 * time.Second):
				}
			}
		}
	})
	for _, l := range w.loops {
		wg.Go(func() { l.Run(ctx) })
	}
	wg.Wait()
}
