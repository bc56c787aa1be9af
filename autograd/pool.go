package autograd

import (
	"github.com/nasrun/nasrun/kernels"
)

// pool2d is the shared forward of MaxPool2d and AvgPool2d.
func (tp *Tape) pool2d(op string, x *Var, k, stride, pad int, fwd func(kernels.Pool, []float32, []float32), back func(*Tape, *node)) *Var {
	if tp.err != nil {
		return &tp.dead
	}
	xs := x.Value.Shape
	if len(xs) != 4 {
		return tp.failf("%s: input %v, want N,H,W,C", op, xs)
	}
	ho, wo := convOut(xs[1], k, stride, pad), convOut(xs[2], k, stride, pad)
	if ho == 0 || wo == 0 || pad < 0 || 2*pad > k {
		return tp.failf("%s: %dx%d window, stride %d, pad %d does not fit input %v", op, k, k, stride, pad, xs)
	}
	p := kernels.Pool{N: xs[0], H: xs[1], W: xs[2], C: xs[3], K: k, Stride: stride, Pad: pad}
	y := tp.newVar([]int{xs[0], ho, wo, xs[3]}, x)
	fwd(p, x.Value.Data, y.Value.Data)
	if n := tp.record(back, y, x); n != nil {
		n.pool = p
	}
	return y
}

// MaxPool2d takes the maximum of each k×k window (padding never wins):
// x [N,H,W,C] → [N,Ho,Wo,C].
func (tp *Tape) MaxPool2d(x *Var, k, stride, pad int) *Var {
	return tp.pool2d("autograd.MaxPool2d", x, k, stride, pad, kernels.MaxPool2d, maxPoolBackward)
}

// maxPoolBackward: in = x; pool = the window.
func maxPoolBackward(tp *Tape, n *node) {
	x := n.in[0]
	dx := tp.sink(x)
	kernels.MaxPool2dBackward(n.pool, x.Value.Data, n.out.Grad.Data, dx)
	tp.flush(x, dx)
}

// AvgPool2d averages each k×k window: x [N,H,W,C] → [N,Ho,Wo,C]. How padded
// cells count is the kernel's rule (kernels.AvgPool2d).
func (tp *Tape) AvgPool2d(x *Var, k, stride, pad int) *Var {
	return tp.pool2d("autograd.AvgPool2d", x, k, stride, pad, kernels.AvgPool2d, avgPoolBackward)
}

// avgPoolBackward: in = x; pool = the window.
func avgPoolBackward(tp *Tape, n *node) {
	x := n.in[0]
	dx := tp.sink(x)
	kernels.AvgPool2dBackward(n.pool, n.out.Grad.Data, dx)
	tp.flush(x, dx)
}

// GlobalAvgPool averages over the spatial axes: x [N,H,W,C] → [N,C].
func (tp *Tape) GlobalAvgPool(x *Var) *Var {
	if tp.err != nil {
		return &tp.dead
	}
	xs := x.Value.Shape
	if len(xs) != 4 || xs[1]*xs[2] == 0 {
		return tp.failf("autograd.GlobalAvgPool: input %v, want N,H,W,C with H,W ≥ 1", xs)
	}
	y := tp.newVar([]int{xs[0], xs[3]}, x)
	kernels.GlobalAvgPool(xs[0], xs[1]*xs[2], xs[3], x.Value.Data, y.Value.Data)
	tp.record(gapBackward, y, x)
	return y
}

// gapBackward: in = x. When x's gradient already holds a contribution
// (the SE block's multiply), dy/hw is added to it in place, one pass,
// rather than broadcast to scratch and added.
func gapBackward(tp *Tape, n *node) {
	x := n.in[0]
	xs := x.Value.Shape
	if x.requiresGrad && x.Grad != nil && !x.gradFresh {
		g := tp.buf(xs[0] * xs[3])
		kernels.Scale(1/float32(xs[1]*xs[2]), n.out.Grad.Data, g)
		kernels.AddChannels(xs[0], xs[1]*xs[2], xs[3], x.Grad.Data, g, x.Grad.Data)
		return
	}
	dx := tp.sink(x)
	kernels.GlobalAvgPoolBackward(xs[0], xs[1]*xs[2], xs[3], n.out.Grad.Data, dx)
	tp.flush(x, dx)
}
