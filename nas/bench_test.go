package nas

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/nasrun/nasrun/autograd"
	"github.com/nasrun/nasrun/internal/alloctest"
	"github.com/nasrun/nasrun/kernels"
	"github.com/nasrun/nasrun/nn"
	"github.com/nasrun/nasrun/tensor"
	"github.com/stretchr/testify/require"
)

// trainer is one reference network with its optimizer and a fixed batch.
type trainer struct {
	net    *nn.Network
	tp     *autograd.Tape
	ctx    *nn.Ctx
	opt    *nn.SGD
	x      *tensor.Tensor
	labels []int
}

func newTrainer(tb testing.TB, name string, batch int) *trainer {
	g, err := RefNet(name)
	if err != nil {
		tb.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	net, err := Build(g, rng)
	if err != nil {
		tb.Fatal(err)
	}
	tr := &trainer{net: net, tp: autograd.NewTape(), x: tensor.RandNormal(rng, 0, 1, batch, 28, 28, 1)}
	tr.ctx = &nn.Ctx{Tape: tr.tp, Train: true, Rng: rng}
	tr.opt = nn.NewSGD(net.ParamVars(), 0.1, 0.9, 4e-5, true)
	for i := range batch {
		tr.labels = append(tr.labels, i%10)
	}
	return tr
}

// step is one SGD training step (forward, loss, backward, update).
func (tr *trainer) step(tb testing.TB) {
	tr.tp.Reset()
	logits := tr.net.Forward(tr.ctx, tr.tp.Input(tr.x))
	loss := nn.CrossEntropy(tr.ctx, logits, tr.labels, 0.1)
	tr.net.ZeroGrad()
	if err := tr.tp.Backward(loss); err != nil {
		tb.Fatal(err)
	}
	tr.opt.Step()
}

// BenchmarkTrainStep: one training step of each reference network at batch
// 64 (PyTorch 1.13, 2 threads: mbv3-like 364 images/s, ghost-like 552).
// -cpu sets the kernels' thread count too, e.g. -cpu 2. It is read in each
// sub-benchmark's run, and the loop is a b.N loop, not b.Loop: testing sets
// GOMAXPROCS to the first -cpu value only after a first run of the
// function, and b.Loop measures in that first run.
func BenchmarkTrainStep(b *testing.B) {
	benchNets(b, func(b *testing.B, tr *trainer) {
		b.ReportAllocs()
		b.ResetTimer()
		cpu := startCPU()
		for range b.N {
			tr.step(b)
		}
		b.ReportMetric(float64(64*b.N)/b.Elapsed().Seconds(), "images/s")
		b.ReportMetric(cpu.ms()/float64(b.N), "cpu-ms/op")
	})
}

// benchNets runs body as a sub-benchmark per reference network, with the
// kernels on as many threads as -cpu sets and a trainer (batch 64) warmed
// up: the tape's arena and each worker's packing buffer grow to size in
// the first steps (on more than one thread, a worker's buffer grows when
// it first gets the largest job), so that the steps body times, and
// allocs/op, are the steady state.
func benchNets(b *testing.B, body func(b *testing.B, tr *trainer)) {
	for _, name := range []string{"mbv3-like", "ghost-like"} {
		b.Run("net="+name+"/batch=64", func(b *testing.B) {
			defer kernels.SetThreads(kernels.SetThreads(runtime.GOMAXPROCS(0)))
			tr := newTrainer(b, name, 64)
			for range 10 {
				tr.step(b)
			}
			body(b, tr)
		})
	}
}

// BenchmarkInference: batch-1 latency of each reference network's compiled
// plan (BN folded, activations fused), one thread (PyTorch 1.13: mbv3-like
// 6.2 ms, ghost-like 4.9 ms; target for mbv3-like ≤ 0.8 ms).
func BenchmarkInference(b *testing.B) {
	defer kernels.SetThreads(kernels.SetThreads(1))
	for _, name := range []string{"mbv3-like", "ghost-like"} {
		b.Run("net="+name+"/batch=1", func(b *testing.B) {
			g, err := RefNet(name)
			if err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			net, err := Build(g, rng)
			if err != nil {
				b.Fatal(err)
			}
			plan, err := net.Inference()
			if err != nil {
				b.Fatal(err)
			}
			x := tensor.RandNormal(rng, 0, 1, 1, 28, 28, 1)
			for range 20 {
				plan.Run(x)
			}
			b.ReportAllocs()
			cpu := startCPU()
			for b.Loop() {
				plan.Run(x)
			}
			b.ReportMetric(cpu.ms()/float64(b.N), "cpu-ms/op")
		})
	}
}

// cpuClock measures the process's CPU time (user + system), a measure of
// work that the other processes of a busy machine disturb less than wall
// time.
type cpuClock struct{ t0 time.Duration }

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuClock { return cpuClock{processCPU()} }

// ms returns the CPU milliseconds since start.
func (c cpuClock) ms() float64 { return float64(processCPU()-c.t0) / 1e6 }

// TestTrainStepAllocs: a steady-state training step allocates nothing in
// nn, autograd and tensor (allocations inside package kernels, whose
// worker-pool closures escape, are the kernels' and only logged).
func TestTrainStepAllocs(t *testing.T) {
	for _, name := range RefNetNames() {
		tr := newTrainer(t, name, 2)
		tr.step(t)
		tr.step(t)
		t.Logf("%s: allocations per step, kernels included: %v", name, testing.AllocsPerRun(3, func() { tr.step(t) }))
		require.Zero(t, alloctest.PerRun(t, 3, func() { tr.step(t) }, ownPkgs...), name)
	}
}

// ownPkgs are the packages whose allocations the step and plan tests count
// (package kernels has its own allocation tests).
var ownPkgs = []string{"github.com/nasrun/nasrun/nn", "github.com/nasrun/nasrun/nas",
	"github.com/nasrun/nasrun/autograd", "github.com/nasrun/nasrun/tensor"}

// BenchmarkTrainStepFusedBN compares the training step (batch 64, threads
// as -cpu sets) with batch norm's fused kernels and with the composed
// primitives (see benchModes). On an implementation without fused kernels
// both modes are the same code. Run it with -benchtime 20x or more.
func BenchmarkTrainStepFusedBN(b *testing.B) { benchModes(b, kernels.SetFusedBatchNorm) }

// BenchmarkTrainStepFusedBlocks compares the training step with the
// blocks run as fused passes (nn.SetFusedBlocks) and op by op (see
// benchModes). Run it with -benchtime 20x or more.
func BenchmarkTrainStepFusedBlocks(b *testing.B) { benchModes(b, nn.SetFusedBlocks) }

// benchModes compares the training step (batch 64, threads as -cpu sets)
// of each reference network with set(true) and set(false), in one process:
// each b.N iteration is one round of 5 steps in each mode, in turn, since
// the machine's speed drifts more between runs than the two differ. It
// reports each mode's median ms per step over the rounds and the median of
// the rounds' ratios (on ÷ off).
func benchModes(b *testing.B, set func(bool) bool) {
	defer set(set(true))
	benchNets(b, func(b *testing.B, tr *trainer) {
		var ms [2][]float64 // off, on
		var ratio []float64
		b.ResetTimer()
		for range b.N {
			for mode := range 2 {
				set(mode == 1)
				tr.step(b) // the first step after a switch warms the caches
				t0 := time.Now()
				for range 5 {
					tr.step(b)
				}
				ms[mode] = append(ms[mode], float64(time.Since(t0).Microseconds())/5e3)
			}
			ratio = append(ratio, ms[1][len(ms[1])-1]/ms[0][len(ms[0])-1])
		}
		b.ReportMetric(median(ms[0]), "off-ms/step")
		b.ReportMetric(median(ms[1]), "on-ms/step")
		b.ReportMetric(median(ratio), "on/off")
	})
}

// BenchmarkTrainStepOps shows where a training step (batch 64, threads as
// -cpu sets) of each reference network goes: it times every pass of the
// fused blocks (kernels.SetBlockTimer) and logs, per op, the median over
// the steps of its wall time in a step, largest first. Medians over steps
// stay readable on a machine whose speed drifts from minute to minute.
// Ops of the same shape in several blocks are summed (the passes column).
// The table goes to standard output; run it with -benchtime 20x or more
// (the framework's first, one-step run prints nothing).
func BenchmarkTrainStepOps(b *testing.B) {
	benchNets(b, func(b *testing.B, tr *trainer) {
		step := map[string]time.Duration{}
		passes := map[string]int{}
		defer kernels.SetBlockTimer(func(p kernels.BlockPass) {
			step[p.Op] += p.Time
			passes[p.Op]++
		})()
		perOp := map[string][]float64{}
		var total, blocks []float64
		b.ResetTimer()
		for range b.N {
			clear(step)
			clear(passes)
			t0 := time.Now()
			tr.step(b)
			total = append(total, float64(time.Since(t0).Microseconds())/1e3)
			sum := 0.0
			for op, d := range step {
				ms := float64(d.Microseconds()) / 1e3
				perOp[op] = append(perOp[op], ms)
				sum += ms
			}
			blocks = append(blocks, sum)
		}
		type row struct {
			op string
			ms float64
		}
		var rows []row
		for op, v := range perOp {
			rows = append(rows, row{op, median(v)})
		}
		slices.SortFunc(rows, func(x, y row) int { return cmp.Compare(y.ms, x.ms) })
		step0 := median(total)
		if b.N > 1 { // not the framework's one-iteration probe
			fmt.Printf("\n%s: step %.2f ms (median of %d), fused blocks %.2f ms; per op, ms a step:\n", b.Name(), step0, b.N, median(blocks))
			for _, r := range rows {
				fmt.Printf("%8.3f %5.1f%%  %d×  %s\n", r.ms, 100*r.ms/step0, passes[r.op], r.op)
			}
		}
		b.ReportMetric(step0, "ms/step")
		b.ReportMetric(median(blocks), "blocks-ms/step")
	})
}

// median returns the median of v (sorting v).
func median(v []float64) float64 {
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}
