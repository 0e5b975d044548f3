package nps

// Every statement NPS runs: answers, surveys, loops, the cadence scan,
// survey-tool deliveries, reminders, the digest and the report. Each takes
// the DB or Tx its service opened.

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
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/holdfast/holdfast/internal/churn"
	"github.com/holdfast/holdfast/store"
)

func wrap(what string, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// optionalID is an id column that is NULL for 0.
func optionalID(id int64) pgtype.Int8 { return pgtype.Int8{Int64: id, Valid: id != 0} }

// columns fills a column list's "$." with a table alias ("" for none), so
// one list serves a plain query and a join.
func columns(alias, list string) string { return strings.ReplaceAll(list, "$.", alias) }

// ---- answers ----

// response is one stored NPS answer.
type response struct {
	ID             int64
	AccountID      int64
	SignalID       int64
	Respondent     string
	Score          int
	Category       Category
	Comment        string
	Kind           SurveyKind
	SurveyID       int64
	LoopID         int64 // follow-up answers: the loop followed up
	AnsweredAt     time.Time
	Sentiment      *float64
	SentimentLabel string
	ChurnIntent    bool
	Competitors    []string
}

const responseList = `$.id, $.account_id, $.signal_id, $.respondent, $.score, $.category, $.comment, $.survey_kind,
	coalesce($.survey_id, 0), coalesce($.loop_id, 0), $.answered_at, $.sentiment, $.sentiment_label, $.churn_intent, $.competitors`

var responseColumns = columns("", responseList)

func scanResponse(row pgx.Row, extra ...any) (response, error) {
	var r response
	var cat, kind string
	err := row.Scan(append([]any{&r.ID, &r.AccountID, &r.SignalID, &r.Respondent, &r.Score, &cat, &r.Comment, &kind,
		&r.SurveyID, &r.LoopID, &r.AnsweredAt, &r.Sentiment, &r.SentimentLabel, &r.ChurnIntent, &r.Competitors}, extra...)...)
	r.Category, r.Kind = Category(cat), SurveyKind(kind)
	return r, err
}

// insertResponses stores answers inside the ingest transaction that stored
// their signals, in one statement; ids come back in input order.
func insertResponses(ctx context.Context, tx store.DB, rs []response) ([]int64, error) {
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

// linkResponses records, per answer, which survey it answered and which
// loop it follows up (0 = none).
func linkResponses(ctx context.Context, tx store.DB, responseIDs, surveyIDs, loopIDs []int64) error {
	if len(responseIDs) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `UPDATE nps_responses r SET survey_id = nullif(u.s, 0), loop_id = nullif(u.l, 0)
		FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS u(r, s, l) WHERE r.id = u.r`,
		responseIDs, surveyIDs, loopIDs)
	return wrap("link nps responses", err)
}

// answerHistory is an account's answers, newest first.
func answerHistory(ctx context.Context, db store.DB, accountID int64, limit int) ([]response, error) {
	rows, err := db.Query(ctx, `SELECT `+responseColumns+` FROM nps_responses WHERE account_id = $1
		ORDER BY answered_at DESC, id DESC LIMIT $2`, accountID, limit)
	if err != nil {
		return nil, fmt.Errorf("nps history: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (response, error) { return scanResponse(r) })
	return out, wrap("nps history", err)
}

// ---- surveys ----

const surveyList = `$.id, $.account_id, $.contact, $.kind, $.cycle, $.reason, coalesce($.loop_id, 0), $.created_at, $.sent_at, $.answered_at`

var surveyColumns = columns("", surveyList)

func scanSurvey(row pgx.Row, extra ...any) (Survey, error) {
	var v Survey
	var kind string
	err := row.Scan(append([]any{&v.ID, &v.AccountID, &v.Contact, &kind, &v.Cycle, &v.Reason, &v.LoopID, &v.CreatedAt,
		&v.SentAt, &v.AnsweredAt}, extra...)...)
	v.Kind = SurveyKind(kind)
	return v, err
}

func collectSurveys(rows pgx.Rows) ([]Survey, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Survey, error) { return scanSurvey(r) })
}

// surveysToMatch locks the surveys a batch of answers may answer: those
// they name, and their accounts' unanswered ones from the 90 days before
// the oldest answer.
func surveysToMatch(ctx context.Context, tx store.Tx, claims []surveyClaim) ([]Survey, error) {
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
	rows, err := tx.Query(ctx, `SELECT `+surveyColumns+` FROM nps_surveys
		WHERE id = ANY($1) OR (account_id = ANY($2) AND answered_at IS NULL AND created_at > $3::timestamptz - interval '90 days')
		ORDER BY id FOR UPDATE`, named, accounts, oldest)
	if err != nil {
		return nil, fmt.Errorf("find surveys: %w", err)
	}
	cands, err := collectSurveys(rows)
	return cands, wrap("find surveys", err)
}

// markSurveysAnswered records which answer answered each survey, and when.
func markSurveysAnswered(ctx context.Context, tx store.Tx, answered []surveyAnswered) error {
	if len(answered) == 0 {
		return nil
	}
	ids, responses, at := make([]int64, len(answered)), make([]int64, len(answered)), make([]time.Time, len(answered))
	for i, a := range answered {
		ids[i], responses[i], at[i] = a.SurveyID, a.ResponseID, a.At
	}
	_, err := tx.Exec(ctx, `UPDATE nps_surveys v SET answered_at = u.at, response_id = u.r
			FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[]) AS u(id, r, at) WHERE v.id = u.id`,
		ids, responses, at)
	return wrap("mark surveys answered", err)
}

// insertSurveys writes surveys in one statement, skipping any already
// selected; it returns those created, in account order.
func insertSurveys(ctx context.Context, tx store.Tx, in []Survey, now time.Time) ([]Survey, error) {
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
		RETURNING `+surveyColumns, accounts, contacts, kinds, cycles, reasons, loops, now)
	if err != nil {
		return nil, fmt.Errorf("insert surveys: %w", err)
	}
	out, err := collectSurveys(rows)
	if err != nil {
		return nil, fmt.Errorf("insert surveys: %w", err)
	}
	slices.SortFunc(out, func(a, b Survey) int { return cmp.Compare(a.AccountID, b.AccountID) })
	return out, nil
}

// markSurveysSent records surveys as sent at now (no survey tool: the CS
// team sends them).
func markSurveysSent(ctx context.Context, tx store.Tx, surveys []Survey, now time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE nps_surveys SET sent_at = $2 WHERE id = ANY($1)`, surveyIDs(surveys), now)
	return wrap("mark surveys sent", err)
}

