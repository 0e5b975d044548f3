package scoring

import (
	"strings"
	"testing"
	"time"
)

func TestSentimentDrop(t *testing.T) {
	t.Parallel()
	now := time.Date(2027, 2, 8, 12, 0, 0, 0, time.UTC)
	text := func(daysAgo int, v float64) Signal {
		return Signal{Kind: KindTicket, OccurredAt: now.AddDate(0, 0, -daysAgo), Sentiment: &v}
	}
	cfg := DefaultSentimentDrop()
	for _, c := range []struct {
		name    string
		signals []Signal
		alert   bool
	}{
		{"happy then angry", []Signal{text(20, 0.5), text(18, 0.4), text(16, 0.6), text(5, -0.4), text(3, -0.5), text(1, -0.2)}, true},
		{"small dip", []Signal{text(20, 0.2), text(18, 0.1), text(16, 0.2), text(5, 0.0), text(3, -0.1), text(1, 0.1)}, false},
		{"too few recent texts", []Signal{text(20, 0.5), text(18, 0.4), text(16, 0.6), text(5, -0.9), text(3, -0.9)}, false},
		{"nothing before to compare with", []Signal{text(5, -0.9), text(3, -0.9), text(1, -0.9)}, false},
		{"older than two windows is ignored", []Signal{text(40, 0.9), text(35, 0.9), text(30, 0.9), text(5, -0.4), text(3, -0.5), text(1, -0.2)}, false},
		{"improving", []Signal{text(20, -0.5), text(18, -0.4), text(16, -0.6), text(5, 0.4), text(3, 0.5), text(1, 0.2)}, false},
		{"usage has no sentiment", []Signal{{Kind: KindUsage, OccurredAt: now}, text(20, 0.5), text(18, 0.4), text(16, 0.6), text(5, -0.4), text(3, -0.5), text(1, -0.2)}, true},
	} {
		tr := SentimentTrendOf(c.signals, now, cfg.WindowDays)
		summary, alert := DecideSentimentDrop(cfg, tr)
		if alert != c.alert {
			t.Errorf("%s: alert %v (%+v), want %v", c.name, alert, tr, c.alert)
		}
		if alert && (!strings.Contains(summary, "sentiment fell from +0.50 to -0.37") || tr.Worst == nil || *tr.Worst.Sentiment != -0.5) {
			t.Errorf("%s: summary %q worst %+v", c.name, summary, tr.Worst)
		}
	}
}

func TestSentimentDropConfigValidate(t *testing.T) {
	t.Parallel()
	if err := DefaultSentimentDrop().Validate("text.sentiment_drop"); err != nil {
		t.Fatal(err)
	}
	bad := DefaultSentimentDrop()
	bad.Drop = 0
	if err := bad.Validate("text.sentiment_drop"); err == nil || !strings.HasPrefix(err.Error(), "text.sentiment_drop.drop:") {
		t.Errorf("error %v should name text.sentiment_drop.drop", err)
	}
}
