package autograd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nasrun/nasrun/internal/kerneltest"
	"github.com/nasrun/nasrun/kernels"
	"github.com/nasrun/nasrun/tensor"
)

// gradCheck compares the tape's gradients of L = Σ r·f(inputs) (r random,
// fixed) with float64 central differences of L, where L is evaluated in
// float64 from the float32 forward. Every input is a parameter. The
// comparison is on the whole gradient of each input: ‖g − ĝ‖ ≤ tol·‖ĝ‖.
// At most maxElems elements per input are perturbed (a seeded sample).
func gradCheck(t *testing.T, inputs []*tensor.Tensor, f func(tp *Tape, in []*Var) *Var) {
	t.Helper()
	const (
		h        = 1e-2
		tol      = 1e-2
		maxElems = 60
	)
	rng := rand.New(rand.NewPCG(7, 7))
	ps := make([]*Var, len(inputs))
	for i, in := range inputs {
		ps[i] = NewParam(in)
	}
	tp := NewTape()
	y := f(tp, ps)
	require.NoError(t, tp.Err())
	r := tensor.RandNormal(rng, 0, 1, y.Value.Shape...)
	require.NoError(t, tp.BackwardFrom(y, r))

	loss := func() float64 {
		tp.Reset()
		prev := tp.SetGrad(false)
		defer tp.SetGrad(prev)
		y := f(tp, ps)
		require.NoError(t, tp.Err())
		var s float64
		for i, v := range y.Value.Data {
			s += float64(v) * float64(r.Data[i])
		}
		return s
	}
	for i, in := range inputs {
		idx := rng.Perm(len(in.Data))
		if len(idx) > maxElems {
			idx = idx[:maxElems]
		}
		var diff, norm, anorm float64
		for _, j := range idx {
			orig := in.Data[j]
			in.Data[j] = orig + h
			lp, xp := loss(), in.Data[j]
			in.Data[j] = orig - h
			lm, xm := loss(), in.Data[j]
			in.Data[j] = orig
			num := (lp - lm) / (float64(xp) - float64(xm))
			got := float64(ps[i].Grad.Data[j])
			diff += (got - num) * (got - num)
			norm += num * num
			anorm += got * got
		}
		rel := math.Sqrt(diff) / max(math.Sqrt(norm), 1e-6)
		require.LessOrEqualf(t, rel, tol, "input %d %v: relative gradient error %.3g (‖numeric‖ %.3g, ‖analytic‖ %.3g)",
			i, in.Shape, rel, math.Sqrt(norm), math.Sqrt(anorm))
		require.Greater(t, math.Sqrt(norm)+math.Sqrt(anorm), 0.0, "input %d: gradient is identically zero; the check proves nothing", i)
	}
}

func randn(rng *rand.Rand, shape ...int) *tensor.Tensor {
	return tensor.RandNormal(rng, 0, 1, shape...)
}

// awayFrom nudges values that lie within d of a kink of a piecewise op.
func awayFrom(t *tensor.Tensor, d float32, kinks ...float32) *tensor.Tensor {
	for i, v := range t.Data {
		for _, k := range kinks {
			if v > k-d && v < k+d {
				if v < k {
					v = k - d
				} else {
					v = k + d
				}
				t.Data[i] = v
			}
		}
	}
	return t
}

func TestGradConv2d(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, c := range []struct{ n, h, w, cin, cout, k, s, p int }{
		{2, 5, 6, 3, 4, 3, 1, 1},
		{1, 7, 5, 2, 3, 3, 2, 1},
		{1, 6, 6, 3, 2, 5, 2, 2},
		{2, 4, 4, 5, 3, 1, 1, 0},
	} {
		for _, bias := range []bool{false, true} {
			t.Run(fmt.Sprintf("%+v/bias=%v", c, bias), func(t *testing.T) {
				in := []*tensor.Tensor{randn(rng, c.n, c.h, c.w, c.cin), randn(rng, c.k, c.k, c.cin, c.cout)}
				if bias {
					in = append(in, randn(rng, c.cout))
				}
				gradCheck(t, in, func(tp *Tape, v []*Var) *Var {
					var b *Var
					if bias {
						b = v[2]
					}
					return tp.Conv2d(v[0], v[1], b, c.s, c.p)
				})
			})
		}
	}
}

