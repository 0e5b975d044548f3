package blocks

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/churn"
)

const maxChurnText = 600 // each level of a record as shown in a DM or report

// ChurnMeta rides in the churn modal's private_metadata. It is a hint for
// where to answer, never trusted for permission: the submit re-checks.
type ChurnMeta struct {
	AccountID int64  `json:"account_id"`
	ChannelID string `json:"channel_id,omitempty"`
}

// ChurnModalView is the /churned form.
type ChurnModalView struct {
	Meta        ChurnMeta
	AccountName string
	ARR         float64
	OwnerCSM    string
	AE          string
	Today       time.Time // the datepicker's initial date
}

// ChurnModal builds the three-level churn form: the customer's words, the
// root cause (every definition shown), CS's diagnosis, and the deal
// behaviour that predicted it.
func ChurnModal(v ChurnModalView) slack.ModalViewRequest {
	meta, _ := json.Marshal(v.Meta)
	name := Truncate(OneLine(AccountLabel(v.AccountName, v.Meta.AccountID)), MaxNameLen)
	who := "Owner " + UserRef(v.OwnerCSM, "none") + " · AE " + UserRef(v.AE, "none")
	var defs []string
	options := make([]*slack.OptionBlockObject, 0, len(churn.Causes))
	for _, c := range churn.Causes {
		tag := ""
		desc := (*slack.TextBlockObject)(nil)
		if c.SalesAttributable {
			tag = " _(sales-attributable)_"
			desc = Plain("Sales-attributable: the AE and sales manager debrief it", 75)
		}
		defs = append(defs, "*"+c.Label+"*"+tag+": "+Escape(c.Definition))
		options = append(options, slack.NewOptionBlockObject(string(c.Cause), Plain(c.Label, 75), desc))
	}
	multiline := func(actionID, placeholder string) *slack.PlainTextInputBlockElement {
		e := slack.NewPlainTextInputBlockElement(Plain(placeholder, 150), actionID)
		e.Multiline = true
		e.MaxLength = churn.MaxTextLen
		return e
	}
	dealInput := slack.NewInputBlock(churn.FieldDealBehaviour, Plain("Deal behaviour that predicted it", 2000),
		Plain("Required for sales-attributable causes: what in the deal pointed here (a promise, a single thread, a rushed close).", 2000),
		multiline(churn.FieldDealBehaviour, "e.g. Roadmap item sold as shipped; no exec sponsor after close"))
	dealInput.Optional = true
	date := slack.NewDatePickerBlockElement(churn.FieldChurnedOn)
	if !v.Today.IsZero() {
		date.InitialDate = v.Today.Format(time.DateOnly)
	}
	dateInput := slack.NewInputBlock(churn.FieldChurnedOn, Plain("Churn date", 2000), nil, date)
	dateInput.Optional = true

	blocks := []slack.Block{
		Section("churn_account", "*"+Escape(name)+"* · "+Money(v.ARR)+" ARR · "+who),
		ContextBlock("churn_effect", "Marks the account churned: its health is no longer scored. Sales-attributable causes go to the AE and sales manager as a debrief."),
		slack.NewInputBlock(churn.FieldStatedReason, Plain("The customer's stated reason, in their words", 2000), nil,
			multiline(churn.FieldStatedReason, "What the customer said, as they said it")),
		Section("churn_definitions", BulletList("*Root causes*", defs, MaxSectionText)),
		slack.NewInputBlock(churn.FieldCause, Plain("Root cause", 2000), nil, slack.NewRadioButtonsBlockElement(churn.FieldCause, options...)),
		slack.NewInputBlock(churn.FieldDiagnosis, Plain("Your diagnosis", 2000), Plain("What actually happened, as CS sees it.", 2000),
			multiline(churn.FieldDiagnosis, "What CS saw happen")),
		dealInput,
		dateInput,
	}
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      ViewChurnRecord,
		Title:           Plain("Record churn", MaxViewTitle),
		Submit:          Plain("Mark churned", MaxViewTitle),
		Close:           Plain("Cancel", MaxViewTitle),
		PrivateMetadata: string(meta),
		Blocks:          slack.Blocks{BlockSet: blocks},
	}
}

