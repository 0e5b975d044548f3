package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/holdfast/holdfast/bot/slacktest"
	"github.com/holdfast/holdfast/config"
	"github.com/holdfast/holdfast/internal/access"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/internal/nps"
)

const customerTeam = "T0CUST"

// account is acme() under another id, owner and channels.
func account(id, owner, channel, internal string) ingest.AccountIn {
	a := acme()
	a.ExternalID, a.Name, a.OwnerCSM, a.Channel, a.InternalChannel = id, strings.ToUpper(id[:1])+id[1:]+" Inc", owner, channel, internal
	return a
}

// alertFor drives account id into at risk: its churn-risk alert follows.
func alertFor(r *replica, id string, now time.Time) {
	r.d.t.Helper()
	sigs := usageHistory(id, now, 100, 40)
	two := 2.0
	sigs = append(sigs, ingest.SignalIn{Account: id, Kind: "ticket", Source: "zendesk", IdempotencyKey: "T-" + id, Severity: "urgent",
		OccurredAt: now.Add(-30 * time.Minute), Text: "Export is broken again. Terrible."},
		ingest.SignalIn{Account: id, Kind: "nps", Source: "delighted", IdempotencyKey: "N-" + id, Value: &two,
			OccurredAt: now.Add(-time.Hour), Text: "Too slow."})
	if res := r.signals(sigs...); len(res.Alerts) != 1 {
		r.d.t.Fatalf("%s: %d alerts, want 1", id, len(res.Alerts))
	}
}

func TestSharedChannelGetsNoInternalPost(t *testing.T) {
	t.Parallel()
	d := newDeployment(t)
	for _, c := range []string{"C0SHAREDA", "C0SHAREDB", "C0SHAREDC"} {
		d.fake.ShareChannel(c, customerTeam, c == "C0SHAREDC") // C: invitation still pending
	}
	r := d.start(unpaced())
	now := time.Now()
	r.accounts(account("alpha", "U0ALPHA", "C0SHAREDA", "C0INTERNAL"), // to its internal channel
		account("bravo", "U0BRAVO", "C0SHAREDB", ""), // to its owner's DM
		account("charlie", "", "C0SHAREDC", ""),      // to alerts.default_channel
		account("delta", "U0DELTA", "C0PLAIN", ""))   // not shared: its own channel
	for _, id := range []string{"alpha", "bravo", "charlie", "delta"} {
		alertFor(r, id, now)
	}
	d.settle()
	for _, c := range []string{"C0SHAREDA", "C0SHAREDB", "C0SHAREDC"} {
		if got := d.fake.Messages(c); len(got) != 0 {
			t.Errorf("%s (shared) got %d messages: %q", c, len(got), got[0].Text)
		}
	}
	for to, account := range map[string]string{"C0INTERNAL": "Alpha Inc", "U0BRAVO": "Bravo Inc", alertChannel: "Charlie Inc", "C0PLAIN": "Delta Inc"} {
		alerts := 0
		for _, m := range d.fake.Messages(to) {
			if strings.Contains(plain(m), "At risk: ") {
				alerts++
				if !strings.Contains(plain(m), "At risk: "+account) {
					t.Errorf("%s got the alert of another account: %q", to, m.Text)
				}
			}
		}
		if alerts != 1 {
			t.Errorf("%s: %d alerts, want the one for %s", to, alerts, account)
		}
	}
	// Found shared by asking Slack (no event): each owner is told once.
	for _, owner := range []string{"U0ALPHA", "U0BRAVO"} {
		told := 0
		for _, m := range d.fake.Messages(owner) {
			if strings.Contains(m.Text, "is now shared with another organisation") {
				told++
			}
		}
		if told != 1 {
			t.Errorf("%s told %d times that the channel is shared, want 1", owner, told)
		}
	}
	if n := d.count(`SELECT count(*) FROM alerts WHERE channel_id LIKE 'C0SHARED%'`); n != 0 {
		t.Errorf("%d alerts still point at a shared channel (claims would update there)", n)
	}
	if n := d.count(`SELECT count(*) FROM outbox WHERE rerouted_from LIKE 'C0SHARED%'`); n != 3 {
		t.Errorf("%d rerouted messages recorded, want 3", n)
	}
}

