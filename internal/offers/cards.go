package offers

// The Block Kit of offers: the form and the modals, the request's card
// in the approvals channel, its thread notes, the approvers' and the
// requester's DMs, /offers lists and stats. Customer and user text is
// escaped through the blocks primitives; interaction ids are blocks'.

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/slackid"
)

// fieldBlock maps a form field (Field…) to the form block that shows it.
func fieldBlock(field string) string {
	switch field {
	case FieldType:
		return blocks.OfferBlockType
	case FieldValue:
		return blocks.OfferBlockValue
	case FieldDuration:
		return blocks.OfferBlockDuration
	case FieldTerms:
		return blocks.OfferBlockTerms
	case FieldJustification:
		return blocks.OfferBlockJustification
	case FieldCompetitor:
		return blocks.OfferBlockCompetitor
	}
	return blocks.OfferBlockValue
}

// the action id of each form input: "input" everywhere, read back by block.
const formInput = "input"

const (
	maxOfferTextShown    = 600 // justification, terms, guidance in messages
	maxOfferSummaryShown = 1500
)

// FormMeta rides in the form's private_metadata.
type FormMeta struct {
	AccountID int64 `json:"a"`
	RequestID int64 `json:"r,omitempty"` // set when revising
	Version   int   `json:"v,omitempty"` // the version being revised
}

// guidanceMeta rides in the guidance modal's private_metadata.
type guidanceMeta struct {
	StepID int64  `json:"s"`
	Action string `json:"k"` // reject or revise
}

// formView is what the offer form shows.
type formView struct {
	Meta        FormMeta
	AccountName string
	Tier        string
	ARR         float64
	RenewalDate *time.Time
	Score       *int
	Band        scoring.Band
	Guideline   Guideline
	Prefill     *Offer // revision: the current version
	// Revision guidance to show above the form (revisions only).
	GuidanceBy, GuidanceStep, Guidance string
	Now                                time.Time
}

// formModal builds the modal a CSM proposes (or revises) an offer in.
func formModal(v formView) slack.ModalViewRequest {
	meta, _ := json.Marshal(v.Meta) // three numbers: cannot fail
	name := blocks.AccountLabel(v.AccountName, v.Meta.AccountID)
	facts := []string{"*" + blocks.UserText(name, blocks.MaxNameLen) + "*"}
	if t := strings.TrimSpace(v.Tier); t != "" {
		facts = append(facts, blocks.UserText(t, blocks.MaxIDLen))
	}
	facts = append(facts, blocks.Money(v.ARR)+" ARR", "renewal "+blocks.Renewal(v.RenewalDate, v.Now))
	if v.Score != nil {
		facts = append(facts, blocks.BandEmoji(v.Band)+" health "+blocks.Itoa(*v.Score))
	}
	g := v.Guideline
	limits := "Guidelines: discounts up to " + Pct(g.MaxDiscountPct) + " for up to " + blocks.Plural(g.MaxDurationMonths, "month", "months") +
		" (justify above " + Pct(g.JustificationAbovePct) + "), credits up to " + USD(g.MaxCredit) +
		", up to " + blocks.Plural(g.MaxFreeMonths, "free month", "free months") + "."
	bs := []slack.Block{blocks.Section("offer_form_account", strings.Join(facts, " · "))}
	if v.Guidance != "" {
		who := blocks.UserRef(v.GuidanceBy, "An approver")
		if v.GuidanceStep != "" {
			who += " (" + blocks.UserText(v.GuidanceStep, blocks.MaxNameLen) + ")"
		}
		bs = append(bs, blocks.Section("offer_form_guidance", "✋ "+who+" asked for a revision:\n>"+
			blocks.UserText(v.Guidance, maxOfferTextShown)))
	}
	bs = append(bs, blocks.ContextBlock("offer_form_limits", limits))

	var pre Offer
	if v.Prefill != nil {
		pre = *v.Prefill
	}
	options := make([]*slack.OptionBlockObject, 0, len(Types))
	var initial *slack.OptionBlockObject
	for _, t := range Types {
		o := slack.NewOptionBlockObject(string(t), blocks.Plain(t.Label(), 75), nil)
		options = append(options, o)
		if t == pre.Type {
			initial = o
		}
	}
	sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, blocks.Plain("Choose…", 150), formInput, options...)
	sel.InitialOption = initial
	value, duration := "", ""
	if v.Prefill != nil {
		if pre.Value != 0 || pre.Type != ContractModification {
			value = strconv.FormatFloat(pre.Value, 'f', -1, 64)
		}
		if pre.DurationMonths > 0 {
			duration = blocks.Itoa(pre.DurationMonths)
		}
	}
	bs = append(bs,
		slack.NewInputBlock(blocks.OfferBlockType, blocks.Plain("Offer type", 2000), nil, sel),
		offerTextInput(blocks.OfferBlockValue, "Value", "Discount: percent (15). Service credit: USD (5000). Free months: months (2). Contract modification: estimated cost in USD, if any.",
			value, false, 20, true),
		offerTextInput(blocks.OfferBlockDuration, "Duration (months)", "How long a discount runs.", duration, false, 10, true),
		offerTextInput(blocks.OfferBlockTerms, "Terms", "Contract modifications: what changes. Otherwise an optional note for approvers.",
			pre.Terms, true, MaxTermsLen, true),
		offerTextInput(blocks.OfferBlockJustification, "Justification", "Why this offer saves the account. Required above the justification threshold and for contract changes.",
			pre.Justification, true, MaxJustificationLen, true),
		offerTextInput(blocks.OfferBlockCompetitor, "Competitor involved", "", pre.Competitor, false, MaxCompetitorLen, true),
	)
	title, submit := "Retention offer", "Submit for approval"
	if v.Meta.RequestID != 0 {
		title, submit = "Revise offer #"+strconv.FormatInt(v.Meta.RequestID, 10), "Resubmit"
	}
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: blocks.CallbackOfferForm, PrivateMetadata: string(meta),
		Title: blocks.Plain(title, blocks.MaxViewTitle), Submit: blocks.Plain(submit, blocks.MaxViewTitle), Close: blocks.Plain("Cancel", blocks.MaxViewTitle),
		Blocks: slack.Blocks{BlockSet: bs},
	}
}

