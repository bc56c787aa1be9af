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
	"fmt"
	"os"
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

func main() {
	g := &gen{}
	g.p(`// Code generated by _gen/neondw.go; DO NOT EDIT.

//go:build gc && !purego && !noasm

// Depthwise convolution, arm64 NEON: the indirect kernels (dwconv.go has
// the DWIndArgs contract), vectorised across channels with V = 4 channels
// per packed block. Package kernels routes every output pixel through them
// on arm64 (there are no NEON tile kernels yet).

#include "textflag.h"
#include "neon_arm64.h"`)
	g.fwd()
	g.grad()
	if err := os.WriteFile("dwconv_neon_arm64.s", g.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