func TestChannelSharedMidwayIsSharedFromThenOn(t *testing.T) {
	t.Parallel()
	d := newDeployment(t)
	r := d.start(unpaced())
	ctx := ctxTimeout(t, 20*time.Second)
	r.accounts(account("echo", "U0ECHO", "C0ECHO", "C0ECHOINT"))
	if got := d.commandIn("U0ECHO", "C0ECHO", "/health", "echo"); !strings.Contains(got, "Echo Inc") {
		t.Fatalf("before sharing, /health answers in place: %q", got)
	}
	id, err := d.fake.SendEnvelopeNoWait(ctx, "events_api", map[string]any{"type": "event_callback", "team_id": slacktest.TeamID,
		"api_app_id": slacktest.AppID, "event_id": "EvSHARE1", "event_time": time.Now().Unix(),
		"event": map[string]any{"type": "channel_shared", "channel": "C0ECHO", "connected_team_id": customerTeam, "event_ts": "1.0"}})
	if err != nil {
		t.Fatal(err)
	}
	d.fake.ShareChannel("C0ECHO", customerTeam, false)
	if _, err := d.fake.WaitAck(ctx, id); err != nil {
		t.Fatal(err)
	}
	// Slack sends the event again (another envelope): the owner is told once.
	if _, err := d.fake.EmitChannelShared(ctx, "C0ECHO", customerTeam); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "owner told", func() bool { return len(d.fake.Messages("U0ECHO")) > 0 })
	alertFor(r, "echo", time.Now())
	got := d.commandIn("U0ECHO", "C0ECHO", "/health", "echo")
	d.settle()
	if strings.Contains(got, "ARR") || !strings.Contains(got, "shared with another organisation") {
		t.Errorf("/health in the now shared channel answered %q", got)
	}
	if n := len(d.fake.Messages("C0ECHO")); n != 0 {
		t.Errorf("%d messages in the shared channel", n)
	}
	if got := d.fake.Messages("C0ECHOINT"); len(got) != 1 || !strings.Contains(plain(got[0]), "At risk: Echo Inc") {
		t.Errorf("internal channel got %d messages, want the alert", len(got))
	}
	dm := d.fake.Messages("U0ECHO")
	told, health := 0, 0
	for _, m := range dm {
		switch {
		case strings.Contains(m.Text, "is now shared"):
			told++
		case strings.Contains(plain(m), "Echo Inc"):
			health++
		}
	}
	if told != 1 || health != 1 {
		t.Errorf("owner's DM: told %d times (want 1), /health answer %d times (want 1)", told, health)
	}
	if n := d.count(`SELECT count(*) FROM shared_channels WHERE channel_id = 'C0ECHO'`); n != 1 {
		t.Errorf("shared flag rows = %d", n)
	}
}

func TestExternalUsersAreRefused(t *testing.T) {
	t.Parallel()
	d := newDeployment(t)
	r := d.start(unpaced())
	r.accounts(acme())
	d.fake.AddExternalUser("U0STRANGER", customerTeam)
	for name, cmd := range map[string]slacktest.SlashCommand{
		"stranger":   {Command: "/health", Text: "acme", UserID: "U0STRANGER", ChannelID: "C0CMD"},
		"other team": {Command: "/atrisk", UserID: "U0CSM", ChannelID: "C0CMD", TeamID: customerTeam},
	} {
		ack, err := d.fake.SendSlashCommand(ctxTimeout(t, 10*time.Second), cmd)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := ackReply(t, ack)
		if strings.TrimSpace(got) != access.Neutral.Text {
			t.Errorf("%s: answered %q, want the neutral refusal", name, got)
		}
	}
	if n := d.count(`SELECT count(*) FROM audit_log`); n != 0 {
		t.Errorf("%d audit rows: a refused request read nothing", n)
	}
}

