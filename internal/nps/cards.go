package nps

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/internal/churn"
	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/slackid"
)

// Caps on customer text in NPS messages (the card must stay well under
// Slack's ~12k characters of blocks).
const (
	maxCommentShown    = 1500
	maxRespondentShown = 120
	maxWordsShown      = 1000
	maxPlanShown       = 1000
	maxHistoryLine     = 200
)

// cardContext is what a detractor card shows besides the loop's steps;
// it is stored with the loop when it opens, so updates re-render the same
// facts.
type cardContext struct {
	AccountID      int64                  `json:"account_id"`
	AccountName    string                 `json:"account_name"`
	ExternalID     string                 `json:"external_id"`
	Tier           string                 `json:"tier,omitempty"`
	Segment        string                 `json:"segment,omitempty"`
	ARR            float64                `json:"arr"`
	RenewalDate    *time.Time             `json:"renewal_date,omitempty"`
	HealthScore    *int                   `json:"health_score,omitempty"`
	HealthBand     scoring.Band           `json:"health_band,omitempty"`
	HealthDriver   string                 `json:"health_driver,omitempty"`
	Respondent     string                 `json:"respondent"`
	Score          int                    `json:"score"`
	PrevScore      *int                   `json:"prev_score,omitempty"`
	Comment        string                 `json:"comment,omitempty"`
	Kind           SurveyKind             `json:"kind"`
	AnsweredAt     time.Time              `json:"answered_at"`
	SentimentLabel string                 `json:"sentiment_label,omitempty"`
	Competitors    []string               `json:"competitors,omitempty"`
	ChurnIntent    bool                   `json:"churn_intent,omitempty"`
	History        []blocks.TimelineEntry `json:"history,omitempty"`
	FollowUpOf     int                    `json:"follow_up_of,omitempty"` // reopened by a follow-up: the score before (0-10, +1)
}

// cardView is a detractor loop's card: the context plus the loop.
type cardView struct {
	Context       cardContext
	Loop          Loop
	Executive     string        // who escalations reach
	FollowUpAfter time.Duration // nps.steps.follow_up: from the plan to the follow-up survey
	Now           time.Time
}

// slackDate shows an instant in each reader's own time zone, with a UTC
// fallback for clients that cannot.
func slackDate(t time.Time) string {
	return "<!date^" + strconv.FormatInt(t.Unix(), 10) + "^{date_short_pretty} {time}|" + t.UTC().Format("Jan 2 15:04 UTC") + ">"
}

