package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The worker pool: persistent goroutines, started once, that take chunks of
// a parallel loop. No goroutine is started per kernel call.
//
// A batch-1 network runs hundreds of kernels of a few microseconds each, so
// handing a chunk to a worker must cost far less than that. Waking a parked
// goroutine costs tens of microseconds, so a worker that finishes a chunk
// spins for a while on its mailbox (its state word) before it parks, and the
// caller spins on the loop's counter before it parks: back-to-back kernels
// hand over through memory alone. The spins are bounded, so idle workers
// park and cost nothing.
//
// The bound is spinWindow, as OpenMP runtimes bound theirs by a time
// (libgomp's spin count, Intel's KMP_BLOCKTIME). A training step has
// serial stretches of a fraction of a millisecond between its parallel
// passes, and a thread that parks there is expensive to get back on a
// virtual machine, whose host deschedules an idle virtual CPU. With a
// spin of about 70 µs a training step at batch 64 woke a parked worker 28
// (mbv3-like) and 49 (ghost-like) times, with about 2 ms 4 and 1 times;
// steps with the 2 ms spin took 0.93–0.95× and 0.89–0.92× as long as with
// the short one (steps of the two alternated in one process, two runs).

// Worker states. A caller moves a worker from idle or asleep to claimed,
// writes the chunk, then publishes it as posted (waking an asleep worker);
// the worker runs it and goes back to idle.
const (
	workerIdle    int32 = iota // spinning, waiting for a chunk
	workerClaimed              // a caller is writing a chunk into it
	workerPosted               // a chunk is ready
	workerBusy                 // running a chunk
	workerAsleep               // parked on wake
)

// spinWindow bounds a spin of atomic loads, which yields the processor
// every spinYield+1 iterations so that other goroutines (and a GOMAXPROCS
// of 1) still make progress, and looks at the clock when it does.
const (
	spinWindow = 2 * time.Millisecond
	spinYield  = 1<<7 - 1
)

// spinner times one spin loop. The loop calls spinning with its iteration
// count, from 0; every spinYield+1 iterations spinning yields the
// processor, and it reports false once the loop has spun for spinWindow.
type spinner struct{ start time.Time }

func (sp *spinner) spinning(spins int) bool {
	if spins&spinYield != spinYield {
		return true
	}
	runtime.Gosched()
	if spins == spinYield {
		sp.start = time.Now()
		return true
	}
	return time.Since(sp.start) < spinWindow
}

type chunk struct {
	fn     func(lo, hi int)
	lo, hi int
	g      *group
}

type worker struct {
	state atomic.Int32
	c     chunk
	wake  chan struct{} // capacity 1: one token per asleep → claimed
	_     [64]byte      // keep workers' state words on separate cache lines
}

// group is one parallel loop. Its state word is the number of chunks still
// running on workers, times two, plus one while the caller is parked: one
// word, so the worker that finishes the last chunk decides with a single
// atomic operation whether to wake the caller, and never touches the group
// after the caller may have recycled it.
type group struct {
	state atomic.Int32
	done  chan struct{}
}

var pool struct {
	once    sync.Once
	workers []*worker
	threads atomic.Int32
}

var groups = sync.Pool{New: func() any { return &group{done: make(chan struct{}, 1)} }}

// startPool starts one worker per CPU but one: the caller runs a chunk too.
func startPool() {
	for range max(1, runtime.NumCPU()-1) {
		w := &worker{wake: make(chan struct{}, 1)}
		pool.workers = append(pool.workers, w)
		go w.loop()
	}
}

func (w *worker) loop() {
	var sp spinner
	for {
		for spins := 0; ; spins++ {
			s := w.state.Load()
			if s == workerPosted {
				break
			}
			if !sp.spinning(spins) && s == workerIdle && w.state.CompareAndSwap(workerIdle, workerAsleep) {
				<-w.wake // the caller that claimed us posts before it wakes us
				spins = 0
			}
		}
		w.state.Store(workerBusy)
		c := w.c
		w.c = chunk{} // drop the operands
		c.fn(c.lo, c.hi)
		g := c.g
		// Idle before the group learns it is done, so that the caller's
		// next loop finds this worker free.
		w.state.Store(workerIdle)
		g.finish()
	}
}

// post hands c, a loop's chunk number i ≥ 1, to an idle or asleep worker
// among the first Threads()−1 and reports whether one took it. Chunk i goes
// to worker i−1 when it is free, so consecutive kernels split the same way
// find their rows in the same core's cache; the workers beyond the thread
// count are never posted to, so they park instead of competing for the
// processors the loop runs on.
func post(c chunk, i, t int) bool {
	n := min(len(pool.workers), t-1)
	for k := range n {
		w := pool.workers[(i-1+k)%n]
		switch s := w.state.Load(); {
		case s == workerIdle && w.state.CompareAndSwap(workerIdle, workerClaimed):
			w.c = c
			w.state.Store(workerPosted)
			return true
		case s == workerAsleep && w.state.CompareAndSwap(workerAsleep, workerClaimed):
			w.c = c
			w.state.Store(workerPosted)
			w.wake <- struct{}{}
			return true
		}
	}
	return false
}

func (g *group) finish() {
	if g.state.Add(-2) == 1 { // the last chunk, and the caller is parked
		g.done <- struct{}{}
	}
}

// wait returns once every chunk handed to a worker has finished.
func (g *group) wait() {
	var sp spinner
	for spins := 0; sp.spinning(spins); spins++ {
		if g.state.Load() == 0 {
			return
		}
	}
	for {
		v := g.state.Load()
		if v == 0 {
			return
		}
		if g.state.CompareAndSwap(v, v|1) {
			<-g.done
			return
		}
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
// goroutine runs the first chunk itself; a chunk no worker is free for
// (nested loops, concurrent callers) runs on the caller too, so nesting
// cannot deadlock.
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
	g := groups.Get().(*group)
	g.state.Store(int32(2 * (t - 1)))
	for i := 1; i < t; i++ {
		if c := (chunk{fn, i * n / t, (i + 1) * n / t, g}); !post(c, i, t) {
			c.fn(c.lo, c.hi)
			g.state.Add(-2)
		}
	}
	fn(0, n/t)
	g.wait()
	groups.Put(g)
}
