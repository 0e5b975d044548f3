package nps

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/holdfast/holdfast/api"
	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/scoring"
	"github.com/holdfast/holdfast/scoring/text"
	"github.com/holdfast/holdfast/store"
)

// SignalSource is the source of the signals NPS answers become; with the
// answer's key it makes replays duplicates.
const SignalSource = "nps_survey"

// loopMaxAge: a detractor answer older than this (a backfill of old
// survey results) is recorded and scored but opens no loop; nobody can
// "contact within 24 h" about last year's answer.
const loopMaxAge = 30 * 24 * time.Hour

// AnswerResult reports one input row.
type AnswerResult struct {
	SignalID   int64    `json:"signal_id,omitempty"`
	ResponseID int64    `json:"response_id,omitempty"`
	Category   Category `json:"category"`
	Duplicate  bool     `json:"duplicate,omitempty"`
	SurveyID   int64    `json:"survey_id,omitempty"`    // the survey it was matched to
	LoopID     int64    `json:"loop_id,omitempty"`      // the detractor loop it opened
	FollowUpOf int64    `json:"follow_up_of,omitempty"` // the loop it followed up
}

// Result reports an accepted batch.
type Result struct {
	Stored     int            `json:"stored"`
	Duplicates int            `json:"duplicates"`
	Answers    []AnswerResult `json:"answers"`
	Alerts     []int64        `json:"alerts"`
}

// Ingest records a batch of answers from the API (at most MaxBatch), all
// or nothing. Row problems come back as *api.ValidationError.
func (m *Module) Ingest(ctx context.Context, in []AnswerIn) (Result, error) {
	return m.record(ctx, in, MaxBatch)
}

// Import records a CSV file's answers in one transaction, however many.
func (m *Module) Import(ctx context.Context, in []AnswerIn) (Result, error) {
	return m.record(ctx, in, 0)
}

// record stores the answers as NPS signals through the ingest pipeline and,
// in the same transaction, the answers themselves, their surveys and loops.
func (m *Module) record(ctx context.Context, in []AnswerIn, maxRows int) (Result, error) {
	now := m.now()
	answers, rowErrs := Validate(in, now, maxRows)
	if err := api.Rows(rowErrs); err != nil {
		return Result{}, err
	}
	signals := make([]ingest.SignalIn, len(answers))
	analyses := make([]text.Result, len(answers))
	for i, a := range answers {
		score := float64(a.Score)
		meta := map[string]any{"respondent": a.Respondent, "survey_kind": a.Kind}
		if a.SurveyID != 0 {
			meta["survey_id"] = a.SurveyID
		}
		raw, err := json.Marshal(meta)
		if err != nil {
			return Result{}, fmt.Errorf("encode nps metadata: %w", err)
		}
		// Read once here (the answer row keeps it) and handed to the
		// pipeline, which would otherwise read the comment again.
		analyses[i] = m.analyzer.Analyze(a.Comment)
		signals[i] = ingest.SignalIn{Account: a.Account, Kind: string(scoring.KindNPS), Source: SignalSource,
			IdempotencyKey: a.Key, OccurredAt: a.AnsweredAt, Text: a.Comment, Value: &score, Metadata: raw,
			Analysis: &analyses[i]}
	}
	out := Result{Answers: make([]AnswerResult, len(answers))}
	b, err := m.ingest.Prepare(ctx, signals)
	if err != nil {
		return Result{}, err
	}
	res, err := b.Finish(m.store.InTx(ctx, func(tx store.Tx) error {
		if err := m.ingest.Apply(ctx, tx, b); err != nil {
			return err
		}
		return m.recordAnswers(ctx, tx, b, answers, analyses, now, out.Answers)
	}))
	if err != nil {
		return Result{}, err
	}
	out.Stored, out.Duplicates, out.Alerts = res.Stored, res.Duplicates, res.Alerts
	for i := range out.Answers {
		out.Answers[i].SignalID = res.SignalIDs[i]
		out.Answers[i].Category = answers[i].Category
		out.Answers[i].Duplicate = res.SignalIDs[i] == 0
	}
	return out, nil
}