// loopCard builds the detractor thread's root message.
func loopCard(v cardView) blocks.Message {
	c, l := v.Context, v.Loop
	name := blocks.AccountLabel(c.AccountName, c.AccountID)
	emoji := "🔴"
	if !l.Open() {
		emoji = "✅"
	}
	bs := []slack.Block{
		blocks.Header("nps_header", emoji+" Detractor: "+blocks.Truncate(blocks.OneLine(name), blocks.MaxNameLen)+" — NPS "+blocks.Itoa(c.Score)),
	}
	intro := blocks.UserRef(l.OwnerCSM, "No owner") + ", a detractor answer needs you."
	if !l.Open() {
		intro = "Loop closed."
	}
	scoreLine := "*NPS " + blocks.Itoa(c.Score) + "/10* from " + blocks.UserText(c.Respondent, maxRespondentShown) + " · " + c.Kind.Label() + " survey"
	if c.PrevScore != nil {
		scoreLine += " · previously " + blocks.Itoa(*c.PrevScore)
	}
	if c.FollowUpOf > 0 {
		scoreLine += "\nStill a detractor at the follow-up (was " + blocks.Itoa(c.FollowUpOf-1) + "): a new loop."
	}
	bs = append(bs, blocks.Section("nps_intro", intro+"\n"+scoreLine))
	if t := strings.TrimSpace(c.Comment); t != "" {
		bs = append(bs, blocks.Section("nps_comment", "> "+blocks.UserText(t, maxCommentShown)))
	}
	var signals []string
	if c.SentimentLabel != "" {
		signals = append(signals, "Sentiment: "+blocks.UserText(c.SentimentLabel, 20))
	}
	if len(c.Competitors) > 0 {
		names := make([]string, 0, len(c.Competitors))
		for _, n := range c.Competitors {
			names = append(names, blocks.UserText(n, 60))
		}
		signals = append(signals, "⚔️ Mentions "+strings.Join(names, ", "))
	}
	if c.ChurnIntent {
		signals = append(signals, "⚠️ States an intent to leave")
	}
	if len(signals) > 0 {
		bs = append(bs, blocks.ContextBlock("nps_signals", strings.Join(signals, " · ")))
	}
	health := "Not scored yet"
	if c.HealthScore != nil {
		health = blocks.BandEmoji(c.HealthBand) + " " + blocks.Itoa(*c.HealthScore) + "/100 · " + blocks.BandLabel(c.HealthBand)
		if d := strings.TrimSpace(c.HealthDriver); d != "" {
			health += "\n" + blocks.UserText(d, blocks.MaxDetailLen)
		}
	}
	facts := [][2]string{
		{"Health", health},
		{"ARR", blocks.Money(c.ARR)},
		{"Renewal", blocks.Renewal(c.RenewalDate, v.Now)},
		{"Owner", blocks.UserRef(l.OwnerCSM, "No owner")},
	}
	var meta []string
	for _, s := range []string{c.ExternalID, c.Tier, c.Segment} {
		if strings.TrimSpace(s) != "" {
			meta = append(meta, blocks.UserText(s, blocks.MaxIDLen))
		}
	}
	if len(meta) > 0 {
		facts = append(facts, [2]string{"Account", strings.Join(meta, " · ")})
	}
	bs = append(bs, blocks.FieldsSection("nps_facts", facts...))
	if len(c.History) > 0 {
		lines := make([]string, 0, len(c.History))
		for _, e := range c.History[:min(len(c.History), blocks.MaxCardTimeline)] {
			lines = append(lines, blocks.Date(e.At)+" · "+blocks.EntryText(e, maxHistoryLine))
		}
		bs = append(bs, blocks.Section("nps_history", blocks.BulletList("*Recent history*", lines, blocks.MaxSectionText)))
	}
	bs = append(bs, slack.NewDividerBlock(), blocks.Section("nps_steps", stepsText(v)))
	if d := detailsText(l); d != "" {
		bs = append(bs, blocks.Section("nps_details", d))
	}
	if l.Open() {
		id := strconv.FormatInt(l.ID, 10)
		var btns []*slack.ButtonBlockElement
		if !l.Done(StepContact) {
			btns = append(btns, blocks.Button(blocks.ActionNPSContacted, id, "Contacted").WithStyle(slack.StylePrimary))
		}
		label := "Root cause"
		if l.Done(StepRootCause) {
			label = "Edit root cause"
		}
		btns = append(btns, blocks.Button(blocks.ActionNPSRootCause, id, label))
		label = "Action plan"
		if l.Done(StepActionPlan) {
			label = "Edit action plan"
		}
		btns = append(btns, blocks.Button(blocks.ActionNPSPlan, id, label))
		if !l.Done(StepEscalate) {
			esc := blocks.Button(blocks.ActionNPSEscalate, id, "Escalate to exec")
			if l.EscalationProposed {
				esc = esc.WithStyle(slack.StyleDanger)
			}
			esc.Confirm = slack.NewConfirmationBlockObject(blocks.Plain("Escalate?", blocks.MaxViewTitle),
				blocks.Plain("This mentions the executive in the thread with the account's context.", 300),
				blocks.Plain("Escalate", blocks.MaxViewTitle), blocks.Plain("Cancel", blocks.MaxViewTitle))
			btns = append(btns, esc)
		}
		bs = append(bs, blocks.Actions("nps_actions", btns...))
	}
	text := "Detractor: " + blocks.UserText(name, blocks.MaxNameLen) + " NPS " + blocks.Itoa(c.Score)
	if t := strings.TrimSpace(c.Comment); t != "" {
		text += " — “" + blocks.UserText(t, 150) + "”"
	}
	return blocks.Finish(text, bs, blocks.MaxMessageBlocks)
}

// stepsText lists the five steps with their status.
func stepsText(v cardView) string {
	l, now := v.Loop, v.Now
	var lines []string
	for i, s := range DeadlineSteps {
		lines = append(lines, blocks.Itoa(i+1)+". "+s.Label()+" — "+stepStatus(l, s, now))
	}
	esc := "4. " + StepEscalate.Label() + " — "
	switch {
	case l.Done(StepEscalate):
		esc = "✅ " + esc + "by " + blocks.UserRef(l.EscalatedBy, "someone") + " " + slackDate(*l.EscalatedAt)
		if v.Executive != "" {
			esc += " → " + blocks.UserRef(v.Executive, "")
		}
	case l.EscalationProposed:
		esc = "⚡ " + esc + "*proposed* for an account of this value"
	default:
		esc = "▫️ " + esc + "if needed"
	}
	lines = append(lines, esc)
	fu := "5. " + StepFollowUp.Label() + " — "
	switch {
	case l.FollowUpScore != nil:
		fu = "✅ " + fu + "answered " + blocks.Itoa(l.Score) + " → " + blocks.Itoa(*l.FollowUpScore) + " (" + blocks.Signed(*l.FollowUpScore-l.Score) + ")"
	case l.FollowUpSentAt != nil:
		fu = "📨 " + fu + "sent " + slackDate(*l.FollowUpSentAt) + ", waiting for the answer"
	case l.FollowUpDue != nil:
		fu = "🗓️ " + fu + "goes out " + slackDate(*l.FollowUpDue)
	default:
		fu = "▫️ " + fu + humanDuration(v.FollowUpAfter) + " after the action plan"
	}
	lines = append(lines, fu)
	return "*Steps*\n" + strings.Join(lines, "\n")
}

