package kernels

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nasrun/nasrun/kernels/asm"
)

// Fused training blocks. A MobileNet or GhostNet block in training mode is a
// chain of convolutions, each followed by a batch norm and an activation.
// Run op by op, every intermediate tensor makes several trips through main
// memory: written by the convolution, read for the batch statistics, read
// and written again by the normalisation, read by the next convolution,
// and as many again backward. At batch 64 these tensors are megabytes, far
// larger than the L2 cache, so a training step is bound by memory traffic.
//
// A Block runs the same computation with the batch norms split at their
// natural barrier, the batch statistics, the way cuDNN's fused "scale, bias,
// activation, convolution, statistics" operations do on GPUs:
//
//   - Forward, each convolution (an Op) reads its input raw, as the previous
//     convolution wrote it, and applies the batch norm and activation on
//     load (act(x·s + t), s and t folded from the batch statistics and the
//     affine parameters), image chunk by image chunk into an L2-sized
//     scratch; it writes its raw output and takes the output's batch
//     statistics while the chunk is still in cache. An SE block before a
//     1×1 convolution runs on the same chunk. Only the raw outputs are
//     stored; the normalised tensors never exist in memory.
//   - Backward mirrors it: each op reads its output's gradient lazily, as
//     g·A + (x − mean)·B + C from the gradient g that its consumers left and
//     the batch norm's backward coefficients, recomputes its normalised
//     input from the raw one, and leaves the gradient g of its input with
//     the batch norm's backward sums (Σg, Σg·(x − mean)), again chunk by
//     chunk.
//
// Per convolution and direction that is one read of each tensor it needs
// and one write of what it produces, against four to six passes op by op.
//
// The buffers are BlockBufs: raw NHWC tensors whose rows are Ld floats,
// each with one batch norm over its channels. An op reads and writes a
// BlockView, a run of a buffer's channels, so that a Ghost module's primary
// and cheap convolutions write the two halves of one buffer and its
// consumers read the concatenation as one tensor. The block's output is the
// sum of its Terms, batch-normalised views (no activation), plus the input
// for a residual block.

// BlockBuf is one raw tensor of a Block: N·H·W rows of Ld floats, and the
// batch norm that its consumers apply to it (Gamma nil: none, the block's
// input, read as it is).
type BlockBuf struct {
	N, H, W, Ld int
	// Data holds the values: the block's input, or what the producing ops
	// write in Forward.
	Data []float32
	// Gamma, Beta, Eps and Act are the batch norm and the activation after
	// it, as consumers see the buffer: act(BN(x)).
	Gamma, Beta []float32
	Eps         float32
	Act         Act
	// Mean and Var receive the batch mean and biased variance in Forward
	// (Ld values each, like Gamma and Beta).
	Mean, Var []float32
	// DGamma and DBeta receive the gradients of Gamma and Beta in Backward
	// (overwritten).
	DGamma, DBeta []float32

	s, t       []float32 // the normalisation folded: act(x·s + t)
	g          []float32 // the gradient g = dL/d(act(BN(x)))·act'(·) its consumers left
	sum, sumX  []float64 // Σg and Σg·(x − mean) per channel
	ca, cb, cc []float32 // the input gradient: g·ca + (x − mean)·cb + cc
	gSet       []bool    // per channel: g holds a contribution
}

// BlockView is channels [Off, Off+C) of a buffer.
type BlockView struct {
	Buf    *BlockBuf
	Off, C int
}

// BlockSE is a squeeze-and-excitation block applied to a 1×1 op's input
// (after its batch norm and activation): the input's channels are scaled
// by hardsigmoid(W2ᵀ·relu(W1ᵀ·mean + B1) + B2), per image.
type BlockSE struct {
	Hidden         int
	W1, B1, W2, B2 []float32 // [C,Hidden], [Hidden], [Hidden,C], [C]
	// DW1, DB1, DW2 and DB2 receive the gradients in Backward (overwritten).
	DW1, DB1, DW2, DB2 []float32

	pool, hid, gate []float32 // per image: the pooled input, the hidden and gate pre-activations
	du, dh          []float32 // Backward, per image: the gradients of the gate and hidden pre-activations
	w1t, w2t        []float32 // W1ᵀ and W2ᵀ, written by Forward for Backward
}

// BlockOp is one convolution of a Block, from In to Out: 1×1 when K is 0
// (W is [In.C, Out.C]), else depthwise K×K with Stride and Pad (W is
// [K,K,C], In.C = Out.C). SE, if set, scales the input first (1×1 only).
type BlockOp struct {
	In, Out        BlockView
	K, Stride, Pad int
	W              []float32
	SE             *BlockSE
	// DW receives the weight gradient in Backward (overwritten).
	DW []float32

	dw      *dwPlan
	wt      []float32 // 1×1: Wᵀ, written by Forward for Backward
	inFirst bool      // Backward: the op's input gradient is the first to reach In's channels
}

// Block is a training-mode block run as fused passes (see the top of the
// file). Set the fields, call Forward, then Backward once with the
// gradient of Out.
type Block struct {
	// In is the block's input (no batch norm, Ld = its channels).
	In *BlockBuf
	// Ops run in order; every BlockBuf other than In is the output of ops.
	Ops []BlockOp
	// Terms are summed into Out, each batch-normalised without activation
	// and as wide as Out; Residual adds In too.
	Terms    []BlockView
	Residual bool
	// Out receives the output: the terms' pixels, each as wide as a term.
	Out []float32
	// Alloc returns scratch memory of n floats (contents unspecified) that
	// lives until Backward has returned: the gradient buffers and the SE's
	// saved vectors. What Forward allocates must last until Backward; what
	// Backward allocates, only until it returns, so Alloc may be changed
	// in between (a training tape passes its arena for Forward and, for
	// Backward, a scratch arena that every block's Backward reuses).
	Alloc func(n int) []float32

	checked bool // the structure passed Check
	bufs    []*BlockBuf
	f64     []float64 // the buffers' backward sums
	flags   []bool    // the buffers' gSet
	bwdOut  []float32 // Backward's dOut
}

// blockChunkBytes bounds the bytes per image chunk of the largest tensor an
// op touches: a chunk's input, scratch and output stay in L2 between the
// passes over it.
const blockChunkBytes = 192 << 10

// blockSEImages is the least number of images in a chunk of an op with SE,
// whose fully connected layers multiply one row per image: four fill the
// GEMM's narrowest tile (ghost-like's step 3% faster than at one or two).
// Measured again once the SE's weight gradients had left the chunk: with
// two, the backward of the largest SE ops (7×7×480) took 11% longer; eight
// gained nothing.
const blockSEImages = 4

// Check validates the block and returns a description of the first
// mistake, or nil; Forward panics with it. The structure (views, ops,
// terms, parameter lengths) is checked in full on the first call only: a
// Block's structure must not change once checked. The sizes (N, H, W, the
// Data and Out lengths) are checked on every call.
func (b *Block) Check() error {
	if !b.checked {
		b.bufs = b.bufs[:0]
		if err := b.checkStructure(); err != nil {
			return err
		}
		b.checked = true
	}
	return b.checkSizes()
}

