package asm

// Pooling row kernels. One call covers n output pixels of one output row
// whose windows are fully inside the image (the caller clips borders by
// passing a shorter offset list). Every window is described by offs: the
// element offsets, in scan order (rows outer, columns inner), of its valid
// input pixels relative to the window origin. Output pixel j reads the
// window at x[j*xstep:] and writes y[j*ystep : j*ystep+c]; a pixel's c
// channels are contiguous (NHWC).

// MaxPoolRef is the reference of the max-pool row kernel:
// y[j*ystep+ch] = max over t of x[j*xstep+offs[t]+ch].
func MaxPoolRef(x, y []float32, offs []int, n, c, xstep, ystep int) {
	for j := range n {
		xj, yj := x[j*xstep:], y[j*ystep:j*ystep+c]
		for ch := range yj {
			m := xj[offs[0]+ch]
			for _, o := range offs[1:] {
				m = max(m, xj[o+ch])
			}
			yj[ch] = m
		}
	}
}

// AvgPoolRef is the reference of the average-pool row kernel:
// y[j*ystep+ch] = scale · Σ_t x[j*xstep+offs[t]+ch].
func AvgPoolRef(x, y []float32, offs []int, n, c, xstep, ystep int, scale float32) {
	for j := range n {
		xj, yj := x[j*xstep:], y[j*ystep:j*ystep+c]
		for ch := range yj {
			var s float32
			for _, o := range offs {
				s += xj[o+ch]
			}
			yj[ch] = s * scale
		}
	}
}

// MaxPoolBackRef is the reference of the max-pool backward row kernel: for
// each output pixel j and channel, dy[j*ystep+ch] is added to dx at the
// first window position (in offs order) that holds the window's maximum.
func MaxPoolBackRef(x, dy, dx []float32, offs []int, n, c, xstep, ystep int) {
	for j := range n {
		xj, dxj, dyj := x[j*xstep:], dx[j*xstep:], dy[j*ystep:j*ystep+c]
		for ch, g := range dyj {
			best, m := offs[0], xj[offs[0]+ch]
			for _, o := range offs[1:] {
				if v := xj[o+ch]; v > m {
					best, m = o, v
				}
			}
			dxj[best+ch] += g
		}
	}
}

// AvgPoolBackRef is the reference of the average-pool backward row kernel:
// dx[j*xstep+offs[t]+ch] += scale · dy[j*ystep+ch] for every t.
func AvgPoolBackRef(dy, dx []float32, offs []int, n, c, xstep, ystep int, scale float32) {
	for j := range n {
		dxj, dyj := dx[j*xstep:], dy[j*ystep:j*ystep+c]
		for ch, g := range dyj {
			g *= scale
			for _, o := range offs {
				dxj[o+ch] += g
			}
		}
	}
}

// poolSpan checks that n windows of offs with c channels fit in a buffer of
// length l (offsets are non-negative and ascending, so the last is largest)
// and panics otherwise; the assembly wrappers call it before touching memory.
func poolSpan(what, buf string, l int, offs []int, n, c, step int) {
	if n <= 0 || c <= 0 {
		return
	}
	if len(offs) == 0 || offs[0] < 0 || (n-1)*step+offs[len(offs)-1]+c > l {
		panic("asm: " + what + " " + buf + ": pooling window outside the buffer")
	}
}

// fwdOK checks a forward call's buffers and reports whether it has work.
func fwdOK(what string, x, y []float32, offs []int, n, c, xstep, ystep int) bool {
	if n <= 0 || c <= 0 {
		return false
	}
	poolSpan(what, "x", len(x), offs, n, c, xstep)
	if (n-1)*ystep+c > len(y) {
		panic("asm: " + what + " y: pooling output outside the buffer")
	}
	return true
}
