package blocks

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/holdfast/holdfast/slackid"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/rooms"
)

// Caps on deal text inside the handoff card, chosen so the fullest card
// stays far below Slack's ~12k characters of block text per message.
const (
	maxDealLine     = 300
	maxDealLong     = 1200
	maxPromiseLine  = 300
	maxCardPromises = 10
	maxSummaryShown = 1500
)

// channelRef renders a channel as a link when the id is well formed.
func channelRef(id, name string) string {
	if slackid.Channel(id) {
		return "<#" + id + ">"
	}
	if name != "" {
		return "#" + UserText(name, 80)
	}
	return "its channel"
}

// HandoffView is what the handoff card shows.
type HandoffView struct {
	AccountName string
	ExternalID  string
	OwnerCSM    string // Slack user id
	Deal        rooms.Deal
	Now         time.Time
}

// HandoffCard builds the pinned handoff card: who decided and who
// champions, why they bought, what Sales promised, concerns and
// competitors, the commercial facts; and, until the won deal review is
// done, what is still missing.
func HandoffCard(v HandoffView) Message {
	d := v.Deal
	name := Truncate(OneLine(AccountLabel(v.AccountName, d.AccountID)), MaxNameLen)
	blocks := []slack.Block{Header("handoff_header", "🤝 Handoff: "+name)}

	intro := "*" + UserText(firstText(d.Name, "New business"), MaxNameLen) + "* closed-won"
	if d.ClosedAt != nil {
		intro += " on " + Date(d.ClosedAt.UTC())
	}
	if d.AE != "" {
		intro += " by " + UserRef(d.AE, "")
	}
	intro += ".\nCustomer Success owner: " + UserRef(firstText(d.OwnerCSM, v.OwnerCSM), "_not assigned_") + "."
	blocks = append(blocks, Section("handoff_intro", intro))

	unknown := "_not known yet_"
	arr, term, renew := unknown, unknown, unknown
	if d.ARR != nil {
		arr = Money(*d.ARR)
	}
	if d.TermMonths > 0 {
		term = rooms.TermText(d.TermMonths)
	}
	if d.RenewalDate != nil {
		renew = Renewal(d.RenewalDate, v.Now)
	}
	blocks = append(blocks, FieldsSection("handoff_facts",
		[2]string{"ARR", arr}, [2]string{"Term", term}, [2]string{"Renewal", renew},
		[2]string{"Segment", orUnknown(d.Segment, unknown)},
		[2]string{"Decision maker", orUnknown(d.DecisionMaker, unknown)},
		[2]string{"Champion", championText(d, unknown)},
	))
	blocks = append(blocks, Section("handoff_reason", "*Why they bought*\n"+orUnknown(d.CloseReason, unknown)))
	blocks = append(blocks, Section("handoff_promises", promisesText(d)))
	concerns := unknown
	if d.ConcernsKnown {
		concerns = orUnknown(d.ProductConcerns, "None raised")
	}
	competitors := unknown
	if d.CompetitorsKnown {
		competitors = "None"
		if len(d.Competitors) > 0 {
			names := make([]string, 0, len(d.Competitors))
			for _, c := range d.Competitors {
				names = append(names, UserText(c, 100))
			}
			competitors = strings.Join(names, ", ")
		}
	}
	blocks = append(blocks, FieldsSection("handoff_context",
		[2]string{"Product concerns", concerns}, [2]string{"Competitors evaluated", competitors}))

	missing := d.Missing()
	if len(missing) > 0 {
		labels := make([]string, len(missing))
		for i, f := range missing {
			labels[i] = f.Label()
		}
		ask := "the AE"
		if d.AE != "" {
			ask = UserRef(d.AE, "")
		}
		blocks = append(blocks, Section("handoff_missing",
			"⚠️ *Still missing:* "+strings.Join(labels, ", ")+"\n"+ask+" has been asked to fill these in (won deal review)."))
	} else {
		done := "✅ Handoff complete"
		if d.ReviewedBy != "" {
			done += " · reviewed by " + UserRef(d.ReviewedBy, "")
			if d.ReviewedAt != nil {
				done += " on " + Date(d.ReviewedAt.UTC())
			}
		}
		blocks = append(blocks, ContextBlock("handoff_complete", done))
	}
	if d.ExternalID != "" {
		blocks = append(blocks, ContextBlock("handoff_ref", "CRM deal "+UserText(d.ExternalID, MaxIDLen)))
	}

	text := "Handoff: " + UserText(name, MaxNameLen)
	if len(missing) > 0 {
		text += " (" + Plural(len(missing), "field", "fields") + " missing)"
	}
	return Finish(text, blocks, MaxMessageBlocks)
}

