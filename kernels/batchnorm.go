package kernels

import (
	"math"
	"strings"
)

// Batch norm over rows = N·H·W rows of C channels (NHWC). Statistics are
// per channel: sums over rows of C contiguous floats, vectorised across
// channels (colReduce); normalisation is one per-channel scale and shift
// (rowAffine). Sums accumulate in float32 blocks added in float64, and the
// variance is the two-pass Σ(x − mean)², so large means do not cancel.

// checkBN checks x (rows×c) and the per-channel vectors named, in order,
// by the comma-separated names.
func checkBN(op string, rows, c int, x []float32, names string, vecs ...[]float32) {
	checkDims(op, rows, c)
	checkLen(op, "x", len(x), rows*c)
	for i, v := range vecs {
		if len(v) != c {
			checkLen(op, strings.Split(names, ",")[i], len(v), c)
		}
	}
}

// BatchNormTrain normalises x with its own batch statistics:
// mean[ch] and variance[ch] (biased, divided by rows) are written, and
// y = (x − mean)/√(variance + eps)·gamma + beta. y may alias x.
func BatchNormTrain(rows, c int, eps float32, x, gamma, beta, y, mean, variance []float32) {
	checkBN("BatchNormTrain", rows, c, x, "gamma,beta,mean,variance", gamma, beta, mean, variance)
	checkLen("BatchNormTrain", "y", len(y), rows*c)
	if rows == 0 {
		clear(mean)
		clear(variance)
		return
	}
	k := elt()
	inv := 1 / float64(rows)
	colReduce(k, rows, c, x, nil, nil, nil, inv, mean, nil)
	colReduce(k, rows, c, x, mean, x, mean, inv, variance, nil)
	bnNormalize(k, rows, c, eps, x, gamma, beta, mean, variance, y)
}

// BatchNormInfer normalises x with running statistics:
// y = (x − runMean)/√(runVar + eps)·gamma + beta. y may alias x.
func BatchNormInfer(rows, c int, eps float32, x, gamma, beta, runMean, runVar, y []float32) {
	checkBN("BatchNormInfer", rows, c, x, "gamma,beta,runMean,runVar", gamma, beta, runMean, runVar)
	checkLen("BatchNormInfer", "y", len(y), rows*c)
	bnNormalize(elt(), rows, c, eps, x, gamma, beta, runMean, runVar, y)
}

// bnNormalize folds the statistics into one scale and shift per channel
// (in float64) and applies them.
func bnNormalize(k *eltKernels, rows, c int, eps float32, x, gamma, beta, mean, variance, y []float32) {
	sc := getEltScratch(2*c, 0)
	s, t := sc.f32[:c], sc.f32[c:]
	for ch := range s {
		g := float64(gamma[ch]) / math.Sqrt(float64(variance[ch])+float64(eps))
		s[ch] = float32(g)
		t[ch] = float32(float64(beta[ch]) - float64(mean[ch])*g)
	}
	affineRows(k, rows, c, x, s, t, y)
	sc.put()
}

// BatchNormBackward is the gradient of BatchNormTrain given its input x and
// the batch mean and variance it wrote: it overwrites
// dbeta[ch] = Σ dy, dgamma[ch] = Σ dy·x̂ and
// dx = gamma/σ·(dy − dbeta/rows − x̂·dgamma/rows), with σ = √(variance+eps)
// and x̂ = (x − mean)/σ. dx may alias dy.
func BatchNormBackward(rows, c int, eps float32, x, gamma, mean, variance, dy, dx, dgamma, dbeta []float32) {
	checkBN("BatchNormBackward", rows, c, x, "gamma,mean,variance,dgamma,dbeta", gamma, mean, variance, dgamma, dbeta)
	checkLen("BatchNormBackward", "dy", len(dy), rows*c)
	checkLen("BatchNormBackward", "dx", len(dx), rows*c)
	if rows == 0 {
		clear(dgamma)
		clear(dbeta)
		return
	}
	k := elt()
	sc := getEltScratch(3*c, 0)
	colReduce(k, rows, c, dy, nil, x, mean, 1, dbeta, dgamma) // Σ dy and Σ dy·(x − mean), scaled below
	// dx = dy·A + (x − mean)·B + C per channel, from
	// dx = γ/σ·(dy − Σdy/n − (x − mean)/σ²·Σdy(x − mean)/n).
	sa, sb, t := sc.f32[:c], sc.f32[c:2*c], sc.f32[2*c:]
	n := float64(rows)
	for ch := range sa {
		inv := 1 / math.Sqrt(float64(variance[ch])+float64(eps))
		sxm := float64(dgamma[ch])
		a := float64(gamma[ch]) * inv
		sa[ch] = float32(a)
		sb[ch] = float32(-a * inv * inv * sxm / n)
		t[ch] = float32(-a * float64(dbeta[ch]) / n)
		dgamma[ch] = float32(sxm * inv)
	}
	if serial(rows * c) {
		k.rowAffine2(rows, c, dy, x, mean, sa, sb, t, dx)
	} else {
		parallelFor(rows, max(1, parGrain/max(c, 1)), func(lo, hi int) {
			k.rowAffine2(hi-lo, c, dy[lo*c:hi*c], x[lo*c:hi*c], mean, sa, sb, t, dx[lo*c:hi*c])
		})
	}
	sc.put()
}
