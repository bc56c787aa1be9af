//go:build gc && !purego && !noasm

#include "textflag.h"
#include "neon_arm64.h"

// NEON pooling row kernels (see pool.go for the contract and the Go
// reference of each). Vectorised across channels, 4 lanes a vector; c is a
// multiple of 4 (the Go wrappers in pool_arm64.go run the reference on the
// last c mod 4 channels):
//
//	for j := 0; j < n; j++ {             // output pixels of the run
//		for ch := 0; ch < c; ch += 4 {    // 16 at a time in the forward main block
//			v = x[offs[0]+ch]; for t in 1..nwin: v = op(v, x[offs[t]+ch])
//			y[ch] = v (·scale for the average)
//		}
//		x += xstep; y += ystep
//	}
//
// Registers: R0 window origin of pixel j (x; dy in the average backward),
// R1 its output (y; dy in the max backward), R2 offs, R3 nwin, R4 pixels
// left, R5 c, R6/R7 xstep/ystep in bytes, R9 channel byte offset, R10
// channels left, R12 R0+R9, R13 offs[t], R14 t, R15 the tap's address;
// V0-V3 accumulators, V4-V7 loaded taps, V31 scale.

// TAP sets R15 to the address of tap R14 for the channel block at R12.
#define TAP \
	MOVD (R2)(R14<<3), R13 \
	ADD  R13<<2, R12, R15

// PROLOGUE loads the arguments common to the forward kernels.
#define PROLOGUE \
	MOVD x+0(FP), R0       \
	MOVD y+8(FP), R1       \
	MOVD offs+16(FP), R2   \
	MOVD nwin+24(FP), R3   \
	MOVD n+32(FP), R4      \
	MOVD c+40(FP), R5      \
	MOVD xstep+48(FP), R6  \
	LSL  $2, R6            \
	MOVD ystep+56(FP), R7  \
	LSL  $2, R7

// FWD is the body of a forward kernel: OP4 combines V4-V7 into V0-V3, OP1
// V4 into V0, FIN4/FIN1 finish the accumulators before the store.
#define FWD(OP4, OP1, FIN4, FIN1) \
pix:                                            \
	MOVD $0, R9                                 \
	MOVD R5, R10                                \
	CMP  $16, R10                               \
	BLT  vec1                                   \
blk16:                                          \
	ADD  R9, R0, R12                            \
	MOVD $0, R14                                \
	TAP                                         \
	VLD1 (R15), [V0.S4, V1.S4, V2.S4, V3.S4]    \
	MOVD $1, R14                                \
	CMP  R3, R14                                \
	BGE  st16                                   \
win16:                                          \
	TAP                                         \
	VLD1 (R15), [V4.S4, V5.S4, V6.S4, V7.S4]    \
	OP4                                         \
	ADD  $1, R14                                \
	CMP  R3, R14                                \
	BLT  win16                                  \
st16:                                           \
	FIN4                                        \
	ADD  R9, R1, R15                            \
	VST1 [V0.S4, V1.S4, V2.S4, V3.S4], (R15)    \
	ADD  $64, R9                                \
	SUB  $16, R10                               \
	CMP  $16, R10                               \
	BGE  blk16                                  \
vec1:                                           \
	CBZ  R10, next                              \
blk4:                                           \
	ADD  R9, R0, R12                            \
	MOVD $0, R14                                \
	TAP                                         \
	VLD1 (R15), [V0.S4]                         \
	MOVD $1, R14                                \
	CMP  R3, R14                                \
	BGE  st4                                    \
win4:                                           \
	TAP                                         \
	VLD1 (R15), [V4.S4]                         \
	OP1                                         \
	ADD  $1, R14                                \
	CMP  R3, R14                                \
	BLT  win4                                   \
st4:                                            \
	FIN1                                        \
	ADD  R9, R1, R15                            \
	VST1 [V0.S4], (R15)                         \
	ADD  $16, R9                                \
	SUBS $4, R10                                \
	BNE  blk4                                   \
next:                                           \
	ADD  R6, R0                                 \
	ADD  R7, R1                                 \
	SUBS $1, R4                                 \
	BNE  pix                                    \
	RET

#define MAX4 VFMAX4S(0, 0, 4); VFMAX4S(1, 1, 5); VFMAX4S(2, 2, 6); VFMAX4S(3, 3, 7)
#define MAX1 VFMAX4S(0, 0, 4)
#define ADD4 VFADD4S(0, 0, 4); VFADD4S(1, 1, 5); VFADD4S(2, 2, 6); VFADD4S(3, 3, 7)
#define ADD1 VFADD4S(0, 0, 4)
#define SCALE4 VFMUL4S(0, 0, 31); VFMUL4S(1, 1, 31); VFMUL4S(2, 2, 31); VFMUL4S(3, 3, 31)
#define SCALE1 VFMUL4S(0, 0, 31)
#define NOFIN

