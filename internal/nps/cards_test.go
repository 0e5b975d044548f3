package nps

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/blocks/blockstest"
	"github.com/holdfast/holdfast/internal/churn"
	"github.com/holdfast/holdfast/scoring"
)

// dateToken is the one kind of <…> the NPS builders emit besides user
// mentions: Slack's localized date, built from a number and our own text.
// slack-go's own MarshalJSON methods escape < and > as \u003c and \u003e.
var dateToken = regexp.MustCompile(`(?:<|\\u003c)!date\^\d+\^\{date_short_pretty\} \{time\}\|[A-Za-z0-9 :]+(?:>|\\u003e)`)

// checkMessage is blockstest.CheckMessage after replacing the builder's own date
// tokens, which the generic safety check would take for markup.
func checkMessage(t *testing.T, name string, m blocks.Message) {
	t.Helper()
	raw, err := json.Marshal(slack.Blocks{BlockSet: m.Blocks})
	if err != nil {
		t.Fatal(err)
	}
	var back slack.Blocks
	if err := json.Unmarshal(dateToken.ReplaceAll(raw, []byte("DATE")), &back); err != nil {
		t.Fatal(err)
	}
	blockstest.CheckMessage(t, name, blocks.Message{Text: dateToken.ReplaceAllString(m.Text, "DATE"), Blocks: back.BlockSet}, blocks.MaxMessageBlocks)
}

// longEvil is ~20k characters of hostile customer text: broadcasts,
// links and entities that must all reach Slack escaped.
var longEvil = strings.Repeat("<!channel> please <https://evil.example|click> & more ", 400)

// cardsNow is the clock the card tests read.
var cardsNow = time.Date(2027, time.February, 8, 15, 30, 0, 0, time.UTC)

func hugeCard() cardView {
	now := cardsNow
	at := now.Add(-time.Hour)
	due := now.AddDate(0, 0, 10)
	var history []blocks.TimelineEntry
	for range 8 {
		history = append(history, blocks.TimelineEntry{At: now, Kind: "signal.ticket<x>", Summary: longEvil, Actor: "U0CSM"})
	}
	return cardView{
		Context: cardContext{AccountID: 7, AccountName: longEvil, ExternalID: longEvil, Tier: longEvil, Segment: longEvil,
			ARR: 250000, RenewalDate: &due, HealthScore: ptr(34), HealthBand: scoring.BandCritical, HealthDriver: longEvil,
			Respondent: longEvil, Score: 2, PrevScore: ptr(9), Comment: longEvil, Kind: KindQuarterly, AnsweredAt: at,
			SentimentLabel: "negative", Competitors: []string{longEvil, "Gainsight"}, ChurnIntent: true, History: history},
		Loop: Loop{ID: 12, AccountID: 7, Score: 2, OwnerCSM: "U0CSM", OpenedAt: at,
			Due:                Deadlines{Contact: at.Add(24 * time.Hour), RootCause: at.Add(48 * time.Hour), ActionPlan: at.Add(72 * time.Hour)},
			EscalationProposed: true, ContactedAt: &now, ContactedBy: "U0CSM",
			RootCause: churn.SupportExperience, RootCauseWords: longEvil, RootCauseAt: &now, RootCauseBy: "U0CSM",
			Plan: longEvil, PlanOwner: "U0CSM", PlanDue: &due, PlanAt: &now, PlanBy: "U0MGR", FollowUpDue: &due},
		Executive: "U0EXEC", FollowUpAfter: 30 * 24 * time.Hour, Now: now,
	}
}

