package rooms

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
)

// Caps on deal text inside the handoff card, chosen so the fullest card
// stays far below Slack's ~12k characters of block text per message.
const (
	maxDealLine     = 300
	maxDealLong     = 1200
	maxPromiseLine  = 300
	maxCardPromises = 10
)

// HandoffView is what the handoff card shows.
type HandoffView struct {
	AccountName string
	ExternalID  string
	OwnerCSM    string // Slack user id
	Deal        Deal
	Now         time.Time
}

// HandoffCard builds the pinned handoff card: who decided and who
// champions, why they bought, what Sales promised, concerns and
// competitors, the commercial facts; and, until the won deal review is
// done, what is still missing.
func HandoffCard(v HandoffView) blocks.Message {
	d := v.Deal
	name := blocks.Truncate(blocks.OneLine(blocks.AccountLabel(v.AccountName, d.AccountID)), blocks.MaxNameLen)
	bs := []slack.Block{blocks.Header("handoff_header", "🤝 Handoff: "+name)}

	intro := "*" + blocks.UserText(firstText(d.Name, "New business"), blocks.MaxNameLen) + "* closed-won"
	if d.ClosedAt != nil {
		intro += " on " + blocks.Date(d.ClosedAt.UTC())
	}
	if d.AE != "" {
		intro += " by " + blocks.UserRef(d.AE, "")
	}
	intro += ".\nCustomer Success owner: " + blocks.UserRef(firstText(d.OwnerCSM, v.OwnerCSM), "_not assigned_") + "."
	bs = append(bs, blocks.Section("handoff_intro", intro))

	unknown := "_not known yet_"
	arr, term, renew := unknown, unknown, unknown
	if d.ARR != nil {
		arr = blocks.Money(*d.ARR)
	}
	if d.TermMonths > 0 {
		term = TermText(d.TermMonths)
	}
	if d.RenewalDate != nil {
		renew = blocks.Renewal(d.RenewalDate, v.Now)
	}
	bs = append(bs, blocks.FieldsSection("handoff_facts",
		[2]string{"ARR", arr}, [2]string{"Term", term}, [2]string{"Renewal", renew},
		[2]string{"Segment", orUnknown(d.Segment, unknown)},
		[2]string{"Decision maker", orUnknown(d.DecisionMaker, unknown)},
		[2]string{"Champion", championText(d, unknown)},
	))
	bs = append(bs, blocks.Section("handoff_reason", "*Why they bought*\n"+orUnknown(d.CloseReason, unknown)))
	bs = append(bs, blocks.Section("handoff_promises", promisesText(d)))
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
				names = append(names, blocks.UserText(c, 100))
			}
			competitors = strings.Join(names, ", ")
		}
	}
	bs = append(bs, blocks.FieldsSection("handoff_context",
		[2]string{"Product concerns", concerns}, [2]string{"Competitors evaluated", competitors}))

	missing := d.Missing()
	if len(missing) > 0 {
		labels := make([]string, len(missing))
		for i, f := range missing {
			labels[i] = f.Label()
		}
		ask := "the AE"
		if d.AE != "" {
			ask = blocks.UserRef(d.AE, "")
		}
		bs = append(bs, blocks.Section("handoff_missing",
			"⚠️ *Still missing:* "+strings.Join(labels, ", ")+"\n"+ask+" has been asked to fill these in (won deal review)."))
	} else {
		done := "✅ Handoff complete"
		if d.ReviewedBy != "" {
			done += " · reviewed by " + blocks.UserRef(d.ReviewedBy, "")
			if d.ReviewedAt != nil {
				done += " on " + blocks.Date(d.ReviewedAt.UTC())
			}
		}
		bs = append(bs, blocks.ContextBlock("handoff_complete", done))
	}
	if d.ExternalID != "" {
		bs = append(bs, blocks.ContextBlock("handoff_ref", "CRM deal "+blocks.UserText(d.ExternalID, blocks.MaxIDLen)))
	}

	text := "Handoff: " + blocks.UserText(name, blocks.MaxNameLen)
	if len(missing) > 0 {
		text += " (" + blocks.Plural(len(missing), "field", "fields") + " missing)"
	}
	return blocks.Finish(text, bs, blocks.MaxMessageBlocks)
}

func championText(d Deal, unknown string) string {
	if strings.TrimSpace(d.Champion) == "" {
		return unknown
	}
	s := blocks.UserText(d.Champion, maxDealLine)
	if t := strings.TrimSpace(d.ChampionTitle); t != "" {
		s += ", " + blocks.UserText(t, maxDealLine)
	}
	if m, ok := d.ChampionTenureMonths(); ok {
		s += "\n" + TenureText(m) + " in role at close"
		if m < NewInRole {
			s += " ⚠️ new in role"
		}
	} else {
		s += "\ntime in role: " + unknown
	}
	return s
}

