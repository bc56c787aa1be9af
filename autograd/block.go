package autograd

import (
	"fmt"

	"github.com/nasrun/nasrun/kernels"
)

// BlockParam ties a parameter to the slice a fused block (kernels.Block)
// writes its gradient into; Backward adds that into the parameter's Grad.
type BlockParam struct {
	Var  *Var
	Grad []float32
}

// Block runs b, a block of convolutions and batch norms in training mode
// as fused passes (kernels.Block), on x [N,H,W,C] and returns its output.
// The caller sets up b's ops, buffers (their batch-norm parameters; Data,
// Mean and Var are allocated here, from the tape) and terms, with b.In
// describing x; params lists every parameter b reads with the slice of b
// its gradient lands in. Each buffer's Mean and Var hold the batch
// statistics afterwards, for the running averages.
//
// b belongs to the tape until the step's Backward: one b per recorded use.
func (tp *Tape) Block(b *kernels.Block, x *Var, params []BlockParam) *Var {
	if tp.err != nil {
		return &tp.dead
	}
	xs := x.Value.Shape
	if len(xs) != 4 || b.In == nil || xs[0] != b.In.N || xs[1] != b.In.H || xs[2] != b.In.W || xs[3] != b.In.Ld {
		return tp.failf("autograd.Block: input %v for a block that takes %v", xs, blockInShape(b))
	}
	if len(b.Terms) == 0 {
		return tp.failf("autograd.Block: a block without output terms")
	}
	b.In.Data = x.Value.Data
	// Ops may share an output buffer (a Ghost module's two halves): each
	// buffer is allocated once, by its first op.
	for i := range b.Ops {
		b.Ops[i].Out.Buf.Data = nil
	}
	for i := range b.Ops {
		if buf := b.Ops[i].Out.Buf; buf.Data == nil {
			buf.Data = tp.buf(buf.N * buf.H * buf.W * buf.Ld)
			buf.Mean, buf.Var = tp.buf(buf.Ld), tp.buf(buf.Ld)
		}
	}
	t := b.Terms[0].Buf
	y := tp.newVar([]int{t.N, t.H, t.W, t.Ld}, x)
	if !tp.noGrad {
		for _, p := range params {
			y.requiresGrad = y.requiresGrad || p.Var.requiresGrad
		}
	}
	b.Out = y.Value.Data
	b.Alloc = tp.allocFn
	if err := b.Check(); err != nil {
		return tp.fail(fmt.Errorf("autograd.Block: %w", err))
	}
	b.Forward()
	if n := tp.record(blockBackward, y, x); n != nil {
		n.blk, n.blkParams = b, params
	}
	return y
}

func blockInShape(b *kernels.Block) []int {
	if b.In == nil {
		return nil
	}
	return []int{b.In.N, b.In.H, b.In.W, b.In.Ld}
}

// blockBackward: in = x; blk, blkParams = the block and its parameters.
func blockBackward(tp *Tape, n *node) {
	b, x := n.blk, n.in[0]
	dx := tp.buf(len(x.Value.Data))
	// What Backward allocates dies when it returns: from the scratch arena,
	// which the next block's Backward reuses.
	tp.scratch.reset()
	b.Alloc = tp.scratchFn
	b.Backward(n.out.Grad.Data, dx)
	b.Alloc = tp.allocFn
	for _, p := range n.blkParams {
		tp.accum(p.Var, p.Grad)
	}
	if x.requiresGrad {
		tp.pass(x, dx)
	}
}
