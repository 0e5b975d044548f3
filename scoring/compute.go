package scoring

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

const day = 24 * time.Hour

// part is one component of the model: its identity, the weight it draws
// from the config, and how it turns signals into a risk in [0,1] and a
// sentence a CSM can check against what they know.
type part struct {
	key    string
	label  string
	weight func(Weights) float64
	assess func(cfg Config, acct Account, signals []Signal, now time.Time) (risk float64, detail string)
	// optional parts appear only with a weight above 0, so a workspace
	// that does not use one sees the components it always saw.
	optional bool
}

// parts fixes the order of Health.Components, which the UI and stored
// history rely on, so it is never derived from map iteration.
var parts = [...]part{
	{"usage", "Product usage", func(w Weights) float64 { return w.Usage }, assessUsage, false},
	{"support", "Support tickets", func(w Weights) float64 { return w.Support }, assessSupport, false},
	{"nps", "NPS", func(w Weights) float64 { return w.NPS }, assessNPS, false},
	{"payments", "Payments", func(w Weights) float64 { return w.Payments }, assessPayments, false},
	{"renewal", "Renewal", func(w Weights) float64 { return w.Renewal }, assessRenewal, false},
	{"engagement", "Engagement", func(w Weights) float64 { return w.Engagement }, assessEngagement, false},
	{"champion", "Champion", func(w Weights) float64 { return w.Champion }, assessChampion, false},
	{"intent", "Cancellation intent", func(w Weights) float64 { return w.Intent }, assessIntent, false},
	{"csat", "Satisfaction (CSAT)", func(w Weights) float64 { return w.CSAT }, assessCSAT, true},
}

// Compute scores an account as of now. It starts from 100 and lets each
// component take off up to its weight in proportion to its risk. cfg should
// have passed Validate; an invalid one still never panics or yields NaN,
// the affected components just count for nothing.
func Compute(cfg Config, acct Account, signals []Signal, now time.Time) Health {
	h := Health{ComputedAt: now, Components: make([]Component, 0, len(parts))}

	if acct.Status == StatusChurned {
		// A churned account has nothing left to lose; scoring its signals
		// would only produce alarming numbers nobody can act on.
		for _, p := range parts {
			if p.optional && safeWeight(p.weight(cfg.Weights)) == 0 {
				continue
			}
			h.Components = append(h.Components, Component{
				Key: p.key, Label: p.label, Weight: safeWeight(p.weight(cfg.Weights)), Detail: "account churned",
			})
		}
		h.Band = BandCritical
		h.Churned = true
		return h
	}

	// Signals from the future (clock skew, backfills replayed for an older
	// now) must not leak into a score that claims to be as of now.
	signals = upTo(signals, now)

	total := 100.0
	for _, p := range parts {
		w := safeWeight(p.weight(cfg.Weights))
		if p.optional && w == 0 {
			continue
		}
		risk, detail := p.assess(cfg, acct, signals, now)
		lost := w * clamp01(risk)
		// The score uses the exact loss; the stored points are rounded so
		// the UI and JSON never show float noise like -15.200000000000001.
		total -= lost
		h.Components = append(h.Components, Component{
			Key: p.key, Label: p.label, Weight: w, Points: roundTenth(-lost), Detail: detail,
		})
	}
	h.Score = int(clamp(math.Round(total), 0, 100))
	h.Band = cfg.BandFor(h.Score)
	return h
}

// maxUsageChange caps the growth a reason spells out (100x).
const maxUsageChange = 9900

// assessUsage compares the mean of the usage values reported in the last
// window with the mean of the window before it. Averaging the values
// present, rather than summing per day, keeps a missing day of data from
// reading as a drop.
func assessUsage(cfg Config, _ Account, signals []Signal, now time.Time) (float64, string) {
	days := cfg.UsageWindowDays
	window := time.Duration(days) * day
	var recent, prev mean
	seen := false
	for _, s := range signals {
		if s.Kind != KindUsage || s.Value == nil || !isFinite(*s.Value) {
			continue
		}
		seen = true
		switch age := now.Sub(s.OccurredAt); {
		case age < window:
			recent.add(*s.Value)
		case age < 2*window:
			prev.add(*s.Value)
		}
	}
	switch {
	case !seen:
		return 0, ""
	case recent.n == 0 && prev.n == 0:
		return 0, fmt.Sprintf("no usage data in the last %d days", 2*days)
	case recent.n == 0:
		return 0, fmt.Sprintf("no usage data in the last %d days", days)
	case prev.n == 0:
		return 0, fmt.Sprintf("no usage data in the %d days before to compare with", days)
	case prev.avg() <= 0:
		return 0, fmt.Sprintf("no usage in the %d days before to compare with", days)
	}
	drop := 1 - recent.avg()/prev.avg()
	if !isFinite(drop) {
		// Growth from a tiny base past what float64 holds: no loss.
		return 0, fmt.Sprintf("usage up more than %d%% over %d days", maxUsageChange, days)
	}
	// Rounded in float64 and capped before converting: int of a huge
	// float is undefined (it came out as math.MinInt64).
	change := math.Round(-drop * 100)
	if change > maxUsageChange {
		return drop / cfg.UsageFullDrop, fmt.Sprintf("usage up more than %d%% over %d days", maxUsageChange, days)
	}
	if change == 0 {
		return 0, fmt.Sprintf("usage flat over %d days", days)
	}
	// Growth yields a negative risk, which clamps to no points: usage going
	// up is good news, but it does not buy credit against other problems.
	return drop / cfg.UsageFullDrop, fmt.Sprintf("usage %+d%% over %d days", int(change), days)
}

