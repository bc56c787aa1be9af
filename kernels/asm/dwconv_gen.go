//go:build ignore

// dwconv_gen.go writes the depthwise-convolution assembly
// (dwconv_avx2_amd64.s, dwconv_avx512_amd64.s) and its Go bindings
// (dwconv_amd64.go). Run it with `go generate` in kernels/asm.
//
// Every kernel vectorises across channels (NHWC: one register holds V = 8
// or 16 consecutive channels of one pixel) and loops over channel blocks
// outermost, so a block's weights (or its gradient accumulators) stay in
// registers while the kernel walks the pixels. The last block is handled
// with masks (K1 on AVX-512, VMASKMOVPS on AVX2). The tile kernels are fully
// unrolled for a fixed window kh×kw and stride s and compute q output pixels
// at a time, loading each input column once and feeding it to every output
// of the tile that uses it.
package main

import (
	"bytes"
	"fmt"
	"go/format"
	"math"
	"os"
	"strings"
)

// Argument struct layouts, in bytes; dwconv.go defines the structs and
// dwconv_amd64_test.go checks these offsets against unsafe.Offsetof.
const (
	tileRows = 0 // DWTileArgs.Rows [5]unsafe.Pointer
	tileW    = 40
	tileY    = 48
	tileC    = 56
	tileN    = 64
	tileYS   = 72
	tileAct  = 80
	tileXS   = 88
	tileNR   = 96
	tileRS   = 104
	tileYR   = 112
	tileWR   = 120
	tileWC   = 128
	tileB    = 136
	tileWPK  = 144

	gradRows      = 0 // DWGradArgs.Rows
	gradRowStride = 8
	gradNR        = 16
	gradDY        = 24
	gradDYRow     = 32
	gradN         = 40
	gradC         = 48
	gradAcc       = 56
	gradXOff      = 64
	gradXS        = 72
	gradDYS       = 80

	indTaps = 0 // DWIndArgs.Taps
	indN    = 8
	indNT   = 16
	indW    = 24
	indC    = 32
	indAct  = 40
)

type isa struct {
	name   string // AVX2 or AVX512
	file   string
	v      int // float32 lanes per register
	nreg   int
	r      string // register prefix: Y or Z
	const_ string
}

func (is isa) reg(i int) string { return fmt.Sprintf("%s%d", is.r, i) }

var (
	avx2   = isa{name: "AVX2", file: "dwconv_avx2_amd64.s", v: 8, nreg: 16, r: "Y", const_: "dwc8"}
	avx512 = isa{name: "AVX512", file: "dwconv_avx512_amd64.s", v: 16, nreg: 32, r: "Z", const_: "dwc16"}
)

