package kernels

import "github.com/nasrun/nasrun/kernels/asm"

// dwPlan is a depthwise convolution without bias or activation, prepared
// once (weights packed, border segments and gradient calls planned) and
// then run on chunks of images by several goroutines at once: the
// forward pass, the input gradient and the weight gradient, each chunk's
// weight gradient into its slot's accumulator. Every operand's pixels are
// ld floats apart (C channels used; a Ghost module's halves are ld = 2C).
//
// The caller stores the input padded: each image (H+2·Pad)×(W+2·Pad) with
// zeros around it, so that the forward pass and the weight gradient are
// correlations without padding, every window inside the input and no pixel
// on the border code (which on a 7×7 map with a 5×5 window is all but 9 of
// the 49). Likewise the input gradient reads the output gradient padded by
// dyPad zero pixels (SIMD implementations; 0 for the reference, which reads
// it as it is).
type dwPlan struct {
	p, pp DWConv // the convolution, and the same on the padded input (Pad 0)
	ld    int
	w     []float32
	dyPad int
	fwd   dwJob
	dx    []dwJob // the input gradient's phases (SIMD)
	dxRun []int   // the phases with taps
	dx0   []int   // phases no tap lands on: their dx pixels are zero
	grad  dwJob
}

// prepare plans p (Act ignored) with weights w for images of p's size
// whose pixels are ld floats apart; p.N is the most images one call
// takes. A plan is prepared again whenever the weights change; it keeps
// its buffers.
func (pl *dwPlan) prepare(p DWConv, w []float32, ld int) {
	p.Act = ActNone
	pl.p, pl.w, pl.ld = p, w, ld
	pl.pp = p
	pl.pp.H, pl.pp.W, pl.pp.Pad = p.H+2*p.Pad, p.W+2*p.Pad, 0
	pl.fwd.init(pl.pp)
	pl.fwd.w, pl.fwd.ld = w, ld
	if pl.fwd.simd {
		pl.fwd.prepareFwd(nil, w, nil, nil)
		// The least padding of dy that puts every phase's windows inside it.
		for pad := 0; pad <= p.K; pad++ {
			pl.prepareDx(pad)
			if pl.dxInterior() {
				break
			}
			if pad == p.K {
				pl.prepareDx(0)
			}
		}
	}
	pl.grad.init(pl.pp)
	pl.grad.ld = ld
	pl.grad.setGrad(nil, nil, true)
}

// prepareDx prepares the input gradient's phases for dy padded by pad.
func (pl *dwPlan) prepareDx(pad int) {
	pl.dyPad = pad
	n := dxPhases(pl.p)
	if len(pl.dx) < n {
		pl.dx = make([]dwJob, n)
	}
	pl.dxRun, pl.dx0 = pl.dxRun[:0], pl.dx0[:0]
	for ph := range n {
		j := &pl.dx[ph]
		j.init(pl.p)
		j.w, j.ld = pl.w, pl.ld
		switch j.prepareDxPhase(ph, pad, nil, nil) {
		case dxPhaseRun:
			pl.dxRun = append(pl.dxRun, ph)
		case dxPhaseZero:
			pl.dx0 = append(pl.dx0, ph)
		}
	}
}

// dxInterior reports whether every phase's windows lie inside its input.
func (pl *dwPlan) dxInterior() bool {
	for _, ph := range pl.dxRun {
		q := &pl.dx[ph].corr
		if q.oxL != 0 || q.oxR != q.ow || q.oyT != 0 || q.oyB != q.oh {
			return false
		}
	}
	return true
}

// slots sets up t zeroed weight-gradient accumulators.
func (pl *dwPlan) slots(t int) {
	g := &pl.grad.grad
	g.chunks = t
	pl.grad.gacc = grow(pl.grad.gacc, t*g.accLen)
	clear(pl.grad.gacc)
}

// acc returns slot i's accumulator.
func (pl *dwPlan) acc(i int) []float32 {
	n := pl.grad.grad.accLen
	return pl.grad.gacc[i*n : (i+1)*n]
}

// combine sums the slots' accumulators into dw (overwritten).
func (pl *dwPlan) combine(dw []float32) { pl.grad.combineGrad(dw, nil) }

