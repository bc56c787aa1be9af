package kernels

import (
	"fmt"
	"sync"

	"github.com/nasrun/nasrun/kernels/asm"
)

// The elementwise and per-channel ops (activations, bias, residual add, SE
// scaling, batch norm, global average pooling) are composed from a handful
// of primitives per implementation: flat loops (add, axpy, scale, the
// activations) and NHWC row loops vectorised across the C contiguous
// channels of each row (Affine: y = x·s + t per channel; Affine2: the
// batch-norm input gradient; ColSum/ColDot: per-channel sums over rows).

// eltKernels is one implementation's set of primitives. The assembly ones
// take lengths and row widths rounded down to a multiple of mask+1 and the
// Go references (package asm) do the rest.
type eltKernels struct {
	mask    int
	add     func(a, b, y []float32)
	axpy    func(alpha float32, x, y []float32)
	scale   func(alpha float32, x, y []float32)
	affine  func(rows, w, ld int, x, s, t, y []float32)
	affine2 func(rows, w, ld int, a, b, m, sa, sb, t, y []float32)
	colSum  func(rows, w, ld int, x, acc []float32)
	colDot  func(rows, w, ld int, a, ma, b, mb, acc []float32)
	colSD   func(rows, w, ld int, a, b, mb, accA, accB []float32)
	act     [numActs]func(x, y []float32)      // nil: the Go reference
	grad    [numActs]func(x, dy, dx []float32) // nil: the Go reference
	bn      *asm.BNFused                       // nil: batch norm composes the primitives
}

var eltImpls = [numImpls]*eltKernels{
	Ref: {
		add: asm.AddRef, axpy: asm.AxpyRef, scale: asm.ScaleRef,
		affine: asm.AffineRef, affine2: asm.Affine2Ref,
		colSum: asm.ColSumRef, colDot: asm.ColDotRef, colSD: asm.ColSumDotRef,
	},
	AVX2: {
		mask: 7,
		add:  asm.AddAVX2, axpy: asm.AxpyAVX2, scale: asm.ScaleAVX2,
		affine: asm.AffineAVX2, affine2: asm.Affine2AVX2,
		colSum: asm.ColSumAVX2, colDot: asm.ColDotAVX2, colSD: asm.ColSumDotAVX2,
		act: [numActs]func(x, y []float32){
			ActReLU: asm.ReluAVX2, ActReLU6: asm.Relu6AVX2,
			ActHardsigmoid: asm.HardsigmoidAVX2, ActHardswish: asm.HardswishAVX2,
			ActSigmoid: asm.SigmoidAVX2,
		},
		grad: [numActs]func(x, dy, dx []float32){
			ActReLU: asm.ReluGradAVX2, ActReLU6: asm.Relu6GradAVX2,
			ActHardsigmoid: asm.HardsigmoidGradAVX2, ActHardswish: asm.HardswishGradAVX2,
			ActSigmoid: asm.SigmoidGradAVX2,
		},
		bn: asm.BNFusedAVX2,
	},
	AVX512: {
		add: asm.AddAVX512, axpy: asm.AxpyAVX512, scale: asm.ScaleAVX512,
		affine: asm.AffineAVX512, affine2: asm.Affine2AVX512,
		colSum: asm.ColSumAVX512, colDot: asm.ColDotAVX512, colSD: asm.ColSumDotAVX512,
		act: [numActs]func(x, y []float32){
			ActReLU: asm.ReluAVX512, ActReLU6: asm.Relu6AVX512,
			ActHardsigmoid: asm.HardsigmoidAVX512, ActHardswish: asm.HardswishAVX512,
			ActSigmoid: asm.SigmoidAVX512,
		},
		grad: [numActs]func(x, dy, dx []float32){
			ActReLU: asm.ReluGradAVX512, ActReLU6: asm.Relu6GradAVX512,
			ActHardsigmoid: asm.HardsigmoidGradAVX512, ActHardswish: asm.HardswishGradAVX512,
			ActSigmoid: asm.SigmoidGradAVX512,
		},
		bn: asm.BNFusedAVX512,
	},
	NEON: {
		mask: 3,
		add:  asm.AddNEON, axpy: asm.AxpyNEON, scale: asm.ScaleNEON,
		affine: asm.AffineNEON, affine2: asm.Affine2NEON,
		colSum: asm.ColSumNEON, colDot: asm.ColDotNEON, colSD: asm.ColSumDotNEON,
		act: [numActs]func(x, y []float32){
			ActReLU: asm.ReluNEON, ActReLU6: asm.Relu6NEON,
			ActHardsigmoid: asm.HardsigmoidNEON, ActHardswish: asm.HardswishNEON,
			ActSigmoid: asm.SigmoidNEON,
		},
		grad: [numActs]func(x, dy, dx []float32){
			ActReLU: asm.ReluGradNEON, ActReLU6: asm.Relu6GradNEON,
			ActHardsigmoid: asm.HardsigmoidGradNEON, ActHardswish: asm.HardswishGradNEON,
			ActSigmoid: asm.SigmoidGradNEON,
		},
	},
}

