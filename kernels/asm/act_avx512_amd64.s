//go:build gc && !purego && !noasm

// Activations and their gradients, AVX-512 (16 lanes, masked tail).
//
// Go loops (see kernels/act.go for the scalar definitions):
//   forward:  for i := range y  { y[i] = act(x[i]) }
//   gradient: for i := range dx { dx[i] = dy[i] * act'(x[i]) }
// Tile: 4 vectors (64 floats) per iteration, then single vectors, then one
// masked vector. Register map: eltwise_amd64.h; constants:
//   Z31 0   Z29 1   Z28 6   Z27 1/6   Z26 3   Z25 -3   Z23 2
// The formulas are PyTorch's, (x + 3) clamped to [0, 6] then times 1/6, not
// x/6 + 1/2, which loses relative accuracy to cancellation near x = -3.
// Comparisons are ordered (false on NaN); max/min put x second so that a
// NaN input gives a NaN output.

#include "textflag.h"
#include "eltwise_amd64.h"

#define CONSTS \
	BCAST512(F_ZERO, Z31); \
	BCAST512(F_ONE, Z29); \
	BCAST512(F_SIX, Z28); \
	BCAST512(F_SIXTH, Z27); \
	BCAST512(F_THREE, Z26); \
	BCAST512(F_MTHREE, Z25); \
	BCAST512(F_TWO, Z23)

// relu(x) = max(x, 0)
#define RELU(X, T) VMAXPS X, Z31, X

// relu6(x) = min(max(x, 0), 6)
#define RELU6(X, T) VMAXPS X, Z31, X; VMINPS X, Z28, X

// hardsigmoid(x) = min(max(x + 3, 0), 6)/6
#define HSIG(X, T) VADDPS Z26, X, X; VMAXPS X, Z31, X; VMINPS X, Z28, X; VMULPS Z27, X, X

// hardswish(x) = x·min(max(x + 3, 0), 6)/6
#define HSWISH(X, T) VADDPS Z26, X, T; VMAXPS T, Z31, T; VMINPS T, Z28, T; VMULPS T, X, X; VMULPS Z27, X, X

// relu'(x) = [x > 0]
#define RELU_G(X, D, T) VCMPPS $0x1e, Z31, X, K2; VMOVUPS.Z D, K2, X

// relu6'(x) = [0 < x < 6]
#define RELU6_G(X, D, T) VCMPPS $0x1e, Z31, X, K2; VCMPPS $0x11, Z28, X, K3; KANDW K3, K2, K2; VMOVUPS.Z D, K2, X

// hardsigmoid'(x) = [-3 < x < 3]/6
#define HSIG_G(X, D, T) VCMPPS $0x1e, Z25, X, K2; VCMPPS $0x11, Z26, X, K3; KANDW K3, K2, K2; VMULPS.Z Z27, D, K2, X

// hardswish'(x) = 0 for x < -3, 1 for x > 3, (2x + 3)/6 between
#define HSWISH_G(X, D, T) \
	VMOVAPS Z26, T; \
	VFMADD231PS Z23, X, T; \
	VMULPS Z27, T, T; \
	VCMPPS $0x1e, Z26, X, K2; \
	VMOVAPS Z29, K2, T; \
	VCMPPS $0x1d, Z25, X, K3; \
	VMULPS.Z T, D, K3, X

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