// forward convolves n padded images of x into y.
func (pl *dwPlan) forward(x, y []float32, n int) {
	j, p := &pl.fwd, pl.pp
	if !j.simd {
		xc, xs := pl.dense(x, n*p.H*p.W)
		yc, ys := pl.denseOut(y, n*j.oh*j.ow)
		img, row := p.H*p.W*p.C, j.ow*p.C
		for r := range n * j.oh {
			i, oy := r/j.oh, r%j.oh
			asm.DWConvFwdRowRef(xc[i*img:(i+1)*img], p.H, p.W, p.C, p.K, p.Stride, 0, pl.w, nil, yc[r*row:(r+1)*row], oy)
		}
		pl.scatter(yc, y, n*j.oh*j.ow, ys)
		release(xs)
		return
	}
	q := j.corr
	q.in, q.out = x, y
	j.corrRowsOf(&q, 0, n*q.oh)
}

// dxOf writes into dx the input gradient of n images given dy, padded by
// dyPad.
func (pl *dwPlan) dxOf(dy, dx []float32, n int) {
	p := pl.p
	if !pl.fwd.simd {
		oh, ow := pl.fwd.oh, pl.fwd.ow
		dyc, dys := pl.dense(dy, n*oh*ow)
		dxc, dxs := pl.denseOut(dx, n*p.H*p.W)
		oimg, row := oh*ow*p.C, p.W*p.C
		for r := range n * p.H {
			i, iy := r/p.H, r%p.H
			asm.DWConvDxRowRef(dyc[i*oimg:(i+1)*oimg], oh, ow, p.C, p.K, p.Stride, p.Pad, pl.w, dxc[r*row:(r+1)*row], iy)
		}
		pl.scatter(dxc, dx, n*p.H*p.W, dxs)
		release(dys)
		return
	}
	for _, ph := range pl.dxRun {
		j := &pl.dx[ph]
		q := j.corr
		q.in, q.out = dy, dx
		j.corrRowsOf(&q, 0, n*q.oh)
	}
	for _, ph := range pl.dx0 {
		pl.dx[ph].corr.clearOut(dx, n)
	}
}

// gradOf adds the weight gradient of n images (padded input x, output
// gradient dy) into acc, a slot's accumulator. With SIMD, dy may be stored
// padded by dyPad as dxOf reads it (padded true).
func (pl *dwPlan) gradOf(x, dy []float32, padded bool, n int, acc []float32) {
	g := pl.grad.grad
	if pl.grad.simd {
		g.x, g.dy = x, dy
		if padded && pl.dyPad > 0 {
			wp := g.ow + 2*pl.dyPad
			g.dyRow, g.dyImg = wp*pl.ld, (g.oh+2*pl.dyPad)*wp*pl.ld
			g.dy = dy[(pl.dyPad*wp+pl.dyPad)*pl.ld:]
		}
		pl.grad.gradRows(&g, acc, 0, n*g.oh)
		return
	}
	xc, xs := pl.dense(x, n*pl.pp.H*pl.pp.W)
	dyc, dys := pl.dense(dy, n*pl.fwd.oh*pl.fwd.ow)
	g.x, g.dy = xc, dyc
	pl.grad.gradRows(&g, acc, 0, n*g.oh)
	release(xs)
	release(dys)
}

// The reference kernels take dense pixels (C floats apart): for a plan of
// ld ≠ C, dense copies its operands and scatter puts an output back.

// dense returns px pixels of x packed C floats apart: x itself if they
// are, else a copy in scratch (non-nil, to release).
func (pl *dwPlan) dense(x []float32, px int) ([]float32, *eltScratch) {
	c := pl.p.C
	if pl.ld == c {
		return x, nil
	}
	sc := getEltScratch(px*c, 0)
	copyRows(px, c, pl.ld, c, x, sc.f32)
	return sc.f32, sc
}

// denseOut returns a buffer for px output pixels packed C floats apart: y
// itself if its pixels are, else scratch (non-nil, for scatter).
func (pl *dwPlan) denseOut(y []float32, px int) ([]float32, *eltScratch) {
	if pl.ld == pl.p.C {
		return y, nil
	}
	sc := getEltScratch(px*pl.p.C, 0)
	return sc.f32, sc
}

// scatter copies px dense pixels d into y (ld apart) and releases sc; a nil
// sc means d is y.
func (pl *dwPlan) scatter(d, y []float32, px int, sc *eltScratch) {
	if sc == nil {
		return
	}
	copyRows(px, pl.p.C, pl.p.C, pl.ld, d, y)
	sc.put()
}

// release puts scratch back unless it is nil.
func release(sc *eltScratch) {
	if sc != nil {
		sc.put()
	}
}
