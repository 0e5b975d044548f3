package blocks

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/holdfast/holdfast/slackid"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/offers"
	"github.com/holdfast/holdfast/scoring"
)

// OfferFieldBlock maps an offers.Field to the form block that shows it.
func OfferFieldBlock(field string) string {
	switch field {
	case offers.FieldType:
		return OfferBlockType
	case offers.FieldValue:
		return OfferBlockValue
	case offers.FieldDuration:
		return OfferBlockDuration
	case offers.FieldTerms:
		return OfferBlockTerms
	case offers.FieldJustification:
		return OfferBlockJustification
	case offers.FieldCompetitor:
		return OfferBlockCompetitor
	}
	return OfferBlockValue
}

// the action id of each form input: "input" everywhere, read back by block.
const formInput = "input"

const (
	maxOfferTextShown    = 600 // justification, terms, guidance in messages
	maxOfferSummaryShown = 1500
)

// OfferFormMeta rides in the form's private_metadata.
type OfferFormMeta struct {
	AccountID int64 `json:"a"`
	RequestID int64 `json:"r,omitempty"` // set when revising
	Version   int   `json:"v,omitempty"` // the version being revised
}

// OfferGuidanceMeta rides in the guidance modal's private_metadata.
type OfferGuidanceMeta struct {
	StepID int64  `json:"s"`
	Action string `json:"k"` // reject or revise
}

// OfferFormView is what the offer form shows.
type OfferFormView struct {
	Meta        OfferFormMeta
	AccountName string
	Tier        string
	ARR         float64
	RenewalDate *time.Time
	Score       *int
	Band        scoring.Band
	Guideline   offers.Guideline
	Prefill     *offers.Offer // revision: the current version
	// Revision guidance to show above the form (revisions only).
	GuidanceBy, GuidanceStep, Guidance string
	Now                                time.Time
}

// OfferForm builds the modal a CSM proposes (or revises) an offer in.
func OfferForm(v OfferFormView) slack.ModalViewRequest {
	meta, _ := json.Marshal(v.Meta) // three numbers: cannot fail
	name := AccountLabel(v.AccountName, v.Meta.AccountID)
	facts := []string{"*" + UserText(name, MaxNameLen) + "*"}
	if t := strings.TrimSpace(v.Tier); t != "" {
		facts = append(facts, UserText(t, MaxIDLen))
	}
	facts = append(facts, Money(v.ARR)+" ARR", "renewal "+Renewal(v.RenewalDate, v.Now))
	if v.Score != nil {
		facts = append(facts, BandEmoji(v.Band)+" health "+Itoa(*v.Score))
	}
	g := v.Guideline
	limits := "Guidelines: discounts up to " + offers.Pct(g.MaxDiscountPct) + " for up to " + Plural(g.MaxDurationMonths, "month", "months") +
		" (justify above " + offers.Pct(g.JustificationAbovePct) + "), credits up to " + offers.USD(g.MaxCredit) +
		", up to " + Plural(g.MaxFreeMonths, "free month", "free months") + "."
	blocks := []slack.Block{Section("offer_form_account", strings.Join(facts, " · "))}
	if v.Guidance != "" {
		who := UserRef(v.GuidanceBy, "An approver")
		if v.GuidanceStep != "" {
			who += " (" + UserText(v.GuidanceStep, MaxNameLen) + ")"
		}
		blocks = append(blocks, Section("offer_form_guidance", "✋ "+who+" asked for a revision:\n>"+
			UserText(v.Guidance, maxOfferTextShown)))
	}
	blocks = append(blocks, ContextBlock("offer_form_limits", limits))

	var pre offers.Offer
	if v.Prefill != nil {
		pre = *v.Prefill
	}
	options := make([]*slack.OptionBlockObject, 0, len(offers.Types))
	var initial *slack.OptionBlockObject
	for _, t := range offers.Types {
		o := slack.NewOptionBlockObject(string(t), Plain(t.Label(), 75), nil)
		options = append(options, o)
		if t == pre.Type {
			initial = o
		}
	}
	sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, Plain("Choose…", 150), formInput, options...)
	sel.InitialOption = initial
	value, duration := "", ""
	if v.Prefill != nil {
		if pre.Value != 0 || pre.Type != offers.ContractModification {
			value = strconv.FormatFloat(pre.Value, 'f', -1, 64)
		}
		if pre.DurationMonths > 0 {
			duration = Itoa(pre.DurationMonths)
		}
	}
	blocks = append(blocks,
		slack.NewInputBlock(OfferBlockType, Plain("Offer type", 2000), nil, sel),
		offerTextInput(OfferBlockValue, "Value", "Discount: percent (15). Service credit: USD (5000). Free months: months (2). Contract modification: estimated cost in USD, if any.",
			value, false, 20, true),
		offerTextInput(OfferBlockDuration, "Duration (months)", "How long a discount runs.", duration, false, 10, true),
		offerTextInput(OfferBlockTerms, "Terms", "Contract modifications: what changes. Otherwise an optional note for approvers.",
			pre.Terms, true, offers.MaxTermsLen, true),
		offerTextInput(OfferBlockJustification, "Justification", "Why this offer saves the account. Required above the justification threshold and for contract changes.",
			pre.Justification, true, offers.MaxJustificationLen, true),
		offerTextInput(OfferBlockCompetitor, "Competitor involved", "", pre.Competitor, false, offers.MaxCompetitorLen, true),
	)
	title, submit := "Retention offer", "Submit for approval"
	if v.Meta.RequestID != 0 {
		title, submit = "Revise offer #"+strconv.FormatInt(v.Meta.RequestID, 10), "Resubmit"
	}
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: CallbackOfferForm, PrivateMetadata: string(meta),
		Title: Plain(title, MaxViewTitle), Submit: Plain(submit, MaxViewTitle), Close: Plain("Cancel", MaxViewTitle),
		Blocks: slack.Blocks{BlockSet: blocks},
	}
}

