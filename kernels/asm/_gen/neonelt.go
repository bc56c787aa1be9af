//go:build ignore

// neonelt writes eltwise_neon_arm64.s: the arm64 NEON elementwise and
// per-channel primitives (contracts: eltwise_ref.go) and the activations
// with their gradients (scalar definitions: kernels/act.go). Lengths and
// row widths are multiples of 4; package kernels runs the Go reference on
// the rest. Run from kernels/asm:
//
//	go run _gen/neonelt.go
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

// Register map of the flat ops: first input V0..V3, second input V4..V7,
// temporaries V16..V23 (two per vector: 16+2v, 17+2v), constants V24..V31.
const (
	vZero   = 31
	vThree  = 30
	vSix    = 29
	vSixth  = 28
	vMThree = 27
	vOne    = 26
	vAlpha  = 25
)

func vl(first, n int) string {
	var s []string
	for k := range n {
		s = append(s, fmt.Sprintf("V%d.S4", first+k))
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// konst broadcasts a float32 bit pattern into register v.
func (g *gen) konst(v int, bits uint32) {
	if bits == 0 {
		g.p("\tVEOR V%d.B16, V%d.B16, V%d.B16", v, v, v)
		return
	}
	g.p("\tMOVW $0x%08x, R9", bits)
	g.p("\tVDUP R9, V%d.S4", v)
}

// flat writes a loop over n = len(out) floats, 16 then 4 at a time. ins are
// the input slices' FP names and offsets, loaded into V0.. and V4..; body
// computes vector k (0..nv-1) in place in V(k) from V(k) and V(4+k).
func (g *gen) flat(name string, frame int, ins []string, inOff []int, out string, outOff int, init func(), body func(k int)) {
	g.p("TEXT ·%s(SB), NOSPLIT, $0-%d", name, frame)
	for i, in := range ins {
		g.p("\tMOVD %s_base+%d(FP), R%d", in, inOff[i], i)
	}
	g.p("\tMOVD %s_base+%d(FP), R2", out, outOff)
	g.p("\tMOVD %s_len+%d(FP), R3", out, outOff+8)
	if init != nil {
		init()
	}
	g.p("\tLSR $4, R3, R4")
	g.p("\tCBZ R4, tail")
	for _, nv := range []int{4, 1} {
		lbl := map[int]string{4: "loop16", 1: "loop4"}[nv]
		g.p("%s:", lbl)
		for i := range ins {
			g.p("\tVLD1.P %d(R%d), %s", 16*nv, i, vl(4*i, nv))
		}
		for k := range nv {
			body(k)
		}
		g.p("\tVST1.P %s, %d(R2)", vl(0, nv), 16*nv)
		g.p("\tSUBS $1, R4")
		g.p("\tBNE %s", lbl)
		if nv == 4 {
			g.p("tail:")
			g.p("\tUBFX $2, R3, $2, R4") // (n >> 2) & 3 vectors left
			g.p("\tCBZ R4, done")
		}
	}
	g.p("done:")
	g.p("\tRET")
	g.p("")
}

// flat1 is flat with one vector per iteration (for long bodies that need
// many temporaries): inputs in V0 and V4, the result in V0.
func (g *gen) flat1(name string, frame int, ins []string, inOff []int, out string, outOff int, init func(), body func()) {
	g.p("TEXT ·%s(SB), NOSPLIT, $0-%d", name, frame)
	for i, in := range ins {
		g.p("\tMOVD %s_base+%d(FP), R%d", in, inOff[i], i)
	}
	g.p("\tMOVD %s_base+%d(FP), R2", out, outOff)
	g.p("\tMOVD %s_len+%d(FP), R3", out, outOff+8)
	init()
	g.p("\tLSR $2, R3, R4")
	g.p("\tCBZ R4, done")
	g.p("loop4:")
	for i := range ins {
		g.p("\tVLD1.P 16(R%d), [V%d.S4]", i, 4*i)
	}
	body()
	g.p("\tVST1.P [V0.S4], 16(R2)")
	g.p("\tSUBS $1, R4")
	g.p("\tBNE loop4")
	g.p("done:")
	g.p("\tRET")
	g.p("")
}

func (g *gen) op3(op string, d, n, m int) { g.p("\t%s(%d, %d, %d)", op, d, n, m) }

// outDir is where the files go (tests regenerate into a temporary one).
var outDir = flag.String("o", ".", "output directory")

// Sigmoid constants (XNNPACK's rr2-p5 scheme, as the amd64 kernels):
// V20 sign bit, V21 log2 e, V22 magic bias (1.5·2^23 + 127), V23 −ln2 high,
// V24 −ln2 low, V25..V29 the degree-5 polynomial c5..c1, V30 the cutoff
// (−87.34: exp underflows below), V31 1.
var sigConsts = []uint32{0x80000000, 0x3fb8aa3b, 0x4b40007f, 0xbf317200, 0xb5bfbe8e,
	0x3c07cfce, 0x3d2b9d0d, 0x3e2aad40, 0x3efffee3, 0x3f7ffffb, 0xc2aeac4f, 0x3f800000}

// sigF computes f = sigmoid(−|x|) of V(x) into V8 (V9..V12 temporaries):
// z = −|x|; n = round(z·log2 e) by the magic bias, which also gives s = 2^n
// by shifting n's bits into the exponent; t = z − n·ln2 (two constants);
// e = s + (t·s)·p(t) ≈ exp(z), zero below the cutoff; f = e/(1 + e).
func (g *gen) sigF(x int) {
	g.p("\tVORR V20.B16, V%d.B16, V9.B16", x) // z
	g.op3("VFCMGT4S", 10, 30, 9)              // z < cutoff
	g.p("\tVMOV V22.B16, V11.B16")
	g.p("\tVFMLA V21.S4, V9.S4, V11.S4") // n = magic + z·log2e
	g.p("\tVSHL $23, V11.S4, V12.S4")    // s
	g.op3("VFSUB4S", 11, 11, 22)         // n
	g.p("\tVFMLA V23.S4, V11.S4, V9.S4") // t = z − n·ln2hi
	g.p("\tVFMLA V24.S4, V11.S4, V9.S4") //     − n·ln2lo
	g.p("\tVMOV V26.B16, V8.B16")
	g.p("\tVFMLA V25.S4, V9.S4, V8.S4")   // p = c4 + t·c5
	for i, c := range []int{27, 28, 29} { // p = c3.. + t·p
		src, dst := 8+3*(i%2), 11-3*(i%2)
		g.p("\tVMOV V%d.B16, V%d.B16", c, dst)
		g.p("\tVFMLA V%d.S4, V9.S4, V%d.S4", src, dst)
	}
	// p is in V11 after three steps; e = s + (t·s)·p into V12.
	g.op3("VFMUL4S", 9, 9, 12)
	g.p("\tVFMLA V11.S4, V9.S4, V12.S4")
	g.p("\tVEOR V9.B16, V9.B16, V9.B16")
	g.p("\tVBIT V10.B16, V9.B16, V12.B16") // 0 below the cutoff
	g.op3("VFADD4S", 9, 12, 31)
	g.op3("VFDIV4S", 8, 12, 9)
}

func main() {
	flag.Parse()
	g := &gen{}
	g.p(`// Code generated by _gen/neonelt.go; DO NOT EDIT.

//go:build gc && !purego && !noasm

// Elementwise and per-channel primitives and activations, arm64 NEON (4
// lanes). Lengths and row widths w are multiples of 4: the caller does the
// rest in Go. Go loops: the references in eltwise_ref.go and, for the
// activations (kernels/act.go),
//
//	forward:  for i := range y  { y[i] = act(x[i]) }
//	gradient: for i := range dx { dx[i] = dy[i] * act'(x[i]) }
//
// Flat ops: 4 vectors (16 floats) per iteration, then single vectors.
// Registers: R0, R1 inputs, R2 output, R3 length, R4 trip count; first
// input V0..V3, second V4..V7, temporaries V16..V23, constants V24..V31
// (V31 0, V30 3, V29 6, V28 1/6, V27 -3, V26 1, V25 alpha). FMAX/FMIN
// return NaN for a NaN input; comparisons are false on NaN.
//
// Row primitives walk rows rows of w floats, ld floats apart: R0 rows
// left, R1 w, R2 ld in bytes, R3.. row and per-channel pointers, R10 the
// channel count left in the row. Affine and Affine2 go row by row and
// re-read the per-channel vectors from L1; ColSum and ColDot keep a block
// of accumulators (and means) in registers while they walk the rows.

#include "textflag.h"
#include "neon_arm64.h"
`)
	actConsts := func() {
		g.konst(vZero, 0)
		g.konst(vThree, 0x40400000)
		g.konst(vSix, 0x40c00000)
		g.konst(vSixth, 0x3e2aaaab)
		g.konst(vMThree, 0xc0400000)
		g.konst(vOne, 0x3f800000)
	}
	alpha := func() {
		g.p("\tFMOVS alpha+0(FP), F%d", vAlpha)
		g.p("\tVDUP V%d.S[0], V%d.S4", vAlpha, vAlpha)
	}
	t := func(k int) int { return 16 + 2*k }
	u := func(k int) int { return 17 + 2*k }

	g.p("// func AddNEON(a, b, y []float32)")
	g.flat("AddNEON", 72, []string{"a", "b"}, []int{0, 24}, "y", 48, nil, func(k int) {
		g.op3("VFADD4S", k, k, 4+k)
	})
	g.p("// func AxpyNEON(alpha float32, x, y []float32): y += alpha·x")
	g.flat("AxpyNEON", 56, []string{"x", "y"}, []int{8, 32}, "y", 32, alpha, func(k int) {
		// V(4+k) += V(k)·alpha, then move to V(k) for the store.
		g.p("\tVFMLA V%d.S4, V%d.S4, V%d.S4", vAlpha, k, 4+k)
		g.p("\tVMOV V%d.B16, V%d.B16", 4+k, k)
	})
	g.p("// func ScaleNEON(alpha float32, x, y []float32)")
	g.flat("ScaleNEON", 56, []string{"x"}, []int{8}, "y", 32, alpha, func(k int) {
		g.op3("VFMUL4S", k, k, vAlpha)
	})

	type act struct {
		name string
		fwd  func(k int)
		grad func(k int) // x in V(k), dy in V(4+k), dx to V(k)
	}
	acts := []act{
		{"Relu", func(k int) { g.op3("VFMAX4S", k, k, vZero) },
			func(k int) {
				g.op3("VFCMGT4S", k, k, vZero)
				g.p("\tVAND V%d.B16, V%d.B16, V%d.B16", 4+k, k, k)
			}},
		{"Relu6", func(k int) { g.op3("VFMAX4S", k, k, vZero); g.op3("VFMIN4S", k, k, vSix) },
			func(k int) {
				g.op3("VFCMGT4S", t(k), k, vZero)
				g.op3("VFCMGT4S", k, vSix, k)
				g.p("\tVAND V%d.B16, V%d.B16, V%d.B16", t(k), k, k)
				g.p("\tVAND V%d.B16, V%d.B16, V%d.B16", 4+k, k, k)
			}},
		{"Hardsigmoid", func(k int) {
			g.op3("VFADD4S", k, k, vThree)
			g.op3("VFMAX4S", k, k, vZero)
			g.op3("VFMIN4S", k, k, vSix)
			g.op3("VFMUL4S", k, k, vSixth)
		}, func(k int) {
			g.op3("VFCMGT4S", t(k), k, vMThree)
			g.op3("VFCMGT4S", k, vThree, k)
			g.p("\tVAND V%d.B16, V%d.B16, V%d.B16", t(k), k, k)
			g.op3("VFMUL4S", t(k), 4+k, vSixth)
			g.p("\tVAND V%d.B16, V%d.B16, V%d.B16", t(k), k, k)
		}},
		{"Hardswish", func(k int) {
			g.op3("VFADD4S", t(k), k, vThree)
			g.op3("VFMAX4S", t(k), t(k), vZero)
			g.op3("VFMIN4S", t(k), t(k), vSix)
			g.op3("VFMUL4S", k, k, t(k))
			g.op3("VFMUL4S", k, k, vSixth)
		}, func(k int) {
			// g = (2x + 3)/6; 1 where x > 3; 0 where x < -3.
			g.op3("VFADD4S", t(k), k, k)
			g.op3("VFADD4S", t(k), t(k), vThree)
			g.op3("VFMUL4S", t(k), t(k), vSixth)
			g.op3("VFCMGT4S", u(k), k, vThree)
			g.p("\tVBIT V%d.B16, V%d.B16, V%d.B16", u(k), vOne, t(k))
			g.op3("VFCMGT4S", u(k), vMThree, k)
			g.p("\tVBIT V%d.B16, V%d.B16, V%d.B16", u(k), vZero, t(k))
			g.op3("VFMUL4S", k, 4+k, t(k))
		}},
	}
	for _, a := range acts {
		g.p("// func %sNEON(x, y []float32)", a.name)
		g.flat(a.name+"NEON", 48, []string{"x"}, []int{0}, "y", 24, actConsts, a.fwd)
		g.p("// func %sGradNEON(x, dy, dx []float32)", a.name)
		g.flat(a.name+"GradNEON", 72, []string{"x", "dy"}, []int{0, 24}, "dx", 48, actConsts, a.grad)
	}

	sigInit := func() {
		for i, c := range sigConsts {
			g.konst(20+i, c)
		}
	}
	g.p("// func SigmoidNEON(x, y []float32): y = f for x < 0 (sign set), 1 − f otherwise")
	g.flat1("SigmoidNEON", 48, []string{"x"}, []int{0}, "y", 24, sigInit, func() {
		g.sigF(0)
		g.p("\tVCMTST V20.S4, V0.S4, V10.S4")
		g.op3("VFSUB4S", 0, 31, 8)
		g.p("\tVBIT V10.B16, V8.B16, V0.B16")
	})
	g.p("// func SigmoidGradNEON(x, dy, dx []float32): dx = dy·f·(1 − f)")
	g.flat1("SigmoidGradNEON", 72, []string{"x", "dy"}, []int{0, 24}, "dx", 48, sigInit, func() {
		g.sigF(0)
		g.p("\tVMOV V8.B16, V0.B16")
		g.p("\tVFMLS V8.S4, V8.S4, V0.S4")
		g.op3("VFMUL4S", 0, 0, 4)
	})

	g.rowOps()
	if err := os.WriteFile(filepath.Join(*outDir, "eltwise_neon_arm64.s"), g.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// rowOps writes Affine, Affine2, ColSum, ColDot and ColSumDot.
func (g *gen) rowOps() {
	// Affine: y[r,j] = x[r,j]·s[j] + t[j]. R3 x row, R4 y row, R5 s, R6 t;
	// R7, R8 walk x and y within the row, R11, R12 s and t.
	g.p(`// func AffineNEON(rows, w, ld int, x, s, t, y []float32)
// y[r,j] = x[r,j]·s[j] + t[j]: x in V0.., s in V4.., t (then y) in V8..
TEXT ·AffineNEON(SB), NOSPLIT, $0-120
	MOVD rows+0(FP), R0
	MOVD w+8(FP), R1
	MOVD ld+16(FP), R2
	LSL $2, R2
	MOVD x_base+24(FP), R3
	MOVD s_base+48(FP), R5
	MOVD t_base+72(FP), R6
	MOVD y_base+96(FP), R4
	CBZ R0, done
row:
	MOVD R3, R7
	MOVD R4, R8
	MOVD R5, R11
	MOVD R6, R12
	MOVD R1, R10
	CMP $16, R10
	BLT one
loop16:
	VLD1.P 64(R7), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD1.P 64(R11), [V4.S4, V5.S4, V6.S4, V7.S4]
	VLD1.P 64(R12), [V8.S4, V9.S4, V10.S4, V11.S4]
	VFMLA V4.S4, V0.S4, V8.S4
	VFMLA V5.S4, V1.S4, V9.S4
	VFMLA V6.S4, V2.S4, V10.S4
	VFMLA V7.S4, V3.S4, V11.S4
	VST1.P [V8.S4, V9.S4, V10.S4, V11.S4], 64(R8)
	SUB $16, R10
	CMP $16, R10
	BGE loop16
one:
	CBZ R10, next
loop4:
	VLD1.P 16(R7), [V0.S4]
	VLD1.P 16(R11), [V4.S4]
	VLD1.P 16(R12), [V8.S4]
	VFMLA V4.S4, V0.S4, V8.S4
	VST1.P [V8.S4], 16(R8)
	SUBS $4, R10
	BNE loop4
next:
	ADD R2, R3
	ADD R2, R4
	SUBS $1, R0
	BNE row
done:
	RET
`)
	// Affine2: y = a·sa + (b − m)·sb + t.
	g.p(`// func Affine2NEON(rows, w, ld int, a, b, m, sa, sb, t, y []float32)
// y[r,j] = a[r,j]·sa[j] + (b[r,j] − m[j])·sb[j] + t[j], 8 channels (two
// vectors) then 4 at a time: a V0 V1, b V2 V3, m V4 V5, sa V6 V7, sb V16
// V17, t (then y) V18 V19. R3 a, R4 b, R5 y rows; R6 m, R7 sa, R8 sb, R9 t
// vectors; R11 R12 R13 walk a, b, y and R14 R15 R19 R20 m, sa, sb, t.
TEXT ·Affine2NEON(SB), NOSPLIT, $0-192
	MOVD rows+0(FP), R0
	MOVD w+8(FP), R1
	MOVD ld+16(FP), R2
	LSL $2, R2
	MOVD a_base+24(FP), R3
	MOVD b_base+48(FP), R4
	MOVD m_base+72(FP), R6
	MOVD sa_base+96(FP), R7
	MOVD sb_base+120(FP), R8
	MOVD t_base+144(FP), R9
	MOVD y_base+168(FP), R5
	CBZ R0, done
row:
	MOVD R3, R11
	MOVD R4, R12
	MOVD R5, R13
	MOVD R6, R14
	MOVD R7, R15
	MOVD R8, R19
	MOVD R9, R20
	MOVD R1, R10
	CMP $8, R10
	BLT one
loop8:
	VLD1.P 32(R11), [V0.S4, V1.S4]
	VLD1.P 32(R12), [V2.S4, V3.S4]
	VLD1.P 32(R14), [V4.S4, V5.S4]
	VLD1.P 32(R15), [V6.S4, V7.S4]
	VLD1.P 32(R19), [V16.S4, V17.S4]
	VLD1.P 32(R20), [V18.S4, V19.S4]
	VFSUB4S(2, 2, 4)
	VFSUB4S(3, 3, 5)
	VFMLA V6.S4, V0.S4, V18.S4
	VFMLA V7.S4, V1.S4, V19.S4
	VFMLA V16.S4, V2.S4, V18.S4
	VFMLA V17.S4, V3.S4, V19.S4
	VST1.P [V18.S4, V19.S4], 32(R13)
	SUB $8, R10
	CMP $8, R10
	BGE loop8
one:
	CBZ R10, next
	VLD1.P 16(R11), [V0.S4]
	VLD1.P 16(R12), [V2.S4]
	VLD1.P 16(R14), [V4.S4]
	VLD1.P 16(R15), [V6.S4]
	VLD1.P 16(R19), [V16.S4]
	VLD1.P 16(R20), [V18.S4]
	VFSUB4S(2, 2, 4)
	VFMLA V6.S4, V0.S4, V18.S4
	VFMLA V16.S4, V2.S4, V18.S4
	VST1.P [V18.S4], 16(R13)
next:
	ADD R2, R3
	ADD R2, R4
	ADD R2, R5
	SUBS $1, R0
	BNE row
done:
	RET
`)
	// ColSum / ColDot: channel blocks outer (16 channels, then 4), rows inner.
	g.p(`// func ColSumNEON(rows, w, ld int, x, acc []float32)
// acc[j] += Σ_r x[r,j]: per block of 16 channels (then 4), the sums in
// V16..V19 while R7 walks the block's column down the rows (R8 rows left);
// x in V0..V3. R3 x, R4 acc at the block.
TEXT ·ColSumNEON(SB), NOSPLIT, $0-72
	MOVD rows+0(FP), R0
	MOVD w+8(FP), R1
	MOVD ld+16(FP), R2
	LSL $2, R2
	MOVD x_base+24(FP), R3
	MOVD acc_base+48(FP), R4
	CBZ R0, done
	CMP $16, R1
	BLT one
blk16:
	VLD1 (R4), [V16.S4, V17.S4, V18.S4, V19.S4]
	MOVD R3, R7
	MOVD R0, R8
rows16:
	VLD1 (R7), [V0.S4, V1.S4, V2.S4, V3.S4]
	ADD R2, R7
	VFADD4S(16, 16, 0)
	VFADD4S(17, 17, 1)
	VFADD4S(18, 18, 2)
	VFADD4S(19, 19, 3)
	SUBS $1, R8
	BNE rows16
	VST1.P [V16.S4, V17.S4, V18.S4, V19.S4], 64(R4)
	ADD $64, R3
	SUB $16, R1
	CMP $16, R1
	BGE blk16
one:
	CBZ R1, done
blk4:
	VLD1 (R4), [V16.S4]
	MOVD R3, R7
	MOVD R0, R8
rows4:
	VLD1 (R7), [V0.S4]
	ADD R2, R7
	VFADD4S(16, 16, 0)
	SUBS $1, R8
	BNE rows4
	VST1.P [V16.S4], 16(R4)
	ADD $16, R3
	SUBS $4, R1
	BNE blk4
done:
	RET

// func ColDotNEON(rows, w, ld int, a, ma, b, mb, acc []float32)
// acc[j] += Σ_r (a[r,j] − ma[j])·(b[r,j] − mb[j]): per block of 8 channels
// (then 4), acc in V16 V17, ma V18 V19, mb V20 V21; a V0 V1, b V2 V3. R3 a,
// R4 b, R5 ma, R6 mb, R9 acc at the block; R7 R11 walk a and b down the
// rows, R8 rows left.
TEXT ·ColDotNEON(SB), NOSPLIT, $0-144
	MOVD rows+0(FP), R0
	MOVD w+8(FP), R1
	MOVD ld+16(FP), R2
	LSL $2, R2
	MOVD a_base+24(FP), R3
	MOVD ma_base+48(FP), R5
	MOVD b_base+72(FP), R4
	MOVD mb_base+96(FP), R6
	MOVD acc_base+120(FP), R9
	CBZ R0, done
	CMP $8, R1
	BLT one
blk8:
	VLD1 (R9), [V16.S4, V17.S4]
	VLD1.P 32(R5), [V18.S4, V19.S4]
	VLD1.P 32(R6), [V20.S4, V21.S4]
	MOVD R3, R7
	MOVD R4, R11
	MOVD R0, R8
rows8:
	VLD1 (R7), [V0.S4, V1.S4]
	VLD1 (R11), [V2.S4, V3.S4]
	ADD R2, R7
	ADD R2, R11
	VFSUB4S(0, 0, 18)
	VFSUB4S(1, 1, 19)
	VFSUB4S(2, 2, 20)
	VFSUB4S(3, 3, 21)
	VFMLA V0.S4, V2.S4, V16.S4
	VFMLA V1.S4, V3.S4, V17.S4
	SUBS $1, R8
	BNE rows8
	VST1.P [V16.S4, V17.S4], 32(R9)
	ADD $32, R3
	ADD $32, R4
	SUB $8, R1
	CMP $8, R1
	BGE blk8
one:
	CBZ R1, done
	VLD1 (R9), [V16.S4]
	VLD1 (R5), [V18.S4]
	VLD1 (R6), [V20.S4]
	MOVD R3, R7
	MOVD R4, R11
	MOVD R0, R8
rows4:
	VLD1 (R7), [V0.S4]
	VLD1 (R11), [V2.S4]
	ADD R2, R7
	ADD R2, R11
	VFSUB4S(0, 0, 18)
	VFSUB4S(2, 2, 20)
	VFMLA V0.S4, V2.S4, V16.S4
	SUBS $1, R8
	BNE rows4
	VST1 [V16.S4], (R9)
done:
	RET

// func ColSumDotNEON(rows, w, ld int, a, b, mb, accA, accB []float32)
// accA[j] += Σ_r a[r,j], accB[j] += Σ_r a[r,j]·(b[r,j] − mb[j]): per block
// of 8 channels (then 4), accA in V16 V17, accB V18 V19, mb V20 V21; a V0
// V1, b V2 V3. R3 a, R4 b, R6 mb, R9 accA, R12 accB at the block; R7 R11
// walk a and b down the rows, R8 rows left.
TEXT ·ColSumDotNEON(SB), NOSPLIT, $0-144
	MOVD rows+0(FP), R0
	MOVD w+8(FP), R1
	MOVD ld+16(FP), R2
	LSL $2, R2
	MOVD a_base+24(FP), R3
	MOVD b_base+48(FP), R4
	MOVD mb_base+72(FP), R6
	MOVD accA_base+96(FP), R9
	MOVD accB_base+120(FP), R12
	CBZ R0, done
	CMP $8, R1
	BLT one
blk8:
	VLD1 (R9), [V16.S4, V17.S4]
	VLD1 (R12), [V18.S4, V19.S4]
	VLD1.P 32(R6), [V20.S4, V21.S4]
	MOVD R3, R7
	MOVD R4, R11
	MOVD R0, R8
rows8:
	VLD1 (R7), [V0.S4, V1.S4]
	VLD1 (R11), [V2.S4, V3.S4]
	ADD R2, R7
	ADD R2, R11
	VFADD4S(16, 16, 0)
	VFADD4S(17, 17, 1)
	VFSUB4S(2, 2, 20)
	VFSUB4S(3, 3, 21)
	VFMLA V0.S4, V2.S4, V18.S4
	VFMLA V1.S4, V3.S4, V19.S4
	SUBS $1, R8
	BNE rows8
	VST1.P [V16.S4, V17.S4], 32(R9)
	VST1.P [V18.S4, V19.S4], 32(R12)
	ADD $32, R3
	ADD $32, R4
	SUB $8, R1
	CMP $8, R1
	BGE blk8
one:
	CBZ R1, done
	VLD1 (R9), [V16.S4]
	VLD1 (R12), [V18.S4]
	VLD1 (R6), [V20.S4]
	MOVD R3, R7
	MOVD R4, R11
	MOVD R0, R8
rows4:
	VLD1 (R7), [V0.S4]
	VLD1 (R11), [V2.S4]
	ADD R2, R7
	ADD R2, R11
	VFADD4S(16, 16, 0)
	VFSUB4S(2, 2, 20)
	VFMLA V0.S4, V2.S4, V18.S4
	SUBS $1, R8
	BNE rows4
	VST1 [V16.S4], (R9)
	VST1 [V18.S4], (R12)
done:
	RET`)
}
