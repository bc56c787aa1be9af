package latency

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/klauspost/cpuid/v2"
	"github.com/nasrun/nasrun/autograd"
	"github.com/nasrun/nasrun/kernels"
	"github.com/nasrun/nasrun/nas"
	"github.com/nasrun/nasrun/nn"
	"github.com/nasrun/nasrun/tensor"
)

// Defaults of [Options].
const (
	DefaultRuns   = 50
	DefaultWarmup = 10
)

// Seed is the seed of the random weights, inputs and batch-norm calibration
// of every network this package builds from a genome: equal genomes give
// equal networks.
const Seed = 0x6c6174 // "lat"

// Options say how to measure. The zero value means one thread, pinned,
// [DefaultWarmup] warm-up runs and [DefaultRuns] timed runs.
type Options struct {
	// Threads is the kernel thread count (kernels.SetThreads); 0 means 1.
	// It is capped at the number of CPUs.
	Threads int `json:"threads,omitempty"`
	// Warmup is the number of untimed runs first; 0 means DefaultWarmup,
	// a negative value none.
	Warmup int `json:"warmup,omitempty"`
	// Runs is the number of timed runs; 0 means DefaultRuns.
	Runs int `json:"runs,omitempty"`
	// NoPin leaves the measuring thread unpinned. By default a one-thread
	// measurement pins its OS thread to one CPU where the OS allows
	// (Linux and Android): the highest-numbered CPU the process may use,
	// since big.LITTLE phones and boards usually number their big cores
	// last (start the process under `taskset -c N` to choose another).
	// Elsewhere, or with more threads, nothing is pinned.
	NoPin bool `json:"no_pin,omitempty"`
}

// Normalize returns o with the defaults filled in.
func (o Options) Normalize() Options {
	if o.Threads <= 0 {
		o.Threads = 1
	}
	switch {
	case o.Warmup == 0:
		o.Warmup = DefaultWarmup
	case o.Warmup < 0:
		o.Warmup = 0
	}
	if o.Runs <= 0 {
		o.Runs = DefaultRuns
	}
	return o
}

// Device describes the machine and engine a measurement ran on.
type Device struct {
	OS      string `json:"os"`
	Arch    string `json:"arch"`
	CPU     string `json:"cpu"`     // CPU model, as far as the OS tells
	NumCPU  int    `json:"num_cpu"` // logical CPUs
	Kernels string `json:"kernels"` // active kernel implementation (ref, avx2, avx512, neon)
}

// ThisDevice describes this machine and the active kernels.
func ThisDevice() Device {
	name := cpuid.CPU.BrandName
	if name == "" {
		name = "unknown " + runtime.GOARCH
	}
	return Device{OS: runtime.GOOS, Arch: runtime.GOARCH, CPU: name, NumCPU: runtime.NumCPU(), Kernels: kernels.Active().String()}
}

// Key identifies the device and thread count for a lookup table: times
// measured under equal keys are comparable.
func (d Device) Key(threads int) string {
	return fmt.Sprintf("%s/%s %s kernels=%s threads=%d", d.OS, d.Arch, d.CPU, d.Kernels, max(threads, 1))
}

// Stats are the result of one measurement, in milliseconds.
type Stats struct {
	MedianMs float64 `json:"median_ms"`
	P90Ms    float64 `json:"p90_ms"`
	MinMs    float64 `json:"min_ms"`
	MaxMs    float64 `json:"max_ms"`
	MeanMs   float64 `json:"mean_ms"`
	StdMs    float64 `json:"std_ms"`
	Runs     int     `json:"runs"`
	Warmup   int     `json:"warmup"`
	Threads  int     `json:"threads"` // kernel threads actually used
	// Pinned reports whether the measuring thread was pinned, and to
	// which CPU (-1 when not pinned).
	Pinned    bool `json:"pinned"`
	PinnedCPU int  `json:"pinned_cpu"`
	// ThreadMedianMs and ThreadP90Ms are the same statistics of the
	// measuring thread's CPU time (Linux and Android, one thread; 0
	// elsewhere): the time it actually ran, so that other processes
	// preempting it do not count. On a shared machine they are the robust
	// figures; on a quiet device they equal the wall-clock ones.
	ThreadMedianMs float64 `json:"thread_median_ms,omitempty"`
	ThreadP90Ms    float64 `json:"thread_p90_ms,omitempty"`
	// AllocsPerRun is the heap allocations per timed run (0 in the steady
	// state); the garbage collector is off during the timed runs unless
	// they allocate much.
	AllocsPerRun float64 `json:"allocs_per_run"`
	Device       Device  `json:"device"`
	// Calibration is the factor a [Calibrated] measurer scaled the times
	// by (the reference's baseline ÷ its latency now); 0 when uncalibrated.
	Calibration float64 `json:"calibration,omitempty"`
}