func TestGradDepthwiseConv2d(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct{ n, h, w, ch, k, s, p int }{
		{2, 5, 6, 3, 3, 1, 1},
		{1, 7, 5, 5, 3, 2, 1},
		{1, 6, 7, 2, 5, 1, 2},
		{2, 9, 6, 3, 5, 2, 2},
	} {
		t.Run(fmt.Sprintf("%+v", c), func(t *testing.T) {
			in := []*tensor.Tensor{randn(rng, c.n, c.h, c.w, c.ch), randn(rng, c.k, c.k, c.ch), randn(rng, c.ch)}
			gradCheck(t, in, func(tp *Tape, v []*Var) *Var { return tp.DepthwiseConv2d(v[0], v[1], v[2], c.s, c.p) })
		})
	}
}

func TestGradLinear(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 3))
	in := []*tensor.Tensor{randn(rng, 5, 7), randn(rng, 7, 3), randn(rng, 3)}
	gradCheck(t, in, func(tp *Tape, v []*Var) *Var { return tp.Linear(v[0], v[1], v[2]) })
	in = []*tensor.Tensor{randn(rng, 2, 3, 4), randn(rng, 4, 6)}
	gradCheck(t, in, func(tp *Tape, v []*Var) *Var { return tp.Linear(v[0], v[1], nil) })
}

func TestGradBatchNorm(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 4))
	in := []*tensor.Tensor{tensor.RandNormal(rng, 0.5, 2, 3, 4, 3, 5), randn(rng, 5), randn(rng, 5)}
	gradCheck(t, in, func(tp *Tape, v []*Var) *Var {
		y, _, _ := tp.BatchNorm2d(v[0], v[1], v[2], 1e-5)
		return y
	})
	mean, variance := tensor.RandNormal(rng, 0, 1, 5).Data, tensor.RandUniform(rng, 0.5, 2, 5).Data
	gradCheck(t, in, func(tp *Tape, v []*Var) *Var {
		return tp.BatchNorm2dInfer(v[0], v[1], v[2], mean, variance, 1e-5)
	})
}

func TestGradBatchNormAct(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 14))
	for _, a := range []kernels.Act{kernels.ActReLU, kernels.ActHardswish, kernels.ActHardsigmoid} {
		t.Run(a.String(), func(t *testing.T) {
			in := []*tensor.Tensor{tensor.RandNormal(rng, 0.5, 2, 3, 4, 3, 5), tensor.RandNormal(rng, 2, 0.5, 5), tensor.RandNormal(rng, 0, 2, 5)}
			gradCheck(t, in, func(tp *Tape, v []*Var) *Var {
				y, _, _ := tp.BatchNormAct(v[0], v[1], v[2], 1e-5, a)
				return y
			})
			// The fused op equals BatchNorm2d then Act, forward and backward.
			run := func(fused bool) (y []float32, grads [3][]float32) {
				ps := []*Var{NewParam(in[0].Clone()), NewParam(in[1].Clone()), NewParam(in[2].Clone())}
				tp := NewTape()
				var out *Var
				if fused {
					out, _, _ = tp.BatchNormAct(ps[0], ps[1], ps[2], 1e-5, a)
				} else {
					out, _, _ = tp.BatchNorm2d(ps[0], ps[1], ps[2], 1e-5)
					out = tp.Act(out, a)
				}
				r := tensor.RandNormal(rand.New(rand.NewPCG(3, 3)), 0, 1, out.Value.Shape...)
				require.NoError(t, tp.BackwardFrom(out, r))
				return out.Value.Data, [3][]float32{ps[0].Grad.Data, ps[1].Grad.Data, ps[2].Grad.Data}
			}
			y1, g1 := run(true)
			y2, g2 := run(false)
			require.InDeltaSlice(t, y2, y1, 1e-5)
			for i := range g1 {
				require.InDeltaSlice(t, g2[i], g1[i], 1e-4, "gradient %d", i)
			}
		})
	}
}

func TestBatchNormStats(t *testing.T) {
	x := tensor.MustNew([]float32{1, 10, 3, 20, 5, 30, 7, 40}, 2, 1, 2, 2) // channel 0: 1 3 5 7
	tp := NewTape()
	_, mean, variance := tp.BatchNorm2d(tp.Input(x), NewParam(tensor.MustNew([]float32{1, 1}, 2)), NewParam(tensor.Zeros(2)), 0)
	require.NoError(t, tp.Err())
	require.InDeltaSlice(t, []float32{4, 25}, mean, 1e-5)
	require.InDeltaSlice(t, []float32{5, 125}, variance, 1e-4, "biased variance")
}

