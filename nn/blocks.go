package nn

import (
	"math/rand/v2"

	"github.com/nasrun/nasrun/autograd"
)

// SEBlock is squeeze-and-excitation on C channels: global average pool,
// 1×1 C→Hidden with bias, ReLU, 1×1 Hidden→C with bias, hardsigmoid, and
// the input's channels scaled by the result. The two 1×1 convolutions act
// on pooled vectors, so they run as linear layers (PyTorch names fc1, fc2,
// stored as 1×1 convs).
type SEBlock struct{ FC1, FC2 *Linear }

// NewSEBlock returns an SE block on c channels with the given hidden width.
func NewSEBlock(rng *rand.Rand, c, hidden int) *SEBlock {
	fc1, fc2 := NewLinear(rng, c, hidden, true), NewLinear(rng, hidden, c, true)
	fc1.Layout, fc2.Layout = LayoutPointwise, LayoutPointwise
	return &SEBlock{FC1: fc1, FC2: fc2}
}

// Forward scales the channels of x [N,H,W,C].
func (m *SEBlock) Forward(c *Ctx, x *autograd.Var) *autograd.Var {
	tp := c.Tape
	s := tp.GlobalAvgPool(x)
	s = tp.ReLU(m.FC1.Forward(c, s))
	s = tp.Hardsigmoid(m.FC2.Forward(c, s))
	return tp.ScaleChannels(x, s)
}

// Visit reports fc1 and fc2.
func (m *SEBlock) Visit(prefix string, fn func(Entry)) {
	m.FC1.Visit(join(prefix, "fc1"), fn)
	m.FC2.Visit(join(prefix, "fc2"), fn)
}

// convBN is [conv, BN] or [conv, BN, act] (act ActNone: none), the
// Sequential of PyTorch's blocks.
func convBN(conv Module, c int, act Act) Sequential {
	s := Sequential{conv, NewBatchNorm2d(c)}
	if act != ActNone {
		s = append(s, &Activation{act})
	}
	return s
}

// GhostModule (GhostNet, ratio 2, cheap depthwise 3×3) maps C→Out
// channels: Primary is 1×1 C→ceil(Out/2) + BN (+act), Cheap is depthwise
// 3×3 on those + BN (+act); the two are concatenated and cut to Out.
type GhostModule struct {
	Primary, Cheap Sequential
	Out            int
}

// NewGhostModule returns a Ghost module cin→cout with activation act
// (ActNone for none) after both convolutions.
func NewGhostModule(rng *rand.Rand, cin, cout int, act Act) *GhostModule {
	init := (cout + 1) / 2
	return &GhostModule{
		Primary: convBN(NewConv2d(rng, cin, init, 1, 1, false), init, act),
		Cheap:   convBN(NewDepthwiseConv2d(rng, init, 3, 1, false), init, act),
		Out:     cout,
	}
}

// Forward maps x [N,H,W,Cin] to [N,H,W,Out].
func (m *GhostModule) Forward(c *Ctx, x *autograd.Var) *autograd.Var {
	a := m.Primary.Forward(c, x)
	y := c.Tape.ConcatChannels(a, m.Cheap.Forward(c, a))
	return c.Tape.SliceChannels(y, 0, m.Out)
}

// Visit reports primary and cheap.
func (m *GhostModule) Visit(prefix string, fn func(Entry)) {
	m.Primary.Visit(join(prefix, "primary"), fn)
	m.Cheap.Visit(join(prefix, "cheap"), fn)
}

// BlockSpec is one block with concrete shapes (what nas.Layer resolves a
// genome into).
type BlockSpec struct {
	In, Mid, Out int // input, middle (expanded) and output channels
	K, Stride    int // depthwise kernel and stride
	// Expand is the expansion ratio; an MBConv with 1 has no expand conv
	// (and Mid = In).
	Expand int
	SE     int // SE hidden channels, 0 for no SE
	Act    Act
}

// Residual reports whether the block adds its input unchanged.
func (s BlockSpec) Residual() bool { return s.Stride == 1 && s.In == s.Out }

// MBConv is the MobileNetV2/V3 inverted residual: 1×1 expand + BN + act
// (absent at expansion 1), depthwise k×k with the stride + BN + act,
// optional SE, 1×1 project + BN; identity residual when stride 1 and
// In = Out. Body is PyTorch's body Sequential.
type MBConv struct {
	Body Sequential
	Res  bool

	fused     *fused // the training plan, built at the first training pass
	fusedDone bool   // fused is built (nil: the body cannot fuse)
}