// recordAnswers runs in the ingest transaction: the new answers are stored
// and matched to their surveys (one statement each for the whole batch);
// then each either follows up a loop or, a detractor, opens one.
// Duplicates (signal id 0) are left alone: their answer, loop and thread
// exist already.
func (m *Module) recordAnswers(ctx context.Context, tx store.Tx, done *ingest.Batch, answers []Answer,
	analyses []text.Result, now time.Time, results []AnswerResult) error {
	var rows []int // input indexes of the new answers
	var responses []response
	for i, a := range answers {
		if done.SignalIDs[i] == 0 {
			continue
		}
		r := response{AccountID: done.AccountIDs[i], SignalID: done.SignalIDs[i], Respondent: a.Respondent, Score: a.Score,
			Category: a.Category, Comment: a.Comment, Kind: a.Kind, AnsweredAt: a.AnsweredAt,
			Competitors: competitorNames(analyses[i])}
		if an := analyses[i]; strings.TrimSpace(a.Comment) != "" {
			v := an.Sentiment
			r.Sentiment, r.SentimentLabel, r.ChurnIntent = &v, string(an.Label), an.ChurnIntent
		}
		rows, responses = append(rows, i), append(responses, r)
	}
	if len(rows) == 0 {
		return nil
	}
	ids, err := insertResponses(ctx, tx, responses)
	if err != nil {
		return err
	}
	claims := make([]surveyClaim, len(rows))
	for k, i := range rows {
		responses[k].ID = ids[k]
		results[i].ResponseID = ids[k]
		a := answers[i]
		claims[k] = surveyClaim{AccountID: responses[k].AccountID, SurveyID: a.SurveyID, Respondent: a.Respondent,
			Kind: a.Kind, AnsweredAt: a.AnsweredAt, ResponseID: ids[k]}
	}
	surveys, err := claimSurveys(ctx, tx, claims)
	var mismatch *surveyMismatchError
	if errors.As(err, &mismatch) {
		i := rows[mismatch.Index]
		return &api.ValidationError{Rows: []api.RowError{{Index: i, Field: "survey_id",
			Message: fmt.Sprintf("no survey %d for account %q", answers[i].SurveyID, answers[i].Account)}}}
	}
	if err != nil {
		return err
	}
	var linkR, linkS, linkL []int64
	for k, i := range rows {
		a, r, survey := answers[i], responses[k], surveys[k]
		acct := done.Accounts[r.AccountID]
		var hp *scoring.Health
		if h, ok := done.Health[r.AccountID]; ok {
			hp = &h
		}
		var followed int64
		if a.Kind == KindFollowUp || (survey != nil && survey.Kind == KindFollowUp) {
			var loopID int64
			if survey != nil {
				loopID = survey.LoopID
			}
			loop, ok, err := followUpLoop(ctx, tx, r.AccountID, loopID, a.Respondent)
			if err != nil {
				return err
			}
			if ok {
				if err := m.recordFollowUp(ctx, tx, &loop, acct, r, now); err != nil {
					return err
				}
				followed = loop.ID
				results[i].FollowUpOf = loop.ID
				if a.Category == Detractor {
					if results[i].LoopID, err = m.openLoop(ctx, tx, acct, hp, r, analyses[i], now, &loop); err != nil {
						return err
					}
				}
			}
		}
		if followed == 0 && a.Category == Detractor && now.Sub(a.AnsweredAt) <= loopMaxAge {
			if results[i].LoopID, err = m.openLoop(ctx, tx, acct, hp, r, analyses[i], now, nil); err != nil {
				return err
			}
		}
		if survey != nil || followed != 0 {
			var sid int64
			if survey != nil {
				sid = survey.ID
				results[i].SurveyID = sid
			}
			linkR, linkS, linkL = append(linkR, r.ID), append(linkS, sid), append(linkL, followed)
		}
	}
	return linkResponses(ctx, tx, linkR, linkS, linkL)
}

// claimSurveys finds the survey each answer answers and marks it answered.
func claimSurveys(ctx context.Context, tx store.Tx, claims []surveyClaim) ([]*Survey, error) {
	if len(claims) == 0 {
		return nil, nil
	}
	cands, err := surveysToMatch(ctx, tx, claims)
	if err != nil {
		return nil, err
	}
	out, answered, err := matchSurveys(claims, cands)
	if err != nil {
		return nil, err
	}
	return out, markSurveysAnswered(ctx, tx, answered)
}

