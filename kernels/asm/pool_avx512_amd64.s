//go:build gc && !purego && !noasm

#include "textflag.h"

// AVX-512 pooling row kernels (see pool.go for the contract and the Go
// reference of each). Vectorised across channels, 16 lanes a vector:
//
//	for j := 0; j < n; j++ {             // output pixels of the run
//		for ch := 0; ch < c; ch += 16 {   // 64 at a time in the forward main block
//			v = x[offs[0]+ch]; for t in 1..nwin: v = op(v, x[offs[t]+ch])
//			y[ch] = v (·scale for the average)
//		}
//		x += xstep; y += ystep
//	}
//
// The channel tail (c mod 16) runs under the k-mask K1, whose masked-off
// lanes neither load (fault suppression) nor store.
//
// Registers: SI window origin of pixel j, DI its output, R8 offs, DX nwin,
// R9 pixels left, CX c, R10/R11 xstep/ystep in bytes, BX channel, AX window
// position t, R12 SI+4·ch, R13 offs[t]; Z0-Z3 accumulators, Z31 scale,
// K1 tail mask, K5 the current vector's lane mask.

// TAILMASK sets K1 to the low c mod 16 lanes (clobbers AX, CX).
#define TAILMASK(cArg) \
	MOVQ cArg, CX \
	ANDQ $15, CX  \
	MOVL $1, AX   \
	SHLL CX, AX   \
	DECL AX       \
	KMOVW AX, K1

// LANEMASK sets K5 to all lanes if ch+16 ≤ c, else to K1 (clobbers AX).
#define LANEMASK \
	KXNORW K5, K5, K5 \
	LEAQ 16(BX), AX   \
	CMPQ AX, CX       \
	JLE  2(PC)        \
	KMOVW K1, K5

// Forward: OP is VMAXPS or VADDPS, FIN finishes Z0 (scale for the average).
#define POOLFWD(OP, FIN) \
	TAILMASK(c+40(FP))      \
	MOVQ x+0(FP), SI        \
	MOVQ y+8(FP), DI        \
	MOVQ offs+16(FP), R8    \
	MOVQ nwin+24(FP), DX    \
	MOVQ n+32(FP), R9       \
	MOVQ c+40(FP), CX       \
	MOVQ xstep+48(FP), R10  \
	MOVQ ystep+56(FP), R11  \
	SHLQ $2, R10            \
	SHLQ $2, R11            \
	TESTQ R9, R9            \
	JLE  done               \
col:                        \
	XORQ BX, BX             \
blk4:                       \
	LEAQ 64(BX), AX         \
	CMPQ AX, CX             \
	JGT  blk1               \
	LEAQ (SI)(BX*4), R12    \
	MOVQ (R8), R13          \
	VMOVUPS (R12)(R13*4), Z0    \
	VMOVUPS 64(R12)(R13*4), Z1  \
	VMOVUPS 128(R12)(R13*4), Z2 \
	VMOVUPS 192(R12)(R13*4), Z3 \
	MOVQ $1, AX             \
	CMPQ AX, DX             \
	JGE  st4                \
win4:                       \
	MOVQ (R8)(AX*8), R13    \
	OP (R12)(R13*4), Z0, Z0    \
	OP 64(R12)(R13*4), Z1, Z1  \
	OP 128(R12)(R13*4), Z2, Z2 \
	OP 192(R12)(R13*4), Z3, Z3 \
	INCQ AX                 \
	CMPQ AX, DX             \
	JLT  win4               \
st4:                        \
	FIN(Z0)                 \
	FIN(Z1)                 \
	FIN(Z2)                 \
	FIN(Z3)                 \
	VMOVUPS Z0, (DI)(BX*4)    \
	VMOVUPS Z1, 64(DI)(BX*4)  \
	VMOVUPS Z2, 128(DI)(BX*4) \
	VMOVUPS Z3, 192(DI)(BX*4) \
	ADDQ $64, BX            \
	JMP  blk4               \
blk1:                       \
	CMPQ BX, CX             \
	JGE  next               \
	LANEMASK                \
	LEAQ (SI)(BX*4), R12    \
	MOVQ (R8), R13          \
	VMOVUPS.Z (R12)(R13*4), K5, Z0 \
	MOVQ $1, AX             \
	CMPQ AX, DX             \
	JGE  st1                \
win1:                       \
	MOVQ (R8)(AX*8), R13    \
	OP (R12)(R13*4), Z0, K5, Z0 \
	INCQ AX                 \
	CMPQ AX, DX             \
	JLT  win1               \
st1:                        \
	FIN(Z0)                 \
	VMOVUPS Z0, K5, (DI)(BX*4) \
	ADDQ $16, BX            \
	JMP  blk1               \
next:                       \
	ADDQ R10, SI            \
	ADDQ R11, DI            \
	DECQ R9                 \
	JNZ  col                \
done:                       \
	VZEROUPPER              \
	RET

#define NOFIN(z)
#define SCALE(z) VMULPS Z31, z, z

