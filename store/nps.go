package store

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

	"github.com/jackc/pgx/v5"

	"github.com/holdfast/holdfast/churn"
	"github.com/holdfast/holdfast/nps"
)

// NPSResponse is one stored NPS answer.
type NPSResponse struct {
	ID             int64
	AccountID      int64
	SignalID       int64
	Respondent     string
	Score          int
	Category       nps.Category
	Comment        string
	Kind           nps.SurveyKind
	SurveyID       int64
	LoopID         int64 // follow-up answers: the loop followed up
	AnsweredAt     time.Time
	Sentiment      *float64
	SentimentLabel string
	ChurnIntent    bool
	Competitors    []string
}

// InsertNPSResponsesTx stores answers inside the ingest transaction that
// stored their signals, in one statement; ids come back in input order.
func InsertNPSResponsesTx(ctx context.Context, tx DB, rs []NPSResponse) ([]int64, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	n := len(rs)
	var (
		accounts, signals       = make([]int64, n), make([]int64, n)
		scores                  = make([]int32, n)
		who, cats, texts, kinds = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		labels, competitors     = make([]string, n), make([]string, n)
		at                      = make([]time.Time, n)
		sentiments              = make([]*float64, n)
		intents                 = make([]bool, n)
	)
	for i, r := range rs {
		accounts[i], signals[i], scores[i] = r.AccountID, r.SignalID, int32(r.Score)
		who[i], cats[i], texts[i], kinds[i] = r.Respondent, string(r.Category), r.Comment, string(r.Kind)
		at[i], sentiments[i], labels[i], intents[i] = r.AnsweredAt, r.Sentiment, r.SentimentLabel, r.ChurnIntent
		c := r.Competitors
		if c == nil {
			c = []string{}
		}
		raw, err := json.Marshal(c)
		if err != nil {
			return nil, fmt.Errorf("encode competitors: %w", err)
		}
		competitors[i] = string(raw)
	}
	rows, err := tx.Query(ctx, `INSERT INTO nps_responses (account_id, signal_id, respondent, score, category, comment,
			survey_kind, answered_at, sentiment, sentiment_label, churn_intent, competitors)
		SELECT u.a, u.s, u.w, u.sc, u.c, u.t, u.k, u.at, u.se, u.l, u.ci,
			ARRAY(SELECT jsonb_array_elements_text(u.comp::jsonb))
		FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[],
			$8::timestamptz[], $9::float8[], $10::text[], $11::bool[], $12::text[]) AS u(a, s, w, sc, c, t, k, at, se, l, ci, comp)
		RETURNING id, signal_id`,
		accounts, signals, who, scores, cats, texts, kinds, at, sentiments, labels, intents, competitors)
	if err != nil {
		return nil, fmt.Errorf("insert nps responses: %w", err)
	}
	bySignal := make(map[int64]int64, n)
	var id, signal int64
	if _, err := pgx.ForEachRow(rows, []any{&id, &signal}, func() error { bySignal[signal] = id; return nil }); err != nil {
		return nil, fmt.Errorf("insert nps responses: %w", err)
	}
	out := make([]int64, n)
	for i, r := range rs {
		out[i] = bySignal[r.SignalID]
	}
	return out, nil
}

// LinkNPSResponsesTx records, per answer, which survey it answered and
// which loop it follows up (0 = none).
func LinkNPSResponsesTx(ctx context.Context, tx DB, responseIDs, surveyIDs, loopIDs []int64) error {
	if len(responseIDs) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `UPDATE nps_responses r SET survey_id = nullif(u.s, 0), loop_id = nullif(u.l, 0)
		FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS u(r, s, l) WHERE r.id = u.r`,
		responseIDs, surveyIDs, loopIDs)
	return wrap("link nps responses", err)
}

const npsResponseColumns = `id, account_id, signal_id, respondent, score, category, comment, survey_kind,
	coalesce(survey_id, 0), coalesce(loop_id, 0), answered_at, sentiment, sentiment_label, churn_intent, competitors`

func scanNPSResponse(row pgx.Row, extra ...any) (NPSResponse, error) {
	var r NPSResponse
	var cat, kind string
	err := row.Scan(append([]any{&r.ID, &r.AccountID, &r.SignalID, &r.Respondent, &r.Score, &cat, &r.Comment, &kind,
		&r.SurveyID, &r.LoopID, &r.AnsweredAt, &r.Sentiment, &r.SentimentLabel, &r.ChurnIntent, &r.Competitors}, extra...)...)
	r.Category, r.Kind = nps.Category(cat), nps.SurveyKind(kind)
	return r, err
}

