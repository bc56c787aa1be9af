//go:build gc && !purego && !noasm

#include "textflag.h"

// AVX2 pooling row kernels (see pool.go for the contract and the Go
// reference of each). Vectorised across channels, 8 lanes a vector:
//
//	for j := 0; j < n; j++ {             // output pixels of the run
//		for ch := 0; ch < c; ch += 8 {    // 32 at a time in the forward main block
//			v = x[offs[0]+ch]; for t in 1..nwin: v = op(v, x[offs[t]+ch])
//			y[ch] = v (·scale for the average)
//		}
//		x += xstep; y += ystep
//	}
//
// Single vectors load through VMASKMOVPS with the lane mask Y15 (all lanes,
// or the c mod 8 tail lanes in Y14), so the tail neither reads nor writes
// outside its channels.
//
// Registers: SI window origin of pixel j, DI its output, R8 offs, DX nwin,
// R9 pixels left, CX c, R10/R11 xstep/ystep in bytes, BX channel, AX window
// position t, R12 SI+4·ch, R13 offs[t]; Y0-Y3 accumulators, Y13 scale.

DATA poolmask<>+0(SB)/4, $-1
DATA poolmask<>+4(SB)/4, $-1
DATA poolmask<>+8(SB)/4, $-1
DATA poolmask<>+12(SB)/4, $-1
DATA poolmask<>+16(SB)/4, $-1
DATA poolmask<>+20(SB)/4, $-1
DATA poolmask<>+24(SB)/4, $-1
DATA poolmask<>+28(SB)/4, $-1
DATA poolmask<>+32(SB)/4, $0
DATA poolmask<>+36(SB)/4, $0
DATA poolmask<>+40(SB)/4, $0
DATA poolmask<>+44(SB)/4, $0
DATA poolmask<>+48(SB)/4, $0
DATA poolmask<>+52(SB)/4, $0
DATA poolmask<>+56(SB)/4, $0
DATA poolmask<>+60(SB)/4, $0
GLOBL poolmask<>(SB), RODATA|NOPTR, $64

// TAILMASK loads the low c mod 8 lanes into Y14 (clobbers AX, CX).
#define TAILMASK(cArg) \
	MOVQ cArg, CX               \
	ANDQ $7, CX                 \
	NEGQ CX                     \
	LEAQ poolmask<>+32(SB), AX  \
	VMOVUPS (AX)(CX*4), Y14

// LANEMASK sets Y15 to all lanes and R11 to 1 if ch+8 ≤ c, else Y15 to the
// tail lanes and R11 to 0 (clobbers AX).
#define LANEMASK \
	VPCMPEQD Y15, Y15, Y15 \
	MOVQ $1, R11           \
	LEAQ 8(BX), AX         \
	CMPQ AX, CX            \
	JLE  3(PC)             \
	VMOVUPS Y14, Y15       \
	XORQ R11, R11

// Forward: OP is VMAXPS or VADDPS, FIN finishes a vector (scale for the
// average). R11 is free here: ystep lives in its argument slot.
#define POOLFWD(OP, FIN) \
	TAILMASK(c+40(FP))      \
	MOVQ x+0(FP), SI        \
	MOVQ y+8(FP), DI        \
	MOVQ offs+16(FP), R8    \
	MOVQ nwin+24(FP), DX    \
	MOVQ n+32(FP), R9       \
	MOVQ c+40(FP), CX       \
	MOVQ xstep+48(FP), R10  \
	SHLQ $2, R10            \
	SHLQ $2, ystep+56(FP)   \
	TESTQ R9, R9            \
	JLE  done               \
col:                        \
	XORQ BX, BX             \
blk4:                       \
	LEAQ 32(BX), AX         \
	CMPQ AX, CX             \
	JGT  blk1               \
	LEAQ (SI)(BX*4), R12    \
	MOVQ (R8), R13          \
	VMOVUPS (R12)(R13*4), Y0    \
	VMOVUPS 32(R12)(R13*4), Y1  \
	VMOVUPS 64(R12)(R13*4), Y2  \
	VMOVUPS 96(R12)(R13*4), Y3  \
	MOVQ $1, AX             \
	CMPQ AX, DX             \
	JGE  st4                \
