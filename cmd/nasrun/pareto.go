package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"sort"

	"github.com/nasrun/nasrun/nas"
)

func init() {
	register(command{name: "pareto", summary: "compare search runs: each run's accuracy–latency front and its hypervolume", run: runPareto})
}

// runSummary is one run of `nasrun pareto`.
type runSummary struct {
	dir      string
	strategy string
	seed     uint64
	trials   []nas.Trial // after --retrain, the retrained front only
	budget   int         // trials compared
	hv       float64
	best     nas.Trial
}

func runPareto(args []string, stdout io.Writer) error {
	fs := newFlags("pareto", "RUN_DIR [RUN_DIR...]",
		"Reads the trial logs of search runs (nasrun evolve --out DIR) and prints, for each run,\n"+
			"its Pareto front (proxy accuracy vs latency) and hypervolume, all against one reference\n"+
			"point (the lowest accuracy and highest latency over all runs' ok trials), then the mean\n"+
			"hypervolume per strategy (evolution by its parent selection): evolution vs random at an\n"+
			"equal trial budget.")
	verbose := fs.Bool("v", false, "also list each run's front")
	raw := fs.Bool("raw-latency", false, "compare the runs' latencies as logged, without rescaling them to one calibration baseline")
	retrain := fs.Bool("retrain", false, "also retrain each run's front from scratch (its proxy recipe, data and seed, no inherited weights) and compare those fronts: the architectures, apart from inherited training and lucky seeds")
	trials := fs.Int("trials", 0, "use only each run's first N trials (0: all), to compare at an equal budget")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("give one or more run directories")
	}
	var runs []runSummary
	var settings []evolveSettings
	for _, dir := range fs.Args() {
		ts, err := nas.ReadTrials(dir)
		if err != nil {
			return err
		}
		if *trials > 0 && len(ts) > *trials {
			ts = ts[:*trials]
		}
		var s evolveSettings
		if err := nas.ReadJSON(filepath.Join(dir, "run.json"), &s); err != nil {
			return err
		}
		settings = append(settings, s)
		runs = append(runs, runSummary{dir: dir, strategy: arm(s), seed: s.Search.Seed, trials: ts, budget: len(ts)})
	}
	scales := make([]float64, len(runs))
	for i := range scales {
		scales[i] = 1
	}
	if !*raw {
		if common, note := commonLatencyScale(settings); common != nil {
			scales = common
			for i := range runs {
				for k := range runs[i].trials {
					runs[i].trials[k].LatMs *= scales[i]
				}
			}
			fmt.Fprintln(stdout, note)
		}
	}
	ref := nas.Point{Acc: math.Inf(1), LatMs: math.Inf(-1)}
	for i := range runs {
		r := &runs[i]
		r.best = bestOf(r.trials)
		for _, t := range r.trials {
			if t.Status == nas.TrialOK {
				ref.Acc = math.Min(ref.Acc, t.Acc)
				ref.LatMs = math.Max(ref.LatMs, t.LatMs)
			}
		}
	}
	if math.IsInf(ref.Acc, 0) {
		return errors.New("no finished trial in these runs")
	}
	// Nudge the reference point so the worst trial still adds area.
	ref.Acc -= 1e-3
	ref.LatMs *= 1.01
	fmt.Fprintf(stdout, "reference point: accuracy %.2f%%, latency %.3f ms\n\n", 100*ref.Acc, ref.LatMs)
	printHypervolumes(stdout, runs, ref)
	if *retrain {
		fmt.Fprintln(stdout, "\nEach run's front retrained from scratch (its proxy recipe and data, the run's seed for every model;\n"+
			"no inherited weights), then compared again:")
		for i := range runs {
			front, err := retrainFront(context.Background(), settings[i], runs[i].trials, scales[i], stdout)
			if err != nil {
				return fmt.Errorf("%s: %w", runs[i].dir, err)
			}
			runs[i].trials = front
			runs[i].best = bestOf(front)
		}
		fmt.Fprintln(stdout)
		printHypervolumes(stdout, runs, ref)
	}
	if *verbose {
		for _, r := range runs {
			fmt.Fprintf(stdout, "\n%s front:\n", r.dir)
			for _, t := range nas.Front(r.trials) {
				fmt.Fprintf(stdout, "  trial %3d  %-40s  acc %.2f%%  %.3f ms\n", t.Index+1, t.Genome.Summary(), 100*t.Acc, t.LatMs)
			}
		}
	}
	return nil
}

