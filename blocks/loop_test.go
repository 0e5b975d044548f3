package blocks

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/churn"
	"github.com/holdfast/holdfast/scoring"
)

const hostile = "<!channel> & <https://evil.example|click> <@U123|x> ```"

func longHostile(n int) string { return strings.Repeat(hostile+" ", n) }

// checkForm checks a modal that holds input blocks (walk does not know them).
func checkForm(t *testing.T, name string, mv slack.ModalViewRequest) {
	t.Helper()
	if len(mv.Blocks.BlockSet) == 0 || len(mv.Blocks.BlockSet) > 100 {
		t.Errorf("%s: %d blocks", name, len(mv.Blocks.BlockSet))
	}
	for _, to := range []*slack.TextBlockObject{mv.Title, mv.Close, mv.Submit} {
		if to != nil && (to.Type != slack.PlainTextType || utf16Len(to.Text) > 24) {
			t.Errorf("%s: view text %+v", name, to)
		}
	}
	if len(mv.PrivateMetadata) > 3000 {
		t.Errorf("%s: private_metadata %d long", name, len(mv.PrivateMetadata))
	}
	ids := map[string]bool{}
	for _, b := range mv.Blocks.BlockSet {
		if ids[b.ID()] {
			t.Errorf("%s: block id %q twice", name, b.ID())
		}
		ids[b.ID()] = true
		switch b := b.(type) {
		case *slack.SectionBlock:
			if utf16Len(b.Text.Text) > 3000 {
				t.Errorf("%s: section %d long", name, utf16Len(b.Text.Text))
			}
			assertSafeMrkdwn(t, name, b.Text.Text)
		case *slack.InputBlock:
			if b.BlockID == "" {
				t.Errorf("%s: input without block id", name)
			}
		}
	}
	raw, err := json.Marshal(mv)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var back slack.View
	if err := json.Unmarshal(raw, &back); err != nil || len(back.Blocks.BlockSet) != len(mv.Blocks.BlockSet) {
		t.Errorf("%s: JSON round trip: %v", name, err)
	}
}

func TestChurnModal(t *testing.T) {
	mv := ChurnModal(ChurnModalView{Meta: ChurnMeta{AccountID: 7, ChannelID: "C1"}, AccountName: longHostile(20),
		ARR: 120000, OwnerCSM: "U1", AE: "not an id <!here>", Today: fixedNow()})
	checkForm(t, "churn modal", mv)
	text := PlainTextBlocks(mv.Blocks.BlockSet)
	for _, c := range churn.Causes {
		wantContains(t, "churn modal", text, c.Label, c.Definition)
	}
	if mv.CallbackID != ViewChurnRecord || !strings.Contains(mv.PrivateMetadata, `"account_id":7`) {
		t.Errorf("callback %q metadata %q", mv.CallbackID, mv.PrivateMetadata)
	}
	var fields []string
	for _, b := range mv.Blocks.BlockSet {
		if in, ok := b.(*slack.InputBlock); ok {
			fields = append(fields, in.BlockID)
		}
	}
	if want := []string{churn.FieldStatedReason, churn.FieldCause, churn.FieldDiagnosis, churn.FieldDealBehaviour, churn.FieldChurnedOn}; strings.Join(fields, ",") != strings.Join(want, ",") {
		t.Errorf("inputs %v, want %v", fields, want)
	}
	checkForm(t, "schedule", DebriefScheduleModal(1, hostile, fixedNow()))
	checkForm(t, "outcome", DebriefOutcomeModal(1, hostile, 30))
	checkForm(t, "recorded", ChurnRecordedModal(hostile, churn.PhantomChampion, []string{"U1", "U2"}, ""))
	checkForm(t, "recorded fallback", ChurnRecordedModal(hostile, churn.PhantomChampion, nil, "C9"))
}

