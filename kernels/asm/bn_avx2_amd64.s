//go:build gc && !purego && !noasm

// Batch norm's fused kernels, AVX2+FMA (8 lanes; w is a multiple of 8 and
// package kernels does the remaining channels in Go). Contracts and Go
// loops: bn_avx512_amd64.s. z = t + x·s with one FMA and the activation
// macros of the activation kernels (act_avx2_amd64.h), so y and g round as
// Affine followed by those kernels.
// Register map: R8 rows left, R10 ld in bytes, BX byte offset in the row,
// CX channels left; activation constants in Y6, Y7, Y12-Y15 (and Y5, a
// temporary of HSWISH_G); the per-channel vectors are read from L1.

#include "textflag.h"
#include "eltwise_amd64.h"
#include "act_avx2_amd64.h"

// func NAME(rows, w, ld int, x, s, t, y []float32): x SI, s R11, t R12,
// y DI; two vectors at a time, then one.
#define BNACT(NAME, OP) \
TEXT NAME(SB), NOSPLIT, $0-120; \
	FWD_CONSTS; \
	MOVQ rows+0(FP), R8; \
	MOVQ ld+16(FP), R10; \
	SHLQ $2, R10; \
	MOVQ x_base+24(FP), SI; \
	MOVQ s_base+48(FP), R11; \
	MOVQ t_base+72(FP), R12; \
	MOVQ y_base+96(FP), DI; \
row: \
	TESTQ R8, R8; \
	JZ    done; \
	XORQ  BX, BX; \
	MOVQ  w+8(FP), CX; \
v2: \
	CMPQ        CX, $16; \
	JLT         v1; \
	STREAMPF(0, SI); \
	VMOVUPS     (SI)(BX*1), Y8; \
	VMOVUPS     32(SI)(BX*1), Y9; \
	VMOVUPS     (R12)(BX*1), Y0; \
	VMOVUPS     32(R12)(BX*1), Y1; \
	VFMADD231PS (R11)(BX*1), Y8, Y0; \
	VFMADD231PS 32(R11)(BX*1), Y9, Y1; \
	OP(Y0, Y4); \
	OP(Y1, Y4); \
	VMOVUPS     Y0, (DI)(BX*1); \
	VMOVUPS     Y1, 32(DI)(BX*1); \
	ADDQ        $64, BX; \
	SUBQ        $16, CX; \
	JMP         v2; \
v1: \
	CMPQ        CX, $8; \
	JLT         next; \
	STREAMPF(0, SI); \
	VMOVUPS     (SI)(BX*1), Y8; \
	VMOVUPS     (R12)(BX*1), Y0; \
	VFMADD231PS (R11)(BX*1), Y8, Y0; \
	OP(Y0, Y4); \
	VMOVUPS     Y0, (DI)(BX*1); \
	ADDQ        $32, BX; \
	SUBQ        $8, CX; \
	JMP         v1; \
next: \
	ADDQ R10, SI; \
	ADDQ R10, DI; \
	DECQ R8; \
	JMP  row; \
done: \
	VZEROUPPER; \
	RET

// One row's contribution to Y8 (Σg) and Y9 (Σg·(x − m)) at offset BX: x row
// XP, dy row DP; x in XR, dy in DR, z and g in ZR, temporary Y3; s R11,
// t R14, m R15.
#define SUMROW(OPG, XP, DP, XR, DR, ZR) \
	VMOVUPS     (XP)(BX*1), XR; \
	VMOVUPS     (DP)(BX*1), DR; \
	VMOVUPS     (R14)(BX*1), ZR; \
	VFMADD231PS (R11)(BX*1), XR, ZR; \
	OPG(ZR, DR, Y3); \
	VADDPS      ZR, Y8, Y8; \
	VSUBPS      (R15)(BX*1), XR, XR; \
	VFMADD231PS XR, ZR, Y9

// func NAME(rows, w, ld int, x, dy, s, t, m, accG, accGX []float32):
// two rows at a time (one load and store of the accumulators per two
// rows), then the last row. x rows SI (second row AX), dy rows R12 (DX),
// accG DI, accGX R9.
#define BNSUMS(NAME, OPG, CONSTS) \
TEXT NAME(SB), NOSPLIT, $0-192; \
	CONSTS; \
	MOVQ rows+0(FP), R8; \
	MOVQ ld+16(FP), R10; \
	SHLQ $2, R10; \
	MOVQ x_base+24(FP), SI; \
	MOVQ dy_base+48(FP), R12; \
	MOVQ s_base+72(FP), R11; \
	MOVQ t_base+96(FP), R14; \
	MOVQ m_base+120(FP), R15; \
	MOVQ accG_base+144(FP), DI; \
	MOVQ accGX_base+168(FP), R9; \
