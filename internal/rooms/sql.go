package rooms

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/holdfast/holdfast/store"
)

// Handoffs is the queue of won deals whose room is being made (channel,
// invite, card, pin), or whose pinned card must be refreshed.
var Handoffs = store.Queue{Name: "handoffs", Table: "handoffs", Key: "deal_id",
	Waiting: "step NOT IN ('done', 'failed') OR card_stale"}

// DeadLetters are the room handoffs stopped at a step that gave up, for
// admins to retry from that step.
var DeadLetters = store.DeadLetterQueue{
	Kind: "room_step",
	List: `SELECT h.deal_id, 'room for deal ' || d.external_id || ' stopped at ' || h.failed_step, h.last_error, h.updated_at
		FROM handoffs h JOIN deals d ON d.id = h.deal_id WHERE h.step = 'failed'
		ORDER BY h.updated_at DESC, h.deal_id DESC LIMIT $1`,
	Count: `SELECT count(*) FROM handoffs WHERE step = 'failed'`,
	Retry: `UPDATE handoffs SET step = failed_step, attempts = 0, next_at = now(), leased_until = NULL, updated_at = now()
		WHERE deal_id = $1 AND step = 'failed' AND failed_step <> ''`,
	Queue: Handoffs,
}

// Room is an account's Slack channel.
type Room struct {
	AccountID   int64
	ChannelID   string
	ChannelName string
	Origin      string // created | linked | existing
	LinkedBy    string
}

// RoomOf returns an account's room, or store.ErrNotFound.
func RoomOf(ctx context.Context, db store.DB, accountID int64) (Room, error) {
	var r Room
	err := db.QueryRow(ctx, `SELECT account_id, channel_id, channel_name, origin, linked_by FROM rooms WHERE account_id = $1`,
		accountID).Scan(&r.AccountID, &r.ChannelID, &r.ChannelName, &r.Origin, &r.LinkedBy)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, store.ErrNotFound
	}
	return r, wrap("read room", err)
}

// ChannelTakenError says a channel is already another account's room.
type ChannelTakenError struct{ AccountID int64 }

func (e *ChannelTakenError) Error() string {
	if e.AccountID == 0 { // found by the unique index, which does not say whose
		return "channel is another account's room"
	}
	return fmt.Sprintf("channel is account %d's room", e.AccountID)
}

// roomOwner is the account whose room channel is, other than accountID;
// 0 when there is none.
func roomOwner(ctx context.Context, db store.DB, channel string, accountID int64) (int64, error) {
	var other int64
	err := db.QueryRow(ctx, `SELECT account_id FROM rooms WHERE channel_id = $1 AND account_id <> $2`,
		channel, accountID).Scan(&other)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return other, wrap("check room channel", err)
}

// saveRoom records the room, points the account at it and puts it on the
// account's timeline.
func saveRoom(ctx context.Context, tx store.Tx, r Room, entry store.TimelineEntry) error {
	_, err := tx.Exec(ctx, `INSERT INTO rooms (account_id, channel_id, channel_name, origin, linked_by) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (account_id) DO UPDATE SET channel_id = EXCLUDED.channel_id, channel_name = EXCLUDED.channel_name,
			origin = EXCLUDED.origin, linked_by = EXCLUDED.linked_by, updated_at = now()`,
		r.AccountID, r.ChannelID, r.ChannelName, r.Origin, r.LinkedBy)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return &ChannelTakenError{}
	}
	if err != nil {
		return fmt.Errorf("save room: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE accounts SET channel_id = $2, updated_at = now() WHERE id = $1`, r.AccountID, r.ChannelID); err != nil {
		return fmt.Errorf("point account at room: %w", err)
	}
	entry.Actor = r.LinkedBy
	return tx.AddTimeline(ctx, r.AccountID, entry, 0)
}

// resumeWaitingForRoom sets the account's handoffs that wait for a room
// (or failed finding one) due again; n is how many.
func resumeWaitingForRoom(ctx context.Context, tx store.Tx, accountID int64) (n int64, err error) {
	tag, err := tx.Exec(ctx, `UPDATE handoffs SET step = 'channel', failed_step = '', attempts = 0, last_error = '',
			next_at = now(), updated_at = now()
		WHERE account_id = $1 AND (step = 'channel' OR (step = 'failed' AND failed_step = 'channel'))`, accountID)
	if err != nil {
		return 0, fmt.Errorf("resume handoffs: %w", err)
	}
	return tag.RowsAffected(), nil
}