// printHypervolumes prints each run's hypervolume against ref in a table,
// then their mean per strategy.
func printHypervolumes(stdout io.Writer, runs []runSummary, ref nas.Point) {
	fmt.Fprintln(stdout, "| run | strategy | seed | trials | front | hypervolume | best reward |")
	fmt.Fprintln(stdout, "|---|---|---|---|---|---|---|")
	byStrategy := map[string][]float64{}
	for i := range runs {
		r := &runs[i]
		var pts []nas.Point
		for _, t := range r.trials {
			if t.Status == nas.TrialOK {
				pts = append(pts, nas.Point{Acc: t.Acc, LatMs: t.LatMs})
			}
		}
		r.hv = nas.Hypervolume(pts, ref)
		byStrategy[r.strategy] = append(byStrategy[r.strategy], r.hv)
		fmt.Fprintf(stdout, "| %s | %s | %d | %d | %d | %.5f | %.4f |\n", r.dir, r.strategy, r.seed, r.budget,
			len(nas.Front(r.trials)), r.hv, r.best.Reward)
	}
	fmt.Fprintln(stdout)
	names := make([]string, 0, len(byStrategy))
	for s := range byStrategy {
		names = append(names, s)
	}
	sort.Strings(names)
	for _, s := range names {
		hv := byStrategy[s]
		mean, sd := meanSD(hv)
		fmt.Fprintf(stdout, "%-18s hypervolume %.5f ± %.5f over %d run(s)\n", s, mean, sd, len(hv))
	}
}

// retrainFront proxy-trains each member of the front of trials afresh with
// the run's recipe, data and seed, and returns them with those accuracies.
// Rewards are recomputed; latScale is the factor the latencies were
// rescaled by, which the target must follow. Inherited weights and a lucky
// training seed help a trial onto a front; retrained alike, fronts compare
// the architectures.
func retrainFront(ctx context.Context, s evolveSettings, trials []nas.Trial, latScale float64, stdout io.Writer) ([]nas.Trial, error) {
	splits, proxyTrain, err := loadRunData(s)
	if err != nil {
		return nil, err
	}
	setThreads(s.Threads)
	front := nas.Front(trials)
	for k := range front {
		t := &front[k]
		_, acc, err := proxyAccuracy(ctx, t.Genome, s.Proxy, proxyTrain, splits.Val, "", nil)
		if err != nil {
			return nil, fmt.Errorf("retraining trial %d: %w", t.Index+1, err)
		}
		fmt.Fprintf(stdout, "  %s trial %3d  %-40s  acc %.2f%% → %.2f%%  %.3f ms\n", s.Search.Strategy, t.Index+1, t.Genome.Summary(), 100*t.Acc, 100*acc, t.LatMs)
		t.Acc, t.Reward = acc, s.Search.Reward.Of(acc, t.LatMs/latScale)
	}
	return front, nil
}

// arm names how a run searched: "random", or "evolution/" and its parent
// selection, with "+inherit" when children started from their parent's
// weights; "+init" when the search started from a given network; and
// "+common-seed" when every candidate trained from one seed.
func arm(s evolveSettings) string {
	a := s.Search.Strategy
	if a == nas.StrategyEvolution {
		a += "/" + s.Search.ParentSelection()
		if s.Inherit { // random samples have no parent to inherit from
			a += "+inherit"
		}
	}
	if s.Search.Init != nil {
		a += "+init"
	}
	if s.Search.CommonSeed {
		a += "+common-seed"
	}
	return a
}

// commonLatencyScale puts runs whose latencies were calibrated against
// mbv3-like on one scale. A calibrated latency is the candidate's time
// relative to mbv3-like's, times the run's own baseline for mbv3-like, and
// baselines taken at the start of different runs differ (by up to 1.9×
// between the runs of one comparison on the shared development VM) while
// the relative times do not. So each run's latencies are scaled
// by the fastest baseline ÷ its own. It returns nil (and no note) unless
// every run was calibrated and their baselines differ.
func commonLatencyScale(runs []evolveSettings) (scales []float64, note string) {
	lo, hi := math.Inf(1), 0.0
	for _, s := range runs {
		if !s.Latency.Calibrate || s.Latency.RefMs <= 0 {
			return nil, ""
		}
		lo, hi = math.Min(lo, s.Latency.RefMs), math.Max(hi, s.Latency.RefMs)
	}
	if lo == hi {
		return nil, ""
	}
	for _, s := range runs {
		scales = append(scales, lo/s.Latency.RefMs)
	}
	return scales, fmt.Sprintf("latencies rescaled to one %s baseline of %.3f ms (the runs' baselines: %.3f–%.3f ms; --raw-latency keeps them as logged)\n",
		calibrationRef, lo, lo, hi)
}

func meanSD(xs []float64) (mean, sd float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		sd += (x - mean) * (x - mean)
	}
	if len(xs) > 1 {
		sd = math.Sqrt(sd / float64(len(xs)-1))
	}
	return mean, sd
}