func TestGradActivations(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 5))
	for _, a := range []kernels.Act{kernels.ActReLU, kernels.ActReLU6, kernels.ActHardswish, kernels.ActHardsigmoid, kernels.ActSigmoid} {
		t.Run(a.String(), func(t *testing.T) {
			x := awayFrom(tensor.RandNormal(rng, 0, 4, 3, 4, 5), 0.05, -3, 0, 3, 6)
			gradCheck(t, []*tensor.Tensor{x}, func(tp *Tape, v []*Var) *Var { return tp.Act(v[0], a) })
		})
	}
}

func TestGradScaleChannels(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 6))
	in := []*tensor.Tensor{randn(rng, 2, 3, 4, 5), randn(rng, 2, 5)}
	gradCheck(t, in, func(tp *Tape, v []*Var) *Var { return tp.ScaleChannels(v[0], v[1]) })
}

// A 1×1 convolution in a residual block: its input gradient accumulates
// into the one the residual add gave (beta = 1 in the GEMM), for a
// parameter and for a tape value.
func TestGradPointwiseResidual(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 17))
	in := []*tensor.Tensor{randn(rng, 2, 3, 4, 5), randn(rng, 1, 1, 5, 5)}
	gradCheck(t, in, func(tp *Tape, v []*Var) *Var { return tp.Add(tp.Conv2d(v[0], v[1], nil, 1, 0), v[0]) })
	gradCheck(t, in, func(tp *Tape, v []*Var) *Var {
		h := tp.Sigmoid(v[0])
		return tp.Add(tp.Conv2d(h, v[1], nil, 1, 0), h)
	})
}

// The SE pattern: the input feeds both the pool and the multiply, so the
// pool's gradient is added in place to the multiply's (gapBackward), for a
// parameter and for a tape value.
func TestGradSqueezeExcite(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 16))
	in := []*tensor.Tensor{randn(rng, 2, 3, 4, 5), randn(rng, 5, 5)}
	se := func(tp *Tape, x, w *Var) *Var {
		return tp.ScaleChannels(x, tp.Sigmoid(tp.Linear(tp.GlobalAvgPool(x), w, nil)))
	}
	gradCheck(t, in, func(tp *Tape, v []*Var) *Var { return se(tp, v[0], v[1]) })
	gradCheck(t, in, func(tp *Tape, v []*Var) *Var { return se(tp, tp.Sigmoid(v[0]), v[1]) })
}

func TestGradPools(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 7))
	distinct := func(shape ...int) *tensor.Tensor {
		x := tensor.Zeros(shape...)
		for i, j := range rng.Perm(x.Len()) {
			x.Data[i] = float32(j)*0.1 - 3
		}
		return x
	}
	for _, c := range []struct{ k, s, p int }{{3, 2, 1}, {2, 2, 0}, {3, 1, 1}} {
		t.Run(fmt.Sprintf("max%+v", c), func(t *testing.T) {
			gradCheck(t, []*tensor.Tensor{distinct(2, 7, 6, 3)}, func(tp *Tape, v []*Var) *Var { return tp.MaxPool2d(v[0], c.k, c.s, c.p) })
		})
		t.Run(fmt.Sprintf("avg%+v", c), func(t *testing.T) {
			gradCheck(t, []*tensor.Tensor{randn(rng, 2, 7, 6, 3)}, func(tp *Tape, v []*Var) *Var { return tp.AvgPool2d(v[0], c.k, c.s, c.p) })
		})
	}
	gradCheck(t, []*tensor.Tensor{randn(rng, 3, 4, 5, 6)}, func(tp *Tape, v []*Var) *Var { return tp.GlobalAvgPool(v[0]) })
}

