package playbook

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/store"
	"github.com/holdfast/holdfast/store/storetest"
)

// seedReport fills a schema with 100k accounts, 1M alerts over two years
// and 300k playbooks opened by them: three episodes per account, 240 days
// apart, resolved after 5 to 40 days (55% recovered, 20% churned, 25%
// dismissed), a third of the last 60 days' and all unfinished ones still
// open; 96% claimed, 0 to 10 hours after the alert was due.
func seedReport(b *testing.B, now time.Time) *store.Store {
	b.Helper()
	st := storetest.New(b)
	ctx := context.Background()
	for _, q := range []string{
		`INSERT INTO accounts (external_id, name, tier, arr, segment, owner_csm)
			SELECT 'a' || i, 'Account ' || i, (ARRAY['Gold', 'Silver', ''])[1 + i % 3], 1000 + (i % 500) * 1000,
				(ARRAY['Enterprise', 'Mid-Market', 'SMB', 'Startup'])[1 + i % 4], 'U0CSM' || lpad((i % 60)::text, 3, '0')
			FROM generate_series(1, 100000) i`,
		`INSERT INTO alerts (account_id, kinds, critical, score, band, view, channel_id, created_at)
			SELECT 1 + i % 100000, '{health}', i % 10 = 0, 20 + i % 40, 'at_risk', '{}', 'C0ALERTS',
				$1::timestamptz - (i % 730) * interval '1 day'
			FROM generate_series(1, 1000000) i`,
		`INSERT INTO playbooks (account_id, alert_id, channel_id, thread_key, critical, owner_csm, segment, arr, score_at_open,
				band_at_open, opened_at, sla_from, nudge_at, claim_due_at, claimed_by, claimed_at, contacted_at, state, resolved_at,
				score_at_resolution, recovered_from)
			SELECT x.account_id, x.i, 'C0ALERTS', 'alert:' || x.i, x.i % 10 = 0, a.owner_csm, a.segment, a.arr, 20 + x.i % 40,
				'at_risk', x.opened, x.sla, x.sla + interval '2 hours', x.sla + interval '4 hours',
				CASE WHEN x.claimed THEN CASE WHEN x.i % 7 = 0 THEN 'U0CSM999' ELSE a.owner_csm END END,
				CASE WHEN x.claimed THEN x.sla + (x.i::bigint * 7919 % 600) * interval '1 minute' END,
				CASE WHEN x.claimed AND x.i % 9 <> 0 THEN x.sla + (x.i::bigint * 7919 % 600 + 60 * (x.i % 48)) * interval '1 minute' END,
				x.state, CASE WHEN x.state <> 'open' THEN x.resolved END,
				CASE x.state WHEN 'recovered' THEN 60 + x.i % 30 WHEN 'churned' THEN 10 + x.i % 20 WHEN 'dismissed' THEN 50 + x.i % 30 END,
				CASE WHEN x.state = 'recovered' THEN x.opened + (2 + x.i % 3) * interval '1 day' END
			FROM (SELECT i, account_id, opened, sla, resolved, i % 25 <> 0 AS claimed,
					CASE WHEN k = 2 AND ((y < 60 AND i % 3 = 0) OR resolved > $1::timestamptz) THEN 'open'
					     WHEN i % 20 < 11 THEN 'recovered' WHEN i % 20 < 15 THEN 'churned' ELSE 'dismissed' END AS state
				FROM (SELECT i, account_id, k, y, opened, opened + CASE WHEN i % 5 = 0 THEN interval '8 hours' ELSE interval '0' END AS sla,
						opened + (5 + i % 35) * interval '1 day' AS resolved
					FROM (SELECT i, 1 + i % 100000 AS account_id, (i - 1) / 100000 AS k, (i * 37) % 240 AS y,
							$1::timestamptz - ((2 - (i - 1) / 100000) * 240 + (i * 37) % 240) * interval '1 day' - (i % 24) * interval '1 hour' AS opened
						FROM generate_series(1, 300000) i) e) r) x
			JOIN accounts a ON a.id = x.account_id`,
		`ANALYZE`,
	} {
		var args []any
		if strings.Contains(q, "$1") {
			args = append(args, now)
		}
		if _, err := st.Pool().Exec(ctx, q, args...); err != nil {
			b.Fatalf("seed: %v", err)
		}
	}
	return st
}

// /atrisk report (the last 30 days) over 100k accounts, 1M alerts and
// 300k playbooks: the query and the card, as leadership asks it.
func BenchmarkAtRiskReport(b *testing.B) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	st := seedReport(b, now)
	m := New(st, nil, nil, nil, Options{Settings: DefaultSettings(), Location: time.UTC}, nil, func() time.Time { return now }, nil)
	ctx := context.Background()
	cmd := slack.SlashCommand{Command: "/atrisk", Text: "report", UserID: "U0LEAD"}
	var text string
	for b.Loop() {
		r, err := m.reportCommand(ctx, cmd, nil)
		if err != nil {
			b.Fatal(err)
		}
		text = r.Text
	}
	b.Log(text)
}
