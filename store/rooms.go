package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/holdfast/holdfast/rooms"
)

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

// Room is an account's Slack channel.
type Room struct {
	AccountID   int64
	ChannelID   string
	ChannelName string
	Origin      string // created | linked | existing
	LinkedBy    string
}

// Handoff is a leased handoff: where its state machine stands.
type Handoff struct {
	DealID    int64
	AccountID int64
	Step      string
	ChannelID string
	NameTry   int
	NameTried string
	CardStale bool
	Attempts  int // failed tries of the current step
}

// HandoffSubject is everything a handoff step reads.
type HandoffSubject struct {
	Deal    rooms.Deal
	Account Account
	Room    *Room // nil until the account has a room
	// ChannelShared: another account uses the account's channel_id, so it
	// is an alert channel, not this account's room.
	ChannelShared bool
}

// Room returns an account's room, or ErrNotFound.
func (s *Store) Room(ctx context.Context, accountID int64) (Room, error) {
	return roomOf(ctx, s.pool, accountID)
}

func roomOf(ctx context.Context, q rowQuerier, accountID int64) (Room, error) {
	var r Room
	err := q.QueryRow(ctx, `SELECT account_id, channel_id, channel_name, origin, linked_by FROM rooms WHERE account_id = $1`,
		accountID).Scan(&r.AccountID, &r.ChannelID, &r.ChannelName, &r.Origin, &r.LinkedBy)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, ErrNotFound
	}
	return r, wrap("read room", err)
}

// AccountByChannel is the account whose room is channel; failing that, the
// one account whose channel_id is channel. ErrNotFound otherwise.
func (s *Store) AccountByChannel(ctx context.Context, channel string) (Account, error) {
	a, err := scanAccount(s.pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts
		WHERE id = (SELECT account_id FROM rooms WHERE channel_id = $1)`, channel))
	if err == nil {
		return a, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return a, fmt.Errorf("account by room: %w", err)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+accountColumns+` FROM accounts WHERE channel_id = $1 LIMIT 2`, channel)
	if err != nil {
		return a, fmt.Errorf("account by channel: %w", err)
	}
	list, err := collectAccounts(rows)
	if err != nil {
		return a, fmt.Errorf("account by channel: %w", err)
	}
	if len(list) != 1 {
		return a, ErrNotFound
	}
	return list[0], nil
}

// ChannelTakenError says a channel is already another account's room.
type ChannelTakenError struct{ AccountID int64 }

func (e *ChannelTakenError) Error() string {
	if e.AccountID == 0 { // found by the unique index, which does not say whose
		return "channel is another account's room"
	}
	return fmt.Sprintf("channel is account %d's room", e.AccountID)
}

// LinkRoom makes channel the account's room (replacing any earlier room),
// points the account's alerts there, and resumes handoffs that were
// waiting for a room.
func (s *Store) LinkRoom(ctx context.Context, r Room, at time.Time) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var other int64
		err := tx.QueryRow(ctx, `SELECT account_id FROM rooms WHERE channel_id = $1 AND account_id <> $2`,
			r.ChannelID, r.AccountID).Scan(&other)
		if err == nil {
			return &ChannelTakenError{AccountID: other}
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("check room channel: %w", err)
		}
		if err := saveRoom(ctx, tx, r, at, "room.linked",
			fmt.Sprintf("Room linked: #%s", cmp.Or(r.ChannelName, r.ChannelID))); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE handoffs SET step = 'channel', failed_step = '', attempts = 0, last_error = '',
				next_at = now(), updated_at = now()
			WHERE account_id = $1 AND (step = 'channel' OR (step = 'failed' AND failed_step = 'channel'))`, r.AccountID)
		if err != nil {
			return fmt.Errorf("resume handoffs: %w", err)
		}
		if tag.RowsAffected() > 0 {
			return notifyRooms(ctx, tx, QueueHandoffs)
		}
		return nil
	})
}

// saveRoom records the room and points the account at it.
func saveRoom(ctx context.Context, tx DB, r Room, at time.Time, kind, summary string) error {
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
	return addTimeline(ctx, tx, r.AccountID, TimelineEntry{At: at, Kind: kind, Summary: summary, Actor: r.LinkedBy}, 0)
}

// LeaseHandoffs claims up to n handoffs that have a step due, or a card to
// refresh. A lease that expires (the worker died) frees the handoff again.
func (s *Store) LeaseHandoffs(ctx context.Context, n int, lease time.Duration) ([]Handoff, error) {
	rows, err := Handoffs.Lease(ctx, s.pool, n, lease, `SELECT deal_id, account_id, step, channel_id, name_try, name_tried,
		card_stale, attempts FROM leased ORDER BY next_at, deal_id`)
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Handoff])
	return list, wrap("lease handoffs", err)
}