// ChurnRecordedModal replaces the form after a successful submit.
func ChurnRecordedModal(accountName string, cause churn.Cause, notified []string, fallbackChannel string) slack.ModalViewRequest {
	text := "*" + UserText(accountName, MaxNameLen) + "* is marked churned: *" + Escape(cause.Label()) + "*."
	switch {
	case len(notified) > 0:
		refs := make([]string, len(notified))
		for i, u := range notified {
			refs[i] = UserRef(u, "")
		}
		text += "\nSales-attributable: " + strings.Join(refs, " and ") + " get a debrief DM now."
	case fallbackChannel != "":
		text += "\nSales-attributable, but no AE or sales manager is on file: the debrief went to the debrief channel."
	case cause.SalesAttributable():
		text += "\nSales-attributable, but no AE, sales manager or debrief channel is on file: nobody in Sales was told."
	}
	return slack.ModalViewRequest{
		Type:   slack.VTModal,
		Title:  Plain("Churn recorded", MaxViewTitle),
		Close:  Plain("Done", MaxViewTitle),
		Blocks: slack.Blocks{BlockSet: []slack.Block{Section("churn_recorded", text)}},
	}
}

// LookalikeRow is a current account resembling the churned one.
type LookalikeRow struct {
	Name        string
	ARR         float64
	HealthScore *int
	OwnerCSM    string
	Traits      []string
	Like        string // the churned account it resembles (reports)
	LikeCause   churn.Cause
}

// DebriefState is how far a debrief got.
type DebriefState struct {
	ScheduledFor  *time.Time
	ScheduledBy   string
	HeldAt        *time.Time
	Outcome       string
	ProcessChange string
	ChangeOwner   string
	CheckinDue    *time.Time
}

// SalesDebriefView is the DM an AE or sales manager gets about a
// sales-attributable churn.
type SalesDebriefView struct {
	ChurnID       int64
	Recipient     string // Slack user (or channel) the DM goes to
	AccountName   string
	ARR           float64
	ChurnedOn     time.Time
	Cause         churn.Cause
	StatedReason  string
	Diagnosis     string
	DealBehaviour string
	OwnerCSM      string
	AE            string
	SalesManager  string
	RecordedBy    string
	Lookalikes    []LookalikeRow
	SameCauseAE   int
	SameCauseTeam int
	Debrief       DebriefState
	Loc           *time.Location `json:"-"` // for the debrief time
}

// SalesDebrief builds the forward-looking debrief DM: what the data shows
// and which accounts in the book look the same, with the debrief buttons.
func SalesDebrief(v SalesDebriefView) Message {
	info, _ := churn.Lookup(v.Cause)
	name := UserText(v.AccountName, MaxNameLen)
	book := "your book"
	if v.Recipient != v.AE && v.AE != "" {
		book = UserRef(v.AE, "") + "'s book"
	}
	intro := "*" + name + "* (" + Money(v.ARR) + " ARR) churned on " + Date(v.ChurnedOn) + ". " +
		UserRef(v.RecordedBy, "CS") + " traced it to *" + Escape(info.Label) + "*, a cause that starts in the deal. " +
		"This is not about blame: it is what the data shows, so the next deals in " + book + " close cleaner."
	facts := []string{
		"Customer's words: “" + UserText(v.StatedReason, maxChurnText) + "”",
		"CS diagnosis: " + UserText(v.Diagnosis, maxChurnText),
	}
	if strings.TrimSpace(v.DealBehaviour) != "" {
		facts = append(facts, "Deal behaviour that predicted it: "+UserText(v.DealBehaviour, maxChurnText))
	}
	if v.SameCauseTeam > 0 {
		line := Itoa(v.SameCauseTeam) + " across the team"
		if v.AE != "" {
			line = Itoa(v.SameCauseAE) + " in " + book + ", " + line
		}
		facts = append(facts, "Pattern: "+strings.ToLower(info.Label)+" churns in the last 12 months, this one included: "+line)
	}
	blocks := []slack.Block{
		Header("debrief_header", "Churn debrief: "+Truncate(OneLine(AccountLabel(v.AccountName, 0)), MaxNameLen)),
		Section("debrief_intro", intro),
		Section("debrief_data", BulletList("*What the data shows*", facts, MaxSectionText)),
		ContextBlock("debrief_definition", "*"+Escape(info.Label)+"*: "+Escape(info.Definition)),
	}
	var looks []string
	for _, l := range v.Lookalikes {
		looks = append(looks, lookalikeLine(l, false))
	}
	if len(looks) > 0 {
		blocks = append(blocks, Section("debrief_lookalikes", BulletList("*Accounts in "+book+" that look the same*", looks, MaxSectionText)))
	} else {
		blocks = append(blocks, Section("debrief_lookalikes", "*Accounts in "+book+" that look the same*\nNone of the current accounts share this profile."))
	}
	blocks = append(blocks, Section("debrief_status", debriefStatus(v.Debrief, v.Loc)))
	if v.Debrief.HeldAt == nil {
		id := strconv.FormatInt(v.ChurnID, 10)
		sched := "Schedule 20-min debrief"
		if v.Debrief.ScheduledFor != nil {
			sched = "Reschedule debrief"
		}
		blocks = append(blocks, Actions("debrief_actions",
			Button(ActionDebriefSchedule, id, sched).WithStyle(slack.StylePrimary),
			Button(ActionDebriefOutcome, id, "Record debrief outcome")))
	}
	text := "Churn debrief: " + name + " churned (" + Escape(info.Label) + ")"
	return Finish(text, blocks, MaxMessageBlocks)
}

