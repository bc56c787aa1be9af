package kernels

import (
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/nasrun/nasrun/kernels/asm"
)

// DWConv describes a depthwise convolution: input N×H×W×C (NHWC), square
// K×K kernel per channel, weights [K,K,C], symmetric zero padding Pad,
// stride Stride, optional fused activation on the output.
type DWConv struct {
	N, H, W, C, K, Stride, Pad int
	Act                        Act
}

// OutH is the output height, (H+2·Pad−K)/Stride+1.
func (p DWConv) OutH() int { return (p.H+2*p.Pad-p.K)/p.Stride + 1 }

// OutW is the output width, (W+2·Pad−K)/Stride+1.
func (p DWConv) OutW() int { return (p.W+2*p.Pad-p.K)/p.Stride + 1 }

// DepthwiseConv2d: y[N,OH,OW,C] = act(conv(x, w) + bias); bias may be nil.
// y is overwritten. It panics if a slice length does not match p.
func DepthwiseConv2d(p DWConv, x, w, bias, y []float32) {
	const fn = "DepthwiseConv2d"
	p.check(fn)
	oh, ow := p.OutH(), p.OutW()
	p.checkLen(fn, "x", len(x), p.N*p.H*p.W*p.C, "N·H·W·C")
	p.checkLen(fn, "w", len(w), p.K*p.K*p.C, "K·K·C")
	if bias != nil {
		p.checkLen(fn, "bias", len(bias), p.C, "C")
	}
	p.checkLen(fn, "y", len(y), p.N*oh*ow*p.C, "N·OH·OW·C")
	if p.N == 0 {
		return
	}
	j := getDWJob(p)
	defer putDWJob(j)
	j.x, j.w, j.bias, j.y = x, w, bias, y
	if !j.simd {
		parallelFor(p.N*oh, j.grain(ow), j.fwdRefFn)
		return
	}
	j.prepareFwd(x, w, bias, y)
	parallelFor(p.N*oh, j.grain(ow), j.corrFn)
}

// prepareFwd sets j.corr to the forward convolution of x into y (SIMD
// jobs only) and prepares it.
func (j *dwJob) prepareFwd(x, w, bias, y []float32) {
	p := j.p
	act := p.Act
	if act > ActHardswish {
		act = ActNone // the assembly fuses none, ReLU, ReLU6, hardswish; the rest runs after, in Go
	}
	c, ld := p.C, j.pix()
	j.corr = dwCorr{
		in: x, inImg: p.H * p.W * ld, hi: p.H, wi: p.W, c: c, xs: ld,
		kh: p.K, kw: p.K, s: p.Stride, pt: p.Pad, pl: p.Pad,
		oh: j.oh, ow: j.ow,
		out: y, outImg: j.oh * j.ow * ld, oRow: j.ow * ld, oPix: ld,
		act: int(act), post: p.Act,
	}
	j.corr.w, j.corr.wb, j.corr.wr, j.corr.wc = w, 0, p.K*c, c
	j.tapMap = grow(j.tapMap, p.K*p.K)
	for t := range j.tapMap {
		j.tapMap[t] = t
	}
	j.prepareCorr(w, bias)
}

// DepthwiseConv2dBackward: given dy = dL/d(conv output) (p.Act must be
// ActNone, else panic with a clear message; the caller applies the
// activation's backward first), writes dx (overwritten), dw (overwritten),
// db (overwritten); each of dx, dw, db may be nil to skip it.
func DepthwiseConv2dBackward(p DWConv, x, w, dy, dx, dw, db []float32) {
	const fn = "DepthwiseConv2dBackward"
	p.check(fn)
	if p.Act != ActNone {
		panic(fmt.Sprintf("kernels.%s: p.Act is %v, want none: apply the activation's backward to dy first and pass the pre-activation gradient", fn, p.Act))
	}
	oh, ow := p.OutH(), p.OutW()
	p.checkLen(fn, "dy", len(dy), p.N*oh*ow*p.C, "N·OH·OW·C")
	if dx != nil {
		p.checkLen(fn, "w", len(w), p.K*p.K*p.C, "K·K·C")
		p.checkLen(fn, "dx", len(dx), p.N*p.H*p.W*p.C, "N·H·W·C")
	}
	if dw != nil {
		p.checkLen(fn, "x", len(x), p.N*p.H*p.W*p.C, "N·H·W·C")
		p.checkLen(fn, "dw", len(dw), p.K*p.K*p.C, "K·K·C")
	}
	if db != nil {
		p.checkLen(fn, "db", len(db), p.C, "C")
	}
	if p.N == 0 {
		clear(dw)
		clear(db)
		return
	}
	j := getDWJob(p)
	defer putDWJob(j)
	j.x, j.w, j.dy, j.dx = x, w, dy, dx
	if dx != nil {
		j.backwardDx()
	}
	if dw != nil || db != nil {
		j.backwardDw(dw, db)
	}
}

func (p DWConv) check(fn string) {
	if p.N < 0 || p.H < 1 || p.W < 1 || p.C < 1 || p.K < 1 || p.Stride < 1 || p.Pad < 0 || p.Act >= numActs {
		panic(fmt.Sprintf("kernels.%s: invalid parameters %+v (want N ≥ 0, H, W, C, K, Stride ≥ 1, Pad ≥ 0)", fn, p))
	}
	if p.H+2*p.Pad < p.K || p.W+2*p.Pad < p.K {
		panic(fmt.Sprintf("kernels.%s: window %d×%d larger than the padded input %d×%d (%+v)", fn, p.K, p.K, p.H+2*p.Pad, p.W+2*p.Pad, p))
	}
}

