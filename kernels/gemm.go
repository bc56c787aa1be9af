package kernels

import (
	"fmt"
	"sync"

	"github.com/klauspost/cpuid/v2"

	"github.com/nasrun/nasrun/kernels/asm"
)

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices,
// where op(A) is m×k (A is k×m when transA) and op(B) is k×n (B is n×k
// when transB). lda, ldb and ldc are the row strides. With beta = 0, C is
// not read (NaN in C does not propagate).
//
// The product is blocked GotoBLAS-style: a kc×nc block of op(B) is packed
// into NR-wide micro-panels (alpha folded in), an mc×kc block of op(A) into
// MR-high micro-panels, and a register-blocked micro-kernel of the active
// implementation computes MR×NR tiles of C from them. Rows of C are split
// over the worker pool (columns, when there are too few rows).
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		gemmScaleC(m, n, beta, c, ldc)
		return
	}
	g := gemmCtxPool.Get().(*gemmCtx)
	g.run(gemmKernels(Active()), transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	gemmCtxPool.Put(g)
}

func checkGemm(transA, transB bool, m, n, k, la, lda, lb, ldb, lc, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("kernels.Sgemm: negative size m=%d n=%d k=%d", m, n, k))
	}
	need := func(name string, rows, cols, ld, l int) {
		if rows == 0 || cols == 0 {
			return
		}
		if ld < cols || l < (rows-1)*ld+cols {
			panic(fmt.Sprintf("kernels.Sgemm: %s is %d×%d with stride %d but has %d elements (m=%d n=%d k=%d transA=%v transB=%v)",
				name, rows, cols, ld, l, m, n, k, transA, transB))
		}
	}
	if transA {
		need("A", k, m, lda, la)
	} else {
		need("A", m, k, lda, la)
	}
	if transB {
		need("B", n, k, ldb, lb)
	} else {
		need("B", k, n, ldb, lb)
	}
	need("C", m, n, ldc, lc)
}

// gemmScaleC sets C = beta·C (C = 0 when beta is 0, whatever C held).
func gemmScaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		if beta != 1 {
			for j := range row {
				row[j] *= beta
			}
		}
	}
}

// gemmKernel describes the micro-kernel of one implementation.
type gemmKernel struct {
	mr, nr int
	// maskN: the kernel writes only the first nr ≤ NR columns itself, so
	// narrow edge tiles need no tile buffer.
	maskN bool
	// packed computes a tile from packed A and B micro-panels (asm.GemmRef
	// documents the contract).
	packed func(kc int, a, b, c []float32, ldc int, beta float32, nr int)
	// direct reads MR rows of A in place (stride lda); nil: always pack A.
	direct func(kc int, a []float32, lda int, b, c []float32, ldc int, beta float32, nr int)
}

var (
	gemmRef    = gemmKernel{mr: asm.GemmRefMR, nr: asm.GemmRefNR, maskN: true, packed: asm.GemmRef}
	gemmAVX2   = gemmKernel{mr: asm.GemmAVX2MR, nr: asm.GemmAVX2NR, packed: asm.GemmAVX2, direct: asm.GemmAVX2Direct}
	gemmAVX512 = gemmKernel{mr: asm.GemmAVX512MR, nr: asm.GemmAVX512NR, maskN: true, packed: asm.GemmAVX512, direct: asm.GemmAVX512Direct}
)

func gemmKernels(i Impl) *gemmKernel {
	switch i {
	case AVX2:
		return &gemmAVX2
	case AVX512:
		return &gemmAVX512
	}
	return &gemmRef
}

// gemmMaxTile bounds MR·NR over all micro-kernels (the edge tile buffer).
const gemmMaxTile = 16 * 32

// Cache blocking, in elements, set once from the cache sizes.
var gemmKC, gemmMC, gemmNC = gemmBlocking()

