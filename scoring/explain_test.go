package scoring

import (
	"reflect"
	"testing"
)

func healthWith(points map[string]float64) Health {
	h := Compute(DefaultConfig(), Account{}, nil, now)
	for i := range h.Components {
		h.Components[i].Points = points[h.Components[i].Key]
	}
	return h
}

func keysOf(cs []Component) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Key)
	}
	return out
}

func TestDrivers(t *testing.T) {
	t.Parallel()
	h := healthWith(map[string]float64{
		"usage": -3, "support": -12.4, "nps": -0.5, "payments": -0.6, "renewal": -3, "champion": -7,
	})
	cases := []struct {
		n    int
		want []string
	}{
		// -0.5 is under the threshold; equal points keep component order.
		{10, []string{"support", "champion", "usage", "renewal", "payments"}},
		{2, []string{"support", "champion"}},
		{0, nil},
	}
	for _, tc := range cases {
		if got := keysOf(h.Drivers(tc.n)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Drivers(%d) = %v, want %v", tc.n, got, tc.want)
		}
	}
	if got := healthWith(nil).Drivers(3); len(got) != 0 {
		t.Errorf("perfect score has drivers %v", got)
	}
}

func TestDeltas(t *testing.T) {
	t.Parallel()
	prev := healthWith(map[string]float64{"usage": -5, "support": -10, "payments": -1, "intent": -4})
	next := healthWith(map[string]float64{"usage": -15, "support": -2, "nps": -3, "payments": -1.3, "intent": -4, "champion": -0.5})

	type moved struct {
		key   string
		delta float64
	}
	flatten := func(ds []ComponentDelta) []moved {
		var out []moved
		for _, d := range ds {
			out = append(out, moved{d.Key, d.Delta})
		}
		return out
	}

	// usage -15-(-5) = -10; nps -3-0 = -3; champion -0.5 is just visible;
	// support -2-(-10) = +8; payments -0.3 and intent 0 are left out.
	want := []moved{{"usage", -10}, {"nps", -3}, {"champion", -0.5}, {"support", 8}}
	if got := flatten(Deltas(&prev, next)); !reflect.DeepEqual(got, want) {
		t.Errorf("Deltas = %v, want %v", got, want)
	}

	// With no previous score every cost is a move from zero.
	want = []moved{{"usage", -15}, {"intent", -4}, {"nps", -3}, {"support", -2}, {"payments", -1.3}, {"champion", -0.5}}
	if got := flatten(Deltas(nil, next)); !reflect.DeepEqual(got, want) {
		t.Errorf("Deltas(nil) = %v, want %v", got, want)
	}

	if got := Deltas(&next, next); len(got) != 0 {
		t.Errorf("no change gave deltas %v", got)
	}

	ds := Deltas(&prev, next)
	if ds[0].Points != -15 || ds[0].Label != "Product usage" {
		t.Errorf("delta does not carry the new component: %+v", ds[0])
	}
}

func TestFormatPoints(t *testing.T) {
	t.Parallel()
	cases := []struct {
		p    float64
		want string
	}{
		{-22.4, "-22 points"},
		{-15.2, "-15 points"},
		{-1, "-1 point"},
		{-0.6, "-1 point"},
		{-0.4, "0 points"},
		{0, "0 points"},
		{0.4, "0 points"},
		{1, "+1 point"},
		{2.5, "+3 points"},
		{3, "+3 points"},
	}
	for _, tc := range cases {
		if got := FormatPoints(tc.p); got != tc.want {
			t.Errorf("FormatPoints(%v) = %q, want %q", tc.p, got, tc.want)
		}
	}
}