func lookalikeLine(l LookalikeRow, withLike bool) string {
	line := "*" + UserText(l.Name, MaxNameLen) + "* · " + Money(l.ARR)
	if l.HealthScore != nil {
		line += " · health " + Itoa(*l.HealthScore)
	}
	if l.OwnerCSM != "" {
		line += " · " + UserRef(l.OwnerCSM, "")
	}
	if withLike && l.Like != "" {
		line += " · like " + UserText(l.Like, MaxNameLen) + " (" + Escape(l.LikeCause.Label()) + ")"
	}
	if len(l.Traits) > 0 {
		traits := make([]string, len(l.Traits))
		for i, t := range l.Traits {
			traits[i] = UserText(t, 80)
		}
		line += "\n    _" + strings.Join(traits, " · ") + "_"
	}
	return line
}

// When is a debrief time as people read it: "Fri Mar 12, 10:00 UTC" in loc.
func When(t time.Time, loc *time.Location) string {
	return t.In(locOrUTC(loc)).Format("Mon Jan 2, 15:04 MST")
}

func debriefStatus(d DebriefState, loc *time.Location) string {
	switch {
	case d.HeldAt != nil:
		s := "✅ *Debrief held* " + Date(d.HeldAt.In(locOrUTC(loc))) + ": " + UserText(d.Outcome, maxChurnText)
		if d.ProcessChange != "" {
			s += "\n*Process change agreed:* " + UserText(d.ProcessChange, maxChurnText) + " · owner " + UserRef(d.ChangeOwner, "unassigned")
			if d.CheckinDue != nil {
				s += " · check-in " + Date(*d.CheckinDue)
			}
		} else {
			s += "\nNo process change agreed."
		}
		return s
	case d.ScheduledFor != nil:
		return "🗓️ *Debrief scheduled* for " + When(*d.ScheduledFor, loc) + " by " + UserRef(d.ScheduledBy, "someone") + " (20 minutes: AE, sales manager, CSM)."
	}
	return "*Next step:* a 20-minute debrief with the AE, the sales manager and the CSM. One process change, one owner."
}

func locOrUTC(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}

// DebriefScheduleModal asks when the debrief takes place.
func DebriefScheduleModal(churnID int64, accountName string, initial time.Time) slack.ModalViewRequest {
	picker := slack.NewDateTimePickerBlockElement(FieldDebriefWhen)
	if !initial.IsZero() {
		picker.InitialDateTime = initial.Unix()
	}
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      ViewDebriefSchedule,
		Title:           Plain("Schedule debrief", MaxViewTitle),
		Submit:          Plain("Schedule", MaxViewTitle),
		Close:           Plain("Cancel", MaxViewTitle),
		PrivateMetadata: strconv.FormatInt(churnID, 10),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			Section("debrief_schedule_intro", "20 minutes on *"+UserText(accountName, MaxNameLen)+"*: the AE, the sales manager and the CSM. Leave with one process change and its owner."),
			slack.NewInputBlock(FieldDebriefWhen, Plain("When", 2000), nil, picker),
		}},
	}
}

