package autograd

import (
	"github.com/nasrun/nasrun/internal/alloctest"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nasrun/nasrun/kernels"
	"github.com/nasrun/nasrun/tensor"
)

func TestAccumulation(t *testing.T) {
	x := NewParam(tensor.MustNew([]float32{1, -2, 3}, 3))
	tp := NewTape()
	// y = mean(x + relu(x)): x gets both contributions.
	loss := tp.Mean(tp.Add(x, tp.ReLU(x)))
	require.NoError(t, tp.Backward(loss))
	third := float32(1.0 / 3)
	require.InDeltaSlice(t, []float32{2 * third, third, 2 * third}, x.Grad.Data, 1e-6)

	// A parameter's gradient accumulates over steps until ZeroGrad.
	tp.Reset()
	require.NoError(t, tp.Backward(tp.Mean(tp.Add(x, tp.ReLU(x)))))
	require.InDeltaSlice(t, []float32{4 * third, 2 * third, 4 * third}, x.Grad.Data, 1e-6)
	x.ZeroGrad()
	tp.Reset()
	require.NoError(t, tp.Backward(tp.Mean(tp.Add(x, x))))
	require.InDeltaSlice(t, []float32{2 * third, 2 * third, 2 * third}, x.Grad.Data, 1e-6)
}

func TestIntermediateGrad(t *testing.T) {
	x := NewParam(tensor.MustNew([]float32{1, 2, 3, 4}, 2, 2))
	tp := NewTape()
	h := tp.ReLU(x)
	unused := tp.Sigmoid(x)
	require.NoError(t, tp.Backward(tp.Mean(h)))
	require.InDeltaSlice(t, []float32{0.25, 0.25, 0.25, 0.25}, h.Grad.Data, 1e-7)
	require.Nil(t, unused.Grad, "a value the loss does not use gets no gradient")
	require.Equal(t, []int{2, 2}, h.Grad.Shape)
}

func TestNoGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	w := NewParam(randn(rng, 3, 3, 2, 4))
	x := randn(rng, 1, 5, 5, 2)
	tp := NewTape()
	require.True(t, tp.SetGrad(false))
	y := tp.Conv2dAct(tp.Input(x), w, nil, 1, 1, kernels.ActHardswish)
	require.False(t, y.RequiresGrad())
	require.Empty(t, tp.nodes, "nothing recorded in no-grad mode")
	require.Error(t, tp.Backward(tp.Mean(y)))
	fused := y.Value.Clone() // Reset recycles y's buffer

	// The fused kernel gives what the unfused graph gives.
	tp.Reset()
	require.False(t, tp.SetGrad(true))
	y2 := tp.Hardswish(tp.Conv2d(tp.Input(x), w, nil, 1, 1))
	require.True(t, y2.RequiresGrad())
	require.InDeltaSlice(t, fused.Data, y2.Value.Data, 1e-5)

	// Constants alone need no gradient either.
	tp.Reset()
	c := tp.ReLU(tp.Input(x))
	require.False(t, c.RequiresGrad())
	require.Empty(t, tp.nodes)

	// A frozen parameter gets no gradient.
	w.SetRequiresGrad(false)
	defer w.SetRequiresGrad(true)
	tp.Reset()
	require.False(t, tp.Conv2d(tp.Input(x), w, nil, 1, 1).RequiresGrad())
}

func TestErrors(t *testing.T) {
	tp := NewTape()
	a := tp.Input(tensor.Zeros(2, 3))
	b := tp.Input(tensor.Zeros(3, 2))
	y := tp.Add(a, b)
	require.EqualError(t, tp.Err(), "autograd.Add: shapes [2 3] and [3 2] differ")
	// Later ops return placeholders and keep the first error.
	z := tp.ReLU(tp.Linear(y, b, nil))
	require.NotNil(t, z)
	require.EqualError(t, tp.Backward(z), "autograd.Add: shapes [2 3] and [3 2] differ")
	tp.Reset()
	require.NoError(t, tp.Err())

	cases := []struct {
		f    func(tp *Tape) *Var
		want string
	}{
		{func(tp *Tape) *Var {
			return tp.Conv2d(tp.Input(tensor.Zeros(1, 4, 4, 3)), tp.Input(tensor.Zeros(3, 3, 2, 8)), nil, 1, 1)
		}, "autograd.Conv2d: input [1 4 4 3] (want N,H,W,Cin) and weight [3 3 2 8] (want KH,KW,Cin,Cout) do not match"},
		{func(tp *Tape) *Var {
			return tp.Conv2d(tp.Input(tensor.Zeros(1, 2, 2, 3)), tp.Input(tensor.Zeros(5, 5, 3, 8)), nil, 1, 0)
		}, "autograd.Conv2d: 5x5 window, stride 1, pad 0 does not fit input [1 2 2 3]"},
		{func(tp *Tape) *Var {
			return tp.DepthwiseConv2d(tp.Input(tensor.Zeros(1, 4, 4, 3)), tp.Input(tensor.Zeros(3, 3, 4)), nil, 1, 1)
		}, "autograd.DepthwiseConv2d: input [1 4 4 3] (want N,H,W,C) and weight [3 3 4] (want K,K,C) do not match"},
		{func(tp *Tape) *Var {
			return tp.Linear(tp.Input(tensor.Zeros(2, 5)), tp.Input(tensor.Zeros(4, 3)), nil)
		}, "autograd.Linear: input [2 5] (want ...,In) and weight [4 3] (want In,Out) do not match"},
		{func(tp *Tape) *Var {
			return tp.ConcatChannels(tp.Input(tensor.Zeros(2, 3, 3, 4)), tp.Input(tensor.Zeros(2, 3, 4, 4)))
		}, "autograd.ConcatChannels: shapes [2 3 3 4] and [2 3 4 4] differ in more than the last axis"},
		{func(tp *Tape) *Var {
			return tp.SoftmaxCrossEntropy(tp.Input(tensor.Zeros(2, 3)), []int{0, 3}, 0)
		}, "autograd.SoftmaxCrossEntropy: label 3 of row 1 is outside [0, 3)"},
		{func(tp *Tape) *Var {
			return tp.Reshape(tp.Input(tensor.Zeros(2, 3)), 4, -1)
		}, "autograd.Reshape: cannot reshape [2 3] (6 elements) to [4 -1]"},
		{func(tp *Tape) *Var {
			return tp.ScaleChannels(tp.Input(tensor.Zeros(2, 3, 3, 4)), tp.Input(tensor.Zeros(2, 3)))
		}, "autograd.ScaleChannels: input [2 3 3 4] (want N,H,W,C) and scale [2 3] (want N,C) do not match"},
	}
	for _, c := range cases {
		tp.Reset()
		c.f(tp)
		require.EqualError(t, tp.Err(), c.want)
	}

	tp.Reset()
	require.EqualError(t, tp.Backward(NewParam(tensor.Zeros(2))), "autograd.Backward: loss has shape [2], want a single value")
}

