package access

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/holdfast/holdfast/bot"
	"github.com/holdfast/holdfast/schedule"
	"github.com/holdfast/holdfast/slackid"
	"github.com/holdfast/holdfast/store"
)

// Members names people by Slack user group (S…, members read with
// usergroups.users.list) or user id (U…).
type Members struct {
	Groups []string `yaml:"groups"`
	Users  []string `yaml:"users"`
}

func (m Members) empty() bool { return len(m.Groups) == 0 && len(m.Users) == 0 }

// Manager is a group of managers and the CSMs whose books they see.
type Manager struct {
	Members `yaml:",inline"`
	Team    Members `yaml:"team"`
}

// Settings is the `roles:` section. Nothing configured: everyone may do
// and see everything, as before roles existed.
type Settings struct {
	// Refresh is how often user-group members are read again; the file
	// itself is re-read as soon as it changes.
	Refresh    schedule.Duration `yaml:"refresh"`
	CSM        Members           `yaml:"csm"`        // their own book (accounts they own)
	Managers   []Manager         `yaml:"managers"`   // their team's book
	Leadership Members           `yaml:"leadership"` // every account
	Finance    Members           `yaml:"finance"`    // finance and RevOps: offers and their figures
	Admin      Members           `yaml:"admin"`      // settings: digest subscriptions
}

// DefaultSettings: no roles, refreshed every 5 minutes once there are some.
func DefaultSettings() Settings {
	return Settings{Refresh: schedule.Duration{Duration: 5 * time.Minute}}
}

// Configured says whether any role has members.
func (s Settings) Configured() bool {
	if !s.CSM.empty() || !s.Leadership.empty() || !s.Finance.empty() || !s.Admin.empty() {
		return true
	}
	return len(s.Managers) > 0
}

