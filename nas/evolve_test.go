package nas

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeEval is a deterministic evaluator: accuracy grows with log(MACs) plus
// seeded noise, latency is proportional to MACs. It fails genomes with a
// given ID, and can sleep to give a killer something to interrupt.
type fakeEval struct {
	failID string
	delay  time.Duration
	calls  int
	seeds  []uint64 // the training seed of each call
}

func (f *fakeEval) Accuracy(ctx context.Context, trial int, g Genome, seed uint64, parent *Trial) (float64, error) {
	f.calls++
	f.seeds = append(f.seeds, seed)
	time.Sleep(f.delay)
	if g.ID() == f.failID {
		return 0, errors.New("loss is NaN at step 3")
	}
	noise := rand.New(rand.NewPCG(seed, 1)).Float64() * 0.01
	return math.Min(0.99, 0.5+0.025*math.Log(float64(g.Cost().MACs))+noise), nil
}

func (f *fakeEval) Latency(ctx context.Context, g Genome) (float64, string, error) {
	return float64(g.Cost().MACs) / 1e7, "fake", nil
}

func testConfig(strategy string, trials int, seed uint64) SearchConfig {
	return SearchConfig{Strategy: strategy, Trials: trials, Population: 8, SampleSize: 3, Seed: seed,
		Reward: SoftReward(1.5), Space: DefaultSpace()}
}

func runSearch(t *testing.T, dir string, cfg SearchConfig, ev Evaluator) []Trial {
	t.Helper()
	log, done, err := OpenTrialLog(dir)
	require.NoError(t, err)
	defer log.Close()
	out, err := Search(context.Background(), cfg, ev, log, done, nil)
	require.NoError(t, err)
	return out
}

// withoutTiming blanks the wall-clock fields, the only ones that may differ
// between two runs.
func withoutTiming(ts []Trial) []Trial {
	out := append([]Trial(nil), ts...)
	for i := range out {
		out[i].Timing = Timing{}
	}
	return out
}

func TestSearchIsReproducibleAndResumes(t *testing.T) {
	cfg := testConfig(StrategyEvolution, 30, 7)
	full := runSearch(t, t.TempDir(), cfg, &fakeEval{})
	require.Len(t, full, 30)
	again := runSearch(t, t.TempDir(), cfg, &fakeEval{})
	require.Equal(t, withoutTiming(full), withoutTiming(again))

	// Stop after 11 trials, then resume to 30: same log.
	dir := t.TempDir()
	part := cfg
	part.Trials = 11
	runSearch(t, dir, part, &fakeEval{})
	ev := &fakeEval{}
	resumed := runSearch(t, dir, cfg, ev)
	require.Equal(t, withoutTiming(full), withoutTiming(resumed))
	onDisk, err := ReadTrials(dir)
	require.NoError(t, err)
	require.Equal(t, withoutTiming(full), withoutTiming(onDisk))
	require.LessOrEqual(t, ev.calls, 19, "resume trains only the missing trials")
}

func TestEvolutionStructure(t *testing.T) {
	for _, sel := range []string{SelectReward, SelectPareto, SelectHypervolume} {
		cfg := testConfig(StrategyEvolution, 40, 3)
		cfg.Selection = sel
		checkEvolution(t, cfg, runSearch(t, t.TempDir(), cfg, &fakeEval{}))
	}
	random := runSearch(t, t.TempDir(), testConfig(StrategyRandom, 20, 3), &fakeEval{})
	for _, tr := range random {
		require.Equal(t, -1, tr.Parent)
	}
}

// checkEvolution checks the trials of a regularized evolution: random
// samples first (or the initial network and its children), then one
// mutation of a parent from the population each, and no architecture twice.
func checkEvolution(t *testing.T, cfg SearchConfig, trials []Trial) {
	t.Helper()
	for _, tr := range trials {
		require.Equal(t, tr.Genome.ID(), tr.ID)
		switch {
		case cfg.Init != nil && tr.Index == 0:
			require.Equal(t, cfg.Init.ID(), tr.ID, "trial 0 is the initial network")
			require.Equal(t, -1, tr.Parent)
			continue
		case cfg.Init != nil && tr.Index < cfg.Population:
			require.Equal(t, 0, tr.Parent, "the first population are children of the initial network")
		case tr.Index < cfg.Population:
			require.Equal(t, -1, tr.Parent, "the first P trials are random samples")
			continue
		default:
			// Aging: the parent comes from the P most recent trials.
			require.GreaterOrEqual(t, tr.Parent, tr.Index-cfg.Population)
			require.Less(t, tr.Parent, tr.Index)
		}
		require.NotNil(t, tr.Mutation)
		// Exactly one decision differs from the parent.
		p := trials[tr.Parent].Genome
		diff := 0
		for s := range p.Stages {
			if p.Stages[s] != tr.Genome.Stages[s] {
				diff++
				require.Equal(t, tr.Mutation.Stage, s)
			}
		}
		require.Equal(t, 1, diff)
		require.Nil(t, tr.DupOf, "trial %d repeats an architecture while the space has fresh ones", tr.Index)
	}
	seen := map[string]bool{}
	for _, tr := range trials {
		require.False(t, seen[tr.ID], "trial %d repeats an architecture", tr.Index)
		seen[tr.ID] = true
	}
}

