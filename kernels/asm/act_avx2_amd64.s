//go:build gc && !purego && !noasm

// Activations and their gradients, AVX2+FMA (8 lanes; the caller passes
// lengths that are multiples of 8 and does the tail in Go).
//
// Go loops (see kernels/act.go for the scalar definitions):
//   forward:  for i := range y  { y[i] = act(x[i]) }
//   gradient: for i := range dx { dx[i] = dy[i] * act'(x[i]) }
// Tile: 4 vectors (32 floats) per iteration, then single vectors. Register
// map: eltwise_amd64.h; each function's INIT sets the constants it uses in
// Y6, Y7, Y12-Y15 (act_avx2_amd64.h, with the activation macros).

#include "textflag.h"
#include "eltwise_amd64.h"
#include "act_avx2_amd64.h"

// Sigmoid (XNNPACK's rr2-p5 scheme; max relative error about 2e-7): with
// z = -|x|, n = round(z·log2 e) by the magic-bias trick, which also gives
// s = 2^n by shifting n's bits into the exponent; t = z - n·ln2 (two-constant
// Cody-Waite); e = s + (t·s)·p(t) ≈ exp(z) (p: degree-4 minimax), zero below
// the float range (z < -87.34); f = e/(1 + e);
//   sigmoid(x) = f for x < 0, 1 - f otherwise;  sigmoid'(x) = f·(1 - f).
// The constants are 8-lane vectors in memory (sigconst, L1-resident) since
// the registers are taken; temporaries Y4, Y5, Y12-Y14 are shared by the
// unrolled vectors.
DATA sigconst<>+0(SB)/4, $0x80000000
DATA sigconst<>+4(SB)/4, $0x80000000
DATA sigconst<>+8(SB)/4, $0x80000000
DATA sigconst<>+12(SB)/4, $0x80000000
DATA sigconst<>+16(SB)/4, $0x80000000
DATA sigconst<>+20(SB)/4, $0x80000000
DATA sigconst<>+24(SB)/4, $0x80000000
DATA sigconst<>+28(SB)/4, $0x80000000
DATA sigconst<>+32(SB)/4, $0x3fb8aa3b
DATA sigconst<>+36(SB)/4, $0x3fb8aa3b
DATA sigconst<>+40(SB)/4, $0x3fb8aa3b
DATA sigconst<>+44(SB)/4, $0x3fb8aa3b
DATA sigconst<>+48(SB)/4, $0x3fb8aa3b
DATA sigconst<>+52(SB)/4, $0x3fb8aa3b
DATA sigconst<>+56(SB)/4, $0x3fb8aa3b
DATA sigconst<>+60(SB)/4, $0x3fb8aa3b
DATA sigconst<>+64(SB)/4, $0x4b40007f
DATA sigconst<>+68(SB)/4, $0x4b40007f
DATA sigconst<>+72(SB)/4, $0x4b40007f
DATA sigconst<>+76(SB)/4, $0x4b40007f
DATA sigconst<>+80(SB)/4, $0x4b40007f
DATA sigconst<>+84(SB)/4, $0x4b40007f
DATA sigconst<>+88(SB)/4, $0x4b40007f
DATA sigconst<>+92(SB)/4, $0x4b40007f
DATA sigconst<>+96(SB)/4, $0xbf317200
DATA sigconst<>+100(SB)/4, $0xbf317200
DATA sigconst<>+104(SB)/4, $0xbf317200
DATA sigconst<>+108(SB)/4, $0xbf317200
DATA sigconst<>+112(SB)/4, $0xbf317200
DATA sigconst<>+116(SB)/4, $0xbf317200
DATA sigconst<>+120(SB)/4, $0xbf317200
DATA sigconst<>+124(SB)/4, $0xbf317200
DATA sigconst<>+128(SB)/4, $0xb5bfbe8e
DATA sigconst<>+132(SB)/4, $0xb5bfbe8e
DATA sigconst<>+136(SB)/4, $0xb5bfbe8e
DATA sigconst<>+140(SB)/4, $0xb5bfbe8e
DATA sigconst<>+144(SB)/4, $0xb5bfbe8e
DATA sigconst<>+148(SB)/4, $0xb5bfbe8e
DATA sigconst<>+152(SB)/4, $0xb5bfbe8e
DATA sigconst<>+156(SB)/4, $0xb5bfbe8e
DATA sigconst<>+160(SB)/4, $0x3c07cfce
DATA sigconst<>+164(SB)/4, $0x3c07cfce
DATA sigconst<>+168(SB)/4, $0x3c07cfce
DATA sigconst<>+172(SB)/4, $0x3c07cfce
DATA sigconst<>+176(SB)/4, $0x3c07cfce
DATA sigconst<>+180(SB)/4, $0x3c07cfce
DATA sigconst<>+184(SB)/4, $0x3c07cfce
DATA sigconst<>+188(SB)/4, $0x3c07cfce
DATA sigconst<>+192(SB)/4, $0x3d2b9d0d
DATA sigconst<>+196(SB)/4, $0x3d2b9d0d
DATA sigconst<>+200(SB)/4, $0x3d2b9d0d
DATA sigconst<>+204(SB)/4, $0x3d2b9d0d
DATA sigconst<>+208(SB)/4, $0x3d2b9d0d
DATA sigconst<>+212(SB)/4, $0x3d2b9d0d
DATA sigconst<>+216(SB)/4, $0x3d2b9d0d
DATA sigconst<>+220(SB)/4, $0x3d2b9d0d
DATA sigconst<>+224(SB)/4, $0x3e2aad40
DATA sigconst<>+228(SB)/4, $0x3e2aad40
DATA sigconst<>+232(SB)/4, $0x3e2aad40
DATA sigconst<>+236(SB)/4, $0x3e2aad40
DATA sigconst<>+240(SB)/4, $0x3e2aad40
DATA sigconst<>+244(SB)/4, $0x3e2aad40
DATA sigconst<>+248(SB)/4, $0x3e2aad40
DATA sigconst<>+252(SB)/4, $0x3e2aad40
DATA sigconst<>+256(SB)/4, $0x3efffee3
DATA sigconst<>+260(SB)/4, $0x3efffee3
DATA sigconst<>+264(SB)/4, $0x3efffee3
DATA sigconst<>+268(SB)/4, $0x3efffee3
DATA sigconst<>+272(SB)/4, $0x3efffee3
DATA sigconst<>+276(SB)/4, $0x3efffee3
DATA sigconst<>+280(SB)/4, $0x3efffee3
DATA sigconst<>+284(SB)/4, $0x3efffee3
DATA sigconst<>+288(SB)/4, $0x3f7ffffb
DATA sigconst<>+292(SB)/4, $0x3f7ffffb
DATA sigconst<>+296(SB)/4, $0x3f7ffffb
DATA sigconst<>+300(SB)/4, $0x3f7ffffb
DATA sigconst<>+304(SB)/4, $0x3f7ffffb
DATA sigconst<>+308(SB)/4, $0x3f7ffffb
DATA sigconst<>+312(SB)/4, $0x3f7ffffb
DATA sigconst<>+316(SB)/4, $0x3f7ffffb
DATA sigconst<>+320(SB)/4, $0xc2aeac4f
DATA sigconst<>+324(SB)/4, $0xc2aeac4f
DATA sigconst<>+328(SB)/4, $0xc2aeac4f
DATA sigconst<>+332(SB)/4, $0xc2aeac4f
DATA sigconst<>+336(SB)/4, $0xc2aeac4f
DATA sigconst<>+340(SB)/4, $0xc2aeac4f
DATA sigconst<>+344(SB)/4, $0xc2aeac4f
DATA sigconst<>+348(SB)/4, $0xc2aeac4f
DATA sigconst<>+352(SB)/4, $0x3f800000
DATA sigconst<>+356(SB)/4, $0x3f800000
DATA sigconst<>+360(SB)/4, $0x3f800000
DATA sigconst<>+364(SB)/4, $0x3f800000
DATA sigconst<>+368(SB)/4, $0x3f800000
DATA sigconst<>+372(SB)/4, $0x3f800000
DATA sigconst<>+376(SB)/4, $0x3f800000
DATA sigconst<>+380(SB)/4, $0x3f800000
GLOBL sigconst<>(SB), RODATA|NOPTR, $384