// gemmBlocking derives the blocking: a kc×MR A micro-panel and a kc×NR B
// micro-panel share L1, an mc×kc A block fills about half of L2, and a
// kc×nc B block fits in a share of L3. Unknown sizes fall back to common
// values (32 KiB L1, 1 MiB L2, 8 MiB L3).
func gemmBlocking() (kc, mc, nc int) {
	l1, l2, l3 := cpuid.CPU.Cache.L1D, cpuid.CPU.Cache.L2, cpuid.CPU.Cache.L3
	if l1 <= 0 {
		l1 = 32 << 10
	}
	if l2 <= 0 {
		l2 = 1 << 20
	}
	if l3 <= 0 {
		l3 = 8 << 20
	}
	kc = min(max(l1/4/(12+32)/16*16, 128), 512)
	mc = min(max(l2/2/4/kc/48*48, 48), 960)
	nc = min(max(l3/4/4/kc/32*32, 256), 8192)
	return kc, mc, nc
}

// gemmBuf is per-worker scratch: a packed A block and an edge tile.
type gemmBuf struct {
	p    []float32
	tile [gemmMaxTile]float32
}

func (s *gemmBuf) grow(n int) []float32 {
	if cap(s.p) < n {
		s.p = make([]float32, n)
	}
	return s.p[:n]
}

var gemmBufPool = sync.Pool{New: func() any { return new(gemmBuf) }}

// gemmCtx carries one Sgemm call's arguments to the workers. Contexts are
// pooled and their worker functions bound once, so a call allocates
// nothing in steady state.
type gemmCtx struct {
	kr             *gemmKernel
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int

	// The current block: columns jc..jc+ncb, k range pc..pc+kcb, packed B.
	jc, ncb, pc, kcb int
	betaBlk          float32
	bp               []float32
	direct           bool

	// Column split: rows ic..ic+mcb with their A block packed in ap.
	ic, mcb int
	ap      []float32

	rowsFn, colsFn func(lo, hi int)
}

var gemmCtxPool = sync.Pool{New: func() any {
	g := new(gemmCtx)
	g.rowsFn = g.rows
	g.colsFn = g.cols
	return g
}}

func (g *gemmCtx) run(kr *gemmKernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	*g = gemmCtx{kr: kr, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: ldc, rowsFn: g.rowsFn, colsFn: g.colsFn}
	mr, nr := kr.mr, kr.nr
	// Reading A in place pays when each A row meets few B micro-panels:
	// packing would then cost about as much as the FMAs that use it.
	g.direct = kr.direct != nil && !transA && n <= 2*nr

	bbuf := gemmBufPool.Get().(*gemmBuf)
	defer gemmBufPool.Put(bbuf)
	mPanels := (m + mr - 1) / mr
	t := Threads()
	for jc := 0; jc < n; jc += gemmNC {
		g.jc, g.ncb = jc, min(gemmNC, n-jc)
		nPanels := (g.ncb + nr - 1) / nr
		for pc := 0; pc < k; pc += gemmKC {
			g.pc, g.kcb = pc, min(gemmKC, k-pc)
			g.betaBlk = beta
			if pc > 0 {
				g.betaBlk = 1
			}
			g.bp = bbuf.grow(nPanels * nr * g.kcb)
			gemmPackB(g.bp, b, ldb, transB, pc, g.kcb, jc, g.ncb, alpha, nr)
			// Each worker should get at least ~64K multiply-adds.
			work := mr * g.ncb * g.kcb
			if t == 1 || mPanels >= 2*t || nPanels < 2*t {
				parallelFor(mPanels, max(1, (1<<16)/work), g.rowsFn)
				continue
			}
			// Few rows, many columns: pack each A block once, split columns.
			abuf := gemmBufPool.Get().(*gemmBuf)
			for ic := 0; ic < m; ic += gemmMC {
				g.ic, g.mcb = ic, min(gemmMC, m-ic)
				g.ap = abuf.grow((g.mcb + mr - 1) / mr * mr * g.kcb)
				gemmPackA(g.ap, a, lda, transA, ic, g.mcb, pc, g.kcb, mr)
				parallelFor(nPanels, max(1, (1<<16)/(nr*g.mcb*g.kcb)), g.colsFn)
			}
			gemmBufPool.Put(abuf)
		}
	}
}