const rolesYAML = `roles:
  csm:
    users: [U0CSM, U0CSM2]
  managers:
    - users: [U0MGR]
      team:
        groups: [S0TEAM]
  leadership:
    users: [U0LEAD]
  finance:
    users: [U0FIN]
  admin:
    groups: [S0ADMINS]
`

func TestRolesDecideWhatEachPersonSees(t *testing.T) {
	t.Parallel()
	d := newDeployment(t, appendYAML(rolesYAML), appendYAML(offerYAML))
	d.fake.SetUserGroup("S0REVOPS", offerRev1, offerRev2)
	d.fake.SetUserGroup("S0TEAM", "U0CSM")
	d.fake.SetUserGroup("S0ADMINS", "U0ADM")
	r := d.start(unpaced())
	r.accounts(account("acme", "U0CSM", "", ""), account("beta", "U0CSM2", "", ""))
	refused := "isn't in your book"
	type check struct {
		user, command, text string
		allowed             bool
		want                string // allowed: in the answer
	}
	for _, c := range []check{
		{"U0CSM", "/health", "acme", true, "Acme Inc"},
		{"U0CSM", "/health", "beta", false, ""},
		{"U0CSM", "/health", "nosuch", false, ""},
		{"U0CSM2", "/health", "beta", true, "Beta Inc"},
		{"U0MGR", "/health", "acme", true, "Acme Inc"},
		{"U0MGR", "/health", "beta", false, ""},
		{"U0LEAD", "/health", "acme", true, "Acme Inc"},
		{"U0LEAD", "/health", "beta", true, "Beta Inc"},
		{"U0FIN", "/health", "acme", false, ""},
		{"U0NOBODY", "/health", "acme", false, ""},
		{"U0CSM", "/offer", "beta", false, ""},
		{"U0CSM", "/offers", "stats", false, "report is for leadership"},
		{"U0FIN", "/offers", "stats", true, "ffer"},
		{"U0CSM", "/rootcause", "", false, "report is for leadership"},
		{"U0CSM", "/digest", "unsubscribe", false, "only leadership and Holdfast admins"},
		{"U0ADM", "/digest", "subscribe weekly risk", true, "ubscribed"},
	} {
		got := d.command(c.user, c.command, c.text)
		switch {
		case c.allowed && (!strings.Contains(got, c.want) || strings.Contains(got, refused)):
			t.Errorf("%s %s %s: refused or wrong: %q", c.user, c.command, c.text, got)
		case !c.allowed && c.want == "" && !strings.Contains(got, refused):
			t.Errorf("%s %s %s: want %q, got %q", c.user, c.command, c.text, refused, got)
		case !c.allowed && c.want != "" && !strings.Contains(got, c.want):
			t.Errorf("%s %s %s: want %q, got %q", c.user, c.command, c.text, c.want, got)
		}
		if !c.allowed && (strings.Contains(got, "Beta") || strings.Contains(got, "Acme") || strings.Contains(got, "$")) {
			t.Errorf("%s %s %s: the refusal reveals something: %q", c.user, c.command, c.text, got)
		}
	}
	// /atrisk shows only the book (the accounts are healthy: just check the count).
	alertFor(r, "beta", time.Now())
	if got := d.command("U0CSM", "/atrisk", ""); strings.Contains(got, "Beta") {
		t.Errorf("/atrisk shows another CSM's account: %q", got)
	}
	if got := d.command("U0LEAD", "/atrisk", ""); !strings.Contains(got, "Beta") {
		t.Errorf("/atrisk for leadership lacks Beta: %q", got)
	}
	// The manager loses acme once U0CSM leaves the team and the roles are re-read.
	d.fake.SetUserGroup("S0TEAM")
	path := d.env["HOLDFAST_CONFIG"]
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	if got := d.command("U0MGR", "/health", "acme"); !strings.Contains(got, refused) {
		t.Errorf("after leaving the team, the manager still sees acme: %q", got)
	}
	// /help lists what the person may run.
	if got := d.command("U0CSM", "/help", ""); strings.Contains(got, "/rootcause") || !strings.Contains(got, "/health") {
		t.Errorf("/help for a CSM: %q", got)
	}
	if got := d.command("U0LEAD", "/help", ""); !strings.Contains(got, "/rootcause") {
		t.Errorf("/help for leadership lacks /rootcause: %q", got)
	}
}

