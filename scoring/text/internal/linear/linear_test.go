package linear

import (
	"bytes"
	"testing"
)

func toyExamples() []Example {
	var exs []Example
	for i := range 200 {
		c := i % 2
		exs = append(exs, Example{Sparse: []Feature{{Bucket: uint32(c*7 + 1), Value: 1}, {Bucket: uint32(i % 13), Value: 0.5}},
			Dense: []float32{float32(c)*2 - 1}, Class: c, Weight: 1})
	}
	return exs
}

// The same examples and recipe give the same bytes, which load back to
// the same predictions.
func TestTrainIsDeterministicAndRoundTrips(t *testing.T) {
	cfg := TrainConfig{Classes: []string{"a", "b"}, Buckets: 64, Dense: 1, Epochs: 5, Rate: 0.1, L2: 1e-6, Seed: 7}
	m1, m2 := Train(cfg, toyExamples()), Train(cfg, toyExamples())
	b1, err := m1.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := m2.MarshalBinary()
	if !bytes.Equal(b1, b2) {
		t.Fatal("two trainings on the same data differ")
	}
	back, err := Load(b1)
	if err != nil {
		t.Fatal(err)
	}
	p := make([]float64, 2)
	for _, ex := range toyExamples()[:4] {
		back.Scores(ex.Sparse, ex.Dense, p)
		if p[ex.Class] < 0.9 {
			t.Errorf("class %d predicted with %.2f", ex.Class, p[ex.Class])
		}
	}
	for _, bad := range [][]byte{nil, []byte("HFLR1\n"), append(append([]byte(nil), b1...), 0)} {
		if _, err := Load(bad); err == nil {
			t.Errorf("Load(%d bytes) accepted", len(bad))
		}
	}
}
