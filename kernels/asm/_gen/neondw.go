//go:build ignore

// neondw writes dwconv_neon_arm64.s: the arm64 NEON indirect depthwise
// kernels (forward with fused bias and activation, and weight gradient) on
// the DWIndArgs contract of dwconv.go, with V = 4 channels per packed block.
// Channels go 16 at a time (four blocks, four independent accumulators),
// then 4, then the last C mod 4 one lane at a time through scalar loads
// (FMOVS zeroes the other lanes, so the vector arithmetic is unchanged).
// Run from kernels/asm:
//
//	go run _gen/neondw.go
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

type gen struct{ bytes.Buffer }

func (g *gen) p(format string, args ...any) { fmt.Fprintf(&g.Buffer, format+"\n", args...) }

func vl(first, n int) string {
	var s []string
	for k := range n {
		s = append(s, fmt.Sprintf("V%d.S4", first+k))
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// width is one channel step of a kernel: nv vectors of 4 lanes, or one
// lane (scalar).
type width struct {
	nv     int
	scalar bool
	name   string
}

var widths = []width{{4, false, "16"}, {1, false, "4"}, {1, true, "1"}}

// load/store of nv consecutive vectors (or one lane) at address register r.
func (g *gen) ld(w width, r string, first int) {
	if w.scalar {
		g.p("\tFMOVS (%s), F%d", r, first)
		return
	}
	g.p("\tVLD1 (%s), %s", r, vl(first, w.nv))
}

func (g *gen) st(w width, r string, first int) {
	if w.scalar {
		g.p("\tFMOVS F%d, (%s)", first, r)
		return
	}
	g.p("\tVST1 %s, (%s)", vl(first, w.nv), r)
}

// ldBlocks loads one vector (or lane) from each of nv packed blocks, R8
// bytes apart, starting at register r, into first.. (clobbers R21).
func (g *gen) ldBlocks(w width, r string, first int) {
	g.ld(width{1, w.scalar, ""}, r, first)
	for k := 1; k < w.nv; k++ {
		if k == 1 {
			g.p("\tADD R8, %s, R21", r)
		} else {
			g.p("\tADD R8, R21")
		}
		g.ld(width{1, w.scalar, ""}, "R21", first+k)
	}
}

func (g *gen) stBlocks(w width, r string, first int) {
	g.st(width{1, w.scalar, ""}, r, first)
	for k := 1; k < w.nv; k++ {
		if k == 1 {
			g.p("\tADD R8, %s, R21", r)
		} else {
			g.p("\tADD R8, R21")
		}
		g.st(width{1, w.scalar, ""}, "R21", first+k)
	}
}

// step advances past one channel step: R11 channel bytes, R12 the packed
// block pointer (R22 lane bytes in the scalar tail), R13 channels left.
func (g *gen) step(w width) {
	if w.scalar {
		g.p("\tADD $4, R11")
		g.p("\tADD $4, R22")
		g.p("\tSUBS $1, R13")
		return
	}
	g.p("\tADD $%d, R11", 16*w.nv)
	if w.nv == 4 {
		g.p("\tADD R8<<2, R12")
	} else {
		g.p("\tADD R8, R12")
	}
	g.p("\tSUB $%d, R13", 4*w.nv)
}

// loopHead jumps to skip unless a step of width w fits (R13 channels left).
func (g *gen) loopHead(w width, skip string) {
	if w.scalar {
		g.p("\tCBZ R13, %s", skip)
		return
	}
	g.p("\tCMP $%d, R13", 4*w.nv)
	g.p("\tBLT %s", skip)
}

func (g *gen) loopTail(w width, top string) {
	if w.scalar {
		g.p("\tBNE %s", top)
		return
	}
	g.p("\tCMP $%d, R13", 4*w.nv)
	g.p("\tBGE %s", top)
}

const prologue = `	MOVD a+0(FP), R0
	MOVD 0(R0), R1
	MOVD 8(R0), R2
	MOVD 16(R0), R3
	MOVD 24(R0), R4
	MOVD 32(R0), R5
	ADD $1, R3, R7
	LSL $3, R7
	ADD $1, R3, R8
	LSL $4, R8
	LSL $4, R3, R20`

// act applies the activation in R6 to V0..V(nv-1) (V28 0, V29 6, V30 3,
// V31 1/6; V4.. temporaries).
func (g *gen) act(w width, sfx string) {
	done := "act" + sfx
	g.p("\tCBZ R6, %s", done)
	g.p("\tCMP $1, R6")
	g.p("\tBEQ relu%s", sfx)
	g.p("\tCMP $2, R6")
	g.p("\tBEQ relu6%s", sfx)
	for k := range w.nv {
		t := 4 + k
		g.p("\tVFADD4S(%d, %d, 30)", t, k)
		g.p("\tVFMAX4S(%d, %d, 28)", t, t)
		g.p("\tVFMIN4S(%d, %d, 29)", t, t)
		g.p("\tVFMUL4S(%d, %d, %d)", k, k, t)
		g.p("\tVFMUL4S(%d, %d, 31)", k, k)
	}
	g.p("\tB %s", done)
	g.p("relu6%s:", sfx)
	for k := range w.nv {
		g.p("\tVFMIN4S(%d, %d, 29)", k, k)
	}
	g.p("relu%s:", sfx)
	for k := range w.nv {
		g.p("\tVFMAX4S(%d, %d, 28)", k, k)
	}
	g.p("%s:", done)
}

func (g *gen) fwd() {
	g.p(`
// func dwFwdIndirectNEON(a *DWIndArgs)
//
//	for i := 0; i < N; i++ {               // pixels; taps[i] = out, in_0 .. in_NT-1
//		for ch := 0; ch < C; ch++ {         // 16, then 4, then 1 at a time
//			s := bias[ch]; for t := 0; t < NT; t++ { s += in_t[ch] · w[t][ch] }
//			out[ch] = act(s)
//		}
//	}
//
// Packed w: per block of 4 channels, NT weight vectors then the bias (R8 =
// (NT+1)·16 bytes a block). Registers: R1 taps, R2 N, R3 NT, R6 act, R7
// (NT+1)·8 bytes of taps a pixel, R9 the pixel's taps, R10 pixels left,
// R11 channel byte offset, R12 the block's weights, R13 channels left, R14
// the tap pointer walker, R15 the weight walker, R20 NT·16 (the bias),
// R22 lane bytes in the tail, R23 taps left. V0..V3 accumulators, V4..V7
// inputs, V16..V19 weights; V28..V31 activation constants.
TEXT ·dwFwdIndirectNEON(SB), NOSPLIT, $0-8`)
	g.p("%s", prologue)
	g.p("\tMOVD 40(R0), R6")
	g.consts()
	g.p("\tMOVD R1, R9")
	g.p("\tMOVD R2, R10")
	g.p("pix:")
	g.p("\tMOVD $0, R11")
	g.p("\tMOVD R4, R12")
	g.p("\tMOVD R5, R13")
	g.p("\tMOVD $0, R22")
	for i, w := range widths {
		top, next := "f"+w.name, "e"+w.name
		g.loopHead(w, next)
		g.p("%s:", top)
		wptr := "R12"
		if w.scalar {
			g.p("\tADD R22, R12, R24")
			wptr = "R24"
		}
		g.p("\tADD R20, %s, R15", wptr)
		g.ldBlocks(w, "R15", 0)
		g.p("\tMOVD %s, R15", wptr)
		g.p("\tADD $8, R9, R14")
		g.p("\tMOVD R3, R23")
		g.p("t%s:", w.name)
		g.p("\tMOVD.P 8(R14), R19")
		g.p("\tADD R11, R19")
		g.ld(w, "R19", 4)
		g.ldBlocks(w, "R15", 16)
		for k := range w.nv {
			g.p("\tVFMLA V%d.S4, V%d.S4, V%d.S4", 16+k, 4+k, k)
		}
		g.p("\tADD $16, R15")
		g.p("\tSUBS $1, R23")
		g.p("\tBNE t%s", w.name)
		g.act(w, w.name)
		g.p("\tMOVD (R9), R19")
		g.p("\tADD R11, R19")
		g.st(w, "R19", 0)
		g.step(w)
		g.loopTail(w, top)
		g.p("%s:", next)
		_ = i
	}
	g.p("\tADD R7, R9")
	g.p("\tSUBS $1, R10")
	g.p("\tBNE pix")
	g.p("\tRET")
}

func (g *gen) consts() {
	g.p("\tVEOR V28.B16, V28.B16, V28.B16")
	for _, c := range []struct {
		v    int
		bits uint32
	}{{29, 0x40c00000}, {30, 0x40400000}, {31, 0x3e2aaaab}} {
		g.p("\tMOVW $0x%08x, R21", c.bits)
		g.p("\tVDUP R21, V%d.S4", c.v)
	}
}

func (g *gen) grad() {
	g.p(`
// func dwGradIndirectNEON(a *DWIndArgs)
//
//	for ch := 0; ch < C; ch++ {             // 16, then 4, then 1 at a time
//		for t := 0; t < NT; t++ {           // accumulator in registers over the pixels
//			for i := 0; i < N; i++ { acc[t][ch] += in_t(i)[ch] · dy(i)[ch] }
//		}
//		for i := 0; i < N; i++ { acc[NT][ch] += dy(i)[ch] }   // bias
//	}
//
// taps[i] = dy(i), in_0(i) .. in_NT-1(i); packed accumulators as the
// forward weights. Registers as dwFwdIndirectNEON, and R15 the tap's
// accumulators, R24 the tap's pointer offset in a pixel's taps. V0..V3
// accumulators, V4..V7 dy, V16..V19 inputs.
TEXT ·dwGradIndirectNEON(SB), NOSPLIT, $0-8`)
	g.p("%s", prologue)
	g.p("\tMOVD $0, R11")
	g.p("\tMOVD R4, R12")
	g.p("\tMOVD R5, R13")
	g.p("\tMOVD $0, R22")
	for _, w := range widths {
		top, next := "g"+w.name, "e"+w.name
		g.loopHead(w, next)
		g.p("%s:", top)
		if w.scalar {
			g.p("\tADD R22, R12, R15")
		} else {
			g.p("\tMOVD R12, R15")
		}
		g.p("\tMOVD $8, R24")
		g.p("\tMOVD R3, R23")
		g.p("tap%s:", w.name)
		g.ldBlocks(w, "R15", 0)
		g.p("\tMOVD R1, R9")
		g.p("\tMOVD R2, R10")
		g.p("px%s:", w.name)
		g.p("\tMOVD (R9), R19")
		g.p("\tADD R11, R19")
		g.ld(w, "R19", 4)
		g.p("\tMOVD (R9)(R24), R19")
		g.p("\tADD R11, R19")
		g.ld(w, "R19", 16)
		for k := range w.nv {
			g.p("\tVFMLA V%d.S4, V%d.S4, V%d.S4", 16+k, 4+k, k)
		}
		g.p("\tADD R7, R9")
		g.p("\tSUBS $1, R10")
		g.p("\tBNE px%s", w.name)
		g.stBlocks(w, "R15", 0)
		g.p("\tADD $16, R15")
		g.p("\tADD $8, R24")
		g.p("\tSUBS $1, R23")
		g.p("\tBNE tap%s", w.name)
		// Bias: R15 now points at the bias vector of the block.
		g.ldBlocks(w, "R15", 0)
		g.p("\tMOVD R1, R9")
		g.p("\tMOVD R2, R10")
		g.p("bx%s:", w.name)
		g.p("\tMOVD (R9), R19")
		g.p("\tADD R11, R19")
		g.ld(w, "R19", 4)
		for k := range w.nv {
			g.p("\tVFADD4S(%d, %d, %d)", k, k, 4+k)
		}
		g.p("\tADD R7, R9")
		g.p("\tSUBS $1, R10")
		g.p("\tBNE bx%s", w.name)
		g.stBlocks(w, "R15", 0)
		g.step(w)
		g.loopTail(w, top)
		g.p("%s:", next)
	}
	g.p("\tRET")
}

// fwdTiles lists the forward tile kernels, as kh·100 + kw·10 + s (the
// windows and sub-windows package kernels asks for: the forward 3×3 and
// 5×5 at strides 1 and 2, the stride-2 input-gradient phases and the
// border strips).
var fwdTiles = []int{111, 121, 131, 132, 151, 152, 211, 221, 231, 232, 251, 252, 311, 312, 321, 322,
	331, 332, 351, 352, 451, 452, 511, 512, 521, 522, 531, 532, 541, 542, 551, 552}

// tile writes one forward tile kernel (DWTileArgs contract; the weights
// read in place through W, WR, WC and the bias from B, WPK unused):
// kh·kw weight vectors and the bias stay in V(31−taps)..V31 for a whole
// block of 4 channels; q output pixels at a time accumulate in V0..V(q−1), fed by
// each input column once (V(q), V(q+1) alternate as the loaded column and
// serve as activation temporaries); then single pixels. The last C mod 4
// channels run lane by lane, single pixels only.
func (g *gen) tile(kh, kw, s int) {
	taps := kh * kw
	w0 := 31 - taps
	q := min(8, w0-2)
	name := fmt.Sprintf("dwFwd%d%dS%dNEON", kh, kw, s)
	g.p(`
// func %s(a *DWTileArgs)
//
// Window %d×%d, stride %d, %d output pixels a step:
//
//	for c0 := 0; c0 < C; c0 += 4 {                  // then lane by lane
//		for r := 0; r < NR; r++ { for o := 0; o < N; o++ {
//			s := B[c0:c0+4]
//			for ky, kx: s += W[ky·WR + kx·WC + c0:][:4] · Rows[ky][r·s·RS + (o·s+kx)·XS + c0:]
//			Y[r·YR + o·YS + c0:] = act(s)
//		}}
//	}
//
// Registers: R0 args, R1 N, R2 the row's input offset (channel + r·s·RS
// bytes), R3 the row's output, R4 column walker, R5 pixels left, R6 XS·4,
// R7 YS·4, R8 %d·s·XS·4, R9 s·XS·4, R10 act, R11 rows left, R12 s·RS·4,
// R13 YR·4, R15 output walker, R19.. window rows, R24 channel bytes, R25
// channels left (R4 R5 R14 R15 address the weights, tap (ky, kx) at W +
// ky·WR + kx·WC floats, at each block's start). V%d..V30 weights, V31 bias,
// V0..V%d accumulators, V%d V%d columns and temporaries.
TEXT ·%s(SB), NOSPLIT, $0-8`, name, kh, kw, s, q, q, w0, q-1, q, q+1, name)
	g.p("\tMOVD a+0(FP), R0")
	g.p("\tMOVD 56(R0), R25")
	g.p("\tMOVD 64(R0), R1")
	g.p("\tCBZ R1, done")
	g.p("\tMOVD 72(R0), R7")
	g.p("\tLSL $2, R7")
	g.p("\tMOVD 80(R0), R10")
	g.p("\tMOVD 88(R0), R6")
	g.p("\tLSL $2, R6")
	g.p("\tMOVD $%d, R8", q*s)
	g.p("\tMUL R6, R8")
	g.p("\tMOVD $%d, R9", s)
	g.p("\tMUL R6, R9")
	g.p("\tMOVD 104(R0), R12")
	g.p("\tLSL $%d, R12", map[int]int{1: 2, 2: 3}[s])
	g.p("\tMOVD 112(R0), R13")
	g.p("\tLSL $2, R13")
	g.p("\tMOVD $0, R24")
	g.channelBlocks(func(lane bool, pfx string) {
		// Weights (tap (ky, kx) at W + ky·WR + kx·WC floats, the channel
		// block at +R24 bytes) and bias into V(w0)..V31: R14 walks the
		// window rows, R4 the taps, R5 = WR·4, R15 = WC·4 (signed).
		g.p("\tMOVD 40(R0), R14")
		g.p("\tADD R24, R14")
		g.p("\tMOVD 120(R0), R5")
		g.p("\tLSL $2, R5")
		g.p("\tMOVD 128(R0), R15")
		g.p("\tLSL $2, R15")
		ldw := func(r string, v int) {
			if lane {
				g.p("\tFMOVS (%s), F%d", r, v)
			} else {
				g.p("\tVLD1 (%s), [V%d.S4]", r, v)
			}
		}
		for ky := range kh {
			g.p("\tMOVD R14, R4")
			for kx := range kw {
				ldw("R4", w0+ky*kw+kx)
				if kx < kw-1 {
					g.p("\tADD R15, R4")
				}
			}
			if ky < kh-1 {
				g.p("\tADD R5, R14")
			}
		}
		g.p("\tMOVD 136(R0), R4")
		g.p("\tADD R24, R4")
		ldw("R4", 31)
		g.p("\tMOVD R24, R2")
		g.p("\tMOVD 48(R0), R3")
		g.p("\tADD R24, R3")
		g.p("\tMOVD 96(R0), R11")
		g.p("%srow:", pfx)
		for ky := range kh {
			g.p("\tMOVD %d(R0), R%d", 8*ky, 19+ky)
			g.p("\tADD R2, R%d", 19+ky)
		}
		g.p("\tMOVD R3, R15")
		g.p("\tMOVD R1, R5")
		if !lane {
			g.p("\tCMP $%d, R5", q)
			g.p("\tBLT %ssingle", pfx)
			g.p("%sgroup:", pfx)
			g.pixels(kh, kw, s, q, q, w0, false, pfx+"g")
			g.p("\tSUB $%d, R5", q)
			g.p("\tCMP $%d, R5", q)
			g.p("\tBGE %sgroup", pfx)
			g.p("%ssingle:", pfx)
			g.p("\tCBZ R5, %srowend", pfx)
		}
		g.p("%ss1:", pfx)
		g.pixels(kh, kw, s, 1, q, w0, lane, pfx+"s")
		g.p("\tSUBS $1, R5")
		g.p("\tBNE %ss1", pfx)
		g.p("%srowend:", pfx)
		g.p("\tADD R12, R2")
		g.p("\tADD R13, R3")
		g.p("\tSUBS $1, R11")
		g.p("\tBNE %srow", pfx)
	})
}

// channelBlocks writes the channel loop of a tile kernel and its return:
// blocks of 4 channels (labels prefixed "v") while R25 counts 4 or more,
// then single lanes ("l"); R24 is the block's byte offset. body writes one
// block's work; channelBlocks then advances R24 and R25.
func (g *gen) channelBlocks(body func(lane bool, pfx string)) {
	for _, lane := range []bool{false, true} {
		pfx := "v"
		if lane {
			pfx = "l"
			g.p("lanes:")
			g.p("\tCBZ R25, done")
		}
		g.p("%sblk:", pfx)
		if !lane {
			g.p("\tCMP $4, R25")
			g.p("\tBLT lanes")
		}
		body(lane, pfx)
		if !lane {
			g.p("\tADD $16, R24")
			g.p("\tSUB $4, R25")
			g.p("\tB vblk")
		} else {
			g.p("\tADD $4, R24")
			g.p("\tSUBS $1, R25")
			g.p("\tBNE lblk")
		}
	}
	g.p("done:")
	g.p("\tRET")
}

// pixels writes n output pixels (n = q, or 1) of a tile kernel: accumulate,
// activate, store, and advance the window rows. Temporaries V(q), V(q+1).
func (g *gen) pixels(kh, kw, s, n, q, w0 int, lane bool, sfx string) {
	for o := range n {
		g.p("\tVMOV V31.B16, V%d.B16", o)
	}
	adv := "R8"
	if n == 1 {
		adv = "R9"
	}
	for ky := range kh {
		g.p("\tMOVD R%d, R4", 19+ky)
		ncols := (n-1)*s + kw
		for c := range ncols {
			t := q + c%2
			if lane {
				g.p("\tFMOVS (R4), F%d", t)
				if c < ncols-1 {
					g.p("\tADD R6, R4")
				}
			} else {
				g.p("\tVLD1.P (R4)(R6), [V%d.S4]", t)
			}
			for o := range n {
				kx := c - o*s
				if kx >= 0 && kx < kw {
					g.p("\tVFMLA V%d.S4, V%d.S4, V%d.S4", w0+ky*kw+kx, t, o)
				}
			}
		}
		g.p("\tADD %s, R%d", adv, 19+ky)
	}
	// Activation: R10 = 0 none, 1 ReLU, 2 ReLU6, 3 hardswish.
	t0, t1 := q, q+1
	g.p("\tCBZ R10, st%s", sfx)
	g.p("\tCMP $1, R10")
	g.p("\tBEQ relu%s", sfx)
	g.p("\tCMP $2, R10")
	g.p("\tBEQ relu6%s", sfx)
	for o := range n {
		g.p("\tMOVW $0x40400000, R4")
		g.p("\tVDUP R4, V%d.S4", t0)
		g.p("\tVFADD4S(%d, %d, %d)", t0, o, t0)
		g.p("\tVEOR V%d.B16, V%d.B16, V%d.B16", t1, t1, t1)
		g.p("\tVFMAX4S(%d, %d, %d)", t0, t0, t1)
		g.p("\tMOVW $0x40c00000, R4")
		g.p("\tVDUP R4, V%d.S4", t1)
		g.p("\tVFMIN4S(%d, %d, %d)", t0, t0, t1)
		g.p("\tVFMUL4S(%d, %d, %d)", o, o, t0)
		g.p("\tMOVW $0x3e2aaaab, R4")
		g.p("\tVDUP R4, V%d.S4", t1)
		g.p("\tVFMUL4S(%d, %d, %d)", o, o, t1)
	}
	g.p("\tB st%s", sfx)
	g.p("relu6%s:", sfx)
	g.p("\tMOVW $0x40c00000, R4")
	g.p("\tVDUP R4, V%d.S4", t1)
	for o := range n {
		g.p("\tVFMIN4S(%d, %d, %d)", o, o, t1)
	}
	g.p("relu%s:", sfx)
	g.p("\tVEOR V%d.B16, V%d.B16, V%d.B16", t0, t0, t0)
	for o := range n {
		g.p("\tVFMAX4S(%d, %d, %d)", o, o, t0)
	}
	g.p("st%s:", sfx)
	for o := range n {
		if lane {
			g.p("\tFMOVS F%d, (R15)", o)
			g.p("\tADD R7, R15")
		} else {
			g.p("\tVST1.P [V%d.S4], (R15)(R7)", o)
		}
	}
}

// outDir is where the files go (tests regenerate into a temporary one).
var outDir = flag.String("o", ".", "output directory")

// gradTiles lists the weight-gradient tile kernels, as kh·100 + kw·10 +
// s: 1×1 (the bias-only pass), the 3×3 and 5×5 windows at strides 1 and 2
// with their border sub-windows kh×kw' and, transposed, kw'×kh.
func gradTiles() []int {
	out := []int{111}
	seen := map[int]bool{111: true}
	add := func(kh, kw, s int) {
		if k := kh*100 + kw*10 + s; !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	for _, s := range []int{1, 2} {
		for _, k := range []int{3, 5} {
			for kw := 1; kw <= k; kw++ {
				add(k, kw, s)
			}
			for kw := 1; kw < k; kw++ {
				add(kw, k, s)
			}
		}
	}
	return out
}

// gradTile writes one weight-gradient tile kernel (DWGradArgs contract):
// the kh·kw+1 accumulators of a block of 4 channels stay in V0..V(taps)
// (the bias last) over all NR rows; q output-gradient pixels at a time in
// V(taps+1).., each input column loaded once into V31 and fed to every
// pixel of the step that uses it; then single pixels. The last C mod 4
// channels run lane by lane, single pixels only.
func (g *gen) gradTile(kh, kw, s int) {
	taps := kh * kw
	q := min(8, 30-taps)
	dy := func(j int) int { return taps + 1 + j }
	name := fmt.Sprintf("dwGrad%d%dS%dNEON", kh, kw, s)
	g.p(`
// func %s(a *DWGradArgs)
//
// Window %d×%d, stride %d, %d output-gradient pixels a step:
//
//	for c0 := 0; c0 < C; c0 += 4 {                  // then lane by lane
//		acc := Acc[block]
//		for r := 0; r < NR; r++ { for o := 0; o < N; o++ {
//			g := DY[r·DYRow + o·DYS + c0:]; acc[bias] += g
//			for ky, kx: acc[ky][kx] += g · Rows[r·RowStride+ky][XOff + (o·s+kx)·XS + c0:]
//		}}
//		Acc[block] = acc
//	}
//
// Registers: R0 args, R1 XS·4, R2 DYS·4, R3 the block's accumulators, R4
// column walker, R5 pixels left, R6 dy walker, R7 XOff·4, R8 %d·s·XS·4, R9
// s·XS·4, R11 rows left, R12 the row's window pointers, R13 RowStride·8,
// R14 the row's dy, R15 DYRow·4, R19.. window rows, R24 channel bytes, R25
// channels left. V0..V%d accumulators (bias last), V%d..V%d dy, V31 input.
TEXT ·%s(SB), NOSPLIT, $0-8`, name, kh, kw, s, q, q, taps, dy(0), dy(q-1), name)
	g.p("\tMOVD a+0(FP), R0")
	g.p("\tMOVD 56(R0), R3")
	g.p("\tMOVD 48(R0), R25")
	g.p("\tMOVD 72(R0), R1")
	g.p("\tLSL $2, R1")
	g.p("\tMOVD 80(R0), R2")
	g.p("\tLSL $2, R2")
	g.p("\tMOVD 64(R0), R7")
	g.p("\tLSL $2, R7")
	g.p("\tMOVD $%d, R8", q*s)
	g.p("\tMUL R1, R8")
	g.p("\tMOVD $%d, R9", s)
	g.p("\tMUL R1, R9")
	g.p("\tMOVD 8(R0), R13")
	g.p("\tLSL $3, R13")
	g.p("\tMOVD 32(R0), R15")
	g.p("\tLSL $2, R15")
	g.p("\tMOVD $0, R24")
	g.channelBlocks(func(lane bool, pfx string) {
		g.accs(taps, lane, false)
		g.p("\tMOVD 0(R0), R12")
		g.p("\tMOVD 16(R0), R11")
		g.p("\tMOVD 24(R0), R14")
		g.p("\tADD R24, R14")
		g.p("%srow:", pfx)
		for ky := range kh {
			g.p("\tMOVD %d(R12), R%d", 8*ky, 19+ky)
			g.p("\tADD R24, R%d", 19+ky)
			g.p("\tADD R7, R%d", 19+ky)
		}
		g.p("\tADD R13, R12")
		g.p("\tMOVD R14, R6")
		g.p("\tMOVD 40(R0), R5")
		if !lane {
			g.p("\tCMP $%d, R5", q)
			g.p("\tBLT %ssingle", pfx)
			g.p("%sgroup:", pfx)
			g.gradPixels(kh, kw, s, q, taps, false)
			g.p("\tSUB $%d, R5", q)
			g.p("\tCMP $%d, R5", q)
			g.p("\tBGE %sgroup", pfx)
			g.p("%ssingle:", pfx)
		}
		g.p("\tCBZ R5, %srowend", pfx)
		g.p("%ss1:", pfx)
		g.gradPixels(kh, kw, s, 1, taps, lane)
		g.p("\tSUBS $1, R5")
		g.p("\tBNE %ss1", pfx)
		g.p("%srowend:", pfx)
		g.p("\tADD R15, R14")
		g.p("\tSUBS $1, R11")
		g.p("\tBNE %srow", pfx)
		g.accs(taps, lane, true)
		if !lane {
			g.p("\tADD $%d, R3", 16*(taps+1))
		} else {
			g.p("\tADD $4, R3")
		}
	})
}

// accs loads (or stores) the taps+1 accumulators V0..V(taps) of the block
// at R3 (a lane of it at R3 in lane mode).
func (g *gen) accs(taps int, lane, store bool) {
	g.p("\tMOVD R3, R4")
	for t := 0; t <= taps; t += 4 {
		n := min(4, taps+1-t)
		if lane {
			for k := range n {
				if store {
					g.p("\tFMOVS F%d, (R4)", t+k)
				} else {
					g.p("\tFMOVS (R4), F%d", t+k)
				}
				g.p("\tADD $16, R4")
			}
			continue
		}
		if store {
			g.p("\tVST1.P %s, %d(R4)", vl(t, n), 16*n)
		} else {
			g.p("\tVLD1.P %d(R4), %s", 16*n, vl(t, n))
		}
	}
}

// gradPixels writes n pixels (n = q, or 1) of a gradient tile kernel.
func (g *gen) gradPixels(kh, kw, s, n, taps int, lane bool) {
	dy := func(j int) int { return taps + 1 + j }
	for j := range n {
		if lane {
			g.p("\tFMOVS (R6), F%d", dy(j))
			g.p("\tADD R2, R6")
		} else {
			g.p("\tVLD1.P (R6)(R2), [V%d.S4]", dy(j))
		}
	}
	for j := range n {
		g.p("\tVFADD4S(%d, %d, %d)", taps, taps, dy(j))
	}
	adv := "R8"
	if n == 1 {
		adv = "R9"
	}
	for ky := range kh {
		g.p("\tMOVD R%d, R4", 19+ky)
		ncols := (n-1)*s + kw
		for c := range ncols {
			if lane {
				g.p("\tFMOVS (R4), F31")
				if c < ncols-1 {
					g.p("\tADD R1, R4")
				}
			} else {
				g.p("\tVLD1.P (R4)(R1), [V31.S4]")
			}
			for j := range n {
				if kx := c - j*s; kx >= 0 && kx < kw {
					g.p("\tVFMLA V%d.S4, V31.S4, V%d.S4", dy(j), ky*kw+kx)
				}
			}
		}
		g.p("\tADD %s, R%d", adv, 19+ky)
	}
}

func main() {
	flag.Parse()
	g := &gen{}
	g.p(`// Code generated by _gen/neondw.go; DO NOT EDIT.

//go:build gc && !purego && !noasm

// Depthwise convolution, arm64 NEON (dwconv.go has the argument
// contracts), vectorised across channels with V = 4 channels per packed
// block: the indirect kernels (any window; border pixels, and the weight
// gradient), then the forward and weight-gradient tile kernels (fixed
// window and stride, interior pixels, several output rows a call).

#include "textflag.h"
#include "neon_arm64.h"`)
	g.fwd()
	g.grad()
	for _, k := range fwdTiles {
		g.tile(k/100, k/10%10, k%10)
	}
	for _, k := range gradTiles() {
		g.gradTile(k/100, k/10%10, k%10)
	}
	write(filepath.Join(*outDir, "dwconv_neon_arm64.s"), g.Bytes())
	write(filepath.Join(*outDir, "dwconv_arm64.go"), binding())
}

func write(name string, b []byte) {
	if err := os.WriteFile(name, b, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// binding returns the Go declarations and the kernel lookup.
func binding() []byte {
	var b bytes.Buffer
	b.WriteString(`// Code generated by _gen/neondw.go; DO NOT EDIT.

//go:build gc && !purego && !noasm

package asm

// The arm64 depthwise kernels of dwconv_neon_arm64.s, 4 channels per
// packed block. The avx512 arguments are ignored: NEON is the only arm64
// SIMD implementation.

//go:noescape
func dwFwdIndirectNEON(a *DWIndArgs)

//go:noescape
func dwGradIndirectNEON(a *DWIndArgs)
`)
	for _, k := range fwdTiles {
		fmt.Fprintf(&b, "\n//go:noescape\nfunc dwFwd%d%dS%dNEON(a *DWTileArgs)\n", k/100, k/10%10, k%10)
	}
	for _, k := range gradTiles() {
		fmt.Fprintf(&b, "\n//go:noescape\nfunc dwGrad%d%dS%dNEON(a *DWGradArgs)\n", k/100, k/10%10, k%10)
	}
	b.WriteString(`
func dwFwdTile(_ bool, kh, kw, s int) func(*DWTileArgs) {
	if kh > 9 || kw > 9 || s > 9 {
		return nil
	}
	switch kh*100 + kw*10 + s {
`)
	for _, k := range fwdTiles {
		fmt.Fprintf(&b, "\tcase %d:\n\t\treturn dwFwd%d%dS%dNEON\n", k, k/100, k/10%10, k%10)
	}
	b.WriteString(`	}
	return nil
}

func dwGradTile(_ bool, kh, kw, s int) func(*DWGradArgs) {
	if kh > 9 || kw > 9 || s > 9 {
		return nil
	}
	switch kh*100 + kw*10 + s {
`)
	for _, k := range gradTiles() {
		fmt.Fprintf(&b, "\tcase %d:\n\t\treturn dwGrad%d%dS%dNEON\n", k, k/100, k/10%10, k%10)
	}
	b.WriteString(`	}
	return nil
}

func dwFwdIndirect(bool) func(*DWIndArgs)  { return dwFwdIndirectNEON }
func dwGradIndirect(bool) func(*DWIndArgs) { return dwGradIndirectNEON }
`)
	return b.Bytes()
}
