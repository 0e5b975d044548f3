package textsignals

import (
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/scoring/text"
	"github.com/holdfast/holdfast/slackid"
	"github.com/holdfast/holdfast/store"
)

const (
	maxSnippetLen  = 300
	maxSnippets    = 3
	maxAISummary   = 400
	maxSourceLen   = 120
	maxCompetitor  = 60
	maxIntentQuote = 120
)

// AlertView is everything a competitor-mention or sentiment-drop alert
// shows. It is stored with the alert so a claim can re-render it.
type AlertView struct {
	AlertID     int64  `json:"alert_id"`
	Kind        string `json:"kind"`
	AccountID   int64  `json:"account_id"`
	AccountName string `json:"account_name"`
	ExternalID  string `json:"external_id"`

	// Competitor mention.
	Competitor    string   `json:"competitor,omitempty"`
	Snippets      []string `json:"snippets,omitempty"`       // customer words around each mention
	Source        string   `json:"source,omitempty"`         // "ticket from zendesk"
	SourceChannel string   `json:"source_channel,omitempty"` // a Slack channel id, linked when valid
	ChurnIntent   bool     `json:"churn_intent,omitempty"`
	IntentPhrase  string   `json:"intent_phrase,omitempty"`
	// IntentConfidence and IntentCategory come with a statement of
	// intent, acted on (ChurnIntent) or, below the model's cut-off, only
	// shown as possible.
	IntentConfidence float64  `json:"intent_confidence,omitempty"`
	IntentCategory   string   `json:"intent_category,omitempty"`
	PossibleIntent   string   `json:"possible_intent,omitempty"` // the quote, when not acted on
	Sentiment        *float64 `json:"sentiment,omitempty"`

	// SignalID is the text the card is about, for the feedback buttons.
	SignalID int64 `json:"signal_id,omitempty"`

	// Sentiment drop.
	From       float64 `json:"from,omitempty"`
	To         float64 `json:"to,omitempty"`
	WindowDays int     `json:"window_days,omitempty"`
	Texts      int     `json:"texts,omitempty"`
	Worst      string  `json:"worst,omitempty"` // the most negative recent text

	// The language model's reading, when one is configured.
	AISummary string `json:"ai_summary,omitempty"`

	ARR          float64      `json:"arr"`
	Score        *int         `json:"score,omitempty"`
	Band         scoring.Band `json:"band,omitempty"`
	RenewalDate  *time.Time   `json:"renewal_date,omitempty"`
	OwnerSlackID string       `json:"owner,omitempty"`
	ClaimedBy    string       `json:"claimed_by,omitempty"`
	Now          time.Time    `json:"now"`
}