func offerTextInput(blockID, label, hint, initial string, multiline bool, maxLen int, optional bool) *slack.InputBlock {
	el := slack.NewPlainTextInputBlockElement(nil, formInput)
	el.Multiline, el.MaxLength = multiline, maxLen
	el.InitialValue = blocks.Truncate(initial, maxLen)
	var h *slack.TextBlockObject
	if hint != "" {
		h = blocks.Plain(hint, 2000)
	}
	b := slack.NewInputBlock(blockID, blocks.Plain(label, 2000), h, el)
	b.Optional = optional
	return b
}

// formValues reads the submitted form.
func formValues(state *slack.ViewState) Form {
	return Form{
		Type: stateValue(state, blocks.OfferBlockType), Value: stateValue(state, blocks.OfferBlockValue),
		Duration: stateValue(state, blocks.OfferBlockDuration), Terms: stateValue(state, blocks.OfferBlockTerms),
		Justification: stateValue(state, blocks.OfferBlockJustification), Competitor: stateValue(state, blocks.OfferBlockCompetitor),
	}
}

// stateValue reads one input of a submitted modal by block id.
func stateValue(state *slack.ViewState, blockID string) string {
	if state == nil {
		return ""
	}
	a, ok := state.Values[blockID][formInput]
	if !ok {
		return ""
	}
	if a.SelectedOption.Value != "" {
		return a.SelectedOption.Value
	}
	return a.Value
}

// guidanceModal asks an approver why they reject or send back an offer.
func guidanceModal(meta guidanceMeta, accountName, offer, stepName string) slack.ModalViewRequest {
	raw, _ := json.Marshal(meta)
	title, label, submit := "Request revision", "What should change?", "Send back"
	if meta.Action == "reject" {
		title, label, submit = "Reject offer", "Why is it rejected?", "Reject"
	}
	el := slack.NewPlainTextInputBlockElement(nil, formInput)
	el.Multiline, el.MaxLength = true, MaxJustificationLen
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: blocks.CallbackOfferGuidance, PrivateMetadata: string(raw),
		Title: blocks.Plain(title, blocks.MaxViewTitle), Submit: blocks.Plain(submit, blocks.MaxViewTitle), Close: blocks.Plain("Cancel", blocks.MaxViewTitle),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			blocks.Section("offer_guidance_about", "*"+blocks.UserText(accountName, blocks.MaxNameLen)+"*: "+blocks.UserText(offer, 300)+
				"\nYou decide as *"+blocks.UserText(stepName, blocks.MaxNameLen)+"*. The CSM sees your words."),
			slack.NewInputBlock(blocks.OfferBlockGuidance, blocks.Plain(label, 2000), nil, el),
		}},
	}
}

// counterModal asks the CSM what the customer countered with.
func counterModal(requestID int64, accountName string) slack.ModalViewRequest {
	el := slack.NewPlainTextInputBlockElement(nil, formInput)
	el.Multiline, el.MaxLength = true, MaxJustificationLen
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: blocks.CallbackOfferCounter, PrivateMetadata: strconv.FormatInt(requestID, 10),
		Title: blocks.Plain("Customer countered", blocks.MaxViewTitle), Submit: blocks.Plain("Record", blocks.MaxViewTitle), Close: blocks.Plain("Cancel", blocks.MaxViewTitle),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			blocks.Section("offer_counter_about", "*"+blocks.UserText(accountName, blocks.MaxNameLen)+"* countered offer #"+
				strconv.FormatInt(requestID, 10)+". You can revise the offer afterwards."),
			slack.NewInputBlock(blocks.OfferBlockCounter, blocks.Plain("What did they ask for?", 2000), nil, el),
		}},
	}
}

// requestView is one request as messages show it.
type requestView struct {
	RequestID        int64
	Version          int
	Status           string // pending, revision_requested, approved, rejected
	AccountID        int64
	AccountName      string
	RenewalDate      *time.Time
	RequestedBy      string
	Offer            Offer
	Impact           Impact
	Steps            []stepView // the current version's
	Trail            []trailEntry
	CustomerAnswer   string
	AnswerNote       string
	RenewalOutcome   string
	ApprovalsChannel string
	SubmittedAt      time.Time
	Summary          string // the current version's account summary (approver DMs show it)
	Now              time.Time
}

// stepView is one approval step.
type stepView struct {
	ID          int64
	Stage       int
	StageName   string
	Name        string
	Approvers   []string
	Backup      string
	Escalated   bool
	Status      string // waiting, pending, approved, rejected, revision_requested, closed, superseded
	DecidedBy   string
	DecidedAt   *time.Time
	Guidance    string
	ActivatedAt *time.Time
	SLA         time.Duration
}

// trailEntry is one recorded decision.
type trailEntry struct {
	At       time.Time
	Version  int
	Step     string
	Actor    string
	Action   string // approve, reject, revise, answer
	Guidance string
	Answer   string
}

func (v requestView) title() string {
	return "Offer #" + strconv.FormatInt(v.RequestID, 10) + " · " + blocks.AccountLabel(v.AccountName, v.AccountID)
}

func (v requestView) stages() int {
	n := 0
	for _, s := range v.Steps {
		n = max(n, s.Stage+1)
	}
	return n
}

func (v requestView) active() []stepView {
	var out []stepView
	for _, s := range v.Steps {
		if s.Status == "pending" {
			out = append(out, s)
		}
	}
	return out
}

func (v requestView) offerText() string { return blocks.UserText(v.Offer.Describe(), 200) }

// statusLine: "⏳ Waiting for Finance + RevOps (stage 1 of 2)".
func (v requestView) statusLine() string {
	ver := ""
	if v.Version > 1 {
		ver = " · v" + blocks.Itoa(v.Version)
	}
	switch v.Status {
	case "approved":
		s := "✅ *Approved*" + ver
		switch v.CustomerAnswer {
		case "accepted":
			s += " · 🤝 customer accepted"
		case "declined":
			s += " · customer declined"
		case "countered":
			s += " · customer countered"
		}
		switch v.RenewalOutcome {
		case "renewed":
			s += " · 📈 renewed"
		case "churned":
			s += " · churned"
		}
		return s
	case "rejected":
		return "❌ *Rejected*" + ver + decidedBy(v.Steps, "rejected")
	case "revision_requested":
		return "✋ *Revision requested*" + ver + decidedBy(v.Steps, "revision_requested")
	}
	act := v.active()
	if len(act) == 0 {
		return "⏳ *Pending*" + ver
	}
	names := make([]string, len(act))
	for i, s := range act {
		names[i] = blocks.UserText(s.Name, blocks.MaxNameLen)
	}
	return "⏳ *Waiting for " + strings.Join(names, " + ") + "*" + ver + " (stage " + blocks.Itoa(act[0].Stage+1) + " of " + blocks.Itoa(v.stages()) + ")"
}

