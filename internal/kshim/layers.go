package kshim

import (
	"math"

	"github.com/nasrun/nasrun/kernels"
)

// DWConv describes a depthwise convolution (kernels.DWConv).
type DWConv struct {
	N, H, W, C, K, Stride, Pad int
	Act                        Act
}

// Conv describes a dense convolution (kernels.Conv).
type Conv struct {
	N, H, W, Cin, Cout, KH, KW, Stride, Pad int
	Act                                     Act
}

// Pool describes a pooling window (kernels.Pool).
type Pool struct{ N, H, W, C, K, Stride, Pad int }

func outDim(in, k, s, p int) int { return (in+2*p-k)/s + 1 }

// DepthwiseConv2d computes y = act(dwconv(x, w) + bias); w is [K,K,C].
func DepthwiseConv2d(p DWConv, x, w, bias, y []float32) {
	ho, wo := outDim(p.H, p.K, p.Stride, p.Pad), outDim(p.W, p.K, p.Stride, p.Pad)
	for n := range p.N {
		for oy := range ho {
			for ox := range wo {
				o := ((n*ho+oy)*wo + ox) * p.C
				for c := range p.C {
					var s float32
					if bias != nil {
						s = bias[c]
					}
					for ky := range p.K {
						iy := oy*p.Stride - p.Pad + ky
						if iy < 0 || iy >= p.H {
							continue
						}
						for kx := range p.K {
							ix := ox*p.Stride - p.Pad + kx
							if ix < 0 || ix >= p.W {
								continue
							}
							s += x[((n*p.H+iy)*p.W+ix)*p.C+c] * w[(ky*p.K+kx)*p.C+c]
						}
					}
					y[o+c] = kernels.ActScalar(p.Act, s)
				}
			}
		}
	}
}

// DepthwiseConv2dBackward computes dx, dw and db (overwritten; nil skips).
func DepthwiseConv2dBackward(p DWConv, x, w, dy, dx, dw, db []float32) {
	ho, wo := outDim(p.H, p.K, p.Stride, p.Pad), outDim(p.W, p.K, p.Stride, p.Pad)
	if dx != nil {
		clear(dx[:p.N*p.H*p.W*p.C])
	}
	if dw != nil {
		clear(dw[:p.K*p.K*p.C])
	}
	if db != nil {
		BiasGrad(p.N*ho*wo, p.C, dy, db)
	}
	for n := range p.N {
		for oy := range ho {
			for ox := range wo {
				o := ((n*ho+oy)*wo + ox) * p.C
				for ky := range p.K {
					iy := oy*p.Stride - p.Pad + ky
					if iy < 0 || iy >= p.H {
						continue
					}
					for kx := range p.K {
						ix := ox*p.Stride - p.Pad + kx
						if ix < 0 || ix >= p.W {
							continue
						}
						xi := ((n*p.H+iy)*p.W + ix) * p.C
						wi := (ky*p.K + kx) * p.C
						for c := range p.C {
							g := dy[o+c]
							if dx != nil {
								dx[xi+c] += g * w[wi+c]
							}
							if dw != nil {
								dw[wi+c] += g * x[xi+c]
							}
						}
					}
				}
			}
		}
	}
}

// Conv2d computes y = act(conv(x, w) + bias); w is [KH,KW,Cin,Cout].
func Conv2d(p Conv, x, w, bias, y []float32) {
	ho, wo := outDim(p.H, p.KH, p.Stride, p.Pad), outDim(p.W, p.KW, p.Stride, p.Pad)
	for n := range p.N {
		for oy := range ho {
			for ox := range wo {
				acc := y[((n*ho+oy)*wo+ox)*p.Cout:][:p.Cout]
				if bias != nil {
					copy(acc, bias[:p.Cout])
				} else {
					clear(acc)
				}
				for ky := range p.KH {
					iy := oy*p.Stride - p.Pad + ky
					if iy < 0 || iy >= p.H {
						continue
					}
					for kx := range p.KW {
						ix := ox*p.Stride - p.Pad + kx
						if ix < 0 || ix >= p.W {
							continue
						}
						xi := ((n*p.H+iy)*p.W + ix) * p.Cin
						for ci := range p.Cin {
							xv := x[xi+ci]
							wr := w[((ky*p.KW+kx)*p.Cin+ci)*p.Cout:][:p.Cout]
							for co, wv := range wr {
								acc[co] += xv * wv
							}
						}
					}
				}
				for co, v := range acc {
					acc[co] = kernels.ActScalar(p.Act, v)
				}
			}
		}
	}
}

