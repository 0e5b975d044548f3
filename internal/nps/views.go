package nps

import (
	"context"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/store"
)

// History sizes for /nps <account>.
const (
	historyAnswers = 20
	historyLoops   = 10
)

// accountNPS is the /nps answer for one account: score history and its
// detractor loops with their step status.
func (m *Module) accountNPS(ctx context.Context, a store.Account) (blocks.Message, error) {
	answers, err := answerHistory(ctx, m.store.DB(), a.ID, historyAnswers)
	if err != nil {
		return blocks.Message{}, err
	}
	loops, err := accountLoops(ctx, m.store.DB(), a.ID, historyLoops)
	if err != nil {
		return blocks.Message{}, err
	}
	v := accountView{AccountID: a.ID, AccountName: a.Name, ExternalID: a.ExternalID, OwnerCSM: a.OwnerCSM, Now: m.now()}
	for _, r := range answers {
		v.Answers = append(v.Answers, answerRow{At: r.AnsweredAt, Score: r.Score, Respondent: r.Respondent, Kind: r.Kind, Comment: r.Comment})
	}
	for _, l := range loops {
		v.Loops = append(v.Loops, l.Loop)
	}
	return accountCard(v), nil
}

// report is /nps report: this quarter against the last, by segment and
// tier, and how the detractor loops did.
func (m *Module) report(ctx context.Context) (blocks.Message, error) {
	q := QuarterOf(m.now(), m.loc)
	prev := q.Prev()
	cur, err := reportAnswers(ctx, m.store.DB(), q.Start, q.End)
	if err != nil {
		return blocks.Message{}, err
	}
	last, err := reportAnswers(ctx, m.store.DB(), prev.Start, prev.End)
	if err != nil {
		return blocks.Message{}, err
	}
	loops, err := reportLoops(ctx, m.store.DB(), prev.Start, q.End)
	if err != nil {
		return blocks.Message{}, err
	}
	return reportCard(reportView{
		Quarter: q.Label(), PrevQuarter: prev.Label(),
		Overall: Compute(cur), PrevOverall: Compute(last),
		BySegment: By(cur, last, func(a ScoredAnswer) string { return a.Segment }),
		ByTier:    By(cur, last, func(a ScoredAnswer) string { return a.Tier }),
		Loops:     StatsOf(loops, q),
		PrevLoops: StatsOf(loops, prev),
	}), nil
}
