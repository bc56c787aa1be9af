package kernels

import "math"

// DWPlanRun runs a dwPlan of p (no bias, no activation) over the images of
// x, whose pixels are ld floats apart (the first p.C of each used), in
// chunks of chunk images, as a fused block does: the forward pass from the
// input padded around each image, the weight gradient, and the input
// gradient from dy (pixels ld apart too) padded as the plan asks. It
// returns y and dx with pixels ld apart and dw [K,K,C], summed over two
// slots.
func DWPlanRun(p DWConv, ld, chunk int, w, x, dy []float32) (y, dx, dw []float32) {
	var pl dwPlan
	q := p
	q.N = chunk
	pl.prepare(q, w, ld)
	oh, ow := p.OutH(), p.OutW()
	hp, wp := p.H+2*p.Pad, p.W+2*p.Pad
	y = make([]float32, p.N*oh*ow*ld)
	dx = make([]float32, p.N*p.H*p.W*ld)
	nan := float32(math.NaN())
	for i := range y {
		y[i] = nan // every output pixel's channels must be written
	}
	for i := range dx {
		dx[i] = nan
	}
	dw = make([]float32, p.K*p.K*p.C)
	pl.slots(2)
	for n0 := 0; n0 < p.N; n0 += chunk {
		n := min(chunk, p.N-n0)
		// The input, padded.
		xp := make([]float32, n*hp*wp*ld)
		for i := range n {
			for r := range p.H {
				for c := range p.W {
					src := x[(((n0+i)*p.H+r)*p.W+c)*ld:]
					copy(xp[((i*hp+r+p.Pad)*wp+c+p.Pad)*ld:][:p.C], src[:p.C])
				}
			}
		}
		pl.forward(xp, y[n0*oh*ow*ld:], n)
		g := dy[n0*oh*ow*ld:]
		if n0/chunk%2 == 0 {
			// Half the chunks read dy as it is, half padded.
			pl.gradOf(xp, g, false, n, pl.acc(0))
		}
		if pad := pl.dyPad; pad > 0 {
			gp := make([]float32, n*(oh+2*pad)*(ow+2*pad)*ld)
			for i := range n {
				for r := range oh {
					for c := range ow {
						copy(gp[((i*(oh+2*pad)+r+pad)*(ow+2*pad)+c+pad)*ld:][:p.C], g[((i*oh+r)*ow+c)*ld:][:p.C])
					}
				}
			}
			g = gp
		}
		if n0/chunk%2 == 1 {
			pl.gradOf(xp, g, true, n, pl.acc(1))
		}
		pl.dxOf(g, dx[n0*p.H*p.W*ld:], n)
	}
	pl.combine(dw)
	return y, dx, dw
}

// BNGradRows runs the active implementation's fused gradient-and-sums
// kernel of act (or, where it has none, the composed path the blocks fall
// back to) over rows of c channels, ld floats apart: g = dy·act'(x·s + t)
// and the sums Σg and Σg·(x − m) per channel. It reports whether the
// kernel was fused.
func BNGradRows(act Act, rows, c, ld int, x, dy, s, t, m, g, sumG, sumGX []float32) bool {
	k := elt()
	f := k.fusedBN(act, c)
	if f >= 0 && k.bn.Grad[f] != nil {
		k.bn.Grad[f](rows, c, ld, x, dy, s, t, m, g, sumG, sumGX)
		return true
	}
	k.actGradLd(act, rows, c, ld, x, s, t, dy, g, make([]float32, rows*ld))
	k.colAccLd(rows, c, ld, g, nil, x, m, sumG, sumGX)
	return false
}

// SetBlockForceSteal sets blockForceSteal (see runJob) and returns the
// previous value.
func SetBlockForceSteal(on bool) bool {
	prev := blockForceSteal
	blockForceSteal = on
	return prev
}
