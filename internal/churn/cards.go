package churn

// The Block Kit of churn records and debriefs: the /churned form, the
// debrief DM with its forms, the check-in reminder and the thread note.

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
)

const maxChurnText = 600 // each level of a record as shown in a DM or report

// churnMeta rides in the churn modal's private_metadata. It is a hint for
// where to answer, never trusted for permission: the submit re-checks.
type churnMeta struct {
	AccountID int64  `json:"account_id"`
	ChannelID string `json:"channel_id,omitempty"`
}

// recordForm is the /churned form.
type recordForm struct {
	Meta        churnMeta
	AccountName string
	ARR         float64
	OwnerCSM    string
	AE          string
	Today       time.Time // the datepicker's initial date
}

// recordModal builds the three-level churn form: the customer's words, the
// root cause (every definition shown), CS's diagnosis, and the deal
// behaviour that predicted it.
func recordModal(v recordForm) slack.ModalViewRequest {
	meta, _ := json.Marshal(v.Meta)
	name := blocks.Truncate(blocks.OneLine(blocks.AccountLabel(v.AccountName, v.Meta.AccountID)), blocks.MaxNameLen)
	who := "Owner " + blocks.UserRef(v.OwnerCSM, "none") + " · AE " + blocks.UserRef(v.AE, "none")
	var defs []string
	options := make([]*slack.OptionBlockObject, 0, len(Causes))
	for _, c := range Causes {
		tag := ""
		desc := (*slack.TextBlockObject)(nil)
		if c.SalesAttributable {
			tag = " _(sales-attributable)_"
			desc = blocks.Plain("Sales-attributable: the AE and sales manager debrief it", 75)
		}
		defs = append(defs, "*"+c.Label+"*"+tag+": "+blocks.Escape(c.Definition))
		options = append(options, slack.NewOptionBlockObject(string(c.Cause), blocks.Plain(c.Label, 75), desc))
	}
	multiline := func(actionID, placeholder string) *slack.PlainTextInputBlockElement {
		e := slack.NewPlainTextInputBlockElement(blocks.Plain(placeholder, 150), actionID)
		e.Multiline = true
		e.MaxLength = MaxTextLen
		return e
	}
	dealInput := slack.NewInputBlock(FieldDealBehaviour, blocks.Plain("Deal behaviour that predicted it", 2000),
		blocks.Plain("Required for sales-attributable causes: what in the deal pointed here (a promise, a single thread, a rushed close).", 2000),
		multiline(FieldDealBehaviour, "e.g. Roadmap item sold as shipped; no exec sponsor after close"))
	dealInput.Optional = true
	date := slack.NewDatePickerBlockElement(FieldChurnedOn)
	if !v.Today.IsZero() {
		date.InitialDate = v.Today.Format(time.DateOnly)
	}
	dateInput := slack.NewInputBlock(FieldChurnedOn, blocks.Plain("Churn date", 2000), nil, date)
	dateInput.Optional = true

	bs := []slack.Block{
		blocks.Section("churn_account", "*"+blocks.Escape(name)+"* · "+blocks.Money(v.ARR)+" ARR · "+who),
		blocks.ContextBlock("churn_effect", "Marks the account churned: its health is no longer scored. Sales-attributable causes go to the AE and sales manager as a debrief."),
		slack.NewInputBlock(FieldStatedReason, blocks.Plain("The customer's stated reason, in their words", 2000), nil,
			multiline(FieldStatedReason, "What the customer said, as they said it")),
		blocks.Section("churn_definitions", blocks.BulletList("*Root causes*", defs, blocks.MaxSectionText)),
		slack.NewInputBlock(FieldCause, blocks.Plain("Root cause", 2000), nil, slack.NewRadioButtonsBlockElement(FieldCause, options...)),
		slack.NewInputBlock(FieldDiagnosis, blocks.Plain("Your diagnosis", 2000), blocks.Plain("What actually happened, as CS sees it.", 2000),
			multiline(FieldDiagnosis, "What CS saw happen")),
		dealInput,
		dateInput,
	}
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      blocks.ViewChurnRecord,
		Title:           blocks.Plain("Record churn", blocks.MaxViewTitle),
		Submit:          blocks.Plain("Mark churned", blocks.MaxViewTitle),
		Close:           blocks.Plain("Cancel", blocks.MaxViewTitle),
		PrivateMetadata: string(meta),
		Blocks:          slack.Blocks{BlockSet: bs},
	}
}

