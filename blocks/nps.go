package blocks

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/holdfast/holdfast/slackid"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/churn"
	"github.com/holdfast/holdfast/nps"
	"github.com/holdfast/holdfast/scoring"
)

// Caps on customer text in NPS messages (the card must stay well under
// Slack's ~12k characters of blocks).
const (
	maxCommentLen    = 1500
	maxRespondentLen = 120
	maxWordsShown    = 1000
	maxPlanShown     = 1000
	maxHistoryLine   = 200
)

// NPSCardContext is what a detractor card shows besides the loop's steps;
// it is stored with the loop when it opens, so updates re-render the same
// facts.
type NPSCardContext struct {
	AccountID      int64           `json:"account_id"`
	AccountName    string          `json:"account_name"`
	ExternalID     string          `json:"external_id"`
	Tier           string          `json:"tier,omitempty"`
	Segment        string          `json:"segment,omitempty"`
	ARR            float64         `json:"arr"`
	RenewalDate    *time.Time      `json:"renewal_date,omitempty"`
	HealthScore    *int            `json:"health_score,omitempty"`
	HealthBand     scoring.Band    `json:"health_band,omitempty"`
	HealthDriver   string          `json:"health_driver,omitempty"`
	Respondent     string          `json:"respondent"`
	Score          int             `json:"score"`
	PrevScore      *int            `json:"prev_score,omitempty"`
	Comment        string          `json:"comment,omitempty"`
	Kind           nps.SurveyKind  `json:"kind"`
	AnsweredAt     time.Time       `json:"answered_at"`
	SentimentLabel string          `json:"sentiment_label,omitempty"`
	Competitors    []string        `json:"competitors,omitempty"`
	ChurnIntent    bool            `json:"churn_intent,omitempty"`
	History        []TimelineEntry `json:"history,omitempty"`
	FollowUpOf     int             `json:"follow_up_of,omitempty"` // reopened by a follow-up: the score before (0-10, +1)
}

// NPSCardView is a detractor loop's card: the context plus the loop.
type NPSCardView struct {
	Context       NPSCardContext
	Loop          nps.Loop
	Executive     string        // who escalations reach
	FollowUpAfter time.Duration // nps.steps.follow_up: from the plan to the follow-up survey
	Now           time.Time
}

// slackDate shows an instant in each reader's own time zone, with a UTC
// fallback for clients that cannot.
func slackDate(t time.Time) string {
	return "<!date^" + strconv.FormatInt(t.Unix(), 10) + "^{date_short_pretty} {time}|" + t.UTC().Format("Jan 2 15:04 UTC") + ">"
}