// elt returns the active implementation's primitives (the reference where
// an implementation, e.g. NEON, has none of its own yet).
func elt() *eltKernels {
	if k := eltImpls[active]; k != nil {
		return k
	}
	return eltImpls[Ref]
}

// flat1 runs f on the vectorised prefix of y and ref on the rest.
func (k *eltKernels) flat1(f, ref func(x, y []float32), x, y []float32) {
	n := len(y) &^ k.mask
	if n > 0 {
		f(x[:n], y[:n])
	}
	if n < len(y) {
		ref(x[n:], y[n:])
	}
}

// flatAlpha is flat1 for the ops with a scalar.
func (k *eltKernels) flatAlpha(f, ref func(alpha float32, x, y []float32), alpha float32, x, y []float32) {
	n := len(y) &^ k.mask
	if n > 0 {
		f(alpha, x[:n], y[:n])
	}
	if n < len(y) {
		ref(alpha, x[n:], y[n:])
	}
}

// flat2 is flat1 for two inputs.
func (k *eltKernels) flat2(f, ref func(a, b, y []float32), a, b, y []float32) {
	n := len(y) &^ k.mask
	if n > 0 {
		f(a[:n], b[:n], y[:n])
	}
	if n < len(y) {
		ref(a[n:], b[n:], y[n:])
	}
}

// foldWidth: rows of fewer than 64 channels are folded, f consecutive rows
// (contiguous: NHWC rows are) treated as one row of f·c ≈ foldWidth
// channels with the per-channel vectors repeated f times, so that the
// assembly's per-row overhead is paid once per f rows (c = 16 at 112×112 is
// the largest batch-norm tensor of a MobileNet).
const foldWidth = 256

// foldRows returns how many rows of c channels to fold into one (1: none).
func foldRows(rows, c int) int {
	if c == 0 || c >= 64 || rows < 2 {
		return 1
	}
	return min(rows, (foldWidth+c-1)/c)
}

// repeatVec fills dst with f copies of v and returns it (nil for nil v).
func repeatVec(dst, v []float32, f int) []float32 {
	if v == nil {
		return nil
	}
	c := len(v)
	for j := range f {
		copy(dst[j*c:(j+1)*c], v)
	}
	return dst[:f*c]
}

// rowAffine sets y[r,ch] = x[r,ch]·s[ch] + t[ch] over rows of c channels.
func (k *eltKernels) rowAffine(rows, c int, x, s, t, y []float32) {
	k.rowAffineBy(k.affine, asm.AffineRef, rows, c, x, s, t, y)
}

// rowAffineBy is rowAffine through f, a kernel with Affine's arguments
// (Affine itself, or batch norm's fused y = act(x·s + t)) that takes row
// widths rounded down to a multiple of k.mask+1, and ref, its Go
// reference, which does the rest of each row. ref may be nil where c is a
// multiple of k.mask+1 (folded widths then are too): f takes whole rows.
func (k *eltKernels) rowAffineBy(f, ref func(rows, w, ld int, x, s, t, y []float32), rows, c int, x, s, t, y []float32) {
	if n := foldRows(rows, c); n > 1 {
		w, r := n*c, rows/n*n
		sc := getEltScratch(2*w, 0)
		k.rowAffineFlat(f, ref, rows/n, w, x, repeatVec(sc.f32[:w], s[:c], n), repeatVec(sc.f32[w:], t[:c], n), y)
		sc.put()
		k.rowAffineFlat(f, ref, rows-r, c, x[r*c:], s, t, y[r*c:])
		return
	}
	k.rowAffineFlat(f, ref, rows, c, x, s, t, y)
}