func decidedBy(steps []stepView, status string) string {
	for _, s := range steps {
		if s.Status == status {
			return " by " + blocks.UserText(s.Name, blocks.MaxNameLen) + " (" + blocks.UserRef(s.DecidedBy, "") + ")"
		}
	}
	return ""
}

func (v requestView) impactFields() [][2]string {
	im := v.Impact
	retained := blocks.Money(im.RevenueRetained) + " (" + blocks.Money(im.ARR) + " ARR × " + strconv.FormatFloat(im.RemainingMonths, 'f', -1, 64) + " mo)"
	if !im.RenewalKnown {
		retained += ", no renewal date"
	}
	return [][2]string{
		{"Offer", v.offerText()},
		{"Requested by", blocks.UserRef(v.RequestedBy, "unknown")},
		{"Offer cost", blocks.Money(im.Cost) + " (" + Pct(im.CostPctOfARR) + " of ARR)"},
		{"Revenue retained", retained},
		{"Net", blocks.Money(im.Net())},
		{"Renewal", blocks.Renewal(v.RenewalDate, v.Now)},
	}
}

// reasons: justification, terms, competitor as a quoted block.
func (v requestView) reasons() string {
	var lines []string
	if t := strings.TrimSpace(v.Offer.Justification); t != "" {
		lines = append(lines, "*Justification:* "+blocks.UserText(t, maxOfferTextShown))
	}
	if t := strings.TrimSpace(v.Offer.Terms); t != "" {
		lines = append(lines, "*Terms:* "+blocks.UserText(t, maxOfferTextShown))
	}
	if t := strings.TrimSpace(v.Offer.Competitor); t != "" {
		lines = append(lines, "*Competitor:* "+blocks.UserText(t, MaxCompetitorLen))
	}
	return strings.Join(lines, "\n")
}

func stepLine(s stepView, now time.Time) string {
	name := "*" + blocks.UserText(s.Name, blocks.MaxNameLen) + "*"
	switch s.Status {
	case "approved":
		return "✅ " + name + " approved by " + blocks.UserRef(s.DecidedBy, "?") + took(s)
	case "rejected":
		return "❌ " + name + " rejected by " + blocks.UserRef(s.DecidedBy, "?") + took(s)
	case "revision_requested":
		return "✋ " + name + " asked for a revision (" + blocks.UserRef(s.DecidedBy, "?") + ")" + took(s)
	case "pending":
		line := "⏳ " + name + " · " + people(s.Approvers)
		if s.Escalated && s.Backup != "" {
			line += " · escalated to " + blocks.UserRef(s.Backup, "")
		}
		if s.ActivatedAt != nil && !now.IsZero() {
			waited := now.Sub(*s.ActivatedAt)
			line += " · waiting " + durationText(waited)
			if s.SLA > 0 && waited > s.SLA {
				line += " (SLA " + durationText(s.SLA) + " passed)"
			}
		}
		return line
	case "waiting":
		return "◻️ " + name + " · " + people(s.Approvers)
	case "superseded":
		return "↩️ " + name + " · replaced by a newer version"
	}
	return "➖ " + name + " · not needed any more"
}

func took(s stepView) string {
	if s.DecidedAt == nil || s.ActivatedAt == nil {
		return ""
	}
	return " in " + durationText(s.DecidedAt.Sub(*s.ActivatedAt))
}

// people lists user mentions, at most 8.
func people(ids []string) string {
	if len(ids) == 0 {
		return "no approvers"
	}
	shown := ids[:min(len(ids), 8)]
	out := make([]string, len(shown))
	for i, id := range shown {
		out[i] = blocks.UserRef(id, "")
	}
	s := strings.Join(out, ", ")
	if len(ids) > len(shown) {
		s += " +" + blocks.Itoa(len(ids)-len(shown))
	}
	return s
}

// routeText is every stage with its steps.
func (v requestView) routeText() string {
	var b strings.Builder
	b.WriteString("*Approval route*")
	stage := -1
	for _, s := range v.Steps {
		if s.Stage != stage {
			stage = s.Stage
			b.WriteString("\n" + blocks.Itoa(s.Stage+1) + ". " + blocks.UserText(s.StageName, blocks.MaxNameLen))
		}
		b.WriteString("\n   " + stepLine(s, v.Now))
	}
	return b.String()
}

func decisionButtons(blockID string, stepID int64, withLabel string) *slack.ActionBlock {
	id := strconv.FormatInt(stepID, 10)
	approve := "Approve"
	if withLabel != "" {
		approve = "Approve as " + withLabel
	}
	return blocks.Actions(blockID,
		blocks.Button(blocks.ActionOfferApprovePrefix+id, id, approve).WithStyle(slack.StylePrimary),
		blocks.Button(blocks.ActionOfferRevisePrefix+id, id, "Request revision"),
		blocks.Button(blocks.ActionOfferRejectPrefix+id, id, "Reject").WithStyle(slack.StyleDanger),
	)
}

// requestCard is the request's root message in the approvals channel: the
// offer, its financial impact, and every step's state, with decision
// buttons for the steps waiting now (only their approvers can use them).
func requestCard(v requestView) blocks.Message {
	bs := []slack.Block{
		blocks.Header("offer_header", "💸 "+blocks.Truncate(blocks.OneLine(v.title()), blocks.MaxHeaderText-3)),
		blocks.Section("offer_status", v.statusLine()),
		blocks.FieldsSection("offer_facts", v.impactFields()...),
	}
	if r := v.reasons(); r != "" {
		bs = append(bs, blocks.Section("offer_reasons", r))
	}
	bs = append(bs, blocks.Section("offer_route", v.routeText()))
	if v.Status == "pending" {
		act := v.active()
		for _, s := range act {
			label := ""
			if len(act) > 1 {
				label = blocks.Truncate(blocks.OneLine(s.Name), 40)
			}
			bs = append(bs, decisionButtons("offer_decide_"+strconv.FormatInt(s.ID, 10), s.ID, label))
		}
	}
	bs = append(bs, blocks.ContextBlock("offer_footer", "Submitted "+v.SubmittedAt.UTC().Format("Jan 2 15:04 UTC")+
		" · only the approvers named for a step can decide it · account summary and decisions in this thread"))
	text := "Offer #" + strconv.FormatInt(v.RequestID, 10) + " for " + blocks.UserText(blocks.AccountLabel(v.AccountName, v.AccountID), blocks.MaxNameLen) +
		": " + v.offerText() + " — " + plainStatus(v)
	return blocks.Finish(text, bs, blocks.MaxMessageBlocks)
}

