package nn

import (
	"github.com/nasrun/nasrun/autograd"
	"github.com/nasrun/nasrun/kernels"
)

// Fused blocks: in training mode an MBConv block runs as one
// autograd.Block op, its convolutions and batch norms as fused passes over
// memory (kernels.Block) instead of op by op; the arithmetic is the same.

// fusedOn is SetFusedBlocks's setting.
var fusedOn = true

// SetFusedBlocks turns the fused training blocks on (the default) or off
// and returns the previous setting. Off, every block composes its layers'
// ops. For tests and benchmarks that compare the two; not safe to call
// while a forward pass runs.
func SetFusedBlocks(on bool) (prev bool) {
	prev, fusedOn = fusedOn, on
	return prev
}

// fused is a block's plan as a kernels.Block, built once from its layers;
// run sets the shapes and parameters of a step.
type fused struct {
	blk    kernels.Block
	in     kernels.BlockBuf
	bufs   []*fusedBuf
	params []autograd.BlockParam
	// outs[i]: the buffer op i writes.
	outs []*fusedBuf
}

// fusedBuf is one buffer of the plan and the batch norms over its
// channels, in channel order.
type fusedBuf struct {
	kb  kernels.BlockBuf
	bns []*BatchNorm2d
}

// newBuf adds a buffer normalised by bns (channels in order) and act.
func (f *fused) newBuf(act Act, bns ...*BatchNorm2d) *fusedBuf {
	b := &fusedBuf{bns: bns}
	for _, bn := range bns {
		b.kb.Ld += len(bn.Gamma.Value.Data)
	}
	b.kb.Act, b.kb.Eps = act, bns[0].Eps
	ld := b.kb.Ld
	b.kb.DGamma, b.kb.DBeta = make([]float32, ld), make([]float32, ld)
	if len(bns) > 1 {
		b.kb.Gamma, b.kb.Beta = make([]float32, ld), make([]float32, ld)
	}
	off := 0
	for _, bn := range bns {
		c := len(bn.Gamma.Value.Data)
		f.params = append(f.params,
			autograd.BlockParam{Var: bn.Gamma, Grad: b.kb.DGamma[off : off+c]},
			autograd.BlockParam{Var: bn.Beta, Grad: b.kb.DBeta[off : off+c]})
		off += c
	}
	f.bufs = append(f.bufs, b)
	return b
}

// view is channels [off, off+c) of b (nil: the block's input).
func (f *fused) view(b *fusedBuf, off, c int) kernels.BlockView {
	if b == nil {
		return kernels.BlockView{Buf: &f.in, Off: off, C: c}
	}
	return kernels.BlockView{Buf: &b.kb, Off: off, C: c}
}

// pointwise adds a 1×1 op from in to out with conv's weights and an
// optional SE on its input.
func (f *fused) pointwise(in, out kernels.BlockView, conv *Conv2d, se *SEBlock) {
	op := kernels.BlockOp{In: in, Out: out, W: conv.W.Value.Data, DW: make([]float32, len(conv.W.Value.Data))}
	f.params = append(f.params, autograd.BlockParam{Var: conv.W, Grad: op.DW})
	if se != nil {
		s := &kernels.BlockSE{Hidden: len(se.FC1.B.Value.Data),
			W1: se.FC1.W.Value.Data, B1: se.FC1.B.Value.Data, W2: se.FC2.W.Value.Data, B2: se.FC2.B.Value.Data}
		s.DW1, s.DB1 = make([]float32, len(s.W1)), make([]float32, len(s.B1))
		s.DW2, s.DB2 = make([]float32, len(s.W2)), make([]float32, len(s.B2))
		op.SE = s
		f.params = append(f.params,
			autograd.BlockParam{Var: se.FC1.W, Grad: s.DW1}, autograd.BlockParam{Var: se.FC1.B, Grad: s.DB1},
			autograd.BlockParam{Var: se.FC2.W, Grad: s.DW2}, autograd.BlockParam{Var: se.FC2.B, Grad: s.DB2})
	}
	f.addOp(op, out)
}

// depthwise adds a depthwise op from in to out with conv's weights.
func (f *fused) depthwise(in, out kernels.BlockView, conv *DepthwiseConv2d) {
	w := conv.W.Value.Data
	op := kernels.BlockOp{In: in, Out: out, K: conv.W.Value.Shape[0], Stride: conv.Stride, Pad: conv.Pad, W: w, DW: make([]float32, len(w))}
	f.params = append(f.params, autograd.BlockParam{Var: conv.W, Grad: op.DW})
	f.addOp(op, out)
}

func (f *fused) addOp(op kernels.BlockOp, out kernels.BlockView) {
	f.blk.Ops = append(f.blk.Ops, op)
	for _, b := range f.bufs {
		if &b.kb == out.Buf {
			f.outs = append(f.outs, b)
		}
	}
}