// NPSHistory is an account's answers, newest first.
func (s *Store) NPSHistory(ctx context.Context, accountID int64, limit int) ([]NPSResponse, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+npsResponseColumns+` FROM nps_responses WHERE account_id = $1
		ORDER BY answered_at DESC, id DESC LIMIT $2`, accountID, limit)
	if err != nil {
		return nil, fmt.Errorf("nps history: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (NPSResponse, error) { return scanNPSResponse(r) })
	return out, wrap("nps history", err)
}

// ---- surveys ----

// NPSSurvey is a survey Holdfast selected (and maybe sent).
type NPSSurvey struct {
	ID         int64
	AccountID  int64
	Contact    string
	Kind       nps.SurveyKind
	Cycle      string
	Reason     string
	LoopID     int64
	CreatedAt  time.Time
	SentAt     *time.Time
	AnsweredAt *time.Time
}

const npsSurveyColumns = `id, account_id, contact, kind, cycle, reason, coalesce(loop_id, 0), created_at, sent_at, answered_at`

// prefixedSurvey is npsSurveyColumns of nps_surveys aliased v (in joins).
const prefixedSurvey = `v.id, v.account_id, v.contact, v.kind, v.cycle, v.reason, coalesce(v.loop_id, 0), v.created_at, v.sent_at, v.answered_at`

func scanNPSSurvey(row pgx.Row, extra ...any) (NPSSurvey, error) {
	var v NPSSurvey
	var kind string
	err := row.Scan(append([]any{&v.ID, &v.AccountID, &v.Contact, &kind, &v.Cycle, &v.Reason, &v.LoopID, &v.CreatedAt,
		&v.SentAt, &v.AnsweredAt}, extra...)...)
	v.Kind = nps.SurveyKind(kind)
	return v, err
}

// SurveyClaim is an answer looking for the survey it answers.
type SurveyClaim struct {
	AccountID  int64
	SurveyID   int64 // named by the answer; 0 = find it
	Respondent string
	Kind       nps.SurveyKind
	AnsweredAt time.Time
	ResponseID int64
}

// SurveyMismatchError: claim Index names a survey that does not exist or
// belongs to another account.
type SurveyMismatchError struct{ Index int }

func (e *SurveyMismatchError) Error() string {
	return fmt.Sprintf("answer %d names a survey of another account or none", e.Index)
}

// ClaimNPSSurveysTx finds, per answer, the survey it answers and marks it
// answered: the one it names, else the newest unanswered survey of its
// account sent to the respondent (or to the account as a whole) in the 90
// days before the answer, of the answer's kind unless that is ad hoc. One
// survey is claimed by one answer. Result per claim; nil = none.
func ClaimNPSSurveysTx(ctx context.Context, tx DB, claims []SurveyClaim) ([]*NPSSurvey, error) {
	out := make([]*NPSSurvey, len(claims))
	if len(claims) == 0 {
		return out, nil
	}
	var named, accounts []int64
	oldest := claims[0].AnsweredAt
	for _, c := range claims {
		if c.SurveyID != 0 {
			named = append(named, c.SurveyID)
		}
		accounts = append(accounts, c.AccountID)
		if c.AnsweredAt.Before(oldest) {
			oldest = c.AnsweredAt
		}
	}
	rows, err := tx.Query(ctx, `SELECT `+npsSurveyColumns+` FROM nps_surveys
		WHERE id = ANY($1) OR (account_id = ANY($2) AND answered_at IS NULL AND created_at > $3::timestamptz - interval '90 days')
		ORDER BY id FOR UPDATE`, named, accounts, oldest)
	if err != nil {
		return nil, fmt.Errorf("find surveys: %w", err)
	}
	cands, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (NPSSurvey, error) { return scanNPSSurvey(r) })
	if err != nil {
		return nil, fmt.Errorf("find surveys: %w", err)
	}
	byID := map[int64]*NPSSurvey{}
	byAccount := map[int64][]*NPSSurvey{}
	for i := range cands {
		v := &cands[i]
		byID[v.ID] = v
		byAccount[v.AccountID] = append(byAccount[v.AccountID], v)
	}
	claimed := map[int64]bool{}
	var ids, responses []int64
	var at []time.Time
	for i, c := range claims {
		var best *NPSSurvey
		if c.SurveyID != 0 {
			if best = byID[c.SurveyID]; best == nil || best.AccountID != c.AccountID {
				return nil, &SurveyMismatchError{Index: i}
			}
		} else {
			for _, v := range byAccount[c.AccountID] {
				contact := strings.EqualFold(v.Contact, c.Respondent)
				switch {
				case v.AnsweredAt != nil || claimed[v.ID]:
				case !contact && v.Contact != "":
				case c.Kind != nps.KindAdhoc && v.Kind != c.Kind:
				case v.CreatedAt.After(c.AnsweredAt.Add(24*time.Hour)) || !v.CreatedAt.After(c.AnsweredAt.Add(-90*24*time.Hour)):
				case best == nil, contact && best.Contact == "",
					(contact || best.Contact == "") && v.CreatedAt.After(best.CreatedAt):
					best = v
				}
			}
		}
		if best == nil {
			continue
		}
		out[i] = best
		if best.AnsweredAt == nil && !claimed[best.ID] {
			claimed[best.ID] = true
			ids, responses, at = append(ids, best.ID), append(responses, c.ResponseID), append(at, c.AnsweredAt)
		}
	}
	if len(ids) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE nps_surveys v SET answered_at = u.at, response_id = u.r
			FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[]) AS u(id, r, at) WHERE v.id = u.id`,
			ids, responses, at); err != nil {
			return nil, fmt.Errorf("mark surveys answered: %w", err)
		}
		for i, id := range ids {
			byID[id].AnsweredAt = &at[i]
		}
	}
	return out, nil
}

// ---- detractor loops ----

// NPSLoop is a detractor loop as stored.
type NPSLoop struct {
	nps.Loop
	ResponseID         int64
	PreviousLoopID     int64
	ChannelID          string
	ThreadKey          string
	CardRef            string
	Card               json.RawMessage // the card's context at opening
	FollowUpSurveyID   int64
	FollowUpResponseID int64
	// Nudged are the nudges already sent (loaded by UpdateNPSLoop).
	Nudged map[nps.NudgeKey]bool
	// NextCheckAt is when the loop watcher should look again (nil: never);
	// callers set it from nps.Policy.NextCheck before a loop is written.
	NextCheckAt *time.Time
}

const npsLoopColumns = `id, account_id, response_id, coalesce(previous_loop_id, 0), respondent, score, owner_csm,
	channel_id, thread_key, card_ref, card, opened_at, contact_due, root_cause_due, action_plan_due, escalation_proposed,
	contacted_at, coalesce(contacted_by, ''), coalesce(root_cause, ''), coalesce(root_cause_words, ''), root_cause_at,
	coalesce(root_cause_by, ''), coalesce(plan_text, ''), coalesce(plan_owner, ''), plan_due, plan_at, coalesce(plan_by, ''),
	escalated_at, coalesce(escalated_by, ''), follow_up_due, coalesce(follow_up_survey_id, 0), follow_up_sent_at,
	coalesce(follow_up_response_id, 0), follow_up_score, follow_up_at, closed_at, next_check_at`

func scanNPSLoop(row pgx.Row, extra ...any) (NPSLoop, error) {
	var l NPSLoop
	var cause string
	dest := []any{&l.ID, &l.AccountID, &l.ResponseID, &l.PreviousLoopID, &l.Respondent, &l.Score, &l.OwnerCSM,
		&l.ChannelID, &l.ThreadKey, &l.CardRef, &l.Card, &l.OpenedAt, &l.Due.Contact, &l.Due.RootCause, &l.Due.ActionPlan,
		&l.EscalationProposed, &l.ContactedAt, &l.ContactedBy, &cause, &l.RootCauseWords, &l.RootCauseAt,
		&l.RootCauseBy, &l.Plan, &l.PlanOwner, &l.PlanDue, &l.PlanAt, &l.PlanBy,
		&l.EscalatedAt, &l.EscalatedBy, &l.FollowUpDue, &l.FollowUpSurveyID, &l.FollowUpSentAt,
		&l.FollowUpResponseID, &l.FollowUpScore, &l.FollowUpAt, &l.ClosedAt, &l.NextCheckAt}
	err := row.Scan(append(dest, extra...)...)
	l.RootCause = churn.Cause(cause)
	return l, err
}

func collectNPSLoops(rows pgx.Rows) ([]NPSLoop, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (NPSLoop, error) { return scanNPSLoop(r) })
}

// NPSLoopThreadKey and NPSLoopCardRef name a new loop's thread and card.
func NPSLoopThreadKey(loopID int64) string { return "nps:loop:" + strconv.FormatInt(loopID, 10) }

// NPSLoopCardRef is the outbox ref of a loop's card.
func NPSLoopCardRef(loopID int64) string { return NPSLoopThreadKey(loopID) + ":card" }

// LoopContextTx reserves a loop id and reads what its card shows, the
// account's previous answer and recent history, in one round trip.
func LoopContextTx(ctx context.Context, tx DB, accountID, responseID int64, historyLimit int) (
	id int64, prev *NPSResponse, recent []TimelineEntry, err error) {
	b := &pgx.Batch{}
	b.Queue(`SELECT nextval(pg_get_serial_sequence('nps_loops', 'id'))`).QueryRow(func(row pgx.Row) error {
		return wrap("reserve loop id", row.Scan(&id))
	})
	b.Queue(`SELECT `+npsResponseColumns+` FROM nps_responses WHERE account_id = $1 AND id <> $2
		ORDER BY answered_at DESC, id DESC LIMIT 1`, accountID, responseID).QueryRow(func(row pgx.Row) error {
		r, err := scanNPSResponse(row)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		prev = &r
		return wrap("previous nps", err)
	})
	b.Queue(`SELECT at, kind, summary, actor FROM timeline WHERE account_id = $1 ORDER BY at DESC, id DESC LIMIT $2`,
		accountID, historyLimit).Query(func(rows pgx.Rows) error {
		var err error
		recent, err = pgx.CollectRows(rows, pgx.RowToStructByPos[TimelineEntry])
		return wrap("recent timeline", err)
	})
	err = tx.SendBatch(ctx, b).Close()
	return id, prev, recent, err
}

// InsertNPSLoopTx writes a new loop (with its reserved id) and its
// timeline entry in one round trip.
func InsertNPSLoopTx(ctx context.Context, tx DB, l NPSLoop, opened TimelineEntry) error {
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO nps_loops (id, account_id, response_id, previous_loop_id, respondent, score, owner_csm,
			channel_id, thread_key, card_ref, card, opened_at, contact_due, root_cause_due, action_plan_due, escalation_proposed,
			next_check_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
		l.ID, l.AccountID, l.ResponseID, nullID(l.PreviousLoopID), l.Respondent, l.Score, l.OwnerCSM,
		l.ChannelID, l.ThreadKey, l.CardRef, l.Card, l.OpenedAt, l.Due.Contact, l.Due.RootCause, l.Due.ActionPlan,
		l.EscalationProposed, l.NextCheckAt)
	b.Queue(`INSERT INTO timeline (account_id, at, kind, summary, actor, ref_id) VALUES ($1, $2, $3, $4, $5, $6)`,
		l.AccountID, opened.At, opened.Kind, opened.Summary, opened.Actor, l.ID)
	return wrap("insert nps loop", tx.SendBatch(ctx, b).Close())
}

// saveNPSLoopTx writes a loop's step columns back.
func saveNPSLoopTx(ctx context.Context, tx DB, l NPSLoop) error {
	_, err := tx.Exec(ctx, `UPDATE nps_loops SET
			contacted_at = $2, contacted_by = nullif($3, ''), root_cause = nullif($4, ''), root_cause_words = nullif($5, ''),
			root_cause_at = $6, root_cause_by = nullif($7, ''), plan_text = nullif($8, ''), plan_owner = nullif($9, ''),
			plan_due = $10, plan_at = $11, plan_by = nullif($12, ''), escalated_at = $13, escalated_by = nullif($14, ''),
			follow_up_due = $15, follow_up_survey_id = $16, follow_up_sent_at = $17, follow_up_response_id = $18,
			follow_up_score = $19, follow_up_at = $20, closed_at = $21, owner_csm = $22, next_check_at = $23
		WHERE id = $1`,
		l.ID, l.ContactedAt, l.ContactedBy, string(l.RootCause), l.RootCauseWords, l.RootCauseAt, l.RootCauseBy,
		l.Plan, l.PlanOwner, l.PlanDue, l.PlanAt, l.PlanBy, l.EscalatedAt, l.EscalatedBy,
		l.FollowUpDue, nullID(l.FollowUpSurveyID), l.FollowUpSentAt, nullID(l.FollowUpResponseID),
		l.FollowUpScore, l.FollowUpAt, l.ClosedAt, l.OwnerCSM, l.NextCheckAt)
	return wrap("save nps loop", err)
}

// NPSLoop returns a loop and its account as they are now.
func (s *Store) NPSLoop(ctx context.Context, id int64) (NPSLoop, Account, error) {
	l, err := scanNPSLoop(s.pool.QueryRow(ctx, `SELECT `+npsLoopColumns+` FROM nps_loops WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return NPSLoop{}, Account{}, ErrNotFound
	}
	if err != nil {
		return NPSLoop{}, Account{}, fmt.Errorf("nps loop %d: %w", id, err)
	}
	a, err := s.Account(ctx, l.AccountID)
	return l, a, err
}

