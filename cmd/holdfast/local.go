package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/bot/slacktest"
	"github.com/holdfast/holdfast/config"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/internal/nps"
	"github.com/holdfast/holdfast/scoring/text"
)

// Local mode ids: the demo workspace's alert channel and the person at the terminal.
const (
	localChannel = "C0LOCALCS"
	localUser    = "U0LOCALCSM"
)

// runLocal runs the real bot against an in-process fake Slack workspace on
// 127.0.0.1 (a real Socket Mode websocket), loads demo accounts, streams demo
// signals, prints everything the bot posts, and sends lines typed on stdin
// that start with "/" as slash commands.
func runLocal(ctx context.Context, cfg config.Config, stdin io.Reader, stdout io.Writer, log *slog.Logger) error {
	var printMu sync.Mutex
	out := func(format string, args ...any) {
		printMu.Lock()
		defer printMu.Unlock()
		fmt.Fprintf(stdout, format, args...)
	}
	fake, err := slacktest.New(slacktest.Options{Logger: log, OnCall: func(c slacktest.Call) {
		if text := renderCall(c); text != "" {
			out("%s\n", text)
		}
	}})
	if err != nil {
		return fmt.Errorf("local slack: %w", err)
	}
	defer fake.Close()
	cfg.SlackAPIURL = fake.APIURL()
	cfg.SlackBotToken, cfg.SlackAppToken = "xoxb-local", "xapp-local"
	if cfg.Settings.Alerts.DefaultChannel == "" {
		cfg.Settings.Alerts.DefaultChannel = localChannel
	}
	// Each demo run starts its story afresh: yesterday's run must not have
	// put today's alerts in cooldown.
	run := "local-" + time.Now().Format("20060102T150405") + ":"
	cfg.Settings.Redis.KeyPrefix += run
	if len(cfg.Settings.Text.Competitors) == 0 {
		cfg.Settings.Text.Competitors = []text.Competitor{{Name: "Gainsight"}, {Name: "Totango"},
			{Name: "ChurnZero", Aliases: []string{"Churn Zero"}}}
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("HOLDFAST_HTTP_ADDR: %w", err)
	}
	a, err := newApp(ctx, cfg, log, appOptions{listener: ln, alertScope: run})
	if err != nil {
		return err
	}
	out("Holdfast local mode: fake Slack at %s, ingest API at http://%s\n", fake.APIURL(), a.Addr())
	out("Type /health <account> or /atrisk and press Enter. Ctrl-C stops.\n\n")

	serveErr := make(chan error, 1)
	go func() { serveErr <- a.serve(ctx) }()
	if err := fake.WaitConnected(ctx, 1); err != nil {
		return <-serveErr
	}
	if _, err := a.ingest.UpsertAccounts(ctx, demoAccounts(time.Now())); err != nil {
		return fmt.Errorf("load demo accounts: %w", err)
	}
	go streamDemoSignals(ctx, a.ingest, a.feature("nps").(*nps.Module), log)
	go readCommands(ctx, fake, stdin, out)
	return <-serveErr
}

// renderCall turns a message the bot sent into terminal text.
func renderCall(c slacktest.Call) string {
	switch c.Method {
	case "chat.postMessage", "chat.update", "chat.postEphemeral":
	default:
		return ""
	}
	var bs slack.Blocks
	_ = json.Unmarshal([]byte(c.Params["blocks"]), &bs)
	where := "#" + c.Params["channel"]
	if ts := c.Params["thread_ts"]; ts != "" {
		where += " (thread " + ts + ")"
	}
	if c.Method == "chat.update" {
		where += " [edited]"
	}
	body := blocks.PlainText(blocks.Message{Text: c.Params["text"], Blocks: bs.BlockSet})
	return "── " + where + " " + strings.Repeat("─", max(0, 60-len(where))) + "\n" + body
}

func readCommands(ctx context.Context, fake *slacktest.Server, stdin io.Reader, out func(string, ...any)) {
	sc := bufio.NewScanner(stdin)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "/") {
			if line != "" {
				out("(commands start with /, e.g. /health acme)\n")
			}
			continue
		}
		command, text, _ := strings.Cut(line, " ")
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		ack, err := fake.SendSlashCommand(cctx, slacktest.SlashCommand{Command: command, Text: text, UserID: localUser,
			UserName: "you", ChannelID: localChannel})
		cancel()
		if err != nil {
			out("command failed: %v\n", err)
			continue
		}
		var reply struct {
			Text   string       `json:"text"`
			Blocks slack.Blocks `json:"blocks"`
		}
		_ = json.Unmarshal(ack.Payload, &reply)
		out("── reply to %s (only you see this) ──\n%s\n", line, blocks.PlainText(blocks.Message{Text: reply.Text, Blocks: reply.Blocks.BlockSet}))
	}
}

