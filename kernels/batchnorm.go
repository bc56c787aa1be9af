package kernels

import (
	"math"
	"strings"
)

// Batch norm over rows = N·H·W rows of C channels (NHWC), optionally fused
// with the activation that follows it. Statistics are per channel, sums
// over rows of C contiguous floats vectorised across channels; the
// normalisation is one per-channel scale and shift. Each memory pass works
// on blocks of rows small enough to stay in cache (bnBlockRows) and runs
// several primitives on a block while it is there, so that the whole
// forward reads x twice and writes y once, and the whole backward reads x
// twice, dy once and dx once, and writes dx twice, whatever the activation:
//
//   - statistics: each block is summed, centred on its own mean c_b and its
//     squares summed (q_b); blocks combine in float64 as
//     Σ(x − mean)² = Σ q_b + Σ n_b·(c_b − mean)², so large means do not
//     cancel (as accurate as the two-pass Σ(x − mean)²);
//   - forward: y = act(x·s + t) block by block;
//   - backward: the activation's gradient g = dy·act'(x·s + t) is
//     recomputed per block from x (the normalised value is never stored)
//     and written to dx while the block's sums Σg and Σg·(x − mean) are
//     taken; a second pass turns it into dx = g·A + (x − mean)·B + C.
//
// Where the implementation has fused kernels (eltKernels.bn: AVX2 and
// AVX-512; NEON and the Go reference compose the primitives), the
// statistics are one read of each block (shifted by its first row, so large
// means still do not cancel), and for ReLU, ReLU6, hardswish and
// hardsigmoid each pass is one kernel that keeps z = x·s + t and g in
// registers: forward y = act(z) in one pass; backward, the sums pass reads
// x and dy and writes nothing, and the dx pass recomputes g from them. That
// is the least memory traffic (backward: x and dy read twice, dx written
// once), where the composed primitives also write g and read it back, and
// move each block through the cache three or four times.

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

// bnBlockRows is how many rows of c channels one cache block holds: about
// 64 KiB. Sums over a block are taken redBlock rows at a time (the bound of
// a float32 partial sum).
func bnBlockRows(c int) int { return max(8, (16<<10)/max(c, 1)) }

// bnChunks returns how many threads share a pass over rows×c values.
func bnChunks(rows, c int) int {
	if serial(rows * c) {
		return 1
	}
	return max(1, min(Threads(), rows*c/parGrain))
}

// BatchNormTrain normalises x with its own batch statistics:
// mean[ch] and variance[ch] (biased, divided by rows) are written, and
// y = (x − mean)/√(variance + eps)·gamma + beta. y may alias x.
func BatchNormTrain(rows, c int, eps float32, x, gamma, beta, y, mean, variance []float32) {
	batchNormActTrain("BatchNormTrain", rows, c, eps, ActNone, x, gamma, beta, y, mean, variance)
}

// BatchNormActTrain is act(BatchNormTrain(x)) in one pass: y =
// act((x − mean)/√(variance + eps)·gamma + beta), with the batch mean and
// biased variance written as BatchNormTrain does. y may alias x.
func BatchNormActTrain(rows, c int, eps float32, act Act, x, gamma, beta, y, mean, variance []float32) {
	batchNormActTrain("BatchNormActTrain", rows, c, eps, act, x, gamma, beta, y, mean, variance)
}

func batchNormActTrain(op string, rows, c int, eps float32, act Act, x, gamma, beta, y, mean, variance []float32) {
	checkBN(op, rows, c, x, "gamma,beta,mean,variance", gamma, beta, mean, variance)
	checkLen(op, "y", len(y), rows*c)
	checkAct(op, act)
	if rows == 0 {
		clear(mean)
		clear(variance)
		return
	}
	k := elt()
	bnStats(k, rows, c, x, mean, variance)
	sc := getEltScratch(2*c, 0)
	s, t := sc.f32[:c], sc.f32[c:]
	bnScaleShift(c, eps, gamma, beta, mean, variance, s, t)
	bnApply(k, rows, c, act, x, s, t, y)
	sc.put()
}