// func maxPoolNEON(x, y *float32, offs *int, nwin, n, c, xstep, ystep int)
TEXT ·maxPoolNEON(SB), NOSPLIT, $0-64
	PROLOGUE
	FWD(MAX4, MAX1, NOFIN, NOFIN)

// func avgPoolNEON(x, y *float32, offs *int, nwin, n, c, xstep, ystep int, scale float32)
TEXT ·avgPoolNEON(SB), NOSPLIT, $0-68
	PROLOGUE
	FMOVS scale+64(FP), F31
	VDUP  V31.S[0], V31.S4
	FWD(ADD4, ADD1, SCALE4, SCALE1)

// func maxPoolBackNEON(x, dy, dx *float32, offs *int, nwin, n, c, xstep, ystep int)
//
//	for each pixel j and channel block ch (4 lanes):
//		m, best = x[offs[0]+ch], 0
//		for t in 1..nwin: if x[offs[t]+ch] > m { m, best = x[offs[t]+ch], t }  (per lane)
//		for t in 0..nwin: dx[offs[t]+ch] += dy[ch] where best == t, else += 0
//
// R0 x, R1 dy, R8 dx at pixel j; R11 = R8+R9. V0 m, V1 best, V2 tap, V3
// mask, V4 t broadcast, V5 dy, V6 masked dy, V7 dx.
TEXT ·maxPoolBackNEON(SB), NOSPLIT, $0-72
	MOVD x+0(FP), R0
	MOVD dy+8(FP), R1
	MOVD dx+16(FP), R8
	MOVD offs+24(FP), R2
	MOVD nwin+32(FP), R3
	MOVD n+40(FP), R4
	MOVD c+48(FP), R5
	MOVD xstep+56(FP), R6
	LSL  $2, R6
	MOVD ystep+64(FP), R7
	LSL  $2, R7
mpix:
	MOVD $0, R9
	MOVD R5, R10
mblk:
	ADD  R9, R0, R12
	MOVD $0, R14
	TAP
	VLD1 (R15), [V0.S4]
	VEOR V1.B16, V1.B16, V1.B16
	MOVD $1, R14
	CMP  R3, R14
	BGE  scatter
argmax:
	TAP
	VLD1 (R15), [V2.S4]
	VFCMGT4S(3, 2, 0)
	VBIT V3.B16, V2.B16, V0.B16
	VDUP R14, V4.S4
	VBIT V3.B16, V4.B16, V1.B16
	ADD  $1, R14
	CMP  R3, R14
	BLT  argmax
scatter:
	ADD  R9, R1, R15
	VLD1 (R15), [V5.S4]
	ADD  R9, R8, R12
	MOVD $0, R14
add:
	TAP
	VDUP R14, V4.S4
	VCMEQ V4.S4, V1.S4, V3.S4
	VAND V3.B16, V5.B16, V6.B16
	VLD1 (R15), [V7.S4]
	VFADD4S(7, 7, 6)
	VST1 [V7.S4], (R15)
	ADD  $1, R14
	CMP  R3, R14
	BLT  add
	ADD  $16, R9
	SUBS $4, R10
	BNE  mblk
	ADD  R6, R0
	ADD  R6, R8
	ADD  R7, R1
	SUBS $1, R4
	BNE  mpix
	RET

// func avgPoolBackNEON(dy, dx *float32, offs *int, nwin, n, c, xstep, ystep int, scale float32)
//
//	for each pixel j and channel block ch: g = dy[ch]·scale; dx[offs[t]+ch] += g for every t
//
// R0 dy, R8 dx at pixel j; R12 = R8+R9. V5 g, V7 dx tap, V31 scale.
TEXT ·avgPoolBackNEON(SB), NOSPLIT, $0-68
	MOVD dy+0(FP), R0
	MOVD dx+8(FP), R8
	MOVD offs+16(FP), R2
	MOVD nwin+24(FP), R3
	MOVD n+32(FP), R4
	MOVD c+40(FP), R5
	MOVD xstep+48(FP), R6
	LSL  $2, R6
	MOVD ystep+56(FP), R7
	LSL  $2, R7
	FMOVS scale+64(FP), F31
	VDUP  V31.S[0], V31.S4
apix:
	MOVD $0, R9
	MOVD R5, R10
ablk:
	ADD  R9, R0, R15
	VLD1 (R15), [V5.S4]
	VFMUL4S(5, 5, 31)
	ADD  R9, R8, R12
	MOVD $0, R14
aadd:
	TAP
	VLD1 (R15), [V7.S4]
	VFADD4S(7, 7, 5)
	VST1 [V7.S4], (R15)
	ADD  $1, R14
	CMP  R3, R14
	BLT  aadd
	ADD  $16, R9
	SUBS $4, R10
	BNE  ablk
	ADD  R7, R0
	ADD  R6, R8
	SUBS $1, R4
	BNE  apix
	RET