// HandoffSubject loads the deal, account and room a handoff works on.
func (s *Store) HandoffSubject(ctx context.Context, h Handoff) (HandoffSubject, error) {
	var sub HandoffSubject
	var err error
	if sub.Deal, err = dealByID(ctx, s.pool, h.DealID); err != nil {
		return sub, err
	}
	if sub.Account, err = s.Account(ctx, h.AccountID); err != nil {
		return sub, err
	}
	room, err := roomOf(ctx, s.pool, h.AccountID)
	switch {
	case err == nil:
		sub.Room = &room
	case !errors.Is(err, ErrNotFound):
		return sub, err
	}
	if sub.Account.ChannelID != "" && sub.Room == nil {
		err = s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM accounts WHERE channel_id = $1 AND id <> $2)
			OR EXISTS (SELECT 1 FROM rooms WHERE channel_id = $1 AND account_id <> $2)`,
			sub.Account.ChannelID, h.AccountID).Scan(&sub.ChannelShared)
		if err != nil {
			return sub, fmt.Errorf("check shared channel: %w", err)
		}
	}
	return sub, nil
}

// RecordNameTry notes the channel name about to be created, before the
// call: if the process dies after Slack created it, the next try sees
// name_taken for a name it tried itself and adopts the channel instead of
// making another.
func (s *Store) RecordNameTry(ctx context.Context, h Handoff, name string, try int) error {
	_, err := s.pool.Exec(ctx, `UPDATE handoffs SET name_tried = $2, name_try = $3, updated_at = now()
		WHERE deal_id = $1 AND step = 'channel'`, h.DealID, name, try)
	return wrap("record channel name", err)
}

// RoomReady records the handoff's room (created, adopted or found) and
// moves it to the invite step. When the account meanwhile got another
// room, that one wins and is returned.
func (s *Store) RoomReady(ctx context.Context, h Handoff, r Room, at time.Time) (Room, error) {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		existing, err := roomOf(ctx, tx, h.AccountID)
		switch {
		case err == nil:
			r = existing
		case errors.Is(err, ErrNotFound):
			what := "Room created"
			if r.Origin != "created" {
				what = "Room set"
			}
			if err := saveRoom(ctx, tx, r, at, "room."+r.Origin, fmt.Sprintf("%s: #%s", what, cmp.Or(r.ChannelName, r.ChannelID))); err != nil {
				return err
			}
		default:
			return err
		}
		return advance(ctx, tx, h, StepInvite, r.ChannelID, "room "+r.ChannelID+" ("+r.Origin+")")
	})
	return r, err
}

// AdvanceHandoff moves a handoff from its current step to next, logs the
// step and enqueues msgs, all in one transaction: a step's messages are
// queued exactly once. It does nothing if another worker moved the
// handoff meanwhile.
func (s *Store) AdvanceHandoff(ctx context.Context, h Handoff, next, detail string, msgs ...OutboxItem) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		for _, m := range msgs {
			if err := enqueue(ctx, tx, m); err != nil {
				return err
			}
		}
		return advance(ctx, tx, h, next, h.ChannelID, detail)
	})
}

func advance(ctx context.Context, tx DB, h Handoff, next, channel, detail string) error {
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
	return logStep(ctx, tx, h.DealID, h.Step, "ok", detail)
}

// errHandoffMoved: another worker advanced the handoff; the caller's work
// rolls back and the other worker's stands.
var errHandoffMoved = errors.New("handoff moved on meanwhile")

// IsHandoffMoved reports whether err means another worker got there first.
func IsHandoffMoved(err error) bool { return errors.Is(err, errHandoffMoved) }

func logStep(ctx context.Context, tx DB, dealID int64, step, outcome, detail string) error {
	_, err := tx.Exec(ctx, `INSERT INTO handoff_steps (deal_id, step, outcome, detail) VALUES ($1, $2, $3, $4)`,
		dealID, step, outcome, detail)
	return wrap("log handoff step", err)
}

// LogHandoffStep records something a step did that did not move it (a
// person who could not be invited).
func (s *Store) LogHandoffStep(ctx context.Context, h Handoff, outcome, detail string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return logStep(ctx, tx, h.DealID, h.Step, outcome, detail) })
}

// RetryHandoff schedules the current step again at retryAt. countFailure
// false means the step is waiting (for a message's delivery), not failing.
func (s *Store) RetryHandoff(ctx context.Context, h Handoff, cause string, retryAt time.Time, countFailure bool) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		outcome := "waiting"
		if countFailure {
			outcome = "retry"
		}
		tag, err := tx.Exec(ctx, `UPDATE handoffs SET attempts = attempts + $3::int, last_error = $4, next_at = $5,
				leased_until = NULL, updated_at = now()
			WHERE deal_id = $1 AND step = $2`, h.DealID, h.Step, intOf(countFailure), cause, retryAt)
		if err != nil {
			return fmt.Errorf("retry handoff: %w", err)
		}
		if tag.RowsAffected() == 0 || !countFailure {
			return nil // waiting is not worth a log row per poll
		}
		return logStep(ctx, tx, h.DealID, h.Step, outcome, cause)
	})
}

// FailHandoff gives up on a handoff at its current step and queues msgs
// (telling a person) in the same transaction. /room link resumes a
// handoff that failed at the channel step.
func (s *Store) FailHandoff(ctx context.Context, h Handoff, cause string, msgs ...OutboxItem) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE handoffs SET step = 'failed', failed_step = $2, last_error = $3,
				leased_until = NULL, updated_at = now()
			WHERE deal_id = $1 AND step = $2`, h.DealID, h.Step, cause)
		if err != nil {
			return fmt.Errorf("fail handoff: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return errHandoffMoved
		}
		for _, m := range msgs {
			if err := enqueue(ctx, tx, m); err != nil {
				return err
			}
		}
		if err := addTimeline(ctx, tx, h.AccountID, TimelineEntry{At: time.Now(), Kind: "handoff.failed",
			Summary: "Handoff stopped at " + h.Step + ": " + cause}, 0); err != nil {
			return err
		}
		return logStep(ctx, tx, h.DealID, h.Step, "failed", cause)
	})
}