#define SIG_SIGN sigconst<>+0(SB)
#define SIG_LOG2E sigconst<>+32(SB)
#define SIG_MAGIC sigconst<>+64(SB)
#define SIG_MLN2HI sigconst<>+96(SB)
#define SIG_MLN2LO sigconst<>+128(SB)
#define SIG_C5 sigconst<>+160(SB)
#define SIG_C4 sigconst<>+192(SB)
#define SIG_C3 sigconst<>+224(SB)
#define SIG_C2 sigconst<>+256(SB)
#define SIG_C1 sigconst<>+288(SB)
#define SIG_CUTOFF sigconst<>+320(SB)
#define SIG_ONE sigconst<>+352(SB)

// Y5 = sigmoid(-|X|) (X is kept).
#define SIG_F(X) \
	VORPS       SIG_SIGN, X, Y12; \
	VCMPPS      $0x11, SIG_CUTOFF, Y12, Y4; \
	VMOVUPS     SIG_MAGIC, Y13; \
	VFMADD231PS SIG_LOG2E, Y12, Y13; \
	VPSLLD      $23, Y13, Y14; \
	VSUBPS      SIG_MAGIC, Y13, Y13; \
	VFMADD231PS SIG_MLN2HI, Y13, Y12; \
	VFMADD231PS SIG_MLN2LO, Y13, Y12; \
	VMOVUPS     SIG_C4, Y5; \
	VFMADD231PS SIG_C5, Y12, Y5; \
	VFMADD213PS SIG_C3, Y12, Y5; \
	VFMADD213PS SIG_C2, Y12, Y5; \
	VFMADD213PS SIG_C1, Y12, Y5; \
	VMULPS      Y14, Y12, Y12; \
	VFMADD213PS Y14, Y12, Y5; \
	VANDNPS     Y5, Y4, Y5; \
	VADDPS      SIG_ONE, Y5, Y13; \
	VDIVPS      Y13, Y5, Y5

