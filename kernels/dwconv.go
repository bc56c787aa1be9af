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
	act := p.Act
	if act > ActHardswish {
		act = ActNone // the assembly fuses none, ReLU, ReLU6, hardswish; the rest runs after, in Go
	}
	c := p.C
	j.corr = dwCorr{
		in: x, inImg: p.H * p.W * c, hi: p.H, wi: p.W, c: c,
		kh: p.K, kw: p.K, s: p.Stride, pt: p.Pad, pl: p.Pad,
		oh: oh, ow: ow,
		out: y, outImg: oh * ow * c, oRow: ow * c, oPix: c,
		act: int(act), post: p.Act,
	}
	j.corr.wp = j.pack(p.K*p.K, w, bias, func(t int) int { return t })
	j.prepareCorr()
	parallelFor(p.N*oh, j.grain(ow), j.corrFn)
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
	x, w, bias, y, dy, dx []float32
	corr                  dwCorr
	grad                  dwGrad
	wp                    []float32 // packed weights (forward, input gradient)
	tapMap                []int
	fwdRefFn, dxRefFn     func(lo, hi int)
	corrFn, gradFn        func(lo, hi int)
	gacc                  []float32 // per-chunk gradient accumulators
}

var dwJobs = sync.Pool{New: func() any {
	j := new(dwJob)
	j.fwdRefFn, j.dxRefFn = j.fwdRef, j.dxRef
	j.corrFn, j.gradFn = j.corrRows, j.gradChunks
	return j
}}

func getDWJob(p DWConv) *dwJob {
	j := dwJobs.Get().(*dwJob)
	j.p, j.oh, j.ow = p, p.OutH(), p.OutW()
	switch Active() {
	case AVX512:
		j.simd, j.avx512, j.v = true, true, 16
	case AVX2:
		j.simd, j.avx512, j.v = true, false, 8
	default:
		j.simd = false
	}
	if j.simd && asm.DWFwdIndirect(j.avx512) == nil {
		j.simd = false
	}
	return j
}

func putDWJob(j *dwJob) {
	// Drop the references to the caller's buffers; keep the scratch.
	j.x, j.w, j.bias, j.y, j.dy, j.dx = nil, nil, nil, nil, nil, nil
	j.corr = dwCorr{}
	j.grad = dwGrad{}
	dwJobs.Put(j)
}

// grain returns the rows per parallel chunk for rows of ow pixels: enough
// multiply-adds per chunk to pay for the hand-off.
func (j *dwJob) grain(ow int) int {
	return max(1, 32768/max(1, ow*j.p.C*j.p.K*j.p.K))
}