func championText(d rooms.Deal, unknown string) string {
	if strings.TrimSpace(d.Champion) == "" {
		return unknown
	}
	s := UserText(d.Champion, maxDealLine)
	if t := strings.TrimSpace(d.ChampionTitle); t != "" {
		s += ", " + UserText(t, maxDealLine)
	}
	if m, ok := d.ChampionTenureMonths(); ok {
		s += "\n" + rooms.TenureText(m) + " in role at close"
		if m < rooms.NewInRole {
			s += " ⚠️ new in role"
		}
	} else {
		s += "\ntime in role: " + unknown
	}
	return s
}

func promisesText(d rooms.Deal) string {
	title := "*Promises made during the sale*"
	switch {
	case !d.PromisesKnown && len(d.Promises) == 0:
		return title + "\n_not known yet_"
	case len(d.Promises) == 0:
		return title + "\nNone"
	}
	lines := make([]string, 0, min(len(d.Promises), maxCardPromises))
	for _, p := range d.Promises[:min(len(d.Promises), maxCardPromises)] {
		lines = append(lines, promiseLine(p))
	}
	s := BulletList(title, lines, MaxSectionText-40)
	if n := len(d.Promises) - maxCardPromises; n > 0 {
		s += "\n…and " + Itoa(n) + " more"
	}
	return s
}

func promiseLine(p rooms.Promise) string {
	line := "*" + p.Kind.Label() + ":* " + UserText(p.Text, maxPromiseLine)
	if p.Due != nil {
		line += " — due " + Date(p.Due.UTC())
	}
	return line
}

func orUnknown(s, unknown string) string {
	if strings.TrimSpace(s) == "" {
		return unknown
	}
	return UserText(s, maxDealLong)
}

