//go:build ignore

// conv_gen.go writes the direct (implicit-GEMM) convolution assembly
// (conv_avx2_amd64.s, conv_avx512_amd64.s) and its Go bindings
// (conv_amd64.go). Run it with `go generate` in kernels/asm.
//
// A kernel computes output pixels of one output row, mr at a time, for one
// block of v output-channel vectors: the tile is mr×v accumulator
// registers. The reduction walks the window row by row (Rows rows of Run
// steps); at each step it loads the v weight vectors of that step (a row of
// the [K, Cout] weight matrix, no packing needed) and broadcasts one input
// value per pixel straight from the (padded) image, so the A operand of the
// GEMM is never copied:
//
//	for each tile of mr pixels:
//		acc[i][j] = bias[j], 0, or y[i][j] (Accum)
//		for r in 0..Rows: for t in 0..Run:
//			w[j] = W[j]; W += WStep
//			for i: acc[i][j] += x[i·XPix + r·rowStride + t·XStep] · w[j]
//		y[i][j] = act(acc[i][j]) for the tile's valid pixels
//
// The same kernel computes the weight gradient with the roles renamed
// (pixels ↔ input channels, weights ↔ output gradients, steps ↔ output
// pixels). The last channel vector runs under a lane mask (K1 on AVX-512,
// Y15 with VMASKMOVPS on AVX2). A partial last tile computes mr pixels but
// loads and stores only the valid ones; its extra input reads stay inside
// the caller's slack.
//
// Registers: AX argument block, SI input of the tile's first pixel, R10/R13
// input of pixels 0 and 9 at the current step, R8/R9/R11/R12 = 1,3,5,7
// pixel strides (pixel i is (R10)(R8*1) … (R10)(R8*8), then from R13), DI
// weights, DX XStep, CX rows left, BX steps left; accumulators from
// register 0 up, weights and the broadcast register above them.
package main

import (
	"bytes"
	"fmt"
	"go/format"
	"os"
)

// ConvArgs field offsets, in bytes; conv.go defines the struct and
// conv_amd64_test.go checks these against unsafe.Offsetof.
const (
	offX     = 0
	offW     = 8
	offY     = 16
	offBias  = 24
	offN     = 32
	offXPix  = 40
	offXStep = 48
	offXRow  = 56
	offRows  = 64
	offRun   = 72
	offWStep = 80
	offYPix  = 88
	offMask  = 96
	offAct   = 104
	offAccum = 112
	offCur   = 120
)

type isa struct {
	name  string // AVX2 or AVX512
	file  string
	lanes int
	reg   string // Y or Z
	bytes int    // vector bytes
}

var (
	avx2   = isa{"AVX2", "conv_avx2_amd64.s", 8, "Y", 32}
	avx512 = isa{"AVX512", "conv_avx512_amd64.s", 16, "Z", 64}
)

// variant is one tile shape: v channel vectors × mr pixels; bcst uses
// AVX-512 embedded broadcasts instead of a broadcast register.
type variant struct {
	v, mr int
	bcst  bool
	full  bool // no lane mask: only for blocks whose last vector is full
}

var variants = map[string][]variant{
	// Measured on the project machine: the embedded-broadcast tiles and the
	// register-broadcast ones run alike where both fit; the set offers tile
	// heights that divide the common widths (7·2^k) and channel counts.
	"AVX512": {{4, 7, true, false}, {4, 6, false, false}, {3, 8, false, false}, {2, 14, false, false},
		{2, 12, true, false}, {2, 11, false, false}, {1, 14, true, false}, {1, 12, true, false}, {1, 18, true, false}},
	// AVX2 masks with VMASKMOVPS, which costs in the inner loop: full
	// blocks take unmasked twins.
	"AVX2": {{2, 6, false, false}, {1, 12, false, false}, {2, 6, false, true}, {1, 12, false, true}},
}

func (v variant) name(is isa) string {
	b := ""
	if v.bcst {
		b = "B"
	}
	if v.full {
		b += "F"
	}
	return fmt.Sprintf("conv%sV%dM%d%s", is.name, v.v, v.mr, b)
}

type gen struct {
	bytes.Buffer
	is isa
}

func (g *gen) f(format string, args ...any) { fmt.Fprintf(&g.Buffer, format+"\n", args...) }