// Handoff steps, in order. Each step's Slack calls are idempotent or
// guarded, so a step interrupted by a crash or an error is simply run
// again.
const (
	StepChannel = "channel" // find, adopt or create the room
	StepInvite  = "invite"  // invite the CSM, the AE and configured people
	StepCard    = "card"    // queue the handoff card (and the AE's review DM)
	StepPin     = "pin"     // pin the card once it is delivered
	StepDone    = "done"
	StepFailed  = "failed"
)

// handoff is a leased handoff: where its state machine stands.
type handoff struct {
	DealID    int64
	AccountID int64
	Step      string
	ChannelID string
	NameTry   int
	NameTried string
	CardStale bool
	Attempts  int // failed tries of the current step
}

// leaseHandoffs claims up to n handoffs that have a step due, or a card to
// refresh. A lease that expires (the worker died) frees the handoff again.
func leaseHandoffs(ctx context.Context, db store.DB, n int, lease time.Duration) ([]handoff, error) {
	rows, err := Handoffs.Lease(ctx, db, n, lease, `SELECT deal_id, account_id, step, channel_id, name_try, name_tried,
		card_stale, attempts FROM leased ORDER BY next_at, deal_id`)
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[handoff])
	return list, wrap("lease handoffs", err)
}

// subject is everything a handoff step reads.
type subject struct {
	Deal    Deal
	Account store.Account
	Room    *Room // nil until the account has a room
	// ChannelShared: another account uses the account's channel_id, so it
	// is an alert channel, not this account's room.
	ChannelShared bool
}