func firstText(v ...string) string {
	for _, s := range v {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

// ReviewRequestView is the DM asking the AE for the missing fields.
type ReviewRequestView struct {
	AccountName string
	DealID      int64
	DealName    string
	RoomID      string // the account's room
	Missing     []rooms.Field
}

// ReviewRequest builds the AE's DM: what is missing and a button that
// opens the won deal review, pre-filled with what the CRM sent.
func ReviewRequest(v ReviewRequestView) Message {
	name := Truncate(OneLine(v.AccountName), MaxNameLen)
	labels := make([]string, len(v.Missing))
	for i, f := range v.Missing {
		labels[i] = f.Label()
	}
	body := "Congrats on closing *" + UserText(firstText(v.DealName, name), MaxNameLen) + "*! 🎉\n" +
		"Customer Success picks it up in " + channelRef(v.RoomID, "") + ". Before the kickoff they need a few more things from you:"
	blocks := []slack.Block{
		Header("review_header", "Won deal review: "+name),
		Section("review_body", BulletList(body, labels, MaxSectionText)),
		Actions("review_actions", Button(ActionReviewOpen, strconv.FormatInt(v.DealID, 10), "Complete the review").
			WithStyle(slack.StylePrimary)),
		ContextBlock("review_note", "It takes about two minutes; the room's handoff card updates when you save."),
	}
	return Finish("Won deal review for "+UserText(name, MaxNameLen)+": "+Plural(len(v.Missing), "field", "fields")+" missing",
		blocks, MaxMessageBlocks)
}

// ReviewDone replaces the review request once it is complete.
func ReviewDone(accountName, roomID string) Message {
	name := UserText(Truncate(OneLine(accountName), MaxNameLen), MaxNameLen)
	text := "✅ Thanks! The won deal review for *" + name + "* is complete; the handoff card in " +
		channelRef(roomID, "") + " is up to date."
	return Finish("Won deal review for "+name+" complete", []slack.Block{Section("review_done", text)}, MaxMessageBlocks)
}

// Review modal block ids. Each input's action id is its block id + "_in".
const (
	rvDecisionMaker = "rv_dm"
	rvChampion      = "rv_champion"
	rvChampionTitle = "rv_champion_title"
	rvChampionSince = "rv_champion_since"
	rvCloseReason   = "rv_close_reason"
	rvConcerns      = "rv_concerns"
	rvCompetitors   = "rv_competitors"
	rvARR           = "rv_arr"
	rvTerm          = "rv_term"
	rvRenewal       = "rv_renewal"
	rvSegment       = "rv_segment"
	rvPromisePrefix = "rv_p" // rv_p<i>_kind, rv_p<i>_text, rv_p<i>_due
	maxPromiseSlots = 8
	minPromiseSlots = 3
)

// ReviewModalView pre-fills the won deal review.
type ReviewModalView struct {
	AccountName string
	Deal        rooms.Deal
}

// ReviewModal builds the won deal review: every handoff field, filled with
// what is known, the required ones marked so; promises as up to eight
// structured rows (kind, what, due).
func ReviewModal(v ReviewModalView) slack.ModalViewRequest {
	d := v.Deal
	blocks := []slack.Block{
		Section("rv_intro", "*"+UserText(AccountLabel(v.AccountName, d.AccountID), MaxNameLen)+"* · "+
			UserText(firstText(d.Name, "won deal"), MaxNameLen)+"\nWhat you know now saves CS weeks of rediscovery."),
		textInput(rvDecisionMaker, "Decision maker", "Name, title", d.DecisionMaker, false, true),
		textInput(rvChampion, "Champion", "Name", d.Champion, false, true),
		textInput(rvChampionTitle, "Champion's title", "e.g. Head of Operations", d.ChampionTitle, false, false),
		dateInput(rvChampionSince, "Champion in this role since", d.ChampionRoleSince, true),
		textInput(rvCloseReason, "Why they bought", "The problem we solve for them, in their words", d.CloseReason, true, true),
	}
	blocks = append(blocks, Section("rv_promises_title",
		"*Promises made during the sale*\nFeatures, timelines, integrations. Leave the rows empty if nothing was promised."))
	slots := max(minPromiseSlots, min(maxPromiseSlots, len(d.Promises)+1))
	for i := range slots {
		var p rooms.Promise
		if i < len(d.Promises) {
			p = d.Promises[i]
		}
		n := " " + Itoa(i+1)
		blocks = append(blocks,
			kindInput(promiseBlock(i, "kind"), "Promise"+n+": kind", p.Kind),
			textInput(promiseBlock(i, "text"), "Promise"+n+": what", "e.g. SSO with Okta", p.Text, false, false),
			dateInput(promiseBlock(i, "due"), "Promise"+n+": due", p.Due, false))
	}
	concerns := ""
	if d.ConcernsKnown {
		concerns = d.ProductConcerns
	}
	blocks = append(blocks,
		textInput(rvConcerns, "Product concerns", "Leave empty if none were raised", concerns, true, false),
		textInput(rvCompetitors, "Competitors evaluated", "Comma-separated; empty if none", strings.Join(d.Competitors, ", "), false, false),
		numberInput(rvARR, "ARR (USD)", d.ARR, true),
		numberInput(rvTerm, "Term (months)", termValue(d.TermMonths), false),
		dateInput(rvRenewal, "Renewal date", d.RenewalDate, true),
		textInput(rvSegment, "Segment", "e.g. mid-market", d.Segment, false, true),
	)
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      CallbackReview,
		PrivateMetadata: strconv.FormatInt(d.ID, 10),
		Title:           Plain("Won deal review", MaxViewTitle),
		Submit:          Plain("Save review", MaxViewTitle),
		Close:           Plain("Later", MaxViewTitle),
		Blocks:          slack.Blocks{BlockSet: blocks[:min(len(blocks), MaxModalBlocks)]},
	}
}

func termValue(m int) *float64 {
	if m <= 0 {
		return nil
	}
	f := float64(m)
	return &f
}

func promiseBlock(i int, part string) string { return rvPromisePrefix + Itoa(i) + "_" + part }

// maxInputText is Slack's cap on a plain_text_input's value.
const maxInputText = 3000

func textInput(id, label, placeholder, initial string, multiline, required bool) *slack.InputBlock {
	el := slack.NewPlainTextInputBlockElement(Plain(placeholder, 150), id+"_in")
	el.Multiline = multiline
	el.MaxLength = maxInputText
	el.InitialValue = Truncate(initial, maxInputText)
	b := slack.NewInputBlock(id, Plain(label, 2000), nil, el)
	b.Optional = !required
	return b
}

func dateInput(id, label string, initial *time.Time, required bool) *slack.InputBlock {
	el := slack.NewDatePickerBlockElement(id + "_in")
	if initial != nil {
		el.InitialDate = initial.UTC().Format(time.DateOnly)
	}
	b := slack.NewInputBlock(id, Plain(label, 2000), nil, el)
	b.Optional = !required
	return b
}

func numberInput(id, label string, initial *float64, decimal bool) *slack.InputBlock {
	el := slack.NewNumberInputBlockElement(nil, id+"_in", decimal)
	el.MinValue = "0"
	if initial != nil {
		el.InitialValue = strconv.FormatFloat(*initial, 'f', -1, 64)
	}
	return slack.NewInputBlock(id, Plain(label, 2000), nil, el)
}

func kindInput(id, label string, initial rooms.PromiseKind) *slack.InputBlock {
	opts := make([]*slack.OptionBlockObject, 0, len(rooms.PromiseKinds))
	var chosen *slack.OptionBlockObject
	for _, k := range rooms.PromiseKinds {
		o := slack.NewOptionBlockObject(string(k), Plain(k.Label(), 75), nil)
		if k == initial {
			chosen = o
		}
		opts = append(opts, o)
	}
	el := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, Plain("Kind", 150), id+"_in", opts...)
	el.InitialOption = chosen
	b := slack.NewInputBlock(id, Plain(label, 2000), nil, el)
	b.Optional = true
	return b
}