// rows computes the current block for A micro-panels lo..hi (rows lo·MR to
// hi·MR), all columns.
func (g *gemmCtx) rows(lo, hi int) {
	mr := g.kr.mr
	buf := gemmBufPool.Get().(*gemmBuf)
	r0, r1 := lo*mr, min(hi*mr, g.m)
	for ic := r0; ic < r1; ic += gemmMC {
		mcb := min(gemmMC, r1-ic)
		var ap []float32
		if !g.direct {
			ap = buf.grow((mcb + mr - 1) / mr * mr * g.kcb)
			gemmPackA(ap, g.a, g.lda, g.transA, ic, mcb, g.pc, g.kcb, mr)
		}
		g.macro(buf, ap, ic, mcb, 0, g.ncb)
	}
	gemmBufPool.Put(buf)
}

// cols computes the current block for B micro-panels lo..hi, rows
// ic..ic+mcb from the shared packed A block.
func (g *gemmCtx) cols(lo, hi int) {
	nr := g.kr.nr
	buf := gemmBufPool.Get().(*gemmBuf)
	g.macro(buf, g.ap, g.ic, g.mcb, lo*nr, min(hi*nr, g.ncb))
	gemmBufPool.Put(buf)
}

// macro runs the micro-kernel over rows ic..ic+mcb and block columns
// j0..j1 (relative to jc). ap is the packed A block of those rows, or nil
// to read A in place.
func (g *gemmCtx) macro(buf *gemmBuf, ap []float32, ic, mcb, j0, j1 int) {
	kr := g.kr
	mr, nr, kcb := kr.mr, kr.nr, g.kcb
	ldc := g.ldc
	for jr := j0; jr < j1; jr += nr {
		w := min(nr, j1-jr)
		bp := g.bp[jr/nr*nr*kcb:]
		col := g.jc + jr
		for ir := 0; ir < mcb; ir += mr {
			h := min(mr, mcb-ir)
			row := ic + ir
			cOff := row*ldc + col
			if h == mr && (w == nr || kr.maskN) {
				if ap == nil {
					kr.direct(kcb, g.a[row*g.lda+g.pc:], g.lda, bp, g.c[cOff:], ldc, g.betaBlk, w)
				} else {
					kr.packed(kcb, ap[ir*kcb:], bp, g.c[cOff:], ldc, g.betaBlk, w)
				}
				continue
			}
			// Edge tile: compute the full MR×NR tile into the buffer, then
			// merge the valid h×w corner into C.
			var aTile []float32
			if ap == nil {
				aTile = g.packEdgeA(buf, row, h)
			} else {
				aTile = ap[ir*kcb:]
			}
			tile := buf.tile[:mr*nr]
			kr.packed(kcb, aTile, bp, tile, nr, 0, nr)
			for i := range h {
				dst := g.c[cOff+i*ldc : cOff+i*ldc+w]
				src := tile[i*nr : i*nr+w]
				if g.betaBlk == 0 {
					copy(dst, src)
					continue
				}
				for j := range dst {
					dst[j] = src[j] + g.betaBlk*dst[j]
				}
			}
		}
	}
}

// packEdgeA packs rows row..row+h of A (h < MR, direct mode) into the
// worker's buffer, zero-padded to MR rows.
func (g *gemmCtx) packEdgeA(buf *gemmBuf, row, h int) []float32 {
	ap := buf.grow(g.kr.mr * g.kcb)
	gemmPackA(ap, g.a, g.lda, g.transA, row, h, g.pc, g.kcb, g.kr.mr)
	return ap
}
