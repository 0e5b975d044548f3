package npsflow

import (
	"context"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/nps"
	"github.com/holdfast/holdfast/store"
)

// History sizes for /nps <account>.
const (
	accountAnswers = 20
	accountLoops   = 10
)

// AccountNPS is the /nps answer for one account: score history and its
// detractor loops with their step status.
func (s *Service) AccountNPS(ctx context.Context, a store.Account) (blocks.Message, error) {
	answers, err := s.store.NPSHistory(ctx, a.ID, accountAnswers)
	if err != nil {
		return blocks.Message{}, err
	}
	loops, err := s.store.NPSLoopsForAccount(ctx, a.ID, accountLoops)
	if err != nil {
		return blocks.Message{}, err
	}
	v := blocks.NPSAccountView{AccountID: a.ID, AccountName: a.Name, ExternalID: a.ExternalID, OwnerCSM: a.OwnerCSM, Now: s.now()}
	for _, r := range answers {
		v.Answers = append(v.Answers, blocks.NPSAnswerRow{At: r.AnsweredAt, Score: r.Score, Respondent: r.Respondent, Kind: r.Kind, Comment: r.Comment})
	}
	for _, l := range loops {
		v.Loops = append(v.Loops, l.Loop)
	}
	return blocks.NPSAccount(v), nil
}

// Report is /nps report: this quarter against the last, by segment and
// tier, and how the detractor loops did.
func (s *Service) Report(ctx context.Context) (blocks.Message, error) {
	q := nps.QuarterOf(s.now(), s.loc)
	prev := q.Prev()
	cur, err := s.store.NPSReportAnswers(ctx, q.Start, q.End)
	if err != nil {
		return blocks.Message{}, err
	}
	last, err := s.store.NPSReportAnswers(ctx, prev.Start, prev.End)
	if err != nil {
		return blocks.Message{}, err
	}
	loops, err := s.store.NPSReportLoops(ctx, prev.Start, q.End)
	if err != nil {
		return blocks.Message{}, err
	}
	return blocks.NPSReport(blocks.NPSReportView{
		Quarter: q.Label(), PrevQuarter: prev.Label(),
		Overall: nps.Compute(cur), PrevOverall: nps.Compute(last),
		BySegment: nps.By(cur, last, func(a nps.ScoredAnswer) string { return a.Segment }),
		ByTier:    nps.By(cur, last, func(a nps.ScoredAnswer) string { return a.Tier }),
		Loops:     nps.StatsOf(loops, q),
		PrevLoops: nps.StatsOf(loops, prev),
	}), nil
}
