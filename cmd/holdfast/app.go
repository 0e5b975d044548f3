package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"
	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/api"
	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/bot"
	"github.com/holdfast/holdfast/config"
	"github.com/holdfast/holdfast/dunning"
	"github.com/holdfast/holdfast/handlers"
	"github.com/holdfast/holdfast/ingest"
	"github.com/holdfast/holdfast/llm"
	"github.com/holdfast/holdfast/npsflow"
	"github.com/holdfast/holdfast/schedule"
	"github.com/holdfast/holdfast/scoring/text"
	"github.com/holdfast/holdfast/store"
	"github.com/holdfast/holdfast/textai"
)

// appOptions are the seams tests and local mode use.
type appOptions struct {
	now          func() time.Time // default time.Now
	listener     net.Listener     // default: listen on cfg.HTTPAddr
	channelLimit *redis_rate.Limit
}

// app is the running system.
type app struct {
	cfg       config.Config
	log       *slog.Logger
	store     *store.Store
	redis     *redis.Client
	ingest    *ingest.Pipeline
	socket    *bot.Socket
	deliverer *bot.Deliverer
	scheduler *schedule.Scheduler
	rooms     *roomWork
	http      *http.Server
	listener  net.Listener
	home      *handlers.Home // other features add App Home sections here
	nps       *npsflow.Service
	offers    *handlers.Offers
	// closers run after intake stops, before the pools close: background
	// work features started on their own (e.g. model summaries).
	closers []func()
}

