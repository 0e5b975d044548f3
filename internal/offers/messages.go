package offers

// What each change posts: the request's card in the approvals channel and
// the notes in its thread, the approvers' DMs (re-rendered without their
// buttons once the step is out of play), and the requester's DMs.

import (
	"fmt"
	"slices"
	"time"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/store"
)

// viewOf adapts a stored request. Messages that stay in Slack get a zero
// now so they say dates, not "waiting 3h" that would go stale.
func viewOf(st State, now time.Time) requestView {
	return versionView(st, st.Version, st.Steps, now)
}

func versionView(st State, ver Version, steps []ApprovalStep, now time.Time) requestView {
	v := requestView{
		RequestID: st.Request.ID, Version: ver.Version, Status: st.Request.Status,
		AccountID: st.Account.ID, AccountName: st.Account.Name,
		RenewalDate: st.Account.RenewalDate, RequestedBy: st.Request.RequestedBy, Offer: ver.Offer, Impact: ver.Impact,
		CustomerAnswer: st.Request.CustomerAnswer, AnswerNote: st.Request.AnswerNote, RenewalOutcome: st.Request.RenewalOutcome,
		ApprovalsChannel: st.Request.ChannelID, SubmittedAt: ver.SubmittedAt, Summary: ver.Summary, Now: now,
	}
	for _, s := range steps {
		v.Steps = append(v.Steps, stepViewOf(s))
	}
	for _, d := range st.Trail {
		v.Trail = append(v.Trail, trailEntry{At: d.At, Version: d.Version, Step: d.StepName, Actor: d.Actor,
			Action: d.Action, Guidance: d.Guidance, Answer: d.Answer})
	}
	return v
}

func stepViewOf(s ApprovalStep) stepView {
	return stepView{ID: s.ID, Stage: s.Stage, StageName: s.StageName, Name: s.Name, Approvers: s.Approvers,
		Backup: s.Backup, Escalated: s.EscalatedAt != nil, Status: s.Status, DecidedBy: s.DecidedBy, DecidedAt: s.DecidedAt,
		Guidance: s.Guidance, ActivatedAt: s.ActivatedAt, SLA: s.SLA}
}

// messages turns a change into the messages it causes; post queues them
// in the change's transaction.
func messages(st State, ev Event) ([]store.OutboxItem, error) {
	r := offerMessages{st: st, v: viewOf(st, time.Time{})}
	id, ver := st.Request.ID, st.Request.Version
	switch ev.Kind {
	case EventSubmitted:
		r.add(store.OutboxItem{Op: store.OpPost, ChannelID: st.Request.ChannelID, ThreadKey: threadKey(id),
			Ref: rootRef(id), Message: requestCard(r.v)})
		r.summary()
		r.approverDMs(ev.Activated)
		r.dm(st.Request.RequestedBy, "", submittedDM(r.v))
	case EventRevised:
		r.root()
		prev := Offer{}
		if st.Previous != nil {
			prev = st.Previous.Offer
		}
		r.thread(revisedNote(r.v, prev))
		r.summary()
		r.refreshDMs(ev.Closed)
		r.approverDMs(ev.Activated)
		r.dm(st.Request.RequestedBy, "", submittedDM(r.v))
	case EventDecided:
		r.root()
		r.thread(decisionNote(r.v, stepViewOf(ev.Step)))
		r.refreshDMs(append([]ApprovalStep{ev.Step}, ev.Closed...))
		if len(ev.Activated) > 0 {
			started := make([]stepView, len(ev.Activated))
			for i, s := range ev.Activated {
				started[i] = stepViewOf(s)
			}
			r.thread(stageNote(r.v, started))
			r.approverDMs(ev.Activated)
		}
		switch st.Request.Status {
		case RequestApproved:
			r.thread(approvedNote(r.v))
			r.dm(st.Request.RequestedBy, termsRef(id, ver), termsDM(r.v))
		case RequestRejected:
			r.dm(st.Request.RequestedBy, "", closedDM(r.v, stepViewOf(ev.Step)))
		case RequestRevisionRequested:
			r.dm(st.Request.RequestedBy, revisionRef(id, ver), closedDM(r.v, stepViewOf(ev.Step)))
		}
	case EventNudged:
		waited := ev.At.Sub(deref(ev.Step.ActivatedAt, ev.At))
		r.thread(nudgeNote(stepViewOf(ev.Step), waited))
		for _, u := range ev.Step.Deciders() {
			r.dm(u, "", reminderDM(r.v, stepViewOf(ev.Step), waited))
		}
	case EventEscalated:
		waited := ev.At.Sub(deref(ev.Step.ActivatedAt, ev.At))
		r.root()
		r.thread(escalationNote(stepViewOf(ev.Step), waited))
		if b := ev.Step.Backup; b != "" && !slices.Contains(ev.Step.Approvers, b) {
			r.dm(b, dmRef(id, ev.Step.ID, b), approverDM(r.v, stepViewOf(ev.Step), true))
		}
	case EventAnswered:
		r.root()
		r.thread(answerNote(r.v))
		r.dmUpdate(st.Request.RequestedBy, termsRef(id, ver), termsDM(r.v))
	case EventOutcome:
		r.root()
		r.thread(outcomeNote(r.v))
	case EventSummarized:
		sv := versionView(st, ev.Version, nil, time.Time{})
		m := summaryMessage(summaryView{Offer: sv, Brief: ev.Version.Brief, ByModel: true})
		r.add(store.OutboxItem{Op: store.OpUpdate, ChannelID: st.Request.ChannelID, TargetRef: summaryRef(id, ev.Version.Version),
			Message: m})
		if ev.Version.Version == st.Version.Version && st.Request.Status == RequestPending {
			r.refreshDMs(st.ActiveSteps()) // open approval DMs show the summary too
		}
	default:
		return nil, fmt.Errorf("unknown offer event %q", ev.Kind)
	}
	return r.items, nil
}

