package kernels

import (
	"fmt"

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

// maxWindow bounds K·K for the on-stack offset lists; larger windows take a
// heap-allocated list (pooling windows beyond 16×16 do not occur in practice).
const maxWindow = 256

// poolRow walks output row oh of image n and calls emit for each run of
// output pixels that share a clipped window: the interior run once, each
// border pixel alone. xo is the element offset in x of the first pixel's
// window origin (its first valid input pixel), yo the offset in y.
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
// the run's first window origin and output pixel (channel 0), n its length.
// buf is scratch for the offset list.
func (g *poolGeom) row(img, oh int, buf []int, fn func(offs []int, xo, yo, n int)) {
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
		fn(offs, xo, yrow+ow0*p.C, n)
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

func offsBuf(p Pool, stack *[maxWindow]int) []int {
	if p.K*p.K <= maxWindow {
		return stack[:]
	}
	return make([]int, p.K*p.K)
}

func (p Pool) checkBufs(op string, x, y []float32, xname, yname string) {
	p.check(op)
	checkLen(op, xname, len(x), p.N*p.H*p.W*p.C)
	checkLen(op, yname, len(y), p.N*p.OutH()*p.OutW()*p.C)
}

// poolForward runs a forward pooling kernel over every output row, rows
// split over the worker pool.
func poolForward(p Pool, x, y []float32, body func(k *poolKernels, offs []int, xo, yo, n int)) {
	g := newPoolGeom(p)
	k := poolImpl()
	rowCost := g.ow * p.C * p.K * p.K
	parallelFor(p.N*g.oh, max(1, 1<<16/max(1, rowCost)), func(lo, hi int) {
		var stack [maxWindow]int
		buf := offsBuf(p, &stack)
		for r := lo; r < hi; r++ {
			g.row(r/g.oh, r%g.oh, buf, func(offs []int, xo, yo, n int) { body(k, offs, xo, yo, n) })
		}
	})
}

// MaxPool2d computes y = max-pool(x) for x of N×H×W×C and y of
// N×OutH×OutW×C.
func MaxPool2d(p Pool, x, y []float32) {
	p.checkBufs("MaxPool2d", x, y, "x", "y")
	c := p.C
	sep := p.K == 3 && p.Stride == 2 && c%max(1, poolImpl().lanes) == 0
	poolForward(p, x, y, func(k *poolKernels, offs []int, xo, yo, n int) {
		if sep && k.max3s2 != nil && len(offs) == 9 && n > 1 {
			k.max3s2(x[xo:], y[yo:], n, c, p.W*c, c)
			return
		}
		k.max(x[xo:], y[yo:], offs, n, c, p.Stride*c, c)
	})
}

// AvgPool2d computes y = average-pool(x) for x of N×H×W×C and y of
// N×OutH×OutW×C; every window divides by K·K.
func AvgPool2d(p Pool, x, y []float32) {
	p.checkBufs("AvgPool2d", x, y, "x", "y")
	c := p.C
	scale := 1 / float32(p.K*p.K)
	poolForward(p, x, y, func(k *poolKernels, offs []int, xo, yo, n int) {
		k.avg(x[xo:], y[yo:], offs, n, c, p.Stride*c, c, scale)
	})
}

// poolBackward zeroes dx and runs a backward pooling kernel over every
// output row. Windows of neighbouring rows overlap in dx, so the work is
// split over images and, when there are fewer images than threads, over
// channel blocks, never over rows.
func poolBackward(p Pool, dx []float32, body func(k *poolKernels, offs []int, xo, yo, n, c0, cn int)) {
	g := newPoolGeom(p)
	k := poolImpl()
	cb := p.C
	if t := Threads(); p.N < t {
		split := (t + p.N - 1) / p.N
		cb = min(p.C, max(16, (p.C+split-1)/split+15)&^15)
	}
	nb := (p.C + cb - 1) / cb
	pix := p.H * p.W
	cost := g.oh * g.ow * cb * p.K * p.K
	parallelFor(p.N*nb, max(1, 1<<16/max(1, cost)), func(lo, hi int) {
		var stack [maxWindow]int
		buf := offsBuf(p, &stack)
		for u := lo; u < hi; u++ {
			img, c0 := u/nb, u%nb*cb
			cn := min(cb, p.C-c0)
			d := dx[img*pix*p.C : (img+1)*pix*p.C]
			if cn == p.C {
				clear(d)
			} else {
				for i := 0; i < len(d); i += p.C {
					clear(d[i+c0 : i+c0+cn])
				}
			}
			for oh := range g.oh {
				g.row(img, oh, buf, func(offs []int, xo, yo, n int) { body(k, offs, xo, yo, n, c0, cn) })
			}
		}
	})
}

// MaxPool2dBackward computes dx, the gradient of MaxPool2d's input, from
// its input x and the output gradient dy. The argmax is recomputed from x;
// the first maximum in window scan order (rows, then columns) takes the
// gradient. dx is overwritten.
func MaxPool2dBackward(p Pool, x, dy, dx []float32) {
	p.checkBufs("MaxPool2dBackward", x, dy, "x", "dy")
	checkLen("MaxPool2dBackward", "dx", len(dx), len(x))
	c := p.C
	poolBackward(p, dx, func(k *poolKernels, offs []int, xo, yo, n, c0, cn int) {
		k.maxBack(x[xo+c0:], dy[yo+c0:], dx[xo+c0:], offs, n, cn, p.Stride*c, c)
	})
}

// AvgPool2dBackward computes dx, the gradient of AvgPool2d's input, from
// the output gradient dy. dx is overwritten.
func AvgPool2dBackward(p Pool, dy, dx []float32) {
	p.check("AvgPool2dBackward")
	checkLen("AvgPool2dBackward", "dy", len(dy), p.N*p.OutH()*p.OutW()*p.C)
	checkLen("AvgPool2dBackward", "dx", len(dx), p.N*p.H*p.W*p.C)
	c := p.C
	scale := 1 / float32(p.K*p.K)
	poolBackward(p, dx, func(k *poolKernels, offs []int, xo, yo, n, c0, cn int) {
		k.avgBack(dy[yo+c0:], dx[xo+c0:], offs, n, cn, p.Stride*c, c, scale)
	})
}
