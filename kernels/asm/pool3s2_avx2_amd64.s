//go:build gc && !purego && !noasm

#include "textflag.h"

// Max pooling 3×3 stride 2, separable, for a run of n interior output pixels
// whose three window rows are all inside the image (AVX2, c a multiple
// of 8). The column maxima are shared: the last column of one window is
// the first of the next, so each output loads 6 vectors per channel vector
// instead of 9.
//
//	for ch := 0; ch < c; ch += 32 (then 8) {
//		prev = colmax(x, 0)                   // max of the 3 rows at column 0
//		for j := 0; j < n; j++ {
//			a, b = colmax(x, 2j+1), colmax(x, 2j+2)
//			y[j·ystep+ch] = max(prev, a, b); prev = b
//		}
//	}
//
// Registers: SI x at channel ch, DI y at channel ch, R8 xrow bytes, R9 pixel
// step 4·c, R10 ystep bytes, R11 column pointer, R12 output pointer, CX
// pixels left, BX channel, DX c; Y0-Y3 prev, Y4-Y7 a, Y8-Y11 b.

// COLMAX4(off, y0, y1, y2, y3) sets y0-y3 to the 3-row maxima of the 4
// vectors at off(R11).
#define COLMAX4(off, y0, y1, y2, y3) \
	VMOVUPS off(R11), y0 \
	VMOVUPS off+32(R11), y1 \
	VMOVUPS off+64(R11), y2 \
	VMOVUPS off+96(R11), y3 \
	VMAXPS off(R11)(R8*1), y0, y0 \
	VMAXPS off+32(R11)(R8*1), y1, y1 \
	VMAXPS off+64(R11)(R8*1), y2, y2 \
	VMAXPS off+96(R11)(R8*1), y3, y3 \
	VMAXPS off(R11)(R8*2), y0, y0 \
	VMAXPS off+32(R11)(R8*2), y1, y1 \
	VMAXPS off+64(R11)(R8*2), y2, y2 \
	VMAXPS off+96(R11)(R8*2), y3, y3

#define COLMAX1(off, y) \
	VMOVUPS off(R11), y \
	VMAXPS off(R11)(R8*1), y, y \
	VMAXPS off(R11)(R8*2), y, y

// func maxPool3s2AVX2(x, y *float32, n, c, xrow, ystep int)
TEXT ·maxPool3s2AVX2(SB), NOSPLIT, $0-48
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
	LEAQ 32(BX), AX
	CMPQ AX, DX
	JGT  blk1
	LEAQ (SI)(BX*4), R11
	LEAQ (DI)(BX*4), R12
	MOVQ n+16(FP), CX
	COLMAX4(0, Y0, Y1, Y2, Y3)
pix4:
	ADDQ R9, R11
	COLMAX4(0, Y4, Y5, Y6, Y7)
	ADDQ R9, R11
	COLMAX4(0, Y8, Y9, Y10, Y11)
	VMAXPS Y4, Y0, Y0
	VMAXPS Y5, Y1, Y1
	VMAXPS Y6, Y2, Y2
	VMAXPS Y7, Y3, Y3
	VMAXPS Y8, Y0, Y0
	VMAXPS Y9, Y1, Y1
	VMAXPS Y10, Y2, Y2
	VMAXPS Y11, Y3, Y3
	VMOVUPS Y0, (R12)
	VMOVUPS Y1, 32(R12)
	VMOVUPS Y2, 64(R12)
	VMOVUPS Y3, 96(R12)
	VMOVAPS Y8, Y0
	VMOVAPS Y9, Y1
	VMOVAPS Y10, Y2
	VMOVAPS Y11, Y3
	ADDQ R10, R12
	DECQ CX
	JNZ  pix4
	ADDQ $32, BX
	JMP  blk4
blk1:
	CMPQ BX, DX
	JGE  done
	LEAQ (SI)(BX*4), R11
	LEAQ (DI)(BX*4), R12
	MOVQ n+16(FP), CX
	COLMAX1(0, Y0)
pix1:
	ADDQ R9, R11
	COLMAX1(0, Y4)
	ADDQ R9, R11
	COLMAX1(0, Y8)
	VMAXPS Y4, Y0, Y0
	VMAXPS Y8, Y0, Y0
	VMOVUPS Y0, (R12)
	VMOVAPS Y8, Y0
	ADDQ R10, R12
	DECQ CX
	JNZ  pix1
	ADDQ $8, BX
	JMP  blk1
done:
	VZEROUPPER
	RET