// Conv2dBackward computes dx, dw and db (overwritten; nil skips).
func Conv2dBackward(p Conv, x, w, dy, dx, dw, db []float32) {
	ho, wo := outDim(p.H, p.KH, p.Stride, p.Pad), outDim(p.W, p.KW, p.Stride, p.Pad)
	if dx != nil {
		clear(dx[:p.N*p.H*p.W*p.Cin])
	}
	if dw != nil {
		clear(dw[:p.KH*p.KW*p.Cin*p.Cout])
	}
	if db != nil {
		BiasGrad(p.N*ho*wo, p.Cout, dy, db)
	}
	for n := range p.N {
		for oy := range ho {
			for ox := range wo {
				g := dy[((n*ho+oy)*wo+ox)*p.Cout:][:p.Cout]
				for ky := range p.KH {
					iy := oy*p.Stride - p.Pad + ky
					if iy < 0 || iy >= p.H {
						continue
					}
					for kx := range p.KW {
						ix := ox*p.Stride - p.Pad + kx
						if ix < 0 || ix >= p.W {
							continue
						}
						xi := ((n*p.H+iy)*p.W + ix) * p.Cin
						for ci := range p.Cin {
							wi := ((ky*p.KW+kx)*p.Cin + ci) * p.Cout
							wr := w[wi:][:p.Cout]
							var s float32
							for co, gv := range g {
								s += gv * wr[co]
								if dw != nil {
									dw[wi+co] += gv * x[xi+ci]
								}
							}
							if dx != nil {
								dx[xi+ci] += s
							}
						}
					}
				}
			}
		}
	}
}

// MaxPool2d computes y = max over each window (padding never wins).
func MaxPool2d(p Pool, x, y []float32) {
	poolLoop(p, x, nil, y, nil, poolMax)
}

// MaxPool2dBackward routes dy to the first maximum of each window.
func MaxPool2dBackward(p Pool, x, dy, dx []float32) {
	clear(dx[:p.N*p.H*p.W*p.C])
	poolLoop(p, x, dy, nil, dx, poolMaxBack)
}

// AvgPool2d computes y = mean over each window, dividing by K·K (padding
// counts as zeros, PyTorch's count_include_pad).
func AvgPool2d(p Pool, x, y []float32) {
	poolLoop(p, x, nil, y, nil, poolAvg)
}

// AvgPool2dBackward spreads dy/(K·K) over each window.
func AvgPool2dBackward(p Pool, dy, dx []float32) {
	clear(dx[:p.N*p.H*p.W*p.C])
	poolLoop(p, nil, dy, nil, dx, poolAvgBack)
}

type poolMode int

const (
	poolMax poolMode = iota
	poolMaxBack
	poolAvg
	poolAvgBack
)

