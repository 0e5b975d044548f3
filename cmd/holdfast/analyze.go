package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/config"
	"github.com/holdfast/holdfast/internal/textsignals"
	"github.com/holdfast/holdfast/llm"
	"github.com/holdfast/holdfast/scoring/text"
)

const analyzeUsage = `usage: holdfast analyze [flags] [FILE]

Reads texts as JSON Lines ({"id": …, "text": "…"} per line) or CSV (a header
with id and text columns) from FILE, or from standard input when FILE is
absent or "-", and writes one JSON line per text: sentiment (-1..+1), label,
churn_intent, intent_phrase, intent (category, quote, confidence, high),
competitors (with byte spans into the text and a snippet; at most 50, the
rest counted in mentions_omitted) and the cues that moved the score.
Slack-formatted texts are read as Slack shows them (<url|label> as its
label), as the live path does; spans then refer to that text. Competitors
and own names come from the YAML file named by HOLDFAST_CONFIG
(text.competitors, text.own_names). Rows that cannot be read (bad JSON, a
line over 16 MiB, a missing id) are reported on standard error and skipped,
and the rest are still analysed; the exit status is then 1.

flags:`

// analyzeOptions are the command line of holdfast analyze.
type analyzeOptions struct {
	format  string // auto, jsonl, csv
	workers int
	useLLM  bool
}

// analyzeRow is one input text.
type analyzeRow struct {
	line int // where it started in the input, for error messages
	id   json.RawMessage
	text string
	err  error
}

// analyzeOut is one output line.
type analyzeOut struct {
	ID           json.RawMessage      `json:"id"`
	Sentiment    float64              `json:"sentiment"`
	Label        text.Label           `json:"label"`
	ChurnIntent  bool                 `json:"churn_intent"`
	IntentPhrase string               `json:"intent_phrase,omitempty"`
	Intent       *text.Intent         `json:"intent,omitempty"`
	Competitors  []text.Mention       `json:"competitors"`
	Omitted      int                  `json:"mentions_omitted,omitempty"`
	Cues         []string             `json:"cues,omitempty"`
	LLM          *textsignals.Reading `json:"llm,omitempty"`
	LLMError     string               `json:"llm_error,omitempty"`
}

func analyzeCommand(ctx context.Context, args []string, getenv config.Getenv, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("analyze", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o analyzeOptions
	fs.StringVar(&o.format, "format", "auto", "input format: jsonl, csv, or auto (by file extension, else by the first character)")
	fs.IntVar(&o.workers, "workers", runtime.GOMAXPROCS(0), "texts analysed in parallel")
	fs.BoolVar(&o.useLLM, "llm", false, "also ask the language model (OPENAI_BASE_URL, OPENAI_API_KEY, OPENAI_MODEL) for each text; slow")
	fs.Usage = func() {
		fmt.Fprintln(stderr, analyzeUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return exitUsage
	}
	if fs.NArg() > 1 {
		fmt.Fprintln(stderr, "holdfast analyze: give at most one FILE")
		return exitUsage
	}
	if o.format != "auto" && o.format != "jsonl" && o.format != "csv" {
		fmt.Fprintf(stderr, "holdfast analyze: -format %q: want jsonl, csv or auto\n", o.format)
		return exitUsage
	}
	if o.workers < 1 {
		fmt.Fprintln(stderr, "holdfast analyze: -workers must be at least 1")
		return exitUsage
	}
	settings := config.DefaultSettings()
	if path := getenv("HOLDFAST_CONFIG"); path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintln(stderr, "holdfast analyze: HOLDFAST_CONFIG:", err)
			return exitUsage
		}
		if settings, err = config.ParseSettings(raw); err != nil {
			fmt.Fprintf(stderr, "holdfast analyze: HOLDFAST_CONFIG %s: %v\n", path, err)
			return exitUsage
		}
	}
	analyzer, err := settings.Text.NewAnalyzer()
	if err != nil {
		fmt.Fprintf(stderr, "holdfast analyze: text.%v\n", err)
		return exitUsage
	}
	var analyst *textsignals.Analyst
	if o.useLLM {
		lc := llm.Config{BaseURL: getenv("OPENAI_BASE_URL"), APIKey: getenv("OPENAI_API_KEY"), Model: getenv("OPENAI_MODEL")}
		if !lc.Enabled() {
			fmt.Fprintln(stderr, "holdfast analyze: -llm needs OPENAI_API_KEY or OPENAI_BASE_URL")
			return exitUsage
		}
		analyst = textsignals.NewAnalyst(llm.New(lc), lc.Model, settings.Text.Competitors, nil, slog.New(slog.DiscardHandler))
	}

	in := stdin
	name := "-"
	if fs.NArg() == 1 && fs.Arg(0) != "-" {
		name = fs.Arg(0)
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(stderr, "holdfast analyze:", err)
			return 1
		}
		defer f.Close()
		in = f
	}
	failed, err := analyzeStream(ctx, in, name, stdout, stderr, o, analyzer, analyst)
	if err != nil {
		fmt.Fprintln(stderr, "holdfast analyze:", err)
		return 1
	}
	if failed > 0 {
		fmt.Fprintf(stderr, "holdfast analyze: %d rows skipped\n", failed)
		return 1
	}
	return 0
}

