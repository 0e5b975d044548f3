// Package linear is multinomial logistic regression over hashed sparse
// features plus a few dense ones: the model format, prediction, and the
// deterministic trainer behind `make train-text`.
package linear

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// Feature is one hashed sparse feature: a bucket and its value.
type Feature struct {
	Bucket uint32
	Value  float32
}

// Example is one training text's features, class and weight.
type Example struct {
	Sparse []Feature
	Dense  []float32
	Class  int
	Weight float32
}

// Model holds weights per class for Buckets hashed buckets and Dense dense
// inputs, plus a bias per class.
type Model struct {
	Classes []string
	Buckets uint32
	Dense   int
	W       []float32 // Buckets*len(Classes), bucket-major
	D       []float32 // Dense*len(Classes)
	B       []float32 // len(Classes)
}

// Scores writes the class probabilities of one input into p (len(Classes)).
func (m *Model) Scores(sparse []Feature, dense []float32, p []float64) {
	k := len(m.Classes)
	var acc [16]float32
	sum := acc[:k]
	copy(sum, m.B)
	nb := int(m.Buckets)
	w := m.W
	for _, f := range sparse {
		i := int(f.Bucket) % nb * k
		row := w[i : i+k : i+k]
		v := f.Value
		for c := range row {
			sum[c] += row[c] * v
		}
	}
	for j, v := range dense {
		row := m.D[j*k : j*k+k]
		for c := range row {
			sum[c] += row[c] * v
		}
	}
	for c := range k {
		p[c] = float64(sum[c])
	}
	softmax(p[:k])
}

func softmax(p []float64) {
	mx := p[0]
	for _, v := range p[1:] {
		mx = max(mx, v)
	}
	var sum float64
	for i, v := range p {
		p[i] = math.Exp(v - mx)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
}

// TrainConfig is the recipe: fixed seed, passes and learning rate.
type TrainConfig struct {
	Classes []string
	Buckets uint32
	Dense   int
	Epochs  int
	Rate    float64 // AdaGrad base rate
	L2      float64 // applied to touched rows only
	Seed    uint64
}

// Train fits the model by AdaGrad over shuffled examples. It runs on one
// goroutine in a fixed order, so the same examples and config give the
// same bytes.
func Train(cfg TrainConfig, examples []Example) *Model {
	k := len(cfg.Classes)
	m := &Model{Classes: cfg.Classes, Buckets: cfg.Buckets, Dense: cfg.Dense,
		W: make([]float32, int(cfg.Buckets)*k), D: make([]float32, cfg.Dense*k), B: make([]float32, k)}
	gw := make([]float32, len(m.W))
	gd := make([]float32, len(m.D))
	gb := make([]float32, k)
	order := make([]int, len(examples))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	p := make([]float64, k)
	const eps = 1e-6
	rate := float32(cfg.Rate)
	l2 := float32(cfg.L2)
	for epoch := 0; epoch < cfg.Epochs; epoch++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, idx := range order {
			ex := &examples[idx]
			m.Scores(ex.Sparse, ex.Dense, p)
			wt := ex.Weight
			if wt == 0 {
				wt = 1
			}
			for c := 0; c < k; c++ {
				y := float32(0)
				if c == ex.Class {
					y = 1
				}
				g := (float32(p[c]) - y) * wt
				gb[c] += g * g
				m.B[c] -= rate * g / float32(math.Sqrt(float64(gb[c])+eps))
				for _, f := range ex.Sparse {
					i := int(f.Bucket%m.Buckets)*k + c
					gi := g*f.Value + l2*m.W[i]
					gw[i] += gi * gi
					m.W[i] -= rate * gi / float32(math.Sqrt(float64(gw[i])+eps))
				}
				for j, v := range ex.Dense {
					i := j*k + c
					gi := g*v + l2*m.D[i]
					gd[i] += gi * gi
					m.D[i] -= rate * gi / float32(math.Sqrt(float64(gd[i])+eps))
				}
			}
		}
	}
	return m
}

const magic = "HFLR1\n"

// MarshalBinary writes the model: magic, class names, sizes, then float32
// little-endian weights.
func (m *Model) MarshalBinary() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(magic)
	hdr := []uint32{uint32(len(m.Classes)), m.Buckets, uint32(m.Dense)}
	for _, v := range hdr {
		binary.Write(&b, binary.LittleEndian, v)
	}
	for _, c := range m.Classes {
		binary.Write(&b, binary.LittleEndian, uint16(len(c)))
		b.WriteString(c)
	}
	for _, s := range [][]float32{m.B, m.D, m.W} {
		if err := binary.Write(&b, binary.LittleEndian, s); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}

// Load reads what MarshalBinary wrote.
func Load(data []byte) (*Model, error) {
	if !bytes.HasPrefix(data, []byte(magic)) {
		return nil, errors.New("not a model file")
	}
	r := bytes.NewReader(data[len(magic):])
	var hdr [3]uint32
	if err := binary.Read(r, binary.LittleEndian, &hdr); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	k := int(hdr[0])
	if k < 2 || k > 64 || hdr[1] == 0 || hdr[1] > 1<<24 || hdr[2] > 1024 {
		return nil, fmt.Errorf("bad sizes %v", hdr)
	}
	m := &Model{Buckets: hdr[1], Dense: int(hdr[2])}
	for i := 0; i < k; i++ {
		var n uint16
		if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
			return nil, err
		}
		name := make([]byte, n)
		if _, err := r.Read(name); err != nil {
			return nil, err
		}
		m.Classes = append(m.Classes, string(name))
	}
	m.B = make([]float32, k)
	m.D = make([]float32, m.Dense*k)
	m.W = make([]float32, int(m.Buckets)*k)
	for _, s := range [][]float32{m.B, m.D, m.W} {
		if err := binary.Read(r, binary.LittleEndian, s); err != nil {
			return nil, fmt.Errorf("weights: %w", err)
		}
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("%d trailing bytes", r.Len())
	}
	return m, nil
}