// NPSLoopsForAccount lists an account's loops, open ones first, newest first.
func (s *Store) NPSLoopsForAccount(ctx context.Context, accountID int64, limit int) ([]NPSLoop, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+npsLoopColumns+` FROM nps_loops WHERE account_id = $1
		ORDER BY (closed_at IS NULL) DESC, opened_at DESC, id DESC LIMIT $2`, accountID, limit)
	if err != nil {
		return nil, fmt.Errorf("account loops: %w", err)
	}
	out, err := collectNPSLoops(rows)
	return out, wrap("account loops", err)
}

// FollowUpLoopTx finds, and locks, the open loop a follow-up answer
// belongs to: the survey's loop when the answer matched a follow-up
// survey, else the account's newest open loop with a plan whose
// respondent gave this answer.
func FollowUpLoopTx(ctx context.Context, tx DB, accountID, loopID int64, respondent string) (NPSLoop, bool, error) {
	var l NPSLoop
	var err error
	if loopID != 0 {
		l, err = scanNPSLoop(tx.QueryRow(ctx, `SELECT `+npsLoopColumns+` FROM nps_loops
			WHERE id = $1 AND account_id = $2 AND closed_at IS NULL FOR UPDATE`, loopID, accountID))
	} else {
		l, err = scanNPSLoop(tx.QueryRow(ctx, `SELECT `+npsLoopColumns+` FROM nps_loops
			WHERE account_id = $1 AND lower(respondent) = lower($2) AND closed_at IS NULL AND plan_at IS NOT NULL
			ORDER BY opened_at DESC, id DESC LIMIT 1 FOR UPDATE`, accountID, respondent))
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return NPSLoop{}, false, nil
	}
	if err != nil {
		return NPSLoop{}, false, fmt.Errorf("follow-up loop: %w", err)
	}
	return l, true, nil
}

