//go:build gc && !purego && !noasm

// Elementwise and per-channel primitives, AVX2+FMA (8 lanes). Lengths and
// row widths w are multiples of 8: the caller does the rest in Go. Go loops:
// the references in eltwise_ref.go. Flat ops use the templates and register
// map of eltwise_amd64.h (alpha in Y15).
//
// Row primitives walk `rows` rows of w floats, ld floats apart:
//   Affine, Affine2: row by row, 4 (Affine2: 2) vectors then single vectors;
//     the per-channel vectors are re-read from L1.
//   ColSum, ColDot, ColSumDot: four rows at a time (one accumulator load/store per four
//     rows), each vector of channels in turn, then the remaining rows singly.
// Register map of the row primitives:
//   R8 rows left  R9 w  R10 ld in bytes  R13 3·ld in bytes  CX channels left
//   SI, DX row pointers  DI output row  BX byte offset in the row
//   R11, R12, R14, R15 per-channel vectors

#include "textflag.h"
#include "eltwise_amd64.h"

#define ALPHA VBROADCASTSS alpha+0(FP), Y15
#define ADD(A, B, T) VADDPS B, A, A
#define AXPY(A, B, T) VFMADD213PS B, Y15, A
#define SCALE(X, T) VMULPS Y15, X, X

#define ARGS_AXPY \
	MOVQ x_base+8(FP), SI; \
	MOVQ y_base+32(FP), DX; \
	MOVQ y_base+32(FP), DI; \
	MOVQ y_len+40(FP), CX

#define NOINIT

// func AddAVX2(a, b, y []float32)
FLAT2_256(·AddAVX2, 72, ARGS_A_B_Y, NOINIT, ADD)

// func AxpyAVX2(alpha float32, x, y []float32)
FLAT2_256(·AxpyAVX2, 56, ARGS_AXPY, ALPHA, AXPY)

// func ScaleAVX2(alpha float32, x, y []float32)
FLAT1_256(·ScaleAVX2, 56, ARGS_AL_X_Y, ALPHA, SCALE)

// func AffineAVX2(rows, w, ld int, x, s, t, y []float32)
// y[r,j] = x[r,j]·s[j] + t[j]
TEXT ·AffineAVX2(SB), NOSPLIT, $0-120
	MOVQ rows+0(FP), R8
	MOVQ w+8(FP), R9
	MOVQ ld+16(FP), R10
	SHLQ $2, R10
	MOVQ x_base+24(FP), SI
	MOVQ s_base+48(FP), R11
	MOVQ t_base+72(FP), R12
	MOVQ y_base+96(FP), DI

row:
	TESTQ R8, R8
	JZ    done
	XORQ  BX, BX
	MOVQ  R9, CX

v4:
	CMPQ        CX, $32
	JLT         v1
	VMOVUPS     (SI)(BX*1), Y0
	VMOVUPS     32(SI)(BX*1), Y1
	VMOVUPS     64(SI)(BX*1), Y2
	VMOVUPS     96(SI)(BX*1), Y3
	VMOVUPS     (R12)(BX*1), Y4
	VMOVUPS     32(R12)(BX*1), Y5
	VMOVUPS     64(R12)(BX*1), Y6
	VMOVUPS     96(R12)(BX*1), Y7
	VFMADD231PS (R11)(BX*1), Y0, Y4
	VFMADD231PS 32(R11)(BX*1), Y1, Y5
	VFMADD231PS 64(R11)(BX*1), Y2, Y6
	VFMADD231PS 96(R11)(BX*1), Y3, Y7
	VMOVUPS     Y4, (DI)(BX*1)
	VMOVUPS     Y5, 32(DI)(BX*1)
	VMOVUPS     Y6, 64(DI)(BX*1)
	VMOVUPS     Y7, 96(DI)(BX*1)
	ADDQ        $128, BX
	SUBQ        $32, CX
	JMP         v4

v1:
	CMPQ        CX, $8
	JLT         next
	VMOVUPS     (SI)(BX*1), Y0
	VMOVUPS     (R12)(BX*1), Y4
	VFMADD231PS (R11)(BX*1), Y0, Y4
	VMOVUPS     Y4, (DI)(BX*1)
	ADDQ        $32, BX
	SUBQ        $8, CX
	JMP         v1

next:
	ADDQ R10, SI
	ADDQ R10, DI
	DECQ R8
	JMP  row

done:
	VZEROUPPER
	RET

// func Affine2AVX2(rows, w, ld int, a, b, m, sa, sb, t, y []float32)
// y[r,j] = a[r,j]·sa[j] + (b[r,j] − m[j])·sb[j] + t[j]
TEXT ·Affine2AVX2(SB), NOSPLIT, $0-192
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