// recordedModal replaces the form after a successful submit.
func recordedModal(accountName string, cause Cause, notified []string, fallbackChannel string) slack.ModalViewRequest {
	text := "*" + blocks.UserText(accountName, blocks.MaxNameLen) + "* is marked churned: *" + blocks.Escape(cause.Label()) + "*."
	switch {
	case len(notified) > 0:
		refs := make([]string, len(notified))
		for i, u := range notified {
			refs[i] = blocks.UserRef(u, "")
		}
		text += "\nSales-attributable: " + strings.Join(refs, " and ") + " get a debrief DM now."
	case fallbackChannel != "":
		text += "\nSales-attributable, but no AE or sales manager is on file: the debrief went to the debrief channel."
	case cause.SalesAttributable():
		text += "\nSales-attributable, but no AE, sales manager or debrief channel is on file: nobody in Sales was told."
	}
	return slack.ModalViewRequest{
		Type:   slack.VTModal,
		Title:  blocks.Plain("Churn recorded", blocks.MaxViewTitle),
		Close:  blocks.Plain("Done", blocks.MaxViewTitle),
		Blocks: slack.Blocks{BlockSet: []slack.Block{blocks.Section("churn_recorded", text)}},
	}
}

// lookalikeRow is a current account resembling the churned one.
type lookalikeRow struct {
	Name        string
	ARR         float64
	HealthScore *int
	OwnerCSM    string
	Traits      []string
	Like        string // the churned account it resembles (reports)
	LikeCause   Cause
}

// debriefState is how far a debrief got.
type debriefState struct {
	ScheduledFor  *time.Time
	ScheduledBy   string
	HeldAt        *time.Time
	Outcome       string
	ProcessChange string
	ChangeOwner   string
	CheckinDue    *time.Time
}

// debriefView is the DM an AE or sales manager gets about a
// sales-attributable churn. It is stored with the debrief (its field names
// are the JSON keys) so the DM can be re-rendered as the debrief moves.
type debriefView struct {
	ChurnID       int64
	Recipient     string // Slack user (or channel) the DM goes to
	AccountName   string
	ARR           float64
	ChurnedOn     time.Time
	Cause         Cause
	StatedReason  string
	Diagnosis     string
	DealBehaviour string
	OwnerCSM      string
	AE            string
	SalesManager  string
	RecordedBy    string
	Lookalikes    []lookalikeRow
	SameCauseAE   int
	SameCauseTeam int
	Debrief       debriefState
	Loc           *time.Location `json:"-"` // for the debrief time
}

// salesDebrief builds the forward-looking debrief DM: what the data shows
// and which accounts in the book look the same, with the debrief buttons.
func salesDebrief(v debriefView) blocks.Message {
	info, _ := Lookup(v.Cause)
	name := blocks.UserText(v.AccountName, blocks.MaxNameLen)
	book := "your book"
	if v.Recipient != v.AE && v.AE != "" {
		book = blocks.UserRef(v.AE, "") + "'s book"
	}
	intro := "*" + name + "* (" + blocks.Money(v.ARR) + " ARR) churned on " + blocks.Date(v.ChurnedOn) + ". " +
		blocks.UserRef(v.RecordedBy, "CS") + " traced it to *" + blocks.Escape(info.Label) + "*, a cause that starts in the deal. " +
		"This is not about blame: it is what the data shows, so the next deals in " + book + " close cleaner."
	facts := []string{
		"Customer's words: “" + blocks.UserText(v.StatedReason, maxChurnText) + "”",
		"CS diagnosis: " + blocks.UserText(v.Diagnosis, maxChurnText),
	}
	if strings.TrimSpace(v.DealBehaviour) != "" {
		facts = append(facts, "Deal behaviour that predicted it: "+blocks.UserText(v.DealBehaviour, maxChurnText))
	}
	if v.SameCauseTeam > 0 {
		line := blocks.Itoa(v.SameCauseTeam) + " across the team"
		if v.AE != "" {
			line = blocks.Itoa(v.SameCauseAE) + " in " + book + ", " + line
		}
		facts = append(facts, "Pattern: "+strings.ToLower(info.Label)+" churns in the last 12 months, this one included: "+line)
	}
	bs := []slack.Block{
		blocks.Header("debrief_header", "Churn debrief: "+blocks.Truncate(blocks.OneLine(blocks.AccountLabel(v.AccountName, 0)), blocks.MaxNameLen)),
		blocks.Section("debrief_intro", intro),
		blocks.Section("debrief_data", blocks.BulletList("*What the data shows*", facts, blocks.MaxSectionText)),
		blocks.ContextBlock("debrief_definition", "*"+blocks.Escape(info.Label)+"*: "+blocks.Escape(info.Definition)),
	}
	var looks []string
	for _, l := range v.Lookalikes {
		looks = append(looks, lookalikeLine(l, false))
	}
	if len(looks) > 0 {
		bs = append(bs, blocks.Section("debrief_lookalikes", blocks.BulletList("*Accounts in "+book+" that look the same*", looks, blocks.MaxSectionText)))
	} else {
		bs = append(bs, blocks.Section("debrief_lookalikes", "*Accounts in "+book+" that look the same*\nNone of the current accounts share this profile."))
	}
	bs = append(bs, blocks.Section("debrief_status", debriefStatus(v.Debrief, v.Loc)))
	if v.Debrief.HeldAt == nil {
		id := strconv.FormatInt(v.ChurnID, 10)
		sched := "Schedule 20-min debrief"
		if v.Debrief.ScheduledFor != nil {
			sched = "Reschedule debrief"
		}
		bs = append(bs, blocks.Actions("debrief_actions",
			blocks.Button(blocks.ActionDebriefSchedule, id, sched).WithStyle(slack.StylePrimary),
			blocks.Button(blocks.ActionDebriefOutcome, id, "Record debrief outcome")))
	}
	text := "Churn debrief: " + name + " churned (" + blocks.Escape(info.Label) + ")"
	return blocks.Finish(text, bs, blocks.MaxMessageBlocks)
}