type offerMessages struct {
	st    State
	v     requestView
	items []store.OutboxItem
}

func (r *offerMessages) add(it store.OutboxItem) { r.items = append(r.items, it) }

func (r *offerMessages) root() {
	r.add(store.OutboxItem{Op: store.OpUpdate, ChannelID: r.st.Request.ChannelID, TargetRef: rootRef(r.st.Request.ID),
		Message: requestCard(r.v)})
}

func (r *offerMessages) thread(m blocks.Message) {
	r.add(store.OutboxItem{Op: store.OpPost, ChannelID: r.st.Request.ChannelID, ThreadKey: threadKey(r.st.Request.ID),
		Message: m})
}

// summary posts the new version's template summary in the thread, named
// so the model's can replace it (EventSummarized).
func (r *offerMessages) summary() {
	m := summaryMessage(summaryView{Offer: r.v, Brief: r.st.Version.Brief})
	r.add(store.OutboxItem{Op: store.OpPost, ChannelID: r.st.Request.ChannelID, ThreadKey: threadKey(r.st.Request.ID),
		Ref: summaryRef(r.st.Request.ID, r.st.Version.Version), Message: m})
}

// dm posts to a user's DM; ref names it when it will be updated later.
func (r *offerMessages) dm(user, ref string, m blocks.Message) {
	if user == "" {
		return
	}
	r.add(store.OutboxItem{Op: store.OpPost, ChannelID: user, Ref: ref, Message: m})
}

func (r *offerMessages) dmUpdate(user, ref string, m blocks.Message) {
	if user == "" {
		return
	}
	r.add(store.OutboxItem{Op: store.OpUpdate, ChannelID: user, TargetRef: ref, Message: m})
}

// approverDMs sends the approvers of steps that just started the request
// with its buttons (a backup is brought in by EventEscalated instead).
func (r *offerMessages) approverDMs(steps []ApprovalStep) {
	for _, s := range steps {
		for _, u := range s.DMUsers {
			r.dm(u, dmRef(r.st.Request.ID, s.ID, u), approverDM(r.v, stepViewOf(s), false))
		}
	}
}

// refreshDMs re-renders the DMs of steps that were decided or taken out of
// play, which drops their buttons. A superseded step's DM keeps showing
// the version it was about.
func (r *offerMessages) refreshDMs(steps []ApprovalStep) {
	for _, s := range steps {
		v := r.v
		if s.Version != r.st.Version.Version && r.st.Previous != nil && r.st.Previous.Version == s.Version {
			v = versionView(r.st, *r.st.Previous, nil, time.Time{})
			v.Version = r.st.Version.Version // "replaced by version N" names the new one
		}
		for _, u := range s.DMUsers {
			escalated := s.EscalatedAt != nil && u == s.Backup && !slices.Contains(s.Approvers, u)
			r.dmUpdate(u, dmRef(r.st.Request.ID, s.ID, u), approverDM(v, stepViewOf(s), escalated))
		}
	}
}

func deref(t *time.Time, def time.Time) time.Time {
	if t == nil {
		return def
	}
	return *t
}