// LoopEffects are what a loop change writes besides the loop itself, all
// in the loop's transaction.
type LoopEffects struct {
	Timeline []TimelineEntry // appended with the loop as ref
	Outbox   []OutboxItem
	Nudges   []nps.NudgeKey // recorded as sent at NudgedAt
	NudgedAt time.Time
}

// UpdateNPSLoop applies fn to the loop under a row lock and writes the
// loop, its timeline entries, its nudges and its Slack messages in one
// transaction. fn sees the account as it is now (owner checks) and the
// nudges already sent.
func (s *Store) UpdateNPSLoop(ctx context.Context, id int64, fn func(l *NPSLoop, a Account) (LoopEffects, error)) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		l, err := lockNPSLoopTx(ctx, tx, id)
		if err != nil {
			return err
		}
		a, err := loopAccountTx(ctx, tx, &l)
		if err != nil {
			return err
		}
		eff, err := fn(&l, a)
		if err != nil {
			return err
		}
		return ApplyNPSLoopTx(ctx, tx, l, eff)
	})
}

// lockNPSLoopTx reads a loop under a row lock; ErrNotFound if there is none.
func lockNPSLoopTx(ctx context.Context, tx DB, id int64) (NPSLoop, error) {
	l, err := scanNPSLoop(tx.QueryRow(ctx, `SELECT `+npsLoopColumns+` FROM nps_loops WHERE id = $1 FOR UPDATE`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return NPSLoop{}, ErrNotFound
	}
	if err != nil {
		return NPSLoop{}, fmt.Errorf("lock nps loop: %w", err)
	}
	return l, nil
}

// loopAccountTx reads what a locked loop's change needs besides the loop:
// its account as it is now and, into l.Nudged, the nudges already sent.
func loopAccountTx(ctx context.Context, tx DB, l *NPSLoop) (Account, error) {
	a, err := scanAccount(tx.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = $1`, l.AccountID))
	if err != nil {
		return Account{}, fmt.Errorf("loop account: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT step, level FROM nps_loop_nudges WHERE loop_id = $1`, l.ID)
	if err != nil {
		return Account{}, fmt.Errorf("loop nudges: %w", err)
	}
	l.Nudged = map[nps.NudgeKey]bool{}
	var step string
	var level int
	_, err = pgx.ForEachRow(rows, []any{&step, &level}, func() error {
		l.Nudged[nps.NudgeKey{Step: nps.Step(step), Level: level}] = true
		return nil
	})
	return a, wrap("loop nudges", err)
}

// ApplyNPSLoopTx writes a changed loop and its effects, in the caller's
// transaction (also the ingest hook's, recording a follow-up answer).
func ApplyNPSLoopTx(ctx context.Context, tx DB, l NPSLoop, eff LoopEffects) error {
	if err := saveNPSLoopTx(ctx, tx, l); err != nil {
		return err
	}
	for _, n := range eff.Nudges {
		if _, err := tx.Exec(ctx, `INSERT INTO nps_loop_nudges (loop_id, step, level, at) VALUES ($1, $2, $3, $4)`,
			l.ID, string(n.Step), n.Level, eff.NudgedAt); err != nil {
			return fmt.Errorf("record nudge: %w", err)
		}
	}
	for _, e := range eff.Timeline {
		if err := AddTimelineTx(ctx, tx, l.AccountID, e, l.ID); err != nil {
			return err
		}
	}
	for _, it := range eff.Outbox {
		if err := enqueue(ctx, tx, it); err != nil {
			return err
		}
	}
	return nil
}

// DueNPSLoops lists open loops whose next check (a nudge, the follow-up)
// is due at now, most overdue first.
func (s *Store) DueNPSLoops(ctx context.Context, now time.Time, limit int) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM nps_loops WHERE closed_at IS NULL AND next_check_at <= $1
		ORDER BY next_check_at, id LIMIT $2`, now, limit)
	if err != nil {
		return nil, fmt.Errorf("due loops: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	return ids, wrap("due loops", err)
}

// NPSLoopSummary is an open loop with its account, for lists (App Home).
type NPSLoopSummary struct {
	Loop        NPSLoop
	AccountName string
	ARR         float64
}

// OpenNPSLoopsFor lists the open detractor loops a user should act on:
// loops of accounts they own (as the account is now), oldest first.
func (s *Store) OpenNPSLoopsFor(ctx context.Context, user string, limit int) ([]NPSLoopSummary, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+npsLoopColumns+`, account_name, account_arr
		FROM (SELECT l.*, a.name AS account_name, a.arr::float8 AS account_arr
			FROM nps_loops l JOIN accounts a ON a.id = l.account_id
			WHERE l.closed_at IS NULL AND a.owner_csm = $1) x
		ORDER BY opened_at, id LIMIT $2`, user, limit)
	if err != nil {
		return nil, fmt.Errorf("open loops for user: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (NPSLoopSummary, error) {
		var v NPSLoopSummary
		l, err := scanNPSLoop(r, &v.AccountName, &v.ARR)
		v.Loop = l
		return v, err
	})
	return out, wrap("open loops for user", err)
}

// ---- follow-up survey ----

// FollowUpEffects is what sending a loop's follow-up writes.
type FollowUpEffects struct {
	LoopEffects
	// Webhook is the survey-tool payload for the new survey (nil: no
	// webhook; the survey counts as sent now).
	Webhook func(survey NPSSurvey) any
}

// SendNPSFollowUp creates the loop's follow-up survey (once: a loop with
// one is left alone) and lets fn say what to post and send, in one
// transaction.
func (s *Store) SendNPSFollowUp(ctx context.Context, loopID int64, now time.Time,
	fn func(l *NPSLoop, a Account, v NPSSurvey) (FollowUpEffects, error)) (bool, error) {
	created := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		l, err := lockNPSLoopTx(ctx, tx, loopID)
		if err != nil {
			return err
		}
		if l.ClosedAt != nil || l.FollowUpSurveyID != 0 || l.FollowUpDue == nil || l.FollowUpDue.After(now) {
			return nil
		}
		a, err := loopAccountTx(ctx, tx, &l)
		if err != nil {
			return err
		}
		made, err := insertSurveysTx(ctx, tx, []NPSSurvey{{AccountID: l.AccountID, Contact: l.Respondent, Kind: nps.KindFollowUp,
			Cycle: "loop:" + strconv.FormatInt(l.ID, 10), Reason: "follow-up of a detractor loop after its action plan", LoopID: l.ID}}, now)
		if err != nil || len(made) == 0 {
			return err
		}
		v := made[0]
		eff, err := fn(&l, a, v)
		if err != nil {
			return err
		}
		l.FollowUpSurveyID = v.ID
		if eff.Webhook == nil {
			l.FollowUpSentAt = &now
			if _, err := tx.Exec(ctx, `UPDATE nps_surveys SET sent_at = $2 WHERE id = $1`, v.ID, now); err != nil {
				return fmt.Errorf("mark follow-up sent: %w", err)
			}
		} else if _, err := insertDeliveryTx(ctx, tx, eff.Webhook(v), now, []int64{v.ID}); err != nil {
			return err
		}
		created = true
		return ApplyNPSLoopTx(ctx, tx, l, eff.LoopEffects)
	})
	return created, err
}

// ---- cadence ----

// NPSCadenceCandidate is an account the cadence rules may select today.
type NPSCadenceCandidate struct {
	nps.CadenceAccount
	ExternalID string
	Name       string
	OwnerCSM   string
	// Respondents are people who answered for the account in the last
	// year: a hint for the survey tool.
	Respondents []string
}

// CadenceParams bound the candidate query to the rules' windows.
type CadenceParams struct {
	Now      time.Time
	Today    time.Time // now's date in the schedule time zone (00:00 UTC)
	Timezone string    // IANA name, for activation dates of accounts without one
	CatchUp  time.Duration
	Webhook  bool // surveys are handed to the survey tool (sent when it accepts them)
}

// CadenceRun is what one cadence run decided.
type CadenceRun struct {
	Surveys []NPSSurvey
	// Render builds the Slack messages for the surveys actually created
	// (ids set, in account order).
	Render func(created []NPSSurvey) ([]OutboxItem, error)
	// Payload builds the survey-tool body for a chunk of them; nil when no
	// survey tool is connected (the surveys then count as sent now).
	Payload func(chunk []NPSSurvey) any
}

// surveysPerDelivery bounds one POST to the survey tool.
const surveysPerDelivery = 500

// cadenceLock serialises cadence runs across replicas and manual reruns.
const cadenceLock = 0x6e70735f636164 // "nps_cad"

// RunNPSCadence loads the accounts due a survey by the cadence windows,
// lets decide pick, and writes the surveys, their Slack messages and their
// survey-tool deliveries in one transaction. Surveys already selected are
// skipped by the unique key, so a rerun selects nothing twice.
func (s *Store) RunNPSCadence(ctx context.Context, p CadenceParams, decide func([]NPSCadenceCandidate) (CadenceRun, error)) ([]NPSSurvey, error) {
	var created []NPSSurvey
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(cadenceLock)); err != nil {
			return fmt.Errorf("cadence lock: %w", err)
		}
		// The scan is cheap per row; compiling it (JIT) costs more than it saves.
		if _, err := tx.Exec(ctx, `SET LOCAL jit = off`); err != nil {
			return fmt.Errorf("cadence settings: %w", err)
		}
		cands, err := cadenceCandidatesTx(ctx, tx, p)
		if err != nil {
			return err
		}
		run, err := decide(cands)
		if err != nil {
			return err
		}
		if created, err = insertSurveysTx(ctx, tx, run.Surveys, p.Now); err != nil || len(created) == 0 {
			return err
		}
		if run.Render != nil {
			if err := enqueueAll(ctx, tx, created, run.Render); err != nil {
				return err
			}
		}
		if run.Payload != nil {
			for i := 0; i < len(created); i += surveysPerDelivery {
				chunk := created[i:min(i+surveysPerDelivery, len(created))]
				ids := make([]int64, len(chunk))
				for j, v := range chunk {
					ids[j] = v.ID
				}
				if _, err := insertDeliveryTx(ctx, tx, run.Payload(chunk), p.Now, ids); err != nil {
					return err
				}
			}
			return nil
		}
		ids := make([]int64, len(created))
		for i, v := range created {
			ids[i] = v.ID
			created[i].SentAt = &p.Now
		}
		_, err = tx.Exec(ctx, `UPDATE nps_surveys SET sent_at = $2 WHERE id = ANY($1)`, ids, p.Now)
		return wrap("mark surveys sent", err)
	})
	if err != nil {
		return nil, err
	}
	return created, nil
}

// insertSurveysTx writes surveys in one statement, skipping any already
// selected; it returns those created, in account order.
func insertSurveysTx(ctx context.Context, tx DB, in []NPSSurvey, now time.Time) ([]NPSSurvey, error) {
	if len(in) == 0 {
		return nil, nil
	}
	n := len(in)
	accounts, loops := make([]int64, n), make([]int64, n)
	contacts, kinds, cycles, reasons := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, v := range in {
		accounts[i], loops[i], contacts[i], kinds[i], cycles[i], reasons[i] = v.AccountID, v.LoopID, v.Contact, string(v.Kind), v.Cycle, v.Reason
	}
	rows, err := tx.Query(ctx, `INSERT INTO nps_surveys (account_id, contact, kind, cycle, reason, loop_id, created_at)
		SELECT u.a, u.c, u.k, u.y, u.r, nullif(u.l, 0), $7
		FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[]) AS u(a, c, k, y, r, l)
		ON CONFLICT (account_id, contact, kind, cycle) DO NOTHING
		RETURNING `+npsSurveyColumns, accounts, contacts, kinds, cycles, reasons, loops, now)
	if err != nil {
		return nil, fmt.Errorf("insert surveys: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (NPSSurvey, error) { return scanNPSSurvey(r) })
	if err != nil {
		return nil, fmt.Errorf("insert surveys: %w", err)
	}
	slices.SortFunc(out, func(a, b NPSSurvey) int { return cmp.Compare(a.AccountID, b.AccountID) })
	return out, nil
}

func cadenceCandidatesTx(ctx context.Context, tx DB, p CadenceParams) ([]NPSCadenceCandidate, error) {
	catchUpDays := max(1, int(p.CatchUp/(24*time.Hour)))
	// Each clause is one cadence rule's window; the Go rules decide
	// exactly, this only keeps the daily scan to plausible accounts.
	rows, err := tx.Query(ctx, `
		SELECT a.id, a.external_id, a.name, a.owner_csm, d.act, a.renewal_date, t.touch
		FROM accounts a
		CROSS JOIN LATERAL (SELECT coalesce(a.activation_date, (a.created_at AT TIME ZONE $3)::date) AS act) d
		CROSS JOIN LATERAL (SELECT greatest(
			(SELECT max(s.created_at) FROM nps_surveys s WHERE s.account_id = a.id),
			(SELECT max(r.answered_at) FROM nps_responses r WHERE r.account_id = a.id)) AS touch) t
		WHERE a.status = 'active' AND (
			($2::date - d.act) BETWEEN 30 AND 30 + $4 - 1
			OR (a.renewal_date - $2::date) BETWEEN 61 - $4 AND 60
			OR (($2::date - d.act) > 90 AND coalesce(t.touch, '-infinity') <= $1::timestamptz - interval '90 days')
			OR a.id IN (SELECT g.account_id FROM signals g WHERE g.kind = 'ticket' AND g.severity = 'urgent'
				AND lower(g.metadata->>'status') IN ('resolved', 'closed', 'solved')
				AND g.occurred_at <= $1 AND g.occurred_at > $1::timestamptz - $5::interval))
		ORDER BY a.id`, p.Now, p.Today, p.Timezone, catchUpDays, p.CatchUp.String())
	if err != nil {
		return nil, fmt.Errorf("cadence candidates: %w", err)
	}
	byID := map[int64]*NPSCadenceCandidate{}
	var out []NPSCadenceCandidate
	out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (NPSCadenceCandidate, error) {
		var c NPSCadenceCandidate
		err := r.Scan(&c.ID, &c.ExternalID, &c.Name, &c.OwnerCSM, &c.Activation, &c.Renewal, &c.LastTouch)
		c.Taken = map[string]bool{}
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("cadence candidates: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(out))
	for i := range out {
		ids[i] = out[i].ID
		byID[out[i].ID] = &out[i]
	}
	rows, err = tx.Query(ctx, `SELECT account_id, kind, cycle FROM nps_surveys WHERE account_id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("taken surveys: %w", err)
	}
	var id int64
	var kind, cycle string
	if _, err := pgx.ForEachRow(rows, []any{&id, &kind, &cycle}, func() error {
		byID[id].Taken[nps.SurveyKey(nps.SurveyKind(kind), cycle)] = true
		return nil
	}); err != nil {
		return nil, fmt.Errorf("taken surveys: %w", err)
	}
	rows, err = tx.Query(ctx, `SELECT account_id, coalesce(nullif(metadata->>'ticket_id', ''), idempotency_key), occurred_at
		FROM signals WHERE account_id = ANY($1) AND kind = 'ticket' AND severity = 'urgent'
		  AND lower(metadata->>'status') IN ('resolved', 'closed', 'solved')
		  AND occurred_at <= $2 AND occurred_at > $2::timestamptz - $3::interval
		ORDER BY occurred_at`, ids, p.Now, p.CatchUp.String())
	if err != nil {
		return nil, fmt.Errorf("resolved tickets: %w", err)
	}
	var key string
	var at time.Time
	if _, err := pgx.ForEachRow(rows, []any{&id, &key, &at}, func() error {
		byID[id].Tickets = append(byID[id].Tickets, nps.Ticket{Key: key, ResolvedAt: at})
		return nil
	}); err != nil {
		return nil, fmt.Errorf("resolved tickets: %w", err)
	}
	rows, err = tx.Query(ctx, `SELECT DISTINCT ON (account_id, lower(respondent)) account_id, respondent
		FROM nps_responses WHERE account_id = ANY($1) AND answered_at > $2::timestamptz - interval '365 days'
		ORDER BY account_id, lower(respondent), answered_at DESC`, ids, p.Now)
	if err != nil {
		return nil, fmt.Errorf("known respondents: %w", err)
	}
	var who string
	if _, err := pgx.ForEachRow(rows, []any{&id, &who}, func() error {
		byID[id].Respondents = append(byID[id].Respondents, who)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("known respondents: %w", err)
	}
	return out, nil
}