func stepStatus(l Loop, s Step, now time.Time) string {
	at, by := l.DoneAt(s)
	due := l.Due.Of(s)
	switch {
	case l.Done(s):
		status := "✅ " + blocks.UserRef(by, "recorded") + " " + slackDate(at)
		if at.After(due) {
			status += " (late)"
		}
		return status
	case !l.Open():
		return "— not recorded"
	case !now.Before(due):
		return "⚠️ *overdue* since " + slackDate(due)
	}
	return "⏳ due " + slackDate(due)
}

func detailsText(l Loop) string {
	var parts []string
	if l.Done(StepRootCause) {
		label := string(l.RootCause)
		if info, ok := DetractorCause(l.RootCause); ok {
			label = info.Label
		}
		parts = append(parts, "*Root cause:* "+blocks.UserText(label, 60)+" — “"+blocks.UserText(l.RootCauseWords, maxWordsShown)+"”")
	}
	if l.Done(StepActionPlan) {
		p := "*Action plan:* " + blocks.UserText(l.Plan, maxPlanShown) + "\nOwner " + blocks.UserRef(l.PlanOwner, "—")
		if l.PlanDue != nil {
			p += " · due " + blocks.Date(*l.PlanDue)
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "\n")
}

// threadNote is a short bot message in a loop's thread (or a DM). Build
// the text with the note helpers below, which escape what they take in.
func threadNote(id, text string) blocks.Message {
	return blocks.Finish(text, []slack.Block{blocks.Section(id, text)}, blocks.MaxMessageBlocks)
}

// contactedNote: "✅ <@U> contacted the customer."
func contactedNote(by string) blocks.Message {
	return threadNote("nps_note_contact", "✅ "+blocks.UserRef(by, "Someone")+" recorded step 1: the customer was contacted.")
}

// rootCauseNote announces a (corrected) root cause.
func rootCauseNote(by string, cause churn.Cause, words string, corrected bool) blocks.Message {
	label := string(cause)
	if info, ok := DetractorCause(cause); ok {
		label = info.Label
	}
	verb := "recorded step 2"
	if corrected {
		verb = "corrected the root cause"
	}
	return threadNote("nps_note_root_cause", "🔎 "+blocks.UserRef(by, "Someone")+" "+verb+": *"+blocks.UserText(label, 60)+"*\n> "+
		blocks.UserText(words, maxWordsShown))
}

// planNote announces a (revised) action plan and the follow-up date.
func planNote(by, plan, owner string, due time.Time, followUp *time.Time, revised bool) blocks.Message {
	verb := "recorded step 3, the action plan"
	if revised {
		verb = "revised the action plan"
	}
	text := "📝 " + blocks.UserRef(by, "Someone") + " " + verb + ":\n> " + blocks.UserText(plan, maxPlanShown) +
		"\nOwner " + blocks.UserRef(owner, "—") + " · due " + blocks.Date(due)
	if followUp != nil && !revised {
		text += "\nThe follow-up survey goes out " + slackDate(*followUp) + "; its answer will land in this thread."
	}
	return threadNote("nps_note_plan", text)
}

// escalationNote mentions the executive.
func escalationNote(by, executive, account string, arr float64, score int) blocks.Message {
	who := blocks.UserRef(executive, "")
	if who == "" {
		who = "No executive is configured (nps.executive); escalation recorded."
	} else {
		who += ", your help is requested."
	}
	return threadNote("nps_note_escalate", "🚨 "+blocks.UserRef(by, "Someone")+" escalated this detractor ("+blocks.UserText(account, blocks.MaxNameLen)+
		", NPS "+blocks.Itoa(score)+", "+blocks.Money(arr)+" ARR). "+who)
}

// nudgeNote is an overdue step: level 1 nudges the CSM, level 2
// mentions their manager.
func nudgeNote(n Nudge, csm, manager string) blocks.Message {
	step := "Step " + blocks.Itoa(stepNumber(n.Step)) + " (" + strings.ToLower(n.Step.Label()) + ")"
	if n.Level == 1 {
		return threadNote("nps_note_nudge", "⏰ "+blocks.UserRef(csm, "Owner")+", "+step+" was due "+slackDate(n.Due)+
			" and is not recorded yet. Use the buttons on the card above.")
	}
	return threadNote("nps_note_escalation", "📣 "+blocks.UserRef(manager, "Manager")+", "+step+" of this detractor loop is overdue by "+
		humanDuration(n.OverdueBy)+" (owner "+blocks.UserRef(csm, "none")+").")
}

func stepNumber(s Step) int {
	switch s {
	case StepContact:
		return 1
	case StepRootCause:
		return 2
	case StepActionPlan:
		return 3
	case StepEscalate:
		return 4
	}
	return 5
}

// humanDuration: "3 days", "1 day", "5 hours", "40 minutes" (rounded down).
func humanDuration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return blocks.Itoa(int(d/(24*time.Hour))) + " days"
	case d >= 24*time.Hour:
		return "1 day"
	case d >= 2*time.Hour:
		return blocks.Itoa(int(d/time.Hour)) + " hours"
	case d >= time.Hour:
		return "1 hour"
	}
	return blocks.Itoa(max(1, int(d/time.Minute))) + " minutes"
}

