package blocks

import (
	"strconv"
	"strings"
	"time"

	"github.com/holdfast/holdfast/slackid"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/scoring/text"
)

// Text alert kinds (store.TextAlert*).
const (
	KindCompetitorMention = "competitor_mention"
	KindSentimentDrop     = "sentiment_drop"
)

const (
	maxSnippetLen  = 300
	maxSnippets    = 3
	maxAISummary   = 400
	maxSourceLen   = 120
	maxCompetitor  = 60
	maxIntentQuote = 120
)

// TextAlertView is everything a competitor-mention or sentiment-drop alert
// shows. It is stored with the alert so a claim can re-render it.
type TextAlertView struct {
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
	Sentiment     *float64 `json:"sentiment,omitempty"`

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

// TextAlert builds a competitor-mention or sentiment-drop alert.
func TextAlert(v TextAlertView) Message {
	name := Truncate(OneLine(AccountLabel(v.AccountName, v.AccountID)), MaxNameLen)
	var title, text string
	var body []string
	switch v.Kind {
	case KindSentimentDrop:
		title = "📉 Sentiment drop: " + name
		text = "Sentiment drop at " + UserText(name, MaxNameLen) + ": " + SignedFloat(v.From) + " → " + SignedFloat(v.To)
		body = append(body, "*Mean sentiment "+SignedFloat(v.From)+" → "+SignedFloat(v.To)+"* over the last "+
			Plural(v.WindowDays, "day", "days")+" ("+Plural(v.Texts, "text", "texts")+") against the "+Itoa(v.WindowDays)+" before")
		if w := strings.TrimSpace(v.Worst); w != "" {
			body = append(body, "Most negative: “"+UserText(w, maxSnippetLen)+"”")
		}
	default:
		comp := Truncate(OneLine(v.Competitor), maxCompetitor)
		title = "🥊 " + comp + " mentioned: " + name
		text = UserText(comp, maxCompetitor) + " mentioned by " + UserText(name, MaxNameLen)
		where := "in a " + UserText(v.Source, maxSourceLen)
		if slackid.Channel(v.SourceChannel) {
			where += " in <#" + v.SourceChannel + ">"
		}
		body = append(body, "*"+UserText(comp, maxCompetitor)+"* came up "+where)
		for i, s := range v.Snippets {
			if i == maxSnippets {
				body = append(body, "…and "+Itoa(len(v.Snippets)-i)+" more")
				break
			}
			body = append(body, "> "+UserText(s, maxSnippetLen))
		}
		if v.ChurnIntent {
			line := "⚠️ *Stated intent to leave*"
			if p := strings.TrimSpace(v.IntentPhrase); p != "" {
				line += ": “" + UserText(p, maxIntentQuote) + "”"
			}
			body = append(body, line)
			text += " with intent to leave"
		}
	}

	blocks := []slack.Block{
		Header("text_alert_header", title),
		Section("text_alert_body", strings.Join(body, "\n")),
	}
	health := "Not scored yet"
	if v.Score != nil {
		health = BandEmoji(v.Band) + " " + Itoa(*v.Score) + " · " + BandLabel(v.Band)
	}
	facts := [][2]string{
		{"ARR", Money(v.ARR)},
		{"Health", health},
		{"Renewal", Renewal(v.RenewalDate, v.Now)},
		{"Owner", UserRef(v.OwnerSlackID, "No owner")},
	}
	if v.Kind != KindSentimentDrop && v.Sentiment != nil {
		facts = append(facts, [2]string{"Tone", toneLabel(*v.Sentiment)})
	}
	blocks = append(blocks, FieldsSection("text_alert_facts", facts...))
	if s := strings.TrimSpace(v.AISummary); s != "" {
		blocks = append(blocks, ContextBlock("text_alert_ai", "🤖 "+UserText(s, maxAISummary)))
	}
	history := Button(ActionHistory, strconv.FormatInt(v.AccountID, 10), "View history")
	if v.ClaimedBy != "" {
		blocks = append(blocks,
			ContextBlock("text_alert_claimed", "Claimed by "+UserRef(v.ClaimedBy, "")),
			Actions("text_alert_actions", history))
	} else {
		claim := Button(ActionTextAlertClaim, strconv.FormatInt(v.AlertID, 10), "Claim").WithStyle(slack.StylePrimary)
		blocks = append(blocks, Actions("text_alert_actions", history, claim))
	}
	return Finish(text, blocks, MaxMessageBlocks)
}

// toneLabel: "negative (-0.62)".
func toneLabel(s float64) string {
	return string(text.LabelOf(s)) + " (" + SignedFloat(s) + ")"
}

// FromMrkdwn turns text as Slack sends it (a message event's text, with
// <@U1>, <url|label> and &amp;) into plain words for analysis and history.
func FromMrkdwn(s string) string { return DisplayText(s) }
