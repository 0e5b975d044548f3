package blocks

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/holdfast/holdfast/scoring"
)

// Money formats an ARR amount in whole USD the way people say it: exact
// below $10,000 ("$9,500"), then thousands ("$12.5k", "$240k"), millions
// ("$1.2M") and billions. Rounding happens before the unit is chosen so
// 999,999 reads "$1M", not "$1000k".
func Money(usd float64) string {
	if math.IsNaN(usd) || math.IsInf(usd, 0) {
		return "n/a"
	}
	sign := ""
	if usd < 0 {
		sign = "-"
		usd = -usd
	}
	if n := math.Round(usd); n < 10_000 {
		return sign + "$" + FormatInt(int64(n))
	}
	for _, u := range []struct {
		div    float64
		suffix string
	}{{1e3, "k"}, {1e6, "M"}, {1e9, "B"}, {1e12, "T"}} {
		v := usd / u.div
		// One decimal while it adds information (under 100 units).
		if r := math.Round(v*10) / 10; r < 100 {
			return sign + "$" + strconv.FormatFloat(r, 'f', -1, 64) + u.suffix
		}
		if r := math.Round(v); r < 1000 {
			return sign + "$" + strconv.FormatFloat(r, 'f', 0, 64) + u.suffix
		}
	}
	// No customer is worth this: a data error, shown bounded, not as 300 digits.
	return sign + "$999T+"
}

// FormatInt writes n with thousands separators.
func FormatInt(n int64) string {
	return groupDigits(strconv.FormatInt(n, 10))
}

// groupDigits inserts thousands separators into a decimal integer string.
func groupDigits(s string) string {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Date formats a calendar date as "Mar 3, 2027" in t's own location: a
// Renewal date is a date, not an instant, so it is not converted.
func Date(t time.Time) string {
	return t.Format("Jan 2, 2006")
}

// Relative says how far t's calendar date is from now's ("today",
// "tomorrow", "in 23 days", "3 days ago"). Calendar days, not 24-hour
// periods, so a renewal tomorrow morning is "tomorrow" at 23:00 today. now
// is taken in t's location for the same reason Date does not convert t.
// A zero now gives "" so builders can omit the phrase.
func Relative(t, now time.Time) string {
	if now.IsZero() {
		return ""
	}
	n := now.In(t.Location())
	day := func(y int, m time.Month, d int) int64 {
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
	}
	days := day(t.Year(), t.Month(), t.Day()) - day(n.Year(), n.Month(), n.Day())
	switch {
	case days == 0:
		return "today"
	case days == 1:
		return "tomorrow"
	case days == -1:
		return "yesterday"
	case days > 1:
		return "in " + strconv.FormatInt(days, 10) + " days"
	default:
		return strconv.FormatInt(-days, 10) + " days ago"
	}
}

// Renewal renders an optional Renewal date: "Mar 3, 2027 (in 23 days)".
func Renewal(t *time.Time, now time.Time) string {
	if t == nil || t.IsZero() {
		return "No renewal date"
	}
	if rel := Relative(*t, now); rel != "" {
		return Date(*t) + " (" + rel + ")"
	}
	return Date(*t)
}

// sparkLevels are the eight block heights, lowest first.
const sparkLevels = "▁▂▃▄▅▆▇█"

// Sparkline draws scores as block characters on an absolute 0..100 scale
// (level = round(score × 7 / 100), clamped), not scaled to the series'
// min and max, so a flat healthy line sits high and a flat failing one low:
// 100→█, 70→▆, 40→▄, 0→▁.
func Sparkline(scores []int) string {
	levels := []rune(sparkLevels)
	var b strings.Builder
	for _, s := range scores {
		i := int(math.Round(float64(s) * 7 / 100))
		i = max(0, min(7, i))
		b.WriteRune(levels[i])
	}
	return b.String()
}

// BandEmoji is the traffic light for a band; unknown bands get a neutral
// dot rather than pretending to be healthy.
func BandEmoji(b scoring.Band) string {
	switch b {
	case scoring.BandCritical:
		return "🔴"
	case scoring.BandAtRisk:
		return "🟠"
	case scoring.BandHealthy:
		return "🟢"
	}
	return "⚪"
}

// BandLabel is Band.Label except that an unknown band is not called
// healthy.
func BandLabel(b scoring.Band) string {
	switch b {
	case scoring.BandCritical, scoring.BandAtRisk, scoring.BandHealthy:
		return b.Label()
	}
	return "Unknown"
}

// ScoreChange describes the move from prev to score: long "▼18 from 75"
// for the card, short "▼18" for notifications; both "" without a previous
// score.
func ScoreChange(score int, prev *int) (long, short string) {
	if prev == nil {
		return "", ""
	}
	d := score - *prev
	switch {
	case d < 0:
		short = "▼" + Itoa(-d)
	case d > 0:
		short = "▲" + Itoa(d)
	default:
		return "unchanged from " + Itoa(*prev), "±0"
	}
	return short + " from " + Itoa(*prev), short
}

// PointsText renders a component's impact: "-22 points", "-1 point".
func PointsText(p float64) string {
	n := RoundInt(p)
	unit := " points"
	if n == 1 || n == -1 {
		unit = " point"
	}
	if n > 0 {
		return "+" + Itoa(n) + unit
	}
	return Itoa(n) + unit
}

// RoundInt rounds half away from zero.
func RoundInt(f float64) int {
	if math.IsNaN(f) {
		return 0
	}
	// Clamp so absurd inputs cannot overflow the conversion.
	return int(math.Round(max(-1e9, min(1e9, f))))
}

// Signed renders n with an explicit sign: "+5", "-15", "0".
func Signed(n int) string {
	if n > 0 {
		return "+" + Itoa(n)
	}
	return Itoa(n)
}

// AccountLabel falls back to the id so a nameless import still reads.
func AccountLabel(name string, id int64) string {
	if strings.TrimSpace(name) == "" {
		return "Account #" + strconv.FormatInt(id, 10)
	}
	return name
}

// EntryText: "ticket · still waiting on export…", summary capped at max.
func EntryText(e TimelineEntry, max int) string {
	kind := UserText(strings.ReplaceAll(e.Kind, "_", " "), MaxIDLen)
	if kind == "" {
		kind = "event"
	}
	by := ""
	if e.Actor != "" {
		by = " (" + UserRef(e.Actor, "") + ")"
	}
	if s := strings.TrimSpace(e.Summary); s != "" {
		return kind + " · " + UserText(s, max) + by
	}
	return kind + by
}

// SignedFloat: "+0.42", "-0.10".
func SignedFloat(f float64) string {
	s := strconv.FormatFloat(f, 'f', 2, 64)
	if f >= 0 {
		return "+" + s
	}
	return s
}

func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return FormatInt(int64(n)) + " " + many
}