func TestNPSLoopCardLimitsAndEscaping(t *testing.T) {
	t.Parallel()
	v := hugeCard()
	m := loopCard(v)
	checkMessage(t, "huge card", m)
	text := blockstest.AllText(t, m.Blocks)
	blockstest.WantContains(t, "card", text, "<@U0CSM>", "&lt;!channel&gt;", "Support experience", "Gainsight", "Edit root cause", "Edit action plan")
	// (The header is plain_text, which Slack never parses; checkMessage
	// has checked every mrkdwn text.)
	if b := blockstest.FindButton(t, m.Blocks, blocks.ActionNPSEscalate); b == nil || b.Style != slack.StyleDanger || b.Confirm == nil || b.Value != "12" {
		t.Errorf("escalate button: %+v", b)
	}
	if blockstest.FindButton(t, m.Blocks, blocks.ActionNPSContacted) != nil {
		t.Error("Contacted button shown after contact")
	}

	// A fresh loop: every step pending, contact overdue, buttons for all.
	fresh := v
	fresh.Loop = Loop{ID: 3, Score: 6, OwnerCSM: "U0CSM", OpenedAt: v.Now.Add(-30 * time.Hour),
		Due: Deadlines{Contact: v.Now.Add(-6 * time.Hour), RootCause: v.Now.Add(18 * time.Hour), ActionPlan: v.Now.Add(42 * time.Hour)}}
	fresh.Context.Comment, fresh.Context.AccountName = "Slow support", "Acme"
	m = loopCard(fresh)
	checkMessage(t, "fresh card", m)
	text = blockstest.AllText(t, m.Blocks)
	blockstest.WantContains(t, "fresh card", text, "*overdue* since", "⏳ due", "if needed", "30 days after the action plan")
	for _, id := range []string{blocks.ActionNPSContacted, blocks.ActionNPSRootCause, blocks.ActionNPSPlan, blocks.ActionNPSEscalate} {
		if blockstest.FindButton(t, m.Blocks, id) == nil {
			t.Errorf("fresh card lacks %s", id)
		}
	}

	// A closed loop has no buttons and shows the follow-up.
	closed := v
	closed.Loop.FollowUpScore, closed.Loop.FollowUpAt, closed.Loop.ClosedAt = ptr(8), &v.Now, &v.Now
	m = loopCard(closed)
	checkMessage(t, "closed card", m)
	if blockstest.BlockByID(m.Blocks, "nps_actions") != nil {
		t.Error("closed loop still has buttons")
	}
	blockstest.WantContains(t, "closed card", blockstest.AllText(t, m.Blocks), "answered 2 → 8 (+6)", "✅ Detractor")
}

func TestNPSNotesAndListsLimits(t *testing.T) {
	t.Parallel()
	now := cardsNow
	msgs := map[string]blocks.Message{
		"contacted":  contactedNote("U0CSM"),
		"root cause": rootCauseNote("U0CSM", churn.PhantomChampion, longEvil, true),
		"plan":       planNote("U0CSM", longEvil, "U0OWN", now, &now, false),
		"escalate":   escalationNote("U0CSM", "U0EXEC", longEvil, 1e6, 2),
		"no exec":    escalationNote("U0CSM", "", "Acme", 1e6, 2),
		"nudge":      nudgeNote(Nudge{Step: StepRootCause, Level: 1, Due: now}, "U0CSM", "U0MGR"),
		"escalation": nudgeNote(Nudge{Step: StepContact, Level: 2, Due: now, OverdueBy: 50 * time.Hour}, "U0CSM", "U0MGR"),
		"follow-up":  followUpNote(longEvil, 3, 8, longEvil, false),
		"still bad":  followUpNote("jo", 3, 2, "", true),
		"sent":       followUpSentNote(longEvil, 30*24*time.Hour, true),
		"by hand":    followUpSentNote("jo", 45*24*time.Hour, false),
		"failing":    webhookFailing(3, 5, longEvil),
		"already":    stepAlreadyRecorded(StepContact, "U0CSM", now),
		"usage":      usageCard(),
	}
	var rows []dueRow
	var reminders []reminderRow
	var digest []digestRow
	var answers []answerRow
	var loops []Loop
	var home []HomeLoop
	for i := range 60 {
		rows = append(rows, dueRow{AccountID: int64(i), AccountName: longEvil, OwnerCSM: "U0CSM", Kind: KindPreRenewal, Reason: longEvil})
		reminders = append(reminders, reminderRow{AccountID: int64(i), AccountName: longEvil, Contact: longEvil, Kind: KindQuarterly, SentAt: now})
		digest = append(digest, digestRow{AccountName: longEvil, Respondent: longEvil, Score: 9, Comment: longEvil, ARR: 1e5})
		answers = append(answers, answerRow{At: now, Score: i % 11, Respondent: longEvil, Kind: KindFollowUp, Comment: longEvil})
		l := hugeCard().Loop
		loops = append(loops, l)
		home = append(home, HomeLoop{Loop: l, AccountName: longEvil, ARR: 1})
	}
	msgs["due list"] = dueList(dueView{Rows: rows, ViaTool: true, Date: now})
	msgs["reminder"] = reminderCard("U0CSM", reminders, 7*24*time.Hour, now)
	msgs["digest"] = digestCard(digest, digest, now)
	msgs["empty digest"] = digestCard(nil, nil, now)
	msgs["account"] = accountCard(accountView{AccountID: 1, AccountName: longEvil, OwnerCSM: "U0CSM", Answers: answers, Loops: loops, Now: now})
	msgs["empty account"] = accountCard(accountView{AccountID: 1, AccountName: "Acme", Now: now})
	var segs []Breakdown
	for range 30 {
		segs = append(segs, Breakdown{Key: longEvil, Cur: Score{NPS: 20, N: 5}, Prev: Score{NPS: -10, N: 4}})
	}
	msgs["report"] = reportCard(reportView{Quarter: "Q1 2027", PrevQuarter: "Q4 2026", Overall: Score{NPS: 12, N: 50},
		PrevOverall: Score{NPS: 5, N: 40}, BySegment: segs, ByTier: segs,
		Loops:     LoopStats{Opened: 4, Completed: 3, OnTime: 2, Contacted: 4, MedianContact: 5 * time.Hour, FollowUps: 2, AvgChange: 3.5},
		PrevLoops: LoopStats{Opened: 2, Completed: 1}})
	msgs["empty report"] = reportCard(reportView{Quarter: "Q1 2027", PrevQuarter: "Q4 2026"})
	for name, m := range msgs {
		checkMessage(t, name, m)
	}
	blockstest.WantContains(t, "due list", blockstest.AllText(t, msgs["due list"].Blocks), "…and 35 more", "survey tool")
	blockstest.WantContains(t, "report", blockstest.AllText(t, msgs["report"].Blocks), "+12 (n=50) · ▲7 vs Q4 2026 (+5)", "*75%* (3 of 4", "Q4 2026: *50%*",
		"Median time to contact: *5 hours*", "*+3.5*")
	blockstest.WantContains(t, "empty report", blockstest.AllText(t, msgs["empty report"].Blocks), "no answers", "No detractor loops opened this quarter")
	blockstest.WantContains(t, "escalation", blockstest.AllText(t, msgs["escalation"].Blocks), "<@U0MGR>", "overdue by 2 days", "owner <@U0CSM>")
	blockstest.WantContains(t, "still bad", blockstest.AllText(t, msgs["still bad"].Blocks), "NPS 3 → *2* (-1, now a detractor)", "new loop")
	// Waits say what is configured.
	blockstest.WantContains(t, "by hand", blockstest.AllText(t, msgs["by hand"].Blocks), "45 days since the plan")
	blockstest.WantContains(t, "reminder", blockstest.AllText(t, msgs["reminder"].Blocks), "had no answer for 7 days")

	homeBlocks := HomeLoops(home, now)
	if len(homeBlocks) != maxHomeLoops+1 {
		t.Errorf("home: %d blocks", len(homeBlocks))
	}
	blockstest.CheckBlocks(t, "home", homeBlocks, 100)
	blockstest.WantContains(t, "home", blockstest.AllText(t, homeBlocks), "…and 45 more")
	if b := HomeLoops(nil, now); len(b) != 1 {
		t.Errorf("empty home: %d blocks", len(b))
	}
}

