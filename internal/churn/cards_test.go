package churn

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/blocks/blockstest"
)

const hostile = "<!channel> & <https://evil.example|click> <@U123|x> ```"

func longHostile(n int) string { return strings.Repeat(hostile+" ", n) }

func fixedNow() time.Time { return time.Date(2027, time.February, 8, 15, 30, 0, 0, time.UTC) }

func ptr[T any](v T) *T { return &v }

// checkForm checks a modal that holds input blocks (walk does not know them).
func checkForm(t *testing.T, name string, mv slack.ModalViewRequest) {
	t.Helper()
	if len(mv.Blocks.BlockSet) == 0 || len(mv.Blocks.BlockSet) > 100 {
		t.Errorf("%s: %d blocks", name, len(mv.Blocks.BlockSet))
	}
	for _, to := range []*slack.TextBlockObject{mv.Title, mv.Close, mv.Submit} {
		if to != nil && (to.Type != slack.PlainTextType || blockstest.UTF16Len(to.Text) > 24) {
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
			if blockstest.UTF16Len(b.Text.Text) > 3000 {
				t.Errorf("%s: section %d long", name, blockstest.UTF16Len(b.Text.Text))
			}
			blockstest.AssertSafeMrkdwn(t, name, b.Text.Text)
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
	t.Parallel()
	mv := recordModal(recordForm{Meta: churnMeta{AccountID: 7, ChannelID: "C1"}, AccountName: longHostile(20),
		ARR: 120000, OwnerCSM: "U1", AE: "not an id <!here>", Today: fixedNow()})
	checkForm(t, "churn modal", mv)
	text := blocks.PlainTextBlocks(mv.Blocks.BlockSet)
	for _, c := range Causes {
		blockstest.WantContains(t, "churn modal", text, c.Label, c.Definition)
	}
	if mv.CallbackID != blocks.ViewChurnRecord || !strings.Contains(mv.PrivateMetadata, `"account_id":7`) {
		t.Errorf("callback %q metadata %q", mv.CallbackID, mv.PrivateMetadata)
	}
	var fields []string
	for _, b := range mv.Blocks.BlockSet {
		if in, ok := b.(*slack.InputBlock); ok {
			fields = append(fields, in.BlockID)
		}
	}
	if want := []string{FieldStatedReason, FieldCause, FieldDiagnosis, FieldDealBehaviour, FieldChurnedOn}; strings.Join(fields, ",") != strings.Join(want, ",") {
		t.Errorf("inputs %v, want %v", fields, want)
	}
	checkForm(t, "schedule", scheduleModal(1, hostile, fixedNow()))
	checkForm(t, "outcome", outcomeModal(1, hostile, 30))
	checkForm(t, "recorded", recordedModal(hostile, PhantomChampion, []string{"U1", "U2"}, ""))
	checkForm(t, "recorded fallback", recordedModal(hostile, PhantomChampion, nil, "C9"))
}

func heldDebrief() debriefView {
	held := fixedNow()
	due := held.AddDate(0, 0, 30)
	v := debriefView{ChurnID: 9, Recipient: "U0MGR", AccountName: longHostile(5), ARR: 120000, ChurnedOn: fixedNow(),
		Cause: FeatureOverpromise, StatedReason: longHostile(100), Diagnosis: longHostile(100), DealBehaviour: longHostile(100),
		OwnerCSM: "U0CSM", AE: "U0AE", SalesManager: "U0MGR", RecordedBy: "U0CSM", SameCauseAE: 2, SameCauseTeam: 5,
		Debrief: debriefState{HeldAt: &held, Outcome: longHostile(100), ProcessChange: longHostile(50), ChangeOwner: "U0MGR", CheckinDue: &due}}
	for range 40 {
		v.Lookalikes = append(v.Lookalikes, lookalikeRow{Name: longHostile(3), ARR: 5000, HealthScore: ptr(40), OwnerCSM: "U1",
			Traits: []string{"Industry: " + hostile, "Deal source: " + hostile}})
	}
	return v
}

func TestSalesDebrief(t *testing.T) {
	t.Parallel()
	v := heldDebrief()
	m := salesDebrief(v)
	blockstest.CheckMessage(t, "debrief held", m, 50)
	text := blocks.PlainTextBlocks(m.Blocks)
	blockstest.WantContains(t, "debrief", text, "Debrief held", "Process change agreed", "@U0AE's book", "2 in @U0AE's book, 5 across the team")
	if blockstest.FindButton(t, m.Blocks, blocks.ActionDebriefSchedule) != nil {
		t.Error("a held debrief still offers scheduling")
	}
	v.Debrief = debriefState{}
	v.Recipient = "U0AE"
	m = salesDebrief(v)
	blockstest.CheckMessage(t, "debrief pending", m, 50)
	blockstest.WantContains(t, "pending", blocks.PlainTextBlocks(m.Blocks), "your book", "Schedule 20-min debrief")
	if b := blockstest.FindButton(t, m.Blocks, blocks.ActionDebriefOutcome); b == nil || b.Value != "9" {
		t.Errorf("outcome button %+v", b)
	}
	blockstest.CheckMessage(t, "checkin", checkinCard(checkinView{AccountName: hostile, Cause: ICPMiss, ProcessChange: longHostile(100),
		ChangeOwner: "U1", HeldAt: fixedNow()}), 50)
	blockstest.CheckMessage(t, "note", churnNote(longHostile(10), Pricing, "bad id", fixedNow()), 50)
}

func TestRootCauseReportBlocks(t *testing.T) {
	t.Parallel()
	p := MonthOf(fixedNow())
	var recs []Record
	for i := range 200 {
		c := Causes[i%len(Causes)]
		recs = append(recs, Record{ID: int64(i), AccountID: int64(i), AccountName: hostile, ChurnedOn: p.Start.AddDate(0, 0, i%28),
			Cause: c.Cause, ARR: 1000, RecordedBy: "U" + blocks.Itoa(i%40)})
	}
	var groups []CohortGroup
	for i := range 100 {
		groups = append(groups, CohortGroup{Profile: Profile{SizeBand: hostile + blocks.Itoa(i), Industry: blocks.Itoa(i)}, Accounts: 3, Churned: 1})
	}
	var looks []Lookalike
	for range 30 {
		looks = append(looks, Lookalike{Candidate: Candidate{Name: longHostile(5), ARR: 1}, Traits: []string{hostile}, Like: recs[0]})
	}
	var changes []ProcessChange
	for range 30 {
		changes = append(changes, ProcessChange{AccountName: hostile, Cause: Pricing, Change: longHostile(20), Owner: "U1", CheckinDue: fixedNow()})
	}
	r := BuildReport(ReportInput{Period: p, Records: recs, Cohorts: groups, Lookalikes: looks, ProcessChanges: changes,
		Winback: []WinbackAttempt{{Outcome: ReEngaged}, {Outcome: Declined}, {}}})
	m := reportCard(r)
	blockstest.CheckMessage(t, "report", m, 50)
	blockstest.WantContains(t, "report", blocks.PlainTextBlocks(m.Blocks), "Win-back rate: *50%* (1 of 2 answered)", "…")
	blockstest.CheckMessage(t, "empty report", reportCard(BuildReport(ReportInput{Period: p})), 50)

	rows, team := TagAudit(recs, 4, 0.5)
	blockstest.CheckMessage(t, "audit", auditCard(auditView{Period: p, Rows: rows, Team: team, Share: 0.5}), 50)
	blockstest.CheckMessage(t, "empty audit", auditCard(auditView{Period: p}), 50)

	for share, want := range map[float64]string{0.7222: "72%", 0.025: "2.5%", 0: "0%", 1: "100%", 0.05: "5%", 1.0 / 3: "33%"} {
		if got := percent(share); got != want {
			t.Errorf("percent(%g) = %q, want %q", share, got, want)
		}
	}
}

func TestWinbackListBlocks(t *testing.T) {
	t.Parallel()
	started := fixedNow()
	var rows []winbackRow
	for i := range 20 {
		r := winbackRow{OfferID: int64(i + 1), Name: longHostile(4), ARR: 1000, Kind: KindChurned, Detail: longHostile(10)}
		switch i % 3 {
		case 1:
			r.StartedBy, r.StartedAt = "U1", &started
		case 2:
			r.StartedBy, r.StartedAt, r.Outcome, r.OutcomeBy = "U1", &started, ReEngaged, "U1"
		}
		rows = append(rows, r)
	}
	m := winbackCard(winbackListView{Week: fixedNow(), Rows: rows})
	blockstest.CheckMessage(t, "winback", m, 50)
	text := blocks.PlainTextBlocks(m.Blocks)
	blockstest.WantContains(t, "winback", text, "[ Start win-back ]", "[ Re-engaged ] [ No response ] [ Declined ]", "✅ Re-engaged", "…and 5 more")
	if b := blockstest.FindButton(t, m.Blocks, blocks.ActionWinbackOutcome+"2_declined"); b == nil || b.Value != "2:declined" {
		t.Errorf("outcome button %+v", b)
	}
}
