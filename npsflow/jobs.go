package npsflow

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/nps"
	"github.com/holdfast/holdfast/store"
)

// Job names, for the scheduler and for tests' RunNow.
const (
	JobCadence = "nps-cadence" // daily: who is due a survey
	JobLoops   = "nps-loops"   // overdue steps, follow-ups, non-responder reminders
	JobWebhook = "nps-webhook" // pending POSTs to the survey tool
	JobDigest  = "nps-digest"  // weekly promoters and passives
)

// Batch sizes per run; a run that hits one leaves the rest for the next
// tick (every job is catch-up style).
const (
	loopsPerRun      = 500
	remindersPerRun  = 2000
	digestPerRun     = 2000
	deliveriesPerRun = 20
	postTimeout      = 10 * time.Second // one POST to the survey tool
	// deliveryLease outlasts a run of slow POSTs, so a later tick (on any
	// replica) does not take a delivery this run has yet to send.
	deliveryLease = deliveriesPerRun*postTimeout + time.Minute
	warnAfter     = 5 // failed attempts before the CS channel hears
	// A failed POST is retried after 1, 2, 4… minutes, then hourly.
	retryBase  = time.Minute
	retryLimit = time.Hour
)

// SurveyPayload is what the survey tool receives (POST, JSON, signed).
type SurveyPayload struct {
	Type        string          `json:"type"` // "nps.surveys_due"
	GeneratedAt time.Time       `json:"generated_at"`
	Surveys     []SurveyRequest `json:"surveys"`
}

// SurveyRequest is one survey to send. The tool echoes survey_id back in
// the answer (POST /v1/nps) so it is matched exactly.
type SurveyRequest struct {
	SurveyID    int64          `json:"survey_id"`
	Account     string         `json:"account"` // external id
	AccountName string         `json:"account_name"`
	Kind        nps.SurveyKind `json:"kind"`
	Reason      string         `json:"reason"`
	// Contact is who to survey; "" = the account's contacts as the tool
	// knows them. KnownRespondents are who answered in the last year.
	Contact          string   `json:"contact"`
	KnownRespondents []string `json:"known_respondents,omitempty"`
	OwnerCSM         string   `json:"owner_csm,omitempty"`
}

func (s *Service) webhookOn() bool { return s.cfg.Webhook.URL != "" }

// Cadence selects today's surveys, posts the due list to the CS channel
// and queues them for the survey tool, in one transaction.
func (s *Service) Cadence(ctx context.Context, now time.Time) error {
	params := store.CadenceParams{Now: now, Today: nps.Today(now, s.loc), Timezone: s.loc.String(),
		CatchUp: s.cadence.CatchUp, Webhook: s.webhookOn()}
	deferred := 0
	created, err := s.store.RunNPSCadence(ctx, params, func(cands []store.NPSCadenceCandidate) (store.CadenceRun, error) {
		byID := map[int64]store.NPSCadenceCandidate{}
		var run store.CadenceRun
		for _, c := range cands {
			due, held := s.cadence.Due(c.CadenceAccount, now)
			deferred += len(held)
			if due == nil {
				continue
			}
			byID[c.ID] = c
			run.Surveys = append(run.Surveys, store.NPSSurvey{AccountID: c.ID, Kind: due.Kind, Cycle: due.Cycle, Reason: due.Reason})
		}
		run.Render = func(created []store.NPSSurvey) ([]store.OutboxItem, error) {
			if s.channel == "" {
				s.log.Warn("the due-survey list has nowhere to go: set nps.cs_channel or alerts.default_channel")
				return nil, nil
			}
			view := blocks.NPSDueView{ViaTool: s.webhookOn(), Date: params.Today}
			for _, v := range created {
				c := byID[v.AccountID]
				view.Rows = append(view.Rows, blocks.NPSDueRow{AccountID: c.ID, AccountName: c.Name, ExternalID: c.ExternalID,
					OwnerCSM: c.OwnerCSM, Kind: v.Kind, Reason: v.Reason})
			}
			return []store.OutboxItem{{Op: store.OpPost, ChannelID: s.channel, Message: message(blocks.NPSDueList(view))}}, nil
		}
		if s.webhookOn() {
			run.Payload = func(chunk []store.NPSSurvey) any {
				payload := SurveyPayload{Type: "nps.surveys_due", GeneratedAt: now}
				for _, v := range chunk {
					c := byID[v.AccountID]
					payload.Surveys = append(payload.Surveys, SurveyRequest{SurveyID: v.ID, Account: c.ExternalID, AccountName: c.Name,
						Kind: v.Kind, Reason: v.Reason, Contact: v.Contact, KnownRespondents: c.Respondents, OwnerCSM: c.OwnerCSM})
				}
				return payload
			}
		}
		return run, nil
	})
	if err != nil {
		return fmt.Errorf("nps cadence: %w", err)
	}
	s.log.Info("nps cadence", "selected", len(created), "deferred_by_quiet_period", deferred)
	return nil
}

