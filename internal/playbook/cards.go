package playbook

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/internal/churn"
)

// Slack ids of the playbook's buttons and modals. A step's button is
// ActionStep+key with the playbook id as value; its modal's callback id is
// ViewStep+key with the playbook id as private metadata.
const (
	ActionClaim   = blocks.ActionClaim // on the alert itself; value: alert id
	ActionStep    = "playbook_step:"
	ActionDismiss = "playbook_dismiss"
	ViewStep      = "playbook_step:"
	ViewDismiss   = "playbook_dismiss"

	BlockRootCause = "pb_root_cause"
	BlockNotes     = "pb_notes"
	BlockResources = "pb_resources"
	BlockReason    = "pb_reason"
	// BlockAction, BlockActionOwner, BlockActionDue are suffixed with the
	// plan row: pb_action_0, pb_action_owner_0, …
	BlockAction      = "pb_action_"
	BlockActionOwner = "pb_action_owner_"
	BlockActionDue   = "pb_action_due_"
	input            = "pb_input"

	planRows    = 3
	maxNotes    = 2000
	maxAction   = 200
	minReason   = 10
	maxReason   = 1000
	maxStepLine = 400
)

// stepsView is what the playbook's card in the alert thread shows.
type stepsView struct {
	P       Playbook
	Account string
	Steps   []Step
	Done    []StepRecord
	Now     time.Time
	Loc     *time.Location
	Within  time.Duration // the response SLA, for "claimed in 2h (SLA 4h)"
}

// stepsCard is the playbook's card: who owns it, each step with its state
// and deadline, and (while open) a button per step and one to dismiss.
func stepsCard(v stepsView) blocks.Message {
	p := v.P
	title := "At-risk playbook: " + blocks.Truncate(blocks.OneLine(v.Account), blocks.MaxNameLen)
	var head []string
	if p.ClaimedBy != "" && p.ClaimedAt != nil {
		took := p.ClaimedAt.Sub(p.SLAFrom)
		sla := "✅ within SLA"
		if p.ClaimedAt.After(p.ClaimDueAt) {
			sla = "⚠️ SLA " + blocks.ShortDuration(v.Within) + " missed"
		}
		head = append(head, "Owner "+blocks.UserRef(p.ClaimedBy, "")+" · claimed "+blocks.ShortDuration(max(took, 0))+" after the alert ("+sla+")")
	}
	bs := []slack.Block{blocks.Header("pb_header", title)}
	if len(head) > 0 {
		bs = append(bs, blocks.Section("pb_owner", strings.Join(head, "\n")))
	}
	var lines []string
	for _, st := range v.Steps {
		lines = append(lines, stepLine(st, v))
	}
	bs = append(bs, blocks.Section("pb_steps", blocks.BulletList("*Steps*", lines, blocks.MaxSectionText)))
	id := strconv.FormatInt(p.ID, 10)
	if p.Open() {
		var buttons []*slack.ButtonBlockElement
		for _, st := range v.Steps {
			label := st.Label
			if st.Form != FormNone {
				label += "…"
			}
			buttons = append(buttons, blocks.Button(ActionStep+st.Key, id, label))
		}
		buttons = append(buttons, blocks.Button(ActionDismiss, id, "Dismiss as false alarm…").WithStyle(slack.StyleDanger))
		bs = append(bs, blocks.Actions("pb_actions", buttons...))
		bs = append(bs, blocks.ContextBlock("pb_who", "Steps are recorded by the owner, their manager or leadership."))
	} else {
		bs = append(bs, blocks.ContextBlock("pb_closed", closedLine(p, v.Loc)))
	}
	text := "At-risk playbook for " + blocks.UserText(v.Account, blocks.MaxNameLen)
	if p.ClaimedBy != "" {
		text += ", owned by " + blocks.UserRef(p.ClaimedBy, "")
	}
	return blocks.Finish(text, bs, blocks.MaxMessageBlocks)
}