// rowAffineFlat is rowAffineBy without folding.
func (k *eltKernels) rowAffineFlat(f, ref func(rows, w, ld int, x, s, t, y []float32), rows, c int, x, s, t, y []float32) {
	k.rowAffineLd(f, ref, rows, c, c, x, s, t, y)
}

// rowAffineLd is rowAffineFlat over rows of c channels ld floats apart (in
// x and y alike).
func (k *eltKernels) rowAffineLd(f, ref func(rows, w, ld int, x, s, t, y []float32), rows, c, ld int, x, s, t, y []float32) {
	if rows == 0 || c == 0 {
		return
	}
	w := c &^ k.mask
	if w > 0 {
		f(rows, w, ld, x, s, t, y)
	}
	if w < c {
		ref(rows, c-w, ld, x[w:], s[w:], t[w:], y[w:])
	}
}

// rowAffine2 sets y[r,ch] = a[r,ch]·sa[ch] + (b[r,ch] − m[ch])·sb[ch] + t[ch].
// It is not folded: four repeated vectors of foldWidth channels would span
// every address modulo 4 KiB, so each store to y would falsely alias one of
// their loads (measured 7× slower on large inputs).
func (k *eltKernels) rowAffine2(rows, c int, a, b, m, sa, sb, t, y []float32) {
	k.rowAffine2Ld(rows, c, c, a, b, m, sa, sb, t, y)
}

// rowAffine2Ld is rowAffine2 over rows of c channels ld floats apart.
func (k *eltKernels) rowAffine2Ld(rows, c, ld int, a, b, m, sa, sb, t, y []float32) {
	if rows == 0 || c == 0 {
		return
	}
	w := c &^ k.mask
	if w > 0 {
		k.affine2(rows, w, ld, a, b, m, sa, sb, t, y)
	}
	if w < c {
		asm.Affine2Ref(rows, c-w, ld, a[w:], b[w:], m[w:], sa[w:], sb[w:], t[w:], y[w:])
	}
}

// colAcc adds to acc[ch], over rows of c channels, in float32 (callers
// bound rows, see redBlock):
//   - b == nil:     Σ_r a[r,ch]
//   - acc2 == nil:  Σ_r (a[r,ch] − ma[ch])·(b[r,ch] − mb[ch])
//   - otherwise:    Σ_r a[r,ch], and Σ_r a[r,ch]·(b[r,ch] − mb[ch]) to acc2.

func (k *eltKernels) colAcc(rows, c int, a, ma, b, mb, acc, acc2 []float32) {
	k.colAccLd(rows, c, c, a, ma, b, mb, acc, acc2)
}

// colAccLd is colAcc over rows of c channels ld floats apart.
func (k *eltKernels) colAccLd(rows, c, ld int, a, ma, b, mb, acc, acc2 []float32) {
	if rows == 0 || c == 0 {
		return
	}
	w := c &^ k.mask
	switch {
	case b == nil:
		if w > 0 {
			k.colSum(rows, w, ld, a, acc)
		}
		if w < c {
			asm.ColSumRef(rows, c-w, ld, a[w:], acc[w:])
		}
	case acc2 == nil:
		if w > 0 {
			k.colDot(rows, w, ld, a, ma, b, mb, acc)
		}
		if w < c {
			asm.ColDotRef(rows, c-w, ld, a[w:], ma[w:], b[w:], mb[w:], acc[w:])
		}
	default:
		if w > 0 {
			k.colSD(rows, w, ld, a, b, mb, acc, acc2)
		}
		if w < c {
			asm.ColSumDotRef(rows, c-w, ld, a[w:], b[w:], mb[w:], acc[w:], acc2[w:])
		}
	}
}

// Threading: ops over fewer than 2·parGrain elements run on the caller;
// larger ones are split over the pool in chunks of at least parGrain.
const parGrain = 1 << 15

// serial reports whether an op over n elements runs on the calling goroutine.
func serial(n int) bool { return n < 2*parGrain || Threads() == 1 }

// redBlock is how many rows the per-channel sums accumulate in float32
// before adding into float64, so that long reductions stay accurate.
const redBlock = 256

