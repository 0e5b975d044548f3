package blocks

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/churn"
	"github.com/holdfast/holdfast/nps"
	"github.com/holdfast/holdfast/scoring"
)

// dateToken is the one kind of <…> the NPS builders emit besides user
// mentions: Slack's localized date, built from a number and our own text.
// slack-go's own MarshalJSON methods escape < and > as \u003c and \u003e.
var dateToken = regexp.MustCompile(`(?:<|\\u003c)!date\^\d+\^\{date_short_pretty\} \{time\}\|[A-Za-z0-9 :]+(?:>|\\u003e)`)

// checkNPSMessage is checkMessage after replacing the builder's own date
// tokens, which the generic safety check would take for markup.
func checkNPSMessage(t *testing.T, name string, m Message) {
	t.Helper()
	raw, err := json.Marshal(slack.Blocks{BlockSet: m.Blocks})
	if err != nil {
		t.Fatal(err)
	}
	var back slack.Blocks
	if err := json.Unmarshal(dateToken.ReplaceAll(raw, []byte("DATE")), &back); err != nil {
		t.Fatal(err)
	}
	checkMessage(t, name, Message{Text: dateToken.ReplaceAllString(m.Text, "DATE"), Blocks: back.BlockSet}, MaxMessageBlocks)
}

var longEvil = strings.Repeat(evilTicket+" & more ", 400) // ~20k characters of hostile customer text

func hugeCard() NPSCardView {
	now := fixedNow()
	at := now.Add(-time.Hour)
	due := now.AddDate(0, 0, 10)
	var history []TimelineEntry
	for range 8 {
		history = append(history, TimelineEntry{At: now, Kind: "signal.ticket<x>", Summary: longEvil, Actor: "U0CSM"})
	}
	return NPSCardView{
		Context: NPSCardContext{AccountID: 7, AccountName: longEvil, ExternalID: longEvil, Tier: longEvil, Segment: longEvil,
			ARR: 250000, RenewalDate: &due, HealthScore: ptr(34), HealthBand: scoring.BandCritical, HealthDriver: longEvil,
			Respondent: longEvil, Score: 2, PrevScore: ptr(9), Comment: longEvil, Kind: nps.KindQuarterly, AnsweredAt: at,
			SentimentLabel: "negative", Competitors: []string{longEvil, "Gainsight"}, ChurnIntent: true, History: history},
		Loop: nps.Loop{ID: 12, AccountID: 7, Score: 2, OwnerCSM: "U0CSM", OpenedAt: at,
			Due:                nps.Deadlines{Contact: at.Add(24 * time.Hour), RootCause: at.Add(48 * time.Hour), ActionPlan: at.Add(72 * time.Hour)},
			EscalationProposed: true, ContactedAt: &now, ContactedBy: "U0CSM",
			RootCause: churn.SupportExperience, RootCauseWords: longEvil, RootCauseAt: &now, RootCauseBy: "U0CSM",
			Plan: longEvil, PlanOwner: "U0CSM", PlanDue: &due, PlanAt: &now, PlanBy: "U0MGR", FollowUpDue: &due},
		Executive: "U0EXEC", FollowUpAfter: 30 * 24 * time.Hour, Now: now,
	}
}

func TestNPSLoopCardLimitsAndEscaping(t *testing.T) {
	v := hugeCard()
	m := NPSLoopCard(v)
	checkNPSMessage(t, "huge card", m)
	text := allText(t, m.Blocks)
	wantContains(t, "card", text, "<@U0CSM>", "&lt;!channel&gt;", "Support experience", "Gainsight", "Edit root cause", "Edit action plan")
	// (The header is plain_text, which Slack never parses; checkNPSMessage
	// has checked every mrkdwn text.)
	if b := findButton(t, m.Blocks, ActionNPSEscalate); b == nil || b.Style != slack.StyleDanger || b.Confirm == nil || b.Value != "12" {
		t.Errorf("escalate button: %+v", b)
	}
	if findButton(t, m.Blocks, ActionNPSContacted) != nil {
		t.Error("Contacted button shown after contact")
	}

	// A fresh loop: every step pending, contact overdue, buttons for all.
	fresh := v
	fresh.Loop = nps.Loop{ID: 3, Score: 6, OwnerCSM: "U0CSM", OpenedAt: v.Now.Add(-30 * time.Hour),
		Due: nps.Deadlines{Contact: v.Now.Add(-6 * time.Hour), RootCause: v.Now.Add(18 * time.Hour), ActionPlan: v.Now.Add(42 * time.Hour)}}
	fresh.Context.Comment, fresh.Context.AccountName = "Slow support", "Acme"
	m = NPSLoopCard(fresh)
	checkNPSMessage(t, "fresh card", m)
	text = allText(t, m.Blocks)
	wantContains(t, "fresh card", text, "*overdue* since", "⏳ due", "if needed", "30 days after the action plan")
	for _, id := range []string{ActionNPSContacted, ActionNPSRootCause, ActionNPSPlan, ActionNPSEscalate} {
		if findButton(t, m.Blocks, id) == nil {
			t.Errorf("fresh card lacks %s", id)
		}
	}

	// A closed loop has no buttons and shows the follow-up.
	closed := v
	closed.Loop.FollowUpScore, closed.Loop.FollowUpAt, closed.Loop.ClosedAt = ptr(8), &v.Now, &v.Now
	m = NPSLoopCard(closed)
	checkNPSMessage(t, "closed card", m)
	if blockByID(m.Blocks, "nps_actions") != nil {
		t.Error("closed loop still has buttons")
	}
	wantContains(t, "closed card", allText(t, m.Blocks), "answered 2 → 8 (+6)", "✅ Detractor")
}

