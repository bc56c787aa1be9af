package kernels_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nasrun/nasrun/internal/kerneltest"
	"github.com/nasrun/nasrun/kernels"
)

// gemmCase is one Sgemm call: sizes, transposes, scalars and strides.
type gemmCase struct {
	ta, tb        bool
	m, n, k       int
	alpha, beta   float32
	lda, ldb, ldc int
}

func (c gemmCase) String() string {
	return fmt.Sprintf("ta=%v,tb=%v,m=%d,n=%d,k=%d,alpha=%g,beta=%g,lda=%d,ldb=%d,ldc=%d",
		c.ta, c.tb, c.m, c.n, c.k, c.alpha, c.beta, c.lda, c.ldb, c.ldc)
}

// gemmOracle is the direct float64 formula C = alpha·op(A)·op(B) + beta·C
// over the m×n window of C; the stride padding of C is returned unchanged.
func gemmOracle(c gemmCase, a, b, c0 []float32) []float64 {
	out := kerneltest.Widen(c0)
	for i := range c.m {
		for j := range c.n {
			var s float64
			for p := range c.k {
				var av, bv float32
				if c.ta {
					av = a[p*c.lda+i]
				} else {
					av = a[i*c.lda+p]
				}
				if c.tb {
					bv = b[j*c.ldb+p]
				} else {
					bv = b[p*c.ldb+j]
				}
				s += float64(av) * float64(bv)
			}
			v := float64(c.alpha) * s
			if c.beta != 0 {
				v += float64(c.beta) * float64(c0[i*c.ldc+j])
			}
			out[i*c.ldc+j] = v
		}
	}
	return out
}

func gemmLen(rows, cols, ld int) int {
	if rows == 0 || cols == 0 {
		return 0
	}
	return (rows-1)*ld + cols
}

// checkGemmCase runs one case with the active implementation against the
// oracle, with NaN-guarded buffers; with beta = 0, C starts as all NaN.
func checkGemmCase(t testing.TB, rng *rand.Rand, c gemmCase) {
	t.Helper()
	ar, ac := c.m, c.k
	if c.ta {
		ar, ac = c.k, c.m
	}
	br, bc := c.k, c.n
	if c.tb {
		br, bc = c.n, c.k
	}
	a := kerneltest.RandBuf(rng, gemmLen(ar, ac, c.lda))
	b := kerneltest.RandBuf(rng, gemmLen(br, bc, c.ldb))
	cb := kerneltest.RandBuf(rng, gemmLen(c.m, c.n, c.ldc))
	if c.beta == 0 {
		for i := 0; i < c.m; i++ {
			for j := 0; j < c.n; j++ {
				cb.Data[i*c.ldc+j] = float32(math.NaN())
			}
		}
	}
	want := gemmOracle(c, a.Data, b.Data, cb.Data)
	kernels.Sgemm(c.ta, c.tb, c.m, c.n, c.k, c.alpha, a.Data, c.lda, b.Data, c.ldb, c.beta, cb.Data, c.ldc)
	a.Check(t, "A")
	b.Check(t, "B")
	cb.Check(t, "C")
	kerneltest.AssertClose(t, c.String(), want, cb.Data, 1e-5*math.Sqrt(float64(c.k)+1))
}

var gemmDims = []int{1, 2, 3, 4, 5, 7, 8, 11, 12, 13, 16, 17, 24, 31, 32, 33, 40, 47, 48, 56, 64, 72, 97, 144, 193, 300}

func randGemmCase(rng *rand.Rand) gemmCase {
	c := gemmCase{
		ta: rng.IntN(2) == 1, tb: rng.IntN(2) == 1,
		m: kerneltest.Pick(rng, gemmDims...), n: kerneltest.Pick(rng, gemmDims...), k: kerneltest.Pick(rng, gemmDims...),
		alpha: kerneltest.Pick[float32](rng, 1, 1, -0.5, 2),
		beta:  kerneltest.Pick[float32](rng, 0, 0, 1, 0.75),
	}
	pad := func() int { return kerneltest.Pick(rng, 0, 0, 1, 5, 16) }
	if c.ta {
		c.lda = c.m + pad()
	} else {
		c.lda = c.k + pad()
	}
	if c.tb {
		c.ldb = c.k + pad()
	} else {
		c.ldb = c.n + pad()
	}
	c.ldc = c.n + pad()
	return c
}

func TestSgemm(t *testing.T) {
	kerneltest.ForEachImpl(t, func(t *testing.T) {
		for _, threads := range []int{1, 2} {
			for _, direct := range []bool{true, false} {
				t.Run(fmt.Sprintf("threads=%d,direct=%v", threads, direct), func(t *testing.T) {
					defer kernels.SetThreads(kernels.SetThreads(threads))
					defer kernels.SetGemmDirectA(direct)()
					defer kernels.SetGemmDirectB(direct)()
					rng := kerneltest.Rng(1, uint64(threads))
					for range 150 {
						checkGemmCase(t, rng, randGemmCase(rng))
					}
				})
			}
		}
	})
}