func plainStatus(v requestView) string {
	return strings.NewReplacer("*", "").Replace(v.statusLine())
}

// approverDM is the message an approver gets for a step: the offer
// and its impact, and the decision buttons while the step waits for them.
// Re-rendered when the step is decided or taken out of play, it says so
// and drops the buttons.
func approverDM(v requestView, step stepView, escalated bool) blocks.Message {
	open := step.Status == "pending" && v.Status == "pending"
	where := "*" + blocks.UserText(step.Name, blocks.MaxNameLen) + "* (stage " + blocks.Itoa(step.Stage+1) + " of " + blocks.Itoa(v.stages()) + ")"
	intro := "Approval request for " + where + "."
	if open {
		intro = "Your decision is needed as " + where + "."
		if step.SLA > 0 {
			intro += " SLA " + durationText(step.SLA) + "."
		}
		if escalated {
			intro = "⏫ Escalated to you as backup for *" + blocks.UserText(step.Name, blocks.MaxNameLen) + "*: it has waited past its SLA."
		}
	}
	bs := []slack.Block{
		blocks.Header("offer_dm_header", "Approval: "+blocks.Truncate(blocks.OneLine(v.title()), blocks.MaxHeaderText-10)),
		blocks.Section("offer_dm_intro", intro),
		blocks.FieldsSection("offer_dm_facts", v.impactFields()...),
	}
	if r := v.reasons(); r != "" {
		bs = append(bs, blocks.Section("offer_dm_reasons", r))
	}
	if sum := strings.TrimSpace(v.Summary); sum != "" && open {
		bs = append(bs, blocks.Section("offer_dm_summary", "*Account summary*\n"+blocks.UserText(sum, 1000)))
	}
	state := ""
	switch {
	case open:
		bs = append(bs, decisionButtons("offer_dm_decide", step.ID, ""))
	case step.Status == "superseded":
		state = "↩️ Replaced by version " + blocks.Itoa(v.Version) + "; its approval request comes in a new message."
	case step.Status == "approved" || step.Status == "rejected" || step.Status == "revision_requested":
		state = stepLine(step, time.Time{})
	case v.Status == "revision_requested":
		state = "✋ Sent back for revision" + decidedBy(v.Steps, "revision_requested") + "; you will get the revised offer."
	case v.Status == "rejected":
		state = "❌ Rejected" + decidedBy(v.Steps, "rejected") + "; nothing left to decide."
	default:
		state = "➖ Nothing to decide here any more."
	}
	if state != "" {
		bs = append(bs, blocks.Section("offer_dm_state", state))
	}
	channel := "the approvals channel"
	if slackid.Channel(v.ApprovalsChannel) {
		channel = "<#" + v.ApprovalsChannel + ">"
	}
	bs = append(bs, blocks.ContextBlock("offer_dm_footer", "Account summary and the decision trail: the offer's thread in "+channel+"."))
	text := "Approval needed: " + blocks.UserText(v.title(), blocks.MaxNameLen+20) + " — " + v.offerText()
	if state != "" {
		text = blocks.UserText(v.title(), blocks.MaxNameLen+20) + ": " + strings.NewReplacer("*", "").Replace(state)
	}
	return blocks.Finish(text, bs, blocks.MaxMessageBlocks)
}

// summaryView is the account summary approvers read in the thread:
// Offer is the version it is about (Offer.Summary is the model's or the
// template's text).
type summaryView struct {
	Offer   requestView
	Brief   Brief
	ByModel bool
}

// summaryMessage is posted in the request's thread for each version: the
// written summary, then the facts it rests on.
func summaryMessage(s summaryView) blocks.Message {
	b, v := s.Brief, s.Offer
	title := "*Account summary* · version " + blocks.Itoa(v.Version)
	bs := []slack.Block{blocks.Section("offer_summary_text", title+"\n"+blocks.UserText(v.Summary, maxOfferSummaryShown))}
	health := "Not scored"
	if b.Score != nil {
		health = blocks.BandEmoji(scoring.Band(b.Band)) + " " + blocks.Itoa(*b.Score) + "/100 " + blocks.BandLabel(scoring.Band(b.Band))
		if b.ScoreChange != nil {
			health += " (" + blocks.Signed(*b.ScoreChange) + " in 30 days)"
		}
	}
	nps := "No answer"
	if b.NPS != nil {
		nps = strconv.FormatFloat(b.NPS.Score, 'f', -1, 64) + " on " + blocks.Date(b.NPS.At)
	}
	bs = append(bs, blocks.FieldsSection("offer_summary_facts",
		[2]string{"Health", health},
		[2]string{"ARR", blocks.Money(b.ARR)},
		[2]string{"Renewal", blocks.Renewal(b.RenewalDate, v.Now)},
		[2]string{"NPS", nps},
		[2]string{"Tickets (30 days)", blocks.Itoa(b.Tickets30d)},
		[2]string{"Owner", blocks.UserRef(b.Owner, "No owner")},
	))
	if len(b.Drivers) > 0 {
		lines := make([]string, 0, len(b.Drivers))
		for _, d := range b.Drivers {
			lines = append(lines, blocks.UserText(d.Text, blocks.MaxDetailLen)+": *"+blocks.PointsText(d.Points)+"*")
		}
		bs = append(bs, blocks.Section("offer_summary_drivers", blocks.BulletList("*Health drivers*", lines, 1500)))
	}
	if len(b.Timeline) > 0 {
		lines := make([]string, 0, len(b.Timeline))
		for _, e := range b.Timeline {
			lines = append(lines, blocks.Date(e.At)+" · "+blocks.EntryText(blocks.TimelineEntry{Kind: e.Kind, Summary: e.Summary}, 200))
		}
		bs = append(bs, blocks.Section("offer_summary_timeline", blocks.BulletList("*Recent history*", lines, 2000)))
	}
	var past []string
	for _, p := range b.PreviousOffers {
		if p.ID == v.RequestID {
			continue
		}
		past = append(past, "#"+strconv.FormatInt(p.ID, 10)+" "+blocks.Date(p.At)+" · "+blocks.UserText(p.Offer, 150)+" · "+blocks.UserText(p.Result(), 100))
	}
	if len(past) > 0 {
		bs = append(bs, blocks.Section("offer_summary_past", blocks.BulletList("*Previous offers*", past, 1500)))
	} else {
		bs = append(bs, blocks.Section("offer_summary_past", "*Previous offers*\nNone."))
	}
	im := v.Impact
	bs = append(bs, blocks.Section("offer_summary_impact", "*Financial impact*\nOffer cost *"+blocks.Money(im.Cost)+"* ("+
		Pct(im.CostPctOfARR)+" of ARR) against *"+blocks.Money(im.RevenueRetained)+"* retained ("+blocks.Money(im.ARR)+" ARR × "+
		strconv.FormatFloat(im.RemainingMonths, 'f', -1, 64)+" months remaining term) · net "+blocks.Money(im.Net())))
	source := "Summary from a template over the account's records."
	if s.ByModel {
		source = "Summary written by a language model from the facts shown here; figures are computed by Holdfast."
	}
	bs = append(bs, blocks.ContextBlock("offer_summary_source", source))
	text := "Account summary for offer #" + strconv.FormatInt(v.RequestID, 10) + ": " + blocks.UserText(v.Summary, 300)
	return blocks.Finish(text, bs, blocks.MaxMessageBlocks)
}