// stepLine: "✅ Contacted: @u, Mar 2 14:00" or "⬜ Plan: due Mar 9 (overdue)".
func stepLine(st Step, v stepsView) string {
	var last *StepRecord
	n := 0
	for i := range v.Done {
		if v.Done[i].Step == st.Key {
			last = &v.Done[i]
			n++
		}
	}
	label := "*" + blocks.Escape(st.Label) + "*"
	if last != nil {
		line := "✅ " + label + ": " + blocks.UserRef(last.RecordedBy, "") + ", " + stamp(last.RecordedAt, v.Loc)
		if n > 1 {
			line += " (" + blocks.Itoa(n) + " times)"
		}
		if d := detailLine(last.Details); d != "" {
			line += "\n    " + blocks.TruncateMrkdwn(d, maxStepLine)
		}
		return line
	}
	if st.Key == checkinKey(v.Steps) && v.P.NextCheckinAt != nil {
		return "🔁 " + label + ": next " + stamp(*v.P.NextCheckinAt, v.Loc)
	}
	if st.Due.Duration > 0 && v.P.ClaimedAt != nil {
		due := v.P.ClaimedAt.Add(st.Due.Duration)
		line := "⬜ " + label + ": due " + stamp(due, v.Loc)
		if !v.Now.IsZero() && v.Now.After(due) && v.P.Open() {
			line += " *(overdue)*"
		}
		return line
	}
	return "⬜ " + label
}

// detailLine sums up a recorded form in one line.
func detailLine(d StepDetails) string {
	var parts []string
	if d.RootCause != "" {
		if info, ok := churn.Lookup(churn.Cause(d.RootCause)); ok {
			parts = append(parts, "root cause: "+info.Label)
		}
	}
	if len(d.Actions) > 0 {
		parts = append(parts, blocks.Plural(len(d.Actions), "action", "actions"))
	}
	if len(d.Resources) > 0 {
		parts = append(parts, "asked for "+resourceLabels(d.Resources))
	}
	if d.Notes != "" {
		parts = append(parts, "“"+blocks.UserText(blocks.OneLine(d.Notes), 160)+"”")
	}
	return strings.Join(parts, " · ")
}

func resourceLabels(keys []string) string {
	var out []string
	for _, k := range keys {
		for _, r := range Resources {
			if r.Key == k {
				out = append(out, strings.ToLower(strings.TrimSuffix(r.Label, " (opens an offer)")))
			}
		}
	}
	return strings.Join(out, ", ")
}

// checkinKey is the step the weekly reminder asks for: the first with the
// check-in form ("" when the playbook has none).
func checkinKey(steps []Step) string {
	for _, s := range steps {
		if s.Form == FormCheckin {
			return s.Key
		}
	}
	return ""
}

func closedLine(p Playbook, loc *time.Location) string {
	at := ""
	if p.ResolvedAt != nil {
		at = " on " + stamp(*p.ResolvedAt, loc)
	}
	switch p.State {
	case StateRecovered:
		return "✅ Closed: recovered" + at
	case StateChurned:
		return "Closed: churned" + at
	case StateDismissed:
		return "Closed: dismissed as a false alarm" + at + " by " + blocks.UserRef(p.ResolvedBy, "someone")
	}
	return ""
}

// stamp: "Mar 2 14:00" in the team's time zone.
func stamp(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format("Jan 2 15:04")
}

// nudgeNote reminds the owner that an alert waits for a claim.
func nudgeNote(owner string, waited time.Duration, within time.Duration) blocks.Message {
	who := blocks.UserRef(owner, "Nobody owns this account")
	text := "⏰ " + who + ": this alert has waited " + blocks.ShortDuration(waited) + " without a claim. Claim it to start the playbook (response SLA " + blocks.ShortDuration(within) + ")."
	return blocks.Note("pb_nudge", text)
}