// checkStructure checks what does not depend on the sizes and lists the
// buffers the ops write in b.bufs.
func (b *Block) checkStructure() error {
	if b.In == nil || b.In.Gamma != nil {
		return fmt.Errorf("the input must be a buffer without batch norm")
	}
	known := map[*BlockBuf]bool{b.In: true}
	written := map[*BlockBuf][]bool{}
	view := func(what string, v BlockView) error {
		if v.Buf == nil || v.Off < 0 || v.C < 1 || v.Off+v.C > v.Buf.Ld {
			return fmt.Errorf("%s: channels [%d, %d) of a buffer of %d", what, v.Off, v.Off+v.C, ldOf(v.Buf))
		}
		return nil
	}
	for i := range b.Ops {
		op := &b.Ops[i]
		name := fmt.Sprintf("op %d", i)
		if err := view(name+" input", op.In); err != nil {
			return err
		}
		if err := view(name+" output", op.Out); err != nil {
			return err
		}
		in, out := op.In.Buf, op.Out.Buf
		if !known[in] {
			return fmt.Errorf("%s reads a buffer that no earlier op wrote", name)
		}
		for c := op.In.Off; c < op.In.Off+op.In.C; c++ {
			if in != b.In && !written[in][c] {
				return fmt.Errorf("%s reads channel %d before an op wrote it", name, c)
			}
		}
		if out == b.In || out.Gamma == nil {
			return fmt.Errorf("%s writes a buffer without batch norm", name)
		}
		if len(out.Gamma) != out.Ld || len(out.Beta) != out.Ld {
			return fmt.Errorf("%s output: batch-norm parameters of %d and %d values, want %d", name, len(out.Gamma), len(out.Beta), out.Ld)
		}
		if written[out] == nil {
			written[out] = make([]bool, out.Ld)
			b.bufs = append(b.bufs, out)
		}
		for c := op.Out.Off; c < op.Out.Off+op.Out.C; c++ {
			if written[out][c] {
				return fmt.Errorf("%s writes channel %d a second time", name, c)
			}
			written[out][c] = true
		}
		known[out] = true
		if op.K == 0 {
			if len(op.W) != op.In.C*op.Out.C {
				return fmt.Errorf("%s: weights of %d, want %d×%d", name, len(op.W), op.In.C, op.Out.C)
			}
			if se := op.SE; se != nil {
				c, h := op.In.C, se.Hidden
				if h < 1 || len(se.W1) != c*h || len(se.B1) != h || len(se.W2) != h*c || len(se.B2) != c {
					return fmt.Errorf("%s: SE parameters do not match %d channels and %d hidden", name, c, h)
				}
			}
			continue
		}
		if op.In.C != op.Out.C || op.SE != nil || op.K < 1 || op.Stride < 1 || op.Pad < 0 {
			return fmt.Errorf("%s: depthwise %d×%d stride %d pad %d from %d to %d channels (and no SE)", name,
				op.K, op.K, op.Stride, op.Pad, op.In.C, op.Out.C)
		}
		if len(op.W) != op.K*op.K*op.In.C {
			return fmt.Errorf("%s: depthwise weights of %d, want %d", name, len(op.W), op.K*op.K*op.In.C)
		}
		if in.Ld != out.Ld {
			return fmt.Errorf("%s: a depthwise op between buffers of %d and %d floats per pixel", name, in.Ld, out.Ld)
		}
	}
	read := map[*BlockBuf]bool{}
	for i := range b.Ops {
		read[b.Ops[i].In.Buf] = true
	}
	for _, v := range b.Terms {
		read[v.Buf] = true
	}
	for buf, w := range written {
		for c, ok := range w {
			if !ok {
				return fmt.Errorf("channel %d of a buffer is never written", c)
			}
		}
		if !read[buf] {
			return fmt.Errorf("a buffer that ops write is neither read by an op nor a term")
		}
	}
	if len(b.Terms) == 0 || len(b.Terms)+btoi(b.Residual) > 2 {
		return fmt.Errorf("the output sums %d terms and %v residual, want 1 or 2 in all", len(b.Terms), b.Residual)
	}
	cout := b.Terms[0].C
	for i, v := range b.Terms {
		if err := view(fmt.Sprintf("term %d", i), v); err != nil {
			return err
		}
		if !known[v.Buf] || v.Buf == b.In || v.Off != 0 || v.C != v.Buf.Ld || v.C != cout || v.Buf.Act != ActNone {
			return fmt.Errorf("term %d: a whole buffer written by an op, without activation, as wide as the others", i)
		}
	}
	if b.Residual && b.In.Ld != cout {
		return fmt.Errorf("residual input of %d channels, output %d", b.In.Ld, cout)
	}
	// Backward adds each op's input gradient into its view's channels or
	// writes them first: in backward order (the terms, then the ops in
	// reverse) every view must find its channels all written or none.
	covered := map[*BlockBuf][]bool{}
	for _, v := range b.Terms {
		covered[v.Buf] = make([]bool, v.Buf.Ld)
		for c := range covered[v.Buf] {
			covered[v.Buf][c] = true
		}
	}
	for i := len(b.Ops) - 1; i >= 0; i-- {
		v := b.Ops[i].In
		if v.Buf == b.In {
			if v.Off != 0 || v.C != b.In.Ld {
				return fmt.Errorf("op %d reads channels [%d, %d) of the input, want all %d", i, v.Off, v.Off+v.C, b.In.Ld)
			}
			continue
		}
		cv := covered[v.Buf]
		if cv == nil {
			cv = make([]bool, v.Buf.Ld)
			covered[v.Buf] = cv
		}
		for c := v.Off; c < v.Off+v.C; c++ {
			if cv[c] != cv[v.Off] {
				return fmt.Errorf("op %d reads channels [%d, %d) of a buffer that the ops after it read only in part", i, v.Off, v.Off+v.C)
			}
		}
		for c := v.Off; c < v.Off+v.C; c++ {
			cv[c] = true
		}
	}
	return nil
}

// checkSizes checks what depends on the sizes.
func (b *Block) checkSizes() error {
	in := b.In
	if len(in.Data) != in.N*in.H*in.W*in.Ld {
		return fmt.Errorf("the input's Data holds %d values for %d×%d×%d×%d", len(in.Data), in.N, in.H, in.W, in.Ld)
	}
	for i := range b.Ops {
		op := &b.Ops[i]
		in, out := op.In.Buf, op.Out.Buf
		if out.N != in.N || len(out.Data) != out.N*out.H*out.W*out.Ld || len(out.Mean) != out.Ld || len(out.Var) != out.Ld {
			return fmt.Errorf("op %d output: Data has %d values for %d×%d×%d×%d (input %d images), statistics %d and %d",
				i, len(out.Data), out.N, out.H, out.W, out.Ld, in.N, len(out.Mean), len(out.Var))
		}
		p := op.dwConv()
		switch {
		case op.K == 0 && (out.H != in.H || out.W != in.W):
			return fmt.Errorf("op %d: a 1×1 op from %d×%d to %d×%d", i, in.H, in.W, out.H, out.W)
		case op.K > 0 && (in.H+2*op.Pad < op.K || in.W+2*op.Pad < op.K || out.H != p.OutH() || out.W != p.OutW()):
			return fmt.Errorf("op %d: depthwise %d×%d stride %d pad %d from %d×%d to %d×%d", i, op.K, op.K, op.Stride, op.Pad, in.H, in.W, out.H, out.W)
		}
	}
	t0 := b.Terms[0].Buf
	for i, v := range b.Terms {
		if v.Buf.N != t0.N || v.Buf.H != t0.H || v.Buf.W != t0.W {
			return fmt.Errorf("term %d is %d×%d×%d, term 0 %d×%d×%d", i, v.Buf.N, v.Buf.H, v.Buf.W, t0.N, t0.H, t0.W)
		}
	}
	if b.Residual && (in.N != t0.N || in.H != t0.H || in.W != t0.W) {
		return fmt.Errorf("residual input %d×%d×%d, output %d×%d×%d", in.N, in.H, in.W, t0.N, t0.H, t0.W)
	}
	if len(b.Out) != t0.N*t0.H*t0.W*t0.Ld {
		return fmt.Errorf("Out has %d values, want %d", len(b.Out), t0.N*t0.H*t0.W*t0.Ld)
	}
	if b.Alloc == nil {
		return fmt.Errorf("no Alloc")
	}
	return nil
}