// Validate checks the shape of every id; whether they exist is checked
// against Slack at start (Roles.Load).
func (s Settings) Validate() error {
	if s.Refresh.Duration < time.Minute {
		return errors.New("roles.refresh: at least 1m")
	}
	var errs []error
	for key, m := range s.members() {
		for i, g := range m.Groups {
			if !slackid.UserGroup(g) {
				errs = append(errs, fmt.Errorf("roles.%s.groups[%d]: %q is not a Slack user group id (S…)", key, i, g))
			}
		}
		for i, u := range m.Users {
			if !slackid.User(u) {
				errs = append(errs, fmt.Errorf("roles.%s.users[%d]: %q is not a Slack user id (U…)", key, i, u))
			}
		}
	}
	for i, m := range s.Managers {
		if m.Members.empty() || m.Team.empty() {
			errs = append(errs, fmt.Errorf("roles.managers[%d]: needs managers (groups or users) and a team", i))
		}
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

// members is every member list by its YAML key.
func (s Settings) members() map[string]Members {
	out := map[string]Members{"csm": s.CSM, "leadership": s.Leadership, "finance": s.Finance, "admin": s.Admin}
	for i, m := range s.Managers {
		out[fmt.Sprintf("managers[%d]", i)] = m.Members
		out[fmt.Sprintf("managers[%d].team", i)] = m.Team
	}
	return out
}

// Directory is what roles ask Slack.
type Directory interface {
	UserGroupMembers(ctx context.Context, group string) ([]string, error)
	UserInfo(ctx context.Context, user string) (bot.SlackUser, error)
}

// Roles holds who has which role, resolved from user groups, and keeps it
// current: the roles section is re-read when the config file changes, and
// group members every Refresh.
type Roles struct {
	dir  Directory
	path string // the YAML file, "" when settings came from elsewhere
	log  *slog.Logger

	mu       sync.RWMutex
	settings Settings
	snap     snapshot
	modTime  time.Time
	resolved time.Time

	refreshing sync.Mutex
}

// Current brings the roles up to date when the file changed or group
// members are older than Refresh, then returns who user is. A failed
// refresh keeps the roles in force (and is logged).
func (r *Roles) Current(ctx context.Context, user string) Person {
	if r == nil {
		return Person{User: user}
	}
	// Only a stale request waits: the rest read the roles in force without
	// queueing behind one another (or behind a refresh's Slack calls).
	if r.stale() {
		r.refreshing.Lock()
		if r.stale() { // not already refreshed by the request it waited for
			if err := r.Refresh(ctx); err != nil {
				r.log.Error("roles not refreshed; the ones in force stay", "err", err)
				r.mu.Lock()
				r.resolved = time.Now() // try again after Refresh, not on every request
				r.mu.Unlock()
			}
		}
		r.refreshing.Unlock()
	}
	return r.Person(user)
}

// stale says whether group members are older than Refresh or the config
// file changed since it was read.
func (r *Roles) stale() bool {
	r.mu.RLock()
	stale := time.Since(r.resolved) >= r.settings.Refresh.Duration
	modTime := r.modTime
	r.mu.RUnlock()
	if !stale && r.path != "" {
		fi, err := os.Stat(r.path)
		stale = err == nil && !fi.ModTime().Equal(modTime)
	}
	return stale
}

type snapshot struct {
	configured                      bool
	csm, leadership, finance, admin map[string]bool
	team                            map[string][]string // manager -> the CSMs they manage
}

// LoadRoles resolves settings against Slack. An unknown group or user
// stops the start, naming the key.
func LoadRoles(ctx context.Context, dir Directory, s Settings, path string, log *slog.Logger) (*Roles, error) {
	r := &Roles{dir: dir, path: path, log: log, settings: s}
	if path != "" {
		if fi, err := os.Stat(path); err == nil {
			r.modTime = fi.ModTime()
		}
	}
	snap, err := resolve(ctx, dir, s)
	if err != nil {
		return nil, err
	}
	r.snap, r.resolved = snap, time.Now()
	return r, nil
}

func resolve(ctx context.Context, dir Directory, s Settings) (snapshot, error) {
	snap := snapshot{configured: s.Configured(), team: map[string][]string{}}
	if !snap.configured {
		return snap, nil
	}
	groups := map[string][]string{}
	expand := func(key string, m Members) (map[string]bool, error) {
		out := map[string]bool{}
		for i, g := range m.Groups {
			users, seen := groups[g]
			if !seen {
				var err error
				if users, err = dir.UserGroupMembers(ctx, g); err != nil {
					if code := bot.SlackError(err); code == "no_such_subteam" || code == "subteam_not_found" {
						return nil, fmt.Errorf("roles.%s.groups[%d]: Slack has no user group %s", key, i, g)
					}
					return nil, fmt.Errorf("roles.%s.groups[%d]: read members of %s: %w", key, i, g, err)
				}
				groups[g] = users
			}
			for _, u := range users {
				out[u] = true
			}
		}
		for i, u := range m.Users {
			if _, err := dir.UserInfo(ctx, u); err != nil {
				if bot.SlackError(err) == "user_not_found" {
					return nil, fmt.Errorf("roles.%s.users[%d]: Slack has no user %s", key, i, u)
				}
				return nil, fmt.Errorf("roles.%s.users[%d]: look up %s: %w", key, i, u, err)
			}
			out[u] = true
		}
		return out, nil
	}
	var err error
	if snap.csm, err = expand("csm", s.CSM); err != nil {
		return snap, err
	}
	if snap.leadership, err = expand("leadership", s.Leadership); err != nil {
		return snap, err
	}
	if snap.finance, err = expand("finance", s.Finance); err != nil {
		return snap, err
	}
	if snap.admin, err = expand("admin", s.Admin); err != nil {
		return snap, err
	}
	for i, m := range s.Managers {
		managers, err := expand(fmt.Sprintf("managers[%d]", i), m.Members)
		if err != nil {
			return snap, err
		}
		team, err := expand(fmt.Sprintf("managers[%d].team", i), m.Team)
		if err != nil {
			return snap, err
		}
		for mgr := range managers {
			for csm := range team {
				if !slices.Contains(snap.team[mgr], csm) {
					snap.team[mgr] = append(snap.team[mgr], csm)
				}
			}
		}
	}
	return snap, nil
}

// Refresh re-reads the roles section when the config file changed and
// every group's members; on any error the roles in force stay and the
// error is returned.
func (r *Roles) Refresh(ctx context.Context) error {
	r.mu.RLock()
	s, modTime := r.settings, r.modTime
	r.mu.RUnlock()
	if r.path != "" {
		if fi, err := os.Stat(r.path); err == nil && !fi.ModTime().Equal(modTime) {
			next, err := readRoles(r.path)
			if err != nil {
				// Not read again until it changes: a broken file would
				// otherwise be parsed (and logged) on every request.
				r.mu.Lock()
				r.modTime = fi.ModTime()
				r.mu.Unlock()
				return fmt.Errorf("re-read roles from %s: %w", r.path, err)
			}
			s, modTime = next, fi.ModTime()
		}
	}
	snap, err := resolve(ctx, r.dir, s)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.settings, r.snap, r.modTime, r.resolved = s, snap, modTime, time.Now()
	r.mu.Unlock()
	return nil
}

// readRoles reads only the roles section of the YAML file; the rest of
// the file takes a restart.
func readRoles(path string) (Settings, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Settings{}, err
	}
	var doc struct {
		Roles Settings `yaml:"roles"`
	}
	doc.Roles = DefaultSettings()
	if err := yaml.NewDecoder(bytes.NewReader(raw)).Decode(&doc); err != nil {
		return Settings{}, fmt.Errorf("yaml: %w", err)
	}
	return doc.Roles, doc.Roles.Validate()
}

// Person is one user's roles at this moment.
type Person struct {
	User                            string
	configured                      bool
	csm, leadership, finance, admin bool
	team                            []string
}

// Person returns user's roles.
func (r *Roles) Person(user string) Person {
	if r == nil {
		return Person{User: user}
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	s := r.snap
	return Person{User: user, configured: s.configured, csm: s.csm[user], leadership: s.leadership[user],
		finance: s.finance[user], admin: s.admin[user], team: slices.Clone(s.team[user])}
}

// ManagersOf lists the managers whose team holds csm (roles.managers).
func (r *Roles) ManagersOf(csm string) []string {
	if r == nil || csm == "" {
		return nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []string
	for mgr, team := range r.snap.team {
		if slices.Contains(team, csm) {
			out = append(out, mgr)
		}
	}
	slices.Sort(out)
	return out
}

// IsLeadership: p holds the leadership role (every account).
func (p Person) IsLeadership() bool { return p.leadership }

// Manages: csm is in p's team.
func (p Person) Manages(csm string) bool { return csm != "" && slices.Contains(p.team, csm) }

// IsAdmin: p holds the admin role (settings, given-up work, connectors).
func (p Person) IsAdmin() bool { return p.admin }

// Restricted is false when no roles are configured: everything is allowed.
func (p Person) Restricted() bool { return p.configured }

// MayRead: leadership reads every account; a CSM their own; a manager
// their team's and their own.
func (p Person) MayRead(a store.Account) bool {
	if !p.configured || p.leadership {
		return true
	}
	return a.OwnerCSM == p.User || slices.Contains(p.team, a.OwnerCSM)
}

// Book is the owners whose accounts p sees.
func (p Person) Book() (all bool, owners []string) {
	if !p.configured || p.leadership {
		return true, nil
	}
	return false, append([]string{p.User}, p.team...)
}

// MayPropose: an offer is proposed by the account's owner, their manager
// or leadership; the same people who may read it.
func (p Person) MayPropose(a store.Account) bool { return p.MayRead(a) }

// MayManageDigests: subscriptions belong to leadership and admins.
func (p Person) MayManageDigests() bool { return !p.configured || p.leadership || p.admin }

// MaySeeReports: figures across every account (offer stats, root causes,
// NPS reports, digest previews) are for leadership, managers and finance.
func (p Person) MaySeeReports() bool {
	return !p.configured || p.leadership || p.finance || len(p.team) > 0
}

// ReportBook is whose figures p's reports cover: leadership's and
// finance's span every account (finance reads no account, only figures);
// a manager's their team's and their own.
func (p Person) ReportBook() (all bool, owners []string) {
	if p.finance {
		return true, nil
	}
	return p.Book()
}

// Roles names p's roles, for /help.
func (p Person) Roles() []string {
	var out []string
	for _, r := range []struct {
		on   bool
		name string
	}{{p.leadership, "leadership"}, {len(p.team) > 0, "manager"}, {p.csm, "CSM"}, {p.finance, "finance"}, {p.admin, "admin"}} {
		if r.on {
			out = append(out, r.name)
		}
	}
	return out
}
