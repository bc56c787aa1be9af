package nn

import (
	"fmt"
	"math"

	"github.com/nasrun/nasrun/autograd"
	"github.com/nasrun/nasrun/tensor"
)

// Plan is a network compiled for inference: every convolution followed by
// a BatchNorm2d has the normalisation (with the running statistics) folded
// into its weights and bias, and a following activation fused into the
// convolution kernel; dropout is gone; a private tape with gradients off
// serves every buffer, so after the first Run of a batch size a Run
// allocates nothing. A Plan is a snapshot: later changes to the network's
// weights do not reach it. It is not safe for concurrent use (make one per
// goroutine).
type Plan struct {
	root Module
	tp   *autograd.Tape
	ctx  Ctx
	h, w int
	c    int
}

// Inference compiles n for inference (see Plan) and runs it once on a
// zero image, so that the buffers of batch 1 are allocated up front.
func (n *Network) Inference() (*Plan, error) {
	p := &Plan{root: fold(n.Root), tp: autograd.NewTape(), h: n.InputH, w: n.InputW, c: n.InputC}
	p.tp.SetGrad(false)
	p.ctx = Ctx{Tape: p.tp}
	if _, err := p.Run(tensor.Zeros(1, n.InputH, n.InputW, n.InputC)); err != nil {
		return nil, err
	}
	return p, nil
}

// Run computes the output (a network's logits) of x [N,H,W,C]. The result is the plan's own
// buffer, valid until the next Run.
func (p *Plan) Run(x *tensor.Tensor) (*tensor.Tensor, error) {
	s := x.Shape
	if len(s) != 4 || s[1] != p.h || s[2] != p.w || s[3] != p.c {
		return nil, fmt.Errorf("nn.Plan.Run: input %v, want [N %d %d %d]", s, p.h, p.w, p.c)
	}
	p.tp.Reset()
	y := p.root.Forward(&p.ctx, p.tp.Input(x))
	if err := p.tp.Err(); err != nil {
		return nil, err
	}
	return y.Value, nil
}

// fusedConv is a dense or depthwise convolution with BN folded in and the
// activation fused into the kernel (gradients off).
type fusedConv struct {
	w, b        *autograd.Var
	stride, pad int
	dense       bool
	act         Act
}

// Forward runs the fused convolution.
func (m *fusedConv) Forward(c *Ctx, x *autograd.Var) *autograd.Var {
	if m.dense {
		return c.Tape.Conv2dAct(x, m.w, m.b, m.stride, m.pad, m.act)
	}
	return c.Tape.DepthwiseConv2dAct(x, m.w, m.b, m.stride, m.pad, m.act)
}

// Visit reports nothing: a plan has no saved state.
func (m *fusedConv) Visit(string, func(Entry)) {}

// foldBN returns conv weights w (output channel last) and bias b scaled by
// the eval-mode BN: w·s and (b − mean)·s + beta with s = γ/√(var+eps).
func foldBN(w, b *autograd.Var, bn *BatchNorm2d) (*autograd.Var, *autograd.Var) {
	c := len(bn.Gamma.Value.Data)
	fw := w.Value.Clone()
	fb := tensor.Zeros(c)
	for j := range c {
		s := float32(float64(bn.Gamma.Value.Data[j]) / math.Sqrt(float64(bn.RunVar.Data[j])+float64(bn.Eps)))
		var bias float32
		if b != nil {
			bias = b.Value.Data[j]
		}
		fb.Data[j] = (bias-bn.RunMean.Data[j])*s + bn.Beta.Value.Data[j]
		for i := j; i < len(fw.Data); i += c {
			fw.Data[i] *= s
		}
	}
	return autograd.NewParam(fw), autograd.NewParam(fb)
}

// fold returns the inference form of m (see Plan), with its own copy of
// every weight; modules it does not know are kept as they are (shared with
// the network) and run in eval mode.
func fold(m Module) Module {
	switch m := m.(type) {
	case Sequential:
		return foldSeq(m)
	case *MBConv:
		return &MBConv{Body: foldSeq(m.Body), Res: m.Res}
	case *GhostModule:
		return &GhostModule{Primary: foldSeq(m.Primary), Cheap: foldSeq(m.Cheap), Out: m.Out}
	case *GhostBottleneck:
		g := &GhostBottleneck{G1: fold(m.G1).(*GhostModule), G2: fold(m.G2).(*GhostModule)}
		if m.SE != nil {
			g.SE = fold(m.SE).(*SEBlock)
		}
		if m.DW != nil {
			g.DW = foldSeq(m.DW)
		}
		if m.Short != nil {
			g.Short = foldSeq(m.Short)
		}
		return g
	case *Residual:
		r := *m
		r.Body = fold(m.Body)
		if m.Shortcut != nil {
			r.Shortcut = fold(m.Shortcut)
		}
		return &r
	case *SEBlock:
		return &SEBlock{FC1: fold(m.FC1).(*Linear), FC2: fold(m.FC2).(*Linear)}
	case *Linear:
		return &Linear{W: snapshot(m.W), B: snapshot(m.B), Layout: m.Layout}
	case *BatchNorm2d: // one that follows no convolution
		bn := *m
		bn.Gamma, bn.Beta = snapshot(m.Gamma), snapshot(m.Beta)
		bn.RunMean, bn.RunVar, bn.Count = m.RunMean.Clone(), m.RunVar.Clone(), m.Count.Clone()
		return &bn
	case *Dropout:
		return Identity{}
	}
	return m
}

// snapshot copies a parameter (nil stays nil), so that the plan does not
// follow later training.
func snapshot(p *autograd.Var) *autograd.Var {
	if p == nil {
		return nil
	}
	return autograd.NewParam(p.Value.Clone())
}

// foldSeq folds conv → BN (→ activation) runs of a Sequential and the
// modules inside it.
func foldSeq(s Sequential) Sequential {
	var out Sequential
	for i := 0; i < len(s); i++ {
		var f *fusedConv
		switch c := s[i].(type) {
		case *Conv2d:
			f = &fusedConv{w: snapshot(c.W), b: snapshot(c.B), stride: c.Stride, pad: c.Pad, dense: true}
		case *DepthwiseConv2d:
			f = &fusedConv{w: snapshot(c.W), b: snapshot(c.B), stride: c.Stride, pad: c.Pad}
		}
		if f == nil {
			if m := fold(s[i]); m != (Identity{}) {
				out = append(out, m)
			}
			continue
		}
		if i+1 < len(s) {
			if bn, ok := s[i+1].(*BatchNorm2d); ok {
				f.w, f.b = foldBN(f.w, f.b, bn)
				i++
			}
		}
		if i+1 < len(s) {
			if a, ok := s[i+1].(*Activation); ok {
				f.act = a.Act
				i++
			}
		}
		out = append(out, f)
	}
	return out
}