row:
	TESTQ R8, R8
	JZ    done
	XORQ  BX, BX
	MOVQ  R9, CX

v2:
	CMPQ        CX, $16
	JLT         v1
	STREAMPF(0, DX)
	STREAMPF(0, SI)
	VMOVUPS     (DX)(BX*1), Y0
	VMOVUPS     32(DX)(BX*1), Y1
	VSUBPS      (R11)(BX*1), Y0, Y0
	VSUBPS      32(R11)(BX*1), Y1, Y1
	VMOVUPS     (R14)(BX*1), Y4
	VMOVUPS     32(R14)(BX*1), Y5
	VFMADD231PS (R13)(BX*1), Y0, Y4
	VFMADD231PS 32(R13)(BX*1), Y1, Y5
	VMOVUPS     (SI)(BX*1), Y2
	VMOVUPS     32(SI)(BX*1), Y3
	VFMADD231PS (R12)(BX*1), Y2, Y4
	VFMADD231PS 32(R12)(BX*1), Y3, Y5
	VMOVUPS     Y4, (DI)(BX*1)
	VMOVUPS     Y5, 32(DI)(BX*1)
	ADDQ        $64, BX
	SUBQ        $16, CX
	JMP         v2

v1:
	CMPQ        CX, $8
	JLT         next
	STREAMPF(0, DX)
	STREAMPF(0, SI)
	VMOVUPS     (DX)(BX*1), Y0
	VSUBPS      (R11)(BX*1), Y0, Y0
	VMOVUPS     (R14)(BX*1), Y4
	VFMADD231PS (R13)(BX*1), Y0, Y4
	VMOVUPS     (SI)(BX*1), Y2
	VFMADD231PS (R12)(BX*1), Y2, Y4
	VMOVUPS     Y4, (DI)(BX*1)
	ADDQ        $32, BX
	SUBQ        $8, CX
	JMP         v1

next:
	ADDQ R10, SI
	ADDQ R10, DX
	ADDQ R10, DI
	DECQ R8
	JMP  row

done:
	VZEROUPPER
	RET

// func ColSumAVX2(rows, w, ld int, x, acc []float32)
// acc[j] += Σ_r x[r,j]
TEXT ·ColSumAVX2(SB), NOSPLIT, $0-72
	MOVQ rows+0(FP), R8
	MOVQ w+8(FP), R9
	MOVQ ld+16(FP), R10
	SHLQ $2, R10
	LEAQ (R10)(R10*2), R13
	MOVQ x_base+24(FP), SI
	MOVQ acc_base+48(FP), R11

quad:
	CMPQ R8, $4
	JLT  single
	MOVQ SI, DX
	MOVQ R11, DI
	MOVQ R9, CX

