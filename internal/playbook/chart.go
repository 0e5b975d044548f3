package playbook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/internal/digest"
	"github.com/holdfast/holdfast/store"
)

// chartMonths is how many whole months the monthly chart shows.
const chartMonths = 6

// MonthlyChart posts the at-risk ARR chart of the last six whole months
// (ARR in open playbooks each day, saves and losses each month) to the
// channels with a weekly risk digest, else alerts.default_channel, once per
// month and channel across replicas: the post is claimed in the
// transaction that uploads it, so a racing replica waits for it and then
// finds it taken, and a failed upload rolls the claim back for the next
// run to retry. The chart covers every account (as the digest channels'
// ARR-at-risk headline does); shared channels never get it.
func (m *Module) MonthlyChart(ctx context.Context, now time.Time) error {
	if m.files == nil {
		return nil
	}
	local := now.In(m.loc)
	end := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, m.loc)
	start := end.AddDate(0, -chartMonths, 0)
	month := end.AddDate(0, -1, 0).Format("2006-01")
	db := m.store.DB()
	channels, err := digest.SubscribedChannels(ctx, db, digest.Weekly, digest.TopicRisk)
	if err != nil {
		return err
	}
	if len(channels) == 0 && m.channel != "" {
		channels = []string{m.channel}
	}
	if channels, err = chartPending(ctx, db, month, channels); err != nil || len(channels) == 0 {
		return err
	}
	c, err := loadChart(ctx, db, start, end, m.loc)
	if err != nil {
		return err
	}
	png, err := chartPNG(c, m.loc)
	if err != nil {
		return err
	}
	var errs []error
	for _, ch := range channels {
		if err := m.postChart(ctx, ch, month, c, png, now); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// postChart claims month's chart for channel and uploads it in one
// transaction.
func (m *Module) postChart(ctx context.Context, channel, month string, c chartData, png []byte, now time.Time) error {
	posted := false
	err := m.store.InTx(ctx, func(tx store.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO playbook_chart_posts (month, channel_id, posted_at) VALUES ($1, $2, $3)
			ON CONFLICT (month, channel_id) DO NOTHING`, month, channel, now)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		f, err := m.files.UploadFileContext(ctx, slack.UploadFileParameters{
			Channel: channel, Reader: bytes.NewReader(png), FileSize: len(png),
			Filename: "holdfast-at-risk-arr-" + month + ".png", Title: "At-risk ARR to " + c.Label(),
			AltTxt: "ARR in open at-risk playbooks each day, with ARR saved and lost each month", InitialComment: chartComment(c),
		})
		if err != nil {
			return fmt.Errorf("upload chart: %w", err) // the claim rolls back: the next run retries
		}
		posted = true
		_, err = tx.Exec(ctx, `UPDATE playbook_chart_posts SET file_id = $3 WHERE month = $1 AND channel_id = $2`, month, channel, f.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("monthly chart %s to %s: %w", month, channel, err)
	}
	if posted {
		m.log.Info("monthly at-risk chart posted", "month", month, "channel", channel)
	}
	return nil
}

// chartPending keeps the channels that have not had month's chart and
// are not shared with another organisation (an upload bypasses the
// outbox, which keeps internal posts out of shared channels).
func chartPending(ctx context.Context, db store.DB, month string, channels []string) ([]string, error) {
	if len(channels) == 0 {
		return nil, nil
	}
	rows, err := db.Query(ctx, `SELECT c FROM unnest($2::text[]) WITH ORDINALITY AS x(c, n)
		WHERE NOT EXISTS (SELECT 1 FROM playbook_chart_posts p WHERE p.month = $1 AND p.channel_id = x.c)
		  AND NOT EXISTS (SELECT 1 FROM shared_channels s WHERE s.channel_id = x.c)
		ORDER BY n`, month, channels)
	if err != nil {
		return nil, fmt.Errorf("chart channels: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("chart channels: %w", err)
	}
	return out, nil
}

// chartDay is the ARR in playbooks open on one day.
type chartDay struct {
	Day time.Time // local midnight
	ARR float64
}

// chartMonth is the ARR recovered and churned in one month.
type chartMonth struct {
	Start       time.Time // local first of the month
	Saved, Lost float64
}

// chartData is what the monthly chart draws.
type chartData struct {
	Start, End time.Time
	Days       []chartDay
	Months     []chartMonth
}

// Label names the chart's last month: "November 2026".
func (c chartData) Label() string { return c.End.AddDate(0, 0, -1).Format("January 2006") }

// Totals are the saves and losses over the chart's months.
func (c chartData) Totals() (saved, lost float64) {
	for _, m := range c.Months {
		saved, lost = saved+m.Saved, lost+m.Lost
	}
	return saved, lost
}

func chartComment(c chartData) string {
	saved, lost := c.Totals()
	return "*At-risk ARR, " + c.Start.Format("Jan 2006") + " – " + c.Label() + "*: " + blocks.Money(saved) + " saved (recovered), " +
		blocks.Money(lost) + " lost (churned). The line is the ARR in open at-risk playbooks each day."
}

// pgZone names loc for Postgres: "Local" means nothing there.
func pgZone(loc *time.Location) string {
	if loc == nil || loc.String() == "Local" {
		return "UTC"
	}
	return loc.String()
}

// loadChart reads [start, end): each local day's ARR in playbooks open at
// any time that day (from the day it opened to the day it was resolved),
// as a running sum of openings and closings rather than a day-by-playbook
// join, and each month's ARR recovered and churned.
func loadChart(ctx context.Context, db store.DB, start, end time.Time, loc *time.Location) (chartData, error) {
	c := chartData{Start: start, End: end}
	zone := pgZone(loc)
	startDay, endDay := start.Format(time.DateOnly), end.Format(time.DateOnly)
	rows, err := db.Query(ctx, `WITH ev AS (
			SELECT greatest((opened_at AT TIME ZONE $3)::date, $4::date) AS day, arr AS delta FROM playbooks
			WHERE opened_at < $2 AND (resolved_at IS NULL OR resolved_at >= $1)
			UNION ALL
			SELECT (resolved_at AT TIME ZONE $3)::date + 1, -arr FROM playbooks
			WHERE resolved_at >= $1 AND resolved_at < $2),
		daily AS (SELECT day, sum(delta) AS delta FROM ev GROUP BY day)
		SELECT d.day, (sum(coalesce(daily.delta, 0)) OVER (ORDER BY d.day))::float8
		FROM (SELECT generate_series($4::date, $5::date - 1, interval '1 day')::date AS day) d
		LEFT JOIN daily ON daily.day = d.day ORDER BY d.day`, start, end, zone, startDay, endDay)
	if err != nil {
		return c, fmt.Errorf("chart days: %w", err)
	}
	c.Days, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (chartDay, error) {
		var d chartDay
		var day time.Time
		err := r.Scan(&day, &d.ARR)
		d.Day = time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, loc)
		return d, err
	})
	if err != nil {
		return c, fmt.Errorf("chart days: %w", err)
	}
	rows, err = db.Query(ctx, `SELECT to_char(resolved_at AT TIME ZONE $3, 'YYYY-MM'),
			coalesce(sum(arr) FILTER (WHERE state = 'recovered'), 0)::float8, coalesce(sum(arr) FILTER (WHERE state = 'churned'), 0)::float8
		FROM playbooks WHERE resolved_at >= $1 AND resolved_at < $2 AND state IN ('recovered', 'churned')
		GROUP BY 1`, start, end, zone)
	if err != nil {
		return c, fmt.Errorf("chart months: %w", err)
	}
	byMonth := map[string][2]float64{}
	var key string
	var saved, lost float64
	_, err = pgx.ForEachRow(rows, []any{&key, &saved, &lost}, func() error {
		byMonth[key] = [2]float64{saved, lost}
		return nil
	})
	if err != nil {
		return c, fmt.Errorf("chart months: %w", err)
	}
	for m := start; m.Before(end); m = m.AddDate(0, 1, 0) {
		v := byMonth[m.Format("2006-01")]
		c.Months = append(c.Months, chartMonth{Start: m, Saved: v[0], Lost: v[1]})
	}
	return c, nil
}
