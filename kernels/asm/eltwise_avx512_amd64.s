//go:build gc && !purego && !noasm

// Elementwise and per-channel primitives, AVX-512 (16 lanes; any length, the
// last partial vector of a row or slice through mask K1). Go loops: the
// references in eltwise_ref.go. Flat ops use the templates and register map
// of eltwise_amd64.h (alpha in Z16).
//
// Row primitives walk `rows` rows of w floats, ld floats apart:
//   Affine, Affine2: row by row, 4 vectors then single vectors then the
//     masked tail per row; the per-channel vectors are re-read from L1.
//   ColSum, ColDot, ColSumDot: four rows at a time (one accumulator load/store per four
//     rows), each vector of channels in turn, then the remaining rows singly.
// Register map of the row primitives:
//   R8 rows left  R9 w  R10 ld in bytes  R13 3·ld in bytes  CX channels left
//   SI, DX row pointers  DI output row  BX byte offset in the row
//   R11, R12, R14, R15 per-channel vectors  K1 mask of the last w%16 channels

#include "textflag.h"
#include "eltwise_amd64.h"

#define ALPHA VBROADCASTSS alpha+0(FP), Z16
#define ADD(A, B, T) VADDPS B, A, A
#define AXPY(A, B, T) VFMADD213PS B, Z16, A
#define SCALE(X, T) VMULPS Z16, X, X

#define ARGS_AXPY \
	MOVQ x_base+8(FP), SI; \
	MOVQ y_base+32(FP), DX; \
	MOVQ y_base+32(FP), DI; \
	MOVQ y_len+40(FP), CX

#define NOINIT

// func AddAVX512(a, b, y []float32)
FLAT2_512(·AddAVX512, 72, ARGS_A_B_Y, NOINIT, ADD)

// func AxpyAVX512(alpha float32, x, y []float32)
FLAT2_512(·AxpyAVX512, 56, ARGS_AXPY, ALPHA, AXPY)

// func ScaleAVX512(alpha float32, x, y []float32)
FLAT1_512(·ScaleAVX512, 56, ARGS_AL_X_Y, ALPHA, SCALE)

// func AffineAVX512(rows, w, ld int, x, s, t, y []float32)
// y[r,j] = x[r,j]·s[j] + t[j]
TEXT ·AffineAVX512(SB), NOSPLIT, $0-120
	MOVQ rows+0(FP), R8
	MOVQ w+8(FP), R9
	MOVQ ld+16(FP), R10
	SHLQ $2, R10
	MOVQ x_base+24(FP), SI
	MOVQ s_base+48(FP), R11
	MOVQ t_base+72(FP), R12
	MOVQ y_base+96(FP), DI
	TAILMASK512

row:
	TESTQ R8, R8
	JZ    done
	XORQ  BX, BX
	MOVQ  R9, CX

v4:
	CMPQ        CX, $64
	JLT         v1
	VMOVUPS     (SI)(BX*1), Z0
	VMOVUPS     64(SI)(BX*1), Z1
	VMOVUPS     128(SI)(BX*1), Z2
	VMOVUPS     192(SI)(BX*1), Z3
	VMOVUPS     (R12)(BX*1), Z4
	VMOVUPS     64(R12)(BX*1), Z5
	VMOVUPS     128(R12)(BX*1), Z6
	VMOVUPS     192(R12)(BX*1), Z7
	VFMADD231PS (R11)(BX*1), Z0, Z4
	VFMADD231PS 64(R11)(BX*1), Z1, Z5
	VFMADD231PS 128(R11)(BX*1), Z2, Z6
	VFMADD231PS 192(R11)(BX*1), Z3, Z7
	VMOVUPS     Z4, (DI)(BX*1)
	VMOVUPS     Z5, 64(DI)(BX*1)
	VMOVUPS     Z6, 128(DI)(BX*1)
	VMOVUPS     Z7, 192(DI)(BX*1)
	ADDQ        $256, BX
	SUBQ        $64, CX
	JMP         v4