// NPSLoopCard builds the detractor thread's root message.
func NPSLoopCard(v NPSCardView) Message {
	c, l := v.Context, v.Loop
	name := AccountLabel(c.AccountName, c.AccountID)
	emoji := "🔴"
	if !l.Open() {
		emoji = "✅"
	}
	blocks := []slack.Block{
		Header("nps_header", emoji+" Detractor: "+Truncate(OneLine(name), MaxNameLen)+" — NPS "+Itoa(c.Score)),
	}
	intro := UserRef(l.OwnerCSM, "No owner") + ", a detractor answer needs you."
	if !l.Open() {
		intro = "Loop closed."
	}
	scoreLine := "*NPS " + Itoa(c.Score) + "/10* from " + UserText(c.Respondent, maxRespondentLen) + " · " + c.Kind.Label() + " survey"
	if c.PrevScore != nil {
		scoreLine += " · previously " + Itoa(*c.PrevScore)
	}
	if c.FollowUpOf > 0 {
		scoreLine += "\nStill a detractor at the follow-up (was " + Itoa(c.FollowUpOf-1) + "): a new loop."
	}
	blocks = append(blocks, Section("nps_intro", intro+"\n"+scoreLine))
	if t := strings.TrimSpace(c.Comment); t != "" {
		blocks = append(blocks, Section("nps_comment", "> "+UserText(t, maxCommentLen)))
	}
	var signals []string
	if c.SentimentLabel != "" {
		signals = append(signals, "Sentiment: "+UserText(c.SentimentLabel, 20))
	}
	if len(c.Competitors) > 0 {
		names := make([]string, 0, len(c.Competitors))
		for _, n := range c.Competitors {
			names = append(names, UserText(n, 60))
		}
		signals = append(signals, "⚔️ Mentions "+strings.Join(names, ", "))
	}
	if c.ChurnIntent {
		signals = append(signals, "⚠️ States an intent to leave")
	}
	if len(signals) > 0 {
		blocks = append(blocks, ContextBlock("nps_signals", strings.Join(signals, " · ")))
	}
	health := "Not scored yet"
	if c.HealthScore != nil {
		health = BandEmoji(c.HealthBand) + " " + Itoa(*c.HealthScore) + "/100 · " + BandLabel(c.HealthBand)
		if d := strings.TrimSpace(c.HealthDriver); d != "" {
			health += "\n" + UserText(d, MaxDetailLen)
		}
	}
	facts := [][2]string{
		{"Health", health},
		{"ARR", Money(c.ARR)},
		{"Renewal", Renewal(c.RenewalDate, v.Now)},
		{"Owner", UserRef(l.OwnerCSM, "No owner")},
	}
	var meta []string
	for _, s := range []string{c.ExternalID, c.Tier, c.Segment} {
		if strings.TrimSpace(s) != "" {
			meta = append(meta, UserText(s, MaxIDLen))
		}
	}
	if len(meta) > 0 {
		facts = append(facts, [2]string{"Account", strings.Join(meta, " · ")})
	}
	blocks = append(blocks, FieldsSection("nps_facts", facts...))
	if len(c.History) > 0 {
		lines := make([]string, 0, len(c.History))
		for _, e := range c.History[:min(len(c.History), maxCardTimeline)] {
			lines = append(lines, Date(e.At)+" · "+EntryText(e, maxHistoryLine))
		}
		blocks = append(blocks, Section("nps_history", BulletList("*Recent history*", lines, MaxSectionText)))
	}
	blocks = append(blocks, slack.NewDividerBlock(), Section("nps_steps", npsStepsText(v)))
	if d := npsDetailsText(l); d != "" {
		blocks = append(blocks, Section("nps_details", d))
	}
	if l.Open() {
		id := strconv.FormatInt(l.ID, 10)
		var btns []*slack.ButtonBlockElement
		if !l.Done(nps.StepContact) {
			btns = append(btns, Button(ActionNPSContacted, id, "Contacted").WithStyle(slack.StylePrimary))
		}
		label := "Root cause"
		if l.Done(nps.StepRootCause) {
			label = "Edit root cause"
		}
		btns = append(btns, Button(ActionNPSRootCause, id, label))
		label = "Action plan"
		if l.Done(nps.StepActionPlan) {
			label = "Edit action plan"
		}
		btns = append(btns, Button(ActionNPSPlan, id, label))
		if !l.Done(nps.StepEscalate) {
			esc := Button(ActionNPSEscalate, id, "Escalate to exec")
			if l.EscalationProposed {
				esc = esc.WithStyle(slack.StyleDanger)
			}
			esc.Confirm = slack.NewConfirmationBlockObject(Plain("Escalate?", MaxViewTitle),
				Plain("This mentions the executive in the thread with the account's context.", 300),
				Plain("Escalate", MaxViewTitle), Plain("Cancel", MaxViewTitle))
			btns = append(btns, esc)
		}
		blocks = append(blocks, Actions("nps_actions", btns...))
	}
	text := "Detractor: " + UserText(name, MaxNameLen) + " NPS " + Itoa(c.Score)
	if t := strings.TrimSpace(c.Comment); t != "" {
		text += " — “" + UserText(t, 150) + "”"
	}
	return Finish(text, blocks, MaxMessageBlocks)
}