pair: \
	CMPQ R8, $2; \
	JLT  single; \
	LEAQ (SI)(R10*1), AX; \
	LEAQ (R12)(R10*1), DX; \
	XORQ BX, BX; \
	MOVQ w+8(FP), CX; \
pv: \
	CMPQ    CX, $8; \
	JLT     pnext; \
	VMOVUPS (DI)(BX*1), Y8; \
	VMOVUPS (R9)(BX*1), Y9; \
	SUMROW(OPG, SI, R12, Y0, Y1, Y2); \
	SUMROW(OPG, AX, DX, Y10, Y11, Y4); \
	VMOVUPS Y8, (DI)(BX*1); \
	VMOVUPS Y9, (R9)(BX*1); \
	ADDQ    $32, BX; \
	SUBQ    $8, CX; \
	JMP     pv; \
pnext: \
	LEAQ (SI)(R10*2), SI; \
	LEAQ (R12)(R10*2), R12; \
	SUBQ $2, R8; \
	JMP  pair; \
single: \
	TESTQ R8, R8; \
	JZ    done; \
	XORQ  BX, BX; \
	MOVQ  w+8(FP), CX; \
sv: \
	CMPQ    CX, $8; \
	JLT     done; \
	VMOVUPS (DI)(BX*1), Y8; \
	VMOVUPS (R9)(BX*1), Y9; \
	SUMROW(OPG, SI, R12, Y0, Y1, Y2); \
	VMOVUPS Y8, (DI)(BX*1); \
	VMOVUPS Y9, (R9)(BX*1); \
	ADDQ    $32, BX; \
	SUBQ    $8, CX; \
	JMP     sv; \
done: \
	VZEROUPPER; \
	RET

// One row of BNGRAD at offset AX: x in Y0, dy in Y1, z and g in Y2 (g
// stored), temporary Y3; the sums into GR and GXR. Prefetches as COLPF in
// eltwise_amd64.h: the benchmark quoted at the AVX-512 GRADROW ran this
// kernel 1.15× as fast with them (on the AVX-512 machine; no AVX2-only
// one to hand).
#define GRADROW(OPG, GR, GXR) \
	COLPF; \
	VMOVUPS     (SI)(AX*1), Y0; \
	VMOVUPS     (R12)(AX*1), Y1; \
	VMOVUPS     (R14)(BX*1), Y2; \
	VFMADD231PS (R11)(BX*1), Y0, Y2; \
	OPG(Y2, Y1, Y3); \
	VMOVUPS     Y2, (R13)(AX*1); \
	VADDPS      Y2, GR, GR; \
	VSUBPS      (R15)(BX*1), Y0, Y0; \
	VFMADD231PS Y0, Y2, GXR

// func NAME(rows, w, ld int, x, dy, s, t, m, g, accG, accGX []float32):
// BNSums that also stores g (which may alias dy); for each vector of
// channels, down the rows, alternating two pairs of sums (Y8, Y9 and Y10,
// Y11). x SI, dy R12, g R13 (AX: the row's offset), s R11, t R14, m R15,
// accG DI, accGX R9, BX the vector's offset, CX channels left, DX rows
// left.
#define BNGRAD(NAME, OPG, CONSTS) \
TEXT NAME(SB), NOSPLIT, $0-216; \
	CONSTS; \
	MOVQ rows+0(FP), R8; \
	MOVQ ld+16(FP), R10; \
	SHLQ $2, R10; \
	MOVQ x_base+24(FP), SI; \
	MOVQ dy_base+48(FP), R12; \
	MOVQ s_base+72(FP), R11; \
	MOVQ t_base+96(FP), R14; \
	MOVQ m_base+120(FP), R15; \
	MOVQ g_base+144(FP), R13; \
	MOVQ accG_base+168(FP), DI; \
	MOVQ accGX_base+192(FP), R9; \
	MOVQ w+8(FP), CX; \
	XORQ BX, BX; \
vec: \
	CMPQ    CX, $8; \
	JLT     done; \
	VMOVUPS (DI)(BX*1), Y8; \
	VMOVUPS (R9)(BX*1), Y9; \
	VXORPS  Y10, Y10, Y10; \
	VXORPS  Y11, Y11, Y11; \
	MOVQ    BX, AX; \
	MOVQ    R8, DX; \
