package kernels_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nasrun/nasrun/internal/kerneltest"
	"github.com/nasrun/nasrun/kernels"
)

const bnEps = 1e-5

// bnOracle is batch-norm training forward in float64: y, batch mean and
// biased variance.
func bnOracle(rows, c int, x, gamma, beta []float64) (y, mean, variance []float64) {
	y, mean, variance = make([]float64, rows*c), make([]float64, c), make([]float64, c)
	for ch := range c {
		var s float64
		for r := range rows {
			s += x[r*c+ch]
		}
		m := s / float64(rows)
		var v float64
		for r := range rows {
			d := x[r*c+ch] - m
			v += d * d
		}
		v /= float64(rows)
		mean[ch], variance[ch] = m, v
		for r := range rows {
			y[r*c+ch] = (x[r*c+ch]-m)/math.Sqrt(v+bnEps)*gamma[ch] + beta[ch]
		}
	}
	return y, mean, variance
}

// bnGradOracle is the analytic batch-norm gradient in float64.
func bnGradOracle(rows, c int, x, gamma, dy []float64) (dx, dgamma, dbeta []float64) {
	_, mean, variance := bnOracle(rows, c, x, gamma, make([]float64, c))
	dx, dgamma, dbeta = make([]float64, rows*c), make([]float64, c), make([]float64, c)
	n := float64(rows)
	for ch := range c {
		inv := 1 / math.Sqrt(variance[ch]+bnEps)
		for r := range rows {
			dbeta[ch] += dy[r*c+ch]
			dgamma[ch] += dy[r*c+ch] * (x[r*c+ch] - mean[ch]) * inv
		}
		for r := range rows {
			xh := (x[r*c+ch] - mean[ch]) * inv
			dx[r*c+ch] = gamma[ch] * inv / n * (n*dy[r*c+ch] - dbeta[ch] - xh*dgamma[ch])
		}
	}
	return dx, dgamma, dbeta
}

// bnInput is activations with a per-channel offset and spread, so that the
// variance must not cancel against the mean.
func bnInput(rng *rand.Rand, rows, c int) *kerneltest.Buf {
	x := kerneltest.NewBuf(rows * c)
	off, spread := make([]float32, c), make([]float32, c)
	for ch := range c {
		off[ch], spread[ch] = rng.Float32()*20-10, 0.1+rng.Float32()*3
	}
	for i := range x.Data {
		x.Data[i] = off[i%max(c, 1)] + spread[i%max(c, 1)]*(rng.Float32()*2-1)
	}
	return x
}

func TestBatchNorm(t *testing.T) {
	kerneltest.ForEachImpl(t, func(t *testing.T) {
		rng := kerneltest.Rng(61)
		for _, sh := range append(rowShapes(rng), [2]int{2000, 16}, [2]int{1, 5}) {
			checkBatchNorm(t, rng, sh[0], sh[1])
		}
	})
}

