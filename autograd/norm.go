package autograd

import (
	"math"

	"github.com/nasrun/nasrun/kernels"
)

// checkBN validates x [N,H,W,C] (or [N,C]) against gamma and beta [C] and
// returns rows = N·H·W and C, or ok = false after recording an error.
func (tp *Tape) checkBN(op string, x, gamma, beta *Var) (rows, c int, ok bool) {
	xs := x.Value.Shape
	if len(xs) < 2 {
		tp.failf("%s: input %v has no channel axis", op, xs)
		return 0, 0, false
	}
	c = xs[len(xs)-1]
	if len(gamma.Value.Data) != c || len(beta.Value.Data) != c {
		tp.failf("%s: input %v with gamma %v and beta %v, want [%d] each", op, xs, gamma.Value.Shape, beta.Value.Shape, c)
		return 0, 0, false
	}
	return len(x.Value.Data) / max(c, 1), c, true
}

// BatchNorm2d is training-mode batch normalisation over N·H·W of x
// [N,H,W,C] (or [N,C]) with scale gamma [C] and shift beta [C]. It also
// returns the batch mean and biased variance (divided by N·H·W) for the
// running-statistics update; they live in the tape's arena until Reset.
func (tp *Tape) BatchNorm2d(x, gamma, beta *Var, eps float32) (y *Var, mean, variance []float32) {
	return tp.BatchNormAct(x, gamma, beta, eps, kernels.ActNone)
}

// BatchNormAct is act(BatchNorm2d(x)) as one op: one pass over memory
// forward, and a backward that recomputes the normalised value from x
// instead of storing it (kernels.BatchNormActTrain). It returns the batch
// statistics as BatchNorm2d does.
func (tp *Tape) BatchNormAct(x, gamma, beta *Var, eps float32, act kernels.Act) (y *Var, mean, variance []float32) {
	if tp.err != nil {
		return &tp.dead, nil, nil
	}
	rows, c, ok := tp.checkBN("autograd.BatchNorm2d", x, gamma, beta)
	if !ok {
		return &tp.dead, nil, nil
	}
	y = tp.newVar(x.Value.Shape, x, gamma, beta)
	mean, variance = tp.buf(c), tp.buf(c)
	kernels.BatchNormActTrain(rows, c, eps, act, x.Value.Data, gamma.Value.Data, beta.Value.Data, y.Value.Data, mean, variance)
	if n := tp.record(batchNormBackward, y, x, gamma, beta); n != nil {
		n.f = eps
		n.act = act
		n.saved = [2][]float32{mean, variance}
	}
	return y, mean, variance
}

// batchNormBackward: in = x, gamma, beta; f = eps; act = the fused
// activation; saved = mean, variance.
func batchNormBackward(tp *Tape, n *node) {
	x, gamma, beta := n.in[0], n.in[1], n.in[2]
	c := len(gamma.Value.Data)
	rows := len(x.Value.Data) / max(c, 1)
	dx, dg, db := tp.sinkInPlace(x, n.out.Grad.Data), tp.sink(gamma), tp.sink(beta)
	// The kernel writes all three: unwanted ones go to scratch.
	kx, kg, kb := dx, dg, db
	if kx == nil {
		kx = tp.buf(len(x.Value.Data))
	}
	if kg == nil {
		kg = tp.buf(c)
	}
	if kb == nil {
		kb = tp.buf(c)
	}
	kernels.BatchNormActBackward(rows, c, n.f, n.act, x.Value.Data, gamma.Value.Data, beta.Value.Data, n.saved[0], n.saved[1], n.out.Grad.Data, kx, kg, kb)
	tp.flush(x, dx)
	tp.flush(gamma, dg)
	tp.flush(beta, db)
}

// BatchNorm2dInfer is inference-mode batch normalisation with the running
// statistics runMean and runVar [C] (not copied: they must not change
// before Backward). Gradients flow to x, gamma and beta.
func (tp *Tape) BatchNorm2dInfer(x, gamma, beta *Var, runMean, runVar []float32, eps float32) *Var {
	if tp.err != nil {
		return &tp.dead
	}
	rows, c, ok := tp.checkBN("autograd.BatchNorm2dInfer", x, gamma, beta)
	if !ok {
		return &tp.dead
	}
	if len(runMean) != c || len(runVar) != c {
		return tp.failf("autograd.BatchNorm2dInfer: input %v with %d running means and %d variances", x.Value.Shape, len(runMean), len(runVar))
	}
	y := tp.newVar(x.Value.Shape, x, gamma, beta)
	kernels.BatchNormInfer(rows, c, eps, x.Value.Data, gamma.Value.Data, beta.Value.Data, runMean, runVar, y.Value.Data)
	if n := tp.record(batchNormInferBackward, y, x, gamma, beta); n != nil {
		n.f = eps
		n.saved = [2][]float32{runMean, runVar}
	}
	return y
}

// batchNormInferBackward: in = x, gamma, beta; f = eps; saved = running
// mean and variance. With fixed statistics y = x·g/σ + const per channel.
func batchNormInferBackward(tp *Tape, n *node) {
	x, gamma, beta := n.in[0], n.in[1], n.in[2]
	c := len(gamma.Value.Data)
	rows := len(x.Value.Data) / max(c, 1)
	mean, variance, dy := n.saved[0], n.saved[1], n.out.Grad.Data
	dx, dg, db := tp.sink(x), tp.sink(gamma), tp.sink(beta)
	if dg != nil {
		clear(dg)
	}
	if db != nil {
		kernels.BiasGrad(rows, c, dy, db)
	}
	for j := range c {
		inv := float32(1 / math.Sqrt(float64(variance[j]+n.f)))
		sc := gamma.Value.Data[j] * inv
		for r := range rows {
			i := r*c + j
			if dx != nil {
				dx[i] = dy[i] * sc
			}
			if dg != nil {
				dg[j] += dy[i] * (x.Value.Data[i] - mean[j]) * inv
			}
		}
	}
	tp.flush(x, dx)
	tp.flush(gamma, dg)
	tp.flush(beta, db)
}