// pack fills j.wp with the packed weights of a window of taps taps, tap t
// taking weights w[tap(t)·C:], and the bias (nil: zeros): per block of v
// channels, taps+1 vectors of v floats, zero past C.
func (j *dwJob) pack(taps int, w, bias []float32, tap func(t int) int) []float32 {
	c, v := j.p.C, j.v
	nb := (c + v - 1) / v
	j.wp = grow(j.wp, nb*(taps+1)*v)
	wp := j.wp
	for b := range nb {
		c0 := b * v
		n := min(v, c-c0)
		blk := wp[b*(taps+1)*v : (b+1)*(taps+1)*v]
		for t := range taps {
			dst := blk[t*v : t*v+v]
			copy(dst, w[tap(t)*c+c0:tap(t)*c+c0+n])
			clear(dst[n:])
		}
		dst := blk[taps*v : taps*v+v]
		if bias != nil {
			copy(dst, bias[c0:c0+n])
			clear(dst[n:])
		} else {
			clear(dst)
		}
	}
	return wp
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
	c, k, s := p.C, p.K, p.Stride
	base := dwCorr{
		in: j.dy, inImg: j.oh * j.ow * c, hi: j.oh, wi: j.ow, c: c, s: 1,
		out: j.dx, outImg: p.H * p.W * c,
	}
	if s == 1 {
		j.corr = base
		j.corr.kh, j.corr.kw, j.corr.pt, j.corr.pl = k, k, k-1-p.Pad, k-1-p.Pad
		j.corr.oh, j.corr.ow, j.corr.oRow, j.corr.oPix = p.H, p.W, p.W*c, c
		j.corr.wp = j.pack(k*k, j.w, nil, func(t int) int { return k*k - 1 - t })
		j.prepareCorr()
		parallelFor(p.N*p.H, j.grain(p.W), j.corrFn)
		return
	}
	for ry := range s {
		my := ceilDiv(k-ry, s)
		qy0, qy1 := ceilDiv(p.Pad-ry, s), floorDiv(p.H-1+p.Pad-ry, s)
		for rx := range s {
			mx := ceilDiv(k-rx, s)
			qx0, qx1 := ceilDiv(p.Pad-rx, s), floorDiv(p.W-1+p.Pad-rx, s)
			if qy1 < qy0 || qx1 < qx0 {
				continue
			}
			off := (s*qy0+ry-p.Pad)*p.W*c + (s*qx0+rx-p.Pad)*c
			if my <= 0 || mx <= 0 {
				// No tap lands on this phase (stride > K): its gradient is zero.
				for n := range p.N {
					for qy := range qy1 - qy0 + 1 {
						for qx := range qx1 - qx0 + 1 {
							i := n*p.H*p.W*c + off + qy*s*p.W*c + qx*s*c
							clear(j.dx[i : i+c])
						}
					}
				}
				continue
			}
			j.corr = base
			j.corr.kh, j.corr.kw, j.corr.pt, j.corr.pl = my, mx, my-1-qy0, mx-1-qx0
			j.corr.oh, j.corr.ow = qy1-qy0+1, qx1-qx0+1
			j.corr.off, j.corr.oRow, j.corr.oPix = off, s*p.W*c, s*c
			// Sub-window tap (ty, tx) is kernel tap (ry+s(my-1-ty), rx+s(mx-1-tx)).
			j.corr.wp = j.pack(my*mx, j.w, nil, func(t int) int {
				ty, tx := t/mx, t%mx
				return (ry+s*(my-1-ty))*k + rx + s*(mx-1-tx)
			})
			j.prepareCorr()
			parallelFor(p.N*j.corr.oh, j.grain(j.corr.ow), j.corrFn)
		}
	}
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
	kh, kw, s, pt, pl int
	oh, ow            int
	out               []float32
	outImg, off       int
	oRow, oPix        int
	wp                []float32
	act               int
	post              Act // applied in Go after the kernel when act cannot fuse it
	oxL, oxR          int // interior output columns: every tap inside the input
	tile              func(*asm.DWTileArgs)
	ind               func(*asm.DWIndArgs)
	zero              []float32
}

