package kernels

import (
	"fmt"
	"sync"

	"github.com/nasrun/nasrun/kernels/asm"
)

// Pool describes k×k pooling over an N×H×W×C (NHWC) input with stride and
// symmetric zero padding. Padding never wins a max; an average divides by
// K·K whatever the window's overlap with the padding (PyTorch's
// count_include_pad=True default).
type Pool struct{ N, H, W, C, K, Stride, Pad int }

// OutH returns the output height.
func (p Pool) OutH() int { return (p.H+2*p.Pad-p.K)/p.Stride + 1 }

// OutW returns the output width.
func (p Pool) OutW() int { return (p.W+2*p.Pad-p.K)/p.Stride + 1 }

func (p Pool) check(op string) {
	if p.N < 1 || p.H < 1 || p.W < 1 || p.C < 1 || p.K < 1 || p.Stride < 1 || p.Pad < 0 ||
		2*p.Pad > p.K || p.H+2*p.Pad < p.K || p.W+2*p.Pad < p.K {
		panic(fmt.Sprintf("kernels.%s: invalid pooling %+v (need positive sizes, 0 ≤ Pad ≤ K/2, H+2·Pad ≥ K, W+2·Pad ≥ K)", op, p))
	}
}

func checkLen(op, name string, got, want int) {
	if got != want {
		panic(fmt.Sprintf("kernels.%s: len(%s) = %d, want %d", op, name, got, want))
	}
}

// The pooling row kernels of one implementation (see package asm for the
// contract).
type poolKernels struct {
	max     func(x, y []float32, offs []int, n, c, xstep, ystep int)
	avg     func(x, y []float32, offs []int, n, c, xstep, ystep int, scale float32)
	maxBack func(x, dy, dx []float32, offs []int, n, c, xstep, ystep int)
	avgBack func(dy, dx []float32, offs []int, n, c, xstep, ystep int, scale float32)
	// max3s2 is the separable 3×3 stride-2 max pool of whole windows for
	// channel counts that are multiples of lanes; nil where there is none.
	max3s2 func(x, y []float32, n, c, xrow, ystep int)
	lanes  int
}

var poolRef = poolKernels{asm.MaxPoolRef, asm.AvgPoolRef, asm.MaxPoolBackRef, asm.AvgPoolBackRef, nil, 0}

func poolImpl() *poolKernels {
	switch Active() {
	case AVX2:
		return &poolAVX2
	case AVX512:
		return &poolAVX512
	case NEON:
		return &poolNEON
	}
	return &poolRef
}

// maxWindow bounds K·K for the pooled offset lists; larger windows take a
// heap-allocated list (pooling windows beyond 16×16 do not occur in practice).
const maxWindow = 256

// poolGeom is a pooling's output geometry: its row method walks an output
// row as runs of pixels that share a clipped window (the interior run once,
// each border pixel alone).
type poolGeom struct {
	p          Pool
	oh, ow     int
	owLo, owHi int // interior output columns [owLo, owHi)
}

func newPoolGeom(p Pool) poolGeom {
	g := poolGeom{p: p, oh: p.OutH(), ow: p.OutW()}
	// Column ow is interior when ow·S−P ≥ 0 and ow·S−P+K ≤ W.
	g.owLo = min((p.Pad+p.Stride-1)/p.Stride, g.ow)
	g.owHi = max(min((p.W+p.Pad-p.K)/p.Stride+1, g.ow), g.owLo)
	return g
}

// row calls fn(offs, xo, yo, n) for the runs of output row (img, oh): offs
// are the window's valid element offsets, xo and yo the element offsets of
// the run's first window origin and output pixel (at channel c0), n its
// length.
// buf is scratch for the offset list.
func (g *poolGeom) row(img, oh, c0 int, buf []int, fn func(offs []int, xo, yo, n int)) {
	p := g.p
	ih0 := oh*p.Stride - p.Pad
	r0, r1 := max(0, -ih0), min(p.K, p.H-ih0)
	yrow := (img*g.oh + oh) * g.ow * p.C
	xrow := img * p.H * p.W * p.C
	run := func(ow0, n int) {
		iw0 := ow0*p.Stride - p.Pad
		q0, q1 := max(0, -iw0), min(p.K, p.W-iw0)
		offs := buf[:0]
		for r := r0; r < r1; r++ {
			for q := q0; q < q1; q++ {
				offs = append(offs, ((r-r0)*p.W+(q-q0))*p.C)
			}
		}
		xo := xrow + ((ih0+r0)*p.W+iw0+q0)*p.C
		fn(offs, xo+c0, yrow+ow0*p.C+c0, n)
	}
	for ow := 0; ow < g.owLo; ow++ {
		run(ow, 1)
	}
	if g.owHi > g.owLo {
		run(g.owLo, g.owHi-g.owLo)
	}
	for ow := g.owHi; ow < g.ow; ow++ {
		run(ow, 1)
	}
}

