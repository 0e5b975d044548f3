package nps

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Quarter is a calendar quarter in a time zone: [Start, End).
type Quarter struct {
	Start, End time.Time
}

// QuarterOf is the quarter containing t in loc.
func QuarterOf(t time.Time, loc *time.Location) Quarter {
	if loc == nil {
		loc = time.UTC
	}
	l := t.In(loc)
	m := time.Month((int(l.Month())-1)/3*3 + 1)
	start := time.Date(l.Year(), m, 1, 0, 0, 0, 0, loc)
	return Quarter{Start: start, End: start.AddDate(0, 3, 0)}
}

// Prev is the quarter before q.
func (q Quarter) Prev() Quarter {
	start := q.Start.AddDate(0, -3, 0)
	return Quarter{Start: start, End: q.Start}
}

// Label reads "Q1 2027".
func (q Quarter) Label() string {
	return "Q" + strconv.Itoa((int(q.Start.Month())-1)/3+1) + " " + strconv.Itoa(q.Start.Year())
}

// Contains reports whether t falls in q.
func (q Quarter) Contains(t time.Time) bool { return !t.Before(q.Start) && t.Before(q.End) }

// ScoredAnswer is one answer as the report counts it.
type ScoredAnswer struct {
	AccountID  int64
	Respondent string
	Score      int
	Segment    string
	Tier       string
	At         time.Time
}

// Score is an NPS figure: % promoters minus % detractors.
type Score struct {
	NPS                             int // -100..100, rounded; meaningless when N = 0
	N                               int
	Promoters, Passives, Detractors int
}

// Compute scores answers, counting each respondent of an account once (their
// latest answer): ten answers from one unhappy admin are one voice.
func Compute(answers []ScoredAnswer) Score {
	latest := map[string]ScoredAnswer{}
	for _, a := range answers {
		k := strconv.FormatInt(a.AccountID, 10) + "\x00" + strings.ToLower(a.Respondent)
		if cur, ok := latest[k]; !ok || a.At.After(cur.At) {
			latest[k] = a
		}
	}
	var s Score
	for _, a := range latest {
		switch CategoryOf(a.Score) {
		case Promoter:
			s.Promoters++
		case Passive:
			s.Passives++
		default:
			s.Detractors++
		}
	}
	s.N = len(latest)
	if s.N > 0 {
		s.NPS = int(math.Round(float64(s.Promoters-s.Detractors) * 100 / float64(s.N)))
	}
	return s
}

// Breakdown is one segment's (or tier's) score now and a quarter earlier.
type Breakdown struct {
	Key       string // "" = not set
	Cur, Prev Score
}

// By scores this and last quarter's answers grouped by key, biggest groups
// first.
func By(cur, prev []ScoredAnswer, key func(ScoredAnswer) string) []Breakdown {
	group := func(in []ScoredAnswer) map[string][]ScoredAnswer {
		out := map[string][]ScoredAnswer{}
		for _, a := range in {
			k := key(a)
			out[k] = append(out[k], a)
		}
		return out
	}
	gc, gp := group(cur), group(prev)
	keys := map[string]bool{}
	for k := range gc {
		keys[k] = true
	}
	for k := range gp {
		keys[k] = true
	}
	out := make([]Breakdown, 0, len(keys))
	for k := range keys {
		out = append(out, Breakdown{Key: k, Cur: Compute(gc[k]), Prev: Compute(gp[k])})
	}
	slices.SortFunc(out, func(a, b Breakdown) int {
		return cmp.Or(cmp.Compare(b.Cur.N, a.Cur.N), cmp.Compare(b.Prev.N, a.Prev.N), cmp.Compare(a.Key, b.Key))
	})
	return out
}

// LoopStats are the detractor loops' figures for a quarter.
type LoopStats struct {
	Opened    int // loops opened in the quarter
	Completed int // of those, with steps 1-3 recorded
	OnTime    int // of those, each step by its deadline
	// MedianContact is the median time from opening to contact over the
	// quarter's contacted loops; Contacted counts them.
	MedianContact time.Duration
	Contacted     int
	// Follow-ups answered in the quarter: the "NPS improvement for
	// intervention accounts" metric.
	FollowUps       int
	AvgChange       float64 // mean follow-up score minus original score
	Before, After   Score   // NPS of the original answers vs the follow-ups
	Improved, Worse int
}

// CompletionRate is Completed / Opened (0 when none opened).
func (s LoopStats) CompletionRate() float64 {
	if s.Opened == 0 {
		return 0
	}
	return float64(s.Completed) / float64(s.Opened)
}

// StatsOf computes LoopStats over loops for quarter q.
func StatsOf(loops []Loop, q Quarter) LoopStats {
	var s LoopStats
	var contact []time.Duration
	var before, after []ScoredAnswer
	total := 0
	for _, l := range loops {
		if q.Contains(l.OpenedAt) {
			s.Opened++
			if l.Complete() {
				s.Completed++
				if l.OnTime() {
					s.OnTime++
				}
			}
			if l.ContactedAt != nil {
				contact = append(contact, l.ContactedAt.Sub(l.OpenedAt))
			}
		}
		if l.FollowUpAt != nil && l.FollowUpScore != nil && q.Contains(*l.FollowUpAt) {
			s.FollowUps++
			d := *l.FollowUpScore - l.Score
			total += d
			switch {
			case d > 0:
				s.Improved++
			case d < 0:
				s.Worse++
			}
			// Each loop is one voice before and after.
			who := strconv.FormatInt(l.ID, 10)
			before = append(before, ScoredAnswer{AccountID: l.AccountID, Respondent: who, Score: l.Score, At: l.OpenedAt})
			after = append(after, ScoredAnswer{AccountID: l.AccountID, Respondent: who, Score: *l.FollowUpScore, At: *l.FollowUpAt})
		}
	}
	s.Contacted = len(contact)
	s.MedianContact = median(contact)
	if s.FollowUps > 0 {
		s.AvgChange = float64(total) / float64(s.FollowUps)
		s.Before, s.After = Compute(before), Compute(after)
	}
	return s
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
