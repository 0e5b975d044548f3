package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) Getenv { return func(k string) string { return m[k] } }

func writeYAML(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "holdfast.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultsAreLocalModeAndValid(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !c.LocalMode() || c.SlackAPIURL != DefaultSlackAPIURL || c.Settings.Alerts.Cooldown.Duration != 24*time.Hour ||
		c.Settings.Scoring.AtRiskBelow != 70 || c.Settings.Schedule.Location() != time.UTC || c.LLM.Enabled() {
		t.Fatalf("defaults = %+v", c)
	}
}

func TestEveryMistakeNamesItsVariableOrKey(t *testing.T) {
	t.Parallel()
	slack := map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1", "HOLDFAST_INGEST_TOKEN": "0123456789abcdef"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range slack {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	cases := []struct {
		name string
		env  map[string]string
		yaml string
		want string
	}{
		{"one token", map[string]string{"SLACK_BOT_TOKEN": "xoxb-1"}, "", "SLACK_BOT_TOKEN and SLACK_APP_TOKEN"},
		{"user token", with("SLACK_BOT_TOKEN", "xoxp-1"), "", "SLACK_BOT_TOKEN: must be a bot token"},
		{"bot token as app token", with("SLACK_APP_TOKEN", "xoxb-2"), "", "SLACK_APP_TOKEN: must be an app-level token"},
		{"api url without slash", with("SLACK_API_URL", "http://127.0.0.1:9/api"), "", "SLACK_API_URL: must end with /"},
		{"api url not http", with("SLACK_API_URL", "ftp://x/"), "", "SLACK_API_URL: not an http(s) URL"},
		{"database", with("DATABASE_URL", "mysql://x"), "", "DATABASE_URL"},
		{"redis", with("REDIS_URL", "localhost:6379"), "", "REDIS_URL"},
		{"http addr", with("HOLDFAST_HTTP_ADDR", "8080"), "", "HOLDFAST_HTTP_ADDR"},
		{"no ingest token with slack", with("HOLDFAST_INGEST_TOKEN", ""), "", "HOLDFAST_INGEST_TOKEN: required"},
		{"short ingest token", with("HOLDFAST_INGEST_TOKEN", "short"), "", "HOLDFAST_INGEST_TOKEN: must be at least 16"},
		{"llm url", with("OPENAI_BASE_URL", "localhost:1234"), "", "OPENAI_BASE_URL"},
		{"missing file", with("HOLDFAST_CONFIG", "/nonexistent/holdfast.yaml"), "", "HOLDFAST_CONFIG"},
		{"unknown key", slack, "alerts:\n  cooldwn: 1h\n", `line 2: unknown key "cooldwn"`},
		{"bad channel", slack, "alerts:\n  default_channel: general\n", "alerts.default_channel"},
		{"short cooldown", slack, "alerts:\n  cooldown: 10s\n", "alerts.cooldown"},
		{"bad duration", slack, "alerts:\n  cooldown: soon\n", "invalid duration"},
		{"quiet hours clock", slack, "alerts:\n  quiet_hours: {start: '25:00', end: '08:00'}\n", "alerts.quiet_hours.start"},
		{"quiet hours zone", slack, "alerts:\n  quiet_hours: {start: '20:00', end: '08:00', timezone: Mars/Base}\n", "alerts.quiet_hours.timezone"},
		{"weights", slack, "scoring:\n  weights: {usage: 50}\n", "scoring.weights: must add up to 100"},
		{"bands", slack, "scoring:\n  critical_below: 80\n", "scoring.critical_below"},
		{"schedule zone", slack, "schedule:\n  timezone: Nowhere\n", "schedule.timezone"},
		{"prefix", slack, "redis:\n  key_prefix: ''\n", "redis.key_prefix"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := c.env
			if c.yaml != "" {
				e = with("HOLDFAST_CONFIG", writeYAML(t, c.yaml))
			}
			_, err := Load(env(e))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to mention %q", err, c.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

func TestYAMLOverridesDefaults(t *testing.T) {
	t.Parallel()
	p := writeYAML(t, `
alerts:
  default_channel: C0123ABCD
  cooldown: 2d
  quiet_hours: {start: "20:00", end: "08:00", timezone: Europe/Berlin}
scoring:
  at_risk_below: 65
schedule:
  timezone: America/New_York
`)
	c, err := Load(env(map[string]string{"HOLDFAST_CONFIG": p}))
	if err != nil {
		t.Fatal(err)
	}
	s := c.Settings
	if s.Alerts.DefaultChannel != "C0123ABCD" || s.Alerts.Cooldown.Duration != 48*time.Hour || s.Scoring.AtRiskBelow != 65 ||
		s.Scoring.CriticalBelow != 40 || s.Schedule.Location().String() != "America/New_York" {
		t.Fatalf("settings = %+v", s)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	q := s.Alerts.QuietHours
	if got := q.Until(time.Date(2026, 11, 25, 23, 0, 0, 0, berlin)); !got.Equal(time.Date(2026, 11, 26, 8, 0, 0, 0, berlin)) {
		t.Errorf("quiet until = %s", got)
	}
	if got := q.Until(time.Date(2026, 11, 25, 12, 0, 0, 0, berlin)); !got.IsZero() {
		t.Errorf("noon is not quiet, got %s", got)
	}
	if got := q.Until(time.Date(2026, 11, 25, 7, 30, 0, 0, berlin)); !got.Equal(time.Date(2026, 11, 25, 8, 0, 0, 0, berlin)) {
		t.Errorf("early morning quiet until = %s", got)
	}
}
