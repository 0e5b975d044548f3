package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Audiences of an outbox message: only customer-facing messages may be
// posted where an outside organisation can read them.
const (
	AudienceInternal = "internal"
	AudienceCustomer = "customer"
)

// MarkChannelShared records that an outside organisation can read channel;
// first is true when this is news.
func (q Queries) MarkChannelShared(ctx context.Context, channel, source string) (first bool, err error) {
	tag, err := q.db.Exec(ctx, `INSERT INTO shared_channels (channel_id, source) VALUES ($1, $2)
		ON CONFLICT (channel_id) DO NOTHING`, channel, source)
	if err != nil {
		return false, fmt.Errorf("mark channel shared: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// ChannelShared says whether channel was recorded as shared.
func (q Queries) ChannelShared(ctx context.Context, channel string) (bool, error) {
	var shared bool
	err := q.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM shared_channels WHERE channel_id = $1)`, channel).Scan(&shared)
	return shared, wrap("channel shared", err)
}

// ClaimOwnerTold is true for the one caller that gets to tell the
// account's owner that channel became shared; redeliveries get false.
func (q Queries) ClaimOwnerTold(ctx context.Context, channel string) (bool, error) {
	tag, err := q.db.Exec(ctx, `UPDATE shared_channels SET owner_told_at = now()
		WHERE channel_id = $1 AND owner_told_at IS NULL`, channel)
	if err != nil {
		return false, fmt.Errorf("claim owner told: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// IsEmail tells an e-mail address from a Slack id in owner_csm, ae and
// sales_manager.
func IsEmail(s string) bool { return strings.Contains(s, "@") }

// SlackUserByEmailChecked is the cached users.lookupByEmail answer
// ("" = Slack had no such user) and when it was last asked (zero: never).
func (q Queries) SlackUserByEmailChecked(ctx context.Context, email string) (userID string, checked time.Time, err error) {
	err = q.db.QueryRow(ctx, `SELECT user_id, checked_at FROM slack_emails WHERE email = lower($1)`, email).Scan(&userID, &checked)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", time.Time{}, nil
	}
	return userID, checked, wrap("slack user by email", err)
}

// RememberSlackEmail caches a users.lookupByEmail answer ("" = unknown).
func (q Queries) RememberSlackEmail(ctx context.Context, email, userID string) error {
	_, err := q.db.Exec(ctx, `INSERT INTO slack_emails (email, user_id) VALUES (lower($1), $2)
		ON CONFLICT (email) DO UPDATE SET user_id = EXCLUDED.user_id, checked_at = now()`, email, userID)
	return wrap("remember slack email", err)
}

// SlackUser is who a stored person field names: a Slack user id as is,
// an e-mail through the users.lookupByEmail cache; "" when unresolved.
func (q Queries) SlackUser(ctx context.Context, person string) (string, error) {
	if !IsEmail(person) {
		return person, nil
	}
	id, _, err := q.SlackUserByEmailChecked(ctx, person)
	return id, err
}
