// Command holdfast is the Holdfast bot: `run` (default) serves Slack and the
// ingest API, `migrate` applies schema migrations, `import` upserts accounts
// from a CSV file, `analyze` reads texts offline, `version` prints the build.
//
// The whole system is wired in app.go's newApp; read it top to bottom.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/holdfast/holdfast/config"
	"github.com/holdfast/holdfast/store"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `usage: holdfast [command]

commands:
  run               serve Slack (Socket Mode) and the ingest API (default)
  migrate           apply database migrations and exit
  import FILE.csv   upsert accounts from a CSV file (all rows or none)
  analyze [FILE]    sentiment, churn intent and competitors of texts (JSONL or CSV) as JSONL
  import nps FILE.csv
                    record NPS answers from a CSV file (all rows or none)
  export audit --since YYYY-MM-DD
                    write the audit trail (who read or changed what) as CSV
  connectors status what each tool sent and what waits for an account
  connectors test TOOL [URL]
                    send TOOL's signed example payload to the running bot
  export labels [-format jsonl|csv]
                    write the text labels people gave from Slack, for retraining
  import history ACCOUNTS.csv [SIGNALS.csv|SIGNALS.jsonl]
                    load past accounts with outcomes and traits, and their signals (all or nothing)
  model fit|backtest|list|use|rollback
                    fit the health model on history, backtest it, switch versions
  version           print the version

Configuration comes from the environment; see README.md.`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// exitUsage is the exit code for a command line or configuration mistake.
const exitUsage = 2

func run(ctx context.Context, args []string, getenv config.Getenv, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "run"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel(getenv("HOLDFAST_LOG_LEVEL"))}))
	switch cmd {
	case "version":
		fmt.Fprintln(stdout, "holdfast", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return 0
	case "analyze": // offline: needs only the YAML file, not Slack or a database
		return analyzeCommand(ctx, args, getenv, stdin, stdout, stderr)
	case "run", "migrate", "import", "connectors", "model":
	case "export":
		if len(args) == 0 || (args[0] != "audit" && args[0] != "labels") {
			fmt.Fprintln(stderr, "holdfast: usage: holdfast export audit --since YYYY-MM-DD | holdfast export labels [-format jsonl|csv]")
			return exitUsage
		}
	default:
		fmt.Fprintf(stderr, "holdfast: unknown command %q\n\n%s\n", cmd, usage)
		return exitUsage
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		fmt.Fprintln(stderr, "holdfast: configuration:", err)
		return exitUsage
	}
	switch cmd {
	case "migrate":
		return report(stderr, migrateOnly(ctx, cfg, stdout))
	case "export":
		if args[0] == "labels" {
			return exportLabels(ctx, cfg, args[1:], stdout, stderr)
		}
		return exportAudit(ctx, cfg, args[1:], stdout, stderr)
	case "connectors":
		return connectorsCommand(ctx, cfg, args, stdout, stderr)
	case "model":
		return modelCommand(ctx, cfg, args, getenv, time.Now, stdout, stderr)
	case "import":
		if len(args) > 0 && args[0] == "history" {
			if len(args) != 2 && len(args) != 3 {
				fmt.Fprintln(stderr, "holdfast: usage: holdfast import history ACCOUNTS.csv [SIGNALS.csv|SIGNALS.jsonl]")
				return exitUsage
			}
			signals := ""
			if len(args) == 3 {
				signals = args[2]
			}
			return importHistory(ctx, cfg, args[1], signals, time.Now(), stdout, stderr)
		}
		if len(args) > 0 && args[0] == "nps" {
			if len(args) != 2 {
				fmt.Fprintln(stderr, "holdfast: usage: holdfast import nps FILE.csv")
				return exitUsage
			}
			return importNPS(ctx, cfg, args[1], stdout, stderr, log)
		}
		if len(args) != 1 {
			fmt.Fprintln(stderr, "holdfast: usage: holdfast import FILE.csv | holdfast import nps FILE.csv")
			return exitUsage
		}
		return importAccounts(ctx, cfg, args[0], stdout, stderr)
	}
	if cfg.LocalMode() {
		return report(stderr, runLocal(ctx, cfg, stdin, stdout, log))
	}
	a, err := newApp(ctx, cfg, log, appOptions{})
	if err != nil {
		return report(stderr, err)
	}
	return report(stderr, a.serve(ctx))
}

func report(stderr io.Writer, err error) int {
	if err == nil || errors.Is(err, context.Canceled) {
		return 0
	}
	fmt.Fprintln(stderr, "holdfast:", err)
	return 1
}

func migrateOnly(ctx context.Context, cfg config.Config, stdout io.Writer) error {
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	from, to, err := st.Migrate(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "schema at version %d (was %d)\n", to, from)
	return nil
}

func logLevel(s string) slog.Level {
	var l slog.Level
	if l.UnmarshalText([]byte(s)) != nil {
		return slog.LevelInfo
	}
	return l
}