// npsStepsText lists the five steps with their status.
func npsStepsText(v NPSCardView) string {
	l, now := v.Loop, v.Now
	var lines []string
	for i, s := range nps.DeadlineSteps {
		lines = append(lines, Itoa(i+1)+". "+s.Label()+" — "+stepStatus(l, s, now))
	}
	esc := "4. " + nps.StepEscalate.Label() + " — "
	switch {
	case l.Done(nps.StepEscalate):
		esc = "✅ " + esc + "by " + UserRef(l.EscalatedBy, "someone") + " " + slackDate(*l.EscalatedAt)
		if v.Executive != "" {
			esc += " → " + UserRef(v.Executive, "")
		}
	case l.EscalationProposed:
		esc = "⚡ " + esc + "*proposed* for an account of this value"
	default:
		esc = "▫️ " + esc + "if needed"
	}
	lines = append(lines, esc)
	fu := "5. " + nps.StepFollowUp.Label() + " — "
	switch {
	case l.FollowUpScore != nil:
		fu = "✅ " + fu + "answered " + Itoa(l.Score) + " → " + Itoa(*l.FollowUpScore) + " (" + Signed(*l.FollowUpScore-l.Score) + ")"
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

func stepStatus(l nps.Loop, s nps.Step, now time.Time) string {
	at, by := l.DoneAt(s)
	due := l.Due.Of(s)
	switch {
	case l.Done(s):
		status := "✅ " + UserRef(by, "recorded") + " " + slackDate(at)
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

func npsDetailsText(l nps.Loop) string {
	var parts []string
	if l.Done(nps.StepRootCause) {
		label := string(l.RootCause)
		if info, ok := nps.DetractorCause(l.RootCause); ok {
			label = info.Label
		}
		parts = append(parts, "*Root cause:* "+UserText(label, 60)+" — “"+UserText(l.RootCauseWords, maxWordsShown)+"”")
	}
	if l.Done(nps.StepActionPlan) {
		p := "*Action plan:* " + UserText(l.Plan, maxPlanShown) + "\nOwner " + UserRef(l.PlanOwner, "—")
		if l.PlanDue != nil {
			p += " · due " + Date(*l.PlanDue)
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "\n")
}

// NPSNote is a short bot message in a loop's thread (or a DM). Build the
// text with the NPS* note helpers below, which escape what they take in.
func npsNote(id, text string) Message {
	return Finish(text, []slack.Block{Section(id, text)}, MaxMessageBlocks)
}

// NPSContactedNote: "✅ <@U> contacted the customer."
func NPSContactedNote(by string) Message {
	return npsNote("nps_note_contact", "✅ "+UserRef(by, "Someone")+" recorded step 1: the customer was contacted.")
}

// NPSRootCauseNote announces a (corrected) root cause.
func NPSRootCauseNote(by string, cause churn.Cause, words string, corrected bool) Message {
	label := string(cause)
	if info, ok := nps.DetractorCause(cause); ok {
		label = info.Label
	}
	verb := "recorded step 2"
	if corrected {
		verb = "corrected the root cause"
	}
	return npsNote("nps_note_root_cause", "🔎 "+UserRef(by, "Someone")+" "+verb+": *"+UserText(label, 60)+"*\n> "+
		UserText(words, maxWordsShown))
}

// NPSPlanNote announces a (revised) action plan and the follow-up date.
func NPSPlanNote(by, plan, owner string, due time.Time, followUp *time.Time, revised bool) Message {
	verb := "recorded step 3, the action plan"
	if revised {
		verb = "revised the action plan"
	}
	text := "📝 " + UserRef(by, "Someone") + " " + verb + ":\n> " + UserText(plan, maxPlanShown) +
		"\nOwner " + UserRef(owner, "—") + " · due " + Date(due)
	if followUp != nil && !revised {
		text += "\nThe follow-up survey goes out " + slackDate(*followUp) + "; its answer will land in this thread."
	}
	return npsNote("nps_note_plan", text)
}

// NPSEscalationNote mentions the executive.
func NPSEscalationNote(by, executive, account string, arr float64, score int) Message {
	who := UserRef(executive, "")
	if who == "" {
		who = "No executive is configured (nps.executive); escalation recorded."
	} else {
		who += ", your help is requested."
	}
	return npsNote("nps_note_escalate", "🚨 "+UserRef(by, "Someone")+" escalated this detractor ("+UserText(account, MaxNameLen)+
		", NPS "+Itoa(score)+", "+Money(arr)+" ARR). "+who)
}

// NPSNudgeNote is an overdue step: level 1 nudges the CSM, level 2
// mentions their manager.
func NPSNudgeNote(n nps.Nudge, csm, manager string) Message {
	step := "Step " + Itoa(stepNumber(n.Step)) + " (" + strings.ToLower(n.Step.Label()) + ")"
	if n.Level == 1 {
		return npsNote("nps_note_nudge", "⏰ "+UserRef(csm, "Owner")+", "+step+" was due "+slackDate(n.Due)+
			" and is not recorded yet. Use the buttons on the card above.")
	}
	return npsNote("nps_note_escalation", "📣 "+UserRef(manager, "Manager")+", "+step+" of this detractor loop is overdue by "+
		humanDuration(n.OverdueBy)+" (owner "+UserRef(csm, "none")+").")
}

func stepNumber(s nps.Step) int {
	switch s {
	case nps.StepContact:
		return 1
	case nps.StepRootCause:
		return 2
	case nps.StepActionPlan:
		return 3
	case nps.StepEscalate:
		return 4
	}
	return 5
}

// humanDuration: "3 days", "1 day", "5 hours", "40 minutes" (rounded down).
func humanDuration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return Itoa(int(d/(24*time.Hour))) + " days"
	case d >= 24*time.Hour:
		return "1 day"
	case d >= 2*time.Hour:
		return Itoa(int(d/time.Hour)) + " hours"
	case d >= time.Hour:
		return "1 hour"
	}
	return Itoa(max(1, int(d/time.Minute))) + " minutes"
}

// NPSFollowUpSentNote says the follow-up survey went out, after (the
// configured wait) since the plan, or must be sent by hand when no survey
// tool is connected.
func NPSFollowUpSentNote(respondent string, after time.Duration, viaTool bool) Message {
	who := UserText(respondent, maxRespondentLen)
	since := "📨 " + humanDuration(after) + " since the plan: "
	if viaTool {
		return npsNote("nps_note_follow_up", since+"the follow-up survey is on its way to "+who+
			" through the survey tool. The answer will land here.")
	}
	return npsNote("nps_note_follow_up", since+"please send "+who+
		" the follow-up survey (survey kind follow_up). The answer will land here.")
}

// NPSFollowUpNote posts the follow-up answer with the score change.
func NPSFollowUpNote(respondent string, before, after int, comment string, stillDetractor bool) Message {
	d := after - before
	emoji := "📈"
	if d < 0 {
		emoji = "📉"
	} else if d == 0 {
		emoji = "➡️"
	}
	text := emoji + " Follow-up from " + UserText(respondent, maxRespondentLen) + ": NPS " + Itoa(before) + " → *" + Itoa(after) +
		"* (" + Signed(d) + ", now a " + string(nps.CategoryOf(after)) + ")"
	if t := strings.TrimSpace(comment); t != "" {
		text += "\n> " + UserText(t, maxCommentLen)
	}
	if stillDetractor {
		text += "\nStill a detractor: a new loop opens below."
	} else {
		text += "\nLoop closed."
	}
	return npsNote("nps_note_follow_up_answer", text)
}

// ---- modals ----

// NPSRootCauseModal asks for step 2: the category (the churn taxonomy plus
// support experience, each with its definition) and the customer's words.
func NPSRootCauseModal(loopID int64, account string, current churn.Cause, words string) slack.ModalViewRequest {
	var opts []*slack.OptionBlockObject
	var initial *slack.OptionBlockObject
	for _, c := range churn.DetractorCauses {
		o := slack.NewOptionBlockObject(string(c.Cause), Plain(c.Label, 75), Plain(c.Definition, 75))
		opts = append(opts, o)
		if c.Cause == current {
			initial = o
		}
	}
	sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, Plain("Choose a category", 150), NPSInput, opts...)
	if initial != nil {
		sel.InitialOption = initial
	}
	in := slack.NewPlainTextInputBlockElement(Plain("What did the customer say?", 150), NPSInput)
	in.Multiline = true
	in.MaxLength = nps.MaxWordsLen
	in.InitialValue = Truncate(words, nps.MaxWordsLen)
	var defs []string
	for _, c := range churn.DetractorCauses {
		defs = append(defs, "*"+c.Label+"*: "+c.Definition)
	}
	blocks := []slack.Block{
		Section("nps_modal_account", "Detractor loop for *"+UserText(account, MaxNameLen)+"*"),
		slack.NewInputBlock(NPSBlockCause, Plain("Root cause category", 2000), nil, sel),
		slack.NewInputBlock(NPSBlockWords, Plain("The customer's words", 2000), Plain("Quote them; it is what Product reads.", 2000), in),
		ContextBlock("nps_modal_defs", TruncateMrkdwn(strings.Join(defs, "\n"), MaxSectionText)),
	}
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: ViewNPSRootCause, PrivateMetadata: strconv.FormatInt(loopID, 10),
		Title: Plain("Root cause", MaxViewTitle), Submit: Plain("Save", MaxViewTitle), Close: Plain("Cancel", MaxViewTitle),
		Blocks: slack.Blocks{BlockSet: blocks},
	}
}

// NPSPlanModal asks for step 3: the plan, its owner and its due date.
func NPSPlanModal(loopID int64, account, plan, owner string, due *time.Time) slack.ModalViewRequest {
	in := slack.NewPlainTextInputBlockElement(Plain("What will we do, by when, with whom?", 150), NPSInput)
	in.Multiline = true
	in.MaxLength = nps.MaxPlanLen
	in.InitialValue = Truncate(plan, nps.MaxPlanLen)
	who := slack.NewOptionsSelectBlockElement(slack.OptTypeUser, Plain("Who owns it?", 150), NPSInput)
	if slackid.User(owner) {
		who.InitialUser = owner
	}
	date := slack.NewDatePickerBlockElement(NPSInput)
	if due != nil {
		date.InitialDate = due.Format(time.DateOnly)
	}
	blocks := []slack.Block{
		Section("nps_modal_account", "Action plan for *"+UserText(account, MaxNameLen)+"*"),
		slack.NewInputBlock(NPSBlockPlan, Plain("Plan", 2000), nil, in),
		slack.NewInputBlock(NPSBlockOwner, Plain("Owner", 2000), nil, who),
		slack.NewInputBlock(NPSBlockDue, Plain("Due date", 2000), nil, date),
	}
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: ViewNPSPlan, PrivateMetadata: strconv.FormatInt(loopID, 10),
		Title: Plain("Action plan", MaxViewTitle), Submit: Plain("Save", MaxViewTitle), Close: Plain("Cancel", MaxViewTitle),
		Blocks: slack.Blocks{BlockSet: blocks},
	}
}

