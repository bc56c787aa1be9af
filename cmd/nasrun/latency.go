package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"strings"

	"github.com/nasrun/nasrun/latency"
	"github.com/nasrun/nasrun/nas"
	"github.com/nasrun/nasrun/nn"
)

func init() {
	register(command{name: "latency", summary: "measure a network's inference latency here or on a latency server", run: runLatency})
}

// latencyFlags are the measurement options shared by latency and
// latency-server.
type latencyFlags struct {
	threads, runs, warmup int
	noPin                 bool
}

func (f *latencyFlags) options() latency.Options {
	o := latency.Options{Threads: f.threads, Runs: f.runs, Warmup: f.warmup, NoPin: f.noPin}
	if f.warmup == 0 {
		o.Warmup = -1 // none (0 in Options means the default)
	}
	return o
}

// latencyResult is what `nasrun latency --json` prints.
type latencyResult struct {
	Name   string          `json:"name,omitempty"`
	ID     string          `json:"id"`
	MACs   int64           `json:"macs"`
	Params int64           `json:"params"`
	Source string          `json:"source"` // "local" or the server URL
	Stats  latency.Stats   `json:"stats"`
	Parts  []partRow       `json:"parts,omitempty"`
	Table  *latency.Report `json:"table,omitempty"`
}

// partRow is one part of --parts: its key, how often the network has it,
// and its latency.
type partRow struct {
	latency.PartStats
	Count int `json:"count"`
}

func runLatency(args []string, stdout io.Writer) error {
	fs := newFlags("latency", "(--arch FILE.json | --refnet NAME | --model FILE.safetensors) [flags]",
		`Measures the batch-1 inference latency of a network on this machine (or on a
latency server, --server): the chosen kernel thread count (default 1, the
thread pinned to one CPU on Linux and Android), warm-up runs, then the median
and 90th percentile of the timed runs. A genome is measured with random
weights (latency does not depend on them); a saved model with its own.

--parts also measures the network's parts (stem, each distinct block, head)
in isolation, as the per-block lookup table does, and compares their sum with
the whole. --table-check N builds the lookup table for N genomes sampled from
the default search space (--seed), plus the given network, and reports the
table's prediction error against measured latency; --table FILE caches the
table between runs.`)
	var lf latencyFlags
	arch := fs.String("arch", "", "genome `FILE.json` to measure")
	refnet := fs.String("refnet", "", "reference network to measure: "+strings.Join(nas.RefNetNames(), " or "))
	model := fs.String("model", "", "saved model `FILE.safetensors` to measure (its genome is in the file)")
	server := fs.String("server", "", "measure on the latency server at `URL` (nasrun latency-server) instead of here")
	fs.IntVar(&lf.threads, "threads", 1, "kernel threads")
	fs.IntVar(&lf.runs, "runs", latency.DefaultRuns, "timed runs")
	fs.IntVar(&lf.warmup, "warmup", latency.DefaultWarmup, "untimed warm-up runs")
	fs.BoolVar(&lf.noPin, "no-pin", false, "do not pin the measuring thread to a CPU")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	parts := fs.Bool("parts", false, "also measure each part (stem, distinct blocks, head) in isolation")
	check := fs.Int("table-check", 0, "report the lookup table's error on `N` sampled genomes plus this one")
	seed := fs.Uint64("seed", 1, "seed of --table-check's genome sample")
	tablePath := fs.String("table", "", "lookup table cache `FILE` (JSON) for --table-check")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if lf.threads < 1 || lf.runs < 1 || lf.warmup < 0 || *check < 0 {
		return errors.New("--threads and --runs must be at least 1, --warmup and --table-check at least 0")
	}
	g, net, err := latencyTarget(*arch, *refnet, *model)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	opt := lf.options()
	var m latency.Measurer = latency.Local{}
	res := latencyResult{Name: g.Name, ID: g.ID(), Source: "local"}
	if *server != "" {
		m, res.Source = latency.Client{URL: *server}, *server
	}
	cost := g.Cost()
	res.MACs, res.Params = cost.MACs, cost.Params
	if net != nil && *server == "" {
		res.Stats, err = latency.MeasureNetwork(ctx, net, opt)
	} else {
		// A server measures the architecture with its own random weights.
		res.Stats, err = m.Measure(ctx, g, opt)
	}
	if err != nil {
		return err
	}
	if *parts {
		ps, err := m.MeasureParts(ctx, g, nil, opt)
		if err != nil {
			return err
		}
		for _, p := range ps {
			n := 0
			for _, q := range latency.Parts(g) {
				if q.Key == p.Key {
					n++
				}
			}
			res.Parts = append(res.Parts, partRow{PartStats: p, Count: n})
		}
	}
	if *check > 0 {
		tab, err := latency.OpenTable(ctx, *tablePath, m, opt)
		if err != nil {
			return err
		}
		space, rng := nas.DefaultSpace(), rand.New(rand.NewPCG(*seed, 0x7461626c65)) // "table"
		gs := []nas.Genome{g}
		for range *check {
			gs = append(gs, space.Sample(rng))
		}
		rep, err := tab.Evaluate(ctx, gs)
		if serr := tab.Save(); err == nil {
			err = serr
		}
		if err != nil {
			return err
		}
		res.Table = &rep
	}
	if *asJSON {
		data, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "%s\n", data)
		return err
	}
	printLatency(stdout, res)
	return nil
}