// BatchNormInfer normalises x with running statistics:
// y = (x − runMean)/√(runVar + eps)·gamma + beta. y may alias x.
func BatchNormInfer(rows, c int, eps float32, x, gamma, beta, runMean, runVar, y []float32) {
	checkBN("BatchNormInfer", rows, c, x, "gamma,beta,runMean,runVar", gamma, beta, runMean, runVar)
	checkLen("BatchNormInfer", "y", len(y), rows*c)
	sc := getEltScratch(2*c, 0)
	s, t := sc.f32[:c], sc.f32[c:]
	bnScaleShift(c, eps, gamma, beta, runMean, runVar, s, t)
	affineRows(elt(), rows, c, x, s, t, y)
	sc.put()
}

// checkAct panics on an unknown activation.
func checkAct(op string, a Act) {
	if a >= numActs {
		panic("kernels." + op + ": unknown activation " + a.String())
	}
}

// bnScaleShift folds the statistics into one scale s and shift t per
// channel (in float64): s = gamma/√(variance+eps), t = beta − mean·s.
func bnScaleShift(c int, eps float32, gamma, beta, mean, variance, s, t []float32) {
	for ch := range c {
		g := float64(gamma[ch]) / math.Sqrt(float64(variance[ch])+float64(eps))
		s[ch] = float32(g)
		t[ch] = float32(float64(beta[ch]) - float64(mean[ch])*g)
	}
}

// bnStats writes the mean and biased variance of each channel of x in one
// pass over memory (see the top of the file). Each chunk of rows keeps
// four float64 sums per channel: Σx, Σq_b, Σn_b·c_b and Σn_b·c_b².
func bnStats(k *eltKernels, rows, c int, x, mean, variance []float32) {
	t := bnChunks(rows, c)
	sc := getEltScratch(3*c*t, 4*c*t)
	if t == 1 {
		clear(sc.f64)
		bnStatsChunk(k, 0, rows, c, c, x, sc.f32, sc.f64)
	} else {
		j := getEltJob(k, bnStatsChunks)
		j.c, j.q, j.t, j.a, j.part, j.part64 = c, rows, t, x, sc.f32, sc.f64
		j.parallel(t, 1)
	}
	bnStatsCombine(rows, c, t, sc.f64, mean, variance)
	sc.put()
}

// bnStatsCombine writes the mean and biased variance of rows values per
// channel from t chunks' sums (bnStatsChunk's 4c float64s each, in acc),
// added in chunk order.
func bnStatsCombine(rows, c, t int, acc []float64, mean, variance []float32) {
	n := float64(rows)
	for ch := range c {
		var s, q, a, b float64
		for i := range t {
			p := acc[4*c*i:]
			s += p[ch]
			q += p[c+ch]
			a += p[2*c+ch]
			b += p[3*c+ch]
		}
		m := s / n
		mean[ch] = float32(m)
		variance[ch] = float32(max(0, (q+b-2*m*a)/n+m*m))
	}
}

// bnStatsChunks runs bnStats's chunks [lo, hi) of j.q rows.
func bnStatsChunks(j *eltJob, lo, hi int) {
	c := j.c
	for i := lo; i < hi; i++ {
		r0, r1 := i*j.q/j.t, (i+1)*j.q/j.t
		acc := j.part64[4*c*i : 4*c*(i+1)]
		clear(acc)
		bnStatsChunk(j.k, r0, r1, c, c, j.a, j.part[3*c*i:3*c*(i+1)], acc)
	}
}

