package textsignals

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/holdfast/holdfast/internal/digest"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/scoring/text"
	"github.com/holdfast/holdfast/store"
)

// The ingest hook: what the words of an ingested signal lead to beyond its
// sentiment and intent (which the pipeline scores) — the competitor
// mentions it holds and the alerts they and a falling sentiment raise.
// Decisions use the offline analysis only; a language model, when
// configured, adds a summary a person reads and never decides whether an
// alert fires.

// Insight is a language model's reading of one text, as an alert shows it.
type Insight struct {
	Summary string
}

// Insighter reads texts with a language model; any error means "no
// insight". *Analyst is one.
type Insighter interface {
	Insight(ctx context.Context, kind, text string) (Insight, error)
}

// Bounds on language-model calls per batch: they happen before the
// database transaction, and the ingest answer waits for them.
const (
	maxInsightsPerBatch = 8
	insightBudget       = 4 * time.Second
)

// textBatch is what one ingest call learned from its texts.
type textBatch struct {
	results  []text.Result // per input row; zero for rows without text
	insights map[int]Insight
}

// hook is the module's ingest.Hook.
type hook struct{ m *Module }

// Prepare asks the model for summaries before the transaction opens, and
// returns the step that records mentions and raises alerts inside it.
func (h hook) Prepare(ctx context.Context, b *ingest.Batch) ingest.TxStep {
	tb := &textBatch{results: b.Analyses, insights: map[int]Insight{}}
	h.m.insights(ctx, b.Inputs, tb)
	return func(ctx context.Context, tx store.Tx, b *ingest.Batch) error { return h.m.raise(ctx, tx, b, tb) }
}

