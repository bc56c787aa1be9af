package kernels_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nasrun/nasrun/bench/suite"
	"github.com/nasrun/nasrun/internal/kerneltest"
	"github.com/nasrun/nasrun/kernels"
)

// act64 is the float64 oracle of the activations.
func act64(a kernels.Act, v float64) float64 {
	switch a {
	case kernels.ActReLU:
		return math.Max(v, 0)
	case kernels.ActReLU6:
		return math.Min(math.Max(v, 0), 6)
	case kernels.ActHardswish:
		return v * math.Min(math.Max(v+3, 0), 6) / 6
	case kernels.ActHardsigmoid:
		return math.Min(math.Max(v+3, 0), 6) / 6
	case kernels.ActSigmoid:
		return 1 / (1 + math.Exp(-v))
	}
	return v
}

// convTap calls f for every (output, input, weight) index triple of the
// convolution p that meets inside the image (padding contributes nothing).
func convTap(p kernels.Conv, f func(yi, xi, wi int)) {
	oh, ow := p.OutH(), p.OutW()
	for n := range p.N {
		for i := range oh {
			for j := range ow {
				for r := range p.KH {
					for q := range p.KW {
						h, w := i*p.Stride+r-p.Pad, j*p.Stride+q-p.Pad
						if h < 0 || h >= p.H || w < 0 || w >= p.W {
							continue
						}
						for ci := range p.Cin {
							for co := range p.Cout {
								f(((n*oh+i)*ow+j)*p.Cout+co, ((n*p.H+h)*p.W+w)*p.Cin+ci, ((r*p.KW+q)*p.Cin+ci)*p.Cout+co)
							}
						}
					}
				}
			}
		}
	}
}

// convOracle is the float64 forward convolution, straight from the sum.
func convOracle(p kernels.Conv, x, w, bias []float64) []float64 {
	y := make([]float64, p.N*p.OutH()*p.OutW()*p.Cout)
	convTap(p, func(yi, xi, wi int) { y[yi] += x[xi] * w[wi] })
	for i := range y {
		if bias != nil {
			y[i] += bias[i%p.Cout]
		}
		y[i] = act64(p.Act, y[i])
	}
	return y
}

// convGradOracle is the float64 backward of the convolution (no activation).
func convGradOracle(p kernels.Conv, x, w, dy []float64) (dx, dw, db []float64) {
	dx, dw, db = make([]float64, len(x)), make([]float64, len(w)), make([]float64, p.Cout)
	convTap(p, func(yi, xi, wi int) {
		dx[xi] += dy[yi] * w[wi]
		dw[wi] += dy[yi] * x[xi]
	})
	for i, g := range dy {
		db[i%p.Cout] += g
	}
	return dx, dw, db
}

// checkConv compares Conv2d and Conv2dBackward with the active
// implementation against the oracles on p.
func checkConv(t *testing.T, rng *rand.Rand, p kernels.Conv, withBias bool) {
	t.Helper()
	name := fmt.Sprintf("%+v bias=%v", p, withBias)
	x := kerneltest.RandBuf(rng, p.N*p.H*p.W*p.Cin)
	w := kerneltest.RandBuf(rng, p.KH*p.KW*p.Cin*p.Cout)
	var bias []float32
	var bias64 []float64
	bb := kerneltest.RandBuf(rng, p.Cout)
	if withBias {
		bias, bias64 = bb.Data, bb.F64()
	}
	ny := p.N * p.OutH() * p.OutW() * p.Cout
	y := kerneltest.NewBuf(ny)
	kernels.Conv2d(p, x.Data, w.Data, bias, y.Data)
	y.Check(t, name+" y")
	kerneltest.AssertClose(t, name+" y", convOracle(p, x.F64(), w.F64(), bias64), y.Data, 1e-4)

	p.Act = kernels.ActNone
	dy := kerneltest.RandBuf(rng, ny)
	dx, dw, db := kerneltest.NewBuf(len(x.Data)), kerneltest.NewBuf(len(w.Data)), kerneltest.NewBuf(p.Cout)
	kernels.Conv2dBackward(p, x.Data, w.Data, dy.Data, dx.Data, dw.Data, db.Data)
	for _, b := range []*kerneltest.Buf{x, w, bb, dy, dx, dw, db} {
		b.Check(t, name+" backward")
	}
	wdx, wdw, wdb := convGradOracle(p, x.F64(), w.F64(), dy.F64())
	kerneltest.AssertClose(t, name+" dx", wdx, dx.Data, 1e-4)
	kerneltest.AssertClose(t, name+" dw", wdw, dw.Data, 1e-4)
	kerneltest.AssertClose(t, name+" db", wdb, db.Data, 1e-4)
}

