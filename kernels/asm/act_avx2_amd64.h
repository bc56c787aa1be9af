// Activation macros shared by act_avx2_amd64.s and bn_avx2_amd64.s:
// OP(X, T) replaces X by act(X); OP_G(X, D, T) replaces X by D·act'(X); T is
// a temporary vector (HSWISH_G also uses Y5). FWD_CONSTS, GRAD_CONSTS and
// HSWISH_G_CONSTS set the constants they read (they use AX and X5).
// Comparisons are ordered (false on NaN); max/min put x second so that a
// NaN input gives a NaN output.

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
