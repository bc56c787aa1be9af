package autograd

import (
	"math/rand/v2"

	"github.com/nasrun/nasrun/kernels"
)

// Act applies activation a elementwise; ActNone returns x itself.
func (tp *Tape) Act(x *Var, a kernels.Act) *Var {
	if tp.err != nil {
		return &tp.dead
	}
	if a == kernels.ActNone {
		return x
	}
	y := tp.newVar(x.Value.Shape, x)
	kernels.Activate(a, x.Value.Data, y.Value.Data)
	if n := tp.record(actBackward, y, x); n != nil {
		n.act = a
	}
	return y
}

// actBackward: in = x; act = the activation.
func actBackward(tp *Tape, n *node) {
	x := n.in[0]
	dx := tp.sinkInPlace(x, n.out.Grad.Data)
	kernels.ActivateBackward(n.act, x.Value.Data, n.out.Grad.Data, dx)
	tp.flush(x, dx)
}

// ReLU is max(x, 0).
func (tp *Tape) ReLU(x *Var) *Var { return tp.Act(x, kernels.ActReLU) }

// ReLU6 is min(max(x, 0), 6).
func (tp *Tape) ReLU6(x *Var) *Var { return tp.Act(x, kernels.ActReLU6) }

// Hardswish is x·relu6(x+3)/6.
func (tp *Tape) Hardswish(x *Var) *Var { return tp.Act(x, kernels.ActHardswish) }

// Hardsigmoid is relu6(x+3)/6.
func (tp *Tape) Hardsigmoid(x *Var) *Var { return tp.Act(x, kernels.ActHardsigmoid) }

// Sigmoid is 1/(1+e^−x).
func (tp *Tape) Sigmoid(x *Var) *Var { return tp.Act(x, kernels.ActSigmoid) }

// ScaleChannels multiplies each channel of each image by a per-image
// scale, the SE block's excitation: x [N,H,W,C] · s [N,C] (or [N,1,1,C]) →
// [N,H,W,C].
func (tp *Tape) ScaleChannels(x, s *Var) *Var {
	if tp.err != nil {
		return &tp.dead
	}
	xs := x.Value.Shape
	if len(xs) != 4 || len(s.Value.Shape) == 0 || s.Value.Shape[0] != xs[0] || len(s.Value.Data) != xs[0]*xs[3] {
		return tp.failf("autograd.ScaleChannels: input %v (want N,H,W,C) and scale %v (want N,C) do not match", xs, s.Value.Shape)
	}
	y := tp.newVar(xs, x, s)
	kernels.ScaleChannels(xs[0], xs[1]*xs[2], xs[3], x.Value.Data, s.Value.Data, y.Value.Data)
	tp.record(scaleChannelsBackward, y, x, s)
	return y
}

// scaleChannelsBackward: in = x, s.
func scaleChannelsBackward(tp *Tape, n *node) {
	x, s := n.in[0], n.in[1]
	xs := x.Value.Shape
	dx, ds := tp.sink(x), tp.sink(s)
	kernels.ScaleChannelsBackward(xs[0], xs[1]*xs[2], xs[3], x.Value.Data, s.Value.Data, n.out.Grad.Data, dx, ds)
	tp.flush(x, dx)
	tp.flush(s, ds)
}

// Dropout zeroes each element with probability p, drawn from rng, and
// scales the survivors by 1/(1−p) (inverted dropout). Use it in training
// only; p = 0 returns x itself.
func (tp *Tape) Dropout(x *Var, p float32, rng *rand.Rand) *Var {
	if tp.err != nil {
		return &tp.dead
	}
	if p < 0 || p >= 1 {
		return tp.failf("autograd.Dropout: probability %g outside [0, 1)", p)
	}
	if p == 0 {
		return x
	}
	y := tp.newVar(x.Value.Shape, x)
	mask := tp.buf(len(x.Value.Data))
	keep := 1 / (1 - p)
	for i := range mask {
		if rng.Float32() < p {
			mask[i] = 0
		} else {
			mask[i] = keep
		}
	}
	xd, yd := x.Value.Data, y.Value.Data
	for i, m := range mask {
		yd[i] = xd[i] * m
	}
	if n := tp.record(dropoutBackward, y, x); n != nil {
		n.saved[0] = mask
	}
	return y
}

// dropoutBackward: in = x; saved[0] = the scaled mask.
func dropoutBackward(tp *Tape, n *node) {
	x := n.in[0]
	dy := n.out.Grad.Data
	dx := tp.sinkInPlace(x, dy)
	if dx == nil {
		return
	}
	for i, m := range n.saved[0] {
		dx[i] = dy[i] * m
	}
	tp.flush(x, dx)
}
