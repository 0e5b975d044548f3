package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"
	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/api"
	"github.com/holdfast/holdfast/bot"
	"github.com/holdfast/holdfast/config"
	"github.com/holdfast/holdfast/handlers"
	"github.com/holdfast/holdfast/internal/access"
	"github.com/holdfast/holdfast/internal/churn"
	"github.com/holdfast/holdfast/internal/connectors"
	"github.com/holdfast/holdfast/internal/crm"
	"github.com/holdfast/holdfast/internal/crm/salesforce"
	"github.com/holdfast/holdfast/internal/deadletters"
	"github.com/holdfast/holdfast/internal/digest"
	"github.com/holdfast/holdfast/internal/dunning"
	"github.com/holdfast/holdfast/internal/healthmodel"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/internal/notes"
	"github.com/holdfast/holdfast/internal/nps"
	"github.com/holdfast/holdfast/internal/offers"
	"github.com/holdfast/holdfast/internal/playbook"
	"github.com/holdfast/holdfast/internal/rooms"
	"github.com/holdfast/holdfast/internal/textsignals"
	"github.com/holdfast/holdfast/llm"
	"github.com/holdfast/holdfast/schedule"
	"github.com/holdfast/holdfast/scoring/text"
	"github.com/holdfast/holdfast/store"
)

// appOptions are the seams tests and local mode use.
type appOptions struct {
	now          func() time.Time // default time.Now
	listener     net.Listener     // default: listen on cfg.HTTPAddr
	channelLimit *redis_rate.Limit
	alertScope   string // prefix of alert cooldown keys (local mode's run)
}

// infra is what every feature is built on: Postgres, Redis, Slack, the
// clock, the optional language model, and the shared ingest pipeline.
type infra struct {
	cfg      config.Config
	now      func() time.Time
	log      *slog.Logger
	store    *store.Store
	redis    *redis.Client
	metrics  *prometheus.Registry
	sender   *bot.Sender
	model    *llm.Client // nil when OPENAI_* is unset; every use has an offline fallback
	analyzer *text.Analyzer
	ingest   *ingest.Pipeline
}

// A feature is one concept of Holdfast in one package: its rules, SQL,
// Slack flow, cards and settings. It hands the wiring whichever of these
// parts it has: Slack commands and actions (slackFeature), HTTP routes,
// cron jobs, ingest hooks, durable queue workers, App Home sections, and
// background work to finish on shutdown (Close).
type feature interface{ Name() string }

type (
	slackFeature  interface{ Register(r *handlers.Router) }
	httpFeature   interface{ Routes() []api.Route }
	jobFeature    interface{ Jobs() []schedule.Job }
	hookFeature   interface{ IngestHooks() []ingest.Hook }
	workerFeature interface{ Workers() []store.Worker }
	homeFeature   interface{ HomeSections() []handlers.HomeSection }
	closeFeature  interface{ Close() }
)

// app is the running system.
type app struct {
	infra
	features  []feature
	socket    *bot.Socket
	workers   *store.Workers
	scheduler *schedule.Scheduler
	http      *http.Server
	listener  net.Listener
}

