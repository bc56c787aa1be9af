package nn

import (
	"github.com/nasrun/nasrun/autograd"
	"github.com/nasrun/nasrun/kernels"
)

// Fused blocks: in training mode an MBConv block or a Ghost bottleneck
// runs as one autograd.Block op, its convolutions and batch norms as fused
// passes over memory (kernels.Block) instead of op by op; the arithmetic
// is the same.

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
	f.blk.Ops = append(f.blk.Ops, op)
}

// depthwise adds a depthwise op from in to out with conv's weights.
func (f *fused) depthwise(in, out kernels.BlockView, conv *DepthwiseConv2d) {
	w := conv.W.Value.Data
	op := kernels.BlockOp{In: in, Out: out, K: conv.W.Value.Shape[0], Stride: conv.Stride, Pad: conv.Pad, W: w, DW: make([]float32, len(w))}
	f.params = append(f.params, autograd.BlockParam{Var: conv.W, Grad: op.DW})
	f.blk.Ops = append(f.blk.Ops, op)
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
				copy(b.kb.Gamma[off:], bn.Gamma.Value.Data)
				off += copy(b.kb.Beta[off:], bn.Beta.Value.Data)
			}
		} else {
			b.kb.Gamma, b.kb.Beta = b.bns[0].Gamma.Value.Data, b.bns[0].Beta.Value.Data
		}
	}
	// Each buffer's size follows from its first producer's input.
	for i := range f.blk.Ops {
		op := &f.blk.Ops[i]
		in, out := op.In.Buf, op.Out.Buf
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
	dw, bn, act, ok := dwBNAct(b[i : i+3])
	if !ok {
		return nil
	}
	mid := dw.W.Value.Shape[2]
	if in == nil {
		cin = mid
	}
	x2 := f.newBuf(act, bn)
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

// convBNAct matches [1×1 Conv2d without bias, BatchNorm2d] with an
// optional Activation after them.
func convBNAct(s []Module) (*Conv2d, *BatchNorm2d, Act, bool) {
	conv, bn, act, ok := layerBNAct[*Conv2d](s)
	return conv, bn, act, ok && isPointwise(conv)
}

// layerBNAct matches [L, BatchNorm2d] with an optional Activation after
// them (ActNone without).
func layerBNAct[L Module](s []Module) (l L, bn *BatchNorm2d, act Act, ok bool) {
	switch len(s) {
	case 2:
		act = ActNone
	case 3:
		a, ok := s[2].(*Activation)
		if !ok {
			return l, nil, 0, false
		}
		act = a.Act
	default:
		return l, nil, 0, false
	}
	l, ok = s[0].(L)
	bn, ok2 := s[1].(*BatchNorm2d)
	return l, bn, act, ok && ok2
}

// isPointwise reports whether conv is a 1×1, stride-1 convolution without
// bias.
func isPointwise(conv *Conv2d) bool {
	s := conv.W.Value.Shape
	return conv.B == nil && s[0] == 1 && s[1] == 1 && conv.Stride == 1 && conv.Pad == 0
}

// ghostFused returns the fused plan of m, or nil when it is not the shape
// NewGhostBottleneck builds or a Ghost module cuts its concatenation (an
// odd width). A Ghost module's primary and cheap convolutions write the two
// halves of one buffer, which its consumers read whole.
func ghostFused(m *GhostBottleneck) *fused {
	f := &fused{}
	g1p, g1c, ok := ghostParts(m.G1)
	if !ok {
		return nil
	}
	cin := g1p.conv.W.Value.Shape[2]
	r1 := f.ghostModule(f.view(nil, 0, cin), g1p, g1c, nil)
	src := f.view(r1, 0, r1.kb.Ld)
	if m.DW != nil {
		dw, bn, act, ok := dwBNAct(m.DW)
		if !ok || act != ActNone {
			return nil
		}
		d := f.newBuf(ActNone, bn)
		f.depthwise(src, f.view(d, 0, d.kb.Ld), dw)
		src = f.view(d, 0, d.kb.Ld)
	}
	if m.SE != nil && (m.SE.FC1.B == nil || m.SE.FC2.B == nil) {
		return nil
	}
	g2p, g2c, ok := ghostParts(m.G2)
	if !ok || g2p.act != ActNone || g2p.conv.W.Value.Shape[2] != src.C {
		return nil
	}
	r2 := f.ghostModule(src, g2p, g2c, m.SE)
	f.blk.Terms = []kernels.BlockView{f.view(r2, 0, r2.kb.Ld)}
	if m.Short != nil {
		if len(m.Short) != 4 {
			return nil
		}
		dw, bn, act, ok := dwBNAct(m.Short[:2])
		conv, ok2 := m.Short[2].(*Conv2d)
		bn2, ok3 := m.Short[3].(*BatchNorm2d)
		if !ok || act != ActNone || !ok2 || !ok3 || !isPointwise(conv) {
			return nil
		}
		s1 := f.newBuf(ActNone, bn)
		f.depthwise(f.view(nil, 0, cin), f.view(s1, 0, s1.kb.Ld), dw)
		s2 := f.newBuf(ActNone, bn2)
		f.pointwise(f.view(s1, 0, s1.kb.Ld), f.view(s2, 0, s2.kb.Ld), conv, nil)
		f.blk.Terms = append(f.blk.Terms, f.view(s2, 0, s2.kb.Ld))
	} else {
		f.blk.Residual = true
	}
	f.in.Ld = cin
	f.blk.In = &f.in
	return f
}

// ghostPart is one convolution of a Ghost module with its batch norm and
// activation.
type ghostPart struct {
	conv *Conv2d
	dw   *DepthwiseConv2d
	bn   *BatchNorm2d
	act  Act
}

// ghostParts matches g's primary [1×1, BN, act] and cheap [depthwise,
// BN, act] with one activation, and an output of both halves whole.
func ghostParts(g *GhostModule) (p, c ghostPart, ok bool) {
	conv, bn, act, ok := convBNAct(g.Primary)
	dw, bn2, act2, ok2 := dwBNAct(g.Cheap)
	if !ok || !ok2 || act != act2 || dw.Stride != 1 || 2*len(bn.Gamma.Value.Data) != g.Out ||
		len(bn2.Gamma.Value.Data) != len(bn.Gamma.Value.Data) || bn2.Eps != bn.Eps {
		return p, c, false
	}
	return ghostPart{conv: conv, bn: bn, act: act}, ghostPart{dw: dw, bn: bn2, act: act}, true
}

// ghostModule adds a Ghost module reading in (optionally through an SE):
// its primary convolution writes the first half of a new buffer, its cheap
// one the second half from the first.
func (f *fused) ghostModule(in kernels.BlockView, p, c ghostPart, se *SEBlock) *fusedBuf {
	r := f.newBuf(p.act, p.bn, c.bn)
	h := len(p.bn.Gamma.Value.Data)
	f.pointwise(in, f.view(r, 0, h), p.conv, se)
	f.depthwise(f.view(r, 0, h), f.view(r, h, h), c.dw)
	return r
}

// dwBNAct matches [depthwise without bias, BatchNorm2d] with an optional
// Activation after them.
func dwBNAct(s []Module) (*DepthwiseConv2d, *BatchNorm2d, Act, bool) {
	dw, bn, act, ok := layerBNAct[*DepthwiseConv2d](s)
	return dw, bn, act, ok && dw.B == nil && dw.W.Value.Shape[0] == dw.W.Value.Shape[1]
}
