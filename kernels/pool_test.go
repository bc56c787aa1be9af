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

// poolOracle computes max or average pooling and its input gradient in
// float64, straight from the definition: padding cells never win a max, an
// average divides by K·K, and the gradient of a max goes to the first
// maximum in scan order.
func poolOracle(p kernels.Pool, isMax bool, x, dy []float64) (y, dx []float64) {
	oh, ow := p.OutH(), p.OutW()
	y = make([]float64, p.N*oh*ow*p.C)
	dx = make([]float64, len(x))
	at := func(n, h, w, c int) int { return ((n*p.H+h)*p.W+w)*p.C + c }
	for n := range p.N {
		for i := range oh {
			for j := range ow {
				for c := range p.C {
					o := ((n*oh+i)*ow+j)*p.C + c
					best, arg, sum := math.Inf(-1), -1, 0.0
					for r := range p.K {
						for q := range p.K {
							h, w := i*p.Stride+r-p.Pad, j*p.Stride+q-p.Pad
							if h < 0 || h >= p.H || w < 0 || w >= p.W {
								continue
							}
							v := x[at(n, h, w, c)]
							sum += v
							if v > best {
								best, arg = v, at(n, h, w, c)
							}
						}
					}
					if isMax {
						y[o] = best
						dx[arg] += dy[o]
						continue
					}
					k2 := float64(p.K * p.K)
					y[o] = sum / k2
					for r := range p.K {
						for q := range p.K {
							h, w := i*p.Stride+r-p.Pad, j*p.Stride+q-p.Pad
							if h >= 0 && h < p.H && w >= 0 && w < p.W {
								dx[at(n, h, w, c)] += dy[o] / k2
							}
						}
					}
				}
			}
		}
	}
	return y, dx
}

// checkPool runs the four pooling kernels on p with the active
// implementation and compares them to the oracle. With ties, x takes few
// distinct values so that windows often hold several maxima.
func checkPool(t *testing.T, rng *rand.Rand, p kernels.Pool, ties bool) {
	t.Helper()
	x := kerneltest.RandBuf(rng, p.N*p.H*p.W*p.C)
	if ties {
		for i := range x.Data {
			x.Data[i] = float32(rng.IntN(3))
		}
	}
	ny := p.N * p.OutH() * p.OutW() * p.C
	dy := kerneltest.RandBuf(rng, ny)
	for _, isMax := range []bool{true, false} {
		wantY, wantDx := poolOracle(p, isMax, x.F64(), dy.F64())
		y, dx := kerneltest.NewBuf(ny), kerneltest.NewBuf(len(x.Data))
		for i := range dx.Data {
			dx.Data[i] = 7 // overwritten, not accumulated
		}
		if isMax {
			kernels.MaxPool2d(p, x.Data, y.Data)
			kernels.MaxPool2dBackward(p, x.Data, dy.Data, dx.Data)
		} else {
			kernels.AvgPool2d(p, x.Data, y.Data)
			kernels.AvgPool2dBackward(p, dy.Data, dx.Data)
		}
		y.Check(t, "y")
		dx.Check(t, "dx")
		x.Check(t, "x")
		dy.Check(t, "dy")
		name := fmt.Sprintf("max=%v %+v", isMax, p)
		kerneltest.AssertClose(t, name+" y", wantY, y.Data, 1e-5)
		kerneltest.AssertClose(t, name+" dx", wantDx, dx.Data, 1e-5)
	}
}

func randPool(rng *rand.Rand) kernels.Pool {
	k := kerneltest.Pick(rng, 1, 2, 3, 3, 5)
	p := kernels.Pool{
		N:      1 + rng.IntN(3),
		H:      kerneltest.Pick(rng, 1, 2, 3, 5, 7, 8, 13),
		W:      kerneltest.Pick(rng, 1, 2, 3, 5, 7, 8, 13),
		C:      kerneltest.Pick(rng, 1, 3, 7, 8, 16, 17, 33, 64, 71, 100),
		K:      k,
		Stride: kerneltest.Pick(rng, 1, 2, 2, 3),
		Pad:    rng.IntN(k/2 + 1),
	}
	p.H = max(p.H, p.K-2*p.Pad)
	p.W = max(p.W, p.K-2*p.Pad)
	return p
}

func TestPool(t *testing.T) {
	kerneltest.ForEachImpl(t, func(t *testing.T) {
		for i := range 300 {
			rng := kerneltest.Rng(uint64(i))
			checkPool(t, rng, randPool(rng), i%4 == 3)
		}
		// The suite shapes, and one split over channel blocks.
		for i, r := range append(suite.Op("maxpool"), suite.Op("avgpool")...) {
			checkPool(t, kerneltest.Rng(1000, uint64(i)), kernels.Pool{N: r.N, H: r.H, W: r.W, C: r.C, K: r.K, Stride: r.S, Pad: r.P}, false)
		}
		checkPool(t, kerneltest.Rng(2000), kernels.Pool{N: 1, H: 9, W: 11, C: 80, K: 3, Stride: 1, Pad: 1}, true)
	})
}