func surveyIDs(surveys []Survey) []int64 {
	ids := make([]int64, len(surveys))
	for i, v := range surveys {
		ids[i] = v.ID
	}
	return ids
}

// ---- detractor loops ----

const loopColumns = `id, account_id, response_id, coalesce(previous_loop_id, 0), respondent, score, owner_csm,
	channel_id, thread_key, card_ref, card, opened_at, contact_due, root_cause_due, action_plan_due, escalation_proposed,
	contacted_at, coalesce(contacted_by, ''), coalesce(root_cause, ''), coalesce(root_cause_words, ''), root_cause_at,
	coalesce(root_cause_by, ''), coalesce(plan_text, ''), coalesce(plan_owner, ''), plan_due, plan_at, coalesce(plan_by, ''),
	escalated_at, coalesce(escalated_by, ''), follow_up_due, coalesce(follow_up_survey_id, 0), follow_up_sent_at,
	coalesce(follow_up_response_id, 0), follow_up_score, follow_up_at, closed_at, next_check_at`

func scanLoop(row pgx.Row, extra ...any) (loopRow, error) {
	var l loopRow
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

func collectLoops(rows pgx.Rows) ([]loopRow, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (loopRow, error) { return scanLoop(r) })
}

// loopThreadKey names a new loop's thread.
func loopThreadKey(loopID int64) string { return "nps:loop:" + strconv.FormatInt(loopID, 10) }