// String formats the headline numbers.
func (s Stats) String() string {
	pin := "unpinned"
	if s.Pinned {
		pin = fmt.Sprintf("pinned to cpu %d", s.PinnedCPU)
	}
	return fmt.Sprintf("median %.3f ms, p90 %.3f ms (min %.3f, mean %.3f; %d runs, %d thread(s), %s)",
		s.MedianMs, s.P90Ms, s.MinMs, s.MeanMs, s.Runs, s.Threads, pin)
}

// Measurer measures latency of genomes somewhere: [Local] here, [Client]
// on a latency server.
type Measurer interface {
	// Device describes the machine that measures.
	Device(ctx context.Context) (Device, error)
	// Measure returns the latency of g's network.
	Measure(ctx context.Context, g nas.Genome, opt Options) (Stats, error)
	// MeasureParts measures the parts of g's network in isolation (see
	// [Parts]): those whose keys are listed, or all when keys is nil.
	MeasureParts(ctx context.Context, g nas.Genome, keys []string, opt Options) ([]PartStats, error)
}

// Local measures on this machine.
type Local struct{}

// Device describes this machine.
func (Local) Device(context.Context) (Device, error) { return ThisDevice(), nil }

// Measure builds g (see [BuildForLatency]) and measures it here.
func (Local) Measure(ctx context.Context, g nas.Genome, opt Options) (Stats, error) {
	net, err := BuildForLatency(g)
	if err != nil {
		return Stats{}, err
	}
	return MeasureNetwork(ctx, net, opt)
}

// MeasurePair measures g and ref here, their runs taking turns, so that a
// slow spell of the machine falls on both alike (see [Calibrated]).
func (Local) MeasurePair(ctx context.Context, g, ref nas.Genome, opt Options) (Stats, Stats, error) {
	var rs [2]*runner
	for i, x := range [2]nas.Genome{g, ref} {
		net, err := BuildForLatency(x)
		if err != nil {
			return Stats{}, Stats{}, err
		}
		if rs[i], err = planRunner(net.Root, []int{1, net.InputH, net.InputW, net.InputC}); err != nil {
			return Stats{}, Stats{}, err
		}
	}
	sts, err := timeRuns(ctx, opt, nil, rs[0].run, rs[1].run)
	if err != nil {
		return Stats{}, Stats{}, err
	}
	return sts[0], sts[1], nil
}

// BuildForLatency builds g with random weights from [Seed] and calibrates
// its batch-norm running statistics on random input, so that inference
// sees values of a trained network's scale.
func BuildForLatency(g nas.Genome) (*nn.Network, error) {
	net, err := nas.Build(g, rand.New(rand.NewPCG(Seed, 1)))
	if err != nil {
		return nil, err
	}
	if err := CalibrateBatchNorm(net); err != nil {
		return nil, err
	}
	return net, nil
}

// calibrationPasses and calibrationBatch: with the default momentum 0.1,
// 20 passes leave 12% of the initial statistics (mean 0, variance 1)
// mixed in; a batch of 2 keeps the variance defined on 1×1 maps.
const (
	calibrationPasses = 20
	calibrationBatch  = 2
)

