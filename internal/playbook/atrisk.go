package playbook

import (
	"context"
	"strings"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/bot"
	"github.com/holdfast/holdfast/handlers"
	"github.com/holdfast/holdfast/scoring"
)

// atRiskShown is how many accounts /atrisk lists.
const atRiskShown = 20

// command answers /atrisk [mine] and /atrisk report [period].
func (m *Module) command(ctx context.Context, cmd slack.SlashCommand) (bot.Reply, error) {
	f := strings.Fields(cmd.Text)
	if len(f) > 0 && strings.EqualFold(f[0], "report") {
		return m.reportCommand(ctx, cmd, f[1:])
	}
	return m.atRisk(ctx, cmd)
}

// atRisk lists the at-risk accounts the caller may see, most at stake first.
func (m *Module) atRisk(ctx context.Context, cmd slack.SlashCommand) (bot.Reply, error) {
	arg := strings.ToLower(strings.TrimSpace(cmd.Text))
	if arg != "" && arg != "mine" {
		return bot.Reply{Message: blocks.Problem("Usage: /atrisk [mine] or /atrisk report [period]")}, nil
	}
	var owners []string // nil: every account
	if arg == "mine" {
		owners = []string{cmd.UserID}
	} else if v := handlers.ViewerFrom(ctx); v != nil {
		if all, book := v.Book(); !all {
			owners = append([]string{}, book...)
		}
	}
	page, err := atRiskRanked(ctx, m.store, owners, m.scoring.AtRiskBelow, atRiskShown)
	if err != nil {
		return bot.Reply{}, err
	}
	order := &atRiskOrder{AtRiskBelow: m.scoring.AtRiskBelow}
	if page.ModelFittedAt != nil {
		order.Model, order.FittedAt = true, page.ModelFittedAt.In(m.loc)
	}
	v := atRiskView{Mine: arg == "mine", Total: page.Total, ARRAtRisk: page.ARRAtRisk, Now: m.now(), Order: order}
	for _, a := range page.Accounts {
		row := atRiskRow{AccountID: a.ID, Name: a.Name, Band: scoring.Band(a.HealthBand), ARR: a.ARR,
			RenewalDate: a.RenewalDate, OwnerSlackID: a.OwnerCSM, TopDriver: a.HealthDriver, Likelihood: a.Likelihood}
		if a.HealthScore != nil {
			row.Score = *a.HealthScore
		}
		v.Rows = append(v.Rows, row)
	}
	return bot.Reply{Message: atRiskCard(v)}, nil
}
