package scoring

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestDefaultConfigIsValid(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("default config invalid: %v", err)
	}
	w := cfg.Weights
	if sum := w.Usage + w.Support + w.NPS + w.Payments + w.Renewal + w.Engagement + w.Champion + w.Intent; sum != 100 {
		t.Errorf("default weights add up to %v", sum)
	}
}

// yamlKey is the key a user writes for a Config field, read from the struct
// tags so a renamed tag cannot leave error messages pointing at a key that
// no longer exists.
func yamlKey(t *testing.T, field string) string {
	t.Helper()
	path := strings.Split(field, ".")
	typ := reflect.TypeOf(Config{})
	var keys []string
	for _, name := range path {
		f, ok := typ.FieldByName(name)
		if !ok {
			t.Fatalf("no field %s", field)
		}
		keys = append(keys, strings.Split(f.Tag.Get("yaml"), ",")[0])
		typ = f.Type
	}
	return "scoring." + strings.Join(keys, ".")
}

func TestValidateNamesTheKey(t *testing.T) {
	t.Parallel()
	cases := []struct {
		field  string // Go path into Config
		mutate func(*Config)
		want   string // message after "scoring.<key>: "
	}{
		{"Weights.Usage", func(c *Config) { c.Weights.Usage = -5; c.Weights.Support += 25 }, "must be >= 0 (got -5)"},
		{"Weights.Support", func(c *Config) { c.Weights.Support = -1 }, "must be >= 0"},
		{"Weights.NPS", func(c *Config) { c.Weights.NPS = math.NaN() }, "must be >= 0 (got NaN)"},
		{"Weights.Payments", func(c *Config) { c.Weights.Payments = -1 }, "must be >= 0"},
		{"Weights.Renewal", func(c *Config) { c.Weights.Renewal = -1 }, "must be >= 0"},
		{"Weights.Engagement", func(c *Config) { c.Weights.Engagement = math.Inf(1) }, "must be >= 0"},
		{"Weights.Champion", func(c *Config) { c.Weights.Champion = -1 }, "must be >= 0"},
		{"Weights.Intent", func(c *Config) { c.Weights.Intent = -1 }, "must be >= 0"},
		{"Weights.CSAT", func(c *Config) { c.Weights.CSAT = -1 }, "must be >= 0"},
		{"Weights", func(c *Config) { c.Weights.Usage = 15 }, "must add up to 100 (got 95)"},
		{"Weights", func(c *Config) { c.Weights.Usage = 20.5 }, "must add up to 100 (got 100.5)"},
		{"AtRiskBelow", func(c *Config) { c.AtRiskBelow = 0; c.CriticalBelow = 0 }, "must be between 1 and 100 (got 0)"},
		{"AtRiskBelow", func(c *Config) { c.AtRiskBelow = 101 }, "must be between 1 and 100 (got 101)"},
		{"CriticalBelow", func(c *Config) { c.CriticalBelow = 70 }, "must be below at_risk_below (got 70, at_risk_below is 70)"},
		{"CriticalBelow", func(c *Config) { c.CriticalBelow = -1 }, "must be >= 0 (got -1)"},
		{"UsageWindowDays", func(c *Config) { c.UsageWindowDays = 0 }, "must be at least 1 (got 0)"},
		{"UsageFullDrop", func(c *Config) { c.UsageFullDrop = 0 }, "must be above 0 and at most 1"},
		{"UsageFullDrop", func(c *Config) { c.UsageFullDrop = 1.5 }, "must be above 0 and at most 1"},
		{"UsageFullDrop", func(c *Config) { c.UsageFullDrop = math.NaN() }, "must be above 0 and at most 1"},
		{"TicketHalfLife", func(c *Config) { c.TicketHalfLife = 0 }, "must be > 0 days (got 0)"},
		{"TicketsFull", func(c *Config) { c.TicketsFull = 0 }, "must be > 0 (got 0)"},
		{"NPSHalfLife", func(c *Config) { c.NPSHalfLife = -3 }, "must be > 0 days (got -3)"},
		{"PaymentHalfLife", func(c *Config) { c.PaymentHalfLife = 0 }, "must be > 0 days"},
		{"PaymentsFull", func(c *Config) { c.PaymentsFull = math.Inf(1) }, "must be > 0"},
		{"RenewalWindow", func(c *Config) { c.RenewalWindow = 0 }, "must be > 0 days (got 0)"},
		{"DormancyGrace", func(c *Config) { c.DormancyGrace = -1 }, "must be >= 0 (got -1)"},
		{"DormancyFull", func(c *Config) { c.DormancyFull = 7 }, "must be above dormancy_grace_days (got 7, dormancy_grace_days is 7)"},
		{"ChampionHalfLife", func(c *Config) { c.ChampionHalfLife = 0 }, "must be > 0 days"},
		{"IntentHalfLife", func(c *Config) { c.IntentHalfLife = 0 }, "must be > 0 days"},
		{"DropPoints", func(c *Config) { c.DropPoints = 0 }, "must be between 1 and 100 (got 0)"},
		{"DropPoints", func(c *Config) { c.DropPoints = 101 }, "must be between 1 and 100 (got 101)"},
		{"Rescore", func(c *Config) { c.Rescore = " " }, `must be a cron spec like "@hourly" or "off"`},
		{"IntentBand", func(c *Config) { c.IntentBand = "healthy" }, `must be at_risk or critical (got "healthy")`},
	}
	covered := map[string]bool{}
	for _, tc := range cases {
		want := yamlKey(t, tc.field) + ": " + tc.want
		covered[tc.field] = true
		t.Run(want, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.mutate(&cfg)
			err := cfg.Validate()
			if err == nil {
				t.Fatalf("no error, want %q", want)
			}
			// Exactly one problem was introduced, so exactly one line.
			if got := err.Error(); !strings.HasPrefix(got, want) || strings.Contains(got, "\n") {
				t.Errorf("got %q, want exactly %q…", got, want)
			}
		})
	}

	// Every tunable must have a rule under test; a new field without one
	// fails here rather than being silently accepted.
	typ := reflect.TypeOf(Config{})
	for i := range typ.NumField() {
		if f := typ.Field(i); !covered[f.Name] {
			t.Errorf("Config.%s has no Validate case", f.Name)
		}
	}
	wt := reflect.TypeOf(Weights{})
	for i := range wt.NumField() {
		if name := "Weights." + wt.Field(i).Name; !covered[name] {
			t.Errorf("Config.%s has no Validate case", name)
		}
	}
}