func (g *gen) reg(i int) string { return fmt.Sprintf("%s%d", g.is.reg, i) }

// pixel returns the address of pixel i's input at the current step.
func pixel(i int) string {
	base := "R10"
	if i >= 9 {
		base, i = "R13", i-9
	}
	return "(" + base + ")" + [...]string{"", "(R8*1)", "(R8*2)", "(R9*1)", "(R8*4)", "(R11*1)", "(R9*2)", "(R12*1)", "(R8*8)"}[i]
}

// load emits dst = the j-th vector at mem (masked if it is the last).
func (g *gen) load(vr variant, j int, mem, dst string) {
	last := j == vr.v-1 && !vr.full
	switch {
	case !last:
		g.f("\tVMOVUPS %s, %s", mem, dst)
	case g.is.name == "AVX512":
		g.f("\tVMOVUPS.Z %s, K1, %s", mem, dst)
	default:
		g.f("\tVMASKMOVPS %s, Y15, %s", mem, dst)
	}
}

func (g *gen) store(vr variant, j int, src, mem string) {
	last := j == vr.v-1 && !vr.full
	switch {
	case !last:
		g.f("\tVMOVUPS %s, %s", src, mem)
	case g.is.name == "AVX512":
		g.f("\tVMOVUPS %s, K1, %s", src, mem)
	default:
		g.f("\tVMASKMOVPS %s, Y15, %s", src, mem)
	}
}

