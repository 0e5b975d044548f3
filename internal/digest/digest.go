package digest

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/holdfast/holdfast/scoring"
)

// Frequencies. A live subscription has no schedule: it routes new
// critical churn-risk alerts and recoveries to the channel as they happen
// (internal/playbook), so the digest job and previews skip it.
const (
	Daily  = "daily"
	Weekly = "weekly"
	Live   = "live"
)

// Topics of a subscription; a channel subscribed to competitors or
// sentiment also gets those alerts live (AlertChannels).
const (
	TopicRisk        = "risk"
	TopicCompetitors = "competitors"
	TopicSentiment   = "sentiment"
)

// Topics a subscription can pick; none picked means all.
var Topics = []string{TopicRisk, TopicCompetitors, TopicSentiment}

// Schedule is when one subscription's digests go out.
type Schedule struct {
	Frequency string
	Location  *time.Location
	SendAt    string       // HH:MM local time
	Weekday   time.Weekday // weekly digests
}

// Period is one digest: the window it covers ends at the scheduled send
// time; Key names it uniquely per subscription.
type Period struct {
	Key        string
	Start, End time.Time
}

// Grace bounds how late a missed digest is still sent (the bot was down
// at send time): a daily digest a few hours late is still news, one a day
// late is replaced by the next.
func Grace(frequency string) time.Duration {
	if frequency == Weekly {
		return 2 * 24 * time.Hour
	}
	return 6 * time.Hour
}

// Latest is the most recent period whose send time is at or before now.
func Latest(s Schedule, now time.Time) (Period, error) {
	hh, mm, err := parseClock(s.SendAt)
	if err != nil {
		return Period{}, err
	}
	loc := s.Location
	if loc == nil {
		loc = time.UTC
	}
	local := now.In(loc)
	send := time.Date(local.Year(), local.Month(), local.Day(), hh, mm, 0, 0, loc)
	switch s.Frequency {
	case Daily:
		if send.After(now) {
			send = dayShift(send, -1, hh, mm)
		}
		start := dayShift(send, -1, hh, mm)
		return Period{Key: send.Format("2006-01-02"), Start: start, End: send}, nil
	case Weekly:
		back := (int(send.Weekday()) - int(s.Weekday) + 7) % 7
		send = dayShift(send, -back, hh, mm)
		if send.After(now) {
			send = dayShift(send, -7, hh, mm)
		}
		start := dayShift(send, -7, hh, mm)
		y, w := send.ISOWeek()
		return Period{Key: fmt.Sprintf("%04d-W%02d", y, w), Start: start, End: send}, nil
	}
	return Period{}, fmt.Errorf("unknown frequency %q", s.Frequency)
}

// Due returns the period to send as of now, if one is due: its send time
// has passed, but not by more than Grace. Whether it was sent already is
// for the digest_runs table to know (one row per subscription and period).
func Due(s Schedule, now time.Time) (Period, bool, error) {
	p, err := Latest(s, now)
	if err != nil {
		return Period{}, false, err
	}
	return p, now.Sub(p.End) <= Grace(s.Frequency), nil
}

// dayShift moves a local send time by whole days, keeping the wall clock
// across daylight-saving changes.
func dayShift(t time.Time, days, hh, mm int) time.Time {
	d := t.AddDate(0, 0, days)
	return time.Date(d.Year(), d.Month(), d.Day(), hh, mm, 0, 0, t.Location())
}

func parseClock(s string) (int, int, error) {
	hh, mm, ok := strings.Cut(s, ":")
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if !ok || err1 != nil || err2 != nil || len(hh) != 2 || len(mm) != 2 || h < 0 || h > 23 || m < 0 || m > 59 {
		return 0, 0, fmt.Errorf("send time %q: want HH:MM", s)
	}
	return h, m, nil
}

// Input is what the database holds for one digest's window and filters.
type Input struct {
	Frequency   string
	Topics      []string
	Start, End  time.Time
	Location    *time.Location
	Worsened    []ScoreChange
	AtRiskCount int
	AtRiskARR   float64
	Competitors []CompetitorCount
	Examples    []MentionExample
	Sentiment   []SentimentChange
	Saves       *Saves // weekly risk digests with a SavesSource
}

// Digest is what a digest shows; empty sections are left out.
type Digest struct {
	Frequency  string
	Start, End time.Time
	Location   *time.Location
	Risk       bool // the sections below were asked for
	Comp       bool
	Sent       bool

	EnteredAtRisk []Move // accounts that crossed into at risk or critical, critical and largest ARR first
	EnteredCount  int    // all of them; EnteredAtRisk lists the first MaxEntered
	EnteredARR    float64
	Drops         []Move // biggest score drops, with what drives them
	AtRiskCount   int
	AtRiskARR     float64

	Competitors []CompetitorLine
	Movers      []Mover // sentiment falls, biggest first

	Saves *Saves // weekly: what the at-risk playbooks achieved; nil: not shown
}

