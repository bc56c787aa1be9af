package autograd

import (
	"errors"
	"fmt"

	"github.com/nasrun/nasrun/kernels"
	"github.com/nasrun/nasrun/tensor"
)

// maxDims is how many dimensions a tape value stores without allocating.
const maxDims = 6

// Var is a value in a computation: a parameter (NewParam), a constant input
// (Tape.Input) or the output of an op. Value holds the forward result; Grad
// holds the gradient of the loss after Backward, or is nil when no gradient
// reached the value. (An intermediate value's Grad may share storage with
// the Grad of a later value, e.g. through Add or Reshape, and is only
// meaningful for the value itself.) A parameter's Grad always exists and accumulates over
// Backward calls until ZeroGrad.
//
// Vars made by a Tape belong to it: Reset recycles them together with their
// Value and Grad buffers.
type Var struct {
	// Value is the forward value.
	Value *tensor.Tensor
	// Grad is the gradient of the loss with respect to Value.
	Grad *tensor.Tensor

	requiresGrad bool
	param        bool
	// gradFresh: Grad holds no contribution yet, so the first one may
	// overwrite it instead of being added.
	gradFresh bool

	val, grad tensor.Tensor
	shape     [maxDims]int
}

// NewParam wraps t (not copied) as a trainable parameter with a zeroed
// gradient of the same shape. Parameters live outside any tape.
func NewParam(t *tensor.Tensor) *Var {
	return &Var{Value: t, Grad: tensor.Zeros(t.Shape...), requiresGrad: true, param: true, gradFresh: true}
}

// Shape returns the value's shape.
func (v *Var) Shape() []int { return v.Value.Shape }

// RequiresGrad reports whether a gradient flows to v in backward.
func (v *Var) RequiresGrad() bool { return v.requiresGrad }

// SetRequiresGrad freezes (false) or unfreezes (true) a parameter. It
// panics on a tape value (a programming error).
func (v *Var) SetRequiresGrad(on bool) {
	if !v.param {
		panic("autograd: SetRequiresGrad on a value that is not a parameter")
	}
	v.requiresGrad = on
}

// ZeroGrad zeroes a parameter's gradient before the next accumulation.
func (v *Var) ZeroGrad() {
	if v.Grad != nil {
		v.Grad.Zero()
	}
	v.gradFresh = true
}

// Tape records the ops of one forward pass and runs them backward. It owns
// an arena of buffers that Reset rewinds: a step that makes the requests of
// the previous one gets the same memory back, so a steady-state training
// step allocates nothing.
//
// Keep one Tape per kind of step (training, evaluation): a step with other
// shapes makes the arena regrow. A Tape is not safe for concurrent use. Ops report a shape mistake through
// a sticky error (Err), as bufio.Scanner does: after the first failure every
// op returns a placeholder at once, and Backward returns the error.
type Tape struct {
	arena arena
	vars  []*Var
	nvar  int
	nodes []node

	noGrad bool
	err    error
	dead   Var

	allocFn func(int) []float32 // tp.buf, bound once (kernels.Block.Alloc)

	// scratch serves what a fused block's Backward allocates (its gradient
	// buffers, which die when it returns), rewound before each block's, so
	// that every block reuses the same memory instead of the step's arena
	// holding all of them at once.
	scratch   arena
	scratchFn func(int) []float32 // scratch.alloc, bound once
}

// node is one recorded op: its backward function and what it needs.
// Fields other than back, out and in are a union that each op family uses
// its own way (documented next to the op).
type node struct {
	back func(tp *Tape, n *node)
	out  *Var
	in   [3]*Var

	conv kernels.Conv
	dw   kernels.DWConv
	blk  *kernels.Block
	// blkParams: Block's parameters.
	blkParams []BlockParam
	pool      kernels.Pool
	act       kernels.Act
	ints      [4]int
	f         float32
	saved     [2][]float32
	labels    []int
}

// NewTape returns an empty tape with gradients enabled.
func NewTape() *Tape {
	tp := &Tape{}
	tp.dead.Value = &tp.dead.val
	tp.allocFn = tp.buf
	tp.scratchFn = tp.scratch.alloc
	return tp
}

// Reset starts a new step: it forgets the recorded ops, clears the error and
// rewinds the arena, so every Var and buffer the tape handed out before is
// reused (read what you need, such as the loss value, before Reset).
func (tp *Tape) Reset() {
	tp.arena.reset()
	tp.nvar = 0
	clear(tp.nodes) // drop references held by saved slices and labels
	tp.nodes = tp.nodes[:0]
	tp.err = nil
}

