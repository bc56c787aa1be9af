package kernels_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nasrun/nasrun/internal/kerneltest"
	"github.com/nasrun/nasrun/kernels"
)

func TestFlatOps(t *testing.T) {
	kerneltest.ForEachImpl(t, func(t *testing.T) {
		for i, n := range append(flatLens, 200003) { // the last is threaded when Threads() > 1
			rng := kerneltest.Rng(11, uint64(i))
			name := kerneltest.Name("n", n)
			a, b := kerneltest.RandBuf(rng, n), kerneltest.RandBuf(rng, n)
			alpha := rng.Float32()*4 - 2
			add := make([]float64, n)
			axpy := make([]float64, n)
			scale := make([]float64, n)
			for i := range add {
				av, bv := float64(a.Data[i]), float64(b.Data[i])
				add[i] = av + bv
				axpy[i] = bv + float64(alpha)*av
				scale[i] = float64(alpha) * av
			}
			y := kerneltest.NewBuf(n)
			kernels.Add(a.Data, b.Data, y.Data)
			y.Check(t, name)
			kerneltest.AssertClose(t, "Add "+name, add, y.Data, 1e-6)
			y2 := kerneltest.NewBuf(n)
			kernels.Scale(alpha, a.Data, y2.Data)
			y2.Check(t, name)
			kerneltest.AssertClose(t, "Scale "+name, scale, y2.Data, 1e-6)

			// Aliased forms: y = a + y, y += alpha·x, y = alpha·y.
			copy(y.Data, b.Data)
			kernels.Add(a.Data, y.Data, y.Data)
			kerneltest.AssertClose(t, "Add aliased "+name, add, y.Data, 1e-6)
			kernels.Axpy(alpha, a.Data, b.Data)
			b.Check(t, name)
			kerneltest.AssertClose(t, "Axpy "+name, axpy, b.Data, 1e-6)
			kernels.Scale(alpha, a.Data, a.Data)
			a.Check(t, name)
			kerneltest.AssertClose(t, "Scale in place "+name, scale, a.Data, 1e-6)

			var s float64
			for _, v := range b.Data {
				s += float64(v)
			}
			require.InDelta(t, s, kernels.Sum(b.Data), 1e-6*(1+abs(s)), "Sum %s", name)
		}
	})
}