func promisesText(d Deal) string {
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
	s := blocks.BulletList(title, lines, blocks.MaxSectionText-40)
	if n := len(d.Promises) - maxCardPromises; n > 0 {
		s += "\n…and " + blocks.Itoa(n) + " more"
	}
	return s
}

func promiseLine(p Promise) string {
	line := "*" + p.Kind.Label() + ":* " + blocks.UserText(p.Text, maxPromiseLine)
	if p.Due != nil {
		line += " — due " + blocks.Date(p.Due.UTC())
	}
	return line
}

func orUnknown(s, unknown string) string {
	if strings.TrimSpace(s) == "" {
		return unknown
	}
	return blocks.UserText(s, maxDealLong)
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
	Missing     []Field
}

// ReviewRequest builds the AE's DM: what is missing and a button that
// opens the won deal review, pre-filled with what the CRM sent.
func ReviewRequest(v ReviewRequestView) blocks.Message {
	name := blocks.Truncate(blocks.OneLine(v.AccountName), blocks.MaxNameLen)
	labels := make([]string, len(v.Missing))
	for i, f := range v.Missing {
		labels[i] = f.Label()
	}
	body := "Congrats on closing *" + blocks.UserText(firstText(v.DealName, name), blocks.MaxNameLen) + "*! 🎉\n" +
		"Customer Success picks it up in " + blocks.ChannelRef(v.RoomID, "") + ". Before the kickoff they need a few more things from you:"
	bs := []slack.Block{
		blocks.Header("review_header", "Won deal review: "+name),
		blocks.Section("review_body", blocks.BulletList(body, labels, blocks.MaxSectionText)),
		blocks.Actions("review_actions", blocks.Button(blocks.ActionReviewOpen, strconv.FormatInt(v.DealID, 10), "Complete the review").
			WithStyle(slack.StylePrimary)),
		blocks.ContextBlock("review_note", "It takes about two minutes; the room's handoff card updates when you save."),
	}
	return blocks.Finish("Won deal review for "+blocks.UserText(name, blocks.MaxNameLen)+": "+blocks.Plural(len(v.Missing), "field", "fields")+" missing",
		bs, blocks.MaxMessageBlocks)
}

// ReviewDone replaces the review request once it is complete.
func ReviewDone(accountName, roomID string) blocks.Message {
	name := blocks.UserText(blocks.Truncate(blocks.OneLine(accountName), blocks.MaxNameLen), blocks.MaxNameLen)
	text := "✅ Thanks! The won deal review for *" + name + "* is complete; the handoff card in " +
		blocks.ChannelRef(roomID, "") + " is up to date."
	return blocks.Finish("Won deal review for "+name+" complete", []slack.Block{blocks.Section("review_done", text)}, blocks.MaxMessageBlocks)
}

// The review offers a row per promise it knows and one more, at least
// three and at most eight.
const (
	maxPromiseSlots = 8
	minPromiseSlots = 3
)

// ReviewModalView pre-fills the won deal review.
type ReviewModalView struct {
	AccountName string
	Deal        Deal
}

