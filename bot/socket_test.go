package bot

import (
	"errors"
	"strings"
	"testing"
)

func TestRecoveredTurnsAPanicIntoAnError(t *testing.T) {
	t.Parallel()
	var m map[string]int
	_, err := recovered(func() (int, error) {
		m["x"] = 1 // a nil map: a handler bug
		return 1, nil
	})
	if err == nil || !strings.Contains(err.Error(), "handler panicked: assignment to entry in nil map") {
		t.Fatalf("err = %v, want the panic as an error", err)
	}
	want := errors.New("plain")
	if v, err := recovered(func() (int, error) { return 7, want }); v != 7 || err != want {
		t.Errorf("a normal return came back as %v, %v", v, err)
	}
}