// escalationNote mentions the owner's manager once the SLA has passed.
func escalationNote(owner string, managers []string, within time.Duration) blocks.Message {
	var refs []string
	for _, m := range managers {
		refs = append(refs, blocks.UserRef(m, ""))
	}
	text := "🚨 Unclaimed past its " + blocks.ShortDuration(within) + " response SLA"
	if owner != "" {
		text += " (owner " + blocks.UserRef(owner, "") + ")"
	}
	if len(refs) > 0 {
		text += ": " + strings.Join(refs, " ") + ", please make sure someone claims it."
	} else {
		text += ". No manager is configured for the owner (roles.managers or playbook.escalate_to)."
	}
	return blocks.Note("pb_escalation", text)
}

// overdueNote reminds the owner of a step past its deadline, once.
func overdueNote(owner string, st Step, due time.Time, loc *time.Location) blocks.Message {
	return blocks.Note("pb_overdue", "⏳ "+blocks.UserRef(owner, "Owner")+": *"+blocks.Escape(st.Label)+"* was due "+stamp(due, loc)+".")
}

// checkinNote is the weekly reminder, with the score's move since the last.
func checkinNote(owner string, st Step, playbookID int64, score, since *int, sinceAt time.Time, loc *time.Location) blocks.Message {
	line := "🔁 " + blocks.UserRef(owner, "Owner") + ": weekly check-in."
	if score != nil {
		line += " Health " + blocks.Itoa(*score)
		if since != nil {
			long, _ := blocks.ScoreChange(*score, since)
			if long == "" {
				long = "no change"
			}
			line += " (" + long + " since " + stamp(sinceAt, loc) + ")"
		}
		line += "."
	}
	bs := []slack.Block{
		blocks.Section("pb_checkin", line),
		blocks.Actions("pb_checkin_actions", blocks.Button(ActionStep+st.Key, strconv.FormatInt(playbookID, 10), "Record "+strings.ToLower(st.Label)+"…")),
	}
	return blocks.Finish("Weekly check-in", bs, blocks.MaxMessageBlocks)
}

// stepNote tells the thread a step was recorded; a plan asking for a
// discount carries the button that opens /offer prefilled.
func stepNote(st Step, user string, d StepDetails, accountID int64, loc *time.Location) blocks.Message {
	line := "✅ *" + blocks.Escape(st.Label) + "* recorded by " + blocks.UserRef(user, "")
	var bs []slack.Block
	body := []string{}
	if d.RootCause != "" {
		if info, ok := churn.Lookup(churn.Cause(d.RootCause)); ok {
			body = append(body, "Root cause: *"+info.Label+"*")
		}
	}
	for _, a := range d.Actions {
		body = append(body, blocks.UserText(a.What, maxAction)+" — "+blocks.UserRef(a.Owner, "no owner")+", due "+a.Due.Format("Jan 2"))
	}
	if len(d.Resources) > 0 {
		body = append(body, "Asked for: "+resourceLabels(d.Resources))
	}
	if d.Notes != "" {
		body = append(body, "> "+blocks.UserText(blocks.OneLine(d.Notes), 600))
	}
	bs = append(bs, blocks.Section("pb_step_note", blocks.BulletList(line, body, blocks.MaxSectionText)))
	for _, r := range d.Resources {
		if r == "discount" {
			bs = append(bs, blocks.Actions("pb_offer", blocks.Button(blocks.ActionProposeOffer, strconv.FormatInt(accountID, 10), "Propose offer")))
		}
	}
	return blocks.Finish(blocks.Escape(st.Label)+" recorded", bs, blocks.MaxMessageBlocks)
}

