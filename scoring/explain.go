package scoring

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// visiblePoints is the smallest move worth showing: anything less rounds to
// "0 points" in FormatPoints and would read as a driver that costs nothing.
const visiblePoints = 0.5

// Drivers are the components that cost the account points, worst first,
// at most n of them: what a CSM should look at to understand the score.
// Ties keep the fixed component order so the list is stable between runs.
func (h Health) Drivers(n int) []Component {
	if n <= 0 {
		return nil
	}
	var out []Component
	for _, c := range h.Components {
		if c.Points < -visiblePoints {
			out = append(out, c)
		}
	}
	slices.SortStableFunc(out, func(a, b Component) int { return cmp.Compare(a.Points, b.Points) })
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// Deltas explains a change of score by component, worst move first; moves
// too small to show are left out. With no previous score every component
// moved from 0, which is what a first alert should explain. A component
// missing from prev (a model that gained one) also counts from 0.
func Deltas(prev *Health, next Health) []ComponentDelta {
	var out []ComponentDelta
	for _, c := range next.Components {
		before := 0.0
		if prev != nil {
			for _, p := range prev.Components {
				if p.Key == c.Key {
					before = p.Points
					break
				}
			}
		}
		// Points are stored in tenths; rounding the difference drops the
		// float noise subtraction adds, so -0.30000000000000004 stays -0.3.
		d := roundTenth(c.Points - before)
		if math.Abs(d) < visiblePoints {
			continue
		}
		out = append(out, ComponentDelta{Component: c, Delta: d})
	}
	slices.SortStableFunc(out, func(a, b ComponentDelta) int { return cmp.Compare(a.Delta, b.Delta) })
	return out
}

// FormatPoints renders points the way the UI shows them: whole points with
// an explicit sign, since "+3" and "-3" mean opposite things to a reader.
func FormatPoints(p float64) string {
	if !isFinite(p) {
		return "0 points"
	}
	n := int(math.Round(p))
	switch {
	case n == 1:
		return "+1 point"
	case n == -1:
		return "-1 point"
	case n > 0:
		return fmt.Sprintf("+%d points", n)
	}
	return fmt.Sprintf("%d points", n)
}