// SetGrad turns gradient recording on (training) or off (inference: no op
// is recorded and no value requires a gradient) and returns the previous
// setting.
func (tp *Tape) SetGrad(on bool) (prev bool) {
	prev = !tp.noGrad
	tp.noGrad = !on
	return prev
}

// GradEnabled reports whether ops are being recorded.
func (tp *Tape) GradEnabled() bool { return !tp.noGrad }

// Err returns the first error an op met since the last Reset.
func (tp *Tape) Err() error { return tp.err }

// Input wraps t (not copied) as a constant of this step: no gradient flows
// to it.
func (tp *Tape) Input(t *tensor.Tensor) *Var {
	v := tp.takeVar()
	v.Value = t
	return v
}

// Backward runs the tape backward from loss, a single-element value, adding
// d loss/d v to the Grad of every parameter and every recorded value that
// loss depends on. Call it once per step.
func (tp *Tape) Backward(loss *Var) error {
	if tp.err != nil {
		return tp.err
	}
	if len(loss.Value.Data) != 1 {
		return fmt.Errorf("autograd.Backward: loss has shape %v, want a single value", loss.Value.Shape)
	}
	if !loss.requiresGrad {
		return errors.New("autograd.Backward: the loss depends on no parameter (or was computed with gradients off)")
	}
	g := tp.gradForAdd(loss)
	g[0]++
	tp.run()
	return nil
}

// BackwardFrom runs the tape backward from out with the given upstream
// gradient d loss/d out (same shape as out), for checks against reference
// gradients and for losses computed outside the tape.
func (tp *Tape) BackwardFrom(out *Var, grad *tensor.Tensor) error {
	if tp.err != nil {
		return tp.err
	}
	if err := tensor.SameShape("autograd.BackwardFrom", out.Value, grad); err != nil {
		return err
	}
	if !out.requiresGrad {
		return errors.New("autograd.BackwardFrom: the value depends on no parameter (or was computed with gradients off)")
	}
	tp.accum(out, grad.Data)
	tp.run()
	return nil
}

func (tp *Tape) run() {
	for i := len(tp.nodes) - 1; i >= 0; i-- {
		n := &tp.nodes[i]
		if n.out.Grad != nil {
			n.back(tp, n)
		}
	}
}

// buf returns an arena buffer of n elements with unspecified contents.
func (tp *Tape) buf(n int) []float32 { return tp.arena.alloc(n) }

func (tp *Tape) takeVar() *Var {
	if tp.nvar == len(tp.vars) {
		tp.vars = append(tp.vars, new(Var))
	}
	v := tp.vars[tp.nvar]
	tp.nvar++
	*v = Var{}
	return v
}

// newVar returns a fresh tape value of the given shape (contents
// unspecified) whose requiresGrad is set from the inputs that feed it.
func (tp *Tape) newVar(shape []int, from ...*Var) *Var {
	v := tp.takeVar()
	n := 1
	for _, d := range shape {
		n *= d
	}
	if len(shape) <= maxDims {
		v.val.Shape = append(v.shape[:0], shape...)
	} else {
		v.val.Shape = append([]int(nil), shape...)
	}
	v.val.Data = tp.buf(n)
	v.Value = &v.val
	if !tp.noGrad {
		for _, in := range from {
			if in != nil && in.requiresGrad {
				v.requiresGrad = true
				break
			}
		}
	}
	return v
}

// view returns a tape value sharing x's data under another shape.
func (tp *Tape) view(x *Var, shape []int) *Var {
	v := tp.takeVar()
	if len(shape) <= maxDims {
		v.val.Shape = append(v.shape[:0], shape...)
	} else {
		v.val.Shape = append([]int(nil), shape...)
	}
	v.val.Data = x.Value.Data
	v.Value = &v.val
	v.requiresGrad = !tp.noGrad && x.requiresGrad
	return v
}

// record appends a node for out if it needs a gradient and returns it (nil
// otherwise); the pointer is valid until the next record.
func (tp *Tape) record(back func(*Tape, *node), out *Var, in ...*Var) *node {
	if !out.requiresGrad {
		return nil
	}
	tp.nodes = append(tp.nodes, node{back: back, out: out})
	n := &tp.nodes[len(tp.nodes)-1]
	copy(n.in[:], in)
	return n
}