// ReviewModal builds the won deal review: every handoff field, filled with
// what is known, the required ones marked so; promises as up to eight
// structured rows (kind, what, due).
func ReviewModal(v ReviewModalView) slack.ModalViewRequest {
	d := v.Deal
	bs := []slack.Block{
		blocks.Section("rv_intro", "*"+blocks.UserText(blocks.AccountLabel(v.AccountName, d.AccountID), blocks.MaxNameLen)+"* · "+
			blocks.UserText(firstText(d.Name, "won deal"), blocks.MaxNameLen)+"\nWhat you know now saves CS weeks of rediscovery."),
		blocks.TextInput(blocks.ReviewBlockDecisionMaker, "Decision maker", "Name, title", d.DecisionMaker, false, true),
		blocks.TextInput(blocks.ReviewBlockChampion, "Champion", "Name", d.Champion, false, true),
		blocks.TextInput(blocks.ReviewBlockChampionTitle, "Champion's title", "e.g. Head of Operations", d.ChampionTitle, false, false),
		dateInput(blocks.ReviewBlockChampionSince, "Champion in this role since", d.ChampionRoleSince, true),
		blocks.TextInput(blocks.ReviewBlockCloseReason, "Why they bought", "The problem we solve for them, in their words", d.CloseReason, true, true),
	}
	bs = append(bs, blocks.Section("rv_promises_title",
		"*Promises made during the sale*\nFeatures, timelines, integrations. Leave the rows empty if nothing was promised."))
	slots := max(minPromiseSlots, min(maxPromiseSlots, len(d.Promises)+1))
	for i := range slots {
		var p Promise
		if i < len(d.Promises) {
			p = d.Promises[i]
		}
		n := " " + blocks.Itoa(i+1)
		bs = append(bs,
			kindInput(promiseBlock(i, "kind"), "Promise"+n+": kind", p.Kind),
			blocks.TextInput(promiseBlock(i, "text"), "Promise"+n+": what", "e.g. SSO with Okta", p.Text, false, false),
			dateInput(promiseBlock(i, "due"), "Promise"+n+": due", p.Due, false))
	}
	concerns := ""
	if d.ConcernsKnown {
		concerns = d.ProductConcerns
	}
	bs = append(bs,
		blocks.TextInput(blocks.ReviewBlockConcerns, "Product concerns", "Leave empty if none were raised", concerns, true, false),
		blocks.TextInput(blocks.ReviewBlockCompetitors, "Competitors evaluated", "Comma-separated; empty if none", strings.Join(d.Competitors, ", "), false, false),
		numberInput(blocks.ReviewBlockARR, "ARR (USD)", d.ARR, true),
		numberInput(blocks.ReviewBlockTerm, "Term (months)", termValue(d.TermMonths), false),
		dateInput(blocks.ReviewBlockRenewal, "Renewal date", d.RenewalDate, true),
		blocks.TextInput(blocks.ReviewBlockSegment, "Segment", "e.g. mid-market", d.Segment, false, true),
	)
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      blocks.CallbackReview,
		PrivateMetadata: strconv.FormatInt(d.ID, 10),
		Title:           blocks.Plain("Won deal review", blocks.MaxViewTitle),
		Submit:          blocks.Plain("Save review", blocks.MaxViewTitle),
		Close:           blocks.Plain("Later", blocks.MaxViewTitle),
		Blocks:          slack.Blocks{BlockSet: bs[:min(len(bs), blocks.MaxModalBlocks)]},
	}
}

func termValue(m int) *float64 {
	if m <= 0 {
		return nil
	}
	f := float64(m)
	return &f
}

func promiseBlock(i int, part string) string {
	return blocks.ReviewBlockPromisePrefix + blocks.Itoa(i) + "_" + part
}

func dateInput(id, label string, initial *time.Time, required bool) *slack.InputBlock {
	el := slack.NewDatePickerBlockElement(id + "_in")
	if initial != nil {
		el.InitialDate = initial.UTC().Format(time.DateOnly)
	}
	b := slack.NewInputBlock(id, blocks.Plain(label, 2000), nil, el)
	b.Optional = !required
	return b
}

func numberInput(id, label string, initial *float64, decimal bool) *slack.InputBlock {
	el := slack.NewNumberInputBlockElement(nil, id+"_in", decimal)
	el.MinValue = "0"
	if initial != nil {
		el.InitialValue = strconv.FormatFloat(*initial, 'f', -1, 64)
	}
	return slack.NewInputBlock(id, blocks.Plain(label, 2000), nil, el)
}

func kindInput(id, label string, initial PromiseKind) *slack.InputBlock {
	opts := make([]*slack.OptionBlockObject, 0, len(PromiseKinds))
	var chosen *slack.OptionBlockObject
	for _, k := range PromiseKinds {
		o := slack.NewOptionBlockObject(string(k), blocks.Plain(k.Label(), 75), nil)
		if k == initial {
			chosen = o
		}
		opts = append(opts, o)
	}
	el := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, blocks.Plain("Kind", 150), id+"_in", opts...)
	el.InitialOption = chosen
	b := slack.NewInputBlock(id, blocks.Plain(label, 2000), nil, el)
	b.Optional = true
	return b
}