// toneWorthMentioning is how much negative sentiment must add to the recent
// ticket load before the detail says so; below it the tone barely moved the
// number and mentioning it would mislead.
const toneWorthMentioning = 0.25

// assessSupport weighs tickets by age, severity and tone. Tickets never
// drop out abruptly; they fade, so a quiet week after a bad one lowers the
// risk gradually instead of resetting it.
func assessSupport(cfg Config, _ Account, signals []Signal, now time.Time) (float64, string) {
	// The detail counts tickets within two half-lives, where each still
	// weighs at least a quarter; older ones count so little that listing
	// them would overstate them.
	recentDays := 2 * cfg.TicketHalfLife
	var load, recentBase, recentTone, worstLoad float64
	var total, recent, urgent, high int
	var worst Signal // the recent ticket that weighs most, when tickets name theirs
	for _, s := range ticketThreads(signals) {
		total++
		age := ageDays(now, s.OccurredAt)
		sev := normalSeverity(s.Severity)
		base := decay(age, cfg.TicketHalfLife) * severityWeight(sev)
		// An angry ticket is a bigger problem than its severity field
		// says, up to twice as big; a friendly one is no smaller, since
		// the customer still hit a problem.
		tone := 0.0
		if s.Sentiment != nil && isFinite(*s.Sentiment) {
			tone = clamp(-*s.Sentiment, 0, 1)
		}
		load += base * (1 + tone)
		if age < float64(recentDays) && s.Thread != "" && base*(1+tone) > worstLoad {
			worst, worstLoad = s, base*(1+tone)
		}
		if age < float64(recentDays) {
			recent++
			recentBase += base
			recentTone += base * tone
			switch sev {
			case "urgent":
				urgent++
			case "high":
				high++
			}
		}
	}
	if total == 0 {
		return 0, ""
	}
	risk := load / cfg.TicketsFull
	if recent == 0 {
		return risk, fmt.Sprintf("no tickets in %d days (%d older, fading)", recentDays, total)
	}
	detail := []string{fmt.Sprintf("%s in %d days", plural(recent, "ticket"), recentDays)}
	if urgent > 0 {
		detail = append(detail, fmt.Sprintf("%d urgent", urgent))
	}
	if high > 0 {
		detail = append(detail, fmt.Sprintf("%d high", high))
	}
	if recentBase > 0 && recentTone/recentBase >= toneWorthMentioning {
		detail = append(detail, "tone negative")
	}
	if worst.Thread != "" {
		detail = append(detail, fmt.Sprintf("worst: %s #%s", worst.Source, worst.Thread))
	}
	return risk, strings.Join(detail, ", ")
}

// ticketThreads folds the signals of one ticket (its creation, public
// replies, its resolution) into one: aged from when it was opened, at the
// highest severity and the most negative tone it reached. Tickets without
// a thread stand alone.
func ticketThreads(signals []Signal) []Signal {
	var out []Signal
	at := map[string]int{}
	for _, s := range signals {
		if s.Kind != KindTicket {
			continue
		}
		if s.Thread == "" {
			out = append(out, s)
			continue
		}
		key := s.Source + "\x00" + s.Thread
		i, seen := at[key]
		if !seen {
			at[key] = len(out)
			out = append(out, s)
			continue
		}
		t := &out[i]
		if s.OccurredAt.Before(t.OccurredAt) {
			t.OccurredAt = s.OccurredAt
		}
		if severityWeight(normalSeverity(s.Severity)) > severityWeight(normalSeverity(t.Severity)) {
			t.Severity = s.Severity
		}
		if s.Sentiment != nil && isFinite(*s.Sentiment) && (t.Sentiment == nil || *s.Sentiment < *t.Sentiment) {
			t.Sentiment = s.Sentiment
		}
	}
	return out
}

