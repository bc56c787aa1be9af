package kernels

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParallelForCoversEachIndexOnce(t *testing.T) {
	prev := SetThreads(4)
	defer SetThreads(prev)
	for _, n := range []int{0, 1, 2, 3, 7, 100, 1001} {
		for _, grain := range []int{0, 1, 3, 64} {
			hits := make([]atomic.Int32, n)
			parallelFor(n, grain, func(lo, hi int) {
				require.LessOrEqual(t, lo, hi)
				for i := lo; i < hi; i++ {
					hits[i].Add(1)
				}
			})
			for i := range hits {
				require.EqualValues(t, 1, hits[i].Load(), "n=%d grain=%d index %d", n, grain, i)
			}
		}
	}
}

func TestParallelForNestedDoesNotDeadlock(t *testing.T) {
	prev := SetThreads(8)
	defer SetThreads(prev)
	var total atomic.Int64
	parallelFor(16, 1, func(lo, hi int) {
		for range hi - lo {
			parallelFor(16, 1, func(lo, hi int) { total.Add(int64(hi - lo)) })
		}
	})
	require.EqualValues(t, 256, total.Load())
}

// Concurrent callers, chunks long enough that callers park, and pauses long
// enough that workers park: every index is still covered exactly once.
func TestParallelForConcurrentCallersAndParking(t *testing.T) {
	prev := SetThreads(runtime.NumCPU())
	defer SetThreads(prev)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for it := range 60 {
				n := 1 + rng.IntN(300)
				hits := make([]atomic.Int32, n)
				slow := it%7 == 0
				parallelFor(n, 1, func(lo, hi int) {
					if slow {
						time.Sleep(spinWindow + 300*time.Microsecond)
					}
					for i := lo; i < hi; i++ {
						hits[i].Add(1)
					}
				})
				for i := range hits {
					if hits[i].Load() != 1 {
						t.Errorf("caller %d iteration %d: index %d of %d run %d times", g, it, i, n, hits[i].Load())
						return
					}
				}
				if it%11 == 0 {
					time.Sleep(2 * spinWindow) // workers park
				}
			}
		}()
	}
	wg.Wait()
}

func TestSingleThreadRunsInline(t *testing.T) {
	prev := SetThreads(1)
	defer SetThreads(prev)
	require.Equal(t, 1, Threads())
	calls := 0
	parallelFor(1000, 1, func(lo, hi int) {
		calls++
		require.Equal(t, 0, lo)
		require.Equal(t, 1000, hi)
	})
	require.Equal(t, 1, calls)
	require.Equal(t, 1, SetThreads(0), "SetThreads clamps to at least one thread")
}

// counter is a loop body bound once (the pattern parallelFor asks for).
type counter struct {
	n  atomic.Int64
	fn func(lo, hi int)
}

func (c *counter) add(lo, hi int) { c.n.Add(int64(hi - lo)) }

func TestParallelForAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	prev := SetThreads(2)
	defer SetThreads(prev)
	c := new(counter)
	c.fn = c.add
	parallelFor(1000, 1, c.fn)
	require.Zero(t, testing.AllocsPerRun(100, func() { parallelFor(1000, 1, c.fn) }))
	require.EqualValues(t, 102*1000, c.n.Load()) // AllocsPerRun runs once more to warm up
}

// Workers spin for a bounded time only: once the loops stop, every worker
// parks.
func TestWorkersParkWhenIdle(t *testing.T) {
	prev := SetThreads(runtime.NumCPU())
	defer SetThreads(prev)
	c := new(counter)
	c.fn = c.add
	for range 100 {
		parallelFor(1000, 1, c.fn)
	}
	require.Eventually(t, func() bool {
		for _, w := range pool.workers {
			if w.state.Load() != workerAsleep {
				return false
			}
		}
		return true
	}, time.Second, spinWindow/2, "a worker still spins %v after the last loop", time.Second)
}