func checkBatchNorm(t *testing.T, rng *rand.Rand, rows, c int) {
	t.Helper()
	if rows == 0 {
		return
	}
	name := kerneltest.Name("rows", rows, "c", c)
	x, gamma, beta, dy := bnInput(rng, rows, c), kerneltest.RandBuf(rng, c), kerneltest.RandBuf(rng, c), kerneltest.RandBuf(rng, rows*c)
	wy, wmean, wvar := bnOracle(rows, c, x.F64(), gamma.F64(), beta.F64())
	y, mean, variance := kerneltest.NewBuf(rows*c), kerneltest.NewBuf(c), kerneltest.NewBuf(c)
	kernels.BatchNormTrain(rows, c, bnEps, x.Data, gamma.Data, beta.Data, y.Data, mean.Data, variance.Data)
	for _, b := range []*kerneltest.Buf{x, y, mean, variance} {
		b.Check(t, name)
	}
	kerneltest.AssertClose(t, "BN mean "+name, wmean, mean.Data, 1e-6)
	kerneltest.AssertClose(t, "BN variance "+name, wvar, variance.Data, 1e-5)
	// y = x·s + t with s = gamma/σ, t = beta − mean·s (PyTorch's folded
	// form) loses about ε32·|mean|/σ to cancellation: σ = √eps when rows is 1.
	// The same holds for the gradient: tolerances grow with κ = max |mean|/σ.
	// (x − mean) itself carries ε32·|mean|/σ relative error, σ = √variance
	// without eps; a batch of two close values is ill-conditioned.
	kappa := 0.0
	for ch := range c {
		kappa = math.Max(kappa, math.Abs(wmean[ch])/math.Max(math.Sqrt(wvar[ch]), 1e-30))
	}
	ytol, dxtol := math.Min(1e-2, math.Max(3e-5, 1e-6*kappa)), math.Min(1e-2, math.Max(1e-4, 3e-6*kappa))
	kerneltest.AssertClose(t, "BN y "+name, wy, y.Data, ytol)

	x64 := x.F64() // before BatchNormInfer below overwrites x
	wdx, wdg, wdb := bnGradOracle(rows, c, x64, gamma.F64(), dy.F64())
	dx, dg, db := kerneltest.NewBuf(rows*c), kerneltest.NewBuf(c), kerneltest.NewBuf(c)
	kernels.BatchNormBackward(rows, c, bnEps, x.Data, gamma.Data, mean.Data, variance.Data, dy.Data, dx.Data, dg.Data, db.Data)
	for _, b := range []*kerneltest.Buf{dx, dg, db, dy} {
		b.Check(t, name)
	}
	dbMag, dgMag := make([]float64, c), make([]float64, c)
	for i, v := range dy.Data {
		ch := i % c
		dbMag[ch] += abs(float64(v))
		dgMag[ch] += abs(float64(v)*(x64[i]-wmean[ch])) / math.Sqrt(wvar[ch]+bnEps)
	}
	assertSums(t, "BN dbeta "+name, wdb, dbMag, db.Data, 1e-6)
	assertSums(t, "BN dgamma "+name, wdg, dgMag, dg.Data, dxtol)
	// dx is a difference of terms of size |gamma·dy|/σ, nearly cancelling
	// for few rows (exactly zero for one row): the tolerance is relative to
	// those terms.
	for i := range wdx {
		ch := i % c
		inv := 1 / math.Sqrt(wvar[ch]+bnEps)
		xh := (float64(x.Data[i]) - wmean[ch]) * inv
		term := math.Abs(float64(gamma.Data[ch])) * inv * (math.Abs(float64(dy.Data[i])) +
			dbMag[ch]/float64(rows) + math.Abs(xh)*dgMag[ch]/float64(rows))
		require.InDelta(t, wdx[i], dx.Data[i], dxtol*(math.Abs(wdx[i])+term)+1e-30, "BN dx %s[%d]", name, i)
	}

	// Inference with the batch statistics reproduces the training output;
	// in place.
	kernels.BatchNormInfer(rows, c, bnEps, x.Data, gamma.Data, beta.Data, mean.Data, variance.Data, x.Data)
	x.Check(t, name)
	kerneltest.AssertClose(t, "BN infer "+name, wy, x.Data, ytol)
}