v1:
	CMPQ        CX, $16
	JLT         tail
	VMOVUPS     (SI)(BX*1), Z0
	VMOVUPS     (R12)(BX*1), Z4
	VFMADD231PS (R11)(BX*1), Z0, Z4
	VMOVUPS     Z4, (DI)(BX*1)
	ADDQ        $64, BX
	SUBQ        $16, CX
	JMP         v1

tail:
	TESTQ       CX, CX
	JZ          next
	VMOVUPS.Z   (SI)(BX*1), K1, Z0
	VMOVUPS.Z   (R12)(BX*1), K1, Z4
	VMOVUPS.Z   (R11)(BX*1), K1, Z5
	VFMADD231PS Z5, Z0, Z4
	VMOVUPS     Z4, K1, (DI)(BX*1)

next:
	ADDQ R10, SI
	ADDQ R10, DI
	DECQ R8
	JMP  row

done:
	VZEROUPPER
	RET

// func Affine2AVX512(rows, w, ld int, a, b, m, sa, sb, t, y []float32)
// y[r,j] = a[r,j]·sa[j] + (b[r,j] − m[j])·sb[j] + t[j]
TEXT ·Affine2AVX512(SB), NOSPLIT, $0-192
	MOVQ rows+0(FP), R8
	MOVQ w+8(FP), R9
	MOVQ ld+16(FP), R10
	SHLQ $2, R10
	MOVQ a_base+24(FP), SI
	MOVQ b_base+48(FP), DX
	MOVQ m_base+72(FP), R11
	MOVQ sa_base+96(FP), R12
	MOVQ sb_base+120(FP), R13
	MOVQ t_base+144(FP), R14
	MOVQ y_base+168(FP), DI
	TAILMASK512

row:
	TESTQ R8, R8
	JZ    done
	XORQ  BX, BX
	MOVQ  R9, CX

v2:
	CMPQ        CX, $32
	JLT         v1
	STREAMPF(0, DX)
	STREAMPF(0, SI)
	VMOVUPS     (DX)(BX*1), Z0
	VMOVUPS     64(DX)(BX*1), Z1
	VSUBPS      (R11)(BX*1), Z0, Z0
	VSUBPS      64(R11)(BX*1), Z1, Z1
	VMOVUPS     (R14)(BX*1), Z4
	VMOVUPS     64(R14)(BX*1), Z5
	VFMADD231PS (R13)(BX*1), Z0, Z4
	VFMADD231PS 64(R13)(BX*1), Z1, Z5
	STREAMPF(64, DX)
	STREAMPF(64, SI)
	VMOVUPS     (SI)(BX*1), Z2
	VMOVUPS     64(SI)(BX*1), Z3
	VFMADD231PS (R12)(BX*1), Z2, Z4
	VFMADD231PS 64(R12)(BX*1), Z3, Z5
	VMOVUPS     Z4, (DI)(BX*1)
	VMOVUPS     Z5, 64(DI)(BX*1)
	ADDQ        $128, BX
	SUBQ        $32, CX
	JMP         v2

v1:
	CMPQ        CX, $16
	JLT         tail
	STREAMPF(0, DX)
	STREAMPF(0, SI)
	VMOVUPS     (DX)(BX*1), Z0
	VSUBPS      (R11)(BX*1), Z0, Z0
	VMOVUPS     (R14)(BX*1), Z4
	VFMADD231PS (R13)(BX*1), Z0, Z4
	VMOVUPS     (SI)(BX*1), Z2
	VFMADD231PS (R12)(BX*1), Z2, Z4
	VMOVUPS     Z4, (DI)(BX*1)
	ADDQ        $64, BX
	SUBQ        $16, CX
	JMP         v1

