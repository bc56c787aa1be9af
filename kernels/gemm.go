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
// The product is blocked GotoBLAS-style (see gemmCtx.run): for each
// kc-deep, nc-wide block, op(B) is packed into NR-wide micro-panels (alpha
// folded in) unless it can be read in place, each MR-row panel of op(A) is
// read in place (or packed, at the edges), and a register-blocked
// micro-kernel of the active implementation computes MR×NR tiles of C.
// Rows of C are split over the worker pool (columns, when there are too
// few rows). A call allocates nothing in steady state.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(false, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// sgemmSerial is Sgemm on the calling goroutine only, for kernels that
// split their work over the pool themselves and multiply small matrices
// within each chunk.
func sgemmSerial(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(true, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func sgemm(serial, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		gemmScaleC(m, n, beta, c, ldc)
		return
	}
	g := gemmCtxPool.Get().(*gemmCtx)
	g.serial = serial
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

// gemmPackedFn computes a tile from a packed B micro-panel and A
// column-major (packed, or transposed in place); package asm documents the
// contract.
type gemmPackedFn = func(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int)

// gemmDirectFn computes a full-height tile reading the A rows in place
// (stride lda).
type gemmDirectFn = func(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, nr int)

// gemmKernel is the micro-kernel set of one implementation. Tiles are
// mr rows (the A panel height) by one of widths (NR = widths[0] first,
// narrower ones for the last columns: a panel of w columns is packed and
// computed at the narrowest width ≥ w). The last rows of C run a kernel
// of fewer rows (rows, mr first), packed at that height.
type gemmKernel struct {
	mr     int
	rows   []int
	widths []int
	// masked: the kernels store only the first nr columns of their width,
	// so narrow edge tiles need no tile buffer.
	masked bool
	packed [][]gemmPackedFn // [rows variant][width]
	direct []gemmDirectFn   // [width]; nil: A is always packed
	bt8    gemmBT8          // transposes B blocks for packing; nil: Go loops
}

func (kr *gemmKernel) nr() int { return kr.widths[0] }

// width returns the index of the narrowest width ≥ w.
func (kr *gemmKernel) width(w int) int {
	x := 0
	for i, v := range kr.widths {
		if v >= w {
			x = i
		}
	}
	return x
}

// height returns the index of the shortest row variant ≥ h.
func (kr *gemmKernel) height(h int) int {
	x := 0
	for i, v := range kr.rows {
		if v >= h {
			x = i
		}
	}
	return x
}

var (
	gemmRef = gemmKernel{mr: asm.GemmRefMR, rows: []int{asm.GemmRefMR}, widths: []int{asm.GemmRefNR},
		masked: true, packed: [][]gemmPackedFn{{asm.GemmRef}}}
	gemmAVX2 = gemmKernel{mr: 6, rows: []int{6, 4, 2}, widths: []int{16, 8},
		packed: [][]gemmPackedFn{
			{asm.GemmAVX2_6x16, asm.GemmAVX2_6x8},
			{asm.GemmAVX2_4x16, asm.GemmAVX2_4x8},
			{asm.GemmAVX2_2x16, asm.GemmAVX2_2x8},
		},
		direct: []gemmDirectFn{asm.GemmAVX2_6x16Direct, asm.GemmAVX2_6x8Direct},
		bt8:    asm.GemmPackBT8AVX2,
	}
	gemmAVX512 = gemmKernel{mr: 12, rows: []int{12, 8, 4}, widths: []int{32, 24, 16, 8}, masked: true,
		packed: [][]gemmPackedFn{
			{asm.GemmAVX512_12x32, asm.GemmAVX512_12x24, asm.GemmAVX512_12x16, asm.GemmAVX512_12x8},
			{asm.GemmAVX512_8x32, asm.GemmAVX512_8x24, asm.GemmAVX512_8x16, asm.GemmAVX512_8x8},
			{asm.GemmAVX512_4x32, asm.GemmAVX512_4x24, asm.GemmAVX512_4x16, asm.GemmAVX512_4x8},
		},
		direct: []gemmDirectFn{asm.GemmAVX512_12x32Direct, asm.GemmAVX512_12x24Direct,
			asm.GemmAVX512_12x16Direct, asm.GemmAVX512_12x8Direct},
		bt8: asm.GemmPackBT8AVX2,
	}
)

func gemmKernels(i Impl) *gemmKernel {
	switch i {
	case AVX2:
		return &gemmAVX2
	case AVX512:
		return &gemmAVX512
	case NEON:
		return &gemmNEON
	}
	return &gemmRef
}

// gemmMaxTile bounds MR·NR over all micro-kernels (the edge tile buffer).
const gemmMaxTile = 16 * 32

// Cache blocking, in elements, set once from the cache sizes: the most k
// steps per packed block, and the most columns per packed B block.
var gemmKC, gemmNC = gemmBlocking()

// gemmBlocking derives the blocking for the loop order of gemmCtx.run: an
// MR×kc A micro-panel stays in L1 while it meets every B micro-panel of a
// kc×nc B block, which stays in L2. Unknown sizes fall back to 32 KiB L1
// and 1 MiB L2.
func gemmBlocking() (kc, nc int) {
	l1, l2 := cpuid.CPU.Cache.L1D, cpuid.CPU.Cache.L2
	if l1 <= 0 {
		l1 = 32 << 10
	}
	if l2 <= 0 {
		l2 = 1 << 20
	}
	// A 12×kc panel in about 40% of L1 (kc = 256 for 32 KiB, measured best
	// on Zen 4 among 128..512), the B block in half of L2.
	kc = min(max(l1/128/16*16, 64), 512)
	nc = min(max(l2/2/4/kc/32*32, 128), gemmNCMax)
	return kc, nc
}

// gemmNCMax bounds the columns of a B block.
const gemmNCMax = 4096

// gemmSplit cuts n into the fewest blocks of at most bmax and returns the
// block size, evened out and rounded up to a multiple of unit.
func gemmSplit(n, bmax, unit int) int {
	blocks := (n + bmax - 1) / bmax
	b := (n + blocks - 1) / blocks
	return (b + unit - 1) / unit * unit
}

// gemmBuf is per-worker scratch: a packed A micro-panel (or a packed B
// block) and an edge tile.
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
	serial         bool // run on the calling goroutine only
	direct         bool // read whole A panels in place
	directB        bool // read whole-width B panels in place

	// The current block: columns jc..jc+ncb, k range pc..pc+kcb, its B
	// packed in bp as nPanels micro-panels.
	jc, ncb, pc, kcb int
	mPanels, nPanels int
	betaBlk          float32
	bp               []float32
	packFn           func(lo, hi int)
	rowsFn, colsFn   func(lo, hi int)
}

var gemmCtxPool = sync.Pool{New: func() any {
	g := new(gemmCtx)
	g.packFn = g.packB
	g.rowsFn = g.rows
	g.colsFn = g.cols
	return g
}}

// gemmDirectA forces reading A in place (1) or packing it (-1); 0 lets
// run decide: in place whenever a whole MR-row panel exists. Packing a
// row-major A panel (a transpose, in Go) costs more than it saves, even at
// 512³ with the cache-set conflicts of a power-of-two stride (measured on
// Zen 4: in place 5–15% faster from 3136×144×24 to 512³); a transposed A
// panel is already laid out as the kernels read it, lda apart.
var gemmDirectA = 0

// gemmDirectB forces reading B in place (1) or packing it (-1); 0 lets run
// decide: in place when B is row-major, alpha is 1, and either at most
// gemmDirectBPanels A panels will read each B block or all of op(B)'s
// columns form one block (n ≤ nc). A few panels do not repay the packing
// (Sgemm(40, 64, 1600), a chunk of an im2col conv, packs 100K elements of
// B for 4M multiply-adds); and while a kc-deep slice of B is one L2-sized
// block, reading it in place costs no more than reading it packed
// (measured on Zen 4, thread CPU time: 40×64×1600 0.099 → 0.077 ms,
// 384×512×512 +10%, 512³ +0..5%; packing still wins at 3136×1024×1024,
// 81 against 66 GFLOP/s).
var gemmDirectB = 0

const gemmDirectBPanels = 8

// run is the blocked product. Loop order (outer to inner): jc over nc-wide
// column blocks, pc over kc-deep blocks (B packed once per block), then
// MR-row panels of A (packed, or read in place), then the B micro-panels.
// Rows are split over the workers; columns when there are too few rows.
func (g *gemmCtx) run(kr *gemmKernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	*g = gemmCtx{kr: kr, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: ldc, serial: g.serial,
		packFn: g.packFn, rowsFn: g.rowsFn, colsFn: g.colsFn}
	mr, nr := kr.mr, kr.nr()
	kc := gemmSplit(k, gemmKC, 4)
	// A B block is sized for L2: gemmNC columns of a gemmKC-deep block, so a
	// shallower product takes proportionally more columns. With gemmNC
	// columns whatever the depth, a 1×1 convolution of a few dozen input
	// channels split its weights into several blocks and packed them on
	// every call, where one block read in place fits the same budget.
	nc := gemmSplit(n, min(gemmNC*gemmKC/min(kc, k), gemmNCMax), nr)
	g.direct = gemmDirectA >= 0
	g.directB = !transB && alpha == 1 &&
		(gemmDirectB > 0 || gemmDirectB == 0 && ((m+mr-1)/mr <= gemmDirectBPanels || n <= nc))
	g.mPanels = (m + mr - 1) / mr
	t := Threads()
	if g.serial {
		t = 1
	}
	bbuf := gemmBufPool.Get().(*gemmBuf)
	for jc := 0; jc < n; jc += nc {
		g.jc, g.ncb = jc, min(nc, n-jc)
		g.nPanels = (g.ncb + nr - 1) / nr
		for pc := 0; pc < k; pc += kc {
			g.pc, g.kcb = pc, min(kc, k-pc)
			g.betaBlk = beta
			if pc > 0 {
				g.betaBlk = 1
			}
			g.bp = bbuf.grow(g.nPanels * nr * g.kcb)
			if t == 1 {
				g.packB(0, g.nPanels)
				g.tiles(0, g.mPanels, 0, g.nPanels)
				continue
			}
			parallelFor(g.nPanels, max(1, (1<<14)/(nr*g.kcb)), g.packFn)
			// Each worker should get at least ~32K multiply-adds.
			if g.mPanels >= 2*t || g.nPanels < 2*t {
				parallelFor(g.mPanels, max(1, (1<<15)/(mr*g.ncb*g.kcb)), g.rowsFn)
			} else {
				parallelFor(g.nPanels, max(1, (1<<15)/(nr*m*g.kcb)), g.colsFn)
			}
		}
	}
	gemmBufPool.Put(bbuf)
}

// packB packs B micro-panels lo..hi of the current block.
func (g *gemmCtx) packB(lo, hi int) {
	nr := g.kr.nr()
	for q := lo; q < hi; q++ {
		w := min(nr, g.ncb-q*nr)
		sw := g.kr.widths[g.kr.width(w)]
		if g.directB && w == sw {
			continue
		}
		gemmPackBPanel(g.bp[q*nr*g.kcb:], g.b, g.ldb, g.transB, g.pc, g.kcb, g.jc+q*nr, w, sw, g.alpha, g.kr.bt8)
	}
}

// rows computes A panels lo..hi against every B panel of the block.
func (g *gemmCtx) rows(lo, hi int) { g.tiles(lo, hi, 0, g.nPanels) }

// cols computes every A panel against B panels lo..hi of the block.
func (g *gemmCtx) cols(lo, hi int) { g.tiles(0, g.mPanels, lo, hi) }

// tiles runs the micro-kernels over A panels i0..i1 × B panels q0..q1 of
// the current block.
func (g *gemmCtx) tiles(i0, i1, q0, q1 int) {
	kr := g.kr
	mr, nr, kcb, ldc := kr.mr, kr.nr(), g.kcb, g.ldc
	buf := gemmBufPool.Get().(*gemmBuf)
	for ip := i0; ip < i1; ip++ {
		row := ip * mr
		h := min(mr, g.m-row)
		// direct: row-major A in place; else ap, lda apart: transposed A in
		// place, or a packed panel of height hv.
		direct := g.direct && h == mr && !g.transA && kr.direct != nil
		var aRow, ap []float32
		packed, hv, lda := kr.packed[0], mr, g.lda
		switch {
		case direct:
			aRow = g.a[row*g.lda+g.pc:]
		case g.direct && h == mr && g.transA:
			ap = g.a[g.pc*g.lda+row:]
		default:
			x := kr.height(h)
			hv, packed, lda = kr.rows[x], kr.packed[x], kr.rows[x]
			ap = buf.grow(hv * kcb)
			gemmPackAPanel(ap, g.a, g.lda, g.transA, row, h, g.pc, kcb, hv)
		}
		for q := q0; q < q1; q++ {
			w := min(nr, g.ncb-q*nr)
			x := kr.width(w)
			sw := kr.widths[x]
			bp, ldb := g.bp[q*nr*kcb:], sw
			if g.directB && w == sw {
				bp, ldb = g.b[g.pc*g.ldb+g.jc+q*nr:], g.ldb
			}
			cOff := row*ldc + g.jc + q*nr
			if w == sw || kr.masked {
				if direct {
					kr.direct[x](kcb, aRow, g.lda, bp, ldb, g.c[cOff:], ldc, g.betaBlk, w)
				} else {
					packed[x](kcb, ap, lda, bp, ldb, g.c[cOff:], ldc, g.betaBlk, h, w)
				}
				continue
			}
			// A kernel that cannot mask columns: compute the whole tile
			// into the buffer, then merge its valid h×w corner into C.
			tile := buf.tile[:hv*sw]
			if direct {
				kr.direct[x](kcb, aRow, g.lda, bp, ldb, tile, sw, 0, sw)
			} else {
				packed[x](kcb, ap, lda, bp, ldb, tile, sw, 0, h, sw)
			}
			for i := range h {
				dst := g.c[cOff+i*ldc : cOff+i*ldc+w]
				src := tile[i*sw : i*sw+w]
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
	gemmBufPool.Put(buf)
}
