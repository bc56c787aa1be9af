package nn

import (
	"math/rand/v2"
	"testing"

	"github.com/nasrun/nasrun/autograd"
	"github.com/nasrun/nasrun/tensor"
	"github.com/stretchr/testify/require"
)

// TestLayoutRoundTrip: toTorch and fromTorch are inverse, and toTorch puts
// each element where PyTorch's layout expects it.
func TestLayoutRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	cases := []struct {
		l     Layout
		shape []int
		// at maps an index of our layout to the PyTorch index.
		ours, torch []int
	}{
		{LayoutConv, []int{3, 2, 5, 7}, []int{2, 1, 4, 6}, []int{6, 4, 2, 1}},
		{LayoutDepthwise, []int{5, 5, 9}, []int{1, 3, 8}, []int{8, 0, 1, 3}},
		{LayoutLinear, []int{4, 6}, []int{3, 5}, []int{5, 3}},
		{LayoutPointwise, []int{4, 6}, []int{1, 2}, []int{2, 1, 0, 0}},
		{LayoutPlain, []int{7}, []int{3}, []int{3}},
	}
	for _, c := range cases {
		src := tensor.RandNormal(rng, 0, 1, c.shape...)
		ts := torchShape(c.l, c.shape)
		dst := make([]float32, len(src.Data))
		toTorch(c.l, c.shape, src.Data, dst)
		require.Equal(t, src.Data[flat(c.shape, c.ours)], dst[flat(ts, c.torch)], "layout %d", c.l)
		back := make([]float32, len(dst))
		fromTorch(c.l, c.shape, dst, back)
		require.Equal(t, src.Data, back)
	}
}

// flat is the row-major offset of idx in shape.
func flat(shape, idx []int) int {
	o := 0
	for i, d := range shape {
		o = o*d + idx[i]
	}
	return o
}

// TestBatchNormRunningStats: PyTorch's update, momentum 0.1 with the
// unbiased batch variance, and the counter.
func TestBatchNormRunningStats(t *testing.T) {
	bn := NewBatchNorm2d(2)
	x := tensor.MustNew([]float32{1, 10, 3, 20, 5, 30, 7, 40}, 1, 2, 2, 2)
	tp := autograd.NewTape()
	bn.Forward(&Ctx{Tape: tp, Train: true}, tp.Input(x))
	// channel 0: mean 4, unbiased var 20/3; channel 1: mean 25, var 500/3.
	require.InDeltaSlice(t, []float32{0.4, 2.5}, bn.RunMean.Data, 1e-6)
	require.InDeltaSlice(t, []float32{0.9 + 0.1*20.0/3, 0.9 + 0.1*500.0/3}, bn.RunVar.Data, 1e-5)
	require.Equal(t, float32(1), bn.Count.Data[0])
}

// TestBatchNormCumulativeAverage: Ctx.BNMomentum 1/k on the k-th pass
// makes the running statistics the average of the batches' statistics.
func TestBatchNormCumulativeAverage(t *testing.T) {
	bn := NewBatchNorm2d(1)
	tp := autograd.NewTape()
	c := &Ctx{Tape: tp, Train: true}
	for k, xs := range [][]float32{{1, 3}, {5, 9}, {0, 0}} { // means 2, 7, 0; unbiased variances 2, 8, 0
		c.BNMomentum = 1 / float32(k+1)
		bn.Forward(c, tp.Input(tensor.MustNew(xs, 2, 1, 1, 1)))
	}
	require.InDeltaSlice(t, []float32{3}, bn.RunMean.Data, 1e-6)
	require.InDeltaSlice(t, []float32{10.0 / 3}, bn.RunVar.Data, 1e-6)
	require.Equal(t, float32(0.1), bn.Momentum, "the module's own momentum is left alone")
}

