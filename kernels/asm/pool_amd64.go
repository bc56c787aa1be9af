//go:build gc && !purego && !noasm

package asm

// Assembly pooling row kernels; the exported wrappers check that every
// window lies inside its buffers and then call the assembly (pool.go has
// the contract and the references).

//go:noescape
func maxPoolAVX2(x, y *float32, offs *int, nwin, n, c, xstep, ystep int)

//go:noescape
func avgPoolAVX2(x, y *float32, offs *int, nwin, n, c, xstep, ystep int, scale float32)

//go:noescape
func maxPoolBackAVX2(x, dy, dx *float32, offs *int, nwin, n, c, xstep, ystep int)

//go:noescape
func avgPoolBackAVX2(dy, dx *float32, offs *int, nwin, n, c, xstep, ystep int, scale float32)

//go:noescape
func maxPoolAVX512(x, y *float32, offs *int, nwin, n, c, xstep, ystep int)

//go:noescape
func avgPoolAVX512(x, y *float32, offs *int, nwin, n, c, xstep, ystep int, scale float32)

//go:noescape
func maxPoolBackAVX512(x, dy, dx *float32, offs *int, nwin, n, c, xstep, ystep int)

//go:noescape
func avgPoolBackAVX512(dy, dx *float32, offs *int, nwin, n, c, xstep, ystep int, scale float32)

// MaxPoolAVX2 is MaxPoolRef in AVX2.
func MaxPoolAVX2(x, y []float32, offs []int, n, c, xstep, ystep int) {
	if fwdOK("MaxPoolAVX2", x, y, offs, n, c, xstep, ystep) {
		maxPoolAVX2(&x[0], &y[0], &offs[0], len(offs), n, c, xstep, ystep)
	}
}

// AvgPoolAVX2 is AvgPoolRef in AVX2.
func AvgPoolAVX2(x, y []float32, offs []int, n, c, xstep, ystep int, scale float32) {
	if fwdOK("AvgPoolAVX2", x, y, offs, n, c, xstep, ystep) {
		avgPoolAVX2(&x[0], &y[0], &offs[0], len(offs), n, c, xstep, ystep, scale)
	}
}

// MaxPoolBackAVX2 is MaxPoolBackRef in AVX2.
func MaxPoolBackAVX2(x, dy, dx []float32, offs []int, n, c, xstep, ystep int) {
	if fwdOK("MaxPoolBackAVX2", x, dy, offs, n, c, xstep, ystep) {
		poolSpan("MaxPoolBackAVX2", "dx", len(dx), offs, n, c, xstep)
		maxPoolBackAVX2(&x[0], &dy[0], &dx[0], &offs[0], len(offs), n, c, xstep, ystep)
	}
}

// AvgPoolBackAVX2 is AvgPoolBackRef in AVX2.
func AvgPoolBackAVX2(dy, dx []float32, offs []int, n, c, xstep, ystep int, scale float32) {
	if fwdOK("AvgPoolBackAVX2", dx, dy, offs, n, c, xstep, ystep) {
		avgPoolBackAVX2(&dy[0], &dx[0], &offs[0], len(offs), n, c, xstep, ystep, scale)
	}
}

// MaxPoolAVX512 is MaxPoolRef in AVX-512.
func MaxPoolAVX512(x, y []float32, offs []int, n, c, xstep, ystep int) {
	if fwdOK("MaxPoolAVX512", x, y, offs, n, c, xstep, ystep) {
		maxPoolAVX512(&x[0], &y[0], &offs[0], len(offs), n, c, xstep, ystep)
	}
}

// AvgPoolAVX512 is AvgPoolRef in AVX-512.
func AvgPoolAVX512(x, y []float32, offs []int, n, c, xstep, ystep int, scale float32) {
	if fwdOK("AvgPoolAVX512", x, y, offs, n, c, xstep, ystep) {
		avgPoolAVX512(&x[0], &y[0], &offs[0], len(offs), n, c, xstep, ystep, scale)
	}
}

// MaxPoolBackAVX512 is MaxPoolBackRef in AVX-512.
func MaxPoolBackAVX512(x, dy, dx []float32, offs []int, n, c, xstep, ystep int) {
	if fwdOK("MaxPoolBackAVX512", x, dy, offs, n, c, xstep, ystep) {
		poolSpan("MaxPoolBackAVX512", "dx", len(dx), offs, n, c, xstep)
		maxPoolBackAVX512(&x[0], &dy[0], &dx[0], &offs[0], len(offs), n, c, xstep, ystep)
	}
}

// AvgPoolBackAVX512 is AvgPoolBackRef in AVX-512.
func AvgPoolBackAVX512(dy, dx []float32, offs []int, n, c, xstep, ystep int, scale float32) {
	if fwdOK("AvgPoolBackAVX512", dx, dy, offs, n, c, xstep, ystep) {
		avgPoolBackAVX512(&dy[0], &dx[0], &offs[0], len(offs), n, c, xstep, ystep, scale)
	}
}

//go:noescape
func maxPool3s2AVX2(x, y *float32, n, c, xrow, ystep int)

//go:noescape
func maxPool3s2AVX512(x, y *float32, n, c, xrow, ystep int)

// check3s2 checks a 3×3 stride-2 run's buffers and reports whether it has
// work.
func check3s2(what string, x, y []float32, n, c, xrow, ystep int) bool {
	if n <= 0 || c <= 0 {
		return false
	}
	if 2*xrow+2*n*c+c > len(x) || (n-1)*ystep+c > len(y) {
		panic("asm: " + what + ": pooling window outside the buffer")
	}
	return true
}

// MaxPool3s2AVX2 is MaxPoolRef for a 3×3 stride-2 window with all nine
// taps inside the image (offsets r·xrow + q·c), c a multiple of 8, with
// the column maxima shared between neighbouring windows.
func MaxPool3s2AVX2(x, y []float32, n, c, xrow, ystep int) {
	if c%8 != 0 {
		panic("asm: MaxPool3s2AVX2: channels not a multiple of 8")
	}
	if check3s2("MaxPool3s2AVX2", x, y, n, c, xrow, ystep) {
		maxPool3s2AVX2(&x[0], &y[0], n, c, xrow, ystep)
	}
}

// MaxPool3s2AVX512 is MaxPool3s2AVX2 in AVX-512, c a multiple of 16.
func MaxPool3s2AVX512(x, y []float32, n, c, xrow, ystep int) {
	if c%16 != 0 {
		panic("asm: MaxPool3s2AVX512: channels not a multiple of 16")
	}
	if check3s2("MaxPool3s2AVX512", x, y, n, c, xrow, ystep) {
		maxPool3s2AVX512(&x[0], &y[0], n, c, xrow, ystep)
	}
}
