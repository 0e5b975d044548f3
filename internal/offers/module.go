// Package offers is retention offers: what a CSM may propose (guidelines
// per tier), who must approve it (a routing policy evaluated as data),
// what it costs against what it keeps (financial impact), and the whole
// approval: /offer and its form, a thread per request in the approvals
// channel, decisions in the thread and in DMs, revisions, SLA reminders
// and escalation to a backup, the customer's answer, tracking to the
// renewal, /offers lists and stats, and the App Home's pending approvals.
//
// The pure rules (offers.go, route.go, rules.go, stats.go, summary.go)
// decide; the services (service.go) run each change in one transaction:
// lock, check the rules, write (sql.go), render (messages.go, cards.go)
// and queue the messages in the outbox.
package offers

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/handlers"
	"github.com/holdfast/holdfast/schedule"
	"github.com/holdfast/holdfast/store"
)

// Slack is the part of Slack offers call directly; messages go through
// the outbox.
type Slack interface {
	OpenView(ctx context.Context, triggerID string, view slack.ModalViewRequest) error
	UserGroupMembers(ctx context.Context, group string) ([]string, error)
}

// Summarizer writes approvers' summaries (the language model); nil means
// none is configured and the template is the summary.
type Summarizer interface {
	JSON(ctx context.Context, system, user string, out any, validate func() error) error
}

// Module is the offers feature as the app mounts it.
type Module struct {
	svc    service
	st     *store.Store
	slack  Slack
	model  Summarizer
	set    Settings
	now    func() time.Time
	log    *slog.Logger
	router *handlers.Router
	groups groupCache

	// Summaries by the model are written after the request is stored;
	// Close waits for them.
	bg     sync.WaitGroup
	bgCtx  context.Context
	cancel context.CancelFunc
}

// New wires the offers feature on its settings (the offers: section,
// validated). model may be nil.
func New(st *store.Store, sl Slack, model Summarizer, set Settings, now func() time.Time, log *slog.Logger) *Module {
	ctx, cancel := context.WithCancel(context.Background())
	return &Module{svc: service{st: st}, st: st, slack: sl, model: model, set: set, now: now, log: log, bgCtx: ctx, cancel: cancel,
		groups: groupCache{ttl: time.Minute, m: map[string]groupEntry{}}}
}

// Name names the feature.
func (*Module) Name() string { return "offers" }

// Close stops summaries in flight (the template stays) and waits for them.
func (o *Module) Close() {
	o.cancel()
	o.bg.Wait()
}

const (
	groupLookupTimeout = 1500 * time.Millisecond // inside a view submission's 3 s
	pendingShown       = 15
	statsWindow        = 365 * 24 * time.Hour
)

// Register puts /offer, /offers, the decision buttons and the modals on r,
// and the churn-risk alert's Propose offer button.
func (o *Module) Register(r *handlers.Router) {
	o.router = r
	r.HandleCommand("/offer", o.offerCommand)
	r.HandleCommand("/offers", o.offersCommand)
	r.HandleAction(blocks.ActionProposeOffer, o.openNewForm)
	r.HandleAction(blocks.ActionOfferPickPrefix, o.openNewForm)
	r.HandleAction(blocks.ActionOfferApprovePrefix, o.approveClick)
	r.HandleAction(blocks.ActionOfferRevisePrefix, func(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
		return o.guidanceClick(ctx, cb, act, ActionRevise)
	})
	r.HandleAction(blocks.ActionOfferRejectPrefix, func(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
		return o.guidanceClick(ctx, cb, act, ActionReject)
	})
	r.HandleAction(blocks.ActionOfferEditPrefix, o.editClick)
	r.HandleAction(blocks.ActionOfferAnswerPrefix, o.answerClick)
	r.HandleView(blocks.CallbackOfferForm, o.submitForm)
	r.HandleView(blocks.CallbackOfferGuidance, o.submitGuidance)
	r.HandleView(blocks.CallbackOfferCounter, o.submitCounter)
}

// Jobs: SLA reminders and escalation every minute, renewal outcomes daily.
func (o *Module) Jobs() []schedule.Job {
	return []schedule.Job{
		{Name: "offers-sla", Spec: "* * * * *", Run: o.RunSLAs},
		{Name: "offers-outcomes", Spec: "30 6 * * *", Run: o.ResolveOutcomes},
	}
}

// HomeSections: the approvals waiting for the viewer, with their buttons.
func (o *Module) HomeSections() []handlers.HomeSection {
	return []handlers.HomeSection{{Name: "offers", Render: func(ctx context.Context, user string, now time.Time) (blocks.HomeSection, bool, error) {
		title, bs, ok, err := o.PendingForHome(ctx, user, now)
		return blocks.HomeSection{Title: title, Blocks: bs}, ok, err
	}}}
}

// PendingForHome is the App Home section of offers waiting for user's
// decision, with their buttons; ok is false when nothing waits (the
// section is then left out).
func (o *Module) PendingForHome(ctx context.Context, user string, now time.Time) (title string, bs []slack.Block, ok bool, err error) {
	list, err := o.svc.pending(ctx, user, pendingShown+1)
	if err != nil || len(list) == 0 {
		return "", nil, false, err
	}
	return PendingApprovalsTitle, pendingBlocks(pendingApprovalRows(list, user, now)), true, nil
}

// RunSLAs nudges and escalates approval steps waiting past their SLA, as
// of now (the offers-sla job).
func (o *Module) RunSLAs(ctx context.Context, now time.Time) error {
	res, err := o.svc.runSLAs(ctx, now)
	if res.Nudged+res.Escalated > 0 {
		o.log.Info("offer SLAs", "nudged", res.Nudged, "escalated", res.Escalated)
	}
	return err
}

// ResolveOutcomes tracks accepted offers to their renewal (the
// offers-outcomes job).
func (o *Module) ResolveOutcomes(ctx context.Context, now time.Time) error {
	n, err := o.svc.resolveOutcomes(ctx, now)
	if n > 0 {
		o.log.Info("offer renewal outcomes recorded", "count", n)
	}
	return err
}
