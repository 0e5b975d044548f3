package access

import (
	"context"
	"strings"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/bot"
)

// commandHelp is one line of /help.
type commandHelp struct {
	command, what, example string
	may                    func(Person) bool // nil: everyone
}

var helpLines = []commandHelp{
	{"/health", "an account's score, drivers and trend", "/health Acme Corp", nil},
	{"/atrisk", "at-risk accounts in your book, most at stake first", "/atrisk mine", nil},
	{"/atrisk report", "at-risk playbooks: response times, saves and ARR saved", "/atrisk report month", Person.MaySeeReports},
	{"/offer", "propose a retention offer for an account you own or manage", "/offer Acme Corp", nil},
	{"/offers", "offers waiting for you, or an account's offers", "/offers pending", nil},
	{"/offers stats", "offer outcomes and their cost", "/offers stats", Person.MaySeeReports},
	{"/nps", "an account's NPS history and detractor loops", "/nps Acme Corp", nil},
	{"/nps report", "the quarter's NPS report", "/nps report", Person.MaySeeReports},
	{"/digest", "this channel's digest subscriptions, or a preview", "/digest list", nil},
	{"/digest subscribe", "subscribe this channel to a digest", "/digest subscribe weekly risk", Person.MayManageDigests},
	{"/digest subscribe live", "critical churn-risk alerts and recoveries here as they happen", "/digest subscribe live risk min_arr=250k", Person.MayManageDigests},
	{"/churned", "record why an account churned", "/churned Acme Corp", nil},
	{"/rootcause", "churn by root cause, cohorts and win-backs", "/rootcause report quarter", Person.MaySeeReports},
	{"/room", "an account's room, or make this channel its room", "/room link Acme Corp", nil},
	{"/note", "save a note to an account", "/note Acme Corp renewal call went well", nil},
	{"/help", "this list", "/help", nil},
}

// help lists the commands this person may run, one line each with an
// example. Commands the wiring did not register are left out.
func (m *Module) help(ctx context.Context, cmd slack.SlashCommand) (bot.Reply, error) {
	p := m.roles.Current(ctx, cmd.UserID)
	registered := map[string]bool{}
	if m.router != nil {
		for _, c := range m.router.Commands() {
			registered[c] = true
		}
	}
	var lines []string
	for _, h := range helpLines {
		name := strings.Fields(h.command)[0]
		if (m.router != nil && !registered[name]) || (h.may != nil && !h.may(p)) {
			continue
		}
		lines = append(lines, "*"+h.command+"* — "+h.what+" · e.g. `"+h.example+"`")
	}
	head := "Commands you can use:"
	if roles := p.Roles(); p.Restricted() && len(roles) > 0 {
		head = "Commands you can use (" + strings.Join(roles, ", ") + "):"
	}
	text := head + "\n" + strings.Join(lines, "\n")
	return bot.Reply{Message: blocks.Finish(text, []slack.Block{blocks.Section("help", text)}, blocks.MaxMessageBlocks)}, nil
}