// ---- /nps <account> ----

// NPSAccountView is the /nps answer for one account.
type NPSAccountView struct {
	AccountID   int64
	AccountName string
	ExternalID  string
	OwnerCSM    string
	Answers     []NPSAnswerRow // newest first
	Loops       []nps.Loop     // open first
	Now         time.Time
}

// NPSAnswerRow is one answer in a history.
type NPSAnswerRow struct {
	At         time.Time
	Score      int
	Respondent string
	Kind       nps.SurveyKind
	Comment    string
}

const (
	maxNPSHistory = 10
	maxNPSLoops   = 10
)

// NPSAccount builds "/nps acme": score history and detractor loops.
func NPSAccount(v NPSAccountView) Message {
	name := AccountLabel(v.AccountName, v.AccountID)
	blocks := []slack.Block{Header("nps_account_header", "NPS · "+Truncate(OneLine(name), MaxNameLen))}
	if len(v.Answers) == 0 {
		blocks = append(blocks, Section("nps_account_none", "No NPS answers recorded yet."))
	} else {
		scores := make([]int, 0, len(v.Answers))
		for i := len(v.Answers) - 1; i >= 0; i-- {
			scores = append(scores, v.Answers[i].Score*10)
		}
		latest := v.Answers[0]
		summary := "*Latest: " + Itoa(latest.Score) + "/10* (" + string(nps.CategoryOf(latest.Score)) + ", " + Date(latest.At) + ")"
		if len(scores) > 1 {
			summary += "\nHistory: " + Sparkline(scores) + " (" + Itoa(len(scores)) + " answers)"
		}
		blocks = append(blocks, Section("nps_account_summary", summary))
		lines := make([]string, 0, len(v.Answers))
		for _, a := range v.Answers[:min(len(v.Answers), maxNPSHistory)] {
			line := Date(a.At) + " · *" + Itoa(a.Score) + "* " + npsEmoji(a.Score) + " · " + UserText(a.Respondent, 60) + " · " + a.Kind.Label()
			if c := strings.TrimSpace(a.Comment); c != "" {
				line += " — “" + UserText(c, 140) + "”"
			}
			lines = append(lines, line)
		}
		blocks = append(blocks, Section("nps_account_answers", BulletList("*Answers*", lines, MaxSectionText)))
	}
	open := 0
	for _, l := range v.Loops {
		if l.Open() {
			open++
		}
	}
	if len(v.Loops) == 0 {
		blocks = append(blocks, ContextBlock("nps_account_loops_none", "No detractor loops."))
	} else {
		blocks = append(blocks, Section("nps_account_loops_title", "*Detractor loops* · "+Itoa(open)+" open"))
		for i, l := range v.Loops[:min(len(v.Loops), maxNPSLoops)] {
			blocks = append(blocks, Section("nps_account_loop_"+Itoa(i), loopSummary(l, v.Now)))
		}
	}
	blocks = append(blocks, ContextBlock("nps_account_owner", "Owner "+UserRef(v.OwnerCSM, "none")))
	text := "NPS for " + UserText(name, MaxNameLen)
	if len(v.Answers) > 0 {
		text += ": latest " + Itoa(v.Answers[0].Score) + "/10"
	}
	text += ", " + Plural(open, "open detractor loop", "open detractor loops")
	return Finish(text, blocks, MaxMessageBlocks)
}

