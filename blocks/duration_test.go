package blocks

import (
	"testing"
	"time"
)

func TestShortDurationAndPercent(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		0: "0m", 29 * time.Second: "0m", 45 * time.Minute: "45m", 3 * time.Hour: "3h", 200 * time.Minute: "3h 20m",
		52 * time.Hour: "2d 4h", 5 * 24 * time.Hour: "5d", -90 * time.Minute: "-1h 30m", 1 << 62: "53,375d 23h",
	} {
		if got := ShortDuration(d); got != want {
			t.Errorf("ShortDuration(%v) = %q, want %q", d, got, want)
		}
	}
	for _, c := range []struct {
		num, den int
		want     string
	}{{4, 7, "57%"}, {0, 3, "0%"}, {3, 3, "100%"}, {1, 0, "n/a"}} {
		if got := Percent(c.num, c.den); got != c.want {
			t.Errorf("Percent(%d, %d) = %q, want %q", c.num, c.den, got, c.want)
		}
	}
}
