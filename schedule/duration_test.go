package schedule

import (
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestParseDuration(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{"90m": 90 * time.Minute, "24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour, "0d": 0} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "d", "1.5d", "+2d", "2 d", "soon"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) accepted", bad)
		}
	}
}

func TestUnmarshalYAML(t *testing.T) {
	t.Parallel()
	var v struct {
		SLA Duration `yaml:"sla"`
	}
	if err := yaml.Unmarshal([]byte("sla: 2d\n"), &v); err != nil || v.SLA.Duration != 48*time.Hour {
		t.Fatalf("sla = %s, %v", v.SLA.Duration, err)
	}
	if err := yaml.Unmarshal([]byte("sla: soon\n"), &v); err == nil {
		t.Error("bad duration accepted")
	}
}
