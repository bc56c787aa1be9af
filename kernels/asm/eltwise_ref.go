package asm

// Pure-Go references of the elementwise and per-channel primitives that
// package kernels composes into activations, bias, SE scaling, batch norm and
// global average pooling. The assembly versions (eltwise_*_amd64.s) have the
// same signatures and contracts; the AVX2 ones need lengths and row widths
// that are multiples of 8 (the caller runs the reference on the rest), the
// AVX-512 ones take any length (masked tails).
//
// Row primitives work on `rows` rows of w floats whose starts are ld floats
// apart (a channel slice [j0, j0+w) of an NHWC tensor with ld = C); their
// per-channel vectors (s, t, m, acc...) hold w floats.

// AddRef sets y[i] = a[i] + b[i] for i < len(y).
func AddRef(a, b, y []float32) {
	a, b = a[:len(y)], b[:len(y)]
	for i := range y {
		y[i] = a[i] + b[i]
	}
}

// AxpyRef sets y[i] += alpha·x[i] for i < len(y).
func AxpyRef(alpha float32, x, y []float32) {
	x = x[:len(y)]
	for i := range y {
		y[i] += alpha * x[i]
	}
}

// ScaleRef sets y[i] = alpha·x[i] for i < len(y).
func ScaleRef(alpha float32, x, y []float32) {
	x = x[:len(y)]
	for i := range y {
		y[i] = alpha * x[i]
	}
}

// AffineRef sets y[r,j] = x[r,j]·s[j] + t[j] (per-channel scale and shift).
func AffineRef(rows, w, ld int, x, s, t, y []float32) {
	s, t = s[:w], t[:w]
	for r := range rows {
		xr, yr := x[r*ld:r*ld+w], y[r*ld:r*ld+w]
		for j := range yr {
			yr[j] = xr[j]*s[j] + t[j]
		}
	}
}

// Affine2Ref sets y[r,j] = a[r,j]·sa[j] + (b[r,j] − m[j])·sb[j] + t[j] (the
// batch-norm input gradient).
func Affine2Ref(rows, w, ld int, a, b, m, sa, sb, t, y []float32) {
	m, sa, sb, t = m[:w], sa[:w], sb[:w], t[:w]
	for r := range rows {
		ar, br, yr := a[r*ld:r*ld+w], b[r*ld:r*ld+w], y[r*ld:r*ld+w]
		for j := range yr {
			yr[j] = ar[j]*sa[j] + (br[j]-m[j])*sb[j] + t[j]
		}
	}
}

// ColSumRef adds Σ_r x[r,j] to acc[j] (float32 accumulation; the caller
// bounds the number of rows per call for accuracy).
func ColSumRef(rows, w, ld int, x, acc []float32) {
	acc = acc[:w]
	for r := range rows {
		xr := x[r*ld : r*ld+w]
		for j := range acc {
			acc[j] += xr[j]
		}
	}
}

// ColDotRef adds Σ_r (a[r,j] − ma[j])·(b[r,j] − mb[j]) to acc[j]: a
// centred cross-product (batch-norm variance and gradient, with ma or mb
// zero for a plain dot product).
func ColDotRef(rows, w, ld int, a, ma, b, mb, acc []float32) {
	acc, ma, mb = acc[:w], ma[:w], mb[:w]
	for r := range rows {
		ar, br := a[r*ld:r*ld+w], b[r*ld:r*ld+w]
		for j := range acc {
			acc[j] += (ar[j] - ma[j]) * (br[j] - mb[j])
		}
	}
}

// ColSumDotRef adds Σ_r a[r,j] to accA[j] and Σ_r a[r,j]·(b[r,j] − mb[j])
// to accB[j] (the two batch-norm gradient sums in one pass).
func ColSumDotRef(rows, w, ld int, a, b, mb, accA, accB []float32) {
	accA, accB, mb = accA[:w], accB[:w], mb[:w]
	for r := range rows {
		ar, br := a[r*ld:r*ld+w], b[r*ld:r*ld+w]
		for j := range accA {
			accA[j] += ar[j]
			accB[j] += ar[j] * (br[j] - mb[j])
		}
	}
}