// ---- survey-tool deliveries ----

// NPSDelivery is one pending POST to the survey tool.
type NPSDelivery struct {
	ID       int64
	Payload  json.RawMessage
	Attempts int
}

func insertDeliveryTx(ctx context.Context, tx DB, payload any, now time.Time, surveyIDs []int64) (int64, error) {
	body, err := json.Marshal(payload)
	if err != nil {
		return 0, fmt.Errorf("encode survey payload: %w", err)
	}
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO nps_webhook_deliveries (payload, created_at, next_attempt_at)
		VALUES ($1, $2, $2) RETURNING id`, body, now).Scan(&id); err != nil {
		return 0, fmt.Errorf("queue survey delivery: %w", err)
	}
	_, err = tx.Exec(ctx, `UPDATE nps_surveys SET delivery_id = $2 WHERE id = ANY($1)`, surveyIDs, id)
	return id, wrap("link survey delivery", err)
}

// LeaseNPSDeliveries claims up to n deliveries due at now for lease; an
// expired lease (the sender died) makes one due again.
func (s *Store) LeaseNPSDeliveries(ctx context.Context, now time.Time, n int, lease time.Duration) ([]NPSDelivery, error) {
	rows, err := s.pool.Query(ctx, `UPDATE nps_webhook_deliveries d SET leased_until = $1::timestamptz + $3::interval,
			attempts = attempts + 1
		WHERE d.id IN (SELECT id FROM nps_webhook_deliveries
			WHERE delivered_at IS NULL AND next_attempt_at <= $1 AND (leased_until IS NULL OR leased_until < $1)
			ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
		RETURNING d.id, d.payload, d.attempts`, now, n, lease.String())
	if err != nil {
		return nil, fmt.Errorf("lease survey deliveries: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[NPSDelivery])
	return out, wrap("lease survey deliveries", err)
}

// NPSDeliveryDone records the survey tool's 2xx: the delivery's surveys
// (and follow-up loops) count as sent from now.
func (s *Store) NPSDeliveryDone(ctx context.Context, id int64, now time.Time) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE nps_webhook_deliveries SET delivered_at = $2, leased_until = NULL, last_error = NULL
			WHERE id = $1`, id, now); err != nil {
			return fmt.Errorf("mark delivery done: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE nps_surveys SET sent_at = $2 WHERE delivery_id = $1 AND sent_at IS NULL`, id, now); err != nil {
			return fmt.Errorf("mark surveys sent: %w", err)
		}
		_, err := tx.Exec(ctx, `UPDATE nps_loops l SET follow_up_sent_at = $2 FROM nps_surveys v
			WHERE v.delivery_id = $1 AND l.follow_up_survey_id = v.id AND l.follow_up_sent_at IS NULL`, id, now)
		return wrap("mark follow-ups sent", err)
	})
}

