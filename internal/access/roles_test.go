package access_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"
	"gopkg.in/yaml.v3"

	"github.com/holdfast/holdfast/bot"
	"github.com/holdfast/holdfast/bot/slacktest"
	"github.com/holdfast/holdfast/internal/access"
	"github.com/holdfast/holdfast/internal/testenv"
	"github.com/holdfast/holdfast/store"
)

func directory(t *testing.T) (*slacktest.Server, *bot.Sender) {
	t.Helper()
	rdb, prefix := testenv.Redis(t)
	fake, err := slacktest.New(slacktest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Close() })
	return fake, bot.NewSender(slack.New("xoxb-test", slack.OptionAPIURL(fake.APIURL())), http.DefaultClient,
		redis_rate.NewLimiter(rdb), prefix, redis_rate.PerSecond(100000), slog.New(slog.DiscardHandler), prometheus.NewRegistry())
}

func settings(t *testing.T, raw string) access.Settings {
	t.Helper()
	s := access.DefaultSettings()
	if err := yaml.Unmarshal([]byte(raw), &s); err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	return s
}

const roles = `
csm: {groups: [S0CSMS]}
managers:
  - users: [U0MGR]
    team: {users: [U0CSM]}
leadership: {users: [U0LEAD]}
finance: {users: [U0FIN]}
admin: {users: [U0ADM]}
`

func TestRolesDecideBooksAndCommands(t *testing.T) {
	t.Parallel()
	fake, sender := directory(t)
	fake.SetUserGroup("S0CSMS", "U0CSM", "U0CSM2")
	r, err := access.LoadRoles(context.Background(), sender, settings(t, roles), "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	mine, theirs := store.Account{OwnerCSM: "U0CSM"}, store.Account{OwnerCSM: "U0CSM2"}
	for _, c := range []struct {
		user                          string
		mine, theirs, digest, reports bool
	}{
		{"U0CSM", true, false, false, false},
		{"U0CSM2", false, true, false, false},
		{"U0MGR", true, false, false, true},
		{"U0LEAD", true, true, true, true},
		{"U0FIN", false, false, false, true},
		{"U0ADM", false, false, true, false},
		{"U0NOBODY", false, false, false, false},
	} {
		p := r.Person(c.user)
		if p.MayRead(mine) != c.mine || p.MayRead(theirs) != c.theirs || p.MayManageDigests() != c.digest || p.MaySeeReports() != c.reports {
			t.Errorf("%s: read mine %v theirs %v, digests %v, reports %v; want %+v", c.user, p.MayRead(mine), p.MayRead(theirs),
				p.MayManageDigests(), p.MaySeeReports(), c)
		}
	}
	if all, owners := r.Person("U0MGR").Book(); all || strings.Join(owners, ",") != "U0MGR,U0CSM" {
		t.Errorf("manager's book: all %v, %v", all, owners)
	}
	// Reports: a manager's cover their book, finance's every account.
	if all, owners := r.Person("U0MGR").ReportBook(); all || strings.Join(owners, ",") != "U0MGR,U0CSM" {
		t.Errorf("manager's report book: all %v, %v", all, owners)
	}
	if all, _ := r.Person("U0FIN").ReportBook(); !all {
		t.Error("finance's reports must cover every account")
	}
	var none *access.Roles
	if p := none.Person("U0ANY"); p.Restricted() || !p.MayRead(theirs) || !p.MayManageDigests() {
		t.Error("without roles everything must be allowed")
	}
}

func TestUnknownGroupsAndUsersNameTheKey(t *testing.T) {
	t.Parallel()
	fake, sender := directory(t)
	fake.RemoveUser("U0GONE")
	for raw, want := range map[string]string{
		"leadership: {groups: [S0NOPE]}":                    "roles.leadership.groups[0]: Slack has no user group S0NOPE",
		"admin: {users: [U0ADM, U0GONE]}":                   "roles.admin.users[1]: Slack has no user U0GONE",
		"managers: [{users: [U0M], team: {groups: [S0X]}}]": "roles.managers[0].team.groups[0]",
	} {
		_, err := access.LoadRoles(context.Background(), sender, settings(t, raw), "", slog.New(slog.DiscardHandler))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want %q", raw, err, want)
		}
	}
	bad := access.DefaultSettings()
	bad.Finance.Users = []string{"bob"}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "roles.finance.users[0]") {
		t.Errorf("bad id: %v", err)
	}
}

func TestRolesFollowTheFileAndTheGroups(t *testing.T) {
	t.Parallel()
	fake, sender := directory(t)
	fake.SetUserGroup("S0CSMS", "U0CSM")
	path := filepath.Join(t.TempDir(), "holdfast.yaml")
	write := func(raw string, at time.Time) {
		if err := os.WriteFile(path, []byte(raw), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, at, at); err != nil {
			t.Fatal(err)
		}
	}
	write("roles:\n  csm: {groups: [S0CSMS]}\n", time.Now().Add(-time.Hour))
	var logged bytes.Buffer
	r, err := access.LoadRoles(context.Background(), sender, settings(t, "csm: {groups: [S0CSMS]}"), path,
		slog.New(slog.NewTextHandler(&logged, nil)))
	if err != nil {
		t.Fatal(err)
	}
	acct := store.Account{OwnerCSM: "U0OTHER"}
	if r.Current(context.Background(), "U0LEAD").MayRead(acct) {
		t.Fatal("U0LEAD reads before being named")
	}
	// The file changes: U0LEAD joins leadership without a restart.
	write("roles:\n  csm: {groups: [S0CSMS]}\n  leadership: {users: [U0LEAD]}\n", time.Now())
	if !r.Current(context.Background(), "U0LEAD").MayRead(acct) {
		t.Error("a changed file was not re-read")
	}
	// Removed from the group: gone at the next refresh.
	fake.SetUserGroup("S0CSMS")
	if err := r.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r.Person("U0CSM").Roles() != nil {
		t.Errorf("U0CSM still has %v after leaving the group", r.Person("U0CSM").Roles())
	}
	// A broken file keeps the roles in force.
	write("roles:\n  leadership: {users: [nobody]}\n", time.Now().Add(time.Minute))
	if !r.Current(context.Background(), "U0LEAD").MayRead(acct) {
		t.Error("a broken file dropped the roles in force")
	}
	for range 3 {
		r.Current(context.Background(), "U0LEAD")
	}
	if n := strings.Count(logged.String(), "roles not refreshed"); n != 1 {
		t.Errorf("a broken file was reported %d times, want once until it changes", n)
	}
	// Mended, it is read again.
	write("roles:\n  csm: {groups: [S0CSMS]}\n", time.Now().Add(2*time.Minute))
	if r.Current(context.Background(), "U0LEAD").MayRead(acct) {
		t.Error("the mended file was not re-read")
	}
}
