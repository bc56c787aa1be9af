package autograd

import (
	"slices"

	"github.com/nasrun/nasrun/kernels"
	"github.com/nasrun/nasrun/tensor"
)

// Add is the elementwise sum a + b of two values of one shape (the
// residual connection).
func (tp *Tape) Add(a, b *Var) *Var {
	if tp.err != nil {
		return &tp.dead
	}
	if !slices.Equal(a.Value.Shape, b.Value.Shape) {
		return tp.failf("autograd.Add: shapes %v and %v differ", a.Value.Shape, b.Value.Shape)
	}
	y := tp.newVar(a.Value.Shape, a, b)
	kernels.Add(a.Value.Data, b.Value.Data, y.Value.Data)
	tp.record(addBackward, y, a, b)
	return y
}

// addBackward: in = a, b; both receive dy (a may take its storage; b is
// then added to it when a == b).
func addBackward(tp *Tape, n *node) {
	tp.pass(n.in[0], n.out.Grad.Data)
	tp.accum(n.in[1], n.out.Grad.Data)
}

// ConcatChannels joins a [N,H,W,Ca] and b [N,H,W,Cb] along the channel
// (last) axis → [N,H,W,Ca+Cb]. Any rank works; all axes but the last must
// match.
func (tp *Tape) ConcatChannels(a, b *Var) *Var {
	if tp.err != nil {
		return &tp.dead
	}
	as, bs := a.Value.Shape, b.Value.Shape
	if len(as) == 0 || !slices.Equal(as[:len(as)-1], bs[:max(len(bs)-1, 0)]) || len(as) != len(bs) {
		return tp.failf("autograd.ConcatChannels: shapes %v and %v differ in more than the last axis", as, bs)
	}
	ca, cb := as[len(as)-1], bs[len(bs)-1]
	var shape [maxDims]int
	ys := append(shape[:0], as...)
	ys[len(ys)-1] = ca + cb
	y := tp.newVar(ys, a, b)
	rows := len(a.Value.Data) / max(ca, 1)
	interleave(y.Value.Data, a.Value.Data, ca, b.Value.Data, cb, rows)
	tp.record(concatBackward, y, a, b)
	return y
}

// interleave writes rows of ca values of a followed by cb values of b into
// y, one pass that writes each row of y whole (two passes of half rows
// would each fetch all of y's cache lines).
func interleave(y, a []float32, ca int, b []float32, cb, rows int) {
	w := ca + cb
	y, a, b = y[:rows*w], a[:rows*ca], b[:rows*cb]
	for r := range rows {
		yr := y[r*w : (r+1)*w]
		copy(yr[:ca], a[r*ca:(r+1)*ca])
		copy(yr[ca:], b[r*cb:(r+1)*cb])
	}
}

// split is the inverse of interleave.
func split(y []float32, a []float32, ca int, b []float32, cb, rows int) {
	w := ca + cb
	y, a, b = y[:rows*w], a[:rows*ca], b[:rows*cb]
	for r := range rows {
		yr := y[r*w : (r+1)*w]
		copy(a[r*ca:(r+1)*ca], yr[:ca])
		copy(b[r*cb:(r+1)*cb], yr[ca:])
	}
}

// concatBackward: in = a, b; each takes its channel range of dy (both in
// one pass over dy when both receive their first contribution, the usual
// case: the concatenation is their only consumer run so far).
func concatBackward(tp *Tape, n *node) {
	a, b := n.in[0], n.in[1]
	dy := n.out.Grad.Data
	ca, cb := a.Value.Shape[len(a.Value.Shape)-1], b.Value.Shape[len(b.Value.Shape)-1]
	rows := len(a.Value.Data) / max(ca, 1)
	if a != b && a.requiresGrad && b.requiresGrad && (a.Grad == nil || a.gradFresh) && (b.Grad == nil || b.gradFresh) {
		tp.ensureGrad(a)
		tp.ensureGrad(b)
		split(dy, a.Grad.Data, ca, b.Grad.Data, cb, rows)
		a.gradFresh, b.gradFresh = false, false
		return
	}
	tp.accumCols(a, dy, ca+cb, 0, rows)
	tp.accumCols(b, dy, ca+cb, ca, rows)
}