// NPSDeliveryFailed schedules the next attempt; warn, if set, is posted
// once per delivery (the first time the caller passes one).
func (s *Store) NPSDeliveryFailed(ctx context.Context, id int64, now, next time.Time, cause string, warn *OutboxItem) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE nps_webhook_deliveries SET next_attempt_at = $2, leased_until = NULL, last_error = $3
			WHERE id = $1`, id, next, cause); err != nil {
			return fmt.Errorf("mark delivery failed: %w", err)
		}
		if warn == nil {
			return nil
		}
		tag, err := tx.Exec(ctx, `UPDATE nps_webhook_deliveries SET warned_at = $2 WHERE id = $1 AND warned_at IS NULL`, id, now)
		if err != nil || tag.RowsAffected() == 0 {
			return wrap("mark delivery warned", err)
		}
		return enqueue(ctx, tx, *warn)
	})
}

// ---- non-responders and digest ----

// NPSUnanswered is a survey sent and not answered, with its account.
type NPSUnanswered struct {
	Survey      NPSSurvey
	AccountName string
	OwnerCSM    string
}

// RemindNPSNonResponders marks surveys sent at or before cutoff and still
// unanswered as reminded, and writes render's messages, in one
// transaction: each survey gets one reminder.
func (s *Store) RemindNPSNonResponders(ctx context.Context, cutoff, now time.Time, limit int,
	render func([]NPSUnanswered) ([]OutboxItem, error)) (int, error) {
	n := 0
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+prefixedSurvey+`, a.name, a.owner_csm
			FROM nps_surveys v JOIN accounts a ON a.id = v.account_id
			WHERE v.sent_at <= $1 AND v.answered_at IS NULL AND v.reminded_at IS NULL AND a.status = 'active'
			ORDER BY v.sent_at, v.id LIMIT $2 FOR UPDATE OF v SKIP LOCKED`, cutoff, limit)
		if err != nil {
			return fmt.Errorf("unanswered surveys: %w", err)
		}
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (NPSUnanswered, error) {
			var u NPSUnanswered
			v, err := scanNPSSurvey(r, &u.AccountName, &u.OwnerCSM)
			u.Survey = v
			return u, err
		})
		if err != nil {
			return fmt.Errorf("unanswered surveys: %w", err)
		}
		if err := markAndEnqueueTx(ctx, tx, `UPDATE nps_surveys SET reminded_at = $2 WHERE id = ANY($1)`, now, list,
			func(u NPSUnanswered) int64 { return u.Survey.ID }, render); err != nil {
			return err
		}
		n = len(list)
		return nil
	})
	return n, err
}

// markAndEnqueueTx stamps the listed rows as handled (mark takes their ids
// and now) and writes render's messages about them, in the caller's
// transaction: a row is handled once, together with its message.
func markAndEnqueueTx[T any](ctx context.Context, tx DB, mark string, now time.Time, list []T, id func(T) int64,
	render func([]T) ([]OutboxItem, error)) error {
	if len(list) == 0 {
		return nil
	}
	ids := make([]int64, len(list))
	for i, v := range list {
		ids[i] = id(v)
	}
	if _, err := tx.Exec(ctx, mark, ids, now); err != nil {
		return fmt.Errorf("mark handled: %w", err)
	}
	return enqueueAll(ctx, tx, list, render)
}

// NPSDigestEntry is a promoter or passive answer for the weekly digest.
type NPSDigestEntry struct {
	Response    NPSResponse
	AccountName string
	OwnerCSM    string
	ARR         float64
}

// DigestNPS marks promoter and passive answers received up to now and not
// yet digested, and writes render's messages, in one transaction.
func (s *Store) DigestNPS(ctx context.Context, now time.Time, limit int, render func([]NPSDigestEntry) ([]OutboxItem, error)) (int, error) {
	n := 0
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+npsResponseColumns+`, account_name, account_owner, account_arr
			FROM (SELECT r.*, a.name AS account_name, a.owner_csm AS account_owner,
					a.arr::float8 AS account_arr
				FROM nps_responses r JOIN accounts a ON a.id = r.account_id
				WHERE r.digested_at IS NULL AND r.category IN ('promoter', 'passive') AND r.answered_at <= $1
				ORDER BY r.answered_at, r.id LIMIT $2 FOR UPDATE OF r SKIP LOCKED) x
			ORDER BY answered_at, id`, now, limit)
		if err != nil {
			return fmt.Errorf("digest answers: %w", err)
		}
		list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (NPSDigestEntry, error) {
			var e NPSDigestEntry
			r, err := scanNPSResponse(row, &e.AccountName, &e.OwnerCSM, &e.ARR)
			e.Response = r
			return e, err
		})
		if err != nil {
			return fmt.Errorf("digest answers: %w", err)
		}
		if err := markAndEnqueueTx(ctx, tx, `UPDATE nps_responses SET digested_at = $2 WHERE id = ANY($1)`, now, list,
			func(e NPSDigestEntry) int64 { return e.Response.ID }, render); err != nil {
			return err
		}
		n = len(list)
		return nil
	})
	return n, err
}

// ---- report ----

// NPSReportAnswers returns the answers in [from, to) as the report counts
// them (follow-ups excluded: they are a sample of detractors, reported on
// their own).
func (s *Store) NPSReportAnswers(ctx context.Context, from, to time.Time) ([]nps.ScoredAnswer, error) {
	rows, err := s.pool.Query(ctx, `SELECT r.account_id, r.respondent, r.score, a.segment, a.tier, r.answered_at
		FROM nps_responses r JOIN accounts a ON a.id = r.account_id
		WHERE r.answered_at >= $1 AND r.answered_at < $2 AND r.survey_kind <> 'follow_up'`, from, to)
	if err != nil {
		return nil, fmt.Errorf("report answers: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[nps.ScoredAnswer])
	return out, wrap("report answers", err)
}

// NPSReportLoops returns loops opened, or followed up, in [from, to).
func (s *Store) NPSReportLoops(ctx context.Context, from, to time.Time) ([]nps.Loop, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+npsLoopColumns+` FROM nps_loops
		WHERE (opened_at >= $1 AND opened_at < $2) OR (follow_up_at >= $1 AND follow_up_at < $2)`, from, to)
	if err != nil {
		return nil, fmt.Errorf("report loops: %w", err)
	}
	loops, err := collectNPSLoops(rows)
	if err != nil {
		return nil, fmt.Errorf("report loops: %w", err)
	}
	out := make([]nps.Loop, len(loops))
	for i, l := range loops {
		out[i] = l.Loop
	}
	return out, nil
}

// enqueueAll enqueues what render builds from v (the NPS statements'
// callback, until NPS runs its own transactions).
func enqueueAll[T any](ctx context.Context, tx DB, v T, render func(T) ([]OutboxItem, error)) error {
	items, err := render(v)
	if err != nil {
		return err
	}
	for _, it := range items {
		if err := enqueue(ctx, tx, it); err != nil {
			return err
		}
	}
	return nil
}