// ReviewFromState reads a submitted won deal review. Problems come back
// by block id, ready for a response_action "errors"; the lists count as
// confirmed (empty = none).
func ReviewFromState(values map[string]map[string]slack.BlockAction) (rooms.Deal, map[string]string) {
	errs := map[string]string{}
	get := func(id string) slack.BlockAction { return values[id][id+"_in"] }
	text := func(id string, required bool, max int) string {
		s := strings.TrimSpace(get(id).Value)
		switch {
		case required && s == "":
			errs[id] = "Please fill this in."
		case len(s) > max:
			errs[id] = "Please keep this under " + Itoa(max) + " characters."
		}
		return s
	}
	date := func(id string, required bool) *time.Time {
		s := get(id).SelectedDate
		if s == "" {
			if required {
				errs[id] = "Please pick a date."
			}
			return nil
		}
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			errs[id] = "That is not a date."
			return nil
		}
		return &t
	}
	var d rooms.Deal
	d.DecisionMaker = text(rvDecisionMaker, true, 300)
	d.Champion = text(rvChampion, true, 300)
	d.ChampionTitle = text(rvChampionTitle, false, 300)
	d.ChampionRoleSince = date(rvChampionSince, true)
	d.CloseReason = text(rvCloseReason, true, 5000)
	d.ProductConcerns, d.ConcernsKnown = text(rvConcerns, false, 5000), true
	d.CompetitorsKnown, d.Competitors = true, []string{}
	for _, c := range strings.Split(text(rvCompetitors, false, 2000), ",") {
		if c = strings.TrimSpace(c); c != "" {
			d.Competitors = append(d.Competitors, c)
		}
	}
	// The deal API's limits; cutting the list instead would lose names silently.
	switch {
	case errs[rvCompetitors] != "":
	case len(d.Competitors) > 20:
		errs[rvCompetitors] = "Please list at most 20 competitors."
	case slices.ContainsFunc(d.Competitors, func(c string) bool { return len(c) > 100 }):
		errs[rvCompetitors] = "Please keep each name under 100 characters."
	}
	if s := strings.TrimSpace(get(rvARR).Value); s == "" {
		errs[rvARR] = "Please enter the ARR."
	} else if f, err := strconv.ParseFloat(s, 64); err != nil || f < 0 || f >= 1e12 {
		errs[rvARR] = "Please enter an amount in USD, like 120000."
	} else {
		d.ARR = &f
	}
	if s := strings.TrimSpace(get(rvTerm).Value); s == "" {
		errs[rvTerm] = "Please enter the term in months."
	} else if n, err := strconv.Atoi(s); err != nil || n < 1 || n > 120 {
		errs[rvTerm] = "Please enter whole months from 1 to 120."
	} else {
		d.TermMonths = n
	}
	d.RenewalDate = date(rvRenewal, true)
	d.Segment = text(rvSegment, true, 100)
	d.PromisesKnown, d.Promises = true, []rooms.Promise{}
	for i := range maxPromiseSlots {
		kindID, textID, dueID := promiseBlock(i, "kind"), promiseBlock(i, "text"), promiseBlock(i, "due")
		if _, ok := values[textID]; !ok {
			break
		}
		kind := rooms.PromiseKind(get(kindID).SelectedOption.Value)
		what := text(textID, false, 1000)
		due := date(dueID, false)
		switch {
		case what == "" && kind == "" && due == nil:
			continue
		case what == "":
			errs[textID] = "Say what was promised, or clear this row."
		case !kind.Valid():
			errs[kindID] = "Pick feature, timeline or integration."
		default:
			d.Promises = append(d.Promises, rooms.Promise{Kind: kind, Text: what, Due: due})
		}
	}
	if len(errs) == 0 {
		errs = nil
	}
	return d, errs
}