// bnStatsChunk adds the sums of rows [r0, r1) of x (c channels, rows ld
// floats apart) into acc (4c float64s) through part (3c float32s of
// scratch). With the implementation's one-pass kernel (eltKernels.bn.Stats)
// a block of redBlock rows is read once, shifted by its own first row;
// otherwise it is summed, then its squares centred on its mean are summed
// while it is in cache.
func bnStatsChunk(k *eltKernels, r0, r1, c, ld int, x, part []float32, acc []float64) {
	sum, ctr, sq := part[:c], part[c:2*c], part[2*c:3*c]
	onePass := k.fusedStats(c)
	br := min(redBlock, bnBlockRows(c))
	if onePass {
		br = redBlock
	}
	for r := r0; r < r1; r += br {
		n := min(br, r1-r)
		blk := x[r*ld : (r+n-1)*ld+c]
		clear(sum)
		clear(sq)
		fn := float64(n)
		if onePass {
			// Σ(x − k) = s and Σ(x − k)² = q give the block's mean k + s/n
			// and centred squares q − s²/n.
			kv := blk[:c]
			k.bn.Stats(n, c, ld, blk, kv, sum, sq)
			for ch := range c {
				s, q, kb := float64(sum[ch]), float64(sq[ch]), float64(kv[ch])
				cb := kb + s/fn
				acc[ch] += fn*kb + s
				acc[c+ch] += max(0, q-s*s/fn)
				acc[2*c+ch] += fn * cb
				acc[3*c+ch] += fn * cb * cb
			}
			continue
		}
		k.colAccLd(n, c, ld, blk, nil, nil, nil, sum, nil)
		inv := 1 / fn
		for ch, v := range sum {
			ctr[ch] = float32(float64(v) * inv)
		}
		k.colAccLd(n, c, ld, blk, ctr, blk, ctr, sq, nil)
		for ch := range c {
			cb := float64(ctr[ch])
			acc[ch] += float64(sum[ch])
			acc[c+ch] += float64(sq[ch])
			acc[2*c+ch] += fn * cb
			acc[3*c+ch] += fn * cb * cb
		}
	}
}

// bnApply sets y = act(x·s + t) block by block (the activation runs on
// each block while it is in cache), split over the pool for large inputs.
func bnApply(k *eltKernels, rows, c int, act Act, x, s, t, y []float32) {
	if act == ActNone {
		affineRows(k, rows, c, x, s, t, y)
		return
	}
	if serial(rows * c) {
		bnApplyRows(k, 0, rows, c, act, x, s, t, y)
		return
	}
	j := getEltJob(k, bnApplyChunk)
	j.c, j.act, j.a, j.s, j.sh, j.y = c, act, x, s, t, y
	j.parallel(rows, max(1, parGrain/max(c, 1)))
}

func bnApplyChunk(j *eltJob, lo, hi int) { bnApplyRows(j.k, lo, hi, j.c, j.act, j.a, j.s, j.sh, j.y) }

func bnApplyRows(k *eltKernels, r0, r1, c int, act Act, x, s, t, y []float32) {
	if i := k.fusedBN(act, c); i >= 0 {
		k.rowAffineBy(k.bn.Act[i], nil, r1-r0, c, x[r0*c:r1*c], s, t, y[r0*c:r1*c])
		return
	}
	br := bnBlockRows(c)
	for r := r0; r < r1; r += br {
		n := min(br, r1-r)
		yb := y[r*c : (r+n)*c]
		k.rowAffine(n, c, x[r*c:(r+n)*c], s, t, yb)
		activateSeq(k, act, yb, yb)
	}
}

// BatchNormBackward is the gradient of BatchNormTrain given its input x and
// the batch mean and variance it wrote: it overwrites
// dbeta[ch] = Σ dy, dgamma[ch] = Σ dy·x̂ and
// dx = gamma/σ·(dy − dbeta/rows − x̂·dgamma/rows), with σ = √(variance+eps)
// and x̂ = (x − mean)/σ. dx may alias dy.
func BatchNormBackward(rows, c int, eps float32, x, gamma, mean, variance, dy, dx, dgamma, dbeta []float32) {
	batchNormActBackward("BatchNormBackward", rows, c, eps, ActNone, x, gamma, nil, mean, variance, dy, dx, dgamma, dbeta)
}