// AlertCard builds a competitor-mention or sentiment-drop alert.
func AlertCard(v AlertView) blocks.Message {
	name := blocks.Truncate(blocks.OneLine(blocks.AccountLabel(v.AccountName, v.AccountID)), blocks.MaxNameLen)
	var title, text string
	var body []string
	switch v.Kind {
	case store.TextAlertSentiment:
		title = "📉 Sentiment drop: " + name
		text = "Sentiment drop at " + blocks.UserText(name, blocks.MaxNameLen) + ": " + blocks.SignedFloat(v.From) + " → " + blocks.SignedFloat(v.To)
		body = append(body, "*Mean sentiment "+blocks.SignedFloat(v.From)+" → "+blocks.SignedFloat(v.To)+"* over the last "+
			blocks.Plural(v.WindowDays, "day", "days")+" ("+blocks.Plural(v.Texts, "text", "texts")+") against the "+blocks.Itoa(v.WindowDays)+" before")
		if w := strings.TrimSpace(v.Worst); w != "" {
			body = append(body, "Most negative: “"+blocks.UserText(w, maxSnippetLen)+"”")
		}
	default:
		comp := blocks.Truncate(blocks.OneLine(v.Competitor), maxCompetitor)
		title = "🥊 " + comp + " mentioned: " + name
		text = blocks.UserText(comp, maxCompetitor) + " mentioned by " + blocks.UserText(name, blocks.MaxNameLen)
		where := "in a " + blocks.UserText(v.Source, maxSourceLen)
		if slackid.Channel(v.SourceChannel) {
			where += " in <#" + v.SourceChannel + ">"
		}
		body = append(body, "*"+blocks.UserText(comp, maxCompetitor)+"* came up "+where)
		for i, s := range v.Snippets {
			if i == maxSnippets {
				body = append(body, "…and "+blocks.Itoa(len(v.Snippets)-i)+" more")
				break
			}
			body = append(body, "> "+blocks.UserText(s, maxSnippetLen))
		}
		if v.ChurnIntent {
			line := "⚠️ *Stated intent to leave*" + intentDetail(v)
			if p := strings.TrimSpace(v.IntentPhrase); p != "" {
				line += ": “" + blocks.UserText(p, maxIntentQuote) + "”"
			}
			body = append(body, line)
			text += " with intent to leave"
		} else if p := strings.TrimSpace(v.PossibleIntent); p != "" {
			body = append(body, "Possible intent to leave"+intentDetail(v)+", not alerted: “"+blocks.UserText(p, maxIntentQuote)+"”")
		}
	}

	bs := []slack.Block{
		blocks.Header("text_alert_header", title),
		blocks.Section("text_alert_body", strings.Join(body, "\n")),
	}
	health := "Not scored yet"
	if v.Score != nil {
		health = blocks.BandEmoji(v.Band) + " " + blocks.Itoa(*v.Score) + " · " + blocks.BandLabel(v.Band)
	}
	facts := [][2]string{
		{"ARR", blocks.Money(v.ARR)},
		{"Health", health},
		{"Renewal", blocks.Renewal(v.RenewalDate, v.Now)},
		{"Owner", blocks.UserRef(v.OwnerSlackID, "No owner")},
	}
	if v.Kind != store.TextAlertSentiment && v.Sentiment != nil {
		facts = append(facts, [2]string{"Tone", toneLabel(*v.Sentiment)})
	}
	bs = append(bs, blocks.FieldsSection("text_alert_facts", facts...))
	if s := strings.TrimSpace(v.AISummary); s != "" {
		bs = append(bs, blocks.ContextBlock("text_alert_ai", "🤖 "+blocks.UserText(s, maxAISummary)))
	}
	history := blocks.Button(blocks.ActionHistory, strconv.FormatInt(v.AccountID, 10), "View history")
	labels := blocks.TextLabelButtons(v.SignalID, v.ChurnIntent || v.PossibleIntent != "")
	if v.ClaimedBy != "" {
		bs = append(bs,
			blocks.ContextBlock("text_alert_claimed", "Claimed by "+blocks.UserRef(v.ClaimedBy, "")),
			blocks.Actions("text_alert_actions", append([]*slack.ButtonBlockElement{history}, labels...)...))
	} else {
		claim := blocks.Button(blocks.ActionTextAlertClaim, strconv.FormatInt(v.AlertID, 10), "Claim").WithStyle(slack.StylePrimary)
		bs = append(bs, blocks.Actions("text_alert_actions", append([]*slack.ButtonBlockElement{history, claim}, labels...)...))
	}
	return blocks.Finish(text, bs, blocks.MaxMessageBlocks)
}

// intentDetail: " (cancel, 0.82)".
func intentDetail(v AlertView) string {
	if v.IntentCategory == "" {
		return ""
	}
	return " (" + strings.ReplaceAll(blocks.OneLine(v.IntentCategory), "_", " ") + ", " + strconv.FormatFloat(v.IntentConfidence, 'f', 2, 64) + ")"
}

// toneLabel: "negative (-0.62)".
func toneLabel(s float64) string {
	return string(text.LabelOf(s)) + " (" + blocks.SignedFloat(s) + ")"
}