win4:                       \
	MOVQ (R8)(AX*8), R13    \
	OP (R12)(R13*4), Y0, Y0   \
	OP 32(R12)(R13*4), Y1, Y1 \
	OP 64(R12)(R13*4), Y2, Y2 \
	OP 96(R12)(R13*4), Y3, Y3 \
	INCQ AX                 \
	CMPQ AX, DX             \
	JLT  win4               \
st4:                        \
	FIN(Y0)                 \
	FIN(Y1)                 \
	FIN(Y2)                 \
	FIN(Y3)                 \
	VMOVUPS Y0, (DI)(BX*4)   \
	VMOVUPS Y1, 32(DI)(BX*4) \
	VMOVUPS Y2, 64(DI)(BX*4) \
	VMOVUPS Y3, 96(DI)(BX*4) \
	ADDQ $32, BX            \
	JMP  blk4               \
blk1:                       \
	CMPQ BX, CX             \
	JGE  next               \
	LANEMASK                \
	LEAQ (SI)(BX*4), R12    \
	MOVQ (R8), R13          \
	VMASKMOVPS (R12)(R13*4), Y15, Y0 \
	MOVQ $1, AX             \
	CMPQ AX, DX             \
	JGE  st1                \
win1:                       \
	MOVQ (R8)(AX*8), R13    \
	VMASKMOVPS (R12)(R13*4), Y15, Y1 \
	OP Y1, Y0, Y0           \
	INCQ AX                 \
	CMPQ AX, DX             \
	JLT  win1               \
st1:                        \
	FIN(Y0)                 \
	VMASKMOVPS Y0, Y15, (DI)(BX*4) \
	ADDQ $8, BX             \
	JMP  blk1               \
next:                       \
	ADDQ R10, SI            \
	ADDQ ystep+56(FP), DI   \
	DECQ R9                 \
	JNZ  col                \
done:                       \
	VZEROUPPER              \
	RET

#define NOFIN(y)
#define SCALE(y) VMULPS Y13, y, y

// func maxPoolAVX2(x, y *float32, offs *int, nwin, n, c, xstep, ystep int)
TEXT ·maxPoolAVX2(SB), NOSPLIT, $0-64
	POOLFWD(VMAXPS, NOFIN)

// func avgPoolAVX2(x, y *float32, offs *int, nwin, n, c, xstep, ystep int, scale float32)
TEXT ·avgPoolAVX2(SB), NOSPLIT, $0-68
	VBROADCASTSS scale+64(FP), Y13
	POOLFWD(VADDPS, SCALE)

// STOREDX stores Y6 to dx at mem: a plain store for a whole vector (R11 = 1),
// masked by Y15 for the tail.
#define STOREDX(mem) \
	TESTQ R11, R11          \
	JZ   3(PC)              \
	VMOVUPS Y6, mem         \
	JMP  2(PC)              \
	VMASKMOVPS Y6, Y15, mem

// func maxPoolBackAVX2(x, dy, dx *float32, offs *int, nwin, n, c, xstep, ystep int)
//
//	for each pixel j, channel vector ch (lane mask Y15):
//		m = max_t x[offs[t]+ch]; found = ^Y15
//		for t: win = (x[offs[t]+ch] == m) &^ found; dx[offs[t]+ch] += dy[ch] & win; found |= win
//
// Registers: SI/DI x/dx window origin, R12 dy of pixel j, R9/R10 x/dx + 4·ch,
// R11 whole-vector flag; Y0 max, Y1 dy, Y3 found; pixel count, xstep and
// ystep stay in their argument slots (steps rescaled to bytes in place).
TEXT ·maxPoolBackAVX2(SB), NOSPLIT, $0-72
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
	TESTQ R11, R11
	JZ   mbmasked
	// A whole vector: plain loads and stores.
	MOVQ (R8), R13
	VMOVUPS (R9)(R13*4), Y0
	MOVQ $1, AX
	CMPQ AX, DX
	JGE  mbfpass2
mbfmax:
	MOVQ (R8)(AX*8), R13
	VMAXPS (R9)(R13*4), Y0, Y0
	INCQ AX
	CMPQ AX, DX
	JLT  mbfmax
mbfpass2:
	VMOVUPS (R12)(BX*4), Y1
	VXORPS Y3, Y3, Y3
	XORQ AX, AX