func TestDigestSubscribeWhereTheBotIsAbsent(t *testing.T) {
	t.Parallel()
	d := newDeployment(t)
	d.start(unpaced())
	d.fake.ShareChannel("C0WITHCUST", customerTeam, false)
	if got := d.commandIn("U0LEAD", "C0WITHCUST", "/digest", "subscribe weekly risk"); !strings.Contains(got, "Subscribe an internal channel") {
		t.Errorf("subscribe in a shared channel: %q", got)
	}
	ch := d.fake.CreateChannel("leadership", "U0LEAD", false)
	got := d.commandIn("U0LEAD", ch, "/digest", "subscribe weekly risk")
	if !strings.Contains(got, "not a member of this channel") || !strings.Contains(got, "/invite @Holdfast") {
		t.Errorf("answer %q, want how to invite the bot", got)
	}
	if n := d.count(`SELECT count(*) FROM digest_subscriptions`); n != 0 {
		t.Errorf("%d subscriptions stored for a channel the bot is not in", n)
	}
}

func TestUnknownRoleMembersStopTheStart(t *testing.T) {
	t.Parallel()
	for yaml, key := range map[string]string{
		"roles:\n  leadership:\n    groups: [S0NOPE]\n": "roles.leadership.groups[0]",
	} {
		d := newDeployment(t, appendYAML(yaml))
		cfg, err := config.Load(func(k string) string { return d.env[k] })
		if err != nil {
			t.Fatal(err)
		}
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		a, err := newApp(context.Background(), cfg, slog.New(slog.DiscardHandler), appOptions{listener: ln})
		if err == nil {
			a.store.Close()
			t.Fatalf("started with %s", yaml)
		}
		ln.Close()
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error %q does not name %s", err, key)
		}
	}
}

func TestOwnersGivenByEmailAreResolved(t *testing.T) {
	t.Parallel()
	d := newDeployment(t)
	d.fake.SetUserEmail("Dana@Example.test", "U0DANA")
	r := d.start(unpaced())
	a := account("acme", "dana@example.test", "", "")
	a.AE = "nobody@example.test"
	var answer struct {
		Upserted      int      `json:"upserted"`
		UnknownEmails []string `json:"unknown_emails"`
	}
	r.mustPost("/v1/accounts", map[string]any{"accounts": []ingest.AccountIn{a}}, &answer)
	if answer.Upserted != 1 || len(answer.UnknownEmails) != 1 || answer.UnknownEmails[0] != "nobody@example.test" {
		t.Errorf("answer %+v, want the unknown address reported", answer)
	}
	if n := d.count(`SELECT count(*) FROM accounts WHERE owner_csm = 'U0DANA' AND ae = 'nobody@example.test'`); n != 1 {
		t.Errorf("owner not resolved to U0DANA (or unknown ae not kept)")
	}
	if n := d.count(`SELECT count(*) FROM slack_emails`); n != 2 {
		t.Errorf("%d e-mail answers cached, want 2", n)
	}
	if got := d.command("U0DANA", "/atrisk", "mine"); strings.Contains(got, "isn't") {
		t.Errorf("/atrisk mine for the e-mail owner: %q", got)
	}
}

