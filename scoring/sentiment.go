package scoring

import (
	"errors"
	"fmt"
	"time"
)

// SentimentDropConfig says when an account's falling sentiment deserves an
// alert: the mean sentiment of its texts (tickets, calls, emails, Slack
// messages) over the last WindowDays against the WindowDays before.
type SentimentDropConfig struct {
	WindowDays int     `yaml:"window_days"` // default 14
	Drop       float64 `yaml:"drop"`        // fall in mean sentiment (-1..+1 scale) that alerts; default 0.35
	MinSignals int     `yaml:"min_signals"` // texts needed in each window; default 3
}

// DefaultSentimentDrop: two weeks against two weeks, like usage; a fall of
// 0.35 is a neutral account turning clearly negative (VADER's labels sit
// at ±0.05) or a happy one turning neutral; three texts per window keep
// one angry e-mail from alerting by itself.
func DefaultSentimentDrop() SentimentDropConfig {
	return SentimentDropConfig{WindowDays: 14, Drop: 0.35, MinSignals: 3}
}

// Validate names the YAML key at fault under prefix.
func (c SentimentDropConfig) Validate(prefix string) error {
	switch {
	case c.WindowDays < 1 || c.WindowDays > 90:
		return fmt.Errorf("%s.window_days: want 1..90 (got %d)", prefix, c.WindowDays)
	case c.Drop <= 0 || c.Drop > 2:
		return fmt.Errorf("%s.drop: want a fall in mean sentiment above 0 and at most 2 (got %g)", prefix, c.Drop)
	case c.MinSignals < 1:
		return errors.New(prefix + ".min_signals: must be at least 1")
	}
	return nil
}

// SentimentTrend compares the mean sentiment of two adjacent windows.
type SentimentTrend struct {
	Recent, Before   float64 // means; meaningful when the counts are > 0
	RecentN, BeforeN int
	Worst            *Signal // the most negative recent text, for the alert to quote
}

// Fall is how much the mean fell (positive when it got worse).
func (t SentimentTrend) Fall() float64 { return t.Before - t.Recent }

// SentimentTrendOf reads signals (any order) with a sentiment as of now.
func SentimentTrendOf(signals []Signal, now time.Time, windowDays int) SentimentTrend {
	var t SentimentTrend
	recentFrom := now.AddDate(0, 0, -windowDays)
	beforeFrom := recentFrom.AddDate(0, 0, -windowDays)
	var sumR, sumB float64
	for i := range signals {
		s := &signals[i]
		if s.Sentiment == nil || !isFinite(*s.Sentiment) || s.OccurredAt.After(now) {
			continue
		}
		switch {
		case !s.OccurredAt.Before(recentFrom):
			sumR += *s.Sentiment
			t.RecentN++
			if t.Worst == nil || *s.Sentiment < *t.Worst.Sentiment {
				t.Worst = s
			}
		case !s.OccurredAt.Before(beforeFrom):
			sumB += *s.Sentiment
			t.BeforeN++
		}
	}
	if t.RecentN > 0 {
		t.Recent = sumR / float64(t.RecentN)
	}
	if t.BeforeN > 0 {
		t.Before = sumB / float64(t.BeforeN)
	}
	return t
}

// DecideSentimentDrop reports whether trend is a drop worth an alert, with
// a one-line summary. Callers ask only when new text arrived, so an old
// drop does not alert again on a usage ping.
func DecideSentimentDrop(cfg SentimentDropConfig, t SentimentTrend) (string, bool) {
	if t.RecentN < cfg.MinSignals || t.BeforeN < cfg.MinSignals || t.Fall() < cfg.Drop {
		return "", false
	}
	return fmt.Sprintf("sentiment fell from %+.2f to %+.2f over %d days (%d texts vs %d before)",
		t.Before, t.Recent, cfg.WindowDays, t.RecentN, t.BeforeN), true
}