// BatchNormActBackward is the gradient of BatchNormActTrain given its
// input x, gamma, beta and the batch mean and variance it wrote, and dy,
// the gradient of its output: with g = dy·act'(BN(x)) it overwrites
// dbeta = Σ g, dgamma = Σ g·x̂ and dx as BatchNormBackward does from g.
// BN(x) is recomputed, not read. dx may alias dy. For ActNone beta is not
// read and may be nil.
func BatchNormActBackward(rows, c int, eps float32, act Act, x, gamma, beta, mean, variance, dy, dx, dgamma, dbeta []float32) {
	batchNormActBackward("BatchNormActBackward", rows, c, eps, act, x, gamma, beta, mean, variance, dy, dx, dgamma, dbeta)
}

func batchNormActBackward(op string, rows, c int, eps float32, act Act, x, gamma, beta, mean, variance, dy, dx, dgamma, dbeta []float32) {
	checkBN(op, rows, c, x, "gamma,mean,variance,dgamma,dbeta", gamma, mean, variance, dgamma, dbeta)
	checkLen(op, "dy", len(dy), rows*c)
	checkLen(op, "dx", len(dx), rows*c)
	checkAct(op, act)
	if act != ActNone {
		checkLen(op, "beta", len(beta), c)
	}
	if rows == 0 {
		clear(dgamma)
		clear(dbeta)
		return
	}
	k := elt()
	t := bnChunks(rows, c)
	br := bnBlockRows(c)
	// Scratch: s, sh (the forward's scale and shift), sa, sb, tt (dx's
	// coefficients); per chunk, float32 partials (2c) and a block for the
	// normalised values (br·c), and float64 partials (2c).
	sc := getEltScratch(5*c+t*(2+br)*c, 2*c*t)
	s, sh, sa, sb, tt := sc.f32[:c], sc.f32[c:2*c], sc.f32[2*c:3*c], sc.f32[3*c:4*c], sc.f32[4*c:5*c]
	if act != ActNone {
		bnScaleShift(c, eps, gamma, beta, mean, variance, s, sh)
	}
	j := getEltJob(k, bnBackSums)
	j.c, j.q, j.t, j.w, j.act = c, rows, t, br, act
	j.a, j.b, j.y, j.m, j.s, j.sh = x, dy, dx, mean, s, sh
	j.sa, j.sb, j.tt, j.part, j.part64 = sa, sb, tt, sc.f32[5*c:], sc.f64
	if t == 1 {
		bnBackSums(j, 0, 1)
	} else {
		parallelFor(t, 1, j.body)
	}
	// dx = g·A + (x − mean)·B + C per channel, from
	// dx = γ/σ·(g − Σg/n − (x − mean)/σ²·Σg(x − mean)/n).
	n := float64(rows)
	for ch := range c {
		var sg, sxm float64
		for i := range t {
			sg += sc.f64[2*c*i+ch]
			sxm += sc.f64[2*c*i+c+ch]
		}
		inv := 1 / math.Sqrt(float64(variance[ch])+float64(eps))
		a := float64(gamma[ch]) * inv
		sa[ch] = float32(a)
		sb[ch] = float32(-a * inv * inv * sxm / n)
		tt[ch] = float32(-a * sg / n)
		dbeta[ch] = float32(sg)
		dgamma[ch] = float32(sxm * inv)
	}
	j.run = bnBackDx
	if t == 1 {
		bnBackDx(j, 0, 1)
	} else {
		parallelFor(t, 1, j.body)
	}
	j.release()
	sc.put()
}

// bnFused is SetFusedBatchNorm's setting.
var bnFused = true

// SetFusedBatchNorm turns batch norm's fused kernels (see the top of
// batchnorm.go) on or off and returns the previous setting. They are on by
// default; off, batch norm composes the primitives as implementations
// without fused kernels do. For tests and benchmarks that compare the two;
// not safe to call while a kernel runs.
func SetFusedBatchNorm(on bool) (prev bool) {
	prev, bnFused = bnFused, on
	return prev
}

// fusedStats reports whether k computes the statistics of rows of c
// channels with its one-pass kernel.
func (k *eltKernels) fusedStats(c int) bool {
	return k.bn != nil && bnFused && c&k.mask == 0
}

