package dunning

import (
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/blocks/blockstest"
	"github.com/holdfast/holdfast/scoring"
)

// hostile is customer text that must never become markup.
const hostile = "<!channel> & <https://evil.example|click> <@U123|x> ```"

func TestDunningAlertBlocks(t *testing.T) {
	t.Parallel()
	now := time.Date(2027, time.February, 8, 15, 30, 0, 0, time.UTC)
	longHostile := func(n int) string { return strings.Repeat(hostile+" ", n) }
	retry := now.AddDate(0, 0, 3)
	score := 35
	v := caseView{CaseID: 1, AccountID: 2, AccountName: longHostile(5), Tier: hostile, ARR: 200000, HealthScore: &score,
		Band: scoring.BandCritical, OwnerCSM: "U0CSM", EscalateTo: []string{"U0LEAD", "bad<!here>"}, HighValue: true,
		Amount: "$1,250.00", Invoice: hostile, Code: hostile, ClassLabel: "Soft decline", Path: "Retry schedule and soft outreach",
		Steps: []string{hostile}, CustomerNote: longHostile(100), Retries: []time.Time{retry}, Attempts: 2, FailedAt: now}
	m := alertCard(v)
	blockstest.CheckMessage(t, "dunning", m, 50)
	text := blocks.PlainTextBlocks(m.Blocks)
	blockstest.WantContains(t, "dunning", text, "High-value payment failed", "Health: 35/100 · Critical", "ARR: $200k", "Retry schedule: Feb 11, 2027", "Escalated to @U0CSM @U0LEAD")
	if note := blockstest.BlockByID(m.Blocks, "dunning_note").(*slack.SectionBlock).Text.Text; strings.Count(note, "```") != 2 {
		t.Error("the customer note can break out of its code block")
	}
	v.RecoveredAt = &now
	blockstest.CheckMessage(t, "recovered", alertCard(v), 50)
	blockstest.WantContains(t, "recovered", blocks.PlainTextBlocks(alertCard(v).Blocks), "Payment recovered", "Case closed")
	blockstest.CheckMessage(t, "attempt", blocks.Note("dunning_note", attemptText(2, hostile, "Soft decline", hostile)), 50)
	blockstest.CheckMessage(t, "recovered note", blocks.Note("dunning_note", recoveredText(hostile, 2, now, now.Add(49*time.Hour))), 50)
}