// CalibrateBatchNorm sets net's batch-norm running statistics from training-mode
// passes over a fixed random batch (no gradients are computed). A freshly
// initialised network otherwise normalises with mean 0 and variance 1,
// which lets activations shrink or grow layer after layer.
func CalibrateBatchNorm(net *nn.Network) error {
	rng := rand.New(rand.NewPCG(Seed, 2))
	x := tensor.RandNormal(rng, 0, 1, calibrationBatch, net.InputH, net.InputW, net.InputC)
	tp := autograd.NewTape()
	tp.SetGrad(false)
	c := nn.Ctx{Tape: tp, Train: true, Rng: rng}
	for range calibrationPasses {
		tp.Reset()
		net.Forward(&c, tp.Input(x))
		if err := tp.Err(); err != nil {
			return fmt.Errorf("latency: calibrating batch norm: %w", err)
		}
	}
	return nil
}

// MeasureNetwork measures net's batch-1 inference on a fixed random input,
// through its inference plan (net.Inference: batch norm folded, fused
// activations, no gradients), as a deployed model runs.
func MeasureNetwork(ctx context.Context, net *nn.Network, opt Options) (Stats, error) {
	return measureModule(ctx, net.Root, []int{1, net.InputH, net.InputW, net.InputC}, opt, false)
}

// measureModule measures the inference plan of m (nn.Plan: batch norm
// folded into the convolutions, activations fused, no gradients) on a
// random input of the given shape. With cold set, each run starts as
// inside a network: the caches hold what other layers left there, and the
// input was just written (see [evictCaches]).
func measureModule(ctx context.Context, m nn.Module, shape []int, opt Options, cold bool) (Stats, error) {
	run, err := planRunner(m, shape)
	if err != nil {
		return Stats{}, err
	}
	var prep func()
	if cold {
		x := run.x
		prep = func() {
			evictCaches()
			for i := range x.Data {
				x.Data[i] += 0 // a write: the previous layer's output is hot
			}
		}
	}
	sts, err := timeRuns(ctx, opt, prep, run.run)
	if err != nil {
		return Stats{}, err
	}
	return sts[0], nil
}

// runner is a module's inference plan and a fixed random input for it.
type runner struct {
	plan *nn.Plan
	x    *tensor.Tensor
}

func planRunner(m nn.Module, shape []int) (*runner, error) {
	plan, err := nn.NewNetwork(m, "", shape[1], shape[2], shape[3], 0).Inference()
	if err != nil {
		return nil, fmt.Errorf("latency: compiling for inference: %w", err)
	}
	return &runner{plan, tensor.RandNormal(rand.New(rand.NewPCG(Seed, 3)), 0, 1, shape...)}, nil
}

func (r *runner) run() error {
	_, err := r.plan.Run(r.x) // allocates nothing after the first run
	return err
}

// evictBuf is written between the runs of an isolated part: twice the L2
// cache (1 MiB when unknown), about what the rest of a small network
// touches between two executions of one of its blocks.
var evictBuf = sync.OnceValue(func() []byte {
	l2 := cpuid.CPU.Cache.L2
	if l2 <= 0 {
		l2 = 512 << 10
	}
	return make([]byte, 2*min(l2, 8<<20))
})

// evictCaches pushes a part's weights and scratch out of the private
// caches, into the shared cache or memory where a network's other layers
// leave them.
func evictCaches() {
	b := evictBuf()
	for i := 0; i < len(b); i += 64 {
		b[i]++
	}
}

// measureMu makes measurements in this process take turns: two at once
// would share the cores and the caches.
var measureMu sync.Mutex

// maxNoGCBytes bounds the heap the timed runs may allocate with the
// garbage collector off.
const maxNoGCBytes = 64 << 20

// Time measures fn as [MeasureNetwork] does: it waits for any other
// measurement in the process, sets the kernel thread count, pins the
// calling thread when asked, runs fn opt.Warmup times untimed and opt.Runs
// times timed. A context error stops it between runs.
func Time(ctx context.Context, opt Options, fn func() error) (Stats, error) {
	sts, err := timeRuns(ctx, opt, nil, fn)
	if err != nil {
		return Stats{}, err
	}
	return sts[0], nil
}