// The shapes (kh, kw, s) with an unrolled forward tile kernel: the
// forward windows (3×3 and 5×5, stride 1 and 2, and 1×1), the windows of
// the stride-2 transposed convolution (the input gradient splits into 4
// phases, each a stride-1 correlation with a ⌈K/2⌉ or ⌊K/2⌋ window), and
// for each of these the border sub-windows: rows of kw' < kw columns
// (border pixels of the border rows) and, transposed, kw'×kh windows that
// run down a border column (DWTileArgs.XS is then the input row stride).
func fwdShapes() [][3]int {
	base := [][3]int{{1, 1, 1}, {3, 3, 1}, {3, 3, 2}, {5, 5, 1}, {5, 5, 2},
		{1, 1, 1}, {1, 2, 1}, {2, 1, 1}, {2, 2, 1}, {2, 3, 1}, {3, 2, 1}}
	seen := map[[3]int]bool{}
	var out [][3]int
	add := func(k [3]int) {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	for _, b := range base {
		add(b)
	}
	for _, b := range base {
		for kw := 1; kw < b[1]; kw++ {
			add([3]int{b[0], kw, b[2]})
			add([3]int{kw, b[0], b[2]})
		}
	}
	return out
}

// The shapes with an unrolled weight-gradient kernel: the 3×3 and 5×5
// windows, their border sub-windows kh×kw' (border rows) and, transposed,
// kw'×kh (border columns, down the column), and 1×1 (the bias-only pass).
// The gradient keeps kh·kw+1 accumulators in registers: AVX2's 16
// registers cannot hold 5×5, so there the window is split into groups of
// one or two kernel rows, and only 1- and 2-column borders go down the
// column.
func gradShapes(is isa) [][3]int {
	var out [][3]int
	seen := map[[3]int]bool{{1, 1, 1}: true}
	out = append(out, [3]int{1, 1, 1})
	add := func(k [3]int) {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	for _, s := range []int{1, 2} {
		for _, k := range []int{3, 5} {
			groups := []int{k}
			if is.nreg == 16 && k == 5 {
				groups = []int{2, 1}
			}
			for _, g := range groups {
				for kw := 1; kw <= k; kw++ {
					add([3]int{g, kw, s})
				}
			}
			for kw := 1; kw < k; kw++ {
				if (kw+1)*k+2 < is.nreg && !(is.nreg == 16 && kw > 2) {
					add([3]int{kw, k, s})
				}
			}
		}
	}
	return out
}

// mainShape reports whether a window is one of the big ones (the interior
// of a 3×3 or 5×5 layer, a stride-2 input-gradient phase, an AVX2 5×5
// gradient row group), which get 16-, 12- and 6-pixel tiles; the border
// sub-windows stop at 8 and use powers of two, to keep the code smaller.
func mainShape(kh, kw, s int) bool {
	switch [3]int{kh, kw, s} {
	case [3]int{3, 3, 1}, [3]int{3, 3, 2}, [3]int{5, 5, 1}, [3]int{5, 5, 2},
		[3]int{2, 2, 1}, [3]int{2, 3, 1}, [3]int{3, 2, 1}, [3]int{1, 2, 1}, [3]int{2, 1, 1},
		[3]int{2, 5, 1}, [3]int{2, 5, 2}, [3]int{1, 5, 1}, [3]int{1, 5, 2}:
		return true
	}
	return false
}

type emitter struct {
	b     bytes.Buffer
	label int
}

func (e *emitter) o(format string, args ...any) {
	fmt.Fprintf(&e.b, "\t"+format+"\n", args...)
}
func (e *emitter) raw(format string, args ...any) { fmt.Fprintf(&e.b, format+"\n", args...) }
func (e *emitter) lbl(l string)                   { e.raw("%s:", l) }
func (e *emitter) newLabel(prefix string) string {
	e.label++
	return fmt.Sprintf("%s_%d", prefix, e.label)
}

// rowReg is the GP register holding the current pointer into window row ky.
func rowReg(ky int) string { return fmt.Sprintf("R%d", 8+ky) }

// load emits a load of V channels at (src) into dst, masked on the tail block.
func load(e *emitter, is isa, masked bool, src, dst string) {
	switch {
	case !masked:
		e.o("VMOVUPS %s, %s", src, dst)
	case is.nreg == 32:
		e.o("VMOVUPS.Z %s, K1, %s", src, dst)
	default:
		e.o("VMASKMOVPS %s, Y15, %s", src, dst)
	}
}

// store emits a store of src to (dst), masked on the tail block.
func store(e *emitter, is isa, masked bool, src, dst string) {
	switch {
	case !masked:
		e.o("VMOVUPS %s, %s", src, dst)
	case is.nreg == 32:
		e.o("VMOVUPS %s, K1, %s", src, dst)
	default:
		e.o("VMASKMOVPS %s, Y15, %s", src, dst)
	}
}

// constants: 0, 3, 6 and 1/6 as memory operands (AVX2: 32-byte vectors;
// AVX-512: broadcast scalars). AVX-512 kernels keep 0 and 6 in Z30, Z31.
func cop(is isa, name string, k int) (string, string) {
	if is.nreg == 32 {
		switch k {
		case 0:
			return name, is.r + "30"
		case 2:
			return name, is.r + "31"
		}
		return name + ".BCST", fmt.Sprintf("%s<>+%d(SB)", is.const_, 4*k)
	}
	return name, fmt.Sprintf("%s<>+%d(SB)", is.const_, 32*k)
}

// initConsts loads the register constants (AVX-512: Z30 = 0, Z31 = 6).
func initConsts(e *emitter, is isa) {
	if is.nreg == 32 {
		e.o("VXORPS %s30, %s30, %s30", is.r, is.r, is.r)
		e.o("VBROADCASTSS %s<>+8(SB), %s31", is.const_, is.r)
	}
}

// activation emits the fused activation on accs, selected at run time by the
// int at actOff(DI): 0 none, 1 ReLU, 2 ReLU6, 3 hardswish (x·relu6(x+3)/6).
func activation(e *emitter, is isa, actOff int, accs []string, tmp, gp string) {
	done, not1, not2 := e.newLabel("act_done"), e.newLabel("act_not1"), e.newLabel("act_not2")
	c := func(name string, k int, src, dst string) {
		m, o := cop(is, name, k)
		e.o("%s %s, %s, %s", m, o, src, dst)
	}
	e.o("MOVQ %d(DI), %s", actOff, gp)
	e.o("TESTQ %s, %s", gp, gp)
	e.o("JEQ %s", done)
	e.o("CMPQ %s, $1", gp)
	e.o("JNE %s", not1)
	for _, a := range accs {
		c("VMAXPS", 0, a, a)
	}
	e.o("JMP %s", done)
	e.lbl(not1)
	e.o("CMPQ %s, $2", gp)
	e.o("JNE %s", not2)
	for _, a := range accs {
		c("VMAXPS", 0, a, a)
		c("VMINPS", 2, a, a)
	}
	e.o("JMP %s", done)
	e.lbl(not2)
	for _, a := range accs {
		c("VADDPS", 1, a, tmp)
		c("VMAXPS", 0, tmp, tmp)
		c("VMINPS", 2, tmp, tmp)
		c("VMULPS", 3, tmp, tmp)
		e.o("VMULPS %s, %s, %s", tmp, a, a)
	}
	e.lbl(done)
}

// setMask sets the tail mask from CX = remaining channels × 4 (0 < CX < 4V).
func setMask(e *emitter, is isa) {
	if is.nreg == 32 {
		e.o("SHRQ $2, CX")
		e.o("LEAQ dwmask<>(SB), SI")
		e.o("KMOVW (SI)(CX*2), K1")
	} else {
		e.o("LEAQ dwmask<>+32(SB), SI")
		e.o("SUBQ CX, SI")
		e.o("VMOVDQU (SI), Y15")
	}
}

// setFullOrTailMask sets the mask for the block at R14 in the generic
// kernels, which mask every block: all lanes, or the tail's lanes.
func setFullOrTailMask(e *emitter, is isa, cOff int, done string) {
	full, set := e.newLabel("full"), e.newLabel("maskset")
	e.o("MOVQ %d(DI), CX", cOff)
	e.o("SHLQ $2, CX")
	e.o("SUBQ R14, CX")
	e.o("JLE %s", done)
	e.o("CMPQ CX, $%d", 4*is.v)
	e.o("JGE %s", full)
	setMask(e, is)
	e.o("JMP %s", set)
	e.lbl(full)
	if is.nreg == 32 {
		e.o("KXNORW K1, K1, K1")
	} else {
		e.o("VPCMPEQD Y15, Y15, Y15")
	}
	e.lbl(set)
}

// tileSizes returns the tile widths the pixel loop uses: p while it can,
// then each smaller width of 12, 8, 6, 4, 2, 1 at most once, largest
// first (enough for any remainder below p ≤ 16). The in-between widths
// keep short rows (14 pixels: 12) and remainders (54 = 3·16 + 6) on wide
// tiles: a tile of t pixels has only t independent accumulator chains.
func tileSizes(p int) []int {
	out := []int{p}
	for _, q := range []int{12, 8, 6, 4, 2, 1} {
		if q < p {
			out = append(out, q)
		}
	}
	return out
}

// pixelLoop emits the loop over CX pixels in tiles: width p repeatedly, then
// the smaller widths once each.
func pixelLoop(e *emitter, p int, tile func(q int)) {
	sizes := tileSizes(p)
	if p <= 8 {
		// The border and small windows: powers of two only (code size).
		sizes = []int{p}
		for q := 4; q >= 1; q /= 2 {
			if q < p {
				sizes = append(sizes, q)
			}
		}
	}
	top, next := e.newLabel("tile"), e.newLabel("tile_end")
	e.lbl(top)
	e.o("CMPQ CX, $%d", p)
	e.o("JLT %s", next)
	tile(p)
	e.o("SUBQ $%d, CX", p)
	e.o("JMP %s", top)
	e.lbl(next)
	for _, q := range sizes[1:] {
		skip := e.newLabel("skip")
		e.o("CMPQ CX, $%d", q)
		e.o("JLT %s", skip)
		tile(q)
		e.o("SUBQ $%d, CX", q)
		e.lbl(skip)
	}
}

// advanceRows moves the kh row pointers forward by q·s pixels.
func advanceRows(e *emitter, kh, q, s int) {
	if q*s == 1 {
		for ky := range kh {
			e.o("ADDQ DX, %s", rowReg(ky))
		}
		return
	}
	e.o("IMUL3Q $%d, DX, SI", q*s)
	for ky := range kh {
		e.o("ADDQ SI, %s", rowReg(ky))
	}
}

// fwdPlan returns the widest tile and the weight registers of a forward
// kernel. Registers: q accumulators, one input, the bias, the weights (all
// taps if they fit, else one window row at a time), and the constants
// (AVX-512: Z30, Z31) or the mask (AVX2: Y15).
func fwdPlan(is isa, kh, kw int) (q, nw int, allW bool) {
	taps := kh * kw
	if is.nreg == 32 {
		q = 16
		free := 32 - q - 2 - 2
		if taps <= free {
			return q, taps, true
		}
		return q, kw, false
	}
	q = 8
	free := 16 - q - 2 - 1
	if taps <= free {
		return q, taps, true
	}
	return q, kw, false
}

func genFwdTile(e *emitter, is isa, kh, kw, s int) {
	name := fmt.Sprintf("dwFwd%d%dS%d%s", kh, kw, s, is.name)
	q, _, _ := fwdPlan(is, kh, kw)
	if !mainShape(kh, kw, s) {
		q = min(q, 8)
	}
	e.raw("")
	e.raw("// func %s(a *DWTileArgs)", name)
	e.raw("TEXT ·%s(SB), NOSPLIT, $72-8", name)
	e.o("MOVQ a+0(FP), DI")
	// Weights: tap (ky, kx) at W + ky·WR + kx·WC (floats, signed), so a
	// window can be any sub-window of the layer's [K,K,C] weights, flipped
	// or transposed, with no packing. Frame: WC and WR in bytes, and the
	// current weight row's first tap.
	e.o("MOVQ %d(DI), SI", tileWC)
	e.o("SHLQ $2, SI")
	e.o("MOVQ SI, wcb-56(SP)")
	e.o("MOVQ %d(DI), SI", tileWR)
	e.o("SHLQ $2, SI")
	e.o("MOVQ SI, wrb-64(SP)")
	e.o("MOVQ %d(DI), AX", tileW)
	// Frame: channel bytes; per output row r of the call, the byte offsets
	// of its input rows (roff) and output row (yoff), the rows left, and
	// the steps s·RS and YR in bytes.
	e.o("MOVQ %d(DI), SI", tileRS)
	e.o("IMUL3Q $%d, SI, SI", 4*s)
	e.o("MOVQ SI, srs-40(SP)")
	e.o("MOVQ %d(DI), SI", tileYR)
	e.o("SHLQ $2, SI")
	e.o("MOVQ SI, yrb-48(SP)")
	e.o("MOVQ %d(DI), DX", tileC)
	e.o("SHLQ $2, DX")
	e.o("MOVQ DX, cbytes-8(SP)")
	e.o("MOVQ %d(DI), R13", tileYS)
	e.o("SHLQ $2, R13")
	initConsts(e, is)
	// The tail mask, the same for every tile.
	e.o("MOVQ DX, CX")
	e.o("ANDQ $%d, CX", 4*is.v-1)
	e.o("MOVQ %d(DI), DX", tileXS)
	e.o("SHLQ $2, DX")
	nomask := e.newLabel("nomask")
	e.o("JZ %s", nomask)
	setMask(e, is)
	e.lbl(nomask)
	for ky := range kh {
		e.o("MOVQ %d(DI), %s", tileRows+8*ky, rowReg(ky))
	}
	e.o("MOVQ %d(DI), BX", tileY)
	e.o("MOVQ %d(DI), CX", tileN)
	pixelLoop(e, q, func(t int) { fwdTile(e, is, kh, kw, s, t) })
	e.o("VZEROUPPER")
	e.o("RET")
}

// fwdTile emits one tile of t output pixels: the loop over channel blocks,
// then the move to the next tile.
func fwdTile(e *emitter, is isa, kh, kw, s, t int) {
	taps := kh * kw
	vb := 4 * is.v
	cb, tail, done := e.newLabel("cb"), e.newLabel("cbtail"), e.newLabel("cbdone")
	_ = taps
	e.o("XORQ R14, R14")
	e.lbl(cb)
	e.o("MOVQ cbytes-8(SP), SI")
	e.o("SUBQ R14, SI")
	e.o("JLE %s", done)
	e.o("CMPQ SI, $%d", vb)
	e.o("JLT %s", tail)
	fwdBlock(e, is, kh, kw, s, t, false)
	e.o("ADDQ $%d, R14", vb)
	e.o("JMP %s", cb)
	e.lbl(tail)
	fwdBlock(e, is, kh, kw, s, t, true)
	e.lbl(done)
	advanceRows(e, kh, t, s)
	if t == 1 {
		e.o("ADDQ R13, BX")
	} else {
		e.o("IMUL3Q $%d, R13, SI", t)
		e.o("ADDQ SI, BX")
	}
}

// fwdBlock computes one channel block (byte offset R14, packed weights at
// AX) of the t output pixels of the tile.
func fwdBlock(e *emitter, is isa, kh, kw, s, t int, masked bool) {
	q, nw, allW := fwdPlan(is, kh, kw)
	vb := 4 * is.v
	acc := func(j int) string { return is.reg(j) }
	tmp, bias := is.reg(q), is.reg(q+1)
	w := func(i int) string { return is.reg(q + 2 + i) }
	_ = nw
	e.o("MOVQ %d(DI), SI", tileB)
	load(e, is, masked, "(SI)(R14*1)", bias)
	// wload loads window row ky's weights into w(base..): the row's first
	// tap from wrow (the frame) or, for ky = 0, from W + R14.
	wload := func(ky, base int) {
		if ky == 0 {
			e.o("LEAQ (AX)(R14*1), SI")
		} else {
			e.o("MOVQ wrow-72(SP), SI")
			e.o("ADDQ wrb-64(SP), SI")
		}
		if ky < kh-1 {
			e.o("MOVQ SI, wrow-72(SP)")
		}
		for kx := range kw {
			load(e, is, masked, "(SI)", w(base+kx))
			if kx < kw-1 {
				e.o("ADDQ wcb-56(SP), SI")
			}
		}
	}
	if allW {
		for ky := range kh {
			wload(ky, ky*kw)
		}
	}
	_ = vb
	// The NR output rows of the call, their inputs s·RS apart: the block's
	// inputs for all of them stay in L1, and its weights in registers.
	e.o("MOVQ $0, roff-16(SP)")
	e.o("MOVQ $0, yoff-24(SP)")
	e.o("MOVQ %d(DI), SI", tileNR)
	e.o("MOVQ SI, rleft-32(SP)")
	rloop := e.newLabel("rows")
	e.lbl(rloop)
	for j := range t {
		e.o("VMOVAPS %s, %s", bias, acc(j))
	}
	for ky := range kh {
		wr := func(kx int) string { return w(kx) }
		if allW {
			wr = func(kx int) string { return w(ky*kw + kx) }
		} else {
			// Per-row weights: from the packed copy when there is one
			// (constant offsets), else walking the strides.
			strided, loaded := e.newLabel("wstrided"), e.newLabel("wloaded")
			e.o("MOVQ %d(DI), SI", tileWPK)
			e.o("TESTQ SI, SI")
			e.o("JZ %s", strided)
			e.o("IMUL3Q $%d, R14, SI", kh*kw+1)
			e.o("ADDQ %d(DI), SI", tileWPK)
			for kx := range kw {
				e.o("VMOVUPS %d(SI), %s", (ky*kw+kx)*vb, w(kx))
			}
			e.o("JMP %s", loaded)
			e.lbl(strided)
			wload(ky, 0)
			e.lbl(loaded)
		}
		e.o("LEAQ (%s)(R14*1), SI", rowReg(ky))
		e.o("ADDQ roff-16(SP), SI")
		ncol := (t-1)*s + kw
		for col := range ncol {
			// Columns alternate between (SI) and (SI)(DX*1); SI moves two
			// columns at a time.
			src := "(SI)"
			if col%2 == 1 {
				src = "(SI)(DX*1)"
			}
			var users []int
			for j := range t {
				if kx := col - j*s; kx >= 0 && kx < kw {
					users = append(users, j)
				}
			}
			if len(users) == 1 && (!masked || is.nreg == 32) {
				// A column one output reads: fold the load into the FMA.
				j := users[0]
				if masked {
					e.o("VFMADD231PS %s, %s, K1, %s", src, wr(col-j*s), acc(j))
				} else {
					e.o("VFMADD231PS %s, %s, %s", src, wr(col-j*s), acc(j))
				}
			} else {
				load(e, is, masked, src, tmp)
				for _, j := range users {
					e.o("VFMADD231PS %s, %s, %s", wr(col-j*s), tmp, acc(j))
				}
			}
			if col%2 == 1 && col < ncol-1 {
				e.o("LEAQ (SI)(DX*2), SI")
			}
		}
	}
	accs := make([]string, t)
	for j := range t {
		accs[j] = acc(j)
	}
	activation(e, is, tileAct, accs, tmp, "SI")
	e.o("LEAQ (BX)(R14*1), SI")
	e.o("ADDQ yoff-24(SP), SI")
	for j := range t {
		// The block stores one vector per pixel, pixels YS apart: a walk
		// down the channels that the hardware prefetchers do not follow, so
		// an output in memory (a fused block's) would miss at every store.
		// Ask for the line to the right, which the next block stores to.
		e.o("PREFETCHT0 64(SI)")
		store(e, is, masked, acc(j), "(SI)")
		if j < t-1 {
			e.o("ADDQ R13, SI")
		}
	}
	e.o("MOVQ srs-40(SP), SI")
	e.o("ADDQ SI, roff-16(SP)")
	e.o("MOVQ yrb-48(SP), SI")
	e.o("ADDQ SI, yoff-24(SP)")
	e.o("DECQ rleft-32(SP)")
	e.o("JNZ %s", rloop)
}

// gradPlan returns the tile width of a weight-gradient kernel: registers
// hold kh·kw+1 accumulators, q output gradients and one input.
func gradPlan(is isa, kh, kw int, masked bool) int {
	free := is.nreg - (kh*kw + 1) - 1
	if masked && is.nreg == 16 {
		free--
	}
	return min(16, free)
}

func genGradTile(e *emitter, is isa, kh, kw, s int) {
	name := fmt.Sprintf("dwGrad%d%dS%d%s", kh, kw, s, is.name)
	taps := kh * kw
	vb := 4 * is.v
	e.raw("")
	e.raw("// func %s(a *DWGradArgs)", name)
	e.raw("TEXT ·%s(SB), NOSPLIT, $32-8", name)
	e.o("MOVQ a+0(FP), DI")
	e.o("MOVQ %d(DI), SI", gradXOff)
	e.o("SHLQ $2, SI")
	e.o("MOVQ SI, xoff-24(SP)")
	e.o("MOVQ %d(DI), SI", gradDYS)
	e.o("SHLQ $2, SI")
	e.o("MOVQ SI, dys-32(SP)")
	e.o("MOVQ %d(DI), DX", gradXS)
	e.o("SHLQ $2, DX")
	e.o("MOVQ %d(DI), AX", gradAcc)
	e.o("XORQ R14, R14")
	cb, tail, done := e.newLabel("cb"), e.newLabel("tail"), e.newLabel("done")
	e.lbl(cb)
	e.o("MOVQ %d(DI), CX", gradC)
	e.o("SHLQ $2, CX")
	e.o("SUBQ R14, CX")
	e.o("JLE %s", done)
	e.o("CMPQ CX, $%d", vb)
	e.o("JLT %s", tail)
	gradBody(e, is, kh, kw, s, false)
	e.o("ADDQ $%d, AX", (taps+1)*vb)
	e.o("ADDQ $%d, R14", vb)
	e.o("JMP %s", cb)
	e.lbl(tail)
	setMask(e, is)
	gradBody(e, is, kh, kw, s, true)
	e.lbl(done)
	e.o("VZEROUPPER")
	e.o("RET")
}

// gradBody accumulates one channel block over the NR rows of the call.
func gradBody(e *emitter, is isa, kh, kw, s int, masked bool) {
	p := gradPlan(is, kh, kw, masked)
	if !mainShape(kh, kw, s) {
		p = min(p, 8)
	}
	taps := kh * kw
	vb := 4 * is.v
	acc := func(t int) string { return is.reg(t) } // t == taps: bias gradient
	dy := func(j int) string { return is.reg(taps + 1 + j) }
	tmp := is.reg(taps + 1 + p)
	for t := range taps + 1 {
		e.o("VMOVUPS %d(AX), %s", t*vb, acc(t))
	}
	e.o("MOVQ %d(DI), R13", gradRows)
	e.o("MOVQ %d(DI), CX", gradNR)
	e.o("MOVQ CX, nr-8(SP)")
	e.o("MOVQ %d(DI), BX", gradDY)
	e.o("ADDQ R14, BX")
	e.o("MOVQ BX, dyrow-16(SP)")
	row := e.newLabel("row")
	e.lbl(row)
	for ky := range kh {
		e.o("MOVQ %d(R13), %s", 8*ky, rowReg(ky))
		e.o("ADDQ R14, %s", rowReg(ky))
		e.o("ADDQ xoff-24(SP), %s", rowReg(ky))
	}
	e.o("MOVQ %d(DI), SI", gradRowStride)
	e.o("SHLQ $3, SI")
	e.o("ADDQ SI, R13")
	e.o("MOVQ %d(DI), CX", gradN)
	pixelLoop(e, p, func(q int) {
		e.o("MOVQ BX, SI")
		for j := range q {
			load(e, is, masked, "(SI)", dy(j))
			e.o("ADDQ dys-32(SP), SI")
		}
		e.o("MOVQ SI, BX")
		for j := range q {
			e.o("VADDPS %s, %s, %s", dy(j), acc(taps), acc(taps))
		}
		for ky := range kh {
			e.o("MOVQ %s, SI", rowReg(ky))
			ncol := (q-1)*s + kw
			for col := range ncol {
				load(e, is, masked, "(SI)", tmp)
				for j := range q {
					kx := col - j*s
					if kx < 0 || kx >= kw {
						continue
					}
					e.o("VFMADD231PS %s, %s, %s", tmp, dy(j), acc(ky*kw+kx))
				}
				if col < ncol-1 {
					e.o("ADDQ DX, SI")
				}
			}
		}
		advanceRows(e, kh, q, s)
	})
	e.o("MOVQ dyrow-16(SP), BX")
	e.o("MOVQ %d(DI), SI", gradDYRow)
	e.o("SHLQ $2, SI")
	e.o("ADDQ SI, BX")
	e.o("MOVQ BX, dyrow-16(SP)")
	e.o("DECQ nr-8(SP)")
	e.o("JNZ %s", row)
	for t := range taps + 1 {
		e.o("VMOVUPS %s, %d(AX)", acc(t), t*vb)
	}
}

// genFwdIndirect emits the generic forward kernel: each output pixel has its
// own list of NT input pointers (padding taps point at zeros), used for the
// border pixels and for windows without an unrolled kernel.
func genFwdIndirect(e *emitter, is isa) {
	name := "dwFwdIndirect" + is.name
	vb := 4 * is.v
	a0, t := is.reg(0), is.reg(1)
	e.raw("")
	e.raw("// func %s(a *DWIndArgs)", name)
	e.raw("TEXT ·%s(SB), NOSPLIT, $0-8", name)
	e.o("MOVQ a+0(FP), DI")
	initConsts(e, is)
	e.o("MOVQ %d(DI), AX", indW)
	e.o("MOVQ %d(DI), R13", indNT)
	e.o("SHLQ $%d, R13", int(math.Log2(float64(vb))))
	e.o("XORQ R14, R14")
	cb, done := e.newLabel("cb"), e.newLabel("done")
	e.lbl(cb)
	setFullOrTailMask(e, is, indC, done)
	e.o("MOVQ %d(DI), SI", indTaps)
	e.o("MOVQ %d(DI), CX", indN)
	pix, tap := e.newLabel("pix"), e.newLabel("tap")
	e.lbl(pix)
	e.o("MOVQ (SI), BX")
	e.o("ADDQ R14, BX")
	e.o("ADDQ $8, SI")
	e.o("VMOVUPS (AX)(R13*1), %s", a0)
	e.o("MOVQ AX, R9")
	e.o("MOVQ %d(DI), R10", indNT)
	e.lbl(tap)
	e.o("MOVQ (SI), R11")
	e.o("ADDQ $8, SI")
	load(e, is, true, "(R11)(R14*1)", t)
	e.o("VFMADD231PS (R9), %s, %s", t, a0)
	e.o("ADDQ $%d, R9", vb)
	e.o("DECQ R10")
	e.o("JNZ %s", tap)
	activation(e, is, indAct, []string{a0}, t, "R10")
	store(e, is, true, a0, "(BX)")
	e.o("DECQ CX")
	e.o("JNZ %s", pix)
	e.o("LEAQ %d(AX)(R13*1), AX", vb)
	e.o("ADDQ $%d, R14", vb)
	e.o("JMP %s", cb)
	e.lbl(done)
	e.o("VZEROUPPER")
	e.o("RET")
}

// genGradIndirect emits the generic weight-gradient kernel: per pixel a dy
// pointer then NT input pointers; accumulators stay in memory.
func genGradIndirect(e *emitter, is isa) {
	name := "dwGradIndirect" + is.name
	vb := 4 * is.v
	d, x := is.reg(0), is.reg(1)
	e.raw("")
	e.raw("// func %s(a *DWIndArgs)", name)
	e.raw("TEXT ·%s(SB), NOSPLIT, $0-8", name)
	e.o("MOVQ a+0(FP), DI")
	e.o("MOVQ %d(DI), AX", indW)
	e.o("MOVQ %d(DI), R13", indNT)
	e.o("SHLQ $%d, R13", int(math.Log2(float64(vb))))
	e.o("XORQ R14, R14")
	cb, done := e.newLabel("cb"), e.newLabel("done")
	e.lbl(cb)
	setFullOrTailMask(e, is, indC, done)
	e.o("MOVQ %d(DI), SI", indTaps)
	e.o("MOVQ %d(DI), CX", indN)
	pix, tap := e.newLabel("pix"), e.newLabel("tap")
	e.lbl(pix)
	e.o("MOVQ (SI), R11")
	e.o("ADDQ $8, SI")
	load(e, is, true, "(R11)(R14*1)", d)
	e.o("VADDPS (AX)(R13*1), %s, %s", d, x)
	e.o("VMOVUPS %s, (AX)(R13*1)", x)
	e.o("MOVQ AX, R9")
	e.o("MOVQ %d(DI), R10", indNT)
	e.lbl(tap)
	e.o("MOVQ (SI), R11")
	e.o("ADDQ $8, SI")
	load(e, is, true, "(R11)(R14*1)", x)
	e.o("VFMADD213PS (R9), %s, %s", d, x)
	e.o("VMOVUPS %s, (R9)", x)
	e.o("ADDQ $%d, R9", vb)
	e.o("DECQ R10")
	e.o("JNZ %s", tap)
	e.o("DECQ CX")
	e.o("JNZ %s", pix)
	e.o("LEAQ %d(AX)(R13*1), AX", vb)
	e.o("ADDQ $%d, R14", vb)
	e.o("JMP %s", cb)
	e.lbl(done)
	e.o("VZEROUPPER")
	e.o("RET")
}

func header(e *emitter, is isa) {
	e.raw("// Code generated by dwconv_gen.go; DO NOT EDIT.")
	e.raw("")
	e.raw("//go:build gc && !purego && !noasm")
	e.raw("")
	e.raw(`// Depthwise convolution, %s: %d float32 channels of one pixel per register.
//
// dwFwd<kh><kw>S<s> (a *DWTileArgs) — N output pixels of one row, every tap
// inside the input (package kernels gives the border columns their own
// calls with the clipped sub-window kh×kw' and its packed weights):
//
//	for ox := 0; ox < N; ox += q {             // q pixels per tile: %d while it can, then 8, 4, 2, 1
//		for cb := 0; cb < C; cb += V {          // channel block; the tile's inputs stay in L1
//			acc[j] = bias[cb:]                  // j < q
//			for ky, col := range window rows × the tile's input columns {
//				in := Rows[ky][(ox*s+col)*C+cb:] // loaded once, used by every output j that reads it
//				acc[j] += w[ky][col-j*s][cb:] * in
//			}
//			Y[(ox+j)*YS+cb:] = act(acc[j])
//		}
//	}
//
// Register map: accumulators %s0..%s<q-1>, one input, the bias, the block's
// weights (all taps when they fit, else one window row at a time)%s.
// GP: DI args, R8–R12 window row pointers, SI column pointer, DX input
// pixel stride (bytes), BX output pointer, R13 output pixel stride (bytes),
// CX pixels left, AX the block's packed weights ([taps+1][V], bias last),
// R14 channel byte offset; the channel byte count lives in the frame.
//
// dwGrad<kh><kw>S<s> (a *DWGradArgs) — weight and bias gradient over NR rows:
//
//	for cb { acc[t] = Acc[cb][t]; for r < NR { for ox < N (q at a time) {
//		acc[taps] += dy[ox]
//		acc[ky*kw+kx] += dy[ox] * Rows[r][ky][XOff+(ox*s+kx)*C+cb:] } }; Acc[cb][t] = acc[t] }
//
// Register map: accumulators %s0..%s<taps> (bias last), q dy registers, one
// input; NR and the dy row pointer live in the frame.
//
// dwFwdIndirect / dwGradIndirect (a *DWIndArgs) — the same sums with one
// pointer per tap (padding taps point at a zero buffer): the border pixels
// and the windows without an unrolled kernel.
//
// The last channel block is masked (%s).`, is.name, is.v, map[int]int{32: 16, 16: 8}[is.nreg], is.r, is.r,
		map[int]string{32: ", Z30 = 0 and Z31 = 6 for the activations", 16: ""}[is.nreg], is.r, is.r, maskDoc(is))
	e.raw("")
	e.raw(`#include "textflag.h"`)
	e.raw("")
	vals := []float32{0, 3, 6, 1.0 / 6}
	if is.nreg == 32 {
		for i, v := range vals {
			e.raw("DATA %s<>+%d(SB)/4, $0x%08x", is.const_, 4*i, math.Float32bits(v))
		}
		e.raw("GLOBL %s<>(SB), RODATA|NOPTR, $16", is.const_)
		e.raw("")
		// dwmask[i] = (1<<i)-1: the K1 mask of a tail of i channels.
		for i := 0; i <= 16; i++ {
			e.raw("DATA dwmask<>+%d(SB)/2, $0x%04x", 2*i, (1<<i)-1)
		}
		e.raw("GLOBL dwmask<>(SB), RODATA|NOPTR, $34")
	} else {
		for i, v := range vals {
			for l := range 8 {
				e.raw("DATA %s<>+%d(SB)/4, $0x%08x", is.const_, 32*i+4*l, math.Float32bits(v))
			}
		}
		e.raw("GLOBL %s<>(SB), RODATA|NOPTR, $128", is.const_)
		e.raw("")
		// 8 × -1 then 8 × 0: the mask of a tail of r channels starts 4r bytes before the zeros.
		for i := range 16 {
			v := uint32(0)
			if i < 8 {
				v = 0xffffffff
			}
			e.raw("DATA dwmask<>+%d(SB)/4, $0x%08x", 4*i, v)
		}
		e.raw("GLOBL dwmask<>(SB), RODATA|NOPTR, $64")
	}
}

func maskDoc(is isa) string {
	if is.nreg == 32 {
		return "K1 from dwmask: zeroing loads, merging stores"
	}
	return "Y15 from dwmask: VMASKMOVPS loads and stores; the masked body keeps one register less"
}

func key(k [3]int) int { return k[0]*100 + k[1]*10 + k[2] }

func main() {
	var decl strings.Builder
	decl.WriteString("// Code generated by dwconv_gen.go; DO NOT EDIT.\n\n//go:build gc && !purego && !noasm\n\npackage asm\n")
	fmt.Fprintf(&decl, `
// Byte offsets of the argument structs' fields, as the assembly reads them.
const (
	dwOffTileRows, dwOffTileW, dwOffTileY, dwOffTileC, dwOffTileN, dwOffTileYS, dwOffTileAct, dwOffTileXS, dwOffTileNR, dwOffTileRS, dwOffTileYR, dwOffTileWR, dwOffTileWC, dwOffTileB, dwOffTileWPK = %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d
	dwOffGradRows, dwOffGradRowStride, dwOffGradNR, dwOffGradDY, dwOffGradDYRow, dwOffGradN, dwOffGradC, dwOffGradAcc, dwOffGradXOff, dwOffGradXS, dwOffGradDYS = %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d
	dwOffIndTaps, dwOffIndN, dwOffIndNT, dwOffIndW, dwOffIndC, dwOffIndAct = %d, %d, %d, %d, %d, %d
)
`, tileRows, tileW, tileY, tileC, tileN, tileYS, tileAct, tileXS, tileNR, tileRS, tileYR, tileWR, tileWC, tileB, tileWPK,
		gradRows, gradRowStride, gradNR, gradDY, gradDYRow, gradN, gradC, gradAcc, gradXOff, gradXS, gradDYS,
		indTaps, indN, indNT, indW, indC, indAct)
	fwdSwitch := map[string]*strings.Builder{}
	gradSwitch := map[string]*strings.Builder{}
	for _, is := range []isa{avx2, avx512} {
		e := &emitter{}
		header(e, is)
		fs, gs := &strings.Builder{}, &strings.Builder{}
		fwdSwitch[is.name], gradSwitch[is.name] = fs, gs
		for _, k := range fwdShapes() {
			genFwdTile(e, is, k[0], k[1], k[2])
			n := fmt.Sprintf("dwFwd%d%dS%d%s", k[0], k[1], k[2], is.name)
			fmt.Fprintf(&decl, "\n//go:noescape\nfunc %s(a *DWTileArgs)\n", n)
			fmt.Fprintf(fs, "\t\tcase %d:\n\t\t\treturn %s\n", key(k), n)
		}
		for _, k := range gradShapes(is) {
			genGradTile(e, is, k[0], k[1], k[2])
			n := fmt.Sprintf("dwGrad%d%dS%d%s", k[0], k[1], k[2], is.name)
			fmt.Fprintf(&decl, "\n//go:noescape\nfunc %s(a *DWGradArgs)\n", n)
			fmt.Fprintf(gs, "\t\tcase %d:\n\t\t\treturn %s\n", key(k), n)
		}
		genFwdIndirect(e, is)
		genGradIndirect(e, is)
		fmt.Fprintf(&decl, "\n//go:noescape\nfunc dwFwdIndirect%s(a *DWIndArgs)\n", is.name)
		fmt.Fprintf(&decl, "\n//go:noescape\nfunc dwGradIndirect%s(a *DWIndArgs)\n", is.name)
		if err := os.WriteFile(is.file, e.b.Bytes(), 0o644); err != nil {
			panic(err)
		}
	}
	sw := func(kind, typ string, m map[string]*strings.Builder) {
		fmt.Fprintf(&decl, "\nfunc dw%sTile(avx512 bool, kh, kw, s int) func(*%s) {\n\tk := kh*100 + kw*10 + s\n\tif kh > 9 || kw > 9 || s > 9 {\n\t\treturn nil\n\t}\n", kind, typ)
		fmt.Fprintf(&decl, "\tif avx512 {\n\t\tswitch k {\n%s\t\t}\n\t\treturn nil\n\t}\n\tswitch k {\n%s\t}\n\treturn nil\n}\n",
			m["AVX512"].String(), m["AVX2"].String())
	}
	sw("Fwd", "DWTileArgs", fwdSwitch)
	sw("Grad", "DWGradArgs", gradSwitch)
	decl.WriteString(`
func dwFwdIndirect(avx512 bool) func(*DWIndArgs) {
	if avx512 {
		return dwFwdIndirectAVX512
	}
	return dwFwdIndirectAVX2
}

func dwGradIndirect(avx512 bool) func(*DWIndArgs) {
	if avx512 {
		return dwGradIndirectAVX512
	}
	return dwGradIndirectAVX2
}
`)
	src, err := format.Source([]byte(decl.String()))
	if err != nil {
		panic(err)
	}
	if err := os.WriteFile("dwconv_amd64.go", src, 0o644); err != nil {
		panic(err)
	}
}