// eltScratch is per-call working memory, recycled through eltScratchPool so that
// kernel calls do not allocate in the steady state.
type eltScratch struct {
	f32 []float32
	f64 []float64
}

var eltScratchPool = sync.Pool{New: func() any { return new(eltScratch) }}

// getEltScratch returns scratch with n32 float32s and n64 float64s (contents
// undefined). Release it with put.
func getEltScratch(n32, n64 int) *eltScratch {
	s := eltScratchPool.Get().(*eltScratch)
	if cap(s.f32) < n32 {
		s.f32 = make([]float32, n32)
	}
	if cap(s.f64) < n64 {
		s.f64 = make([]float64, n64)
	}
	s.f32, s.f64 = s.f32[:n32], s.f64[:n64]
	return s
}

func (s *eltScratch) put() { eltScratchPool.Put(s) }

// eltJob is one threaded call of the elementwise kernels: the operands and
// the loop body, bound once per pooled job so that handing it to the
// worker pool allocates nothing (the pattern parallelFor describes). run is
// the op's chunk function, a plain function (never a closure), so setting
// it allocates nothing either.
type eltJob struct {
	k          *eltKernels
	run        func(j *eltJob, lo, hi int)
	act        Act
	alpha, eps float32
	c, w, q, t int // channels; reductions: row width, rows, chunks
	hw, nout   int
	a, b, y    []float32 // row-major operands
	s, sh, m   []float32 // per-channel vectors
	sa, sb, tt []float32
	part       []float32 // per-chunk partial sums
	part64     []float64
	body       func(lo, hi int) // j.exec, bound once
}

var eltJobs = sync.Pool{New: func() any {
	j := new(eltJob)
	j.body = j.exec
	return j
}}

func (j *eltJob) exec(lo, hi int) { j.run(j, lo, hi) }

// getEltJob returns a pooled job running run with implementation k.
func getEltJob(k *eltKernels, run func(j *eltJob, lo, hi int)) *eltJob {
	j := eltJobs.Get().(*eltJob)
	j.k, j.run = k, run
	return j
}

// parallel runs the job over [0, n) in chunks of at least grain, then
// pools it again (dropping its operands).
func (j *eltJob) parallel(n, grain int) {
	parallelFor(n, grain, j.body)
	j.release()
}

// release pools the job again, dropping its operands.
func (j *eltJob) release() {
	*j = eltJob{body: j.body}
	eltJobs.Put(j)
}

// colReduce sets out[ch] (and out2[ch]) to scale times the sums colAcc
// describes, over rows of c channels. Blocks of redBlock rows are summed in
// float32 and added in float64; large inputs are split by rows over the
// pool, one partial sum per chunk. Narrow rows are folded (foldWidth) and
// the partial sums of each channel added at the end.
func colReduce(k *eltKernels, rows, c int, a, ma, b, mb []float32, scale float64, out, out2 []float32) {
	out = out[:c]
	nout := 1
	if out2 != nil {
		out2 = out2[:c]
		nout = 2
	}
	// Measured: folding wider rows loses on out-of-cache inputs, and the
	// fused sum-and-dot (two accumulator stores per vector) loses folded.
	f := 1
	if c <= 16 && out2 == nil {
		f = foldRows(rows, c)
	}
	t := 1
	if !serial(rows * c) {
		t = min(Threads(), rows*c/parGrain, rows/f)
	}
	if f == 1 && t == 1 && rows <= redBlock {
		clear(out)
		clear(out2)
		k.colAcc(rows, c, a, ma, b, mb, out, out2)
		if scale != 1 {
			k.flatAlpha(k.scale, asm.ScaleRef, float32(scale), out, out)
			if out2 != nil {
				k.flatAlpha(k.scale, asm.ScaleRef, float32(scale), out2, out2)
			}
		}
		return
	}
	// Chunks 0..t-1 reduce the rows/f folded rows of w channels; the extra
	// chunk t the rows%f left, unfolded.
	w, q := f*c, rows/f
	m := nout * w
	sc := getEltScratch((t+1)*m+2*w, (t+1)*m)
	if ma != nil {
		ma = ma[:c]
	}
	if mb != nil {
		mb = mb[:c]
	}
	maf, mbf := ma, mb
	if f > 1 {
		v := sc.f32[(t+1)*m:]
		maf, mbf = repeatVec(v[:w], ma, f), repeatVec(v[w:], mb, f)
	}
	if t == 1 {
		reduceChunk(k, 0, q, w, a, maf, b, mbf, sc.f32, sc.f64, nout)
	} else {
		j := getEltJob(k, reduceChunks)
		j.q, j.t, j.w, j.nout = q, t, w, nout
		j.a, j.m, j.b, j.sh, j.part, j.part64 = a, maf, b, mbf, sc.f32, sc.f64
		j.parallel(t, 1)
	}
	r := q * f
	var br []float32
	if b != nil {
		br = b[r*c:]
	}
	rest := sc.f64[t*m : t*m+nout*c]
	reduceChunk(k, 0, rows-r, c, a[r*c:], ma, br, mb, sc.f32[t*m:], rest, nout)
	for o, dst := range [2][]float32{out, out2} {
		if o >= nout {
			break
		}
		for ch := range dst {
			s := rest[o*c+ch]
			for i := range t {
				for j := range f {
					s += sc.f64[i*m+o*w+j*c+ch]
				}
			}
			dst[ch] = float32(s * scale)
		}
	}
	sc.put()
}