// newApp wires every part of Holdfast: infrastructure, then the list of
// features. Nothing starts running here.
func newApp(ctx context.Context, cfg config.Config, log *slog.Logger, opts appOptions) (_ *app, err error) {
	var cleanup []func()
	defer func() {
		if err != nil {
			for i := len(cleanup) - 1; i >= 0; i-- {
				cleanup[i]()
			}
		}
	}()
	in := infra{cfg: cfg, now: opts.now, log: log}
	if in.now == nil {
		in.now = time.Now
	}
	set := cfg.Settings

	// Postgres: every signal, score, alert and outgoing Slack message.
	if in.store, err = store.Open(ctx, cfg.DatabaseURL); err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	cleanup = append(cleanup, in.store.Close)
	if from, to, err := in.store.Migrate(ctx); err != nil {
		return nil, err
	} else if from != to {
		log.Info("database migrated", "from", from, "to", to)
	}

	// Redis: envelope de-duplication, Slack rate limits, job ticks (alert
	// cooldowns are Postgres rows of the ingest transaction).
	redisOpts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	in.redis = redis.NewClient(redisOpts)
	cleanup = append(cleanup, func() { in.redis.Close() })
	if err := in.redis.Ping(ctx).Err(); err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	prefix := set.Redis.KeyPrefix
	in.metrics = prometheus.NewRegistry()
	in.metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// Slack: Web API client, paced sender.
	httpClient := &http.Client{Timeout: 15 * time.Second}
	slackAPI := slack.New(cfg.SlackBotToken, slack.OptionAPIURL(cfg.SlackAPIURL), slack.OptionAppLevelToken(cfg.SlackAppToken),
		slack.OptionHTTPClient(httpClient))
	limit := bot.ChannelLimit
	if opts.channelLimit != nil {
		limit = *opts.channelLimit
	}
	in.sender = bot.NewSender(slackAPI, httpClient, redis_rate.NewLimiter(in.redis), prefix, limit, log, in.metrics)

	// Signals in: validated, analysed, scored, alerts decided.
	if in.analyzer, err = set.Text.NewAnalyzer(); err != nil {
		return nil, fmt.Errorf("text.%w", err)
	}
	in.model = llm.New(cfg.LLM)
	in.ingest = ingest.New(in.store, in.analyzer, ingest.Settings{Alerts: set.Alerts, Scoring: set.Scoring, CooldownScope: opts.alertScope},
		in.now, log, ingest.NewMetrics(in.metrics))
	// Scores come from the active fitted model once there is one, and open
	// statements of intent hold accounts at risk either way.
	in.ingest.SetScorer(healthmodel.NewScorer(set.Scoring))

	// The features, in the order their ingest hooks run and their App
	// Home sections show.
	channels := bot.NewChannels(in.sender)
	// Which channels another organisation can read, and where internal
	// messages go instead: checked again by the outbox worker before every send.
	sharing := bot.NewSharing(in.store, in.sender, set.Alerts.DefaultChannel, in.now, log)
	in.ingest.ResolvePeople(bot.NewPeople(in.store, in.sender))
	// Who sees what: an unknown user group or user in roles stops the start.
	roles, err := access.LoadRoles(ctx, in.sender, set.Roles, cfg.ConfigPath, log)
	if err != nil {
		return nil, err
	}
	// Nil interfaces, not nil *llm.Client values, when no model is configured.
	var noteModel notes.Model
	var offerModel offers.Summarizer
	if in.model != nil {
		noteModel, offerModel = in.model, in.model
	}
	crmWriteBack := crm.New(in.store, crmConnector(cfg, log), log)
	roomsFeature := rooms.New(in.store, channels, in.sender, rooms.Options{Settings: set.Rooms, DefaultChannel: set.Alerts.DefaultChannel,
		WebhookSecret: cfg.CRM.WebhookSecret}, in.now, log)
	// What follows a churn-risk alert: it names the alert's thread, is
	// closed by a churn, and its figures are the weekly digest's Saves.
	playbooks := playbook.New(in.store, in.ingest, in.sender, roles, playbook.Options{Settings: set.Playbook, Scoring: set.Scoring,
		QuietHours: set.Alerts.QuietHours, DefaultChannel: set.Alerts.DefaultChannel, Location: set.Schedule.Location(),
		Cooldown: set.Alerts.Cooldown.Duration, Files: slackAPI}, playbook.NewMetrics(in.metrics), in.now, log)
	in.ingest.SetThreads(playbooks)
	a := &app{infra: in, workers: store.NewWorkers(in.store, log),
		scheduler: schedule.New(in.redis, prefix, set.Schedule.Location(), in.now, log, in.metrics)}
	// One notion of admin: alerts.admins and the admin role of roles:
	// (connectors.admins adds its own to the quarantine's Home section).
	isAdmin := func(user string) bool {
		return slices.Contains(set.Alerts.Admins, user) || roles.Person(user).IsAdmin()
	}
	a.features = []feature{
		access.New(in.store, in.sender, sharing, roles, in.now, log),
		in.ingest,
		handlers.New(in.store, in.sender, in.now, log),
		roomsFeature,
		notes.New(in.store, in.sender, noteModel, notes.Options{Summarize: set.Rooms.Summarize,
			CRM: notes.CRMPolicy{Enabled: crmWriteBack.Enabled(), NoteObject: set.CRM.NoteObject, WriteBack: set.CRM.WriteBack}},
			in.now, log),
		crmWriteBack,
		churn.New(in.store, in.sender, churn.Options{Settings: set.Churn, Winback: set.Winback,
			DefaultChannel: set.Alerts.DefaultChannel, Location: set.Schedule.Location(), Playbooks: playbooks}, in.now, log),
		dunning.New(in.store, in.ingest, dunning.Options{Settings: set.Dunning, DefaultChannel: set.Alerts.DefaultChannel,
			QuietHours: set.Alerts.QuietHours, StripeWebhookSecret: cfg.StripeWebhookSecret}, in.now, log),
		textsignals.New(in.store, in.ingest, textsignals.NewAnalyst(in.model, cfg.LLM.Model, set.Text.Competitors, in.store.DB(), log),
			textsignals.Options{Settings: set.Text, DefaultChannel: set.Alerts.DefaultChannel, QuietHours: set.Alerts.QuietHours},
			in.now, log),
		digest.New(in.store, set.Digest, playbooks, in.now, log),
		offers.New(in.store, in.sender, offerModel, set.Offers, in.now, log),
		nps.New(in.store, in.ingest, in.analyzer, in.sender, nps.Options{Settings: set.NPS,
			DefaultChannel: set.Alerts.DefaultChannel, Location: set.Schedule.Location(), WebhookSecret: cfg.SurveyWebhookSecret},
			in.now, log),
		deadletters.New(in.store, isAdmin,
			[]store.DeadLetterQueue{store.OutboxDeadLetters, crm.DeadLetters, rooms.DeadLetters}, in.metrics, log),
		connectors.New(in.store, in.ingest, connectors.Options{Settings: set.Connectors, Secrets: cfg.Connectors,
			Deals: roomsFeature.Deals(), IsAdmin: isAdmin}, in.metrics, in.now, log),
		healthmodel.New(in.store, in.ingest, log),
		playbooks,
	}

	router := handlers.NewRouter(in.sender, log)
	home := handlers.NewHome(in.store, in.sender, in.now, log)
	home.Register(router)
	server := api.New(cfg.IngestToken, []api.Check{
		{Name: "postgres", Ping: in.store.Ping},
		{Name: "redis", Ping: func(ctx context.Context) error { return in.redis.Ping(ctx).Err() }},
	}, in.metrics, log)
	deliverer := bot.NewDeliverer(in.store, in.sender, 16, log)
	deliverer.KeepInternal(sharing)
	if err := a.workers.Add(deliverer); err != nil {
		return nil, err
	}
	for _, f := range a.features {
		if err := a.mount(f, router, server, home); err != nil {
			return nil, fmt.Errorf("feature %s: %w", f.Name(), err)
		}
	}
	a.socket = bot.NewSocket(slackAPI, router, in.sender, in.redis, prefix, log, in.metrics)

	if a.listener = opts.listener; a.listener == nil {
		if a.listener, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
			return nil, fmt.Errorf("HOLDFAST_HTTP_ADDR: %w", err)
		}
	}
	a.http = &http.Server{Handler: server.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	return a, nil
}