// ReviewFromState reads a submitted won deal review. Problems come back
// by block id, ready for a response_action "errors"; the lists count as
// confirmed (empty = none).
func ReviewFromState(values map[string]map[string]slack.BlockAction) (Deal, map[string]string) {
	errs := map[string]string{}
	get := func(id string) slack.BlockAction { return values[id][id+"_in"] }
	text := func(id string, required bool, max int) string {
		s := strings.TrimSpace(get(id).Value)
		switch {
		case required && s == "":
			errs[id] = "Please fill this in."
		case len(s) > max:
			errs[id] = "Please keep this under " + blocks.Itoa(max) + " characters."
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
	var d Deal
	d.DecisionMaker = text(blocks.ReviewBlockDecisionMaker, true, 300)
	d.Champion = text(blocks.ReviewBlockChampion, true, 300)
	d.ChampionTitle = text(blocks.ReviewBlockChampionTitle, false, 300)
	d.ChampionRoleSince = date(blocks.ReviewBlockChampionSince, true)
	d.CloseReason = text(blocks.ReviewBlockCloseReason, true, 5000)
	d.ProductConcerns, d.ConcernsKnown = text(blocks.ReviewBlockConcerns, false, 5000), true
	d.CompetitorsKnown, d.Competitors = true, []string{}
	for _, c := range strings.Split(text(blocks.ReviewBlockCompetitors, false, 2000), ",") {
		if c = strings.TrimSpace(c); c != "" {
			d.Competitors = append(d.Competitors, c)
		}
	}
	// The deal API's limits; cutting the list instead would lose names silently.
	switch {
	case errs[blocks.ReviewBlockCompetitors] != "":
	case len(d.Competitors) > 20:
		errs[blocks.ReviewBlockCompetitors] = "Please list at most 20 competitors."
	case slices.ContainsFunc(d.Competitors, func(c string) bool { return len(c) > 100 }):
		errs[blocks.ReviewBlockCompetitors] = "Please keep each name under 100 characters."
	}
	if s := strings.TrimSpace(get(blocks.ReviewBlockARR).Value); s == "" {
		errs[blocks.ReviewBlockARR] = "Please enter the ARR."
	} else if f, err := strconv.ParseFloat(s, 64); err != nil || f < 0 || f >= 1e12 {
		errs[blocks.ReviewBlockARR] = "Please enter an amount in USD, like 120000."
	} else {
		d.ARR = &f
	}
	if s := strings.TrimSpace(get(blocks.ReviewBlockTerm).Value); s == "" {
		errs[blocks.ReviewBlockTerm] = "Please enter the term in months."
	} else if n, err := strconv.Atoi(s); err != nil || n < 1 || n > 120 {
		errs[blocks.ReviewBlockTerm] = "Please enter whole months from 1 to 120."
	} else {
		d.TermMonths = n
	}
	d.RenewalDate = date(blocks.ReviewBlockRenewal, true)
	d.Segment = text(blocks.ReviewBlockSegment, true, 100)
	d.PromisesKnown, d.Promises = true, []Promise{}
	for i := range maxPromiseSlots {
		kindID, textID, dueID := promiseBlock(i, "kind"), promiseBlock(i, "text"), promiseBlock(i, "due")
		if _, ok := values[textID]; !ok {
			break
		}
		kind := PromiseKind(get(kindID).SelectedOption.Value)
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
			d.Promises = append(d.Promises, Promise{Kind: kind, Text: what, Due: due})
		}
	}
	if len(errs) == 0 {
		errs = nil
	}
	return d, errs
}

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
	Missing  []Field
}

// RoomStatus answers /room <account>.
func RoomStatus(v RoomStatusView) blocks.Message {
	name := blocks.UserText(blocks.Truncate(blocks.OneLine(v.AccountName), blocks.MaxNameLen), blocks.MaxNameLen)
	var s string
	if v.RoomID == "" {
		s = "*" + name + "* has no room yet. Run `/room link " + name + "` in a channel to make it the room."
	} else {
		s = "*" + name + "*'s room is " + blocks.ChannelRef(v.RoomID, v.RoomName)
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
		line := "*" + blocks.UserText(firstText(h.DealName, "Won deal"), blocks.MaxNameLen) + "*: "
		switch {
		case h.Failed:
			line += "⚠️ stopped at " + h.Step + " (" + blocks.UserText(h.Error, 200) + ")"
		case h.Step == "done" && len(h.Missing) > 0:
			line += "waiting for the won deal review (" + blocks.Plural(len(h.Missing), "field", "fields") + " missing)"
		case h.Step == "done":
			line += "✅ handoff complete"
		default:
			line += "in progress (" + h.Step + ")"
		}
		lines = append(lines, line)
	}
	if len(lines) > 0 {
		s = blocks.BulletList(s+"\n", lines, blocks.MaxSectionText)
	}
	return blocks.Finish(s, []slack.Block{blocks.Section("room_status", s)}, blocks.MaxMessageBlocks)
}

// RoomFailedView tells a person a room could not be set up.
type RoomFailedView struct {
	AccountName string
	Step        string
	Error       string
}

// RoomFailed is the DM sent when a handoff cannot finish by itself.
func RoomFailed(v RoomFailedView) blocks.Message {
	name := blocks.UserText(blocks.Truncate(blocks.OneLine(v.AccountName), blocks.MaxNameLen), blocks.MaxNameLen)
	s := "⚠️ I could not finish *" + name + "*'s handoff room (" + blocks.UserText(v.Step, 40) + ": " +
		blocks.UserText(v.Error, 300) + ").\nCreate or pick a channel and run `/room link " + name + "` there; the handoff continues from it."
	return blocks.Finish(s, []slack.Block{blocks.Section("room_failed", s)}, blocks.MaxMessageBlocks)
}