// reduceChunks runs colReduce's chunks [lo, hi): a, m, b, sh are a, ma, b,
// mb; chunk i sums rows [i·q/t, (i+1)·q/t) into its partials.
func reduceChunks(j *eltJob, lo, hi int) {
	m := j.nout * j.w
	for i := lo; i < hi; i++ {
		reduceChunk(j.k, i*j.q/j.t, (i+1)*j.q/j.t, j.w, j.a, j.m, j.b, j.sh, j.part[i*m:(i+1)*m], j.part64[i*m:(i+1)*m], j.nout)
	}
}

// reduceChunk sums rows [r0, r1) into acc64 (nout·c sums, overwritten),
// redBlock rows at a time through part.
func reduceChunk(k *eltKernels, r0, r1, c int, a, ma, b, mb, part []float32, acc64 []float64, nout int) {
	m := nout * c
	part, acc64 = part[:m], acc64[:m]
	clear(acc64)
	var part2 []float32
	if nout == 2 {
		part2 = part[c:]
	}
	for r := r0; r < r1; r += redBlock {
		n := min(redBlock, r1-r)
		clear(part)
		var br []float32
		if b != nil {
			br = b[r*c:]
		}
		k.colAcc(n, c, a[r*c:], ma, br, mb, part[:c], part2)
		for j, v := range part {
			acc64[j] += float64(v)
		}
	}
}

// affineRows is rowAffine split over the pool for large inputs.
func affineRows(k *eltKernels, rows, c int, x, s, t, y []float32) {
	if serial(rows * c) {
		k.rowAffine(rows, c, x, s, t, y)
		return
	}
	j := getEltJob(k, affineChunk)
	j.c, j.a, j.s, j.sh, j.y = c, x, s, t, y
	j.parallel(rows, max(1, parGrain/max(c, 1)))
}

// affineChunk is affineRows on rows [lo, hi): y = a·s + sh.
func affineChunk(j *eltJob, lo, hi int) {
	c := j.c
	j.k.rowAffine(hi-lo, c, j.a[lo*c:hi*c], j.s, j.sh, j.y[lo*c:hi*c])
}

// fill returns s's float32 scratch of n elements set to v.
func (s *eltScratch) fill(off, n int, v float32) []float32 {
	b := s.f32[off : off+n]
	for i := range b {
		b[i] = v
	}
	return b
}

// checkDims panics on negative sizes.
func checkDims(op string, dims ...int) {
	for _, d := range dims {
		if d < 0 {
			panic(fmt.Sprintf("kernels.%s: negative size in %v", op, append([]int(nil), dims...)))
		}
	}
}

// Add sets y = a + b elementwise (the residual add). y may alias a or b.
func Add(a, b, y []float32) {
	checkLen("Add", "b", len(b), len(a))
	checkLen("Add", "y", len(y), len(a))
	k := elt()
	if serial(len(y)) {
		k.flat2(k.add, asm.AddRef, a, b, y)
		return
	}
	j := getEltJob(k, addChunk)
	j.a, j.b, j.y = a, b, y
	j.parallel(len(y), parGrain)
}