// insights asks the model about rows likely to alert, in parallel and
// within one time budget: the first row naming each competitor for each
// account, which is the row raise quotes in that pair's alert. Later rows
// for the same pair would spend calls (and the budget) on summaries no
// alert shows.
func (m *Module) insights(ctx context.Context, rows []store.SignalInput, tb *textBatch) {
	if m.insight == nil {
		return
	}
	var idx []int
	seen := map[[2]string]bool{}
	for i, r := range tb.results {
		if len(idx) == maxInsightsPerBatch {
			break
		}
		fresh := false
		for _, mt := range r.Competitors {
			k := [2]string{rows[i].AccountExternalID, mt.Competitor}
			fresh = fresh || !seen[k]
			seen[k] = true
		}
		if fresh {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, insightBudget)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, i := range idx {
		wg.Go(func() {
			in, err := m.insight.Insight(ctx, string(rows[i].Kind), rows[i].Text)
			if err != nil {
				m.log.Debug("no text insight; alert goes without a summary", "err", err)
				return
			}
			mu.Lock()
			tb.insights[i] = in
			mu.Unlock()
		})
	}
	wg.Wait()
}

// raise runs in the ingest transaction: it records the mentions of the
// stored signals and raises competitor and sentiment-drop alerts.
func (m *Module) raise(ctx context.Context, tx store.Tx, in *ingest.Batch, tb *textBatch) error {
	rows := in.Inputs
	var mentions []mention
	type pair struct {
		account    int64
		competitor string
	}
	first := map[pair]int{}
	snippets := map[pair][]string{}
	var pairs []pair
	for i, id := range in.SignalIDs {
		if id == 0 {
			continue
		}
		r := tb.results[i]
		for _, mt := range r.Competitors {
			mentions = append(mentions, mention{SignalID: id, AccountID: in.AccountIDs[i], Competitor: mt.Competitor,
				Alias: mt.Alias, Mention: mt.Text, Snippet: mt.Snippet, Start: mt.Start, End: mt.End, Kind: string(rows[i].Kind),
				Source: rows[i].Source, ChurnIntent: r.ChurnIntent, OccurredAt: rows[i].OccurredAt})
			p := pair{in.AccountIDs[i], mt.Competitor}
			if _, seen := first[p]; !seen {
				first[p] = i
				pairs = append(pairs, p)
			}
			if !slices.Contains(snippets[p], mt.Snippet) {
				snippets[p] = append(snippets[p], mt.Snippet)
			}
		}
	}
	if err := insertMentions(ctx, tx, mentions); err != nil {
		return err
	}
	for _, p := range pairs {
		i := first[p]
		acct, ok := in.Accounts[p.account]
		if !ok {
			continue
		}
		r := tb.results[i]
		possible := ""
		if !r.ChurnIntent && r.Intent.Category != "" {
			possible = r.Intent.Quote
		}
		a := raised{
			row: alertRow{AccountID: acct.ID, Kind: store.TextAlertCompetitor, Competitor: p.competitor, SignalID: in.SignalIDs[i]},
			view: AlertView{Kind: store.TextAlertCompetitor, Competitor: p.competitor, Snippets: snippets[p],
				Source: describeSource(rows[i]), SourceChannel: metadataString(rows[i].Metadata, "channel"),
				ChurnIntent: r.ChurnIntent, IntentPhrase: r.IntentPhrase, Sentiment: rows[i].Sentiment,
				IntentCategory: string(r.Intent.Category), IntentConfidence: r.Intent.Confidence,
				AISummary: tb.insights[i].Summary, SignalID: in.SignalIDs[i], PossibleIntent: possible},
			summary:  p.competitor + " mentioned in " + describeSource(rows[i]),
			topic:    digest.TopicCompetitors,
			cooldown: "text_alert:competitor:" + strconv.FormatInt(p.account, 10) + ":" + strings.ToLower(p.competitor),
			ttl:      m.settings.CompetitorCooldown.Duration,
			// Intent to leave for a named rival is as urgent as a cancellation notice.
			urgent: r.ChurnIntent,
		}
		if err := m.raiseAlert(ctx, tx, in, acct, in.Health[p.account], a); err != nil {
			return err
		}
	}
	// Accounts whose new texts may have moved their sentiment trend.
	var accounts []int64
	for i, id := range in.SignalIDs {
		if id != 0 && rows[i].Sentiment != nil && !slices.Contains(accounts, in.AccountIDs[i]) {
			accounts = append(accounts, in.AccountIDs[i])
		}
	}
	slices.Sort(accounts)
	cfg := m.settings.SentimentDrop
	for _, id := range accounts {
		tr := scoring.SentimentTrendOf(in.History[id], in.Now(), cfg.WindowDays)
		summary, drop := scoring.DecideSentimentDrop(cfg, tr)
		acct, ok := in.Accounts[id]
		if !drop || !ok {
			continue
		}
		a := raised{
			row:      alertRow{AccountID: acct.ID, Kind: store.TextAlertSentiment},
			view:     AlertView{Kind: store.TextAlertSentiment, From: tr.Before, To: tr.Recent, WindowDays: cfg.WindowDays, Texts: tr.RecentN},
			summary:  summary,
			topic:    digest.TopicSentiment,
			cooldown: "text_alert:sentiment:" + strconv.FormatInt(id, 10),
			ttl:      m.settings.SentimentCooldown.Duration,
		}
		if tr.Worst != nil {
			a.view.Worst, a.row.SignalID, a.view.SignalID = tr.Worst.Text, tr.Worst.ID, tr.Worst.ID
		}
		if err := m.raiseAlert(ctx, tx, in, acct, in.Health[id], a); err != nil {
			return err
		}
	}
	return nil
}

// raised is an alert the rules decided on, before its cooldown is taken.
type raised struct {
	row      alertRow
	view     AlertView
	summary  string // for the account timeline
	topic    string // the digest topic whose channels get it live
	cooldown string // key: one alert per key per ttl
	ttl      time.Duration
	urgent   bool // posted in quiet hours too
}

// raiseAlert takes the cooldown and, if it was free, records the alert and
// queues it for the owner and the subscribed channels.
func (m *Module) raiseAlert(ctx context.Context, tx store.Tx, b *ingest.Batch, acct store.Account, h scoring.Health, a raised) error {
	if acct.Status == scoring.StatusChurned {
		return nil // nothing left to save
	}
	ok, err := b.TakeCooldown(ctx, tx, a.cooldown, a.ttl)
	if err != nil {
		return err
	}
	if !ok {
		return nil
	}
	recipients, err := m.recipients(ctx, tx, acct, a.topic)
	if err != nil {
		return err
	}
	if len(recipients) == 0 {
		m.log.Warn("text alert has nowhere to go: no owner, no subscribed channel, no alerts.default_channel",
			"account", acct.ExternalID, "kind", a.row.Kind)
		return nil
	}
	now := b.Now()
	a.row.Recipients, a.row.At = recipients, now
	v := &a.view
	v.AccountID, v.AccountName, v.ExternalID = acct.ID, acct.Name, acct.ExternalID
	v.ARR, v.RenewalDate, v.OwnerSlackID, v.Now = acct.ARR, acct.RenewalDate, acct.OwnerCSM, now
	if !h.ComputedAt.IsZero() {
		score := h.Score
		v.Score, v.Band = &score, h.Band
	}
	var notBefore time.Time
	if !a.urgent {
		notBefore = m.quiet.Until(now)
	}
	id, err := record(ctx, tx, a.row, a.view, notBefore, a.summary)
	if err != nil {
		return err
	}
	b.TextAlerts = append(b.TextAlerts, id)
	return nil
}

// record writes an alert and its card, queues one post per recipient (not
// before notBefore) and notes it on the account's timeline.
func record(ctx context.Context, tx store.Tx, row alertRow, view AlertView, notBefore time.Time, summary string) (int64, error) {
	if len(row.Recipients) == 0 {
		return 0, errors.New("text alert without recipients")
	}
	id, err := insertAlert(ctx, tx, row)
	if err != nil {
		return 0, err
	}
	view.AlertID = id
	if err := setAlertView(ctx, tx, id, view); err != nil {
		return 0, err
	}
	msg := AlertCard(view)
	for _, r := range row.Recipients {
		if err := tx.Enqueue(ctx, store.OutboxItem{Op: store.OpPost, ChannelID: r, Message: msg, NotBefore: notBefore, Priority: store.PriorityAlert,
			Ref: alertRef(id, r)}); err != nil {
			return 0, err
		}
	}
	return id, tx.AddTimeline(ctx, row.AccountID, store.TimelineEntry{At: row.At, Kind: "alert." + row.Kind, Summary: summary}, id)
}

// recipients: the owner by DM, and every channel subscribed to the topic
// whose filters the account passes; the default alert channel when neither
// exists. Never the account's own channel, which may be shared with the
// customer.
func (m *Module) recipients(ctx context.Context, tx store.Tx, acct store.Account, topic string) ([]string, error) {
	var out []string
	if acct.OwnerCSM != "" {
		out = append(out, acct.OwnerCSM)
	}
	channels, err := digest.AlertChannels(ctx, tx, topic, acct.ARR, acct.Tier)
	if err != nil {
		return nil, err
	}
	for _, c := range channels {
		if c != acct.ChannelID && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	if len(out) == 0 && m.defaultChannel != "" {
		out = append(out, m.defaultChannel)
	}
	return out, nil
}

// describeSource says where words came from: "ticket from zendesk",
// "Slack message".
func describeSource(r store.SignalInput) string {
	if r.Kind == scoring.KindSlackMessage {
		return "Slack message"
	}
	kind := strings.ReplaceAll(string(r.Kind), "_", " ")
	return cmp.Or(kind, "signal") + " from " + r.Source
}

func metadataString(meta json.RawMessage, key string) string {
	if len(meta) == 0 {
		return ""
	}
	var m map[string]any
	if json.Unmarshal(meta, &m) != nil {
		return ""
	}
	s, _ := m[key].(string)
	return s
}
