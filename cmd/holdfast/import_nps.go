package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/holdfast/holdfast/api"
	"github.com/holdfast/holdfast/config"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/internal/nps"
	"github.com/holdfast/holdfast/store"
)

// npsColumns are the accepted header names of an NPS CSV; the first four
// are required.
var npsColumns = []string{"account", "respondent", "score", "answered_at", "comment", "survey_kind", "survey_id", "idempotency_key"}

// importNPS records every answer of a CSV file in one transaction through
// the same path as POST /v1/nps (signals, scores, alerts, detractor
// loops), or none when any line is wrong; each problem is printed with its
// line number. Slack messages it causes wait in the outbox for the bot.
func importNPS(ctx context.Context, cfg config.Config, path string, stdout, stderr io.Writer, log *slog.Logger) int {
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintln(stderr, "holdfast import nps:", err)
		return 1
	}
	defer f.Close()
	loc := cfg.Settings.Schedule.Location()
	rows, lines, problems := readNPSCSV(f, loc)
	if len(problems) == 0 {
		if _, errs := nps.Validate(rows, time.Now(), 0); len(errs) > 0 {
			for _, e := range errs {
				problems = append(problems, fmt.Sprintf("line %d: %s: %s", lineOf(lines, e.Index), e.Field, e.Message))
			}
		}
	}
	if len(problems) > 0 {
		return importFailed(stderr, path, problems)
	}
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		fmt.Fprintln(stderr, "holdfast import nps:", err)
		return 1
	}
	defer st.Close()
	if _, _, err := st.Migrate(ctx); err != nil {
		fmt.Fprintln(stderr, "holdfast import nps:", err)
		return 1
	}
	analyzer, err := cfg.Settings.Text.NewAnalyzer()
	if err != nil {
		fmt.Fprintln(stderr, "holdfast import nps: text.competitors:", err)
		return exitUsage
	}
	pipeline := ingest.New(st, analyzer, ingest.Settings{Alerts: cfg.Settings.Alerts, Scoring: cfg.Settings.Scoring}, time.Now, log, nil)
	// No Slack here: the messages the answers cause wait in the outbox.
	module := nps.New(st, pipeline, analyzer, nil, nps.Options{Settings: cfg.Settings.NPS,
		DefaultChannel: cfg.Settings.Alerts.DefaultChannel, Location: loc}, time.Now, log)
	res, err := module.Import(ctx, rows)
	if err != nil {
		var ve *api.ValidationError
		if errors.As(err, &ve) {
			for _, r := range ve.Rows {
				problems = append(problems, fmt.Sprintf("line %d: %s: %s", lineOf(lines, r.Index), r.Field, r.Message))
			}
			return importFailed(stderr, path, problems)
		}
		fmt.Fprintln(stderr, "holdfast import nps: nothing was imported:", err)
		return 1
	}
	loops := 0
	for _, a := range res.Answers {
		if a.LoopID != 0 {
			loops++
		}
	}
	fmt.Fprintf(stdout, "imported %d NPS answers (%d new, %d already known); %d detractor loops opened\n",
		len(res.Answers), res.Stored, res.Duplicates, loops)
	return 0
}

func importFailed(stderr io.Writer, path string, problems []string) int {
	for _, p := range problems {
		fmt.Fprintln(stderr, path+":", p)
	}
	fmt.Fprintf(stderr, "holdfast import nps: %d problem(s); nothing was imported\n", len(problems))
	return 1
}

func lineOf(lines []int, index int) int {
	if index >= 0 && index < len(lines) {
		return lines[index]
	}
	return 1 // the batch as a whole: point at the header
}

// answeredLayouts are the timestamp shapes survey-tool exports use; the
// ones without a zone are read in the schedule time zone.
var answeredLayouts = []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"}

func readNPSCSV(r io.Reader, loc *time.Location) (rows []nps.AnswerIn, lines []int, problems []string) {
	t, problems := openCSV(r, npsColumns, npsColumns[:4])
	if len(problems) > 0 {
		return nil, nil, problems
	}
	problem := t.each(func() {
		line, get := t.line, t.get
		a := nps.AnswerIn{Account: get("account"), Respondent: get("respondent"), Comment: get("comment"),
			SurveyKind: get("survey_kind"), IdempotencyKey: get("idempotency_key")}
		if s := get("score"); s != "" {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				problems = append(problems, fmt.Sprintf("line %d: score: %q is not a number", line, s))
			}
			a.Score = &v
		}
		if s := get("answered_at"); s != "" {
			at, ok := parseAnswered(s, loc)
			if !ok {
				problems = append(problems, fmt.Sprintf("line %d: answered_at: %q is not a time (RFC 3339 or YYYY-MM-DD[ HH:MM[:SS]])", line, s))
			}
			a.AnsweredAt = at
		}
		if s := get("survey_id"); s != "" {
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil || v <= 0 {
				problems = append(problems, fmt.Sprintf("line %d: survey_id: %q is not a survey id", line, s))
			}
			a.SurveyID = v
		}
		rows, lines = append(rows, a), append(lines, line)
	})
	if problem != "" {
		problems = append(problems, problem)
	}
	return rows, lines, problems
}

func parseAnswered(s string, loc *time.Location) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	for _, layout := range answeredLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