// loopCardRef is the outbox ref of a loop's card.
func loopCardRef(loopID int64) string { return loopThreadKey(loopID) + ":card" }

// loopContext reserves a loop id and reads what its card shows, the
// account's previous answer and recent history, in one round trip.
func loopContext(ctx context.Context, tx store.Tx, accountID, responseID int64, historyLimit int) (
	id int64, prev *response, recent []store.TimelineEntry, err error) {
	b := &pgx.Batch{}
	b.Queue(`SELECT nextval(pg_get_serial_sequence('nps_loops', 'id'))`).QueryRow(func(row pgx.Row) error {
		return wrap("reserve loop id", row.Scan(&id))
	})
	b.Queue(`SELECT `+responseColumns+` FROM nps_responses WHERE account_id = $1 AND id <> $2
		ORDER BY answered_at DESC, id DESC LIMIT 1`, accountID, responseID).QueryRow(func(row pgx.Row) error {
		r, err := scanResponse(row)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		prev = &r
		return wrap("previous nps", err)
	})
	b.Queue(`SELECT at, kind, summary, actor FROM timeline WHERE account_id = $1 ORDER BY at DESC, id DESC LIMIT $2`,
		accountID, historyLimit).Query(func(rows pgx.Rows) error {
		var err error
		recent, err = pgx.CollectRows(rows, pgx.RowToStructByPos[store.TimelineEntry])
		return wrap("recent timeline", err)
	})
	err = tx.SendBatch(ctx, b).Close()
	return id, prev, recent, err
}

// insertLoop writes a new loop (with its reserved id) and its timeline
// entry in one round trip.
func insertLoop(ctx context.Context, tx store.Tx, l loopRow, opened store.TimelineEntry) error {
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO nps_loops (id, account_id, response_id, previous_loop_id, respondent, score, owner_csm,
			channel_id, thread_key, card_ref, card, opened_at, contact_due, root_cause_due, action_plan_due, escalation_proposed,
			next_check_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
		l.ID, l.AccountID, l.ResponseID, optionalID(l.PreviousLoopID), l.Respondent, l.Score, l.OwnerCSM,
		l.ChannelID, l.ThreadKey, l.CardRef, l.Card, l.OpenedAt, l.Due.Contact, l.Due.RootCause, l.Due.ActionPlan,
		l.EscalationProposed, l.NextCheckAt)
	b.Queue(`INSERT INTO timeline (account_id, at, kind, summary, actor, ref_id) VALUES ($1, $2, $3, $4, $5, $6)`,
		l.AccountID, opened.At, opened.Kind, opened.Summary, opened.Actor, l.ID)
	return wrap("insert nps loop", tx.SendBatch(ctx, b).Close())
}

// saveLoop writes a loop's step columns back.
func saveLoop(ctx context.Context, tx store.Tx, l loopRow) error {
	_, err := tx.Exec(ctx, `UPDATE nps_loops SET
			contacted_at = $2, contacted_by = nullif($3, ''), root_cause = nullif($4, ''), root_cause_words = nullif($5, ''),
			root_cause_at = $6, root_cause_by = nullif($7, ''), plan_text = nullif($8, ''), plan_owner = nullif($9, ''),
			plan_due = $10, plan_at = $11, plan_by = nullif($12, ''), escalated_at = $13, escalated_by = nullif($14, ''),
			follow_up_due = $15, follow_up_survey_id = $16, follow_up_sent_at = $17, follow_up_response_id = $18,
			follow_up_score = $19, follow_up_at = $20, closed_at = $21, owner_csm = $22, next_check_at = $23
		WHERE id = $1`,
		l.ID, l.ContactedAt, l.ContactedBy, string(l.RootCause), l.RootCauseWords, l.RootCauseAt, l.RootCauseBy,
		l.Plan, l.PlanOwner, l.PlanDue, l.PlanAt, l.PlanBy, l.EscalatedAt, l.EscalatedBy,
		l.FollowUpDue, optionalID(l.FollowUpSurveyID), l.FollowUpSentAt, optionalID(l.FollowUpResponseID),
		l.FollowUpScore, l.FollowUpAt, l.ClosedAt, l.OwnerCSM, l.NextCheckAt)
	return wrap("save nps loop", err)
}

