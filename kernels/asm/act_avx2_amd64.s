//go:build gc && !purego && !noasm

// Activations and their gradients, AVX2+FMA (8 lanes; the caller passes
// lengths that are multiples of 8 and does the tail in Go).
//
// Go loops (see kernels/act.go for the scalar definitions):
//   forward:  for i := range y  { y[i] = act(x[i]) }
//   gradient: for i := range dx { dx[i] = dy[i] * act'(x[i]) }
// Tile: 4 vectors (32 floats) per iteration, then single vectors. Register
// map: eltwise_amd64.h; each function's INIT sets the constants it uses in
// Y6, Y7, Y12-Y15 (named below). Comparisons are ordered (false on NaN);
// max/min put x second so that a NaN input gives a NaN output.

#include "textflag.h"
#include "eltwise_amd64.h"

// The formulas are PyTorch's, (x + 3) clamped to [0, 6] then times 1/6, not
// x/6 + 1/2, which loses relative accuracy to cancellation near x = -3.

// forward constants: Y15 0, Y14 3, Y12 6, Y7 1/6
#define FWD_CONSTS \
	BCAST256(F_ZERO, Y15); \
	BCAST256(F_THREE, Y14); \
	BCAST256(F_SIX, Y12); \
	BCAST256(F_SIXTH, Y7)

// gradient constants: Y15 0, Y13 1, Y12 6, Y6 3, Y7 -3, Y14 1/6; Y5 is a
// temporary. hardswish' replaces the 0 in Y15 by 2.
#define GRAD_CONSTS \
	BCAST256(F_ZERO, Y15); \
	BCAST256(F_ONE, Y13); \
	BCAST256(F_SIX, Y12); \
	BCAST256(F_THREE, Y6); \
	BCAST256(F_MTHREE, Y7); \
	BCAST256(F_SIXTH, Y14)

#define HSWISH_G_CONSTS GRAD_CONSTS; BCAST256(F_TWO, Y15)

#define RELU(X, T) VMAXPS X, Y15, X
#define RELU6(X, T) VMAXPS X, Y15, X; VMINPS X, Y12, X
#define HSIG(X, T) VADDPS Y14, X, X; VMAXPS X, Y15, X; VMINPS X, Y12, X; VMULPS Y7, X, X
#define HSWISH(X, T) VADDPS Y14, X, T; VMAXPS T, Y15, T; VMINPS T, Y12, T; VMULPS T, X, X; VMULPS Y7, X, X

// relu'(x) = [x > 0]
#define RELU_G(X, D, T) VCMPPS $0x1e, Y15, X, X; VANDPS D, X, X

// relu6'(x) = [0 < x < 6]
#define RELU6_G(X, D, T) VCMPPS $0x1e, Y15, X, T; VCMPPS $0x11, Y12, X, X; VANDPS T, X, X; VANDPS D, X, X

// hardsigmoid'(x) = [-3 < x < 3]/6
#define HSIG_G(X, D, T) VCMPPS $0x1e, Y7, X, T; VCMPPS $0x11, Y6, X, X; VANDPS T, X, X; VMULPS Y14, D, T; VANDPS T, X, X

// hardswish'(x) = 0 for x < -3, 1 for x > 3, (2x + 3)/6 between
#define HSWISH_G(X, D, T) \
	VMOVAPS Y6, T; \
	VFMADD231PS Y15, X, T; \
	VMULPS Y14, T, T; \
	VCMPPS $0x1e, Y6, X, Y5; \
	VBLENDVPS Y5, Y13, T, T; \
	VCMPPS $0x1d, Y7, X, X; \
	VANDPS T, X, X; \
	VMULPS D, X, X

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