// fail records err (the first one wins) and returns the placeholder value.
func (tp *Tape) fail(err error) *Var {
	if tp.err == nil {
		tp.err = err
	}
	return &tp.dead
}

// failf is fail with a formatted error.
func (tp *Tape) failf(format string, args ...any) *Var {
	return tp.fail(fmt.Errorf(format, args...))
}

// ensureGrad gives a tape value a gradient buffer (contents unspecified,
// marked fresh) if it has none.
func (tp *Tape) ensureGrad(v *Var) {
	if v.Grad != nil {
		return
	}
	v.grad.Shape = v.Value.Shape
	v.grad.Data = tp.buf(len(v.Value.Data))
	v.Grad = &v.grad
	v.gradFresh = true
}

// sink returns the buffer a backward kernel should overwrite with v's
// gradient contribution: v.Grad itself while it holds nothing yet, else a
// scratch buffer that flush adds in. It returns nil when v needs no
// gradient (kernels skip nil outputs). Pair every sink with a flush before
// the next sink of the same Var.
func (tp *Tape) sink(v *Var) []float32 {
	if v == nil || !v.requiresGrad {
		return nil
	}
	tp.ensureGrad(v)
	if v.gradFresh {
		return v.Grad.Data
	}
	return tp.buf(len(v.Grad.Data))
}

// sinkInPlace is sink for kernels that may write the input gradient over
// the output gradient dy (elementwise ones): when v has no gradient yet
// and is not a parameter, v.Grad takes dy's storage, which no one reads
// after this node, saving a buffer.
func (tp *Tape) sinkInPlace(v *Var, dy []float32) []float32 {
	if v.requiresGrad && v.Grad == nil && !v.param && len(dy) == len(v.Value.Data) {
		v.grad.Shape = v.Value.Shape
		v.grad.Data = dy
		v.Grad = &v.grad
		v.gradFresh = true
		return dy
	}
	return tp.sink(v)
}

// flush completes a sink: it adds a scratch contribution into v.Grad, or
// marks v.Grad as holding one.
func (tp *Tape) flush(v *Var, g []float32) {
	if g == nil {
		return
	}
	if v.gradFresh {
		v.gradFresh = false
		return
	}
	kernels.Add(v.Grad.Data, g, v.Grad.Data)
}

// accum adds g into v's gradient (copying when it is the first
// contribution).
func (tp *Tape) accum(v *Var, g []float32) {
	if !v.requiresGrad {
		return
	}
	tp.ensureGrad(v)
	if v.gradFresh {
		copy(v.Grad.Data, g)
		v.gradFresh = false
		return
	}
	kernels.Add(v.Grad.Data, g, v.Grad.Data)
}

// pass hands g, a finished gradient no one writes again (the gradient of a
// node's output once its backward runs), to v: v.Grad takes g's storage
// when v has no gradient yet and is not a parameter, saving a copy;
// otherwise g is added as accum does.
func (tp *Tape) pass(v *Var, g []float32) {
	if v.requiresGrad && v.Grad == nil && !v.param {
		v.grad.Shape = v.Value.Shape
		v.grad.Data = g
		v.Grad = &v.grad
		return
	}
	tp.accum(v, g)
}

// gradForAdd returns v's gradient ready for in-place accumulation (zeroed
// first if it held nothing), or nil when v needs no gradient.
func (tp *Tape) gradForAdd(v *Var) []float32 {
	if v == nil || !v.requiresGrad {
		return nil
	}
	tp.ensureGrad(v)
	if v.gradFresh {
		clear(v.Grad.Data)
		v.gradFresh = false
	}
	return v.Grad.Data
}

// gradBeta returns v's gradient for a GEMM that accumulates with beta: 0
// while it holds nothing (overwrite), 1 after. It returns nil when v needs
// no gradient.
func (tp *Tape) gradBeta(v *Var) ([]float32, float32) {
	if v == nil || !v.requiresGrad {
		return nil, 0
	}
	tp.ensureGrad(v)
	if v.gradFresh {
		v.gradFresh = false
		return v.Grad.Data, 0
	}
	return v.Grad.Data, 1
}

// data returns v's values, or nil for a nil Var (an absent bias).
func data(v *Var) []float32 {
	if v == nil {
		return nil
	}
	return v.Value.Data
}

// ArenaBytes returns the bytes the tape's arenas hold: what a step of the
// largest shapes seen so far needs, kept for the next step, and what the
// last slabs have left over.
func (tp *Tape) ArenaBytes() int64 { return tp.arena.bytes() + tp.scratch.bytes() }
