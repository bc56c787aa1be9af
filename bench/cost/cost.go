// Package cost gives the work of a benchmark suite row: floating-point
// operations (a multiply-add counts 2) and bytes moved (every input, weights
// included, read once and every output written once, 4 bytes an element).
// The compare harness divides them by a row's time for GFLOP/s and GB/s and
// for its distance from the machine's roofline. Model rows count 0 for both.
package cost

import "github.com/nasrun/nasrun/bench/suite"

// Flops returns the row's floating-point operations per call. Pools and
// activations count 0: they are data movement.
func Flops(r suite.Row) float64 {
	n, c, hw := float64(r.N), float64(r.C), float64(r.H*r.W)
	out := outPixels(r)
	switch r.Op {
	case "dwconv":
		return 2 * out * c * float64(r.K*r.K)
	case "conv":
		return 2 * out * float64(r.Cout) * c * float64(r.K*r.K)
	case "train-dw": // forward, input gradient, weight gradient
		return 3 * 2 * out * c * float64(r.K*r.K)
	case "train-conv":
		return 3 * 2 * out * float64(r.Cout) * c * float64(r.K*r.K)
	case "gemm":
		return 2 * float64(r.M) * float64(r.KK) * float64(r.NN)
	case "se": // two small FCs and the per-channel multiply
		return 2*n*2*c*float64(r.C/max(r.R, 1)) + n*c*hw
	}
	return 0
}

// Bytes returns the bytes a row's call reads and writes at least once.
func Bytes(r suite.Row) float64 {
	in := float64(r.Size())
	var w, out float64
	switch r.Op {
	case "dwconv", "train-dw":
		w, out = float64(r.K*r.K*r.C), outPixels(r)*float64(r.C)
	case "conv", "train-conv":
		w, out = float64(r.K*r.K*r.C*r.Cout), outPixels(r)*float64(r.Cout)
	case "gemm":
		in, w, out = float64(r.M*r.KK), float64(r.KK*r.NN), float64(r.M*r.NN)
	case "maxpool", "avgpool":
		out = outPixels(r) * float64(r.C)
	case "gap":
		out = float64(r.N * r.C)
	case "hardsigmoid", "hardswish", "sigmoid":
		out = in
	case "se":
		w, out = float64(2*r.C*(r.C/max(r.R, 1))+r.C+r.C/max(r.R, 1)), in
	}
	if r.Net != "" {
		return 0
	}
	b := 4 * (in + w + out)
	if r.Op == "train-dw" || r.Op == "train-conv" {
		// forward reads x, w and writes y; backward reads dy (and x, w) and
		// writes dx, dw: x, w and y-sized tensors each move twice
		b *= 2
	}
	return b
}

// outPixels is N·OutH·OutW of a windowed row, 0 for the others.
func outPixels(r suite.Row) float64 {
	if r.S == 0 {
		return 0
	}
	return float64(r.N * r.OutH() * r.OutW())
}