// analyzeStream reads rows, analyses them in parallel batches and writes
// the results in input order. It returns how many rows were skipped.
func analyzeStream(ctx context.Context, r io.Reader, name string, w, stderr io.Writer, o analyzeOptions, a *text.Analyzer, analyst *textsignals.Analyst) (int, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	format := o.format
	if format == "auto" {
		format = sniffFormat(name, br)
	}
	next, err := rowReader(format, br)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	defer bw.Flush()
	const batch = 2048
	rows := make([]analyzeRow, 0, batch)
	outs := make([][]byte, batch)
	failed := 0
	flush := func() error {
		per := (len(rows) + o.workers - 1) / o.workers
		var wg sync.WaitGroup
		for start := 0; start < len(rows); start += per {
			end := min(start+per, len(rows))
			wg.Go(func() {
				for i := start; i < end; i++ {
					outs[i] = analyzeOne(ctx, rows[i], a, analyst)
				}
			})
		}
		wg.Wait()
		for i, row := range rows {
			if row.err != nil {
				failed++
				fmt.Fprintf(stderr, "holdfast analyze: %s line %d: %v\n", name, row.line, row.err)
				continue
			}
			if _, err := bw.Write(outs[i]); err != nil {
				return fmt.Errorf("write: %w", err)
			}
		}
		rows = rows[:0]
		return ctx.Err()
	}
	for {
		row, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return failed, err
		}
		rows = append(rows, row)
		if len(rows) == batch {
			if err := flush(); err != nil {
				return failed, err
			}
		}
	}
	if err := flush(); err != nil {
		return failed, err
	}
	return failed, bw.Flush()
}

func analyzeOne(ctx context.Context, row analyzeRow, a *text.Analyzer, analyst *textsignals.Analyst) []byte {
	if row.err != nil {
		return nil
	}
	if slackFormatted(row.text) {
		row.text = blocks.DisplayText(row.text)
	}
	r := a.Analyze(row.text)
	out := analyzeOut{ID: row.id, Sentiment: r.Sentiment, Label: r.Label, ChurnIntent: r.ChurnIntent,
		IntentPhrase: r.IntentPhrase, Competitors: r.Competitors, Omitted: r.MentionsOmitted, Cues: r.Cues}
	if r.Intent.Category != "" {
		out.Intent = &r.Intent
	}
	if out.Competitors == nil {
		out.Competitors = []text.Mention{}
	}
	if analyst != nil && strings.TrimSpace(row.text) != "" {
		if reading, err := analyst.Read(ctx, "text", row.text); err != nil {
			out.LLMError = err.Error()
		} else {
			out.LLM = &reading
		}
	}
	b, err := json.Marshal(out)
	if err != nil { // only NaN could do this, and Analyze never returns one
		b, _ = json.Marshal(map[string]any{"id": row.id, "error": err.Error()})
	}
	return append(b, '\n')
}