// NotePostView is a note or summary as the room shows it.
type NotePostView struct {
	AccountName string
	Kind        string // note | call_note | ticket | email | meeting
	Author      string // Slack user id for notes, the source system otherwise
	Text        string // the summary (or the note itself)
	By          string // llm | extractive | verbatim
	At          time.Time
	OpenCase    bool
}

// NotePost builds the room's post for a note or an ingested conversation's
// summary.
func NotePost(v NotePostView) Message {
	what, emoji := kindText(v.Kind)
	who := ""
	switch {
	case v.Kind == "note" && v.Author != "":
		who = " by " + UserRef(v.Author, "")
	case v.Author != "":
		who = " from " + UserText(v.Author, 80)
	}
	title := emoji + " *" + what + "*" + who
	if !v.At.IsZero() {
		title += " · " + Date(v.At.UTC())
	}
	body := strings.TrimSpace(v.Text)
	quoted := "> " + strings.ReplaceAll(Escape(Truncate(body, maxSummaryShown)), "\n", "\n> ")
	blocks := []slack.Block{Section("note_body", title+"\n"+quoted)}
	var foot []string
	switch v.By {
	case "llm":
		foot = append(foot, "Summary written by the language model; check the source before acting on it.")
	case "extractive":
		foot = append(foot, "Summary: the key sentences of the original.")
	}
	if v.OpenCase {
		foot = append(foot, "A case is being opened in the CRM.")
	}
	if len(foot) > 0 {
		blocks = append(blocks, ContextBlock("note_meta", foot...))
	}
	text := what + " for " + UserText(Truncate(OneLine(v.AccountName), MaxNameLen), MaxNameLen) + ": " +
		UserText(body, 200)
	return Finish(text, blocks, MaxMessageBlocks)
}

func kindText(kind string) (label, emoji string) {
	label = rooms.SummaryLabel(kind)
	switch kind {
	case "call_note":
		return label, "📞"
	case "email":
		return label, "✉️"
	case "ticket":
		return label, "🎫"
	case "meeting":
		return label, "📅"
	}
	return "Note", "📝"
}

// NoteSaved confirms a note to the person who wrote it.
func NoteSaved(accountName, roomID string, openCase bool) Message {
	s := "📝 Saved to *" + UserText(Truncate(OneLine(accountName), MaxNameLen), MaxNameLen) + "*'s timeline"
	if slackid.Channel(roomID) {
		s += " and room " + channelRef(roomID, "")
	}
	if openCase {
		s += "; a CRM case will be opened"
	}
	return Finish(s+".", []slack.Block{Section("note_saved", s+".")}, MaxMessageBlocks)
}

// Save-to-account modal block ids.
const (
	snAccount = "sn_account"
	snText    = "sn_text"
	snCase    = "sn_case"
)

