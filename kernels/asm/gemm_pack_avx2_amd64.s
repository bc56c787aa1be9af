//go:build gc && !purego && !noasm

#include "textflag.h"

// func GemmPackBT8AVX2(kc int, b []float32, ldb int, dst []float32, ldd int, alpha float32)
//
// Packs 8 columns of op(B) = Bᵀ (B stored n×k, row j = column j of op(B))
// for the micro-kernels, kc/8·8 k steps (the caller packs the rest):
//
//	for p := 0; p < kc/8*8; p++ { for j := 0; j < 8; j++ {
//		dst[p*ldd+j] = alpha · b[j*ldb+p]
//	}}
//
// one 8×8 transpose per 8 k steps: rows r0..r7 (Y0..Y7, 8 k steps of one
// column each) are interleaved pairwise (VUNPCKLPS/HPS → Y8..Y15), then by
// pairs of pairs (VSHUFPS → Y0..Y7), then 128-bit halves are exchanged
// (VPERM2F128) into one k step each, scaled by alpha (Y9) and stored.
// SI b, R8 ldb, R9 3·ldb, R10 5·ldb, R11 7·ldb; DI dst, R12 ldd (bytes);
// CX blocks left.
TEXT ·GemmPackBT8AVX2(SB), NOSPLIT, $0-76
	MOVQ kc+0(FP), CX
	SHRQ $3, CX
	JZ done
	MOVQ b_base+8(FP), SI
	MOVQ ldb+32(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R9
	LEAQ (R8)(R8*4), R10
	LEAQ (R9)(R8*4), R11
	MOVQ dst_base+40(FP), DI
	MOVQ ldd+64(FP), R12
	SHLQ $2, R12

loop:
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(R8*1), Y1
	VMOVUPS (SI)(R8*2), Y2
	VMOVUPS (SI)(R9*1), Y3
	VMOVUPS (SI)(R8*4), Y4
	VMOVUPS (SI)(R10*1), Y5
	VMOVUPS (SI)(R9*2), Y6
	VMOVUPS (SI)(R11*1), Y7
	VUNPCKLPS Y1, Y0, Y8  // a0 b0 a1 b1 | a4 b4 a5 b5
	VUNPCKHPS Y1, Y0, Y9  // a2 b2 a3 b3 | a6 b6 a7 b7
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15
	VSHUFPS $0x44, Y10, Y8, Y0 // a0 b0 c0 d0 | a4 b4 c4 d4
	VSHUFPS $0xEE, Y10, Y8, Y1 // a1 b1 c1 d1 | a5 b5 c5 d5
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xEE, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4 // e0 f0 g0 h0 | e4 f4 g4 h4
	VSHUFPS $0xEE, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xEE, Y15, Y13, Y7
	VBROADCASTSS alpha+72(FP), Y9

#define STORE(lo, hi, sel) \
	VPERM2F128 $sel, hi, lo, Y8; \
	VMULPS Y9, Y8, Y8; \
	VMOVUPS Y8, (DI); \
	ADDQ R12, DI

	STORE(Y0, Y4, 0x20) // k step 0: a0 .. h0
	STORE(Y1, Y5, 0x20)
	STORE(Y2, Y6, 0x20)
	STORE(Y3, Y7, 0x20)
	STORE(Y0, Y4, 0x31) // k step 4
	STORE(Y1, Y5, 0x31)
	STORE(Y2, Y6, 0x31)
	STORE(Y3, Y7, 0x31)

	ADDQ $32, SI
	DECQ CX
	JNZ loop
	VZEROUPPER

done:
	RET
