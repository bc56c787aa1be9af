package kernels

import (
	"sync"

	"github.com/nasrun/nasrun/kernels/asm"
)

// dwPlan is a depthwise convolution without bias or activation, prepared
// once (weights packed, border segments and gradient calls planned) and
// then run on chunks of images by several goroutines at once: the
// forward pass, the input gradient and the weight gradient, each chunk's
// weight gradient into its slot's accumulator.
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
	w     []float32
	dyPad int
	fwd   *dwJob
	dx    []*dwJob // the input gradient's phases with taps (SIMD)
	dx0   []*dwJob // phases no tap lands on: their dx pixels are zero
	grad  *dwJob
}

var dwPlans = sync.Pool{New: func() any { return new(dwPlan) }}

// newDWPlan prepares p (Act ignored) with weights w for images of p's size;
// p.N is the most images one call takes.
func newDWPlan(p DWConv, w []float32) *dwPlan {
	p.Act = ActNone
	pl := dwPlans.Get().(*dwPlan)
	pl.p, pl.w = p, w
	pl.pp = p
	pl.pp.H, pl.pp.W, pl.pp.Pad = p.H+2*p.Pad, p.W+2*p.Pad, 0
	pl.fwd = getDWJob(pl.pp)
	pl.fwd.w = w
	if pl.fwd.simd {
		pl.fwd.prepareFwd(nil, w, nil, nil)
		// The least padding of dy that puts every phase's windows inside it.
		for pad := 0; pad <= p.K; pad++ {
			pl.prepareDx(pad)
			if pl.dxInterior() || pad == p.K {
				if !pl.dxInterior() {
					pl.prepareDx(0)
				}
				break
			}
		}
	}
	pl.grad = getDWJob(pl.pp)
	pl.grad.setGrad(nil, nil, true)
	return pl
}

// prepareDx prepares the input gradient's phases for dy padded by pad.
func (pl *dwPlan) prepareDx(pad int) {
	pl.releaseDx()
	pl.dyPad = pad
	for ph := range dxPhases(pl.p) {
		j := getDWJob(pl.p)
		j.w = pl.w
		switch j.prepareDxPhase(ph, pad, nil, nil) {
		case dxPhaseRun:
			pl.dx = append(pl.dx, j)
		case dxPhaseZero:
			pl.dx0 = append(pl.dx0, j)
		default:
			putDWJob(j)
		}
	}
}

// dxInterior reports whether every phase's windows lie inside its input.
func (pl *dwPlan) dxInterior() bool {
	for _, j := range pl.dx {
		q := &j.corr
		if q.oxL != 0 || q.oxR != q.ow || q.oyT != 0 || q.oyB != q.oh {
			return false
		}
	}
	return true
}

func (pl *dwPlan) releaseDx() {
	for _, j := range pl.dx {
		putDWJob(j)
	}
	for _, j := range pl.dx0 {
		putDWJob(j)
	}
	clear(pl.dx)
	clear(pl.dx0)
	pl.dx, pl.dx0 = pl.dx[:0], pl.dx0[:0]
}

// release pools the plan's jobs and the plan.
func (pl *dwPlan) release() {
	putDWJob(pl.fwd)
	pl.releaseDx()
	putDWJob(pl.grad)
	*pl = dwPlan{dx: pl.dx, dx0: pl.dx0}
	dwPlans.Put(pl)
}

// slots sets up t zeroed weight-gradient accumulators.
func (pl *dwPlan) slots(t int) {
	g := &pl.grad.grad
	g.chunks = t
	pl.grad.gacc = grow(pl.grad.gacc, t*g.accLen)
	clear(pl.grad.gacc)
}

// acc returns slot i's accumulator.
func (pl *dwPlan) acc(_ *blockSlot, i int) []float32 {
	n := pl.grad.grad.accLen
	return pl.grad.gacc[i*n : (i+1)*n]
}

// combine sums the slots' accumulators into dw (overwritten).
func (pl *dwPlan) combine(dw []float32) { pl.grad.combineGrad(dw, nil) }

// forward convolves n padded images of x into y.
func (pl *dwPlan) forward(x, y []float32, n int) {
	j, p := pl.fwd, pl.pp
	if !j.simd {
		img, row := p.H*p.W*p.C, j.ow*p.C
		for r := range n * j.oh {
			i, oy := r/j.oh, r%j.oh
			asm.DWConvFwdRowRef(x[i*img:(i+1)*img], p.H, p.W, p.C, p.K, p.Stride, 0, pl.w, nil, y[r*row:(r+1)*row], oy)
		}
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
		oimg, row := pl.fwd.oh*pl.fwd.ow*p.C, p.W*p.C
		for r := range n * p.H {
			i, iy := r/p.H, r%p.H
			asm.DWConvDxRowRef(dy[i*oimg:(i+1)*oimg], pl.fwd.oh, pl.fwd.ow, p.C, p.K, p.Stride, p.Pad, pl.w, dx[r*row:(r+1)*row], iy)
		}
		return
	}
	for _, j := range pl.dx {
		q := j.corr
		q.in, q.out = dy, dx
		j.corrRowsOf(&q, 0, n*q.oh)
	}
	for _, j := range pl.dx0 {
		q := &j.corr
		for i := range n {
			for oy := range q.oh {
				for ox := range q.ow {
					o := i*q.outImg + q.off + oy*q.oRow + ox*q.oPix
					clear(dx[o : o+q.c])
				}
			}
		}
	}
}

// gradOf adds the weight gradient of n images (padded input x, output
// gradient dy) into acc, a slot's accumulator.
func (pl *dwPlan) gradOf(x, dy []float32, n int, acc []float32) {
	g := pl.grad.grad
	g.x, g.dy = x, dy
	pl.grad.gradRows(&g, acc, 0, n*g.oh)
}