func TestNPSNotesAndListsLimits(t *testing.T) {
	now := fixedNow()
	msgs := map[string]Message{
		"contacted":  NPSContactedNote("U0CSM"),
		"root cause": NPSRootCauseNote("U0CSM", churn.PhantomChampion, longEvil, true),
		"plan":       NPSPlanNote("U0CSM", longEvil, "U0OWN", now, &now, false),
		"escalate":   NPSEscalationNote("U0CSM", "U0EXEC", longEvil, 1e6, 2),
		"no exec":    NPSEscalationNote("U0CSM", "", "Acme", 1e6, 2),
		"nudge":      NPSNudgeNote(nps.Nudge{Step: nps.StepRootCause, Level: 1, Due: now}, "U0CSM", "U0MGR"),
		"escalation": NPSNudgeNote(nps.Nudge{Step: nps.StepContact, Level: 2, Due: now, OverdueBy: 50 * time.Hour}, "U0CSM", "U0MGR"),
		"follow-up":  NPSFollowUpNote(longEvil, 3, 8, longEvil, false),
		"still bad":  NPSFollowUpNote("jo", 3, 2, "", true),
		"sent":       NPSFollowUpSentNote(longEvil, 30*24*time.Hour, true),
		"by hand":    NPSFollowUpSentNote("jo", 45*24*time.Hour, false),
		"failing":    NPSWebhookFailing(3, 5, longEvil),
		"already":    NPSStepAlreadyRecorded(nps.StepContact, "U0CSM", now),
		"usage":      NPSUsage(),
	}
	var rows []NPSDueRow
	var reminders []NPSReminderRow
	var digest []NPSDigestRow
	var answers []NPSAnswerRow
	var loops []nps.Loop
	var home []NPSHomeLoop
	for i := range 60 {
		rows = append(rows, NPSDueRow{AccountID: int64(i), AccountName: longEvil, OwnerCSM: "U0CSM", Kind: nps.KindPreRenewal, Reason: longEvil})
		reminders = append(reminders, NPSReminderRow{AccountID: int64(i), AccountName: longEvil, Contact: longEvil, Kind: nps.KindQuarterly, SentAt: now})
		digest = append(digest, NPSDigestRow{AccountName: longEvil, Respondent: longEvil, Score: 9, Comment: longEvil, ARR: 1e5})
		answers = append(answers, NPSAnswerRow{At: now, Score: i % 11, Respondent: longEvil, Kind: nps.KindFollowUp, Comment: longEvil})
		l := hugeCard().Loop
		loops = append(loops, l)
		home = append(home, NPSHomeLoop{Loop: l, AccountName: longEvil, ARR: 1})
	}
	msgs["due list"] = NPSDueList(NPSDueView{Rows: rows, ViaTool: true, Date: now})
	msgs["reminder"] = NPSReminder("U0CSM", reminders, 7*24*time.Hour, now)
	msgs["digest"] = NPSDigest(digest, digest, now)
	msgs["empty digest"] = NPSDigest(nil, nil, now)
	msgs["account"] = NPSAccount(NPSAccountView{AccountID: 1, AccountName: longEvil, OwnerCSM: "U0CSM", Answers: answers, Loops: loops, Now: now})
	msgs["empty account"] = NPSAccount(NPSAccountView{AccountID: 1, AccountName: "Acme", Now: now})
	var segs []nps.Breakdown
	for range 30 {
		segs = append(segs, nps.Breakdown{Key: longEvil, Cur: nps.Score{NPS: 20, N: 5}, Prev: nps.Score{NPS: -10, N: 4}})
	}
	msgs["report"] = NPSReport(NPSReportView{Quarter: "Q1 2027", PrevQuarter: "Q4 2026", Overall: nps.Score{NPS: 12, N: 50},
		PrevOverall: nps.Score{NPS: 5, N: 40}, BySegment: segs, ByTier: segs,
		Loops:     nps.LoopStats{Opened: 4, Completed: 3, OnTime: 2, Contacted: 4, MedianContact: 5 * time.Hour, FollowUps: 2, AvgChange: 3.5},
		PrevLoops: nps.LoopStats{Opened: 2, Completed: 1}})
	msgs["empty report"] = NPSReport(NPSReportView{Quarter: "Q1 2027", PrevQuarter: "Q4 2026"})
	for name, m := range msgs {
		checkNPSMessage(t, name, m)
	}
	wantContains(t, "due list", allText(t, msgs["due list"].Blocks), "…and 35 more", "survey tool")
	wantContains(t, "report", allText(t, msgs["report"].Blocks), "+12 (n=50) · ▲7 vs Q4 2026 (+5)", "*75%* (3 of 4", "Q4 2026: *50%*",
		"Median time to contact: *5 hours*", "*+3.5*")
	wantContains(t, "empty report", allText(t, msgs["empty report"].Blocks), "no answers", "No detractor loops opened this quarter")
	wantContains(t, "escalation", allText(t, msgs["escalation"].Blocks), "<@U0MGR>", "overdue by 2 days", "owner <@U0CSM>")
	wantContains(t, "still bad", allText(t, msgs["still bad"].Blocks), "NPS 3 → *2* (-1, now a detractor)", "new loop")
	// Waits say what is configured.
	wantContains(t, "by hand", allText(t, msgs["by hand"].Blocks), "45 days since the plan")
	wantContains(t, "reminder", allText(t, msgs["reminder"].Blocks), "had no answer for 7 days")

	homeBlocks := NPSHomeLoops(home, now)
	if len(homeBlocks) != maxHomeLoops+1 {
		t.Errorf("home: %d blocks", len(homeBlocks))
	}
	checkBlocks(t, "home", homeBlocks, 100)
	wantContains(t, "home", allText(t, homeBlocks), "…and 45 more")
	if b := NPSHomeLoops(nil, now); len(b) != 1 {
		t.Errorf("empty home: %d blocks", len(b))
	}
}