// DebriefOutcomeModal records what the debrief concluded.
func DebriefOutcomeModal(churnID int64, accountName string, checkinDays int) slack.ModalViewRequest {
	outcome := slack.NewPlainTextInputBlockElement(Plain("What did the debrief conclude?", 150), FieldDebriefOutcome)
	outcome.Multiline = true
	outcome.MaxLength = churn.MaxTextLen
	change := slack.NewPlainTextInputBlockElement(Plain("e.g. Roadmap items need PM sign-off before they go in a proposal", 150), FieldProcessChange)
	change.MaxLength = 500
	changeInput := slack.NewInputBlock(FieldProcessChange, Plain("Process change agreed", 2000),
		Plain("One change, if one was agreed.", 2000), change)
	changeInput.Optional = true
	owner := slack.NewOptionsSelectBlockElement(slack.OptTypeUser, Plain("Who owns it", 150), FieldProcessChangeOwner)
	ownerInput := slack.NewInputBlock(FieldProcessChangeOwner, Plain("Owner of the change", 2000),
		Plain("They get a check-in reminder "+Itoa(checkinDays)+" days from now.", 2000), owner)
	ownerInput.Optional = true
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      ViewDebriefOutcome,
		Title:           Plain("Debrief outcome", MaxViewTitle),
		Submit:          Plain("Record", MaxViewTitle),
		Close:           Plain("Cancel", MaxViewTitle),
		PrivateMetadata: strconv.FormatInt(churnID, 10),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			Section("debrief_outcome_intro", "Debrief of *"+UserText(accountName, MaxNameLen)+"*'s churn."),
			slack.NewInputBlock(FieldDebriefOutcome, Plain("Outcome", 2000), nil, outcome),
			changeInput,
			ownerInput,
		}},
	}
}

// CheckinView is the 30-day check-in on an agreed process change.
type CheckinView struct {
	AccountName   string
	Cause         churn.Cause
	ProcessChange string
	ChangeOwner   string
	HeldAt        time.Time
	SalesManager  string
}

// Checkin builds the reminder DM to the owner of a process change.
func Checkin(v CheckinView) Message {
	text := "30-day check-in: the process change agreed after " + UserText(v.AccountName, MaxNameLen) + "'s churn"
	body := "🔁 *30-day check-in*\n" + UserRef(v.ChangeOwner, "You") + ", on " + Date(v.HeldAt) + " the debrief of *" +
		UserText(v.AccountName, MaxNameLen) + "*'s churn (" + Escape(v.Cause.Label()) + ") agreed one process change, owned by you:\n>" +
		UserText(v.ProcessChange, maxChurnText) + "\nIs it in place? Tell " + UserRef(v.SalesManager, "your sales manager") + " where it stands."
	return Finish(text, []slack.Block{Section("checkin", body)}, MaxMessageBlocks)
}

// ChurnNote is the line posted in the account's thread when it churns.
func ChurnNote(accountName string, cause churn.Cause, by string, churnedOn time.Time) Message {
	text := "Marked churned by " + UserRef(by, "someone") + " on " + Date(churnedOn) + ": *" + Escape(cause.Label()) + "*. Health scoring stops for " + UserText(accountName, MaxNameLen) + "."
	return Finish(text, []slack.Block{Section("churn_note", "🪦 "+text)}, MaxMessageBlocks)
}

// Mention renders a Slack user id as a mention, or escaped text when it is
// not a well-formed id.
func Mention(id string) string { return UserRef(id, "someone") }

// Note is a one-section message of bot-built mrkdwn (callers escape any
// user text in it, e.g. with Mention and Escape).
func Note(blockID, text string) Message {
	return Finish(text, []slack.Block{Section(blockID, text)}, MaxMessageBlocks)
}
