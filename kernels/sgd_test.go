package kernels_test

import (
	"fmt"
	"testing"

	"github.com/nasrun/nasrun/internal/kerneltest"
	"github.com/nasrun/nasrun/kernels"
)

// TestSGDStep checks SGDStep against torch.optim.SGD's update written out
// in float64, for every case (no momentum, first and later steps, with
// and without Nesterov), over tensors of awkward lengths (empty, one,
// odd, and long enough that the pool splits the range inside a tensor and
// across tensor boundaries), at one and two threads. Buffers are
// NaN-guarded at both ends.
func TestSGDStep(t *testing.T) {
	lens := []int{0, 1, 17, 4099, 70001, 3, 65536, 5}
	for _, threads := range []int{1, 2} {
		for ci, a := range []kernels.SGDArgs{
			{LR: 0.1, WeightDecay: 4e-5},
			{LR: 0.2, Momentum: 0.9, WeightDecay: 4e-5, Nesterov: true, First: true},
			{LR: 0.2, Momentum: 0.9, WeightDecay: 4e-5, Nesterov: true},
			{LR: 0.05, Momentum: 0.8, WeightDecay: 1e-3, First: true},
			{LR: 0.05, Momentum: 0.8, WeightDecay: 1e-3},
		} {
			t.Run(fmt.Sprintf("threads=%d/%+v", threads, a), func(t *testing.T) {
				defer kernels.SetThreads(kernels.SetThreads(threads))
				rng := kerneltest.Rng(51, uint64(ci))
				var ws, gs, bs []*kerneltest.Buf
				var w, g, b [][]float32
				for _, n := range lens {
					wb, gb, bb := kerneltest.RandBuf(rng, n), kerneltest.RandBuf(rng, n), kerneltest.RandBuf(rng, n)
					ws, gs, bs = append(ws, wb), append(gs, gb), append(bs, bb)
					w, g, b = append(w, wb.Data), append(g, gb.Data), append(b, bb.Data)
				}
				wantW, wantB := make([][]float64, len(lens)), make([][]float64, len(lens))
				lr, mu, wd := float64(a.LR), float64(a.Momentum), float64(a.WeightDecay)
				for i := range lens {
					wantW[i], wantB[i] = make([]float64, lens[i]), make([]float64, lens[i])
					for k := range lens[i] {
						wv, bv := float64(w[i][k]), float64(b[i][k])
						d := float64(g[i][k]) + wd*wv
						if mu != 0 {
							if a.First {
								bv = d
							} else {
								bv = mu*bv + d
							}
							if a.Nesterov {
								d += mu * bv
							} else {
								d = bv
							}
						}
						wantW[i][k], wantB[i][k] = wv-lr*d, bv
					}
				}
				kernels.SGDStep(w, g, b, a)
				for i, n := range lens {
					name := kerneltest.Name("tensor", i, "n", n)
					for _, buf := range []*kerneltest.Buf{ws[i], gs[i], bs[i]} {
						buf.Check(t, name)
					}
					kerneltest.AssertClose(t, "w "+name, wantW[i], w[i], 1e-6)
					kerneltest.AssertClose(t, "buf "+name, wantB[i], b[i], 1e-6)
				}
			})
		}
	}
}