// followUpSentNote says the follow-up survey went out, after (the
// configured wait) since the plan, or must be sent by hand when no survey
// tool is connected.
func followUpSentNote(respondent string, after time.Duration, viaTool bool) blocks.Message {
	who := blocks.UserText(respondent, maxRespondentShown)
	since := "📨 " + humanDuration(after) + " since the plan: "
	if viaTool {
		return threadNote("nps_note_follow_up", since+"the follow-up survey is on its way to "+who+
			" through the survey tool. The answer will land here.")
	}
	return threadNote("nps_note_follow_up", since+"please send "+who+
		" the follow-up survey (survey kind follow_up). The answer will land here.")
}

// followUpNote posts the follow-up answer with the score change.
func followUpNote(respondent string, before, after int, comment string, stillDetractor bool) blocks.Message {
	d := after - before
	emoji := "📈"
	if d < 0 {
		emoji = "📉"
	} else if d == 0 {
		emoji = "➡️"
	}
	text := emoji + " Follow-up from " + blocks.UserText(respondent, maxRespondentShown) + ": NPS " + blocks.Itoa(before) + " → *" + blocks.Itoa(after) +
		"* (" + blocks.Signed(d) + ", now a " + string(CategoryOf(after)) + ")"
	if t := strings.TrimSpace(comment); t != "" {
		text += "\n> " + blocks.UserText(t, maxCommentShown)
	}
	if stillDetractor {
		text += "\nStill a detractor: a new loop opens below."
	} else {
		text += "\nLoop closed."
	}
	return threadNote("nps_note_follow_up_answer", text)
}

// ---- modals ----

// rootCauseModal asks for step 2: the category (the churn taxonomy plus
// support experience, each with its definition) and the customer's words.
func rootCauseModal(loopID int64, account string, current churn.Cause, words string) slack.ModalViewRequest {
	var opts []*slack.OptionBlockObject
	var initial *slack.OptionBlockObject
	for _, c := range churn.DetractorCauses {
		o := slack.NewOptionBlockObject(string(c.Cause), blocks.Plain(c.Label, 75), blocks.Plain(c.Definition, 75))
		opts = append(opts, o)
		if c.Cause == current {
			initial = o
		}
	}
	sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, blocks.Plain("Choose a category", 150), blocks.NPSInput, opts...)
	if initial != nil {
		sel.InitialOption = initial
	}
	in := slack.NewPlainTextInputBlockElement(blocks.Plain("What did the customer say?", 150), blocks.NPSInput)
	in.Multiline = true
	in.MaxLength = MaxWordsLen
	in.InitialValue = blocks.Truncate(words, MaxWordsLen)
	var defs []string
	for _, c := range churn.DetractorCauses {
		defs = append(defs, "*"+c.Label+"*: "+c.Definition)
	}
	bs := []slack.Block{
		blocks.Section("nps_modal_account", "Detractor loop for *"+blocks.UserText(account, blocks.MaxNameLen)+"*"),
		slack.NewInputBlock(blocks.NPSBlockCause, blocks.Plain("Root cause category", 2000), nil, sel),
		slack.NewInputBlock(blocks.NPSBlockWords, blocks.Plain("The customer's words", 2000), blocks.Plain("Quote them; it is what Product reads.", 2000), in),
		blocks.ContextBlock("nps_modal_defs", blocks.TruncateMrkdwn(strings.Join(defs, "\n"), blocks.MaxSectionText)),
	}
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: blocks.ViewNPSRootCause, PrivateMetadata: strconv.FormatInt(loopID, 10),
		Title: blocks.Plain("Root cause", blocks.MaxViewTitle), Submit: blocks.Plain("Save", blocks.MaxViewTitle), Close: blocks.Plain("Cancel", blocks.MaxViewTitle),
		Blocks: slack.Blocks{BlockSet: bs},
	}
}

// planModal asks for step 3: the plan, its owner and its due date.
func planModal(loopID int64, account, plan, owner string, due *time.Time) slack.ModalViewRequest {
	in := slack.NewPlainTextInputBlockElement(blocks.Plain("What will we do, by when, with whom?", 150), blocks.NPSInput)
	in.Multiline = true
	in.MaxLength = MaxPlanLen
	in.InitialValue = blocks.Truncate(plan, MaxPlanLen)
	who := slack.NewOptionsSelectBlockElement(slack.OptTypeUser, blocks.Plain("Who owns it?", 150), blocks.NPSInput)
	if slackid.User(owner) {
		who.InitialUser = owner
	}
	date := slack.NewDatePickerBlockElement(blocks.NPSInput)
	if due != nil {
		date.InitialDate = due.Format(time.DateOnly)
	}
	bs := []slack.Block{
		blocks.Section("nps_modal_account", "Action plan for *"+blocks.UserText(account, blocks.MaxNameLen)+"*"),
		slack.NewInputBlock(blocks.NPSBlockPlan, blocks.Plain("Plan", 2000), nil, in),
		slack.NewInputBlock(blocks.NPSBlockOwner, blocks.Plain("Owner", 2000), nil, who),
		slack.NewInputBlock(blocks.NPSBlockDue, blocks.Plain("Due date", 2000), nil, date),
	}
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: blocks.ViewNPSPlan, PrivateMetadata: strconv.FormatInt(loopID, 10),
		Title: blocks.Plain("Action plan", blocks.MaxViewTitle), Submit: blocks.Plain("Save", blocks.MaxViewTitle), Close: blocks.Plain("Cancel", blocks.MaxViewTitle),
		Blocks: slack.Blocks{BlockSet: bs},
	}
}