// TestSgemmBlocked shrinks the cache blocking so that small matrices cross
// every block boundary (several kc, mc and nc blocks, partial ones too).
func TestSgemmBlocked(t *testing.T) {
	kerneltest.ForEachImpl(t, func(t *testing.T) {
		for _, bl := range [][2]int{{16, 64}, {7, 32}, {32, 96}, {5, 40}} {
			t.Run(fmt.Sprintf("kc=%d,nc=%d", bl[0], bl[1]), func(t *testing.T) {
				defer kernels.SetGemmBlocking(bl[0], bl[1])()
				for _, threads := range []int{1, 2} {
					defer kernels.SetThreads(kernels.SetThreads(threads))
					rng := kerneltest.Rng(2, uint64(bl[0]), uint64(threads))
					for range 40 {
						checkGemmCase(t, rng, randGemmCase(rng))
					}
				}
			})
		}
	})
}

// TestSgemmShapes covers the engine's real shapes (1×1 convs, im2col conv,
// their backward passes) and the degenerate ones.
func TestSgemmShapes(t *testing.T) {
	cases := []gemmCase{
		{m: 3136, n: 144, k: 24, alpha: 1},           // pw-exp
		{m: 3136, n: 24, k: 144, alpha: 1},           // pw-proj
		{m: 784, n: 64, k: 1600, alpha: 1, beta: 1},  // conv5 im2col
		{ta: true, m: 144, n: 24, k: 3136, alpha: 1}, // pw-proj weight gradient
		{tb: true, m: 3136, n: 144, k: 24, alpha: 1}, // pw-proj input gradient
		{m: 1, n: 1000, k: 1280, alpha: 1},           // linear, batch 1
		{m: 0, n: 5, k: 3, alpha: 1}, {m: 5, n: 0, k: 3, alpha: 1},
		{m: 5, n: 6, k: 0, alpha: 1, beta: 0.5}, {m: 5, n: 6, k: 0, alpha: 1},
		{m: 9, n: 7, k: 5, alpha: 0, beta: 2}, {m: 9, n: 7, k: 5, alpha: 0},
	}
	kerneltest.ForEachImpl(t, func(t *testing.T) {
		rng := kerneltest.Rng(3)
		for _, c := range cases {
			if c.ta {
				c.lda = c.m
			} else {
				c.lda = c.k
			}
			if c.tb {
				c.ldb = c.k
			} else {
				c.ldb = c.n
			}
			c.ldc = c.n
			checkGemmCase(t, rng, c)
		}
	})
}

func TestSgemmPanics(t *testing.T) {
	a := make([]float32, 10)
	require.PanicsWithValue(t,
		"kernels.Sgemm: A is 3×4 with stride 4 but has 10 elements (m=3 n=2 k=4 transA=false transB=false)",
		func() { kernels.Sgemm(false, false, 3, 2, 4, 1, a, 4, make([]float32, 8), 2, 0, make([]float32, 6), 2) })
	require.Panics(t, func() { kernels.Sgemm(false, false, 2, 2, 2, 1, a, 1, a, 2, 0, a, 2) }, "lda < k")
	require.Panics(t, func() { kernels.Sgemm(false, true, 2, 3, 2, 1, a, 2, a, 2, 0, a[:5], 3) }, "short C")
}

// TestSgemmNoAlloc: a steady-state single-thread call allocates nothing.
func TestSgemmNoAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	defer kernels.SetThreads(kernels.SetThreads(1))
	a, b, c := make([]float32, 100*70), make([]float32, 70*90), make([]float32, 100*90)
	kerneltest.ForEachImpl(t, func(t *testing.T) {
		allocs := testing.AllocsPerRun(20, func() {
			kernels.Sgemm(false, false, 100, 90, 70, 1, a, 70, b, 90, 0, c, 90)
		})
		require.Zero(t, allocs)
	})
}

func FuzzSgemm(f *testing.F) {
	f.Add(uint16(5), uint16(7), uint16(3), false, false, uint8(0), uint8(0), uint8(0), uint8(1), int8(0))
	f.Add(uint16(13), uint16(33), uint16(17), true, true, uint8(1), uint8(2), uint8(3), uint8(2), int8(3))
	f.Fuzz(func(t *testing.T, m, n, k uint16, ta, tb bool, pa, pb, pc, alphaQ uint8, betaQ int8) {
		c := gemmCase{ta: ta, tb: tb, m: int(m % 200), n: int(n % 200), k: int(k % 200),
			alpha: float32(alphaQ%8) / 4, beta: float32(betaQ%8) / 4}
		if ta {
			c.lda = c.m + int(pa%8)
		} else {
			c.lda = c.k + int(pa%8)
		}
		if tb {
			c.ldb = c.k + int(pb%8)
		} else {
			c.ldb = c.n + int(pb%8)
		}
		c.ldc = c.n + int(pc%8)
		rng := kerneltest.Rng(uint64(m), uint64(n), uint64(k))
		for _, impl := range kernels.Available() {
			prev := kernels.SetImpl(impl)
			checkGemmCase(t, rng, c)
			kernels.SetImpl(prev)
		}
	})
}

// TestSgemmConcurrent: callers on several goroutines at once (a conv splits
// its rows over the pool and calls Sgemm from each worker) share nothing.
func TestSgemmConcurrent(t *testing.T) {
	kerneltest.ForEachImpl(t, func(t *testing.T) {
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := kerneltest.Rng(4, uint64(g))
				for range 20 {
					checkGemmCase(t, rng, randGemmCase(rng))
				}
			}()
		}
		wg.Wait()
	})
}
