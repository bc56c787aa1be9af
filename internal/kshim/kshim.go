// Package kshim is a temporary bridge: it exposes the kernel API that
// packages tensor and autograd are written against (the signatures of
// package kernels) while some of those kernels are still being written.
// Each function forwards to package kernels once the kernel has landed and
// is otherwise a plain pure-Go reference with the same contract (outputs
// overwritten, nil backward outputs skipped). When every kernel exists this
// package is deleted and its importers import package kernels instead.
package kshim

import "github.com/nasrun/nasrun/kernels"

// Act is kernels.Act.
type Act = kernels.Act

// The activations of package kernels.
const (
	ActNone        = kernels.ActNone
	ActReLU        = kernels.ActReLU
	ActReLU6       = kernels.ActReLU6
	ActHardswish   = kernels.ActHardswish
	ActHardsigmoid = kernels.ActHardsigmoid
	ActSigmoid     = kernels.ActSigmoid
)

// Sgemm is kernels.Sgemm.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	kernels.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SetThreads is kernels.SetThreads.
func SetThreads(n int) int { return kernels.SetThreads(n) }

// Add sets y = a + b elementwise.
func Add(a, b, y []float32) {
	_, _ = a[len(y)-1], b[len(y)-1]
	for i := range y {
		y[i] = a[i] + b[i]
	}
}

// Axpy sets y += alpha·x.
func Axpy(alpha float32, x, y []float32) {
	x = x[:len(y)]
	for i := range y {
		y[i] += alpha * x[i]
	}
}

// Scale sets y = alpha·x.
func Scale(alpha float32, x, y []float32) {
	x = x[:len(y)]
	for i := range y {
		y[i] = alpha * x[i]
	}
}

// Sum returns the sum of x.
func Sum(x []float32) float32 {
	var s float64
	for _, v := range x {
		s += float64(v)
	}
	return float32(s)
}

// Activate sets y = a(x).
func Activate(a Act, x, y []float32) {
	x = x[:len(y)]
	for i := range y {
		y[i] = kernels.ActScalar(a, x[i])
	}
}

// ActivateBackward sets dx = dy·a'(x).
func ActivateBackward(a Act, x, dy, dx []float32) {
	x, dy = x[:len(dx)], dy[:len(dx)]
	for i := range dx {
		dx[i] = dy[i] * kernels.ActGradScalar(a, x[i])
	}
}

// ScaleChannels sets y[n,p,c] = x[n,p,c]·s[n,c] for n images of hw pixels.
func ScaleChannels(n, hw, c int, x, s, y []float32) {
	for i := range n {
		for p := range hw {
			o := (i*hw + p) * c
			for j := range c {
				y[o+j] = x[o+j] * s[i*c+j]
			}
		}
	}
}

// ScaleChannelsBackward sets dx = dy·s and ds[n,c] = Σ_p dy·x.
func ScaleChannelsBackward(n, hw, c int, x, s, dy, dx, ds []float32) {
	for i := range n {
		if ds != nil {
			clear(ds[i*c : (i+1)*c])
		}
		for p := range hw {
			o := (i*hw + p) * c
			for j := range c {
				if dx != nil {
					dx[o+j] = dy[o+j] * s[i*c+j]
				}
				if ds != nil {
					ds[i*c+j] += dy[o+j] * x[o+j]
				}
			}
		}
	}
}

// AddBias adds bias[c] to every row of y (rows×c).
func AddBias(rows, c int, y, bias []float32) {
	for r := range rows {
		for j := range c {
			y[r*c+j] += bias[j]
		}
	}
}

// BiasGrad sets db[c] = Σ_rows dy[r,c].
func BiasGrad(rows, c int, dy, db []float32) {
	clear(db[:c])
	for r := range rows {
		for j := range c {
			db[j] += dy[r*c+j]
		}
	}
}

// Conv is kernels.Conv.
type Conv = kernels.Conv

// Conv2d is kernels.Conv2d.
func Conv2d(p Conv, x, w, bias, y []float32) { kernels.Conv2d(p, x, w, bias, y) }

// Conv2dBackward is kernels.Conv2dBackward.
func Conv2dBackward(p Conv, x, w, dy, dx, dw, db []float32) {
	kernels.Conv2dBackward(p, x, w, dy, dx, dw, db)
}

// Pool is kernels.Pool.
type Pool = kernels.Pool

// MaxPool2d is kernels.MaxPool2d.
func MaxPool2d(p Pool, x, y []float32) { kernels.MaxPool2d(p, x, y) }

// MaxPool2dBackward is kernels.MaxPool2dBackward.
func MaxPool2dBackward(p Pool, x, dy, dx []float32) { kernels.MaxPool2dBackward(p, x, dy, dx) }

// AvgPool2d is kernels.AvgPool2d.
func AvgPool2d(p Pool, x, y []float32) { kernels.AvgPool2d(p, x, y) }

// AvgPool2dBackward is kernels.AvgPool2dBackward.
func AvgPool2dBackward(p Pool, dy, dx []float32) { kernels.AvgPool2dBackward(p, dy, dx) }

// DWConv is kernels.DWConv.
type DWConv = kernels.DWConv

// DepthwiseConv2d is kernels.DepthwiseConv2d.
func DepthwiseConv2d(p DWConv, x, w, bias, y []float32) { kernels.DepthwiseConv2d(p, x, w, bias, y) }

// DepthwiseConv2dBackward is kernels.DepthwiseConv2dBackward.
func DepthwiseConv2dBackward(p DWConv, x, w, dy, dx, dw, db []float32) {
	kernels.DepthwiseConv2dBackward(p, x, w, dy, dx, dw, db)
}