// crmConnector is the CRM write-back goes to; nil (write-back off) when
// no CRM is configured.
func crmConnector(cfg config.Config, log *slog.Logger) crm.Connector {
	if !cfg.CRM.Enabled() {
		return nil
	}
	sf := cfg.Settings.CRM.Salesforce
	log.Info("crm write-back on", "crm", cfg.CRM.String())
	return salesforce.New(salesforce.Config{InstanceURL: cfg.CRM.InstanceURL, TokenURL: cfg.CRM.TokenURL,
		ClientID: cfg.CRM.ClientID, ClientSecret: cfg.CRM.ClientSecret, AccessToken: cfg.CRM.AccessToken,
		APIVersion: sf.APIVersion, ExternalIDField: sf.ExternalIDField, CaseOrigin: sf.CaseOrigin})
}

// mount puts each part a feature has where it belongs.
func (a *app) mount(f feature, router *handlers.Router, server *api.Server, home *handlers.Home) error {
	if s, ok := f.(slackFeature); ok {
		s.Register(router)
	}
	if h, ok := f.(httpFeature); ok {
		server.Mount(h.Routes()...)
	}
	if j, ok := f.(jobFeature); ok {
		if err := a.scheduler.Add(j.Jobs()...); err != nil {
			return err
		}
	}
	if h, ok := f.(hookFeature); ok {
		a.ingest.AddHook(h.IngestHooks()...)
	}
	if w, ok := f.(workerFeature); ok {
		if err := a.workers.Add(w.Workers()...); err != nil {
			return err
		}
	}
	if h, ok := f.(homeFeature); ok {
		home.AddSection(h.HomeSections()...)
	}
	return nil
}

// feature returns the wired feature named name, for tests and local mode.
func (a *app) feature(name string) feature {
	for _, f := range a.features {
		if f.Name() == name {
			return f
		}
	}
	return nil
}

// serve runs until ctx ends, then shuts down in order: stop taking work
// (HTTP, Socket Mode, cron), let features finish their background work,
// deliver what is leased, close the pools.
func (a *app) serve(ctx context.Context) error {
	defer a.store.Close()
	defer a.redis.Close()

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 2)
	var intake, delivery sync.WaitGroup
	intake.Go(func() {
		a.log.Info("ingest API listening", "addr", a.listener.Addr().String())
		if err := a.http.Serve(a.listener); !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("http server: %w", err)
		}
	})
	intake.Go(func() {
		if err := a.socket.Run(runCtx); err != nil {
			errc <- fmt.Errorf("slack socket mode: %w", err)
		}
	})
	intake.Go(func() { a.scheduler.Run(runCtx) })
	delivery.Go(func() { a.workers.Run(runCtx) })

	var err error
	select {
	case <-ctx.Done():
		a.log.Info("shutting down")
	case err = <-errc:
		a.log.Error("stopping", "err", err)
	}
	shutdownCtx, done := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer done()
	if e := a.http.Shutdown(shutdownCtx); e != nil {
		a.log.Warn("http shutdown", "err", e)
	}
	cancel()
	intake.Wait()
	for _, f := range a.features {
		if c, ok := f.(closeFeature); ok {
			c.Close()
		}
	}
	delivery.Wait()
	return err
}

// Addr is where the ingest API listens.
func (a *app) Addr() string { return a.listener.Addr().String() }