// prepareCorr picks the kernels and the interior of j.corr.
func (j *dwJob) prepareCorr() {
	q := &j.corr
	q.tile = asm.DWFwdTile(j.avx512, q.kh, q.kw, q.s)
	q.ind = asm.DWFwdIndirect(j.avx512)
	q.oxL, q.oxR = interior(q.wi, q.kw, q.s, q.pl, q.ow)
	if q.tile == nil {
		q.oxL, q.oxR = 0, 0
	}
	q.zero = zeros(q.wi * q.c)
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
func (j *dwJob) corrRows(lo, hi int) {
	q := &j.corr
	sc := getDWScratch()
	defer putDWScratch(sc)
	zp := unsafe.Pointer(&q.zero[0])
	taps := q.kh * q.kw
	for r := lo; r < hi; r++ {
		n, oy := r/q.oh, r%q.oh
		inBase, outRow := n*q.inImg, n*q.outImg+q.off+oy*q.oRow
		if q.oxR > q.oxL {
			a := &sc.tile
			for ty := range q.kh {
				iy := oy*q.s - q.pt + ty
				if iy < 0 || iy >= q.hi {
					a.Rows[ty] = zp
				} else {
					a.Rows[ty] = unsafe.Pointer(&q.in[inBase+(iy*q.wi+q.oxL*q.s-q.pl)*q.c])
				}
			}
			a.W, a.Y = unsafe.Pointer(&q.wp[0]), unsafe.Pointer(&q.out[outRow+q.oxL*q.oPix])
			a.C, a.N, a.YS, a.Act = q.c, q.oxR-q.oxL, q.oPix, q.act
			q.tile(a)
		}
		// The border pixels (all of them without a tile kernel), one call.
		if ne := q.ow - (q.oxR - q.oxL); ne > 0 {
			sc.taps = grow(sc.taps, ne*(taps+1))
			img := q.in[inBase : inBase+q.inImg]
			i := 0
			for ox := range q.ow {
				if ox >= q.oxL && ox < q.oxR {
					continue
				}
				i = fillTaps(sc.taps, i, unsafe.Pointer(&q.out[outRow+ox*q.oPix]), img, zp,
					oy*q.s-q.pt, ox*q.s-q.pl, q.kh, q.kw, q.hi, q.wi, q.c)
			}
			a := &sc.ind
			a.Taps, a.N, a.NT = unsafe.Pointer(&sc.taps[0]), ne, taps
			a.W, a.C, a.Act = unsafe.Pointer(&q.wp[0]), q.c, q.act
			q.ind(a)
		}
		if q.post > ActHardswish {
			activate(q.post, q.out[outRow:outRow+q.ow*q.c])
		}
	}
}

// fillTaps writes at taps[i:] the pixel's head pointer and its kh×kw input
// pointers (window top-left at iy0, ix0; zp outside the input) and returns
// the next index.
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
// pointer and accumulator buffers.
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
	dy               []float32
	oh, ow           int
	needDw           bool
	rows, chunks     int // output rows of the batch, chunks
	accLen           int // accumulator floats per chunk
	// SIMD: row groups of the window with a tile kernel, each with its own
	// packed accumulators at off, then the border pixels' at edgeOff.
	groups   [5]dwGradGroup
	ngroups  int
	edgeOff  int
	oxL, oxR int
	ind      func(*asm.DWIndArgs)
	zero     []float32
}

type dwGradGroup struct {
	ky0, g, off int
	fn          func(*asm.DWGradArgs)
}

// backwardDw computes dw and db (either may be nil).
func (j *dwJob) backwardDw(dw, db []float32) {
	p := j.p
	g := &j.grad
	*g = dwGrad{x: j.x, h: p.H, w: p.W, c: p.C, k: p.K, s: p.Stride, p: p.Pad, dy: j.dy, oh: j.oh, ow: j.ow, needDw: dw != nil}
	if dw == nil {
		// Bias only: run the reduction as a 1×1 window over dy itself and
		// keep its bias slot.
		g.x, g.h, g.w, g.k, g.s, g.p = j.dy, j.oh, j.ow, 1, 1, 0
	}
	g.rows = p.N * j.oh
	c, k, v := g.c, g.k, j.v
	g.chunks = max(1, min(Threads(), g.rows, g.rows*g.ow*c*k*k/65536))
	if !j.simd {
		g.accLen = k*k*c + c
	} else {
		nb := (c + v - 1) / v
		off := 0
		for ky0 := 0; ky0 < k; {
			gr := 0
			var fn func(*asm.DWGradArgs)
			for gr = k - ky0; gr > 0; gr-- {
				if fn = asm.DWGradTile(j.avx512, gr, k, g.s); fn != nil {
					break
				}
			}
			if fn == nil {
				g.ngroups = 0
				off = 0
				break
			}
			g.groups[g.ngroups] = dwGradGroup{ky0: ky0, g: gr, off: off, fn: fn}
			g.ngroups++
			off += nb * (gr*k + 1) * v
			ky0 += gr
		}
		g.edgeOff = off
		g.accLen = off + nb*(k*k+1)*v
		if g.ngroups > 0 {
			g.oxL, g.oxR = interior(g.w, k, g.s, g.p, g.ow)
		}
		g.ind = asm.DWGradIndirect(j.avx512)
		g.zero = zeros(g.w * c)
	}
	j.gacc = grow(j.gacc, g.chunks*g.accLen)
	parallelFor(g.chunks, 1, j.gradFn)
	j.combineGrad(dw, db)
}