func offerTextInput(blockID, label, hint, initial string, multiline bool, maxLen int, optional bool) *slack.InputBlock {
	el := slack.NewPlainTextInputBlockElement(nil, formInput)
	el.Multiline, el.MaxLength = multiline, maxLen
	el.InitialValue = Truncate(initial, maxLen)
	var h *slack.TextBlockObject
	if hint != "" {
		h = Plain(hint, 2000)
	}
	b := slack.NewInputBlock(blockID, Plain(label, 2000), h, el)
	b.Optional = optional
	return b
}

// OfferFormValues reads the submitted form.
func OfferFormValues(state *slack.ViewState) offers.Form {
	return offers.Form{
		Type: stateValue(state, OfferBlockType), Value: stateValue(state, OfferBlockValue),
		Duration: stateValue(state, OfferBlockDuration), Terms: stateValue(state, OfferBlockTerms),
		Justification: stateValue(state, OfferBlockJustification), Competitor: stateValue(state, OfferBlockCompetitor),
	}
}

// StateText reads one text input of a submitted modal by block id.
func StateText(state *slack.ViewState, blockID string) string { return stateValue(state, blockID) }

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

// OfferGuidanceModal asks an approver why they reject or send back an offer.
func OfferGuidanceModal(meta OfferGuidanceMeta, accountName, offer, stepName string) slack.ModalViewRequest {
	raw, _ := json.Marshal(meta)
	title, label, submit := "Request revision", "What should change?", "Send back"
	if meta.Action == "reject" {
		title, label, submit = "Reject offer", "Why is it rejected?", "Reject"
	}
	el := slack.NewPlainTextInputBlockElement(nil, formInput)
	el.Multiline, el.MaxLength = true, offers.MaxJustificationLen
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: CallbackOfferGuidance, PrivateMetadata: string(raw),
		Title: Plain(title, MaxViewTitle), Submit: Plain(submit, MaxViewTitle), Close: Plain("Cancel", MaxViewTitle),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			Section("offer_guidance_about", "*"+UserText(accountName, MaxNameLen)+"*: "+UserText(offer, 300)+
				"\nYou decide as *"+UserText(stepName, MaxNameLen)+"*. The CSM sees your words."),
			slack.NewInputBlock(OfferBlockGuidance, Plain(label, 2000), nil, el),
		}},
	}
}

// OfferCounterModal asks the CSM what the customer countered with.
func OfferCounterModal(requestID int64, accountName string) slack.ModalViewRequest {
	el := slack.NewPlainTextInputBlockElement(nil, formInput)
	el.Multiline, el.MaxLength = true, offers.MaxJustificationLen
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: CallbackOfferCounter, PrivateMetadata: strconv.FormatInt(requestID, 10),
		Title: Plain("Customer countered", MaxViewTitle), Submit: Plain("Record", MaxViewTitle), Close: Plain("Cancel", MaxViewTitle),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			Section("offer_counter_about", "*"+UserText(accountName, MaxNameLen)+"* countered offer #"+
				strconv.FormatInt(requestID, 10)+". You can revise the offer afterwards."),
			slack.NewInputBlock(OfferBlockCounter, Plain("What did they ask for?", 2000), nil, el),
		}},
	}
}

// OfferView is one request as messages show it.
type OfferView struct {
	RequestID        int64
	Version          int
	Status           string // pending, revision_requested, approved, rejected
	AccountID        int64
	AccountName      string
	RenewalDate      *time.Time
	RequestedBy      string
	Offer            offers.Offer
	Impact           offers.Impact
	Steps            []OfferStepView // the current version's
	Trail            []OfferTrailEntry
	CustomerAnswer   string
	AnswerNote       string
	RenewalOutcome   string
	ApprovalsChannel string
	SubmittedAt      time.Time
	Summary          string // the current version's account summary (approver DMs show it)
	Now              time.Time
}