// offerNote is a short line in the request's thread (a decision, a stage
// starting, a reminder). text must be mrkdwn-safe (built here).
func offerNote(id, text string, extra ...slack.Block) blocks.Message {
	bs := append([]slack.Block{blocks.Section(id, text)}, extra...)
	return blocks.Finish(text, bs, blocks.MaxMessageBlocks)
}

// decisionNote records one decision in the thread; a revision request
// tags the requester and gives them the Revise button.
func decisionNote(v requestView, step stepView) blocks.Message {
	who := blocks.UserRef(step.DecidedBy, "?")
	name := "*" + blocks.UserText(step.Name, blocks.MaxNameLen) + "*"
	guidance := ""
	if g := strings.TrimSpace(step.Guidance); g != "" {
		guidance = "\n>" + blocks.UserText(g, maxOfferTextShown)
	}
	switch step.Status {
	case "approved":
		return offerNote("offer_note_decision", "✅ "+name+" approved — "+who+took(step))
	case "rejected":
		return offerNote("offer_note_decision", "❌ "+name+" rejected the offer — "+who+guidance)
	case "revision_requested":
		id := strconv.FormatInt(v.RequestID, 10)
		return offerNote("offer_note_decision", "✋ "+name+" asks for a revision — "+who+guidance+"\n"+
			blocks.UserRef(v.RequestedBy, "The requester")+", please revise and resubmit; earlier approvals will not carry over.",
			blocks.Actions("offer_note_actions", blocks.Button(blocks.ActionOfferEditPrefix+id, id, "Revise offer").WithStyle(slack.StylePrimary)))
	}
	return offerNote("offer_note_decision", name+" · "+blocks.UserText(step.Status, 40))
}

// stageNote says a new stage started.
func stageNote(v requestView, started []stepView) blocks.Message {
	if len(started) == 0 {
		return offerNote("offer_note_stage", "➡️ Next stage started.")
	}
	lines := make([]string, len(started))
	for i, s := range started {
		lines[i] = "*" + blocks.UserText(s.Name, blocks.MaxNameLen) + "* · " + people(s.Approvers)
	}
	return offerNote("offer_note_stage", "➡️ Stage "+blocks.Itoa(started[0].Stage+1)+" of "+blocks.Itoa(v.stages())+" ("+
		blocks.UserText(started[0].StageName, blocks.MaxNameLen)+"): waiting for\n"+strings.Join(lines, "\n"))
}

// approvedNote closes the approval in the thread with the whole trail.
func approvedNote(v requestView) blocks.Message {
	return offerNote("offer_note_approved", blocks.BulletList("🎉 *Approved:* "+v.offerText()+". "+blocks.UserRef(v.RequestedBy, "The requester")+
		" has the authorized terms.\n*Decision trail*", trailLines(v.Trail), blocks.MaxSectionText))
}

func trailLines(trail []trailEntry) []string {
	lines := make([]string, 0, len(trail))
	for _, d := range trail {
		line := d.At.UTC().Format("Jan 2 15:04 UTC") + " · v" + blocks.Itoa(d.Version) + " · "
		switch d.Action {
		case "approve":
			line += blocks.UserText(d.Step, blocks.MaxNameLen) + " approved (" + blocks.UserRef(d.Actor, "?") + ")"
		case "reject":
			line += blocks.UserText(d.Step, blocks.MaxNameLen) + " rejected (" + blocks.UserRef(d.Actor, "?") + ")"
		case "revise":
			line += blocks.UserText(d.Step, blocks.MaxNameLen) + " asked for a revision (" + blocks.UserRef(d.Actor, "?") + ")"
		case "answer":
			line += "customer " + blocks.UserText(d.Answer, 20) + " (" + blocks.UserRef(d.Actor, "?") + ")"
		default:
			line += blocks.UserText(d.Action, 20)
		}
		if g := strings.TrimSpace(d.Guidance); g != "" {
			line += ": " + blocks.UserText(g, 200)
		}
		lines = append(lines, line)
	}
	return lines
}

// revisedNote announces a new version in the thread, with what changed.
func revisedNote(v requestView, prev Offer) blocks.Message {
	changes := offerChanges(prev, v.Offer)
	text := "📝 *Version " + blocks.Itoa(v.Version) + "* submitted by " + blocks.UserRef(v.RequestedBy, "the requester") + ": " + v.offerText()
	if len(changes) > 0 {
		text += "\nChanged: " + strings.Join(changes, "; ")
	}
	text += "\nApprovals of earlier versions do not carry over."
	return offerNote("offer_note_revised", text)
}

func offerChanges(a, b Offer) []string {
	var out []string
	if a.Describe() != b.Describe() {
		out = append(out, blocks.UserText(a.Describe(), 150)+" → "+blocks.UserText(b.Describe(), 150))
	}
	if a.Justification != b.Justification {
		out = append(out, "justification")
	}
	if a.Competitor != b.Competitor {
		out = append(out, "competitor")
	}
	if a.Terms != b.Terms && a.Type == b.Type && b.Type != ContractModification {
		out = append(out, "terms")
	}
	return out
}

// nudgeNote records an SLA reminder in the thread.
func nudgeNote(step stepView, waited time.Duration) blocks.Message {
	return offerNote("offer_note_nudge", "⏰ *"+blocks.UserText(step.Name, blocks.MaxNameLen)+"* has waited "+durationText(waited)+
		" (SLA "+durationText(step.SLA)+"): reminded "+people(step.Approvers)+".")
}