func TestSearchFromInitialNetwork(t *testing.T) {
	mbv3, err := RefNet("mbv3-like")
	require.NoError(t, err)
	for _, sel := range []string{SelectReward, SelectPareto, SelectHypervolume} {
		cfg := testConfig(StrategyEvolution, 30, 5)
		cfg.Selection, cfg.Init = sel, &mbv3
		checkEvolution(t, cfg, runSearch(t, t.TempDir(), cfg, &fakeEval{}))
	}

	// Random search only adds the network as trial 0; the later trials are
	// those of a random search without it.
	cfg := testConfig(StrategyRandom, 12, 5)
	plain := runSearch(t, t.TempDir(), cfg, &fakeEval{})
	cfg.Init = &mbv3
	from := runSearch(t, t.TempDir(), cfg, &fakeEval{})
	require.Equal(t, mbv3.ID(), from[0].ID)
	for i := 1; i < len(from); i++ {
		require.Equal(t, -1, from[i].Parent)
		require.Equal(t, plain[i].ID, from[i].ID, "trial %d", i)
	}
	require.Equal(t, "random, starting from mbv3-like", cfg.Method())

	// A network outside the space is refused, naming what differs.
	out := mbv3.Clone()
	out.Stem.C = 24
	cfg.Init = &out
	require.ErrorContains(t, cfg.Validate(), "initial network: stem")
}

// TestCommonSeed: with CommonSeed every trial trains from the one seed of
// the run's --seed (common random numbers), the same for both strategies;
// without it, each trial has its own. The candidates chosen do not change.
func TestCommonSeed(t *testing.T) {
	cfg := testConfig(StrategyRandom, 12, 5)
	own := &fakeEval{}
	plain := runSearch(t, t.TempDir(), cfg, own)
	cfg.CommonSeed = true
	common := &fakeEval{}
	shared := runSearch(t, t.TempDir(), cfg, common)
	require.Len(t, common.seeds, 12)
	for i, s := range common.seeds {
		require.Equal(t, CommonTrainSeed(5), s, "trial %d", i)
		require.Equal(t, plain[i].ID, shared[i].ID, "trial %d", i)
	}
	distinct := map[uint64]bool{}
	for _, s := range own.seeds {
		distinct[s] = true
	}
	require.Len(t, distinct, 12, "without CommonSeed each trial has its own seed")
	require.NotEqual(t, CommonTrainSeed(5), CommonTrainSeed(6))
	require.Equal(t, "random, one training seed", cfg.Method())

	evo := testConfig(StrategyEvolution, 12, 5)
	evo.CommonSeed = true
	ev := &fakeEval{}
	runSearch(t, t.TempDir(), evo, ev)
	require.Equal(t, common.seeds, ev.seeds, "one seed for both strategies of a --seed")
}

func TestMethod(t *testing.T) {
	cfg := testConfig(StrategyEvolution, 10, 1)
	require.Equal(t, "evolution (P=8, S=3, parents by reward)", cfg.Method())
	require.Equal(t, SelectReward, cfg.ParentSelection(), "runs logged before the choice existed")
	cfg.Selection = SelectPareto
	require.Equal(t, "evolution (P=8, S=3, parents by pareto)", cfg.Method())
	require.Equal(t, "random", testConfig(StrategyRandom, 10, 1).Method())
}