func npsEmoji(score int) string {
	switch nps.CategoryOf(score) {
	case nps.Promoter:
		return "🟢"
	case nps.Passive:
		return "🟡"
	}
	return "🔴"
}

// loopSummary: "NPS 3 · opened Mar 3 · ✅ contact · ⚠️ root cause overdue · ⏳ plan due …".
func loopSummary(l nps.Loop, now time.Time) string {
	state := "open"
	if !l.Open() {
		state = "closed"
	}
	head := "*NPS " + Itoa(l.Score) + "* from " + UserText(l.Respondent, 60) + " · opened " + Date(l.OpenedAt) + " · " + state
	var steps []string
	for i, s := range nps.DeadlineSteps {
		mark := "⏳"
		switch {
		case l.Done(s):
			mark = "✅"
		case !l.Open():
			mark = "—"
		case !now.Before(l.Due.Of(s)):
			mark = "⚠️"
		}
		steps = append(steps, mark+" "+Itoa(i+1)+" "+strings.ToLower(s.Label()))
	}
	if l.Done(nps.StepEscalate) {
		steps = append(steps, "✅ escalated")
	} else if l.EscalationProposed && l.Open() {
		steps = append(steps, "⚡ escalation proposed")
	}
	switch {
	case l.FollowUpScore != nil:
		steps = append(steps, "✅ follow-up "+Itoa(l.Score)+"→"+Itoa(*l.FollowUpScore))
	case l.FollowUpSentAt != nil:
		steps = append(steps, "📨 follow-up sent")
	case l.FollowUpDue != nil:
		steps = append(steps, "🗓️ follow-up "+Date(*l.FollowUpDue))
	}
	return head + "\n" + strings.Join(steps, " · ")
}