tail:
	TESTQ       CX, CX
	JZ          next
	STREAMPF(0, DX)
	STREAMPF(0, SI)
	VMOVUPS.Z   (DX)(BX*1), K1, Z0
	VMOVUPS.Z   (R11)(BX*1), K1, Z1
	VSUBPS      Z1, Z0, Z0
	VMOVUPS.Z   (R14)(BX*1), K1, Z4
	VMOVUPS.Z   (R13)(BX*1), K1, Z1
	VFMADD231PS Z1, Z0, Z4
	VMOVUPS.Z   (SI)(BX*1), K1, Z2
	VMOVUPS.Z   (R12)(BX*1), K1, Z1
	VFMADD231PS Z1, Z2, Z4
	VMOVUPS     Z4, K1, (DI)(BX*1)

next:
	ADDQ R10, SI
	ADDQ R10, DX
	ADDQ R10, DI
	DECQ R8
	JMP  row

done:
	VZEROUPPER
	RET

// func ColSumAVX512(rows, w, ld int, x, acc []float32)
// acc[j] += Σ_r x[r,j]
TEXT ·ColSumAVX512(SB), NOSPLIT, $0-72
	MOVQ rows+0(FP), R8
	MOVQ w+8(FP), R9
	MOVQ ld+16(FP), R10
	SHLQ $2, R10
	LEAQ (R10)(R10*2), R13
	MOVQ x_base+24(FP), SI
	MOVQ acc_base+48(FP), R11
	TAILMASK512

quad:
	CMPQ R8, $4
	JLT  single
	MOVQ SI, DX
	MOVQ R11, DI
	MOVQ R9, CX

qv:
	CMPQ    CX, $16
	JLT     qtail
	VMOVUPS (DX), Z0
	VMOVUPS (DX)(R10*2), Z1
	VADDPS  (DX)(R10*1), Z0, Z0
	VADDPS  (DX)(R13*1), Z1, Z1
	VADDPS  Z1, Z0, Z0
	VADDPS  (DI), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, DX
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     qv

qtail:
	TESTQ     CX, CX
	JZ        qnext
	VMOVUPS.Z (DX), K1, Z0
	VMOVUPS.Z (DX)(R10*1), K1, Z1
	VMOVUPS.Z (DX)(R10*2), K1, Z2
	VMOVUPS.Z (DX)(R13*1), K1, Z3
	VMOVUPS.Z (DI), K1, Z4
	VADDPS    Z1, Z0, Z0
	VADDPS    Z3, Z2, Z2
	VADDPS    Z2, Z0, Z0
	VADDPS    Z4, Z0, Z0
	VMOVUPS   Z0, K1, (DI)

qnext:
	LEAQ (SI)(R10*4), SI
	SUBQ $4, R8
	JMP  quad

single:
	TESTQ R8, R8
	JZ    done
	MOVQ  SI, DX
	MOVQ  R11, DI
	MOVQ  R9, CX

sv:
	CMPQ    CX, $16
	JLT     stail
	VMOVUPS (DX), Z0
	VADDPS  (DI), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, DX
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     sv

stail:
	TESTQ     CX, CX
	JZ        snext
	VMOVUPS.Z (DX), K1, Z0
	VMOVUPS.Z (DI), K1, Z4
	VADDPS    Z4, Z0, Z0
	VMOVUPS   Z0, K1, (DI)

snext:
	ADDQ R10, SI
	DECQ R8
	JMP  single

done:
	VZEROUPPER
	RET

// func ColDotAVX512(rows, w, ld int, a, ma, b, mb, acc []float32)
// acc[j] += Σ_r (a[r,j] − ma[j])·(b[r,j] − mb[j])
// Extra registers: SI a row, R12 b row, AX/DX a/b pointers within the rows,
// BX byte offset into the vectors ma (R11), mb (R14), acc (R15).
TEXT ·ColDotAVX512(SB), NOSPLIT, $0-144
	MOVQ rows+0(FP), R8
	MOVQ w+8(FP), R9
	MOVQ ld+16(FP), R10
	SHLQ $2, R10
	LEAQ (R10)(R10*2), R13
	MOVQ a_base+24(FP), SI
	MOVQ ma_base+48(FP), R11
	MOVQ b_base+72(FP), R12
	MOVQ mb_base+96(FP), R14
	MOVQ acc_base+120(FP), R15
	TAILMASK512

