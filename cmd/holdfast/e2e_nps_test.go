package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/api"
	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/bot/slacktest"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/internal/nps"
	"github.com/holdfast/holdfast/store"
)

// People and channels of the NPS tests.
const (
	npsCSM      = "U0CSM"
	npsManager  = "U0MGR"
	npsExec     = "U0EXEC"
	npsStranger = "U0OTHER"
	npsCS       = "C0CS"
	acmeChannel = "C0ACME"
)

func withTestClock(c *testClock) replicaOption { return func(o *appOptions) { o.now = c.Now } }

// never is a cron spec that does not fire while a test runs (Feb 29 at
// midnight), so only RunNow drives the NPS jobs.
const never = `"0 0 29 2 *"`

func npsYAML(more string) string {
	return `text:
  competitors:
    - name: Gainsight
nps:
  cs_channel: ` + npsCS + `
  managers:
    ` + npsCSM + `: ` + npsManager + `
  executive: ` + npsExec + `
  escalation_arr: 100000
  cadence:
    spec: ` + never + `
  digest:
    spec: ` + never + `
  jobs:
    loops: ` + never + `
    webhook: ` + never + `
` + more
}

func (r *replica) npsAnswers(answers ...nps.AnswerIn) nps.Result {
	r.d.t.Helper()
	var res nps.Result
	r.mustPost("/v1/nps", map[string]any{"answers": answers}, &res)
	return res
}

func score(v float64) *float64 { return &v }

// roots and replies split a channel's posts into thread roots and the
// replies to one root.
// Churn-risk alerts (a detractor who names a rival states churn intent)
// start threads of their own in the account channel; they are not NPS
// threads.
func roots(ms []slacktest.Message) []slacktest.Message {
	var out []slacktest.Message
	for _, m := range ms {
		if h, ok := firstBlock(m).(*slack.HeaderBlock); ok && h.BlockID == "alert_header" {
			continue
		}
		if m.ThreadTS == "" {
			out = append(out, m)
		}
	}
	return out
}

func replies(ms []slacktest.Message, rootTS string) []slacktest.Message {
	var out []slacktest.Message
	for _, m := range ms {
		if m.ThreadTS == rootTS {
			out = append(out, m)
		}
	}
	return out
}

// lastUpdate is the latest chat.update of a message.
func (d *deployment) lastUpdate(channel, ts string) (slacktest.Message, bool) {
	var last slacktest.Message
	found := false
	for _, m := range d.fake.Messages(channel) {
		if m.Method == "chat.update" && m.Raw.Params["ts"] == ts {
			last, found = m, true
		}
	}
	return last, found
}

// click sends a button click on a message, as Slack does.
func (d *deployment) npsClick(user, actionID, value, channel, messageTS string) string {
	d.t.Helper()
	url := d.responseURL()
	payload := map[string]any{
		"type": "block_actions", "user": map[string]any{"id": user}, "api_app_id": slacktest.AppID,
		"trigger_id": "trig." + strconv.FormatInt(time.Now().UnixNano(), 10), "response_url": url,
		"team":      map[string]any{"id": slacktest.TeamID},
		"container": map[string]any{"type": "message", "message_ts": messageTS, "channel_id": channel},
		"channel":   map[string]any{"id": channel}, "message": map[string]any{"ts": messageTS},
		"actions": []map[string]any{{"action_id": actionID, "block_id": "nps_actions", "value": value, "type": "button",
			"action_ts": "1.1"}},
	}
	if _, err := d.fake.SendInteraction(d.ctx(), payload); err != nil {
		d.t.Fatal(err)
	}
	return url
}

// submit sends a modal submission and returns the ack payload.
func (d *deployment) npsSubmit(user, callbackID, metadata string, values map[string]map[string]any) json.RawMessage {
	d.t.Helper()
	state := map[string]any{}
	for block, v := range values {
		state[block] = map[string]any{blocks.NPSInput: v}
	}
	payload := map[string]any{
		"type": "view_submission", "user": map[string]any{"id": user}, "api_app_id": slacktest.AppID,
		"team": map[string]any{"id": slacktest.TeamID},
		"view": map[string]any{"id": "V1", "type": "modal", "callback_id": callbackID, "private_metadata": metadata,
			"state": map[string]any{"values": state}},
	}
	ack, err := d.fake.SendInteraction(d.ctx(), payload)
	if err != nil {
		d.t.Fatal(err)
	}
	return ack.Payload
}

// ctx is a context for one fake Slack exchange.
func (d *deployment) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	d.t.Cleanup(cancel)
	return ctx
}

// responses are the texts posted to response_urls (ephemeral replies).
func (d *deployment) responses() string {
	var all []string
	for _, c := range d.fake.ResponseURLPosts() {
		all = append(all, c.Params["text"])
	}
	return strings.Join(all, "\n")
}

func (d *deployment) loopField(loopID int64, column string) string {
	d.t.Helper()
	var v *string
	if err := d.store.Pool().QueryRow(context.Background(), `SELECT `+column+`::text FROM nps_loops WHERE id = $1`, loopID).Scan(&v); err != nil {
		d.t.Fatal(err)
	}
	if v == nil {
		return ""
	}
	return *v
}