// Move is one account's score change.
type Move struct {
	AccountID int64
	Name      string
	ARR       float64
	Owner     string
	From      *int
	To        int
	FromBand  scoring.Band
	ToBand    scoring.Band
	Drivers   []scoring.Component // what holds the score down now, most first
}

// Drop is how many points the score fell (0 when first scored).
func (m Move) Drop() int {
	if m.From == nil {
		return 0
	}
	return *m.From - m.To
}

// CompetitorLine is one competitor's mentions in the window.
type CompetitorLine struct {
	Competitor string
	Mentions   int
	Before     int // in the window before, for the trend
	Accounts   int
	Intent     int // mentions in texts that also state churn intent
	Examples   []MentionExample
}

// Trend is the change against the window before.
func (c CompetitorLine) Trend() int { return c.Mentions - c.Before }

// Mover is one account whose text sentiment fell.
type Mover struct {
	AccountID int64
	Name      string
	ARR       float64
	From, To  float64
	Texts     int
}

// Limits on how much a digest lists; it is read in a minute.
const (
	MaxEntered     = 8
	MaxDrops       = 5
	MaxCompetitors = 8
	MaxExamples    = 2
	MaxMovers      = 5
	minMoverFall   = 0.15 // smaller changes in mean sentiment are noise
	minMoverTexts  = 2
)

// Build turns the rows into a digest.
func Build(in Input) Digest {
	d := Digest{Frequency: in.Frequency, Start: in.Start, End: in.End, Location: in.Location}
	all := len(in.Topics) == 0
	d.Risk = all || slices.Contains(in.Topics, TopicRisk)
	d.Comp = all || slices.Contains(in.Topics, TopicCompetitors)
	d.Sent = all || slices.Contains(in.Topics, TopicSentiment)

	if d.Risk {
		var drops []Move
		for _, c := range in.Worsened {
			m := Move{AccountID: c.AccountID, Name: c.Name, ARR: c.ARR, Owner: c.OwnerCSM, From: c.FromScore, To: c.ToScore,
				FromBand: c.FromBand, ToBand: c.ToBand}
			h := scoring.Health{Components: c.Components}
			m.Drivers = h.Drivers(2)
			if c.ToBand.Severity() > c.FromBand.Severity() && c.ToBand.Severity() > 0 {
				d.EnteredAtRisk = append(d.EnteredAtRisk, m)
				d.EnteredCount++
				d.EnteredARR += c.ARR
			}
			if m.Drop() > 0 {
				drops = append(drops, m)
			}
		}
		slices.SortStableFunc(d.EnteredAtRisk, func(a, b Move) int {
			if a.ToBand.Severity() != b.ToBand.Severity() {
				return b.ToBand.Severity() - a.ToBand.Severity()
			}
			return cmp.Compare(b.ARR, a.ARR)
		})
		slices.SortStableFunc(drops, func(a, b Move) int {
			if a.Drop() != b.Drop() {
				return b.Drop() - a.Drop()
			}
			return cmp.Compare(b.ARR, a.ARR)
		})
		d.Drops = drops[:min(len(drops), MaxDrops)]
		d.AtRiskCount, d.AtRiskARR = in.AtRiskCount, in.AtRiskARR
		if in.Saves != nil && !in.Saves.Empty() {
			d.Saves = in.Saves
		}
	}

	if d.Comp {
		for _, c := range in.Competitors {
			line := CompetitorLine{Competitor: c.Competitor, Mentions: c.Mentions, Before: c.MentionsBefore,
				Accounts: c.Accounts, Intent: c.WithChurnIntent}
			for _, e := range in.Examples {
				if e.Competitor == c.Competitor && len(line.Examples) < MaxExamples {
					line.Examples = append(line.Examples, e)
				}
			}
			d.Competitors = append(d.Competitors, line)
		}
		slices.SortStableFunc(d.Competitors, func(a, b CompetitorLine) int {
			if a.Mentions != b.Mentions {
				return b.Mentions - a.Mentions
			}
			return strings.Compare(a.Competitor, b.Competitor)
		})
		d.Competitors = d.Competitors[:min(len(d.Competitors), MaxCompetitors)]
	}

	if d.Sent {
		for _, s := range in.Sentiment {
			if s.Before == nil || s.RecentN < minMoverTexts || *s.Before-s.Recent < minMoverFall {
				continue
			}
			d.Movers = append(d.Movers, Mover{AccountID: s.AccountID, Name: s.Name, ARR: s.ARR, From: *s.Before, To: s.Recent, Texts: s.RecentN})
		}
		slices.SortStableFunc(d.Movers, func(a, b Mover) int { return cmp.Compare(b.From-b.To, a.From-a.To) })
		d.Movers = d.Movers[:min(len(d.Movers), MaxMovers)]
	}
	d.EnteredAtRisk = d.EnteredAtRisk[:min(len(d.EnteredAtRisk), MaxEntered)]
	return d
}

// Quiet reports a digest with nothing to say beyond the standing ARR total.
func (d Digest) Quiet() bool {
	return len(d.EnteredAtRisk) == 0 && len(d.Drops) == 0 && len(d.Competitors) == 0 && len(d.Movers) == 0 && d.Saves == nil
}
