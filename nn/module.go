package nn

import (
	"math/rand/v2"

	"github.com/nasrun/nasrun/autograd"
	"github.com/nasrun/nasrun/kernels"
	"github.com/nasrun/nasrun/tensor"
)

// Act is an activation function (kernels.Act).
type Act = kernels.Act

// The activations a module can apply.
const (
	ActNone        = kernels.ActNone
	ActReLU        = kernels.ActReLU
	ActReLU6       = kernels.ActReLU6
	ActHardswish   = kernels.ActHardswish
	ActHardsigmoid = kernels.ActHardsigmoid
)

// Ctx carries what a forward pass needs besides its input: the tape that
// records it, the mode, and the random source of dropout.
type Ctx struct {
	// Tape records the ops (gradients on) or just runs them (SetGrad(false)).
	Tape *autograd.Tape
	// Train selects training mode: batch statistics in BatchNorm2d (and
	// their running-average update), active dropout. Eval mode uses the
	// running statistics and skips dropout.
	Train bool
	// Rng draws dropout masks; needed only in training mode with dropout.
	Rng *rand.Rand
	// BNMomentum, when positive, replaces every BatchNorm2d's momentum for
	// the running-statistics update of a training-mode pass. 1/k on the
	// k-th of K passes makes the statistics the exact average of the K
	// batches (PyTorch's momentum=None).
	BNMomentum float32
}

// Module is a layer or a block of layers.
type Module interface {
	// Forward applies the module to x.
	Forward(c *Ctx, x *autograd.Var) *autograd.Var
	// Visit calls fn for each parameter and state tensor, in a fixed
	// order, named prefix + "." + the module's own path (PyTorch's
	// state_dict names when prefix is the PyTorch attribute path).
	Visit(prefix string, fn func(Entry))
}

// Layout says how a state tensor is stored here (NHWC world) and in
// PyTorch's state_dict; conversion happens only at save and load.
type Layout uint8

// The layouts.
const (
	// LayoutPlain: same shape and order in both (vectors, BN statistics).
	LayoutPlain Layout = iota
	// LayoutConv: here [KH,KW,Cin,Cout], PyTorch [Cout,Cin,KH,KW].
	LayoutConv
	// LayoutDepthwise: here [K,K,C], PyTorch [C,1,K,K].
	LayoutDepthwise
	// LayoutLinear: here [In,Out], PyTorch nn.Linear [Out,In].
	LayoutLinear
	// LayoutPointwise: here [In,Out] (applied as a linear layer on pooled
	// vectors), PyTorch a 1×1 nn.Conv2d [Out,In,1,1] (the SE block's).
	LayoutPointwise
	// LayoutCount: a counter (BN's num_batches_tracked): a scalar here,
	// an int64 scalar in PyTorch.
	LayoutCount
)

// Entry is one named state tensor of a module.
type Entry struct {
	// Name is the dotted PyTorch-style name, e.g. "net.3.body.0.weight".
	Name string
	// Param is the trainable parameter, or nil for a buffer (running
	// statistics, counters).
	Param *autograd.Var
	// Value is the tensor itself (Param.Value for a parameter).
	Value *tensor.Tensor
	// Layout maps Value to and from PyTorch's layout.
	Layout Layout
}

// join appends a path element to a prefix.
func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// param reports a parameter to fn (nothing for a nil one).
func param(fn func(Entry), name string, p *autograd.Var, l Layout) {
	if p != nil {
		fn(Entry{Name: name, Param: p, Value: p.Value, Layout: l})
	}
}

// Sequential applies its modules in order; the i-th is named "i" (as in
// torch.nn.Sequential).
type Sequential []Module

// Forward runs the modules in order. In training mode a BatchNorm2d
// followed by an Activation runs as one fused op (autograd.BatchNormAct).
func (s Sequential) Forward(c *Ctx, x *autograd.Var) *autograd.Var {
	for i := 0; i < len(s); i++ {
		if bn, ok := s[i].(*BatchNorm2d); ok && c.Train && i+1 < len(s) {
			if a, ok := s[i+1].(*Activation); ok {
				x = bn.forwardAct(c, x, a.Act)
				i++
				continue
			}
		}
		x = s[i].Forward(c, x)
	}
	return x
}

// Visit visits each module under prefix.i.
func (s Sequential) Visit(prefix string, fn func(Entry)) {
	for i, m := range s {
		m.Visit(join(prefix, itoa(i)), fn)
	}
}

// itoa formats a small non-negative index without fmt.
func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// Residual is Body(x) + Shortcut(x), with the identity when Shortcut is
// nil.
type Residual struct {
	Body, Shortcut Module
	// BodyName and ShortcutName are the path elements of the two branches.
	BodyName, ShortcutName string
}

// Forward adds the two branches.
func (r *Residual) Forward(c *Ctx, x *autograd.Var) *autograd.Var {
	y := r.Body.Forward(c, x)
	s := x
	if r.Shortcut != nil {
		s = r.Shortcut.Forward(c, x)
	}
	return c.Tape.Add(y, s)
}

// Visit visits the body, then the shortcut.
func (r *Residual) Visit(prefix string, fn func(Entry)) {
	r.Body.Visit(join(prefix, r.BodyName), fn)
	if r.Shortcut != nil {
		r.Shortcut.Visit(join(prefix, r.ShortcutName), fn)
	}
}

// Add is the residual sum a + b.
func Add(c *Ctx, a, b *autograd.Var) *autograd.Var { return c.Tape.Add(a, b) }

// Concat joins a and b along the channel axis.
func Concat(c *Ctx, a, b *autograd.Var) *autograd.Var { return c.Tape.ConcatChannels(a, b) }

// Slice keeps channels [lo, hi) of x.
func Slice(c *Ctx, x *autograd.Var, lo, hi int) *autograd.Var { return c.Tape.SliceChannels(x, lo, hi) }