// TestNPSDetractorLoop follows one detractor from the answer to the
// follow-up: exactly one thread (a replay opens no second), steps recorded
// by the right clicks and refused for others, the follow-up answer in the
// same thread with the score change, and /nps showing it all.
func TestNPSDetractorLoop(t *testing.T) {
	t.Parallel()
	d := newDeployment(t, appendYAML(npsYAML("")))
	start := time.Date(2027, time.March, 1, 9, 0, 0, 0, time.UTC) // a Monday
	clock := &testClock{t: start}
	r := d.start(unpaced(), withTestClock(clock))
	r.accounts(
		ingest.AccountIn{ExternalID: "acme", Name: "Acme Corp", ARR: 250000, OwnerCSM: npsCSM, Channel: acmeChannel,
			RenewalDate: "2027-09-30", Tier: "enterprise", Segment: "mid-market"},
		ingest.AccountIn{ExternalID: "beta", Name: "Beta LLC", ARR: 20000, OwnerCSM: npsCSM},
	)
	var sigErr map[string]any
	if code := r.post("/v1/signals", map[string]any{"signals": []ingest.SignalIn{{Account: "acme", Kind: "ticket", Source: "zendesk",
		OccurredAt: start.Add(-48 * time.Hour), Text: "Export still broken", Severity: "high", IdempotencyKey: "t-1",
		Metadata: json.RawMessage(`{}`)}}}, &sigErr); code != 200 {
		t.Fatalf("%d %v", code, sigErr)
	}

	answer := nps.AnswerIn{Account: "acme", Respondent: "jo@acme.test", Score: score(3), SurveyKind: "quarterly",
		Comment: "<!channel> support is slow; we are evaluating Gainsight", AnsweredAt: start.Add(-time.Hour)}
	res := r.npsAnswers(answer)
	if res.Stored != 1 || res.Answers[0].LoopID == 0 || res.Answers[0].Category != nps.Detractor {
		t.Fatalf("first answer: %+v", res)
	}
	loopID := res.Answers[0].LoopID
	replay := r.npsAnswers(answer)
	if replay.Stored != 0 || replay.Duplicates != 1 || replay.Answers[0].LoopID != 0 || !replay.Answers[0].Duplicate {
		t.Fatalf("replay: %+v", replay)
	}
	d.settle()
	threads := roots(d.posts(acmeChannel))
	if len(threads) != 1 {
		t.Fatalf("want exactly one thread in the account channel, got %d", len(threads))
	}
	root := threads[0]
	card := plain(root)
	for _, want := range []string{"Detractor: Acme Corp", "NPS 3/10", "@" + npsCSM, "$250k", "Sep 30, 2027", "Gainsight",
		"Export still broken", "<!channel> support is slow", "Contacted", "proposed"} {
		if !strings.Contains(card, want) {
			t.Errorf("card lacks %q:\n%s", want, card)
		}
	}
	// Blocks travel as JSON (where < is \u003c), so look at the decoded texts.
	if texts := strings.Join(mrkdwnTexts(t, []byte(root.Raw.Params["blocks"])), "\n") + root.Text; strings.Contains(texts, "<!channel>") ||
		!strings.Contains(texts, "&lt;!channel&gt; support is slow") {
		t.Errorf("customer text reached Slack unescaped: %s", texts)
	}
	if n := d.count(`SELECT count(*) FROM nps_responses`); n != 1 {
		t.Errorf("%d responses stored, want 1", n)
	}
	if n := d.count(`SELECT count(*) FROM nps_loops`); n != 1 {
		t.Errorf("%d loops, want 1", n)
	}
	if n := d.count(`SELECT count(*) FROM signals WHERE kind = 'nps' AND source = $1`, nps.SignalSource); n != 1 {
		t.Errorf("%d nps signals, want 1", n)
	}
	if n := d.count(`SELECT count(*) FROM timeline WHERE kind IN ('signal.nps', 'nps.loop_opened')`); n != 2 {
		t.Errorf("%d timeline entries for the answer, want 2", n)
	}
	id := strconv.FormatInt(loopID, 10)

	// A stranger's click is refused and changes nothing.
	d.npsClick(npsStranger, blocks.ActionNPSContacted, id, acmeChannel, root.TS)
	waitFor(t, "refusal", func() bool { return strings.Contains(d.responses(), "Only the account's owner CSM") })
	if got := d.loopField(loopID, "contacted_at"); got != "" {
		t.Fatalf("a stranger recorded contact at %s", got)
	}

	// The owner records contact: the thread hears, the card updates.
	clock.Set(start.Add(2 * time.Hour))
	d.npsClick(npsCSM, blocks.ActionNPSContacted, id, acmeChannel, root.TS)
	waitFor(t, "contact recorded", func() bool { return d.loopField(loopID, "contacted_by") == npsCSM })
	d.settle()
	if up, ok := d.lastUpdate(acmeChannel, root.TS); !ok || !strings.Contains(plain(up), "✅ @"+npsCSM) {
		t.Errorf("card not updated after contact: %v\n%s", ok, plain(up))
	}
	// A second click says who did it.
	d.npsClick(npsCSM, blocks.ActionNPSContacted, id, acmeChannel, root.TS)
	waitFor(t, "already recorded", func() bool { return strings.Contains(d.responses(), "already recorded by <@"+npsCSM+">") })

	// Root cause: the button opens the modal (for the owner only)…
	d.npsClick(npsCSM, blocks.ActionNPSRootCause, id, acmeChannel, root.TS)
	opened, err := d.fake.WaitCalls(ctxTimeout(t, 10*time.Second), "views.open", 1)
	if err != nil {
		t.Fatal(err)
	}
	if v := opened[0].Params["view"]; !strings.Contains(v, blocks.ViewNPSRootCause) || !strings.Contains(v, "Support experience") ||
		!strings.Contains(v, "Phantom champion") {
		t.Errorf("root cause modal: %s", v)
	}
	// …a submission without the customer's words is refused on that field…
	ack := d.npsSubmit(npsCSM, blocks.ViewNPSRootCause, id, map[string]map[string]any{
		blocks.NPSBlockCause: {"type": "static_select", "selected_option": map[string]any{"value": "support_experience"}},
		blocks.NPSBlockWords: {"type": "plain_text_input", "value": "  "},
	})
	if !strings.Contains(string(ack), `"response_action":"errors"`) || !strings.Contains(string(ack), blocks.NPSBlockWords) {
		t.Errorf("empty words ack: %s", ack)
	}
	// …a stranger's submission too…
	ack = d.npsSubmit(npsStranger, blocks.ViewNPSRootCause, id, map[string]map[string]any{
		blocks.NPSBlockCause: {"type": "static_select", "selected_option": map[string]any{"value": "support_experience"}},
		blocks.NPSBlockWords: {"type": "plain_text_input", "value": "whatever"},
	})
	if !strings.Contains(string(ack), "owner CSM") {
		t.Errorf("stranger's root cause ack: %s", ack)
	}
	// …and the owner's is recorded.
	ack = d.npsSubmit(npsCSM, blocks.ViewNPSRootCause, id, map[string]map[string]any{
		blocks.NPSBlockCause: {"type": "static_select", "selected_option": map[string]any{"value": "support_experience"}},
		blocks.NPSBlockWords: {"type": "plain_text_input", "value": "Tickets sit for a week & nobody <b>answers</b>"},
	})
	if len(ack) != 0 && string(ack) != "null" {
		t.Errorf("root cause ack: %s", ack)
	}
	if got := d.loopField(loopID, "root_cause"); got != "support_experience" {
		t.Errorf("root cause = %q", got)
	}

	// Action plan, by the manager (configured managers may act too).
	clock.Set(start.Add(30 * time.Hour))
	ack = d.npsSubmit(npsManager, blocks.ViewNPSPlan, id, map[string]map[string]any{
		blocks.NPSBlockPlan:  {"type": "plain_text_input", "value": "Weekly support review with their admin"},
		blocks.NPSBlockOwner: {"type": "users_select", "selected_user": npsCSM},
		blocks.NPSBlockDue:   {"type": "datepicker", "selected_date": "2027-02-01"},
	})
	if !strings.Contains(string(ack), blocks.NPSBlockDue) {
		t.Errorf("a due date in the past was accepted: %s", ack)
	}
	ack = d.npsSubmit(npsManager, blocks.ViewNPSPlan, id, map[string]map[string]any{
		blocks.NPSBlockPlan:  {"type": "plain_text_input", "value": "Weekly support review with their admin"},
		blocks.NPSBlockOwner: {"type": "users_select", "selected_user": npsCSM},
		blocks.NPSBlockDue:   {"type": "datepicker", "selected_date": "2027-03-15"},
	})
	if len(ack) != 0 && string(ack) != "null" {
		t.Fatalf("plan ack: %s", ack)
	}
	planAt := start.Add(30 * time.Hour)

	// Escalation mentions the executive.
	d.npsClick(npsCSM, blocks.ActionNPSEscalate, id, acmeChannel, root.TS)
	waitFor(t, "escalation", func() bool { return d.loopField(loopID, "escalated_by") == npsCSM })
	d.settle()
	thread := replies(d.posts(acmeChannel), root.TS)
	var notes []string
	for _, m := range thread {
		notes = append(notes, plain(m))
	}
	all := strings.Join(notes, "\n")
	for _, want := range []string{"recorded step 1", "Support experience", "Tickets sit for a week & nobody <b>answers</b>",
		"Weekly support review", "@" + npsExec + ", your help is requested"} {
		if !strings.Contains(all, want) {
			t.Errorf("thread lacks %q:\n%s", want, all)
		}
	}

	// 30 days after the plan the follow-up goes out, in the same thread.
	clock.Set(planAt.Add(30*24*time.Hour - time.Minute))
	if err := r.app.scheduler.RunNow(context.Background(), nps.JobLoops, clock.Now()); err != nil {
		t.Fatal(err)
	}
	if n := d.count(`SELECT count(*) FROM nps_surveys WHERE kind = 'follow_up'`); n != 0 {
		t.Fatalf("follow-up sent a minute early")
	}
	clock.Set(planAt.Add(30 * 24 * time.Hour))
	for range 2 { // a rerun sends nothing twice
		if err := r.app.scheduler.RunNow(context.Background(), nps.JobLoops, clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if n := d.count(`SELECT count(*) FROM nps_surveys WHERE kind = 'follow_up' AND contact = 'jo@acme.test' AND sent_at IS NOT NULL`); n != 1 {
		t.Fatalf("%d follow-up surveys, want 1", n)
	}
	followUp := r.npsAnswers(nps.AnswerIn{Account: "acme", Respondent: "jo@acme.test", Score: score(8), SurveyKind: "follow_up",
		Comment: "Much better lately", AnsweredAt: clock.Now().Add(-time.Hour)})
	if followUp.Answers[0].FollowUpOf != loopID || followUp.Answers[0].LoopID != 0 || followUp.Answers[0].SurveyID == 0 {
		t.Fatalf("follow-up answer: %+v", followUp)
	}
	d.settle()
	if n := len(roots(d.posts(acmeChannel))); n != 1 {
		t.Errorf("the follow-up opened another thread (%d roots)", n)
	}
	thread = replies(d.posts(acmeChannel), root.TS)
	last := plain(thread[len(thread)-1])
	if !strings.Contains(last, "NPS 3 → *8* (+5") || !strings.Contains(last, "Much better lately") || !strings.Contains(last, "Loop closed") {
		t.Errorf("follow-up note:\n%s", last)
	}
	if got := d.loopField(loopID, "follow_up_score"); got != "8" || d.loopField(loopID, "closed_at") == "" {
		t.Errorf("loop after follow-up: score %q closed %q", got, d.loopField(loopID, "closed_at"))
	}

	// /nps acme and /nps report.
	ack2, err := d.fake.SendSlashCommand(ctxTimeout(t, 10*time.Second), slacktest.SlashCommand{Command: "/nps", Text: "acme", UserID: npsCSM})
	if err != nil {
		t.Fatal(err)
	}
	text, _ := ackReply(t, ack2)
	for _, want := range []string{"NPS · Acme Corp", "Latest: 8/10", "jo@acme.test", "follow-up 3→8", "*Detractor loops* · 0 open"} {
		if !strings.Contains(text, want) {
			t.Errorf("/nps acme lacks %q:\n%s", want, text)
		}
	}
	ack2, err = d.fake.SendSlashCommand(ctxTimeout(t, 10*time.Second), slacktest.SlashCommand{Command: "/nps", Text: "report", UserID: npsCSM})
	if err != nil {
		t.Fatal(err)
	}
	text, _ = ackReply(t, ack2)
	// It is April now: Q1 holds the detractor and its loop, Q2 the follow-up.
	for _, want := range []string{"NPS report · Q2 2027", "Overall:* no answers · -100 in Q1 2027", "*mid-market*: no answers · -100 in Q1",
		"*enterprise*", "No detractor loops opened this quarter", "Q1 2027: *100%* (1 of 1 loops", "median time to contact 2 hours",
		"*+5.0* on average over 1 follow-up (1 up, 0 down)", "-100 → *0*"} {
		if !strings.Contains(text, want) {
			t.Errorf("/nps report lacks %q:\n%s", want, text)
		}
	}
}

// TestNPSOverdueNudgeThenEscalate: a step past its deadline nudges the CSM
// in the thread once; a day later the manager is mentioned, once.
func TestNPSOverdueNudgeThenEscalate(t *testing.T) {
	t.Parallel()
	d := newDeployment(t, appendYAML(npsYAML("")))
	start := time.Date(2027, time.March, 1, 9, 0, 0, 0, time.UTC)
	clock := &testClock{t: start}
	r := d.start(unpaced(), withTestClock(clock))
	r.accounts(ingest.AccountIn{ExternalID: "beta", Name: "Beta LLC", ARR: 20000, OwnerCSM: npsCSM})
	res := r.npsAnswers(nps.AnswerIn{Account: "beta", Respondent: "al@beta.test", Score: score(5), AnsweredAt: start})
	d.settle()
	// No account channel: the loop goes to the CS channel.
	threads := roots(d.posts(npsCS))
	if len(threads) != 1 || res.Answers[0].LoopID == 0 {
		t.Fatalf("%d threads in the CS channel, result %+v", len(threads), res)
	}
	if strings.Contains(plain(threads[0]), "Escalate") && strings.Contains(plain(threads[0]), "proposed for") {
		t.Error("escalation proposed for a $20k account")
	}
	rootTS := threads[0].TS
	run := func(at time.Duration) []string {
		t.Helper()
		clock.Set(start.Add(at))
		if err := r.app.scheduler.RunNow(context.Background(), nps.JobLoops, clock.Now()); err != nil {
			t.Fatal(err)
		}
		d.settle()
		var out []string
		for _, m := range replies(d.posts(npsCS), rootTS) {
			out = append(out, plain(m))
		}
		return out
	}
	if got := run(23 * time.Hour); len(got) != 0 {
		t.Fatalf("nudged before the deadline: %q", got)
	}
	got := run(24 * time.Hour)
	if len(got) != 1 || !strings.Contains(got[0], "@"+npsCSM) || !strings.Contains(got[0], "Step 1") {
		t.Fatalf("after 24 h: %q", got)
	}
	if got := run(30 * time.Hour); len(got) != 1 {
		t.Fatalf("nudged twice: %q", got)
	}
	got = run(48 * time.Hour)
	// Contact is now a day overdue (manager) and the root cause is due (CSM).
	if len(got) != 3 || !strings.Contains(got[1], "@"+npsManager) || !strings.Contains(got[1], "Step 1") ||
		!strings.Contains(got[2], "Step 2") || !strings.Contains(got[2], "@"+npsCSM) {
		t.Fatalf("after 48 h: %q", got)
	}
	if got := run(49 * time.Hour); len(got) != 3 {
		t.Fatalf("manager mentioned twice: %q", got)
	}
	if up, ok := d.lastUpdate(npsCS, rootTS); !ok || !strings.Contains(plain(up), "overdue") {
		t.Errorf("card does not show the overdue step: %s", plain(up))
	}
	// Recording the steps stops the nudges.
	d.npsClick(npsCSM, blocks.ActionNPSContacted, strconv.FormatInt(res.Answers[0].LoopID, 10), npsCS, rootTS)
	waitFor(t, "contact", func() bool { return d.loopField(res.Answers[0].LoopID, "contacted_at") != "" })
	// 3 earlier + the contact note + root cause to the manager + step 3
	// to the CSM; nothing more about step 1.
	if got := run(72 * time.Hour); len(got) != 6 || !strings.Contains(got[4], "@"+npsManager+", Step 2") ||
		!strings.Contains(got[4], "overdue by 1 day") || !strings.Contains(got[5], "@"+npsCSM+", Step 3") {
		t.Fatalf("after contact and 72 h: %q", got)
	}
}

// TestNPSBusinessHours: with business hours, a loop opened on Friday
// afternoon is not overdue over the weekend.
func TestNPSBusinessHours(t *testing.T) {
	t.Parallel()
	d := newDeployment(t, appendYAML(npsYAML(`  steps:
    contact: 8h
    root_cause: 16h
    action_plan: 24h
    escalate_after: 8h
  business_hours:
    start: "09:00"
    end: "17:00"
schedule:
  timezone: America/New_York
`)))
	friday := time.Date(2027, time.March, 5, 16, 0, 0, 0, mustNY(t)) // 16:00 local, Friday
	clock := &testClock{t: friday}
	r := d.start(unpaced(), withTestClock(clock))
	r.accounts(ingest.AccountIn{ExternalID: "beta", Name: "Beta LLC", OwnerCSM: npsCSM})
	res := r.npsAnswers(nps.AnswerIn{Account: "beta", Respondent: "al@beta.test", Score: score(2), AnsweredAt: friday})
	due := d.loopField(res.Answers[0].LoopID, "contact_due")
	if want := time.Date(2027, time.March, 8, 16, 0, 0, 0, mustNY(t)); !strings.HasPrefix(due, want.UTC().Format("2006-01-02 15:04")) {
		t.Errorf("contact due %s, want Monday 16:00 New York (%s)", due, want.UTC())
	}
	clock.Set(friday.Add(48 * time.Hour)) // Sunday
	if err := r.app.scheduler.RunNow(context.Background(), nps.JobLoops, clock.Now()); err != nil {
		t.Fatal(err)
	}
	if n := d.count(`SELECT count(*) FROM nps_loop_nudges`); n != 0 {
		t.Errorf("%d nudges over the weekend", n)
	}
}

func mustNY(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// surveyTool is a fake external survey tool: it checks each POST's
// signature and answers with the statuses it is told to.
type surveyTool struct {
	mu       sync.Mutex
	secret   []byte
	clock    *testClock
	statuses []int
	got      []nps.SurveyPayload
	bad      int
}

func (s *surveyTool) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := nps.Verify(s.secret, r.Header.Get(nps.HeaderTimestamp), r.Header.Get(nps.HeaderSignature), body,
		s.clock.Now(), 5*time.Minute); err != nil || r.Header.Get(nps.HeaderDelivery) == "" {
		s.bad++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	status := http.StatusOK
	if len(s.statuses) > 0 {
		status, s.statuses = s.statuses[0], s.statuses[1:]
	}
	if status == http.StatusOK {
		var p nps.SurveyPayload
		_ = json.Unmarshal(body, &p)
		s.got = append(s.got, p)
	}
	w.WriteHeader(status)
}

func (s *surveyTool) payloads() []nps.SurveyPayload {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]nps.SurveyPayload(nil), s.got...)
}

// TestNPSCadence: the daily job selects exactly the due accounts from the
// edge-case fixture (tenure 89/90/91 days, renewal in 59/60/61 days),
// selects nothing twice, respects the quiet period, hands the surveys to
// the survey tool (signed, retried after a failure), and reminds the CSM
// once about surveys nobody answered.
func TestNPSCadence(t *testing.T) {
	t.Parallel()
	today := time.Date(2027, time.June, 14, 8, 0, 0, 0, time.UTC)
	clock := &testClock{t: today}
	const secret = "survey-secret-0123456789"
	tool := &surveyTool{secret: []byte(secret), clock: clock, statuses: []int{http.StatusInternalServerError}}
	srv := httptest.NewServer(tool)
	defer srv.Close()
	d := newDeployment(t, appendYAML(npsYAML("  survey_webhook:\n    url: "+srv.URL+"/surveys\n")))
	d.env["HOLDFAST_SURVEY_WEBHOOK_SECRET"] = secret
	r := d.start(unpaced(), withTestClock(clock))

	date := func(days int) string { return today.AddDate(0, 0, days).Format(time.DateOnly) }
	acct := func(id string, activatedDaysAgo int, renewalIn *int, status string) ingest.AccountIn {
		a := ingest.AccountIn{ExternalID: id, Name: "Acct " + id, OwnerCSM: npsCSM, ActivationDate: date(-activatedDaysAgo), Status: status}
		if renewalIn != nil {
			a.RenewalDate = date(*renewalIn)
		}
		return a
	}
	in := func(n int) *int { return &n }
	r.accounts(
		acct("tenure-89", 89, nil, ""), acct("tenure-90", 90, nil, ""), acct("tenure-91", 91, nil, ""),
		acct("renew-59", 300, in(59), ""), acct("renew-60", 300, in(60), ""), acct("renew-61", 300, in(61), ""),
		acct("day-30", 30, nil, ""), acct("day-29", 29, nil, ""),
		acct("ticket", 50, nil, ""), acct("quiet", 50, nil, ""), acct("churned-91", 91, nil, "churned"),
	)
	// The renewal accounts were surveyed 85 days ago: past the quiet
	// period, too recent for a quarterly survey.
	var touches []nps.AnswerIn
	for _, id := range []string{"renew-59", "renew-60", "renew-61"} {
		touches = append(touches, nps.AnswerIn{Account: id, Respondent: "admin@" + id, Score: score(9), AnsweredAt: today.AddDate(0, 0, -85)})
	}
	// "quiet" answered 10 days ago, so its resolved ticket waits.
	touches = append(touches, nps.AnswerIn{Account: "quiet", Respondent: "q@quiet", Score: score(9), AnsweredAt: today.AddDate(0, 0, -10)})
	r.npsAnswers(touches...)
	for _, id := range []string{"ticket", "quiet"} {
		r.signals(ingest.SignalIn{Account: id, Kind: "ticket", Source: "zendesk", Severity: "urgent", Text: "Outage",
			OccurredAt: today.Add(-20 * time.Hour), IdempotencyKey: "resolved-" + id,
			Metadata: json.RawMessage(`{"status": "resolved", "ticket_id": "Z-` + id + `"}`)})
	}

	selected := func() map[string]string {
		rows, err := d.store.Pool().Query(context.Background(), `SELECT a.external_id, s.kind FROM nps_surveys s
			JOIN accounts a ON a.id = s.account_id WHERE s.kind <> 'follow_up'`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]string{}
		for rows.Next() {
			var id, kind string
			if err := rows.Scan(&id, &kind); err != nil {
				t.Fatal(err)
			}
			out[id] = kind
		}
		return out
	}
	runJob := func(job string) {
		t.Helper()
		if err := r.app.scheduler.RunNow(context.Background(), job, clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	runJob(nps.JobCadence)
	want := map[string]string{"tenure-91": "quarterly", "renew-59": "pre_renewal", "renew-60": "pre_renewal",
		"day-30": "onboarding", "ticket": "post_ticket"}
	if got := selected(); !equalMaps(got, want) {
		t.Fatalf("selected %v, want %v", got, want)
	}
	runJob(nps.JobCadence) // the same day again: nothing new
	if n := d.count(`SELECT count(*) FROM nps_surveys`); n != len(want) {
		t.Fatalf("rerun selected again: %d surveys", n)
	}
	d.settle()
	lists := d.posts(npsCS)
	if len(lists) != 1 {
		t.Fatalf("%d due lists posted, want 1", len(lists))
	}
	list := plain(lists[0])
	for id := range want {
		if !strings.Contains(list, "Acct "+id) {
			t.Errorf("due list lacks %s:\n%s", id, list)
		}
	}
	if strings.Contains(list, "Acct tenure-90") || strings.Contains(list, "Acct quiet") || !strings.Contains(list, "survey tool") {
		t.Errorf("due list:\n%s", list)
	}

	// The survey tool fails once: retried after the backoff, not lost.
	runJob(nps.JobWebhook)
	if n := d.count(`SELECT count(*) FROM nps_surveys WHERE sent_at IS NOT NULL`); n != 0 {
		t.Fatalf("%d surveys marked sent after a failed POST", n)
	}
	runJob(nps.JobWebhook) // not due again yet
	clock.Set(today.Add(time.Minute))
	runJob(nps.JobWebhook)
	got := tool.payloads()
	if len(got) != 1 || len(got[0].Surveys) != len(want) || tool.bad != 0 {
		t.Fatalf("survey tool got %d payloads (bad signatures %d): %+v", len(got), tool.bad, got)
	}
	if n := d.count(`SELECT count(*) FROM nps_surveys WHERE sent_at IS NOT NULL`); n != len(want) {
		t.Fatalf("%d surveys sent, want %d", n, len(want))
	}
	runJob(nps.JobWebhook) // delivered: no second POST
	if len(tool.payloads()) != 1 {
		t.Fatal("a delivered batch was posted again")
	}
	var renew60 nps.SurveyRequest
	for _, s := range got[0].Surveys {
		if s.Account == "renew-60" {
			renew60 = s
		}
	}
	if renew60.SurveyID == 0 || renew60.Kind != nps.KindPreRenewal || len(renew60.KnownRespondents) != 1 {
		t.Errorf("renew-60 request: %+v", renew60)
	}

	// The next day renew-61, tenure-90 and day-29 cross their lines; the
	// others are taken or quiet.
	clock.Set(today.AddDate(0, 0, 1))
	runJob(nps.JobCadence)
	want["renew-61"], want["tenure-90"], want["day-29"] = "pre_renewal", "quarterly", "onboarding"
	if got := selected(); !equalMaps(got, want) {
		t.Fatalf("next day selected %v, want %v", got, want)
	}

	// renew-60 answers (through the tool, echoing the survey id); a week
	// later the CSM hears once about the others.
	r.npsAnswers(nps.AnswerIn{Account: "renew-60", Respondent: "admin@renew-60", Score: score(10), SurveyID: renew60.SurveyID,
		SurveyKind: "pre_renewal", AnsweredAt: today.Add(time.Hour)})
	clock.Set(today.AddDate(0, 0, 7).Add(2 * time.Minute))
	runJob(nps.JobWebhook)
	runJob(nps.JobLoops)
	runJob(nps.JobLoops)
	d.settle()
	dms := d.posts(npsCSM)
	if len(dms) != 1 {
		t.Fatalf("%d reminders to the CSM, want 1", len(dms))
	}
	reminder := plain(dms[0])
	if !strings.Contains(reminder, "Acct tenure-91") || strings.Contains(reminder, "Acct renew-60") || strings.Contains(reminder, "Acct renew-61") {
		t.Errorf("reminder:\n%s", reminder)
	}

	// Quiet period: "quiet" answered 10 days before its critical ticket was
	// resolved, so no post-ticket survey was selected on either day.
	if n := d.count(`SELECT count(*) FROM nps_surveys s JOIN accounts a ON a.id = s.account_id WHERE a.external_id = 'quiet'`); n != 0 {
		t.Errorf("the quiet account was surveyed")
	}

	// The weekly digest lists promoters once.
	runJob(nps.JobDigest)
	runJob(nps.JobDigest)
	d.settle()
	var digests []string
	for _, m := range d.posts(npsCS) {
		if strings.Contains(plain(m), "NPS this week") {
			digests = append(digests, plain(m))
		}
	}
	if len(digests) != 1 || !strings.Contains(digests[0], "Advocacy") || !strings.Contains(digests[0], "Acct renew-60") {
		t.Errorf("digests: %q", digests)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestNPSAPIValidation: bad rows get per-row errors and store nothing.
func TestNPSAPIValidation(t *testing.T) {
	t.Parallel()
	d := newDeployment(t, appendYAML(npsYAML("")))
	clock := &testClock{t: time.Date(2027, time.March, 1, 9, 0, 0, 0, time.UTC)}
	r := d.start(unpaced(), withTestClock(clock))
	r.accounts(ingest.AccountIn{ExternalID: "acme", Name: "Acme Corp", OwnerCSM: npsCSM})
	var body struct {
		Error string         `json:"error"`
		Rows  []api.RowError `json:"rows"`
	}
	code := r.post("/v1/nps", map[string]any{"answers": []nps.AnswerIn{
		{Account: "acme", Respondent: "a@acme", Score: score(2), AnsweredAt: clock.Now()},
		{Account: "acme", Respondent: "b@acme", Score: score(11), AnsweredAt: clock.Now()},
		{Account: "nope", Respondent: "c@nope", Score: score(5), AnsweredAt: clock.Now()},
	}}, &body)
	if code != http.StatusUnprocessableEntity || len(body.Rows) != 1 || body.Rows[0].Index != 1 || body.Rows[0].Field != "score" {
		t.Fatalf("status %d body %+v", code, body)
	}
	code = r.post("/v1/nps", map[string]any{"answers": []nps.AnswerIn{
		{Account: "acme", Respondent: "a@acme", Score: score(2), AnsweredAt: clock.Now()},
		{Account: "nope", Respondent: "c@nope", Score: score(5), AnsweredAt: clock.Now()},
	}}, &body)
	if code != http.StatusUnprocessableEntity || len(body.Rows) != 1 || body.Rows[0].Index != 1 || body.Rows[0].Field != "account" {
		t.Fatalf("unknown account: status %d body %+v", code, body)
	}
	code = r.post("/v1/nps", map[string]any{"answers": []nps.AnswerIn{
		{Account: "acme", Respondent: "a@acme", Score: score(2), AnsweredAt: clock.Now(), SurveyID: 999},
	}}, &body)
	if code != http.StatusUnprocessableEntity || len(body.Rows) != 1 || body.Rows[0].Field != "survey_id" {
		t.Fatalf("unknown survey: status %d body %+v", code, body)
	}
	for _, table := range []string{"nps_responses", "nps_loops", "signals", "outbox"} {
		if n := d.count(`SELECT count(*) FROM ` + table); n != 0 {
			t.Errorf("%d rows in %s after rejected batches", n, table)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, r.base+"/v1/nps", strings.NewReader(`{"answers":[]}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: %d", resp.StatusCode)
	}
}

// TestNPSImportCSV: `holdfast import nps FILE.csv` records all rows or
// none, naming each bad line.
func TestNPSImportCSV(t *testing.T) {
	t.Parallel()
	d := newDeployment(t, appendYAML(npsYAML("")))
	ctx := context.Background()
	accounts := filepath.Join(t.TempDir(), "accounts.csv")
	if err := os.WriteFile(accounts, []byte("external_id,name,owner_csm,channel\nacme,Acme Corp,"+npsCSM+","+acmeChannel+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut strings.Builder
	if code := run(ctx, []string{"import", accounts}, func(k string) string { return d.env[k] }, nil, &out, &errOut); code != 0 {
		t.Fatalf("account import: %d %s", code, errOut.String())
	}
	now := time.Now().UTC()
	recent := now.Add(-2 * time.Hour).Format(time.RFC3339)
	bad := filepath.Join(t.TempDir(), "bad.csv")
	if err := os.WriteFile(bad, []byte("account,respondent,score,answered_at,comment\n"+
		"acme,jo@acme,3,"+recent+",slow support\n"+
		"acme,al@acme,12,"+recent+",\n"+
		"ghost,x@ghost,9,"+recent+",\n"+
		"acme,bo@acme,7,yesterday,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errOut.Reset()
	code := run(ctx, []string{"import", "nps", bad}, func(k string) string { return d.env[k] }, nil, &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "line 5: answered_at") || !strings.Contains(errOut.String(), "nothing was imported") {
		t.Fatalf("bad file: code %d stderr %s", code, errOut.String())
	}
	// With the unparsable time fixed, validation finds the score; then the unknown account.
	fixed := strings.Replace(mustRead(t, bad), "yesterday", recent, 1)
	bad = writeFile(t, "bad.csv", fixed)
	errOut.Reset()
	if code := run(ctx, []string{"import", "nps", bad}, func(k string) string { return d.env[k] }, nil, &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "line 3: score") {
		t.Fatalf("bad score: %d %s", code, errOut.String())
	}
	bad = writeFile(t, "bad.csv", strings.Replace(fixed, "al@acme,12", "al@acme,8", 1))
	errOut.Reset()
	if code := run(ctx, []string{"import", "nps", bad}, func(k string) string { return d.env[k] }, nil, &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), `line 4: account: no account with external id "ghost"`) {
		t.Fatalf("unknown account: %d %s", code, errOut.String())
	}
	if n := d.count(`SELECT count(*) FROM nps_responses`); n != 0 {
		t.Fatalf("%d answers stored from rejected files", n)
	}
	good := writeFile(t, "good.csv", strings.Replace(strings.Replace(fixed, "al@acme,12", "al@acme,8", 1), "ghost,x@ghost", "acme,x@acme", 1))
	for i := range 2 { // importing the same file twice stores it once
		out.Reset()
		errOut.Reset()
		if code := run(ctx, []string{"import", "nps", good}, func(k string) string { return d.env[k] }, nil, &out, &errOut); code != 0 {
			t.Fatalf("good file: %d %s", code, errOut.String())
		}
		want := "imported 4 NPS answers (4 new, 0 already known); 1 detractor loops opened"
		if i == 1 {
			want = "imported 4 NPS answers (0 new, 4 already known); 0 detractor loops opened"
		}
		if !strings.Contains(out.String(), want) {
			t.Errorf("run %d: %s", i, out.String())
		}
	}
	if n := d.count(`SELECT count(*) FROM nps_responses`); n != 4 {
		t.Errorf("%d answers stored, want 4", n)
	}
	// The detractor's card waits in the outbox for the bot.
	if n := d.count(`SELECT count(*) FROM outbox WHERE channel_id = $1 AND ref LIKE 'nps:loop:%'`, acmeChannel); n != 1 {
		t.Errorf("%d loop cards queued, want 1", n)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestNPSConcurrentReplay: the same detractor answer sent many times at
// once to two replicas is stored once and opens one thread.
func TestNPSConcurrentReplay(t *testing.T) {
	t.Parallel()
	d := newDeployment(t, appendYAML(npsYAML("")))
	clock := &testClock{t: time.Date(2027, time.March, 1, 9, 0, 0, 0, time.UTC)}
	r1 := d.start(unpaced(), withTestClock(clock))
	r2 := d.start(unpaced(), withTestClock(clock))
	r1.accounts(ingest.AccountIn{ExternalID: "acme", Name: "Acme Corp", OwnerCSM: npsCSM, Channel: acmeChannel})
	answer := nps.AnswerIn{Account: "acme", Respondent: "jo@acme.test", Score: score(1), Comment: "Leaving", AnsweredAt: clock.Now()}
	var wg sync.WaitGroup
	var mu sync.Mutex
	loops := 0
	for i := range 10 {
		r := r1
		if i%2 == 1 {
			r = r2
		}
		wg.Go(func() {
			var res nps.Result
			if code := r.post("/v1/nps", map[string]any{"answers": []nps.AnswerIn{answer}}, &res); code != http.StatusOK {
				t.Errorf("status %d", code)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if res.Answers[0].LoopID != 0 {
				loops++
			}
		})
	}
	wg.Wait()
	d.settle()
	if loops != 1 || d.count(`SELECT count(*) FROM nps_loops`) != 1 || len(roots(d.posts(acmeChannel))) != 1 {
		t.Errorf("%d results with a loop, %d loops, %d threads; want 1 each", loops, d.count(`SELECT count(*) FROM nps_loops`),
			len(roots(d.posts(acmeChannel))))
	}
	// The App Home lists it for its owner, and for nobody else.
	home, err := r1.app.feature("nps").(*nps.Module).OpenLoopsFor(context.Background(), npsCSM, 20)
	if err != nil || len(home) != 1 || home[0].AccountName != "Acme Corp" || home[0].Loop.Score != 1 {
		t.Fatalf("open loops for the CSM: %+v %v", home, err)
	}
	if other, _ := r1.app.feature("nps").(*nps.Module).OpenLoopsFor(context.Background(), npsStranger, 20); len(other) != 0 {
		t.Errorf("a stranger has %d open loops", len(other))
	}
	if b := nps.HomeLoops(home, clock.Now()); len(b) != 1 || !strings.Contains(blocks.PlainTextBlocks(b), "[ Contacted ]") {
		t.Errorf("home blocks:\n%s", blocks.PlainTextBlocks(b))
	}
	// Opening the App Home shows the loop under its own header.
	if _, err := d.fake.SendEvent(d.ctx(), map[string]any{"type": "app_home_opened", "user": npsCSM, "channel": "D0CSM", "tab": "home"}); err != nil {
		t.Fatal(err)
	}
	calls, err := d.fake.WaitCalls(d.ctx(), "views.publish", 1)
	if err != nil {
		t.Fatal(err)
	}
	var view slack.HomeTabViewRequest
	_ = json.Unmarshal([]byte(calls[0].Params["view"]), &view)
	if text := blocks.PlainTextBlocks(view.Blocks.BlockSet); !strings.Contains(text, "Your open detractor loops") ||
		!strings.Contains(text, "Acme Corp") || !strings.Contains(text, "[ Contacted ]") {
		t.Errorf("App Home:\n%s", text)
	}
}

// TestNPSWebhookKeepsFailing: a survey tool that keeps failing is retried
// with backoff, the CS channel hears once, and nothing is lost.
func TestNPSWebhookKeepsFailing(t *testing.T) {
	t.Parallel()
	today := time.Date(2027, time.June, 14, 8, 0, 0, 0, time.UTC)
	clock := &testClock{t: today}
	const secret = "survey-secret-0123456789"
	tool := &surveyTool{secret: []byte(secret), clock: clock, statuses: []int{500, 502, 503, 500, 500, 500}}
	srv := httptest.NewServer(tool)
	defer srv.Close()
	d := newDeployment(t, appendYAML(npsYAML("  survey_webhook:\n    url: "+srv.URL+"\n")))
	d.env["HOLDFAST_SURVEY_WEBHOOK_SECRET"] = secret
	r := d.start(unpaced(), withTestClock(clock))
	r.accounts(ingest.AccountIn{ExternalID: "t91", Name: "Tenure 91", ActivationDate: today.AddDate(0, 0, -91).Format(time.DateOnly)})
	if err := r.app.scheduler.RunNow(context.Background(), nps.JobCadence, clock.Now()); err != nil {
		t.Fatal(err)
	}
	at := today
	for attempt := 1; attempt <= 7; attempt++ {
		if err := r.app.scheduler.RunNow(context.Background(), nps.JobWebhook, at); err != nil {
			t.Fatal(err)
		}
		at = at.Add(store.Backoff(attempt, time.Minute, time.Hour)) // NPS retries 1, 2, 4… minutes, then hourly
		clock.Set(at)
	}
	d.settle()
	var warnings int
	for _, m := range d.posts(npsCS) {
		if strings.Contains(plain(m), "survey tool has refused") {
			warnings++
		}
	}
	if got := tool.payloads(); len(got) != 1 || warnings != 1 || d.count(`SELECT count(*) FROM nps_surveys WHERE sent_at IS NOT NULL`) != 1 {
		t.Errorf("delivered %d payloads, %d warnings, sent %d", len(got), warnings, d.count(`SELECT count(*) FROM nps_surveys WHERE sent_at IS NOT NULL`))
	}
}

func firstBlock(m slacktest.Message) slack.Block {
	if len(m.Blocks) == 0 {
		return nil
	}
	return m.Blocks[0]
}