func demoAccounts(now time.Time) []ingest.AccountIn {
	renew := func(days int) string { return now.AddDate(0, 0, days).Format(time.DateOnly) }
	return []ingest.AccountIn{
		{ExternalID: "acme", Name: "Acme Corp", Tier: "enterprise", ARR: 240000, Segment: "mid-market", RenewalDate: renew(45), OwnerCSM: localUser, Champion: "Dana Ruiz"},
		{ExternalID: "globex", Name: "Globex", Tier: "enterprise", ARR: 1200000, Segment: "enterprise", RenewalDate: renew(120), OwnerCSM: localUser, Champion: "Hank Scorpio"},
		{ExternalID: "initech", Name: "Initech", Tier: "growth", ARR: 58000, Segment: "smb", RenewalDate: renew(20), OwnerCSM: "U0OTHERCSM", Champion: "Bill Lumbergh"},
		{ExternalID: "umbrella", Name: "Umbrella Health", Tier: "growth", ARR: 96000, Segment: "mid-market", RenewalDate: renew(200), OwnerCSM: localUser},
		{ExternalID: "acme-labs", Name: "Acme Labs", Tier: "starter", ARR: 9500, Segment: "smb", RenewalDate: renew(300), OwnerCSM: "U0OTHERCSM"},
	}
}

// demoStep is one beat of the demo story: signals, or an NPS answer.
type demoStep struct {
	signal *ingest.SignalIn
	nps    *nps.AnswerIn
}

// streamDemoSignals replays a month of history, then tells a short story a
// couple of seconds apart so the terminal shows each kind of alert within
// the first half minute, then keeps usage ticking. Keys are per run so a
// second `make run` produces fresh activity.
func streamDemoSignals(ctx context.Context, intake *ingest.Pipeline, answers *nps.Module, log *slog.Logger) {
	run := time.Now().Format("20060102T150405")
	now := time.Now()
	var history []ingest.SignalIn
	for day := 28; day >= 1; day-- {
		at := now.AddDate(0, 0, -day)
		for i, acct := range []string{"acme", "globex", "initech", "umbrella", "acme-labs"} {
			v := float64(100 + 10*i)
			if acct == "acme" && day <= 14 {
				v *= 0.55 // Acme's usage falls off a cliff two weeks ago
			}
			history = append(history, usageSignal(run, acct, at, v))
		}
	}
	if _, err := intake.IngestSignals(ctx, history); err != nil {
		log.Error("demo history", "err", err)
		return
	}
	sig := func(s ingest.SignalIn) demoStep { return demoStep{signal: &s} }
	story := []demoStep{
		// A detractor on top of Acme's usage cliff: at-risk alert and an NPS loop.
		{nps: &nps.AnswerIn{Account: "acme", Respondent: "dana@acme.example", Score: ptr(3), SurveyKind: "quarterly",
			Comment: "Too slow and the API keeps timing out. <!channel>"}},
		// Stated intent to leave: a critical alert, quiet hours or not.
		sig(ingest.SignalIn{Account: "umbrella", Kind: "email", Source: "gmail",
			Text: "Please send the cancellation terms for our contract, we are evaluating other options."}),
		// A rival named on a call: competitor alert to the owner.
		sig(ingest.SignalIn{Account: "globex", Kind: "call_note", Source: "gong",
			Text: "QBR went fine, but their new VP asked how we compare with Gainsight's renewal pricing."}),
		// A bounced card: dunning by decline reason.
		sig(ingest.SignalIn{Account: "initech", Kind: "payment_failed", Source: "billing", Value: ptr(4800),
			Metadata: []byte(`{"decline_code":"insufficient_funds","invoice":"demo-inv-` + run + `"}`)}),
		sig(ingest.SignalIn{Account: "initech", Kind: "ticket", Source: "zendesk", Severity: "urgent",
			Text: "Export has been broken for a week. Still waiting on a fix, third time asking."}),
		{nps: &nps.AnswerIn{Account: "globex", Respondent: "hank@globex.example", Score: ptr(9), SurveyKind: "quarterly",
			Comment: "Great support team, love the new dashboards"}},
	}
	rng := rand.New(rand.NewPCG(uint64(now.UnixNano()), 7))
	for i := 0; ; i++ {
		wait := 2 * time.Second
		if i >= len(story) {
			wait = time.Duration(4+rng.IntN(4)) * time.Second
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		key := fmt.Sprintf("demo-%s-%d", run, i)
		var err error
		switch {
		case i >= len(story):
			// After the story, keep usage ticking so dormancy stays honest.
			s := usageSignal(run, []string{"acme", "globex", "initech", "umbrella", "acme-labs"}[i%5], time.Now(), float64(80+rng.IntN(60)))
			s.IdempotencyKey = key
			_, err = intake.IngestSignals(ctx, []ingest.SignalIn{s})
		case story[i].nps != nil:
			a := *story[i].nps
			a.AnsweredAt, a.IdempotencyKey = time.Now(), key
			_, err = answers.Ingest(ctx, []nps.AnswerIn{a})
		default:
			s := *story[i].signal
			s.OccurredAt, s.IdempotencyKey = time.Now(), key
			_, err = intake.IngestSignals(ctx, []ingest.SignalIn{s})
		}
		if err != nil && ctx.Err() == nil {
			log.Error("demo signal", "err", err)
		}
	}
}

func usageSignal(run, acct string, at time.Time, v float64) ingest.SignalIn {
	return ingest.SignalIn{Account: acct, Kind: "usage", Source: "product", Value: &v, OccurredAt: at,
		IdempotencyKey: fmt.Sprintf("demo-%s-usage-%s-%s", run, acct, at.Format(time.DateOnly))}
}

func ptr(v float64) *float64 { return &v }