// recordNudges records nudges sent at at.
func recordNudges(ctx context.Context, tx store.Tx, loopID int64, nudges []NudgeKey, at time.Time) error {
	for _, n := range nudges {
		if _, err := tx.Exec(ctx, `INSERT INTO nps_loop_nudges (loop_id, step, level, at) VALUES ($1, $2, $3, $4)`,
			loopID, string(n.Step), n.Level, at); err != nil {
			return fmt.Errorf("record nudge: %w", err)
		}
	}
	return nil
}

// addLoopTimeline appends entries about a loop to its account's timeline.
func addLoopTimeline(ctx context.Context, tx store.Tx, l loopRow, entries ...store.TimelineEntry) error {
	for _, e := range entries {
		if err := tx.AddTimeline(ctx, l.AccountID, e, l.ID); err != nil {
			return err
		}
	}
	return nil
}

// readLoop returns a loop as it is now; store.ErrNotFound if there is none.
func readLoop(ctx context.Context, db store.DB, id int64) (loopRow, error) {
	l, err := scanLoop(db.QueryRow(ctx, `SELECT `+loopColumns+` FROM nps_loops WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return loopRow{}, store.ErrNotFound
	}
	return l, wrap("nps loop "+strconv.FormatInt(id, 10), err)
}

// lockLoop reads a loop under a row lock; store.ErrNotFound if there is
// none.
func lockLoop(ctx context.Context, tx store.Tx, id int64) (loopRow, error) {
	l, err := scanLoop(tx.QueryRow(ctx, `SELECT `+loopColumns+` FROM nps_loops WHERE id = $1 FOR UPDATE`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return loopRow{}, store.ErrNotFound
	}
	return l, wrap("lock nps loop", err)
}

// loopAccount reads what a locked loop's change needs besides the loop:
// its account as it is now and, into l.Nudged, the nudges already sent.
func loopAccount(ctx context.Context, tx store.Tx, l *loopRow) (store.Account, error) {
	a, err := tx.Account(ctx, l.AccountID)
	if err != nil {
		return store.Account{}, fmt.Errorf("loop account: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT step, level FROM nps_loop_nudges WHERE loop_id = $1`, l.ID)
	if err != nil {
		return store.Account{}, fmt.Errorf("loop nudges: %w", err)
	}
	l.Nudged = map[NudgeKey]bool{}
	var step string
	var level int
	_, err = pgx.ForEachRow(rows, []any{&step, &level}, func() error {
		l.Nudged[NudgeKey{Step: Step(step), Level: level}] = true
		return nil
	})
	return a, wrap("loop nudges", err)
}

// lockLoopAndAccount is lockLoop, then loopAccount.
func lockLoopAndAccount(ctx context.Context, tx store.Tx, id int64) (loopRow, store.Account, error) {
	l, err := lockLoop(ctx, tx, id)
	if err != nil {
		return l, store.Account{}, err
	}
	a, err := loopAccount(ctx, tx, &l)
	return l, a, err
}

// accountLoops lists an account's loops, open ones first, newest first.
func accountLoops(ctx context.Context, db store.DB, accountID int64, limit int) ([]loopRow, error) {
	rows, err := db.Query(ctx, `SELECT `+loopColumns+` FROM nps_loops WHERE account_id = $1
		ORDER BY (closed_at IS NULL) DESC, opened_at DESC, id DESC LIMIT $2`, accountID, limit)
	if err != nil {
		return nil, fmt.Errorf("account loops: %w", err)
	}
	out, err := collectLoops(rows)
	return out, wrap("account loops", err)
}

// followUpLoop finds, and locks, the open loop a follow-up answer belongs
// to: the survey's loop when the answer matched a follow-up survey, else
// the account's newest open loop with a plan whose respondent gave this
// answer.
func followUpLoop(ctx context.Context, tx store.Tx, accountID, loopID int64, respondent string) (loopRow, bool, error) {
	var l loopRow
	var err error
	if loopID != 0 {
		l, err = scanLoop(tx.QueryRow(ctx, `SELECT `+loopColumns+` FROM nps_loops
			WHERE id = $1 AND account_id = $2 AND closed_at IS NULL FOR UPDATE`, loopID, accountID))
	} else {
		l, err = scanLoop(tx.QueryRow(ctx, `SELECT `+loopColumns+` FROM nps_loops
			WHERE account_id = $1 AND lower(respondent) = lower($2) AND closed_at IS NULL AND plan_at IS NOT NULL
			ORDER BY opened_at DESC, id DESC LIMIT 1 FOR UPDATE`, accountID, respondent))
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return loopRow{}, false, nil
	}
	if err != nil {
		return loopRow{}, false, fmt.Errorf("follow-up loop: %w", err)
	}
	return l, true, nil
}

// dueLoops lists open loops whose next check (a nudge, the follow-up) is
// due at now, most overdue first.
func dueLoops(ctx context.Context, db store.DB, now time.Time, limit int) ([]int64, error) {
	rows, err := db.Query(ctx, `SELECT id FROM nps_loops WHERE closed_at IS NULL AND next_check_at <= $1
		ORDER BY next_check_at, id LIMIT $2`, now, limit)
	if err != nil {
		return nil, fmt.Errorf("due loops: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	return ids, wrap("due loops", err)
}

// openLoopsFor lists the open detractor loops a user should act on: loops
// of accounts they own (as the account is now), oldest first.
func openLoopsFor(ctx context.Context, db store.DB, user string, limit int) ([]HomeLoop, error) {
	rows, err := db.Query(ctx, `SELECT `+loopColumns+`, account_name, account_arr
		FROM (SELECT l.*, a.name AS account_name, a.arr::float8 AS account_arr
			FROM nps_loops l JOIN accounts a ON a.id = l.account_id
			WHERE l.closed_at IS NULL AND a.owner_csm = $1) x
		ORDER BY opened_at, id LIMIT $2`, user, limit)
	if err != nil {
		return nil, fmt.Errorf("open loops for user: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (HomeLoop, error) {
		var v HomeLoop
		l, err := scanLoop(r, &v.AccountName, &v.ARR)
		v.Loop = l.Loop
		return v, err
	})
	return out, wrap("open loops for user", err)
}

// ---- cadence ----

// cadenceCandidate is an account the cadence rules may select today.
type cadenceCandidate struct {
	CadenceAccount
	ExternalID string
	Name       string
	OwnerCSM   string
	// Respondents are people who answered for the account in the last
	// year: a hint for the survey tool.
	Respondents []string
}

// cadenceParams bound the candidate query to the rules' windows.
type cadenceParams struct {
	Now      time.Time
	Today    time.Time // now's date in the schedule time zone (00:00 UTC)
	Timezone string    // IANA name, for activation dates of accounts without one
	CatchUp  time.Duration
}

// cadenceLock serialises cadence runs across replicas and manual reruns.
const cadenceLock = 0x6e70735f636164 // "nps_cad"

// lockCadence makes a cadence run the only one until its transaction
// ends, and tunes the transaction for its scan.
func lockCadence(ctx context.Context, tx store.Tx) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(cadenceLock)); err != nil {
		return fmt.Errorf("cadence lock: %w", err)
	}
	// The scan is cheap per row; compiling it (JIT) costs more than it saves.
	if _, err := tx.Exec(ctx, `SET LOCAL jit = off`); err != nil {
		return fmt.Errorf("cadence settings: %w", err)
	}
	return nil
}

// cadenceCandidates loads the active accounts inside a cadence rule's
// window with what the rules read: surveys taken, resolved critical
// tickets, last touch, known respondents.
func cadenceCandidates(ctx context.Context, tx store.Tx, p cadenceParams) ([]cadenceCandidate, error) {
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
	byID := map[int64]*cadenceCandidate{}
	var out []cadenceCandidate
	out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (cadenceCandidate, error) {
		var c cadenceCandidate
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
		byID[id].Taken[SurveyKey(SurveyKind(kind), cycle)] = true
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
		byID[id].Tickets = append(byID[id].Tickets, Ticket{Key: key, ResolvedAt: at})
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

// deliveries are the POSTs to the survey tool, until it answers 2xx.
var deliveries = store.Queue{Name: "nps-deliveries", Table: "nps_webhook_deliveries", Due: "next_attempt_at",
	Waiting: "delivered_at IS NULL", CountAttempts: true}

// delivery is one pending POST to the survey tool.
type delivery struct {
	ID       int64
	Payload  json.RawMessage
	Attempts int
}

// insertDelivery queues a POST of payload for the surveys it carries.
func insertDelivery(ctx context.Context, tx store.Tx, payload any, now time.Time, surveys []Survey) error {
	body, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("encode survey payload: %w", err)
	}
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO nps_webhook_deliveries (payload, created_at, next_attempt_at)
		VALUES ($1, $2, $2) RETURNING id`, body, now).Scan(&id); err != nil {
		return fmt.Errorf("queue survey delivery: %w", err)
	}
	_, err = tx.Exec(ctx, `UPDATE nps_surveys SET delivery_id = $2 WHERE id = ANY($1)`, surveyIDs(surveys), id)
	return wrap("link survey delivery", err)
}

// leaseDeliveries claims up to n deliveries due at now for lease; an
// expired lease (the sender died) makes one due again.
func leaseDeliveries(ctx context.Context, db store.DB, now time.Time, n int, lease time.Duration) ([]delivery, error) {
	rows, err := deliveries.LeaseAt(ctx, db, now, n, lease, `SELECT id, payload, attempts FROM leased ORDER BY next_attempt_at, id`)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[delivery])
	return out, wrap("lease survey deliveries", err)
}

// deliveryDone records the survey tool's 2xx: the delivery's surveys (and
// follow-up loops) count as sent from now.
func deliveryDone(ctx context.Context, tx store.Tx, id int64, now time.Time) error {
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
}

// deliveryFailed schedules a delivery's next attempt.
func deliveryFailed(ctx context.Context, tx store.Tx, id int64, next time.Time, cause string) error {
	_, err := tx.Exec(ctx, `UPDATE nps_webhook_deliveries SET next_attempt_at = $2, leased_until = NULL, last_error = $3
			WHERE id = $1`, id, next, cause)
	return wrap("mark delivery failed", err)
}

// warnOnce records that the CS channel heard about a failing delivery;
// false if it had already.
func warnOnce(ctx context.Context, tx store.Tx, id int64, now time.Time) (bool, error) {
	tag, err := tx.Exec(ctx, `UPDATE nps_webhook_deliveries SET warned_at = $2 WHERE id = $1 AND warned_at IS NULL`, id, now)
	if err != nil {
		return false, fmt.Errorf("mark delivery warned: %w", err)
	}
	return tag.RowsAffected() > 0, nil
}

// ---- rows a job run handles once: reminders, digest ----

// claimRows takes a job run's share of due rows inside its transaction:
// sel selects them in order, limited; the rows of table alias lock that
// another run holds are skipped, so replicas and reruns take disjoint
// rows; and mark ($1 their ids, $2 now) stamps them handled, so each is
// handled once, together with the messages the run writes about them.
func claimRows[T any](ctx context.Context, tx store.Tx, sel, lock, mark string, now time.Time, id func(T) int64,
	scan func(pgx.CollectableRow) (T, error), args ...any) ([]T, error) {
	rows, err := store.Claim(ctx, tx, sel, lock, args...)
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, scan)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	ids := make([]int64, len(list))
	for i, v := range list {
		ids[i] = id(v)
	}
	if _, err := tx.Exec(ctx, mark, ids, now); err != nil {
		return nil, fmt.Errorf("mark handled: %w", err)
	}
	return list, nil
}

// unanswered is a survey sent and not answered, with its account.
type unanswered struct {
	Survey      Survey
	AccountName string
	OwnerCSM    string
}

// claimUnanswered takes surveys sent at or before cutoff and still
// unanswered, marking them reminded at now: each gets one reminder.
func claimUnanswered(ctx context.Context, tx store.Tx, cutoff, now time.Time, limit int) ([]unanswered, error) {
	list, err := claimRows(ctx, tx, `SELECT `+columns("v.", surveyList)+`, a.name, a.owner_csm
			FROM nps_surveys v JOIN accounts a ON a.id = v.account_id
			WHERE v.sent_at <= $1 AND v.answered_at IS NULL AND v.reminded_at IS NULL AND a.status = 'active'
			ORDER BY v.sent_at, v.id LIMIT $2`, "v",
		`UPDATE nps_surveys SET reminded_at = $2 WHERE id = ANY($1)`, now,
		func(u unanswered) int64 { return u.Survey.ID },
		func(r pgx.CollectableRow) (unanswered, error) {
			var u unanswered
			v, err := scanSurvey(r, &u.AccountName, &u.OwnerCSM)
			u.Survey = v
			return u, err
		}, cutoff, limit)
	return list, wrap("unanswered surveys", err)
}

// digestEntry is a promoter or passive answer for the weekly digest.
type digestEntry struct {
	Response    response
	AccountName string
	OwnerCSM    string
	ARR         float64
}

// claimDigest takes promoter and passive answers received up to now and
// not yet digested, marking them digested: each is in one digest.
func claimDigest(ctx context.Context, tx store.Tx, now time.Time, limit int) ([]digestEntry, error) {
	list, err := claimRows(ctx, tx, `SELECT `+columns("r.", responseList)+`, a.name, a.owner_csm, a.arr::float8
			FROM nps_responses r JOIN accounts a ON a.id = r.account_id
			WHERE r.digested_at IS NULL AND r.category IN ('promoter', 'passive') AND r.answered_at <= $1
			ORDER BY r.answered_at, r.id LIMIT $2`, "r",
		`UPDATE nps_responses SET digested_at = $2 WHERE id = ANY($1)`, now,
		func(e digestEntry) int64 { return e.Response.ID },
		func(row pgx.CollectableRow) (digestEntry, error) {
			var e digestEntry
			r, err := scanResponse(row, &e.AccountName, &e.OwnerCSM, &e.ARR)
			e.Response = r
			return e, err
		}, now, limit)
	return list, wrap("digest answers", err)
}

// ---- report ----

// reportAnswers returns the answers in [from, to) as the report counts
// them (follow-ups excluded: they are a sample of detractors, reported on
// their own).
func reportAnswers(ctx context.Context, db store.DB, from, to time.Time) ([]ScoredAnswer, error) {
	rows, err := db.Query(ctx, `SELECT r.account_id, r.respondent, r.score, a.segment, a.tier, r.answered_at
		FROM nps_responses r JOIN accounts a ON a.id = r.account_id
		WHERE r.answered_at >= $1 AND r.answered_at < $2 AND r.survey_kind <> 'follow_up'`, from, to)
	if err != nil {
		return nil, fmt.Errorf("report answers: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[ScoredAnswer])
	return out, wrap("report answers", err)
}

// reportLoops returns loops opened, or followed up, in [from, to).
func reportLoops(ctx context.Context, db store.DB, from, to time.Time) ([]Loop, error) {
	rows, err := db.Query(ctx, `SELECT `+loopColumns+` FROM nps_loops
		WHERE (opened_at >= $1 AND opened_at < $2) OR (follow_up_at >= $1 AND follow_up_at < $2)`, from, to)
	if err != nil {
		return nil, fmt.Errorf("report loops: %w", err)
	}
	loops, err := collectLoops(rows)
	if err != nil {
		return nil, fmt.Errorf("report loops: %w", err)
	}
	out := make([]Loop, len(loops))
	for i, l := range loops {
		out[i] = l.Loop
	}
	return out, nil
}