// timeRuns is Time for one or more functions, with prep, when not nil, run
// untimed before each run. Several functions take turns run by run, so
// that a slow spell of the device falls on all of them alike; it returns
// their statistics in order.
func timeRuns(ctx context.Context, opt Options, prep func(), fns ...func() error) ([]Stats, error) {
	opt = opt.Normalize()
	if prep == nil {
		prep = func() {}
	}
	measureMu.Lock()
	defer measureMu.Unlock()

	prevThreads := kernels.SetThreads(opt.Threads)
	defer kernels.SetThreads(prevThreads)
	st := Stats{Runs: opt.Runs, Warmup: opt.Warmup, Threads: kernels.Threads(), PinnedCPU: -1, Device: ThisDevice()}

	// On one thread the goroutine stays on this OS thread, so that pinning
	// holds and the kernels run on the pinned CPU. More threads are not
	// pinned, and not locked either: a locked caller makes every hand-off
	// to the worker pool wake this one OS thread (mbv3-like's batch-1
	// inference at 2 threads took 0.85–0.89 ms locked, 0.49 ms unlocked).
	if st.Threads == 1 {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if !opt.NoPin {
			if cpu, unpin, err := pinThread(); err == nil {
				st.Pinned, st.PinnedCPU = true, cpu
				defer unpin()
			}
		}
	}

	// At least one untimed run: it sizes the buffers and catches errors
	// before timing starts.
	var ms runtime.MemStats
	for i := range max(opt.Warmup, 1) {
		if i == max(opt.Warmup, 1)-1 {
			runtime.ReadMemStats(&ms)
		}
		for _, fn := range fns {
			prep()
			if err := fn(); err != nil {
				return nil, err
			}
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	before := ms.TotalAlloc
	runtime.ReadMemStats(&ms)
	perRun := ms.TotalAlloc - before

	runtime.GC()
	if perRun*uint64(opt.Runs) <= maxNoGCBytes {
		defer debug.SetGCPercent(debug.SetGCPercent(-1))
	}
	runtime.ReadMemStats(&ms)
	mallocs := ms.Mallocs
	nf := len(fns)
	times := make([]float64, nf*opt.Runs) // function k's run i at k·Runs + i
	// Thread CPU time covers the whole run only when no worker helps.
	_, useCPU := threadCPUTime()
	useCPU = useCPU && st.Threads == 1
	var cpuTimes []float64
	if useCPU {
		cpuTimes = make([]float64, nf*opt.Runs)
	}
	for i := range opt.Runs {
		for k, fn := range fns {
			prep()
			var c0 int64
			if useCPU {
				c0, _ = threadCPUTime()
			}
			t0 := time.Now()
			err := fn()
			times[k*opt.Runs+i] = float64(time.Since(t0).Nanoseconds()) / 1e6
			if useCPU {
				c1, _ := threadCPUTime()
				cpuTimes[k*opt.Runs+i] = float64(c1-c0) / 1e6
			}
			if err != nil {
				return nil, err
			}
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	runtime.ReadMemStats(&ms)
	st.AllocsPerRun = float64(ms.Mallocs-mallocs) / float64(nf*opt.Runs)
	out := make([]Stats, nf)
	for k := range out {
		out[k] = st
		out[k].summarize(times[k*opt.Runs : (k+1)*opt.Runs])
		if useCPU {
			c := cpuTimes[k*opt.Runs : (k+1)*opt.Runs]
			slices.Sort(c)
			out[k].ThreadMedianMs, out[k].ThreadP90Ms = median(c), p90(c)
		}
	}
	return out, nil
}

// summarize fills the statistics from the run times (sorted in place).
func (s *Stats) summarize(times []float64) {
	slices.Sort(times)
	n := len(times)
	if n == 0 {
		return
	}
	s.MinMs, s.MaxMs = times[0], times[n-1]
	s.MedianMs = median(times)
	s.P90Ms = p90(times)
	var sum, sq float64
	for _, t := range times {
		sum += t
	}
	s.MeanMs = sum / float64(n)
	for _, t := range times {
		sq += (t - s.MeanMs) * (t - s.MeanMs)
	}
	s.StdMs = math.Sqrt(sq / float64(n))
}

// p90 is the 90th percentile of sorted values (nearest rank).
func p90(sorted []float64) float64 { return sorted[int(math.Ceil(0.9*float64(len(sorted))))-1] }

// median of sorted values (the mean of the middle two for an even count).
func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// errPinUnsupported: this OS has no thread affinity call we use.
var errPinUnsupported = errors.New("latency: pinning is not supported on " + runtime.GOOS)