// DriverText is a component as one line of plain text: "usage -38% over
// 14 days: -22 points". It is not escaped; blocks escape it when shown.
func DriverText(c scoring.Component) string {
	return ComponentDetail(c) + ": " + PointsText(c.Points)
}

// ComponentDetail is the most specific description a component has.
func ComponentDetail(c scoring.Component) string {
	switch {
	case strings.TrimSpace(c.Detail) != "":
		return c.Detail
	case strings.TrimSpace(c.Label) != "":
		return c.Label
	case c.Key != "":
		return c.Key
	}
	return "unknown"
}

// ShortDuration: "45m", "3h 20m", "2d 4h"; rounded to the minute (SLA
// clocks, time to claim or recover).
func ShortDuration(d time.Duration) string {
	if d < 0 {
		return "-" + ShortDuration(-d)
	}
	m := int64(d.Round(time.Minute) / time.Minute)
	days, hours, mins := m/(24*60), m/60%24, m%60
	switch {
	case days > 0 && hours > 0:
		return FormatInt(days) + "d " + strconv.FormatInt(hours, 10) + "h"
	case days > 0:
		return FormatInt(days) + "d"
	case hours > 0 && mins > 0:
		return strconv.FormatInt(hours, 10) + "h " + strconv.FormatInt(mins, 10) + "m"
	case hours > 0:
		return strconv.FormatInt(hours, 10) + "h"
	}
	return strconv.FormatInt(mins, 10) + "m"
}

// Percent: "67%"; "n/a" without a share.
func Percent(num, den int) string {
	if den <= 0 {
		return "n/a"
	}
	return strconv.Itoa(int(math.Round(100*float64(num)/float64(den)))) + "%"
}
