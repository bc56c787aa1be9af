// Activation macros shared by act_avx512_amd64.s and bn_avx512_amd64.s:
// OP(X, T) replaces X by act(X); OP_G(X, D, T) replaces X by D·act'(X).
// T is a temporary vector; the gradients also use K2 and K3. CONSTS sets
// the constants they read:
//   Z31 0   Z29 1   Z28 6   Z27 1/6   Z26 3   Z25 -3   Z23 2
// The formulas are PyTorch's, (x + 3) clamped to [0, 6] then times 1/6, not
// x/6 + 1/2, which loses relative accuracy to cancellation near x = -3.
// Comparisons are ordered (false on NaN); max/min put x second so that a
// NaN input gives a NaN output.

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
