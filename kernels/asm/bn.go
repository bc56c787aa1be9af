package asm

// BNFused is one implementation's fused batch-norm kernels (contracts in
// bn_avx512_amd64.s): the statistics, and the passes fused with an
// activation, each array in the order ReLU, ReLU6, hardswish, hardsigmoid
// (package kernels maps its Act values to these indices in fusedBN).
type BNFused struct {
	// Act sets y[r,j] = act(x[r,j]·s[j] + t[j]).
	Act [4]func(rows, w, ld int, x, s, t, y []float32)
	// Sums adds Σ_r g to accG[j] and Σ_r g·(x[r,j] − m[j]) to accGX[j],
	// with g = dy[r,j]·act'(x[r,j]·s[j] + t[j]).
	Sums [4]func(rows, w, ld int, x, dy, s, t, m, accG, accGX []float32)
	// Dx sets dx[r,j] = g·sa[j] + (x[r,j] − m[j])·sb[j] + tt[j], g as Sums.
	Dx [4]func(rows, w, ld int, x, dy, s, t, m, sa, sb, tt, dx []float32)
	// Stats adds Σ_r (x[r,j] − k[j]) to accS[j] and Σ_r (x[r,j] − k[j])² to
	// accQ[j]: the training statistics of any batch norm, in one read.
	Stats func(rows, w, ld int, x, k, accS, accQ []float32)
	// Grad is Sums that also stores g[r,j] (g may alias dy); nil where the
	// implementation has none (the caller composes Dx and the sums).
	Grad [4]func(rows, w, ld int, x, dy, s, t, m, g, accG, accGX []float32)
}