// slackFormatted: the text holds Slack's markup for links, mentions or
// channels (<https://…|label>, <@U123>, <#C123|name>, <!here>).
func slackFormatted(s string) bool {
	for i := strings.IndexByte(s, '<'); i >= 0 && i+1 < len(s); {
		rest := s[i+1:]
		if strings.HasPrefix(rest, "http://") || strings.HasPrefix(rest, "https://") || strings.HasPrefix(rest, "mailto:") ||
			strings.HasPrefix(rest, "@U") || strings.HasPrefix(rest, "@W") || strings.HasPrefix(rest, "#C") || strings.HasPrefix(rest, "!") {
			if strings.IndexByte(rest, '>') > 0 {
				return true
			}
		}
		j := strings.IndexByte(rest, '<')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

// sniffFormat decides by extension, else by the first non-space byte.
func sniffFormat(name string, br *bufio.Reader) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv":
		return "csv"
	case ".jsonl", ".ndjson", ".json":
		return "jsonl"
	}
	peek, _ := br.Peek(512)
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(peek, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '{' {
		return "jsonl"
	}
	return "csv"
}

// maxLine bounds one JSONL line (a long e-mail thread fits easily).
const maxLine = 16 << 20

// readLine reads one line into *buf (without the newline). A line longer
// than maxLine is read to its end and dropped: tooLong reports it, so the
// caller can report the row and go on with the next.
func readLine(br *bufio.Reader, buf *[]byte) (line []byte, tooLong bool, err error) {
	*buf = (*buf)[:0]
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(*buf)+len(chunk) > maxLine+1 {
				tooLong = true
				*buf = (*buf)[:0]
			} else {
				*buf = append(*buf, chunk...)
			}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(*buf) == 0 && !tooLong {
				return nil, false, io.EOF
			}
			return *buf, tooLong, nil
		case err != nil:
			return nil, false, err
		}
		return bytes.TrimSuffix(*buf, []byte("\n")), tooLong, nil
	}
}

func rowReader(format string, br *bufio.Reader) (func() (analyzeRow, error), error) {
	if format == "jsonl" {
		line := 0
		var buf []byte
		return func() (analyzeRow, error) {
			for {
				b, tooLong, err := readLine(br, &buf)
				if err != nil {
					if errors.Is(err, io.EOF) {
						return analyzeRow{}, io.EOF
					}
					return analyzeRow{}, fmt.Errorf("line %d: %w", line+1, err)
				}
				line++
				row := analyzeRow{line: line}
				if tooLong {
					row.err = fmt.Errorf("longer than %d MiB; skipped", maxLine>>20)
					return row, nil
				}
				b = bytes.TrimSpace(b)
				if line == 1 {
					b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
				}
				if len(b) == 0 {
					continue
				}
				var in struct {
					ID   json.RawMessage `json:"id"`
					Text *string         `json:"text"`
				}
				switch err := json.Unmarshal(b, &in); {
				case err != nil:
					row.err = fmt.Errorf("not a JSON object: %v", err)
				case len(in.ID) == 0 || string(in.ID) == "null":
					row.err = errors.New(`missing "id"`)
				case in.Text == nil:
					row.err = errors.New(`missing "text"`)
				default:
					row.id, row.text = append(json.RawMessage(nil), in.ID...), *in.Text
				}
				return row, nil
			}
		}, nil
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return func() (analyzeRow, error) { return analyzeRow{}, io.EOF }, nil
	}
	if err != nil {
		return nil, fmt.Errorf("csv header: %w", err)
	}
	idCol, textCol := -1, -1
	for i, h := range header {
		switch strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))) {
		case "id":
			idCol = i
		case "text":
			textCol = i
		}
	}
	if idCol < 0 || textCol < 0 {
		return nil, fmt.Errorf("csv header %q: want columns named id and text", strings.Join(header, ","))
	}
	return func() (analyzeRow, error) {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return analyzeRow{}, io.EOF
		}
		var row analyzeRow
		var perr *csv.ParseError
		switch {
		case errors.As(err, &perr):
			row.line, row.err = perr.StartLine, perr.Err
			return row, nil
		case err != nil:
			return row, err
		}
		// FieldPos only after a record was read: it panics on a failed one.
		row.line, _ = cr.FieldPos(0)
		switch {
		case idCol >= len(rec) || textCol >= len(rec):
			row.err = fmt.Errorf("has %d fields; id and text are columns %d and %d", len(rec), idCol+1, textCol+1)
		case strings.TrimSpace(rec[idCol]) == "":
			row.err = errors.New("empty id")
		default:
			id, _ := json.Marshal(rec[idCol])
			row.id, row.text = id, strings.Clone(rec[textCol])
		}
		return row, nil
	}, nil
}
