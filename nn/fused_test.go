package nn_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/nasrun/nasrun/autograd"
	"github.com/nasrun/nasrun/internal/kerneltest"
	"github.com/nasrun/nasrun/nn"
	"github.com/nasrun/nasrun/nn/nntest"
	"github.com/nasrun/nasrun/tensor"
	"github.com/stretchr/testify/require"
)

// blockRun is one training step of a block on x with a fixed upstream
// gradient: the output, the input gradient, every parameter's gradient
// and the running statistics after it.
type blockRun struct {
	out, dx []float32
	grads   map[string][]float32
	state   map[string][]float32
}

func runBlock(t *testing.T, m nn.Module, x, dy *tensor.Tensor, fused bool) blockRun {
	t.Helper()
	defer nn.SetFusedBlocks(nn.SetFusedBlocks(fused))
	net := nn.NewNetwork(m, "b", x.Shape[1], x.Shape[2], x.Shape[3], 1)
	net.ZeroGrad()
	// Fresh running statistics, so that both runs update the same ones.
	for _, e := range net.Entries() {
		if e.Param == nil {
			switch {
			case len(e.Name) > 12 && e.Name[len(e.Name)-12:] == "running_mean", e.Layout == nn.LayoutCount:
				e.Value.Zero()
			case len(e.Name) > 11 && e.Name[len(e.Name)-11:] == "running_var":
				e.Value.Fill(1)
			}
		}
	}
	tp := autograd.NewTape()
	c := &nn.Ctx{Tape: tp, Train: true}
	xv := autograd.NewParam(x.Clone())
	y := m.Forward(c, xv)
	require.NoError(t, tp.Err())
	require.NoError(t, tp.BackwardFrom(y, dy))
	r := blockRun{out: append([]float32(nil), y.Value.Data...), dx: append([]float32(nil), xv.Grad.Data...),
		grads: map[string][]float32{}, state: map[string][]float32{}}
	for _, e := range net.Entries() {
		if e.Param != nil {
			r.grads[e.Name] = append([]float32(nil), e.Param.Grad.Data...)
		} else {
			r.state[e.Name] = append([]float32(nil), e.Value.Data...)
		}
	}
	return r
}

// TestFusedBlocks checks the fused training blocks against the same blocks
// composed op by op, on random shapes (channel counts off the vector
// widths, both strides and kernels, with and without SE and residual),
// for every kernel implementation: output, input gradient, every
// parameter gradient and the running statistics.
func TestFusedBlocks(t *testing.T) {
	kerneltest.ForEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 8))
		for i := range 24 {
			cin := kerneltest.Pick(rng, 8, 12, 16, 24, 17)
			s := nn.BlockSpec{In: cin, K: kerneltest.Pick(rng, 3, 5), Stride: kerneltest.Pick(rng, 1, 2),
				Expand: kerneltest.Pick(rng, 1, 3, 6), Act: kerneltest.Pick(rng, nn.ActReLU, nn.ActHardswish)}
			s.Out = kerneltest.Pick(rng, cin, 16, 24, 40)
			s.Mid = cin * s.Expand
			if rng.IntN(2) == 0 {
				s.SE = max(8, s.Mid/4)
			}
			hw := kerneltest.Pick(rng, 5, 7, 8, 14)
			n := 1 + rng.IntN(5)
			var m nn.Module
			kind := "mbconv"
			if i%2 == 1 {
				kind = "ghost"
				s.Mid = (s.Mid + 7) / 8 * 8
				m = nn.NewGhostBottleneck(rng, s)
			} else {
				m = nn.NewMBConv(rng, s)
			}
			// Random batch-norm scales and shifts (and biases): at their
			// initial 1 and 0, the ReLU blocks' first gradients of gamma are
			// sums that cancel exactly (BN's output gradient is orthogonal
			// to its normalised input, and relu(z) = relu'(z)·z), so they
			// hold nothing but rounding.
			for _, e := range nn.NewNetwork(m, "b", hw, hw, cin, 1).Params() {
				if len(e.Value.Shape) == 1 {
					for i := range e.Value.Data {
						e.Value.Data[i] = float32(rng.Float64() - 0.25)
					}
				}
			}
			t.Run(fmt.Sprintf("%s/%+v/n=%d,hw=%d", kind, s, n, hw), func(t *testing.T) {
				x := tensor.RandNormal(rng, 0.5, 1, n, hw, hw, cin)
				ho := (hw+2*(s.K/2)-s.K)/s.Stride + 1
				dy := tensor.RandNormal(rng, 0, 1, n, ho, ho, s.Out)
				want := runBlock(t, m, x, dy, false)
				got := runBlock(t, m, x, dy, true)
				require.True(t, nn.IsFused(m), "the block did not fuse")
				const tol = 2e-4
				require.LessOrEqual(t, nntest.RelErr(got.out, want.out, 0), tol, "output")
				require.LessOrEqual(t, nntest.RelErr(got.dx, want.dx, 0), tol, "input gradient")
				// A batch norm followed by a linear convolution and another
				// batch norm (a Ghost block's depthwise and shortcut) has a
				// shift gradient that is zero but for rounding: gradients
				// are compared relative to at least a thousandth of the
				// block's largest.
				var scale float64
				for _, w := range want.grads {
					scale = max(scale, nntest.AbsMax(w))
				}
				for k, w := range want.grads {
					require.LessOrEqual(t, nntest.RelErr(got.grads[k], w, 1e-3*scale), tol, "gradient of %s", k)
				}
				for k, w := range want.state {
					require.LessOrEqual(t, nntest.RelErr(got.state[k], w, 0), tol, "state %s", k)
				}
			})
		}
	})
}
