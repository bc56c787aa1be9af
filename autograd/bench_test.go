package autograd

import (
	"math/rand/v2"
	"testing"

	"github.com/nasrun/nasrun/tensor"
)

// mbconv is one MBConv block with SE (expand 1×1 → BN → hardswish → dw 3×3
// → BN → hardswish → SE → project 1×1 → BN, residual), the search space's
// typical training workload, for measuring the tape's overhead around the
// kernels.
type mbconv struct {
	x                       *tensor.Tensor
	exp, dw, se1, se2, proj *Var
	g1, b1, g2, b2, g3, b3  *Var
	params                  []*Var
}

func newMBConv(rng *rand.Rand, n, hw, c, e int) *mbconv {
	ones := func(k int) *Var { t := tensor.Zeros(k); t.Fill(1); return NewParam(t) }
	zeros := func(k int) *Var { return NewParam(tensor.Zeros(k)) }
	m := &mbconv{
		x:    randn(rng, n, hw, hw, c),
		exp:  NewParam(tensor.He(rng, c, 1, 1, c, e)),
		dw:   NewParam(tensor.He(rng, 9, 3, 3, e)),
		se1:  NewParam(tensor.Xavier(rng, e, e/4, e, e/4)),
		se2:  NewParam(tensor.Xavier(rng, e/4, e, e/4, e)),
		proj: NewParam(tensor.He(rng, e, 1, 1, e, c)),
		g1:   ones(e), b1: zeros(e), g2: ones(e), b2: zeros(e), g3: ones(c), b3: zeros(c),
	}
	m.params = []*Var{m.exp, m.dw, m.se1, m.se2, m.proj, m.g1, m.b1, m.g2, m.b2, m.g3, m.b3}
	return m
}

func (m *mbconv) step(tp *Tape) {
	tp.Reset()
	for _, p := range m.params {
		p.ZeroGrad()
	}
	x := tp.Input(m.x)
	h := tp.Conv2d(x, m.exp, nil, 1, 0)
	h, _, _ = tp.BatchNorm2d(h, m.g1, m.b1, 1e-5)
	h = tp.Hardswish(h)
	h = tp.DepthwiseConv2d(h, m.dw, nil, 1, 1)
	h, _, _ = tp.BatchNorm2d(h, m.g2, m.b2, 1e-5)
	h = tp.Hardswish(h)
	s := tp.Hardsigmoid(tp.Linear(tp.ReLU(tp.Linear(tp.GlobalAvgPool(h), m.se1, nil)), m.se2, nil))
	h = tp.ScaleChannels(h, s)
	h = tp.Conv2d(h, m.proj, nil, 1, 0)
	h, _, _ = tp.BatchNorm2d(h, m.g3, m.b3, 1e-5)
	y := tp.Mean(tp.Add(h, x))
	if err := tp.Backward(y); err != nil {
		panic(err)
	}
}

// BenchmarkMBConvStep: forward + backward of one MBConv block, batch 32,
// 28×28×24, expansion 6.
func BenchmarkMBConvStep(b *testing.B) {
	m := newMBConv(rand.New(rand.NewPCG(1, 1)), 32, 28, 24, 144)
	tp := NewTape()
	m.step(tp)
	b.ReportAllocs()
	for b.Loop() {
		m.step(tp)
	}
}
