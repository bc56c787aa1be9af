package main

import (
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
	trials   []nas.Trial
	hv       float64
	best     nas.Trial
}

func runPareto(args []string, stdout io.Writer) error {
	fs := newFlags("pareto", "RUN_DIR [RUN_DIR...]",
		"Reads the trial logs of search runs (nasrun evolve --out DIR) and prints, for each run,\n"+
			"its Pareto front (proxy accuracy vs latency) and hypervolume, all against one reference\n"+
			"point (the lowest accuracy and highest latency over all runs' ok trials), then the mean\n"+
			"hypervolume per strategy: evolution vs random at an equal trial budget.")
	verbose := fs.Bool("v", false, "also list each run's front")
	trials := fs.Int("trials", 0, "use only each run's first N trials (0: all), to compare at an equal budget")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("give one or more run directories")
	}
	var runs []runSummary
	ref := nas.Point{Acc: math.Inf(1), LatMs: math.Inf(-1)}
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
		r := runSummary{dir: dir, strategy: s.Search.Strategy, seed: s.Search.Seed, trials: ts, best: bestOf(ts)}
		for _, t := range ts {
			if t.Status == nas.TrialOK {
				ref.Acc = math.Min(ref.Acc, t.Acc)
				ref.LatMs = math.Max(ref.LatMs, t.LatMs)
			}
		}
		runs = append(runs, r)
	}
	if math.IsInf(ref.Acc, 0) {
		return errors.New("no finished trial in these runs")
	}
	// Nudge the reference point so the worst trial still adds area.
	ref.Acc -= 1e-3
	ref.LatMs *= 1.01
	fmt.Fprintf(stdout, "reference point: accuracy %.2f%%, latency %.3f ms\n\n", 100*ref.Acc, ref.LatMs)
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
		fmt.Fprintf(stdout, "| %s | %s | %d | %d | %d | %.5f | %.4f |\n", r.dir, r.strategy, r.seed, len(r.trials),
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
		fmt.Fprintf(stdout, "%-10s hypervolume %.5f ± %.5f over %d run(s)\n", s, mean, sd, len(hv))
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