// NewMBConv builds an MBConv block.
func NewMBConv(rng *rand.Rand, s BlockSpec) *MBConv {
	var body Sequential
	if s.Expand != 1 {
		body = append(body, convBN(NewConv2d(rng, s.In, s.Mid, 1, 1, false), s.Mid, s.Act)...)
	}
	body = append(body, convBN(NewDepthwiseConv2d(rng, s.Mid, s.K, s.Stride, false), s.Mid, s.Act)...)
	if s.SE > 0 {
		body = append(body, NewSEBlock(rng, s.Mid, s.SE))
	}
	body = append(body, convBN(NewConv2d(rng, s.Mid, s.Out, 1, 1, false), s.Out, ActNone)...)
	return &MBConv{Body: body, Res: s.Residual()}
}

// Forward applies the block to x [N,H,W,In]. In training mode it runs as
// fused passes (SetFusedBlocks); the body must not change after the first
// training pass.
func (m *MBConv) Forward(c *Ctx, x *autograd.Var) *autograd.Var {
	if c.Train && fusedOn {
		if !m.fusedDone {
			m.fused, m.fusedDone = mbconvFused(m), true
		}
		if m.fused != nil {
			return m.fused.run(c, x)
		}
	}
	y := m.Body.Forward(c, x)
	if m.Res {
		y = c.Tape.Add(y, x)
	}
	return y
}

// Visit reports body.
func (m *MBConv) Visit(prefix string, fn func(Entry)) { m.Body.Visit(join(prefix, "body"), fn) }

// GhostBottleneck is GhostNet's block: Ghost module In→Mid with act,
// depthwise k×k stride 2 + BN (only when the stride is 2), optional SE,
// Ghost module Mid→Out without activation, plus a shortcut: identity when
// stride 1 and In = Out, else depthwise k×k with the stride + BN + 1×1
// In→Out + BN. Fields are nil where absent; PyTorch names g1, dw, se, g2,
// short.
type GhostBottleneck struct {
	G1, G2 *GhostModule
	DW     Sequential // nil at stride 1
	SE     *SEBlock
	Short  Sequential // nil for the identity

	fused     *fused // the training plan, built at the first training pass
	fusedDone bool   // fused is built (nil: the block cannot fuse)
}

// NewGhostBottleneck builds a Ghost bottleneck.
func NewGhostBottleneck(rng *rand.Rand, s BlockSpec) *GhostBottleneck {
	m := &GhostBottleneck{G1: NewGhostModule(rng, s.In, s.Mid, s.Act)}
	if s.Stride > 1 {
		m.DW = convBN(NewDepthwiseConv2d(rng, s.Mid, s.K, s.Stride, false), s.Mid, ActNone)
	}
	if s.SE > 0 {
		m.SE = NewSEBlock(rng, s.Mid, s.SE)
	}
	m.G2 = NewGhostModule(rng, s.Mid, s.Out, ActNone)
	if !s.Residual() {
		m.Short = append(convBN(NewDepthwiseConv2d(rng, s.In, s.K, s.Stride, false), s.In, ActNone),
			convBN(NewConv2d(rng, s.In, s.Out, 1, 1, false), s.Out, ActNone)...)
	}
	return m
}

// Forward applies the block to x [N,H,W,In]. In training mode it runs as
// fused passes (SetFusedBlocks) unless a Ghost module's width is odd; its
// modules must not change after the first training pass.
func (m *GhostBottleneck) Forward(c *Ctx, x *autograd.Var) *autograd.Var {
	if c.Train && fusedOn {
		if !m.fusedDone {
			m.fused, m.fusedDone = ghostFused(m), true
		}
		if m.fused != nil {
			return m.fused.run(c, x)
		}
	}
	y := m.G1.Forward(c, x)
	if m.DW != nil {
		y = m.DW.Forward(c, y)
	}
	if m.SE != nil {
		y = m.SE.Forward(c, y)
	}
	y = m.G2.Forward(c, y)
	s := x
	if m.Short != nil {
		s = m.Short.Forward(c, x)
	}
	return c.Tape.Add(y, s)
}

// Visit reports g1, dw, se, g2 and short in PyTorch's registration order.
func (m *GhostBottleneck) Visit(prefix string, fn func(Entry)) {
	m.G1.Visit(join(prefix, "g1"), fn)
	if m.DW != nil {
		m.DW.Visit(join(prefix, "dw"), fn)
	}
	if m.SE != nil {
		m.SE.Visit(join(prefix, "se"), fn)
	}
	m.G2.Visit(join(prefix, "g2"), fn)
	if m.Short != nil {
		m.Short.Visit(join(prefix, "short"), fn)
	}
}
