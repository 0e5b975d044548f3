package notes

import (
	"slices"
	"testing"
)

func TestParseNote(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in       string
		want     []NoteTarget
		openCase bool
	}{
		{"acme called about SSO", []NoteTarget{
			{"acme called about", "SSO"}, {"acme called", "about SSO"}, {"acme", "called about SSO"}}, false},
		{`"Acme Corp" wants SSO --case`, []NoteTarget{{"Acme Corp", "wants SSO"}}, true},
		{"“Acme Corp” wants\nSSO", []NoteTarget{{"Acme Corp", "wants\nSSO"}}, false},
		{"--case acme broken export", []NoteTarget{{"acme broken", "export"}, {"acme", "broken export"}}, true},
		{"acme", nil, false},
		{`"Acme Corp"`, nil, false},
		{"", nil, false},
		{"a b c d e f g", []NoteTarget{{"a b c d e", "f g"}, {"a b c d", "e f g"}, {"a b c", "d e f g"},
			{"a b", "c d e f g"}, {"a", "b c d e f g"}}, false},
		{"acme line one\n  line two", []NoteTarget{{"acme line one", "line two"}, {"acme line", "one\n  line two"},
			{"acme", "line one\n  line two"}}, false},
		{"acme uses --caseless flags", []NoteTarget{{"acme uses --caseless", "flags"}, {"acme uses", "--caseless flags"},
			{"acme", "uses --caseless flags"}}, false},
	}
	for _, tt := range tests {
		got, openCase := ParseNote(tt.in)
		if !slices.Equal(got, tt.want) || openCase != tt.openCase {
			t.Errorf("ParseNote(%q) = %q %v, want %q %v", tt.in, got, openCase, tt.want, tt.openCase)
		}
	}
}

func TestStripCaseFlag(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]struct {
		text     string
		openCase bool
	}{
		"renewal at risk\nbudget cut":         {"renewal at risk\nbudget cut", false},
		"renewal at risk\n--case\nbudget cut": {"renewal at risk\nbudget cut", true},
		"--case export broken":                {"export broken", true},
		"export broken --case":                {"export broken", true},
		"uses --caseless flags":               {"uses --caseless flags", false},
		" --case ":                            {"", true},
	} {
		if text, openCase := StripCaseFlag(in); text != want.text || openCase != want.openCase {
			t.Errorf("StripCaseFlag(%q) = %q %v, want %q %v", in, text, openCase, want.text, want.openCase)
		}
	}
}