qv:
	CMPQ    CX, $8
	JLT     qnext
	VMOVUPS (DX), Y0
	VMOVUPS (DX)(R10*2), Y1
	VADDPS  (DX)(R10*1), Y0, Y0
	VADDPS  (DX)(R13*1), Y1, Y1
	VADDPS  Y1, Y0, Y0
	VADDPS  (DI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, DX
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     qv

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
	CMPQ    CX, $8
	JLT     snext
	VMOVUPS (DX), Y0
	VADDPS  (DI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, DX
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     sv

snext:
	ADDQ R10, SI
	DECQ R8
	JMP  single

done:
	VZEROUPPER
	RET

// func ColDotAVX2(rows, w, ld int, a, ma, b, mb, acc []float32)
// acc[j] += Σ_r (a[r,j] − ma[j])·(b[r,j] − mb[j])
// Extra registers: SI a row, R12 b row, AX/DX a/b pointers within the rows,
// BX byte offset into the vectors ma (R11), mb (R14), acc (R15).
TEXT ·ColDotAVX2(SB), NOSPLIT, $0-144
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

quad:
	CMPQ R8, $4
	JLT  single
	MOVQ SI, AX
	MOVQ R12, DX
	XORQ BX, BX
	MOVQ R9, CX

qv:
	CMPQ CX, $8
	JLT  qnext
	VMOVUPS   (R11)(BX*1), Y9
	VMOVUPS   (R14)(BX*1), Y8
	VMOVUPS   (DX), Y0
	VMOVUPS   (DX)(R10*1), Y1
	VMOVUPS   (DX)(R10*2), Y2
	VMOVUPS   (DX)(R13*1), Y3
	VMOVUPS   (AX), Y4
	VMOVUPS   (AX)(R10*1), Y5
	VMOVUPS   (AX)(R10*2), Y6
	VMOVUPS   (AX)(R13*1), Y7
	VSUBPS      Y8, Y0, Y0
	VSUBPS      Y8, Y1, Y1
	VSUBPS      Y8, Y2, Y2
	VSUBPS      Y8, Y3, Y3
	VSUBPS      Y9, Y4, Y4
	VSUBPS      Y9, Y5, Y5
	VSUBPS      Y9, Y6, Y6
	VSUBPS      Y9, Y7, Y7
	VMULPS      Y4, Y0, Y0
	VMULPS      Y5, Y1, Y1
	VFMADD231PS Y6, Y2, Y0
	VFMADD231PS Y7, Y3, Y1
	VADDPS      Y1, Y0, Y0
	VADDPS      (R15)(BX*1), Y0, Y0
	VMOVUPS     Y0, (R15)(BX*1)
	ADDQ $32, AX
	ADDQ $32, DX
	ADDQ $32, BX
	SUBQ $8, CX
	JMP  qv

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
	CMPQ CX, $8
	JLT  snext
	VMOVUPS   (R11)(BX*1), Y9
	VMOVUPS   (R14)(BX*1), Y8
	VMOVUPS   (DX), Y0
	VMOVUPS   (AX), Y4
	VSUBPS      Y8, Y0, Y0
	VSUBPS      Y9, Y4, Y4
	VMOVUPS   (R15)(BX*1), Y1
	VFMADD231PS Y4, Y0, Y1
	VMOVUPS     Y1, (R15)(BX*1)
	ADDQ $32, AX
	ADDQ $32, DX
	ADDQ $32, BX
	SUBQ $8, CX
	JMP  sv

snext:
	ADDQ R10, SI
	ADDQ R10, R12
	DECQ R8
	JMP  single

done:
	VZEROUPPER
	RET

// func ColSumDotAVX2(rows, w, ld int, a, b, mb, accA, accB []float32)
// accA[j] += Σ_r a[r,j];  accB[j] += Σ_r a[r,j]·(b[r,j] − mb[j])
// (the two batch-norm gradient sums in one pass over a = dy and b = x).
// Registers as ColDot, with mb in R14, accA in R11, accB in R15.
TEXT ·ColSumDotAVX2(SB), NOSPLIT, $0-144
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

quad:
	CMPQ R8, $4
	JLT  single
	MOVQ SI, AX
	MOVQ R12, DX
	XORQ BX, BX
	MOVQ R9, CX

qv:
	CMPQ CX, $8
	JLT  qnext
	VMOVUPS   (R14)(BX*1), Y8
	VMOVUPS   (DX), Y0
	VMOVUPS   (DX)(R10*1), Y1
	VMOVUPS   (DX)(R10*2), Y2
	VMOVUPS   (DX)(R13*1), Y3
	VMOVUPS   (AX), Y4
	VMOVUPS   (AX)(R10*1), Y5
	VMOVUPS   (AX)(R10*2), Y6
	VMOVUPS   (AX)(R13*1), Y7
	VSUBPS      Y8, Y0, Y0
	VSUBPS      Y8, Y1, Y1
	VSUBPS      Y8, Y2, Y2
	VSUBPS      Y8, Y3, Y3
	VMULPS      Y4, Y0, Y0
	VMULPS      Y5, Y1, Y1
	VFMADD231PS Y6, Y2, Y0
	VFMADD231PS Y7, Y3, Y1
	VADDPS      Y5, Y4, Y4
	VADDPS      Y7, Y6, Y6
	VADDPS      Y1, Y0, Y0
	VADDPS      Y6, Y4, Y4
	VADDPS      (R11)(BX*1), Y4, Y4
	VADDPS      (R15)(BX*1), Y0, Y0
	VMOVUPS     Y4, (R11)(BX*1)
	VMOVUPS     Y0, (R15)(BX*1)
	ADDQ $32, AX
	ADDQ $32, DX
	ADDQ $32, BX
	SUBQ $8, CX
	JMP  qv

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
	CMPQ CX, $8
	JLT  snext
	VMOVUPS   (R14)(BX*1), Y8
	VMOVUPS   (DX), Y0
	VMOVUPS   (AX), Y4
	VSUBPS      Y8, Y0, Y0
	VMOVUPS   (R11)(BX*1), Y9
	VMOVUPS   (R15)(BX*1), Y10
	VADDPS      Y4, Y9, Y9
	VFMADD231PS Y4, Y0, Y10
	VMOVUPS     Y9, (R11)(BX*1)
	VMOVUPS     Y10, (R15)(BX*1)
	ADDQ $32, AX
	ADDQ $32, DX
	ADDQ $32, BX
	SUBQ $8, CX
	JMP  sv

snext:
	ADDQ R10, SI
	ADDQ R10, R12
	DECQ R8
	JMP  single

done:
	VZEROUPPER
	RET