// BatchNormBackward against float64 central differences of the float64
// forward, on L = Σ g·y.
func TestBatchNormFiniteDifferences(t *testing.T) {
	rows, c := 6, 5
	rng := kerneltest.Rng(71)
	x, gamma, beta, g := bnInput(rng, rows, c), kerneltest.RandBuf(rng, c), kerneltest.RandBuf(rng, c), kerneltest.RandBuf(rng, rows*c)
	loss := func(x, gamma, beta []float64) float64 {
		y, _, _ := bnOracle(rows, c, x, gamma, beta)
		var l float64
		for i, v := range y {
			l += float64(g.Data[i]) * v
		}
		return l
	}
	diff := func(v []float64, x, gamma, beta []float64) []float64 {
		out := make([]float64, len(v))
		for i := range v {
			h := 1e-6 * (1 + math.Abs(v[i]))
			o := v[i]
			v[i] = o + h
			lp := loss(x, gamma, beta)
			v[i] = o - h
			lm := loss(x, gamma, beta)
			v[i] = o
			out[i] = (lp - lm) / (2 * h)
		}
		return out
	}
	x64, g64, b64 := x.F64(), gamma.F64(), beta.F64()
	wdx, wdg, wdb := diff(x64, x64, g64, b64), diff(g64, x64, g64, b64), diff(b64, x64, g64, b64)
	kerneltest.ForEachImpl(t, func(t *testing.T) {
		y, mean, variance := make([]float32, rows*c), make([]float32, c), make([]float32, c)
		kernels.BatchNormTrain(rows, c, bnEps, x.Data, gamma.Data, beta.Data, y, mean, variance)
		dx, dg, db := make([]float32, rows*c), make([]float32, c), make([]float32, c)
		kernels.BatchNormBackward(rows, c, bnEps, x.Data, gamma.Data, mean, variance, g.Data, dx, dg, db)
		kerneltest.AssertClose(t, "dx", wdx, dx, 1e-4)
		kerneltest.AssertClose(t, "dgamma", wdg, dg, 1e-4)
		kerneltest.AssertClose(t, "dbeta", wdb, db, 1e-4)
	})
}

func TestBatchNormPanics(t *testing.T) {
	require.PanicsWithValue(t, "kernels.BatchNormTrain: len(y) = 5, want 6", func() {
		v := make([]float32, 3)
		kernels.BatchNormTrain(2, 3, bnEps, make([]float32, 6), v, v, make([]float32, 5), v, v)
	})
	require.PanicsWithValue(t, "kernels.BatchNormBackward: len(variance) = 2, want 3", func() {
		v := make([]float32, 3)
		kernels.BatchNormBackward(2, 3, bnEps, make([]float32, 6), v, v, v[:2], make([]float32, 6), make([]float32, 6), v, v)
	})
}

// nearKink reports whether v is too close to a kink of a for float32 and
// float64 to agree on the derivative's branch.
func nearKink(a kernels.Act, v float64) bool {
	var ks []float64
	switch a {
	case kernels.ActReLU:
		ks = []float64{0}
	case kernels.ActReLU6:
		ks = []float64{0, 6}
	case kernels.ActHardswish, kernels.ActHardsigmoid:
		ks = []float64{-3, 3}
	}
	for _, k := range ks {
		if math.Abs(v-k) < 1e-3 {
			return true
		}
	}
	return false
}

// TestBatchNormAct checks the fused batch norm + activation, forward and
// backward, against float64: y = act(BN(x)) and the BN gradient of
// g = dy·act'(BN(x)); with the implementation's fused kernels and with the
// composed primitives.
func TestBatchNormAct(t *testing.T) {
	kerneltest.ForEachImpl(t, func(t *testing.T) {
		for _, fused := range []bool{true, false} {
			t.Run(fmt.Sprintf("fused=%v", fused), func(t *testing.T) {
				defer kernels.SetFusedBatchNorm(kernels.SetFusedBatchNorm(fused))
				rng := kerneltest.Rng(67)
				shapes := append(rowShapes(rng), [2]int{2000, 16}, [2]int{1, 5}, [2]int{4100, 24}, [2]int{700, 130})
				for i, sh := range shapes {
					checkBatchNormAct(t, rng, sh[0], sh[1], allActs[i%len(allActs)])
				}
				for _, a := range allActs {
					checkBatchNormAct(t, rng, 3001, 33, a) // threaded
					// Row counts off the four-row loops, channel counts off the
					// vectors and the folding.
					for _, sh := range [][2]int{{1, 17}, {7, 15}, {6, 64}, {9, 79}, {300, 8}} {
						checkBatchNormAct(t, rng, sh[0], sh[1], a)
					}
				}
			})
		}
	})
}