// checkLen panics unless a slice has the length the parameters imply;
// dims names the product, e.g. "N·H·W·C".
func (p DWConv) checkLen(fn, name string, got, want int, dims string) {
	if got != want {
		panic(fmt.Sprintf("kernels.%s: %s has %d elements, want %s = %d (%+v, OH=%d OW=%d)", fn, name, got, dims, want, p, p.OutH(), p.OutW()))
	}
}

// dwJob holds one call's state. Jobs are pooled, and their methods are
// bound to func values once, so that a call allocates nothing.
type dwJob struct {
	p                     DWConv
	oh, ow                int
	simd, avx512          bool
	v                     int // channels per vector
	ld                    int // pixel stride of every operand in floats (0: C); see pix
	x, w, bias, y, dy, dx []float32
	tapMap                []int // window tap → weight tap of the current correlation
	corr                  dwCorr
	grad                  dwGrad
	wp                    []float32 // packed weights: the full window's, then each border segment's
	segs                  []dwSeg
	calls                 []dwGradCall
	gacc                  []float32 // per-chunk gradient accumulators
	fwdRefFn, dxRefFn     func(lo, hi int)
	corrFn, gradFn        func(lo, hi int)
}

var dwJobs = sync.Pool{New: func() any {
	j := new(dwJob)
	j.fwdRefFn, j.dxRefFn = j.fwdRef, j.dxRef
	j.corrFn, j.gradFn = j.corrRows, j.gradChunks
	return j
}}

func getDWJob(p DWConv) *dwJob {
	j := dwJobs.Get().(*dwJob)
	j.init(p)
	return j
}

// init sets the job up for p with the active implementation.
func (j *dwJob) init(p DWConv) {
	j.p, j.oh, j.ow, j.ld = p, p.OutH(), p.OutW(), 0
	switch Active() {
	case AVX512:
		j.simd, j.avx512, j.v = true, true, 16
	case AVX2:
		j.simd, j.avx512, j.v = true, false, 8
	case NEON:
		j.simd, j.avx512, j.v = true, false, 4
	default:
		j.simd = false
	}
	if j.simd && asm.DWFwdIndirect(j.avx512) == nil {
		j.simd = false
	}
}

// pix returns the pixel stride of the job's operands: C, unless a fused
// block's buffers interleave other channels with the convolution's (a
// Ghost module's cheap operation reads and writes halves of one tensor).
func (j *dwJob) pix() int {
	if j.ld > 0 {
		return j.ld
	}
	return j.p.C
}

func putDWJob(j *dwJob) {
	// Drop the references to the caller's buffers; keep the scratch.
	j.x, j.w, j.bias, j.y, j.dy, j.dx = nil, nil, nil, nil, nil, nil
	j.ld = 0
	j.corr = dwCorr{}
	j.grad = dwGrad{}
	dwJobs.Put(j)
}

// grain returns the rows per parallel chunk for rows of ow pixels: enough
// multiply-adds per chunk to pay for the hand-off.
func (j *dwJob) grain(ow int) int {
	return max(1, 32768/max(1, ow*j.p.C*j.p.K*j.p.K))
}

// packedLen is the length of a packed window of taps taps: per block of v
// channels, taps+1 vectors of v floats (the bias last), zero past C.
func (j *dwJob) packedLen(taps int) int {
	return (j.p.C + j.v - 1) / j.v * (taps + 1) * j.v
}