// openLoop opens a detractor loop and posts its card: in the account's
// channel, else the CS channel, else the owner's DMs. A follow-up that is
// still a detractor (prev) continues in prev's thread.
func (m *Module) openLoop(ctx context.Context, tx store.Tx, acct store.Account, health *scoring.Health, r response,
	an text.Result, now time.Time, prev *loopRow) (int64, error) {
	id, previous, recent, err := loopContext(ctx, tx, acct.ID, r.ID, 8)
	if err != nil {
		return 0, err
	}
	c := cardContext{
		AccountID: acct.ID, AccountName: acct.Name, ExternalID: acct.ExternalID, Tier: acct.Tier, Segment: acct.Segment,
		ARR: acct.ARR, RenewalDate: acct.RenewalDate, HealthScore: acct.HealthScore, HealthBand: scoring.Band(acct.HealthBand),
		HealthDriver: acct.HealthDriver, Respondent: r.Respondent, Score: r.Score, Comment: r.Comment, Kind: r.Kind,
		AnsweredAt: r.AnsweredAt, SentimentLabel: r.SentimentLabel, Competitors: r.Competitors, ChurnIntent: an.ChurnIntent && r.Comment != "",
	}
	if health != nil { // the score this answer just produced
		score := health.Score
		c.HealthScore, c.HealthBand = &score, health.Band
		if d := health.Drivers(1); len(d) > 0 {
			c.HealthDriver = blocks.DriverText(d[0])
		}
	}
	if previous != nil {
		p := previous.Score
		c.PrevScore = &p
	}
	for _, e := range recent {
		// The answer's own timeline entry says what the card already shows.
		if e.Kind == "signal."+string(scoring.KindNPS) && e.At.Equal(r.AnsweredAt) {
			continue
		}
		c.History = append(c.History, blocks.TimelineEntry{At: e.At, Kind: e.Kind, Summary: e.Summary, Actor: e.Actor})
	}
	if len(c.History) > 5 {
		c.History = c.History[:5]
	}
	l := loopRow{
		Loop: Loop{ID: id, AccountID: acct.ID, Respondent: r.Respondent, Score: r.Score, OwnerCSM: acct.OwnerCSM,
			OpenedAt: now, Due: m.policy.DeadlinesFrom(now), EscalationProposed: m.policy.ProposeEscalation(acct.ARR)},
		ResponseID: r.ID,
		ChannelID:  cmp.Or(acct.ChannelID, m.channel, acct.OwnerCSM),
		ThreadKey:  loopThreadKey(id),
		CardRef:    loopCardRef(id),
	}
	if prev != nil {
		l.PreviousLoopID, l.ChannelID, l.ThreadKey = prev.ID, prev.ChannelID, prev.ThreadKey
		c.FollowUpOf = prev.Score + 1
	}
	l.reschedule(m.policy)
	if l.Card, err = json.Marshal(c); err != nil {
		return 0, fmt.Errorf("encode loop card: %w", err)
	}
	if err := insertLoop(ctx, tx, l, store.TimelineEntry{At: now, Kind: "nps.loop_opened",
		Summary: "detractor loop opened: NPS " + strconv.Itoa(r.Score) + " from " + r.Respondent}); err != nil {
		return 0, err
	}
	if l.ChannelID == "" {
		m.log.Warn("detractor loop has nowhere to post: set nps.cs_channel or alerts.default_channel", "account", acct.ExternalID, "loop", id)
		return id, nil
	}
	card, err := m.card(l)
	if err != nil {
		return 0, err
	}
	return id, enqueue(ctx, tx, store.OutboxItem{Op: store.OpPost, ChannelID: l.ChannelID, ThreadKey: l.ThreadKey,
		Message: card, Ref: l.CardRef})
}

// recordFollowUp closes a loop with its follow-up answer, posting the
// score change into the loop's thread.
func (m *Module) recordFollowUp(ctx context.Context, tx store.Tx, l *loopRow, acct store.Account, r response, now time.Time) error {
	before := l.Score
	l.RecordFollowUp(r.Score, r.AnsweredAt)
	l.FollowUpResponseID, l.NextCheckAt = r.ID, nil
	if acct.OwnerCSM != "" {
		l.OwnerCSM = acct.OwnerCSM
	}
	if err := saveLoop(ctx, tx, *l); err != nil {
		return err
	}
	if err := addLoopTimeline(ctx, tx, *l, store.TimelineEntry{At: now, Kind: "nps.follow_up",
		Summary: fmt.Sprintf("detractor follow-up: NPS %d → %d", before, r.Score)}); err != nil {
		return err
	}
	if l.ChannelID == "" {
		return nil
	}
	up, err := m.cardUpdate(*l)
	if err != nil {
		return err
	}
	return enqueue(ctx, tx, threadPost(*l, followUpNote(r.Respondent, before, r.Score, r.Comment, r.Category == Detractor)), up)
}

// competitorNames are the competitors a comment names, each once, as the
// text analyser (text.competitors) found them.
func competitorNames(r text.Result) []string {
	var out []string
	for _, m := range r.Competitors {
		if !slices.Contains(out, m.Competitor) {
			out = append(out, m.Competitor)
		}
	}
	return out
}
