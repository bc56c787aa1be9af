package kernels_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/nasrun/nasrun/bench/suite"
	"github.com/nasrun/nasrun/internal/kerneltest"
	"github.com/nasrun/nasrun/kernels"
)

// gemmBenchRows are the GEMM rows of the suite plus the 1×1 convs as the
// GEMMs they are: M = N·H·W, K = C, N = Cout.
func gemmBenchRows(b *testing.B) (names []string, shapes [][3]int) {
	for _, r := range suite.Op("gemm") {
		names = append(names, r.Name())
		shapes = append(shapes, [3]int{r.M, r.NN, r.KK})
	}
	for _, id := range []string{"pw-exp", "pw-proj"} {
		r, ok := suite.ByID(id)
		if !ok {
			b.Fatalf("suite has no row %s", id)
		}
		m, k, n := r.N*r.H*r.W, r.C, r.Cout
		names = append(names, fmt.Sprintf("%s/m=%d,k=%d,n=%d", id, m, k, n))
		shapes = append(shapes, [3]int{m, n, k})
	}
	return names, shapes
}

func benchGemm(b *testing.B, ta, tb bool, m, n, k int) {
	rng := kerneltest.Rng(7)
	a := kerneltest.RandBuf(rng, m*k).Data
	bb := kerneltest.RandBuf(rng, k*n).Data
	c := make([]float32, m*n)
	lda, ldb := k, n
	if ta {
		lda = m
	}
	if tb {
		ldb = k
	}
	flops := 2 * float64(m) * float64(n) * float64(k)
	kerneltest.BenchEachImpl(b, func(b *testing.B) {
		// With one thread, also report the thread's CPU time per call: the
		// machine is shared, and CPU time does not count time slices lost
		// to other jobs.
		single := kernels.Threads() == 1
		if single {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
		}
		t0 := gemmThreadCPU()
		for b.Loop() {
			kernels.Sgemm(ta, tb, m, n, k, 1, a, lda, bb, ldb, 0, c, n)
		}
		t1 := gemmThreadCPU()
		kerneltest.ReportFlops(b, flops)
		if single && t0 > 0 && b.N > 0 {
			ns := float64(t1-t0) / float64(b.N)
			b.ReportMetric(ns/1e6, "cpu-ms/op")
			b.ReportMetric(flops/ns, "cpu-GFLOP/s")
		}
	})
}

// BenchmarkSgemm: the suite's GEMM shapes, single thread.
func BenchmarkSgemm(b *testing.B) {
	defer kernels.SetThreads(kernels.SetThreads(1))
	names, shapes := gemmBenchRows(b)
	for i, s := range shapes {
		b.Run(names[i], func(b *testing.B) { benchGemm(b, false, false, s[0], s[1], s[2]) })
	}
}

// BenchmarkSgemmTrans: the transposed variants backward passes use, at the
// suite's shapes, single thread.
func BenchmarkSgemmTrans(b *testing.B) {
	defer kernels.SetThreads(kernels.SetThreads(1))
	names, shapes := gemmBenchRows(b)
	for i, s := range shapes {
		for _, t := range [][2]bool{{false, true}, {true, false}, {true, true}} {
			b.Run(fmt.Sprintf("%s/ta=%v,tb=%v", names[i], t[0], t[1]), func(b *testing.B) {
				benchGemm(b, t[0], t[1], s[0], s[1], s[2])
			})
		}
	}
}

// BenchmarkSgemmThreads: the suite's GEMM shapes on every thread.
func BenchmarkSgemmThreads(b *testing.B) {
	names, shapes := gemmBenchRows(b)
	for i, s := range shapes {
		b.Run(names[i], func(b *testing.B) { benchGemm(b, false, false, s[0], s[1], s[2]) })
	}
}