// ReleaseHandoff lets another worker take the handoff right away.
func (s *Store) ReleaseHandoff(ctx context.Context, h Handoff) error {
	_, err := s.pool.Exec(ctx, `UPDATE handoffs SET leased_until = NULL WHERE deal_id = $1`, h.DealID)
	return wrap("release handoff", err)
}

// MessageState says where a named outbox message stands.
type MessageState struct {
	Queued    bool
	ChannelID string
	TS        string // "" until delivered
	Failed    bool   // given up on
}

// OutboxMessage reports on the outbox message named ref.
func (s *Store) OutboxMessage(ctx context.Context, ref string) (MessageState, error) {
	var m MessageState
	err := s.pool.QueryRow(ctx, `SELECT channel_id, coalesce(ts, ''), failed_at IS NOT NULL FROM outbox WHERE ref = $1`, ref).
		Scan(&m.ChannelID, &m.TS, &m.Failed)
	if errors.Is(err, pgx.ErrNoRows) {
		return m, nil
	}
	m.Queued = err == nil
	return m, wrap("outbox message", err)
}

// ClearCardStale takes the refresh mark off before the card is rendered:
// a change after this point marks it again.
func (s *Store) ClearCardStale(ctx context.Context, h Handoff) error {
	_, err := s.pool.Exec(ctx, `UPDATE handoffs SET card_stale = false WHERE deal_id = $1`, h.DealID)
	return wrap("clear card stale", err)
}

// MarkCardStale puts the refresh mark back after a refresh that failed.
func (s *Store) MarkCardStale(ctx context.Context, h Handoff) error {
	_, err := s.pool.Exec(ctx, `UPDATE handoffs SET card_stale = true, next_at = now() + interval '2 seconds'
		WHERE deal_id = $1`, h.DealID)
	return wrap("mark card stale", err)
}

// HandoffStatus is a handoff as /room shows it.
type HandoffStatus struct {
	DealID    int64
	DealName  string
	Step      string // for a failed handoff, the step it failed at
	Failed    bool
	LastError string
	Missing   []rooms.Field // handoff fields the deal still lacks
}

// HandoffsForAccount lists an account's handoffs, newest first, with what
// each deal still lacks, in one query.
func (s *Store) HandoffsForAccount(ctx context.Context, accountID int64) ([]HandoffStatus, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+dealColumns+`,
			CASE WHEN h.step = 'failed' THEN h.failed_step ELSE h.step END, h.step = 'failed', h.last_error
		FROM (SELECT deal_id, step, failed_step, last_error, created_at FROM handoffs WHERE account_id = $1) h
		JOIN deals ON deals.id = h.deal_id ORDER BY h.created_at DESC LIMIT 10`, accountID)
	if err != nil {
		return nil, fmt.Errorf("account handoffs: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (HandoffStatus, error) {
		var d rooms.Deal
		var h HandoffStatus
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
