package latency

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/nasrun/nasrun/autograd"
	"github.com/nasrun/nasrun/nas"
	"github.com/nasrun/nasrun/nn"
	"github.com/nasrun/nasrun/tensor"
	"github.com/stretchr/testify/require"
)

// TestPartsComposeTheNetwork checks that running the parts one after the
// other computes exactly what the whole network computes, so that their
// times add up to the network's work, and that each part's input shape is
// what the previous part outputs.
func TestPartsComposeTheNetwork(t *testing.T) {
	space := nas.DefaultSpace()
	rng := rand.New(rand.NewPCG(3, 4))
	gs := []nas.Genome{refNet(t, "mbv3-like"), refNet(t, "ghost-like"), space.Sample(rng), space.Sample(rng)}
	for _, g := range gs {
		net, err := BuildForLatency(g)
		require.NoError(t, err)
		ps := Parts(g)
		require.Len(t, ps, len(g.Layers())+2)
		require.Equal(t, PartStem, ps[0].Kind)
		require.Equal(t, PartHead, ps[len(ps)-1].Kind)
		ms, err := partModules(net, g)
		require.NoError(t, err)
		require.Len(t, ms, len(ps))

		x := tensor.RandNormal(rand.New(rand.NewPCG(5, 6)), 0, 1, 1, g.Input.H, g.Input.W, g.Input.C)
		tp := autograd.NewTape()
		tp.SetGrad(false)
		c := &nn.Ctx{Tape: tp}
		whole := net.Forward(c, tp.Input(x)).Value.Clone()
		v := tp.Input(x)
		for i, m := range ms {
			require.Equal(t, ps[i].Input[:], v.Value.Shape, "%s: input of part %d (%s)", g.Summary(), i, ps[i].Key)
			v = m.Forward(c, v)
		}
		require.NoError(t, tp.Err())
		require.Equal(t, whole.Data, v.Value.Data, g.Summary())
	}
}

func TestPartKeys(t *testing.T) {
	ps := Parts(refNet(t, "mbv3-like"))
	require.Equal(t, "stem_h28w28_c1-16_k3s1_hswish", ps[0].Key)
	require.Equal(t, "mbconv_h28w28_c16-16-16_e1_k3s1_se0_relu", ps[1].Key)
	require.Equal(t, "head_h7w7_c96-192-10_hswish", ps[len(ps)-1].Key)
}

func TestMeasurePartsDistinctAndFiltered(t *testing.T) {
	// Two stages of two equal stride-1 blocks: repeated keys.
	g := refNet(t, "mbv3-like")
	g.Stages[0].Layers = 3
	ps := Parts(g)
	var keys []string
	for _, p := range ps {
		if !slices.Contains(keys, p.Key) {
			keys = append(keys, p.Key)
		}
	}
	require.Less(t, len(keys), len(ps), "the genome repeats a block")
	got, err := Local{}.MeasureParts(context.Background(), g, nil, quick)
	require.NoError(t, err)
	require.Len(t, got, len(keys))
	for i, p := range got {
		require.Equal(t, keys[i], p.Key)
		requireSane(t, p.Stats, quick.Runs)
	}
	got, err = Local{}.MeasureParts(context.Background(), g, []string{keys[2], "nonsense"}, quick)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, keys[2], got[0].Key)
}

// fakeMeasurer times a part as its MACs-free stand-in (1 ms per block,
// 2 for the stem and head) and a whole network as 1.25 times its parts,
// counting the calls.
type fakeMeasurer struct {
	device       Device
	parts, whole int
	asked        [][]string
}

func (f *fakeMeasurer) Device(context.Context) (Device, error) { return f.device, nil }

func fakeMs(p Part) float64 {
	if p.Kind == PartBlock {
		return 1
	}
	return 2
}

func (f *fakeMeasurer) Measure(_ context.Context, g nas.Genome, opt Options) (Stats, error) {
	f.whole++
	sum := 0.0
	for _, p := range Parts(g) {
		sum += fakeMs(p)
	}
	return Stats{MedianMs: 1.25 * sum, Threads: opt.Normalize().Threads, Device: f.device}, nil
}

func (f *fakeMeasurer) MeasureParts(_ context.Context, g nas.Genome, keys []string, opt Options) ([]PartStats, error) {
	f.asked = append(f.asked, keys)
	var out []PartStats
	for _, p := range Parts(g) {
		if slices.Contains(keys, p.Key) && !slices.ContainsFunc(out, func(q PartStats) bool { return q.Key == p.Key }) {
			f.parts++
			out = append(out, PartStats{Part: p, Stats: Stats{MedianMs: fakeMs(p), P90Ms: fakeMs(p), Runs: 1, Threads: opt.Normalize().Threads, Device: f.device}})
		}
	}
	return out, nil
}