// ---- /nps <account> ----

// accountView is the /nps answer for one account.
type accountView struct {
	AccountID   int64
	AccountName string
	ExternalID  string
	OwnerCSM    string
	Answers     []answerRow // newest first
	Loops       []Loop      // open first
	Now         time.Time
}

// answerRow is one answer in a history.
type answerRow struct {
	At         time.Time
	Score      int
	Respondent string
	Kind       SurveyKind
	Comment    string
}

const (
	maxAnswersShown = 10
	maxLoopsShown   = 10
)

// accountCard builds "/nps acme": score history and detractor loops.
func accountCard(v accountView) blocks.Message {
	name := blocks.AccountLabel(v.AccountName, v.AccountID)
	bs := []slack.Block{blocks.Header("nps_account_header", "NPS · "+blocks.Truncate(blocks.OneLine(name), blocks.MaxNameLen))}
	if len(v.Answers) == 0 {
		bs = append(bs, blocks.Section("nps_account_none", "No NPS answers recorded yet."))
	} else {
		scores := make([]int, 0, len(v.Answers))
		for i := len(v.Answers) - 1; i >= 0; i-- {
			scores = append(scores, v.Answers[i].Score*10)
		}
		latest := v.Answers[0]
		summary := "*Latest: " + blocks.Itoa(latest.Score) + "/10* (" + string(CategoryOf(latest.Score)) + ", " + blocks.Date(latest.At) + ")"
		if len(scores) > 1 {
			summary += "\nHistory: " + blocks.Sparkline(scores) + " (" + blocks.Itoa(len(scores)) + " answers)"
		}
		bs = append(bs, blocks.Section("nps_account_summary", summary))
		lines := make([]string, 0, len(v.Answers))
		for _, a := range v.Answers[:min(len(v.Answers), maxAnswersShown)] {
			line := blocks.Date(a.At) + " · *" + blocks.Itoa(a.Score) + "* " + categoryEmoji(a.Score) + " · " + blocks.UserText(a.Respondent, 60) + " · " + a.Kind.Label()
			if c := strings.TrimSpace(a.Comment); c != "" {
				line += " — “" + blocks.UserText(c, 140) + "”"
			}
			lines = append(lines, line)
		}
		bs = append(bs, blocks.Section("nps_account_answers", blocks.BulletList("*Answers*", lines, blocks.MaxSectionText)))
	}
	open := 0
	for _, l := range v.Loops {
		if l.Open() {
			open++
		}
	}
	if len(v.Loops) == 0 {
		bs = append(bs, blocks.ContextBlock("nps_account_loops_none", "No detractor loops."))
	} else {
		bs = append(bs, blocks.Section("nps_account_loops_title", "*Detractor loops* · "+blocks.Itoa(open)+" open"))
		for i, l := range v.Loops[:min(len(v.Loops), maxLoopsShown)] {
			bs = append(bs, blocks.Section("nps_account_loop_"+blocks.Itoa(i), loopSummary(l, v.Now)))
		}
	}
	bs = append(bs, blocks.ContextBlock("nps_account_owner", "Owner "+blocks.UserRef(v.OwnerCSM, "none")))
	text := "NPS for " + blocks.UserText(name, blocks.MaxNameLen)
	if len(v.Answers) > 0 {
		text += ": latest " + blocks.Itoa(v.Answers[0].Score) + "/10"
	}
	text += ", " + blocks.Plural(open, "open detractor loop", "open detractor loops")
	return blocks.Finish(text, bs, blocks.MaxMessageBlocks)
}

func categoryEmoji(score int) string {
	switch CategoryOf(score) {
	case Promoter:
		return "🟢"
	case Passive:
		return "🟡"
	}
	return "🔴"
}

