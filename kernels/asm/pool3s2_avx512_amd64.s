//go:build gc && !purego && !noasm

#include "textflag.h"

// Max pooling 3×3 stride 2, separable, for a run of n interior output pixels
// whose three window rows are all inside the image (AVX-512, c a multiple
// of 16). The column maxima are shared: the last column of one window is
// the first of the next, so each output loads 6 vectors per channel vector
// instead of 9.
//
//	for ch := 0; ch < c; ch += 64 (then 16) {
//		prev = colmax(x, 0)                   // max of the 3 rows at column 0
//		for j := 0; j < n; j++ {
//			a, b = colmax(x, 2j+1), colmax(x, 2j+2)
//			y[j·ystep+ch] = max(prev, a, b); prev = b
//		}
//	}
//
// Registers: SI x at channel ch, DI y at channel ch, R8 xrow bytes, R9 pixel
// step 4·c, R10 ystep bytes, R11 column pointer, R12 output pointer, CX
// pixels left, BX channel, DX c; Z0-Z3 prev, Z4-Z7 a, Z8-Z11 b.

// COLMAX4(off, z0, z1, z2, z3) sets z0-z3 to the 3-row maxima of the 4
// vectors at off(R11).
#define COLMAX4(off, z0, z1, z2, z3) \
	VMOVUPS off(R11), z0 \
	VMOVUPS off+64(R11), z1 \
	VMOVUPS off+128(R11), z2 \
	VMOVUPS off+192(R11), z3 \
	VMAXPS off(R11)(R8*1), z0, z0 \
	VMAXPS off+64(R11)(R8*1), z1, z1 \
	VMAXPS off+128(R11)(R8*1), z2, z2 \
	VMAXPS off+192(R11)(R8*1), z3, z3 \
	VMAXPS off(R11)(R8*2), z0, z0 \
	VMAXPS off+64(R11)(R8*2), z1, z1 \
	VMAXPS off+128(R11)(R8*2), z2, z2 \
	VMAXPS off+192(R11)(R8*2), z3, z3

#define COLMAX1(off, z) \
	VMOVUPS off(R11), z \
	VMAXPS off(R11)(R8*1), z, z \
	VMAXPS off(R11)(R8*2), z, z

// func maxPool3s2AVX512(x, y *float32, n, c, xrow, ystep int)
TEXT ·maxPool3s2AVX512(SB), NOSPLIT, $0-48
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ c+24(FP), DX
	MOVQ xrow+32(FP), R8
	SHLQ $2, R8
	LEAQ (DX*4), R9
	MOVQ ystep+40(FP), R10
	SHLQ $2, R10
	XORQ BX, BX
blk4:
	LEAQ 64(BX), AX
	CMPQ AX, DX
	JGT  blk1
	LEAQ (SI)(BX*4), R11
	LEAQ (DI)(BX*4), R12
	MOVQ n+16(FP), CX
	COLMAX4(0, Z0, Z1, Z2, Z3)
pix4:
	ADDQ R9, R11
	COLMAX4(0, Z4, Z5, Z6, Z7)
	ADDQ R9, R11
	COLMAX4(0, Z8, Z9, Z10, Z11)
	VMAXPS Z4, Z0, Z0
	VMAXPS Z5, Z1, Z1
	VMAXPS Z6, Z2, Z2
	VMAXPS Z7, Z3, Z3
	VMAXPS Z8, Z0, Z0
	VMAXPS Z9, Z1, Z1
	VMAXPS Z10, Z2, Z2
	VMAXPS Z11, Z3, Z3
	VMOVUPS Z0, (R12)
	VMOVUPS Z1, 64(R12)
	VMOVUPS Z2, 128(R12)
	VMOVUPS Z3, 192(R12)
	VMOVAPS Z8, Z0
	VMOVAPS Z9, Z1
	VMOVAPS Z10, Z2
	VMOVAPS Z11, Z3
	ADDQ R10, R12
	DECQ CX
	JNZ  pix4
	ADDQ $64, BX
	JMP  blk4
blk1:
	CMPQ BX, DX
	JGE  done
	LEAQ (SI)(BX*4), R11
	LEAQ (DI)(BX*4), R12
	MOVQ n+16(FP), CX
	COLMAX1(0, Z0)
pix1:
	ADDQ R9, R11
	COLMAX1(0, Z4)
	ADDQ R9, R11
	COLMAX1(0, Z8)
	VMAXPS Z4, Z0, Z0
	VMAXPS Z8, Z0, Z0
	VMOVUPS Z0, (R12)
	VMOVAPS Z8, Z0
	ADDQ R10, R12
	DECQ CX
	JNZ  pix1
	ADDQ $16, BX
	JMP  blk1
done:
	VZEROUPPER
	RET