func addChunk(j *eltJob, lo, hi int) {
	j.k.flat2(j.k.add, asm.AddRef, j.a[lo:hi], j.b[lo:hi], j.y[lo:hi])
}

// Axpy sets y += alpha·x elementwise.
func Axpy(alpha float32, x, y []float32) { alphaOp("Axpy", axpyChunk, alpha, x, y) }

func axpyChunk(j *eltJob, lo, hi int) {
	j.k.flatAlpha(j.k.axpy, asm.AxpyRef, j.alpha, j.a[lo:hi], j.y[lo:hi])
}

// Scale sets y = alpha·x elementwise. y may alias x.
func Scale(alpha float32, x, y []float32) { alphaOp("Scale", scaleChunk, alpha, x, y) }

func scaleChunk(j *eltJob, lo, hi int) {
	j.k.flatAlpha(j.k.scale, asm.ScaleRef, j.alpha, j.a[lo:hi], j.y[lo:hi])
}

// alphaOp runs chunk, a flat op with a scalar, over all of y: on the
// calling goroutine for small inputs, else split over the pool.
func alphaOp(op string, chunk func(j *eltJob, lo, hi int), alpha float32, x, y []float32) {
	checkLen(op, "y", len(y), len(x))
	j := getEltJob(elt(), chunk)
	j.alpha, j.a, j.y = alpha, x, y
	if serial(len(y)) {
		chunk(j, 0, len(y))
		j.release()
		return
	}
	j.parallel(len(y), parGrain)
}

// Sum returns the sum of x, accumulated in float64 (four interleaved
// partial sums), rounded once to float32.
func Sum(x []float32) float32 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += float64(x[i])
		s1 += float64(x[i+1])
		s2 += float64(x[i+2])
		s3 += float64(x[i+3])
	}
	for ; i < len(x); i++ {
		s0 += float64(x[i])
	}
	return float32((s0 + s1) + (s2 + s3))
}

// AddBias adds bias[ch] to every row of y (rows × c, channels last).
func AddBias(rows, c int, y, bias []float32) {
	checkDims("AddBias", rows, c)
	checkLen("AddBias", "y", len(y), rows*c)
	checkLen("AddBias", "bias", len(bias), c)
	k := elt()
	sc := getEltScratch(c, 0)
	affineRows(k, rows, c, y, sc.fill(0, c, 1), bias, y)
	sc.put()
}

// BiasGrad sets db[ch] = Σ_r dy[r,ch] (the bias gradient; db is overwritten).
func BiasGrad(rows, c int, dy, db []float32) {
	checkDims("BiasGrad", rows, c)
	checkLen("BiasGrad", "dy", len(dy), rows*c)
	checkLen("BiasGrad", "db", len(db), c)
	colReduce(elt(), rows, c, dy, nil, nil, nil, 1, db, nil)
}

// ScaleChannels sets y[b,p,ch] = x[b,p,ch]·s[b,ch] for n images of hw
// positions and c channels (the squeeze-and-excitation multiply). y may alias x.
func ScaleChannels(n, hw, c int, x, s, y []float32) {
	checkDims("ScaleChannels", n, hw, c)
	checkLen("ScaleChannels", "x", len(x), n*hw*c)
	checkLen("ScaleChannels", "s", len(s), n*c)
	checkLen("ScaleChannels", "y", len(y), n*hw*c)
	sc := getEltScratch(c, 0)
	channelAffine(n, hw, c, x, s, sc.fill(0, c, 0), y)
	sc.put()
}

// AddChannels sets y[b,p,ch] = x[b,p,ch] + t[b,ch] for n images of hw
// positions and c channels (a per-image bias; the gradient of a global
// average pool added to an existing one). y may alias x.
func AddChannels(n, hw, c int, x, t, y []float32) {
	checkDims("AddChannels", n, hw, c)
	checkLen("AddChannels", "x", len(x), n*hw*c)
	checkLen("AddChannels", "t", len(t), n*c)
	checkLen("AddChannels", "y", len(y), n*hw*c)
	sc := getEltScratch(c, 0)
	channelAffine(n, hw, c, x, sc.fill(0, c, 1), t, y)
	sc.put()
}

