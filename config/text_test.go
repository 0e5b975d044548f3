package config

import (
	"strings"
	"testing"
	"time"

	"github.com/holdfast/holdfast/internal/textsignals"
)

func TestTextAndDigestSettings(t *testing.T) {
	t.Parallel()
	s, err := ParseSettings([]byte(`
schedule:
  timezone: Europe/Berlin
text:
  competitors:
    - name: Gainsight
      aliases: [GS, Gainsight PX]
    - name: Vitally
      case_sensitive: true
      exclude: [vitally important]
  own_names: [Acme, "@AcmeHelp"]
  competitor_cooldown: 3d
  sentiment_drop:
    drop: 0.5
  slack_authors: all
digest:
  send_at: "08:30"
  weekly_day: Friday
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Text.Competitors) != 2 || !s.Text.Competitors[1].CaseSensitive || s.Text.Competitors[0].Aliases[1] != "Gainsight PX" ||
		len(s.Text.Competitors[1].Exclude) != 1 || len(s.Text.OwnNames) != 2 || s.Text.OwnNames[1] != "@AcmeHelp" {
		t.Errorf("competitors %+v", s.Text.Competitors)
	}
	if s.Text.CompetitorCooldown.Duration != 72*time.Hour || s.Text.SentimentDrop.Drop != 0.5 || s.Text.SentimentDrop.WindowDays != 14 {
		t.Errorf("text settings %+v", s.Text)
	}
	if s.Digest.SendAt != "08:30" || s.Digest.Weekday() != time.Friday || s.Digest.Timezone != "Europe/Berlin" {
		t.Errorf("digest settings %+v (weekday %v): the time zone defaults to schedule.timezone", s.Digest, s.Digest.Weekday())
	}

	d, err := ParseSettings(nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.Text.SlackAuthors != textsignals.SlackAuthorsCustomers || d.Digest.Timezone != "UTC" || d.Digest.Weekday() != time.Monday || d.Text.CompetitorCooldown.Duration != 7*24*time.Hour {
		t.Errorf("defaults: %+v %+v", d.Text, d.Digest)
	}
}

func TestTextSettingsErrorsNameTheKey(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ yaml, want string }{
		{"text:\n  competitors:\n    - name: Gainsight\n    - name: Totango\n      aliases: [gainsight]\n", "text.competitors[1].aliases[0]: "},
		{"text:\n  competitors:\n    - aliases: [x]\n", "text.competitors[0].name: must not be empty"},
		{"text:\n  own_names: [Acme, \"@\"]\n", "text.own_names[1]: "},
		{"text:\n  own_names: [gainsight]\n  competitors:\n    - name: Gainsight\n", "text.own_names[0]: \"gainsight\" is also competitor"},
		{"text:\n  competitors:\n    - name: Amazon\n      exclude: [\"\"]\n", "text.competitors[0].exclude[0]: must not be empty"},
		{"text:\n  competitors:\n    - name: Gainsight\n      alias: [GS]\n", `unknown key "alias"`},
		{"text:\n  competitor_cooldown: 10s\n", "text.competitor_cooldown: must be at least 1m"},
		{"text:\n  sentiment_drop:\n    drop: 3\n", "text.sentiment_drop.drop:"},
		{"text:\n  sentiment_drop:\n    window_days: 0\n", "text.sentiment_drop.window_days:"},
		{"text:\n  slack_authors: bots\n", "text.slack_authors: want"},
		{"digest:\n  send_at: 9am\n", "digest.send_at: want HH:MM"},
		{"digest:\n  weekly_day: someday\n", "digest.weekly_day:"},
		{"digest:\n  timezone: Mars/Olympus\n", `digest.timezone: unknown time zone "Mars/Olympus"`},
	} {
		_, err := ParseSettings([]byte(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.yaml, err, c.want)
		}
	}
}