// csatNeutral is the rating (on 1..5) at and above which a customer is
// satisfied: it costs nothing.
const csatNeutral = 4

// assessCSAT reads the satisfaction ratings of the ticket half-life: the
// mean shortfall below a satisfied 4, where a 1 is the whole weight,
// decayed like tickets so an old bad rating fades with its ticket.
func assessCSAT(cfg Config, _ Account, signals []Signal, now time.Time) (float64, string) {
	var weight, shortfall, sum float64
	var n, bad int
	for _, s := range signals {
		if s.Kind != KindCSAT || s.Value == nil || !isFinite(*s.Value) {
			continue
		}
		v := clamp(*s.Value, 1, 5)
		w := decay(ageDays(now, s.OccurredAt), cfg.TicketHalfLife)
		weight += w
		shortfall += w * clamp01((csatNeutral-v)/(csatNeutral-1))
		sum += v
		n++
		if v < csatNeutral {
			bad++
		}
	}
	if n == 0 || weight <= 0 {
		return 0, ""
	}
	// A mean over the decayed weights, times how fresh they are: one
	// recent bad rating costs more than the same rating a month ago.
	freshness := clamp01(weight / float64(n))
	risk := shortfall / weight * freshness
	return risk, fmt.Sprintf("CSAT %.1f/5 over %s, %d unsatisfied", sum/float64(n), plural(n, "rating"), bad)
}

// normalSeverity maps what ticketing tools send onto the four levels the
// model knows; anything unrecognised is normal so a new label upstream
// neither inflates nor hides a ticket.
func normalSeverity(sev string) string {
	switch s := strings.ToLower(strings.TrimSpace(sev)); s {
	case "low", "high", "urgent":
		return s
	}
	return "normal"
}

func severityWeight(sev string) float64 {
	switch sev {
	case "low":
		return 0.5
	case "high":
		return 2
	case "urgent":
		return 3
	}
	return 1
}

const (
	// npsDetractorFloor is what a 6 costs: a detractor is a detractor, so
	// even the mildest one takes almost half the weight, while a 0 takes
	// all of it.
	npsDetractorFloor = 0.45
	// npsPassiveRisk keeps passives visible without treating them as a
	// problem; most of a healthy base answers 7 or 8.
	npsPassiveRisk = 0.15
)

// assessNPS uses only the latest answer: an NPS answer is an opinion as of
// its date, and a newer one supersedes it rather than averaging with it.
func assessNPS(cfg Config, _ Account, signals []Signal, now time.Time) (float64, string) {
	latest := -1
	for i, s := range signals {
		if s.Kind == KindNPS && s.Value != nil && isFinite(*s.Value) && newer(signals, i, latest) {
			latest = i
		}
	}
	if latest < 0 {
		return 0, ""
	}
	s := signals[latest]
	score := int(math.Round(clamp(*s.Value, 0, 10)))
	class := NPSCategory(score)
	var risk float64
	switch class {
	case NPSDetractor:
		// (7-score)/7 runs from 1/7 for a 6 to 1 for a 0; stretched onto
		// floor..1 that is floor + (1-floor)*(6-score)/6.
		risk = npsDetractorFloor + (1-npsDetractorFloor)*float64(6-score)/6
	case NPSPassive:
		risk = npsPassiveRisk
	}
	age := ageDays(now, s.OccurredAt)
	return risk * decay(age, cfg.NPSHalfLife), fmt.Sprintf("NPS %d (%s), %s", score, class, ago(age))
}