// smallNet is the conv→bn→relu→pool→linear→loss step of the allocation test.
type smallNet struct {
	w, gamma, beta, fc, fcb *Var
	x                       *tensor.Tensor
	labels                  []int
}

func newSmallNet(rng *rand.Rand) *smallNet {
	ones := tensor.Zeros(8)
	ones.Fill(1)
	return &smallNet{
		w:      NewParam(tensor.He(rng, 27, 3, 3, 3, 8)),
		gamma:  NewParam(ones),
		beta:   NewParam(tensor.Zeros(8)),
		fc:     NewParam(tensor.Xavier(rng, 8, 10, 8, 10)),
		fcb:    NewParam(tensor.Zeros(10)),
		x:      randn(rng, 4, 8, 8, 3),
		labels: []int{1, 5, 9, 0},
	}
}

func (m *smallNet) step(tp *Tape) float32 {
	tp.Reset()
	for _, p := range []*Var{m.w, m.gamma, m.beta, m.fc, m.fcb} {
		p.ZeroGrad()
	}
	h := tp.Conv2d(tp.Input(m.x), m.w, nil, 1, 1)
	h, _, _ = tp.BatchNorm2d(h, m.gamma, m.beta, 1e-5)
	h = tp.MaxPool2d(tp.ReLU(h), 3, 2, 1)
	logits := tp.Linear(tp.Flatten(tp.GlobalAvgPool(h)), m.fc, m.fcb)
	loss := tp.SoftmaxCrossEntropy(logits, m.labels, 0.1)
	if err := tp.Backward(loss); err != nil {
		panic(err)
	}
	return loss.Value.Data[0]
}

// TestStepAllocatesNothing: after the first step the arena serves every
// buffer, so neither the tape nor the ops allocate. Allocations made inside
// package kernels (its worker-pool closures escape even single-threaded)
// are the kernels' and are only logged; the test runs single-threaded.
func TestStepAllocatesNothing(t *testing.T) {
	defer kernels.SetThreads(kernels.SetThreads(1))
	m := newSmallNet(rand.New(rand.NewPCG(4, 4)))
	tp := NewTape()
	first := m.step(tp)
	m.step(tp)
	t.Logf("allocations per step, kernels included: %v", testing.AllocsPerRun(20, func() { m.step(tp) }))
	own := alloctest.PerRun(t, 20, func() { m.step(tp) }, ownPkgs...)
	require.Zero(t, own, "allocations per steady-state step made by packages autograd and tensor")
	require.Equal(t, first, m.step(tp), "a step is deterministic")

	// The MBConv block adds depthwise conv, hardswish, SE, residual add.
	mb := newMBConv(rand.New(rand.NewPCG(5, 5)), 2, 8, 8, 16)
	tp2 := NewTape()
	mb.step(tp2)
	mb.step(tp2)
	require.Zero(t, alloctest.PerRun(t, 20, func() { mb.step(tp2) }, ownPkgs...), "allocations per MBConv step made by packages autograd and tensor")
}

func BenchmarkSmallStep(b *testing.B) {
	m := newSmallNet(rand.New(rand.NewPCG(4, 4)))
	tp := NewTape()
	m.step(tp)
	b.ReportAllocs()
	for b.Loop() {
		m.step(tp)
	}
}

// Kernels that write every gradient get scratch for the unwanted ones.
func TestPartialGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	gamma, beta := NewParam(randn(rng, 4)), NewParam(randn(rng, 4))
	tp := NewTape()
	y, _, _ := tp.BatchNorm2d(tp.Input(randn(rng, 2, 3, 3, 4)), gamma, beta, 1e-5)
	require.NoError(t, tp.Backward(tp.Mean(tp.Sigmoid(y))))
	require.NotZero(t, tensor.SumSquares(gamma.Grad))

	beta.SetRequiresGrad(false)
	defer beta.SetRequiresGrad(true)
	x := NewParam(randn(rng, 2, 3, 3, 4))
	tp.Reset()
	y, _, _ = tp.BatchNorm2d(x, gamma, beta, 1e-5)
	require.NoError(t, tp.Backward(tp.Mean(tp.Sigmoid(y))))
	require.NotZero(t, tensor.SumSquares(x.Grad))
}

// ownPkgs are the packages whose allocations the step tests count.
var ownPkgs = []string{"github.com/nasrun/nasrun/autograd", "github.com/nasrun/nasrun/tensor"}