func TestTournamentSelection(t *testing.T) {
	r := SoftReward(1)
	trial := func(i int, acc, lat float64) Trial {
		return Trial{Index: i, Status: TrialOK, Acc: acc, LatMs: lat, Reward: r.Of(acc, lat)}
	}
	pop := []Trial{
		trial(0, 0.80, 0.9), // dominated by 2 and 4: level 2
		trial(1, 0.60, 0.2), // on the front (its fast end), the lowest reward
		trial(2, 0.85, 0.5), // on the front (its accurate end)
		{Index: 3, Status: TrialFailed},
		trial(4, 0.83, 0.6), // dominated by 2 only: level 1
	}
	level, crowd := paretoLevels(pop)
	require.Equal(t, []int{2, 0, 0, 5, 1}, level)
	require.Equal(t, []float64{math.Inf(1), math.Inf(1), math.Inf(1), 0, math.Inf(1)}, crowd)
	differ := 0
	for seed := range uint64(50) {
		byReward := tournament(pop, 2, SelectReward, rand.New(rand.NewPCG(seed, 0)))
		byPareto := tournament(pop, 2, SelectPareto, rand.New(rand.NewPCG(seed, 0)))
		// The same two members are sampled; reward takes the higher reward,
		// pareto the lower level.
		if byReward == byPareto {
			continue
		}
		differ++
		require.Greater(t, byReward.Reward, byPareto.Reward)
		require.Less(t, level[byPareto.Index], level[byReward.Index])
	}
	require.Positive(t, differ, "some samples pick differently")
	require.Equal(t, 2, tournament(pop, len(pop), SelectPareto, rand.New(rand.NewPCG(1, 0))).Index)
	require.Equal(t, 2, tournament(pop, len(pop), SelectReward, rand.New(rand.NewPCG(1, 0))).Index)

	// One front: its ends win over a middle member of higher reward.
	front := []Trial{trial(0, 0.60, 0.1), trial(1, 0.80, 0.5), trial(2, 0.81, 2.0), trial(3, 0.82, 3.0)}
	level, crowd = paretoLevels(front)
	require.Equal(t, []int{0, 0, 0, 0}, level)
	require.InDelta(t, (2.0-0.1)/2.9+(0.81-0.60)/0.22, crowd[1], 1e-12)
	require.InDelta(t, (3.0-0.5)/2.9+(0.82-0.80)/0.22, crowd[2], 1e-12)
	require.Greater(t, front[1].Reward, front[3].Reward)
	require.Equal(t, 1, tournament(front, 4, SelectReward, rand.New(rand.NewPCG(1, 0))).Index)
	require.Equal(t, 3, tournament(front, 4, SelectPareto, rand.New(rand.NewPCG(1, 0))).Index, "the accurate end: infinite crowding, a higher reward than the fast end")
}

// Hypervolume selection breeds the front member whose loss would shrink
// the front most: a gap in its middle can beat its ends, and near-copies
// piled up at one end contribute nothing.
func TestTournamentByHypervolumeContribution(t *testing.T) {
	r := SoftReward(1)
	trial := func(i int, acc, lat float64) Trial {
		return Trial{Index: i, Status: TrialOK, Acc: acc, LatMs: lat, Reward: r.Of(acc, lat)}
	}
	pop := []Trial{
		trial(0, 0.70, 0.10), // the fast end
		trial(1, 0.70, 0.10), // a copy of it: no area of its own
		trial(2, 0.78, 0.50), // the middle, with a large gap on either side
		trial(3, 0.81, 1.00), // the accurate end
		trial(4, 0.75, 0.90), // dominated by 2: level 1
		{Index: 5, Status: TrialFailed},
	}
	level, fronts := nonDominatedLevels(pop)
	require.Equal(t, []int{0, 0, 0, 0, 1, 6}, level)
	require.Equal(t, [][]int{{0, 1, 2, 3}, {4}}, fronts)
	hv := hvContributions(pop, fronts)
	// Reference point: a tenth of the span beyond the worst accuracy (0.70)
	// and latency (1.00).
	refAcc, refLat := 0.70-0.011, 1.00+0.09
	require.InDelta(t, 0, hv[0], 1e-12)
	require.InDelta(t, 0, hv[1], 1e-12)
	require.InDelta(t, (1.00-0.50)*(0.78-0.70), hv[2], 1e-12)
	require.InDelta(t, (refLat-1.00)*(0.81-0.78), hv[3], 1e-12)
	require.InDelta(t, (refLat-0.90)*(0.75-refAcc), hv[4], 1e-12, "a level's own front")
	require.Zero(t, hv[5])

	// Given the whole population, reward picks the fast end (the highest
	// reward; the earlier of the copies), and so does pareto (both ends have
	// infinite crowding; the fast end the higher reward); hypervolume picks
	// the middle.
	rng := func() *rand.Rand { return rand.New(rand.NewPCG(1, 0)) }
	require.Equal(t, 0, tournament(pop, len(pop), SelectReward, rng()).Index)
	require.Equal(t, 0, tournament(pop, len(pop), SelectPareto, rng()).Index)
	require.Equal(t, 2, tournament(pop, len(pop), SelectHypervolume, rng()).Index)
	// Level first: the dominated member loses to a copy with no area.
	require.Equal(t, 1, tournament([]Trial{pop[4], pop[1]}, 2, SelectHypervolume, rng()).Index)

	// One member alone still has an area (the margin is never zero).
	lone := []Trial{trial(0, 0.7, 0.3)}
	_, fronts = nonDominatedLevels(lone)
	require.Positive(t, hvContributions(lone, fronts)[0])
}