func randConv(rng *rand.Rand) kernels.Conv {
	chans := []int{1, 3, 7, 8, 16, 17, 33}
	p := kernels.Conv{
		N:      1 + rng.IntN(3),
		H:      kerneltest.Pick(rng, 1, 2, 5, 7, 8, 11),
		W:      kerneltest.Pick(rng, 1, 2, 5, 7, 8, 15, 29),
		Cin:    kerneltest.Pick(rng, chans...),
		Cout:   kerneltest.Pick(rng, append(chans, 24, 32, 48, 64, 80)...),
		KH:     kerneltest.Pick(rng, 1, 3, 3, 5),
		Stride: kerneltest.Pick(rng, 1, 1, 2),
		Act:    kernels.Act(rng.IntN(int(kernels.ActSigmoid) + 1)),
	}
	p.KW = p.KH
	if rng.IntN(4) == 0 {
		p.KW = kerneltest.Pick(rng, 1, 3, 5)
	}
	p.Pad = rng.IntN(max(p.KH, p.KW)/2 + 1)
	p.H = max(p.H, p.KH-2*p.Pad)
	p.W = max(p.W, p.KW-2*p.Pad)
	return p
}

func TestConv(t *testing.T) {
	kerneltest.ForEachImpl(t, func(t *testing.T) {
		for i := range 250 {
			rng := kerneltest.Rng(uint64(i))
			checkConv(t, rng, randConv(rng), i%2 == 0)
		}
		// Every activation on one shape, and the suite's shapes at reduced size.
		for a := kernels.ActNone; a <= kernels.ActSigmoid; a++ {
			checkConv(t, kerneltest.Rng(500, uint64(a)), kernels.Conv{N: 1, H: 9, W: 16, Cin: 8, Cout: 64, KH: 3, KW: 3, Stride: 1, Pad: 1, Act: a}, true)
		}
		for i, s := range []kernels.Conv{
			{N: 1, H: 30, W: 30, Cin: 3, Cout: 16, KH: 3, KW: 3, Stride: 2, Pad: 1},
			{N: 1, H: 14, W: 14, Cin: 64, Cout: 64, KH: 5, KW: 5, Stride: 1, Pad: 2},
			{N: 2, H: 14, W: 14, Cin: 32, Cout: 32, KH: 5, KW: 5, Stride: 1, Pad: 2},
			{N: 1, H: 14, W: 14, Cin: 24, Cout: 144, KH: 1, KW: 1, Stride: 1},
			{N: 3, H: 28, W: 28, Cin: 1, Cout: 16, KH: 3, KW: 3, Stride: 1, Pad: 1}, // the reference networks' stem
		} {
			checkConv(t, kerneltest.Rng(600, uint64(i)), s, true)
		}
	})
}

// TestConvGradFiniteDifference checks Conv2dBackward against float64 central
// differences of L = Σ y·dy computed with the forward oracle.
func TestConvGradFiniteDifference(t *testing.T) {
	p := kernels.Conv{N: 2, H: 5, W: 6, Cin: 3, Cout: 4, KH: 3, KW: 2, Stride: 2, Pad: 1}
	rng := kerneltest.Rng(7)
	x := kerneltest.RandBuf(rng, p.N*p.H*p.W*p.Cin)
	w := kerneltest.RandBuf(rng, p.KH*p.KW*p.Cin*p.Cout)
	dy := kerneltest.RandBuf(rng, p.N*p.OutH()*p.OutW()*p.Cout)
	dx, dw := make([]float32, len(x.Data)), make([]float32, len(w.Data))
	kernels.Conv2dBackward(p, x.Data, w.Data, dy.Data, dx, dw, nil)
	x64, w64, dy64 := x.F64(), w.F64(), dy.F64()
	loss := func() float64 {
		var l float64
		for i, v := range convOracle(p, x64, w64, nil) {
			l += v * dy64[i]
		}
		return l
	}
	const eps = 1e-4
	fd := func(v []float64, i int) float64 {
		old := v[i]
		v[i] = old + eps
		lp := loss()
		v[i] = old - eps
		lm := loss()
		v[i] = old
		return (lp - lm) / (2 * eps)
	}
	for i := range x64 {
		require.InDelta(t, fd(x64, i), float64(dx[i]), 1e-4, "dx[%d]", i)
	}
	for i := range w64 {
		require.InDelta(t, fd(w64, i), float64(dw[i]), 1e-4, "dw[%d]", i)
	}
}

