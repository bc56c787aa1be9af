package kernels

import (
	"fmt"
	"sync/atomic"
	"time"
)

// BlockPass describes one timed pass of a Block: which op (a 1×1 or K×K
// depthwise convolution, with its views' channels and the map size) or the
// output terms, in which direction, and its wall time.
type BlockPass struct {
	// Op reads like "bwd 1x1 7x7 480/480>80/80 se": direction, kernel,
	// input map, input channels/buffer width > output channels/width, SE.
	Op   string
	Time time.Duration
}

// blockTimer, when set, receives every pass of every Block.
var blockTimer atomic.Pointer[func(BlockPass)]

// SetBlockTimer makes every Block report the wall time of each of its
// passes to f (nil: stop) and returns a function that restores the previous
// timer. It is for finding where a training step goes, on machines too
// noisy to compare whole steps (see BenchmarkTrainStepOps in package nas):
// a pass is timed with two clock reads, and its description is formatted,
// allocating, only while a timer is set. f runs on the goroutine that ran
// the Block, so concurrently where Blocks run concurrently.
func SetBlockTimer(f func(BlockPass)) (restore func()) {
	var p *func(BlockPass)
	if f != nil {
		p = &f
	}
	old := blockTimer.Swap(p)
	return func() { blockTimer.Store(old) }
}

// describe names pass of op (nil: the output terms) for a BlockPass.
func (b *Block) describe(op *BlockOp, pass int) string {
	dir := [...]string{blockFwd: "fwd", blockBwd: "bwd", blockTermsFwd: "fwd", blockTermsBwd: "bwd"}[pass]
	if op == nil {
		t := b.Terms[0].Buf
		return fmt.Sprintf("%s terms×%d %dx%dx%d", dir, len(b.Terms), t.H, t.W, t.Ld)
	}
	kind := "1x1"
	if op.K > 0 {
		kind = fmt.Sprintf("dw%dx%d/s%d", op.K, op.K, op.Stride)
	}
	in, out := op.In, op.Out
	s := fmt.Sprintf("%s %s %dx%d %d/%d>%d/%d", dir, kind, in.Buf.H, in.Buf.W, in.C, in.Buf.Ld, out.C, out.Buf.Ld)
	if op.SE != nil {
		s += " se"
	}
	return s
}