// checkGrads checks the lengths of the gradient slices Backward writes.
func (b *Block) checkGrads() error {
	for _, buf := range b.bufs {
		if len(buf.DGamma) != buf.Ld || len(buf.DBeta) != buf.Ld {
			return fmt.Errorf("batch-norm gradients of %d and %d values, want %d", len(buf.DGamma), len(buf.DBeta), buf.Ld)
		}
	}
	for i := range b.Ops {
		op := &b.Ops[i]
		if len(op.DW) != len(op.W) {
			return fmt.Errorf("op %d: weight gradient of %d values, want %d", i, len(op.DW), len(op.W))
		}
		if se := op.SE; se != nil && (len(se.DW1) != len(se.W1) || len(se.DB1) != len(se.B1) || len(se.DW2) != len(se.W2) || len(se.DB2) != len(se.B2)) {
			return fmt.Errorf("op %d: SE gradients do not match its parameters", i)
		}
	}
	return nil
}

func ldOf(b *BlockBuf) int {
	if b == nil {
		return 0
	}
	return b.Ld
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (op *BlockOp) dwConv() DWConv {
	in := op.In.Buf
	return DWConv{N: in.N, H: in.H, W: in.W, C: op.In.C, K: op.K, Stride: op.Stride, Pad: op.Pad}
}

// Forward computes Out and every buffer's batch statistics.
func (b *Block) Forward() {
	if err := b.Check(); err != nil {
		panic("kernels.Block.Forward: " + err.Error())
	}
	for _, buf := range b.bufs {
		buf.s, buf.t = b.Alloc(buf.Ld), b.Alloc(buf.Ld)
		buf.g, buf.gSet = nil, nil
	}
	for i := range b.Ops {
		op := &b.Ops[i]
		if se := op.SE; se != nil {
			n := op.In.Buf.N
			se.pool, se.hid, se.gate = b.Alloc(n*op.In.C), b.Alloc(n*se.Hidden), b.Alloc(n*op.In.C)
			se.w1t, se.w2t = b.Alloc(len(se.W1)), b.Alloc(len(se.W2))
		}
		if op.K == 0 {
			op.wt = b.Alloc(len(op.W))
		} else {
			if op.dw == nil {
				op.dw = new(dwPlan)
			}
			op.dw.prepare(op.dwConv(), op.W, op.In.Buf.Ld)
		}
		b.run(op, blockFwd)
		out := op.Out
		bnScaleShift(out.C, out.Buf.Eps, out.Buf.Gamma[out.Off:], out.Buf.Beta[out.Off:], out.Buf.Mean[out.Off:], out.Buf.Var[out.Off:],
			out.Buf.s[out.Off:], out.Buf.t[out.Off:])
	}
	b.runTerms(blockTermsFwd, nil)
}

// Backward computes the gradients of every parameter and writes the input's
// gradient into dIn (overwritten), given dOut, the gradient of Out. dOut is
// read, and serves as the gradient buffer of the terms, until Backward
// returns.
func (b *Block) Backward(dOut, dIn []float32) {
	if len(dOut) != len(b.Out) || len(dIn) != len(b.In.Data) {
		panic(fmt.Sprintf("kernels.Block.Backward: dOut has %d values (want %d), dIn %d (want %d)", len(dOut), len(b.Out), len(dIn), len(b.In.Data)))
	}
	if err := b.checkGrads(); err != nil {
		panic("kernels.Block.Backward: " + err.Error())
	}
	n := 0
	for _, buf := range b.bufs {
		n += buf.Ld
	}
	b.f64, b.flags = grow(b.f64, 2*n), grow(b.flags, n)
	clear(b.f64)
	clear(b.flags)
	b.bwdOut, b.In.g = dOut, dIn
	f64, flags := b.f64, b.flags
	for _, buf := range b.bufs {
		buf.sum, buf.sumX, f64 = f64[:buf.Ld], f64[buf.Ld:2*buf.Ld], f64[2*buf.Ld:]
		buf.gSet, flags = flags[:buf.Ld], flags[buf.Ld:]
		buf.ca, buf.cb, buf.cc = b.Alloc(buf.Ld), b.Alloc(buf.Ld), b.Alloc(buf.Ld)
	}
	// Terms first: their buffers' gradient is dOut (no activation): dOut
	// itself, or a copy where an op reading the buffer will add to it (a
	// Ghost module's cheap operation reads its first half).
	for _, v := range b.Terms {
		v.Buf.g = dOut
		for i := range b.Ops {
			if b.Ops[i].In.Buf == v.Buf {
				v.Buf.g = b.Alloc(len(dOut))
			}
		}
		for c := range v.Buf.gSet {
			v.Buf.gSet[c] = true
		}
	}
	b.runTerms(blockTermsBwd, dOut)
	// In's gradient: dOut where residual, plus what the ops reading In
	// leave; inSet tracks whether an op has written dIn yet (the first adds
	// dOut to its own contribution where residual).
	inSet := false
	for i := len(b.Ops) - 1; i >= 0; i-- {
		op := &b.Ops[i]
		b.finishBN(op.Out)
		if se := op.SE; se != nil {
			n := op.In.Buf.N
			se.du, se.dh = b.Alloc(n*op.In.C), b.Alloc(n*se.Hidden)
		}
		in := op.In
		if in.Buf == b.In {
			op.inFirst = !inSet
			inSet = true
		} else {
			op.inFirst = true
			for c := in.Off; c < in.Off+in.C; c++ {
				if in.Buf.gSet[c] {
					op.inFirst = false
				}
			}
			if in.Buf.g == nil {
				in.Buf.g = b.Alloc(len(in.Buf.Data))
			}
		}
		b.run(op, blockBwd)
		if in.Buf != b.In {
			for c := in.Off; c < in.Off+in.C; c++ {
				in.Buf.gSet[c] = true
			}
		}
	}
	switch {
	case inSet:
	case b.Residual:
		copy(dIn, dOut)
	default:
		clear(dIn)
	}
	b.In.g, b.bwdOut = nil, nil
	for _, buf := range b.bufs {
		buf.g, buf.sum, buf.sumX, buf.gSet = nil, nil, nil, nil
	}
}

// finishBN turns the backward sums of view v's channels into the batch
// norm's gradients and the input-gradient coefficients:
// dβ = Σg, dγ = Σg·x̂, dx = γ/σ·(g − Σg/n − x̂·Σg·x̂/n) = g·A + (x − mean)·B + C.
func (b *Block) finishBN(v BlockView) {
	buf := v.Buf
	n := float64(buf.N * buf.H * buf.W)
	for ch := v.Off; ch < v.Off+v.C; ch++ {
		sg, sxm := buf.sum[ch], buf.sumX[ch]
		inv := 1 / math.Sqrt(float64(buf.Var[ch])+float64(buf.Eps))
		a := float64(buf.Gamma[ch]) * inv
		buf.ca[ch] = float32(a)
		buf.cb[ch] = float32(-a * inv * inv * sxm / n)
		buf.cc[ch] = float32(-a * sg / n)
		buf.DBeta[ch] = float32(sg)
		buf.DGamma[ch] = float32(sxm * inv)
	}
}

// The passes a blockJob runs.
const (
	blockFwd = iota
	blockBwd
	blockTermsFwd
	blockTermsBwd
)

// blockJob is one parallel pass of a Block over chunks of images. Each
// pool chunk is a slot with its own scratch that owns a contiguous range of
// image chunks and takes them from the front; a slot that has finished its
// own takes the others' from the back of their ranges (see runSlots).
// Every partial result is reduced in an order fixed by the chunks alone, so
// a pass gives the same bits whichever slot ran which chunk: the batch-norm
// sums are kept per chunk and added in chunk order, and a chunk that
// another slot took leaves its weight-gradient contribution for the owner,
// which adds it after its own, in chunk order (combine).
type blockJob struct {
	b      *Block
	op     *BlockOp
	pass   int
	k      *eltKernels
	imgs   int // images per chunk
	chunks int
	slots  []blockSlot
	dOut   []float32
	body   func(lo, hi int)

	// work holds each slot's chunks not yet taken, [front, back) packed
	// as front | back<<32.
	work []atomic.Uint64
	// sums holds each chunk's batch-norm sums, sumW float64s a chunk.
	sums []float64
	sumW int
	// thief[c] is the slot that took chunk c from its owner (-1: none),
	// and stealOff[c] where in that slot's steal buffer it left the
	// chunk's weight-gradient contribution.
	thief    []int
	stealOff []int
}

// blockJobs is a free list of jobs, whose slots keep their scratch (about a
// megabyte per thread) from one pass to the next. Not a sync.Pool: a
// garbage collection would drop the scratch, and a training step would
// allocate it again.
var blockJobs struct {
	sync.Mutex
	free []*blockJob
}

func getBlockJob() *blockJob {
	blockJobs.Lock()
	defer blockJobs.Unlock()
	if n := len(blockJobs.free); n > 0 {
		j := blockJobs.free[n-1]
		blockJobs.free = blockJobs.free[:n-1]
		return j
	}
	j := new(blockJob)
	j.body = j.runSlots
	return j
}

func putBlockJob(j *blockJob) {
	j.b, j.op, j.dOut = nil, nil, nil
	blockJobs.Lock()
	blockJobs.free = append(blockJobs.free, j)
	blockJobs.Unlock()
}

// blockSlot is one slot's scratch, its weight-gradient accumulators, and
// what it knows of the chunk it is running.
type blockSlot struct {
	f32    [11][]float32
	f64    []float64
	padKey [2][5]int // the layouts of sPadIn and sPadDy
	first  bool      // the slot has not yet accumulated into its weight gradients
	idx    int       // the slot's index in its job

	// The chunk being run: its batch-norm sums, the slot whose weight
	// gradients it adds to, and whether that is another slot (stolen).
	sums   []float64
	owner  *blockSlot
	stolen bool
	steal  []float32 // the contributions of the chunks this slot took from others
}

func (s *blockSlot) buf(i, n int) []float32 {
	if cap(s.f32[i]) < n {
		s.f32[i] = make([]float32, n)
	}
	s.f32[i] = s.f32[i][:n]
	return s.f32[i]
}

// buf64 returns n zeroed float64s of scratch.
func (s *blockSlot) buf64(n int) []float64 {
	if cap(s.f64) < n {
		s.f64 = make([]float64, n)
	}
	s.f64 = s.f64[:n]
	clear(s.f64)
	return s.f64
}

// wgradBeta returns what a 1×1 weight-gradient contribution to the slot's
// accumulator multiplies it by: 0 for the first of the pass, which
// overwrites it, then 1.
func (s *blockSlot) wgradBeta() float32 {
	if s.first {
		s.first = false
		return 0
	}
	return 1
}

// stealBuf returns n floats at the end of the slot's steal buffer (which
// runJob sizes for the pass), for a stolen chunk's weight-gradient
// contribution; combine reads it back by offset.
func (s *blockSlot) stealBuf(n int) []float32 {
	off := len(s.steal)
	s.steal = slices.Grow(s.steal, n)[:off+n]
	return s.steal[off:]
}

// Slot scratch indices.
const (
	sIn     = iota // the op's normalised input chunk
	sZ             // the SE-scaled input, or the input gradient chunk
	sOut           // the output (gradient) chunk
	sAcc           // weight-gradient accumulators
	sVec           // small per-image vectors
	sPart          // per-channel float32 partial sums
	sSE            // the SE's backward vectors
	sConst         // ones and zeros
	sPadIn         // a depthwise op's padded input (blockSlot.padded)
	sPadDy         // a depthwise op's padded output gradient
	sDWGrad        // a depthwise op's weight gradient of one chunk
)

// run runs pass over the images of op.
func (b *Block) run(op *BlockOp, pass int) {
	per := max(op.In.Buf.H*op.In.Buf.W*op.In.Buf.Ld, op.Out.Buf.H*op.Out.Buf.W*op.Out.Buf.Ld)
	b.runJob(op, pass, per, nil)
}

// runTerms runs a pass over the output's rows.
func (b *Block) runTerms(pass int, dOut []float32) {
	t := b.Terms[0].Buf
	b.runJob(nil, pass, t.H*t.W*t.Ld, dOut)
}

// runJob runs a pass over chunks of images of per floats each at most.
func (b *Block) runJob(op *BlockOp, pass, per int, dOut []float32) {
	j := getBlockJob()
	j.b, j.op, j.pass, j.k, j.dOut = b, op, pass, elt(), dOut
	n := b.In.N
	j.imgs = max(1, min(n, blockChunkBytes/(4*max(per, 1))))
	if op != nil && op.SE != nil {
		j.imgs = min(n, max(j.imgs, blockSEImages))
	}
	j.chunks = (n + j.imgs - 1) / j.imgs
	t := Threads()
	if blockForceSteal {
		t = max(t, 2)
	}
	t = min(t, j.chunks)
	if cap(j.slots) < t {
		j.slots = append(j.slots[:cap(j.slots)], make([]blockSlot, t-cap(j.slots))...)
		j.work = make([]atomic.Uint64, cap(j.slots))
	}
	j.slots = j.slots[:t] // the slots past t keep their scratch too
	for i := range j.slots {
		sl := &j.slots[i]
		sl.first, sl.idx, sl.steal = true, i, sl.steal[:0]
		j.work[i].Store(uint64(i*j.chunks/t) | uint64((i+1)*j.chunks/t)<<32)
	}
	j.sumW = j.sumWidth()
	j.sums = grow(j.sums, j.chunks*j.sumW)
	j.thief, j.stealOff = grow(j.thief, j.chunks), grow(j.stealOff, j.chunks)
	for c := range j.thief {
		j.thief[c] = -1
	}
	if op != nil && op.dw != nil {
		op.dw.slots(t)
	}
	// Room for the weight gradients of every chunk a slot could take (all
	// but the smallest own range), so that a pass allocates only the first
	// time it runs.
	if n := (j.chunks - j.chunks/t) * j.stealWidth(); n > 0 {
		for i := range j.slots {
			if sl := &j.slots[i]; cap(sl.steal) < n {
				sl.steal = make([]float32, 0, n)
			}
		}
	}
	timer := blockTimer.Load()
	var t0 time.Time
	if timer != nil {
		t0 = time.Now()
	}
	parallelFor(t, 1, j.body)
	j.combine()
	if timer != nil {
		(*timer)(BlockPass{Op: b.describe(op, pass), Time: time.Since(t0)})
	}
	putBlockJob(j)
}

// blockForceSteal, set by tests, makes every pass of two chunks or more
// run at least two slots, each of which runs only the first chunk of its
// own range before it takes the others' chunks (on one CPU too, where the
// slots run one after the other).
var blockForceSteal = false

// runSlots runs slots [lo, hi): each runs the chunks of its range from the
// front, then takes what is left of the other slots' ranges from the back.
// A slot that a busy machine slows down so leaves its last chunks to the
// others instead of making every slot wait at the end of the pass, while
// most chunks stay with their owner, whose core has the images of the
// chunks before in its cache.
func (j *blockJob) runSlots(lo, hi int) {
	for s := lo; s < hi; s++ {
		sl := &j.slots[s]
		for own := 0; !blockForceSteal || own < 1; own++ {
			c, ok := j.claim(s, false)
			if !ok {
				break
			}
			j.runChunk(sl, sl, c)
		}
	}
	t := len(j.slots)
	for s := lo; s < hi; s++ {
		for v := 1; v < t; v++ {
			owner := &j.slots[(s+v)%t]
			for {
				c, ok := j.claim(owner.idx, true)
				if !ok {
					break
				}
				j.runChunk(&j.slots[s], owner, c)
			}
		}
	}
}

// claim takes a chunk from slot s's range: from the front for its owner,
// from the back for another slot.
func (j *blockJob) claim(s int, back bool) (int, bool) {
	w := &j.work[s]
	for {
		v := w.Load()
		f, b := int(uint32(v)), int(v>>32)
		if f >= b {
			return 0, false
		}
		c, next := f, uint64(f+1)|uint64(b)<<32
		if back {
			c, next = b-1, uint64(f)|uint64(b-1)<<32
		}
		if w.CompareAndSwap(v, next) {
			return c, true
		}
	}
}

// runChunk runs chunk c of owner's range on slot sl.
func (j *blockJob) runChunk(sl, owner *blockSlot, c int) {
	sl.owner, sl.stolen = owner, owner != sl
	sl.sums = j.sums[c*j.sumW : (c+1)*j.sumW]
	clear(sl.sums)
	if sl.stolen {
		j.thief[c], j.stealOff[c] = sl.idx, len(sl.steal)
	}
	n0 := c * j.imgs
	n1 := min(n0+j.imgs, j.b.In.N)
	switch j.pass {
	case blockFwd:
		if j.op.K == 0 {
			j.fwdPW(sl, n0, n1)
			j.transposeWeights(c)
		} else {
			j.fwdDW(sl, n0, n1)
		}
	case blockBwd:
		if j.op.K == 0 {
			j.bwdPW(sl, n0, n1)
		} else {
			j.bwdDW(sl, n0, n1)
		}
	case blockTermsFwd:
		j.termsFwd(sl, n0, n1)
	case blockTermsBwd:
		j.termsBwd(sl, n0, n1)
	}
}

// stealWidth is the most floats of weight gradient a chunk of the pass
// leaves when another slot takes it.
func (j *blockJob) stealWidth() int {
	switch {
	case j.pass != blockBwd:
		return 0
	case j.op.K > 0:
		return j.op.dw.grad.grad.accLen
	}
	return j.kBlocks(0) * len(j.op.DW)
}

// sumWidth is the float64s of batch-norm sums a chunk of the pass leaves.
func (j *blockJob) sumWidth() int {
	switch j.pass {
	case blockFwd:
		return 4 * j.op.Out.C
	case blockBwd:
		return 2 * j.op.In.C
	case blockTermsBwd:
		w := 0
		for _, v := range j.b.Terms {
			w += 2 * v.C
		}
		return w
	}
	return 0
}

// combine adds the chunks' batch-norm sums in chunk order, and the
// weight-gradient contributions of the chunks other slots took into their
// owners' accumulators, then the slots' accumulators in slot order.
func (j *blockJob) combine() {
	op := j.op
	switch j.pass {
	case blockFwd:
		// The chunks' sums into the first, in chunk order, a chunk at a
		// time (bnStatsCombine would add them in the same order, but
		// reading a channel's across the chunks).
		out := op.Out
		acc := j.sums[:j.sumW]
		for c := 1; c < j.chunks; c++ {
			for q, v := range j.sums[c*j.sumW : (c+1)*j.sumW] {
				acc[q] += v
			}
		}
		bnStatsCombine(out.Buf.N*out.Buf.H*out.Buf.W, out.C, 1, acc, out.Buf.Mean[out.Off:], out.Buf.Var[out.Off:])
	case blockBwd:
		if in := op.In; in.Buf != j.b.In {
			for c := range j.chunks {
				p := j.sums[c*j.sumW:]
				for ch := range in.C {
					in.Buf.sum[in.Off+ch] += p[ch]
					in.Buf.sumX[in.Off+ch] += p[in.C+ch]
				}
			}
		}
		if op.K > 0 {
			n := op.dw.grad.grad.accLen
			j.addStolen(func(owner *blockSlot, c int, p []float32) {
				acc := op.dw.acc(owner.idx)
				j.k.flat2(j.k.add, asm.AddRef, acc, p[:n], acc)
			})
			op.dw.combine(op.DW)
			return
		}
		n := len(op.DW)
		j.addStolen(func(owner *blockSlot, c int, p []float32) {
			acc := owner.buf(sAcc, n)
			for b := range j.kBlocks(c) {
				pb := p[b*n : (b+1)*n]
				if owner.wgradBeta() == 0 {
					copy(acc, pb)
				} else {
					j.k.flat2(j.k.add, asm.AddRef, acc, pb, acc)
				}
			}
		})
		j.combineAcc(op.DW)
		if op.SE != nil {
			j.seParamGrads()
		}
	case blockTermsBwd:
		off := 0
		for _, v := range j.b.Terms {
			for c := range j.chunks {
				p := j.sums[c*j.sumW+off:]
				for ch := range v.C {
					v.Buf.sum[ch] += p[ch]
					v.Buf.sumX[ch] += p[v.C+ch]
				}
			}
			off += 2 * v.C
		}
	}
}

// addStolen calls add, in chunk order, for every chunk another slot took,
// with its owner and the weight-gradient contribution it left.
func (j *blockJob) addStolen(add func(owner *blockSlot, c int, p []float32)) {
	t := len(j.slots)
	owner := 0
	for c := range j.chunks {
		for c >= (owner+1)*j.chunks/t {
			owner++
		}
		if th := j.thief[c]; th >= 0 {
			add(&j.slots[owner], c, j.slots[th].steal[j.stealOff[c]:])
		}
	}
}

// kBlocks is the number of row blocks a chunk's 1×1 weight gradient is
// computed in (kBlock).
func (j *blockJob) kBlocks(c int) int {
	hw := j.op.In.Buf.H * j.op.In.Buf.W
	rows := (min((c+1)*j.imgs, j.b.In.N) - c*j.imgs) * hw
	kb := kBlock(rows)
	return (rows + kb - 1) / kb
}

// kBlock is the depth of the blocks Sgemm splits a 1×1 weight gradient
// over rows into, adding each block's product to the accumulator with one
// rounding: a stolen chunk leaves one product per block for its owner to
// add, which gives the same bits.
func kBlock(rows int) int { return gemmSplit(rows, gemmKC, 4) }

// combineAcc sums the slots' weight-gradient accumulators into dst.
func (j *blockJob) combineAcc(dst []float32) {
	for s := range j.slots {
		acc := j.slots[s].f32[sAcc][:len(dst)]
		if s == 0 {
			copy(dst, acc)
			continue
		}
		j.k.flat2(j.k.add, asm.AddRef, dst, acc, dst)
	}
}

// viewRows returns the rows of images [n0, n1) of view v in data (its
// buffer's values or gradient), as a slice starting at channel v.Off.
func viewRows(v BlockView, data []float32, n0, n1 int) []float32 {
	hw, ld := v.Buf.H*v.Buf.W, v.Buf.Ld
	return data[n0*hw*ld+v.Off : (n1-1)*hw*ld+(hw-1)*ld+v.Off+v.C]
}

// load writes the normalised input act(x·s + t) of images [n0, n1) of view
// v into dst (rows Ld apart, at channel v.Off), or returns the raw rows
// themselves for the block's input unless mustCopy.
func (j *blockJob) load(v BlockView, n0, n1 int, dst []float32, mustCopy bool) []float32 {
	buf := v.Buf
	x := viewRows(v, buf.Data, n0, n1)
	rows := (n1 - n0) * buf.H * buf.W
	if buf.Gamma == nil {
		if !mustCopy {
			return x
		}
		y := dst[v.Off : v.Off+len(x)]
		copyRows(rows, v.C, buf.Ld, buf.Ld, x, y)
		return y
	}
	y := dst[v.Off : v.Off+len(x)]
	j.k.actAffineLd(buf.Act, rows, v.C, buf.Ld, x, buf.s[v.Off:], buf.t[v.Off:], y)
	return y
}

// copyRows copies rows of w floats from x, ldx apart, to y, ldy apart.
func copyRows(rows, w, ldx, ldy int, x, y []float32) {
	if w == ldx && w == ldy {
		copy(y[:rows*w], x[:rows*w])
		return
	}
	for r := range rows {
		copy(y[r*ldy:r*ldy+w], x[r*ldx:r*ldx+w])
	}
}

// actAffineLd sets y = act(x·s + t) over rows of c channels, ld apart.
func (k *eltKernels) actAffineLd(act Act, rows, c, ld int, x, s, t, y []float32) {
	if i := k.fusedBN(act, c); i >= 0 {
		k.bn.Act[i](rows, c, ld, x, s, t, y)
		return
	}
	k.rowAffineLd(k.affine, asm.AffineRef, rows, c, ld, x, s, t, y)
	if act == ActNone {
		return
	}
	if ld == c {
		activateSeq(k, act, y[:rows*c], y[:rows*c])
		return
	}
	for r := range rows {
		activateSeq(k, act, y[r*ld:r*ld+c], y[r*ld:r*ld+c])
	}
}

// actGradLd sets g = dy·act'(x·s + t) over rows of c channels, ld apart,
// through z (rows·ld floats of scratch), with the composed primitives
// (where there is no fused kernel: BNFused.Grad). g may alias dy.
func (k *eltKernels) actGradLd(act Act, rows, c, ld int, x, s, t, dy, g, z []float32) {
	if act == ActNone {
		if &g[0] != &dy[0] {
			copyRows(rows, c, ld, ld, dy, g)
		}
		return
	}
	k.rowAffineLd(k.affine, asm.AffineRef, rows, c, ld, x, s, t, z)
	if ld == c {
		activateBackward(k, act, z[:rows*c], dy[:rows*c], g[:rows*c])
		return
	}
	for r := range rows {
		activateBackward(k, act, z[r*ld:r*ld+c], dy[r*ld:r*ld+c], g[r*ld:r*ld+c])
	}
}

// consts returns n ones and n zeros.
func (sl *blockSlot) consts(n int) (ones, zeros []float32) {
	v := sl.buf(sConst, 2*n)
	for i := range n {
		v[i] = 1
		v[n+i] = 0
	}
	return v[:n], v[n:]
}

// stats adds the batch-norm sums of rows of out view v to the slot.
func (j *blockJob) stats(sl *blockSlot, v BlockView, n0, n1 int) {
	rows := (n1 - n0) * v.Buf.H * v.Buf.W
	part := sl.buf(sPart, 3*v.C)
	bnStatsChunk(j.k, 0, rows, v.C, v.Buf.Ld, viewRows(v, v.Buf.Data, n0, n1), part, sl.sums)
}

// fwdPW: images [n0, n1) of a 1×1 op: load (and SE), multiply, statistics.
func (j *blockJob) fwdPW(sl *blockSlot, n0, n1 int) {
	op := j.op
	in, out := op.In, op.Out
	hw, ldi := in.Buf.H*in.Buf.W, in.Buf.Ld
	rows := (n1 - n0) * hw
	a := j.load(in, n0, n1, sl.buf(sIn, rows*ldi), op.SE != nil)
	if op.SE != nil {
		j.seForward(sl, a, n0, n1)
	}
	y := viewRows(out, out.Buf.Data, n0, n1)
	sgemmSerial(false, false, rows, out.C, in.C, 1, a, ldi, op.W, out.C, 0, y, out.Buf.Ld)
	j.stats(sl, out, n0, n1)
}

// seForward scales a (images [n0, n1) of the op's input, normalised) by the
// SE gate and saves the pooled input and pre-activations.
func (j *blockJob) seForward(sl *blockSlot, a []float32, n0, n1 int) {
	op, se := j.op, j.op.SE
	c, h, ld := op.In.C, se.Hidden, op.In.Buf.Ld
	hw := op.In.Buf.H * op.In.Buf.W
	ni := n1 - n0
	pool, hid, gate := se.pool[n0*c:n1*c], se.hid[n0*h:n1*h], se.gate[n0*c:n1*c]
	vec := sl.buf(sVec, ni*(h+c))
	r, e := vec[:ni*h], vec[ni*h:ni*(h+c)]
	part := sl.buf(sPart, 3*c)
	for i := range ni {
		j.colMean(sl, hw, c, ld, a[i*hw*ld:], part, pool[i*c:(i+1)*c])
	}
	sgemmSerial(false, false, ni, h, c, 1, pool, c, se.W1, h, 0, hid, h)
	for i := range ni {
		for q := range h {
			hid[i*h+q] += se.B1[q]
			r[i*h+q] = max(hid[i*h+q], 0)
		}
	}
	sgemmSerial(false, false, ni, c, h, 1, r, h, se.W2, c, 0, gate, c)
	for i := range ni {
		for q := range c {
			gate[i*c+q] += se.B2[q]
			e[i*c+q] = ActScalar(ActHardsigmoid, gate[i*c+q])
		}
	}
	_, zeros := sl.consts(c)
	for i := range ni {
		ai := a[i*hw*ld:]
		j.k.rowAffineLd(j.k.affine, asm.AffineRef, hw, c, ld, ai, e[i*c:(i+1)*c], zeros, ai)
	}
}

// colMean sets out to the per-channel mean of rows of c channels, ld apart
// (blocks of redBlock rows in float32, added in float64).
func (j *blockJob) colMean(sl *blockSlot, rows, c, ld int, x, part, out []float32) {
	part = part[:c]
	s := sl.buf64(c)
	for r := 0; r < rows; r += redBlock {
		n := min(redBlock, rows-r)
		clear(part)
		j.k.colAccLd(n, c, ld, x[r*ld:], nil, nil, nil, part, nil)
		for ch, v := range part {
			s[ch] += float64(v)
		}
	}
	for ch := range out {
		out[ch] = float32(s[ch] / float64(rows))
	}
}

// fwdDW: images [n0, n1) of a depthwise op: load, convolve, statistics.
func (j *blockJob) fwdDW(sl *blockSlot, n0, n1 int) {
	op := j.op
	out := op.Out
	op.dw.forward(j.loadPadded(sl, n0, n1), viewRows(out, out.Buf.Data, n0, n1), n1-n0)
	j.stats(sl, out, n0, n1)
}

// loadPadded loads images [n0, n1) of a depthwise op's input, normalised,
// into the slot's padded scratch (dwPlan: each image surrounded by Pad
// zero pixels).
//
// The scratch's pixels are the input buffer's Ld floats apart, the view's
// channels at the start of each.
func (j *blockJob) loadPadded(sl *blockSlot, n0, n1 int) []float32 {
	v := j.op.In
	in := v.Buf
	h, w, ld, pad := in.H, in.W, in.Ld, j.op.Pad
	x := sl.padded(sPadIn, n1-n0, h, w, pad, ld)
	wp := w + 2*pad
	for i := range n1 - n0 {
		img := in.Data[(n0+i)*h*w*ld+v.Off:]
		dst := x[i*(h+2*pad)*wp*ld:]
		for y := range h {
			src, d := img[y*w*ld:], dst[((y+pad)*wp+pad)*ld:]
			if in.Gamma == nil {
				copyRows(w, v.C, ld, ld, src, d)
				continue
			}
			j.k.actAffineLd(in.Act, w, v.C, ld, src, in.s[v.Off:], in.t[v.Off:], d)
		}
	}
	return x
}

// padded returns scratch i as n images (h+2·pad)×(w+2·pad) of c channels
// whose border pixels are zero. Callers write only the interior, so the
// borders are zeroed only when the layout changes.
func (sl *blockSlot) padded(i, n, h, w, pad, c int) []float32 {
	hp, wp := h+2*pad, w+2*pad
	x := sl.buf(i, n*hp*wp*c)
	key := [5]int{n, h, w, pad, c}
	if sl.padKey[i-sPadIn] == key || pad == 0 {
		return x
	}
	sl.padKey[i-sPadIn] = key
	for img := range n {
		m := x[img*hp*wp*c : (img+1)*hp*wp*c]
		clear(m[:pad*wp*c])            // the top rows
		clear(m[(h+pad)*wp*c:])        // the bottom rows
		for y := pad; y < h+pad; y++ { // the left and right columns
			row := m[y*wp*c : (y+1)*wp*c]
			clear(row[:pad*c])
			clear(row[(w+pad)*c:])
		}
	}
	return x
}

// gradOut writes the gradient of images [n0, n1) of the op's output into
// dst (rows Ld apart, from channel Off): g·A + (x − mean)·B + C.
func (j *blockJob) gradOut(v BlockView, n0, n1 int, dst []float32) []float32 {
	hw := v.Buf.H * v.Buf.W
	return j.gradOutRows(v, n0*hw, (n1-n0)*hw, dst[v.Off:])
}

// gradOutRows is gradOut over rows [r0, r0+rows) of view v, into dst
// (rows Ld apart, the view's first channel first), which it returns.
func (j *blockJob) gradOutRows(v BlockView, r0, rows int, dst []float32) []float32 {
	buf := v.Buf
	ld := buf.Ld
	lo, hi := r0*ld+v.Off, (r0+rows-1)*ld+v.Off+v.C
	y := dst[:hi-lo]
	j.k.rowAffine2Ld(rows, v.C, ld, buf.g[lo:hi], buf.Data[lo:hi], buf.Mean[v.Off:], buf.ca[v.Off:], buf.cb[v.Off:], buf.cc[v.Off:], y)
	return y
}

// inputGrad returns the rows of images [n0, n1) of the block input's
// gradient, and what the op's contribution is added to there: those rows
// (another op's contribution is in them), dOut's (the first contribution
// of a residual block), or nil (the first, the rows are overwritten).
func (j *blockJob) inputGrad(n0, n1 int) (d, base []float32) {
	in := j.op.In
	d = viewRows(in, in.Buf.g, n0, n1)
	switch {
	case !j.op.inFirst:
		return d, d
	case j.b.Residual:
		return d, viewRows(in, j.b.bwdOut, n0, n1)
	}
	return d, nil
}

// inGrad hands the gradient dx of images [n0, n1) of the op's input (rows
// Ld apart, from channel In.Off; overwritten as scratch) on: to the block
// input's gradient, or through the activation into the input buffer's g
// and the slot's batch-norm sums.
func (j *blockJob) inGrad(sl *blockSlot, dx, z []float32, n0, n1 int) {
	op := j.op
	in := op.In
	buf := in.Buf
	rows := (n1 - n0) * buf.H * buf.W
	if buf == j.b.In {
		d, base := j.inputGrad(n0, n1)
		if base == nil {
			copy(d, dx[:len(d)])
		} else {
			j.k.flat2(j.k.add, asm.AddRef, base, dx[:len(d)], d)
		}
		return
	}
	x := viewRows(in, buf.Data, n0, n1)
	ones, zeros := sl.consts(in.C)
	// This op's contribution: straight into g if it is the first, else into
	// dx and then added to g.
	g := viewRows(in, buf.g, n0, n1)
	contrib := g
	if !op.inFirst {
		contrib = dx
	}
	// Its Σg and Σg·(x − mean), in blocks of redBlock rows: with the
	// implementation's fused kernel as g is written, else after.
	part := sl.buf(sPart, 2*in.C)
	acc := sl.sums
	s, t, m := buf.s[in.Off:], buf.t[in.Off:], buf.Mean[in.Off:]
	fused := -1
	if f := j.k.fusedBN(buf.Act, in.C); f >= 0 && j.k.bn.Grad[f] != nil {
		fused = f
	} else {
		j.k.actGradLd(buf.Act, rows, in.C, buf.Ld, x, s, t, dx, contrib, z)
	}
	for r := 0; r < rows; r += redBlock {
		n := min(redBlock, rows-r)
		clear(part)
		o := r * buf.Ld
		if fused >= 0 {
			j.k.bn.Grad[fused](n, in.C, buf.Ld, x[o:], dx[o:], s, t, m, contrib[o:], part[:in.C], part[in.C:])
		} else {
			j.k.colAccLd(n, in.C, buf.Ld, contrib[o:], nil, x[o:], m, part[:in.C], part[in.C:])
		}
		for c, v := range part {
			acc[c] += float64(v)
		}
	}
	if !op.inFirst {
		j.k.rowAffine2Ld(rows, in.C, buf.Ld, g, dx, zeros, ones, ones, zeros, g)
	}
}

// bwdPW: images [n0, n1) of a 1×1 op backward.
func (j *blockJob) bwdPW(sl *blockSlot, n0, n1 int) {
	op := j.op
	in, out := op.In, op.Out
	hw, ldi, ldo := in.Buf.H*in.Buf.W, in.Buf.Ld, out.Buf.Ld
	rows := (n1 - n0) * hw
	dy := j.gradOut(out, n0, n1, sl.buf(sOut, rows*ldo))
	a := j.load(in, n0, n1, sl.buf(sIn, rows*ldi), false)
	z := a
	var e []float32
	if se := op.SE; se != nil {
		c := in.C
		ni := n1 - n0
		e = sl.buf(sVec, ni*c)
		for i := range e {
			e[i] = ActScalar(ActHardsigmoid, se.gate[n0*c+i])
		}
		z = sl.buf(sZ, rows*ldi)[in.Off:]
		_, zeros := sl.consts(c)
		for i := range ni {
			j.k.rowAffineLd(j.k.affine, asm.AffineRef, hw, c, ldi, a[i*hw*ldi:], e[i*c:(i+1)*c], zeros, z[i*hw*ldi:])
		}
	}
	// dW += zᵀ·dy. Sgemm adds its product to the owner's accumulator in
	// blocks of kBlock rows; a stolen chunk leaves the same blocks'
	// products for the owner to add.
	if !sl.stolen {
		sgemmSerial(true, false, in.C, out.C, rows, 1, z, ldi, dy, ldo, sl.wgradBeta(), sl.buf(sAcc, len(op.DW)), out.C)
	} else {
		kb := kBlock(rows)
		for r0 := 0; r0 < rows; r0 += kb {
			sgemmSerial(true, false, in.C, out.C, min(kb, rows-r0), 1, z[r0*ldi:], ldi, dy[r0*ldo:], ldo, 0, sl.stealBuf(len(op.DW)), out.C)
		}
	}
	if op.SE == nil && in.Buf == j.b.In {
		// The block input's gradient takes dy·Wᵀ straight from the GEMM,
		// added onto its base (inputGrad) in place.
		d, base := j.inputGrad(n0, n1)
		beta := float32(1)
		switch {
		case base == nil:
			beta = 0
		case &base[0] != &d[0]:
			copy(d, base)
		}
		sgemmSerial(false, false, rows, in.C, out.C, 1, dy, ldo, op.wt, in.C, beta, d, ldi)
		return
	}
	// dx = dy·Wᵀ, into the SE scratch (its z is no longer needed) or a
	// fresh one.
	var dx []float32
	if op.SE != nil {
		dx = z
	} else {
		dx = sl.buf(sZ, rows*ldi)[in.Off:]
	}
	sgemmSerial(false, false, rows, in.C, out.C, 1, dy, ldo, op.wt, in.C, 0, dx, ldi)
	if op.SE != nil {
		j.seBackward(sl, a, dx, e, n0, n1)
	}
	j.inGrad(sl, dx, sl.buf(sOut, rows*ldi)[in.Off:], n0, n1)
}

// seBackward turns dz (the gradient of the SE-scaled input a·e, images
// [n0, n1)) into the gradient of a, in place, and leaves the gradients of
// the images' gate and hidden pre-activations in se.du and se.dh, from
// which seParamGrads takes the SE's parameter gradients once the pass is
// done: one product over the batch instead of an update of the whole
// weight gradient per chunk of a few images.
func (j *blockJob) seBackward(sl *blockSlot, a, dz, e []float32, n0, n1 int) {
	op, se := j.op, j.op.SE
	c, h, ld := op.In.C, se.Hidden, op.In.Buf.Ld
	hw := op.In.Buf.H * op.In.Buf.W
	ni := n1 - n0
	du, dh := se.du[n0*c:n1*c], se.dh[n0*h:n1*h]
	dp := sl.buf(sSE, ni*c)
	// de = Σ_p dz·a per image; du = de·hsig'(gate).
	_, zeros := sl.consts(c)
	part := sl.buf(sPart, 3*c)
	for i := range ni {
		s := sl.buf64(c)
		for rr := 0; rr < hw; rr += redBlock {
			n := min(redBlock, hw-rr)
			clear(part[:c])
			off := (i*hw + rr) * ld
			j.k.colAccLd(n, c, ld, dz[off:], zeros, a[off:], zeros, part[:c], nil)
			for ch, v := range part[:c] {
				s[ch] += float64(v)
			}
		}
		for ch := range c {
			du[i*c+ch] = float32(s[ch]) * ActGradScalar(ActHardsigmoid, se.gate[(n0+i)*c+ch])
		}
	}
	hid := se.hid[n0*h : n1*h]
	sgemmSerial(false, false, ni, h, c, 1, du, c, se.w2t, h, 0, dh, h)
	for i := range dh {
		if !(hid[i] > 0) {
			dh[i] = 0
		}
	}
	sgemmSerial(false, false, ni, c, h, 1, dh, h, se.w1t, c, 0, dp, c)
	// da = dz·e + dp/hw.
	for i := range dp {
		dp[i] /= float32(hw)
	}
	for i := range ni {
		off := i * hw * ld
		j.k.rowAffineLd(j.k.affine, asm.AffineRef, hw, c, ld, dz[off:], e[i*c:(i+1)*c], dp[i*c:(i+1)*c], dz[off:])
	}
}

// seParamGrads sets the SE's parameter gradients from the whole batch's
// gate and hidden gradients that seBackward left: dW2 = relu(hid)ᵀ·du,
// dW1 = poolᵀ·dh, and the biases' column sums.
func (j *blockJob) seParamGrads() {
	op, se := j.op, j.op.SE
	c, h, n := op.In.C, se.Hidden, op.In.Buf.N
	r := j.b.Alloc(n * h)
	for i, v := range se.hid[:n*h] {
		r[i] = max(v, 0)
	}
	Sgemm(true, false, h, c, n, 1, r, h, se.du, c, 0, se.DW2, c)
	Sgemm(true, false, c, h, n, 1, se.pool, c, se.dh, h, 0, se.DW1, h)
	BiasGrad(n, c, se.du, se.DB2)
	BiasGrad(n, h, se.dh, se.DB1)
}

// bwdDW: images [n0, n1) of a depthwise op backward.
func (j *blockJob) bwdDW(sl *blockSlot, n0, n1 int) {
	op := j.op
	in, out := op.In, op.Out
	ni := n1 - n0
	rowsIn := ni * in.Buf.H * in.Buf.W
	// dy and dx: pixels Ld apart, the op's channels at the start of each;
	// dy padded where the input gradient reads it so (dwPlan).
	oh, ow, ld := out.Buf.H, out.Buf.W, out.Buf.Ld
	var dy []float32
	pad := op.dw.dyPad
	if pad > 0 {
		dy = sl.padded(sPadDy, ni, oh, ow, pad, ld)
		wp := ow + 2*pad
		for i := range ni {
			for y := range oh {
				j.gradOutRows(out, (n0+i)*oh*ow+y*ow, ow, dy[((i*(oh+2*pad)+y+pad)*wp+pad)*ld:])
			}
		}
	} else {
		dy = j.gradOut(out, n0, n1, sl.buf(sOut, ni*oh*ow*ld))
	}
	// The chunk's weight gradient from zero, added to the owner's
	// accumulator in chunk order: here, or by combine for a stolen chunk.
	acc := op.dw.acc(sl.owner.idx)
	var g []float32
	if sl.stolen {
		g = sl.stealBuf(len(acc))
	} else {
		g = sl.buf(sDWGrad, len(acc))
	}
	clear(g)
	op.dw.gradOf(j.loadPadded(sl, n0, n1), dy, pad > 0, ni, g)
	if !sl.stolen {
		j.k.flat2(j.k.add, asm.AddRef, acc, g, acc)
	}
	dx := sl.buf(sZ, rowsIn*in.Buf.Ld)
	op.dw.dxOf(dy, dx, ni)
	// The normalised input is no longer needed: its scratch serves the
	// activation's gradient.
	j.inGrad(sl, dx, sl.buf(sIn, rowsIn*in.Buf.Ld), n0, n1)
}

// termsFwd: Out = Σ BN(term) (+ In) over images [n0, n1).
func (j *blockJob) termsFwd(sl *blockSlot, n0, n1 int) {
	b := j.b
	t0 := b.Terms[0]
	c := t0.C
	rows := (n1 - n0) * t0.Buf.H * t0.Buf.W
	y := b.Out[n0*t0.Buf.H*t0.Buf.W*c : n1*t0.Buf.H*t0.Buf.W*c]
	x0 := viewRows(t0, t0.Buf.Data, n0, n1)
	switch {
	case len(b.Terms) == 2:
		t1 := b.Terms[1]
		sh := sl.buf(sVec, c)
		_, zeros := sl.consts(c)
		for ch := range c {
			sh[ch] = t0.Buf.t[ch] + t1.Buf.t[ch]
		}
		j.k.rowAffine2(rows, c, x0, viewRows(t1, t1.Buf.Data, n0, n1), zeros, t0.Buf.s, t1.Buf.s, sh, y)
	case b.Residual:
		ones, zeros := sl.consts(c)
		j.k.rowAffine2(rows, c, x0, viewRows(BlockView{b.In, 0, c}, b.In.Data, n0, n1), zeros, t0.Buf.s, ones, t0.Buf.t, y)
	default:
		j.k.rowAffine(rows, c, x0, t0.Buf.s, t0.Buf.t, y)
	}
}

// termsBwd: the terms' batch-norm sums over images [n0, n1) of dOut.
func (j *blockJob) termsBwd(sl *blockSlot, n0, n1 int) {
	off := 0
	part := sl.buf(sPart, 2*j.b.Terms[0].C)
	acc := sl.sums
	for _, v := range j.b.Terms {
		c := v.C
		rows := (n1 - n0) * v.Buf.H * v.Buf.W
		g, x := viewRows(v, j.dOut, n0, n1), viewRows(v, v.Buf.Data, n0, n1)
		if &v.Buf.g[0] != &j.dOut[0] {
			copy(viewRows(v, v.Buf.g, n0, n1), g)
		}
		for r := 0; r < rows; r += redBlock {
			n := min(redBlock, rows-r)
			clear(part)
			j.k.colAccLd(n, c, c, g[r*c:], nil, x[r*c:], v.Buf.Mean, part[:c], part[c:])
			for q, p := range part {
				acc[off+q] += float64(p)
			}
		}
		off += 2 * c
	}
}

// transposeWeights writes chunk c's share of the transposes the 1×1 op's
// backward reads: Wᵀ, for each chunk's input gradient, and the SE's W1ᵀ
// and W2ᵀ, for its two small products (which, reading the weights as they
// are, packed the whole transposed weight on every call: half the SE's
// backward). Shared out over the forward pass's chunks, the transposes
// take no thread's time alone, as they did at the start of the backward.
func (j *blockJob) transposeWeights(c int) {
	op := j.op
	share := func(rows, cols int, a, t []float32) {
		transposeRows(rows, cols, c*rows/j.chunks, (c+1)*rows/j.chunks, a, t)
	}
	share(op.In.C, op.Out.C, op.W, op.wt)
	if se := op.SE; se != nil {
		share(op.In.C, se.Hidden, se.W1, se.w1t)
		share(se.Hidden, op.In.C, se.W2, se.w2t)
	}
}

// transposeRows writes rows [r0, r1) of the rows×cols matrix a into its
// transpose t.
func transposeRows(rows, cols, r0, r1 int, a, t []float32) {
	for r := r0; r < r1; r++ {
		for c, v := range a[r*cols : (r+1)*cols] {
			t[c*rows+r] = v
		}
	}
}