// In a space smaller than the trial budget, a search redraws a repeated
// architecture up to MaxRedraws times, then reuses the earlier trial's
// results instead of training it again.
func TestSearchRedrawsRepeatsThenReusesThem(t *testing.T) {
	for _, strategy := range []string{StrategyEvolution, StrategyRandom} {
		cfg := testConfig(strategy, 10, 6)
		sp := *cfg.Space
		sp.Stages = sp.Stages[:1]
		sp.Choices = Choices{Blocks: []Block{MBConv, Ghost}, Kernels: []int{3}, Expands: []int{3}, SE: []float64{0},
			Widths: []float64{1, 1.25}, Acts: []Act{ReLU}, MinLayers: 1, MaxLayers: 1}
		cfg.Space, cfg.Population, cfg.SampleSize = &sp, 2, 2
		require.Equal(t, 4.0, sp.Size())
		ev := &fakeEval{}
		trials := runSearch(t, t.TempDir(), cfg, ev)
		first := map[string]int{}
		for _, tr := range trials {
			if k, ok := first[tr.ID]; ok {
				require.NotNil(t, tr.DupOf, "%s trial %d", strategy, tr.Index)
				require.Equal(t, k, *tr.DupOf)
				require.Equal(t, "cached", tr.LatFrom)
				require.Equal(t, trials[k].Acc, tr.Acc)
				require.Equal(t, MaxRedraws, tr.Redraws)
				continue
			}
			require.Nil(t, tr.DupOf)
			first[tr.ID] = tr.Index
		}
		require.Len(t, first, 4, "%s: every architecture of the space is tried", strategy)
		require.Equal(t, 4, ev.calls, "%s: each architecture is trained once", strategy)
	}
}

func TestSearchLogsFailedTrialsAndGoesOn(t *testing.T) {
	cfg := testConfig(StrategyEvolution, 12, 5)
	probe := runSearch(t, t.TempDir(), cfg, &fakeEval{})
	bad := probe[2].ID
	trials := runSearch(t, t.TempDir(), cfg, &fakeEval{failID: bad})
	require.Len(t, trials, 12)
	require.Equal(t, TrialFailed, trials[2].Status)
	require.Contains(t, trials[2].Reason, "NaN")
	require.Zero(t, trials[2].Reward)
}

func TestSearchConfigValidate(t *testing.T) {
	cfg := testConfig(StrategyEvolution, 10, 1)
	for _, c := range []struct {
		edit func(*SearchConfig)
		want string
	}{
		{func(c *SearchConfig) { c.Strategy = "rl" }, `strategy "rl"`},
		{func(c *SearchConfig) { c.Trials = 0 }, "trials"},
		{func(c *SearchConfig) { c.Population = 1 }, "population"},
		{func(c *SearchConfig) { c.SampleSize = 9 }, "sample"},
		{func(c *SearchConfig) { c.Selection = "nsga" }, `selection "nsga"`},
		{func(c *SearchConfig) { c.Reward.TargetMs = -1 }, "target latency"},
	} {
		bad := cfg
		c.edit(&bad)
		require.ErrorContains(t, bad.Validate(), c.want)
	}
}

