package playbook

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/holdfast/holdfast/internal/churn"
)

// reportPeriod is the window /atrisk report covers: [Start, End), End no
// later than the moment the report is built.
type reportPeriod struct {
	Label      string // "last 30 days", "week of Nov 23", "November 2026", "Q4 2026"
	Start, End time.Time
}

// reportUsage answers a period /atrisk report does not know.
const reportUsage = "Usage: /atrisk report [period], where period is 7d, 30d or 90d (or any number of days up to 366d), " +
	"week, month or quarter (the last whole one), a month like 2026-11 or a quarter like 2026-Q4. Default: the last 30 days."

// parseReportPeriod reads /atrisk report's period as of now; calendar
// periods are in loc (schedule.timezone). The current month or quarter is
// allowed and covers its days so far.
func parseReportPeriod(arg string, now time.Time, loc *time.Location) (reportPeriod, error) {
	arg = strings.ToLower(strings.TrimSpace(arg))
	local := now.In(loc)
	if arg == "" {
		arg = "30d"
	}
	if n, ok := strings.CutSuffix(arg, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 1 || days > 366 {
			return reportPeriod{}, fmt.Errorf("%q is not a number of days from 1d to 366d", arg)
		}
		return reportPeriod{Label: "last " + strconv.Itoa(days) + " days", Start: now.AddDate(0, 0, -days), End: now}, nil
	}
	if arg == "week" {
		// The last whole week, Monday to Monday.
		today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
		monday := today.AddDate(0, 0, -((int(today.Weekday()) + 6) % 7))
		start := monday.AddDate(0, 0, -7)
		return reportPeriod{Label: "week of " + start.Format("Jan 2, 2006"), Start: start, End: monday}, nil
	}
	// Months and quarters: churn's calendar, as dates, anchored in loc.
	today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC)
	p, err := churn.ParsePeriod(arg, today)
	if err != nil {
		return reportPeriod{}, err
	}
	start := time.Date(p.Start.Year(), p.Start.Month(), 1, 0, 0, 0, 0, loc)
	end := time.Date(p.End.Year(), p.End.Month(), 1, 0, 0, 0, 0, loc)
	label := p.Label()
	if end.After(now) {
		end = now
		label += " so far"
	}
	return reportPeriod{Label: label, Start: start, End: end}, nil
}
