package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/holdfast/holdfast/config"
	"github.com/holdfast/holdfast/internal/connectors"
	"github.com/holdfast/holdfast/store"
)

const connectorsUsage = "holdfast: usage: holdfast connectors status | holdfast connectors test TOOL [URL]"

// connectorsCommand is `holdfast connectors status` (what each tool sent
// and what waits in the quarantine, from Postgres) and `holdfast
// connectors test TOOL [URL]` (a signed example to the running bot).
func connectorsCommand(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 1 && args[0] == "status":
		return report(stderr, connectorsStatus(ctx, cfg, stdout))
	case (len(args) == 2 || len(args) == 3) && args[0] == "test":
		base := "http://" + cfg.HTTPAddr
		if len(args) == 3 {
			base = strings.TrimSuffix(args[2], "/")
		}
		req, err := connectors.ExampleRequest(args[1], base, cfg.Settings.Connectors, cfg.Connectors, time.Now())
		if err != nil {
			fmt.Fprintln(stderr, "holdfast: connectors test:", err)
			return exitUsage
		}
		return report(stderr, sendExample(ctx, req, stdout))
	}
	fmt.Fprintln(stderr, connectorsUsage)
	return exitUsage
}

func connectorsStatus(ctx context.Context, cfg config.Config, stdout io.Writer) error {
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	s, err := connectors.ReadStatus(ctx, st.DB(), connectors.Enabled(cfg.Settings.Connectors, cfg.Connectors))
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "CONNECTOR\tSTATE\tEVENTS\tQUARANTINED\tLAST EVENT")
	for _, c := range s.Connectors {
		state, last := "off", "-"
		if c.Enabled {
			state = "on"
		}
		if c.Last != nil {
			last = c.Last.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%s\n", c.Name, state, c.Events, c.Quarantined, last)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if len(s.Quarantine) == 0 {
		fmt.Fprintln(stdout, "\nNothing waits in the quarantine.")
		return nil
	}
	fmt.Fprintln(stdout, "\nWaiting for an account (map the key with POST /v1/connectors/mappings):")
	w = tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "CONNECTOR\tKEY KIND\tKEY\tEVENTS\tSINCE")
	for _, q := range s.Quarantine {
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\n", q.Connector, q.KeyKind, q.Key, q.Events, q.Oldest.UTC().Format(time.RFC3339))
	}
	return w.Flush()
}

func sendExample(ctx context.Context, req *http.Request, stdout io.Writer) error {
	req = req.WithContext(ctx)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("send example: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	fmt.Fprintf(stdout, "POST %s -> %d\n%s\n", req.URL.Redacted(), resp.StatusCode, strings.TrimSpace(string(body)))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the bot answered %d", resp.StatusCode)
	}
	return nil
}