func lookalikeLine(l lookalikeRow, withLike bool) string {
	line := "*" + blocks.UserText(l.Name, blocks.MaxNameLen) + "* · " + blocks.Money(l.ARR)
	if l.HealthScore != nil {
		line += " · health " + blocks.Itoa(*l.HealthScore)
	}
	if l.OwnerCSM != "" {
		line += " · " + blocks.UserRef(l.OwnerCSM, "")
	}
	if withLike && l.Like != "" {
		line += " · like " + blocks.UserText(l.Like, blocks.MaxNameLen) + " (" + blocks.Escape(l.LikeCause.Label()) + ")"
	}
	if len(l.Traits) > 0 {
		traits := make([]string, len(l.Traits))
		for i, t := range l.Traits {
			traits[i] = blocks.UserText(t, 80)
		}
		line += "\n    _" + strings.Join(traits, " · ") + "_"
	}
	return line
}

// when is a debrief time as people read it: "Fri Mar 12, 10:00 UTC" in loc.
func when(t time.Time, loc *time.Location) string {
	return t.In(locOrUTC(loc)).Format("Mon Jan 2, 15:04 MST")
}

func debriefStatus(d debriefState, loc *time.Location) string {
	switch {
	case d.HeldAt != nil:
		s := "✅ *Debrief held* " + blocks.Date(d.HeldAt.In(locOrUTC(loc))) + ": " + blocks.UserText(d.Outcome, maxChurnText)
		if d.ProcessChange != "" {
			s += "\n*Process change agreed:* " + blocks.UserText(d.ProcessChange, maxChurnText) + " · owner " + blocks.UserRef(d.ChangeOwner, "unassigned")
			if d.CheckinDue != nil {
				s += " · check-in " + blocks.Date(*d.CheckinDue)
			}
		} else {
			s += "\nNo process change agreed."
		}
		return s
	case d.ScheduledFor != nil:
		return "🗓️ *Debrief scheduled* for " + when(*d.ScheduledFor, loc) + " by " + blocks.UserRef(d.ScheduledBy, "someone") + " (20 minutes: AE, sales manager, CSM)."
	}
	return "*Next step:* a 20-minute debrief with the AE, the sales manager and the CSM. One process change, one owner."
}

func locOrUTC(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}