// loopSummary: "NPS 3 · opened Mar 3 · ✅ contact · ⚠️ root cause overdue · ⏳ plan due …".
func loopSummary(l Loop, now time.Time) string {
	state := "open"
	if !l.Open() {
		state = "closed"
	}
	head := "*NPS " + blocks.Itoa(l.Score) + "* from " + blocks.UserText(l.Respondent, 60) + " · opened " + blocks.Date(l.OpenedAt) + " · " + state
	var steps []string
	for i, s := range DeadlineSteps {
		mark := "⏳"
		switch {
		case l.Done(s):
			mark = "✅"
		case !l.Open():
			mark = "—"
		case !now.Before(l.Due.Of(s)):
			mark = "⚠️"
		}
		steps = append(steps, mark+" "+blocks.Itoa(i+1)+" "+strings.ToLower(s.Label()))
	}
	if l.Done(StepEscalate) {
		steps = append(steps, "✅ escalated")
	} else if l.EscalationProposed && l.Open() {
		steps = append(steps, "⚡ escalation proposed")
	}
	switch {
	case l.FollowUpScore != nil:
		steps = append(steps, "✅ follow-up "+blocks.Itoa(l.Score)+"→"+blocks.Itoa(*l.FollowUpScore))
	case l.FollowUpSentAt != nil:
		steps = append(steps, "📨 follow-up sent")
	case l.FollowUpDue != nil:
		steps = append(steps, "🗓️ follow-up "+blocks.Date(*l.FollowUpDue))
	}
	return head + "\n" + strings.Join(steps, " · ")
}

// usageCard is the reply to a bare /nps, escaped because <…> would
// otherwise be parsed as a link.
func usageCard() blocks.Message {
	return blocks.Finish(blocks.Escape(usage), []slack.Block{blocks.Section("nps_usage", blocks.Escape(usage))}, blocks.MaxMessageBlocks)
}

// ---- /nps report ----

// reportView is the quarter's NPS report.
type reportView struct {
	Quarter, PrevQuarter string // "Q1 2027"
	Overall, PrevOverall Score
	BySegment, ByTier    []Breakdown
	Loops, PrevLoops     LoopStats
}

const maxBreakdownRows = 12

// reportCard builds "/nps report".
func reportCard(v reportView) blocks.Message {
	bs := []slack.Block{
		blocks.Header("nps_report_header", "NPS report · "+v.Quarter),
		blocks.Section("nps_report_overall", "*Overall:* "+scoreWithTrend(v.Overall, v.PrevOverall, v.PrevQuarter)),
	}
	for _, g := range []struct {
		id, title string
		rows      []Breakdown
	}{{"nps_report_segment", "By segment", v.BySegment}, {"nps_report_tier", "By tier", v.ByTier}} {
		if len(g.rows) == 0 {
			continue
		}
		lines := make([]string, 0, len(g.rows))
		for _, b := range g.rows[:min(len(g.rows), maxBreakdownRows)] {
			key := b.Key
			if strings.TrimSpace(key) == "" {
				key = "(not set)"
			}
			lines = append(lines, "*"+blocks.UserText(key, 60)+"*: "+scoreWithTrend(b.Cur, b.Prev, v.PrevQuarter))
		}
		if more := len(g.rows) - maxBreakdownRows; more > 0 {
			lines = append(lines, "…and "+blocks.Itoa(more)+" more")
		}
		bs = append(bs, blocks.Section(g.id, blocks.BulletList("*"+g.title+"*", lines, blocks.MaxSectionText)))
	}
	s := v.Loops
	var loops []string
	if s.Opened == 0 {
		loops = append(loops, "No detractor loops opened this quarter.")
	} else {
		loops = append(loops, "Completion: "+loopCompletion(s))
	}
	if s.Contacted > 0 {
		loops = append(loops, "Median time to contact: *"+humanDuration(s.MedianContact)+"* ("+blocks.Plural(s.Contacted, "loop", "loops")+")")
	}
	if p := v.PrevLoops; p.Opened > 0 {
		line := v.PrevQuarter + ": " + loopCompletion(p)
		if p.Contacted > 0 {
			line += "; median time to contact " + humanDuration(p.MedianContact)
		}
		loops = append(loops, line)
	}
	if s.FollowUps > 0 {
		loops = append(loops, fmt.Sprintf("Follow-up score change: *%+.1f* on average over %s (%d up, %d down); NPS of intervention accounts %s → *%s*",
			s.AvgChange, blocks.Plural(s.FollowUps, "follow-up", "follow-ups"), s.Improved, s.Worse, blocks.Signed(s.Before.NPS), blocks.Signed(s.After.NPS)))
	} else {
		loops = append(loops, "No follow-up answers this quarter yet.")
	}
	bs = append(bs, blocks.Section("nps_report_loops", "*Detractor loops*\n"+strings.Join(loops, "\n")),
		blocks.ContextBlock("nps_report_note", "NPS = % promoters − % detractors, each respondent's latest answer in the quarter; follow-up surveys are reported separately."))
	text := "NPS " + v.Quarter + ": "
	if v.Overall.N == 0 {
		text += "no answers yet"
	} else {
		text += blocks.Signed(v.Overall.NPS) + " from " + blocks.Plural(v.Overall.N, "answer", "answers")
	}
	return blocks.Finish(text, bs, blocks.MaxMessageBlocks)
}

// loopCompletion: "*100%* (1 of 1 loops with contact, root cause and plan; 1 on time)".
func loopCompletion(s LoopStats) string {
	return fmt.Sprintf("*%d%%* (%d of %d loops with contact, root cause and plan; %d on time)",
		int(math.Round(s.CompletionRate()*100)), s.Completed, s.Opened, s.OnTime)
}

