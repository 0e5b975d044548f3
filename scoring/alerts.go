package scoring

import (
	"fmt"
	"strings"
)

// DecideAlerts says which alerts a newly computed score deserves, given the
// previous one (nil for an account's first score) and the signals that
// arrived since. Band changes win over a plain score drop so a CSM gets one
// message per event, not two; stated intent to cancel always alerts on its
// own, whatever the score did, because it is the one signal a CSM must act
// on the same day. Improvements and churned accounts never alert.
//
// Reasons come band or drop first, then cancellation.
func DecideAlerts(cfg Config, prev *Health, next Health, newSignals []Signal) []AlertReason {
	if next.Churned {
		return nil
	}
	// A score from while the account was churned says nothing about the
	// reactivated one; judge it as a first score.
	if prev != nil && prev.Churned {
		prev = nil
	}

	var out []AlertReason
	worsened := prev == nil || next.Band.Severity() > prev.Band.Severity()
	switch {
	case worsened && next.Band == BandCritical:
		out = append(out, AlertReason{Kind: AlertEnteredCritical, Critical: true, Summary: "entered critical: " + transition(prev, next)})
	case worsened && next.Band == BandAtRisk:
		out = append(out, AlertReason{Kind: AlertEnteredAtRisk, Summary: "entered at risk: " + transition(prev, next)})
	case prev != nil && prev.Score-next.Score > cfg.DropPoints:
		out = append(out, AlertReason{
			Kind:     AlertScoreDrop,
			Critical: next.Band == BandCritical,
			Summary:  fmt.Sprintf("dropped %d points: %s", prev.Score-next.Score, transition(prev, next)),
		})
	}

	if summary, ok := cancellationSummary(newSignals); ok {
		out = append(out, AlertReason{Kind: AlertCancellation, Critical: true, Summary: summary})
	}
	return out
}

func transition(prev *Health, next Health) string {
	if prev == nil {
		return fmt.Sprintf("%d (first score)", next.Score)
	}
	return fmt.Sprintf("%d → %d", prev.Score, next.Score)
}

// cancellationSummary says where intent to cancel was stated, by kind and
// count ("cancellation intent in a ticket and 2 emails"). It never quotes
// the customer's words: Text is unescaped and the summary is shown as is.
func cancellationSummary(signals []Signal) (string, bool) {
	var counts []int // parallel to Kinds, then one slot for unknown kinds
	total := 0
	for _, s := range signals {
		if !statesIntent(s) {
			continue
		}
		if counts == nil {
			counts = make([]int, len(Kinds)+1)
		}
		counts[kindIndex(s.Kind)]++
		total++
	}
	if total == 0 {
		return "", false
	}
	if counts[kindIndex(KindCancellation)] == total {
		// A cancellation notice is the intent itself, not a place it was
		// said; "in a cancellation notice" would read as a stutter.
		if total == 1 {
			return "cancellation intent recorded", true
		}
		return fmt.Sprintf("cancellation intent recorded %d times", total), true
	}
	var where []string
	for i, n := range counts {
		if n == 0 {
			continue
		}
		k := Kind("")
		if i < len(Kinds) {
			k = Kinds[i]
		}
		w := noun(k)
		if n == 1 {
			where = append(where, w.article+" "+w.one)
		} else {
			where = append(where, plural(n, w.one))
		}
	}
	return "cancellation intent in " + joinAnd(where), true
}

func kindIndex(k Kind) int {
	for i, known := range Kinds {
		if k == known {
			return i
		}
	}
	return len(Kinds)
}

// joinAnd writes a list as prose: "a", "a and b", "a, b and c".
func joinAnd(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