// latencyTarget resolves the one network the flags name.
func latencyTarget(arch, refnet, model string) (nas.Genome, *nn.Network, error) {
	n := 0
	for _, s := range []string{arch, refnet, model} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return nas.Genome{}, nil, errors.New("name exactly one network: --arch FILE.json, --refnet NAME or --model FILE.safetensors")
	}
	switch {
	case arch != "":
		g, err := nas.Load(arch)
		return g, nil, err
	case refnet != "":
		g, err := nas.RefNet(refnet)
		return g, nil, err
	}
	net, g, err := nas.LoadNetwork(model)
	return g, net, err
}

func printLatency(w io.Writer, r latencyResult) {
	name := r.Name
	if name == "" {
		name = r.ID
	}
	s := r.Stats
	fmt.Fprintf(w, "model:    %s (%s, %.1f M MACs, %.3f M params)\n", name, r.ID, float64(r.MACs)/1e6, float64(r.Params)/1e6)
	fmt.Fprintf(w, "device:   %s/%s %s, kernels %s (%s)\n", s.Device.OS, s.Device.Arch, s.Device.CPU, s.Device.Kernels, r.Source)
	fmt.Fprintf(w, "latency:  median %.3f ms, p90 %.3f ms\n", s.MedianMs, s.P90Ms)
	if s.ThreadMedianMs > 0 {
		fmt.Fprintf(w, "          thread CPU time: median %.3f ms, p90 %.3f ms (what other processes' preemption does not inflate)\n", s.ThreadMedianMs, s.ThreadP90Ms)
	}
	pin := "not pinned"
	if s.Pinned {
		pin = fmt.Sprintf("pinned to CPU %d", s.PinnedCPU)
	}
	fmt.Fprintf(w, "          min %.3f ms, mean %.3f ms, max %.3f ms; %d runs after %d warm-up, %d thread(s), %s\n",
		s.MinMs, s.MeanMs, s.MaxMs, s.Runs, s.Warmup, s.Threads, pin)
	if len(r.Parts) > 0 {
		fmt.Fprintf(w, "\n%-48s %5s %10s %10s %10s\n", "part", "count", "median ms", "p90 ms", "thread ms")
		sum, sumThread := 0.0, 0.0
		for _, p := range r.Parts {
			fmt.Fprintf(w, "%-48s %5d %10.3f %10.3f %10.3f\n", p.Key, p.Count, p.Stats.MedianMs, p.Stats.P90Ms, p.Stats.ThreadMedianMs)
			sum += float64(p.Count) * p.Stats.MedianMs
			sumThread += float64(p.Count) * p.Stats.ThreadMedianMs
		}
		fmt.Fprintf(w, "sum of parts %.3f ms vs measured %.3f ms (%+.1f%%)", sum, s.MedianMs, 100*(sum-s.MedianMs)/s.MedianMs)
		if s.ThreadMedianMs > 0 {
			fmt.Fprintf(w, "; thread CPU time %.3f vs %.3f ms (%+.1f%%)", sumThread, s.ThreadMedianMs, 100*(sumThread-s.ThreadMedianMs)/s.ThreadMedianMs)
		}
		fmt.Fprintln(w)
	}
	if r.Table != nil {
		fmt.Fprintf(w, "\nlookup table (%s):\n%s", r.Table.Device, r.Table)
	}
}