// recoveredNote closes the thread: the score before and after, and what
// was done.
func recoveredNote(p Playbook, account string, score int, since time.Time, steps []Step, done []StepRecord, loc *time.Location) blocks.Message {
	before := p.ScoreAtOpen
	long, _ := blocks.ScoreChange(score, &before)
	head := "🎉 *Recovered: " + blocks.UserText(account, blocks.MaxNameLen) + "*. Health " + blocks.Itoa(before) + " → " + blocks.Itoa(score)
	if long != "" {
		head += " (" + long + ")"
	}
	head += ", at or above the at-risk line since " + stamp(since, loc) + "."
	var did []string
	for _, st := range steps {
		for _, r := range done {
			if r.Step == st.Key {
				line := blocks.Escape(st.Label) + ": " + blocks.UserRef(r.RecordedBy, "") + ", " + stamp(r.RecordedAt, loc)
				if d := detailLine(r.Details); d != "" {
					line += " · " + d
				}
				did = append(did, blocks.TruncateMrkdwn(line, maxStepLine))
			}
		}
	}
	title := "*What was done*"
	if len(did) == 0 {
		title = "*What was done:* no steps were recorded."
	}
	bs := []slack.Block{
		blocks.Section("pb_recovered", head),
		blocks.Section("pb_recovered_steps", blocks.BulletList(title, did, blocks.MaxSectionText)),
	}
	return blocks.Finish("Recovered: "+blocks.UserText(account, blocks.MaxNameLen)+" "+blocks.Itoa(before)+" → "+blocks.Itoa(score), bs, blocks.MaxMessageBlocks)
}

// dismissedNote closes the thread of a false alarm, with its reason.
func dismissedNote(by, reason string) blocks.Message {
	return blocks.Note("pb_dismissed", "Dismissed as a false alarm by "+blocks.UserRef(by, "")+": “"+
		blocks.UserText(blocks.OneLine(reason), maxReason)+"”. Kept as a labelled example for the health model.")
}

// slipNote opens a playbook that follows a closed one: what happened last
// time, so the owner starts from it.
func slipNote(account string, score int, prev Playbook, done []StepRecord, cfg Settings) blocks.Message {
	head := "↩️ *" + blocks.UserText(account, blocks.MaxNameLen) + " slipped again* (health " + blocks.Itoa(score) + "). "
	switch prev.State {
	case StateRecovered:
		head += "It recovered"
	case StateDismissed:
		head += "The last alert was dismissed as a false alarm"
	default:
		head += "The last playbook closed as " + prev.State
	}
	if prev.ResolvedAt != nil {
		head += " on " + prev.ResolvedAt.UTC().Format("Jan 2, 2006")
	}
	head += fmt.Sprintf(" (playbook %d, opened %s at health %d).", prev.ID, prev.OpenedAt.UTC().Format("Jan 2, 2006"), prev.ScoreAtOpen)
	var did []string
	for _, r := range done {
		label := r.Step
		if st, ok := cfg.Step(r.Step); ok {
			label = st.Label
		}
		line := blocks.Escape(label)
		if d := detailLine(r.Details); d != "" {
			line += ": " + d
		}
		did = append(did, blocks.TruncateMrkdwn(line, maxStepLine))
	}
	title := "*Last time*"
	if len(did) == 0 {
		title = "*Last time* no steps were recorded."
	}
	bs := []slack.Block{blocks.Section("pb_slip", head), blocks.Section("pb_slip_steps", blocks.BulletList(title, did, blocks.MaxSectionText))}
	return blocks.Finish(blocks.UserText(account, blocks.MaxNameLen)+" slipped again", bs, blocks.MaxMessageBlocks)
}

// ---- modals ----

