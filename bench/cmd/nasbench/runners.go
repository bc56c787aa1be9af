package main

import (
	"math/rand/v2"

	"github.com/nasrun/nasrun/bench/suite"
	"github.com/nasrun/nasrun/kernels"
)

// A runner prepares one suite row on nasrun's kernels: it allocates the
// row's buffers and returns the call to time. Each op of the suite gets a
// runner here once its kernel is on main; rows of other ops are skipped with
// a note (see skipNote). Model-level rows (op "model-train", "model-latency":
// training images/s and batch-1 latency of the reference nets) get theirs
// once package nn exists.
type runner func(r suite.Row) func()

var runners = map[string]runner{
	"gemm": func(r suite.Row) func() {
		a, b, c := randBuf(r.M*r.KK), randBuf(r.KK*r.NN), make([]float32, r.M*r.NN)
		return func() { kernels.Sgemm(false, false, r.M, r.NN, r.KK, 1, a, r.KK, b, r.NN, 0, c, r.NN) }
	},
	"conv": convRunner,
}

// convRunner runs a 1×1 convolution as the GEMM [N·H·W, C] × [C, Cout] it is
// in NHWC; other kernel sizes wait for kernels.Conv2d.
func convRunner(r suite.Row) func() {
	if r.K != 1 || r.S != 1 || r.P != 0 {
		return nil
	}
	m := r.N * r.H * r.W
	x, w, y := randBuf(m*r.C), randBuf(r.C*r.Cout), make([]float32, m*r.Cout)
	return func() { kernels.Sgemm(false, false, m, r.Cout, r.C, 1, x, r.C, w, r.Cout, 0, y, r.Cout) }
}

// skipNote says why a row has no runner.
func skipNote(r suite.Row) string {
	if r.Op == "conv" {
		return "kernels.Conv2d is not on main yet (only 1×1 runs, as a GEMM)"
	}
	return "no nasrun kernel for op " + r.Op + " on main yet"
}

func randBuf(n int) []float32 {
	rng := rand.New(rand.NewPCG(uint64(n), 1))
	b := make([]float32, n)
	for i := range b {
		b[i] = rng.Float32()*2 - 1
	}
	return b
}