func debriefView() SalesDebriefView {
	held := fixedNow()
	due := held.AddDate(0, 0, 30)
	v := SalesDebriefView{ChurnID: 9, Recipient: "U0MGR", AccountName: longHostile(5), ARR: 120000, ChurnedOn: fixedNow(),
		Cause: churn.FeatureOverpromise, StatedReason: longHostile(100), Diagnosis: longHostile(100), DealBehaviour: longHostile(100),
		OwnerCSM: "U0CSM", AE: "U0AE", SalesManager: "U0MGR", RecordedBy: "U0CSM", SameCauseAE: 2, SameCauseTeam: 5,
		Debrief: DebriefState{HeldAt: &held, Outcome: longHostile(100), ProcessChange: longHostile(50), ChangeOwner: "U0MGR", CheckinDue: &due}}
	for range 40 {
		v.Lookalikes = append(v.Lookalikes, LookalikeRow{Name: longHostile(3), ARR: 5000, HealthScore: ptr(40), OwnerCSM: "U1",
			Traits: []string{"Industry: " + hostile, "Deal source: " + hostile}})
	}
	return v
}

func TestSalesDebrief(t *testing.T) {
	v := debriefView()
	m := SalesDebrief(v)
	checkMessage(t, "debrief held", m, 50)
	text := PlainTextBlocks(m.Blocks)
	wantContains(t, "debrief", text, "Debrief held", "Process change agreed", "@U0AE's book", "2 in @U0AE's book, 5 across the team")
	if findButton(t, m.Blocks, ActionDebriefSchedule) != nil {
		t.Error("a held debrief still offers scheduling")
	}
	v.Debrief = DebriefState{}
	v.Recipient = "U0AE"
	m = SalesDebrief(v)
	checkMessage(t, "debrief pending", m, 50)
	wantContains(t, "pending", PlainTextBlocks(m.Blocks), "your book", "Schedule 20-min debrief")
	if b := findButton(t, m.Blocks, ActionDebriefOutcome); b == nil || b.Value != "9" {
		t.Errorf("outcome button %+v", b)
	}
	checkMessage(t, "checkin", Checkin(CheckinView{AccountName: hostile, Cause: churn.ICPMiss, ProcessChange: longHostile(100),
		ChangeOwner: "U1", HeldAt: fixedNow()}), 50)
	checkMessage(t, "note", ChurnNote(longHostile(10), churn.Pricing, "bad id", fixedNow()), 50)
}

func TestRootCauseReportBlocks(t *testing.T) {
	p := churn.MonthOf(fixedNow())
	var recs []churn.Record
	for i := range 200 {
		c := churn.Causes[i%len(churn.Causes)]
		recs = append(recs, churn.Record{ID: int64(i), AccountID: int64(i), AccountName: hostile, ChurnedOn: p.Start.AddDate(0, 0, i%28),
			Cause: c.Cause, ARR: 1000, RecordedBy: "U" + Itoa(i%40)})
	}
	var groups []churn.CohortGroup
	for i := range 100 {
		groups = append(groups, churn.CohortGroup{Profile: churn.Profile{SizeBand: hostile + Itoa(i), Industry: Itoa(i)}, Accounts: 3, Churned: 1})
	}
	var looks []churn.Lookalike
	for range 30 {
		looks = append(looks, churn.Lookalike{Candidate: churn.Candidate{Name: longHostile(5), ARR: 1}, Traits: []string{hostile}, Like: recs[0]})
	}
	var changes []churn.ProcessChange
	for range 30 {
		changes = append(changes, churn.ProcessChange{AccountName: hostile, Cause: churn.Pricing, Change: longHostile(20), Owner: "U1", CheckinDue: fixedNow()})
	}
	r := churn.BuildReport(churn.ReportInput{Period: p, Records: recs, Cohorts: groups, Lookalikes: looks, ProcessChanges: changes,
		Winback: []churn.WinbackAttempt{{Outcome: churn.ReEngaged}, {Outcome: churn.Declined}, {}}})
	m := RootCauseReport(r)
	checkMessage(t, "report", m, 50)
	wantContains(t, "report", PlainTextBlocks(m.Blocks), "Win-back rate: *50%* (1 of 2 answered)", "…")
	checkMessage(t, "empty report", RootCauseReport(churn.BuildReport(churn.ReportInput{Period: p})), 50)

	rows, team := churn.TagAudit(recs, 4, 0.5)
	checkMessage(t, "audit", TagAudit(TagAuditView{Period: p, Rows: rows, Team: team, Share: 0.5}), 50)
	checkMessage(t, "empty audit", TagAudit(TagAuditView{Period: p}), 50)

	for share, want := range map[float64]string{0.7222: "72%", 0.025: "2.5%", 0: "0%", 1: "100%", 0.05: "5%", 1.0 / 3: "33%"} {
		if got := Percent(share); got != want {
			t.Errorf("Percent(%g) = %q, want %q", share, got, want)
		}
	}
}

