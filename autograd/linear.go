package autograd

import (
	"github.com/nasrun/nasrun/kernels"
)

// Linear is x·W + b: x [..., In] (rows are all leading dimensions),
// W [In,Out], optional b [Out] (nil for none) → [..., Out].
func (tp *Tape) Linear(x, w, b *Var) *Var {
	if tp.err != nil {
		return &tp.dead
	}
	xs, ws := x.Value.Shape, w.Value.Shape
	if len(xs) < 1 || len(ws) != 2 || xs[len(xs)-1] != ws[0] {
		return tp.failf("autograd.Linear: input %v (want ...,In) and weight %v (want In,Out) do not match", xs, ws)
	}
	in, out := ws[0], ws[1]
	if b != nil && len(b.Value.Data) != out {
		return tp.failf("autograd.Linear: bias %v for weight %v, want [%d]", b.Value.Shape, ws, out)
	}
	rows := len(x.Value.Data) / max(in, 1)
	var shape [maxDims]int
	ys := append(shape[:0], xs...)
	ys[len(ys)-1] = out
	y := tp.newVar(ys, x, w, b)
	kernels.Sgemm(false, false, rows, out, in, 1, x.Value.Data, in, w.Value.Data, out, 0, y.Value.Data, out)
	if b != nil {
		kernels.AddBias(rows, out, y.Value.Data, b.Value.Data)
	}
	tp.record(linearBackward, y, x, w, b)
	return y
}

// linearBackward: in = x, W, b. The GEMMs accumulate straight into the
// gradients (beta = 1) once they hold a contribution.
func linearBackward(tp *Tape, n *node) {
	x, w, b := n.in[0], n.in[1], n.in[2]
	in, out := w.Value.Shape[0], w.Value.Shape[1]
	rows := len(x.Value.Data) / max(in, 1)
	dy := n.out.Grad.Data
	if dx, beta := tp.gradBeta(x); dx != nil {
		kernels.Sgemm(false, true, rows, in, out, 1, dy, out, w.Value.Data, out, beta, dx, in)
	}
	if dw, beta := tp.gradBeta(w); dw != nil {
		kernels.Sgemm(true, false, in, out, rows, 1, x.Value.Data, in, dy, out, beta, dw, out)
	}
	if db := tp.sink(b); db != nil {
		kernels.BiasGrad(rows, out, dy, db)
		tp.flush(b, db)
	}
}