// SaveNoteModal asks which account a saved message belongs to.
// metadata is opaque to the builder (the handler's own JSON).
func SaveNoteModal(text, metadata string) slack.ModalViewRequest {
	caseBox := slack.NewCheckboxGroupsBlockElement(snCase+"_in",
		slack.NewOptionBlockObject("case", Plain("Also open a case in the CRM", 75), nil))
	caseBlock := slack.NewInputBlock(snCase, Plain("CRM", 2000), nil, caseBox)
	caseBlock.Optional = true
	blocks := []slack.Block{
		textInput(snAccount, "Account", "Account name or external id", "", false, true),
		textInput(snText, "Note", "", text, true, true),
		caseBlock,
	}
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      CallbackSaveNote,
		PrivateMetadata: metadata,
		Title:           Plain("Save to account", MaxViewTitle),
		Submit:          Plain("Save", MaxViewTitle),
		Close:           Plain("Cancel", MaxViewTitle),
		Blocks:          slack.Blocks{BlockSet: blocks},
	}
}

// SaveNoteFromState reads the save-to-account modal.
func SaveNoteFromState(values map[string]map[string]slack.BlockAction) (account, text string, openCase bool) {
	account = strings.TrimSpace(values[snAccount][snAccount+"_in"].Value)
	text = strings.TrimSpace(values[snText][snText+"_in"].Value)
	for _, o := range values[snCase][snCase+"_in"].SelectedOptions {
		openCase = openCase || o.Value == "case"
	}
	return account, text, openCase
}

// SaveNoteAccountBlock and SaveNoteTextBlock name the modal's inputs for
// field errors.
const (
	SaveNoteAccountBlock = snAccount
	SaveNoteTextBlock    = snText
)

// RoomStatusView is /room's answer about one account.
type RoomStatusView struct {
	AccountName string
	RoomID      string
	RoomName    string
	Origin      string
	Handoffs    []HandoffLine
}

// HandoffLine is one handoff's state for /room.
type HandoffLine struct {
	DealName string
	Step     string // channel, invite, card, pin, done (a failed one carries the step it failed at)
	Failed   bool
	Error    string
	Missing  []rooms.Field
}

// RoomStatus answers /room <account>.
func RoomStatus(v RoomStatusView) Message {
	name := UserText(Truncate(OneLine(v.AccountName), MaxNameLen), MaxNameLen)
	var s string
	if v.RoomID == "" {
		s = "*" + name + "* has no room yet. Run `/room link " + name + "` in a channel to make it the room."
	} else {
		s = "*" + name + "*'s room is " + channelRef(v.RoomID, v.RoomName)
		switch v.Origin {
		case "created":
			s += " (created at handoff)"
		case "linked":
			s += " (linked)"
		}
		s += ". Alerts, approvals and NPS follow-ups for the account are threaded there."
	}
	var lines []string
	for _, h := range v.Handoffs {
		line := "*" + UserText(firstText(h.DealName, "Won deal"), MaxNameLen) + "*: "
		switch {
		case h.Failed:
			line += "⚠️ stopped at " + h.Step + " (" + UserText(h.Error, 200) + ")"
		case h.Step == "done" && len(h.Missing) > 0:
			line += "waiting for the won deal review (" + Plural(len(h.Missing), "field", "fields") + " missing)"
		case h.Step == "done":
			line += "✅ handoff complete"
		default:
			line += "in progress (" + h.Step + ")"
		}
		lines = append(lines, line)
	}
	if len(lines) > 0 {
		s = BulletList(s+"\n", lines, MaxSectionText)
	}
	return Finish(s, []slack.Block{Section("room_status", s)}, MaxMessageBlocks)
}

// RoomFailedView tells a person a room could not be set up.
type RoomFailedView struct {
	AccountName string
	Step        string
	Error       string
}

// RoomFailed is the DM sent when a handoff cannot finish by itself.
func RoomFailed(v RoomFailedView) Message {
	name := UserText(Truncate(OneLine(v.AccountName), MaxNameLen), MaxNameLen)
	s := "⚠️ I could not finish *" + name + "*'s handoff room (" + UserText(v.Step, 40) + ": " +
		UserText(v.Error, 300) + ").\nCreate or pick a channel and run `/room link " + name + "` there; the handoff continues from it."
	return Finish(s, []slack.Block{Section("room_failed", s)}, MaxMessageBlocks)
}

// Info is a short reply written by the bot (mrkdwn-safe already).
func Info(text string) Message {
	return Finish(text, []slack.Block{Section("info", text)}, MaxMessageBlocks)
}