// scoreWithTrend: "+32 (n=40) · ▲12 vs Q4 2026 (+20)".
func scoreWithTrend(cur, prev Score, prevLabel string) string {
	if cur.N == 0 && prev.N == 0 {
		return "no answers"
	}
	s := "no answers"
	if cur.N > 0 {
		s = blocks.Signed(cur.NPS) + " (n=" + blocks.Itoa(cur.N) + ")"
	}
	if prev.N == 0 {
		return s + " · no answers in " + prevLabel
	}
	if cur.N == 0 {
		return s + " · " + blocks.Signed(prev.NPS) + " in " + prevLabel
	}
	_, move := blocks.ScoreChange(cur.NPS, &prev.NPS)
	return s + " · " + move + " vs " + prevLabel + " (" + blocks.Signed(prev.NPS) + ")"
}

// ---- cadence, reminders, digest ----

// dueRow is one account due a survey.
type dueRow struct {
	AccountID   int64
	AccountName string
	ExternalID  string
	OwnerCSM    string
	Kind        SurveyKind
	Reason      string
}

// dueView is the daily list of accounts due a survey.
type dueView struct {
	Rows    []dueRow
	ViaTool bool // handed to the survey tool
	Date    time.Time
}

// Due rows are capped so the whole list stays under Slack's ~12k
// characters of blocks even when every name is long and full of escapes.
const (
	maxDueRows        = 25
	dueRowsPerSection = 6
)

// dueList builds the daily "due a survey" post for the CS channel.
func dueList(v dueView) blocks.Message {
	n := len(v.Rows)
	title := "📋 " + blocks.Plural(n, "account is", "accounts are") + " due an NPS survey · " + blocks.Date(v.Date)
	how := "Send these from your survey tool; answers come back through the NPS API."
	if v.ViaTool {
		how = "Handed to the survey tool, which sends them; answers come back through the NPS API."
	}
	lines := make([]string, 0, n)
	for _, r := range v.Rows {
		lines = append(lines, "*"+blocks.UserText(blocks.AccountLabel(r.AccountName, r.AccountID), 60)+"* · "+r.Kind.Label()+" — "+
			blocks.UserText(r.Reason, 100)+" · "+blocks.UserRef(r.OwnerCSM, "no owner"))
	}
	bs := []slack.Block{blocks.Section("nps_due_title", title)}
	// A line is at most ~420 characters escaped, so 6 keep a section under 3,000.
	for i := 0; i < min(n, maxDueRows); i += dueRowsPerSection {
		chunk := lines[i:min(i+dueRowsPerSection, n, maxDueRows)]
		bs = append(bs, blocks.Section("nps_due_"+blocks.Itoa(i/dueRowsPerSection), "• "+strings.Join(chunk, "\n• ")))
	}
	if more := n - maxDueRows; more > 0 {
		bs = append(bs, blocks.ContextBlock("nps_due_more", "…and "+blocks.Itoa(more)+" more"))
	}
	bs = append(bs, blocks.ContextBlock("nps_due_how", how))
	return blocks.Finish(strings.TrimPrefix(title, "📋 "), bs, blocks.MaxMessageBlocks)
}

// reminderRow is a survey sent and not answered.
type reminderRow struct {
	AccountID   int64
	AccountName string
	Contact     string
	Kind        SurveyKind
	SentAt      time.Time
}

const maxReminderRows = 30

// reminderCard asks a CSM to follow up personally on surveys unanswered
// for after (nps.cadence.reminder_after) or longer.
func reminderCard(owner string, rows []reminderRow, after time.Duration, now time.Time) blocks.Message {
	lines := make([]string, 0, len(rows))
	for _, r := range rows[:min(len(rows), maxReminderRows)] {
		who := "the account's contacts"
		if strings.TrimSpace(r.Contact) != "" {
			who = blocks.UserText(r.Contact, maxRespondentShown)
		}
		lines = append(lines, "*"+blocks.UserText(blocks.AccountLabel(r.AccountName, r.AccountID), blocks.MaxNameLen)+"* · "+r.Kind.Label()+
			" survey to "+who+", sent "+blocks.Relative(r.SentAt, now))
	}
	if more := len(rows) - maxReminderRows; more > 0 {
		lines = append(lines, "…and "+blocks.Itoa(more)+" more")
	}
	title := "⏰ " + blocks.UserRef(owner, "Team") + ", " + blocks.Plural(len(rows), "NPS survey has", "NPS surveys have") +
		" had no answer for " + humanDuration(after) + ". A personal note from you usually gets one:"
	return blocks.Finish(strings.TrimPrefix(title, "⏰ "), []slack.Block{blocks.Section("nps_reminder", blocks.BulletList(title, lines, blocks.MaxSectionText))}, blocks.MaxMessageBlocks)
}

// digestRow is a promoter or passive answer.
type digestRow struct {
	AccountID   int64
	AccountName string
	OwnerCSM    string
	ARR         float64
	Respondent  string
	Score       int
	Comment     string
}

const maxDigestRows = 25