// gradChunks accumulates chunks [lo, hi) of the weight gradient.
func (j *dwJob) gradChunks(lo, hi int) {
	g := &j.grad
	for i := lo; i < hi; i++ {
		acc := j.gacc[i*g.accLen : (i+1)*g.accLen]
		clear(acc)
		r0, r1 := i*g.rows/g.chunks, (i+1)*g.rows/g.chunks
		if j.simd {
			j.gradChunkSIMD(acc, r0, r1)
			continue
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
}

// gradChunkSIMD accumulates output rows [r0, r1) into acc.
func (j *dwJob) gradChunkSIMD(acc []float32, r0, r1 int) {
	g := &j.grad
	c, k := g.c, g.k
	img := g.h * g.w * c
	zp := unsafe.Pointer(&g.zero[0])
	sc := getDWScratch()
	defer putDWScratch(sc)
	if g.oxR > g.oxL {
		nr := r1 - r0
		sc.rows = grow(sc.rows, nr*k)
		for r := r0; r < r1; r++ {
			n, oy := r/g.oh, r%g.oh
			for ky := range k {
				iy := oy*g.s - g.p + ky
				if iy < 0 || iy >= g.h {
					sc.rows[(r-r0)*k+ky] = zp
				} else {
					sc.rows[(r-r0)*k+ky] = unsafe.Pointer(&g.x[n*img+(iy*g.w+g.oxL*g.s-g.p)*c])
				}
			}
		}
		a := &sc.grad
		for _, gr := range g.groups[:g.ngroups] {
			a.Rows, a.RowStride, a.NR = unsafe.Pointer(&sc.rows[gr.ky0]), k, nr
			a.DY, a.DYRow = unsafe.Pointer(&g.dy[(r0*g.ow+g.oxL)*c]), g.ow*c
			a.N, a.C, a.Acc = g.oxR-g.oxL, c, unsafe.Pointer(&acc[gr.off])
			gr.fn(a)
		}
	}
	ne := g.ow - (g.oxR - g.oxL)
	if ne == 0 {
		return
	}
	taps := k * k
	sc.taps = grow(sc.taps, ne*(taps+1))
	a := &sc.ind
	for r := r0; r < r1; r++ {
		n, oy := r/g.oh, r%g.oh
		ximg := g.x[n*img : (n+1)*img]
		i := 0
		for ox := range g.ow {
			if ox >= g.oxL && ox < g.oxR {
				continue
			}
			i = fillTaps(sc.taps, i, unsafe.Pointer(&g.dy[(r*g.ow+ox)*c]), ximg, zp,
				oy*g.s-g.p, ox*g.s-g.p, k, k, g.h, g.w, c)
		}
		a.Taps, a.N, a.NT = unsafe.Pointer(&sc.taps[0]), ne, taps
		a.W, a.C = unsafe.Pointer(&acc[g.edgeOff]), c
		g.ind(a)
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
		// Packed: block b, tap t, lane l at off + b·(taps+1)·v + t·v + l.
		unpack := func(off, taps, t int, dst []float32) {
			for ch := range dst {
				dst[ch] += acc[off+(ch/v)*(taps+1)*v+t*v+ch%v]
			}
		}
		for gi, gr := range g.groups[:g.ngroups] {
			if dw != nil {
				for t := range gr.g * k {
					unpack(gr.off, gr.g*k, t, dw[(gr.ky0*k+t)*c:(gr.ky0*k+t+1)*c])
				}
			}
			if db != nil && gi == 0 {
				unpack(gr.off, gr.g*k, gr.g*k, db)
			}
		}
		if dw != nil {
			for t := range k * k {
				unpack(g.edgeOff, k*k, t, dw[t*c:(t+1)*c])
			}
		}
		if db != nil {
			unpack(g.edgeOff, k*k, k*k, db)
		}
	}
}