// scheduleModal asks when the debrief takes place.
func scheduleModal(churnID int64, accountName string, initial time.Time) slack.ModalViewRequest {
	picker := slack.NewDateTimePickerBlockElement(blocks.FieldDebriefWhen)
	if !initial.IsZero() {
		picker.InitialDateTime = initial.Unix()
	}
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      blocks.ViewDebriefSchedule,
		Title:           blocks.Plain("Schedule debrief", blocks.MaxViewTitle),
		Submit:          blocks.Plain("Schedule", blocks.MaxViewTitle),
		Close:           blocks.Plain("Cancel", blocks.MaxViewTitle),
		PrivateMetadata: strconv.FormatInt(churnID, 10),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			blocks.Section("debrief_schedule_intro", "20 minutes on *"+blocks.UserText(accountName, blocks.MaxNameLen)+"*: the AE, the sales manager and the CSM. Leave with one process change and its owner."),
			slack.NewInputBlock(blocks.FieldDebriefWhen, blocks.Plain("When", 2000), nil, picker),
		}},
	}
}

// outcomeModal records what the debrief concluded.
func outcomeModal(churnID int64, accountName string, checkinDays int) slack.ModalViewRequest {
	outcome := slack.NewPlainTextInputBlockElement(blocks.Plain("What did the debrief conclude?", 150), blocks.FieldDebriefOutcome)
	outcome.Multiline = true
	outcome.MaxLength = MaxTextLen
	change := slack.NewPlainTextInputBlockElement(blocks.Plain("e.g. Roadmap items need PM sign-off before they go in a proposal", 150), blocks.FieldProcessChange)
	change.MaxLength = 500
	changeInput := slack.NewInputBlock(blocks.FieldProcessChange, blocks.Plain("Process change agreed", 2000),
		blocks.Plain("One change, if one was agreed.", 2000), change)
	changeInput.Optional = true
	owner := slack.NewOptionsSelectBlockElement(slack.OptTypeUser, blocks.Plain("Who owns it", 150), blocks.FieldProcessChangeOwner)
	ownerInput := slack.NewInputBlock(blocks.FieldProcessChangeOwner, blocks.Plain("Owner of the change", 2000),
		blocks.Plain("They get a check-in reminder "+blocks.Itoa(checkinDays)+" days from now.", 2000), owner)
	ownerInput.Optional = true
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      blocks.ViewDebriefOutcome,
		Title:           blocks.Plain("Debrief outcome", blocks.MaxViewTitle),
		Submit:          blocks.Plain("Record", blocks.MaxViewTitle),
		Close:           blocks.Plain("Cancel", blocks.MaxViewTitle),
		PrivateMetadata: strconv.FormatInt(churnID, 10),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			blocks.Section("debrief_outcome_intro", "Debrief of *"+blocks.UserText(accountName, blocks.MaxNameLen)+"*'s churn."),
			slack.NewInputBlock(blocks.FieldDebriefOutcome, blocks.Plain("Outcome", 2000), nil, outcome),
			changeInput,
			ownerInput,
		}},
	}
}

// checkinView is the 30-day check-in on an agreed process change.
type checkinView struct {
	AccountName   string
	Cause         Cause
	ProcessChange string
	ChangeOwner   string
	HeldAt        time.Time
	SalesManager  string
}

// checkinCard builds the reminder DM to the owner of a process change.
func checkinCard(v checkinView) blocks.Message {
	text := "30-day check-in: the process change agreed after " + blocks.UserText(v.AccountName, blocks.MaxNameLen) + "'s churn"
	body := "🔁 *30-day check-in*\n" + blocks.UserRef(v.ChangeOwner, "You") + ", on " + blocks.Date(v.HeldAt) + " the debrief of *" +
		blocks.UserText(v.AccountName, blocks.MaxNameLen) + "*'s churn (" + blocks.Escape(v.Cause.Label()) + ") agreed one process change, owned by you:\n>" +
		blocks.UserText(v.ProcessChange, maxChurnText) + "\nIs it in place? Tell " + blocks.UserRef(v.SalesManager, "your sales manager") + " where it stands."
	return blocks.Finish(text, []slack.Block{blocks.Section("checkin", body)}, blocks.MaxMessageBlocks)
}

// churnNote is the line posted in the account's thread when it churns.
func churnNote(accountName string, cause Cause, by string, churnedOn time.Time) blocks.Message {
	text := "Marked churned by " + blocks.UserRef(by, "someone") + " on " + blocks.Date(churnedOn) + ": *" + blocks.Escape(cause.Label()) + "*. Health scoring stops for " + blocks.UserText(accountName, blocks.MaxNameLen) + "."
	return blocks.Finish(text, []slack.Block{blocks.Section("churn_note", "🪦 "+text)}, blocks.MaxMessageBlocks)
}

// mention renders a Slack user id as a mention, or escaped text when it is
// not a well-formed id.
func mention(id string) string { return blocks.UserRef(id, "someone") }