// channelAffine sets y[b,p,ch] = x[b,p,ch]·s[b,ch] + t[b,ch], where each
// of s and t holds either one vector per image (n·c values) or one vector
// of c that all images share.
func channelAffine(n, hw, c int, x, s, t, y []float32) {
	k := elt()
	if serial(n * hw * c) {
		channelAffineRows(k, 0, n*hw, hw, c, x, s, t, y)
		return
	}
	j := getEltJob(k, channelAffineChunk)
	j.hw, j.c, j.a, j.s, j.sh, j.y = hw, c, x, s, t, y
	j.parallel(n*hw, max(1, parGrain/max(c, 1)))
}

func channelAffineChunk(j *eltJob, lo, hi int) {
	channelAffineRows(j.k, lo, hi, j.hw, j.c, j.a, j.s, j.sh, j.y)
}

// channelAffineRows runs channelAffine over the rows [lo, hi) of all images.
func channelAffineRows(k *eltKernels, lo, hi, hw, c int, x, s, t, y []float32) {
	for lo < hi {
		b := lo / hw
		end := min(hi, (b+1)*hw)
		k.rowAffine(end-lo, c, x[lo*c:end*c], imageVec(s, b, c), imageVec(t, b, c), y[lo*c:end*c])
		lo = end
	}
}

// imageVec returns image b's vector of c values from v: its own where v
// holds one per image, else the shared one.
func imageVec(v []float32, b, c int) []float32 {
	if len(v) > c {
		return v[b*c : (b+1)*c]
	}
	return v[:c]
}

// ScaleChannelsBackward is the gradient of ScaleChannels: dx = dy·s and
// ds[b,ch] = Σ_p dy[b,p,ch]·x[b,p,ch], in one pass over dy. dx or ds may
// be nil (not wanted); dx may alias dy.
func ScaleChannelsBackward(n, hw, c int, x, s, dy, dx, ds []float32) {
	checkDims("ScaleChannelsBackward", n, hw, c)
	checkLen("ScaleChannelsBackward", "dy", len(dy), n*hw*c)
	if ds == nil {
		if dx != nil {
			ScaleChannels(n, hw, c, dy, s, dx)
		}
		return
	}
	checkLen("ScaleChannelsBackward", "x", len(x), n*hw*c)
	checkLen("ScaleChannelsBackward", "s", len(s), n*c)
	checkLen("ScaleChannelsBackward", "ds", len(ds), n*c)
	if dx != nil {
		checkLen("ScaleChannelsBackward", "dx", len(dx), n*hw*c)
	}
	j := getEltJob(elt(), scaleGradChunk)
	j.hw, j.c, j.a, j.b, j.s, j.y, j.sa = hw, c, dy, x, s, ds, dx
	if n == 1 || serial(n*hw*c) {
		scaleGradChunk(j, 0, n)
		j.release()
	} else {
		j.parallel(n, 1)
	}
}

// scaleGradChunk is ScaleChannelsBackward on images [lo, hi) (a = dy,
// b = x, s = s, y = ds, sa = dx or nil): one pass over dy, block by block,
// each block summed into ds (float32 over at most redBlock rows, then
// float64) and then, while it is in cache, scaled into dx (which may
// alias dy).
func scaleGradChunk(j *eltJob, lo, hi int) {
	k, hw, c := j.k, j.hw, j.c
	sc := getEltScratch(2*c, c)
	zero, part, acc := sc.fill(0, c, 0), sc.f32[c:2*c], sc.f64
	br := min(redBlock, bnBlockRows(c))
	for b := lo; b < hi; b++ {
		clear(acc)
		sb := j.s[b*c : (b+1)*c]
		for r := b * hw; r < (b+1)*hw; r += br {
			nr := min(br, (b+1)*hw-r)
			dyb := j.a[r*c : (r+nr)*c]
			clear(part)
			k.colAcc(nr, c, dyb, zero, j.b[r*c:(r+nr)*c], zero, part, nil)
			for ch, v := range part {
				acc[ch] += float64(v)
			}
			if j.sa != nil {
				k.rowAffine(nr, c, dyb, sb, zero, j.sa[r*c:(r+nr)*c])
			}
		}
		for ch, v := range acc {
			j.y[b*c+ch] = float32(v)
		}
	}
	sc.put()
}