func TestAuditRowsOncePerAction(t *testing.T) {
	t.Parallel()
	d := newDeployment(t)
	r := d.start(unpaced())
	r.accounts(acme())
	ctx := ctxTimeout(t, 20*time.Second)
	// The same request twice (as a redelivery to another replica would be).
	for range 2 {
		id, err := d.fake.SendEnvelopeNoWait(ctx, "slash_commands", map[string]string{
			"command": "/health", "text": "acme", "user_id": "U0CSM", "channel_id": "C0CMD", "team_id": slacktest.TeamID,
			"response_url": responseURL(d, "cmd"), "trigger_id": "trig-1"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.fake.WaitAck(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	d.command("U0CSM", "/health", "acme")
	if n := d.count(`SELECT count(*) FROM audit_log WHERE actor = 'U0CSM' AND action = 'account.read'`); n != 2 {
		t.Errorf("%d account.read rows, want 2 (one per request)", n)
	}
	d.commandIn("U0ADM", "C0CMD", "/digest", "subscribe weekly risk")
	if n := d.count(`SELECT count(*) FROM audit_log WHERE action = 'digest.subscribe' AND subject = 'C0CMD'`); n != 1 {
		t.Errorf("%d digest.subscribe rows, want 1", n)
	}
	if _, err := d.store.DB().Exec(ctx, `DELETE FROM audit_log`); err == nil {
		t.Error("audit_log accepted a DELETE")
	}
}

func (d *deployment) commandIn(user, channel, command, text string) string {
	d.t.Helper()
	ack, err := d.fake.SendSlashCommand(ctxTimeout(d.t, 10*time.Second), slacktest.SlashCommand{Command: command, Text: text, UserID: user, ChannelID: channel})
	if err != nil {
		d.t.Fatal(err)
	}
	out, _ := ackReply(d.t, ack)
	return out
}

func TestCLIExportAudit(t *testing.T) {
	t.Parallel()
	d := newDeployment(t)
	r := d.start(unpaced())
	r.accounts(acme())
	d.command("U0CSM", "/health", "acme")
	waitFor(t, "audit row", func() bool { return d.count(`SELECT count(*) FROM audit_log`) == 1 })
	env := map[string]string{"DATABASE_URL": d.schema.DatabaseURL}
	code, out, errOut := runCLI(t, env, "export", "audit", "--since", time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly))
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 || lines[0] != "at,actor,action,account_id,subject,detail" ||
		!strings.Contains(lines[1], ",U0CSM,account.read,1,/health,") {
		t.Errorf("export: %d %q %q", code, out, errOut)
	}
	code, out, _ = runCLI(t, env, "export", "audit", "--since", time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly))
	if code != 0 || strings.Count(out, "\n") != 1 {
		t.Errorf("export from tomorrow: %d %q", code, out)
	}
	if code, _, errOut := runCLI(t, env, "export", "audit", "--since", "last week"); code != exitUsage || !strings.Contains(errOut, "usage") {
		t.Errorf("bad date: %d %q", code, errOut)
	}
}

func TestSharedChannelGetsNoNPSOrDunningCard(t *testing.T) {
	t.Parallel()
	d := newDeployment(t, appendYAML(npsYAML("")))
	d.fake.ShareChannel("C0SHAREDN", customerTeam, false)
	r := d.start(unpaced())
	now := time.Now()
	r.accounts(account("nova", npsCSM, "C0SHAREDN", "C0NOVAINT"))
	res := r.npsAnswers(nps.AnswerIn{Account: "nova", Respondent: "jo@nova.test", Score: score(2), SurveyKind: "quarterly",
		Comment: "support is slow", AnsweredAt: now.Add(-time.Hour)})
	if res.Stored != 1 || res.Answers[0].LoopID == 0 {
		t.Fatalf("answer: %+v", res)
	}
	r.signals(ingest.SignalIn{Account: "nova", Kind: "payment_failed", Source: "billing", IdempotencyKey: "pf-1",
		OccurredAt: now.Add(-time.Minute), Metadata: []byte(`{"decline_code":"insufficient_funds","invoice":"in_1"}`)})
	d.settle()
	if got := d.fake.Messages("C0SHAREDN"); len(got) != 0 {
		t.Fatalf("%d messages in the shared channel, first %q", len(got), got[0].Text)
	}
	var detractor, dunning bool
	for _, m := range d.fake.Messages("C0NOVAINT") {
		text := plain(m)
		detractor = detractor || strings.Contains(text, "Detractor: Nova Inc")
		dunning = dunning || strings.Contains(strings.ToLower(text), "payment")
	}
	if !detractor || !dunning {
		t.Errorf("internal channel: detractor card %v, dunning alert %v; want both", detractor, dunning)
	}
	// Replies in the detractor loop's thread follow its root.
	for _, m := range d.fake.Messages("C0NOVAINT") {
		if m.ThreadTS != "" && !slices.ContainsFunc(d.fake.Messages("C0NOVAINT"), func(root slacktest.Message) bool { return root.TS == m.ThreadTS }) {
			t.Errorf("a reply threads under %s, which is not in the internal channel", m.ThreadTS)
		}
	}
}

func TestClaimNeedsTheAccountInYourBookAndIsAudited(t *testing.T) {
	t.Parallel()
	d := newDeployment(t, appendYAML(rolesYAML))
	d.fake.SetUserGroup("S0TEAM", "U0CSM")
	d.fake.SetUserGroup("S0ADMINS", "U0ADM")
	r := d.start(unpaced())
	now := time.Now()
	r.accounts(acme())
	r.signals(droppingUsage(now)...)
	res := r.signals(trouble(now)...)
	d.settle()
	alert := d.posts(alertChannel)[0]
	ctx := ctxTimeout(t, 20*time.Second)
	if _, err := d.fake.SendInteraction(ctx, blockAction(d, "U0CSM2", "alert_claim", fmt.Sprint(res.Alerts[0]), alertChannel, alert.TS)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the refusal", func() bool { return len(d.fake.ResponseURLPosts()) >= 1 })
	if got := d.fake.ResponseURLPosts()[0].Params["text"]; !strings.Contains(got, "isn't in your book") {
		t.Errorf("outsider told %q", got)
	}
	if n := d.count(`SELECT count(*) FROM alerts WHERE claimed_by IS NOT NULL`); n != 0 {
		t.Errorf("an outsider's claim was stored")
	}
	if _, err := d.fake.SendInteraction(ctx, blockAction(d, "U0CSM", "alert_claim", fmt.Sprint(res.Alerts[0]), alertChannel, alert.TS)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the claim", func() bool { return d.count(`SELECT count(*) FROM alerts WHERE claimed_by = 'U0CSM'`) == 1 })
	if n := d.count(`SELECT count(*) FROM audit_log WHERE action = 'alert.claim' AND actor = 'U0CSM'`); n != 1 {
		t.Errorf("%d alert.claim audit rows, want 1", n)
	}
}

func TestCLIImportResolvesEmails(t *testing.T) {
	t.Parallel()
	d := newDeployment(t)
	d.fake.SetUserEmail("dana@example.test", "U0DANA")
	path := filepath.Join(t.TempDir(), "accounts.csv")
	if err := os.WriteFile(path, []byte("external_id,name,owner_csm,ae,internal_channel\n"+
		"acme,Acme Corp,dana@example.test,ghost@example.test,C0ACMEINT\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, d.env, "import", path)
	if code != 0 || !strings.Contains(out, "imported 1 accounts") || !strings.Contains(errOut, "ghost@example.test") {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}
	if n := d.count(`SELECT count(*) FROM accounts WHERE owner_csm = 'U0DANA' AND ae = 'ghost@example.test' AND internal_channel = 'C0ACMEINT'`); n != 1 {
		t.Error("the import did not resolve the owner, keep the unknown ae, or store internal_channel")
	}
}
