package main

import (
	"bytes"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nasrun/nasrun/nas"
	"github.com/stretchr/testify/require"
)

// smallEvolve is a complete but small search: few trials on a tiny fake
// data set, one final model and one reference net.
func smallEvolve(dataDir, out string, extra ...string) []string {
	return append([]string{"evolve", "--data", dataDir, "--out", out, "--trials", "5", "--population", "3", "--sample", "2",
		"--seed", "3", "--max-layers", "1", "--proxy-images", "128", "--val-images", "60", "--proxy-batch", "32",
		"--latency-runs", "3", "--final-top", "1", "--final-epochs", "1", "--final-batch", "32",
		"--references", "ghost-like", "--threads", "1"}, extra...)
}

func TestEvolveEndToEnd(t *testing.T) {
	skipShort(t)
	dataDir := fakeData(t, 400, 100)
	out := filepath.Join(t.TempDir(), "run")
	stdout, stderr, code := nasrun(smallEvolve(dataDir, out)...)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "Pareto front")
	require.Contains(t, stdout, "best: trial")
	require.Contains(t, stdout, "ghost-like")
	require.Contains(t, stdout, "latency lookup table (sum of per-block")

	var settings evolveSettings
	require.NoError(t, nas.ReadJSON(filepath.Join(out, "run.json"), &settings))
	require.True(t, settings.Latency.Calibrate, "latency is calibrated by default")
	require.Positive(t, settings.Latency.RefMs)
	require.Equal(t, settings.Latency.RefMs, settings.Search.Reward.TargetMs, "the default target is the calibration baseline")
	require.Contains(t, stdout, "calibrated against mbv3-like")

	trials, err := nas.ReadTrials(out)
	require.NoError(t, err)
	require.Len(t, trials, 5)
	for _, tr := range trials {
		require.Positive(t, tr.PredMs, "trial %d has no predicted latency", tr.Index)
	}
	for _, f := range []string{"latency-table.json", "run.json", "final.json", "pareto.json", "best.json", "best.safetensors", "report.md", "pareto.png"} {
		_, err := os.Stat(filepath.Join(out, f))
		require.NoError(t, err, f)
	}
	report, err := os.ReadFile(filepath.Join(out, "report.md"))
	require.NoError(t, err)
	require.Contains(t, string(report), "| ghost-like |")
	img, err := os.ReadFile(filepath.Join(out, "pareto.png"))
	require.NoError(t, err)
	_, err = png.Decode(bytes.NewReader(img))
	require.NoError(t, err)
	net, g, err := nas.LoadNetwork(filepath.Join(out, "best.safetensors"))
	require.NoError(t, err)
	require.Equal(t, 10, net.Classes)
	best, err := nas.Load(filepath.Join(out, "best.json"))
	require.NoError(t, err)
	require.Equal(t, best.ID(), g.ID())

	// A finished run resumes to the same trials without training again,
	// and refuses new settings.
	stdout, stderr, code = nasrun("evolve", "--resume", out)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "resuming after 5 finished trials")
	require.NotContains(t, stdout, "final 1/2: training")
	again, err := nas.ReadTrials(out)
	require.NoError(t, err)
	require.Equal(t, trials, again)
	_, stderr, code = nasrun("evolve", "--resume", out, "--seed", "9")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "drop --seed")
	_, stderr, code = nasrun("evolve", "--resume", out, "--trials", "4")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "can be extended, not shortened")

	// --trials extends a finished run: its trials are kept, the new ones
	// follow, and a final model still to be reported (the reference net)
	// is not trained again.
	stdout, stderr, code = nasrun("evolve", "--resume", out, "--trials", "7")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "resuming after 5 finished trials")
	require.NotContains(t, stdout, "training ghost-like")
	extended, err := nas.ReadTrials(out)
	require.NoError(t, err)
	require.Len(t, extended, 7)
	require.Equal(t, trials, extended[:5])
	require.NoError(t, nas.ReadJSON(filepath.Join(out, "run.json"), &settings))
	require.Equal(t, 7, settings.Search.Trials)
	var finals []nas.FinalModel
	require.NoError(t, nas.ReadJSON(filepath.Join(out, "final.json"), &finals))
	require.GreaterOrEqual(t, len(finals), 2, "every final model trained in the run is kept")
	report, err = os.ReadFile(filepath.Join(out, "report.md"))
	require.NoError(t, err)
	require.Contains(t, string(report), "7 trials")

	// The same --out twice is refused rather than mixed.
	_, stderr, code = nasrun(smallEvolve(dataDir, out)...)
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "already holds a run")
}

func TestEvolveErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--strategy", "rl"}, `strategy "rl"`},
		{[]string{"--sample", "20"}, "sample"},
		{[]string{"--target-latency", "-2"}, "--target-latency must be positive"},
		{[]string{"--proxy-images", "10"}, "less than one batch"},
		{[]string{"--references", "resnet"}, "resnet"},
		{[]string{"--init", "mbv3-like", "--max-layers", "1"}, "initial network: stages[1].layers: 2 is not in the search space"},
		{[]string{"--init", "/nonexistent/g.json"}, "--init: open /nonexistent/g.json"},
		{[]string{"--resume", "/nonexistent/run"}, "run.json"},
		{[]string{"--data", "/nonexistent/data", "--out", "OUT"}, "apt-get install dataset-fashion-mnist"},
	} {
		args := append([]string{"evolve"}, c.args...)
		for i, a := range args {
			if a == "OUT" {
				args[i] = filepath.Join(t.TempDir(), "run")
			}
		}
		_, stderr, code := nasrun(args...)
		require.Equal(t, 1, code, "%v", c.args)
		require.Contains(t, stderr, c.want, "%v", c.args)
	}
}

func TestFinalJobsSkipReferenceNets(t *testing.T) {
	mbv3, err := nas.RefNet("mbv3-like")
	require.NoError(t, err)
	sp := nas.DefaultSpace()
	rng := rand.New(rand.NewPCG(1, 2))
	child, _ := sp.Mutate(mbv3, rng)
	other := sp.Sample(rng)
	// A front of three: mbv3-like (the highest reward), its child, a
	// sample; and one dominated trial.
	trials := []nas.Trial{
		{Index: 0, ID: mbv3.ID(), Genome: mbv3, Status: nas.TrialOK, Acc: 0.9, LatMs: 0.5, Reward: 0.9},
		{Index: 1, ID: child.ID(), Genome: child, Status: nas.TrialOK, Acc: 0.85, LatMs: 0.4, Reward: 0.85},
		{Index: 2, ID: other.ID(), Genome: other, Status: nas.TrialOK, Acc: 0.8, LatMs: 0.3, Reward: 0.8},
		{Index: 3, ID: "dominated", Genome: other, Status: nas.TrialOK, Acc: 0.7, LatMs: 0.6, Reward: 0.7},
	}
	names := func(jobs []finalJob) (out []string) {
		for _, j := range jobs {
			out = append(out, j.name)
		}
		return out
	}
	require.Equal(t, []string{"trial 1", "trial 2"}, names(finalJobs(trials, 2, nil)))
	require.Equal(t, []string{"trial 2", "trial 3", "mbv3-like"}, names(finalJobs(trials, 2, []string{"mbv3-like"})),
		"mbv3-like is trained once, as the reference")
	require.Equal(t, []string{"trial 1", "trial 2", "trial 3", "ghost-like"}, names(finalJobs(trials, 5, []string{"ghost-like"})),
		"the front has three models")
}

func TestParetoCommand(t *testing.T) {
	skipShort(t)
	dataDir := fakeData(t, 300, 60)
	base := t.TempDir()
	var dirs []string
	for strategy, method := range map[string]string{"evolution": "evolution (P=3, S=2, parents by pareto)", "random": "random"} {
		out := filepath.Join(base, strategy)
		dirs = append(dirs, out)
		stdout, stderr, code := nasrun(smallEvolve(dataDir, out, "--strategy", strategy, "--selection", "pareto",
			"--final-top", "0", "--references", "none", "--target-latency", "0.5")...)
		require.Equal(t, 0, code, stderr)
		require.Contains(t, stdout, "nasrun evolve: "+method+", 5 trials")
	}
	stdout, stderr, code := nasrun(append([]string{"pareto", "-v", "--trials", "4"}, dirs...)...)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "evolution/pareto   hypervolume")
	require.Contains(t, stdout, "random             hypervolume")
	require.Contains(t, stdout, "| 4 |")
	require.NotContains(t, stdout, "retrained from scratch")

	// --retrain trains each front again from scratch, one seed per run,
	// and compares a second time: twice the same output.
	stdout, stderr, code = nasrun(append([]string{"pareto", "--retrain"}, dirs...)...)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "retrained from scratch")
	require.Equal(t, 2, strings.Count(stdout, "random             hypervolume"), stdout)
	again, _, _ := nasrun(append([]string{"pareto", "--retrain"}, dirs...)...)
	require.Equal(t, stdout, again)
	require.Regexp(t, `random trial +\d+ .* acc \d+\.\d+% → \d+\.\d+%`, stdout)
	_, stderr, code = nasrun("pareto")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "run directories")
}