func TestConvSingleThread(t *testing.T) {
	prev := kernels.SetThreads(1)
	defer kernels.SetThreads(prev)
	kerneltest.ForEachImpl(t, func(t *testing.T) {
		for i := range 20 {
			rng := kerneltest.Rng(800, uint64(i))
			checkConv(t, rng, randConv(rng), true)
		}
	})
}

func TestConvPanics(t *testing.T) {
	p := kernels.Conv{N: 1, H: 4, W: 4, Cin: 2, Cout: 3, KH: 3, KW: 3, Stride: 1, Pad: 1}
	x, w, y := make([]float32, 32), make([]float32, 54), make([]float32, 48)
	require.PanicsWithValue(t, "kernels.Conv2d: len(y) = 47, want 48", func() { kernels.Conv2d(p, x, w, nil, y[:47]) })
	require.PanicsWithValue(t, "kernels.Conv2d: len(w) = 53, want 54", func() { kernels.Conv2d(p, x, w[:53], nil, y) })
	require.PanicsWithValue(t, "kernels.Conv2d: len(bias) = 2, want 3", func() { kernels.Conv2d(p, x, w, make([]float32, 2), y) })
	require.PanicsWithValue(t, "kernels.Conv2dBackward: len(dx) = 31, want 32", func() { kernels.Conv2dBackward(p, x, w, y, x[:31], nil, nil) })
	require.PanicsWithValue(t, "kernels.Conv2dBackward: len(db) = 4, want 3", func() { kernels.Conv2dBackward(p, x, w, y, nil, nil, make([]float32, 4)) })
	p.Act = kernels.ActReLU
	require.Panics(t, func() { kernels.Conv2dBackward(p, x, w, y, nil, nil, nil) })
	require.Panics(t, func() {
		kernels.Conv2d(kernels.Conv{N: 1, H: 1, W: 1, Cin: 1, Cout: 1, KH: 3, KW: 3, Stride: 1}, x[:1], w[:9], nil, y[:1])
	})
}

func FuzzConv(f *testing.F) {
	f.Add(uint8(1), uint8(7), uint8(9), uint8(3), uint8(16), uint8(3), uint8(3), uint8(2), uint8(1), uint8(1), true)
	f.Add(uint8(2), uint8(1), uint8(1), uint8(17), uint8(33), uint8(1), uint8(5), uint8(1), uint8(2), uint8(3), false)
	f.Fuzz(func(t *testing.T, n, h, w, cin, cout, kh, kw, s, pad, act uint8, withBias bool) {
		p := kernels.Conv{N: 1 + int(n%3), H: 1 + int(h%16), W: 1 + int(w%20), Cin: 1 + int(cin%40), Cout: 1 + int(cout%80),
			KH: 1 + int(kh%5), KW: 1 + int(kw%5), Stride: 1 + int(s%3), Act: kernels.Act(act % uint8(kernels.ActSigmoid+1))}
		p.Pad = int(pad) % (max(p.KH, p.KW)/2 + 1)
		if p.H+2*p.Pad < p.KH || p.W+2*p.Pad < p.KW {
			t.Skip()
		}
		kerneltest.ForEachImpl(t, func(t *testing.T) {
			checkConv(t, kerneltest.Rng(uint64(n), uint64(cin), uint64(cout)), p, withBias)
		})
	})
}

func suiteConv(r suite.Row) kernels.Conv {
	return kernels.Conv{N: r.N, H: r.H, W: r.W, Cin: r.C, Cout: r.Cout, KH: r.K, KW: r.K, Stride: r.S, Pad: r.P}
}

func convFlops(p kernels.Conv) float64 {
	return 2 * float64(p.N*p.OutH()*p.OutW()) * float64(p.KH*p.KW*p.Cin) * float64(p.Cout)
}