func (g *gen) kernel(vr variant) {
	is, v, mr := g.is, vr.v, vr.mr
	acc := func(i, j int) string { return g.reg(i*v + j) }
	wreg := func(j int) string { return g.reg(mr*v + j) }
	breg := g.reg(mr*v + v)
	// Free after the reduction: the weight and broadcast registers.
	t0, t1 := wreg(0), breg
	if v >= 2 {
		t1 = wreg(1)
	}
	name := vr.name(is)
	g.f("// func %s(a *ConvArgs)", name)
	g.f("TEXT ·%s(SB), NOSPLIT, $0-8", name)
	g.f("\tMOVQ a+0(FP), AX")
	switch {
	case vr.full:
	case is.name == "AVX512":
		g.f("\tMOVQ %d(AX), DX", offMask)
		g.f("\tKMOVW DX, K1")
	default:
		g.f("\tMOVQ %d(AX), DX", offMask)
		g.f("\tNEGQ DX")
		g.f("\tLEAQ convmask<>+32(SB), BX")
		g.f("\tVMOVUPS (BX)(DX*4), Y15")
	}
	g.f("\tMOVQ %d(AX), R8", offXPix)
	g.f("\tLEAQ (R8)(R8*2), R9")
	g.f("\tLEAQ (R8)(R8*4), R11")
	g.f("\tLEAQ (R9)(R8*4), R12")
	g.f("\tMOVQ %d(AX), SI", offX)
	g.f("\tMOVQ %d(AX), DX", offY)
	g.f("\tMOVQ DX, %d(AX)", offCur)
	g.f("tile:")
	// Accumulator initialisation.
	g.f("\tCMPQ %d(AX), $0", offAccum)
	g.f("\tJNE accinit")
	g.f("\tMOVQ %d(AX), BX", offBias)
	g.f("\tTESTQ BX, BX")
	g.f("\tJZ zeroinit")
	for j := range v {
		g.load(vr, j, fmt.Sprintf("%d(BX)", j*is.bytes), acc(0, j))
	}
	for i := 1; i < mr; i++ {
		for j := range v {
			g.f("\tVMOVAPS %s, %s", acc(0, j), acc(i, j))
		}
	}
	g.f("\tJMP reduce")
	g.f("zeroinit:")
	for i := range mr {
		for j := range v {
			g.f("\tVXORPS %[1]s, %[1]s, %[1]s", acc(i, j))
		}
	}
	g.f("\tJMP reduce")
	g.f("accinit:")
	g.f("\tMOVQ %d(AX), BX", offCur)
	g.f("\tMOVQ %d(AX), DX", offYPix)
	for i := range mr {
		if i > 0 {
			g.f("\tCMPQ %d(AX), $%d", offN, i)
			g.f("\tJLE accz%d", i)
		}
		for j := range v {
			g.load(vr, j, fmt.Sprintf("%d(BX)", j*is.bytes), acc(i, j))
		}
		g.f("\tADDQ DX, BX")
	}
	g.f("\tJMP reduce")
	for i := 1; i < mr; i++ {
		g.f("accz%d:", i)
		for j := range v {
			g.f("\tVXORPS %[1]s, %[1]s, %[1]s", acc(i, j))
		}
	}
	// Reduction.
	g.f("reduce:")
	g.f("\tMOVQ %d(AX), DI", offW)
	g.f("\tMOVQ SI, R10")
	if mr > 9 {
		g.f("\tLEAQ (SI)(R8*8), R13")
		g.f("\tADDQ R8, R13")
	}
	g.f("\tMOVQ %d(AX), DX", offXStep)
	g.f("\tMOVQ %d(AX), CX", offRows)
	g.f("row:")
	g.f("\tMOVQ %d(AX), BX", offRun)
	g.f("step:")
	for j := range v {
		g.load(vr, j, fmt.Sprintf("%d(DI)", j*is.bytes), wreg(j))
	}
	for i := range mr {
		if vr.bcst {
			for j := range v {
				g.f("\tVFMADD231PS.BCST %s, %s, %s", pixel(i), wreg(j), acc(i, j))
			}
			continue
		}
		g.f("\tVBROADCASTSS %s, %s", pixel(i), breg)
		for j := range v {
			g.f("\tVFMADD231PS %s, %s, %s", breg, wreg(j), acc(i, j))
		}
	}
	g.f("\tADDQ DX, R10")
	if mr > 9 {
		g.f("\tADDQ DX, R13")
	}
	g.f("\tADDQ %d(AX), DI", offWStep)
	g.f("\tDECQ BX")
	g.f("\tJNZ step")
	g.f("\tADDQ %d(AX), R10", offXRow)
	if mr > 9 {
		g.f("\tADDQ %d(AX), R13", offXRow)
	}
	g.f("\tDECQ CX")
	g.f("\tJNZ row")
	// Activation: t0 and t1 are free now.
	g.f("\tMOVQ %d(AX), DX", offAct)
	g.f("\tCMPQ DX, $0")
	g.f("\tJEQ store")
	g.f("\tVXORPS %[1]s, %[1]s, %[1]s", t1)
	g.f("\tCMPQ DX, $1")
	g.f("\tJEQ relu")
	g.f("\tCMPQ DX, $2")
	g.f("\tJEQ relu6")
	g.f("\tCMPQ DX, $3")
	g.f("\tJEQ hswish")
	// hardsigmoid
	for i := range mr {
		for j := range v {
			a := acc(i, j)
			g.f("\tVADDPS convthree<>(SB), %s, %s", a, a)
			g.f("\tVMAXPS %s, %s, %s", t1, a, a)
			g.f("\tVMINPS convsix<>(SB), %s, %s", a, a)
			g.f("\tVMULPS convsixth<>(SB), %s, %s", a, a)
		}
	}
	g.f("\tJMP store")
	g.f("hswish:")
	for i := range mr {
		for j := range v {
			a := acc(i, j)
			g.f("\tVADDPS convthree<>(SB), %s, %s", a, t0)
			g.f("\tVMAXPS %s, %s, %s", t1, t0, t0)
			g.f("\tVMINPS convsix<>(SB), %s, %s", t0, t0)
			g.f("\tVMULPS %s, %s, %s", t0, a, a)
			g.f("\tVMULPS convsixth<>(SB), %s, %s", a, a)
		}
	}
	g.f("\tJMP store")
	g.f("relu6:")
	for i := range mr {
		for j := range v {
			g.f("\tVMINPS convsix<>(SB), %[1]s, %[1]s", acc(i, j))
		}
	}
	g.f("relu:")
	for i := range mr {
		for j := range v {
			g.f("\tVMAXPS %s, %[2]s, %[2]s", t1, acc(i, j))
		}
	}
	// Store the valid pixels, then advance to the next tile.
	g.f("store:")
	g.f("\tMOVQ %d(AX), BX", offCur)
	g.f("\tMOVQ %d(AX), DX", offYPix)
	for i := range mr {
		if i > 0 {
			g.f("\tCMPQ %d(AX), $%d", offN, i)
			g.f("\tJLE next")
		}
		for j := range v {
			g.store(vr, j, acc(i, j), fmt.Sprintf("%d(BX)", j*is.bytes))
		}
		g.f("\tADDQ DX, BX")
	}
	g.f("next:")
	g.f("\tIMUL3Q $%d, DX, DX", mr)
	g.f("\tADDQ DX, %d(AX)", offCur)
	g.f("\tIMUL3Q $%d, R8, DX", mr)
	g.f("\tADDQ DX, SI")
	g.f("\tSUBQ $%d, %d(AX)", mr, offN)
	g.f("\tCMPQ %d(AX), $0", offN)
	g.f("\tJGT tile")
	g.f("\tVZEROUPPER")
	g.f("\tRET")
	g.f("")
}

