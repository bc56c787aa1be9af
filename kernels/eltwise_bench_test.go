package kernels_test

import (
	"testing"

	"github.com/nasrun/nasrun/bench/suite"
	"github.com/nasrun/nasrun/internal/kerneltest"
	"github.com/nasrun/nasrun/kernels"
)

// BenchmarkActivation times y = act(x) (separate x and y, like the XNNPACK
// peer) over the suite's hardsigmoid, hardswish and sigmoid rows, one
// thread, reporting GB/s of x read plus y written.
func BenchmarkActivation(b *testing.B) {
	prev := kernels.SetThreads(1)
	defer kernels.SetThreads(prev)
	for _, op := range []struct {
		name string
		act  kernels.Act
	}{{"hardsigmoid", kernels.ActHardsigmoid}, {"hardswish", kernels.ActHardswish}, {"sigmoid", kernels.ActSigmoid}} {
		for _, r := range suite.Op(op.name) {
			n := r.Size()
			rng := kerneltest.Rng(3)
			x := make([]float32, n)
			for i := range x {
				x[i] = rng.Float32()*8 - 4
			}
			y := make([]float32, n)
			b.Run(r.Name(), func(b *testing.B) {
				kerneltest.BenchEachImpl(b, func(b *testing.B) {
					for b.Loop() {
						kernels.Activate(op.act, x, y)
					}
					kerneltest.ReportBytes(b, 8*float64(n))
				})
			})
		}
	}
}

// BenchmarkGAP times GlobalAvgPool over the suite's gap rows, one thread.
func BenchmarkGAP(b *testing.B) {
	prev := kernels.SetThreads(1)
	defer kernels.SetThreads(prev)
	for _, r := range suite.Op("gap") {
		hw := r.H * r.W
		x := kerneltest.RandBuf(kerneltest.Rng(4), r.N*hw*r.C).Data
		y := make([]float32, r.N*r.C)
		b.Run(r.Name(), func(b *testing.B) {
			kerneltest.BenchEachImpl(b, func(b *testing.B) {
				for b.Loop() {
					kernels.GlobalAvgPool(r.N, hw, r.C, x, y)
				}
				kerneltest.ReportBytes(b, 4*float64(len(x)+len(y)))
			})
		})
	}
}

// seBlock is a squeeze-and-excitation block's buffers: x is [N, HW, C],
// the FC weights are [In, Out].
type seBlock struct {
	n, hw, c, cr      int
	x, y              []float32
	w1, b1, w2, b2    []float32
	pooled, hidden, s []float32
}

func newSEBlock(r suite.Row) *seBlock {
	rng := kerneltest.Rng(5)
	se := &seBlock{n: r.N, hw: r.H * r.W, c: r.C, cr: r.C / r.R}
	rnd := func(n int, scale float32) []float32 {
		v := kerneltest.RandBuf(rng, n).Data
		for i := range v {
			v[i] *= scale
		}
		return v
	}
	se.x, se.y = rnd(se.n*se.hw*se.c, 1), make([]float32, se.n*se.hw*se.c)
	se.w1, se.b1 = rnd(se.c*se.cr, 0.1), rnd(se.cr, 0.1)
	se.w2, se.b2 = rnd(se.cr*se.c, 0.1), rnd(se.c, 0.1)
	se.pooled, se.hidden, se.s = make([]float32, se.n*se.c), make([]float32, se.n*se.cr), make([]float32, se.n*se.c)
	return se
}

// forward is the SE block: y = x·hardsigmoid(FC2(relu(FC1(GAP(x))))).
func (se *seBlock) forward() {
	kernels.GlobalAvgPool(se.n, se.hw, se.c, se.x, se.pooled)
	kernels.Sgemm(false, false, se.n, se.cr, se.c, 1, se.pooled, se.c, se.w1, se.cr, 0, se.hidden, se.cr)
	kernels.AddBias(se.n, se.cr, se.hidden, se.b1)
	kernels.Activate(kernels.ActReLU, se.hidden, se.hidden)
	kernels.Sgemm(false, false, se.n, se.c, se.cr, 1, se.hidden, se.cr, se.w2, se.c, 0, se.s, se.c)
	kernels.AddBias(se.n, se.c, se.s, se.b2)
	kernels.Activate(kernels.ActHardsigmoid, se.s, se.s)
	kernels.ScaleChannels(se.n, se.hw, se.c, se.x, se.s, se.y)
}

// BenchmarkSE times the composed SE block over the suite's se rows, one
// thread, reporting GB/s as the PyTorch peer counts it (x read, y written,
// the FC parameters read).
func BenchmarkSE(b *testing.B) {
	prev := kernels.SetThreads(1)
	defer kernels.SetThreads(prev)
	for _, r := range suite.Op("se") {
		se := newSEBlock(r)
		bytes := 4 * float64(2*len(se.x)+len(se.w1)+len(se.b1)+len(se.w2)+len(se.b2))
		b.Run(r.Name(), func(b *testing.B) {
			kerneltest.BenchEachImpl(b, func(b *testing.B) {
				for b.Loop() {
					se.forward()
				}
				kerneltest.ReportBytes(b, bytes)
			})
		})
	}
}