// escalationNote records an escalation in the thread.
func escalationNote(step stepView, waited time.Duration) blocks.Message {
	return offerNote("offer_note_escalation", "⏫ *"+blocks.UserText(step.Name, blocks.MaxNameLen)+"* has waited "+durationText(waited)+
		": escalated to "+blocks.UserRef(step.Backup, "the backup")+", who can now decide it too.")
}

// reminderDM nudges an approver.
func reminderDM(v requestView, step stepView, waited time.Duration) blocks.Message {
	return offerNote("offer_reminder", "⏰ Reminder: *"+blocks.UserText(v.title(), blocks.MaxNameLen+20)+"* ("+v.offerText()+") has waited "+
		durationText(waited)+" for your decision as *"+blocks.UserText(step.Name, blocks.MaxNameLen)+"* (SLA "+durationText(step.SLA)+
		"). The buttons are in the approval message above.")
}

// submittedDM confirms a submission to the requester.
func submittedDM(v requestView) blocks.Message {
	route := make([]string, 0, v.stages())
	stage := -1
	for _, s := range v.Steps {
		if s.Stage != stage {
			stage = s.Stage
			route = append(route, "")
		}
		if route[len(route)-1] != "" {
			route[len(route)-1] += " + "
		}
		route[len(route)-1] += blocks.UserText(s.Name, blocks.MaxNameLen)
	}
	verb := "Submitted"
	if v.Version > 1 {
		verb = "Resubmitted (version " + blocks.Itoa(v.Version) + ")"
	}
	return offerNote("offer_submitted", "📨 "+verb+" *"+blocks.UserText(v.title(), blocks.MaxNameLen+20)+"*: "+v.offerText()+
		"\nRoute: "+strings.Join(route, " → ")+". You'll hear here when it is decided.")
}

// termsDM tells the requester the authorized terms and asks for the
// customer's answer; re-rendered once answered, without the buttons.
func termsDM(v requestView) blocks.Message {
	id := strconv.FormatInt(v.RequestID, 10)
	bs := []slack.Block{
		blocks.Section("offer_terms", "✅ *"+blocks.UserText(v.title(), blocks.MaxNameLen+20)+"* is approved.\n*Authorized terms:* "+v.offerText()),
		blocks.FieldsSection("offer_terms_facts", v.impactFields()[2:]...),
	}
	switch v.CustomerAnswer {
	case "":
		bs = append(bs, blocks.Section("offer_terms_ask", "When the customer answers, record it here:"),
			blocks.Actions("offer_answer",
				blocks.Button(blocks.ActionOfferAnswerPrefix+"accepted", id, "Accepted").WithStyle(slack.StylePrimary),
				blocks.Button(blocks.ActionOfferAnswerPrefix+"declined", id, "Declined"),
				blocks.Button(blocks.ActionOfferAnswerPrefix+"countered", id, "Countered")))
	case "countered":
		line := "Customer countered"
		if n := strings.TrimSpace(v.AnswerNote); n != "" {
			line += ": " + blocks.UserText(n, maxOfferTextShown)
		}
		bs = append(bs, blocks.Section("offer_terms_answer", line),
			blocks.Actions("offer_terms_actions", blocks.Button(blocks.ActionOfferEditPrefix+id, id, "Revise offer")))
	default:
		bs = append(bs, blocks.Section("offer_terms_answer", "Customer "+blocks.UserText(v.CustomerAnswer, 20)+"."))
	}
	return blocks.Finish("Approved: "+blocks.UserText(v.title(), blocks.MaxNameLen+20)+" — "+v.offerText(), bs, blocks.MaxMessageBlocks)
}

// closedDM tells the requester their offer was rejected or sent back.
func closedDM(v requestView, step stepView) blocks.Message {
	id := strconv.FormatInt(v.RequestID, 10)
	guidance := ""
	if g := strings.TrimSpace(step.Guidance); g != "" {
		guidance = "\n>" + blocks.UserText(g, maxOfferTextShown)
	}
	if step.Status == "rejected" {
		return offerNote("offer_closed", "❌ *"+blocks.UserText(v.title(), blocks.MaxNameLen+20)+"* ("+v.offerText()+") was rejected by *"+
			blocks.UserText(step.Name, blocks.MaxNameLen)+"* ("+blocks.UserRef(step.DecidedBy, "?")+")."+guidance)
	}
	return offerNote("offer_closed", "✋ *"+blocks.UserText(step.Name, blocks.MaxNameLen)+"* ("+blocks.UserRef(step.DecidedBy, "?")+") asks you to revise *"+
		blocks.UserText(v.title(), blocks.MaxNameLen+20)+"* ("+v.offerText()+")."+guidance,
		blocks.Actions("offer_closed_actions", blocks.Button(blocks.ActionOfferEditPrefix+id, id, "Revise offer").WithStyle(slack.StylePrimary)))
}

// answerNote records the customer's answer in the thread.
func answerNote(v requestView) blocks.Message {
	icon := map[string]string{"accepted": "🤝", "declined": "🚫", "countered": "↔️"}[v.CustomerAnswer]
	text := icon + " Customer *" + blocks.UserText(v.CustomerAnswer, 20) + "* (recorded by " + blocks.UserRef(v.RequestedBy, "the CSM") + ")"
	if n := strings.TrimSpace(v.AnswerNote); n != "" {
		text += ": " + blocks.UserText(n, maxOfferTextShown)
	}
	if v.CustomerAnswer == "accepted" {
		text += ". Tracked to the renewal"
		if v.RenewalDate != nil {
			text += " on " + blocks.Date(*v.RenewalDate)
		}
		text += "."
	}
	return offerNote("offer_note_answer", text)
}

// outcomeNote records the renewal outcome of an accepted offer.
func outcomeNote(v requestView) blocks.Message {
	if v.RenewalOutcome == "renewed" {
		return offerNote("offer_note_outcome", "📈 Renewal outcome: *renewed*. The offer saved the account.")
	}
	return offerNote("offer_note_outcome", "📉 Renewal outcome: *"+blocks.UserText(v.RenewalOutcome, 20)+"*.")
}

