//go:build gc && !purego && !noasm

package asm

// NEON pooling row kernels (pool_neon_arm64.s). The assembly takes whole
// vectors of 4 channels; the wrappers check every window against its
// buffers, call it on the first c &^ 3 channels and run the Go reference on
// the rest.

//go:noescape
func maxPoolNEON(x, y *float32, offs *int, nwin, n, c, xstep, ystep int)

//go:noescape
func avgPoolNEON(x, y *float32, offs *int, nwin, n, c, xstep, ystep int, scale float32)

//go:noescape
func maxPoolBackNEON(x, dy, dx *float32, offs *int, nwin, n, c, xstep, ystep int)

//go:noescape
func avgPoolBackNEON(dy, dx *float32, offs *int, nwin, n, c, xstep, ystep int, scale float32)

// MaxPoolNEON is MaxPoolRef in NEON.
func MaxPoolNEON(x, y []float32, offs []int, n, c, xstep, ystep int) {
	c4 := c &^ 3
	if c4 > 0 && fwdOK("MaxPoolNEON", x, y, offs, n, c4, xstep, ystep) {
		maxPoolNEON(&x[0], &y[0], &offs[0], len(offs), n, c4, xstep, ystep)
	}
	if c4 < c && n > 0 {
		MaxPoolRef(x[c4:], y[c4:], offs, n, c-c4, xstep, ystep)
	}
}

// AvgPoolNEON is AvgPoolRef in NEON.
func AvgPoolNEON(x, y []float32, offs []int, n, c, xstep, ystep int, scale float32) {
	c4 := c &^ 3
	if c4 > 0 && fwdOK("AvgPoolNEON", x, y, offs, n, c4, xstep, ystep) {
		avgPoolNEON(&x[0], &y[0], &offs[0], len(offs), n, c4, xstep, ystep, scale)
	}
	if c4 < c && n > 0 {
		AvgPoolRef(x[c4:], y[c4:], offs, n, c-c4, xstep, ystep, scale)
	}
}

// MaxPoolBackNEON is MaxPoolBackRef in NEON.
func MaxPoolBackNEON(x, dy, dx []float32, offs []int, n, c, xstep, ystep int) {
	c4 := c &^ 3
	if c4 > 0 && fwdOK("MaxPoolBackNEON", x, dy, offs, n, c4, xstep, ystep) {
		poolSpan("MaxPoolBackNEON", "dx", len(dx), offs, n, c4, xstep)
		maxPoolBackNEON(&x[0], &dy[0], &dx[0], &offs[0], len(offs), n, c4, xstep, ystep)
	}
	if c4 < c && n > 0 {
		MaxPoolBackRef(x[c4:], dy[c4:], dx[c4:], offs, n, c-c4, xstep, ystep)
	}
}

// AvgPoolBackNEON is AvgPoolBackRef in NEON.
func AvgPoolBackNEON(dy, dx []float32, offs []int, n, c, xstep, ystep int, scale float32) {
	c4 := c &^ 3
	if c4 > 0 && fwdOK("AvgPoolBackNEON", dx, dy, offs, n, c4, xstep, ystep) {
		avgPoolBackNEON(&dy[0], &dx[0], &offs[0], len(offs), n, c4, xstep, ystep, scale)
	}
	if c4 < c && n > 0 {
		AvgPoolBackRef(dy[c4:], dx[c4:], offs, n, c-c4, xstep, ystep, scale)
	}
}
