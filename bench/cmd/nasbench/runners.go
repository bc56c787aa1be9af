package main

import (
	"math/rand/v2"

	"github.com/nasrun/nasrun/bench/suite"
	"github.com/nasrun/nasrun/kernels"
)

// A runner prepares one suite row on nasrun: it allocates the row's
// buffers and returns the call to time. Each op of the suite gets a runner
// here (kernel rows) or in models.go (model rows); a row of an op without
// one is skipped with a note.
type runner func(r suite.Row) func()

var runners = map[string]runner{
	"gemm": func(r suite.Row) func() {
		a, b, c := randBuf(r.M*r.KK), randBuf(r.KK*r.NN), make([]float32, r.M*r.NN)
		return func() { kernels.Sgemm(false, false, r.M, r.NN, r.KK, 1, a, r.KK, b, r.NN, 0, c, r.NN) }
	},
	"dwconv": func(r suite.Row) func() {
		p, x, w, y := dwconv(r)
		return func() { kernels.DepthwiseConv2d(p, x, w, nil, y) }
	},
	"train-dw": func(r suite.Row) func() { // forward, then input and weight gradients
		p, x, w, y := dwconv(r)
		dy, dx, dw := randBuf(len(y)), make([]float32, len(x)), make([]float32, len(w))
		return func() {
			kernels.DepthwiseConv2d(p, x, w, nil, y)
			kernels.DepthwiseConv2dBackward(p, x, w, dy, dx, dw, nil)
		}
	},
	"conv": func(r suite.Row) func() {
		p, x, w, y := conv(r)
		return func() { kernels.Conv2d(p, x, w, nil, y) }
	},
	"train-conv": func(r suite.Row) func() {
		p, x, w, y := conv(r)
		dy, dx, dw := randBuf(len(y)), make([]float32, len(x)), make([]float32, len(w))
		return func() {
			kernels.Conv2d(p, x, w, nil, y)
			kernels.Conv2dBackward(p, x, w, dy, dx, dw, nil)
		}
	},
	"maxpool": func(r suite.Row) func() {
		p, x, y := pool(r)
		return func() { kernels.MaxPool2d(p, x, y) }
	},
	"avgpool": func(r suite.Row) func() {
		p, x, y := pool(r)
		return func() { kernels.AvgPool2d(p, x, y) }
	},
	"gap": func(r suite.Row) func() {
		x, y := randBuf(r.Size()), make([]float32, r.N*r.C)
		return func() { kernels.GlobalAvgPool(r.N, r.H*r.W, r.C, x, y) }
	},
	"hardsigmoid": activation(kernels.ActHardsigmoid),
	"hardswish":   activation(kernels.ActHardswish),
	"sigmoid":     activation(kernels.ActSigmoid),
	"se":          se,
}

func activation(a kernels.Act) runner {
	return func(r suite.Row) func() {
		x, y := randBuf(r.Size()), make([]float32, r.Size())
		for i := range x {
			x[i] *= 4 // cover every branch of the piecewise activations
		}
		return func() { kernels.Activate(a, x, y) }
	}
}

// se is the squeeze-and-excitation block as the nets use it: global average
// pool, FC C→C/R with ReLU, FC C/R→C with hardsigmoid, per-channel scale.
func se(r suite.Row) func() {
	n, hw, c, cr := r.N, r.H*r.W, r.C, r.C/r.R
	x, y := randBuf(r.Size()), make([]float32, r.Size())
	w1, b1, w2, b2 := randBuf(c*cr), randBuf(cr), randBuf(cr*c), randBuf(c)
	pooled, mid, s := make([]float32, n*c), make([]float32, n*cr), make([]float32, n*c)
	return func() {
		kernels.GlobalAvgPool(n, hw, c, x, pooled)
		kernels.Sgemm(false, false, n, cr, c, 1, pooled, c, w1, cr, 0, mid, cr)
		kernels.AddBias(n, cr, mid, b1)
		kernels.Activate(kernels.ActReLU, mid, mid)
		kernels.Sgemm(false, false, n, c, cr, 1, mid, cr, w2, c, 0, s, c)
		kernels.AddBias(n, c, s, b2)
		kernels.Activate(kernels.ActHardsigmoid, s, s)
		kernels.ScaleChannels(n, hw, c, x, s, y)
	}
}

func dwconv(r suite.Row) (kernels.DWConv, []float32, []float32, []float32) {
	p := kernels.DWConv{N: r.N, H: r.H, W: r.W, C: r.C, K: r.K, Stride: r.S, Pad: r.P}
	return p, randBuf(r.Size()), randBuf(r.K * r.K * r.C), make([]float32, r.N*p.OutH()*p.OutW()*r.C)
}

func conv(r suite.Row) (kernels.Conv, []float32, []float32, []float32) {
	p := kernels.Conv{N: r.N, H: r.H, W: r.W, Cin: r.C, Cout: r.Cout, KH: r.K, KW: r.K, Stride: r.S, Pad: r.P}
	return p, randBuf(r.Size()), randBuf(r.K * r.K * r.C * r.Cout), make([]float32, r.N*p.OutH()*p.OutW()*r.Cout)
}

func pool(r suite.Row) (kernels.Pool, []float32, []float32) {
	p := kernels.Pool{N: r.N, H: r.H, W: r.W, C: r.C, K: r.K, Stride: r.S, Pad: r.P}
	return p, randBuf(r.Size()), make([]float32, r.N*r.OutH()*r.OutW()*r.C)
}

// skipNote says why a row has no runner.
func skipNote(r suite.Row) string {
	return "no nasrun runner for op " + r.Op
}

func randBuf(n int) []float32 {
	rng := rand.New(rand.NewPCG(uint64(n), 1))
	b := make([]float32, n)
	for i := range b {
		b[i] = rng.Float32()*2 - 1
	}
	return b
}