// poolLoop visits every output cell and channel with its clipped window.
func poolLoop(p Pool, x, dy, y, dx []float32, mode poolMode) {
	ho, wo := outDim(p.H, p.K, p.Stride, p.Pad), outDim(p.W, p.K, p.Stride, p.Pad)
	inv := 1 / float32(p.K*p.K)
	for n := range p.N {
		for oy := range ho {
			y0, y1 := max(oy*p.Stride-p.Pad, 0), min(oy*p.Stride-p.Pad+p.K, p.H)
			for ox := range wo {
				x0, x1 := max(ox*p.Stride-p.Pad, 0), min(ox*p.Stride-p.Pad+p.K, p.W)
				o := ((n*ho+oy)*wo + ox) * p.C
				for c := range p.C {
					m, at := float32(math.Inf(-1)), -1
					var s float32
					for iy := y0; iy < y1; iy++ {
						for ix := x0; ix < x1; ix++ {
							i := ((n*p.H+iy)*p.W+ix)*p.C + c
							switch mode {
							case poolMax, poolMaxBack:
								if x[i] > m {
									m, at = x[i], i
								}
							case poolAvg:
								s += x[i]
							case poolAvgBack:
								dx[i] += dy[o+c] * inv
							}
						}
					}
					switch mode {
					case poolMax:
						y[o+c] = m
					case poolMaxBack:
						if at >= 0 {
							dx[at] += dy[o+c]
						}
					case poolAvg:
						y[o+c] = s * inv
					}
				}
			}
		}
	}
}

// GlobalAvgPool sets y[n,c] = mean over hw pixels of x[n,·,c].
func GlobalAvgPool(n, hw, c int, x, y []float32) {
	inv := 1 / float32(hw)
	for i := range n {
		clear(y[i*c : (i+1)*c])
		for p := range hw {
			for j := range c {
				y[i*c+j] += x[(i*hw+p)*c+j]
			}
		}
		for j := range c {
			y[i*c+j] *= inv
		}
	}
}

// GlobalAvgPoolBackward sets dx[n,p,c] = dy[n,c]/hw.
func GlobalAvgPoolBackward(n, hw, c int, dy, dx []float32) {
	inv := 1 / float32(hw)
	for i := range n {
		for p := range hw {
			for j := range c {
				dx[(i*hw+p)*c+j] = dy[i*c+j] * inv
			}
		}
	}
}

// BatchNormTrain normalises x (rows×c) with its batch statistics, writing
// the mean and the biased variance.
func BatchNormTrain(rows, c int, eps float32, x, gamma, beta, y, mean, variance []float32) {
	for j := range c {
		var s, ss float64
		for r := range rows {
			v := float64(x[r*c+j])
			s += v
			ss += v * v
		}
		m := s / float64(rows)
		mean[j] = float32(m)
		variance[j] = float32(max(ss/float64(rows)-m*m, 0))
	}
	BatchNormInfer(rows, c, eps, x, gamma, beta, mean, variance, y)
}

// BatchNormInfer normalises x with the given statistics.
func BatchNormInfer(rows, c int, eps float32, x, gamma, beta, runMean, runVar, y []float32) {
	for j := range c {
		inv := float32(1 / math.Sqrt(float64(runVar[j]+eps)))
		sc := gamma[j] * inv
		sh := beta[j] - runMean[j]*sc
		for r := range rows {
			y[r*c+j] = x[r*c+j]*sc + sh
		}
	}
}

// BatchNormBackward computes dx, dgamma and dbeta of BatchNormTrain.
func BatchNormBackward(rows, c int, eps float32, x, gamma, mean, variance, dy, dx, dgamma, dbeta []float32) {
	for j := range c {
		inv := 1 / math.Sqrt(float64(variance[j]+eps))
		var sdy, sdyx float64
		for r := range rows {
			g := float64(dy[r*c+j])
			sdy += g
			sdyx += g * (float64(x[r*c+j]) - float64(mean[j])) * inv
		}
		if dgamma != nil {
			dgamma[j] = float32(sdyx)
		}
		if dbeta != nil {
			dbeta[j] = float32(sdy)
		}
		if dx != nil {
			k := float64(gamma[j]) * inv / float64(rows)
			for r := range rows {
				xh := (float64(x[r*c+j]) - float64(mean[j])) * inv
				dx[r*c+j] = float32(k * (float64(rows)*float64(dy[r*c+j]) - sdy - xh*sdyx))
			}
		}
	}
}
