// Package kerneltest is the shared harness of the kernel tests and
// benchmarks: it runs a body for every implementation the CPU has, makes
// NaN-guarded buffers that catch overruns, compares float32 results against
// float64 references with a relative tolerance, and reports GFLOP/s.
package kerneltest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/nasrun/nasrun/kernels"
)

// ForEachImpl runs body as a subtest "impl=NAME" once for every
// implementation in kernels.Available(), with that implementation active.
func ForEachImpl(t *testing.T, body func(t *testing.T)) {
	t.Helper()
	for _, impl := range kernels.Available() {
		t.Run("impl="+impl.String(), func(t *testing.T) {
			prev := kernels.SetImpl(impl)
			defer kernels.SetImpl(prev)
			body(t)
		})
	}
}

// BenchEachImpl runs body as a sub-benchmark "impl=NAME" for every available
// implementation.
func BenchEachImpl(b *testing.B, body func(b *testing.B)) {
	b.Helper()
	for _, impl := range kernels.Available() {
		b.Run("impl="+impl.String(), func(b *testing.B) {
			prev := kernels.SetImpl(impl)
			defer kernels.SetImpl(prev)
			body(b)
		})
	}
}

// ReportFlops reports GFLOP/s for a benchmark that did flops floating-point
// operations per iteration (a multiply-add counts 2), and ms/op.
func ReportFlops(b *testing.B, flops float64) {
	b.Helper()
	el := b.Elapsed()
	if el <= 0 || b.N == 0 {
		return
	}
	b.ReportMetric(flops*float64(b.N)/el.Seconds()/1e9, "GFLOP/s")
	b.ReportMetric(float64(el)/float64(b.N)/float64(time.Millisecond), "ms/op")
}

// ReportBytes reports GB/s for a benchmark that moved bytes per iteration,
// and ms/op.
func ReportBytes(b *testing.B, bytes float64) {
	b.Helper()
	el := b.Elapsed()
	if el <= 0 || b.N == 0 {
		return
	}
	b.ReportMetric(bytes*float64(b.N)/el.Seconds()/1e9, "GB/s")
	b.ReportMetric(float64(el)/float64(b.N)/float64(time.Millisecond), "ms/op")
}

const guard = 16

// Buf is a float32 buffer with NaN guard cells on both sides. Data is the
// usable slice; its capacity ends where the upper guard starts, so an append
// cannot reach the guard either.
type Buf struct {
	all  []float32
	Data []float32
}

// NewBuf returns a guarded buffer of n elements, filled with NaN so that a
// kernel that fails to write an output element is caught too.
func NewBuf(n int) *Buf {
	all := make([]float32, n+2*guard)
	for i := range all {
		all[i] = float32(math.NaN())
	}
	return &Buf{all: all, Data: all[guard : guard+n : guard+n]}
}

// RandBuf returns a guarded buffer of n elements drawn uniformly from
// [-1, 1).
func RandBuf(rng *rand.Rand, n int) *Buf {
	b := NewBuf(n)
	for i := range b.Data {
		b.Data[i] = rng.Float32()*2 - 1
	}
	return b
}

// Check fails t if a guard cell was overwritten.
func (b *Buf) Check(t testing.TB, name string) {
	t.Helper()
	n := len(b.Data)
	for i := range guard {
		if !math.IsNaN(float64(b.all[i])) || !math.IsNaN(float64(b.all[guard+n+i])) {
			t.Fatalf("%s: guard cell overwritten (buffer of %d elements): a kernel wrote out of bounds", name, n)
		}
	}
}

// F64 returns the buffer's data widened to float64, for references.
func (b *Buf) F64() []float64 { return Widen(b.Data) }

// Widen converts a float32 slice to float64.
func Widen(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// AssertClose fails t unless every got[i] is within
// rtol·(|want[i]| + rms(want)) of want[i]. The rms term absorbs cancellation
// in sums whose exact value is near zero. NaN or Inf in got always fails.
func AssertClose(t testing.TB, name string, want []float64, got []float32, rtol float64) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%s: length %d, want %d", name, len(got), len(want))
	}
	var ss float64
	for _, w := range want {
		ss += w * w
	}
	rms := math.Sqrt(ss / math.Max(1, float64(len(want))))
	bad := 0
	for i, w := range want {
		g := float64(got[i])
		if math.IsNaN(g) || math.IsInf(g, 0) || math.Abs(g-w) > rtol*(math.Abs(w)+rms)+1e-30 {
			if bad < 5 {
				t.Errorf("%s[%d] = %v, want %v (rtol %g, rms %g)", name, i, g, w, rtol, rms)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Fatalf("%s: %d of %d elements out of tolerance", name, bad, len(want))
	}
}

// Rng returns a deterministic generator for a test, seeded from the given
// values (test index, size...), so a failure reproduces.
func Rng(seed ...uint64) *rand.Rand {
	var s uint64 = 0x9e3779b97f4a7c15
	for _, v := range seed {
		s = s*6364136223846793005 + v + 1442695040888963407
	}
	return rand.New(rand.NewPCG(s, s^0xda3e39cb94b95bdb))
}

// Pick returns one of the given values at random.
func Pick[T any](rng *rand.Rand, vs ...T) T { return vs[rng.IntN(len(vs))] }

// Name formats a subtest name from key=value pairs.
func Name(kv ...any) string {
	s := ""
	for i := 0; i+1 < len(kv); i += 2 {
		if s != "" {
			s += ","
		}
		s += fmt.Sprintf("%v=%v", kv[i], kv[i+1])
	}
	return s
}