// npsUsage is escaped because <…> would otherwise be parsed as a link.
const npsUsage = "Usage: /nps <account name or id> · /nps report"

// NPSUsage is the reply to a bare /nps.
func NPSUsage() Message {
	return Finish(Escape(npsUsage), []slack.Block{Section("nps_usage", Escape(npsUsage))}, MaxMessageBlocks)
}

// ---- /nps report ----

// NPSReportView is the quarter's NPS report.
type NPSReportView struct {
	Quarter, PrevQuarter string // "Q1 2027"
	Overall, PrevOverall nps.Score
	BySegment, ByTier    []nps.Breakdown
	Loops, PrevLoops     nps.LoopStats
}

const maxBreakdownRows = 12

// NPSReport builds "/nps report".
func NPSReport(v NPSReportView) Message {
	blocks := []slack.Block{
		Header("nps_report_header", "NPS report · "+v.Quarter),
		Section("nps_report_overall", "*Overall:* "+scoreWithTrend(v.Overall, v.PrevOverall, v.PrevQuarter)),
	}
	for _, g := range []struct {
		id, title string
		rows      []nps.Breakdown
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
			lines = append(lines, "*"+UserText(key, 60)+"*: "+scoreWithTrend(b.Cur, b.Prev, v.PrevQuarter))
		}
		if more := len(g.rows) - maxBreakdownRows; more > 0 {
			lines = append(lines, "…and "+Itoa(more)+" more")
		}
		blocks = append(blocks, Section(g.id, BulletList("*"+g.title+"*", lines, MaxSectionText)))
	}
	s := v.Loops
	var loops []string
	if s.Opened == 0 {
		loops = append(loops, "No detractor loops opened this quarter.")
	} else {
		loops = append(loops, "Completion: "+loopCompletion(s))
	}
	if s.Contacted > 0 {
		loops = append(loops, "Median time to contact: *"+humanDuration(s.MedianContact)+"* ("+Plural(s.Contacted, "loop", "loops")+")")
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
			s.AvgChange, Plural(s.FollowUps, "follow-up", "follow-ups"), s.Improved, s.Worse, Signed(s.Before.NPS), Signed(s.After.NPS)))
	} else {
		loops = append(loops, "No follow-up answers this quarter yet.")
	}
	blocks = append(blocks, Section("nps_report_loops", "*Detractor loops*\n"+strings.Join(loops, "\n")),
		ContextBlock("nps_report_note", "NPS = % promoters − % detractors, each respondent's latest answer in the quarter; follow-up surveys are reported separately."))
	text := "NPS " + v.Quarter + ": "
	if v.Overall.N == 0 {
		text += "no answers yet"
	} else {
		text += Signed(v.Overall.NPS) + " from " + Plural(v.Overall.N, "answer", "answers")
	}
	return Finish(text, blocks, MaxMessageBlocks)
}

// loopCompletion: "*100%* (1 of 1 loops with contact, root cause and plan; 1 on time)".
func loopCompletion(s nps.LoopStats) string {
	return fmt.Sprintf("*%d%%* (%d of %d loops with contact, root cause and plan; %d on time)",
		int(math.Round(s.CompletionRate()*100)), s.Completed, s.Opened, s.OnTime)
}

// scoreWithTrend: "+32 (n=40) · ▲12 vs Q4 2026 (+20)".
func scoreWithTrend(cur, prev nps.Score, prevLabel string) string {
	if cur.N == 0 && prev.N == 0 {
		return "no answers"
	}
	s := "no answers"
	if cur.N > 0 {
		s = Signed(cur.NPS) + " (n=" + Itoa(cur.N) + ")"
	}
	if prev.N == 0 {
		return s + " · no answers in " + prevLabel
	}
	if cur.N == 0 {
		return s + " · " + Signed(prev.NPS) + " in " + prevLabel
	}
	_, move := ScoreChange(cur.NPS, &prev.NPS)
	return s + " · " + move + " vs " + prevLabel + " (" + Signed(prev.NPS) + ")"
}