// newApp wires every part of Holdfast. Nothing starts running here.
func newApp(ctx context.Context, cfg config.Config, log *slog.Logger, opts appOptions) (_ *app, err error) {
	now := opts.now
	if now == nil {
		now = time.Now
	}
	var cleanup []func()
	defer func() {
		if err != nil {
			for i := len(cleanup) - 1; i >= 0; i-- {
				cleanup[i]()
			}
		}
	}()

	// Postgres: every signal, score, alert and outgoing Slack message.
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	cleanup = append(cleanup, st.Close)
	if from, to, err := st.Migrate(ctx); err != nil {
		return nil, err
	} else if from != to {
		log.Info("database migrated", "from", from, "to", to)
	}

	// Redis: alert cooldowns, envelope de-duplication, Slack rate limits.
	redisOpts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	rdb := redis.NewClient(redisOpts)
	cleanup = append(cleanup, func() { rdb.Close() })
	if err := rdb.Ping(ctx).Err(); err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	prefix := cfg.Settings.Redis.KeyPrefix

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// Domain: signals in, health scored, alerts decided.
	analyzer, err := text.NewAnalyzer(cfg.Settings.Text.Competitors)
	if err != nil {
		return nil, fmt.Errorf("text.%w", err)
	}
	// Optional language model (nil when OPENAI_* is unset): summaries and
	// richer text analysis; every caller has an offline fallback.
	model := llm.New(cfg.LLM)
	mon := ingest.New(st, analyzer, ingest.NewCooldowns(rdb, prefix), cfg.Settings, now, log, ingest.NewMetrics(reg))
	if analyst := textai.New(model, cfg.LLM.Model, cfg.Settings.Text.Competitors, st, log); analyst != nil {
		mon.WithInsight(analyst) // summaries in competitor alerts
	}

	// Slack: Web API client, paced sender, outbox deliverer, Socket Mode link.
	httpClient := &http.Client{Timeout: 15 * time.Second}
	slackAPI := slack.New(cfg.SlackBotToken, slack.OptionAPIURL(cfg.SlackAPIURL), slack.OptionAppLevelToken(cfg.SlackAppToken),
		slack.OptionHTTPClient(httpClient))
	limit := bot.ChannelLimit
	if opts.channelLimit != nil {
		limit = *opts.channelLimit
	}
	sender := bot.NewSender(slackAPI, httpClient, redis_rate.NewLimiter(rdb), prefix, limit, log, reg)
	deliverer := bot.NewDeliverer(st, sender, 4, log)
	router := handlers.NewRouter(sender, log)
	handlers.New(st, sender, now, log).Register(router)
	// Account rooms (issue 7): won deals -> handoff rooms, notes with
	// summaries, CRM write-back; see rooms.go.
	roomWork := newRoomWork(cfg, st, sender, router, model, now, log)
	roomWork.addHooks(mon)
	socket := bot.NewSocket(slackAPI, router, sender, rdb, prefix, log, reg)

	// Periodic work: each job runs once per tick across replicas.
	scheduler := schedule.New(rdb, prefix, cfg.Settings.Schedule.Location(), now, log, reg)

	// Close the loop (issue 6): churn root causes back to Sales (/churned,
	// debriefs, /rootcause, monthly post, check-ins), dunning by decline
	// reason (a hook on every ingested payment signal, and the Stripe
	// webhook), and the weekly win-back list.
	loop := handlers.NewLoop(st, sender, cfg.Settings, now, log)
	loop.Register(router)
	if err := scheduler.Add(loop.Jobs()...); err != nil {
		return nil, err
	}
	dun := dunning.NewService(cfg.Settings, now, log)
	mon.AddHook(dun.Hook)
	stripeHook := api.NewStripeWebhook(cfg.StripeWebhookSecret, mon, st, now, log)

	// Text signals (issue 5): customer messages in account channels become
	// signals; competitor and sentiment alerts can be claimed; /digest and
	// its job; the App Home, which other features extend with home.AddSection.
	handlers.NewSlackMessages(st, mon, cfg.Settings.Text.SlackAuthors, now, log).Register(router)
	handlers.NewTextAlerts(st, now).Register(router)
	digests := handlers.NewDigests(st, cfg.Settings.Digest, now, log)
	digests.Register(router)
	if err := scheduler.Add(schedule.Job{Name: "digest", Spec: handlers.DigestJobSpec, Run: digests.Run}); err != nil {
		return nil, err
	}
	home := handlers.NewHome(st, sender, now, log)
	home.Register(router)

	// Retention offers (issue 3): /offer, /offers, approvals in threads and
	// DMs, revisions, SLA nudges and escalation, renewal outcome tracking.
	var summarizer handlers.Summarizer
	if model != nil {
		summarizer = model
	}
	offersH := handlers.NewOffers(st, sender, summarizer, cfg.Settings.Offers, now, log)
	offersH.Register(router)
	closers := []func(){offersH.Close}
	if err := scheduler.Add(
		schedule.Job{Name: "offers-sla", Spec: "* * * * *", Run: offersH.RunSLAs},
		schedule.Job{Name: "offers-outcomes", Spec: "30 6 * * *", Run: offersH.ResolveOutcomes},
	); err != nil {
		return nil, err
	}

	// HTTP: ingest API, health, readiness and metrics.
	server := api.New(mon, cfg.IngestToken, []api.Check{
		{Name: "postgres", Ping: st.Ping},
		{Name: "redis", Ping: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }},
	}, reg, log)
	server.Mount("POST /webhooks/stripe", "stripe_webhook", stripeHook.ServeHTTP) // issue 6
	roomWork.mount(server)                                                        // issue 7

	// NPS as a conversation (issue 4): answers in through the ingest
	// pipeline (POST /v1/nps), detractor loops in threads, survey cadence,
	// survey-tool webhook, reminders and the weekly digest.
	npsSvc := npsflow.New(st, mon, analyzer, npsflow.Options{
		Settings: cfg.Settings.NPS, DefaultChannel: cfg.Settings.Alerts.DefaultChannel,
		Location: cfg.Settings.Schedule.Location(), WebhookSecret: cfg.SurveyWebhookSecret,
	}, now, log)
	handlers.NewNPS(npsSvc, st, sender).Register(router)
	home.AddSection("offers", func(ctx context.Context, user string, now time.Time) (blocks.HomeSection, bool, error) {
		title, bs, ok, err := offersH.PendingForHome(ctx, user, now)
		return blocks.HomeSection{Title: title, Blocks: bs}, ok, err
	})
	home.AddSection("nps", func(ctx context.Context, user string, now time.Time) (blocks.HomeSection, bool, error) {
		loops, err := npsSvc.OpenLoopsFor(ctx, user, 16)
		if err != nil || len(loops) == 0 {
			return blocks.HomeSection{}, false, err
		}
		return blocks.HomeSection{Title: "Your open detractor loops", Blocks: blocks.NPSHomeLoops(loops, now)}, true, nil
	})
	server.MountAuthed("POST /v1/nps", "nps", server.NPSHandler(npsSvc))
	webhookSpec := cfg.Settings.NPS.Jobs.Webhook
	if cfg.Settings.NPS.Webhook.URL == "" {
		webhookSpec = schedule.Off // no survey tool to send to
	}
	if err := scheduler.Add(
		schedule.Job{Name: npsflow.JobCadence, Spec: cfg.Settings.NPS.Cadence.Spec, Run: npsSvc.Cadence},
		schedule.Job{Name: npsflow.JobLoops, Spec: cfg.Settings.NPS.Jobs.Loops, Run: npsSvc.Loops},
		schedule.Job{Name: npsflow.JobWebhook, Spec: webhookSpec, Run: npsSvc.Webhook},
		schedule.Job{Name: npsflow.JobDigest, Spec: cfg.Settings.NPS.Digest.Spec, Run: npsSvc.Digest},
	); err != nil {
		return nil, err
	}

	ln := opts.listener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
			return nil, fmt.Errorf("HOLDFAST_HTTP_ADDR: %w", err)
		}
	}
	return &app{
		cfg: cfg, log: log, store: st, redis: rdb, ingest: mon, socket: socket, deliverer: deliverer, scheduler: scheduler, listener: ln, rooms: roomWork, home: home,
		nps: npsSvc, offers: offersH, closers: closers,
		http: &http.Server{Handler: server.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
			WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute},
	}, nil
}

// serve runs until ctx ends, then shuts down in order: stop taking work
// (HTTP, Socket Mode), finish what is in flight, deliver what is leased,
// close the pools.
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
	delivery.Go(func() { a.deliverer.Run(runCtx) })
	delivery.Go(func() { a.rooms.Run(runCtx) })
	intake.Go(func() { a.scheduler.Run(runCtx) })

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
	for _, c := range a.closers {
		c()
	}
	delivery.Wait()
	return err
}

// Addr is where the ingest API listens.
func (a *app) Addr() string { return a.listener.Addr().String() }