// refusalMessage is the polite ephemeral answer to a click that changed nothing.
func refusalMessage(reason string, step stepView, version int) blocks.Message {
	var text string
	switch reason {
	case "not_approver":
		text = "🔒 Only the approvers named for *" + blocks.UserText(step.Name, blocks.MaxNameLen) + "* (" + people(step.Approvers) +
			") can decide this step. Nothing was changed."
	case "own_request":
		text = "🔒 You proposed this offer, so someone else has to approve it. Nothing was changed."
	case "already_decided":
		text = "👍 This step was already decided: " + stepLine(step, time.Time{}) + ". Nothing was changed."
	case "old_version":
		text = "↩️ This request has been revised (now version " + blocks.Itoa(version) + "); these buttons belong to an earlier version. " +
			"The new version's approval request is in a newer message. Nothing was changed."
	case "not_active":
		text = "⏳ *" + blocks.UserText(step.Name, blocks.MaxNameLen) + "* starts after the earlier stage is approved. Nothing was changed."
	case "closed":
		text = "This request is not waiting for a decision any more. Nothing was changed."
	case "not_owner":
		text = "🔒 Only the CSM who proposed the offer or the account owner can do that. Nothing was changed."
	case "not_approved":
		text = "The offer is not approved yet, so there is no customer answer to record. Nothing was changed."
	case "already_answered":
		text = "👍 The customer's answer is already recorded. Nothing was changed."
	case "stale":
		text = "↩️ Someone revised this offer while you were editing; open it again from the latest message. Nothing was changed."
	default:
		text = "That did not change anything."
	}
	return blocks.Finish(text, []slack.Block{blocks.Section("offer_refusal", text)}, blocks.MaxMessageBlocks)
}

// durationText: "45s", "35m", "4h", "4h 30m", "2d 3h".
func durationText(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return blocks.Itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		return blocks.Itoa(int(d/time.Minute)) + "m"
	case d < 24*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return blocks.Itoa(h) + "h"
		}
		return blocks.Itoa(h) + "h " + blocks.Itoa(m) + "m"
	}
	days, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	if h == 0 {
		return blocks.Itoa(days) + "d"
	}
	return blocks.Itoa(days) + "d " + blocks.Itoa(h) + "h"
}

// ---- lists: /offers, App Home ----

// pendingRow is one step waiting for the viewer's decision.
type pendingRow struct {
	StepID      int64
	StepName    string
	RequestID   int64
	AccountName string
	RequestedBy string
	Offer       Offer
	Impact      Impact
	WaitingFor  time.Duration
	SLA         time.Duration
	Escalated   bool // the viewer decides as the backup
}

const maxPendingRows = 15

// PendingApprovalsTitle heads the list wherever it is shown.
const PendingApprovalsTitle = "Offers waiting for your approval"

// pendingBlocks lists the steps waiting for the viewer's decision, each
// with its buttons, without a header (the App Home section has a title;
// listMessage adds one): up to 15 rows of 2 blocks, then "…and N more".
// Empty input gives one line saying nothing waits.
func pendingBlocks(rows []pendingRow) []slack.Block {
	var bs []slack.Block
	if len(rows) == 0 {
		return append(bs, blocks.Section("offers_pending_none", "Nothing waits for your decision. 🎉"))
	}
	for _, r := range rows[:min(len(rows), maxPendingRows)] {
		id := strconv.FormatInt(r.StepID, 10)
		line := "*Offer #" + strconv.FormatInt(r.RequestID, 10) + " · " + blocks.UserText(r.AccountName, blocks.MaxNameLen) + "* · " +
			blocks.UserText(r.Offer.Describe(), 200) + "\nAs *" + blocks.UserText(r.StepName, blocks.MaxNameLen) + "*"
		if r.Escalated {
			line += " (escalated to you)"
		}
		line += " · " + blocks.Money(r.Impact.Cost) + " (" + Pct(r.Impact.CostPctOfARR) + " of ARR) · from " +
			blocks.UserRef(r.RequestedBy, "?") + " · waiting " + durationText(r.WaitingFor)
		if r.SLA > 0 && r.WaitingFor > r.SLA {
			line += " ⚠️ past SLA " + durationText(r.SLA)
		}
		bs = append(bs, blocks.Section("offers_pending_"+id, line), decisionButtons("offers_pending_actions_"+id, r.StepID, ""))
	}
	if len(rows) > maxPendingRows {
		bs = append(bs, blocks.ContextBlock("offers_pending_more", "More are waiting for you: /offers pending"))
	}
	return bs
}

// listBudget keeps list messages under Slack's ~12k characters of block
// text in all (msg_blocks_too_long), whatever each row holds.
const listBudget = 9000

// blocksText counts the text of section and header blocks built so far.
func blocksText(bs []slack.Block) int {
	n := 0
	for _, b := range bs {
		switch b := b.(type) {
		case *slack.SectionBlock:
			if b.Text != nil {
				n += blocks.TextLen(b.Text.Text)
			}
			for _, f := range b.Fields {
				n += blocks.TextLen(f.Text)
			}
		case *slack.HeaderBlock:
			n += blocks.TextLen(b.Text.Text)
		case *slack.ContextBlock:
			for _, el := range b.ContextElements.Elements {
				if t, ok := el.(*slack.TextBlockObject); ok {
					n += blocks.TextLen(t.Text)
				}
			}
		case *slack.ActionBlock:
			n += 100 * len(b.Elements.ElementSet)
		}
	}
	return n
}

// maxListMine is how many of the viewer's approvals /offers pending shows
// with buttons before the list of every open request.
const maxListMine = 5

// listView is the /offers pending answer.
type listView struct {
	Mine  []pendingRow  // waiting for the viewer
	Open  []requestView // every open request, oldest first
	Total int           // open requests in all
}

// listMessage builds /offers pending: what waits for the viewer (with
// buttons), then every open request and who it waits for.
func listMessage(v listView) blocks.Message {
	var bs []slack.Block
	if len(v.Mine) > 0 {
		mine := v.Mine[:min(len(v.Mine), maxListMine)]
		bs = append(bs, blocks.Header("offers_pending_header", PendingApprovalsTitle))
		bs = append(bs, pendingBlocks(mine)...)
		if len(v.Mine) > len(mine) {
			bs = append(bs, blocks.ContextBlock("offers_pending_mine_more", "More are waiting for you: the App Home lists them with their buttons."))
		}
		bs = append(bs, slack.NewDividerBlock())
	}
	total := max(v.Total, len(v.Open))
	if total == 0 {
		bs = append(bs, blocks.Section("offers_open_none", "No offers are waiting for approval."))
		return blocks.Finish("No offers are waiting for approval.", bs, blocks.MaxMessageBlocks)
	}
	bs = append(bs, blocks.Header("offers_open_header", "Open offers ("+blocks.Itoa(total)+")"))
	budget := listBudget - blocksText(bs)
	shown := 0
	for i, o := range v.Open[:min(len(v.Open), 15)] {
		line := "*#" + strconv.FormatInt(o.RequestID, 10) + " " + blocks.UserText(blocks.AccountLabel(o.AccountName, o.AccountID), blocks.MaxNameLen) +
			"* · " + o.offerText() + " · " + blocks.UserRef(o.RequestedBy, "?") + "\n" + o.statusLine()
		for _, s := range o.active() {
			line += "\n   " + stepLine(s, o.Now)
		}
		line = blocks.TruncateMrkdwn(line, 1200)
		if budget -= blocks.TextLen(line); budget < 0 {
			break
		}
		bs = append(bs, slack.NewSectionBlock(blocks.Mrkdwn(line, 1200), nil, nil, slack.SectionBlockOptionBlockID("offers_open_"+blocks.Itoa(i))))
		shown++
	}
	if more := total - shown; more > 0 {
		bs = append(bs, blocks.ContextBlock("offers_open_more", "…and "+blocks.Itoa(more)+" more"))
	}
	text := blocks.Plural(total, "offer", "offers") + " waiting for approval"
	if len(v.Mine) > 0 {
		text += ", " + blocks.Itoa(len(v.Mine)) + " for you"
	}
	return blocks.Finish(text, bs, blocks.MaxMessageBlocks)
}