// run applies the plan to x [N,H,W,C] in training mode and updates the
// batch norms' running statistics.
func (f *fused) run(c *Ctx, x *autograd.Var) *autograd.Var {
	xs := x.Value.Shape
	if len(xs) != 4 {
		return c.Tape.Block(&f.blk, x, f.params) // fails with the shape
	}
	f.in.N, f.in.H, f.in.W = xs[0], xs[1], xs[2]
	for _, b := range f.bufs {
		b.kb.N = xs[0]
		if len(b.bns) > 1 {
			off := 0
			for _, bn := range b.bns {
				off += copy(b.kb.Gamma[off:], bn.Gamma.Value.Data)
			}
			off = 0
			for _, bn := range b.bns {
				off += copy(b.kb.Beta[off:], bn.Beta.Value.Data)
			}
		} else {
			b.kb.Gamma, b.kb.Beta = b.bns[0].Gamma.Value.Data, b.bns[0].Beta.Value.Data
		}
	}
	// Each buffer's size follows from its first producer's input.
	for i := range f.blk.Ops {
		op := &f.blk.Ops[i]
		in, out := op.In.Buf, &f.outs[i].kb
		out.H, out.W = in.H, in.W
		if op.K > 0 {
			out.H, out.W = (in.H+2*op.Pad-op.K)/op.Stride+1, (in.W+2*op.Pad-op.K)/op.Stride+1
		}
	}
	y := c.Tape.Block(&f.blk, x, f.params)
	if c.Tape.Err() != nil {
		return y
	}
	for _, b := range f.bufs {
		off := 0
		for _, bn := range b.bns {
			n := len(bn.Gamma.Value.Data)
			bn.track(c, b.kb.Mean[off:off+n], b.kb.Var[off:off+n], b.kb.N*b.kb.H*b.kb.W)
			off += n
		}
	}
	return y
}

// mbconvFused returns the fused plan of m, or nil when its body is not the
// shape NewMBConv builds.
func mbconvFused(m *MBConv) *fused {
	b := m.Body
	f := &fused{}
	var in *fusedBuf // nil: the block's input
	cin := 0
	i := 0
	// [1×1 expand, BN, act]
	if len(b) >= 3 {
		if conv, bn, act, ok := convBNAct(b[0:3]); ok {
			cin = conv.W.Value.Shape[2]
			x1 := f.newBuf(act, bn)
			f.pointwise(f.view(nil, 0, cin), f.view(x1, 0, x1.kb.Ld), conv, nil)
			in, i = x1, 3
		}
	}
	// [depthwise, BN, act]
	if i+3 > len(b) {
		return nil
	}
	dw, ok := b[i].(*DepthwiseConv2d)
	bn, ok2 := b[i+1].(*BatchNorm2d)
	act, ok3 := b[i+2].(*Activation)
	if !ok || !ok2 || !ok3 || dw.B != nil || dw.W.Value.Shape[0] != dw.W.Value.Shape[1] {
		return nil
	}
	mid := dw.W.Value.Shape[2]
	if in == nil {
		cin = mid
	}
	x2 := f.newBuf(act.Act, bn)
	f.depthwise(f.view(in, 0, mid), f.view(x2, 0, mid), dw)
	i += 3
	// [SE]
	var se *SEBlock
	if i < len(b) {
		if s, ok := b[i].(*SEBlock); ok {
			if s.FC1.B == nil || s.FC2.B == nil {
				return nil
			}
			se = s
			i++
		}
	}
	// [1×1 project, BN]
	if i+2 != len(b) {
		return nil
	}
	proj, ok := b[i].(*Conv2d)
	bn3, ok2 := b[i+1].(*BatchNorm2d)
	if !ok || !ok2 || !isPointwise(proj) {
		return nil
	}
	x3 := f.newBuf(ActNone, bn3)
	f.pointwise(f.view(x2, 0, mid), f.view(x3, 0, x3.kb.Ld), proj, se)
	f.in.Ld = cin
	f.blk.In = &f.in
	f.blk.Terms = []kernels.BlockView{f.view(x3, 0, x3.kb.Ld)}
	f.blk.Residual = m.Res
	return f
}

// convBNAct matches [1×1 Conv2d without bias, BatchNorm2d, Activation].
func convBNAct(s []Module) (*Conv2d, *BatchNorm2d, Act, bool) {
	conv, ok := s[0].(*Conv2d)
	bn, ok2 := s[1].(*BatchNorm2d)
	act, ok3 := s[2].(*Activation)
	if !ok || !ok2 || !ok3 || !isPointwise(conv) {
		return nil, nil, 0, false
	}
	return conv, bn, act.Act, true
}

// isPointwise reports whether conv is a 1×1, stride-1 convolution without
// bias.
func isPointwise(conv *Conv2d) bool {
	s := conv.W.Value.Shape
	return conv.B == nil && s[0] == 1 && s[1] == 1 && conv.Stride == 1 && conv.Pad == 0
}
