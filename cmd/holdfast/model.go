package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/config"
	"github.com/holdfast/holdfast/internal/healthmodel"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/schedule"
	"github.com/holdfast/holdfast/scoring/text"
	"github.com/holdfast/holdfast/store"
)

const modelUsage = `usage: holdfast model fit [--horizon 90d] [--at YYYY-MM-DD] [--cutoffs 4] [--png FILE] [--use]
       holdfast model backtest [--at YYYY-MM-DD] [--horizon 90d] [--png FILE]
       holdfast model list
       holdfast model use VERSION   (0: the hand-set weights)
       holdfast model rollback`

// openStore connects and migrates, for the commands that work on the database.
func openStore(ctx context.Context, cfg config.Config) (*store.Store, error) {
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if _, _, err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// operator names who ran a command, for the model's record.
func operator(getenv config.Getenv) string {
	if u := getenv("HOLDFAST_OPERATOR"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "unknown"
}

func modelCommand(ctx context.Context, cfg config.Config, args []string, getenv config.Getenv, now func() time.Time, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, modelUsage)
		return exitUsage
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("holdfast model "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	horizon := fs.String("horizon", "", "how far after the cut-off a churn counts (e.g. 90d)")
	at := fs.String("at", "", "cut-off date YYYY-MM-DD")
	png := fs.String("png", "", "where to write the ROC and calibration plot (backtest default: holdfast-backtest-DATE.png)")
	cutoffs := fs.Int("cutoffs", 4, "fit: how many cut-off dates, one horizon apart")
	use := fs.Bool("use", false, "fit: make the new version active")
	switch sub {
	case "fit", "backtest", "list", "use", "rollback":
	default:
		fmt.Fprintf(stderr, "holdfast: unknown model command %q\n%s\n", sub, modelUsage)
		return exitUsage
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	var opt struct {
		horizon time.Duration
		at      time.Time
	}
	if *horizon != "" {
		d, err := schedule.ParseDuration(*horizon)
		if err != nil || d < 24*time.Hour {
			fmt.Fprintf(stderr, "holdfast: --horizon: want a duration of at least a day like 90d (got %q)\n", *horizon)
			return exitUsage
		}
		opt.horizon = d
	}
	if *at != "" {
		d, err := time.Parse(time.DateOnly, *at)
		if err != nil {
			fmt.Fprintf(stderr, "holdfast: --at: want YYYY-MM-DD (got %q)\n", *at)
			return exitUsage
		}
		opt.at = d
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return report(stderr, err)
	}
	defer st.Close()
	set := cfg.Settings
	by := operator(getenv)
	switch sub {
	case "fit":
		started := time.Now()
		v, err := healthmodel.Fit(ctx, st, set.Scoring, set.Model, healthmodel.FitOptions{Horizon: opt.horizon, At: opt.at,
			MaxCutoffs: *cutoffs, By: by, Now: now()})
		if refused, ok := errors.AsType[*healthmodel.RefusedError](err); ok {
			fmt.Fprintln(stderr, "holdfast: model fit refused:", refused.Reason)
			return 1
		}
		if err != nil {
			return report(stderr, err)
		}
		fmt.Fprintf(stdout, "fitted model version %d in %s: %d accounts, %d examples, %d churns, %d features, horizon %dd, cut-offs %s\n",
			v.ID, time.Since(started).Round(time.Millisecond), v.Accounts, v.Examples, v.Churns, len(v.Spec.Model.Encoder.Features),
			v.HorizonDays, dates(v.Cutoffs))
		fmt.Fprintf(stdout, "penalty %g chosen by 5-fold cross-validation; bands by %s (at risk from churn probability %.2f, critical from %.2f)\n",
			v.Spec.Model.Lambda, v.Spec.BandsBy, v.Spec.AtRiskP, v.Spec.CriticalP)
		fmt.Fprintln(stdout, "out-of-fold backtest on the training accounts:")
		healthmodel.PrintFigures(stdout, v.Backtest, v.Spec.AtRiskP)
		img, err := healthmodel.PlotPNG(v.OOF, v.Labels, fmt.Sprintf("model %d, out of fold", v.ID))
		if err != nil {
			return report(stderr, err)
		}
		if *png != "" {
			if err := os.WriteFile(*png, img, 0o644); err != nil {
				return report(stderr, err)
			}
			fmt.Fprintln(stdout, "plot:", *png)
		}
		switch {
		case set.Model.Channel == "":
		case cfg.SlackBotToken == "":
			fmt.Fprintln(stdout, "model.channel is set but SLACK_BOT_TOKEN is not: the summary was not posted")
		default:
			api := slack.New(cfg.SlackBotToken, slack.OptionAPIURL(cfg.SlackAPIURL))
			if err := healthmodel.PostFit(ctx, api, set.Model.Channel, v, img); err != nil {
				// The model is stored; only the report did not reach Slack.
				fmt.Fprintln(stderr, "holdfast: model fit: version stored, but", err)
			} else {
				fmt.Fprintln(stdout, "summary and plot posted to", set.Model.Channel)
			}
		}
		if *use {
			if err := healthmodel.Use(ctx, st, v.ID, by); err != nil {
				return report(stderr, err)
			}
			fmt.Fprintf(stdout, "version %d is now active: %s\n", v.ID, v.Line())
		} else {
			fmt.Fprintf(stdout, "make it score with: holdfast model use %d\n", v.ID)
		}
		return 0
	case "backtest":
		res, err := healthmodel.Backtest(ctx, st, set.Scoring, set.Model, healthmodel.BacktestOptions{At: opt.at, Horizon: opt.horizon, Now: now()})
		if refused, ok := errors.AsType[*healthmodel.RefusedError](err); ok {
			fmt.Fprintln(stderr, "holdfast: backtest refused:", refused.Reason)
			return 1
		}
		if err != nil {
			return report(stderr, err)
		}
		res.Print(stdout)
		path := *png
		if path == "" {
			path = "holdfast-backtest-" + res.Cutoff.Format(time.DateOnly) + ".png"
		}
		img, err := healthmodel.PlotPNG(res.P, res.Labels, "as of "+res.Cutoff.Format(time.DateOnly))
		if err != nil {
			return report(stderr, err)
		}
		if err := os.WriteFile(path, img, 0o644); err != nil {
			return report(stderr, err)
		}
		abs, _ := filepath.Abs(path)
		fmt.Fprintln(stdout, "plot:", abs)
		return 0
	case "list":
		active, err := healthmodel.ActiveID(ctx, st.DB())
		if err != nil && !errors.Is(err, healthmodel.ErrNoModel) {
			return report(stderr, err)
		}
		vs, err := healthmodel.Versions(ctx, st.DB())
		if err != nil {
			return report(stderr, err)
		}
		if active == 0 {
			fmt.Fprintln(stdout, "* 0  hand-set weights (scoring)")
		}
		for _, v := range vs {
			mark := " "
			if v.ID == active {
				mark = "*"
			}
			fmt.Fprintf(stdout, "%s %d  %s, by %s, horizon %dd, %d churns\n", mark, v.ID, v.Line(), v.FittedBy, v.HorizonDays, v.Churns)
		}
		return 0
	case "use":
		if fs.NArg() != 1 {
			fmt.Fprintln(stderr, "holdfast: usage: holdfast model use VERSION")
			return exitUsage
		}
		id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
		if err != nil || id < 0 {
			fmt.Fprintf(stderr, "holdfast: model use: %q is not a version number\n", fs.Arg(0))
			return exitUsage
		}
		if err := healthmodel.Use(ctx, st, id, by); errors.Is(err, store.ErrNotFound) {
			fmt.Fprintf(stderr, "holdfast: model use: there is no version %d (see holdfast model list)\n", id)
			return 1
		} else if err != nil {
			return report(stderr, err)
		}
		if id == 0 {
			fmt.Fprintln(stdout, "the hand-set weights score now")
		} else {
			fmt.Fprintf(stdout, "version %d scores now\n", id)
		}
		return 0
	default: // rollback
		back, err := healthmodel.Rollback(ctx, st, by)
		if err != nil {
			return report(stderr, err)
		}
		if back == 0 {
			fmt.Fprintln(stdout, "rolled back: the hand-set weights score now")
		} else {
			fmt.Fprintf(stdout, "rolled back: version %d scores now\n", back)
		}
		return 0
	}
}

func dates(ts []time.Time) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = t.Format(time.DateOnly)
	}
	return strings.Join(s, ", ")
}

// historyColumns are the accounts file's columns beyond the account CSV's.
var historyColumns = []string{"churned_at", "renewed_at"}

// signalColumns are the columns of a signals CSV.
var signalColumns = []string{"account", "kind", "source", "occurred_at", "value", "text", "severity", "idempotency_key"}

// importHistory loads accounts with outcomes and their signals, all or nothing.
func importHistory(ctx context.Context, cfg config.Config, accountsPath, signalsPath string, now time.Time, stdout, stderr io.Writer) int {
	started := time.Now()
	var problems []string
	af, err := os.Open(accountsPath)
	if err != nil {
		return report(stderr, err)
	}
	defer af.Close()
	rows, lines, extras, p := readAccountsCSVWith(af, historyColumns)
	for _, x := range p {
		problems = append(problems, accountsPath+": "+x)
	}
	accounts := make([]healthmodel.HistoryAccount, len(rows))
	for i := range rows {
		accounts[i] = healthmodel.HistoryAccount{AccountIn: rows[i], ChurnedAt: extras[i]["churned_at"], RenewedAt: extras[i]["renewed_at"], Line: lines[i]}
	}
	var signals []healthmodel.HistorySignal
	if signalsPath != "" {
		var p []string
		signals, p = readSignals(signalsPath)
		for _, x := range p {
			problems = append(problems, signalsPath+": "+x)
		}
	}
	if len(problems) > 0 {
		for _, x := range problems {
			fmt.Fprintln(stderr, x)
		}
		fmt.Fprintf(stderr, "holdfast import history: %d problem(s); nothing was imported\n", len(problems))
		return 1
	}
	analyzer, err := text.NewAnalyzer(cfg.Settings.Text.Competitors)
	if err != nil {
		return report(stderr, err)
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return report(stderr, err)
	}
	defer st.Close()
	res, err := healthmodel.ImportHistory(ctx, st, analyzer, accounts, signals, now)
	if pe, ok := errors.AsType[*healthmodel.ProblemsError](err); ok {
		const shown = 50
		for i, x := range pe.Problems {
			if i == shown {
				fmt.Fprintf(stderr, "... and %d more\n", len(pe.Problems)-shown)
				break
			}
			file := accountsPath
			if x.File == "signals" {
				file = signalsPath
			}
			fmt.Fprintln(stderr, strings.Replace(x.String(), x.File, file, 1))
		}
		fmt.Fprintf(stderr, "holdfast import history: %d problem(s); nothing was imported\n", len(pe.Problems))
		return 1
	}
	if err != nil {
		fmt.Fprintln(stderr, "holdfast import history: nothing was imported:", err)
		return 1
	}
	took := time.Since(started)
	fmt.Fprintf(stdout, "imported %d accounts (%d churned) and %d signals (%d already stored) in %s (%.0f signals/s)\n",
		res.Accounts, res.Churned, res.Signals, res.Duplicates, took.Round(time.Millisecond), float64(res.Signals)/took.Seconds())
	return 0
}

// readSignals reads a signals file: JSONL (one /v1/signals object a line)
// when it ends in .jsonl or .ndjson, else CSV with a header.
func readSignals(path string) ([]healthmodel.HistorySignal, []string) {
	f, err := os.Open(path)
	if err != nil {
		return nil, []string{err.Error()}
	}
	defer f.Close()
	if ext := strings.ToLower(filepath.Ext(path)); ext == ".jsonl" || ext == ".ndjson" {
		return readSignalsJSONL(f)
	}
	t, problems := openCSV(f, signalColumns, signalColumns[:4])
	if len(problems) > 0 {
		return nil, problems
	}
	var out []healthmodel.HistorySignal
	problem := t.each(func() {
		s := ingest.SignalIn{Account: t.get("account"), Kind: t.get("kind"), Source: t.get("source"), Text: t.get("text"),
			Severity: t.get("severity"), IdempotencyKey: t.get("idempotency_key")}
		if at := t.get("occurred_at"); at != "" {
			ts, err := parseWhen(at)
			if err != nil {
				problems = append(problems, fmt.Sprintf("line %d: occurred_at: want RFC 3339 or YYYY-MM-DD (got %q)", t.line, at))
			}
			s.OccurredAt = ts
		}
		if v := t.get("value"); v != "" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				problems = append(problems, fmt.Sprintf("line %d: value: %q is not a number", t.line, v))
			}
			s.Value = &f
		}
		out = append(out, healthmodel.HistorySignal{SignalIn: s, Line: t.line})
	})
	if problem != "" {
		problems = append(problems, problem)
	}
	return out, problems
}

func readSignalsJSONL(r io.Reader) ([]healthmodel.HistorySignal, []string) {
	var out []healthmodel.HistorySignal
	var problems []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		b := strings.TrimSpace(sc.Text())
		if b == "" {
			continue
		}
		var s ingest.SignalIn
		dec := json.NewDecoder(strings.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			problems = append(problems, fmt.Sprintf("line %d: %v", line, err))
			continue
		}
		out = append(out, healthmodel.HistorySignal{SignalIn: s, Line: line})
	}
	if err := sc.Err(); err != nil {
		problems = append(problems, err.Error())
	}
	if len(out) == 0 && len(problems) == 0 {
		problems = append(problems, "no signals")
	}
	return out, problems
}

func parseWhen(s string) (time.Time, error) {
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		return d, nil
	}
	return time.Parse(time.RFC3339, s)
}
