package ingest

import (
	"cmp"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/scoring/text"
	"github.com/holdfast/holdfast/store"
)

// Text signals: what the words of an ingested signal lead to beyond its
// sentiment and intent (ingest.go) — the competitor mentions it holds and
// the alerts they and a falling sentiment raise. Decisions use the offline
// analysis only; a language model, when configured, adds a summary a person
// reads and never decides whether an alert fires.

// Insight is a language model's reading of one text (see package textai).
type Insight struct {
	Summary string
}

// Insighter reads texts with a language model; any error means "no insight".
type Insighter interface {
	Insight(ctx context.Context, kind, text string) (Insight, error)
}

// TextAlerts is the ingest hook that records competitor mentions and
// raises competitor and sentiment-drop alerts.
type TextAlerts struct {
	settings textAlertSettings
	insight  Insighter // optional language model
	log      *slog.Logger
}

// NewTextAlerts builds the hook; insight may be nil (alerts then carry no
// summary).
func NewTextAlerts(text TextSettings, alerts AlertSettings, insight Insighter, log *slog.Logger) *TextAlerts {
	return &TextAlerts{settings: textAlertSettings{Text: text, Alerts: alerts}, insight: insight, log: log}
}

type textAlertSettings struct {
	Text   TextSettings
	Alerts AlertSettings
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

// Prepare asks the model for summaries before the transaction opens, and
// returns the step that records mentions and raises alerts inside it.
func (t *TextAlerts) Prepare(ctx context.Context, b *Batch) TxStep {
	tb := &textBatch{results: b.Analyses, insights: map[int]Insight{}}
	t.insights(ctx, b.Inputs, tb)
	return func(ctx context.Context, tx store.Tx, b *Batch) error { return t.raise(ctx, tx, b, tb) }
}

// insights asks the model about rows likely to alert, in parallel and
// within one time budget: the first row naming each competitor for each
// account, which is the row textHook quotes in that pair's alert. Later
// rows for the same pair would spend calls (and the budget) on summaries
// no alert shows.
func (m *TextAlerts) insights(ctx context.Context, rows []store.SignalInput, tb *textBatch) {
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
func (t *TextAlerts) raise(ctx context.Context, tx store.Tx, in *Batch, tb *textBatch) error {
	rows := in.Inputs
	var mentions []store.MentionRow
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
			mentions = append(mentions, store.MentionRow{SignalID: id, AccountID: in.AccountIDs[i], Competitor: mt.Competitor,
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
	if err := store.InsertMentionsTx(ctx, tx, mentions); err != nil {
		return err
	}
	for _, p := range pairs {
		i := first[p]
		acct, ok := in.Accounts[p.account]
		if !ok {
			continue
		}
		key := "text_alert:competitor:" + strconv.FormatInt(p.account, 10) + ":" + strings.ToLower(p.competitor)
		r := tb.results[i]
		view := blocks.TextAlertView{Kind: blocks.KindCompetitorMention, Competitor: p.competitor, Snippets: snippets[p],
			Source: describeSource(rows[i]), SourceChannel: metadataString(rows[i].Metadata, "channel"),
			ChurnIntent: r.ChurnIntent, IntentPhrase: r.IntentPhrase, Sentiment: rows[i].Sentiment,
			AISummary: tb.insights[i].Summary}
		summary := p.competitor + " mentioned in " + describeSource(rows[i])
		// Intent to leave for a named rival is as urgent as a cancellation notice.
		if err := t.raiseTextAlert(ctx, tx, in, acct, in.Health[p.account], store.TextAlertCompetitor, p.competitor,
			in.SignalIDs[i], store.TopicCompetitors, key, t.settings.Text.CompetitorCooldown.Duration, r.ChurnIntent, summary, view); err != nil {
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
	cfg := t.settings.Text.SentimentDrop
	for _, id := range accounts {
		tr := scoring.SentimentTrendOf(in.History[id], in.now, cfg.WindowDays)
		summary, drop := scoring.DecideSentimentDrop(cfg, tr)
		acct, ok := in.Accounts[id]
		if !drop || !ok {
			continue
		}
		view := blocks.TextAlertView{Kind: blocks.KindSentimentDrop, From: tr.Before, To: tr.Recent, WindowDays: cfg.WindowDays, Texts: tr.RecentN}
		var signalID int64
		if tr.Worst != nil {
			view.Worst, signalID = tr.Worst.Text, tr.Worst.ID
		}
		key := "text_alert:sentiment:" + strconv.FormatInt(id, 10)
		if err := t.raiseTextAlert(ctx, tx, in, acct, in.Health[id], store.TextAlertSentiment, "", signalID,
			store.TopicSentiment, key, t.settings.Text.SentimentCooldown.Duration, false, summary, view); err != nil {
			return err
		}
	}
	return nil
}

// raiseTextAlert takes the cooldown and, if it was free, records the alert
// and queues it for the owner and the subscribed channels.
func (t *TextAlerts) raiseTextAlert(ctx context.Context, tx store.Tx, b *Batch, acct store.Account, h scoring.Health, kind, competitor string,
	signalID int64, topic, key string, cooldown time.Duration, urgent bool, summary string, view blocks.TextAlertView) error {
	if acct.Status == scoring.StatusChurned {
		return nil // nothing left to save
	}
	ok, err := b.TakeCooldown(ctx, key, cooldown)
	if err != nil {
		return err
	}
	if !ok {
		return nil
	}
	recipients, err := t.textAlertRecipients(ctx, tx, acct, topic)
	if err != nil {
		return err
	}
	if len(recipients) == 0 {
		t.log.Warn("text alert has nowhere to go: no owner, no subscribed channel, no alerts.default_channel",
			"account", acct.ExternalID, "kind", kind)
		return nil
	}
	view.AccountID, view.AccountName, view.ExternalID = acct.ID, acct.Name, acct.ExternalID
	view.ARR, view.RenewalDate, view.OwnerSlackID, view.Now = acct.ARR, acct.RenewalDate, acct.OwnerCSM, b.now
	if !h.ComputedAt.IsZero() {
		score := h.Score
		view.Score, view.Band = &score, h.Band
	}
	alert := store.NewTextAlert{AccountID: acct.ID, Kind: kind, Competitor: competitor, SignalID: signalID, At: b.now,
		Recipients: recipients, Summary: summary,
		Render: func(id int64) (any, any, error) {
			view.AlertID = id
			return view, blocks.TextAlert(view), nil
		}}
	if !urgent {
		alert.NotBefore = t.settings.Alerts.QuietHours.Until(b.now)
	}
	id, err := store.InsertTextAlertTx(ctx, tx, alert)
	if err != nil {
		return err
	}
	b.TextAlerts = append(b.TextAlerts, id)
	return nil
}

// textAlertRecipients: the owner by DM, and every channel subscribed to the
// topic whose filters the account passes; the default alert channel when
// neither exists. Never the account's own channel, which may be shared
// with the customer.
func (t *TextAlerts) textAlertRecipients(ctx context.Context, tx store.Tx, acct store.Account, topic string) ([]string, error) {
	var out []string
	if acct.OwnerCSM != "" {
		out = append(out, acct.OwnerCSM)
	}
	channels, err := store.AlertChannelsTx(ctx, tx, topic, acct.ARR, acct.Tier)
	if err != nil {
		return nil, err
	}
	for _, c := range channels {
		if c != acct.ChannelID && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	if len(out) == 0 && t.settings.Alerts.DefaultChannel != "" {
		out = append(out, t.settings.Alerts.DefaultChannel)
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