// assessPayments counts failures that no later payment has settled. A
// recovery settles the earliest open failure, as billing systems retry and
// collect the oldest invoice first.
func assessPayments(cfg Config, _ Account, signals []Signal, now time.Time) (float64, string) {
	var events []Signal
	failures := 0
	for _, s := range signals {
		switch s.Kind {
		case KindPaymentFailed:
			failures++
			events = append(events, s)
		case KindPaymentRecovered:
			events = append(events, s)
		}
	}
	if failures == 0 {
		return 0, ""
	}
	slices.SortFunc(events, func(a, b Signal) int {
		if c := a.OccurredAt.Compare(b.OccurredAt); c != 0 {
			return c
		}
		// A recovery stamped at the same instant as its failure (batch
		// imports do this) must still settle it.
		if a.Kind != b.Kind {
			if a.Kind == KindPaymentFailed {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.ID, b.ID)
	})
	var open []time.Time // oldest first
	for _, e := range events {
		if e.Kind == KindPaymentFailed {
			open = append(open, e.OccurredAt)
		} else if len(open) > 0 {
			open = open[1:]
		}
	}
	if len(open) == 0 {
		if failures == 1 {
			return 0, "1 failed payment, recovered"
		}
		return 0, fmt.Sprintf("%d failed payments, all recovered", failures)
	}
	weight := 0.0
	for _, t := range open {
		weight += decay(ageDays(now, t), cfg.PaymentHalfLife)
	}
	oldest := ago(ageDays(now, open[0]))
	if len(open) == 1 {
		return weight / cfg.PaymentsFull, "1 failed payment unresolved, from " + oldest
	}
	return weight / cfg.PaymentsFull, fmt.Sprintf("%d failed payments unresolved, oldest %s", len(open), oldest)
}

// assessRenewal grows linearly over the renewal window. A passed renewal
// date on an account that is not churned means the renewal is stuck, which
// is as risky as renewal day itself.
func assessRenewal(cfg Config, acct Account, _ []Signal, now time.Time) (float64, string) {
	if acct.RenewalDate == nil {
		return 0, ""
	}
	days := acct.RenewalDate.Sub(now).Hours() / 24
	window := float64(cfg.RenewalWindow)
	risk := 0.0
	switch {
	case days <= 0:
		risk = 1
	case days < window:
		risk = 1 - days/window
	}
	switch {
	case days > 0:
		// Rounded up: tomorrow morning is "in 1 day", not "today".
		return risk, "renewal in " + plural(int(math.Ceil(days)), "day")
	case days > -1:
		return risk, "renewal due today"
	}
	return risk, fmt.Sprintf("renewal date passed %s ago", plural(int(math.Floor(-days)), "day"))
}

// engages reports whether a signal shows the customer (or us with them)
// is active. Billing events and champion changes happen to an account
// whether or not anyone is engaged with it, so they do not count.
func engages(k Kind) bool {
	switch k {
	case KindUsage, KindEmail, KindCallNote, KindMeeting, KindSlackMessage, KindNPS, KindTicket:
		return true
	}
	return false
}

// assessEngagement measures silence. An account with no engagement signal
// at all is one we have not heard about yet, not a dormant one, so it gets
// no points rather than the full weight.
func assessEngagement(cfg Config, _ Account, signals []Signal, now time.Time) (float64, string) {
	latest := -1
	for i, s := range signals {
		if engages(s.Kind) && newer(signals, i, latest) {
			latest = i
		}
	}
	if latest < 0 {
		return 0, ""
	}
	s := signals[latest]
	days := ageDays(now, s.OccurredAt)
	grace, full := float64(cfg.DormancyGrace), float64(cfg.DormancyFull)
	if days <= grace {
		return 0, fmt.Sprintf("last engagement %s (%s)", ago(days), noun(s.Kind).one)
	}
	return (days - grace) / (full - grace), "no engagement for " + plural(int(math.Floor(days)), "day")
}

// assessChampion fades a champion change out over time: the risk is in the
// months while the relationship is rebuilt, not forever.
func assessChampion(cfg Config, _ Account, signals []Signal, now time.Time) (float64, string) {
	latest := -1
	for i, s := range signals {
		if s.Kind == KindChampionChange && newer(signals, i, latest) {
			latest = i
		}
	}
	if latest < 0 {
		return 0, ""
	}
	age := ageDays(now, signals[latest].OccurredAt)
	return decay(age, cfg.ChampionHalfLife), "champion changed " + ago(age)
}

// assessIntent takes the latest statement of intent to cancel, wherever it
// was said. Repeats do not add up: saying it twice is not twice as likely
// to churn, and the repeat resets the fade anyway.
func assessIntent(cfg Config, _ Account, signals []Signal, now time.Time) (float64, string) {
	latest := -1
	for i, s := range signals {
		if statesIntent(s) && newer(signals, i, latest) {
			latest = i
		}
	}
	if latest < 0 {
		return 0, ""
	}
	s := signals[latest]
	age := ageDays(now, s.OccurredAt)
	detail := "cancellation intent " + ago(age)
	switch {
	case s.Kind != KindCancellation:
		detail += " (" + noun(s.Kind).one + ")"
	case s.Source != "":
		detail += " (" + s.Source + ")"
	}
	return decay(age, cfg.IntentHalfLife), detail
}

func statesIntent(s Signal) bool { return s.Kind == KindCancellation || s.ChurnIntent }

// newer reports whether signals[i] is more recent than signals[than]
// (than < 0 means none yet). Equal times fall back to the ID so the choice
// does not depend on the order callers pass signals in.
func newer(signals []Signal, i, than int) bool {
	if than < 0 {
		return true
	}
	a, b := signals[i], signals[than]
	if c := a.OccurredAt.Compare(b.OccurredAt); c != 0 {
		return c > 0
	}
	return a.ID > b.ID
}

// upTo returns the signals not after now, without copying in the usual
// case where there are none from the future.
func upTo(signals []Signal, now time.Time) []Signal {
	for i, s := range signals {
		if !s.OccurredAt.After(now) {
			continue
		}
		kept := make([]Signal, i, len(signals)-1)
		copy(kept, signals[:i])
		for _, s := range signals[i+1:] {
			if !s.OccurredAt.After(now) {
				kept = append(kept, s)
			}
		}
		return kept
	}
	return signals
}

// decay is the weight left after ageDays with the given half-life. A
// non-positive half-life (an unvalidated config) forgets everything rather
// than dividing by zero.
func decay(ageDays float64, halfLife int) float64 {
	if halfLife <= 0 {
		return 0
	}
	return math.Exp2(-ageDays / float64(halfLife))
}

func ageDays(now, t time.Time) float64 { return now.Sub(t).Hours() / 24 }

// ago says how long ago in whole days, the resolution a CSM thinks in.
func ago(days float64) string {
	if days < 1 {
		return "today"
	}
	return plural(int(math.Floor(days)), "day") + " ago"
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// kindNoun names a signal kind in a sentence: "a ticket", "2 emails".
type kindNoun struct{ article, one string }

func noun(k Kind) kindNoun {
	switch k {
	case KindUsage:
		return kindNoun{"a", "usage report"}
	case KindTicket:
		return kindNoun{"a", "ticket"}
	case KindCallNote:
		return kindNoun{"a", "call note"}
	case KindEmail:
		return kindNoun{"an", "email"}
	case KindMeeting:
		return kindNoun{"a", "meeting"}
	case KindSlackMessage:
		return kindNoun{"a", "Slack message"}
	case KindNPS:
		return kindNoun{"an", "NPS answer"}
	case KindPaymentFailed:
		return kindNoun{"a", "failed payment"}
	case KindPaymentRecovered:
		return kindNoun{"a", "recovered payment"}
	case KindChampionChange:
		return kindNoun{"a", "champion change"}
	case KindCancellation:
		return kindNoun{"a", "cancellation notice"}
	case KindCSAT:
		return kindNoun{"a", "satisfaction rating"}
	}
	return kindNoun{"a", "signal"}
}

// mean is a running mean: it never sums, so values near the float64 limit
// cannot overflow it to Inf.
type mean struct {
	m float64
	n int
}

func (m *mean) add(v float64) { m.n++; m.m += (v - m.m) / float64(m.n) }
func (m mean) avg() float64   { return m.m }

// safeWeight drops weights Validate would reject, so one bad number in an
// unvalidated config cannot turn the whole score into NaN or raise it.
func safeWeight(w float64) float64 {
	if !isFinite(w) || w < 0 {
		return 0
	}
	return w
}

// clamp01 also maps NaN to 0: a risk we cannot compute costs nothing.
func clamp01(x float64) float64 {
	if math.IsNaN(x) {
		return 0
	}
	return clamp(x, 0, 1)
}

func clamp(x, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, x)) }

// roundTenth also turns -0 into 0, which JSON would otherwise print as -0.
func roundTenth(x float64) float64 {
	r := math.Round(x*10) / 10
	if r == 0 {
		return 0
	}
	return r
}

// ComponentInfo names one component: its key and label, in the order of
// Health.Components.
type ComponentInfo struct{ Key, Label string }

// ComponentList lists every component in order.
func ComponentList() []ComponentInfo {
	out := make([]ComponentInfo, len(parts))
	for i, p := range parts {
		out[i] = ComponentInfo{p.key, p.label}
	}
	return out
}

// Assessment is one component's risk in [0,1] with its sentence.
type Assessment struct {
	Risk   float64
	Detail string
}

// Assess returns every component's risk as of now, in ComponentList
// order, before any weight: the learned model's inputs. Only signals not
// after now count.
func Assess(cfg Config, acct Account, signals []Signal, now time.Time) []Assessment {
	signals = upTo(signals, now)
	out := make([]Assessment, len(parts))
	for i, p := range parts {
		risk, detail := p.assess(cfg, acct, signals, now)
		out[i] = Assessment{Risk: clamp01(risk), Detail: detail}
	}
	return out
}