// BenchmarkConv is the forward convolution (with bias) at the suite's conv
// shapes, single-thread, in GFLOP/s, with wall and thread-CPU ms/op
// (benchLoop).
func BenchmarkConv(b *testing.B) {
	for _, r := range suite.Op("conv") {
		p := suiteConv(r)
		b.Run(r.Name(), func(b *testing.B) {
			kerneltest.BenchEachImpl(b, func(b *testing.B) {
				prev := kernels.SetThreads(1)
				defer kernels.SetThreads(prev)
				rng := kerneltest.Rng(1)
				x := kerneltest.RandBuf(rng, p.N*p.H*p.W*p.Cin).Data
				w := kerneltest.RandBuf(rng, p.KH*p.KW*p.Cin*p.Cout).Data
				bias := kerneltest.RandBuf(rng, p.Cout).Data
				y := make([]float32, p.N*p.OutH()*p.OutW()*p.Cout)
				benchLoop(b, convFlops(p), func() { kernels.Conv2d(p, x, w, bias, y) })
			})
		})
	}
}

// BenchmarkConvTrain is one training step of a convolution at the suite's
// train-conv shapes: forward, then dx, dw and db, single-thread, in GFLOP/s
// (three GEMM-sized passes).
func BenchmarkConvTrain(b *testing.B) {
	for _, r := range suite.Op("train-conv") {
		p := suiteConv(r)
		b.Run(r.Name(), func(b *testing.B) {
			kerneltest.BenchEachImpl(b, func(b *testing.B) {
				prev := kernels.SetThreads(1)
				defer kernels.SetThreads(prev)
				rng := kerneltest.Rng(1)
				x := kerneltest.RandBuf(rng, p.N*p.H*p.W*p.Cin).Data
				w := kerneltest.RandBuf(rng, p.KH*p.KW*p.Cin*p.Cout).Data
				bias := kerneltest.RandBuf(rng, p.Cout).Data
				ny := p.N * p.OutH() * p.OutW() * p.Cout
				y, dy := make([]float32, ny), kerneltest.RandBuf(rng, ny).Data
				dx, dw, db := make([]float32, len(x)), make([]float32, len(w)), make([]float32, p.Cout)
				benchLoop(b, 3*convFlops(p), func() {
					kernels.Conv2d(p, x, w, bias, y)
					kernels.Conv2dBackward(p, x, w, dy, dx, dw, db)
				})
			})
		})
	}
}

// TestConvNoAlloc checks that steady-state convolution calls allocate
// nothing, on the direct-kernel and the GEMM paths (single-thread: the
// worker pool's own bookkeeping is not ours).
func TestConvNoAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	defer kernels.SetThreads(kernels.SetThreads(1))
	kerneltest.ForEachImpl(t, func(t *testing.T) {
		for _, p := range []kernels.Conv{
			{N: 2, H: 9, W: 9, Cin: 8, Cout: 32, KH: 3, KW: 3, Stride: 1, Pad: 1, Act: kernels.ActReLU},
			{N: 1, H: 9, W: 9, Cin: 3, Cout: 16, KH: 3, KW: 3, Stride: 2, Pad: 1, Act: kernels.ActHardswish},
			{N: 1, H: 7, W: 7, Cin: 16, Cout: 24, KH: 1, KW: 1, Stride: 1},
			{N: 1, H: 7, W: 7, Cin: 16, Cout: 32, KH: 1, KW: 1, Stride: 1},
		} {
			x, w := make([]float32, p.N*p.H*p.W*p.Cin), make([]float32, p.KH*p.KW*p.Cin*p.Cout)
			y, b := make([]float32, p.N*p.OutH()*p.OutW()*p.Cout), make([]float32, p.Cout)
			dx, dw := make([]float32, len(x)), make([]float32, len(w))
			fwd := func() { kernels.Conv2d(p, x, w, b, y) }
			q := p
			q.Act = kernels.ActNone
			bwd := func() { kernels.Conv2dBackward(q, x, w, y, dx, dw, b) }
			fwd()
			bwd()
			require.Zero(t, testing.AllocsPerRun(5, fwd), "forward %+v", p)
			require.Zero(t, testing.AllocsPerRun(5, bwd), "backward %+v", p)
		}
	})
}
