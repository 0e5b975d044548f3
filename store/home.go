package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// OwnedAccounts returns an owner's active accounts riskiest first
// (critical, at risk, healthy, unscored; lower score, then larger ARR
// first) and how many they own in all.
func (q Queries) OwnedAccounts(ctx context.Context, owner string, limit int) ([]Account, int, error) {
	if owner == "" {
		return nil, 0, nil
	}
	rows, err := q.db.Query(ctx, `SELECT `+accountColumns+` FROM accounts
		WHERE owner_csm = $1 AND status = 'active'
		ORDER BY CASE health_band WHEN 'critical' THEN 0 WHEN 'at_risk' THEN 1 WHEN 'healthy' THEN 2 ELSE 3 END,
			health_score NULLS LAST, arr DESC, id
		LIMIT $2`, owner, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("owned accounts: %w", err)
	}
	accounts, err := collectAccounts(rows)
	if err != nil {
		return nil, 0, fmt.Errorf("owned accounts: %w", err)
	}
	total := len(accounts)
	if total == limit {
		if err := q.db.QueryRow(ctx, `SELECT count(*) FROM accounts WHERE owner_csm = $1 AND status = 'active'`, owner).Scan(&total); err != nil {
			return nil, 0, fmt.Errorf("count owned accounts: %w", err)
		}
	}
	return accounts, total, nil
}

// Text alert kinds (text_alerts.kind), which ClaimedAlerts returns in
// Kinds; the text-signal module raises them.
const (
	TextAlertCompetitor = "competitor_mention"
	TextAlertSentiment  = "sentiment_drop"
)

// ClaimedAlert is an alert a user took on, of either kind.
type ClaimedAlert struct {
	Source      string // "health" (churn-risk alerts) or "text" (competitor, sentiment)
	ID          int64
	AccountID   int64
	AccountName string
	Kinds       []string // entered_at_risk, score_drop, competitor_mention, …
	Competitor  string
	ChannelID   string // health alerts: where it was posted
	MessageTS   string
	ClaimedAt   time.Time
}

// ClaimedAlerts returns the alerts user claimed since since, newest first.
func (q Queries) ClaimedAlerts(ctx context.Context, user string, since time.Time, limit int) ([]ClaimedAlert, error) {
	rows, err := q.db.Query(ctx, `SELECT 'health', al.id, al.account_id, a.name, al.kinds, '', al.channel_id,
			coalesce(al.message_ts, ''), al.claimed_at
		FROM alerts al JOIN accounts a ON a.id = al.account_id
		WHERE al.claimed_by = $1 AND al.claimed_at >= $2
		UNION ALL
		SELECT 'text', t.id, t.account_id, a.name, ARRAY[t.kind], t.competitor, '', '', t.claimed_at
		FROM text_alerts t JOIN accounts a ON a.id = t.account_id
		WHERE t.claimed_by = $1 AND t.claimed_at >= $2
		ORDER BY 9 DESC, 2 DESC LIMIT $3`, user, since, limit)
	if err != nil {
		return nil, fmt.Errorf("claimed alerts: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[ClaimedAlert])
	return out, wrap("claimed alerts", err)
}