#define SIGMOID(X, T) SIG_F(X); VMOVUPS SIG_ONE, Y13; VSUBPS Y5, Y13, Y13; VBLENDVPS X, Y5, Y13, X
#define SIGMOID_G(X, D, T) SIG_F(X); VMOVAPS Y5, X; VFNMADD231PS Y5, Y5, X; VMULPS D, X, X
#define NOINIT

// func SigmoidAVX2(x, y []float32)
FLAT1_256(·SigmoidAVX2, 48, ARGS_X_Y, NOINIT, SIGMOID)

// func SigmoidGradAVX2(x, dy, dx []float32)
FLAT2_256(·SigmoidGradAVX2, 72, ARGS_X_DY_DX, NOINIT, SIGMOID_G)

// func ReluAVX2(x, y []float32)
FLAT1_256(·ReluAVX2, 48, ARGS_X_Y, FWD_CONSTS, RELU)

// func Relu6AVX2(x, y []float32)
FLAT1_256(·Relu6AVX2, 48, ARGS_X_Y, FWD_CONSTS, RELU6)

// func HardsigmoidAVX2(x, y []float32)
FLAT1_256(·HardsigmoidAVX2, 48, ARGS_X_Y, FWD_CONSTS, HSIG)

// func HardswishAVX2(x, y []float32)
FLAT1_256(·HardswishAVX2, 48, ARGS_X_Y, FWD_CONSTS, HSWISH)

// func ReluGradAVX2(x, dy, dx []float32)
FLAT2_256(·ReluGradAVX2, 72, ARGS_X_DY_DX, GRAD_CONSTS, RELU_G)

// func Relu6GradAVX2(x, dy, dx []float32)
FLAT2_256(·Relu6GradAVX2, 72, ARGS_X_DY_DX, GRAD_CONSTS, RELU6_G)

// func HardsigmoidGradAVX2(x, dy, dx []float32)
FLAT2_256(·HardsigmoidGradAVX2, 72, ARGS_X_DY_DX, GRAD_CONSTS, HSIG_G)

// func HardswishGradAVX2(x, dy, dx []float32)
FLAT2_256(·HardswishGradAVX2, 72, ARGS_X_DY_DX, HSWISH_G_CONSTS, HSWISH_G)