quad:
	CMPQ R8, $4
	JLT  single
	MOVQ SI, AX
	MOVQ R12, DX
	XORQ BX, BX
	MOVQ R9, CX

qv:
	CMPQ CX, $16
	JLT  qtail
	VMOVUPS   (R11)(BX*1), Z9
	VMOVUPS   (R14)(BX*1), Z8
	VMOVUPS   (DX), Z0
	VMOVUPS   (DX)(R10*1), Z1
	VMOVUPS   (DX)(R10*2), Z2
	VMOVUPS   (DX)(R13*1), Z3
	VMOVUPS   (AX), Z4
	VMOVUPS   (AX)(R10*1), Z5
	VMOVUPS   (AX)(R10*2), Z6
	VMOVUPS   (AX)(R13*1), Z7
	VSUBPS      Z8, Z0, Z0
	VSUBPS      Z8, Z1, Z1
	VSUBPS      Z8, Z2, Z2
	VSUBPS      Z8, Z3, Z3
	VSUBPS      Z9, Z4, Z4
	VSUBPS      Z9, Z5, Z5
	VSUBPS      Z9, Z6, Z6
	VSUBPS      Z9, Z7, Z7
	VMULPS      Z4, Z0, Z0
	VMULPS      Z5, Z1, Z1
	VFMADD231PS Z6, Z2, Z0
	VFMADD231PS Z7, Z3, Z1
	VADDPS      Z1, Z0, Z0
	VADDPS      (R15)(BX*1), Z0, Z0
	VMOVUPS     Z0, (R15)(BX*1)
	ADDQ $64, AX
	ADDQ $64, DX
	ADDQ $64, BX
	SUBQ $16, CX
	JMP  qv

qtail:
	TESTQ CX, CX
	JZ    qnext
	VMOVUPS.Z   (R11)(BX*1), K1, Z9
	VMOVUPS.Z   (R14)(BX*1), K1, Z8
	VMOVUPS.Z   (DX), K1, Z0
	VMOVUPS.Z   (DX)(R10*1), K1, Z1
	VMOVUPS.Z   (DX)(R10*2), K1, Z2
	VMOVUPS.Z   (DX)(R13*1), K1, Z3
	VMOVUPS.Z   (AX), K1, Z4
	VMOVUPS.Z   (AX)(R10*1), K1, Z5
	VMOVUPS.Z   (AX)(R10*2), K1, Z6
	VMOVUPS.Z   (AX)(R13*1), K1, Z7
	VSUBPS      Z8, Z0, Z0
	VSUBPS      Z8, Z1, Z1
	VSUBPS      Z8, Z2, Z2
	VSUBPS      Z8, Z3, Z3
	VSUBPS      Z9, Z4, Z4
	VSUBPS      Z9, Z5, Z5
	VSUBPS      Z9, Z6, Z6
	VSUBPS      Z9, Z7, Z7
	VMULPS      Z4, Z0, Z0
	VMULPS      Z5, Z1, Z1
	VFMADD231PS Z6, Z2, Z0
	VFMADD231PS Z7, Z3, Z1
	VADDPS      Z1, Z0, Z0
	VMOVUPS.Z   (R15)(BX*1), K1, Z4
	VADDPS      Z4, Z0, Z0
	VMOVUPS     Z0, K1, (R15)(BX*1)

qnext:
	LEAQ (SI)(R10*4), SI
	LEAQ (R12)(R10*4), R12
	SUBQ $4, R8
	JMP  quad

