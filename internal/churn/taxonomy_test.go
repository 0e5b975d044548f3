package churn

import "testing"

func TestTaxonomy(t *testing.T) {
	t.Parallel()
	attributable := 0
	seen := map[Cause]bool{}
	for _, c := range DetractorCauses {
		if seen[c.Cause] {
			t.Errorf("%s listed twice", c.Cause)
		}
		seen[c.Cause] = true
		if c.Label == "" || c.Definition == "" {
			t.Errorf("%s lacks a label or definition", c.Cause)
		}
		if c.Cause.SalesAttributable() {
			attributable++
		}
	}
	if attributable != 4 {
		t.Errorf("%d sales-attributable causes, want 4 (ICP miss, feature and timeline overpromise, phantom champion)", attributable)
	}
	if _, ok := Lookup("nonsense"); ok || Cause("nonsense").SalesAttributable() {
		t.Error("unknown cause found")
	}
	if len(Causes) != 8 || len(DetractorCauses) != 9 {
		t.Errorf("causes %d / %d, want 8 / 9", len(Causes), len(DetractorCauses))
	}
}