// SliceChannels keeps channels [lo, hi) of x along the last axis.
func (tp *Tape) SliceChannels(x *Var, lo, hi int) *Var {
	if tp.err != nil {
		return &tp.dead
	}
	xs := x.Value.Shape
	if len(xs) == 0 || lo < 0 || hi > xs[len(xs)-1] || lo >= hi {
		return tp.failf("autograd.SliceChannels: channels [%d, %d) of shape %v", lo, hi, xs)
	}
	c := xs[len(xs)-1]
	if lo == 0 && hi == c {
		return x
	}
	var shape [maxDims]int
	ys := append(shape[:0], xs...)
	ys[len(ys)-1] = hi - lo
	y := tp.newVar(ys, x)
	rows := len(x.Value.Data) / c
	copyCols(y.Value.Data, hi-lo, 0, x.Value.Data, c, lo, rows, hi-lo)
	if n := tp.record(sliceBackward, y, x); n != nil {
		n.ints[0] = lo
	}
	return y
}

// sliceBackward: in = x; ints[0] = lo. dx is dy in [lo, hi), 0 elsewhere.
func sliceBackward(tp *Tape, n *node) {
	x := n.in[0]
	dy := n.out.Grad.Data
	c := x.Value.Shape[len(x.Value.Shape)-1]
	w := n.out.Value.Shape[len(n.out.Value.Shape)-1]
	rows := len(x.Value.Data) / c
	if dx := tp.gradForAdd(x); dx != nil {
		lo := n.ints[0]
		for r := range rows {
			kernels.Add(dx[r*c+lo:r*c+lo+w], dy[r*w:(r+1)*w], dx[r*c+lo:r*c+lo+w])
		}
	}
}

// copyCols copies rows×w values from src (row stride ss, first column so)
// to dst (row stride ds, first column do).
func copyCols(dst []float32, ds, do int, src []float32, ss, so, rows, w int) {
	for r := range rows {
		copy(dst[r*ds+do:r*ds+do+w], src[r*ss+so:r*ss+so+w])
	}
}

// accumCols adds columns [off, off+w) of g (row stride gs) into v's
// gradient, where w is v's last dimension.
func (tp *Tape) accumCols(v *Var, g []float32, gs, off, rows int) {
	if !v.requiresGrad {
		return
	}
	w := v.Value.Shape[len(v.Value.Shape)-1]
	tp.ensureGrad(v)
	dv := v.Grad.Data
	if v.gradFresh {
		copyCols(dv, w, 0, g, gs, off, rows, w)
		v.gradFresh = false
		return
	}
	for r := range rows {
		kernels.Add(dv[r*w:(r+1)*w], g[r*gs+off:r*gs+off+w], dv[r*w:(r+1)*w])
	}
}

// Reshape returns x under a new shape with the same elements (one
// dimension may be -1); the value shares x's data.
func (tp *Tape) Reshape(x *Var, shape ...int) *Var {
	if tp.err != nil {
		return &tp.dead
	}
	var buf [maxDims]int
	s, err := tensor.InferShape(buf[:0], "autograd.Reshape", x.Value.Shape, len(x.Value.Data), shape)
	if err != nil {
		return tp.fail(err)
	}
	y := tp.view(x, s)
	tp.record(reshapeBackward, y, x)
	return y
}

// Flatten reshapes x [N, ...] to [N, rest].
func (tp *Tape) Flatten(x *Var) *Var {
	if tp.err == nil && len(x.Value.Shape) == 0 {
		return tp.failf("autograd.Flatten: scalar input")
	}
	if tp.err != nil {
		return &tp.dead
	}
	return tp.Reshape(x, x.Value.Shape[0], -1)
}

// reshapeBackward: in = x; dy is dx under x's shape.
func reshapeBackward(tp *Tape, n *node) { tp.pass(n.in[0], n.out.Grad.Data) }