func TestDunningAlertBlocks(t *testing.T) {
	retry := fixedNow().AddDate(0, 0, 3)
	v := DunningView{CaseID: 1, AccountID: 2, AccountName: longHostile(5), Tier: hostile, ARR: 200000, HealthScore: ptr(35),
		Band: scoring.BandCritical, OwnerCSM: "U0CSM", EscalateTo: []string{"U0LEAD", "bad<!here>"}, HighValue: true,
		Amount: "$1,250.00", Invoice: hostile, Code: hostile, ClassLabel: "Soft decline", Path: "Retry schedule and soft outreach",
		Steps: []string{hostile}, CustomerNote: longHostile(100), Retries: []time.Time{retry}, Attempts: 2, FailedAt: fixedNow()}
	m := DunningAlert(v)
	checkMessage(t, "dunning", m, 50)
	text := PlainTextBlocks(m.Blocks)
	wantContains(t, "dunning", text, "High-value payment failed", "Health: 35/100 · Critical", "ARR: $200k", "Retry schedule: Feb 11, 2027", "Escalated to @U0CSM @U0LEAD")
	if note := blockByID(m.Blocks, "dunning_note").(*slack.SectionBlock).Text.Text; strings.Count(note, "```") != 2 {
		t.Error("the customer note can break out of its code block")
	}
	now := fixedNow()
	v.RecoveredAt = &now
	checkMessage(t, "recovered", DunningAlert(v), 50)
	wantContains(t, "recovered", PlainTextBlocks(DunningAlert(v).Blocks), "Payment recovered", "Case closed")
	checkMessage(t, "attempt", Note("dunning_note", DunningAttemptText(2, hostile, "Soft decline", hostile)), 50)
	checkMessage(t, "recovered note", Note("dunning_note", DunningRecoveredText(hostile, 2, fixedNow(), fixedNow().Add(49*time.Hour))), 50)
}

func TestWinbackListBlocks(t *testing.T) {
	started := fixedNow()
	var rows []WinbackRow
	for i := range 20 {
		r := WinbackRow{OfferID: int64(i + 1), Name: longHostile(4), ARR: 1000, Kind: churn.KindChurned, Detail: longHostile(10)}
		switch i % 3 {
		case 1:
			r.StartedBy, r.StartedAt = "U1", &started
		case 2:
			r.StartedBy, r.StartedAt, r.Outcome, r.OutcomeBy = "U1", &started, churn.ReEngaged, "U1"
		}
		rows = append(rows, r)
	}
	m := WinbackList(WinbackListView{Week: fixedNow(), Rows: rows})
	checkMessage(t, "winback", m, 50)
	text := PlainTextBlocks(m.Blocks)
	wantContains(t, "winback", text, "[ Start win-back ]", "[ Re-engaged ] [ No response ] [ Declined ]", "✅ Re-engaged", "…and 5 more")
	if b := findButton(t, m.Blocks, ActionWinbackOutcome+"2_declined"); b == nil || b.Value != "2:declined" {
		t.Errorf("outcome button %+v", b)
	}
}