func TestPoolSingleThread(t *testing.T) {
	prev := kernels.SetThreads(1)
	defer kernels.SetThreads(prev)
	kerneltest.ForEachImpl(t, func(t *testing.T) {
		checkPool(t, kerneltest.Rng(3000), kernels.Pool{N: 2, H: 9, W: 11, C: 33, K: 3, Stride: 2, Pad: 1}, true)
	})
}

func TestPoolPanics(t *testing.T) {
	p := kernels.Pool{N: 1, H: 4, W: 4, C: 2, K: 2, Stride: 2}
	x, y := make([]float32, 32), make([]float32, 8)
	require.PanicsWithValue(t, "kernels.MaxPool2d: len(y) = 7, want 8", func() { kernels.MaxPool2d(p, x, y[:7]) })
	require.PanicsWithValue(t, "kernels.AvgPool2d: len(x) = 31, want 32", func() { kernels.AvgPool2d(p, x[:31], y) })
	require.PanicsWithValue(t, "kernels.MaxPool2dBackward: len(dx) = 31, want 32", func() { kernels.MaxPool2dBackward(p, x, y, x[:31]) })
	require.PanicsWithValue(t, "kernels.AvgPool2dBackward: len(dy) = 9, want 8", func() { kernels.AvgPool2dBackward(p, make([]float32, 9), x) })
	require.Panics(t, func() { kernels.MaxPool2d(kernels.Pool{N: 1, H: 4, W: 4, C: 2, K: 2, Stride: 2, Pad: 2}, x, y) })
}

func FuzzPool(f *testing.F) {
	f.Add(uint8(1), uint8(5), uint8(7), uint8(17), uint8(3), uint8(2), uint8(1), false)
	f.Add(uint8(2), uint8(1), uint8(1), uint8(64), uint8(1), uint8(1), uint8(0), true)
	f.Fuzz(func(t *testing.T, n, h, w, c, k, s, pad uint8, ties bool) {
		p := kernels.Pool{N: 1 + int(n%3), H: 1 + int(h%16), W: 1 + int(w%16), C: 1 + int(c%80),
			K: 1 + int(k%5), Stride: 1 + int(s%3)}
		p.Pad = int(pad) % (p.K/2 + 1)
		if p.H+2*p.Pad < p.K || p.W+2*p.Pad < p.K {
			t.Skip()
		}
		kerneltest.ForEachImpl(t, func(t *testing.T) {
			checkPool(t, kerneltest.Rng(uint64(n), uint64(c)), p, ties)
		})
	})
}

func benchPool(b *testing.B, op string, fwd func(p kernels.Pool, x, y []float32)) {
	for _, r := range suite.Op(op) {
		p := kernels.Pool{N: r.N, H: r.H, W: r.W, C: r.C, K: r.K, Stride: r.S, Pad: r.P}
		b.Run(r.Name(), func(b *testing.B) {
			kerneltest.BenchEachImpl(b, func(b *testing.B) {
				prev := kernels.SetThreads(1)
				defer kernels.SetThreads(prev)
				rng := kerneltest.Rng(1)
				x := kerneltest.RandBuf(rng, p.N*p.H*p.W*p.C).Data
				y := make([]float32, p.N*p.OutH()*p.OutW()*p.C)
				// The "FLOPs" are the window's comparisons or additions.
				benchLoop(b, float64(len(y)*(p.K*p.K-1)), func() { fwd(p, x, y) })
				kerneltest.ReportBytes(b, float64(4*(len(x)+len(y))))
			})
		})
	}
}

// BenchmarkMaxPool reports GB/s over input and output, and wall and
// thread-CPU ms/op.
func BenchmarkMaxPool(b *testing.B) { benchPool(b, "maxpool", kernels.MaxPool2d) }

// BenchmarkAvgPool reports GB/s over input and output, and wall and
// thread-CPU ms/op.
func BenchmarkAvgPool(b *testing.B) { benchPool(b, "avgpool", kernels.AvgPool2d) }

// TestPoolNoAlloc checks that steady-state pooling calls allocate nothing
// (single-thread: the worker pool's own bookkeeping is not ours).
func TestPoolNoAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	defer kernels.SetThreads(kernels.SetThreads(1))
	p := kernels.Pool{N: 2, H: 9, W: 9, C: 32, K: 3, Stride: 2, Pad: 1}
	x := make([]float32, p.N*p.H*p.W*p.C)
	y := make([]float32, p.N*p.OutH()*p.OutW()*p.C)
	dx := make([]float32, len(x))
	kerneltest.ForEachImpl(t, func(t *testing.T) {
		for name, f := range map[string]func(){
			"max": func() { kernels.MaxPool2d(p, x, y) }, "avg": func() { kernels.AvgPool2d(p, x, y) },
			"maxback": func() { kernels.MaxPool2dBackward(p, x, y, dx) }, "avgback": func() { kernels.AvgPool2dBackward(p, y, dx) },
		} {
			f()
			require.Zero(t, testing.AllocsPerRun(10, f), name)
		}
	})
}