func TestTablePredictFillSave(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "table.json")
	f := &fakeMeasurer{device: Device{OS: "linux", Arch: "arm64", CPU: "Cortex-A76", NumCPU: 8, Kernels: "neon"}}
	tab, err := OpenTable(ctx, path, f, Options{})
	require.NoError(t, err)
	require.Equal(t, "linux/arm64 Cortex-A76 kernels=neon threads=1", tab.Device())

	g := refNet(t, "mbv3-like")
	_, err = tab.Predict(g)
	require.ErrorContains(t, err, "table lacks 10 part(s)")
	ms, err := tab.Estimate(ctx, g)
	require.NoError(t, err)
	require.Equal(t, 2+8+2.0, ms) // stem, 8 blocks, head
	require.Equal(t, 10, tab.Len())

	// A second genome shares the stem, the head and some blocks: only the
	// new blocks are measured.
	g2 := g.Clone()
	g2.Stages[4].K = 5
	require.Equal(t, []string{"mbconv_h7w7_c80-480-96_e6_k5s1_se120_hswish"}, tab.Missing(g2))
	_, err = tab.Estimate(ctx, g2)
	require.NoError(t, err)
	require.Equal(t, []string{"mbconv_h7w7_c80-480-96_e6_k5s1_se120_hswish"}, f.asked[1])
	require.Equal(t, 11, f.parts)
	require.NoError(t, tab.Save())

	// Another device's entries in the same file survive a save.
	other := &fakeMeasurer{device: Device{OS: "linux", Arch: "amd64", CPU: "x", Kernels: "avx2"}}
	t2, err := OpenTable(ctx, path, other, Options{Threads: 2})
	require.NoError(t, err)
	require.Equal(t, 0, t2.Len())
	require.NoError(t, t2.Fill(ctx, g))
	require.NoError(t, t2.Save())

	// Reopened: predictions need no measurement.
	f3 := &fakeMeasurer{device: f.device}
	t3, err := OpenTable(ctx, path, f3, Options{})
	require.NoError(t, err)
	require.Equal(t, 11, t3.Len())
	ms, err = t3.Estimate(ctx, g2)
	require.NoError(t, err)
	require.Equal(t, 12.0, ms)
	require.Zero(t, f3.parts)

	var file tableFile
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &file))
	require.Len(t, file.Devices, 2)
	require.Len(t, file.Devices[other.device.Key(2)], 10)
}

func TestTableRejectsOtherDeviceAnswers(t *testing.T) {
	ctx := context.Background()
	f := &fakeMeasurer{device: Device{OS: "linux", Arch: "arm64", CPU: "a", Kernels: "neon"}}
	tab, err := OpenTable(ctx, "", f, Options{})
	require.NoError(t, err)
	f.device.CPU = "b" // the server behind the URL changed
	require.ErrorContains(t, tab.Fill(ctx, refNet(t, "mbv3-like")), "the table is for")
}

func TestTableBadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "table.json")
	require.NoError(t, os.WriteFile(path, []byte("{nope"), 0o644))
	_, err := OpenTable(context.Background(), path, &fakeMeasurer{}, Options{})
	require.ErrorContains(t, err, "not a latency table")
	require.NoError(t, os.WriteFile(path, []byte(`{"version": 99}`), 0o644))
	_, err = OpenTable(context.Background(), path, &fakeMeasurer{}, Options{})
	require.ErrorContains(t, err, "version 99")
}

func TestEvaluateReport(t *testing.T) {
	f := &fakeMeasurer{device: Device{OS: "linux", Arch: "arm64", CPU: "a", Kernels: "neon"}}
	tab, err := OpenTable(context.Background(), "", f, Options{})
	require.NoError(t, err)
	rep, err := tab.Evaluate(context.Background(), []nas.Genome{refNet(t, "mbv3-like"), refNet(t, "ghost-like")})
	require.NoError(t, err)
	require.Len(t, rep.Rows, 2)
	for _, r := range rep.Rows {
		require.InDelta(t, -20, r.ErrPct, 1e-9) // 1 / 1.25 − 1
	}
	require.Equal(t, ErrSummary{MeanAbsErrPct: 20, MaxAbsErrPct: 20, BiasPct: -20}, rep.Wall)
	require.Nil(t, rep.Thread, "the fake reports no thread time")
	require.Contains(t, rep.String(), "mbv3-like")
	require.Equal(t, 2, f.whole)
}

// BenchmarkTablePrediction reports the real table's error against real
// measurements on the reference nets and two sampled genomes, as metrics
// (mean and worst |error| in %, of wall clock and, where available, thread
// CPU time). It is a benchmark, not a test: how well a sum of isolated
// blocks predicts a whole network is a property of the machine and its
// load, not a pass/fail fact (the summation itself is tested with a
// deterministic measurer above). `nasrun latency --table-check N` and the
// evolve report give the same figure for a run.
func BenchmarkTablePrediction(b *testing.B) {
	ctx := context.Background()
	space := nas.DefaultSpace()
	rng := rand.New(rand.NewPCG(7, 8))
	var gs []nas.Genome
	for _, name := range []string{"mbv3-like", "ghost-like"} {
		g, err := nas.RefNet(name)
		if err != nil {
			b.Fatal(err)
		}
		gs = append(gs, g)
	}
	gs = append(gs, space.Sample(rng), space.Sample(rng))
	opt := Options{Runs: 21, Warmup: 3}
	var rep Report
	for b.Loop() {
		tab, err := OpenTable(ctx, "", Local{}, opt)
		if err != nil {
			b.Fatal(err)
		}
		if rep, err = tab.Evaluate(ctx, gs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(rep.Wall.MeanAbsErrPct, "wall-mean-err-%")
	b.ReportMetric(rep.Wall.MaxAbsErrPct, "wall-max-err-%")
	if rep.Thread != nil {
		b.ReportMetric(rep.Thread.MeanAbsErrPct, "thread-mean-err-%")
		b.ReportMetric(rep.Thread.MaxAbsErrPct, "thread-max-err-%")
	}
	b.Logf("\n%s", rep)
}