single:
	TESTQ R8, R8
	JZ    done
	MOVQ  SI, AX
	MOVQ  R12, DX
	XORQ  BX, BX
	MOVQ  R9, CX

sv:
	CMPQ CX, $16
	JLT  stail
	VMOVUPS   (R11)(BX*1), Z9
	VMOVUPS   (R14)(BX*1), Z8
	VMOVUPS   (DX), Z0
	VMOVUPS   (AX), Z4
	VSUBPS      Z8, Z0, Z0
	VSUBPS      Z9, Z4, Z4
	VMOVUPS   (R15)(BX*1), Z1
	VFMADD231PS Z4, Z0, Z1
	VMOVUPS     Z1, (R15)(BX*1)
	ADDQ $64, AX
	ADDQ $64, DX
	ADDQ $64, BX
	SUBQ $16, CX
	JMP  sv

stail:
	TESTQ CX, CX
	JZ    snext
	VMOVUPS.Z   (R11)(BX*1), K1, Z9
	VMOVUPS.Z   (R14)(BX*1), K1, Z8
	VMOVUPS.Z   (DX), K1, Z0
	VMOVUPS.Z   (AX), K1, Z4
	VSUBPS      Z8, Z0, Z0
	VSUBPS      Z9, Z4, Z4
	VMOVUPS.Z   (R15)(BX*1), K1, Z1
	VFMADD231PS Z4, Z0, Z1
	VMOVUPS     Z1, K1, (R15)(BX*1)

snext:
	ADDQ R10, SI
	ADDQ R10, R12
	DECQ R8
	JMP  single

done:
	VZEROUPPER
	RET

// func ColSumDotAVX512(rows, w, ld int, a, b, mb, accA, accB []float32)
// accA[j] += Σ_r a[r,j];  accB[j] += Σ_r a[r,j]·(b[r,j] − mb[j])
// (the two batch-norm gradient sums in one pass over a = dy and b = x).
// Registers as ColDot, with mb in R14, accA in R11, accB in R15.
TEXT ·ColSumDotAVX512(SB), NOSPLIT, $0-144
	MOVQ rows+0(FP), R8
	MOVQ w+8(FP), R9
	MOVQ ld+16(FP), R10
	SHLQ $2, R10
	LEAQ (R10)(R10*2), R13
	MOVQ a_base+24(FP), SI
	MOVQ b_base+48(FP), R12
	MOVQ mb_base+72(FP), R14
	MOVQ accA_base+96(FP), R11
	MOVQ accB_base+120(FP), R15
	TAILMASK512

quad:
	CMPQ R8, $4
	JLT  single
	MOVQ SI, AX
	MOVQ R12, DX
	XORQ BX, BX
	MOVQ R9, CX

qv:
	CMPQ CX, $16
	JLT  qtail
	VMOVUPS   (R14)(BX*1), Z8
	VMOVUPS   (DX), Z0
	VMOVUPS   (DX)(R10*1), Z1
	VMOVUPS   (DX)(R10*2), Z2
	VMOVUPS   (DX)(R13*1), Z3
	VMOVUPS   (AX), Z4
	VMOVUPS   (AX)(R10*1), Z5
	VMOVUPS   (AX)(R10*2), Z6
	VMOVUPS   (AX)(R13*1), Z7
	VSUBPS      Z8, Z0, Z0
	VSUBPS      Z8, Z1, Z1
	VSUBPS      Z8, Z2, Z2
	VSUBPS      Z8, Z3, Z3
	VMULPS      Z4, Z0, Z0
	VMULPS      Z5, Z1, Z1
	VFMADD231PS Z6, Z2, Z0
	VFMADD231PS Z7, Z3, Z1
	VADDPS      Z5, Z4, Z4
	VADDPS      Z7, Z6, Z6
	VADDPS      Z1, Z0, Z0
	VADDPS      Z6, Z4, Z4
	VADDPS      (R11)(BX*1), Z4, Z4
	VADDPS      (R15)(BX*1), Z0, Z0
	VMOVUPS     Z4, (R11)(BX*1)
	VMOVUPS     Z0, (R15)(BX*1)
	ADDQ $64, AX
	ADDQ $64, DX
	ADDQ $64, BX
	SUBQ $16, CX
	JMP  qv

