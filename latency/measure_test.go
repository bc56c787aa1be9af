package latency

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/nasrun/nasrun/autograd"
	"github.com/nasrun/nasrun/kernels"
	"github.com/nasrun/nasrun/nas"
	"github.com/nasrun/nasrun/nn"
	"github.com/nasrun/nasrun/tensor"
	"github.com/stretchr/testify/require"
)

// quick keeps tests short: timing is not what they check.
var quick = Options{Runs: 5, Warmup: 1}

func refNet(t *testing.T, name string) nas.Genome {
	t.Helper()
	g, err := nas.RefNet(name)
	require.NoError(t, err)
	return g
}

// requireSane checks the invariants every measurement has.
func requireSane(t *testing.T, st Stats, runs int) {
	t.Helper()
	require.Equal(t, runs, st.Runs)
	require.Greater(t, st.MinMs, 0.0)
	require.LessOrEqual(t, st.MinMs, st.MedianMs)
	require.LessOrEqual(t, st.MedianMs, st.P90Ms)
	require.LessOrEqual(t, st.P90Ms, st.MaxMs)
	require.LessOrEqual(t, st.MinMs, st.MeanMs)
	require.LessOrEqual(t, st.MeanMs, st.MaxMs)
	require.Less(t, st.MaxMs, 60e3, "a run of a reference net took over a minute")
	if st.ThreadMedianMs > 0 {
		require.LessOrEqual(t, st.ThreadMedianMs, st.ThreadP90Ms)
	}
	require.Equal(t, runtime.GOARCH, st.Device.Arch)
	require.Equal(t, kernels.Active().String(), st.Device.Kernels)
}

func TestMeasureGenome(t *testing.T) {
	prev := kernels.Threads()
	for _, name := range nas.RefNetNames() {
		st, err := Local{}.Measure(context.Background(), refNet(t, name), quick)
		require.NoError(t, err)
		requireSane(t, st, quick.Runs)
		require.Equal(t, 1, st.Threads, "one thread by default")
		require.Equal(t, quick.Warmup, st.Warmup)
		if runtime.GOOS == "linux" && !st.Pinned {
			t.Logf("not pinned: sched_setaffinity refused here")
		}
		if runtime.GOOS == "linux" {
			require.Positive(t, st.ThreadMedianMs, "thread CPU time of a one-thread run")
		}
		if st.Pinned {
			require.GreaterOrEqual(t, st.PinnedCPU, 0)
		} else {
			require.Equal(t, -1, st.PinnedCPU)
		}
	}
	require.Equal(t, prev, kernels.Threads(), "the thread count is restored")
}

func TestMeasureThreadsAndNoPin(t *testing.T) {
	st, err := Local{}.Measure(context.Background(), refNet(t, "mbv3-like"), Options{Runs: 3, Warmup: -1, Threads: 64, NoPin: true})
	require.NoError(t, err)
	requireSane(t, st, 3)
	require.Equal(t, 0, st.Warmup)
	require.Equal(t, min(64, runtime.NumCPU()), st.Threads, "capped at the CPU count")
	require.False(t, st.Pinned)
	if st.Threads > 1 {
		require.Zero(t, st.ThreadMedianMs, "workers' time is not the thread's")
	}
}

func TestMeasureSavedModel(t *testing.T) {
	g := refNet(t, "ghost-like")
	net, err := BuildForLatency(g)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "m.safetensors")
	require.NoError(t, net.Save(path))
	loaded, lg, err := nas.LoadNetwork(path)
	require.NoError(t, err)
	require.Equal(t, g.ID(), lg.ID())
	st, err := MeasureNetwork(context.Background(), loaded, quick)
	require.NoError(t, err)
	requireSane(t, st, quick.Runs)
}

func TestMeasureStopsOnContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Local{}.Measure(ctx, refNet(t, "mbv3-like"), quick)
	require.ErrorIs(t, err, context.Canceled)
}

func TestTimeReportsErrors(t *testing.T) {
	calls := 0
	_, err := Time(context.Background(), quick, func() error {
		calls++
		if calls == 3 {
			return context.DeadlineExceeded
		}
		return nil
	})
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestSummarize(t *testing.T) {
	var s Stats
	s.summarize([]float64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1})
	require.Equal(t, 5.5, s.MedianMs)
	require.Equal(t, 9.0, s.P90Ms) // nearest rank: the 9th of 10
	require.Equal(t, 1.0, s.MinMs)
	require.Equal(t, 10.0, s.MaxMs)
	require.Equal(t, 5.5, s.MeanMs)
	require.InDelta(t, math.Sqrt(8.25), s.StdMs, 1e-12)
	s = Stats{}
	s.summarize([]float64{3, 1, 2})
	require.Equal(t, 2.0, s.MedianMs)
	require.Equal(t, 3.0, s.P90Ms)
	s = Stats{}
	s.summarize([]float64{4})
	require.Equal(t, 4.0, s.MedianMs)
	require.Equal(t, 4.0, s.P90Ms)
}

func TestOptionsNormalize(t *testing.T) {
	require.Equal(t, Options{Threads: 1, Warmup: DefaultWarmup, Runs: DefaultRuns}, Options{}.Normalize())
	require.Equal(t, Options{Threads: 3, Warmup: 0, Runs: 7, NoPin: true}, Options{Threads: 3, Warmup: -2, Runs: 7, NoPin: true}.Normalize())
}

// TestCalibrate checks that calibration moves the running variances off
// their initial 1, keeps every state value finite, and gives finite logits
// of a sane size in eval mode.
func TestCalibrateBatchNorm(t *testing.T) {
	for _, name := range nas.RefNetNames() {
		g := refNet(t, name)
		fresh, err := nas.Build(g, rand.New(rand.NewPCG(Seed, 1)))
		require.NoError(t, err)
		net, err := BuildForLatency(g)
		require.NoError(t, err)
		changed := 0
		fe := fresh.Entries()
		for i, e := range net.Entries() {
			for j, v := range e.Value.Data {
				require.False(t, math.IsNaN(float64(v)) || math.IsInf(float64(v), 0), "%s", e.Name)
				if v != fe[i].Value.Data[j] && filepath.Ext(e.Name) == ".running_var" {
					changed++
				}
			}
		}
		require.Positive(t, changed, "%s: calibration changed no running variance", name)

		x := tensor.RandNormal(rand.New(rand.NewPCG(9, 9)), 0, 1, 1, g.Input.H, g.Input.W, g.Input.C)
		tp := autograd.NewTape()
		tp.SetGrad(false)
		out := net.Forward(&nn.Ctx{Tape: tp}, tp.Input(x))
		require.NoError(t, tp.Err())
		require.Equal(t, []int{1, g.Classes}, out.Value.Shape)
		for _, v := range out.Value.Data {
			require.False(t, math.IsNaN(float64(v)) || math.IsInf(float64(v), 0))
			require.Less(t, math.Abs(float64(v)), 1e4, "%s: logits blew up", name)
		}
	}
}

func TestDeviceKey(t *testing.T) {
	d := ThisDevice()
	require.NotEmpty(t, d.CPU)
	require.Equal(t, runtime.NumCPU(), d.NumCPU)
	require.NotEqual(t, d.Key(1), d.Key(2))
	require.Equal(t, d.Key(0), d.Key(1))
}