// OfferStepView is one approval step.
type OfferStepView struct {
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

// OfferTrailEntry is one recorded decision.
type OfferTrailEntry struct {
	At       time.Time
	Version  int
	Step     string
	Actor    string
	Action   string // approve, reject, revise, answer
	Guidance string
	Answer   string
}

func (v OfferView) title() string {
	return "Offer #" + strconv.FormatInt(v.RequestID, 10) + " · " + AccountLabel(v.AccountName, v.AccountID)
}

func (v OfferView) stages() int {
	n := 0
	for _, s := range v.Steps {
		n = max(n, s.Stage+1)
	}
	return n
}

func (v OfferView) active() []OfferStepView {
	var out []OfferStepView
	for _, s := range v.Steps {
		if s.Status == "pending" {
			out = append(out, s)
		}
	}
	return out
}

func (v OfferView) offerText() string { return UserText(v.Offer.Describe(), 200) }

// statusLine: "⏳ Waiting for Finance + RevOps (stage 1 of 2)".
func (v OfferView) statusLine() string {
	ver := ""
	if v.Version > 1 {
		ver = " · v" + Itoa(v.Version)
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
		names[i] = UserText(s.Name, MaxNameLen)
	}
	return "⏳ *Waiting for " + strings.Join(names, " + ") + "*" + ver + " (stage " + Itoa(act[0].Stage+1) + " of " + Itoa(v.stages()) + ")"
}

func decidedBy(steps []OfferStepView, status string) string {
	for _, s := range steps {
		if s.Status == status {
			return " by " + UserText(s.Name, MaxNameLen) + " (" + UserRef(s.DecidedBy, "") + ")"
		}
	}
	return ""
}

func (v OfferView) impactFields() [][2]string {
	im := v.Impact
	retained := Money(im.RevenueRetained) + " (" + Money(im.ARR) + " ARR × " + strconv.FormatFloat(im.RemainingMonths, 'f', -1, 64) + " mo)"
	if !im.RenewalKnown {
		retained += ", no renewal date"
	}
	return [][2]string{
		{"Offer", v.offerText()},
		{"Requested by", UserRef(v.RequestedBy, "unknown")},
		{"Offer cost", Money(im.Cost) + " (" + offers.Pct(im.CostPctOfARR) + " of ARR)"},
		{"Revenue retained", retained},
		{"Net", Money(im.Net())},
		{"Renewal", Renewal(v.RenewalDate, v.Now)},
	}
}

// reasons: justification, terms, competitor as a quoted block.
func (v OfferView) reasons() string {
	var lines []string
	if t := strings.TrimSpace(v.Offer.Justification); t != "" {
		lines = append(lines, "*Justification:* "+UserText(t, maxOfferTextShown))
	}
	if t := strings.TrimSpace(v.Offer.Terms); t != "" {
		lines = append(lines, "*Terms:* "+UserText(t, maxOfferTextShown))
	}
	if t := strings.TrimSpace(v.Offer.Competitor); t != "" {
		lines = append(lines, "*Competitor:* "+UserText(t, offers.MaxCompetitorLen))
	}
	return strings.Join(lines, "\n")
}

func stepLine(s OfferStepView, now time.Time) string {
	name := "*" + UserText(s.Name, MaxNameLen) + "*"
	switch s.Status {
	case "approved":
		return "✅ " + name + " approved by " + UserRef(s.DecidedBy, "?") + took(s)
	case "rejected":
		return "❌ " + name + " rejected by " + UserRef(s.DecidedBy, "?") + took(s)
	case "revision_requested":
		return "✋ " + name + " asked for a revision (" + UserRef(s.DecidedBy, "?") + ")" + took(s)
	case "pending":
		line := "⏳ " + name + " · " + people(s.Approvers)
		if s.Escalated && s.Backup != "" {
			line += " · escalated to " + UserRef(s.Backup, "")
		}
		if s.ActivatedAt != nil && !now.IsZero() {
			waited := now.Sub(*s.ActivatedAt)
			line += " · waiting " + DurationText(waited)
			if s.SLA > 0 && waited > s.SLA {
				line += " (SLA " + DurationText(s.SLA) + " passed)"
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

func took(s OfferStepView) string {
	if s.DecidedAt == nil || s.ActivatedAt == nil {
		return ""
	}
	return " in " + DurationText(s.DecidedAt.Sub(*s.ActivatedAt))
}

// people lists user mentions, at most 8.
func people(ids []string) string {
	if len(ids) == 0 {
		return "no approvers"
	}
	shown := ids[:min(len(ids), 8)]
	out := make([]string, len(shown))
	for i, id := range shown {
		out[i] = UserRef(id, "")
	}
	s := strings.Join(out, ", ")
	if len(ids) > len(shown) {
		s += " +" + Itoa(len(ids)-len(shown))
	}
	return s
}

// routeText is every stage with its steps.
func (v OfferView) routeText() string {
	var b strings.Builder
	b.WriteString("*Approval route*")
	stage := -1
	for _, s := range v.Steps {
		if s.Stage != stage {
			stage = s.Stage
			b.WriteString("\n" + Itoa(s.Stage+1) + ". " + UserText(s.StageName, MaxNameLen))
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
	return Actions(blockID,
		Button(ActionOfferApprovePrefix+id, id, approve).WithStyle(slack.StylePrimary),
		Button(ActionOfferRevisePrefix+id, id, "Request revision"),
		Button(ActionOfferRejectPrefix+id, id, "Reject").WithStyle(slack.StyleDanger),
	)
}

// OfferCard is the request's root message in the approvals channel: the
// offer, its financial impact, and every step's state, with decision
// buttons for the steps waiting now (only their approvers can use them).
func OfferCard(v OfferView) Message {
	blocks := []slack.Block{
		Header("offer_header", "💸 "+Truncate(OneLine(v.title()), MaxHeaderText-3)),
		Section("offer_status", v.statusLine()),
		FieldsSection("offer_facts", v.impactFields()...),
	}
	if r := v.reasons(); r != "" {
		blocks = append(blocks, Section("offer_reasons", r))
	}
	blocks = append(blocks, Section("offer_route", v.routeText()))
	if v.Status == "pending" {
		act := v.active()
		for _, s := range act {
			label := ""
			if len(act) > 1 {
				label = Truncate(OneLine(s.Name), 40)
			}
			blocks = append(blocks, decisionButtons("offer_decide_"+strconv.FormatInt(s.ID, 10), s.ID, label))
		}
	}
	blocks = append(blocks, ContextBlock("offer_footer", "Submitted "+v.SubmittedAt.UTC().Format("Jan 2 15:04 UTC")+
		" · only the approvers named for a step can decide it · account summary and decisions in this thread"))
	text := "Offer #" + strconv.FormatInt(v.RequestID, 10) + " for " + UserText(AccountLabel(v.AccountName, v.AccountID), MaxNameLen) +
		": " + v.offerText() + " — " + plainStatus(v)
	return Finish(text, blocks, MaxMessageBlocks)
}

func plainStatus(v OfferView) string {
	return strings.NewReplacer("*", "").Replace(v.statusLine())
}

// OfferApproverDM is the message an approver gets for a step: the offer
// and its impact, and the decision buttons while the step waits for them.
// Re-rendered when the step is decided or taken out of play, it says so
// and drops the buttons.
func OfferApproverDM(v OfferView, step OfferStepView, escalated bool) Message {
	open := step.Status == "pending" && v.Status == "pending"
	where := "*" + UserText(step.Name, MaxNameLen) + "* (stage " + Itoa(step.Stage+1) + " of " + Itoa(v.stages()) + ")"
	intro := "Approval request for " + where + "."
	if open {
		intro = "Your decision is needed as " + where + "."
		if step.SLA > 0 {
			intro += " SLA " + DurationText(step.SLA) + "."
		}
		if escalated {
			intro = "⏫ Escalated to you as backup for *" + UserText(step.Name, MaxNameLen) + "*: it has waited past its SLA."
		}
	}
	blocks := []slack.Block{
		Header("offer_dm_header", "Approval: "+Truncate(OneLine(v.title()), MaxHeaderText-10)),
		Section("offer_dm_intro", intro),
		FieldsSection("offer_dm_facts", v.impactFields()...),
	}
	if r := v.reasons(); r != "" {
		blocks = append(blocks, Section("offer_dm_reasons", r))
	}
	if sum := strings.TrimSpace(v.Summary); sum != "" && open {
		blocks = append(blocks, Section("offer_dm_summary", "*Account summary*\n"+UserText(sum, 1000)))
	}
	state := ""
	switch {
	case open:
		blocks = append(blocks, decisionButtons("offer_dm_decide", step.ID, ""))
	case step.Status == "superseded":
		state = "↩️ Replaced by version " + Itoa(v.Version) + "; its approval request comes in a new message."
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
		blocks = append(blocks, Section("offer_dm_state", state))
	}
	channel := "the approvals channel"
	if slackid.Channel(v.ApprovalsChannel) {
		channel = "<#" + v.ApprovalsChannel + ">"
	}
	blocks = append(blocks, ContextBlock("offer_dm_footer", "Account summary and the decision trail: the offer's thread in "+channel+"."))
	text := "Approval needed: " + UserText(v.title(), MaxNameLen+20) + " — " + v.offerText()
	if state != "" {
		text = UserText(v.title(), MaxNameLen+20) + ": " + strings.NewReplacer("*", "").Replace(state)
	}
	return Finish(text, blocks, MaxMessageBlocks)
}

// OfferSummaryView is the account summary approvers read in the thread:
// Offer is the version it is about (Offer.Summary is the model's or the
// template's text).
type OfferSummaryView struct {
	Offer   OfferView
	Brief   offers.Brief
	ByModel bool
}

// OfferSummary is posted in the request's thread for each version: the
// written summary, then the facts it rests on.
func OfferSummary(s OfferSummaryView) Message {
	b, v := s.Brief, s.Offer
	title := "*Account summary* · version " + Itoa(v.Version)
	blocks := []slack.Block{Section("offer_summary_text", title+"\n"+UserText(v.Summary, maxOfferSummaryShown))}
	health := "Not scored"
	if b.Score != nil {
		health = BandEmoji(scoring.Band(b.Band)) + " " + Itoa(*b.Score) + "/100 " + BandLabel(scoring.Band(b.Band))
		if b.ScoreChange != nil {
			health += " (" + Signed(*b.ScoreChange) + " in 30 days)"
		}
	}
	nps := "No answer"
	if b.NPS != nil {
		nps = strconv.FormatFloat(b.NPS.Score, 'f', -1, 64) + " on " + Date(b.NPS.At)
	}
	blocks = append(blocks, FieldsSection("offer_summary_facts",
		[2]string{"Health", health},
		[2]string{"ARR", Money(b.ARR)},
		[2]string{"Renewal", Renewal(b.RenewalDate, v.Now)},
		[2]string{"NPS", nps},
		[2]string{"Tickets (30 days)", Itoa(b.Tickets30d)},
		[2]string{"Owner", UserRef(b.Owner, "No owner")},
	))
	if len(b.Drivers) > 0 {
		lines := make([]string, 0, len(b.Drivers))
		for _, d := range b.Drivers {
			lines = append(lines, UserText(d.Text, MaxDetailLen)+": *"+PointsText(d.Points)+"*")
		}
		blocks = append(blocks, Section("offer_summary_drivers", BulletList("*Health drivers*", lines, 1500)))
	}
	if len(b.Timeline) > 0 {
		lines := make([]string, 0, len(b.Timeline))
		for _, e := range b.Timeline {
			lines = append(lines, Date(e.At)+" · "+EntryText(TimelineEntry{Kind: e.Kind, Summary: e.Summary}, 200))
		}
		blocks = append(blocks, Section("offer_summary_timeline", BulletList("*Recent history*", lines, 2000)))
	}
	var past []string
	for _, p := range b.PreviousOffers {
		if p.ID == v.RequestID {
			continue
		}
		past = append(past, "#"+strconv.FormatInt(p.ID, 10)+" "+Date(p.At)+" · "+UserText(p.Offer, 150)+" · "+UserText(p.Result(), 100))
	}
	if len(past) > 0 {
		blocks = append(blocks, Section("offer_summary_past", BulletList("*Previous offers*", past, 1500)))
	} else {
		blocks = append(blocks, Section("offer_summary_past", "*Previous offers*\nNone."))
	}
	im := v.Impact
	blocks = append(blocks, Section("offer_summary_impact", "*Financial impact*\nOffer cost *"+Money(im.Cost)+"* ("+
		offers.Pct(im.CostPctOfARR)+" of ARR) against *"+Money(im.RevenueRetained)+"* retained ("+Money(im.ARR)+" ARR × "+
		strconv.FormatFloat(im.RemainingMonths, 'f', -1, 64)+" months remaining term) · net "+Money(im.Net())))
	source := "Summary from a template over the account's records."
	if s.ByModel {
		source = "Summary written by a language model from the facts shown here; figures are computed by Holdfast."
	}
	blocks = append(blocks, ContextBlock("offer_summary_source", source))
	text := "Account summary for offer #" + strconv.FormatInt(v.RequestID, 10) + ": " + UserText(v.Summary, 300)
	return Finish(text, blocks, MaxMessageBlocks)
}

// offerNote is a short line in the request's thread (a decision, a stage
// starting, a reminder). text must be mrkdwn-safe (built here).
func offerNote(id, text string, extra ...slack.Block) Message {
	blocks := append([]slack.Block{Section(id, text)}, extra...)
	return Finish(text, blocks, MaxMessageBlocks)
}

// OfferDecisionNote records one decision in the thread; a revision request
// tags the requester and gives them the Revise button.
func OfferDecisionNote(v OfferView, step OfferStepView) Message {
	who := UserRef(step.DecidedBy, "?")
	name := "*" + UserText(step.Name, MaxNameLen) + "*"
	guidance := ""
	if g := strings.TrimSpace(step.Guidance); g != "" {
		guidance = "\n>" + UserText(g, maxOfferTextShown)
	}
	switch step.Status {
	case "approved":
		return offerNote("offer_note_decision", "✅ "+name+" approved — "+who+took(step))
	case "rejected":
		return offerNote("offer_note_decision", "❌ "+name+" rejected the offer — "+who+guidance)
	case "revision_requested":
		id := strconv.FormatInt(v.RequestID, 10)
		return offerNote("offer_note_decision", "✋ "+name+" asks for a revision — "+who+guidance+"\n"+
			UserRef(v.RequestedBy, "The requester")+", please revise and resubmit; earlier approvals will not carry over.",
			Actions("offer_note_actions", Button(ActionOfferEditPrefix+id, id, "Revise offer").WithStyle(slack.StylePrimary)))
	}
	return offerNote("offer_note_decision", name+" · "+UserText(step.Status, 40))
}

// OfferStageNote says a new stage started.
func OfferStageNote(v OfferView, started []OfferStepView) Message {
	if len(started) == 0 {
		return offerNote("offer_note_stage", "➡️ Next stage started.")
	}
	lines := make([]string, len(started))
	for i, s := range started {
		lines[i] = "*" + UserText(s.Name, MaxNameLen) + "* · " + people(s.Approvers)
	}
	return offerNote("offer_note_stage", "➡️ Stage "+Itoa(started[0].Stage+1)+" of "+Itoa(v.stages())+" ("+
		UserText(started[0].StageName, MaxNameLen)+"): waiting for\n"+strings.Join(lines, "\n"))
}

// OfferApprovedNote closes the approval in the thread with the whole trail.
func OfferApprovedNote(v OfferView) Message {
	return offerNote("offer_note_approved", BulletList("🎉 *Approved:* "+v.offerText()+". "+UserRef(v.RequestedBy, "The requester")+
		" has the authorized terms.\n*Decision trail*", trailLines(v.Trail), MaxSectionText))
}

func trailLines(trail []OfferTrailEntry) []string {
	lines := make([]string, 0, len(trail))
	for _, d := range trail {
		line := d.At.UTC().Format("Jan 2 15:04 UTC") + " · v" + Itoa(d.Version) + " · "
		switch d.Action {
		case "approve":
			line += UserText(d.Step, MaxNameLen) + " approved (" + UserRef(d.Actor, "?") + ")"
		case "reject":
			line += UserText(d.Step, MaxNameLen) + " rejected (" + UserRef(d.Actor, "?") + ")"
		case "revise":
			line += UserText(d.Step, MaxNameLen) + " asked for a revision (" + UserRef(d.Actor, "?") + ")"
		case "answer":
			line += "customer " + UserText(d.Answer, 20) + " (" + UserRef(d.Actor, "?") + ")"
		default:
			line += UserText(d.Action, 20)
		}
		if g := strings.TrimSpace(d.Guidance); g != "" {
			line += ": " + UserText(g, 200)
		}
		lines = append(lines, line)
	}
	return lines
}

// OfferRevisedNote announces a new version in the thread, with what changed.
func OfferRevisedNote(v OfferView, prev offers.Offer) Message {
	changes := offerChanges(prev, v.Offer)
	text := "📝 *Version " + Itoa(v.Version) + "* submitted by " + UserRef(v.RequestedBy, "the requester") + ": " + v.offerText()
	if len(changes) > 0 {
		text += "\nChanged: " + strings.Join(changes, "; ")
	}
	text += "\nApprovals of earlier versions do not carry over."
	return offerNote("offer_note_revised", text)
}

func offerChanges(a, b offers.Offer) []string {
	var out []string
	if a.Describe() != b.Describe() {
		out = append(out, UserText(a.Describe(), 150)+" → "+UserText(b.Describe(), 150))
	}
	if a.Justification != b.Justification {
		out = append(out, "justification")
	}
	if a.Competitor != b.Competitor {
		out = append(out, "competitor")
	}
	if a.Terms != b.Terms && a.Type == b.Type && b.Type != offers.ContractModification {
		out = append(out, "terms")
	}
	return out
}

// OfferNudgeNote records an SLA reminder in the thread.
func OfferNudgeNote(step OfferStepView, waited time.Duration) Message {
	return offerNote("offer_note_nudge", "⏰ *"+UserText(step.Name, MaxNameLen)+"* has waited "+DurationText(waited)+
		" (SLA "+DurationText(step.SLA)+"): reminded "+people(step.Approvers)+".")
}

// OfferEscalationNote records an escalation in the thread.
func OfferEscalationNote(step OfferStepView, waited time.Duration) Message {
	return offerNote("offer_note_escalation", "⏫ *"+UserText(step.Name, MaxNameLen)+"* has waited "+DurationText(waited)+
		": escalated to "+UserRef(step.Backup, "the backup")+", who can now decide it too.")
}

// OfferReminderDM nudges an approver.
func OfferReminderDM(v OfferView, step OfferStepView, waited time.Duration) Message {
	return offerNote("offer_reminder", "⏰ Reminder: *"+UserText(v.title(), MaxNameLen+20)+"* ("+v.offerText()+") has waited "+
		DurationText(waited)+" for your decision as *"+UserText(step.Name, MaxNameLen)+"* (SLA "+DurationText(step.SLA)+
		"). The buttons are in the approval message above.")
}

// OfferSubmittedDM confirms a submission to the requester.
func OfferSubmittedDM(v OfferView) Message {
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
		route[len(route)-1] += UserText(s.Name, MaxNameLen)
	}
	verb := "Submitted"
	if v.Version > 1 {
		verb = "Resubmitted (version " + Itoa(v.Version) + ")"
	}
	return offerNote("offer_submitted", "📨 "+verb+" *"+UserText(v.title(), MaxNameLen+20)+"*: "+v.offerText()+
		"\nRoute: "+strings.Join(route, " → ")+". You'll hear here when it is decided.")
}

// OfferTermsDM tells the requester the authorized terms and asks for the
// customer's answer; re-rendered once answered, without the buttons.
func OfferTermsDM(v OfferView) Message {
	id := strconv.FormatInt(v.RequestID, 10)
	blocks := []slack.Block{
		Section("offer_terms", "✅ *"+UserText(v.title(), MaxNameLen+20)+"* is approved.\n*Authorized terms:* "+v.offerText()),
		FieldsSection("offer_terms_facts", v.impactFields()[2:]...),
	}
	switch v.CustomerAnswer {
	case "":
		blocks = append(blocks, Section("offer_terms_ask", "When the customer answers, record it here:"),
			Actions("offer_answer",
				Button(ActionOfferAnswerPrefix+"accepted", id, "Accepted").WithStyle(slack.StylePrimary),
				Button(ActionOfferAnswerPrefix+"declined", id, "Declined"),
				Button(ActionOfferAnswerPrefix+"countered", id, "Countered")))
	case "countered":
		line := "Customer countered"
		if n := strings.TrimSpace(v.AnswerNote); n != "" {
			line += ": " + UserText(n, maxOfferTextShown)
		}
		blocks = append(blocks, Section("offer_terms_answer", line),
			Actions("offer_terms_actions", Button(ActionOfferEditPrefix+id, id, "Revise offer")))
	default:
		blocks = append(blocks, Section("offer_terms_answer", "Customer "+UserText(v.CustomerAnswer, 20)+"."))
	}
	return Finish("Approved: "+UserText(v.title(), MaxNameLen+20)+" — "+v.offerText(), blocks, MaxMessageBlocks)
}

// OfferClosedDM tells the requester their offer was rejected or sent back.
func OfferClosedDM(v OfferView, step OfferStepView) Message {
	id := strconv.FormatInt(v.RequestID, 10)
	guidance := ""
	if g := strings.TrimSpace(step.Guidance); g != "" {
		guidance = "\n>" + UserText(g, maxOfferTextShown)
	}
	if step.Status == "rejected" {
		return offerNote("offer_closed", "❌ *"+UserText(v.title(), MaxNameLen+20)+"* ("+v.offerText()+") was rejected by *"+
			UserText(step.Name, MaxNameLen)+"* ("+UserRef(step.DecidedBy, "?")+")."+guidance)
	}
	return offerNote("offer_closed", "✋ *"+UserText(step.Name, MaxNameLen)+"* ("+UserRef(step.DecidedBy, "?")+") asks you to revise *"+
		UserText(v.title(), MaxNameLen+20)+"* ("+v.offerText()+")."+guidance,
		Actions("offer_closed_actions", Button(ActionOfferEditPrefix+id, id, "Revise offer").WithStyle(slack.StylePrimary)))
}

// OfferAnswerNote records the customer's answer in the thread.
func OfferAnswerNote(v OfferView) Message {
	icon := map[string]string{"accepted": "🤝", "declined": "🚫", "countered": "↔️"}[v.CustomerAnswer]
	text := icon + " Customer *" + UserText(v.CustomerAnswer, 20) + "* (recorded by " + UserRef(v.RequestedBy, "the CSM") + ")"
	if n := strings.TrimSpace(v.AnswerNote); n != "" {
		text += ": " + UserText(n, maxOfferTextShown)
	}
	if v.CustomerAnswer == "accepted" {
		text += ". Tracked to the renewal"
		if v.RenewalDate != nil {
			text += " on " + Date(*v.RenewalDate)
		}
		text += "."
	}
	return offerNote("offer_note_answer", text)
}

// OfferOutcomeNote records the renewal outcome of an accepted offer.
func OfferOutcomeNote(v OfferView) Message {
	if v.RenewalOutcome == "renewed" {
		return offerNote("offer_note_outcome", "📈 Renewal outcome: *renewed*. The offer saved the account.")
	}
	return offerNote("offer_note_outcome", "📉 Renewal outcome: *"+UserText(v.RenewalOutcome, 20)+"*.")
}

// OfferRefusal is the polite ephemeral answer to a click that changed nothing.
func OfferRefusal(reason string, step OfferStepView, version int) Message {
	var text string
	switch reason {
	case "not_approver":
		text = "🔒 Only the approvers named for *" + UserText(step.Name, MaxNameLen) + "* (" + people(step.Approvers) +
			") can decide this step. Nothing was changed."
	case "own_request":
		text = "🔒 You proposed this offer, so someone else has to approve it. Nothing was changed."
	case "already_decided":
		text = "👍 This step was already decided: " + stepLine(step, time.Time{}) + ". Nothing was changed."
	case "old_version":
		text = "↩️ This request has been revised (now version " + Itoa(version) + "); these buttons belong to an earlier version. " +
			"The new version's approval request is in a newer message. Nothing was changed."
	case "not_active":
		text = "⏳ *" + UserText(step.Name, MaxNameLen) + "* starts after the earlier stage is approved. Nothing was changed."
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
	return Finish(text, []slack.Block{Section("offer_refusal", text)}, MaxMessageBlocks)
}

// DurationText: "45s", "35m", "4h", "4h 30m", "2d 3h".
func DurationText(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return Itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		return Itoa(int(d/time.Minute)) + "m"
	case d < 24*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return Itoa(h) + "h"
		}
		return Itoa(h) + "h " + Itoa(m) + "m"
	}
	days, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	if h == 0 {
		return Itoa(days) + "d"
	}
	return Itoa(days) + "d " + Itoa(h) + "h"
}

// ---- lists: /offers, App Home ----

// PendingApprovalRow is one step waiting for the viewer's decision.
type PendingApprovalRow struct {
	StepID      int64
	StepName    string
	RequestID   int64
	AccountName string
	RequestedBy string
	Offer       offers.Offer
	Impact      offers.Impact
	WaitingFor  time.Duration
	SLA         time.Duration
	Escalated   bool // the viewer decides as the backup
}

const maxPendingRows = 15

// PendingApprovalsTitle heads the list wherever it is shown.
const PendingApprovalsTitle = "Offers waiting for your approval"

// PendingApprovals lists the steps waiting for the viewer's decision, each
// with its buttons, without a header (the App Home section has a title;
// OffersList adds one): up to 15 rows of 2 blocks, then "…and N more".
// Empty input gives one line saying nothing waits.
func PendingApprovals(rows []PendingApprovalRow) []slack.Block {
	var blocks []slack.Block
	if len(rows) == 0 {
		return append(blocks, Section("offers_pending_none", "Nothing waits for your decision. 🎉"))
	}
	for _, r := range rows[:min(len(rows), maxPendingRows)] {
		id := strconv.FormatInt(r.StepID, 10)
		line := "*Offer #" + strconv.FormatInt(r.RequestID, 10) + " · " + UserText(r.AccountName, MaxNameLen) + "* · " +
			UserText(r.Offer.Describe(), 200) + "\nAs *" + UserText(r.StepName, MaxNameLen) + "*"
		if r.Escalated {
			line += " (escalated to you)"
		}
		line += " · " + Money(r.Impact.Cost) + " (" + offers.Pct(r.Impact.CostPctOfARR) + " of ARR) · from " +
			UserRef(r.RequestedBy, "?") + " · waiting " + DurationText(r.WaitingFor)
		if r.SLA > 0 && r.WaitingFor > r.SLA {
			line += " ⚠️ past SLA " + DurationText(r.SLA)
		}
		blocks = append(blocks, Section("offers_pending_"+id, line), decisionButtons("offers_pending_actions_"+id, r.StepID, ""))
	}
	if len(rows) > maxPendingRows {
		blocks = append(blocks, ContextBlock("offers_pending_more", "More are waiting for you: /offers pending"))
	}
	return blocks
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
				n += TextLen(b.Text.Text)
			}
			for _, f := range b.Fields {
				n += TextLen(f.Text)
			}
		case *slack.HeaderBlock:
			n += TextLen(b.Text.Text)
		case *slack.ContextBlock:
			for _, el := range b.ContextElements.Elements {
				if t, ok := el.(*slack.TextBlockObject); ok {
					n += TextLen(t.Text)
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

// OffersListView is the /offers pending answer.
type OffersListView struct {
	Mine  []PendingApprovalRow // waiting for the viewer
	Open  []OfferView          // every open request, oldest first
	Total int                  // open requests in all
}

// OffersList builds /offers pending: what waits for the viewer (with
// buttons), then every open request and who it waits for.
func OffersList(v OffersListView) Message {
	var blocks []slack.Block
	if len(v.Mine) > 0 {
		mine := v.Mine[:min(len(v.Mine), maxListMine)]
		blocks = append(blocks, Header("offers_pending_header", PendingApprovalsTitle))
		blocks = append(blocks, PendingApprovals(mine)...)
		if len(v.Mine) > len(mine) {
			blocks = append(blocks, ContextBlock("offers_pending_mine_more", "More are waiting for you: the App Home lists them with their buttons."))
		}
		blocks = append(blocks, slack.NewDividerBlock())
	}
	total := max(v.Total, len(v.Open))
	if total == 0 {
		blocks = append(blocks, Section("offers_open_none", "No offers are waiting for approval."))
		return Finish("No offers are waiting for approval.", blocks, MaxMessageBlocks)
	}
	blocks = append(blocks, Header("offers_open_header", "Open offers ("+Itoa(total)+")"))
	budget := listBudget - blocksText(blocks)
	shown := 0
	for i, o := range v.Open[:min(len(v.Open), 15)] {
		line := "*#" + strconv.FormatInt(o.RequestID, 10) + " " + UserText(AccountLabel(o.AccountName, o.AccountID), MaxNameLen) +
			"* · " + o.offerText() + " · " + UserRef(o.RequestedBy, "?") + "\n" + o.statusLine()
		for _, s := range o.active() {
			line += "\n   " + stepLine(s, o.Now)
		}
		line = TruncateMrkdwn(line, 1200)
		if budget -= TextLen(line); budget < 0 {
			break
		}
		blocks = append(blocks, slack.NewSectionBlock(Mrkdwn(line, 1200), nil, nil, slack.SectionBlockOptionBlockID("offers_open_"+Itoa(i))))
		shown++
	}
	if more := total - shown; more > 0 {
		blocks = append(blocks, ContextBlock("offers_open_more", "…and "+Itoa(more)+" more"))
	}
	text := Plural(total, "offer", "offers") + " waiting for approval"
	if len(v.Mine) > 0 {
		text += ", " + Itoa(len(v.Mine)) + " for you"
	}
	return Finish(text, blocks, MaxMessageBlocks)
}

// MaxOfferHistory is how many requests /offers <account> lists.
const MaxOfferHistory = 10

// OfferAccountHistory is /offers <account>: the latest requests with their
// trails (pass up to MaxOfferHistory+1 so it can say there are more).
func OfferAccountHistory(accountName string, accountID int64, list []OfferView) Message {
	name := UserText(accountName, MaxNameLen)
	if len(list) == 0 {
		return Info("No retention offers recorded for *" + name + "* yet. Propose one with /offer.")
	}
	blocks := []slack.Block{Header("offers_account_header", "Offers for "+Truncate(OneLine(accountName), MaxNameLen))}
	budget := listBudget - blocksText(blocks)
	shown := 0
	for i, o := range list[:min(len(list), MaxOfferHistory)] {
		head := "*#" + strconv.FormatInt(o.RequestID, 10) + "* " + o.SubmittedAt.UTC().Format("Jan 2, 2006") + " · " +
			o.offerText() + " · " + UserRef(o.RequestedBy, "?") + "\n" + o.statusLine()
		text := TruncateMrkdwn(BulletList(head, trailLines(o.Trail), 1500), 1500)
		if budget -= TextLen(text); budget < 0 {
			break
		}
		blocks = append(blocks, slack.NewSectionBlock(Mrkdwn(text, 1500), nil, nil, slack.SectionBlockOptionBlockID("offers_account_"+Itoa(i))))
		shown++
	}
	switch {
	case len(list) > MaxOfferHistory:
		// The caller reads one more than is shown to know there are more,
		// not how many.
		blocks = append(blocks, ContextBlock("offers_account_more", "Showing the latest "+Itoa(shown)+"; older offers are not listed."))
	case shown < len(list):
		blocks = append(blocks, ContextBlock("offers_account_more", "Showing the latest "+Itoa(shown)+" of "+Itoa(len(list))))
	}
	return Finish(Plural(len(list), "offer", "offers")+" for "+name, blocks, MaxMessageBlocks)
}

// OfferStats is /offers stats.
func OfferStats(st offers.Stats, since time.Time) Message {
	if st.Total.Requests == 0 {
		return Info("No offers since " + Date(since) + " yet.")
	}
	rate := func(r float64, ok bool, n int) string {
		if !ok {
			return "—"
		}
		return strconv.Itoa(int(r*100+0.5)) + "% (" + Itoa(n) + ")"
	}
	lines := make([]string, 0, len(st.Groups))
	for _, g := range st.Groups[:min(len(st.Groups), 40)] {
		acc, aok := g.AcceptanceRate()
		save, sok := g.SaveRate()
		lines = append(lines, "*"+UserText(g.Type.Label(), 40)+" · "+UserText(g.Band, 20)+"* — "+Plural(g.Requests, "request", "requests")+
			", "+Itoa(g.Approved)+" approved · acceptance "+rate(acc, aok, g.Answered)+" · save "+rate(save, sok, g.Tracked))
	}
	acc, aok := st.Total.AcceptanceRate()
	save, sok := st.Total.SaveRate()
	median := "—"
	if st.ApprovedRequests > 0 {
		median = DurationText(st.MedianApproval) + " over " + Plural(st.ApprovedRequests, "approval", "approvals")
	}
	blocks := []slack.Block{
		Header("offers_stats_header", "Retention offers since "+Date(since)),
		FieldsSection("offers_stats_total",
			[2]string{"Requests", Itoa(st.Total.Requests)},
			[2]string{"Approved / rejected", Itoa(st.Total.Approved) + " / " + Itoa(st.Total.Rejected)},
			[2]string{"Acceptance rate", rate(acc, aok, st.Total.Answered)},
			[2]string{"Save rate", rate(save, sok, st.Total.Tracked)},
			[2]string{"Median time to approval", median},
		),
		Section("offers_stats_groups", BulletList("*By offer type and discount band*", lines, MaxSectionText)),
	}
	if len(st.Steps) > 0 {
		steps := make([]string, 0, len(st.Steps))
		for _, s := range st.Steps[:min(len(st.Steps), 30)] {
			steps = append(steps, UserText(s.Name, MaxNameLen)+": median "+DurationText(s.Median)+" over "+Plural(s.N, "decision", "decisions"))
		}
		blocks = append(blocks, Section("offers_stats_steps", BulletList("*Time to decision per step*", steps, MaxSectionText)))
	}
	blocks = append(blocks, ContextBlock("offers_stats_help", "Acceptance: accepted ÷ answered approved offers. "+
		"Save: accepted offers whose account renewed ÷ accepted offers whose renewal is decided. Bands use the discount, or an offer's cost as % of ARR."))
	return Finish("Offers since "+Date(since)+": "+Itoa(st.Total.Requests)+" requests, acceptance "+rate(acc, aok, st.Total.Answered)+
		", save "+rate(save, sok, st.Total.Tracked)+", median approval "+median, blocks, MaxMessageBlocks)
}