pair: \
	CMPQ DX, $2; \
	JLT  one; \
	GRADROW(OPG, Y8, Y9); \
	ADDQ R10, AX; \
	GRADROW(OPG, Y10, Y11); \
	ADDQ R10, AX; \
	SUBQ $2, DX; \
	JMP  pair; \
one: \
	TESTQ DX, DX; \
	JZ    vdone; \
	GRADROW(OPG, Y8, Y9); \
vdone: \
	VADDPS  Y10, Y8, Y8; \
	VADDPS  Y11, Y9, Y9; \
	VMOVUPS Y8, (DI)(BX*1); \
	VMOVUPS Y9, (R9)(BX*1); \
	ADDQ    $32, BX; \
	SUBQ    $8, CX; \
	JMP     vec; \
done: \
	VZEROUPPER; \
	RET

// func NAME(rows, w, ld int, x, dy, s, t, m, sa, sb, tt, dx []float32):
// one vector at a time; s R11, t R12, m R13, sa R14, sb R15, tt AX (set
// after the constants, which use AX), x SI, dy DX, dx DI.
#define BNDX(NAME, OPG, CONSTS) \
TEXT NAME(SB), NOSPLIT, $0-240; \
	CONSTS; \
	MOVQ rows+0(FP), R8; \
	MOVQ ld+16(FP), R10; \
	SHLQ $2, R10; \
	MOVQ x_base+24(FP), SI; \
	MOVQ dy_base+48(FP), DX; \
	MOVQ s_base+72(FP), R11; \
	MOVQ t_base+96(FP), R12; \
	MOVQ m_base+120(FP), R13; \
	MOVQ sa_base+144(FP), R14; \
	MOVQ sb_base+168(FP), R15; \
	MOVQ tt_base+192(FP), AX; \
	MOVQ dx_base+216(FP), DI; \
row: \
	TESTQ R8, R8; \
	JZ    done; \
	XORQ  BX, BX; \
	MOVQ  w+8(FP), CX; \
v1: \
	CMPQ        CX, $8; \
	JLT         next; \
	VMOVUPS     (SI)(BX*1), Y0; \
	VMOVUPS     (DX)(BX*1), Y1; \
	VMOVUPS     (R12)(BX*1), Y2; \
	VFMADD231PS (R11)(BX*1), Y0, Y2; \
	OPG(Y2, Y1, Y3); \
	VSUBPS      (R13)(BX*1), Y0, Y0; \
	VMOVUPS     (AX)(BX*1), Y4; \
	VFMADD231PS (R15)(BX*1), Y0, Y4; \
	VFMADD231PS (R14)(BX*1), Y2, Y4; \
	VMOVUPS     Y4, (DI)(BX*1); \
	ADDQ        $32, BX; \
	SUBQ        $8, CX; \
	JMP         v1; \
next: \
	ADDQ R10, SI; \
	ADDQ R10, DX; \
	ADDQ R10, DI; \
	DECQ R8; \
	JMP  row; \
done: \
	VZEROUPPER; \
	RET

// func BNActReluAVX2(rows, w, ld int, x, s, t, y []float32)
BNACT(·BNActReluAVX2, RELU)

// func BNActRelu6AVX2(rows, w, ld int, x, s, t, y []float32)
BNACT(·BNActRelu6AVX2, RELU6)

// func BNActHardswishAVX2(rows, w, ld int, x, s, t, y []float32)
BNACT(·BNActHardswishAVX2, HSWISH)

// func BNActHardsigmoidAVX2(rows, w, ld int, x, s, t, y []float32)
BNACT(·BNActHardsigmoidAVX2, HSIG)

// func BNSumsReluAVX2(rows, w, ld int, x, dy, s, t, m, accG, accGX []float32)
BNSUMS(·BNSumsReluAVX2, RELU_G, GRAD_CONSTS)

// func BNSumsRelu6AVX2(rows, w, ld int, x, dy, s, t, m, accG, accGX []float32)
BNSUMS(·BNSumsRelu6AVX2, RELU6_G, GRAD_CONSTS)

// func BNSumsHardswishAVX2(rows, w, ld int, x, dy, s, t, m, accG, accGX []float32)
BNSUMS(·BNSumsHardswishAVX2, HSWISH_G, HSWISH_G_CONSTS)

// func BNSumsHardsigmoidAVX2(rows, w, ld int, x, dy, s, t, m, accG, accGX []float32)
BNSUMS(·BNSumsHardsigmoidAVX2, HSIG_G, GRAD_CONSTS)

