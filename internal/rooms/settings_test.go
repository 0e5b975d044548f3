package rooms

import (
	"strings"
	"testing"
)

func TestValidatePattern(t *testing.T) {
	t.Parallel()
	for p, wantErr := range map[string]string{
		"acct-{name}":                "",
		"cs_{segment}_{external_id}": "",
		"":                           "empty",
		"acct-{nam}":                 "unknown placeholder",
		"acct-{segment}":             "needs {name} or {external_id}",
		"Acct #{name}":               "characters Slack does not allow",
		"acct-{name":                 "unclosed",
	} {
		err := ValidatePattern(p)
		switch {
		case wantErr == "" && err != nil:
			t.Errorf("%q: %v", p, err)
		case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
			t.Errorf("%q: %v, want %q", p, err, wantErr)
		}
	}
}