// offsBufs hands out window offset lists: they reach the kernels through
// function values, so a stack array would escape on every call.
var offsBufs = sync.Pool{New: func() any { return new([maxWindow]int) }}

func offsBuf(p Pool) ([]int, *[maxWindow]int) {
	b := offsBufs.Get().(*[maxWindow]int)
	if p.K*p.K <= maxWindow {
		return b[:], b
	}
	return make([]int, p.K*p.K), b
}

func (p Pool) checkBufs(op string, x, y []float32, xname, yname string) {
	p.check(op)
	checkLen(op, xname, len(x), p.N*p.H*p.W*p.C)
	checkLen(op, yname, len(y), p.N*p.OutH()*p.OutW()*p.C)
}

// poolOp is what a pooling job computes.
type poolOp uint8

const (
	poolMax poolOp = iota
	poolAvg
	poolMaxBack
	poolAvgBack
)

// poolJob is one pooling call: its operands and its loop bodies, bound once
// per pooled job so that handing them to the worker pool allocates nothing.
type poolJob struct {
	p         Pool
	g         poolGeom
	k         *poolKernels
	op        poolOp
	x, y      []float32 // forward operands (x is also the max backward's input)
	dy, dx    []float32
	scale     float32
	sep       bool // 3×3 stride-2 max with the separable kernel
	cb, nb    int  // backward channel blocks: width and count
	fwdFn     func(lo, hi int)
	bwdFn     func(lo, hi int)
	c0, cn    int // the backward unit's channel block
	fwdEmitFn func(offs []int, xo, yo, n int)
	bwdEmitFn func(offs []int, xo, yo, n int)
}

var poolJobs = sync.Pool{New: func() any {
	j := new(poolJob)
	j.fwdFn, j.bwdFn = j.fwdRows, j.bwdUnits
	j.fwdEmitFn, j.bwdEmitFn = j.fwdEmit, j.bwdEmit
	return j
}}

func getPoolJob(p Pool, op poolOp) *poolJob {
	j := poolJobs.Get().(*poolJob)
	j.p, j.g, j.k, j.op = p, newPoolGeom(p), poolImpl(), op
	j.scale = 1 / float32(p.K*p.K)
	j.sep = op == poolMax && p.K == 3 && p.Stride == 2 && j.k.max3s2 != nil && p.C%j.k.lanes == 0
	return j
}

func (j *poolJob) put() {
	j.x, j.y, j.dy, j.dx = nil, nil, nil, nil
	poolJobs.Put(j)
}

// forward runs the job over every output row, rows split over the worker
// pool.
func (j *poolJob) forward() {
	rowCost := j.g.ow * j.p.C * j.p.K * j.p.K
	parallelFor(j.p.N*j.g.oh, max(1, 1<<16/max(1, rowCost)), j.fwdFn)
}

func (j *poolJob) fwdRows(lo, hi int) {
	buf, b := offsBuf(j.p)
	defer offsBufs.Put(b)
	for r := lo; r < hi; r++ {
		j.g.row(r/j.g.oh, r%j.g.oh, 0, buf, j.fwdEmitFn)
	}
}

func (j *poolJob) fwdEmit(offs []int, xo, yo, n int) {
	c := j.p.C
	switch {
	case j.op == poolAvg:
		j.k.avg(j.x[xo:], j.y[yo:], offs, n, c, j.p.Stride*c, c, j.scale)
	case j.sep && len(offs) == 9 && n > 1:
		j.k.max3s2(j.x[xo:], j.y[yo:], n, c, j.p.W*c, c)
	default:
		j.k.max(j.x[xo:], j.y[yo:], offs, n, c, j.p.Stride*c, c)
	}
}