// Loops nudges overdue steps, sends due follow-ups and reminds CSMs of
// unanswered surveys.
func (s *Service) Loops(ctx context.Context, now time.Time) error {
	ids, err := s.store.DueNPSLoops(ctx, now, loopsPerRun)
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range ids {
		if err := s.followUp(ctx, id, now); err != nil {
			errs = append(errs, fmt.Errorf("loop %d follow-up: %w", id, err))
		}
		if err := s.nudge(ctx, id, now); err != nil {
			errs = append(errs, fmt.Errorf("loop %d nudge: %w", id, err))
		}
	}
	if err := s.remind(ctx, now); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// nudge posts what the policy says is due for one loop: the CSM in the
// thread when a step is late, their manager when it stays late.
func (s *Service) nudge(ctx context.Context, id int64, now time.Time) error {
	return s.store.UpdateNPSLoop(ctx, id, func(l *store.NPSLoop, a store.Account) (store.LoopEffects, error) {
		if a.OwnerCSM != "" {
			l.OwnerCSM = a.OwnerCSM
		}
		due := s.policy.Nudges(l.Loop, l.Nudged, now)
		eff := store.LoopEffects{NudgedAt: now}
		for _, n := range due {
			key := nps.NudgeKey{Step: n.Step, Level: n.Level}
			eff.Nudges = append(eff.Nudges, key)
			l.Nudged[key] = true
			manager := s.cfg.ManagerOf(l.OwnerCSM)
			if n.Level == 2 && manager == "" {
				s.log.Warn("overdue loop step has no manager to mention: set nps.managers or nps.default_manager",
					"loop", l.ID, "step", n.Step)
				continue
			}
			summary := "detractor loop: " + string(n.Step) + " overdue, CSM nudged"
			if n.Level == 2 {
				summary = "detractor loop: " + string(n.Step) + " overdue, manager mentioned"
			}
			eff.Timeline = append(eff.Timeline, store.TimelineEntry{At: now, Kind: "nps.overdue", Summary: summary})
			if l.ChannelID != "" {
				eff.Outbox = append(eff.Outbox, threadPost(*l, blocks.NPSNudgeNote(n, l.OwnerCSM, manager)))
			}
		}
		// Written even when nothing was due, so a loop is not picked again
		// before its next nudge.
		l.NextCheckAt = s.policy.NextCheck(l.Loop, l.Nudged, l.FollowUpSurveyID != 0)
		if len(due) > 0 && l.ChannelID != "" {
			up, err := s.cardUpdate(*l) // shows the step as overdue
			if err != nil {
				return store.LoopEffects{}, err
			}
			eff.Outbox = append(eff.Outbox, up)
		}
		return eff, nil
	})
}

// followUp sends a loop's follow-up survey once it is due.
func (s *Service) followUp(ctx context.Context, id int64, now time.Time) error {
	_, err := s.store.SendNPSFollowUp(ctx, id, now, func(l *store.NPSLoop, a store.Account, v store.NPSSurvey) (store.FollowUpEffects, error) {
		l.NextCheckAt = s.policy.NextCheck(l.Loop, l.Nudged, true)
		eff := store.FollowUpEffects{LoopEffects: store.LoopEffects{Timeline: []store.TimelineEntry{{At: now, Kind: "nps.follow_up_sent",
			Summary: "detractor follow-up survey to " + l.Respondent}}}}
		if s.webhookOn() {
			eff.Webhook = func(v store.NPSSurvey) any {
				return SurveyPayload{Type: "nps.surveys_due", GeneratedAt: now, Surveys: []SurveyRequest{{SurveyID: v.ID,
					Account: a.ExternalID, AccountName: a.Name, Kind: v.Kind, Reason: v.Reason, Contact: v.Contact, OwnerCSM: a.OwnerCSM}}}
			}
		}
		if l.ChannelID != "" {
			// The card says "sent" now; with a survey tool the POST is on
			// its way (and retried until the tool takes it).
			sent := *l
			sent.FollowUpSurveyID, sent.FollowUpSentAt = v.ID, &now
			up, err := s.cardUpdate(sent)
			if err != nil {
				return eff, err
			}
			eff.Outbox = []store.OutboxItem{threadPost(*l, blocks.NPSFollowUpSentNote(l.Respondent, s.policy.FollowUp, s.webhookOn())), up}
		}
		return eff, nil
	})
	return err
}

// remind sends each CSM one message about their surveys sent a week ago
// (nps.cadence.reminder_after) and still unanswered; each survey is in one
// reminder only.
func (s *Service) remind(ctx context.Context, now time.Time) error {
	after := s.cfg.Cadence.ReminderAfter.Duration
	cutoff := now.Add(-after)
	_, err := s.store.RemindNPSNonResponders(ctx, cutoff, now, remindersPerRun, func(list []store.NPSUnanswered) ([]store.OutboxItem, error) {
		byOwner := map[string][]blocks.NPSReminderRow{}
		var owners []string
		for _, u := range list {
			if _, ok := byOwner[u.OwnerCSM]; !ok {
				owners = append(owners, u.OwnerCSM)
			}
			byOwner[u.OwnerCSM] = append(byOwner[u.OwnerCSM], blocks.NPSReminderRow{AccountID: u.Survey.AccountID,
				AccountName: u.AccountName, Contact: u.Survey.Contact, Kind: u.Survey.Kind, SentAt: *u.Survey.SentAt})
		}
		slices.Sort(owners)
		var items []store.OutboxItem
		for _, owner := range owners {
			// A DM is a post to the user's id; accounts without an owner go
			// to the CS channel.
			ch := cmp.Or(owner, s.channel)
			if ch == "" {
				s.log.Warn("survey reminders have nowhere to go", "surveys", len(byOwner[owner]))
				continue
			}
			items = append(items, store.OutboxItem{Op: store.OpPost, ChannelID: ch, Message: message(blocks.NPSReminder(owner, byOwner[owner], after, now))})
		}
		return items, nil
	})
	return err
}

// Webhook POSTs pending survey batches to the survey tool. A failure is
// retried with backoff (1, 2, 4… minutes, then hourly) until the tool
// answers 2xx; the CS channel hears once when it keeps failing.
func (s *Service) Webhook(ctx context.Context, now time.Time) error {
	if !s.webhookOn() {
		return nil
	}
	list, err := s.store.LeaseNPSDeliveries(ctx, now, deliveriesPerRun, deliveryLease)
	if err != nil {
		return err
	}
	var errs []error
	for _, d := range list {
		sendErr := s.post(ctx, d, now)
		if sendErr == nil {
			if err := s.store.NPSDeliveryDone(ctx, d.ID, now); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		s.log.Warn("survey tool POST failed; will retry", "delivery", d.ID, "attempt", d.Attempts, "err", sendErr)
		var warn *store.OutboxItem
		if d.Attempts >= warnAfter && s.channel != "" {
			var p SurveyPayload
			_ = json.Unmarshal(d.Payload, &p) // our own JSON
			warn = &store.OutboxItem{Op: store.OpPost, ChannelID: s.channel,
				Message: message(blocks.NPSWebhookFailing(len(p.Surveys), d.Attempts, sendErr.Error()))}
		}
		if err := s.store.NPSDeliveryFailed(ctx, d.ID, now, now.Add(store.Backoff(d.Attempts, retryBase, retryLimit)), sendErr.Error(), warn); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// post sends one delivery, signed; the secret is never logged.
func (s *Service) post(ctx context.Context, d store.NPSDelivery, now time.Time) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.Webhook.URL, bytes.NewReader(d.Payload))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Holdfast")
	req.Header.Set(nps.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(nps.HeaderSignature, nps.Sign(s.secret, now, d.Payload))
	req.Header.Set(nps.HeaderDelivery, strconv.FormatInt(d.ID, 10))
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("survey tool answered %s", resp.Status)
	}
	return nil
}

// Digest posts the week's promoters (advocacy and expansion candidates)
// and passives (low-priority tasks) to the CS channel.
func (s *Service) Digest(ctx context.Context, now time.Time) error {
	if s.channel == "" {
		s.log.Warn("nps digest has nowhere to go: set nps.cs_channel or alerts.default_channel")
		return nil
	}
	_, err := s.store.DigestNPS(ctx, now, digestPerRun, func(list []store.NPSDigestEntry) ([]store.OutboxItem, error) {
		var promoters, passives []blocks.NPSDigestRow
		for _, e := range list {
			row := blocks.NPSDigestRow{AccountID: e.Response.AccountID, AccountName: e.AccountName, OwnerCSM: e.OwnerCSM,
				ARR: e.ARR, Respondent: e.Response.Respondent, Score: e.Response.Score, Comment: e.Response.Comment}
			if e.Response.Category == nps.Promoter {
				promoters = append(promoters, row)
			} else {
				passives = append(passives, row)
			}
		}
		// Biggest accounts first: that is where advocacy and expansion pay.
		byARR := func(a, b blocks.NPSDigestRow) int { return cmp.Compare(b.ARR, a.ARR) }
		slices.SortStableFunc(promoters, byARR)
		slices.SortStableFunc(passives, func(a, b blocks.NPSDigestRow) int {
			return cmp.Or(cmp.Compare(a.OwnerCSM, b.OwnerCSM), byARR(a, b))
		})
		return []store.OutboxItem{{Op: store.OpPost, ChannelID: s.channel,
			Message: message(blocks.NPSDigest(promoters, passives, nps.Today(now, s.loc)))}}, nil
	})
	return err
}