func TestGradShapeOps(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 8))
	gradCheck(t, []*tensor.Tensor{randn(rng, 2, 3, 3, 4), randn(rng, 2, 3, 3, 4)},
		func(tp *Tape, v []*Var) *Var { return tp.Add(v[0], v[1]) })
	gradCheck(t, []*tensor.Tensor{randn(rng, 2, 3, 3, 4), randn(rng, 2, 3, 3, 5)},
		func(tp *Tape, v []*Var) *Var { return tp.ConcatChannels(v[0], v[1]) })
	gradCheck(t, []*tensor.Tensor{randn(rng, 2, 3, 3, 7)},
		func(tp *Tape, v []*Var) *Var { return tp.SliceChannels(v[0], 2, 5) })
	// GhostModule's pattern: concat then keep the first channels, so part
	// of the second input gets no gradient.
	gradCheck(t, []*tensor.Tensor{randn(rng, 2, 3, 3, 4), randn(rng, 2, 3, 3, 4)},
		func(tp *Tape, v []*Var) *Var { return tp.SliceChannels(tp.ConcatChannels(v[0], v[1]), 0, 6) })
	gradCheck(t, []*tensor.Tensor{randn(rng, 2, 3, 3, 4)},
		func(tp *Tape, v []*Var) *Var { return tp.Flatten(v[0]) })
	gradCheck(t, []*tensor.Tensor{randn(rng, 2, 3, 3, 4)},
		func(tp *Tape, v []*Var) *Var { return tp.Reshape(v[0], 6, -1, 2) })
}

func TestGradDropout(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 9))
	gradCheck(t, []*tensor.Tensor{randn(rng, 4, 9)}, func(tp *Tape, v []*Var) *Var {
		return tp.Dropout(v[0], 0.3, rand.New(rand.NewPCG(3, 3)))
	})
}

func TestGradLosses(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 10))
	labels := []int{0, 3, 2, 3, 1}
	for _, eps := range []float32{0, 0.1} {
		gradCheck(t, []*tensor.Tensor{tensor.RandNormal(rng, 0, 2, 5, 4)}, func(tp *Tape, v []*Var) *Var {
			return tp.SoftmaxCrossEntropy(v[0], labels, eps)
		})
	}
	gradCheck(t, []*tensor.Tensor{randn(rng, 3, 4)}, func(tp *Tape, v []*Var) *Var { return tp.Mean(v[0]) })
}

func TestSoftmaxCrossEntropyValue(t *testing.T) {
	// Row logits (0, ln 3): softmax (1/4, 3/4). Label 1, ε = 0.2, K = 2:
	// q = (0.1, 0.9); loss = −0.1·ln¼ − 0.9·ln¾.
	tp := NewTape()
	z := NewParam(tensor.MustNew([]float32{0, float32(math.Log(3))}, 1, 2))
	loss := tp.SoftmaxCrossEntropy(z, []int{1}, 0.2)
	require.NoError(t, tp.Err())
	require.InDelta(t, -0.1*math.Log(0.25)-0.9*math.Log(0.75), loss.Value.Data[0], 1e-6)
}

// A small network through every op family at once, with h used twice, for
// every kernel implementation the CPU has.
func TestGradComposite(t *testing.T) {
	kerneltest.ForEachImpl(t, testGradComposite)
}

func testGradComposite(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 1))
	in := []*tensor.Tensor{
		randn(rng, 2, 6, 6, 3),           // x
		randn(rng, 3, 3, 3, 8),           // conv
		randn(rng, 3, 3, 8),              // dw
		randn(rng, 8),                    // gamma
		randn(rng, 8),                    // beta
		randn(rng, 8, 2),                 // se fc1
		randn(rng, 2, 8),                 // se fc2
		randn(rng, 8, 5),                 // head
		tensor.RandUniform(rng, 4, 5, 2), // se fc1 bias: keeps the ReLU open
	}
	labels := []int{4, 1}
	gradCheck(t, in, func(tp *Tape, v []*Var) *Var {
		h := tp.Conv2d(v[0], v[1], nil, 1, 1)
		h, _, _ = tp.BatchNorm2d(h, v[3], v[4], 1e-5)
		h = tp.Sigmoid(h) // smooth: no kink for the differences to cross
		d := tp.DepthwiseConv2d(h, v[2], nil, 1, 1)
		h = tp.Add(h, d) // h used twice
		s := tp.Sigmoid(tp.Linear(tp.ReLU(tp.Linear(tp.GlobalAvgPool(h), v[5], v[8])), v[6], nil))
		h = tp.ScaleChannels(h, s)
		h = tp.AvgPool2d(h, 2, 2, 0)
		return tp.SoftmaxCrossEntropy(tp.Linear(tp.GlobalAvgPool(h), v[7], nil), labels, 0.1)
	})
}
