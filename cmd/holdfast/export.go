package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/holdfast/holdfast/config"
	"github.com/holdfast/holdfast/internal/textsignals"
	"github.com/holdfast/holdfast/store"
)

// exportAudit writes the audit trail from --since (a date, YYYY-MM-DD,
// UTC) on as CSV on stdout, oldest first.
func exportAudit(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("export audit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	since := fs.String("since", "", "first day to export, YYYY-MM-DD (UTC)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	day, err := time.Parse(time.DateOnly, *since)
	if err != nil || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "holdfast: usage: holdfast export audit --since YYYY-MM-DD")
		return exitUsage
	}
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return report(stderr, err)
	}
	defer st.Close()
	w := csv.NewWriter(stdout)
	if err := w.Write([]string{"at", "actor", "action", "account_id", "subject", "detail"}); err != nil {
		return report(stderr, err)
	}
	err = st.AuditSince(ctx, day, func(e store.AuditEntry) error {
		account := ""
		if e.AccountID != 0 {
			account = strconv.FormatInt(e.AccountID, 10)
		}
		return w.Write([]string{e.At.UTC().Format(time.RFC3339), e.Actor, e.Action, account, csvSafe(e.Subject), csvSafe(e.Detail)})
	})
	w.Flush()
	if err == nil {
		err = w.Error()
	}
	return report(stderr, err)
}

// csvSafe keeps a spreadsheet from reading a cell as a formula: the
// characters a formula may start with, tab and carriage return included
// (spreadsheets skip them and read what follows).
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// exportLabels: holdfast export labels [-format jsonl|csv].
func exportLabels(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("export labels", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "jsonl", "jsonl or csv")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return exitUsage
	}
	if fs.NArg() > 0 || (*format != "jsonl" && *format != "csv") {
		fmt.Fprintln(stderr, "holdfast: usage: holdfast export labels [-format jsonl|csv]")
		return exitUsage
	}
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return report(stderr, err)
	}
	defer st.Close()
	bw := bufio.NewWriter(stdout)
	n, err := textsignals.ExportLabels(ctx, st.DB(), *format, bw)
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return report(stderr, err)
	}
	fmt.Fprintf(stderr, "holdfast: %d labels exported\n", n)
	return 0
}