// digestCard is the weekly post: promoters as advocacy and expansion
// candidates, passives as low-priority tasks for their CSM.
func digestCard(promoters, passives []digestRow, weekOf time.Time) blocks.Message {
	row := func(r digestRow) string {
		line := "*" + blocks.UserText(blocks.AccountLabel(r.AccountName, r.AccountID), blocks.MaxNameLen) + "* · " + blocks.Itoa(r.Score) + " from " +
			blocks.UserText(r.Respondent, 60) + " · " + blocks.Money(r.ARR) + " ARR · " + blocks.UserRef(r.OwnerCSM, "no owner")
		if c := strings.TrimSpace(r.Comment); c != "" {
			line += " — “" + blocks.UserText(c, 120) + "”"
		}
		return line
	}
	bs := []slack.Block{blocks.Header("nps_digest_header", "NPS this week · "+blocks.Date(weekOf))}
	list := func(id, title string, rows []digestRow) {
		if len(rows) == 0 {
			return
		}
		lines := make([]string, 0, len(rows))
		for _, r := range rows[:min(len(rows), maxDigestRows)] {
			lines = append(lines, row(r))
		}
		if more := len(rows) - maxDigestRows; more > 0 {
			lines = append(lines, "…and "+blocks.Itoa(more)+" more")
		}
		bs = append(bs, blocks.Section(id, blocks.BulletList(title, lines, blocks.MaxSectionText)))
	}
	list("nps_digest_promoters", "🌟 *Advocacy and expansion candidates* (promoters): ask for a reference, a review or an expansion conversation", promoters)
	list("nps_digest_passives", "📝 *Low-priority tasks* (passives): a short check-in on what would make it a 9 or 10", passives)
	if len(promoters)+len(passives) == 0 {
		bs = append(bs, blocks.Section("nps_digest_empty", "No promoter or passive answers this week."))
	}
	return blocks.Finish("NPS this week: "+blocks.Plural(len(promoters), "promoter", "promoters")+", "+blocks.Plural(len(passives), "passive", "passives"), bs, blocks.MaxMessageBlocks)
}

// webhookFailing warns the CS channel that the survey tool keeps
// refusing a delivery (it is still being retried).
func webhookFailing(surveys, attempts int, cause string) blocks.Message {
	return threadNote("nps_webhook_failing", "⚠️ The survey tool has refused "+blocks.Plural(surveys, "survey", "surveys")+
		" "+blocks.Itoa(attempts)+" times (last error: "+blocks.UserText(cause, 200)+"). Holdfast keeps retrying hourly; check nps.survey_webhook.url and its secret.")
}

// ---- App Home ----

// HomeLoop is one open detractor loop in a user's App Home.
type HomeLoop struct {
	Loop        Loop
	AccountName string
	ARR         float64
}

const maxHomeLoops = 15

// HomeLoops builds the App Home section of open detractor loops: at
// most 15 loops (15 + 1 blocks), each with its step status and the next
// step's button. Blocks only: the App Home builder adds the header.
func HomeLoops(loops []HomeLoop, now time.Time) []slack.Block {
	var bs []slack.Block
	if len(loops) == 0 {
		return append(bs, blocks.ContextBlock("nps_home_none", "None open. 🎉"))
	}
	for i, h := range loops[:min(len(loops), maxHomeLoops)] {
		l := h.Loop
		text := "*" + blocks.UserText(blocks.AccountLabel(h.AccountName, l.AccountID), blocks.MaxNameLen) + "* · " + blocks.Money(h.ARR) + " ARR\n" + loopSummary(l, now)
		s := slack.NewSectionBlock(blocks.Mrkdwn(text, blocks.MaxSectionText), nil, nil, slack.SectionBlockOptionBlockID("nps_home_loop_"+blocks.Itoa(i)))
		id := strconv.FormatInt(l.ID, 10)
		switch {
		case !l.Done(StepContact):
			s.Accessory = slack.NewAccessory(blocks.Button(blocks.ActionNPSContacted, id, "Contacted"))
		case !l.Done(StepRootCause):
			s.Accessory = slack.NewAccessory(blocks.Button(blocks.ActionNPSRootCause, id, "Root cause"))
		case !l.Done(StepActionPlan):
			s.Accessory = slack.NewAccessory(blocks.Button(blocks.ActionNPSPlan, id, "Action plan"))
		}
		bs = append(bs, s)
	}
	if more := len(loops) - maxHomeLoops; more > 0 {
		bs = append(bs, blocks.ContextBlock("nps_home_more", "…and "+blocks.Itoa(more)+" more: "+blocks.Escape("/nps <account>")+" shows each."))
	}
	return bs
}

// stepAlreadyRecorded answers a click on a step someone recorded
// already, saying who and when.
func stepAlreadyRecorded(step Step, by string, at time.Time) blocks.Message {
	text := "ℹ️ " + step.Label() + " was already recorded"
	if by != "" {
		text += " by " + blocks.UserRef(by, "someone")
	}
	if !at.IsZero() {
		text += " " + slackDate(at)
	}
	return threadNote("nps_already", text+".")
}
