package offers

import "testing"

// A step without a name is called after its role.
func TestRoleTitle(t *testing.T) {
	t.Parallel()
	for role, want := range map[string]string{"csm_manager": "CSM Manager", "vp-sales": "VP Sales", "équipe_légale": "Équipe Légale"} {
		if got := roleTitle(role); got != want {
			t.Errorf("roleTitle(%q) = %q, want %q", role, got, want)
		}
	}
}