func TestValidateAcceptsEdges(t *testing.T) {
	t.Parallel()
	cases := map[string]func(*Config){
		"usage_full_drop 1":          func(c *Config) { c.UsageFullDrop = 1 },
		"drop_points 1":              func(c *Config) { c.DropPoints = 1 },
		"drop_points 100":            func(c *Config) { c.DropPoints = 100 },
		"critical_below 0":           func(c *Config) { c.CriticalBelow = 0 },
		"at_risk_below 100":          func(c *Config) { c.AtRiskBelow = 100 },
		"dormancy grace 0":           func(c *Config) { c.DormancyGrace = 0 },
		"a zero weight":              func(c *Config) { c.Weights.Renewal = 0; c.Weights.Usage = 25 },
		"decimal weights add to 100": func(c *Config) { c.Weights.Usage = 19.9; c.Weights.Renewal = 5.1 },
	}
	for name, mutate := range cases {
		cfg := DefaultConfig()
		mutate(&cfg)
		if err := cfg.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.Weights.Usage = 10
	cfg.DropPoints = 0
	cfg.DormancyFull = 3
	err := cfg.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		"scoring.weights: must add up to 100 (got 90)",
		"scoring.drop_points: ",
		"scoring.dormancy_full_days: ",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not mention %q", err, want)
		}
	}
}
