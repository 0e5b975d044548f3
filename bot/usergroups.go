package bot

import "context"

// UserGroupMembers lists the members of a Slack user group
// (usergroups.users.list, scope usergroups:read), paced per group and
// retried after a 429 like every other call.
func (s *Sender) UserGroupMembers(ctx context.Context, group string) ([]string, error) {
	var users []string
	err := s.paced(ctx, "usergroups.users.list", group, func() error {
		var err error
		users, err = s.api.GetUserGroupMembersContext(ctx, group)
		return err
	})
	return users, err
}