// ---- cadence, reminders, digest ----

// NPSDueRow is one account due a survey.
type NPSDueRow struct {
	AccountID   int64
	AccountName string
	ExternalID  string
	OwnerCSM    string
	Kind        nps.SurveyKind
	Reason      string
}

// NPSDueView is the daily list of accounts due a survey.
type NPSDueView struct {
	Rows    []NPSDueRow
	ViaTool bool // handed to the survey tool
	Date    time.Time
}

// Due rows are capped so the whole list stays under Slack's ~12k
// characters of blocks even when every name is long and full of escapes.
const (
	maxDueRows        = 25
	dueRowsPerSection = 6
)

// NPSDueList builds the daily "due a survey" post for the CS channel.
func NPSDueList(v NPSDueView) Message {
	n := len(v.Rows)
	title := "📋 " + Plural(n, "account is", "accounts are") + " due an NPS survey · " + Date(v.Date)
	how := "Send these from your survey tool; answers come back through the NPS API."
	if v.ViaTool {
		how = "Handed to the survey tool, which sends them; answers come back through the NPS API."
	}
	lines := make([]string, 0, n)
	for _, r := range v.Rows {
		lines = append(lines, "*"+UserText(AccountLabel(r.AccountName, r.AccountID), 60)+"* · "+r.Kind.Label()+" — "+
			UserText(r.Reason, 100)+" · "+UserRef(r.OwnerCSM, "no owner"))
	}
	blocks := []slack.Block{Section("nps_due_title", title)}
	// A line is at most ~420 characters escaped, so 6 keep a section under 3,000.
	for i := 0; i < min(n, maxDueRows); i += dueRowsPerSection {
		chunk := lines[i:min(i+dueRowsPerSection, n, maxDueRows)]
		blocks = append(blocks, Section("nps_due_"+Itoa(i/dueRowsPerSection), "• "+strings.Join(chunk, "\n• ")))
	}
	if more := n - maxDueRows; more > 0 {
		blocks = append(blocks, ContextBlock("nps_due_more", "…and "+Itoa(more)+" more"))
	}
	blocks = append(blocks, ContextBlock("nps_due_how", how))
	return Finish(strings.TrimPrefix(title, "📋 "), blocks, MaxMessageBlocks)
}

// NPSReminderRow is a survey sent and not answered.
type NPSReminderRow struct {
	AccountID   int64
	AccountName string
	Contact     string
	Kind        nps.SurveyKind
	SentAt      time.Time
}

const maxReminderRows = 30

// NPSReminder asks a CSM to follow up personally on surveys unanswered
// for after (nps.cadence.reminder_after) or longer.
func NPSReminder(owner string, rows []NPSReminderRow, after time.Duration, now time.Time) Message {
	lines := make([]string, 0, len(rows))
	for _, r := range rows[:min(len(rows), maxReminderRows)] {
		who := "the account's contacts"
		if strings.TrimSpace(r.Contact) != "" {
			who = UserText(r.Contact, maxRespondentLen)
		}
		lines = append(lines, "*"+UserText(AccountLabel(r.AccountName, r.AccountID), MaxNameLen)+"* · "+r.Kind.Label()+
			" survey to "+who+", sent "+Relative(r.SentAt, now))
	}
	if more := len(rows) - maxReminderRows; more > 0 {
		lines = append(lines, "…and "+Itoa(more)+" more")
	}
	title := "⏰ " + UserRef(owner, "Team") + ", " + Plural(len(rows), "NPS survey has", "NPS surveys have") +
		" had no answer for " + humanDuration(after) + ". A personal note from you usually gets one:"
	return Finish(strings.TrimPrefix(title, "⏰ "), []slack.Block{Section("nps_reminder", BulletList(title, lines, MaxSectionText))}, MaxMessageBlocks)
}

// NPSDigestRow is a promoter or passive answer.
type NPSDigestRow struct {
	AccountID   int64
	AccountName string
	OwnerCSM    string
	ARR         float64
	Respondent  string
	Score       int
	Comment     string
}

const maxDigestRows = 25

