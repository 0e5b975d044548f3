package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/api"
	"github.com/holdfast/holdfast/bot"
	"github.com/holdfast/holdfast/config"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/store"
)

// csvColumns are the accepted header names; external_id and name are required.
var csvColumns = []string{"external_id", "name", "tier", "arr", "segment", "renewal_date", "owner_csm", "ae",
	"sales_manager", "champion", "channel", "status", "internal_channel",
	// Cohort traits and billing link; a column left out keeps stored values.
	"company_size_band", "industry", "deal_source", "champion_tenure_months", "stripe_customer_id",
	// Tenure start for the NPS cadence.
	"activation_date",
	// Any further column "trait:KEY" or "trait:KEY:TYPE" is an account trait.
	traitColumns}

// traitColumns in a list of known columns admits "trait:…" columns.
const traitColumns = "trait:*"

// importAccounts upserts every row of a CSV file in one transaction, or
// none when any row is wrong; each problem is printed with its line number.
func importAccounts(ctx context.Context, cfg config.Config, path string, stdout, stderr io.Writer) int {
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintln(stderr, "holdfast import:", err)
		return 1
	}
	defer f.Close()
	rows, lines, problems := readAccountsCSV(f)
	var valid []store.AccountInput
	if len(problems) == 0 {
		valid, err = ingest.ValidateAccounts(rows)
		var ve *api.ValidationError
		switch {
		case errors.As(err, &ve):
			for _, r := range ve.Rows {
				problems = append(problems, fmt.Sprintf("line %d: %s: %s", lines[r.Index], r.Field, r.Message))
			}
		case err != nil:
			fmt.Fprintln(stderr, "holdfast import:", err)
			return 1
		}
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(stderr, path+":", p)
		}
		fmt.Fprintf(stderr, "holdfast import: %d problem(s); nothing was imported\n", len(problems))
		return 1
	}
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		fmt.Fprintln(stderr, "holdfast import:", err)
		return 1
	}
	defer st.Close()
	if _, _, err := st.Migrate(ctx); err != nil {
		fmt.Fprintln(stderr, "holdfast import:", err)
		return 1
	}
	if unknown, err := resolveEmails(ctx, cfg, st, valid, stderr); err != nil {
		fmt.Fprintln(stderr, "holdfast import: nothing was imported:", err)
		return 1
	} else if len(unknown) > 0 {
		fmt.Fprintf(stderr, "holdfast import: no Slack user has these e-mail addresses (kept as typed): %s\n", strings.Join(unknown, ", "))
	}
	var res []store.UpsertResult
	err = st.InTx(ctx, func(tx store.Tx) error {
		res, err = tx.UpsertAccounts(ctx, valid)
		return err
	})
	if err != nil {
		fmt.Fprintln(stderr, "holdfast import: nothing was imported:", err)
		return 1
	}
	created := 0
	for _, r := range res {
		if r.Created {
			created++
		}
	}
	fmt.Fprintf(stdout, "imported %d accounts (%d new, %d updated)\n", len(res), created, len(res)-created)
	return 0
}

// readAccountsCSV reads the rows and the line each starts on (a quoted
// field may span lines, so row i is not always on line i+2).
func readAccountsCSV(r io.Reader) ([]ingest.AccountIn, []int, []string) {
	rows, lines, _, problems := readAccountsCSVWith(r, nil)
	return rows, lines, problems
}

// readAccountsCSVWith is readAccountsCSV accepting the extra columns too,
// whose values it returns per row.
func readAccountsCSVWith(r io.Reader, extra []string) ([]ingest.AccountIn, []int, []map[string]string, []string) {
	t, problems := openCSV(r, append(slices.Clone(csvColumns), extra...), []string{"external_id", "name"})
	if len(problems) > 0 {
		return nil, nil, nil, problems
	}
	var extras []map[string]string
	var rows []ingest.AccountIn
	var lines []int
	var cells [][]string
	problem := t.each(func() {
		line, get := t.line, t.get
		a := ingest.AccountIn{ExternalID: get("external_id"), Name: get("name"), Tier: get("tier"), Segment: get("segment"),
			RenewalDate: get("renewal_date"), OwnerCSM: get("owner_csm"), AE: get("ae"), SalesManager: get("sales_manager"),
			Champion: get("champion"), Channel: get("channel"), Status: get("status"), ActivationDate: get("activation_date"),
			InternalChannel: get("internal_channel")}
		opt := func(name string) *string {
			if !t.has(name) {
				return nil
			}
			v := get(name)
			return &v
		}
		a.CompanySizeBand, a.Industry, a.DealSource, a.StripeCustomerID = opt("company_size_band"), opt("industry"),
			opt("deal_source"), opt("stripe_customer_id")
		if s := get("champion_tenure_months"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				problems = append(problems, fmt.Sprintf("line %d: champion_tenure_months: %q is not a whole number of months", line, s))
			}
			a.ChampionTenureMonths = &n
		}
		if s := strings.NewReplacer("$", "", ",", "", "_", "").Replace(get("arr")); s != "" {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				problems = append(problems, fmt.Sprintf("line %d: arr: %q is not a number", line, get("arr")))
			}
			a.ARR = v
		}
		rows, lines = append(rows, a), append(lines, line)
		cells = append(cells, slices.Clone(t.rec))
		ex := map[string]string{}
		for _, c := range extra {
			ex[c] = get(c)
		}
		extras = append(extras, ex)
	})
	if problem != "" {
		problems = append(problems, problem)
	}
	addTraits(t, rows, cells)
	return rows, lines, extras, problems
}

