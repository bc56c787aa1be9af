//go:build gc && !purego && !noasm

// Activations and their gradients, AVX-512 (16 lanes, masked tail).
//
// Go loops (see kernels/act.go for the scalar definitions):
//   forward:  for i := range y  { y[i] = act(x[i]) }
//   gradient: for i := range dx { dx[i] = dy[i] * act'(x[i]) }
// Tile: 4 vectors (64 floats) per iteration, then single vectors, then one
// masked vector. Register map: eltwise_amd64.h; the activation macros and
// their constants: act_avx512_amd64.h.

#include "textflag.h"
#include "eltwise_amd64.h"
#include "act_avx512_amd64.h"

// Sigmoid (XNNPACK's rr2-p5 scheme with VSCALEFPS and a Newton-refined
// reciprocal; max relative error about 2e-7): with z = -|x|,
//   n = round(z·log2 e), t = z - n·ln2 (two-constant Cody-Waite),
//   e = 2^n·(1 + t·p(t)) ≈ exp(z)  (p: degree-4 minimax), f = e/(1 + e),
//   sigmoid(x) = f for x <= 0, 1 - f for x > 0;  sigmoid'(x) = f·(1 - f).
// VSCALEFPS flushes exp(z) to 0 below the float range, so no cutoff test.
// Temporaries Z12-Z15 are shared by the unrolled vectors (renaming keeps
// them independent).
#define SIG_CONSTS \
	CONSTS; \
	BCAST512($0x80000000, Z16); \
	BCAST512($0x3fb8aa3b, Z17); \
	BCAST512($0xbf317200, Z18); \
	BCAST512($0xb5bfbe8e, Z19); \
	BCAST512($0x3c07cfce, Z20); \
	BCAST512($0x3d2b9d0d, Z21); \
	BCAST512($0x3e2aad40, Z22); \
	BCAST512($0x3efffee3, Z24); \
	BCAST512($0x3f7ffffb, Z30)

// F = sigmoid(-|X|) (X is kept): sign Z16, log2e Z17, -ln2 hi/lo Z18/Z19,
// c5..c1 Z20, Z21, Z22, Z24, Z30.
#define SIG_F(X, F) \
	VORPS       Z16, X, Z12; \
	VMULPS      Z17, Z12, Z13; \
	VRNDSCALEPS $0, Z13, Z13; \
	VFMADD231PS Z18, Z13, Z12; \
	VFMADD231PS Z19, Z13, Z12; \
	VMOVAPS     Z21, F; \
	VFMADD231PS Z20, Z12, F; \
	VFMADD213PS Z22, Z12, F; \
	VFMADD213PS Z24, Z12, F; \
	VFMADD213PS Z30, Z12, F; \
	VFMADD213PS Z29, Z12, F; \
	VSCALEFPS   Z13, F, F; \
	VADDPS      Z29, F, Z13; \
	VRCP14PS    Z13, Z14; \
	VMOVAPS     Z29, Z15; \
	VFNMADD231PS Z14, Z13, Z15; \
	VFMADD231PS Z15, Z14, Z14; \
	VMULPS      Z14, F, F

// sigmoid(x) = f, or 1 - f where x > 0
#define SIGMOID(X, T) SIG_F(X, T); VCMPPS $0x1e, Z31, X, K2; VSUBPS T, Z29, K2, T; VMOVAPS T, X

// sigmoid'(x) = f·(1 - f)
#define SIGMOID_G(X, D, T) SIG_F(X, T); VMOVAPS T, X; VFNMADD231PS T, T, X; VMULPS D, X, X

// func SigmoidAVX512(x, y []float32)
FLAT1_512(·SigmoidAVX512, 48, ARGS_X_Y, SIG_CONSTS, SIGMOID)

// func SigmoidGradAVX512(x, dy, dx []float32)
FLAT2_512(·SigmoidGradAVX512, 72, ARGS_X_DY_DX, SIG_CONSTS, SIGMOID_G)

// func ReluAVX512(x, y []float32)
FLAT1_512(·ReluAVX512, 48, ARGS_X_Y, CONSTS, RELU)

// func Relu6AVX512(x, y []float32)
FLAT1_512(·Relu6AVX512, 48, ARGS_X_Y, CONSTS, RELU6)

// func HardsigmoidAVX512(x, y []float32)
FLAT1_512(·HardsigmoidAVX512, 48, ARGS_X_Y, CONSTS, HSIG)

// func HardswishAVX512(x, y []float32)
FLAT1_512(·HardswishAVX512, 48, ARGS_X_Y, CONSTS, HSWISH)

// func ReluGradAVX512(x, dy, dx []float32)
FLAT2_512(·ReluGradAVX512, 72, ARGS_X_DY_DX, CONSTS, RELU_G)

// func Relu6GradAVX512(x, dy, dx []float32)
FLAT2_512(·Relu6GradAVX512, 72, ARGS_X_DY_DX, CONSTS, RELU6_G)

// func HardsigmoidGradAVX512(x, dy, dx []float32)
FLAT2_512(·HardsigmoidGradAVX512, 72, ARGS_X_DY_DX, CONSTS, HSIG_G)

// func HardswishGradAVX512(x, dy, dx []float32)
FLAT2_512(·HardswishGradAVX512, 72, ARGS_X_DY_DX, CONSTS, HSWISH_G)