// maxHistory is how many requests /offers <account> lists.
const maxHistory = 10

// historyMessage is /offers <account>: the latest requests with their
// trails (pass up to maxHistory+1 so it can say there are more).
func historyMessage(accountName string, accountID int64, list []requestView) blocks.Message {
	name := blocks.UserText(accountName, blocks.MaxNameLen)
	if len(list) == 0 {
		return blocks.Info("No retention offers recorded for *" + name + "* yet. Propose one with /offer.")
	}
	bs := []slack.Block{blocks.Header("offers_account_header", "Offers for "+blocks.Truncate(blocks.OneLine(accountName), blocks.MaxNameLen))}
	budget := listBudget - blocksText(bs)
	shown := 0
	for i, o := range list[:min(len(list), maxHistory)] {
		head := "*#" + strconv.FormatInt(o.RequestID, 10) + "* " + o.SubmittedAt.UTC().Format("Jan 2, 2006") + " · " +
			o.offerText() + " · " + blocks.UserRef(o.RequestedBy, "?") + "\n" + o.statusLine()
		text := blocks.TruncateMrkdwn(blocks.BulletList(head, trailLines(o.Trail), 1500), 1500)
		if budget -= blocks.TextLen(text); budget < 0 {
			break
		}
		bs = append(bs, slack.NewSectionBlock(blocks.Mrkdwn(text, 1500), nil, nil, slack.SectionBlockOptionBlockID("offers_account_"+blocks.Itoa(i))))
		shown++
	}
	switch {
	case len(list) > maxHistory:
		// The caller reads one more than is shown to know there are more,
		// not how many.
		bs = append(bs, blocks.ContextBlock("offers_account_more", "Showing the latest "+blocks.Itoa(shown)+"; older offers are not listed."))
	case shown < len(list):
		bs = append(bs, blocks.ContextBlock("offers_account_more", "Showing the latest "+blocks.Itoa(shown)+" of "+blocks.Itoa(len(list))))
	}
	return blocks.Finish(blocks.Plural(len(list), "offer", "offers")+" for "+name, bs, blocks.MaxMessageBlocks)
}

// statsMessage is /offers stats.
func statsMessage(st Stats, since time.Time) blocks.Message {
	if st.Total.Requests == 0 {
		return blocks.Info("No offers since " + blocks.Date(since) + " yet.")
	}
	rate := func(r float64, ok bool, n int) string {
		if !ok {
			return "—"
		}
		return strconv.Itoa(int(r*100+0.5)) + "% (" + blocks.Itoa(n) + ")"
	}
	lines := make([]string, 0, len(st.Groups))
	for _, g := range st.Groups[:min(len(st.Groups), 40)] {
		acc, aok := g.AcceptanceRate()
		save, sok := g.SaveRate()
		lines = append(lines, "*"+blocks.UserText(g.Type.Label(), 40)+" · "+blocks.UserText(g.Band, 20)+"* — "+blocks.Plural(g.Requests, "request", "requests")+
			", "+blocks.Itoa(g.Approved)+" approved · acceptance "+rate(acc, aok, g.Answered)+" · save "+rate(save, sok, g.Tracked))
	}
	acc, aok := st.Total.AcceptanceRate()
	save, sok := st.Total.SaveRate()
	median := "—"
	if st.ApprovedRequests > 0 {
		median = durationText(st.MedianApproval) + " over " + blocks.Plural(st.ApprovedRequests, "approval", "approvals")
	}
	bs := []slack.Block{
		blocks.Header("offers_stats_header", "Retention offers since "+blocks.Date(since)),
		blocks.FieldsSection("offers_stats_total",
			[2]string{"Requests", blocks.Itoa(st.Total.Requests)},
			[2]string{"Approved / rejected", blocks.Itoa(st.Total.Approved) + " / " + blocks.Itoa(st.Total.Rejected)},
			[2]string{"Acceptance rate", rate(acc, aok, st.Total.Answered)},
			[2]string{"Save rate", rate(save, sok, st.Total.Tracked)},
			[2]string{"Median time to approval", median},
		),
		blocks.Section("offers_stats_groups", blocks.BulletList("*By offer type and discount band*", lines, blocks.MaxSectionText)),
	}
	if len(st.Steps) > 0 {
		steps := make([]string, 0, len(st.Steps))
		for _, s := range st.Steps[:min(len(st.Steps), 30)] {
			steps = append(steps, blocks.UserText(s.Name, blocks.MaxNameLen)+": median "+durationText(s.Median)+" over "+blocks.Plural(s.N, "decision", "decisions"))
		}
		bs = append(bs, blocks.Section("offers_stats_steps", blocks.BulletList("*Time to decision per step*", steps, blocks.MaxSectionText)))
	}
	bs = append(bs, blocks.ContextBlock("offers_stats_help", "Acceptance: accepted ÷ answered approved  "+
		"Save: accepted offers whose account renewed ÷ accepted offers whose renewal is decided. Bands use the discount, or an offer's cost as % of ARR."))
	return blocks.Finish("Offers since "+blocks.Date(since)+": "+blocks.Itoa(st.Total.Requests)+" requests, acceptance "+rate(acc, aok, st.Total.Answered)+
		", save "+rate(save, sok, st.Total.Tracked)+", median approval "+median, bs, blocks.MaxMessageBlocks)
}
