package digest

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/holdfast/holdfast/blocks"
)

// SavesSource gives a weekly digest's Saves section: what the at-risk
// playbooks (internal/playbook) achieved in the digest's window, for the
// subscription's filters. The playbook module implements it; app.go hands
// it to New.
type SavesSource interface {
	Saves(ctx context.Context, q SavesQuery) (Saves, error)
}

// SavesQuery is one digest's window and filters.
type SavesQuery struct {
	Start, End time.Time
	MinARR     float64 // the playbook's ARR when it opened
	Tier       string  // the account's tier; "" = every tier
}

// Saves are the playbook figures a weekly digest shows: playbooks opened
// in the window (and how fast they were claimed), playbooks resolved in it
// (and the ARR that kept or lost), and those open at its end.
type Saves struct {
	Opened                        int
	SLAMet, SLADue                int            // opened in the window: claimed within the SLA, of those whose deadline came
	MedianClaim                   *time.Duration // opened in the window and claimed
	Recovered, Churned, Dismissed int
	StillOpen                     int // open at the window's end
	ARRSaved, ARRLost             float64
	RecoveryRate                  *float64 // recovered ÷ (recovered + churned); nil: none of either
	MedianRecovery                *time.Duration
}

// Empty says nothing happened to a playbook in the window and none is open.
func (s Saves) Empty() bool {
	return s.Opened == 0 && s.Recovered == 0 && s.Churned == 0 && s.Dismissed == 0 && s.StillOpen == 0
}

// savesText is the Saves section: resolutions and the ARR they kept or
// lost, then the response to new alerts.
func savesText(s Saves) string {
	out := []string{
		"*Saves:* " + blocks.Itoa(s.Recovered) + " recovered (" + blocks.Money(s.ARRSaved) + " ARR saved) · " +
			blocks.Itoa(s.Churned) + " churned (" + blocks.Money(s.ARRLost) + " ARR lost) · " + blocks.Itoa(s.Dismissed) + " dismissed",
	}
	if r := s.RecoveryRate; r != nil && *r >= 0 && *r <= 1 {
		out[0] += " · recovery rate " + strconv.Itoa(int(math.Round(100**r))) + "%"
		if s.MedianRecovery != nil {
			out[0] += " (median " + blocks.ShortDuration(*s.MedianRecovery) + " to recover)"
		}
	}
	line := blocks.Plural(s.Opened, "playbook", "playbooks") + " opened"
	if s.SLADue > 0 {
		line += " · " + blocks.Percent(s.SLAMet, s.SLADue) + " claimed within SLA (" + blocks.Itoa(s.SLAMet) + " of " + blocks.Itoa(s.SLADue) + ")"
	}
	if s.MedianClaim != nil {
		line += " · median claim " + blocks.ShortDuration(*s.MedianClaim)
	}
	line += " · " + blocks.Itoa(s.StillOpen) + " still open"
	return strings.Join(append(out, line), "\n")
}