// assertSums checks sums: got[i] within rtol·(|want[i]| + mag[i]) of
// want[i], where mag[i] is the sum of the magnitudes of want[i]'s terms
// (float32 accumulation error scales with it, not with the result, which
// may cancel to near zero).
func assertSums(t testing.TB, name string, want, mag []float64, got []float32, rtol float64) {
	t.Helper()
	require.Len(t, got, len(want), name)
	for i, w := range want {
		require.InDelta(t, w, got[i], rtol*(abs(w)+mag[i])+1e-30, "%s[%d]", name, i)
	}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

// rowShapes are (rows, c) pairs with channel tails of every width and rows
// both under and over the float32 accumulation block.
func rowShapes(rng *rand.Rand) [][2]int {
	out := [][2]int{{1, 1}, {1, 16}, {0, 5}, {3, 0}, {1, 17}, {5, 3}, {4, 8}, {9, 7}, {2, 33}, {300, 24}, {257, 40}, {7, 96}, {513, 17}, {6, 130}}
	for range 8 {
		out = append(out, [2]int{1 + rng.IntN(40), 1 + rng.IntN(70)})
	}
	return out
}

func TestBiasOps(t *testing.T) {
	kerneltest.ForEachImpl(t, func(t *testing.T) {
		rng := kerneltest.Rng(21)
		for _, sh := range rowShapes(rng) {
			checkBias(t, rng, sh[0], sh[1])
		}
	})
}

func checkBias(t *testing.T, rng *rand.Rand, rows, c int) {
	t.Helper()
	name := kerneltest.Name("rows", rows, "c", c)
	y, bias := kerneltest.RandBuf(rng, rows*c), kerneltest.RandBuf(rng, c)
	want := make([]float64, rows*c)
	db, dbMag := make([]float64, c), make([]float64, c)
	for r := range rows {
		for ch := range c {
			want[r*c+ch] = float64(y.Data[r*c+ch]) + float64(bias.Data[ch])
			db[ch] += float64(y.Data[r*c+ch])
			dbMag[ch] += abs(float64(y.Data[r*c+ch]))
		}
	}
	g := kerneltest.NewBuf(c)
	kernels.BiasGrad(rows, c, y.Data, g.Data)
	g.Check(t, name)
	assertSums(t, "BiasGrad "+name, db, dbMag, g.Data, 1e-6)
	kernels.AddBias(rows, c, y.Data, bias.Data)
	y.Check(t, name)
	kerneltest.AssertClose(t, "AddBias "+name, want, y.Data, 1e-6)
}

func TestScaleChannels(t *testing.T) {
	kerneltest.ForEachImpl(t, func(t *testing.T) {
		rng := kerneltest.Rng(31)
		for _, sh := range [][3]int{{1, 1, 1}, {1, 49, 960}, {2, 3, 17}, {3, 7, 5}, {1, 1, 33}, {4, 9, 24}, {2, 300, 7}, {1, 5, 0}, {0, 4, 4}} {
			checkScaleChannels(t, rng, sh[0], sh[1], sh[2])
		}
		for range 10 {
			checkScaleChannels(t, rng, 1+rng.IntN(4), 1+rng.IntN(30), 1+rng.IntN(50))
		}
	})
}

func checkScaleChannels(t *testing.T, rng *rand.Rand, n, hw, c int) {
	t.Helper()
	name := kerneltest.Name("n", n, "hw", hw, "c", c)
	x, s, dy := kerneltest.RandBuf(rng, n*hw*c), kerneltest.RandBuf(rng, n*c), kerneltest.RandBuf(rng, n*hw*c)
	want := make([]float64, n*hw*c)
	dx := make([]float64, n*hw*c)
	ds, dsMag := make([]float64, n*c), make([]float64, n*c)
	for b := range n {
		for p := range hw {
			for ch := range c {
				i := (b*hw+p)*c + ch
				want[i] = float64(x.Data[i]) * float64(s.Data[b*c+ch])
				dx[i] = float64(dy.Data[i]) * float64(s.Data[b*c+ch])
				ds[b*c+ch] += float64(dy.Data[i]) * float64(x.Data[i])
				dsMag[b*c+ch] += abs(float64(dy.Data[i]) * float64(x.Data[i]))
			}
		}
	}
	y := kerneltest.NewBuf(n * hw * c)
	kernels.ScaleChannels(n, hw, c, x.Data, s.Data, y.Data)
	y.Check(t, name)
	kerneltest.AssertClose(t, "ScaleChannels "+name, want, y.Data, 1e-6)

	gx, gs := kerneltest.NewBuf(n*hw*c), kerneltest.NewBuf(n*c)
	kernels.ScaleChannelsBackward(n, hw, c, x.Data, s.Data, dy.Data, gx.Data, gs.Data)
	gx.Check(t, name)
	gs.Check(t, name)
	kerneltest.AssertClose(t, "ScaleChannelsBackward dx "+name, dx, gx.Data, 1e-6)
	assertSums(t, "ScaleChannelsBackward ds "+name, ds, dsMag, gs.Data, 1e-6)
	gs2 := kerneltest.NewBuf(n * c)
	kernels.ScaleChannelsBackward(n, hw, c, x.Data, s.Data, dy.Data, nil, gs2.Data)
	assertSums(t, "ScaleChannelsBackward ds only "+name, ds, dsMag, gs2.Data, 1e-6)
	dy2, gs3 := kerneltest.NewBuf(n*hw*c), kerneltest.NewBuf(n*c)
	copy(dy2.Data, dy.Data)
	kernels.ScaleChannelsBackward(n, hw, c, x.Data, s.Data, dy2.Data, dy2.Data, gs3.Data) // dx aliases dy, with ds
	dy2.Check(t, name)
	gs3.Check(t, name)
	kerneltest.AssertClose(t, "ScaleChannelsBackward dx in place "+name, dx, dy2.Data, 1e-6)
	assertSums(t, "ScaleChannelsBackward ds, dx in place "+name, ds, dsMag, gs3.Data, 1e-6)
	kernels.ScaleChannelsBackward(n, hw, c, x.Data, s.Data, dy.Data, dy.Data, nil) // dx aliases dy
	kerneltest.AssertClose(t, "ScaleChannelsBackward dx only "+name, dx, dy.Data, 1e-6)

	// AddChannels: y = x + t per image and channel, then in place.
	tb := kerneltest.RandBuf(rng, n*c)
	wadd := make([]float64, n*hw*c)
	for i := range wadd {
		b, ch := i/max(hw*c, 1), i%max(c, 1)
		wadd[i] = float64(x.Data[i]) + float64(tb.Data[b*c+ch])
	}
	ya := kerneltest.NewBuf(n * hw * c)
	kernels.AddChannels(n, hw, c, x.Data, tb.Data, ya.Data)
	ya.Check(t, name)
	tb.Check(t, name)
	kerneltest.AssertClose(t, "AddChannels "+name, wadd, ya.Data, 1e-6)
	xa := kerneltest.NewBuf(n * hw * c)
	copy(xa.Data, x.Data)
	kernels.AddChannels(n, hw, c, xa.Data, tb.Data, xa.Data)
	xa.Check(t, name)
	kerneltest.AssertClose(t, "AddChannels in place "+name, wadd, xa.Data, 1e-6)

	kernels.ScaleChannels(n, hw, c, x.Data, s.Data, x.Data) // in place
	x.Check(t, name)
	kerneltest.AssertClose(t, "ScaleChannels in place "+name, want, x.Data, 1e-6)
}

// The threaded paths: large row counts split over the pool.
func TestChannelOpsThreaded(t *testing.T) {
	prev := kernels.SetThreads(2)
	defer kernels.SetThreads(prev)
	kerneltest.ForEachImpl(t, func(t *testing.T) {
		rng := kerneltest.Rng(41)
		checkBias(t, rng, 3001, 40)
		checkScaleChannels(t, rng, 3, 1000, 33)
		checkBatchNorm(t, rng, 5003, 24)
		checkBatchNorm(t, rng, 7001, 13) // folded narrow rows, threaded
		checkBias(t, rng, 4099, 8)
		checkGAP(t, rng, 8, 1003, 17)
	})
}

func TestChannelOpsPanic(t *testing.T) {
	require.PanicsWithValue(t, "kernels.AddBias: len(bias) = 3, want 4", func() {
		kernels.AddBias(2, 4, make([]float32, 8), make([]float32, 3))
	})
	require.Panics(t, func() { kernels.ScaleChannels(2, 3, 4, make([]float32, 24), make([]float32, 7), make([]float32, 24)) })
	require.Panics(t, func() { kernels.BiasGrad(-1, 4, nil, make([]float32, 4)) })
	require.Panics(t, func() { kernels.Add(make([]float32, 3), make([]float32, 4), make([]float32, 3)) })
}

// Single-thread kernel calls do not allocate (scratch is recycled).
func TestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	prev := kernels.SetThreads(1)
	defer kernels.SetThreads(prev)
	rows, c := 1000, 40
	x, y := make([]float32, rows*c), make([]float32, rows*c)
	v := make([]float32, 10*c)
	kerneltest.ForEachImpl(t, func(t *testing.T) {
		for name, fn := range map[string]func(){
			"Activate": func() { kernels.Activate(kernels.ActHardswish, x, y) },
			"Backward": func() { kernels.ActivateBackward(kernels.ActHardswish, x, y, y) },
			"AddBias":  func() { kernels.AddBias(rows, c, y, v[:c]) },
			"BiasGrad": func() { kernels.BiasGrad(rows, c, y, v[:c]) },
			"BN":       func() { kernels.BatchNormTrain(rows, c, 1e-5, x, v[:c], v[c:2*c], y, v[2*c:3*c], v[3*c:4*c]) },
			"BNBackward": func() {
				kernels.BatchNormBackward(rows, c, 1e-5, x, v[:c], v[c:2*c], v[2*c:3*c], x, y, v[3*c:4*c], v[4*c:5*c])
			},
			"BNAct": func() {
				kernels.BatchNormActTrain(rows, c, 1e-5, kernels.ActHardswish, x, v[:c], v[c:2*c], y, v[2*c:3*c], v[3*c:4*c])
			},
			"BNActBackward": func() {
				kernels.BatchNormActBackward(rows, c, 1e-5, kernels.ActHardswish, x, v[:c], v[c:2*c], v[2*c:3*c], v[3*c:4*c], x, y, v[4*c:5*c], v[5*c:6*c])
			},
			"GAP":          func() { kernels.GlobalAvgPool(10, rows/10, c, x, v[:10*c]) },
			"ScaleChannel": func() { kernels.ScaleChannels(10, rows/10, c, x, v[:10*c], y) },
			"AddChannels":  func() { kernels.AddChannels(10, rows/10, c, x, v[:10*c], y) },
			"Axpy":         func() { kernels.Axpy(2, x, y) },
			"Scale":        func() { kernels.Scale(2, x, y) },
		} {
			require.Zero(t, testing.AllocsPerRun(20, fn), fmt.Sprint(name, " allocates"))
		}
	})
}