// NPSDigest is the weekly post: promoters as advocacy and expansion
// candidates, passives as low-priority tasks for their CSM.
func NPSDigest(promoters, passives []NPSDigestRow, weekOf time.Time) Message {
	row := func(r NPSDigestRow) string {
		line := "*" + UserText(AccountLabel(r.AccountName, r.AccountID), MaxNameLen) + "* · " + Itoa(r.Score) + " from " +
			UserText(r.Respondent, 60) + " · " + Money(r.ARR) + " ARR · " + UserRef(r.OwnerCSM, "no owner")
		if c := strings.TrimSpace(r.Comment); c != "" {
			line += " — “" + UserText(c, 120) + "”"
		}
		return line
	}
	blocks := []slack.Block{Header("nps_digest_header", "NPS this week · "+Date(weekOf))}
	list := func(id, title string, rows []NPSDigestRow) {
		if len(rows) == 0 {
			return
		}
		lines := make([]string, 0, len(rows))
		for _, r := range rows[:min(len(rows), maxDigestRows)] {
			lines = append(lines, row(r))
		}
		if more := len(rows) - maxDigestRows; more > 0 {
			lines = append(lines, "…and "+Itoa(more)+" more")
		}
		blocks = append(blocks, Section(id, BulletList(title, lines, MaxSectionText)))
	}
	list("nps_digest_promoters", "🌟 *Advocacy and expansion candidates* (promoters): ask for a reference, a review or an expansion conversation", promoters)
	list("nps_digest_passives", "📝 *Low-priority tasks* (passives): a short check-in on what would make it a 9 or 10", passives)
	if len(promoters)+len(passives) == 0 {
		blocks = append(blocks, Section("nps_digest_empty", "No promoter or passive answers this week."))
	}
	return Finish("NPS this week: "+Plural(len(promoters), "promoter", "promoters")+", "+Plural(len(passives), "passive", "passives"), blocks, MaxMessageBlocks)
}

// NPSWebhookFailing warns the CS channel that the survey tool keeps
// refusing a delivery (it is still being retried).
func NPSWebhookFailing(surveys, attempts int, cause string) Message {
	return npsNote("nps_webhook_failing", "⚠️ The survey tool has refused "+Plural(surveys, "survey", "surveys")+
		" "+Itoa(attempts)+" times (last error: "+UserText(cause, 200)+"). Holdfast keeps retrying hourly; check nps.survey_webhook.url and its secret.")
}

// ---- App Home ----

// NPSHomeLoop is one open detractor loop in a user's App Home.
type NPSHomeLoop struct {
	Loop        nps.Loop
	AccountName string
	ARR         float64
}

const maxHomeLoops = 15

// NPSHomeLoops builds the App Home section of open detractor loops: at
// most 15 loops (15 + 1 blocks), each with its step status and the next
// step's button. Blocks only: the App Home builder adds the header.
func NPSHomeLoops(loops []NPSHomeLoop, now time.Time) []slack.Block {
	var blocks []slack.Block
	if len(loops) == 0 {
		return append(blocks, ContextBlock("nps_home_none", "None open. 🎉"))
	}
	for i, h := range loops[:min(len(loops), maxHomeLoops)] {
		l := h.Loop
		text := "*" + UserText(AccountLabel(h.AccountName, l.AccountID), MaxNameLen) + "* · " + Money(h.ARR) + " ARR\n" + loopSummary(l, now)
		s := slack.NewSectionBlock(Mrkdwn(text, MaxSectionText), nil, nil, slack.SectionBlockOptionBlockID("nps_home_loop_"+Itoa(i)))
		id := strconv.FormatInt(l.ID, 10)
		switch {
		case !l.Done(nps.StepContact):
			s.Accessory = slack.NewAccessory(Button(ActionNPSContacted, id, "Contacted"))
		case !l.Done(nps.StepRootCause):
			s.Accessory = slack.NewAccessory(Button(ActionNPSRootCause, id, "Root cause"))
		case !l.Done(nps.StepActionPlan):
			s.Accessory = slack.NewAccessory(Button(ActionNPSPlan, id, "Action plan"))
		}
		blocks = append(blocks, s)
	}
	if more := len(loops) - maxHomeLoops; more > 0 {
		blocks = append(blocks, ContextBlock("nps_home_more", "…and "+Itoa(more)+" more: "+Escape("/nps <account>")+" shows each."))
	}
	return blocks
}

// NPSStepAlreadyRecorded answers a click on a step someone recorded
// already, saying who and when.
func NPSStepAlreadyRecorded(step nps.Step, by string, at time.Time) Message {
	text := "ℹ️ " + step.Label() + " was already recorded"
	if by != "" {
		text += " by " + UserRef(by, "someone")
	}
	if !at.IsZero() {
		text += " " + slackDate(at)
	}
	return npsNote("nps_already", text+".")
}
