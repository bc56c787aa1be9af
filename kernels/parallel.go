package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// The worker pool: persistent goroutines, started once, that take chunks of
// a parallel loop. No goroutine is started per kernel call.

type chunk struct {
	fn     func(lo, hi int)
	lo, hi int
	wg     *sync.WaitGroup
}

var pool struct {
	once    sync.Once
	work    chan chunk
	threads atomic.Int32
}

// waitGroups recycles the WaitGroup of each parallel loop (one handed to
// the workers escapes, and would be allocated per call).
var waitGroups = sync.Pool{New: func() any { return new(sync.WaitGroup) }}

func startPool() {
	pool.work = make(chan chunk)
	for range runtime.NumCPU() {
		go func() {
			for c := range pool.work {
				c.fn(c.lo, c.hi)
				c.wg.Done()
			}
		}()
	}
}

func init() { pool.threads.Store(int32(runtime.GOMAXPROCS(0))) }

// SetThreads sets how many threads kernels use (at least 1, at most the
// number of CPUs) and returns the previous value. SetThreads(1) is the
// single-thread mode used for latency measurement: every kernel then runs on
// the calling goroutine.
func SetThreads(n int) int {
	n = max(1, min(n, runtime.NumCPU()))
	return int(pool.threads.Swap(int32(n)))
}

// Threads returns how many threads kernels use.
func Threads() int { return int(pool.threads.Load()) }

// parallelFor runs fn over [0, n) split into contiguous chunks of at least
// grain items, one per thread, and returns when all are done. The calling
// goroutine runs the first chunk itself.
//
// parallelFor itself allocates nothing, but fn is handed to the workers, so
// a closure literal escapes and is allocated on every call. Pass instead a
// loop body bound once: a method value of a pooled job, made when the pool
// creates the job, with the call's operands in the job's fields:
//
//	type fooJob struct {
//		x, y []float32
//		rowsFn func(lo, hi int) // j.rows, bound once
//	}
//	var fooJobs = sync.Pool{New: func() any { j := new(fooJob); j.rowsFn = j.rows; return j }}
//
//	j := fooJobs.Get().(*fooJob)
//	j.x, j.y = x, y
//	parallelFor(n, grain, j.rowsFn)
//	j.x, j.y = nil, nil // drop the operands before pooling the job
//	fooJobs.Put(j)
//
// (eltJob in eltwise.go is this pattern for the elementwise kernels.)
func parallelFor(n, grain int, fn func(lo, hi int)) {
	t := Threads()
	if grain < 1 {
		grain = 1
	}
	t = min(t, (n+grain-1)/grain)
	if t <= 1 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	pool.once.Do(startPool)
	wg := waitGroups.Get().(*sync.WaitGroup)
	wg.Add(t - 1)
	for i := 1; i < t; i++ {
		c := chunk{fn, i * n / t, (i + 1) * n / t, wg}
		select {
		case pool.work <- c:
		default:
			// Every worker is busy (a nested loop, or another caller):
			// run the chunk here rather than wait, so nesting cannot deadlock.
			c.fn(c.lo, c.hi)
			wg.Done()
		}
	}
	fn(0, n/t)
	wg.Wait()
	waitGroups.Put(wg)
}