func (g *gen) consts() {
	for _, c := range []struct {
		name string
		bits uint32
	}{{"convthree", 0x40400000}, {"convsix", 0x40c00000}, {"convsixth", 0x3e2aaaab}} {
		for i := 0; i < g.is.lanes; i++ {
			g.f("DATA %s<>+%d(SB)/4, $0x%08x", c.name, 4*i, c.bits)
		}
		g.f("GLOBL %s<>(SB), RODATA|NOPTR, $%d", c.name, g.is.bytes)
	}
	if g.is.name == "AVX2" {
		for i := range 16 {
			v := "-1"
			if i >= 8 {
				v = "0"
			}
			g.f("DATA convmask<>+%d(SB)/4, $%s", 4*i, v)
		}
		g.f("GLOBL convmask<>(SB), RODATA|NOPTR, $64")
	}
	g.f("")
}

func main() {
	var bind bytes.Buffer
	fmt.Fprintf(&bind, "// Code generated by conv_gen.go; DO NOT EDIT.\n\n//go:build gc && !purego && !noasm\n\npackage asm\n\n")
	fmt.Fprintf(&bind, "// Byte offsets of ConvArgs' fields, as the assembly reads them.\nconst (\n")
	for _, o := range []struct {
		n string
		v int
	}{{"X", offX}, {"W", offW}, {"Y", offY}, {"Bias", offBias}, {"N", offN}, {"XPix", offXPix}, {"XStep", offXStep},
		{"XRow", offXRow}, {"Rows", offRows}, {"Run", offRun}, {"WStep", offWStep}, {"YPix", offYPix}, {"Mask", offMask},
		{"Act", offAct}, {"Accum", offAccum}, {"Cur", offCur}} {
		fmt.Fprintf(&bind, "convOff%s = %d\n", o.n, o.v)
	}
	fmt.Fprintf(&bind, ")\n\n")
	for _, is := range []isa{avx2, avx512} {
		g := &gen{is: is}
		g.f("// Code generated by conv_gen.go; DO NOT EDIT.")
		g.f("")
		g.f("//go:build gc && !purego && !noasm")
		g.f("")
		g.f("#include \"textflag.h\"")
		g.f("")
		g.f("// Direct convolution row kernels, %s: see conv_gen.go for the loop,", is.name)
		g.f("// the tile shapes and the register map.")
		g.f("")
		g.consts()
		fmt.Fprintf(&bind, "// conv%sTiles lists the %s kernels.\nvar conv%sTiles = []ConvTile{\n", is.name, is.name, is.name)
		for _, vr := range variants[is.name] {
			g.kernel(vr)
			fmt.Fprintf(&bind, "{%d, %d, %v, %s},\n", vr.v, vr.mr, vr.full, vr.name(is))
		}
		fmt.Fprintf(&bind, "}\n\n")
		if err := os.WriteFile(is.file, g.Bytes(), 0o644); err != nil {
			panic(err)
		}
	}
	for _, is := range []isa{avx2, avx512} {
		for _, vr := range variants[is.name] {
			fmt.Fprintf(&bind, "//go:noescape\nfunc %s(a *ConvArgs)\n\n", vr.name(is))
		}
	}
	src, err := format.Source(bind.Bytes())
	if err != nil {
		panic(err)
	}
	if err := os.WriteFile("conv_amd64.go", src, 0o644); err != nil {
		panic(err)
	}
}