// pack writes at dst the packed weights (for the indirect kernel) of a
// kh×kw window whose tap t takes weights w[j.tapMap[t]·C:], and the bias
// (nil: zeros).
func (j *dwJob) pack(dst []float32, kh, kw int, w, bias []float32) {
	c, v := j.p.C, j.v
	taps := kh * kw
	for b := range (c + v - 1) / v {
		c0 := b * v
		n := min(v, c-c0)
		blk := dst[b*(taps+1)*v : (b+1)*(taps+1)*v]
		for t := range taps {
			src := j.tapMap[t] * c
			d := blk[t*v : t*v+v]
			copy(d, w[src+c0:src+c0+n])
			clear(d[n:])
		}
		d := blk[taps*v : taps*v+v]
		clear(d)
		if bias != nil {
			copy(d, bias[c0:c0+n])
		}
	}
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// fwdRef is the reference forward over output rows [lo, hi) of the batch.
func (j *dwJob) fwdRef(lo, hi int) {
	p := j.p
	img, row := p.H*p.W*p.C, j.ow*p.C
	for r := lo; r < hi; r++ {
		n, oy := r/j.oh, r%j.oh
		y := j.y[r*row : (r+1)*row]
		asm.DWConvFwdRowRef(j.x[n*img:(n+1)*img], p.H, p.W, p.C, p.K, p.Stride, p.Pad, j.w, j.bias, y, oy)
		activate(p.Act, y)
	}
}

// activate applies a in place.
func activate(a Act, y []float32) {
	if a == ActNone {
		return
	}
	for i, v := range y {
		y[i] = ActScalar(a, v)
	}
}

// dxRef is the reference input gradient over input rows [lo, hi).
func (j *dwJob) dxRef(lo, hi int) {
	p := j.p
	oimg, row := j.oh*j.ow*p.C, p.W*p.C
	for r := lo; r < hi; r++ {
		n, iy := r/p.H, r%p.H
		asm.DWConvDxRowRef(j.dy[n*oimg:(n+1)*oimg], j.oh, j.ow, p.C, p.K, p.Stride, p.Pad, j.w, j.dx[r*row:(r+1)*row], iy)
	}
}

// backwardDx computes the input gradient: a correlation of dy with the
// flipped window for stride 1; for stride s, s² phases (dx rows and columns
// with the same residue mod s), each a stride-1 correlation of dy with a
// sub-window of the flipped kernel.
func (j *dwJob) backwardDx() {
	p := j.p
	if !j.simd {
		parallelFor(p.N*p.H, j.grain(p.W), j.dxRefFn)
		return
	}
	for ph := range dxPhases(p) {
		switch j.prepareDxPhase(ph, 0, j.dy, j.dx) {
		case dxPhaseRun:
			parallelFor(p.N*j.corr.oh, j.grain(j.corr.ow), j.corrFn)
		case dxPhaseZero:
			j.corr.clearOut(j.dx, p.N)
		}
	}
}

// clearOut zeroes q's output pixels in out for n images: a phase of the
// input gradient that no tap lands on.
func (q *dwCorr) clearOut(out []float32, n int) {
	for i := range n {
		for oy := range q.oh {
			for ox := range q.ow {
				o := i*q.outImg + q.off + oy*q.oRow + ox*q.oPix
				clear(out[o : o+q.c])
			}
		}
	}
}

// dxPhases returns how many phases the input gradient of p has (s²).
func dxPhases(p DWConv) int { return p.Stride * p.Stride }

// The outcomes of prepareDxPhase.
const (
	dxPhaseRun  = iota // j.corr is the phase's correlation, prepared
	dxPhaseZero        // no tap lands on the phase (stride > K): its dx pixels (j.corr's output geometry) are zero
	dxPhaseNone        // the phase has no dx pixels
)

// prepareDxPhase sets j.corr to phase ph (< dxPhases) of the input
// gradient, reading dy and writing dx, and prepares it. Phase ry·s+rx
// covers the dx rows ≡ ry and columns ≡ rx (mod s): a stride-1
// correlation of dy with the sub-window of the flipped kernel whose taps
// land there. dy is stored with pad zero pixels around each image (its
// images (oh+2·pad)×(ow+2·pad)): with pad large enough every window lies
// inside it and the border code never runs.
func (j *dwJob) prepareDxPhase(ph, pad int, dy, dx []float32) int {
	p := j.p
	c, k, s, ld := p.C, p.K, p.Stride, j.pix()
	hi, wi := j.oh+2*pad, j.ow+2*pad
	j.corr = dwCorr{
		in: dy, inImg: hi * wi * ld, hi: hi, wi: wi, c: c, xs: ld, s: 1,
		out: dx, outImg: p.H * p.W * ld,
	}
	q := &j.corr
	if s == 1 {
		q.kh, q.kw, q.pt, q.pl = k, k, k-1-p.Pad-pad, k-1-p.Pad-pad
		q.oh, q.ow, q.oRow, q.oPix = p.H, p.W, p.W*ld, ld
		// The flipped window: tap (ty, tx) is kernel tap (k-1-ty, k-1-tx).
		q.w, q.wb, q.wr, q.wc = j.w, (k*k-1)*c, -k*c, -c
		j.tapMap = grow(j.tapMap, k*k)
		for t := range j.tapMap {
			j.tapMap[t] = k*k - 1 - t
		}
		j.prepareCorr(j.w, nil)
		return dxPhaseRun
	}
	ry, rx := ph/s, ph%s
	my, mx := ceilDiv(k-ry, s), ceilDiv(k-rx, s)
	qy0, qy1 := ceilDiv(p.Pad-ry, s), floorDiv(p.H-1+p.Pad-ry, s)
	qx0, qx1 := ceilDiv(p.Pad-rx, s), floorDiv(p.W-1+p.Pad-rx, s)
	if qy1 < qy0 || qx1 < qx0 {
		return dxPhaseNone
	}
	q.oh, q.ow = qy1-qy0+1, qx1-qx0+1
	q.off, q.oRow, q.oPix = (s*qy0+ry-p.Pad)*p.W*ld+(s*qx0+rx-p.Pad)*ld, s*p.W*ld, s*ld
	if my <= 0 || mx <= 0 {
		return dxPhaseZero
	}
	q.kh, q.kw, q.pt, q.pl = my, mx, my-1-qy0-pad, mx-1-qx0-pad
	// Sub-window tap (ty, tx) is kernel tap (ry+s(my-1-ty), rx+s(mx-1-tx)).
	q.w, q.wb = j.w, ((ry+s*(my-1))*k+rx+s*(mx-1))*c
	q.wr, q.wc = -s*k*c, -s*c
	j.tapMap = grow(j.tapMap, my*mx)
	for ty := range my {
		for tx := range mx {
			j.tapMap[ty*mx+tx] = (ry+s*(my-1-ty))*k + rx + s*(mx-1-tx)
		}
	}
	j.prepareCorr(j.w, nil)
	return dxPhaseRun
}

func ceilDiv(a, b int) int {
	if a >= 0 {
		return (a + b - 1) / b
	}
	return -(-a / b)
}

func floorDiv(a, b int) int {
	if a >= 0 {
		return a / b
	}
	return -((-a + b - 1) / b)
}

// dwCorr is one stride-s correlation of a batch of NHWC planes with a
// kh×kw window (the forward convolution, or a phase of the input gradient):
// for each image and o_y < oh, o_x < ow,
//
//	out[img·outImg + off + o_y·oRow + o_x·oPix + ch] =
//		act(bias[ch] + Σ u[ty,tx,ch]·in(o_y·s−pt+ty, o_x·s−pl+tx, ch)),
//
// with in zero outside hi×wi. Pads may be negative (a crop).
type dwCorr struct {
	in                []float32
	inImg, hi, wi, c  int
	xs                int // input pixel stride in floats
	kh, kw, s, pt, pl int
	oh, ow            int
	out               []float32
	outImg, off       int
	oRow, oPix        int
	w                 []float32 // window tap (ty, tx) weights at w[wb + ty·wr + tx·wc:]
	wb, wr, wc        int
	bias              []float32 // C floats (zeros for none)
	act               int
	post              Act  // applied in Go after the kernel when act cannot fuse it
	oxL, oxR          int  // interior output columns: every tap inside the input
	oyT, oyB          int  // interior output rows: every window row inside the input
	nrMax             int  // interior rows per tile-kernel call
	vert              bool // border columns of interior rows go down the column
	tile              func(*asm.DWTileArgs)
	ind               func(*asm.DWIndArgs)
	zero              []float32
	nInd              int // border pixels without a tile kernel, per row
}

// dwSeg is a run of border output columns [ox0, ox0+n) whose windows see
// the same input columns, window columns [kx0, kx1): the tile kernel of the
// clipped sub-window computes them; tile nil: the indirect kernel. In the
// interior rows a border column is better done whole, down the column, by
// the transposed window (vtile): q pixels per tile instead of one. For the
// gradient, vOff locates the column pass's accumulators.
type dwSeg struct {
	ox0, n, kx0, kx1 int
	tile             func(*asm.DWTileArgs)
	vtile            func(*asm.DWTileArgs) // the transposed (kw'×kh) window, down the column
	vOff             int
}

// borderSegs sets j.segs to the border columns [0, oxL) and [oxR, ow) of a
// window kw wide with stride s and left pad pl over an input wi wide,
// grouped into runs with the same clipped window.
func (j *dwJob) borderSegs(wi, kw, s, pl, ow, oxL, oxR int) {
	j.segs = j.segs[:0]
	for ox := range ow {
		if ox >= oxL && ox < oxR {
			continue
		}
		kx0, kx1 := max(0, pl-ox*s), min(kw, wi+pl-ox*s)
		if n := len(j.segs); n > 0 {
			l := &j.segs[n-1]
			if l.ox0+l.n == ox && l.kx0 == kx0 && l.kx1 == kx1 {
				l.n++
				continue
			}
		}
		j.segs = append(j.segs, dwSeg{ox0: ox, n: 1, kx0: kx0, kx1: kx1})
	}
}

// prepareCorr picks the kernels of j.corr, splits its columns into the
// interior and the border segments, and packs their weights.
func (j *dwJob) prepareCorr(w, bias []float32) {
	q := &j.corr
	q.tile = asm.DWFwdTile(j.avx512, q.kh, q.kw, q.s)
	q.ind = asm.DWFwdIndirect(j.avx512)
	q.oxL, q.oxR = 0, 0
	if q.tile != nil {
		q.oxL, q.oxR = interior(q.wi, q.kw, q.s, q.pl, q.ow)
	}
	j.borderSegs(q.wi, q.kw, q.s, q.pl, q.ow, q.oxL, q.oxR)
	q.nInd = 0
	// Down-the-column border passes need every segment to have its
	// transposed kernel, and no Go-side activation after the row pass.
	q.vert = q.tile != nil && q.post <= ActHardswish
	for i := range j.segs {
		sg := &j.segs[i]
		if q.tile != nil && sg.kx1 > sg.kx0 {
			sg.tile = asm.DWFwdTile(j.avx512, q.kh, sg.kx1-sg.kx0, q.s)
			sg.vtile = asm.DWFwdTile(j.avx512, sg.kx1-sg.kx0, q.kh, q.s)
		}
		if sg.tile == nil {
			q.nInd += sg.n
			q.vert = false
		} else if sg.vtile == nil {
			q.vert = false
		}
	}
	q.bias = bias
	if bias == nil {
		q.bias = zeros(q.c)
	}
	// Packed weights and bias: for the indirect kernel, and for the
	// interior tile kernel when it reloads weights per window row (5×5),
	// where constant offsets beat walking the strides.
	j.wp = grow(j.wp, j.packedLen(q.kh*q.kw))
	j.pack(j.wp, q.kh, q.kw, w, bias)
	// Interior rows: every window row inside the input. A call takes up
	// to nrMax of them: a tile's inputs for all its rows (up to ~20 KB per
	// channel block of 16) stay in L1 between the rows that share them.
	q.oyT, q.oyB = interior(q.hi, q.kh, q.s, q.pt, q.oh)
	cols := 16*q.s + q.kw - q.s
	q.nrMax = max(1, min(8, (320/cols-q.kh+q.s)/q.s))
	q.zero = zeros(q.wi * q.xs)
}

// interior returns the output columns [lo, hi) whose window lies inside an
// input of width wi (window kw, stride s, left pad pl); lo == hi if none.
func interior(wi, kw, s, pl, ow int) (lo, hi int) {
	lo = max(0, ceilDiv(pl, s))
	if wi-kw+pl >= 0 {
		hi = floorDiv(wi-kw+pl, s) + 1
	}
	lo, hi = min(lo, ow), min(hi, ow)
	if hi < lo {
		hi = lo
	}
	return lo, hi
}

// corrRows runs j.corr over output rows [lo, hi) of the batch.
func (j *dwJob) corrRows(lo, hi int) { j.corrRowsOf(&j.corr, lo, hi) }

// corrRowsOf runs q, a correlation prepared by j (or a copy of it with
// other in and out buffers), over output rows [lo, hi) of q's images.
func (j *dwJob) corrRowsOf(q *dwCorr, lo, hi int) {
	sc := getDWScratch()
	defer putDWScratch(sc)
	for r := lo; r < hi; {
		n, oy0 := r/q.oh, r%q.oh
		oy1 := min(q.oh, oy0+hi-r)
		for oy := oy0; oy < oy1; {
			if q.oxR <= q.oxL || oy < q.oyT || oy >= q.oyB {
				j.corrRow(sc, q, n, oy, true, true)
				oy++
				continue
			}
			// Interior rows: up to nrMax at a time, then their borders
			// unless the column pass does them.
			nr := min(q.nrMax, oy1-oy, q.oyB-oy)
			j.corrInterior(sc, q, n, oy, nr)
			if !q.vert {
				for i := range nr {
					j.corrRow(sc, q, n, oy+i, false, true)
				}
			}
			oy += nr
		}
		if a, b := max(oy0, q.oyT), min(oy1, q.oyB); q.vert && a < b {
			j.corrColumns(sc, q, n, a, b)
		}
		r += oy1 - oy0
	}
}

// corrInterior computes the interior columns of interior output rows
// [oy, oy+nr) of image n in one call.
func (j *dwJob) corrInterior(sc *dwScratch, q *dwCorr, n, oy, nr int) {
	a := &sc.tile
	a.C, a.XS, a.YS, a.Act = q.c, q.xs, q.oPix, q.act
	a.NR, a.RS, a.YR = nr, q.wi*q.xs, q.oRow
	in := n*q.inImg + (oy*q.s-q.pt)*q.wi*q.xs + (q.oxL*q.s-q.pl)*q.xs
	for ty := range q.kh {
		a.Rows[ty] = unsafe.Pointer(&q.in[in+ty*q.wi*q.xs])
	}
	a.W, a.WR, a.WC, a.B = unsafe.Pointer(&q.w[q.wb]), q.wr, q.wc, unsafe.Pointer(&q.bias[0])
	a.WPK, a.N = unsafe.Pointer(&j.wp[0]), q.oxR-q.oxL
	a.Y = unsafe.Pointer(&q.out[n*q.outImg+q.off+oy*q.oRow+q.oxL*q.oPix])
	q.tile(a)
	if q.post > ActHardswish && q.vert {
		panic("unreachable: the column pass needs a fused activation")
	}
}

// corrRow computes output row oy of image n: its interior columns if
// interior is set, its border columns if borders is.
func (j *dwJob) corrRow(sc *dwScratch, q *dwCorr, n, oy int, interior, borders bool) {
	zp := unsafe.Pointer(&q.zero[0])
	a := &sc.tile
	a.C, a.XS, a.YS, a.Act, a.NR = q.c, q.xs, q.oPix, q.act, 1
	inBase, outRow := n*q.inImg, n*q.outImg+q.off+oy*q.oRow
	// rows[ty]: index of the input row's column 0, or -1 outside.
	var rows [8]int
	for ty := range min(q.kh, len(rows)) {
		rows[ty] = -1
		if iy := oy*q.s - q.pt + ty; iy >= 0 && iy < q.hi {
			rows[ty] = inBase + iy*q.wi*q.xs
		}
	}
	a.WR, a.WC, a.B = q.wr, q.wc, unsafe.Pointer(&q.bias[0])
	call := func(tile func(*asm.DWTileArgs), ox0, n, kx0 int, full bool) {
		a.WPK = nil
		if full {
			a.WPK = unsafe.Pointer(&j.wp[0])
		}
		col := (ox0*q.s - q.pl + kx0) * q.xs
		for ty := range q.kh {
			if rows[ty] < 0 {
				a.Rows[ty] = zp
			} else {
				a.Rows[ty] = unsafe.Pointer(&q.in[rows[ty]+col])
			}
		}
		a.W, a.Y, a.N = unsafe.Pointer(&q.w[q.wb+kx0*q.wc]), unsafe.Pointer(&q.out[outRow+ox0*q.oPix]), n
		tile(a)
	}
	if interior && q.oxR > q.oxL {
		call(q.tile, q.oxL, q.oxR-q.oxL, 0, true)
	}
	if !borders {
		return
	}
	for _, sg := range j.segs {
		if sg.tile != nil {
			call(sg.tile, sg.ox0, sg.n, sg.kx0, false)
		}
	}
	if q.nInd > 0 {
		taps := q.kh * q.kw
		sc.taps = grow(sc.taps, q.nInd*(taps+1))
		img := q.in[inBase : inBase+q.inImg]
		i := 0
		for _, sg := range j.segs {
			if sg.tile != nil {
				continue
			}
			for ox := sg.ox0; ox < sg.ox0+sg.n; ox++ {
				i = fillTaps(sc.taps, i, unsafe.Pointer(&q.out[outRow+ox*q.oPix]), img, zp,
					oy*q.s-q.pt, ox*q.s-q.pl, q.kh, q.kw, q.hi, q.wi, q.xs)
			}
		}
		ia := &sc.ind
		ia.Taps, ia.N, ia.NT = unsafe.Pointer(&sc.taps[0]), q.nInd, taps
		ia.W, ia.C, ia.Act = unsafe.Pointer(&j.wp[0]), q.c, q.act
		q.ind(ia)
	}
	if q.post > ActHardswish {
		activate(q.post, q.out[outRow:outRow+q.ow*q.c])
	}
}

// corrColumns computes the border columns of interior output rows [oy0,
// oy1) of image n, one call per column with the transposed window: its
// "rows" are the window's input columns, stepping down the input.
func (j *dwJob) corrColumns(sc *dwScratch, q *dwCorr, n, oy0, oy1 int) {
	a := &sc.tile
	a.C, a.XS, a.YS, a.Act, a.N, a.NR = q.c, q.wi*q.xs, q.oRow, q.act, oy1-oy0, 1
	inRow := n*q.inImg + (oy0*q.s-q.pt)*q.wi*q.xs
	outRow := n*q.outImg + q.off + oy0*q.oRow
	// The transposed window's tap (tx, ty) is the window's (ty, kx0+tx).
	a.WR, a.WC, a.B, a.WPK = q.wc, q.wr, unsafe.Pointer(&q.bias[0]), nil
	for _, sg := range j.segs {
		a.W = unsafe.Pointer(&q.w[q.wb+sg.kx0*q.wc])
		for ox := sg.ox0; ox < sg.ox0+sg.n; ox++ {
			for tx := range sg.kx1 - sg.kx0 {
				a.Rows[tx] = unsafe.Pointer(&q.in[inRow+(ox*q.s-q.pl+sg.kx0+tx)*q.xs])
			}
			a.Y = unsafe.Pointer(&q.out[outRow+ox*q.oPix])
			sg.vtile(a)
		}
	}
}

// fillTaps writes at taps[i:] the pixel's head pointer and its kh×kw input
// pointers (window top-left at iy0, ix0; zp outside the input; pixels c
// floats apart in img) and returns the next index.
func fillTaps(taps []unsafe.Pointer, i int, head unsafe.Pointer, img []float32, zp unsafe.Pointer, iy0, ix0, kh, kw, hi, wi, c int) int {
	taps[i] = head
	i++
	for ty := range kh {
		iy := iy0 + ty
		for tx := range kw {
			ix := ix0 + tx
			if iy < 0 || iy >= hi || ix < 0 || ix >= wi {
				taps[i] = zp
			} else {
				taps[i] = unsafe.Pointer(&img[(iy*wi+ix)*c])
			}
			i++
		}
	}
	return i
}

// dwScratch is one chunk's scratch: kernel arguments (heap-resident, so
// passing them to the assembly through a func value does not allocate) and
// pointer buffers.
type dwScratch struct {
	tile asm.DWTileArgs
	grad asm.DWGradArgs
	ind  asm.DWIndArgs
	taps []unsafe.Pointer
	rows []unsafe.Pointer
}

var dwScratches = sync.Pool{New: func() any { return new(dwScratch) }}

func getDWScratch() *dwScratch { return dwScratches.Get().(*dwScratch) }

func putDWScratch(s *dwScratch) {
	s.tile, s.grad, s.ind = asm.DWTileArgs{}, asm.DWGradArgs{}, asm.DWIndArgs{}
	clear(s.taps)
	clear(s.rows)
	dwScratches.Put(s)
}

// zeroBuf is a read-only buffer of zeros that padding pointers address. It
// only grows (a new, larger buffer replaces it), so a reader's copy stays valid.
var zeroBuf atomic.Pointer[[]float32]

// zeros returns at least n (and at least 64) zero floats.
func zeros(n int) []float32 {
	n = max(n, 64)
	if z := zeroBuf.Load(); z != nil && len(*z) >= n {
		return *z
	}
	z := make([]float32, max(n, 4096))
	zeroBuf.Store(&z)
	return z
}

// dwGrad is the weight- and bias-gradient plan: a reduction over every
// output pixel, split into chunks of rows, each accumulating into its own
// slice of j.gacc; the chunks are then summed in a fixed order.
type dwGrad struct {
	x                []float32 // input images (dy itself in the bias-only pass)
	h, w, c, k, s, p int
	xs, dys          int // pixel strides of x and dy in floats (SIMD; the reference takes c)
	dyRow, dyImg     int // dy's row and image strides in floats (SIMD; ow·dys and oh·ow·dys unless dy is padded)
	dy               []float32
	oh, ow           int
	needDw           bool
	rows, chunks     int // output rows of the batch, chunks
	band             int // rows per tile-kernel call
	accLen           int // accumulator floats per chunk
	indOff           int // the indirect kernel's accumulators, if nInd > 0
	nInd             int // border pixels per row without a tile kernel
	ind              func(*asm.DWIndArgs)
	zero             []float32
	// vert: the border columns of the interior rows [oyT, oyB) go down the
	// column (transposed windows, accumulators at each segment's vOff).
	vert     bool
	oyT, oyB int
}

// dwGradCall is one tile-kernel call per band of rows: window rows
// [ky0, ky0+g) and columns [kx0, kx0+kw) over output columns
// [ox0, ox0+n), accumulating at off (with the bias gradient if withDb).
type dwGradCall struct {
	ky0, g, kx0, kw, ox0, n, off int
	withDb, border               bool
	fn                           func(*asm.DWGradArgs)
}

// backwardDw computes dw and db (either may be nil).
func (j *dwJob) backwardDw(dw, db []float32) {
	j.setGrad(j.x, j.dy, dw != nil)
	g := &j.grad
	g.chunks = max(1, min(Threads(), g.rows, g.rows*g.ow*g.c*g.k*g.k/65536))
	j.gacc = grow(j.gacc, g.chunks*g.accLen)
	parallelFor(g.chunks, 1, j.gradFn)
	j.combineGrad(dw, db)
}

// setGrad sets j.grad to the weight gradient (bias only unless needDw) of
// input x and output gradient dy, and plans its accumulation: the
// accumulator layout, and for SIMD the tile-kernel calls (prepareGrad).
func (j *dwJob) setGrad(x, dy []float32, needDw bool) {
	p := j.p
	g := &j.grad
	ld := j.pix()
	*g = dwGrad{x: x, h: p.H, w: p.W, c: p.C, k: p.K, s: p.Stride, p: p.Pad, xs: ld, dy: dy, dys: ld, oh: j.oh, ow: j.ow, needDw: needDw,
		dyRow: j.ow * ld, dyImg: j.oh * j.ow * ld}
	if !needDw {
		// Bias only: run the reduction as a 1×1 window over dy itself and
		// keep its bias slot.
		g.x, g.h, g.w, g.k, g.s, g.p, g.xs = dy, j.oh, j.ow, 1, 1, 0, ld
	}
	g.rows = p.N * j.oh
	if !j.simd {
		g.accLen = g.k*g.k*g.c + g.c
		return
	}
	j.prepareGrad()
}

// prepareGrad plans the SIMD gradient: the window's rows split into groups
// that have a tile kernel (all of it, except on AVX2 for 5×5), the
// interior columns and the border segments each a call per group, the
// segments without a kernel on the indirect kernel.
func (j *dwJob) prepareGrad() {
	g := &j.grad
	k := g.k
	var groups [8][2]int // ky0, rows
	ng := 0
	for ky0 := 0; ky0 < k && ng >= 0; {
		gr := k - ky0
		for ; gr > 0 && asm.DWGradTile(j.avx512, gr, k, g.s) == nil; gr-- {
		}
		if gr == 0 || ng == len(groups) {
			ng = -1
			break
		}
		groups[ng] = [2]int{ky0, gr}
		ng++
		ky0 += gr
	}
	oxL, oxR := 0, 0
	if ng > 0 {
		oxL, oxR = interior(g.w, k, g.s, g.p, g.ow)
	}
	j.borderSegs(g.w, k, g.s, g.p, g.ow, oxL, oxR)
	j.calls = j.calls[:0]
	off := 0
	add := func(kx0, kw, ox0, n int, border bool) bool {
		for i := range ng {
			if asm.DWGradTile(j.avx512, groups[i][1], kw, g.s) == nil {
				return false
			}
		}
		for i := range ng {
			gr := groups[i]
			j.calls = append(j.calls, dwGradCall{ky0: gr[0], g: gr[1], kx0: kx0, kw: kw, ox0: ox0, n: n, off: off,
				withDb: i == 0, border: border, fn: asm.DWGradTile(j.avx512, gr[1], kw, g.s)})
			off += j.packedLen(gr[1] * kw)
		}
		return true
	}
	if oxR > oxL {
		add(0, k, oxL, oxR-oxL, false)
	}
	g.nInd = 0
	g.vert = oxR > oxL
	for i := range j.segs {
		sg := &j.segs[i]
		sg.tile, sg.vtile = nil, nil
		if ng <= 0 || sg.kx1 <= sg.kx0 || !add(sg.kx0, sg.kx1-sg.kx0, sg.ox0, sg.n, true) {
			sg.kx0, sg.kx1 = -1, -1 // marks an indirect segment
			g.nInd += sg.n
			g.vert = false
		} else if asm.DWGradTile(j.avx512, sg.kx1-sg.kx0, k, g.s) == nil {
			g.vert = false
		}
	}
	if g.vert {
		for i := range j.segs {
			sg := &j.segs[i]
			sg.vOff = off
			off += j.packedLen((sg.kx1 - sg.kx0) * k)
		}
		g.oyT, g.oyB = interior(g.h, k, g.s, g.p, g.oh)
	}
	g.indOff = off
	if g.nInd > 0 {
		off += j.packedLen(k * k)
	}
	g.accLen = off
	g.band = max(1, 98304/(g.ow*g.c*4*2))
	g.ind = asm.DWGradIndirect(j.avx512)
	g.zero = zeros(g.w * g.xs)
}

// gradChunks accumulates chunks [lo, hi) of the weight gradient.
func (j *dwJob) gradChunks(lo, hi int) {
	g := &j.grad
	for i := lo; i < hi; i++ {
		acc := j.gacc[i*g.accLen : (i+1)*g.accLen]
		clear(acc)
		j.gradRows(g, acc, i*g.rows/g.chunks, (i+1)*g.rows/g.chunks)
	}
}

// gradRows adds output rows [r0, r1) of g's images into acc, one chunk's
// accumulator (g is j.grad, or a copy of it with other x and dy).
func (j *dwJob) gradRows(g *dwGrad, acc []float32, r0, r1 int) {
	if j.simd {
		j.gradChunkSIMD(g, acc, r0, r1)
		return
	}
	c, k := g.c, g.k
	img, orow := g.h*g.w*c, g.ow*c
	var dwp []float32
	if g.needDw {
		dwp = acc[:k*k*c]
	}
	for r := r0; r < r1; r++ {
		n, oy := r/g.oh, r%g.oh
		asm.DWConvDwRowRef(g.x[n*img:(n+1)*img], g.h, g.w, c, k, g.s, g.p, g.dy[r*orow:(r+1)*orow], oy, dwp, acc[k*k*c:])
	}
}

// gradChunkSIMD accumulates output rows [r0, r1) into acc, a band of rows
// per tile-kernel call.
func (j *dwJob) gradChunkSIMD(g *dwGrad, acc []float32, r0, r1 int) {
	k := g.k
	img := g.h * g.w * g.xs
	zp := unsafe.Pointer(&g.zero[0])
	sc := getDWScratch()
	defer putDWScratch(sc)
	// A band's rows share one dy row stride: where dy is padded, a band
	// ends with its image.
	padded := g.dyImg != g.oh*g.dyRow
	for b0, b1 := r0, r0; b0 < r1; b0 = b1 {
		b1 = min(r1, b0+g.band)
		if padded {
			b1 = min(b1, (b0/g.oh+1)*g.oh)
		}
		if len(j.calls) > 0 {
			sc.rows = grow(sc.rows, (b1-b0)*k)
			for r := b0; r < b1; r++ {
				n, oy := r/g.oh, r%g.oh
				for ky := range k {
					iy := oy*g.s - g.p + ky
					if iy < 0 || iy >= g.h {
						sc.rows[(r-b0)*k+ky] = zp
					} else {
						sc.rows[(r-b0)*k+ky] = unsafe.Pointer(&g.x[n*img+iy*g.w*g.xs])
					}
				}
			}
			for _, cl := range j.calls {
				if !cl.border || !g.vert {
					j.gradCall(sc, g, acc, cl, b0, b0, b1)
					continue
				}
				// Border columns: here only in the border rows.
				for ra := b0; ra < b1; {
					if oy := ra % g.oh; oy >= g.oyT && oy < g.oyB {
						ra++
						continue
					}
					rb := ra + 1
					for rb < b1 && (rb%g.oh < g.oyT || rb%g.oh >= g.oyB) {
						rb++
					}
					j.gradCall(sc, g, acc, cl, b0, ra, rb)
					ra = rb
				}
			}
			if g.vert {
				j.gradColumns(sc, g, acc, b0, b1)
			}
		}
		if g.nInd == 0 {
			continue
		}
		taps := k * k
		sc.taps = grow(sc.taps, g.nInd*(taps+1))
		ia := &sc.ind
		for r := b0; r < b1; r++ {
			n, oy := r/g.oh, r%g.oh
			ximg := g.x[n*img : (n+1)*img]
			i := 0
			for _, sg := range j.segs {
				if sg.kx0 >= 0 {
					continue
				}
				for ox := sg.ox0; ox < sg.ox0+sg.n; ox++ {
					i = fillTaps(sc.taps, i, unsafe.Pointer(&g.dy[g.dyAt(r, ox)]), ximg, zp,
						oy*g.s-g.p, ox*g.s-g.p, k, k, g.h, g.w, g.xs)
				}
			}
			ia.Taps, ia.N, ia.NT = unsafe.Pointer(&sc.taps[0]), g.nInd, taps
			ia.W, ia.C = unsafe.Pointer(&acc[g.indOff]), g.c
			g.ind(ia)
		}
	}
}

// dyAt returns the offset in g.dy of output row r (of the batch), column ox.
func (g *dwGrad) dyAt(r, ox int) int { return r/g.oh*g.dyImg + r%g.oh*g.dyRow + ox*g.dys }

// gradCall runs one row-wise gradient call over rows [ra, rb) of the band
// that starts at b0 (whose window-row pointers are in sc.rows).
func (j *dwJob) gradCall(sc *dwScratch, g *dwGrad, acc []float32, cl dwGradCall, b0, ra, rb int) {
	a := &sc.grad
	a.Rows, a.RowStride, a.NR = unsafe.Pointer(&sc.rows[(ra-b0)*g.k+cl.ky0]), g.k, rb-ra
	a.DY, a.DYRow = unsafe.Pointer(&g.dy[g.dyAt(ra, cl.ox0)]), g.dyRow
	a.N, a.C, a.Acc = cl.n, g.c, unsafe.Pointer(&acc[cl.off])
	a.XOff, a.XS, a.DYS = (cl.ox0*g.s-g.p+cl.kx0)*g.xs, g.xs, g.dys
	cl.fn(a)
}

// gradColumns runs the border columns of the interior rows among rows
// [b0, b1), down each column: the transposed window's "rows" are the
// window's input columns, its pixels the output rows.
func (j *dwJob) gradColumns(sc *dwScratch, g *dwGrad, acc []float32, b0, b1 int) {
	c, k := g.c, g.k
	a := &sc.grad
	for r := b0; r < b1; {
		n, oy0 := r/g.oh, r%g.oh
		oy1 := min(g.oh, oy0+b1-r)
		r += oy1 - oy0
		oa, ob := max(oy0, g.oyT), min(oy1, g.oyB)
		if oa >= ob {
			continue
		}
		inRow := n*g.h*g.w*g.xs + (oa*g.s-g.p)*g.w*g.xs
		for _, sg := range j.segs {
			cols := sg.kx1 - sg.kx0
			fn := asm.DWGradTile(j.avx512, cols, k, g.s)
			sc.taps = grow(sc.taps, max(cols, len(sc.taps)))
			for ox := sg.ox0; ox < sg.ox0+sg.n; ox++ {
				for tx := range cols {
					sc.taps[tx] = unsafe.Pointer(&g.x[inRow+(ox*g.s-g.p+sg.kx0+tx)*g.xs])
				}
				a.Rows, a.RowStride, a.NR = unsafe.Pointer(&sc.taps[0]), cols, 1
				a.DY, a.DYRow = unsafe.Pointer(&g.dy[g.dyAt(n*g.oh+oa, ox)]), 0
				a.N, a.C, a.Acc = ob-oa, c, unsafe.Pointer(&acc[sg.vOff])
				a.XOff, a.XS, a.DYS = 0, g.w*g.xs, g.dyRow
				fn(a)
			}
		}
	}
}

// combineGrad sums the chunks' accumulators into dw and db in chunk order.
func (j *dwJob) combineGrad(dw, db []float32) {
	g := &j.grad
	c, k, v := g.c, g.k, j.v
	clear(dw)
	clear(db)
	for i := range g.chunks {
		acc := j.gacc[i*g.accLen : (i+1)*g.accLen]
		if !j.simd {
			if dw != nil {
				for t, a := range acc[:k*k*c] {
					dw[t] += a
				}
			}
			if db != nil {
				for ch, a := range acc[k*k*c:] {
					db[ch] += a
				}
			}
			continue
		}
		// A packed region of taps taps: block b, tap t, lane l at
		// off + b·(taps+1)·v + t·v + l; the bias gradient is tap taps.
		unpack := func(off, taps, t int, dst []float32) {
			for b := 0; b*v < len(dst); b++ {
				src := acc[off+b*(taps+1)*v+t*v:][:v]
				d := dst[b*v : min(len(dst), b*v+v)]
				for l := range d {
					d[l] += src[l]
				}
			}
		}
		// region unpacks window rows [ky0, ky0+g) × columns [kx0, kx0+kw),
		// stored transposed (kw×g) for the down-the-column passes.
		region := func(off, ky0, g, kx0, kw int, withDb, transposed bool) {
			if dw != nil {
				for ty := range g {
					for tx := range kw {
						t := (ky0+ty)*k + kx0 + tx
						pt := ty*kw + tx
						if transposed {
							pt = tx*g + ty
						}
						unpack(off, g*kw, pt, dw[t*c:(t+1)*c])
					}
				}
			}
			if db != nil && withDb {
				unpack(off, g*kw, g*kw, db)
			}
		}
		for _, cl := range j.calls {
			region(cl.off, cl.ky0, cl.g, cl.kx0, cl.kw, cl.withDb, false)
		}
		if g.vert {
			for _, sg := range j.segs {
				region(sg.vOff, 0, k, sg.kx0, sg.kx1-sg.kx0, true, true)
			}
		}
		if g.nInd > 0 {
			region(g.indOff, 0, k, 0, k, true, false)
		}
	}
}