// TestSearchSurvivesSIGKILL runs the search in a child process, kills it
// with SIGKILL at random moments (also in the middle of appending to the
// log), resumes each time, and checks the final log equals an uninterrupted
// run's.
func TestSearchSurvivesSIGKILL(t *testing.T) {
	if os.Getenv("NASRUN_KILL_CHILD") != "" {
		return // the child's work happens in TestMain
	}
	const trials = 24
	cfg := testConfig(StrategyEvolution, trials, 11)
	want := runSearch(t, t.TempDir(), cfg, &fakeEval{})

	dir := t.TempDir()
	logPath := filepath.Join(dir, TrialLogName)
	size := func() int64 {
		st, err := os.Stat(logPath)
		if err != nil {
			return 0
		}
		return st.Size()
	}
	rng := rand.New(rand.NewPCG(42, 0))
	kills := 0
	for attempt := 0; ; attempt++ {
		require.Less(t, attempt, 200, "the search makes no progress between kills")
		cmd := exec.Command(os.Args[0], "-test.run=^TestSearchSurvivesSIGKILL$")
		cmd.Env = append(os.Environ(), "NASRUN_KILL_CHILD="+dir, "NASRUN_KILL_TRIALS="+strconv.Itoa(trials))
		if err := cmd.Start(); err != nil {
			if errors.Is(err, syscall.ENOEXEC) {
				// Under qemu user emulation without binfmt_misc the test
				// binary cannot start itself; amd64 runs cover this.
				t.Skipf("cannot re-execute the test binary here: %v", err)
			}
			require.NoError(t, err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		// Let the child finish at least one more trial, then kill it a
		// random moment later: between trials, inside one, or mid-append.
		before := size()
		var exited bool
		for !exited && size() == before {
			select {
			case err := <-done:
				require.NoError(t, err, "child failed")
				exited = true
			case <-time.After(time.Millisecond):
			}
		}
		if !exited {
			select {
			case err := <-done:
				require.NoError(t, err, "child failed")
				exited = true
			case <-time.After(time.Duration(rng.IntN(8000)) * time.Microsecond):
				if err := cmd.Process.Kill(); errors.Is(err, os.ErrProcessDone) {
					// The child finished as the timer fired: its last run.
					require.NoError(t, <-done, "child failed")
					exited = true
				} else {
					require.NoError(t, err)
					<-done
					kills++
				}
			}
		}
		if exited {
			break
		}
	}
	require.Greater(t, kills, 2, "the child was never interrupted: the test proves nothing")
	t.Logf("%d kills", kills)
	got, err := ReadTrials(dir)
	require.NoError(t, err)
	require.Equal(t, withoutTiming(want), withoutTiming(got), "after %d kills", kills)
}

func TestMain(m *testing.M) {
	if dir := os.Getenv("NASRUN_KILL_CHILD"); dir != "" {
		n, _ := strconv.Atoi(os.Getenv("NASRUN_KILL_TRIALS"))
		log, done, err := OpenTrialLog(dir)
		if err == nil {
			_, err = Search(context.Background(), testConfig(StrategyEvolution, n, 11), &fakeEval{delay: 3 * time.Millisecond}, log, done, nil)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// predEval adds a latency prediction that overestimates by 10%.
type predEval struct{ fakeEval }

func (p *predEval) PredictLatency(ctx context.Context, g Genome) (float64, error) {
	return 1.1 * float64(g.Cost().MACs) / 1e7, nil
}

func TestPrescreenRedrawsSlowCandidates(t *testing.T) {
	cfg := testConfig(StrategyEvolution, 30, 4)
	cfg.Reward = SoftReward(1.2)
	cfg.Prescreen = 1
	trials := runSearch(t, t.TempDir(), cfg, &predEval{})
	redrawn := 0
	for _, tr := range trials {
		require.InDelta(t, 1.1*tr.LatMs, tr.PredMs, 1e-9, "the prediction is logged next to the measurement")
		if tr.Redraws < MaxRedraws {
			require.LessOrEqual(t, tr.PredMs, 1.2, "trial %d kept a candidate predicted too slow", tr.Index)
		}
		redrawn += tr.Redraws
	}
	require.Positive(t, redrawn, "some candidates were screened out")
	mean, worst, n := PredictionError(trials)
	distinct := 0
	for _, tr := range trials {
		if tr.DupOf == nil {
			distinct++
		}
	}
	require.Equal(t, distinct, n)
	require.InDelta(t, 0.1, mean, 1e-9)
	require.InDelta(t, 0.1, worst, 1e-9)

	// Without a prescreen factor, predictions are only logged: the search
	// makes the same choices as one without a predictor.
	cfg.Prescreen = 0
	plain := runSearch(t, t.TempDir(), cfg, &fakeEval{})
	for i, tr := range runSearch(t, t.TempDir(), cfg, &predEval{}) {
		require.Positive(t, tr.PredMs)
		require.Equal(t, plain[i].ID, tr.ID)
		require.Equal(t, plain[i].Redraws, tr.Redraws)
	}
}