// func maxPoolAVX512(x, y *float32, offs *int, nwin, n, c, xstep, ystep int)
TEXT ·maxPoolAVX512(SB), NOSPLIT, $0-64
	POOLFWD(VMAXPS, NOFIN)

// func avgPoolAVX512(x, y *float32, offs *int, nwin, n, c, xstep, ystep int, scale float32)
TEXT ·avgPoolAVX512(SB), NOSPLIT, $0-68
	VBROADCASTSS scale+64(FP), Z31
	POOLFWD(VADDPS, SCALE)

// func maxPoolBackAVX512(x, dy, dx *float32, offs *int, nwin, n, c, xstep, ystep int)
//
//	for each pixel j, channel vector ch (lane mask K5):
//		m = max_t x[offs[t]+ch]; found = ~K5
//		for t: win = (x[offs[t]+ch] == m) &^ found; dx[offs[t]+ch] += dy[ch] on win; found |= win
//
// Registers: SI/DI x/dx window origin, R12 dy of pixel j, R9/R10 x/dx + 4·ch,
// Z0 max, Z1 dy, K2 found, K3 equal, K4 win; pixel count, xstep and ystep
// stay in their argument slots (steps rescaled to bytes in place).
TEXT ·maxPoolBackAVX512(SB), NOSPLIT, $0-72
	TAILMASK(c+48(FP))
	MOVQ x+0(FP), SI
	MOVQ dy+8(FP), R12
	MOVQ dx+16(FP), DI
	MOVQ offs+24(FP), R8
	MOVQ nwin+32(FP), DX
	MOVQ c+48(FP), CX
	SHLQ $2, xstep+56(FP)
	SHLQ $2, ystep+64(FP)
	CMPQ n+40(FP), $0
	JLE  mbdone
mbcol:
	XORQ BX, BX
mbvec:
	CMPQ BX, CX
	JGE  mbnext
	LANEMASK
	LEAQ (SI)(BX*4), R9
	LEAQ (DI)(BX*4), R10
	MOVQ (R8), R13
	VMOVUPS.Z (R9)(R13*4), K5, Z0
	MOVQ $1, AX
	CMPQ AX, DX
	JGE  mbpass2
mbmax:
	MOVQ (R8)(AX*8), R13
	VMAXPS (R9)(R13*4), Z0, K5, Z0
	INCQ AX
	CMPQ AX, DX
	JLT  mbmax
mbpass2:
	VMOVUPS.Z (R12)(BX*4), K5, Z1
	KNOTW K5, K2
	XORQ AX, AX
mbwin:
	MOVQ (R8)(AX*8), R13
	VCMPPS $0, (R9)(R13*4), Z0, K5, K3
	KANDNW K3, K2, K4
	KORW K3, K2, K2
	VADDPS.Z (R10)(R13*4), Z1, K4, Z2
	VMOVUPS Z2, K4, (R10)(R13*4)
	INCQ AX
	CMPQ AX, DX
	JLT  mbwin
	ADDQ $16, BX
	JMP  mbvec
mbnext:
	ADDQ xstep+56(FP), SI
	ADDQ xstep+56(FP), DI
	ADDQ ystep+64(FP), R12
	DECQ n+40(FP)
	JNZ  mbcol
mbdone:
	VZEROUPPER
	RET

// func avgPoolBackAVX512(dy, dx *float32, offs *int, nwin, n, c, xstep, ystep int, scale float32)
//
//	for each pixel j, channel vector ch: g = scale·dy[ch]; for t: dx[offs[t]+ch] += g
//
// Registers: R12 dy of pixel j, DI dx window origin, R10 DI+4·ch, Z1 g.
TEXT ·avgPoolBackAVX512(SB), NOSPLIT, $0-68
	TAILMASK(c+40(FP))
	MOVQ dy+0(FP), R12
	MOVQ dx+8(FP), DI
	MOVQ offs+16(FP), R8
	MOVQ nwin+24(FP), DX
	MOVQ n+32(FP), R9
	MOVQ c+40(FP), CX
	MOVQ xstep+48(FP), R11
	SHLQ $2, R11
	SHLQ $2, ystep+56(FP)
	VBROADCASTSS scale+64(FP), Z31
	TESTQ R9, R9
	JLE  abdone
abcol:
	XORQ BX, BX
abvec:
	CMPQ BX, CX
	JGE  abnext
	LANEMASK
	LEAQ (DI)(BX*4), R10
	VMULPS.Z (R12)(BX*4), Z31, K5, Z1
	XORQ AX, AX
abwin:
	MOVQ (R8)(AX*8), R13
	VADDPS.Z (R10)(R13*4), Z1, K5, Z2
	VMOVUPS Z2, K5, (R10)(R13*4)
	INCQ AX
	CMPQ AX, DX
	JLT  abwin
	ADDQ $16, BX
	JMP  abvec
abnext:
	ADDQ R11, DI
	ADDQ ystep+56(FP), R12
	DECQ R9
	JNZ  abcol
abdone:
	VZEROUPPER
	RET