// stepModal asks for a step's form.
func stepModal(p Playbook, account string, st Step, now time.Time) slack.ModalViewRequest {
	bs := []slack.Block{blocks.Section("pb_modal_account", "At-risk playbook for *"+blocks.UserText(account, blocks.MaxNameLen)+"*")}
	notes := func(label string, required bool) slack.Block {
		in := slack.NewPlainTextInputBlockElement(blocks.Plain("What happened?", 150), input)
		in.Multiline, in.MaxLength = true, maxNotes
		b := slack.NewInputBlock(BlockNotes, blocks.Plain(label, 2000), nil, in)
		b.Optional = !required
		return b
	}
	switch st.Form {
	case FormDiscovery:
		var opts []*slack.OptionBlockObject
		for _, c := range churn.Causes {
			opts = append(opts, slack.NewOptionBlockObject(string(c.Cause), blocks.Plain(c.Label, 75), blocks.Plain(c.Definition, 75)))
		}
		sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, blocks.Plain("Choose a category", 150), input, opts...)
		bs = append(bs, slack.NewInputBlock(BlockRootCause, blocks.Plain("Root cause", 2000), nil, sel), notes("Notes", true))
	case FormPlan:
		for i := range planRows {
			what := slack.NewPlainTextInputBlockElement(blocks.Plain("What will we do?", 150), input)
			what.MaxLength = maxAction
			who := slack.NewOptionsSelectBlockElement(slack.OptTypeUser, blocks.Plain("Who owns it?", 150), input)
			date := slack.NewDatePickerBlockElement(input)
			date.InitialDate = now.AddDate(0, 0, 7).Format(time.DateOnly)
			n := strconv.Itoa(i)
			bw := slack.NewInputBlock(BlockAction+n, blocks.Plain("Action "+strconv.Itoa(i+1), 2000), nil, what)
			bo := slack.NewInputBlock(BlockActionOwner+n, blocks.Plain("Owner", 2000), nil, who)
			bd := slack.NewInputBlock(BlockActionDue+n, blocks.Plain("Due", 2000), nil, date)
			bw.Optional, bo.Optional, bd.Optional = i > 0, i > 0, i > 0
			bs = append(bs, bw, bo, bd)
		}
		var opts []*slack.OptionBlockObject
		for _, r := range Resources {
			opts = append(opts, slack.NewOptionBlockObject(r.Key, blocks.Plain(r.Label, 75), nil))
		}
		res := slack.NewInputBlock(BlockResources, blocks.Plain("Resources asked for", 2000), nil,
			slack.NewCheckboxGroupsBlockElement(input, opts...))
		res.Optional = true
		bs = append(bs, res, notes("Notes", false))
	case FormCheckin:
		bs = append(bs, notes("How is it going?", true))
	default:
		bs = append(bs, notes("Notes", true))
	}
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: ViewStep + st.Key, PrivateMetadata: strconv.FormatInt(p.ID, 10),
		Title:  blocks.Plain(st.Label, blocks.MaxViewTitle),
		Submit: blocks.Plain("Save", blocks.MaxViewTitle), Close: blocks.Plain("Cancel", blocks.MaxViewTitle),
		Blocks: slack.Blocks{BlockSet: bs},
	}
}

// dismissModal asks why the alert was a false alarm.
func dismissModal(p Playbook, account string) slack.ModalViewRequest {
	in := slack.NewPlainTextInputBlockElement(blocks.Plain("Why was this not a real risk?", 150), input)
	in.Multiline, in.MinLength, in.MaxLength = true, minReason, maxReason
	bs := []slack.Block{
		blocks.Section("pb_modal_account", "Dismiss the at-risk alert for *"+blocks.UserText(account, blocks.MaxNameLen)+"* as a false alarm."),
		slack.NewInputBlock(BlockReason, blocks.Plain("Reason", 2000), blocks.Plain("Kept as a labelled example for the health model.", 2000), in),
	}
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: ViewDismiss, PrivateMetadata: strconv.FormatInt(p.ID, 10),
		Title:  blocks.Plain("False alarm", blocks.MaxViewTitle),
		Submit: blocks.Plain("Dismiss", blocks.MaxViewTitle), Close: blocks.Plain("Cancel", blocks.MaxViewTitle),
		Blocks: slack.Blocks{BlockSet: bs},
	}
}