func TestNPSModals(t *testing.T) {
	due := fixedNow().AddDate(0, 0, 3)
	for name, v := range map[string]slack.ModalViewRequest{
		"root cause": NPSRootCauseModal(12, longEvil, churn.Pricing, longEvil),
		"plan":       NPSPlanModal(12, longEvil, longEvil, "U0CSM", &due),
		"empty plan": NPSPlanModal(12, "Acme", "", "not-a-user", nil),
	} {
		if v.PrivateMetadata != "12" || v.Title == nil || utf16Len(v.Title.Text) > 24 || len(v.Blocks.BlockSet) > 100 {
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
		checkBlocks(t, name, shown, 100)
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var back slack.ModalViewRequest
		if err := json.Unmarshal(raw, &back); err != nil || len(back.Blocks.BlockSet) != len(v.Blocks.BlockSet) {
			t.Errorf("%s: round trip: %v", name, err)
		}
	}
	m := NPSRootCauseModal(1, "Acme", churn.Pricing, "")
	sel := blockByID(m.Blocks.BlockSet, NPSBlockCause).(*slack.InputBlock).Element.(*slack.SelectBlockElement)
	if len(sel.Options) != len(churn.DetractorCauses) || sel.InitialOption == nil || sel.InitialOption.Value != "pricing" {
		t.Errorf("cause select: %d options, initial %+v", len(sel.Options), sel.InitialOption)
	}
	for _, o := range sel.Options {
		if utf16Len(o.Text.Text) > 75 || o.Description == nil || utf16Len(o.Description.Text) > 75 {
			t.Errorf("option %q over 75 characters", o.Value)
		}
	}
	p := NPSPlanModal(1, "Acme", "", "U0CSM", &due)
	if u := blockByID(p.Blocks.BlockSet, NPSBlockOwner).(*slack.InputBlock).Element.(*slack.SelectBlockElement); u.InitialUser != "U0CSM" {
		t.Errorf("owner preset = %q", u.InitialUser)
	}
}