// loadSubject loads the deal, account and room a handoff works on.
func loadSubject(ctx context.Context, st *store.Store, h handoff) (subject, error) {
	var sub subject
	var err error
	if sub.Deal, err = dealByID(ctx, st.DB(), h.DealID); err != nil {
		return sub, err
	}
	if sub.Account, err = st.Account(ctx, h.AccountID); err != nil {
		return sub, err
	}
	room, err := RoomOf(ctx, st.DB(), h.AccountID)
	switch {
	case err == nil:
		sub.Room = &room
	case !errors.Is(err, store.ErrNotFound):
		return sub, err
	}
	if sub.Account.ChannelID != "" && sub.Room == nil {
		err = st.DB().QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM accounts WHERE channel_id = $1 AND id <> $2)
			OR EXISTS (SELECT 1 FROM rooms WHERE channel_id = $1 AND account_id <> $2)`,
			sub.Account.ChannelID, h.AccountID).Scan(&sub.ChannelShared)
		if err != nil {
			return sub, fmt.Errorf("check shared channel: %w", err)
		}
	}
	return sub, nil
}

// recordNameTry notes the channel name about to be created, before the
// call: if the process dies after Slack created it, the next try sees
// name_taken for a name it tried itself and adopts the channel instead of
// making another.
func recordNameTry(ctx context.Context, db store.DB, h handoff, name string, try int) error {
	_, err := db.Exec(ctx, `UPDATE handoffs SET name_tried = $2, name_try = $3, updated_at = now()
		WHERE deal_id = $1 AND step = 'channel'`, h.DealID, name, try)
	return wrap("record channel name", err)
}

// moveStep moves a handoff from its current step to next and logs the
// step; errHandoffMoved when another worker moved it meanwhile.
func moveStep(ctx context.Context, tx store.Tx, h handoff, next, channel, detail string) error {
	tag, err := tx.Exec(ctx, `UPDATE handoffs SET step = $3, channel_id = $4, attempts = 0, last_error = '',
			next_at = now(), leased_until = NULL, updated_at = now(),
			done_at = CASE WHEN $3 = 'done' THEN now() ELSE done_at END
		WHERE deal_id = $1 AND step = $2`, h.DealID, h.Step, next, channel)
	if err != nil {
		return fmt.Errorf("advance handoff: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return errHandoffMoved
	}
	return logStep(ctx, tx, h, "ok", detail)
}

// errHandoffMoved: another worker advanced the handoff; the caller's work
// rolls back and the other worker's stands.
var errHandoffMoved = errors.New("handoff moved on meanwhile")

// logStep records what a step did.
func logStep(ctx context.Context, db store.DB, h handoff, outcome, detail string) error {
	_, err := db.Exec(ctx, `INSERT INTO handoff_steps (deal_id, step, outcome, detail) VALUES ($1, $2, $3, $4)`,
		h.DealID, h.Step, outcome, detail)
	return wrap("log handoff step", err)
}

// retryStep sets the current step due again at retryAt; counted is false
// when the step is waiting (for a message's delivery), not failing.
// moved is true when another worker moved the handoff meanwhile.
func retryStep(ctx context.Context, tx store.Tx, h handoff, cause string, retryAt time.Time, counted bool) (moved bool, err error) {
	tag, err := tx.Exec(ctx, `UPDATE handoffs SET attempts = attempts + $3::int, last_error = $4, next_at = $5,
			leased_until = NULL, updated_at = now()
		WHERE deal_id = $1 AND step = $2`, h.DealID, h.Step, intOf(counted), cause, retryAt)
	if err != nil {
		return false, fmt.Errorf("retry handoff: %w", err)
	}
	return tag.RowsAffected() == 0, nil
}

// failStep stops a handoff at its current step; errHandoffMoved when
// another worker moved it meanwhile.
func failStep(ctx context.Context, tx store.Tx, h handoff, cause string) error {
	tag, err := tx.Exec(ctx, `UPDATE handoffs SET step = 'failed', failed_step = $2, last_error = $3,
			leased_until = NULL, updated_at = now()
		WHERE deal_id = $1 AND step = $2`, h.DealID, h.Step, cause)
	if err != nil {
		return fmt.Errorf("fail handoff: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return errHandoffMoved
	}
	return nil
}

// release lets another worker take the handoff right away.
func release(ctx context.Context, db store.DB, h handoff) error {
	_, err := db.Exec(ctx, `UPDATE handoffs SET leased_until = NULL WHERE deal_id = $1`, h.DealID)
	return wrap("release handoff", err)
}

// clearCardStale takes the refresh mark off before the card is rendered:
// a change after this point marks it again.
func clearCardStale(ctx context.Context, db store.DB, h handoff) error {
	_, err := db.Exec(ctx, `UPDATE handoffs SET card_stale = false WHERE deal_id = $1`, h.DealID)
	return wrap("clear card stale", err)
}

// markCardStale puts the refresh mark back after a refresh that failed.
func markCardStale(ctx context.Context, db store.DB, h handoff) error {
	_, err := db.Exec(ctx, `UPDATE handoffs SET card_stale = true, next_at = now() + interval '2 seconds'
		WHERE deal_id = $1`, h.DealID)
	return wrap("mark card stale", err)
}

// handoffStatus is a handoff as /room shows it.
type handoffStatus struct {
	DealID    int64
	DealName  string
	Step      string // for a failed handoff, the step it failed at
	Failed    bool
	LastError string
	Missing   []Field // handoff fields the deal still lacks
}

// handoffsOf lists an account's handoffs, newest first, with what each
// deal still lacks, in one query.
func handoffsOf(ctx context.Context, db store.DB, accountID int64) ([]handoffStatus, error) {
	rows, err := db.Query(ctx, `SELECT `+dealColumns+`,
			CASE WHEN h.step = 'failed' THEN h.failed_step ELSE h.step END, h.step = 'failed', h.last_error
		FROM (SELECT deal_id, step, failed_step, last_error, created_at FROM handoffs WHERE account_id = $1) h
		JOIN deals ON deals.id = h.deal_id ORDER BY h.created_at DESC LIMIT 10`, accountID)
	if err != nil {
		return nil, fmt.Errorf("account handoffs: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (handoffStatus, error) {
		var d Deal
		var h handoffStatus
		if err := scanDeal(r, &d, &h.Step, &h.Failed, &h.LastError); err != nil {
			return h, err
		}
		// Missing reads promises_known, not the promises themselves.
		h.DealID, h.DealName, h.Missing = d.ID, d.Name, d.Missing()
		return h, nil
	})
	return list, wrap("account handoffs", err)
}

func intOf(b bool) int {
	if b {
		return 1
	}
	return 0
}

func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