// MaxPool2d computes y = max-pool(x) for x of N×H×W×C and y of
// N×OutH×OutW×C.
func MaxPool2d(p Pool, x, y []float32) {
	p.checkBufs("MaxPool2d", x, y, "x", "y")
	j := getPoolJob(p, poolMax)
	j.x, j.y = x, y
	j.forward()
	j.put()
}

// AvgPool2d computes y = average-pool(x) for x of N×H×W×C and y of
// N×OutH×OutW×C; every window divides by K·K.
func AvgPool2d(p Pool, x, y []float32) {
	p.checkBufs("AvgPool2d", x, y, "x", "y")
	j := getPoolJob(p, poolAvg)
	j.x, j.y = x, y
	j.forward()
	j.put()
}

// backward zeroes dx and runs the job over every output row. Windows of
// neighbouring rows overlap in dx, so the work is split over images and,
// when there are fewer images than threads, over channel blocks, never over
// rows.
func (j *poolJob) backward() {
	p := j.p
	j.cb = p.C
	if t := Threads(); p.N < t {
		split := (t + p.N - 1) / p.N
		j.cb = min(p.C, max(16, (p.C+split-1)/split+15)&^15)
	}
	j.nb = (p.C + j.cb - 1) / j.cb
	cost := j.g.oh * j.g.ow * j.cb * p.K * p.K
	parallelFor(p.N*j.nb, max(1, 1<<16/max(1, cost)), j.bwdFn)
}

func (j *poolJob) bwdUnits(lo, hi int) {
	p := j.p
	buf, b := offsBuf(p)
	defer offsBufs.Put(b)
	pix := p.H * p.W
	for i := lo; i < hi; i++ {
		img, c0 := i/j.nb, i%j.nb*j.cb
		cn := min(j.cb, p.C-c0)
		d := j.dx[img*pix*p.C : (img+1)*pix*p.C]
		if cn == p.C {
			clear(d)
		} else {
			for k := 0; k < len(d); k += p.C {
				clear(d[k+c0 : k+c0+cn])
			}
		}
		for oh := range j.g.oh {
			j.g.row(img, oh, c0, buf, j.bwdEmitFn)
		}
	}
}

// bwdEmit runs a backward kernel on one run of one channel block; the
// block's first channel arrives in the offsets (xo mod C).
func (j *poolJob) bwdEmit(offs []int, xo, yo, n int) {
	c := j.p.C
	cn := min(j.cb, c-xo%c)
	if j.op == poolAvgBack {
		j.k.avgBack(j.dy[yo:], j.dx[xo:], offs, n, cn, j.p.Stride*c, c, j.scale)
		return
	}
	j.k.maxBack(j.x[xo:], j.dy[yo:], j.dx[xo:], offs, n, cn, j.p.Stride*c, c)
}

// MaxPool2dBackward computes dx, the gradient of MaxPool2d's input, from
// its input x and the output gradient dy. The argmax is recomputed from x;
// the first maximum in window scan order (rows, then columns) takes the
// gradient. dx is overwritten.
func MaxPool2dBackward(p Pool, x, dy, dx []float32) {
	p.checkBufs("MaxPool2dBackward", x, dy, "x", "dy")
	checkLen("MaxPool2dBackward", "dx", len(dx), len(x))
	j := getPoolJob(p, poolMaxBack)
	j.x, j.dy, j.dx = x, dy, dx
	j.backward()
	j.put()
}

// AvgPool2dBackward computes dx, the gradient of AvgPool2d's input, from
// the output gradient dy. dx is overwritten.
func AvgPool2dBackward(p Pool, dy, dx []float32) {
	p.check("AvgPool2dBackward")
	checkLen("AvgPool2dBackward", "dy", len(dy), p.N*p.OutH()*p.OutW()*p.C)
	checkLen("AvgPool2dBackward", "dx", len(dx), p.N*p.H*p.W*p.C)
	j := getPoolJob(p, poolAvgBack)
	j.dy, j.dx = dy, dx
	j.backward()
	j.put()
}