// Threaded calls do not allocate either: the loop bodies are pooled jobs
// (parallelFor's pattern).
func TestNoAllocsThreaded(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	prev := kernels.SetThreads(2)
	defer kernels.SetThreads(prev)
	rows, c := 4000, 40
	x, y := make([]float32, rows*c), make([]float32, rows*c)
	v := make([]float32, 100*c)
	for name, fn := range map[string]func(){
		"Add":      func() { kernels.Add(x, x, y) },
		"Axpy":     func() { kernels.Axpy(2, x, y) },
		"Scale":    func() { kernels.Scale(2, x, y) },
		"Activate": func() { kernels.Activate(kernels.ActHardswish, x, y) },
		"Backward": func() { kernels.ActivateBackward(kernels.ActHardswish, x, y, y) },
		"AddBias":  func() { kernels.AddBias(rows, c, y, v[:c]) },
		"BiasGrad": func() { kernels.BiasGrad(rows, c, y, v[:c]) },
		"BNAct": func() {
			kernels.BatchNormActTrain(rows, c, 1e-5, kernels.ActReLU, x, v[:c], v[c:2*c], y, v[2*c:3*c], v[3*c:4*c])
		},
		"BNActBackward": func() {
			kernels.BatchNormActBackward(rows, c, 1e-5, kernels.ActReLU, x, v[:c], v[c:2*c], v[2*c:3*c], v[3*c:4*c], x, y, v[4*c:5*c], v[5*c:6*c])
		},
		"GAP":          func() { kernels.GlobalAvgPool(100, rows/100, c, x, v) },
		"GAPBackward":  func() { kernels.GlobalAvgPoolBackward(100, rows/100, c, v, y) },
		"ScaleChannel": func() { kernels.ScaleChannels(100, rows/100, c, x, v, y) },
		"AddChannels":  func() { kernels.AddChannels(100, rows/100, c, x, v, y) },
		"ScaleBack":    func() { kernels.ScaleChannelsBackward(100, rows/100, c, x, v, x, y, v[:100*c]) },
	} {
		fn()
		require.Zero(t, testing.AllocsPerRun(20, fn), fmt.Sprint(name, " allocates"))
	}
}

func FuzzChannelOps(f *testing.F) {
	f.Add(uint16(3), uint16(5), uint16(17), uint64(1))
	f.Add(uint16(1), uint16(300), uint16(40), uint64(2))
	f.Fuzz(func(t *testing.T, n, hw, c uint16, seed uint64) {
		nn, h, cc := int(n)%5, int(hw)%600, int(c)%200
		for _, impl := range kernels.Available() {
			prev := kernels.SetImpl(impl)
			rng := kerneltest.Rng(seed)
			checkBias(t, rng, nn*h, cc)
			checkScaleChannels(t, rng, nn, h, cc)
			checkGAP(t, rng, nn, h, cc)
			checkBatchNorm(t, rng, nn*h, cc)
			kernels.SetImpl(prev)
		}
	})
}