// func BNDxReluAVX2(rows, w, ld int, x, dy, s, t, m, sa, sb, tt, dx []float32)
BNDX(·BNDxReluAVX2, RELU_G, GRAD_CONSTS)

// func BNDxRelu6AVX2(rows, w, ld int, x, dy, s, t, m, sa, sb, tt, dx []float32)
BNDX(·BNDxRelu6AVX2, RELU6_G, GRAD_CONSTS)

// func BNDxHardswishAVX2(rows, w, ld int, x, dy, s, t, m, sa, sb, tt, dx []float32)
BNDX(·BNDxHardswishAVX2, HSWISH_G, HSWISH_G_CONSTS)

// func BNDxHardsigmoidAVX2(rows, w, ld int, x, dy, s, t, m, sa, sb, tt, dx []float32)
BNDX(·BNDxHardsigmoidAVX2, HSIG_G, GRAD_CONSTS)

// func BNStatsAVX2(rows, w, ld int, x, k, accS, accQ []float32)
// Two rows at a time, then the last; x rows SI (second AX), k R11, accS
// DI, accQ R12.
TEXT ·BNStatsAVX2(SB), NOSPLIT, $0-120
	MOVQ rows+0(FP), R8
	MOVQ ld+16(FP), R10
	SHLQ $2, R10
	MOVQ x_base+24(FP), SI
	MOVQ k_base+48(FP), R11
	MOVQ accS_base+72(FP), DI
	MOVQ accQ_base+96(FP), R12

spair:
	CMPQ R8, $2
	JLT  ssingle
	LEAQ (SI)(R10*1), AX
	XORQ BX, BX
	MOVQ w+8(FP), CX

spv:
	CMPQ        CX, $8
	JLT         spnext
	VMOVUPS     (R11)(BX*1), Y2
	VMOVUPS     (SI)(BX*1), Y0
	VMOVUPS     (AX)(BX*1), Y1
	VSUBPS      Y2, Y0, Y0
	VSUBPS      Y2, Y1, Y1
	VMOVUPS     (DI)(BX*1), Y3
	VMOVUPS     (R12)(BX*1), Y4
	VADDPS      Y0, Y3, Y3
	VFMADD231PS Y0, Y0, Y4
	VADDPS      Y1, Y3, Y3
	VFMADD231PS Y1, Y1, Y4
	VMOVUPS     Y3, (DI)(BX*1)
	VMOVUPS     Y4, (R12)(BX*1)
	ADDQ        $32, BX
	SUBQ        $8, CX
	JMP         spv

spnext:
	LEAQ (SI)(R10*2), SI
	SUBQ $2, R8
	JMP  spair

ssingle:
	TESTQ R8, R8
	JZ    sdone
	XORQ  BX, BX
	MOVQ  w+8(FP), CX

ssv:
	CMPQ        CX, $8
	JLT         sdone
	VMOVUPS     (R11)(BX*1), Y2
	VMOVUPS     (SI)(BX*1), Y0
	VSUBPS      Y2, Y0, Y0
	VMOVUPS     (DI)(BX*1), Y3
	VMOVUPS     (R12)(BX*1), Y4
	VADDPS      Y0, Y3, Y3
	VFMADD231PS Y0, Y0, Y4
	VMOVUPS     Y3, (DI)(BX*1)
	VMOVUPS     Y4, (R12)(BX*1)
	ADDQ        $32, BX
	SUBQ        $8, CX
	JMP         ssv

sdone:
	VZEROUPPER
	RET

// func BNGradReluAVX2(rows, w, ld int, x, dy, s, t, m, g, accG, accGX []float32)
BNGRAD(·BNGradReluAVX2, RELU_G, GRAD_CONSTS)

// func BNGradRelu6AVX2(rows, w, ld int, x, dy, s, t, m, g, accG, accGX []float32)
BNGRAD(·BNGradRelu6AVX2, RELU6_G, GRAD_CONSTS)

// func BNGradHardswishAVX2(rows, w, ld int, x, dy, s, t, m, g, accG, accGX []float32)
BNGRAD(·BNGradHardswishAVX2, HSWISH_G, HSWISH_G_CONSTS)

// func BNGradHardsigmoidAVX2(rows, w, ld int, x, dy, s, t, m, g, accG, accGX []float32)
BNGRAD(·BNGradHardsigmoidAVX2, HSIG_G, GRAD_CONSTS)