func checkBatchNormAct(t *testing.T, rng *rand.Rand, rows, c int, act kernels.Act) {
	t.Helper()
	if rows == 0 {
		return
	}
	name := kerneltest.Name("rows", rows, "c", c, "act", act)
	x, gamma, beta, dy := bnInput(rng, rows, c), kerneltest.RandBuf(rng, c), kerneltest.RandBuf(rng, c), kerneltest.RandBuf(rng, rows*c)
	for ch := range c {
		beta.Data[ch] *= 4 // spread the activation's input over its kinks
	}
	// Move inputs whose normalised value sits on a kink (rarely needed).
	var z []float64
	for range 5 {
		z, _, _ = bnOracle(rows, c, x.F64(), gamma.F64(), beta.F64())
		moved := false
		for i, v := range z {
			if nearKink(act, v) {
				x.Data[i] += 0.01 * (1 + float32(math.Abs(float64(x.Data[i]))))
				moved = true
			}
		}
		if !moved {
			break
		}
	}
	_, wmean, wvar := bnOracle(rows, c, x.F64(), gamma.F64(), beta.F64())
	wy, g := make([]float64, len(z)), make([]float64, len(z))
	for i, v := range z {
		wy[i] = actOracle(act, v)
		g[i] = float64(dy.Data[i]) * gradOracle(act, v)
	}
	y, mean, variance := kerneltest.NewBuf(rows*c), kerneltest.NewBuf(c), kerneltest.NewBuf(c)
	kernels.BatchNormActTrain(rows, c, bnEps, act, x.Data, gamma.Data, beta.Data, y.Data, mean.Data, variance.Data)
	for _, b := range []*kerneltest.Buf{x, gamma, beta, y, mean, variance} {
		b.Check(t, name)
	}
	kerneltest.AssertClose(t, "BN+act mean "+name, wmean, mean.Data, 1e-6)
	kerneltest.AssertClose(t, "BN+act variance "+name, wvar, variance.Data, 1e-5)
	kappa := 0.0
	for ch := range c {
		kappa = math.Max(kappa, math.Abs(wmean[ch])/math.Max(math.Sqrt(wvar[ch]), 1e-30))
	}
	ytol, dxtol := math.Min(1e-2, math.Max(3e-5, 1e-6*kappa)), math.Min(1e-2, math.Max(1e-4, 3e-6*kappa))
	// The BN output z carries AssertClose's error ytol·(|z| + rms z); the
	// activation scales it by at most 1.5 (hardswish's slope).
	var ssz float64
	for _, v := range z {
		ssz += v * v
	}
	rmsz := math.Sqrt(ssz / float64(len(z)))
	for i := range wy {
		require.InDelta(t, wy[i], y.Data[i], ytol*(math.Abs(wy[i])+1.5*(math.Abs(z[i])+rmsz))+1e-30, "BN+act y %s[%d]", name, i)
	}

	x64 := x.F64()
	wdx, wdg, wdb := bnGradOracle(rows, c, x64, gamma.F64(), g)
	dx, dg, db := kerneltest.NewBuf(rows*c), kerneltest.NewBuf(c), kerneltest.NewBuf(c)
	kernels.BatchNormActBackward(rows, c, bnEps, act, x.Data, gamma.Data, beta.Data, mean.Data, variance.Data, dy.Data, dx.Data, dg.Data, db.Data)
	for _, b := range []*kerneltest.Buf{x, dx, dg, db, dy} {
		b.Check(t, name)
	}
	// g's size, with the change of act' over z's error (act'' ≤ 1/3).
	gMag := make([]float64, len(g))
	dbMag, dgMag := make([]float64, c), make([]float64, c)
	for i, v := range g {
		ch := i % c
		gMag[i] = abs(v) + abs(float64(dy.Data[i]))*(math.Abs(z[i])+rmsz)/3
		dbMag[ch] += gMag[i]
		dgMag[ch] += gMag[i] * abs(x64[i]-wmean[ch]) / math.Sqrt(wvar[ch]+bnEps)
	}
	assertSums(t, "BN+act dbeta "+name, wdb, dbMag, db.Data, dxtol)
	assertSums(t, "BN+act dgamma "+name, wdg, dgMag, dg.Data, dxtol)
	for i := range wdx {
		ch := i % c
		inv := 1 / math.Sqrt(wvar[ch]+bnEps)
		xh := (x64[i] - wmean[ch]) * inv
		term := math.Abs(float64(gamma.Data[ch])) * inv * (gMag[i] +
			dbMag[ch]/float64(rows) + math.Abs(xh)*dgMag[ch]/float64(rows))
		require.InDelta(t, wdx[i], dx.Data[i], dxtol*(math.Abs(wdx[i])+term)+1e-30, "BN+act dx %s[%d]", name, i)
	}

	// dx may overwrite dy.
	kernels.BatchNormActBackward(rows, c, bnEps, act, x.Data, gamma.Data, beta.Data, mean.Data, variance.Data, dy.Data, dy.Data, dg.Data, db.Data)
	dy.Check(t, name)
	require.Equal(t, dx.Data, dy.Data, "in place "+name)
}