qtail:
	TESTQ CX, CX
	JZ    qnext
	VMOVUPS.Z   (R14)(BX*1), K1, Z8
	VMOVUPS.Z   (DX), K1, Z0
	VMOVUPS.Z   (DX)(R10*1), K1, Z1
	VMOVUPS.Z   (DX)(R10*2), K1, Z2
	VMOVUPS.Z   (DX)(R13*1), K1, Z3
	VMOVUPS.Z   (AX), K1, Z4
	VMOVUPS.Z   (AX)(R10*1), K1, Z5
	VMOVUPS.Z   (AX)(R10*2), K1, Z6
	VMOVUPS.Z   (AX)(R13*1), K1, Z7
	VSUBPS      Z8, Z0, Z0
	VSUBPS      Z8, Z1, Z1
	VSUBPS      Z8, Z2, Z2
	VSUBPS      Z8, Z3, Z3
	VMULPS      Z4, Z0, Z0
	VMULPS      Z5, Z1, Z1
	VFMADD231PS Z6, Z2, Z0
	VFMADD231PS Z7, Z3, Z1
	VADDPS      Z5, Z4, Z4
	VADDPS      Z7, Z6, Z6
	VADDPS      Z1, Z0, Z0
	VADDPS      Z6, Z4, Z4
	VMOVUPS.Z   (R11)(BX*1), K1, Z9
	VMOVUPS.Z   (R15)(BX*1), K1, Z10
	VADDPS      Z9, Z4, Z4
	VADDPS      Z10, Z0, Z0
	VMOVUPS     Z4, K1, (R11)(BX*1)
	VMOVUPS     Z0, K1, (R15)(BX*1)

qnext:
	LEAQ (SI)(R10*4), SI
	LEAQ (R12)(R10*4), R12
	SUBQ $4, R8
	JMP  quad

single:
	TESTQ R8, R8
	JZ    done
	MOVQ  SI, AX
	MOVQ  R12, DX
	XORQ  BX, BX
	MOVQ  R9, CX

sv:
	CMPQ CX, $16
	JLT  stail
	VMOVUPS   (R14)(BX*1), Z8
	VMOVUPS   (DX), Z0
	VMOVUPS   (AX), Z4
	VSUBPS      Z8, Z0, Z0
	VMOVUPS   (R11)(BX*1), Z9
	VMOVUPS   (R15)(BX*1), Z10
	VADDPS      Z4, Z9, Z9
	VFMADD231PS Z4, Z0, Z10
	VMOVUPS     Z9, (R11)(BX*1)
	VMOVUPS     Z10, (R15)(BX*1)
	ADDQ $64, AX
	ADDQ $64, DX
	ADDQ $64, BX
	SUBQ $16, CX
	JMP  sv

stail:
	TESTQ CX, CX
	JZ    snext
	VMOVUPS.Z   (R14)(BX*1), K1, Z8
	VMOVUPS.Z   (DX), K1, Z0
	VMOVUPS.Z   (AX), K1, Z4
	VSUBPS      Z8, Z0, Z0
	VMOVUPS.Z   (R11)(BX*1), K1, Z9
	VMOVUPS.Z   (R15)(BX*1), K1, Z10
	VADDPS      Z4, Z9, Z9
	VFMADD231PS Z4, Z0, Z10
	VMOVUPS     Z9, K1, (R11)(BX*1)
	VMOVUPS     Z10, K1, (R15)(BX*1)

snext:
	ADDQ R10, SI
	ADDQ R10, R12
	DECQ R8
	JMP  single

done:
	VZEROUPPER
	RET