func TestNPSModals(t *testing.T) {
	t.Parallel()
	due := cardsNow.AddDate(0, 0, 3)
	for name, v := range map[string]slack.ModalViewRequest{
		"root cause": rootCauseModal(12, longEvil, churn.Pricing, longEvil),
		"plan":       planModal(12, longEvil, longEvil, "U0CSM", &due),
		"empty plan": planModal(12, "Acme", "", "not-a-user", nil),
	} {
		if v.PrivateMetadata != "12" || v.Title == nil || blockstest.UTF16Len(v.Title.Text) > 24 || len(v.Blocks.BlockSet) > 100 {
			t.Errorf("%s: metadata %q title %+v blocks %d", name, v.PrivateMetadata, v.Title, len(v.Blocks.BlockSet))
		}
		// Every mrkdwn text escapes customer text; inputs are plain text,
		// which Slack never parses.
		var shown []slack.Block
		for _, b := range v.Blocks.BlockSet {
			if _, input := b.(*slack.InputBlock); !input {
				shown = append(shown, b)
			}
		}
		blockstest.CheckBlocks(t, name, shown, 100)
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var back slack.ModalViewRequest
		if err := json.Unmarshal(raw, &back); err != nil || len(back.Blocks.BlockSet) != len(v.Blocks.BlockSet) {
			t.Errorf("%s: round trip: %v", name, err)
		}
	}
	m := rootCauseModal(1, "Acme", churn.Pricing, "")
	sel := blockstest.BlockByID(m.Blocks.BlockSet, blocks.NPSBlockCause).(*slack.InputBlock).Element.(*slack.SelectBlockElement)
	if len(sel.Options) != len(churn.DetractorCauses) || sel.InitialOption == nil || sel.InitialOption.Value != "pricing" {
		t.Errorf("cause select: %d options, initial %+v", len(sel.Options), sel.InitialOption)
	}
	for _, o := range sel.Options {
		if blockstest.UTF16Len(o.Text.Text) > 75 || o.Description == nil || blockstest.UTF16Len(o.Description.Text) > 75 {
			t.Errorf("option %q over 75 characters", o.Value)
		}
	}
	p := planModal(1, "Acme", "", "U0CSM", &due)
	if u := blockstest.BlockByID(p.Blocks.BlockSet, blocks.NPSBlockOwner).(*slack.InputBlock).Element.(*slack.SelectBlockElement); u.InitialUser != "U0CSM" {
		t.Errorf("owner preset = %q", u.InitialUser)
	}
}
