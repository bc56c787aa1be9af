package autograd

import (
	"github.com/nasrun/nasrun/kernels"
)

// convOut returns the output size of a window of k over in with stride s
// and padding p, or 0 when the window does not fit.
func convOut(in, k, s, p int) int {
	if s < 1 || in+2*p < k {
		return 0
	}
	return (in+2*p-k)/s + 1
}

// window returns the output size of a kh×kw window with the given stride
// and padding over input xs [N,H,W,C], or fails the tape naming op when it
// does not fit.
func (tp *Tape) window(op string, xs []int, kh, kw, stride, pad int) (ho, wo int, ok bool) {
	ho, wo = convOut(xs[1], kh, stride, pad), convOut(xs[2], kw, stride, pad)
	if ho == 0 || wo == 0 || pad < 0 {
		tp.failf("%s: %dx%d window, stride %d, pad %d does not fit input %v", op, kh, kw, stride, pad, xs)
		return 0, 0, false
	}
	return ho, wo, true
}

// Conv2d is a dense convolution: x [N,H,W,Cin], w [KH,KW,Cin,Cout], optional
// bias b [Cout] (nil for none) → [N,Ho,Wo,Cout], Ho = (H+2·pad−KH)/stride+1.
func (tp *Tape) Conv2d(x, w, b *Var, stride, pad int) *Var {
	return tp.Conv2dAct(x, w, b, stride, pad, kernels.ActNone)
}

// Conv2dAct is act(Conv2d(x, w, b)). With gradients off the activation is
// fused into the convolution kernel; with gradients on it is a separate op.
func (tp *Tape) Conv2dAct(x, w, b *Var, stride, pad int, act kernels.Act) *Var {
	if tp.err != nil {
		return &tp.dead
	}
	xs, ws := x.Value.Shape, w.Value.Shape
	if len(xs) != 4 || len(ws) != 4 || xs[3] != ws[2] {
		return tp.failf("autograd.Conv2d: input %v (want N,H,W,Cin) and weight %v (want KH,KW,Cin,Cout) do not match", xs, ws)
	}
	if b != nil && len(b.Value.Data) != ws[3] {
		return tp.failf("autograd.Conv2d: bias %v for weight %v, want [%d]", b.Value.Shape, ws, ws[3])
	}
	ho, wo, ok := tp.window("autograd.Conv2d", xs, ws[0], ws[1], stride, pad)
	if !ok {
		return &tp.dead
	}
	p := kernels.Conv{N: xs[0], H: xs[1], W: xs[2], Cin: xs[3], Cout: ws[3], KH: ws[0], KW: ws[1], Stride: stride, Pad: pad}
	y := tp.newVar([]int{xs[0], ho, wo, ws[3]}, x, w, b)
	fused := !y.requiresGrad
	if fused {
		p.Act = act
	}
	kernels.Conv2d(p, x.Value.Data, w.Value.Data, data(b), y.Value.Data)
	if fused {
		return y
	}
	tp.record(conv2dBackward, y, x, w, b).conv = p
	return tp.Act(y, act)
}

// conv2dBackward: in = x, w, b; conv = the kernel parameters.
func conv2dBackward(tp *Tape, n *node) {
	x, w, b := n.in[0], n.in[1], n.in[2]
	if p := n.conv; p.KH == 1 && p.KW == 1 && p.Stride == 1 && p.Pad == 0 {
		pointwiseBackward(tp, n)
		return
	}
	dx, dw, db := tp.sink(x), tp.sink(w), tp.sink(b)
	kernels.Conv2dBackward(n.conv, x.Value.Data, w.Value.Data, n.out.Grad.Data, dx, dw, db)
	tp.flush(x, dx)
	tp.flush(w, dw)
	tp.flush(b, db)
}

// pointwiseBackward is conv2dBackward for a 1×1 convolution, a plain
// GEMM [M,Cin]·[Cin,Cout]: the GEMMs accumulate straight into gradients
// that already hold a contribution (beta = 1; a residual block's input)
// instead of writing a scratch buffer that flush then adds.
func pointwiseBackward(tp *Tape, n *node) {
	x, w, b := n.in[0], n.in[1], n.in[2]
	p := n.conv
	m, dy := p.N*p.H*p.W, n.out.Grad.Data
	if dw, beta := tp.gradBeta(w); dw != nil {
		kernels.Sgemm(true, false, p.Cin, p.Cout, m, 1, x.Value.Data, p.Cin, dy, p.Cout, beta, dw, p.Cout)
	}
	if dx, beta := tp.gradBeta(x); dx != nil {
		kernels.Sgemm(false, true, m, p.Cin, p.Cout, 1, dy, p.Cout, w.Value.Data, p.Cout, beta, dx, p.Cin)
	}
	if db := tp.sink(b); db != nil {
		kernels.BiasGrad(m, p.Cout, dy, db)
		tp.flush(b, db)
	}
}

// DepthwiseConv2d is a depthwise convolution: x [N,H,W,C], w [K,K,C],
// optional bias b [C] → [N,Ho,Wo,C].
func (tp *Tape) DepthwiseConv2d(x, w, b *Var, stride, pad int) *Var {
	return tp.DepthwiseConv2dAct(x, w, b, stride, pad, kernels.ActNone)
}

// DepthwiseConv2dAct is act(DepthwiseConv2d(x, w, b)), fused into the
// kernel when gradients are off.
func (tp *Tape) DepthwiseConv2dAct(x, w, b *Var, stride, pad int, act kernels.Act) *Var {
	if tp.err != nil {
		return &tp.dead
	}
	xs, ws := x.Value.Shape, w.Value.Shape
	if len(xs) != 4 || len(ws) != 3 || ws[0] != ws[1] || xs[3] != ws[2] {
		return tp.failf("autograd.DepthwiseConv2d: input %v (want N,H,W,C) and weight %v (want K,K,C) do not match", xs, ws)
	}
	if b != nil && len(b.Value.Data) != ws[2] {
		return tp.failf("autograd.DepthwiseConv2d: bias %v for weight %v, want [%d]", b.Value.Shape, ws, ws[2])
	}
	ho, wo, ok := tp.window("autograd.DepthwiseConv2d", xs, ws[0], ws[0], stride, pad)
	if !ok {
		return &tp.dead
	}
	p := kernels.DWConv{N: xs[0], H: xs[1], W: xs[2], C: xs[3], K: ws[0], Stride: stride, Pad: pad}
	y := tp.newVar([]int{xs[0], ho, wo, xs[3]}, x, w, b)
	fused := !y.requiresGrad
	if fused {
		p.Act = act
	}
	kernels.DepthwiseConv2d(p, x.Value.Data, w.Value.Data, data(b), y.Value.Data)
	if fused {
		return y
	}
	tp.record(dwconvBackward, y, x, w, b).dw = p
	return tp.Act(y, act)
}

// dwconvBackward: in = x, w, b; dw = the kernel parameters.
func dwconvBackward(tp *Tape, n *node) {
	x, w, b := n.in[0], n.in[1], n.in[2]
	dx, dw, db := tp.sink(x), tp.sink(w), tp.sink(b)
	kernels.DepthwiseConv2dBackward(n.dw, x.Value.Data, w.Value.Data, n.out.Grad.Data, dx, dw, db)
	tp.flush(x, dx)
	tp.flush(w, dw)
	tp.flush(b, db)
}