func TestArmNames(t *testing.T) {
	mbv3, err := nas.RefNet("mbv3-like")
	require.NoError(t, err)
	run := func(strategy, selection string, inherit bool, init *nas.Genome) evolveSettings {
		var s evolveSettings
		s.Search.Strategy, s.Search.Selection, s.Inherit, s.Search.Init = strategy, selection, inherit, init
		return s
	}
	for want, s := range map[string]evolveSettings{
		"random":                        run("random", "", true, nil),
		"random+init":                   run("random", "", false, &mbv3),
		"evolution/reward":              run("evolution", "", false, nil),
		"evolution/pareto+inherit":      run("evolution", "pareto", true, nil),
		"evolution/reward+inherit+init": run("evolution", "reward", true, &mbv3),
	} {
		require.Equal(t, want, arm(s))
	}
	for want, s := range map[string]evolveSettings{
		"random+common-seed":                run("random", "", false, nil),
		"evolution/hypervolume+common-seed": run("evolution", "hypervolume", false, nil),
	} {
		s.Search.CommonSeed = true
		require.Equal(t, want, arm(s))
	}
}

func TestCommonLatencyScale(t *testing.T) {
	run := func(calibrated bool, refMs float64) evolveSettings {
		var s evolveSettings
		s.Latency.Calibrate, s.Latency.RefMs = calibrated, refMs
		return s
	}
	scales, note := commonLatencyScale([]evolveSettings{run(true, 0.5), run(true, 0.8), run(true, 0.4)})
	require.InDeltaSlice(t, []float64{0.8, 0.5, 1}, scales, 1e-12, "each run is brought to the fastest baseline")
	require.Contains(t, note, "0.400 ms")
	require.Contains(t, note, "0.400–0.800 ms")

	for _, runs := range [][]evolveSettings{
		{run(true, 0.5), run(true, 0.5)}, // one scale already
		{run(true, 0.5), run(false, 0)},  // an uncalibrated run has no baseline to scale by
		{run(false, 0), run(false, 0)},   // nothing calibrated
	} {
		scales, note := commonLatencyScale(runs)
		require.Nil(t, scales)
		require.Empty(t, note)
	}
}

func TestInheritSkipsAFailedParent(t *testing.T) {
	s := defaultEvolveSettings()
	s.Data, s.ProxyImages, s.ValImages, s.Inherit = fakeData(t, 200, 20), 64, 40, true
	s.Search.Space.Choices.MaxLayers = 1
	s.Proxy.BatchSize, s.Proxy.BNBatches = 32, 1
	splits, sub, err := loadRunData(s)
	require.NoError(t, err)
	ev := &proxyEval{s: s, dir: t.TempDir(), train: sub, val: splits.Val, st: newStatus(&bytes.Buffer{})}
	g := s.Search.Space.Sample(rand.New(rand.NewPCG(1, 1)))
	ctx := t.Context()

	// A failed parent saved no weights: the child trains from scratch.
	acc, err := ev.Accuracy(ctx, 1, g, 5, &nas.Trial{Index: 0, Status: nas.TrialFailed})
	require.NoError(t, err)
	require.InDelta(t, 0.5, acc, 0.5)
	// An ok parent's weights are required: a missing file is an error.
	_, err = ev.Accuracy(ctx, 2, g, 5, &nas.Trial{Index: 7, Status: nas.TrialOK})
	require.ErrorContains(t, err, "trial-7.safetensors")
	// The child's own weights are saved for its children.
	_, err = os.Stat(ev.weightsPath(1))
	require.NoError(t, err)
}