// TestSGDTorch: SGD with Nesterov momentum and weight decay against the
// update rule of torch.optim.SGD worked by hand for two steps.
func TestSGDTorch(t *testing.T) {
	p := autograd.NewParam(tensor.MustNew([]float32{1}, 1))
	o := NewSGD([]*autograd.Var{p}, 0.1, 0.9, 0.01, true)
	p.Grad.Data[0] = 0.5
	o.Step() // d = 0.51, buf = 0.51, d = 0.51+0.9·0.51 = 0.969, w = 1−0.0969
	require.InDelta(t, 0.9031, p.Value.Data[0], 1e-6)
	p.Grad.Data[0] = 0.5
	o.Step() // d = 0.5+0.009031, buf = 0.9·0.51+d, w −= 0.1·(d+0.9·buf)
	d := 0.5 + 0.01*0.9031
	buf := 0.9*0.51 + d
	require.InDelta(t, 0.9031-0.1*(d+0.9*buf), p.Value.Data[0], 1e-6)
}

// TestStepsAllocateNothing: optimizer steps and gradient clipping do not
// allocate.
func TestStepsAllocateNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	ps := []*autograd.Var{autograd.NewParam(tensor.RandNormal(rng, 0, 1, 10, 3)), autograd.NewParam(tensor.RandNormal(rng, 0, 1, 7))}
	for _, p := range ps {
		p.Grad.Fill(0.1)
	}
	for _, o := range []Optimizer{NewSGD(ps, 0.1, 0.9, 1e-4, true), NewAdamW(ps, 1e-3, 0.01)} {
		s := NewOneCycle(0.1, 100)
		i := 0
		allocs := testing.AllocsPerRun(10, func() {
			Apply(s, o, i)
			o.Step()
			ClipGradNorm(ps, 1)
			i++
		})
		require.Zero(t, allocs)
	}
}

// TestModulesCompose: Sequential names, Residual with and without a
// shortcut, pooling and dropout modules in both modes.
func TestModulesCompose(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	body := Sequential{NewConv2d(rng, 3, 3, 3, 1, true), NewBatchNorm2d(3), ReLU6()}
	res := &Residual{Body: body, BodyName: "body"}
	proj := &Residual{Body: NewDepthwiseConv2d(rng, 3, 3, 1, false), Shortcut: NewConv2d(rng, 3, 3, 1, 1, false), BodyName: "dw", ShortcutName: "short"}
	net := NewNetwork(Sequential{res, proj, &MaxPool2d{K: 3, Stride: 2, Pad: 1}, &AvgPool2d{K: 2, Stride: 2}, Hardswish(),
		&Dropout{P: 0.5}, GlobalAvgPool{}, Flatten{}, NewLinear(rng, 3, 2, true), Identity{}}, "m", 8, 8, 3, 2)
	var names []string
	for _, e := range net.Entries() {
		names = append(names, e.Name)
	}
	require.Equal(t, []string{"m.0.body.0.weight", "m.0.body.0.bias", "m.0.body.1.weight", "m.0.body.1.bias",
		"m.0.body.1.running_mean", "m.0.body.1.running_var", "m.0.body.1.num_batches_tracked",
		"m.1.dw.weight", "m.1.short.weight", "m.8.weight", "m.8.bias"}, names)
	x := tensor.RandNormal(rng, 0, 1, 2, 8, 8, 3)
	for _, train := range []bool{false, true} {
		tp := autograd.NewTape()
		c := &Ctx{Tape: tp, Train: train, Rng: rng}
		in, err := net.Input(tp, x)
		require.NoError(t, err)
		y := net.Forward(c, in)
		require.NoError(t, tp.Err())
		require.Equal(t, []int{2, 2}, y.Value.Shape)
		require.NoError(t, tp.Backward(tp.Mean(y)))
	}
	_, err := net.Input(autograd.NewTape(), tensor.Zeros(1, 8, 8, 1))
	require.ErrorContains(t, err, "want [N 8 8 3]")
}