// fusedBN returns the index of act's kernels in k.bn for rows of c
// channels, or -1 where k has none for it. The kernels take whole vectors
// of channels only: where c is not a multiple of k's vector (AVX2: c%8 ≠ 0;
// Ghost modules make such widths) the composed primitives, whose
// elementwise halves run over whole buffers, are the faster path.
func (k *eltKernels) fusedBN(act Act, c int) int {
	if !k.fusedStats(c) {
		return -1
	}
	switch act {
	case ActReLU:
		return 0
	case ActReLU6:
		return 1
	case ActHardswish:
		return 2
	case ActHardsigmoid:
		return 3
	}
	return -1
}

// bnChunkRows returns chunk i's rows [r0, r1) of the j.q rows split in j.t.
func (j *eltJob) bnChunkRows(i int) (r0, r1 int) { return i * j.q / j.t, (i + 1) * j.q / j.t }

// bnGrad returns the gradient g of the batch norm's output on rows
// [r, r+n): dy itself for ActNone, else dy·act'(x·s + sh), computed block
// by block into dx (read back by bnBackDx), through z, a block of scratch
// (dx may alias dy).
func (j *eltJob) bnGrad(r, n int, z []float32) []float32 {
	c := j.c
	dy := j.b[r*c : (r+n)*c]
	if j.act == ActNone {
		return dy
	}
	z = z[:n*c]
	g := j.y[r*c : (r+n)*c]
	j.k.rowAffine(n, c, j.a[r*c:(r+n)*c], j.s, j.sh, z)
	activateBackward(j.k, j.act, z, dy, g)
	return g
}

// bnBackSums: chunk i computes g and sums Σg and Σg·(x − mean) over its
// rows, block by block (g is still in cache for the sums), into
// part64[2c·i:].
func bnBackSums(j *eltJob, lo, hi int) {
	c := j.c
	for i := lo; i < hi; i++ {
		r0, r1 := j.bnChunkRows(i)
		p := j.part[i*(2+j.w)*c : (i+1)*(2+j.w)*c]
		sg, sxm, z := p[:c], p[c:2*c], p[2*c:]
		acc := j.part64[2*c*i : 2*c*(i+1)]
		clear(acc)
		if f := j.k.fusedBN(j.act, c); f >= 0 {
			for r := r0; r < r1; r += redBlock {
				n := min(redBlock, r1-r)
				clear(sg)
				clear(sxm)
				j.k.bn.Sums[f](n, c, c, j.a[r*c:(r+n)*c], j.b[r*c:(r+n)*c], j.s, j.sh, j.m, sg, sxm)
				for ch := range c {
					acc[ch] += float64(sg[ch])
					acc[c+ch] += float64(sxm[ch])
				}
			}
			continue
		}
		for r := r0; r < r1; r += j.w {
			n := min(j.w, r1-r)
			g := j.bnGrad(r, n, z)
			for b := 0; b < n; b += redBlock {
				nb := min(redBlock, n-b)
				clear(sg)
				clear(sxm)
				j.k.colAcc(nb, c, g[b*c:], nil, j.a[(r+b)*c:(r+b+nb)*c], j.m, sg, sxm)
				for ch := range c {
					acc[ch] += float64(sg[ch])
					acc[c+ch] += float64(sxm[ch])
				}
			}
		}
	}
}

// bnBackDx: chunk i writes dx = g·sa + (x − mean)·sb + tt over its rows.
func bnBackDx(j *eltJob, lo, hi int) {
	c := j.c
	g := j.b // dy
	if j.act != ActNone {
		g = j.y // bnBackSums left g in dx
	}
	f := j.k.fusedBN(j.act, c)
	for i := lo; i < hi; i++ {
		r0, r1 := j.bnChunkRows(i)
		if f >= 0 {
			j.k.bn.Dx[f](r1-r0, c, c, j.a[r0*c:r1*c], j.b[r0*c:r1*c], j.s, j.sh, j.m, j.sa, j.sb, j.tt, j.y[r0*c:r1*c])
			continue
		}
		j.k.rowAffine2(r1-r0, c, g[r0*c:r1*c], j.a[r0*c:r1*c], j.m, j.sa, j.sb, j.tt, j.y[r0*c:r1*c])
	}
}