mbfwin:
	MOVQ (R8)(AX*8), R13
	VCMPPS $0, (R9)(R13*4), Y0, Y4
	VANDNPS Y4, Y3, Y5
	VORPS Y4, Y3, Y3
	VANDPS Y1, Y5, Y5
	VADDPS (R10)(R13*4), Y5, Y6
	VMOVUPS Y6, (R10)(R13*4)
	INCQ AX
	CMPQ AX, DX
	JLT  mbfwin
	ADDQ $8, BX
	JMP  mbvec
mbmasked:
	MOVQ (R8), R13
	VMASKMOVPS (R9)(R13*4), Y15, Y0
	MOVQ $1, AX
	CMPQ AX, DX
	JGE  mbpass2
mbmax:
	MOVQ (R8)(AX*8), R13
	VMASKMOVPS (R9)(R13*4), Y15, Y2
	VMAXPS Y2, Y0, Y0
	INCQ AX
	CMPQ AX, DX
	JLT  mbmax
mbpass2:
	VMASKMOVPS (R12)(BX*4), Y15, Y1
	VPCMPEQD Y3, Y3, Y3
	VXORPS Y15, Y3, Y3
	XORQ AX, AX
mbwin:
	MOVQ (R8)(AX*8), R13
	VMASKMOVPS (R9)(R13*4), Y15, Y2
	VCMPPS $0, Y0, Y2, Y4
	VANDNPS Y4, Y3, Y5
	VORPS Y4, Y3, Y3
	VANDPS Y1, Y5, Y5
	VMASKMOVPS (R10)(R13*4), Y15, Y6
	VADDPS Y5, Y6, Y6
	STOREDX((R10)(R13*4))
	INCQ AX
	CMPQ AX, DX
	JLT  mbwin
	ADDQ $8, BX
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

// func avgPoolBackAVX2(dy, dx *float32, offs *int, nwin, n, c, xstep, ystep int, scale float32)
//
//	for each pixel j, channel vector ch: g = scale·dy[ch]; for t: dx[offs[t]+ch] += g
//
// Registers: R12 dy of pixel j, DI dx window origin, R10 DI+4·ch, R9 pixels
// left, R11 whole-vector flag, Y1 g; xstep and ystep in their argument slots.
TEXT ·avgPoolBackAVX2(SB), NOSPLIT, $0-68
	TAILMASK(c+40(FP))
	MOVQ dy+0(FP), R12
	MOVQ dx+8(FP), DI
	MOVQ offs+16(FP), R8
	MOVQ nwin+24(FP), DX
	MOVQ n+32(FP), R9
	MOVQ c+40(FP), CX
	SHLQ $2, xstep+48(FP)
	SHLQ $2, ystep+56(FP)
	VBROADCASTSS scale+64(FP), Y13
	TESTQ R9, R9
	JLE  abdone
abcol:
	XORQ BX, BX
abvec:
	CMPQ BX, CX
	JGE  abnext
	LANEMASK
	LEAQ (DI)(BX*4), R10
	TESTQ R11, R11
	JZ   abmasked
	// A whole vector: plain loads and stores.
	VMULPS (R12)(BX*4), Y13, Y1
	XORQ AX, AX
abfwin:
	MOVQ (R8)(AX*8), R13
	VADDPS (R10)(R13*4), Y1, Y6
	VMOVUPS Y6, (R10)(R13*4)
	INCQ AX
	CMPQ AX, DX
	JLT  abfwin
	ADDQ $8, BX
	JMP  abvec
abmasked:
	VMASKMOVPS (R12)(BX*4), Y15, Y1
	VMULPS Y13, Y1, Y1
	XORQ AX, AX
abwin:
	MOVQ (R8)(AX*8), R13
	VMASKMOVPS (R10)(R13*4), Y15, Y6
	VADDPS Y1, Y6, Y6
	STOREDX((R10)(R13*4))
	INCQ AX
	CMPQ AX, DX
	JLT  abwin
	ADDQ $8, BX
	JMP  abvec
abnext:
	ADDQ xstep+48(FP), DI
	ADDQ ystep+56(FP), R12
	DECQ R9
	JNZ  abcol
abdone:
	VZEROUPPER
	RET