// addTraits fills each row's traits from the "trait:" columns, typing
// each column as a whole (see ingest.TypeTraitCells).
func addTraits(t *csvTable, rows []ingest.AccountIn, cells [][]string) {
	for i, h := range t.header {
		key, typ, ok := ingest.ParseTraitHeader(h)
		if !ok {
			continue
		}
		column := make([]string, len(rows))
		for r := range rows {
			if i < len(cells[r]) {
				column[r] = cells[r][i]
			}
		}
		values := ingest.TypeTraitCells(column, typ)
		for r := range rows {
			if rows[r].Traits == nil {
				rows[r].Traits = map[string]any{}
			}
			rows[r].Traits[key] = values[r]
			if typ != "" {
				if rows[r].TraitTypes == nil {
					rows[r].TraitTypes = map[string]string{}
				}
				rows[r].TraitTypes[key] = typ
			}
		}
	}
}

// csvTable reads a CSV file whose first line names its columns (any
// order, any case, a byte-order mark tolerated).
type csvTable struct {
	r      *csv.Reader
	header []string
	col    map[string]int
	rec    []string
	line   int // where the current record starts
}

// openCSV reads the header: every column must be one of known, and the
// required ones present. Each problem is a line for the user.
func openCSV(r io.Reader, known, required []string) (*csvTable, []string) {
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, []string{"header: " + err.Error()}
	}
	t := &csvTable{r: cr, col: map[string]int{}}
	var problems []string
	for i, h := range header {
		h = strings.TrimPrefix(h, "\ufeff")
		t.header = append(t.header, h)
		name := strings.ToLower(strings.TrimSpace(h))
		if strings.HasPrefix(name, ingest.TraitColumnPrefix) && slices.Contains(known, traitColumns) {
			continue
		}
		if !slices.Contains(known, name) {
			problems = append(problems, fmt.Sprintf("header: unknown column %q (known: %s)", h, strings.Join(known, ", ")))
		}
		t.col[name] = i
	}
	for _, need := range required {
		if !t.has(need) {
			problems = append(problems, "header: missing column "+need)
		}
	}
	return t, problems
}

// each calls row for every record, in order (row reads it with get and
// line). It returns a problem for a malformed record, where reading stops,
// or a file without records; else "".
func (t *csvTable) each(row func()) (problem string) {
	n := 0
	for {
		rec, err := t.r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err.Error()
		}
		t.rec, n = rec, n+1
		t.line, _ = t.r.FieldPos(0)
		row()
	}
	if n == 0 {
		return "no rows after the header"
	}
	return ""
}

// has reports whether the header names the column.
func (t *csvTable) has(name string) bool {
	_, ok := t.col[name]
	return ok
}

// get is the current record's value of a column, trimmed ("" when the
// header or the record lacks it).
func (t *csvTable) get(name string) string {
	if i, ok := t.col[name]; ok && i < len(t.rec) {
		return strings.TrimSpace(t.rec[i])
	}
	return ""
}

// resolveEmails looks e-mail addresses in person fields up in Slack when
// a bot token is set (users.lookupByEmail, through the same cache as the
// API); without one they are kept as typed.
func resolveEmails(ctx context.Context, cfg config.Config, st *store.Store, rows []store.AccountInput, stderr io.Writer) ([]string, error) {
	if cfg.SlackBotToken == "" || !slices.ContainsFunc(rows, func(a store.AccountInput) bool {
		return store.IsEmail(a.OwnerCSM) || store.IsEmail(a.AE) || store.IsEmail(a.SalesManager)
	}) {
		return nil, nil
	}
	opts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	httpClient := &http.Client{Timeout: 15 * time.Second}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	sender := bot.NewSender(slack.New(cfg.SlackBotToken, slack.OptionAPIURL(cfg.SlackAPIURL), slack.OptionHTTPClient(httpClient)),
		httpClient, redis_rate.NewLimiter(rdb), cfg.Settings.Redis.KeyPrefix, bot.ChannelLimit, log, prometheus.NewRegistry())
	return ingest.ResolveEmails(ctx, bot.NewPeople(st, sender), rows, log)
}