func FuzzBatchNormAct(f *testing.F) {
	f.Add(uint16(300), uint16(24), uint8(3), uint64(1))
	f.Add(uint16(1), uint16(17), uint8(1), uint64(2))
	f.Fuzz(func(t *testing.T, rows, c uint16, act uint8, seed uint64) {
		r, cc, a := 1+int(rows)%3000, int(c)%200, allActs[int(act)%len(allActs)]
		for _, impl := range kernels.Available() {
			prev := kernels.SetImpl(impl)
			checkBatchNormAct(t, kerneltest.Rng(seed), r, cc, a)
			kernels.SetImpl(prev)
		}
	})
}

// BenchmarkBatchNormAct times training batch norm fused with hardswish,
// forward and backward, at the shapes of mbv3-like's batch-64 training step
// (rows = N·H·W), at the threads -cpu sets. GB/s counts the least traffic
// each pass could have: x read and y written forward; x and dy read and dx
// written backward. fused=false times the composed primitives where the
// implementation has fused kernels. The copy rows move the forward's bytes
// with the runtime's memmove, the bandwidth those figures compare with.
func BenchmarkBatchNormAct(b *testing.B) {
	for _, s := range []struct{ rows, c int }{{64 * 28 * 28, 16}, {64 * 28 * 28, 48}, {64 * 14 * 14, 72}, {64 * 14 * 14, 120}, {64 * 7 * 7, 240}} {
		n := s.rows * s.c
		rng := kerneltest.Rng(5)
		x, dy := kerneltest.RandBuf(rng, n).Data, kerneltest.RandBuf(rng, n).Data
		y, dx := make([]float32, n), make([]float32, n)
		gamma, beta := kerneltest.RandBuf(rng, s.c).Data, kerneltest.RandBuf(rng, s.c).Data
		mean, variance, dg, db := make([]float32, s.c), make([]float32, s.c), make([]float32, s.c), make([]float32, s.c)
		name := fmt.Sprintf("rows=%d,c=%d", s.rows, s.c)
		for _, fused := range []bool{true, false} {
			sfx := fmt.Sprintf("%s/fused=%v", name, fused)
			b.Run("fwd/"+sfx, func(b *testing.B) {
				defer kernels.SetFusedBatchNorm(kernels.SetFusedBatchNorm(fused))
				for b.Loop() {
					kernels.BatchNormActTrain(s.rows, s.c, bnEps, kernels.ActHardswish, x, gamma, beta, y, mean, variance)
				}
				kerneltest.ReportBytes(b, 8*float64(n))
			})
			b.Run("bwd/"+sfx, func(b *testing.B) {
				defer kernels.SetFusedBatchNorm(kernels.SetFusedBatchNorm(fused))
				kernels.BatchNormActTrain(s.rows, s.c, bnEps, kernels.ActHardswish, x, gamma, beta, y, mean, variance)
				for b.Loop() {
					kernels.BatchNormActBackward(s.rows, s.c, bnEps, kernels.ActHardswish, x, gamma, beta, mean, variance, dy, dx, dg, db)
				}
				kerneltest.ReportBytes(b, 12*float64(n))
			})
		}
		b.Run("copy/"+name, func(b *testing.B) {
			for b.Loop() {
				copy(y, x)
			}
			kerneltest.ReportBytes(b, 8*float64(n))
		})
	}
}
