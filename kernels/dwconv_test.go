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

// dwAct64 is the float64 oracle of each activation.
func dwAct64(a kernels.Act, v float64) float64 {
	relu6 := func(v float64) float64 { return math.Min(math.Max(v, 0), 6) }
	switch a {
	case kernels.ActReLU:
		return math.Max(v, 0)
	case kernels.ActReLU6:
		return relu6(v)
	case kernels.ActHardswish:
		return v * relu6(v+3) / 6
	case kernels.ActHardsigmoid:
		return relu6(v+3) / 6
	case kernels.ActSigmoid:
		return 1 / (1 + math.Exp(-v))
	}
	return v
}

// dwOracle is the direct formula of the forward pass, in float64.
func dwOracle(p kernels.DWConv, x, w, bias []float64) []float64 {
	y, _ := dwOracleScaled(p, x, w, bias)
	return y
}

// dwOracleScaled also returns, per output, the sum of the absolute values
// of its terms: the scale of the rounding error of any summation order.
func dwOracleScaled(p kernels.DWConv, x, w, bias []float64) (y, scale []float64) {
	oh, ow, c := p.OutH(), p.OutW(), p.C
	y = make([]float64, p.N*oh*ow*c)
	scale = make([]float64, len(y))
	for n := range p.N {
		for oy := range oh {
			for ox := range ow {
				for ch := range c {
					s, a := 0.0, 0.0
					if bias != nil {
						s, a = bias[ch], math.Abs(bias[ch])
					}
					for ky := range p.K {
						for kx := range p.K {
							iy, ix := oy*p.Stride-p.Pad+ky, ox*p.Stride-p.Pad+kx
							if iy >= 0 && iy < p.H && ix >= 0 && ix < p.W {
								t := w[(ky*p.K+kx)*c+ch] * x[((n*p.H+iy)*p.W+ix)*c+ch]
								s += t
								a += math.Abs(t)
							}
						}
					}
					i := ((n*oh+oy)*ow+ox)*c + ch
					y[i], scale[i] = dwAct64(p.Act, s), a
				}
			}
		}
	}
	return y, scale
}

