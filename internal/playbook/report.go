package playbook

import (
	"context"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/bot"
)

// TODO(report helper): /atrisk report [period], the weekly figures and the
// monthly chart replace these placeholders before this lands.

func (m *Module) reportCommand(ctx context.Context, cmd slack.SlashCommand, args []string) (bot.Reply, error) {
	return bot.Reply{Message: blocks.Problem("not built yet")}, nil
}

// WeeklyReport posts the week's figures.
func (m *Module) WeeklyReport(ctx context.Context, now time.Time) error { return nil }

// MonthlyChart posts the monthly at-risk ARR chart.
func (m *Module) MonthlyChart(ctx context.Context, now time.Time) error { return nil }