// assertScaled fails t unless |got[i] − want[i]| ≤ rtol·(scale[i] + |want[i]|)
// for every i: float32 sums in any order stay within a small multiple of
// ε·Σ|terms| of the exact value, and the result's own rounding within ε·|want|.
func assertScaled(t *testing.T, name string, want, scale []float64, got []float32, rtol float64) {
	t.Helper()
	require.Len(t, got, len(want), name)
	bad := 0
	for i, w := range want {
		g := float64(got[i])
		if math.IsNaN(g) || math.Abs(g-w) > rtol*(scale[i]+math.Abs(w))+1e-30 {
			if bad < 5 {
				t.Errorf("%s[%d] = %v, want %v (scale %g, rtol %g)", name, i, g, w, scale[i], rtol)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Fatalf("%s: %d of %d elements out of tolerance", name, bad, len(want))
	}
}

// dwOracleBackward returns dx, dw, db of the convolution without
// activation for output gradient dy, by the chain rule on the direct
// formula, and the sums of their terms' absolute values (sx, sw, sb).
func dwOracleBackward(p kernels.DWConv, x, w, dy []float64) (dx, dw, db, sx, sw, sb []float64) {
	oh, ow, c := p.OutH(), p.OutW(), p.C
	dx, sx = make([]float64, len(x)), make([]float64, len(x))
	dw, sw = make([]float64, len(w)), make([]float64, len(w))
	db, sb = make([]float64, c), make([]float64, c)
	for n := range p.N {
		for oy := range oh {
			for ox := range ow {
				for ch := range c {
					g := dy[((n*oh+oy)*ow+ox)*c+ch]
					db[ch] += g
					sb[ch] += math.Abs(g)
					for ky := range p.K {
						for kx := range p.K {
							iy, ix := oy*p.Stride-p.Pad+ky, ox*p.Stride-p.Pad+kx
							if iy >= 0 && iy < p.H && ix >= 0 && ix < p.W {
								xi := ((n*p.H+iy)*p.W+ix)*c + ch
								wi := (ky*p.K+kx)*c + ch
								dx[xi] += w[wi] * g
								dw[wi] += x[xi] * g
								sx[xi] += math.Abs(w[wi] * g)
								sw[wi] += math.Abs(x[xi] * g)
							}
						}
					}
				}
			}
		}
	}
	return dx, dw, db, sx, sw, sb
}

var dwChannels = []int{1, 3, 7, 8, 15, 16, 17, 24, 33, 40}

// randDW draws a random convolution; k3or5 restricts K to the assembly's windows.
func randDW(rng *rand.Rand, k3or5 bool) kernels.DWConv {
	k := kerneltest.Pick(rng, 3, 5)
	if !k3or5 {
		k = kerneltest.Pick(rng, 3, 3, 5, 5, 1, 2, 7)
	}
	p := kernels.DWConv{
		N: 1 + rng.IntN(3), K: k, Stride: kerneltest.Pick(rng, 1, 2), Pad: rng.IntN(k/2 + 1),
		C:   kerneltest.Pick(rng, dwChannels...),
		H:   kerneltest.Pick(rng, 1, 2, 3, 4, 5, 7, 8, 11, 14, 17),
		W:   kerneltest.Pick(rng, 1, 2, 3, 4, 5, 7, 8, 11, 14, 17, 22),
		Act: kernels.Act(rng.IntN(6)),
	}
	p.H = max(p.H, p.K-2*p.Pad)
	p.W = max(p.W, p.K-2*p.Pad)
	return p
}

// checkDWForward runs the forward pass on random data and compares it with
// the oracle, with and without bias.
func checkDWForward(t *testing.T, rng *rand.Rand, p kernels.DWConv, withBias bool) {
	t.Helper()
	oh, ow := p.OutH(), p.OutW()
	x := kerneltest.RandBuf(rng, p.N*p.H*p.W*p.C)
	w := kerneltest.RandBuf(rng, p.K*p.K*p.C)
	var bias *kerneltest.Buf
	var b32 []float32
	var b64 []float64
	if withBias {
		bias = kerneltest.RandBuf(rng, p.C)
		b32, b64 = bias.Data, bias.F64()
	}
	y := kerneltest.NewBuf(p.N * oh * ow * p.C)
	kernels.DepthwiseConv2d(p, x.Data, w.Data, b32, y.Data)
	name := fmt.Sprintf("%+v bias=%v", p, withBias)
	for _, b := range []*kerneltest.Buf{x, w, y} {
		b.Check(t, name)
	}
	if bias != nil {
		bias.Check(t, name)
	}
	want, scale := dwOracleScaled(p, x.F64(), w.F64(), b64)
	assertScaled(t, "y "+name, want, scale, y.Data, 1e-5)
}

// checkDWBackward runs the backward pass (every subset of outputs when all
// is set, else all three) and compares it with the oracle.
func checkDWBackward(t *testing.T, rng *rand.Rand, p kernels.DWConv, subsets bool) {
	t.Helper()
	p.Act = kernels.ActNone
	oh, ow := p.OutH(), p.OutW()
	x := kerneltest.RandBuf(rng, p.N*p.H*p.W*p.C)
	w := kerneltest.RandBuf(rng, p.K*p.K*p.C)
	dy := kerneltest.RandBuf(rng, p.N*oh*ow*p.C)
	wantDx, wantDw, wantDb, sx, sw, sb := dwOracleBackward(p, x.F64(), w.F64(), dy.F64())
	masks := []int{7}
	if subsets {
		masks = []int{1, 2, 3, 4, 5, 6, 7}
	}
	for _, m := range masks {
		name := fmt.Sprintf("%+v outputs=%03b", p, m)
		var dx, dw, db *kerneltest.Buf
		var dx32, dw32, db32 []float32
		if m&1 != 0 {
			dx = kerneltest.NewBuf(len(x.Data))
			dx32 = dx.Data
		}
		if m&2 != 0 {
			dw = kerneltest.RandBuf(rng, len(w.Data)) // garbage in: must be overwritten
			dw32 = dw.Data
		}
		if m&4 != 0 {
			db = kerneltest.RandBuf(rng, p.C)
			db32 = db.Data
		}
		kernels.DepthwiseConv2dBackward(p, x.Data, w.Data, dy.Data, dx32, dw32, db32)
		for _, b := range []*kerneltest.Buf{x, w, dy, dx, dw, db} {
			if b != nil {
				b.Check(t, name)
			}
		}
		if dx != nil {
			assertScaled(t, "dx "+name, wantDx, sx, dx.Data, 1e-5)
		}
		if dw != nil {
			assertScaled(t, "dw "+name, wantDw, sw, dw.Data, 2e-5)
		}
		if db != nil {
			assertScaled(t, "db "+name, wantDb, sb, db.Data, 2e-5)
		}
	}
}

func TestDepthwiseConv2dRandom(t *testing.T) {
	kerneltest.ForEachImpl(t, func(t *testing.T) {
		for i := range 400 {
			rng := kerneltest.Rng(1, uint64(i))
			p := randDW(rng, i%2 == 0)
			checkDWForward(t, rng, p, i%3 != 0)
			checkDWBackward(t, rng, p, i%10 == 0)
		}
	})
}

// TestDepthwiseConv2dSweep covers every assembly window, stride and pad on
// widths 1..21 (every tile-width combination and border case), with a full
// and a masked channel block, single- and multi-threaded.
func TestDepthwiseConv2dSweep(t *testing.T) {
	kerneltest.ForEachImpl(t, func(t *testing.T) {
		for _, threads := range []int{1, 2} {
			prev := kernels.SetThreads(threads)
			i := 0
			for _, k := range []int{3, 5} {
				for _, s := range []int{1, 2} {
					for pad := 0; pad <= k/2; pad++ {
						for wd := max(1, k-2*pad); wd <= 21; wd++ {
							i++
							rng := kerneltest.Rng(2, uint64(i), uint64(threads))
							p := kernels.DWConv{N: 1 + i%2, H: kerneltest.Pick(rng, 5, 6, 9), W: wd,
								C: kerneltest.Pick(rng, 16, 17, 24, 8, 9), K: k, Stride: s, Pad: pad,
								Act: kernels.Act(i % 6)}
							p.H = max(p.H, k-2*pad)
							checkDWForward(t, rng, p, i%2 == 0)
							checkDWBackward(t, rng, p, false)
						}
					}
				}
			}
			kernels.SetThreads(prev)
		}
	})
}

// TestDepthwiseConv2dOddPads covers pads beyond K/2 (up to K+2: output
// pixels whose window sees little or none of the input, a negative pad in
// the input gradient) and stride 3 (input-gradient phases with no tap).
func TestDepthwiseConv2dOddPads(t *testing.T) {
	kerneltest.ForEachImpl(t, func(t *testing.T) {
		i := 0
		for _, k := range []int{1, 3, 5} {
			for _, s := range []int{1, 2, 3} {
				for pad := 0; pad <= k+2; pad++ {
					for _, h := range []int{1, 2, 5, 9} {
						i++
						rng := kerneltest.Rng(6, uint64(i))
						p := kernels.DWConv{N: 2, H: h, W: h + 1, C: 17, K: k, Stride: s, Pad: pad, Act: kernels.Act(i % 6)}
						if p.H+2*p.Pad < p.K || p.W+2*p.Pad < p.K {
							continue
						}
						checkDWForward(t, rng, p, i%2 == 0)
						checkDWBackward(t, rng, p, i%5 == 0)
					}
				}
			}
		}
	})
}

// TestDepthwiseConv2dSuiteShapes runs the benchmark suite's shapes once.
func TestDepthwiseConv2dSuiteShapes(t *testing.T) {
	if testing.Short() {
		t.Skip("large shapes")
	}
	kerneltest.ForEachImpl(t, func(t *testing.T) {
		for i, r := range append(suite.Op("dwconv"), suite.Op("train-dw")...) {
			rng := kerneltest.Rng(3, uint64(i))
			p := kernels.DWConv{N: min(r.N, 2), H: r.H, W: r.W, C: r.C, K: r.K, Stride: r.S, Pad: r.P, Act: kernels.ActReLU6}
			checkDWForward(t, rng, p, true)
			checkDWBackward(t, rng, p, false)
		}
	})
}

// TestDepthwiseConv2dGradFiniteDiff checks the backward pass against
// central finite differences of the float64 forward oracle on a tiny case:
// L = Σ r·conv(x, w, b) for a fixed random r.
func TestDepthwiseConv2dGradFiniteDiff(t *testing.T) {
	kerneltest.ForEachImpl(t, func(t *testing.T) {
		for _, s := range []int{1, 2} {
			p := kernels.DWConv{N: 2, H: 5, W: 4, C: 3, K: 3, Stride: s, Pad: 1}
			rng := kerneltest.Rng(4, uint64(s))
			x := kerneltest.RandBuf(rng, p.N*p.H*p.W*p.C)
			w := kerneltest.RandBuf(rng, p.K*p.K*p.C)
			b := kerneltest.RandBuf(rng, p.C)
			r := kerneltest.RandBuf(rng, p.N*p.OutH()*p.OutW()*p.C)
			x64, w64, b64, r64 := x.F64(), w.F64(), b.F64(), r.F64()
			loss := func() float64 {
				l := 0.0
				for i, v := range dwOracle(p, x64, w64, b64) {
					l += v * r64[i]
				}
				return l
			}
			fd := func(v []float64) []float64 {
				g := make([]float64, len(v))
				for i := range v {
					const h = 1e-6
					old := v[i]
					v[i] = old + h
					lp := loss()
					v[i] = old - h
					lm := loss()
					v[i] = old
					g[i] = (lp - lm) / (2 * h)
				}
				return g
			}
			dx, dw, db := make([]float32, len(x.Data)), make([]float32, len(w.Data)), make([]float32, p.C)
			kernels.DepthwiseConv2dBackward(p, x.Data, w.Data, r.Data, dx, dw, db)
			kerneltest.AssertClose(t, "dx", fd(x64), dx, 1e-5)
			kerneltest.AssertClose(t, "dw", fd(w64), dw, 1e-5)
			kerneltest.AssertClose(t, "db", fd(b64), db, 1e-5)
		}
	})
}

func TestDepthwiseConv2dPanics(t *testing.T) {
	p := kernels.DWConv{N: 1, H: 4, W: 4, C: 2, K: 3, Stride: 1, Pad: 1}
	x, w, y := make([]float32, 32), make([]float32, 18), make([]float32, 32)
	require.PanicsWithValue(t, "kernels.DepthwiseConv2d: x has 31 elements, want N·H·W·C = 32 ({N:1 H:4 W:4 C:2 K:3 Stride:1 Pad:1 Act:none}, OH=4 OW=4)",
		func() { kernels.DepthwiseConv2d(p, x[:31], w, nil, y) })
	require.Panics(t, func() { kernels.DepthwiseConv2d(p, x, w[:17], nil, y) })
	require.Panics(t, func() { kernels.DepthwiseConv2d(p, x, w, make([]float32, 3), y) })
	require.Panics(t, func() { kernels.DepthwiseConv2d(p, x, w, nil, y[:30]) })
	require.Panics(t, func() {
		kernels.DepthwiseConv2d(kernels.DWConv{N: 1, H: 1, W: 1, C: 1, K: 3, Stride: 1}, x[:1], w[:9], nil, y[:1])
	})
	require.Panics(t, func() { kernels.DepthwiseConv2dBackward(p, x, w, y, make([]float32, 31), nil, nil) })
	require.Panics(t, func() { kernels.DepthwiseConv2dBackward(p, x, w, y[:31], nil, nil, make([]float32, 2)) })
	p.Act = kernels.ActReLU
	require.PanicsWithValue(t, "kernels.DepthwiseConv2dBackward: p.Act is relu, want none: apply the activation's backward to dy first and pass the pre-activation gradient",
		func() { kernels.DepthwiseConv2dBackward(p, x, w, y, x, nil, nil) })
}

// TestDepthwiseConv2dNoAlloc checks that single-threaded calls allocate
// nothing once the scratch is warm.
func TestDepthwiseConv2dNoAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	prev := kernels.SetThreads(1)
	defer kernels.SetThreads(prev)
	kerneltest.ForEachImpl(t, func(t *testing.T) {
		for _, s := range []int{1, 2} {
			p := kernels.DWConv{N: 2, H: 9, W: 9, C: 24, K: 3, Stride: s, Pad: 1, Act: kernels.ActReLU}
			oh, ow := p.OutH(), p.OutW()
			x, w, b := make([]float32, p.N*p.H*p.W*p.C), make([]float32, 9*p.C), make([]float32, p.C)
			y := make([]float32, p.N*oh*ow*p.C)
			dx, dw := make([]float32, len(x)), make([]float32, len(w))
			fwd := func() { kernels.DepthwiseConv2d(p, x, w, b, y) }
			p0 := p
			p0.Act = kernels.ActNone
			bwd := func() { kernels.DepthwiseConv2dBackward(p0, x, w, y, dx, dw, b) }
			fwd()
			bwd()
			require.Zero(t, testing.AllocsPerRun(20, fwd), "forward allocations")
			require.Zero(t, testing.AllocsPerRun(20, bwd), "backward allocations")
		}
	})
}

func FuzzDepthwiseConv2d(f *testing.F) {
	f.Add(uint8(1), uint8(7), uint8(9), uint8(17), uint8(3), uint8(1), uint8(1), uint8(3), uint64(1))
	f.Add(uint8(2), uint8(4), uint8(1), uint8(40), uint8(5), uint8(2), uint8(2), uint8(1), uint64(2))
	f.Add(uint8(1), uint8(1), uint8(1), uint8(1), uint8(1), uint8(1), uint8(0), uint8(0), uint64(3))
	f.Add(uint8(1), uint8(15), uint8(19), uint8(0), uint8(0), uint8(68), uint8(58), uint8(0), uint64(2)) // cancelling sums
	f.Fuzz(func(t *testing.T, n, h, w, c, k, s, pad, act uint8, seed uint64) {
		p := kernels.DWConv{N: 1 + int(n)%3, H: 1 + int(h)%20, W: 1 + int(w)%20, C: 1 + int(c)%48,
			K: 1 + int(k)%7, Stride: 1 + int(s)%3, Act: kernels.Act(int(act) % 6)}
		p.Pad = int(pad) % (p.K/2 + 1)
		if p.H+2*p.Pad < p.K || p.W+2*p.Pad < p.K {
			t.Skip("window larger than the padded input")
		}
		kerneltest.ForEachImpl(t, func(t *testing.T) {
			rng := kerneltest.Rng(5, seed)
			checkDWForward(t, rng, p, seed%2 == 0)
			checkDWBackward(t, rng, p, false)
		})
	})
}
